#!/usr/bin/env bash
# The goroutine and GC streams' costs (issue 5), printed as Markdown and
# appended to out/bench/results.md. Run by scripts/bench.sh, or alone.
#   1. A uprobe's own cost on this machine: a C function probed at its
#      first instruction (single-stepped) and at a conditional jump (which
#      the kernel emulates), with perf probe: no BPF at all.
#   2. Cost per probe hit in a Go target: the CPU time of
#      (BENCH_GOROUTINES, default 300000) short goroutines with and without
#      gsrec, over the events the trace holds.
#   2b. Cost per release: runtime.madvise called in a loop (releases
#      -spin), with its probes on the calls that reach it, on its entry,
#      and from the system call's tracepoint.
#   3. Throughput of a server that starts a goroutine per request, under wrk
#      (BENCH_SECS a run, default 10: one whole period of the goroutine
#      probes' budget, so a run holds the one burst of probe hits a period
#      has, as a long recording does), with gsrec at defaults, with --no-bpf
#      and with --go-rate 0, each run between two runs without gsrec
#      (BENCH_ROUNDS rounds, default 10), in two set-ups: server-bound (the
#      server and wrk on a CPU each) and shared (both on both CPUs).
#   3b. Where the machine's time goes under the same load, sampled with
#      perf on every CPU in runs of its own, with gsrec at defaults and
#      without: gsrec's own share and the instrumentation paths' share in
#      each process (BENCH_ATTR_ROUNDS, default 3).
#   4. The probes' coming and going, seen from the target: a loop starting
#      goroutines on one CPU (goroutines -spin), counted every 50 ms, under
#      gsrec at defaults with uprobe_multi links and with perf-event uprobes,
#      against the rate before and after each burst (BENCH_SPIN_ROUNDS
#      rounds, default 4, of 24 s).
#   5. The census of 100,000 parked goroutines: CPU per census and share of
#      a core.
set -eu
cd "$(dirname "$0")/.."
O="${O:-build}"
out=out/bench
mkdir -p "$out"
res="$out/results.md"
n="${BENCH_GOROUTINES:-300000}"
rounds="${BENCH_ROUNDS:-10}"
BENCH_SECS="${BENCH_SECS:-10}"
say() { printf '%s\n' "$*" | tee -a "$res"; }
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

say ""
say "### Goroutine and GC streams (issue 5)"
say ""
if [ "$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null)" = 1 ]; then
	say "kernel.bpf_stats_enabled is 1 on this machine: every eBPF program run also reads the"
	say "clock twice, and the figures below include that."
	say ""
fi
if command -v perf >/dev/null && command -v gcc >/dev/null; then
	cat >"$out/up.c" <<'C'
#include <stdio.h>
#include <time.h>
int f(long x);
/* a stack check as Go emits it: compare, then a conditional jump */
__asm__(".globl f\n.type f,@function\nf:\n cmp $0x7fffffff, %rdi\n jbe 1f\n ud2\n"
	"1: lea 1(%rdi), %eax\n ret\n");
int main(void)
{
	struct timespec a, b;
	long s = 0, n = 200000;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		s = f(s);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1000);
	return s != n;
}
C
	gcc -O2 -o "$out/up" "$out/up.c"
	plain=$("$out/up")
	perf probe -q -d 'probe_up:*' 2>/dev/null || true
	perf probe -q -x "$out/up" f >/dev/null 2>&1
	entry=$(perf record -q -e 'probe_up:f' -o /dev/null "$out/up" 2>/dev/null)
	perf probe -q -d 'probe_up:*' >/dev/null 2>&1
	perf probe -q -x "$out/up" 'f+7' >/dev/null 2>&1
	jump=$(perf record -q -e 'probe_up:*' -o /dev/null "$out/up" 2>/dev/null)
	perf probe -q -d 'probe_up:*' >/dev/null 2>&1
	say "A uprobe alone (perf probe, no BPF), per call of a C function: ${plain} µs unprobed,"
	say "${entry} µs probed at its first instruction (single-stepped), ${jump} µs probed at"
	say "its conditional jump (emulated). gsrec puts its Go probes on the jump of the"
	say "stack-check prologue."
	say ""
