// releases gives memory back with munmap and madvise, directly through
// system calls, and prints each call, for gsmapper's release stream tests:
//
//	munmap ADDR LEN
//	madvise ADDR LEN ADVICE
//
// in hex addresses and decimal lengths. -wait lets the recorder attach first.
// -c makes the same calls through the C library as well (c.go); -free MB
// then has the Go runtime give a heap of MB MiB back (debug.FreeOSMemory),
// which it does with its own madvise calls, not printed.
//
// -spin N instead calls the runtime's own madvise (the assembly function
// the runtime gives its heap back with) N times on one page and prints the
// time a call took, in µs: the benchmark of what a release probe costs.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
	"unsafe"
)

//go:linkname madvise runtime.madvise
func madvise(addr unsafe.Pointer, n uintptr, flags int32) int32

// spin: n calls of runtime.madvise(MADV_DONTNEED) on one page, µs a call.
func spin(n int) {
	b, err := syscall.Mmap(-1, 0, os.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mmap:", err)
		os.Exit(1)
	}
	t := time.Now()
	for i := 0; i < n; i++ {
		madvise(unsafe.Pointer(&b[0]), uintptr(len(b)), syscall.MADV_DONTNEED)
	}
	fmt.Printf("%.3f\n", float64(time.Since(t).Nanoseconds())/float64(n)/1000)
}

func main() {
	n := flag.Int("n", 20, "regions of each kind")
	wait := flag.Duration("wait", 500*time.Millisecond, "before the first call")
	viaC := flag.Bool("c", false, "also through the C library")
	free := flag.Int("free", 0, "MiB of Go heap to give back at the end")
	after := flag.Duration("after", 0, "wait this long before exiting")
	spins := flag.Int("spin", 0, "call runtime.madvise this many times, print µs a call")
	goFile := flag.String("go", "", "then wait until this file exists")
	flag.Parse()
	time.Sleep(*wait)
	for *goFile != "" {
		if _, err := os.Stat(*goFile); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if *spins > 0 {
		spin(*spins)
		return
	}
	page := os.Getpagesize()
	for i := 0; i < *n; i++ {
		for _, advice := range []int{-1, syscall.MADV_DONTNEED, 8 /* MADV_FREE */} {
			size := (i%7 + 1) * 4 * page
			b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE,
				syscall.MAP_PRIVATE|syscall.MAP_ANON)
			if err != nil {
				fmt.Fprintln(os.Stderr, "mmap:", err)
				os.Exit(1)
			}
			for j := 0; j < size; j += page {
				b[j] = 1
			}
			if *viaC {
				cRelease(size, advice)
			}
			addr := uintptr(unsafe.Pointer(&b[0]))
			if advice < 0 {
				fmt.Printf("munmap %x %d\n", addr, size)
				if err := syscall.Munmap(b); err != nil {
					fmt.Fprintln(os.Stderr, "munmap:", err)
					os.Exit(1)
				}
				continue
			}
			fmt.Printf("madvise %x %d %d\n", addr, size, advice)
			if err := syscall.Madvise(b, advice); err != nil {
				fmt.Fprintln(os.Stderr, "madvise:", err)
				os.Exit(1)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if *free > 0 {
		heap := make([][]byte, *free)
		for i := range heap {
			heap[i] = make([]byte, 1<<20)
			for j := 0; j < len(heap[i]); j += page {
				heap[i][j] = 1
			}
		}
		heap = nil
		runtime.GC()
		debug.FreeOSMemory()
	}
	time.Sleep(*after)
}
