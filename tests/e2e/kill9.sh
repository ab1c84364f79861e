# kill -9 of gsrec mid-recording loses at most about one flush interval:
# gsreport still reads every chunk written before the kill.
. "$(dirname "$0")/lib.bash"

"$W/heapgrow" -mb 64 -steps 64 -step-delay 100ms -hold 10s >/dev/null &
wl=$!
cleanup_hook() { kill $wl 2>/dev/null; }
execd $wl "$W/heapgrow" || notok "heapgrow did not start"
sleep 0.2
"$GSREC" -q --flush-ms 200 -o "$T/k.trace" -p $wl &
rec=$!
sleep 3
kill -9 $rec
wait $rec 2>/dev/null
killed_at_s=3

"$GSREPORT" summary "$T/k.trace" >"$T/sum" 2>"$T/err"
rc=$?
check "summary of a killed recording exits 0 (got $rc)" [ $rc -eq 0 ]
check "it warns that the trace has no end record" grep -q "no end record" "$T/err"
check "the summary says the trace was cut short" grep -q "cut short" "$T/sum"
last=$("$GSREPORT" timeline "$T/k.trace" | tail -1 | cut -d, -f1)
# With 200 ms flushes the last row is at most ~0.2 s (plus start-up) before the kill.
check "timeline reaches ${last}s of the ${killed_at_s}s recorded (at most 0.6 s lost)" \
	awk -v l="$last" -v k="$killed_at_s" 'BEGIN { exit !(l >= k - 0.6 && l <= k + 0.2) }'
rows=$("$GSREPORT" timeline "$T/k.trace" | wc -l)
check "about 100 statm rows a second survive ($rows rows)" [ "$rows" -ge 230 ]
