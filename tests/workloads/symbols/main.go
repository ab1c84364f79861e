// symbols is the workload for the symbolization tests. It runs for -run,
// keeping several functions busy, and prints, as an oracle for inlined
// frames, what the Go runtime itself says about a pc inside inlined code:
//
//	inline 0xPC
//	frame FUNC FILE LINE     (innermost first, as runtime.CallersFrames gives)
//
// PC is a return address (as in a stack sample); symbolize PC-1.
package main

import (
	"flag"
	"fmt"
	"reflect"
	"runtime"
	"time"
)

var sink int

//go:noinline
func probe() uintptr {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	return pcs[0]
}

// leaf and middle are small enough to be inlined into outer.
func leaf(n int) int {
	sink += n
	pc := probe()
	return n + int(pc&1)
}

func middle(n int) int { return leaf(n*2) + 1 }

//go:noinline
func outer(n int) int { return middle(n) + 3 }

//go:noinline
func spin(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		sink += outer(sink & 7)
	}
}

func main() {
	run := flag.Duration("run", 2*time.Second, "how long to stay busy")
	flag.Parse()

	// The oracle: the frames the runtime reports for a pc in leafCapture
	// inlined into middleCapture inlined into outerCapture.
	// Where main.spin is at run time: with the load bias, a PIE's is not its
	// address in the file.
	fmt.Printf("func main.spin %#x\n", reflect.ValueOf(spin).Pointer())
	recordInline()
	// The logical frames, each with the entry of the function that holds
	// its code: those that share the first's entry are the inlined frames
	// at that pc and the function that holds them.
	fmt.Printf("inline %#x\n", captured[0])
	frames := runtime.CallersFrames(captured[:])
	for {
		f, more := frames.Next()
		fmt.Printf("frame %s %s %d %#x\n", f.Function, f.File, f.Line, f.Entry)
		if !more || f.Function == "main.outerCapture" {
			break
		}
	}
	spin(*run)
}

// The runtime gives one pc per logical frame, inlined ones included.
var captured [8]uintptr

//go:noinline
func recordInline() {
	outerCapture(1)
}

//go:noinline
func outerCapture(n int) int { return middleCapture(n) + 3 }

func middleCapture(n int) int { return leafCapture(n*2) + 1 }

func leafCapture(n int) int {
	runtime.Callers(1, captured[:]) // [0] is a return address in leafCapture's inlined body
	return n
}
