# Where gsrec puts its uprobes in Go code: on the conditional jump of a
# function's stack-check prologue, else at its entry. A probe off an
# instruction boundary would corrupt the target's code, so every function
# of real binaries is checked against binutils' disassembly: the probe is
# where objdump puts that jump (after "cmp 0x10(%r14),%rsp", or after
# "lea -N(%rsp),%r12; cmp 0x10(%r14),%r12"), or at the entry when the
# function has no such prologue. runtime.madvise is probed at the CALLs
# that reach it, each checked the same way.
. "$(dirname "$0")/lib.bash"
plan 12

need_prog objdump 1 "probe offsets" || exit 0

check_bin() {	# check_bin LABEL BINARY EVERY
	local label=$1 bin=$2
	"$O/tests/probe-offsets" "$bin" "$3" >"$T/probes" || { notok "probe offsets ($label): probe-offsets failed"; return; }
	objdump -d --no-show-raw-insn -j .text "$bin" >"$T/asm" || { notok "probe offsets ($label): objdump failed"; return; }
	read -r n jumps bad offb named < <(awk '
		FNR == NR { probe[$1] = $2; name[$1] = $3; next }
		# "  401000:\tcmp    0x10(%r14),%rsp"
		match($0, /^ *[0-9a-f]+:\t/) {
			a = $1; sub(/:$/, "", a)
			insn[a] = 1
			split($0, f, "\t"); ins = f[2]
			if (a in probe) { cur = a; k = 0; want[cur] = a }
			if (cur == "") next
			k++
			if (k == 1 && ins ~ /^lea +-?0x[0-9a-f]+\(%rsp\),%r12$/) { lea = 1; next }
			if (k == 1) lea = 0
			if (k == 1 + lea && ins ~ ("^cmp +0x10\\(%r14\\)," (lea ? "%r12" : "%rsp") "$")) next
			if (k == 2 + lea && ins ~ /^jbe /) want[cur] = a
			cur = ""
		}
		END { for (e in probe) { n++; if (probe[e] != e) j++
				if (probe[e] != want[e]) { bad++; if (bad <= 3) print "mismatch", e, probe[e], want[e], name[e] > "/dev/stderr" }
				if (!(probe[e] in insn)) ob++
				if (name[e] ~ /^runtime\.(isSystemGoroutine|copystack|gcStart|gcMarkTermination)$/ && probe[e] == want[e] && probe[e] != e) nm++ }
		      print n + 0, j + 0, bad + 0, ob + 0, nm + 0 }' "$T/probes" "$T/asm" 2>"$T/mis")
	check "probe offsets ($label): $n functions, $jumps probed on their prologue's jump, as objdump has them; $bad elsewhere$( [ "$bad" -gt 0 ] && echo ": $(head -3 "$T/mis" | tr '\n' ';')")" \
		sh -c "[ $n -gt 1000 ] && [ $bad -eq 0 ] && [ \$(($jumps * 2)) -gt $n ]"
	check "probe offsets ($label): every probe on an instruction boundary ($offb off one), and the goroutine and GC probes on their jumps ($named of 4)" \
		sh -c "[ $offb -eq 0 ] && [ $named -eq 4 ]"
	# runtime.madvise is probed on the CALLs that reach it: each must be
	# one, and none may be left out (a jump to it would put the probe back
	# on its entry, and probe-offsets would exit 1).
	"$O/tests/probe-offsets" --calls runtime.madvise "$bin" >"$T/calls" ||
		{ notok "probe offsets ($label): runtime.madvise's call sites not found"; return; }
	read -r ncall missed extra < <(awk '
		FNR == NR { if (FNR == 1) target = $1; else site[$1] = 1; next }
		match($0, /^ *[0-9a-f]+:\t/) {
			a = $1; sub(/:$/, "", a); split($0, f, "\t")
			if (f[2] ~ ("^(call|jmp) +(0x)?" target "( |$)")) { n++; if (f[2] ~ /^jmp/ || !(a in site)) miss++; seen[a] = 1 }
		}
		END { for (s in site) if (!(s in seen)) x++; print n + 0, miss + 0, x + 0 }' "$T/calls" "$T/asm")
	check "probe offsets ($label): runtime.madvise probed at its $ncall calls as objdump has them ($missed left out, $extra not a call)" \
		sh -c "[ $ncall -ge 1 ] && [ $missed -eq 0 ] && [ $extra -eq 0 ]"
}

check_bin gohttp "$W/gohttp" 1
check_bin "stripped" "$W/symbols-stripped" 1
check_bin "PIE" "$W/symbols-pie" 1
if need_prog caddy 2 "probe offsets on caddy"; then
	check_bin "Debian's caddy, stripped Go 1.19" /usr/bin/caddy 5
fi
