# Pss-weighted folded stacks: resident memory by the code that made it
# resident. Oracles: the workload's own smaps_rollup Pss (the lines must sum
# to it), the known 2:1 ratio of what two named functions retain, and memory
# given back to the OS leaving the attribution.
. "$(dirname "$0")/lib.bash"
plan 20

if ! "$GSREC" -q -d 0.2 -o "$T/probe.trace" -p $$ 2>"$T/probe.err" ||
   grep -q "not recorded" "$T/probe.err"; then
	if [ "${CI:-}" = true ]; then notok "eBPF unavailable: $(cat "$T/probe.err")"; else ok "eBPF # SKIP $(cat "$T/probe.err")"; fi
	exit 0
fi

# -b 5: this test is about attribution, so the last per-mapping read must be
# fresh when the workload reads its own Pss (pacing is tested elsewhere).
"$GSREC" -q -b 5 -o "$T/r.trace" -- "$W/retain" -mb 100 -hold 4s >"$T/r.out"
rc=$?
# The workload reads its own Pss half way through -hold and again as it
# exits; gsrec's last read falls between the two.
read -r want_kb end_kb < <(awk '/^pss_kb/ {a = $2} /^end pss_kb/ {b = $3} END {print a + 0, b + 0}' "$T/r.out")
"$GSREPORT" folded "$T/r.trace" >"$T/r.folded"
check "gsrec exit $rc, folded --weight pss written" [ $rc -eq 0 -a -s "$T/r.folded" ]
read -r sum big small churn back heap < <(awk '{t += $NF} /;main\.retainBig/ {b += $NF}
	/;main\.retainSmall/ {s += $NF} /;main\.churn/ {c += $NF} /;main\.giveBack/ {g += $NF}
	/^heap;/ {h += $NF} END {print t, b, s, c, g, h}' "$T/r.folded")
lo=$((want_kb < end_kb ? want_kb : end_kb)) hi=$((want_kb > end_kb ? want_kb : end_kb))
if within "$sum" $((lo * 1024)) 2 || within "$sum" $((hi * 1024)) 2 ||
   [ "$sum" -ge $((lo * 1024)) -a "$sum" -le $((hi * 1024)) ]; then
	ok "the lines sum to $sum bytes: the Pss the workload read itself ($want_kb kB, then $end_kb kB) within 2%"
else
	notok "the lines sum to $sum bytes: the Pss the workload read itself ($want_kb kB, then $end_kb kB) within 2%"
	echo "# the last reads (s since the start, kind, Pss kB, mappings):"
	sqlite3 "$T/r.trace.db" "select printf('#   %.3f %s %d %d', (t_ns - (select min(mono_ns) from clock)) / 1e9,
		kind, pss_kb, mappings) from (select * from smaps_read order by id desc limit 6)"
fi
check "retainBig:retainSmall is 2:1 within 10% ($big : $small bytes)" \
	awk -v b="$big" -v s="$small" 'BEGIN { r = b / s; exit !(r > 1.8 && r < 2.2) }'
check "the two carry at least 80% of the heap class ($big + $small of $heap)" \
	awk -v b="$big" -v s="$small" -v h="$heap" 'BEGIN { exit !((b + s) >= 0.8 * h) }'
check "memory given back (100 MiB by giveBack) left the attribution ($back bytes remain)" \
	[ "${back:-0}" -lt $((10 << 20)) ]
n=$(sqlite3 "$T/r.trace.db" "select count(*) from release where kind = 'madvise'")
check "the runtime's madvise releases were recorded ($n)" [ "$n" -gt 0 ]

# The first frames: class, then mapping, then code; options drop them.
head -1 "$T/r.folded" | grep -qE '^(heap|runtime|binary|libs|thread_stacks|c_heap|file|anon_other);\[' &&
	ok "lines start with the memory class and the mapping" || notok "first frames: $(head -1 "$T/r.folded")"
"$GSREPORT" folded --no-class --no-mapping "$T/r.trace" | grep -q '^runtime.goexit;runtime.main;main.main;main.retainBig' &&
	ok "--no-class --no-mapping start at the code" || notok "--no-class --no-mapping"
"$GSREPORT" folded --unit kb "$T/r.trace" | awk '{t += $NF} END {exit !(t > 0)}' &&
	ok "--unit kb" || notok "--unit kb"

# peak and a moment in seconds are per-mapping reads too, and add up the same way
for at in peak 1; do
	s=$("$GSREPORT" folded --at $at "$T/r.trace" | awk '{t += $NF} END {print t}')
	id=$([ $at = peak ] && echo "ORDER BY pss_kb DESC, id LIMIT 1" ||
		echo "AND t_ns <= (SELECT min(mono_ns) FROM clock) + 1e9 ORDER BY id DESC LIMIT 1")
	want=$(sqlite3 "$T/r.trace.db" "select pss_kb * 1024 from smaps_read where kind != 'rollup' $id")
	check "--at $at: the lines sum to that read's Pss ($s, $want)" [ "$s" = "$want" ]
done

