// cgosym is a cgo program for the symbolization tests: Go code plus C code
// linked into the same binary, which Go's pclntab does not cover.
package main

/*
#include <stdlib.h>
static int cwork(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i; return s; }
*/
import "C"

import (
	"flag"
	"fmt"
	"time"
)

//go:noinline
func goWork(n int) int { return int(C.cwork(C.int(n))) }

func main() {
	run := flag.Duration("run", 2*time.Second, "how long to stay busy")
	flag.Parse()
	end := time.Now().Add(*run)
	s := 0
	for time.Now().Before(end) {
		s += goWork(1000)
	}
	fmt.Println(s > 0)
}
