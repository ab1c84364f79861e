# Stress: two million goroutines, each growing its stack to up to 20 KB and
# checking its own result, under every probe gsrec attaches, all the time
# (--go-rate 0: no budget takes them off). The target must
# finish with every result right, and the trace must account for every
# creation and exit (recorded, or counted as lost).
. "$(dirname "$0")/lib.bash"
plan 2

need_root "goroutine stress" || exit 0
need_bpf "goroutine stress" || exit 0

N=2000000
"$GSREC" -q --go-rate 0 -o "$T/s.trace" -- "$W/goroutines" -stress $N -stress-depth 20 >"$T/s.out" 2>"$T/s.err"
rc=$?
check "$N goroutines growing their stacks under every probe: exit $rc, $(cat "$T/s.out")" \
	sh -c "[ $rc -eq 0 ] && grep -q '^stress done $N bad 0 ' '$T/s.out'"
"$GSREPORT" import -o "$T/s.db" "$T/s.trace" 2>/dev/null
# The oracle is the workload's own count, N, at its own go statement: the
# startpc recorded most often is named by go tool addr2line (not by
# gsmapper), and its creations and exits must each be N exactly: a probe
# that missed one or fired twice fails. Lost events must stay under 0.1%.
read -r pc created exited < <(sqlite3 -separator ' ' "$T/s.db" "SELECT printf('%x', startpc),
	count(*), (SELECT count(*) FROM go_exit e WHERE e.startpc = c.startpc) FROM go_create c
	GROUP BY startpc ORDER BY 2 DESC LIMIT 1")
read -r lost copies < <(sqlite3 -separator ' ' "$T/s.db" \
	"SELECT (SELECT coalesce(sum(count), 0) FROM lost WHERE stream = 'goroutines'),
		(SELECT count(*) FROM go_stack)")
site=$(echo "$pc" | "$GO" tool addr2line "$W/goroutines" | head -1)
check "the stress site ($site at 0x$pc): $created creations and $exited exits recorded of $N each; $lost events lost (under 0.1%), $copies stack copies" \
	eval 'echo "$site" | grep -qE "^main\.stress\.func[0-9]+$" && [ "$created" = $N ] && [ "$exited" = $N ] &&
	[ "$lost" -lt $((N / 1000)) ] && [ "$copies" -ge $N ]'
