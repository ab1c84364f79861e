#!/usr/bin/env bash
# make demo: record the bundled Go workload for about ten seconds, then
# import the trace, write the timeline and print the summary. Output goes
# to out/demo/.
set -eu
cd "$(dirname "$0")/.."
O="${O:-build}"
out=out/demo
mkdir -p "$out"
echo "== recording $O/workloads/heapgrow (grows its heap to 512 MiB, holds it) for ~10 s"
# heapgrow links no profiler, so its runtime keeps no heap profile:
# --heap-rate turns it on (the one write gsrec makes to a target)
bin/gsrec --heap-rate 524288 -o "$out/demo.trace" -- "$O/workloads/heapgrow" -mb 512 -steps 16 \
	-step-delay 500ms -hold 2s
echo
echo "== importing"
bin/gsreport import "$out/demo.trace" -o "$out/demo.db"
bin/gsreport timeline "$out/demo.db" -o "$out/timeline.csv"
bin/gsreport timeline "$out/demo.db" --format json -o "$out/timeline.json"
bin/gsreport summary "$out/demo.db" | tee "$out/summary.txt"
bin/gsreport heap "$out/demo.db" -o "$out/heap.txt"
echo
echo "== wrote $out/demo.trace, $out/demo.db (SQLite, see report/SCHEMA.md),"
echo "   $out/timeline.csv, $out/timeline.json, $out/summary.txt and $out/heap.txt"
echo "   (the Go heap by allocation site)"
echo "   try: sqlite3 $out/demo.db 'select class, pss_kb from smaps_class where read_id = (select max(id) from smaps_read where kind != \"rollup\")'"
