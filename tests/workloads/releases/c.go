package main

/*
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

static uintptr_t c_map(size_t n)
{
	void *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	memset(p, 1, n);
	return (uintptr_t)p;
}
static int c_munmap(uintptr_t p, size_t n) { return munmap((void *)p, n); }
static int c_madvise(uintptr_t p, size_t n, int advice) { return madvise((void *)p, n, advice); }
*/
import "C"

import (
	"fmt"
	"os"
)

// cRelease does what main's loop does through the C library's munmap and
// madvise, as a cgo program's C code would.
func cRelease(size int, advice int) {
	p := C.c_map(C.size_t(size))
	if p == 0 {
		fmt.Fprintln(os.Stderr, "mmap (C) failed")
		os.Exit(1)
	}
	if advice < 0 {
		fmt.Printf("munmap %x %d\n", uintptr(p), size)
		if C.c_munmap(p, C.size_t(size)) != 0 {
			fmt.Fprintln(os.Stderr, "munmap (C) failed")
			os.Exit(1)
		}
		return
	}
	fmt.Printf("madvise %x %d %d\n", uintptr(p), size, advice)
	if C.c_madvise(p, C.size_t(size), C.int(advice)) != 0 {
		fmt.Fprintln(os.Stderr, "madvise (C) failed")
		os.Exit(1)
	}
}
