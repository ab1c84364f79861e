// gohttp is a goroutine-heavy HTTP server for gsmapper's overhead
// benchmark: every request starts a goroutine that does the work (a small
// checksum over a fresh buffer) and hands the result back on a channel.
//
//	gohttp -addr 127.0.0.1:18095
package main

import (
	"flag"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
)

func work(n int, out chan<- uint32) {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	out <- crc32.ChecksumIEEE(b)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18095", "listen here")
	size := flag.Int("size", 2048, "bytes each request's goroutine checksums")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		out := make(chan uint32)
		go work(*size, out)
		fmt.Fprintf(w, "%08x\n", <-out)
	})
	if err := http.ListenAndServe(*addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
