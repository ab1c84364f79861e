# kill -9 of gsrec mid-recording loses at most one flush interval:
# gsreport still reads every chunk written before the kill. The kill's own
# time (the wall clock, read as it is sent) is the oracle for what is lost.
. "$(dirname "$0")/lib.bash"
plan 5

"$W/heapgrow" -mb 64 -steps 64 -step-delay 100ms -hold 10s >/dev/null &
wl=$!
cleanup_hook() { kill $wl 2>/dev/null; }
execd $wl "$W/heapgrow" || notok "heapgrow did not start"
"$GSREC" -q --flush-ms 200 -o "$T/k.trace" -p $wl &
rec=$!
for _ in $(seq 200); do [ -e "$T/k.trace" ] && break; sleep 0.05; done	# recording has begun
sleep 3		# what it records before the kill
killed_ns=$(date +%s%N)
kill -9 $rec
wait $rec 2>/dev/null

"$GSREPORT" summary "$T/k.trace" >"$T/sum" 2>"$T/err"
rc=$?
check "summary of a killed recording exits 0 (got $rc)" [ $rc -eq 0 ]
check "it warns that the trace has no end record" grep -q "no end record" "$T/err"
check "the summary says the trace was cut short" grep -q "cut short" "$T/sum"
"$GSREPORT" timeline "$T/k.trace" >"$T/k.csv"
# With 200 ms flushes, the last row is at most one flush interval (and a
# 10 ms tick) before the kill, measured on the wall clock the trace keeps.
read -r last_ns first_s last_s rows < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	NR == 2 { f = $c["t_s"] } { w = $c["wall_ns"]; t = $c["t_s"]; n++ } END { print w, f, t, n }' "$T/k.csv")
lost=$(sqlite3 "$T/k.trace.db" "SELECT coalesce(sum(count), 0) FROM lost WHERE stream = 'statm'")
check "the last row is $(( (killed_ns - last_ns) / 1000000 )) ms before the kill (at most 210 ms: one 200 ms flush and a tick)" \
	eval '[ "$last_ns" -le "$killed_ns" ] && [ $((killed_ns - last_ns)) -le 210000000 ]'
# every 10 ms tick up to the last row is a row or a counted loss
check "every tick is in the timeline or counted lost ($rows rows, $lost lost, over $first_s to $last_s s)" \
	awk -v r="$rows" -v l="$lost" -v a="$first_s" -v b="$last_s" 'BEGIN { exit !(r + l >= 0.95 * (b - a) * 100) }'