fi

say "Cost per probe hit: $n goroutines (\`goroutines -stress\`), the target's own CPU"
say "time (getrusage) without and with gsrec recording every event (--go-rate 0):"
say ""
say "| stack per goroutine | target CPU alone | under gsrec | probe hits (creation, exit, stack copies) | cost per hit |"
say "|---|---|---|---|---|"
for d in 0 40; do
	a=$("$O/workloads/goroutines" -stress "$n" -stress-depth $d | awk '{print $NF}')
	rm -f "$out/stress.trace" "$out/stress.db"
	b=$(bin/gsrec -q --go-rate 0 -o "$out/stress.trace" -- "$O/workloads/goroutines" -stress "$n" -stress-depth $d | awk '{print $NF}')
	bin/gsreport import -o "$out/stress.db" "$out/stress.trace" >/dev/null 2>&1
	read -r c e s < <(sqlite3 -separator ' ' "$out/stress.db" "SELECT (SELECT count(*) FROM go_create), (SELECT count(*) FROM go_exit), (SELECT count(*) FROM go_stack)")
	hits=$((c + e + s))
	say "| $([ $d = 0 ] && echo "2 KB, no growth" || echo "up to 40 KB") | $(awk -v a=$a 'BEGIN{printf "%.2f s", a/1e9}') | $(awk -v b=$b 'BEGIN{printf "%.2f s", b/1e9}') | $hits ($c, $e, $s) | $(awk -v a=$a -v b=$b -v h=$hits 'BEGIN{printf "%.2f µs", (b-a)/h/1000}') |"
done
say ""

# The release stream's probe on runtime.madvise, the assembly function the
# runtime gives its heap back with: on the CALLs that reach it (default),
# on its entry, and off the system call's tracepoint.
calls=200000
say "Cost per release: $calls calls of runtime.madvise on one page (\`releases -spin\`),"
say "µs a call, two runs each; every call must be in the trace:"
say ""
say "| recorder | µs a call | calls in the trace |"
say "|---|---|---|"
for how in none calls entry syscalls; do
	t="" k=""
	for r in 1 2; do
		rm -f "$out/spin.trace" "$out/spin.db"
		case $how in
		none) t="$t $("$O/workloads/releases" -spin $calls -wait 0)"; continue ;;
		calls) t="$t $(bin/gsrec -q -o "$out/spin.trace" -- "$O/workloads/releases" -spin $calls -wait 0)" ;;
		entry) t="$t $(GSMAPPER_WITHHOLD=madvise_calls bin/gsrec -q -o "$out/spin.trace" -- "$O/workloads/releases" -spin $calls -wait 0)" ;;
		syscalls) t="$t $(bin/gsrec -q --releases syscalls -o "$out/spin.trace" -- "$O/workloads/releases" -spin $calls -wait 0)" ;;
		esac
		bin/gsreport import -o "$out/spin.db" "$out/spin.trace" >/dev/null 2>&1
		k="$k $(sqlite3 "$out/spin.db" "SELECT count(*) FROM release WHERE kind = 'madvise'")"
	done
	case $how in
	none) label="no recorder" ;;
	calls) label="probes on its calls (default, emulated)" ;;
	entry) label="probe on its entry (single-stepped)" ;;
	syscalls) label="\`--releases syscalls\`" ;;
	esac
	say "| $label |$(echo $t | sed 's/ /, /g; s/^/ /') | $(echo ${k:-"-"} | sed 's/ /, /g') |"
done
say ""

