// cgoleak leaks C memory from a named Go function: leakC asks C to
// allocate and touch -mb MiB in 64 KiB blocks (glibc's heap, not Go's),
// then the program holds. The c_heap class must be attributed to leakC.
package main

/*
#cgo CFLAGS: -O2 -fno-omit-frame-pointer
#include <stdlib.h>
#include <string.h>
static void *leak_block(size_t n) {
	char *p = malloc(n);
	if (p)
		for (size_t i = 0; i < n; i += 4096)
			p[i] = 1;
	return p;
}
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"time"
)

var kept []uintptr

//go:noinline
func leakC(mb int) {
	for i := 0; i < mb*16; i++ {
		kept = append(kept, uintptr(C.leak_block(64<<10)))
	}
}

func main() {
	mb := flag.Int("mb", 64, "MiB of C memory to leak")
	hold := flag.Duration("hold", 3*time.Second, "how long to hold")
	flag.Parse()
	leakC(*mb)
	fmt.Println("leaked", *mb)
	os.Stdout.Sync()
	time.Sleep(*hold)
}
