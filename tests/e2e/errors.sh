# Bad input to gsrec and gsreport: a clear message and the documented exit
# code (gsrec --help, gsreport --help, README "Exit codes"), never a crash.
. "$(dirname "$0")/lib.bash"
plan 63

expect() {	# expect NAME WANT-EXIT PATTERN COMMAND...
	local name=$1 want=$2 pat=$3; shift 3
	"$@" >"$T/o" 2>"$T/e"
	local rc=$?
	if [ $rc -eq "$want" ] && grep -qi -- "$pat" "$T/e"; then
		ok "$name: exit $want"
	else
		notok "$name: exit $rc (want $want), stderr: $(head -c 300 "$T/e")"
	fi
}
cd "$T" || exit 1

expect "no arguments" 2 "give -p PID or -- COMMAND" "$GSREC"
expect "unknown option" 2 "Try 'gsrec --help'" "$GSREC" --bogus -p 1
expect "bad pid" 2 "invalid pid" "$GSREC" -p abc
expect "bad interval" 2 "invalid interval" "$GSREC" -i 0 -p 1
expect "bad --go-rate" 2 "invalid --go-rate" "$GSREC" --go-rate -5 -p 1
expect "bad --releases" 2 "invalid --releases 'foo': give probes or syscalls" "$GSREC" --releases foo -p 1
expect "bad --census-ms" 2 "invalid --census-ms" "$GSREC" --census-ms 5 -p 1
expect "both -p and a command (launch mode: gsrec's own failure is 125)" 125 "not both" \
	"$GSREC" -p 1 -- true
expect "no such process" 3 "no process with pid" "$GSREC" -o "$T/x.trace" -p 4000000
expect "command not found" 127 "cannot run" "$GSREC" -o "$T/x.trace" -- /nonexistent/cmd
printf 'not a program' >"$T/noexec" && chmod 0644 "$T/noexec"
expect "command not executable" 126 "cannot run" "$GSREC" -o "$T/x.trace" -- "$T/noexec"
expect "output not writable" 5 "cannot create .*choose another path with -o" \
	"$GSREC" -o /nonexistent/dir/x.trace -p $$
expect "output not writable, launch mode" 125 "cannot create" \
	"$GSREC" -o /nonexistent/dir/x.trace -- true
check "gsrec --help exits 0 and documents exit codes" \
	sh -c "'$GSREC' --help | grep -q 'Exit status'"

# The command's status is gsrec's, as with time(1).
"$GSREC" -q -o "$T/s.trace" -- sh -c 'exit 7'
rc=$?
check "launch: exit status 7 passes through (got $rc)" [ $rc -eq 7 ]
"$GSREC" -q -o "$T/s.trace" -- sh -c 'kill -9 $$'
rc=$?
check "launch: killed by SIGKILL gives 137 (got $rc)" [ $rc -eq 137 ]
"$GSREPORT" summary "$T/s.trace" 2>/dev/null | grep -q "killed by signal 9" &&
	ok "summary reports the signal" || notok "summary lacks 'killed by signal 9'"
check "traces are created private (0600)" [ "$(stat -c %a "$T/s.trace")" = 600 ]
"$GSREPORT" import "$T/s.trace" 2>/dev/null
check "so are the databases imported from them" [ "$(stat -c %a "$T/s.trace.db")" = 600 ]
check "an existing trace is kept as .old" [ -f "$T/s.trace.old" ]

# A run that fails before its first sample leaves an existing file as it was:
# not truncated, not rotated to .old, and no temporary file beside it.
echo keep >"$T/keep.trace"
expect "a kernel thread is refused (-p 2), once" 3 "process 2 (kthreadd) has no user memory" \
	"$GSREC" -o "$T/keep.trace" -p 2
check "and nothing else is said of it ($(wc -l <"$T/e") line)" \
	eval '[ "$(wc -l <"$T/e")" -eq 1 ] && ! grep -q "not a Go program" "$T/e"'
"$GSREC" -o "$T/keep.trace" -p 2 2>/dev/null
"$GSREC" -o "$T/keep.trace" -p 4000000 2>/dev/null
"$GSREC" -o "$T/keep.trace" -- /nonexistent/cmd 2>/dev/null
check "an existing file survives four failed runs (kernel thread twice, no such pid, no such command)" \
	eval '[ "$(cat "$T/keep.trace")" = keep ] && [ ! -e "$T/keep.trace.old" ] &&
	[ -z "$(ls "$T" | grep "^keep.trace.tmp")" ]'
sleep 30 &
gone=$!
"$GSREC" -q -d 0.3 -o "$T/keep.trace" -p $gone 2>/dev/null
kill $gone
check "a run that records replaces it, and keeps it as .old" \
	eval '[ "$(cat "$T/keep.trace.old")" = keep ] && "$GSREPORT" summary --db :memory: "$T/keep.trace" >/dev/null 2>&1'

