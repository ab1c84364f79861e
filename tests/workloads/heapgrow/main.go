// heapgrow grows its Go heap to a known size in steps, holds it, and just
// before exiting reads its own /proc/self/smaps_rollup, printing the Pss and
// Rss the kernel reports ("pss_kb N rss_kb N"): the oracle that gsmapper's
// end-to-end tests compare a recording against.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
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
	flag.Parse()

	for s := 0; s < *steps; s++ {
		grow(*mb / *steps)
		time.Sleep(*stepDelay)
	}
	grow(*mb % *steps)
	time.Sleep(*hold)
	r := rollup()
	line := fmt.Sprintf("pss_kb %d rss_kb %d heap_mb %d\n", r["Pss"], r["Rss"], len(keep))
	fmt.Print(line)
	if *out != "" {
		os.WriteFile(*out, []byte(line), 0o644)
	}
	runtime.KeepAlive(keep)
}
