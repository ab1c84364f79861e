# The runtime's heap profile, read from outside, against the runtime's own:
# the workload writes its heap profile (runtime/pprof.WriteHeapProfile) at
# marked GC cycles, and folded --weight heap of that cycle must name the
# same functions with the same bytes as `go tool pprof` of the file. A
# program that leaks while churning garbage at a steady heap: heap-growth
# over the leak gives the leak, where the first-fault view does not.
. "$(dirname "$0")/lib.bash"
plan 23

need_bpf "heap profile" || exit 0

# flat in-use bytes by function: "FUNC BYTES", from pprof or from folded
pprof_flat() {
	"$GO" tool pprof -top -unit=B -nodecount=100000 -sample_index=inuse_space "$1" 2>/dev/null |
		awk 'NR > 5 && $1 + 0 > 0 { sub(/B$/, "", $1); print $6, $1 }' | sort
}
folded_flat() {
	awk '{ n = $NF; $NF = ""; sub(/ $/, ""); k = split($0, f, ";"); s[f[k]] += n }
	     END { for (x in s) print x, s[x] }' "$1" | sort
}
# compare WANT GOT: the top 5 functions of WANT also GOT's top 5, each share
# within 2 points, totals within 5%; prints what it compared
compare() {
	awk 'NR == FNR { w[$1] = $2; wt += $2; next } { g[$1] = $2; gt += $2 }
	     END {
		n = 0; for (f in w) top[++n] = f
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (w[top[j]] > w[top[i]]) { t = top[i]; top[i] = top[j]; top[j] = t }
		m = 0; for (f in g) gtop[++m] = f
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
			if (g[gtop[j]] > g[gtop[i]]) { t = gtop[i]; gtop[i] = gtop[j]; gtop[j] = t }
		bad = (n < 5 || m < 5 || wt <= 0 || gt <= 0)
		d = gt - wt; if (d < 0) d = -d; if (!bad && d > 0.05 * wt) bad = 1
		for (i = 1; i <= 5 && i <= n; i++) {
			f = top[i]; in5 = 0
			for (j = 1; j <= 5 && j <= m; j++) if (gtop[j] == f) in5 = 1
			ws = 100 * w[f] / wt; gs = gt > 0 ? 100 * g[f] / gt : 0
			dd = ws - gs; if (dd < 0) dd = -dd
			if (!in5 || dd > 2) bad = 1
			printf "%s %.2f%%/%.2f%% ", f, ws, gs
		}
		printf "totals %d/%d", wt, gt
		exit bad }' "$1" "$2"
}

# --- the oracle: the runtime's own heap profile at three marked cycles ---
"$GSREC" -q -o "$T/sites.trace" -- "$W/heapprof" -mode sites -dir "$T" -marks 3 \
	>"$T/sites.out" 2>"$T/sites.err"
rc=$?
"$GSREPORT" import "$T/sites.trace" -o "$T/sites.db" >/dev/null 2>&1
check "the workload ran to its end with its data intact under gsrec (rc $rc, $(tail -1 "$T/sites.out"))" \
	eval '[ $rc = 0 ] && grep -qx ok "$T/sites.out" && [ "$(grep -c "^mark" "$T/sites.out")" = 3 ]'
for k in 1 2 3; do
	n=$(awk -v k=$k '$1 == "mark" && $2 == k { print $4 }' "$T/sites.out")
	pprof_flat "$T/heap.$k.pb.gz" >"$T/want.$k"
	"$GSREPORT" folded "$T/sites.db" --weight heap --cycle "$n" >"$T/got.$k" 2>"$T/got.$k.err"
	folded_flat "$T/got.$k" >"$T/gotf.$k"
	why=$(compare "$T/want.$k" "$T/gotf.$k")
	r=$?
	check "mark $k (GC cycle $n): --weight heap names pprof's top 5 functions with their shares within 2 points and the total within 5%: $why" \
		[ $r = 0 ]
done
# every function pprof shows, with the very bytes (the same sampled counts,
# unsampled the same way)
check "at mark 1 every function's bytes equal pprof's ($(diff "$T/want.1" "$T/gotf.1" | grep -c '^[<>]') lines differ)" \
	cmp -s "$T/want.1" "$T/gotf.1"
check "the layout's checks verified the bucket list and the profile cycle" \
	eval '"$GSREPORT" info "$T/sites.db" >"$T/info" 2>&1 &&
	      [ "$(grep -A1 -E "^  addr\.(mbuckets|mProfCycle) " "$T/info" | grep -c "verified:")" = 2 ]'