# throughput SETUP SRV_CPUS WRK_CPUS: ABA rounds of gohttp under wrk.
# Each run records the host's steal time on both CPUs: this machine is a
# shared VM, and a round in which the host took more than 2% of either CPU
# from any run is counted apart, as noisy, besides the mean of all rounds.
throughput() {
	local setup=$1 srv=$2 wrk_cpus=$3 port=18096 r i prev next b g first line
	taskset -c "$srv" "$O/workloads/gohttp" -addr 127.0.0.1:$port >/dev/null &
	local spid=$!
	sleep 0.5
	steal() { awk '/^cpu[01] / { s = s " " $9 } END { print s }' /proc/stat; }
	# rps CFG: one run; prints requests/s and appends "CFG rate steal0 steal1" to raw
	rps() {
		local s0 s1 rate
		s0=$(steal)
		rate=$(taskset -c "$wrk_cpus" wrk -t1 -c32 -d${BENCH_SECS}s http://127.0.0.1:$port/ 2>/dev/null |
		       awk '/Requests\/sec/ {print $2}')
		s1=$(steal)
		echo "$1 $rate $s0 $s1" | awk '{ print $1, $2, $5 - $3, $6 - $4 }' >>"$out/raw-$setup"
		echo "$rate"
	}
	: >"$out/raw-$setup"
	: >"$out/rounds-$setup"
	: >"$out/cpu-$setup"
	rps warm >/dev/null
	local nc=${#configs[@]} allnames
	allnames=$(IFS='|'; echo "${names[*]}")
	say "| round | no recorder (first) | $(IFS='|'; echo "${names[*]}" | sed 's/|/ | /g') | quiet |"
	say "|---|---|$(printf '%.0s---|' "${configs[@]}")---|"
	for r in $(seq "$rounds"); do
		local mark ratios=""
		mark=$(wc -l <"$out/raw-$setup")
		prev=$(rps base); first=$prev; line=""
		for i in "${!configs[@]}"; do
			local c0=0 c1=0
			if [ "${configs[$i]}" = none ]; then
				# the control: the same pause before the run, no recorder
				sleep 1; b=$(rps "cfg$i")
			else
				# shellcheck disable=SC2086
				bin/gsrec -q ${configs[$i]} -o "$out/http$i.trace" -p $spid & g=$!
				sleep 1
				c0=$(awk '{ print $14 + $15 }' /proc/$g/stat)
				b=$(rps "cfg$i")
				c1=$(awk '{ print $14 + $15 }' /proc/$g/stat)
				kill -INT $g; wait $g || true
			fi
			echo "$i $((c1 - c0))" >>"$out/cpu-$setup"
			next=$(rps base)
			ratio=$(awk -v a="$prev" -v c="$next" -v b="$b" 'BEGIN { printf "%.4f", b / ((a + c) / 2) }')
			line="$line | $b ($(awk -v x="$ratio" 'BEGIN { printf "%+.1f%%", (x - 1) * 100 }'))"
			ratios="$ratios $ratio"
			prev=$next
		done
		# quiet: the host took at most 2% of each CPU in every run of the round
		local quiet
		quiet=$(tail -n +$((mark + 1)) "$out/raw-$setup" |
			awk -v lim=$((BENCH_SECS * 2)) '$3 > lim || $4 > lim { q = 1 } END { print q ? 0 : 1 }')
		echo "$ratios $quiet" >>"$out/rounds-$setup"
		say "| $r | $first$line | $([ "$quiet" = 1 ] && echo yes || echo no) |"
	done
	kill $spid; wait $spid 2>/dev/null || true
	say ""
	awk -v n=$nc -v names="$allnames" '
	     { for (i = 1; i <= n; i++) { s[i] += $i; ss[i] += $i * $i; if ($(n + 1)) { qs[i] += $i; qss[i] += $i * $i } }
	       k++; q += $(n + 1) }
	     function show(label, k, s, ss,   i, m, sd) {
		   printf "%s", label
		   for (i = 1; i <= n; i++) { m = s[i] / k; sd = k > 1 ? sqrt((ss[i] / k - m * m) * k / (k - 1)) : 0
			printf "%s %s %+.1f%% (standard error %.1f%%)", (i > 1 ? ";" : ""), nm[i], (m - 1) * 100, sd / sqrt(k) * 100 }
		   printf ".\n" }
	     END { split(names, nm, "|")
		   show("Mean change against the runs without, all " k " rounds:", k, s, ss)
		   if (q > 1) show("The " q " quiet rounds:", q, qs, qss)
		   else printf "Fewer than 2 quiet rounds.\n" }' "$out/rounds-$setup" | tee -a "$res"
	# The host's steal time moves a run's rate by about 1% for each 1% of a
	# CPU it takes, more than any recorder costs, and it changes within a
	# round. A least-squares fit of log(rate) on the run's steal and on
	# which configuration ran takes it out: every run counts, the runs
	# without a recorder are the baseline.
	awk -v n=$nc -v names="$allnames" -v d="$BENCH_SECS" '
	     $1 == "warm" || $2 <= 0 { next }
	     { x[1] = 1; x[2] = ($3 + $4) / d
	       for (i = 1; i <= n; i++) x[2 + i] = ($1 == "cfg" (i - 1)) ? 1 : 0
	       y = log($2); m++; yy[m] = y
	       for (i = 1; i <= n + 2; i++) { X[m, i] = x[i]; b[i] += x[i] * y
		       for (j = 1; j <= n + 2; j++) A[i, j] += x[i] * x[j] } }
	     END { k = n + 2; split(names, nm, "|")
		   for (i = 1; i <= k; i++) for (j = 1; j <= k; j++) V[i, j] = (i == j)
		   for (c = 1; c <= k; c++) {	# Gauss-Jordan: V = inverse of A
			p = c; for (r = c + 1; r <= k; r++) if ((A[r, c] < 0 ? -A[r, c] : A[r, c]) > (A[p, c] < 0 ? -A[p, c] : A[p, c])) p = r
			for (j = 1; j <= k; j++) { t = A[c, j]; A[c, j] = A[p, j]; A[p, j] = t; t = V[c, j]; V[c, j] = V[p, j]; V[p, j] = t }
			if (A[c, c] == 0) { print "Steal-adjusted change: not enough runs."; exit }
			f = A[c, c]; for (j = 1; j <= k; j++) { A[c, j] /= f; V[c, j] /= f }
			for (r = 1; r <= k; r++) if (r != c) { f = A[r, c]
				for (j = 1; j <= k; j++) { A[r, j] -= f * A[c, j]; V[r, j] -= f * V[c, j] } } }
		   for (i = 1; i <= k; i++) { beta[i] = 0; for (j = 1; j <= k; j++) beta[i] += V[i, j] * b[j] }
		   for (r = 1; r <= m; r++) { e = yy[r]; for (i = 1; i <= k; i++) e -= beta[i] * X[r, i]; sse += e * e }
		   s2 = m > k ? sse / (m - k) : 0
		   printf "Steal-adjusted change (%d runs; %+.2f%% a request/s for each 1%% of a CPU the host took):", m, beta[2] * 100
		   for (i = 1; i <= n; i++) printf "%s %s %+.1f%% (standard error %.1f%%)", (i > 1 ? ";" : ""), nm[i],
			(exp(beta[2 + i]) - 1) * 100, sqrt(s2 * V[2 + i, 2 + i]) * 100
		   printf ".\n" }' "$out/raw-$setup" | tee -a "$res"
	say "gsrec's own CPU during the runs, in % of one core: $(awk -v d="$BENCH_SECS" -v names="$allnames" \
		'{ t[$1] += $2; k[$1]++ }
		END { n = split(names, nm, "|")
		      for (i = 0; i < n; i++) printf "%s%s %.1f", (i ? "; " : ""), nm[i + 1], t[i] / k[i] / d }' \
		"$out/cpu-$setup")."
}

# attribution SETUP SRV_CPUS WRK_CPUS: where the machine's time goes with
# gsrec at defaults and without it, by sampling every CPU with perf during
# BENCH_SECS of load (BENCH_ATTR_ROUNDS rounds of each, default 3,
# alternating): gsrec's own share, and each process's share in the paths
# gsrec's streams add to the kernel (uprobe traps, eBPF programs, perf
# software events, the traced system-call entry). A sampled share does not
# depend on how fast the host lets the guest run from one run to the next,
# which moves throughput by several percent. What it cannot see is an
# indirect cost: caches, wakeups, the scheduler.
attribution() {
	local setup=$1 srv=$2 wrk_cpus=$3 port=18097 r cfg g w
	taskset -c "$srv" "$O/workloads/gohttp" -addr 127.0.0.1:$port >/dev/null &
	local spid=$!
	sleep 0.5
	taskset -c "$wrk_cpus" wrk -t1 -c32 -d2s http://127.0.0.1:$port/ >/dev/null 2>&1
	: >"$out/attr-$setup"
	for r in $(seq "${BENCH_ATTR_ROUNDS:-3}"); do
		for cfg in none defaults; do
			g=
			if [ $cfg = defaults ]; then
				bin/gsrec -q -o "$out/attr.trace" -p $spid &
				g=$!
			fi
			sleep 1
			taskset -c "$wrk_cpus" wrk -t1 -c32 -d$((BENCH_SECS + 2))s http://127.0.0.1:$port/ >/dev/null 2>&1 &
			w=$!
			sleep 1
			perf record -q -a -F 999 -e cpu-clock -o "$out/attr.data" -- sleep "$BENCH_SECS" >/dev/null 2>&1
			wait $w
			if [ -n "$g" ]; then kill -INT $g; wait $g || true; fi
			# "Overhead Samples Command [k] symbol": per run, all samples, then
			# the idle, gsrec's, the server's and wrk's, and the
			# instrumentation paths' in the server, in wrk and elsewhere
			perf report -i "$out/attr.data" -n --sort comm,sym --stdio 2>/dev/null |
			awk -v cfg=$cfg '/^#/ || NF < 4 { next }
			     { n = $2; c = $3; t += n
			       if (c == "swapper") idle += n; else if (c == "gsrec") gs += n
			       if (c == "gohttp") sv += n; else if (c == "wrk") wk += n
			       if (c != "gsrec" && $0 ~ /uprobe|swbp|int3|bpf|perf_|syscall_trace|syscall_exit_work|x64_sys_call|_trace_special|nofault/) {
				       if (c == "gohttp") is += n; else if (c == "wrk") iw += n; else io += n } }
			     END { print cfg, t, idle + 0, gs + 0, sv + 0, wk + 0, is + 0, iw + 0, io + 0 }' >>"$out/attr-$setup"
		done
	done
	kill $spid; wait $spid 2>/dev/null || true
	awk '{ k[$1]++; for (i = 2; i <= NF; i++) f[$1, i] += $i / $2 * 100; sv[$1] += $7 / $5 * 100 }
	     function m(c, i) { return f[c, i] / k[c] }
	     END { printf "| %s | %.2f%% | %.2f%% (%.2f%% of its own time) | %.2f%% | %.2f%% | %.2f%% | %.1f%%, %.1f%% |\n",
			  "'"$setup"'", m("defaults", 4),
			  m("defaults", 7) - m("none", 7), sv["defaults"] / k["defaults"] - sv["none"] / k["none"],
			  m("defaults", 8) - m("none", 8), m("defaults", 9) - m("none", 9),
			  m("defaults", 4) + m("defaults", 7) + m("defaults", 8) + m("defaults", 9) - m("none", 7) - m("none", 8) - m("none", 9),
			  m("none", 3), m("defaults", 3) }' "$out/attr-$setup" | tee -a "$res"
}

if command -v wrk >/dev/null && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	configs=(none "" "--no-bpf" "--go-rate 0")
	names=("control: no recorder" "gsrec at defaults" "gsrec --no-bpf" "gsrec --go-rate 0")
	say "Throughput of a goroutine-per-request server (\`gohttp\`, wrk -t1 -c32 -d${BENCH_SECS}s,"
	say "requests/s). Runs alternate: no recorder, then each configuration with gsrec attached"
	say "1 s before wrk starts, each followed by another run without; a configuration's run"
	say "is compared with the mean of the runs without on either side of it. The control"
	say "is a run without a recorder after the same 1 s pause: it shows what the"
	say "alternation itself does to the figures. $rounds rounds in each of two set-ups."
	say ""
	# How idle CPUs wait decides what each wake-up of wrk costs the server: a
	# CPU in HLT needs an IPI, which in a guest exits to the host.
	idle_drv=$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo none)
	poll_ns=$(cat /sys/module/haltpoll/parameters/guest_halt_poll_ns 2>/dev/null || echo "n/a")
	say "Idle CPUs here: cpuidle driver $idle_drv, guest_halt_poll_ns $poll_ns (0: they halt at"
	say "once, and every wake-up of one is an IPI)."
	say ""
	say "Server-bound: the server on CPU 1 (its GOMAXPROCS follows), wrk on CPU 0, where it"
	say "uses about half; gsrec is not pinned. The server is the bottleneck and gsrec has room"
	say "beside it, as on a machine with a core to spare."
	say ""
	throughput bound 1 0
	say ""
	say "Shared: server and wrk on both CPUs, which they saturate; gsrec's own CPU is taken"
	say "from them. (With \`--releases syscalls\` every system call wrk makes would also pay"
	say "for the release stream's tracepoints; at defaults only the server's probes cost.)"
	say ""
	throughput shared 0,1 0,1
	bin/gsreport import -o "$out/http1.db" "$out/http1.trace" >/dev/null 2>&1 || true
	bin/gsreport import -o "$out/http3.db" "$out/http3.trace" >/dev/null 2>&1 || true
	say "In the last round's traces: at defaults $(sqlite3 "$out/http1.db" "SELECT count(*) FROM go_create") goroutines created and $(sqlite3 "$out/http1.db" "SELECT count(*) FROM go_exit") exited were recorded,"
	say "with the probes paused $(sqlite3 "$out/http1.db" "SELECT printf('%.0f', 100.0 * coalesce(sum(end_ns - t_ns), 0) / ((SELECT max(t_ns) - min(t_ns) FROM statm))) FROM go_pause")% of the time; with --go-rate 0, $(sqlite3 "$out/http3.db" "SELECT count(*) FROM go_create") and $(sqlite3 "$out/http3.db" "SELECT count(*) FROM go_exit"),"
	say "over $(sqlite3 "$out/http1.db" "SELECT printf('%.1f', (max(t_ns) - min(t_ns)) / 1e9) FROM statm") s and $(sqlite3 "$out/http3.db" "SELECT printf('%.1f', (max(t_ns) - min(t_ns)) / 1e9) FROM statm") s."
	say ""
	if command -v perf >/dev/null; then
		say "Where the machine's time goes, sampled on every CPU with perf (999 Hz, ${BENCH_SECS} s of"
		say "load, ${BENCH_ATTR_ROUNDS:-3} runs with gsrec at defaults alternating with runs without): gsrec's"
		say "own share, and the share each process spends in the paths gsrec's streams add"
		say "to the kernel (uprobe traps, eBPF programs, perf software events, the traced"
		say "system-call entry), with the same paths' share in the runs without taken off."
		say "Shares of all the machine's time; the host's speed, which moves throughput from"
		say "run to run, does not move them. Indirect costs (caches, wakeups) are not seen."
		say ""
		say "| set-up | gsrec | server | wrk | other processes | total | idle without, with |"
		say "|---|---|---|---|---|---|---|"
		attribution bound 1 0
		attribution shared 0,1 0,1
	fi
