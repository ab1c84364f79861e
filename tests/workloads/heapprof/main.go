// heapprof allocates from known functions and writes its own heap profile
// (runtime/pprof.WriteHeapProfile) at marked moments: the oracle for the
// heap profile gsrec reads from outside.
//
//	-mode sites  five functions hold different amounts in objects of
//	             different sizes while churn makes garbage; then -marks
//	             times: runtime.GC(), the profile to DIR/heap.K.pb.gz, and a
//	             line "mark K numgc N" (N: NumGC after that GC, the cycle
//	             whose mark termination the file describes).
//	-mode leak   churn 2 MiB buffers through a ring of -ring of them (a
//	             steady heap) for -churn, then leak 1 MiB chunks at -leak MiB
//	             a second as well, for -for, printing "leak from numgc N"
//	             when the leak starts and "end numgc N" before exiting.
//	-mode stacks allocate from -stacks distinct call stacks (a binary tree of
//	             two functions), -rate 1 sampling every allocation, then marks
//	             as in sites.
//
// -rate sets runtime.MemProfileRate first (0 leaves the default). Every
// mode ends by checking what it holds (a checksum of its own data).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

var (
	holdA, holdB, holdC, holdD, holdE [][]byte
	leaked                            [][]byte
	ring                              [][]byte
	tree                              [][]byte
	sink                              []byte
	turn                              int
)

func fill(b []byte, v byte) []byte {
	for i := 0; i < len(b); i += 512 {
		b[i] = v
	}
	return b
}

//go:noinline
func allocA() { // 24 MiB in 256 KiB objects
	for i := 0; i < 96; i++ {
		holdA = append(holdA, fill(make([]byte, 256<<10), 'A'))
	}
}

//go:noinline
func allocB() { // 12 MiB in 64 KiB objects
	for i := 0; i < 192; i++ {
		holdB = append(holdB, fill(make([]byte, 64<<10), 'B'))
	}
}

//go:noinline
func allocC() { // 8 MiB in 1 MiB objects
	for i := 0; i < 8; i++ {
		holdC = append(holdC, fill(make([]byte, 1<<20), 'C'))
	}
}

//go:noinline
func allocD() { // 6 MiB in 16 KiB objects
	for i := 0; i < 384; i++ {
		holdD = append(holdD, fill(make([]byte, 16<<10), 'D'))
	}
}

//go:noinline
func allocE() { // 4 MiB in 4 KiB objects
	for i := 0; i < 1024; i++ {
		holdE = append(holdE, fill(make([]byte, 4<<10), 'E'))
	}
}

//go:noinline
func churn(n int) { // garbage, 2 MiB at a time, through the ring
	for i := 0; i < n; i++ {
		b := fill(make([]byte, 2<<20), 'R')
		if len(ring) > 0 {
			ring[turn%len(ring)] = b
			turn++
		} else {
			sink = b
		}
	}
}

//go:noinline
func leak(mb int) {
	for i := 0; i < mb; i++ {
		leaked = append(leaked, fill(make([]byte, 1<<20), 'L'))
	}
}

// Eight functions, three bits of the path each: 20,000 stacks in five
// levels (ten frames), well inside every release's stack depth.
//
//go:noinline
func g0(d, p int) { pick(d-1, p) }

//go:noinline
func g1(d, p int) { pick(d-1, p) }

//go:noinline
func g2(d, p int) { pick(d-1, p) }

//go:noinline
func g3(d, p int) { pick(d-1, p) }

//go:noinline
func g4(d, p int) { pick(d-1, p) }

//go:noinline
func g5(d, p int) { pick(d-1, p) }

//go:noinline
func g6(d, p int) { pick(d-1, p) }

//go:noinline
func g7(d, p int) { pick(d-1, p) }

var step [8]func(int, int)

func init() { step = [8]func(int, int){g0, g1, g2, g3, g4, g5, g6, g7} }

//go:noinline
func pick(d, p int) {
	if d == 0 {
		tree = append(tree, fill(make([]byte, 64), 'T'))
		return
	}
	step[p>>(3*(d-1))&7](d, p)
}

func sum(bs [][]byte) (s int) {
	for _, b := range bs {
		for i := 0; i < len(b); i += 512 {
			s += int(b[i])
		}
	}
	return
}

func numgc() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}

func marks(dir string, n int, gap time.Duration) {
	for k := 1; k <= n; k++ {
		churn(4)
		runtime.GC()
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap.%d.pb.gz", k)))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		f.Close()
		fmt.Printf("mark %d numgc %d\n", k, numgc())
		deadline := time.Now().Add(gap)
		for time.Now().Before(deadline) {
			churn(2)
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func main() {
	mode := flag.String("mode", "sites", "sites, leak or stacks")
	dir := flag.String("dir", ".", "where the heap profiles go")
	nmarks := flag.Int("marks", 3, "profiles to write")
	gap := flag.Duration("gap", 300*time.Millisecond, "churn between marks")
	rate := flag.Int("rate", 0, "runtime.MemProfileRate (0: the default)")
	churnFor := flag.Duration("churn", 12*time.Second, "leak mode: churn alone this long")
	leakFor := flag.Duration("for", 10*time.Second, "leak mode: then churn and leak this long")
	leakRate := flag.Int("leak", 8, "leak mode: MiB a second")
	ringN := flag.Int("ring", 32, "leak mode: 2 MiB buffers in the ring")
	nstacks := flag.Int("stacks", 20000, "stacks mode: distinct stacks")
	flag.Parse()
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	want := 0
	switch *mode {
	case "sites":
		allocA()
		allocB()
		allocC()
		allocD()
		allocE()
		want = 'A'*96*512 + 'B'*192*128 + 'C'*8*2048 + 'D'*384*32 + 'E'*1024*8
		marks(*dir, *nmarks, *gap)
		if got := sum(holdA) + sum(holdB) + sum(holdC) + sum(holdD) + sum(holdE); got != want {
			fmt.Printf("corrupt: %d, want %d\n", got, want)
			os.Exit(1)
		}
	case "leak":
		ring = make([][]byte, *ringN)
		t0 := time.Now()
		for time.Since(t0) < *churnFor {
			churn(1)
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Printf("leak from numgc %d\n", numgc())
		t1 := time.Now()
		for time.Since(t1) < *leakFor {
			churn(1)
			if want := int(time.Since(t1).Seconds() * float64(*leakRate)); want > len(leaked) {
				leak(want - len(leaked))
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := sum(leaked); got != 'L'*2048*len(leaked) {
			fmt.Printf("corrupt: %d, want %d\n", got, 'L'*2048*len(leaked))
			os.Exit(1)
		}
		fmt.Printf("end numgc %d leaked %d\n", numgc(), len(leaked))
	case "stacks":
		depth := 1
		for 1<<(3*depth) < *nstacks {
			depth++
		}
		for p := 0; p < *nstacks; p++ {
			pick(depth, p)
		}
		marks(*dir, *nmarks, *gap)
		if got := sum(tree); got != 'T'*len(tree) {
			fmt.Printf("corrupt: %d, want %d\n", got, 'T'*len(tree))
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown -mode")
		os.Exit(2)
	}
	fmt.Println("ok")
}
