// cpuburn keeps two functions hot in a known ratio: hotA runs 2 ms, then
// hotB 1 ms, in turn, for -run; each in its own goroutine, handing the turn
// over through channels. It prints each goroutine's id as the runtime sees
// it ("goid hotA N"), an oracle for the goroutine ids in samples.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

var sink uint64

func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false) // "goroutine 18 [running]:..."
	f := bytes.Fields(buf[:n])
	id, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return id
}

//go:noinline
func spin(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 2000; i++ {
			sink = sink*6364136223846793005 + 1442695040888963407
		}
	}
}

//go:noinline
func hotA(d time.Duration) { spin(d) }

//go:noinline
func hotB(d time.Duration) { spin(d) }

func main() {
	run := flag.Duration("run", 3*time.Second, "how long to burn")
	flag.Parse()
	toA, toB, done := make(chan bool), make(chan bool), make(chan bool)
	end := time.Now().Add(*run)
	go func() {
		fmt.Printf("goid hotA %d\n", goid())
		for range toA {
			hotA(2 * time.Millisecond)
			toB <- time.Now().Before(end)
		}
		close(done)
	}()
	go func() {
		fmt.Printf("goid hotB %d\n", goid())
		for more := range toB {
			hotB(time.Millisecond)
			if !more {
				close(toA)
				return
			}
			toA <- true
		}
	}()
	os.Stdout.Sync()
	toA <- true
	<-done
}