fi

# spin KIND: the loop on CPU 1 for 24 s, gsrec on CPU 0 from 1 s to 23 s
# with uprobe_multi links (multi) or perf-event uprobes (perf). For each
# pause that ends within the recording, the probes come back, the next
# period's share is taken in a burst, and they go off again: prints the
# target's time lost from 100 ms before their coming back to 300 ms after
# their going off, in 50 ms bins against the median bin of the 1.5 s
# before and after, averaged over those cycles, and how many there were.
spin() {
	local env="" g
	[ "$1" = perf ] && env=GSMAPPER_WITHHOLD=uprobe_multi
	taskset -c 1 "$O/workloads/goroutines" -spin 24s >"$out/spin-$1" &
	g=$!
	sleep 1
	env $env taskset -c 0 bin/gsrec -q -d 22 -o "$out/spin-$1.trace" -p $g
	wait $g
	bin/gsreport import -o "$out/spin-$1.db" "$out/spin-$1.trace" >/dev/null 2>&1
	sqlite3 -separator ' ' "$out/spin-$1.db" "SELECT 'cycle', (p.end_ns + d) / 1000000,
		(min(q.t_ns) + d) / 1000000 FROM go_pause p JOIN go_pause q ON q.t_ns > p.end_ns,
		(SELECT real_ns - mono_ns AS d FROM clock LIMIT 1) GROUP BY p.t_ns" |
	awk '$1 == "bin" { t[++n] = $2; c[n] = $3; next }
	     $1 == "cycle" { on[++k] = $2; off[k] = $3 }
	     function median(a, b, y, z,   i, m, v, j, x) {
		     m = 0
		     for (i = 1; i <= n; i++)
			     if ((t[i] >= a && t[i] < b) || (t[i] > y && t[i] <= z)) v[++m] = c[i]
		     for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
		     return m ? v[int((m + 1) / 2)] : 0 }
	     END { for (q = 1; q <= k; q++) {
			   ref = median(on[q] - 1600, on[q] - 100, off[q] + 300, off[q] + 1800)
			   for (i = 1; i <= n; i++)
				   if (t[i] >= on[q] - 100 && t[i] <= off[q] + 300 && c[i] < ref)
					   l += (ref - c[i]) / ref * 50 }
		   if (k) printf "%.0f %d\n", l / k, k; else print "- 0" }' "$out/spin-$1" -
}
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	: >"$out/spin-rounds"
	say "The probes' coming and going, seen from the target: \`goroutines -spin\` on CPU 1"
	say "starting goroutines as fast as it can, counted every 50 ms; gsrec on CPU 0 at"
	say "defaults. The target's time lost each period, from the probes' coming back,"
	say "through the burst of hits that takes the period's share, to 300 ms after their"
	say "going off again, against the rate in the 1.5 s before and after (periods in"
	say "brackets):"
	say ""
	say "| round | uprobe_multi links | perf-event uprobes |"
	say "|---|---|---|"
	for r in $(seq "${BENCH_SPIN_ROUNDS:-4}"); do
		read -r m m_k < <(spin multi)
		read -r p p_k < <(spin perf)
		echo "$m $p" >>"$out/spin-rounds"
		say "| $r | $m ms ($m_k) | $p ms ($p_k) |"
	done
	[ -s "$out/spin-rounds" ] && say "" && say "Mean: $(awk '{ m += $1; p += $2; k++ } END { printf "%.0f ms with uprobe_multi links, %.0f ms with perf-event uprobes", m / k, p / k }' "$out/spin-rounds") a period."
	say ""
fi

"$O/workloads/goroutines" -park 100000 -hold 30s >/dev/null &
wl=$!
sleep 2
bin/gsrec -q -d 10 -o "$out/park.trace" -p $wl
kill $wl; wait $wl 2>/dev/null || true
bin/gsreport import -o "$out/park.db" "$out/park.trace" >/dev/null 2>&1
say "Census of 100,000 parked goroutines over 10 s (default --census-ms 1000, budget 1% of a core):"
say "$(sqlite3 "$out/park.db" "SELECT count(*) || ' censuses of ' || max(allglen) || ' goroutines, ' || printf('%.1f', avg(cpu_ns) / 1e6) || ' ms CPU each (' || printf('%.1f', avg(wall_ns) / 1e6) || ' ms wall), ' || printf('%.2f', sum(cpu_ns) * 100.0 / ((SELECT max(t_ns) - min(t_ns) FROM statm))) || '% of a core over the recording' FROM census")."
