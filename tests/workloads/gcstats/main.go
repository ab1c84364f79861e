// gcstats runs -gcs garbage collections while allocating, then turns the
// collector off and prints what runtime.ReadMemStats says ("numgc N lastgc
// UNIXNS pause_total NS"), then waits -hold: an oracle for readers of
// runtime.memstats from outside the process.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

var sink [][]byte

func main() {
	gcs := flag.Int("gcs", 5, "collections to run")
	hold := flag.Duration("hold", 5*time.Second, "how long to wait afterwards")
	flag.Parse()
	for i := 0; i < *gcs; i++ {
		for j := 0; j < 100; j++ {
			sink = append(sink, make([]byte, 4096))
		}
		sink = sink[:0]
		runtime.GC()
	}
	debug.SetGCPercent(-1) // no collection may move the figures now
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("numgc %d lastgc %d pause_total %d\n", ms.NumGC, ms.LastGC, ms.PauseTotalNs)
	os.Stdout.Sync()
	time.Sleep(*hold)
}
