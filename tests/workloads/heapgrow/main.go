// heapgrow grows its Go heap to a known size in steps, holds it, and just
// before exiting reads its own /proc/self/smaps_rollup, printing the Pss and
// Rss the kernel reports ("pss_kb N rss_kb N"): the oracle that gsmapper's
// end-to-end tests compare a recording against. -maps N first adds N
// one-page mappings that the kernel cannot merge, so that /proc/PID/smaps
// takes many reads to read; the line then ends with "maps N", the number of
// mappings /proc/self/maps listed just before exiting.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var keep [][]byte

func rollup() map[string]uint64 {
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && strings.HasSuffix(fields[0], ":") {
			v, err := strconv.ParseUint(fields[1], 10, 64)
			if err == nil {
				out[strings.TrimSuffix(fields[0], ":")] = v
			}
		}
	}
	return out
}

// mapN makes n one-page anonymous mappings, writable and read-only in turn,
// so that neighbours differ and the kernel cannot merge them.
func mapN(n int) {
	for i := 0; i < n; i++ {
		prot := syscall.PROT_READ
		if i%2 == 0 {
			prot |= syscall.PROT_WRITE
		}
		b, err := syscall.Mmap(-1, 0, os.Getpagesize(), prot, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mmap:", err)
			os.Exit(1)
		}
		if prot&syscall.PROT_WRITE != 0 {
			b[0] = 1
		}
	}
}

func countMaps() int {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return strings.Count(string(b), "\n")
}

// grow allocates mb MiB in 1 MiB slices and touches every page, so the
// memory is resident, not just reserved.
func grow(mb int) {
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i)
		}
		keep = append(keep, b)
	}
}

func main() {
	mb := flag.Int("mb", 256, "MiB of heap to hold")
	steps := flag.Int("steps", 8, "grow in this many steps")
	stepDelay := flag.Duration("step-delay", 200*time.Millisecond, "pause between steps")
	hold := flag.Duration("hold", 2*time.Second, "how long to hold the heap at its peak")
	out := flag.String("out", "", "also write the final figures to this file")
	maps := flag.Int("maps", 0, "first make this many one-page mappings")
	flag.Parse()

	mapN(*maps)

	for s := 0; s < *steps; s++ {
		grow(*mb / *steps)
		time.Sleep(*stepDelay)
	}
	grow(*mb % *steps)
	time.Sleep(*hold)
	r := rollup()
	line := fmt.Sprintf("pss_kb %d rss_kb %d heap_mb %d", r["Pss"], r["Rss"], len(keep))
	if *maps > 0 {
		line += fmt.Sprintf(" maps %d", countMaps())
	}
	line += "\n"
	fmt.Print(line)
	if *out != "" {
		os.WriteFile(*out, []byte(line), 0o644)
	}
	runtime.KeepAlive(keep)
}
