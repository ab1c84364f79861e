// retain holds memory from named functions in a known ratio: retainBig
// keeps 2x what retainSmall keeps, churn allocates garbage all along, and
// giveBack allocates a block that is dropped and returned to the OS
// (debug.FreeOSMemory) before the end. Then it prints its own Pss from
// /proc/self/smaps_rollup ("pss_kb N") half way through -hold, and again
// ("end pss_kb N") just before it exits.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

var big, small, churned [][]byte
var temp [][]byte

func fill(mb int) [][]byte {
	var out [][]byte
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		out = append(out, b)
	}
	return out
}

//go:noinline
func retainBig(mb int) { big = append(big, fill(mb)...) }

//go:noinline
func retainSmall(mb int) { small = append(small, fill(mb)...) }

//go:noinline
func churn(mb int) {
	for i := 0; i < mb; i++ {
		churned = fill(1) // the previous one becomes garbage
	}
}

//go:noinline
func giveBack(mb int) { temp = fill(mb) }

func pssKB() string {
	f, _ := os.Open("/proc/self/smaps_rollup")
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Pss:") {
			return strings.Fields(sc.Text())[1]
		}
	}
	return "0"
}

func main() {
	unit := flag.Int("mb", 100, "retainSmall's MiB; retainBig keeps twice that")
	hold := flag.Duration("hold", 3*time.Second, "how long to hold at the end")
	flag.Parse()
	giveBack(*unit)
	// Small interleaved steps: pages the collector frees from churn's garbage
	// are reused without a new fault, and fine steps share that reuse out in
	// proportion.
	const rounds = 50
	for i := 0; i < rounds; i++ {
		retainBig(*unit * 2 / rounds)
		retainSmall(*unit / rounds)
		churn(*unit / rounds / 2)
		time.Sleep(10 * time.Millisecond)
	}
	temp = nil
	debug.FreeOSMemory() // a GC, then the freed pages go back to the OS
	time.Sleep(*hold / 2)
	fmt.Printf("pss_kb %s\n", pssKB())
	os.Stdout.Sync()
	time.Sleep(*hold / 2)
	fmt.Printf("end pss_kb %s\n", pssKB())
	os.Stdout.Sync()
	runtime.KeepAlive(big)
	runtime.KeepAlive(small)
}
