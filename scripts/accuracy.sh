#!/usr/bin/env bash
# Repeated accuracy runs, for BENCHMARKS.md: verdicts and sums that one test
# run cannot show are steady, each against its workload's own figures.
#
#   scripts/accuracy.sh [floors|pss|all]     (after `make all workloads`)
#
#   floors  RUNS (20) recordings of the goroutines workload keeping no heap,
#           and RUNS keeping 64 KB a step: timeline --align gc must say
#           "heap floor: flat" for every one of the first, "rising" for
#           every one of the second.
#   pss     RUNS (50) recordings of retain (as tests/e2e/pss.sh): the Pss
#           folded stacks must sum to the Pss the workload read itself from
#           its own smaps_rollup (half way through its hold, or as it exits)
#           within 2%. HOGS=2 keeps both cores busy with that many CPU-bound
#           processes meanwhile.
#
# Prints one line a run and a count at the end; exits 1 if any run missed.
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
B=bin W=$O/workloads
RUNS=${RUNS:-}
D=$(mktemp -d /tmp/gs-accuracy.XXXXXX)
hogs=
trap 'kill $hogs 2>/dev/null; rm -rf "$D"' EXIT
miss=0

start_hogs() {
	for _ in $(seq "${HOGS:-0}"); do
		sh -c 'while :; do :; done' &
		hogs="$hogs $!"
	done
}

floors() {
	local n=${RUNS:-20} flat=0 rising=0
	for i in $(seq "$n"); do
		"$B/gsrec" -q -o "$D/f.trace" -- "$W/goroutines" -storm 2000 -hold 0 -churn-kb 500 -out "$D/f.out" 2>/dev/null
		"$B/gsreport" timeline --align gc --db :memory: "$D/f.trace" 2>&1 >/dev/null |
			sed 's/; Pss floor.*//' >"$D/f.v"
		"$B/gsrec" -q -o "$D/r.trace" -- "$W/goroutines" -storm 2000 -hold 0 -churn-kb 500 -retain-kb 64 \
			-out "$D/r.out" 2>/dev/null
		"$B/gsreport" timeline --align gc --db :memory: "$D/r.trace" 2>&1 >/dev/null |
			sed 's/; Pss floor.*//' >"$D/r.v"
		grep -q "heap floor: flat" "$D/f.v" && flat=$((flat + 1))
		grep -q "heap floor: rising" "$D/r.v" && rising=$((rising + 1))
		echo "run $i: no heap kept: $(cut -c11- "$D/f.v"); 64 KB a step kept: $(cut -c11- "$D/r.v")"
	done
	echo "floors: flat in $flat of $n runs keeping no heap, rising in $rising of $n keeping one"
	[ "$flat" = "$n" ] && [ "$rising" = "$n" ] || miss=1
}

pss() {
	local n=${RUNS:-50} good=0
	start_hogs
	for i in $(seq "$n"); do
		"$B/gsrec" -q -b 5 -o "$D/p.trace" -- "$W/retain" -mb 100 -hold 4s >"$D/p.out"
		read -r a b < <(awk '/^pss_kb/ {a = $2} /^end pss_kb/ {b = $3} END {print a + 0, b + 0}' "$D/p.out")
		sum=$("$B/gsreport" folded --db :memory: "$D/p.trace" 2>/dev/null | awk '{t += $NF} END {print t + 0}')
		lo=$((a < b ? a : b)) hi=$((a > b ? a : b))
		if awk -v s="$sum" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(s >= lo * 1024 * 0.98 && s <= hi * 1024 * 1.02) }'; then
			good=$((good + 1)) r=ok
		else
			r=MISSED
		fi
		echo "run $i: lines sum to $sum bytes; the workload read $a kB, then $b kB: $r"
	done
	echo "pss: the lines summed to the workload's own Pss within 2% in $good of $n runs (${HOGS:-0} CPU hogs beside)"
	[ "$good" = "$n" ] || miss=1
}

case "${1:-all}" in
floors) floors ;;
pss) pss ;;
all) floors; pss ;;
*) echo "usage: scripts/accuracy.sh [floors|pss|all]" >&2; exit 2 ;;
esac
exit $miss
