// goroutines is the oracle workload for gsmapper's goroutine and GC
// streams. It writes what the runtime says about itself to -out, one fact
// per line, with the wall clock in unix nanoseconds:
//
//	mark UNIXNS goroutines N          runtime.NumGoroutine() at that moment
//	deep GOID STACKBYTES              the deep goroutine's stack (g.stack)
//	leaked N                          goroutines leakySpawner left blocked
//	cycle NUMGC LASTGC PAUSENS        MemStats.PauseEnd/PauseNs per cycle, at the end
//	done UNIXNS numgc N
//	stress done N bad 0 cpu_ns NS     with -stress: all checked, the process's CPU time
//	retained UNIXNS BYTES             with -retain-kb: the heap kept for good so far
//	bin UNIXMS N                      with -spin: goroutines completed in each 50 ms
//
// Phases: steady allocation (GC cycles: -churn-kb of garbage a step), a
// spawn storm (spawnStorm creates -storm short goroutines) and a deep
// recursion (recurse) that grows one
// goroutine's stack to about -deep-kb. Throughout, until the last mark, a
// leak (leakySpawner starts a goroutine that never exits every
// -leak-every). -retain-kb makes the allocation phases keep (leak) that
// much heap, touched, at each step. -memprofile writes the runtime's heap
// profile at the end (and links the memory profiler in, which the linker
// leaves out of a program that never asks for a profile). -park N starts N goroutines that block
// and idles for -hold (the census benchmark). With -stress it instead creates -stress
// goroutines that each grow their stacks and checks every result. With
// -spin it starts goroutines in batches of 32 for that long, as fast as it
// can, and says how many completed in each 50 ms (the probes' cost, seen
// from the target).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

func getg() uintptr

var out *bufio.Writer
var outMu sync.Mutex

func say(format string, args ...interface{}) {
	outMu.Lock()
	fmt.Fprintf(out, format+"\n", args...)
	out.Flush()
	outMu.Unlock()
}

func now() int64 { return time.Now().UnixNano() }

var sink [][]byte

//go:noinline
func allocate(n int) {
	for i := 0; i < n; i++ {
		sink = append(sink, make([]byte, 1024))
		if len(sink) > 4096 {
			sink = sink[:0]
		}
	}
}

//go:noinline
func spawnStorm(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			wg.Done()
		}()
	}
	wg.Wait()
}

var never = make(chan struct{})

// worker ticks until stopped: a constant population of goroutines.
func worker(stop <-chan struct{}) {
	t := time.NewTicker(10 * time.Millisecond)
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

//go:noinline
func leakySpawner(stop <-chan struct{}, every time.Duration) {
	n := 0
	for {
		select {
		case <-stop:
			say("leaked %d", n)
			return
		case <-time.After(every):
			go func() { <-never }()
			n++
		}
	}
}

// recurse grows its goroutine's stack: about 1 KB a frame.
//
//go:noinline
func recurse(n int, ready chan<- int64, hold <-chan struct{}) int {
	var pad [960]byte
	pad[n%960] = byte(n)
	if n == 0 {
		goid := goid()
		g := (*[2]uintptr)(unsafe.Pointer(getg()))
		say("deep %d %d", goid, g[1]-g[0])
		ready <- goid
		<-hold
		return int(pad[0])
	}
	return recurse(n-1, ready, hold) + int(pad[n%960])
}

func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseInt(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}

func mark() {
	say("mark %d goroutines %d", now(), runtime.NumGoroutine())
}

// grow needs a stack of about depth KB, and returns a checkable sum.
//
//go:noinline
func grow(depth int) int {
	var pad [1000]byte
	pad[depth%1000] = 1
	if depth == 0 {
		return 1
	}
	return grow(depth-1) + int(pad[depth%1000])
}

func stress(total, par, depth int) {
	var bad, done int64
	var mu sync.Mutex
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < total; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := 0
			if depth > 0 {
				d = i % depth
			}
			r := grow(d)
			mu.Lock()
			if r != d+1 {
				bad++
			}
			done++
			mu.Unlock()
			<-sem
		}(i)
	}
	wg.Wait()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	say("stress done %d bad %d cpu_ns %d", done, bad, ru.Utime.Nano()+ru.Stime.Nano())
	if bad != 0 || done != int64(total) {
		fmt.Fprintf(os.Stderr, "stress: %d of %d wrong\n", bad, total)
		os.Exit(1)
	}
}

