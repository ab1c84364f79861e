# lib.bash - helpers for the end-to-end tests (sourced). Each check prints
# "ok - NAME" or "not ok - NAME" with the evidence on failure.
set -u
TOP="${GS_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
O="${O:-build}"
case "$O" in /*) ;; *) O="$TOP/$O" ;; esac
GSREC="$TOP/bin/gsrec"
GSREPORT="$TOP/bin/gsreport"
W="$O/workloads"
T=$(mktemp -d /tmp/gs-e2e.XXXXXX)
trap 'cleanup_hook; rm -rf "$T"' EXIT
cleanup_hook() { :; }

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
