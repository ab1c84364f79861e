#!/usr/bin/env bash
# The heap profile's costs (issue 17), printed as Markdown and appended to
# out/bench/results.md. Run by scripts/bench.sh, or alone.
#   1. One snapshot of 1,000, 10,000 and 50,000 buckets (the heapprof
#      workload's stacks mode, every allocation sampled, a GC every 100 ms
#      or so while it holds them): gsrec's CPU a snapshot (its own
#      measure: the median snapshot, and the dearest, the one that found
#      the buckets), and the trace bytes the profile adds over the
#      snapshots (each bucket and its stack once, then the snapshots): the
#      trace against one recorded with --no-heap-profile, in interleaved
#      rounds (BENCH_HEAP_ROUNDS, default 3), medians.
#   2. caddy under wrk for 10 s: the heap profile's CPU against gsrec's own
#      (getrusage, from /usr/bin/time) and against its 1% budget.
set -eu
cd "$(dirname "$0")/.."
O="${O:-build}"
W="$O/workloads"
out=out/bench/heap
mkdir -p "$out"
res=out/bench/results.md
rounds="${BENCH_HEAP_ROUNDS:-3}"
say() { printf '%s\n' "$*" | tee -a "$res"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "-" }'; }

say ""
say "### The heap profile: one snapshot (heapprof -mode stacks -rate 1, $rounds interleaved rounds, medians)"
say ""
say "| buckets | snapshots | CPU a snapshot, median (ms) | the dearest (finding the buckets, ms) | trace bytes the profile adds, a snapshot |"
say "|---|---|---|---|---|"
for n in 1000 10000 50000; do
	: >"$out/cpu.$n"; : >"$out/first.$n"; : >"$out/bytes.$n"; : >"$out/snaps.$n"
	for r in $(seq "$rounds"); do
		for mode in on off; do
			flag=""; [ $mode = off ] && flag=--no-heap-profile
			rm -rf "$out/run" && mkdir -p "$out/run"
			# shellcheck disable=SC2086
			bin/gsrec -q $flag -o "$out/$mode.trace" -- "$W/heapprof" -mode stacks -stacks $n \
				-rate 1 -dir "$out/run" -marks 20 -gap 100ms >/dev/null 2>&1
		done
		bin/gsreport import "$out/on.trace" -o "$out/on.db" >/dev/null 2>&1
		read -r snaps cpu first < <(sqlite3 -separator ' ' "$out/on.db" "SELECT count(*),
			(SELECT cpu_ns FROM heap_snapshot WHERE seq > 1 ORDER BY cpu_ns
			 LIMIT 1 OFFSET (SELECT (count(*) - 1) / 2 FROM heap_snapshot WHERE seq > 1)),
			max(cpu_ns) FROM heap_snapshot")
		on=$(stat -c %s "$out/on.trace"); off=$(stat -c %s "$out/off.trace")
		echo "$snaps" >>"$out/snaps.$n"
		awk -v c="${cpu:-0}" 'BEGIN { printf "%.3f\n", c / 1e6 }' >>"$out/cpu.$n"
		awk -v c="${first:-0}" 'BEGIN { printf "%.3f\n", c / 1e6 }' >>"$out/first.$n"
		awk -v a="$on" -v b="$off" -v s="$snaps" 'BEGIN { printf "%.0f\n", s ? (a - b) / s : 0 }' >>"$out/bytes.$n"
	done
	say "| $n | $(median <"$out/snaps.$n") | $(median <"$out/cpu.$n") | $(median <"$out/first.$n") | $(median <"$out/bytes.$n") |"
done

say ""
say "### The heap profile on caddy under wrk (10 s, static 1 MiB file on loopback)"
say ""
if [ -x /usr/bin/caddy ] && command -v wrk >/dev/null; then
	mkdir -p "$out/www" && head -c 1048576 /dev/urandom >"$out/www/f"
	printf '{\n\tadmin off\n}\n:18184 {\n\troot * %s\n\tfile_server\n}\n' "$PWD/$out/www" >"$out/Caddyfile"
	caddy run --config "$out/Caddyfile" --adapter caddyfile >/dev/null 2>&1 &
	cpid=$!
	sleep 1
	/usr/bin/time -f "%U %S" -o "$out/rusage" bin/gsrec -q -o "$out/caddy.trace" -p $cpid &
	g=$!
	sleep 0.5
	wrk -t1 -c16 -d10s http://127.0.0.1:18184/f >"$out/wrk.out" 2>&1
	kill -INT $(pgrep -P $g gsrec || echo $g) 2>/dev/null || true
	wait $g || true
	kill $cpid; wait $cpid 2>/dev/null || true
	bin/gsreport import "$out/caddy.trace" -o "$out/caddy.db" >/dev/null 2>&1
	read -r snaps skipped heap_ns secs buckets < <(sqlite3 -separator ' ' "$out/caddy.db" "SELECT count(*),
		sum(skipped), sum(cpu_ns), ((SELECT max(t_ns) FROM statm) - (SELECT min(mono_ns) FROM clock)) / 1e9,
		(SELECT count(*) FROM heap_bucket) FROM heap_snapshot")
	read -r u s <"$out/rusage"
	say "$(awk '/Requests\/sec/ { print $2 }' "$out/wrk.out") requests/s; $snaps snapshots of $buckets buckets ($skipped published profiles passed over for the budget) in $secs s: the heap profile took $(awk -v h="$heap_ns" 'BEGIN { printf "%.1f", h / 1e6 }') ms of CPU, $(awk -v h="$heap_ns" -v d="$secs" 'BEGIN { printf "%.3f", 100 * h / (d * 1e9) }')% of a core (its budget: 1%), and $(awk -v h="$heap_ns" -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", 100 * h / ((u + s) * 1e9) }')% of gsrec's own CPU ($(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }') s)"
else
	say "(caddy or wrk not installed)"
fi