# Not a Go program: recorded anyway, and the trace says so.
expect "not a Go program is recorded with a warning (-d ends it: 143)" 143 "not a Go program" \
	"$GSREC" -o "$T/sleep.trace" -d 1 -- sleep 5
"$GSREPORT" summary "$T/sleep.trace" >"$T/sum" 2>&1
grep -q "go:        not a Go program" "$T/sum" && grep -q "warning" "$T/sum" &&
	ok "summary of a non-Go target says so" || notok "summary: $(cat "$T/sum")"
"$GSREPORT" timeline "$T/sleep.trace" | head -1 | grep -q pss_heap &&
	[ "$("$GSREPORT" timeline "$T/sleep.trace" | awk -F, 'NR>1 && $11 > 0' | wc -l)" -eq 0 ] &&
	ok "no heap class for a non-Go target" || notok "non-Go target shows heap Pss"
expect "gsreport goroutines on a non-Go target says there is no census (nothing to report: 6)" 6 "no goroutine census" \
	"$GSREPORT" goroutines "$T/sleep.trace"

# -d stops a launched command with SIGTERM and reports its status.
"$GSREC" -q -o "$T/d.trace" -d 0.5 -- sleep 30
rc=$?
check "launch with -d: the command is terminated (status 143, got $rc)" [ $rc -eq 143 ]

# A zombie has no memory left to record.
sh -c 'sleep 0 & exec sleep 30' &
parent=$!
zombie=
for _ in $(seq 100); do	# until the child has exited unreaped
	zombie=$(ps -o pid=,stat= --ppid $parent | awk '$2 ~ /^Z/ {print $1; exit}')
	[ -n "$zombie" ] && break
	sleep 0.05
done
if [ -n "$zombie" ] && [ "$(ps -o stat= -p "$zombie" | cut -c1)" = Z ]; then
	expect "a zombie target" 3 "is a zombie: it has exited" "$GSREC" -o "$T/z.trace" -p "$zombie"
else
	notok "could not make a zombie to test with"
fi
kill $parent 2>/dev/null

if need_root "permission denied"; then
	sleep 5 &
	victim=$!
	expect "permission denied for another user's process" 4 "Permission denied.*run gsrec as root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$GSREC" -o /tmp/gs-perm-$$.trace -p $victim
	kill $victim
	check "no empty trace is left behind" [ ! -e /tmp/gs-perm-$$.trace ]
	# Launching a setuid program as another user: its smaps are not ours to
	# read, so gsrec stops it rather than leave it running unwatched.
	expect "launching a setuid command it cannot read: 125, and it is stopped" 125 \
		"Permission denied.*" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$GSREC" -o /tmp/gs-perm-$$.trace -- /usr/bin/passwd -S
	grep -q "stopping /usr/bin/passwd" "$T/e" && ! pgrep -f "passwd -S" >/dev/null &&
		ok "the command was stopped and reaped" || notok "passwd left running or not said"
	rm -f /tmp/gs-perm-$$.trace
	# Without BPF permission: /proc is recorded, and that is said once.
	setpriv --reuid=65534 --regid=65534 --clear-groups "$GSREC" -o /tmp/gs-perm-$$.trace -d 0.3 \
		-- sleep 1 >/dev/null 2>"$T/e"
	rc=$?
	check "a user without BPF permission records /proc and is told so once (exit $rc; $(grep -c 'not recorded' "$T/e") warning)" \
		eval '[ $rc -eq 143 ] && [ "$(grep -c "not recorded" "$T/e")" = 1 ] && grep -q "eBPF streams not recorded.*recording /proc data only" "$T/e"'
	rm -f /tmp/gs-perm-$$.trace
fi

if need_root "disk full"; then
	mkdir "$T/small" && mount -t tmpfs -o size=4k tmpfs "$T/small"
	mkdir "$T/mid" && mount -t tmpfs -o size=16m tmpfs "$T/mid"
	cleanup_hook() { umount "$T/small" "$T/mid" 2>/dev/null; }
	"$W/heapgrow" -mb 64 -steps 64 -step-delay 50ms -hold 8s >/dev/null &
	wl=$!
	execd $wl "$W/heapgrow" || notok "heapgrow did not start"
	# Too full for the symbol tables: the recording never began.
	expect "a disk too full to begin: exit 5, and it says nothing was recorded" 5 \
		"No space left on device; nothing was recorded" "$GSREC" -q -o "$T/small/full.trace" -p $wl
	check "and leaves no file behind ($(ls "$T/small" | tr '\n' ' '))" [ -z "$(ls "$T/small")" ]
	# Full once recording has begun: what was written stays readable. The
	# disk is filled as soon as the trace has taken its place.
	"$GSREC" -q --flush-ms 50 -o "$T/mid/full.trace" -p $wl 2>"$T/mid.err" &
	g=$!
	for _ in $(seq 200); do [ -e "$T/mid/full.trace" ] && break; sleep 0.05; done
	dd if=/dev/zero of="$T/mid/filler" bs=64k 2>/dev/null
	wait $g
	rc=$?
	check "disk full while recording stops with exit 5 and says so (exit $rc: $(head -c 200 "$T/mid.err"))" \
		eval '[ $rc -eq 5 ] && grep -q "No space left on device; the trace is readable" "$T/mid.err"'
	kill $wl 2>/dev/null
	"$GSREPORT" summary --db :memory: "$T/mid/full.trace" >"$T/sum" 2>&1
	rc=$?
	check "the trace of a full disk is readable up to what was written (rc $rc)" \
		grep -q "statm" "$T/sum"