# --- damage: a snapshot is known only when its chain is whole ---
# state DB SEQ: every bucket's counts in snapshot SEQ, as SCHEMA.md says
state() {
	sqlite3 "$1" "SELECT c.bucket_id, c.allocs, c.frees FROM heap_count c
		WHERE c.seq BETWEEN (SELECT max(seq) FROM heap_snapshot WHERE full AND seq <= $2) AND $2
		AND NOT EXISTS (SELECT 1 FROM heap_count d WHERE d.bucket_id = c.bucket_id
		                AND d.seq > c.seq AND d.seq <= $2) ORDER BY c.bucket_id"
}
size=$(stat -c %s "$T/sites.trace")
bad=0 known=0 unknown=0
for k in 1 2 3 4 5 6 7 8; do
	cp "$T/sites.trace" "$T/dmg.trace"
	pos=$((32 + (size - 32) * k / 9))
	printf '\xff' | dd of="$T/dmg.trace" bs=1 seek=$pos conv=notrunc 2>/dev/null
	"$GSREPORT" import "$T/dmg.trace" -o "$T/dmg.db" >/dev/null 2>&1
	for q in $(sqlite3 "$T/dmg.db" "SELECT seq FROM heap_snapshot WHERE known" 2>/dev/null); do
		known=$((known + 1))
		[ "$(state "$T/dmg.db" $q)" = "$(state "$T/sites.db" $q)" ] || bad=$((bad + 1))
	done
	unknown=$((unknown + $(sqlite3 "$T/dmg.db" "SELECT count(*) FROM heap_snapshot WHERE NOT known" 2>/dev/null || echo 0)))
	rm -f "$T/dmg.db"
done
check "a byte flipped at 8 places: every snapshot still called known has the intact trace's counts ($known known, $bad wrong, $unknown unknown)" \
	eval '[ $bad = 0 ] && [ $known -gt 0 ]'

# --- a leak beside churn: the holder, not the first toucher ---
"$GSREC" -q -o "$T/leak.trace" -- "$W/heapprof" -mode leak -churn 4s -for 8s -leak 8 \
	>"$T/leak.out" 2>"$T/leak.err"
rc=$?
"$GSREPORT" import "$T/leak.trace" -o "$T/leak.db" >/dev/null 2>&1
from=$(awk '$1 == "leak" { print $4 }' "$T/leak.out")
leaked=$(awk '$1 == "end" { print $5 }' "$T/leak.out")
check "the leaking workload ran to its end ($leaked MiB leaked from GC cycle $from, rc $rc)" \
	eval '[ $rc = 0 ] && grep -qx ok "$T/leak.out" && [ "${leaked:-0}" -ge 30 ]'
# the window: from the leak's first cycle to the end
t0=$(sqlite3 "$T/leak.db" "SELECT (t_ns - (SELECT min(mono_ns) FROM clock)) / 1e9 FROM gc_cycle WHERE numgc = $from")
"$GSREPORT" folded "$T/leak.db" --weight heap-growth --from "$t0" >"$T/hg" 2>"$T/hg.err"
share=$(awk '{ n = $NF; t += n; if ($0 ~ /main\.leak /) l += n } END { if (t) printf "%.1f", 100 * l / t; else print 0 }' "$T/hg")
check "heap-growth over the leak window gives main.leak ${share}% of the growth (at least 90%)" \
	awk -v s="$share" 'BEGIN { exit !(s >= 90) }'
grown=$(awk '/main\.leak / { print $NF }' "$T/hg")
check "and its bytes are what the workload leaked in the window, within 25% ($grown B; $leaked MiB in all)" \
	awk -v g="${grown:-0}" -v l="${leaked:-0}" 'BEGIN { exit !(g >= 0.5 * l * 1048576 && g <= 1.25 * l * 1048576) }'
check "the churning function's lines that shrank are reported, not dropped" \
	eval 'grep -q "stacks shrank" "$T/hg.err"'
