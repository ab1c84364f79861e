# The recording's checks of the runtime layout and probes (GO_CHECK, shown
# by `gsreport info`). The workloads keep their DWARF, so the layout gsrec
# uses is the release's own: every field and probe the recording reads
# must come out verified, none contradicted. Then a wrong layout: each
# field moved by 8 bytes (GSMAPPER_SHIFT) must be caught, contradicted by
# the target's own figures, not recorded as the truth.
. "$(dirname "$0")/lib.bash"
plan 10

need_root "the layout checks" || exit 0
need_bpf "the layout checks" || exit 0

# $1: the info output; $2...: fields or probes that must read "verified"
# (a probe line carries its verdict after the name; a field's on the next)
verified() {
	local info=$1 bad=
	shift
	for f in "$@"; do
		awk -v f="$f" '$1 == f { if ($2 == "verified:") ok = 1; getline; if ($1 == "verified:") ok = 1 }
			END { exit !ok }' "$info" || bad="$bad $f"
	done
	echo "${bad:-none}"
}

"$GSREC" -q --go-rate 0 -o "$T/g.trace" -- "$W/goroutines" -storm 2000 -alloc 1s -hold 0 \
	-churn-kb 500 -out "$T/g.out" 2>"$T/g.err"
"$GSREPORT" info "$T/g.trace" >"$T/g.info" 2>&1
exit_name=$(awk '$1 == "runtime.gdestroy" || $1 == "runtime.goexit0" { print $1 }' "$T/g.info")
fields="g.stack.lo g.stack.hi g.stackguard0 g.sched.sp g.sched.pc g.sched.bp g.atomicstatus
	g.goid g.gopc g.startpc addr.allgs addr.allglen addr.memstats.last_gc_unix
	gcController.heapLive gcController.heapMarked gcController.heapInUse
	gcController.heapReleased addr.gcController addr.mbuckets addr.MemProfileRate
	addr.mProfCycle"
probes="runtime.newproc1 ${exit_name:-runtime.gdestroy} runtime.copystack
	runtime.gcBgMarkStartWorkers runtime.gcMarkTermination"
# shellcheck disable=SC2086
miss=$(verified "$T/g.info" $fields)
check "every field the recording reads is verified by the target's own figures (not: $miss)" \
	[ "$miss" = none ]
# shellcheck disable=SC2086
miss=$(verified "$T/g.info" $probes)
check "every goroutine and GC probe is verified (not: $miss)" [ "$miss" = none ]
check "nothing is contradicted ($(grep -c contradicted "$T/g.info") lines)" \
	sh -c "! grep -q contradicted '$T/g.info'"
# the mark-termination probe against NumGC: the counts it gives are the trace's
read -r dn dh < <(sed -n 's/^  runtime.gcMarkTermination .*NumGC rose by \([0-9]*\) and the probe fired \([0-9]*\) times.*/\1 \2/p' "$T/g.info")
ncyc=$("$GSREPORT" gc "$T/g.trace" 2>/dev/null | awk 'NR > 1' | wc -l)
check "the mark-termination probe fired as often as NumGC rose ($dh and $dn; the trace has $ncyc cycles)" \
	sh -c "[ '${dn:-0}' -gt 20 ] && [ \$(( ${dh:-0} - ${dn:-0} )) -ge -1 ] && [ \$(( ${dh:-0} - ${dn:-0} )) -le 1 ] && \
	       [ $ncyc -ge ${dn:-0} ]"

# g.m and m.curg need goroutines caught running: cpuburn's two are, always
"$GSREC" -q --census-ms 100 -o "$T/c.trace" -- "$W/cpuburn" >/dev/null 2>"$T/c.err"
"$GSREPORT" info "$T/c.trace" >"$T/c.info" 2>&1
miss=$(verified "$T/c.info" g.m m.curg)
check "a running goroutine's g.m has it as m.curg ($(grep -A1 '^  g.m ' "$T/c.info" | tail -1 | sed 's/^ *//'))" \
	[ "$miss" = none ]

# A wrong layout is caught: each field moved by 8 bytes
shifted() {	# FIELD: record with it moved, and say whether it was contradicted
	GSMAPPER_SHIFT="$1:8" "$GSREC" -q -o "$T/s.trace" -- "$W/goroutines" -storm 200 -alloc 500ms \
		-hold 0 -churn-kb 500 -out "$T/s.out" 2>"$T/s.err"
	"$GSREPORT" info "$T/s.trace" >"$T/s.info" 2>&1
	awk -v f="$1" '$1 == f { getline; print; exit }' "$T/s.info" | sed 's/^ *//'
}
for f in g.sched.sp g.stack.hi addr.allglen g.goid; do
	shifted "$f" >"$T/s.$f"
	check "$f 8 bytes off is contradicted ($(cat "$T/s.$f"))" grep -q '^contradicted:' "$T/s.$f"
done
awk '$1 == "runtime.goexit0" || $1 == "runtime.gdestroy"' "$T/s.info" >"$T/s.exit"
check "and what the exit probe read with that goid is contradicted too ($(sed 's/^ *//' "$T/s.exit"))" \
	grep -q ' contradicted:' "$T/s.exit"