func spin(d time.Duration) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	sink := 0
	end := time.Now().Add(d)
	next := time.Now().Add(50 * time.Millisecond)
	n := 0
	for time.Now().Before(end) {
		for i := 0; i < 32; i++ {
			wg.Add(1)
			go func(x int) {
				s := 0
				for j := 0; j < 200; j++ {
					s += j ^ x
				}
				mu.Lock()
				sink += s
				mu.Unlock()
				wg.Done()
			}(i)
		}
		wg.Wait()
		n += 32
		if now := time.Now(); now.After(next) {
			say("bin %d %d", now.UnixMilli(), n)
			n = 0
			next = next.Add(50 * time.Millisecond)
		}
	}
	say("spin done sink %d", sink)
}

func main() {
	outPath := flag.String("out", "", "write the runtime's figures here")
	storm := flag.Int("storm", 20000, "goroutines in the spawn storm")
	leakEvery := flag.Duration("leak-every", 100*time.Millisecond, "the leaky spawner's period")
	deepKB := flag.Int("deep-kb", 1024, "stack the deep goroutine needs (KB)")
	alloc := flag.Duration("alloc", 2*time.Second, "steady allocation before and after")
	hold := flag.Duration("hold", 1500*time.Millisecond, "idle at the end")
	stressN := flag.Int("stress", 0, "stress mode: goroutines to create")
	stressDepth := flag.Int("stress-depth", 40, "stress mode: goroutine i needs i % this KB of stack")
	spinFor := flag.Duration("spin", 0, "spin mode: start goroutines this long, counting them every 50 ms")
	park := flag.Int("park", 0, "park mode: start this many goroutines that block, then idle for -hold")
	retainKB := flag.Int("retain-kb", 0, "heap kept for good at each allocation step (KB)")
	memProfile := flag.String("memprofile", "", "write the runtime's heap profile here at the end")
	churnKB := flag.Int("churn-kb", 2000, "garbage made at each allocation step (KB)")
	flag.Parse()
	f := os.Stdout
	if *outPath != "" {
		var err error
		if f, err = os.Create(*outPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	out = bufio.NewWriter(f)
	if *park > 0 {
		for i := 0; i < *park; i++ {
			go func() { <-never }()
		}
		say("parked %d", *park)
		time.Sleep(*hold)
		return
	}
	if *stressN > 0 {
		stress(*stressN, 256, *stressDepth)
		return
	}
	if *spinFor > 0 {
		spin(*spinFor)
		return
	}

	// a few long-lived workers, a constant population
	stopWorkers := make(chan struct{})
	for i := 0; i < 8; i++ {
		go worker(stopWorkers)
	}
	stopLeak := make(chan struct{})
	leakDone := make(chan struct{})
	go func() { leakySpawner(stopLeak, *leakEvery); close(leakDone) }()
	mark()
	var kept [][]byte
	step := func() {
		allocate(*churnKB)
		if *retainKB > 0 {
			b := make([]byte, *retainKB<<10)
			for i := range b {
				b[i] = 1
			}
			kept = append(kept, b)
			say("retained %d %d", now(), len(kept)*(*retainKB<<10))
		}
		time.Sleep(2 * time.Millisecond)
	}
	end := time.Now().Add(*alloc)
	for time.Now().Before(end) {
		step()
	}
	mark()
	spawnStorm(*storm)
	time.Sleep(200 * time.Millisecond)
	mark()

	time.Sleep(300 * time.Millisecond)
	mark()

	ready := make(chan int64)
	holdDeep := make(chan struct{})
	go recurse(*deepKB, ready, holdDeep)
	<-ready
	time.Sleep(1500 * time.Millisecond) // a census or two sees it
	mark()

	end = time.Now().Add(*alloc)
	for time.Now().Before(end) {
		step()
	}
	close(stopWorkers)
	close(stopLeak)
	<-leakDone
	time.Sleep(100 * time.Millisecond)
	mark()

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	first := uint32(1)
	if ms.NumGC > 256 {
		first = ms.NumGC - 255
	}
	for n := first; n <= ms.NumGC; n++ {
		say("cycle %d %d %d", n, ms.PauseEnd[(n-1)%256], ms.PauseNs[(n-1)%256])
	}
	say("done %d numgc %d lastgc %d", now(), ms.NumGC, ms.LastGC)
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err == nil {
			err = pprof.WriteHeapProfile(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	runtime.KeepAlive(kept)
	time.Sleep(*hold)
	close(holdDeep)
}
