// cpuburn keeps two functions hot in a known ratio: hotA does twice the
// work of hotB (about 2 ms and 1 ms), in turn, for -run; each in its own
// goroutine, handing the turn over through channels. It prints each
// goroutine's id as the runtime sees it ("goid hotA N"), an oracle for the
// goroutine ids in samples, and at its end the CPU time each function took
// by its thread's own clock ("cpu hotA NS hotB NS"): the same work costs
// more CPU time when other processes share the cores (caches, a hypervisor
// taking the CPU away), so twice the work is only about twice the time.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"
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
func round() {
	for i := 0; i < 2000; i++ {
		sink = sink*6364136223846793005 + 1442695040888963407
	}
}

// spin does n rounds of work: a fixed amount of CPU, however often other
// processes take the CPU away meanwhile (a spin for a span of wall time
// would get less CPU on a busy machine, and the ratio would drift). It
// calls round, so that it keeps a frame: a frame-pointer walk (perf's) from
// a frameless spin would skip hotA and hotB.
//
//go:noinline
func spin(n int) {
	for r := 0; r < n; r++ {
		round()
	}
}

// A round takes about 2 µs here: hotB about 1 ms, hotA twice as long.
const rounds = 500

//go:noinline
func hotA() { spin(2 * rounds) }

//go:noinline
func hotB() { spin(rounds) }

// threadCPU is the calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// timed runs f and adds the CPU time it took to *sum; the goroutine holds
// its thread, so both readings are of the thread f ran on.
func timed(f func(), sum *int64) {
	t := threadCPU()
	f()
	*sum += threadCPU() - t
}

func main() {
	run := flag.Duration("run", 3*time.Second, "how long to burn")
	flag.Parse()
	toA, toB, done := make(chan bool), make(chan bool), make(chan bool)
	end := time.Now().Add(*run)
	var cpuA, cpuB int64
	go func() {
		runtime.LockOSThread()
		fmt.Printf("goid hotA %d\n", goid())
		for range toA {
			timed(hotA, &cpuA)
			toB <- time.Now().Before(end)
		}
		close(done)
	}()
	go func() {
		runtime.LockOSThread()
		fmt.Printf("goid hotB %d\n", goid())
		for more := range toB {
			timed(hotB, &cpuB)
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
	fmt.Printf("cpu hotA %d hotB %d\n", cpuA, cpuB)
}
