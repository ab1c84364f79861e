# GC cycles and goroutines of Debian's stripped caddy and prometheus, under
# load on loopback, against what each reports about itself: caddy's
# /debug/vars (memstats NumGC, LastGC) and /debug/pprof/goroutine (the
# goroutine count), prometheus's /metrics (go_gc_duration_seconds_count,
# go_memstats_last_gc_time_seconds, go_goroutines) and its
# /debug/pprof/goroutine. go_goroutines counts the goroutines prometheus
# starts to gather its metrics, so the exact count is taken from the
# profile, which counts only the caller's.
. "$(dirname "$0")/lib.bash"
plan 4

need_root "caddy and prometheus" || exit 0
need_bpf "caddy and prometheus" || exit 0
pids=""
cleanup_hook() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
now() { date +%s%N; }
# check_goroutines NAME TRACE T TOTAL NOTE: TOTAL, the goroutine profile's
# count taken just after wall time T (ns), is within 2 of the timeline's at
# T. The profile also counts the goroutines serving its own request (the
# connection's, and its background reader): hence 2.
check_goroutines() {
	local got
	got=$("$GSREPORT" timeline "$2" | awk -F, -v t="$3" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["wall_ns"] <= t && $c["goroutines"] != "" { g = $c["goroutines"] } END { print g }')
	check "$1: $4 goroutines by its own profile$5, ${got:-none} in the timeline (within 2)" \
		sh -c "[ -n '$got' ] && [ -n '$4' ] && [ \$(( $got - $4 )) -le 2 ] && [ \$(( $4 - $got )) -le 2 ]"
}
# record pid $1 into $2 in the background; the rest of the test drives it
record() { "$GSREC" -q -o "$2" -p "$1" 2>"$2.err" & rec=$!; sleep 1.5; }
stop_recording() { sleep 1.5; kill -INT $rec; wait $rec; }

# check_gc NAME DB NUMGC LASTGC_NS TOLERANCE_NS: the trace's cycle NUMGC has
# that LastGC, every cycle is exact, and none is missing in between
check_gc() {
	"$GSREPORT" gc "$2" >"$T/$1.gc" 2>/dev/null
	local got n first last gaps
	got=$(awk -F, -v n="$3" '$1 == n { print $3 }' "$T/$1.gc")
	read -r n first last gaps < <(awk -F, 'NR > 1 { if (NR > 2 && $1 != p + 1) g++; if ($12 != 1) g++
		if (NR == 2) f = $1; p = $1; n++ } END { print n + 0, f + 0, p + 0, g + 0 }' "$T/$1.gc")
	local d=$(( ${got:-0} - $4 )); [ $d -lt 0 ] && d=$(( -d ))
	check "$1: cycle $3's LastGC is $4 by its own account, ${got:-none} in the trace; cycles $first-$last all exact, none missing ($n rows)" \
		sh -c "[ -n '$got' ] && [ $d -le $5 ] && [ $gaps -eq 0 ] && [ $n -ge 2 ]"
}

if need_prog caddy 2 "caddy's GC and goroutines" && need_prog wrk 2 "caddy's GC and goroutines"; then
	printf '{\n\tadmin 127.0.0.1:2029\n}\n:18091 {\n\trespond "hello"\n}\n' >"$T/Caddyfile"
	caddy run --config "$T/Caddyfile" --adapter caddyfile >"$T/caddy.log" 2>&1 &
	cpid=$!; pids="$pids $cpid"
	for _ in $(seq 50); do curl -sf 127.0.0.1:2029/debug/vars >/dev/null && break; sleep 0.1; done
	kill -0 $cpid 2>/dev/null || notok "caddy did not start (ports 2029 and 18091 in use?): $(tail -3 "$T/caddy.log")"
	record $cpid "$T/caddy.trace"
	wrk -t1 -c64 -d4s http://127.0.0.1:18091/ >"$T/caddy.wrk"
	sleep 1.5	# wrk's connections close, their goroutines end, and a census
			# counts them should the probes be paused (--go-rate)
	vars=$(curl -s 127.0.0.1:2029/debug/vars)
	numgc=$(grep -oE '"NumGC": *[0-9]+' <<<"$vars" | grep -oE '[0-9]+$')
	lastgc=$(grep -oE '"LastGC": *[0-9]+' <<<"$vars" | grep -oE '[0-9]+$')
	t=$(now)
	total=$(curl -s '127.0.0.1:2029/debug/pprof/goroutine?debug=1' | awk '/^goroutine profile: total/ { print $4 }')
	stop_recording
	check_gc caddy "$T/caddy.trace" "$numgc" "$lastgc" 0
	check_goroutines caddy "$T/caddy.trace" "$t" "$total" \
		" (after $(awk '/Requests\/sec/ {print $2}' "$T/caddy.wrk") requests/s)"
	kill $cpid; wait $cpid 2>/dev/null
fi

if need_prog prometheus 2 "prometheus's GC and goroutines" && need_prog wrk 2 "prometheus's GC and goroutines"; then
	printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ["127.0.0.1:19391"]\n' >"$T/prom.yml"
	prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
		--web.listen-address=127.0.0.1:19391 >"$T/prom.log" 2>&1 &
	ppid=$!; pids="$pids $ppid"
	for _ in $(seq 100); do curl -sf 127.0.0.1:19391/-/ready >/dev/null && break; sleep 0.1; done
	kill -0 $ppid 2>/dev/null || notok "prometheus did not start (port 19391 in use?): $(tail -3 "$T/prom.log")"
	record $ppid "$T/prom.trace"
	wrk -t1 -c32 -d4s http://127.0.0.1:19391/metrics >"$T/prom.wrk"
	sleep 1.5
	curl -s 127.0.0.1:19391/metrics >"$T/metrics"
	numgc=$(awk '$1 == "go_gc_duration_seconds_count" { print $2 }' "$T/metrics")
	# seconds as a float64: LastGC to within a microsecond
	lastgc=$(awk '$1 == "go_memstats_last_gc_time_seconds" { printf "%.0f", $2 * 1e9 }' "$T/metrics")
	gog=$(awk '$1 == "go_goroutines" { print $2 }' "$T/metrics")
	t=$(now)
	total=$(curl -s '127.0.0.1:19391/debug/pprof/goroutine?debug=1' | awk '/^goroutine profile: total/ { print $4 }')
	stop_recording
	check_gc prometheus "$T/prom.trace" "$numgc" "$lastgc" 1000
	check_goroutines prometheus "$T/prom.trace" "$t" "$total" \
		" (go_goroutines $gog; after $(awk '/Requests\/sec/ {print $2}' "$T/prom.wrk") requests/s)"
fi
