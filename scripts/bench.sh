#!/usr/bin/env bash
# make bench: gsmapper's speed and memory figures, printed as Markdown for
# BENCHMARKS.md (also written to out/bench/results.md).
#   1. gsrec's own CPU (measured by /usr/bin/time, not by gsrec) and trace
#      bytes per second, attached at defaults to Go targets holding 1 GiB and
#      4 GiB; and the same with smaps reads almost off (-b 0.01), to show the
#      fixed cost of the 100 Hz statm ticks.
#   2. gsreport import speed and peak memory on synthetic traces of 1M and
#      10M records (the mix of a real recording) and 1M smaps-heavy records.
#   3. Go symbol tables of Debian's caddy and prometheus: load time and
#      memory, lookups per second, and the bytes they add to a trace.
# BENCH_SECONDS (default 30) sets the recording length.
# Then scripts/bench-goroutines.sh adds the goroutine and GC streams' costs,
# and scripts/bench-heapprof.sh the heap profile's.
set -eu
cd "$(dirname "$0")/.."
O="${O:-build}"
secs="${BENCH_SECONDS:-30}"
out=out/bench
mkdir -p "$out"
res="$out/results.md"
: >"$res"
say() { printf '%s\n' "$*" | tee -a "$res"; }
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

say "## $(date -u +%Y-%m-%d) on $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
say ""
say "### gsrec, attached for ${secs} s"
say ""
say "| target | gsrec options | CPU % of one core | smaps reads/s | mean read cost | trace bytes/s | gsrec max RSS |"
say "|---|---|---|---|---|---|---|"

for mb in 1024 4096; do
	"$O/workloads/heapgrow" -mb $mb -steps 1 -step-delay 0 -hold 3600s >/dev/null &
	wl=$!
	# wait until the heap is resident
	for _ in $(seq 600); do
		rss=$(awk '{print $2 * 4}' /proc/$wl/statm)
		[ "$rss" -ge $((mb * 1024 * 95 / 100)) ] && break
		sleep 0.1
	done
	for opts in "" "-b 0.01"; do
		tr="$out/gsrec-$mb-${opts// /}.trace"
		/usr/bin/time -f "%U %S %e %M" -o "$out/time" bin/gsrec -q $opts -d "$secs" -o "$tr" -p $wl
		read -r u s e m <"$out/time"
		bin/gsreport import "$tr" -o "$tr.db" >/dev/null 2>&1
		reads=$(sqlite3 "$tr.db" "select count(*) from smaps_read")
		cost=$(sqlite3 "$tr.db" "select printf('%.1f ms', avg(cpu_ns) / 1e6) from smaps_read")
		size=$(stat -c %s "$tr")
		say "| Go heap $((mb / 1024)) GiB | ${opts:-defaults} | $(awk -v u=$u -v s=$s -v e=$e 'BEGIN{printf "%.2f", 100*(u+s)/e}') | $(awk -v r=$reads -v e=$e 'BEGIN{printf "%.2f", r/e}') | $cost | $(awk -v b=$size -v e=$e 'BEGIN{printf "%.0f", b/e}') | $m KiB |"
	done
	kill $wl
	wait $wl 2>/dev/null || true
done

say ""
say "### gsreport import"
say ""
say "| trace | records | trace size | import time | records/s | gsreport max RSS |"
say "|---|---|---|---|---|---|"
make -s "$O/tests/gentrace" >/dev/null
for spec in "1000000 35 3 real-mix" "10000000 35 3 real-mix" "1000000 10 5 smaps-heavy"; do
	set -- $spec
	tr="$out/gen-$1-$4.trace"
	"$O/tests/gentrace" "$tr" "$1" "$2" "$3" >/dev/null
	rm -f "$tr.db"
	/usr/bin/time -f "%e %M" -o "$out/time" bin/gsreport import "$tr" -o "$tr.db" >/dev/null 2>&1
	read -r e m <"$out/time"
	say "| $4 | $1 | $(($(stat -c %s "$tr") / 1024)) KiB | ${e} s | $(awk -v n=$1 -v e=$e 'BEGIN{printf "%.0f", n/e}') | $m KiB |"
	rm -f "$tr.db"
done
say ""
say "### Go symbol tables"
say ""
make -s "$O/tests/symbench" >/dev/null
for b in caddy prometheus; do
	[ -x /usr/bin/$b ] || continue
	say '```'
	"$O/tests/symbench" /usr/bin/$b 5000000 | tee -a "$res"
	say '```'
