# The release stream against the calls a workload makes itself: every
# munmap and madvise it prints is in the trace with its address, length
# and advice, recorded from the system calls' own tracepoints and, with
# tracefs hidden in a mount namespace, from the raw sys_enter tracepoint.
. "$(dirname "$0")/lib.bash"

N=20	# regions of each kind: N munmaps, 2N madvises

need_root "releases" || exit 0
need_bpf "releases" || exit 0

# check_releases NAME TRACE OUT: every call in OUT is in TRACE
check_releases() {
	"$GSREPORT" import -o "$T/$1.db" "$2" >/dev/null 2>&1
	sqlite3 -separator ' ' "$T/$1.db" "SELECT kind, printf('%x', addr), len, arg FROM release
		WHERE kind IN ('munmap', 'madvise')" |
		awk '{ print $1 == "munmap" ? $1 " " $2 " " $3 : $0 }' | sort >"$T/$1.got"
	sort "$3" >"$T/$1.want"
	local want missing
	want=$(wc -l <"$T/$1.want")
	missing=$(comm -23 "$T/$1.want" "$T/$1.got" | wc -l)
	check "$1: every munmap and madvise the workload made is in the trace ($((want - missing)) of $want)" \
		sh -c "[ $want -eq $((3 * N)) ] && [ $missing -eq 0 ]"
}

"$GSREC" -q -o "$T/tp.trace" -- "$W/releases" -n $N >"$T/tp.out" 2>"$T/tp.err"
check_releases "from the calls' tracepoints" "$T/tp.trace" "$T/tp.out"

if command -v unshare >/dev/null; then
	unshare -m sh -c "mount -t tmpfs none /sys/kernel/tracing 2>/dev/null;
		mount -t tmpfs none /sys/kernel/debug 2>/dev/null;
		[ ! -e /sys/kernel/tracing/events ] && [ ! -e /sys/kernel/debug/tracing/events ] || exit 9
		exec '$GSREC' -q -o '$T/raw.trace' -- '$W/releases' -n $N >'$T/raw.out' 2>'$T/raw.err'"
	rc=$?
	if [ $rc -eq 9 ]; then
		notok "tracefs could not be hidden in a mount namespace"
	else
		check_releases "without tracefs, from sys_enter" "$T/raw.trace" "$T/raw.out"
		check "without tracefs, gsrec falls back quietly (stderr: $(head -c 200 "$T/raw.err"))" \
			[ ! -s "$T/raw.err" ]
	fi
else
	notok "without tracefs: unshare (util-linux) is not installed"
fi