# gsreport heap: the leak flagged, nothing else, at about its rate
"$GSREPORT" heap "$T/leak.db" >"$T/heap.txt" 2>&1
flagged=$(awk '/^  LEAK [^ ]*: / { sub(/:$/, "", $2); print $2 }' "$T/heap.txt" | tr '\n' ' ')
rate=$(awk '/^  LEAK main\.leak:/ { for (i = 1; i <= NF; i++) if ($i ~ /^\(/) { v = substr($i, 2); u = $(i + 1) } }
	    END { if (u ~ /^MiB/) print v; else print 0 }' "$T/heap.txt")
check "gsreport heap flags main.leak and nothing else (flagged: ${flagged:-none}), at ${rate} MiB/min where 480 were leaked" \
	eval '[ "$flagged" = "main.leak " ] && awk -v r="$rate" "BEGIN { exit !(r >= 360 && r <= 600) }"'
"$GSREPORT" heap "$T/sites.db" --format json >"$T/heap.json" 2>/dev/null
check "a heap held steady has no likely leak, and --format json is valid JSON with the five holders" \
	eval 'grep -q "^Likely leaks: none" <("$GSREPORT" heap "$T/sites.db" 2>&1) &&
	      [ "$(sqlite3 :memory: "SELECT json_valid(readfile('"'"'$T/heap.json'"'"'))")" = 1 ] &&
	      [ "$(grep -o "\"function\": \"main\.alloc[A-E]\"" "$T/heap.json" | wc -l)" = 5 ]'

check "the summary names it as the likely heap leak, and marks its line among the top Pss stacks" \
	eval '"$GSREPORT" summary "$T/leak.db" >"$T/sum" 2>&1 &&
	      grep -A1 "likely heap leaks (" "$T/sum" | grep -q "^    main\.leak: in-use heap rising" &&
	      grep -q "main\.leak  <- likely leak" "$T/sum" && ! grep -q "main\.churn.*likely leak" "$T/sum"'

# Pss: the heap class by holder (pss-growth), against the first-fault view
# (pss-faults-growth), which gives new heap pages to whoever touched them
heapshare() {	# FOLDED: main.leak's share of the heap class's lines, in %
	awk '/^heap;/ { n = $NF; t += n; if ($0 ~ /main\.leak( |$)/) l += n }
	     END { if (t) printf "%.1f", 100 * l / t; else print 0 }' "$1"
}
"$GSREPORT" folded "$T/leak.db" --weight pss-growth --from "$t0" >"$T/pg" 2>/dev/null
rcp=$?
"$GSREPORT" folded "$T/leak.db" --weight pss-faults-growth --from "$t0" >"$T/pf" 2>/dev/null
rcf=$?
pshare=$(heapshare "$T/pg")
fshare=$(heapshare "$T/pf")
"$GSREPORT" folded "$T/leak.db" --weight pss >"$T/p" 2>/dev/null
psum=$(awk '{ s += $NF } END { print s + 0 }' "$T/p")
kpss=$(sqlite3 "$T/leak.db" "SELECT pss_kb * 1024 FROM smaps_read WHERE kind != 'rollup' ORDER BY id DESC LIMIT 1")
stk=$(awk '/^heap;\[goroutine-stacks\] / { print $NF }' "$T/p")
cst=$(sqlite3 "$T/leak.db" "SELECT stack_bytes FROM census WHERE t_ns <= (SELECT t_ns FROM smaps_read
	WHERE kind != 'rollup' ORDER BY id DESC LIMIT 1) ORDER BY t_ns DESC LIMIT 1")
check "pss by holder still sums to the kernel's Pss ($psum of $kpss bytes), the goroutine stacks in the heap class given as the census counts them (${stk:-none} of $cst)" \
	eval '[ "$psum" = "$kpss" ] && [ "${stk:-x}" = "$cst" ]'
check "pss-growth gives main.leak ${pshare}% of the heap class's growth (at least 80%)" \
	eval '[ $rcp = 0 ] && awk -v s="$pshare" "BEGIN { exit !(s >= 80) }"'
check "the first-fault view (pss-faults-growth) gives it ${fshare}%, not the holder's share" \
	eval '[ $rcf = 0 ] && [ -s "$T/pf" ] && awk -v a="$fshare" "BEGIN { exit !(a < 50) }"'

# --- a program that keeps no heap profile: said, and --heap-rate ---
"$GSREC" -q -o "$T/np.trace" -- "$W/noprof" -for 1s >"$T/np.out" 2>"$T/np.err"
check "a program without profiling: gsrec says so and records the rest ($(grep -c 'MemProfileRate is 0' "$T/np.err") warning)" \
	eval 'grep -q "ok" "$T/np.out" && [ "$(grep -c "heap profile: runtime.MemProfileRate is 0" "$T/np.err")" = 1 ] &&
	      "$GSREPORT" import "$T/np.trace" -o "$T/np.db" >/dev/null 2>&1 &&
	      [ "$(sqlite3 "$T/np.db" "SELECT count(*) FROM message WHERE text LIKE '"'"'%MemProfileRate is 0%'"'"'")" = 1 ] &&
	      [ "$(sqlite3 "$T/np.db" "SELECT count(*) FROM smaps_read")" -gt 0 ]'
# heap_grow FOLDED: main.grow's bytes
heap_grow() { awk '/main\.grow / { s += $NF } END { print s + 0 }' "$1"; }
"$GSREC" -q -o "$T/nr.trace" --heap-rate 65536 -- "$W/noprof" -for 1s >"$T/nr.out" 2>"$T/nr.err"
rc=$?
"$GSREPORT" import "$T/nr.trace" -o "$T/nr.db" >/dev/null 2>&1
"$GSREPORT" folded "$T/nr.db" --weight heap >"$T/nr.f" 2>/dev/null
kept=$(awk '$1 == "rate" && $3 == "end" { print $6 }' "$T/nr.out")
got=$(heap_grow "$T/nr.f")
check "launched with --heap-rate 65536: main starts with that rate, the program's own check passes, and the heap profile gives main.grow its kept bytes within 10% ($got of $kept; $(grep 'rate at main' "$T/nr.out"))" \
	eval '[ $rc = 0 ] && grep -qx "rate at main 65536" "$T/nr.out" && grep -qx ok "$T/nr.out" &&
	      within "$got" "${kept:-0}" 10 && grep -q "set runtime.MemProfileRate in pid .* from 0 to 65536" "$T/nr.err"'
# attached: the rate is written at once; growth after it is sampled
rm -f "$T/go"
"$W/noprof" -for 1s -wait "$T/go" -linger 1s >"$T/na.out" 2>&1 &
wl=$!
execd $wl "$W/noprof"
"$GSREC" -q -o "$T/na.trace" --heap-rate 65536 -p $wl 2>"$T/na.err" &
gr=$!
for _ in $(seq 100); do grep -q "set runtime.MemProfileRate" "$T/na.err" && break; sleep 0.05; done
touch "$T/go"
wait $wl
wait $gr
"$GSREPORT" import "$T/na.trace" -o "$T/na.db" >/dev/null 2>&1
"$GSREPORT" folded "$T/na.db" --weight heap >"$T/na.f" 2>/dev/null
kept=$(awk '$1 == "rate" && $3 == "end" { print $6 }' "$T/na.out")
got=$(heap_grow "$T/na.f")
check "attached with --heap-rate 65536: the rate was written, the program's own check passes, and main.grow's kept bytes are in the profile within 10% ($got of $kept)" \
	eval 'grep -q "rate at end 65536" "$T/na.out" && grep -qx ok "$T/na.out" && within "$got" "${kept:-0}" 10'
check "--heap-rate is refused, before any write, for a program that is not Go and with --no-bpf on a launched command (exit 125 both: gsrec failed)" \
	eval '"$GSREC" -q -o "$T/x.trace" --heap-rate 4096 -- /bin/true 2>"$T/x.err"; [ $? = 125 ] &&
	      grep -q "heap-rate.*not a Go program" "$T/x.err" &&
	      "$GSREC" -q -o "$T/x.trace" --no-bpf --heap-rate 4096 -- /bin/true 2>"$T/x.err"; [ $? = 125 ] &&
	      grep -q "needs the eBPF probes" "$T/x.err" && [ ! -e "$T/x.trace" ]'

# --- stress: 20,000 allocation stacks, every allocation sampled ---
mkdir -p "$T/st"
"$GSREC" -q -o "$T/st.trace" -- "$W/heapprof" -mode stacks -stacks 20000 -rate 1 -dir "$T/st" \
	-marks 3 >"$T/st.out" 2>"$T/st.err"
rc=$?
"$GSREPORT" import "$T/st.trace" -o "$T/st.db" >/dev/null 2>&1
"$GSREPORT" folded "$T/st.db" --weight heap >"$T/st.f" 2>/dev/null
read -r nst got < <(awk '/main\.pick /{ n++; s += $NF } END { print n + 0, s + 0 }' "$T/st.f")
want=$("$GO" tool pprof -top -unit=B -nodecount=100000 -sample_index=inuse_space "$T/st/heap.3.pb.gz" 2>/dev/null |
	awk '$NF == "main.pick" { sub(/B$/, "", $1); print $1 }')
check "20,000 allocation stacks: $nst of them in the last snapshot, whose main.pick bytes equal pprof's at the last mark ($got and ${want:-none}; rc $rc)" \
	eval '[ $rc = 0 ] && grep -qx ok "$T/st.out" && [ "$nst" -ge 20000 ] && [ "$got" = "${want:-x}" ]'
# within the budget: 1% of a core over the recording, plus the one
# snapshot that may overrun it (its cost delays the next)
read -r spent most secs n < <(sqlite3 -separator ' ' "$T/st.db" "SELECT sum(cpu_ns), max(cpu_ns),
	((SELECT max(t_ns) FROM statm) - (SELECT min(mono_ns) FROM clock)) / 1e9, count(*) FROM heap_snapshot")
check "and reading them kept within 1% of a core: $n snapshots, $((spent / 1000)) us in all over $secs s, at most $((most / 1000)) us" \
	awk -v s="$spent" -v m="$most" -v d="$secs" 'BEGIN { exit !(s > 0 && s <= 0.01 * d * 1e9 + 2 * m) }'