done
if [ -x /usr/bin/caddy ]; then
	mkdir -p "$out/www"
	printf '{\n\tadmin off\n}\n:18082 {\n\troot * %s\n\tfile_server\n}\n' "$PWD/$out/www" >"$out/Caddyfile"
	caddy run --config "$out/Caddyfile" --adapter caddyfile >/dev/null 2>&1 &
	cpid=$!
	sleep 1
	bin/gsrec -q -d 2 -o "$out/caddy.trace" -p $cpid
	kill $cpid
	bin/gsreport import "$out/caddy.trace" -o "$out/caddy.db" >/dev/null 2>&1
	pcln=$(sqlite3 "$out/caddy.db" "select total from object_table where kind = 'go.pclntab' and object_id = (select id from object where is_main) limit 1")
	say ""
	say "caddy trace (2 s): tables $(sqlite3 "$out/caddy.db" "select value from meta where key = 'table_raw_bytes'") bytes raw, $(sqlite3 "$out/caddy.db" "select value from meta where key = 'table_frame_bytes'") bytes in the trace; caddy's own pclntab: $pcln bytes; gsrec spent $(sqlite3 "$out/caddy.db" "select objects_cpu_ns / 1000000 from recording") ms writing them"
fi
say ""
say "### Folding ten million CPU samples"
say ""
say "| samples | import | import peak memory | folded | folded peak memory |"
say "|---|---|---|---|---|"
for n in 1000000 10000000; do
	"$O/tests/gentrace" "$out/cpu-$n.trace" $n cpu >/dev/null
	rm -f "$out/cpu-$n.trace.db"
	/usr/bin/time -f "%e %M" -o "$out/t1" bin/gsreport import "$out/cpu-$n.trace" >/dev/null 2>&1
	/usr/bin/time -f "%e %M" -o "$out/t2" bin/gsreport folded --weight cpu "$out/cpu-$n.trace" >/dev/null 2>&1
	read -r ie im <"$out/t1"; read -r fe fm <"$out/t2"
	say "| $n | ${ie} s | ${im} KiB | ${fe} s | ${fm} KiB |"
	rm -f "$out/cpu-$n.trace" "$out/cpu-$n.trace.db"
done

say ""
say "### eBPF overhead on caddy (static file on loopback, wrk -t1 -c16 -d8s)"
say ""
if [ -x /usr/bin/caddy ] && command -v wrk >/dev/null && command -v perf >/dev/null; then
	mkdir -p "$out/www" && head -c 4096 /dev/urandom >"$out/www/f"
	printf '{\n\tadmin off\n}\n:18084 {\n\troot * %s\n\tfile_server\n}\n' "$PWD/$out/www" >"$out/Caddyfile.load"
	caddy run --config "$out/Caddyfile.load" --adapter caddyfile >/dev/null 2>&1 &
	cpid=$!
	sleep 1
	rps() { wrk -t1 -c16 -d8s http://127.0.0.1:18084/f 2>/dev/null | awk '/Requests\/sec/ {print $2}'; }
	say "| run | no recorder | gsrec (defaults: -F 49, every fault) | perf record -g -F 49 |"
	say "|---|---|---|---|"
	for run in 1 2; do
		a=$(rps)
		bin/gsrec -q -o "$out/load.trace" -p $cpid &
		g=$!; sleep 0.5; b=$(rps); kill -INT $g; wait $g
		perf record -q -g -F 49 -p $cpid -o "$out/load.perf" -- sleep 9 >/dev/null 2>&1 &
		p=$!; sleep 0.5; c=$(rps); wait $p
		say "| $run | $a | $b ($(awk -v a=$a -v b=$b 'BEGIN{printf "%+.1f%%", 100*(b-a)/a}')) | $c ($(awk -v a=$a -v c=$c 'BEGIN{printf "%+.1f%%", 100*(c-a)/a}')) |"
	done
	say ""
	say "Trace size for the same CPU samples (caddy under wrk, -F 499, 8 s):"
	bin/gsrec -q -F 499 -o "$out/size.trace" -p $cpid &
	g=$!
	perf record -q -g -F 499 -p $cpid -o "$out/size.perf" -- sleep 8 >/dev/null 2>&1 &
	p=$!
	perf record -q -g -z -F 499 -p $cpid -o "$out/size.perfz" -- sleep 8 >/dev/null 2>&1 &
	pz=$!
	rps >/dev/null
	wait $p $pz
	kill -INT $g; wait $g
	kill $cpid
	bin/gsreport import "$out/size.trace" -o "$out/size.db" >/dev/null 2>&1
	n=$(sqlite3 "$out/size.db" "select count(*) from cpu_sample")
	tb=$(stat -c %s "$out/size.trace"); sym=$(sqlite3 "$out/size.db" "select value from meta where key = 'table_frame_bytes'")
	say "gsrec trace $tb bytes ($n CPU samples, plus /proc data; of it $sym bytes of embedded symbol tables); perf.data $(stat -c %s "$out/size.perf") bytes; perf.data with -z $(stat -c %s "$out/size.perfz") bytes"
fi
say ""
O=$O scripts/bench-goroutines.sh
O=$O scripts/bench-heapprof.sh
say ""
say "(raw results in $res)"
