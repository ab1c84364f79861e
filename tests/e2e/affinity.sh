# gsrec keeps off the CPUs a confined target runs on, and goes back to its
# own set when the target's widens; it never leaves the set it was started
# with. The oracle is the kernel's own record of each thread's CPU set
# (Cpus_allowed_list in /proc/PID/task/TID/status).
. "$(dirname "$0")/lib.bash"
plan 4

need_root "CPU affinity" || exit 0
need_bpf "CPU affinity (gsrec's eBPF worker thread must move too)" || exit 0
ncpu=$(nproc)
if [ "$ncpu" -lt 2 ]; then
	ok "CPU affinity # SKIP one CPU: nowhere else for gsrec to go"
	exit 0
fi
last=$((ncpu - 1))
others=$([ "$last" -eq 1 ] && echo 0 || echo "0-$((last - 1))")

# allowed PID: the CPU lists of all of PID's threads, one per line, sorted and unique
allowed() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^Cpus_allowed_list/ {print $2}' | sort -u; }

taskset -c $last "$W/gohttp" -addr 127.0.0.1:18094 >/dev/null 2>&1 &
tp=$!
g=
cleanup_hook() { kill $tp $g 2>/dev/null; }
sleep 0.5
"$GSREC" -q -d 5 -o "$T/a.trace" -p $tp 2>"$T/a.err" &
g=$!
sleep 1.5
a=$(allowed $g | tr '\n' ' ')
nthreads=$(ls /proc/$g/task | wc -l)
check "target on CPU $last: all $nthreads of gsrec's threads keep to CPUs $others (they have: $a)" \
	eval '[ "$a" = "$others " ] && [ "$nthreads" -ge 2 ]'
taskset -a -p -c 0-$last $tp >/dev/null
sleep 1.5
a=$(allowed $g | tr '\n' ' ')
check "target widened to CPUs 0-$last: gsrec goes back to its own set (it has: $a)" \
	eval '[ "$a" = "0-$last " ]'
wait $g
rc=$?
"$GSREPORT" summary "$T/a.trace" >"$T/a.sum" 2>&1
check "the trace says both moves (exit $rc)" \
	eval '[ $rc -eq 0 ] && grep -q "info .*the target is confined to CPU $last: gsrec keeps off it" "$T/a.sum" &&
	grep -q "info .*the target may run on CPUs 0-$last: gsrec runs on CPUs 0-$last, its own set" "$T/a.sum"'

# Started on the target's own CPU, gsrec stays there: it never widens its set.
taskset -a -p -c $last $tp >/dev/null
taskset -c $last "$GSREC" -q -d 3 -o "$T/b.trace" -p $tp 2>"$T/b.err" &
g=$!
sleep 1.5
a=$(allowed $g | tr '\n' ' ')
check "gsrec started on CPU $last, the target's, stays there (it has: $a)" eval '[ "$a" = "$last " ]'
wait $g
