# The release stream against the calls a workload makes itself: every
# munmap and madvise it prints is in the trace with its address, length
# and advice. At the default, from uprobes on the Go functions that make
# the calls and on the C library's (the workload makes them both ways);
# with --releases syscalls, from the system calls' own tracepoints and,
# with tracefs hidden in a mount namespace, from the raw sys_enter
# tracepoint. The uprobes are also checked against the tracepoints as an
# oracle: recordings of one run, the Go runtime's own releases included,
# must hold the same calls, whether runtime.madvise is probed at the
# runtime's calls of it (the default) or at its entry.
. "$(dirname "$0")/lib.bash"
plan 12

N=20	# regions of each kind: N munmaps, 2N madvises

need_root "releases" || exit 0
need_bpf "releases" || exit 0

# check_releases NAME TRACE OUT [CALLS]: the workload's own list of its
# calls (OUT) is the oracle, both ways: each call is in TRACE once, with its
# address, length and advice (munmap's arg is 0, FORMAT.md §6.18), and TRACE
# holds no other release of the regions the workload mapped (a call seen
# twice, or with a wrong field, is an extra row: any release that starts in
# one of them and is no longer than the workload's largest). Releases
# elsewhere, the Go runtime's own among them, are not the workload's to
# list; nor are other code's at addresses a region took before or takes
# later (the C library trims 64 MiB malloc reservations and frees 8 MiB
# thread stacks there: those are longer than any region).
nchk=0
check_releases() {
	local f="$T/chk$((nchk += 1))"
	"$GSREPORT" import -o "$f.db" "$2" >/dev/null 2>&1
	{
		echo "CREATE TEMP TABLE want(kind TEXT, addr INTEGER, len INTEGER, arg INTEGER);"
		while read -r kind addr len arg; do
			echo "INSERT INTO want VALUES('$kind', $((16#$addr)), $len, ${arg:-0});"
		done <"$3"
		echo ".separator ' '"
		echo ".output $f.want"
		echo "SELECT kind, printf('%x', addr), len, arg FROM want ORDER BY 1, 2, 3, 4;"
		echo ".output $f.got"
		echo "SELECT kind, printf('%x', addr), len, arg FROM release r WHERE EXISTS
			(SELECT 1 FROM want w WHERE r.addr >= w.addr AND r.addr < w.addr + w.len)
			AND r.len <= (SELECT max(len) FROM want) ORDER BY 1, 2, 3, 4;"
	} | sqlite3 "$f.db"
	sort -o "$f.want" "$f.want"
	sort -o "$f.got" "$f.got"
	local want missing extra calls=${4:-$((3 * N))}
	want=$(wc -l <"$f.want")
	missing=$(comm -23 "$f.want" "$f.got" | wc -l)
	extra=$(comm -13 "$f.want" "$f.got" | wc -l)
	check "$1: every munmap and madvise the workload made is in the trace once ($((want - missing)) of $want), and no other release of its regions ($extra; e.g. $(comm -13 "$f.want" "$f.got" | head -1))" \
		sh -c "[ $want -eq $calls ] && [ $missing -eq 0 ] && [ $extra -eq 0 ]"
}
# hook NAME TRACE WANT: the trace says where its releases came from
hook() {
	"$GSREPORT" import -o "$T/$1.hook.db" "$2" >/dev/null 2>&1
	local got
	got=$(sqlite3 "$T/$1.hook.db" "SELECT text FROM message WHERE text LIKE 'releases:%'")
	check "$1: the trace says the releases came from $3 ($got)" [ "$got" = "releases: $3" ]
}

# runtime.madvise is probed on the runtime's calls of it, as many as
# binutils finds in the workload
nmadv=$(objdump -d --no-show-raw-insn "$W/releases" | grep -cE "(call|jmp) +[0-9a-f]+ <runtime\.madvise\.abi0>$")
UP="uprobes on the target's functions that release memory (runtime.madvise at its $nmadv calls)"

# -wait 0: the calls start as soon as the command runs, so the C library's
# probes must be on before it execs (they are set on gsrec's own copy).
"$GSREC" -q -o "$T/up.trace" -- "$W/releases" -n $N -c -wait 0 >"$T/up.out" 2>"$T/up.err"
check_releases "default, Go and C library calls from the start, from uprobes" "$T/up.trace" "$T/up.out" $((6 * N))
hook "default" "$T/up.trace" "$UP"

