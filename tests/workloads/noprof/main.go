// noprof keeps no heap profile of its own: it links neither runtime/pprof
// nor net/http/pprof, so its linker turns runtime.MemProfileRate to 0. It
// prints the rate its main starts with ("rate at main N"), then grows a
// slice of 64 KiB blocks from grow() every 20 ms for -for, and before
// exiting checks every block it kept ("ok" or "corrupt") and prints the
// rate it ends with and the bytes it keeps ("rate at end N kept BYTES"),
// after two GC cycles, and lingers -linger so a recorder sees the last. -wait F: first wait until file F
// exists (so gsrec can attach before the growth starts).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

var kept [][]byte

//go:noinline
func grow(n int) {
	for i := 0; i < n; i++ {
		b := make([]byte, 64<<10)
		for j := range b {
			b[j] = byte(len(kept) + j)
		}
		kept = append(kept, b)
	}
}

func main() {
	dur := flag.Duration("for", 2*time.Second, "how long to grow")
	wait := flag.String("wait", "", "wait for this file first")
	linger := flag.Duration("linger", 300*time.Millisecond, "stay this long after the end")
	flag.Parse()
	fmt.Printf("rate at main %d\n", runtime.MemProfileRate)
	if *wait != "" {
		for {
			if _, err := os.Stat(*wait); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t0 := time.Now()
	for time.Since(t0) < *dur {
		grow(16)
		time.Sleep(20 * time.Millisecond)
	}
	for i, b := range kept {
		for j := range b {
			if b[j] != byte(i+j) {
				fmt.Println("corrupt")
				os.Exit(1)
			}
		}
	}
	// two cycles: the second publishes a profile that holds every block
	runtime.GC()
	runtime.GC()
	fmt.Printf("rate at end %d kept %d\n", runtime.MemProfileRate, len(kept)*(64<<10))
	fmt.Println("ok")
	time.Sleep(*linger)
}
