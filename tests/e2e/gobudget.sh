# The goroutine event budget (gsrec --go-rate): a server that starts a
# goroutine per request, under wrk for longer than one 10 s budget period.
# Past its share of a period the creation, exit and stack-copy probes come
# off and the trace marks the pause; they come back for the next period.
# The server must go on answering correctly, no event may fall inside a
# pause, each period records at most its share, and the goroutine counts
# gsreport derives are either right or left empty, never wrong.
. "$(dirname "$0")/lib.bash"
plan 13

need_root "goroutine event budget" || exit 0
need_bpf "goroutine event budget" || exit 0
need_prog wrk 1 "goroutine event budget" || exit 0

RATE=500			# events a second
SHARE=$((RATE * 10))		# a period's share
port=18093
"$W/gohttp" -addr 127.0.0.1:$port >"$T/http.log" 2>&1 &
spid=$!
sp=
cleanup_hook() { kill $spid $sp 2>/dev/null; }
for _ in $(seq 50); do curl -sf 127.0.0.1:$port/ >/dev/null && break; sleep 0.1; done
want=$(curl -s 127.0.0.1:$port/)	# the checksum each request's goroutine computes
"$GSREC" --go-rate $RATE -d 13 -o "$T/b.trace" -p $spid 2>"$T/b.err" &
rec=$!
sleep 0.5
wrk -t1 -c32 -d12s http://127.0.0.1:$port/ >"$T/wrk.out" 2>&1
wait $rec
rc=$?
got=$(curl -s 127.0.0.1:$port/)
requests=$(awk '/requests in/ {print $1}' "$T/wrk.out")
check "the server answered $requests requests under the paused and resumed probes, and still answers as before recording ($got, before: $want; wrk: $(grep -cE 'Socket errors|Non-2xx' "$T/wrk.out") error lines; gsrec exit $rc)" \
	sh -c "[ $rc -eq 0 ] && [ -n '$want' ] && [ '$got' = '$want' ] && [ ${requests:-0} -gt 20000 ] && ! grep -qE 'Socket errors|Non-2xx' '$T/wrk.out'"

"$GSREPORT" import -o "$T/b.db" "$T/b.trace" >/dev/null 2>&1
q() { sqlite3 "$T/b.db" "$1"; }
npause=$(q "SELECT count(*) FROM go_pause")
# each pause but the last (which the end of the recording closes) lasts to
# the end of its period, which began at the recording's start or the last
# pause's end: 10 s, stretched to cover the hits refused meanwhile at the
# rate (the share and the refused hits at RATE a second). The recording's
# start is its first clock reading, taken before the probes go on (the
# first statm sample comes after them, and on a busy machine 0.1 s after)
gaps=$(q "SELECT group_concat(printf('%.2f/%.2f', (end_ns - coalesce(prev, (SELECT min(mono_ns) FROM clock))) / 1e9,
		max(10.0, ($SHARE + refused) * 1.0 / $RATE)), ' ')
	  FROM (SELECT t_ns, end_ns, refused, lag(end_ns) OVER (ORDER BY t_ns) AS prev FROM go_pause)
	  WHERE t_ns < (SELECT max(t_ns) FROM go_pause)")
check "the probes paused in each period and came back when it ended ($npause pauses; period/due: $gaps s)" \
	sh -c "[ $npause -ge 2 ] && echo '$gaps' | tr '/' ' ' | awk '{ for (i = 1; i < NF; i += 2) if (\$i < \$(i + 1) - 0.1 || \$i > \$(i + 1) + 1) exit 1 }'"
# The refused hits that stretch a period are gsrec's own count: bound them
# from outside. Each of wrk's requests makes one goroutine, which exits:
# 2 x requests creations and exits in all. The probes come off within
# milliseconds of the share running out, so the hits refused before they
# are off must be a small part of that (under 1%), and at least one.
refused=$(q "SELECT coalesce(sum(refused), 0) FROM go_pause")
check "the hits refused before the probes came off ($refused) are under 1% of the $((2 * ${requests:-0})) creations and exits wrk's requests made" \
	eval '[ "$refused" -ge 1 ] && [ "$refused" -lt $((2 * ${requests:-0} / 100)) ]'

# events of every kind, in time order, against the pauses
ev="SELECT t_ns FROM go_create UNION ALL SELECT t_ns FROM go_exit UNION ALL SELECT t_ns FROM go_stack"
inside=$(q "SELECT count(*) FROM ($ev) e JOIN go_pause p ON e.t_ns > p.t_ns + 1000000 AND e.t_ns < p.end_ns")
check "no creation, exit or stack copy was recorded inside a pause ($inside were)" [ "$inside" -eq 0 ]
# the periods: from the start, or a pause's end, to the next pause's start
worst=$(q "WITH b(a, z) AS (SELECT coalesce((SELECT max(end_ns) FROM go_pause q WHERE q.end_ns <= p.t_ns), 0), p.t_ns
	   FROM go_pause p) SELECT max((SELECT count(*) FROM ($ev) e WHERE e.t_ns >= b.a AND e.t_ns <= b.z)) FROM b")
