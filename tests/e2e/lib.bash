# lib.bash - helpers for the end-to-end tests (sourced). Each check prints
# "ok - NAME" or "not ok - NAME" with the evidence on failure.
set -u
TOP="${GS_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
O="${O:-build}"
case "$O" in /*) ;; *) O="$TOP/$O" ;; esac
GSREC="$TOP/bin/gsrec"
GSREPORT="$TOP/bin/gsreport"
# The Go workloads and Go test tools of one release (the Makefile's GS):
# $O, or $O/go/RELEASE when tests/run runs the version matrix.
GS="${GS:-$O}"
case "$GS" in /*) ;; *) GS="$TOP/$GS" ;; esac
W="$GS/workloads"
# The Go toolchain that built the workloads (the Makefile's GO) is also the
# oracle's: go tool addr2line and pprof of the same release.
GO="${GO:-/usr/lib/go-1.19/bin/go}"
export GOTOOLCHAIN=local
T=$(mktemp -d /tmp/gs-e2e.XXXXXX)
# Only the test's own shell cleans up. A child forked for "cmd &" that is
# killed before it has exec'd runs the EXIT trap too (bash does so for a fatal
# signal), and would delete $T under the checks still running. (BASHPID is
# read by an assignment: bash 5.2 expands it stale as a test's argument there.)
trap 'gs_pid=$BASHPID; if [ "$gs_pid" = "$$" ]; then cleanup_hook; rm -rf "$T"; fi' EXIT
cleanup_hook() { :; }

# execd PID PROGRAM: wait up to 5 s until PID runs PROGRAM (a "cmd &" child
# is bash until it has exec'd); fails if it never does.
execd() {
	local i
	for i in $(seq 100); do
		[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$(readlink -f "$2")" ] && return 0
		sleep 0.05
	done
	return 1
}
# plan N: this script runs N checks (tests/run fails it otherwise)
plan() { echo "1..$1"; }
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
check() {	# check NAME CONDITION-COMMAND...
	local name=$1; shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}
# Tests that need root: with CI=true they fail when not root, else skip.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ "${CI:-}" = true ]; then notok "$1: needs root"; else ok "$1 # SKIP needs root"; fi
		return 1
	fi
	return 0
}
# need_prog PROGRAM N WHAT: the next N checks need PROGRAM (caddy, wrk, ...).
# Without it they are N failures with CI=true, else N skips; either way the
# plan's count holds. Returns 1 when PROGRAM is missing.
need_prog() {
	command -v "$1" >/dev/null 2>&1 && return 0
	local i
	for i in $(seq "$2"); do
		if [ "${CI:-}" = true ]; then notok "$3 ($i of $2): $1 is not installed (scripts/deps.sh installs it)"
		else ok "$3 ($i of $2) # SKIP $1 is not installed"; fi
	done
	return 1
}
# Tests that need eBPF: with CI=true they fail without it, else skip.
need_bpf() {
	if ! "$GSREC" -q -F 49 -d 0.2 -o "$T/probe.trace" -p $$ 2>"$T/probe.err" ||
	   grep -q "eBPF streams not recorded" "$T/probe.err"; then
		if [ "${CI:-}" = true ]; then notok "$1: eBPF unavailable: $(cat "$T/probe.err")"
		else ok "$1 # SKIP eBPF unavailable: $(cat "$T/probe.err")"; fi
		return 1
	fi
	return 0
}
# within A B PCT: |A-B| <= PCT% of B
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= b * p / 100) }'; }
# marks TIMELINE_CSV WORKLOAD_OUT: for each "mark UNIXNS goroutines N" line
# of a workload's output, the timeline's goroutines on the last row at or
# before it: "ok N GOT" (an exact count, within 2), "bad N GOT" (an exact
# count, off), "carried N GOT AGE_MS" (a census's count carried forward:
# goroutines_age_ms > 0), "empty N" (not known there) or "before N" (the
# mark came before the recording's first row: the workload starts running
# while gsrec sets up, so its first mark may)
marks() {
	awk -F, 'BEGIN { n = 0 }	# (an unset n would index the first row "", not 0)
		 NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		 FNR == NR { w[n] = $c["wall_ns"]; g[n] = $c["goroutines"]; a[n++] = $c["goroutines_age_ms"]; next }
		 { split($0, f, " ") }
		 f[1] == "mark" { t = f[2]; want = f[4]; best = -1
			for (i = 0; i < n; i++) if (w[i] <= t) best = i
			if (best < 0) { printf "before %s\n", want; next }
			got = g[best]; age = a[best]
			d = got - want; if (d < 0) d = -d
			if (got == "") printf "empty %s\n", want
			else if (age + 0 > 0) printf "carried %s %s %s\n", want, got, age
			else printf "%s %s %s\n", d <= 2 ? "ok" : "bad", want, got }' "$1" "$2"
}