# Oracle: both hooks on one run, which also gives a 64 MiB heap back. The
# calls wait for all three recorders: a trace file takes its name once its
# recording has begun, probes on (on a busy machine one of three could take
# longer than a fixed wait and miss the first calls).
rm -f "$T/go"
"$W/releases" -n 5 -c -free 64 -wait 0 -go "$T/go" -after 300ms >"$T/both.out" 2>&1 &
wp=$!
execd $wp "$W/releases" || notok "releases did not start"
"$GSREC" -q -o "$T/bp.trace" -p $wp 2>"$T/bp.err" &
gp=$!
GSMAPPER_WITHHOLD=madvise_calls "$GSREC" -q -o "$T/be.trace" -p $wp 2>"$T/be.err" &
ge=$!
"$GSREC" -q --releases syscalls -o "$T/bs.trace" -p $wp 2>"$T/bs.err" &
gs=$!
for _ in $(seq 600); do
	[ -e "$T/bp.trace" ] && [ -e "$T/be.trace" ] && [ -e "$T/bs.trace" ] && break
	sleep 0.05
done
touch "$T/go"
wait $gp $ge $gs
for k in bp be bs; do
	"$GSREPORT" import -o "$T/$k.db" "$T/$k.trace" >/dev/null 2>&1
	sqlite3 -separator ' ' "$T/$k.db" "SELECT kind, printf('%x', addr), len, arg, tid FROM release" |
		sort >"$T/$k.got"
done
n_tp=$(wc -l <"$T/bs.got")
n_rt=$((n_tp - $(wc -l <"$T/both.out")))
diff=$(comm -3 "$T/bp.got" "$T/bs.got" | wc -l)
check "uprobes and tracepoints on one run see the same $n_tp releases, $n_rt of them the Go runtime's own ($diff differ)" \
	sh -c "[ $diff -eq 0 ] && [ $n_rt -gt 0 ]"
hook "the uprobe side of it" "$T/bp.trace" "$UP"
diff=$(comm -3 "$T/be.got" "$T/bs.got" | wc -l)
check "with runtime.madvise probed at its entry instead, the same $n_tp releases ($diff differ)" [ "$diff" -eq 0 ]
hook "that side" "$T/be.trace" "uprobes on the target's functions that release memory (runtime.madvise at its entry)"
hook "beside it" "$T/bs.trace" "the system calls' tracepoints"

# The workload's own Go code calling runtime.madvise (go:linkname) goes
# through an ABI wrapper that pclntab names runtime.madvise too: the probes
# are on the calls of the assembly function, the wrapper's among them, so
# every call is seen once.
"$GSREC" -q -o "$T/spin.trace" -- "$W/releases" -spin 1000 -wait 0 >/dev/null 2>"$T/spin.err"
"$GSREPORT" import -o "$T/spin.db" "$T/spin.trace" >/dev/null 2>&1
spun=$(sqlite3 "$T/spin.db" "SELECT max(c) FROM (SELECT count(*) AS c FROM release WHERE kind = 'madvise' GROUP BY addr)")
check "calls through runtime.madvise's ABI wrapper: each of 1000 is in the trace once (${spun:-none})" [ "${spun:-0}" = 1000 ]

# A program that is not Go gets the tracepoints
"$GSREC" -q -o "$T/c.trace" -- sh -c 'sleep 0.2' 2>"$T/c.err"
hook "a shell" "$T/c.trace" "the system calls' tracepoints"

"$GSREC" -q --releases syscalls -o "$T/tp.trace" -- "$W/releases" -n $N >"$T/tp.out" 2>"$T/tp.err"
check_releases "from the calls' tracepoints" "$T/tp.trace" "$T/tp.out"

if command -v unshare >/dev/null; then
	unshare -m sh -c "mount -t tmpfs none /sys/kernel/tracing 2>/dev/null;
		mount -t tmpfs none /sys/kernel/debug 2>/dev/null;
		[ ! -e /sys/kernel/tracing/events ] && [ ! -e /sys/kernel/debug/tracing/events ] || exit 9
		exec '$GSREC' -q --releases syscalls -o '$T/raw.trace' -- '$W/releases' -n $N >'$T/raw.out' 2>'$T/raw.err'"
	rc=$?
	if [ $rc -eq 9 ]; then
		notok "tracefs could not be hidden in a mount namespace"
	else
		check_releases "without tracefs, from sys_enter" "$T/raw.trace" "$T/raw.out"
		# (the one line it may print is about the heap profile, which
		# this workload does not keep: MemProfileRate 0)
		check "without tracefs, gsrec falls back quietly (stderr: $(grep -v 'heap profile' "$T/raw.err" | head -c 200))" \
			eval '! grep -v "heap profile: runtime.MemProfileRate is 0" "$T/raw.err" | grep -q .'
	fi
else
	notok "without tracefs: unshare (util-linux) is not installed"
fi