check "each period recorded at most its share of $SHARE events, and used it (most: $worst)" \
	sh -c "[ ${worst:-0} -le $((SHARE + 64)) ] && [ ${worst:-0} -ge $((SHARE * 9 / 10)) ]"
created=$(q "SELECT count(*) FROM go_create")
check "the trace holds a sample of the server's creations ($created recorded, $requests requests each made one)" \
	sh -c "[ $created -gt 0 ] && [ $((created * 10)) -lt ${requests:-0} ]"
check "gsrec said the events are a sample" grep -q "probes were off" "$T/b.err"
"$GSREPORT" summary "$T/b.trace" >"$T/b.sum" 2>&1
check "the summary says the lifecycle is a sample" grep -q "a sample: the probes were paused" "$T/b.sum"
"$GSREPORT" folded --weight goroutine-creations "$T/b.trace" >"$T/b.folded" 2>"$T/b.ferr"
check "folded goroutine-creations says it is a sample, and the handler's go statement is in it" \
	sh -c "grep -q 'paused for' '$T/b.ferr' && grep -qE 'HandlerFunc.ServeHTTP;main.main.func1 [0-9]+$' '$T/b.folded'"

# The probes come off and go back on as uprobe_multi links where the kernel
# has them (above) and as perf-event uprobes where it does not, forced here
# with GSMAPPER_WITHHOLD=uprobe_multi: recorded, paused, and recorded again.
kinds() { sqlite3 "$1" "SELECT text FROM message WHERE text LIKE 'goroutine and GC probes:%'"; }
how=$(kinds "$T/b.db")
check "the budget above took off and put back uprobe_multi links ($how)" \
	sh -c "echo '$how' | grep -q 'uprobe_multi links'"
GSMAPPER_WITHHOLD=uprobe_multi "$GSREC" -q --go-rate $RATE -d 13 -o "$T/p.trace" -p $spid 2>"$T/p.err" &
rec=$!
sleep 0.5
wrk -t1 -c32 -d12s http://127.0.0.1:$port/ >"$T/wrk2.out" 2>&1
wait $rec
rc=$?
"$GSREPORT" import -o "$T/p.db" "$T/p.trace" >/dev/null 2>&1
q() { sqlite3 "$T/p.db" "$1"; }
how=$(kinds "$T/p.db")
e1=$(q "SELECT min(end_ns) FROM go_pause")
after=$(q "SELECT count(*) FROM go_create WHERE t_ns > ${e1:-0}")
check "perf-event uprobes: $how; $(q "SELECT count(*) FROM go_pause") pauses, $after creations recorded after the first" \
	sh -c "[ $rc -eq 0 ] && echo '$how' | grep -q 'perf-event uprobes' && [ ${after:-0} -gt 100 ] && [ \$(curl -s 127.0.0.1:$port/) = '$want' ]"

# Where events were missed the live count is not exact: the timeline then
# carries the last census's count with its age, never passes it off as
# exact. At the workload's marks an exact count (age 0) is what
# runtime.NumGoroutine() said (within 2), and a carried one is at most two
# census intervals (1 s each) old. The spawn storm runs past the share of a
# --go-rate 1000 period.
"$GSREC" -q --go-rate 1000 -o "$T/m.trace" -- "$W/goroutines" -storm 20000 -out "$T/m.out" 2>"$T/m.err"
rc=$?
"$GSREPORT" timeline "$T/m.trace" >"$T/m.tl"
marks "$T/m.tl" "$T/m.out" >"$T/m.marks"
nbad=$(awk '$1 == "bad" || $1 == "empty" || ($1 == "carried" && $4 > 2000)' "$T/m.marks" | wc -l)
nok=$(grep -c '^ok' "$T/m.marks")
npause=$(sqlite3 "$T/m.trace.db" "SELECT count(*) FROM go_pause" 2>/dev/null || echo 0)
check "with the probes paused ($npause pauses), the timeline's goroutines at the marks are exact and right, or a census's with its age ($(tr '\n' ' ' <"$T/m.marks"))" \
	sh -c "[ $rc -eq 0 ] && [ ${npause:-0} -ge 1 ] && [ $nbad -eq 0 ] && [ $nok -ge 1 ]"

# A target already making goroutines fast as gsrec attaches can take a
# small share before the probes are all on: the pause must still begin in
# the first period, not leave the probes trapping until the next one.
"$W/goroutines" -stress 100000000 -stress-depth 0 >/dev/null 2>&1 &
sp=$!
sleep 0.3
"$GSREC" -q --go-rate 1 -d 2 -o "$T/s.trace" -p $sp 2>"$T/s.err"
rc=$?
kill $sp 2>/dev/null
"$GSREPORT" import -o "$T/s.db" "$T/s.trace" >/dev/null 2>&1
first=$(sqlite3 "$T/s.db" "SELECT CAST((min(t_ns) - (SELECT min(t_ns) FROM statm)) / 1e6 AS INT) FROM go_pause")
check "with a share of 10 taken as the probes go on, the pause began at once (${first:-never} ms into the recording)" \
	sh -c "[ $rc -eq 0 ] && [ -n '$first' ] && [ '$first' -lt 1000 ]"
