# gsrec keeps to its CPU budget (-b, 2% of a core by default) while a Go
# server under load feeds it eBPF events: the events and the Go runtime's
# figures are charged to the budget (up to half of it), and smaps reads
# make room for them.
# The oracle is the kernel's count of gsrec's CPU time (schedstat, every
# thread), over 8 s of steady load.
. "$(dirname "$0")/lib.bash"
plan 5

need_root "CPU budget under eBPF events" || exit 0
need_bpf "CPU budget under eBPF events" || exit 0
need_prog wrk 1 "CPU budget" || exit 0

port=18097
"$W/gohttp" -addr 127.0.0.1:$port >"$T/http.log" 2>&1 &
spid=$!
cleanup_hook() { kill $spid 2>/dev/null; }
for _ in $(seq 50); do curl -sf 127.0.0.1:$port/ >/dev/null && break; sleep 0.1; done
# record NAME SKIP SECS [GSREC-OPTION...]: gsrec on the server under wrk;
# sets pct (gsrec's CPU, % of a core, by schedstat over SECS from SKIP s
# into the load), smaps (smaps reads in that window, in the trace's clock),
# rc (gsrec's exit status), and q NAME's database for queries.
record() {
	local name=$1 skip=$2 secs=$3 rec load c0 c1 t0 t1 from
	shift 3
	"$GSREC" -q "$@" -d $((skip + secs + 3)) -o "$T/$name.trace" -p $spid 2>"$T/$name.err" &
	rec=$!
	sleep 1
	wrk -t1 -c32 -d$((skip + secs + 1))s http://127.0.0.1:$port/ >"$T/$name.wrk" 2>&1 &
	load=$!
	cpu() { cat /proc/$rec/task/*/schedstat | awk '{ s += $1 } END { print s }'; }
	sleep "$skip"
	c0=$(cpu) t0=$(date +%s%N)
	sleep "$secs"
	c1=$(cpu) t1=$(date +%s%N)
	wait $load
	wait $rec
	rc=$?
	pct=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.2f", 100 * c / t }')
	"$GSREPORT" import -o "$T/$name.db" "$T/$name.trace" >/dev/null 2>&1
	db="$T/$name.db"
	from=$((skip + 1))
	smaps=$(q "SELECT count(*) FROM smaps_read WHERE t_ns - (SELECT min(t_ns) FROM statm)
		   BETWEEN ${from}e9 AND $((from + secs))e9")
}
q() { sqlite3 "$db" "$1"; }

# At defaults: 3 s past the start, the first budget period's burst of
# goroutine events is over.
record c 3 8
events=$(q "SELECT (SELECT count(*) FROM go_create) + (SELECT count(*) FROM fault) + (SELECT count(*) FROM gc_event)")
check "the server fed gsrec eBPF events (goroutine creations, faults, GC: $events; gsrec exit $rc)" \
	sh -c "[ $rc -eq 0 ] && [ ${events:-0} -gt 1000 ]"
check "gsrec kept within 15% of its budget of 2% of a core under them (the kernel counts ${pct}%)" \
	awk -v p="$pct" 'BEGIN { exit !(p > 0 && p <= 2.3) }'
check "and smaps reads went on meanwhile ($smaps in those 8 s)" [ "${smaps:-0}" -ge 8 ]

# Every goroutine event (--go-rate 0): they cost more than half the budget,
# and past that half they are not charged, so smaps reads still go on.
record a 2 6 --go-rate 0
creations=$(q "SELECT count(*) FROM go_create")
check "with every goroutine event gsrec spends more than its budget on them (the kernel counts ${pct}% of a core; $creations creations; gsrec exit $rc)" \
	awk -v p="$pct" -v rc=$rc 'BEGIN { exit !(rc == 0 && p > 2) }'
check "and smaps reads still go on, on the half of the budget the events do not take ($smaps in 6 s)" \
	[ "${smaps:-0}" -ge 3 ]