# faults and fault-bytes weights
f=$("$GSREPORT" folded --weight faults "$T/r.trace" | awk '{t += $NF} END {print t}')
n=$(sqlite3 "$T/r.trace.db" "select count(*) from fault")
check "--weight faults counts every fault recorded ($f, $n)" [ "$f" = "$n" -a "$n" -gt 1000 ]
b=$("$GSREPORT" folded --weight fault-bytes "$T/r.trace" | awk '{t += $NF} END {print t}')
check "--weight fault-bytes is faults x 4096 ($b)" [ "$b" = $((n * 4096)) ]
"$GSREPORT" folded --weight nope "$T/r.trace" >/dev/null 2>&1
check "an unknown weight is a usage error" [ $? -eq 2 ]

# The summary names the heaviest stacks by Pss and by CPU.
"$GSREPORT" summary "$T/r.trace" >"$T/sum"
awk '/^Top stacks by Pss/ {getline; print; exit}' "$T/sum" | grep -q "main.retainBig" &&
	ok "summary: the top Pss stack is retainBig's" || notok "summary top stacks: $(grep -A2 'Top stacks' "$T/sum")"

# Growth over a window, net of what was given back.
"$GSREPORT" folded --weight pss-growth --from 0 --to end "$T/r.trace" 2>/dev/null >"$T/growth"
read -r gb gs gg < <(awk '/;main\.retainBig/ {b += $NF} /;main\.retainSmall/ {s += $NF}
	/;main\.giveBack/ {g += $NF} END {print b + 0, s + 0, g + 0}' "$T/growth")
check "pss-growth: retainBig:retainSmall 2:1 within 10% ($gb : $gs), giveBack nets under 10 MiB ($gg)" \
	awk -v b="$gb" -v s="$gs" -v g="$gg" 'BEGIN { r = b / (s ? s : 1); exit !(r > 1.8 && r < 2.2 && g < 10485760) }'
"$GSREPORT" folded --weight pss-growth --from x "$T/r.trace" >/dev/null 2>&1
check "pss-growth: a bad --from is a usage error" [ $? -eq 2 ]

# The default window is the recording: attached to a process that holds
# memory already, growth is what Pss grew between the first and the last
# per-mapping read, not all it holds. Exactly: the lines shown, less what
# the lines that shrank gave back (said on stderr), are the last read's Pss
# less the first's.
"$W/heapgrow" -mb 96 -steps 6 -step-delay 400ms -hold 1s >/dev/null &
hp=$!
execd $hp "$W/heapgrow" || notok "heapgrow did not start"
for _ in $(seq 100); do	# until it holds some heap (16 MiB a step)
	[ "$(awk '{print $2}' /proc/$hp/statm 2>/dev/null || echo 0)" -gt 8192 ] && break
	sleep 0.05
done
"$GSREC" -q -b 5 -o "$T/att.trace" -p $hp
wait $hp
"$GSREPORT" folded --weight pss-growth "$T/att.trace" >"$T/att.growth" 2>"$T/att.err"
grown=$(awk '{t += $NF} END {print t + 0}' "$T/att.growth")
shrank=$(grep -o '^gsreport: [0-9]* bytes of Pss were given back' "$T/att.err" | awk '{print $2}')
read -r first last < <(sqlite3 -separator ' ' "$T/att.trace.db" "SELECT
	(SELECT pss_kb * 1024 FROM smaps_read WHERE kind != 'rollup' ORDER BY id LIMIT 1),
	(SELECT pss_kb * 1024 FROM smaps_read WHERE kind != 'rollup' ORDER BY id DESC LIMIT 1)")
check "pss-growth by default: $grown bytes grown less ${shrank:-0} given back is the recording's own Pss growth, $last - $first (it held $first at the first read)" \
	eval '[ "$first" -gt $((16 << 20)) ] && [ $((grown - ${shrank:-0})) -eq $((last - first)) ]'

# cgo: C memory leaked from a named Go function is attributed, in the
# c_heap class, to that function's call path. (The workload's C code keeps
# frame pointers; C built without them cuts the frame-pointer walk.)
"$GSREC" -q -b 5 -o "$T/cg.trace" -- "$W/cgoleak" -mb 64 -hold 2s >/dev/null
"$GSREPORT" folded "$T/cg.trace" >"$T/cg.folded"
read -r leak cheap < <(awk '/^c_heap;.*;main\.leakC;/ {l += $NF} /^c_heap;/ {c += $NF} END {print l + 0, c + 0}' "$T/cg.folded")
lost=$(sqlite3 "$T/cg.trace.db" "select coalesce(sum(count), 0) from lost where stream = 'faults'")
check "cgo: leakC's path holds $leak of the c_heap class's $cheap bytes (at least 80%, and 64 MiB within 10%; $lost faults lost)" \
	awk -v l="$leak" -v c="$cheap" 'BEGIN { exit !(c > 0 && l >= 0.8 * c && l > 0.9 * 64 * 1048576 && l < 1.1 * 64 * 1048576) }'

# --by-goroutine: retain runs on the main goroutine (goid 1).
"$GSREPORT" folded --by-goroutine "$T/r.trace" >"$T/byg"
read -r g1 all < <(awk '/;main\.retainBig/ {a += $NF; if ($0 ~ /;goroutine 1;/) g += $NF} END {print g + 0, a + 0}' "$T/byg")
check "--by-goroutine: $g1 of retainBig's $all bytes are goroutine 1's (at least 99%)" \
	awk -v g="$g1" -v a="$all" 'BEGIN { exit !(a > 0 && g >= 0.99 * a) }' 
