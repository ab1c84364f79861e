// frameless spends its time in a frameless leaf function (mix: no frame,
// so no saved frame pointer) called from two callers in a known ratio:
// callerA makes two calls for each of callerB's. A frame-pointer walk from
// inside mix skips its caller; gsmapper must find it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

var sink uint64

//go:noinline
func mix(x uint64) uint64 { return (x ^ (x >> 7)) * 0x9e3779b97f4a7c15 }

//go:noinline
func callerA(n int) {
	x := sink
	for i := 0; i < n; i++ {
		x = mix(x)
	}
	sink = x
}

//go:noinline
func callerB(n int) {
	x := sink
	for i := 0; i < n; i++ {
		x = mix(x)
	}
	sink = x
}

func main() {
	run := flag.Duration("run", 3*time.Second, "how long")
	prof := flag.String("cpuprofile", "", "also write the runtime's own CPU profile here")
	out := flag.String("out", "", "write the time spent in callerA and in callerB (ns) here")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			panic(err)
		}
		// 500 Hz rather than pprof's 100, for as many samples as gsrec -F 499
		// (the runtime warns that the rate is already set: expected)
		runtime.SetCPUProfileRate(500)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	// Each round spans many sample periods: a round close to the period
	// (200000 calls take ~0.6 ms) aliases with -F 999 and skews the split.
	var inA, inB time.Duration
	for end := time.Now().Add(*run); time.Now().Before(end); {
		t0 := time.Now()
		callerA(4000000)
		t1 := time.Now()
		callerB(2000000)
		inA += t1.Sub(t0)
		inB += time.Since(t1)
	}
	if *out != "" {
		if err := os.WriteFile(*out, []byte(fmt.Sprintf("%d %d\n", inA, inB)), 0o644); err != nil {
			panic(err)
		}
	}
}