fi

# gsreport
expect "gsreport: missing trace" 3 "cannot open" "$GSREPORT" summary "$T/nope.trace"
expect "gsreport: unknown command" 2 "unknown command" "$GSREPORT" frobnicate x
expect "gsreport: no trace given" 2 "needs a trace" "$GSREPORT" summary
expect "gsreport: bad format" 2 "unknown format" "$GSREPORT" timeline x --format xml
expect "gsreport: csv is not a goroutines format" 2 "use text or json" \
	"$GSREPORT" goroutines x --format csv
expect "gsreport: bad --top" 2 "invalid --top" "$GSREPORT" goroutines x --top -3
expect "gsreport: output not writable" 5 "cannot write" \
	"$GSREPORT" summary "$TOP/tests/golden/good.trace" --db :memory: -o /nonexistent/x
sqlite3 "$T/other.db" "create table t(x)"
# Options that do not apply are refused, never ignored; a time must lie in
# the recording (good.trace lasts about 2 s); "nothing to report" is 6.
G="$TOP/tests/golden/good.trace"
expect "gsreport: summary has no --format" 2 "summary has no --format: .* timeline, gc and goroutines take --format json" \
	"$GSREPORT" summary "$G" --db :memory: --format json
expect "gsreport: timeline has no --top" 2 "\-\-top does not apply to timeline" \
	"$GSREPORT" timeline "$G" --db :memory: --top 3
expect "gsreport: addr2line writes to stdout (no -o)" 2 "\-o does not apply to addr2line" \
	"$GSREPORT" addr2line "$G" -o "$T/x" 0x1
expect "gsreport: import takes -o, not --db" 2 "\-\-db does not apply to import" \
	"$GSREPORT" import "$G" --db "$T/x.db"
expect "gsreport: folded --weight cpu has no --at" 2 \
	"\-\-at does not apply to folded --weight cpu; it applies to pss, pss-faults, heap and goroutines" \
	"$GSREPORT" folded "$G" --db :memory: --weight cpu --at peak
expect "gsreport: folded --weight cpu has no --unit" 2 "\-\-unit does not apply to folded --weight cpu" \
	"$GSREPORT" folded "$G" --db :memory: --weight cpu --unit kb
expect "gsreport: folded --weight pss has no window" 2 \
	"\-\-from does not apply to folded --weight pss; it applies to pss-growth, pss-faults-growth, heap-growth, goroutine-creations and stack-growth" \
	"$GSREPORT" folded "$G" --db :memory: --weight pss --from 5 --to 10
expect "gsreport: folded --weight heap has no window" 2 \
	"\-\-from does not apply to folded --weight heap; it applies to" \
	"$GSREPORT" folded "$G" --db :memory: --weight heap --from 5
expect "gsreport: --cycle is for folded --weight heap" 2 \
	"\-\-cycle does not apply to folded --weight pss; it applies to heap" \
	"$GSREPORT" folded "$G" --db :memory: --weight pss --cycle 3
expect "gsreport: --cycle and --at together" 2 "\-\-cycle and --at both pick" \
	"$GSREPORT" folded "$G" --db :memory: --weight heap --cycle 3 --at 1
expect "gsreport: --cycle must be a number" 2 "invalid --cycle 'x'" \
	"$GSREPORT" folded "$G" --db :memory: --weight heap --cycle x
expect "gsreport: --at past the end of the recording" 2 "\-\-at 99999 is past the end of the recording, which lasts" \
	"$GSREPORT" folded "$G" --db :memory: --at 99999
expect "gsreport: --to past the end of the recording" 2 "\-\-to 600 is past the end" \
	"$GSREPORT" folded "$G" --db :memory: --weight pss-growth --to 600
expect "gsreport: a window that ends before it starts" 2 "\-\-from 10 is after --to 5" \
	"$GSREPORT" folded "$G" --db :memory: --weight pss-growth --from 10 --to 5
expect "gsreport: an object the trace does not hold (nothing to report: 6)" 6 "no object 'nope.so' in this trace" \
	"$GSREPORT" addr2line --object nope.so "$G" 0x1
expect "gsreport: a weight the trace has no data for (no CPU samples: 6)" 6 "no CPU samples\|has no" \
	"$GSREPORT" folded "$G" --db :memory: --weight cpu
expect "gsreport: a foreign SQLite database" 4 "not one gsreport wrote" "$GSREPORT" summary "$T/other.db"
