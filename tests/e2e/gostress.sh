# Stress: two million goroutines, each growing its stack to up to 20 KB and
# checking its own result, under every probe gsrec attaches, all the time
# (--go-rate 0: no budget takes them off). The target must
# finish with every result right, and the trace must account for every
# creation and exit (recorded, or counted as lost).
. "$(dirname "$0")/lib.bash"

need_root "goroutine stress" || exit 0
need_bpf "goroutine stress" || exit 0

N=2000000
"$GSREC" -q --go-rate 0 -o "$T/s.trace" -- "$W/goroutines" -stress $N -stress-depth 20 >"$T/s.out" 2>"$T/s.err"
rc=$?
check "$N goroutines growing their stacks under every probe: exit $rc, $(cat "$T/s.out")" \
	sh -c "[ $rc -eq 0 ] && grep -q '^stress done $N bad 0 ' '$T/s.out'"
"$GSREPORT" import -o "$T/s.db" "$T/s.trace" 2>/dev/null
read -r created exited lost copies < <(sqlite3 -separator ' ' "$T/s.db" \
	"SELECT (SELECT count(*) FROM go_create), (SELECT count(*) FROM go_exit),
		(SELECT coalesce(sum(count), 0) FROM lost WHERE stream = 'goroutines'),
		(SELECT count(*) FROM go_stack)")
check "every creation and exit is in the trace or counted lost ($created created, $exited exited, $lost lost, $copies stack copies)" \
	sh -c "[ $((created + lost)) -ge $N ] && [ $((exited + lost)) -ge $N ] && [ $copies -ge $N ]"
