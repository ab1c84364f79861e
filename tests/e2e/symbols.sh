# Self-contained symbolization: traces of Go binaries in several shapes are
# symbolized by `gsreport addr2line` from the trace alone, and must agree
# line for line with `go tool addr2line` on every function entry and
# thousands of random pcs; inlined frames must match the Go runtime's own;
# a deleted binary still symbolizes; Debian's stripped caddy too.
. "$(dirname "$0")/lib.bash"
plan 24
PCLN="$O/tests/pcln-addr2line"
GOSYM="$GS/tests/gosym-addr2line"
# caddy is Debian's (Go 1.19): its oracle is the library of the Go that
# built the default workloads, whichever release the matrix runs
CADDY_GOSYM="$O/tests/gosym-addr2line"

# compare OURS ORACLE MIN: identical, line for line and in length, on at
# least MIN addresses, except that where the oracle knows no Go function
# ("?" / "?:0", e.g. cgo's C code) we may name an ELF symbol.
compare() {
	paste - - <"$1" >"$T/a"
	paste - - <"$2" >"$T/b"
	[ "$(wc -l <"$T/a")" = "$(wc -l <"$T/b")" ] || { echo "# lengths differ"; return 1; }
	paste "$T/a" "$T/b" | awk -F'\t' -v min="$3" '
		$1 == $3 && $2 == $4 { next }
		$3 == "?" && $4 == "?:0" && $2 == "?:0" { c++; next }
		{ bad++; if (bad <= 3) print "#   differs: " $0 }
		END { print "# " NR " addresses, " c + 0 " only we could name, " bad + 0 " differ"
		      exit bad > 0 || NR < min }'
}

goversion=$("$GO" env GOVERSION)
versions=
for shape in symbols symbols-stripped symbols-pie cgosym; do
	cp "$W/$shape" "$T/bin-$shape"
	"$GSREC" -q -o "$T/$shape.trace" -- "$T/bin-$shape" -run 0.5s >"$T/$shape.out"
	versions="$versions $("$GSREPORT" info "$T/$shape.trace" 2>&1 | awk '/^  go version:/ { print $3; exit }')"
	{ "$PCLN" --entries "$T/bin-$shape"; "$PCLN" --random 4000 42 "$T/bin-$shape"; } >"$T/$shape.addrs" 2>/dev/null
	"$GSREPORT" addr2line "$T/$shape.trace" <"$T/$shape.addrs" >"$T/$shape.ours" 2>"$T/err"
	if [ "$shape" = symbols-pie ]; then
		# Go 1.19's go tool addr2line cannot read PIE pclntab sections
		# (.data.rel.ro.gopclntab): its library, debug/gosym, can.
		"$GOSYM" "$T/bin-$shape" <"$T/$shape.addrs" >"$T/$shape.oracle"
		oracle="debug/gosym (go tool addr2line's library)"
	else
		"$GO" tool addr2line "$T/bin-$shape" <"$T/$shape.addrs" >"$T/$shape.oracle"
		oracle="go tool addr2line"
	fi
	n=$(wc -l <"$T/$shape.addrs")
	compare "$T/$shape.ours" "$T/$shape.oracle" 4000 &&
		ok "$shape: gsreport addr2line agrees with $oracle on $n pcs" ||
		notok "$shape: disagrees with $oracle ($(head -c 200 "$T/err"))"
done
check "each shape's trace names the Go version that built it ($goversion:$versions)" \
	[ "$versions" = " $goversion $goversion $goversion $goversion" ]
# The PIE oracle is go tool addr2line's library: it must equal the tool itself
# wherever the tool can read the binary.
"$GOSYM" "$T/bin-symbols" <"$T/symbols.addrs" | cmp -s - "$T/symbols.oracle" &&
	ok "the debug/gosym oracle equals go tool addr2line on the default build" ||
	notok "the debug/gosym oracle differs from go tool addr2line"

# Inlined frames: the runtime's own (runtime.CallersFrames in the workload).
pc=$(awk '/^inline/ {print $2}' "$T/symbols.out")
# the runtime's logical frames at that pc: those in the function that holds
# the first (same entry), the inlined ones and it
awk '/^frame/ { if (!e) e = $5; if ($5 == e) print $2 "\t" $3 ":" $4 }' "$T/symbols.out" >"$T/rt.frames"
"$GSREPORT" addr2line --inlines "$T/symbols.trace" "$(printf '0x%x' $((pc - 1)))" | paste - - >"$T/our.frames"
k=$(wc -l <"$T/our.frames")
cmp -s "$T/rt.frames" "$T/our.frames" && [ "$k" -ge 2 ] &&
	ok "inlined frames at $pc match the runtime's ($k frames)" ||
	notok "inlined frames differ: ours $(tr '\n' ' ' <"$T/our.frames") runtime $(tr '\n' ' ' <"$T/rt.frames")"

# Load bias, from the trace's mappings: the runtime address the workload
# printed for main.spin, less the bias, is main.spin in the file.
for shape in symbols symbols-pie; do
	a=$(awk '/^func main.spin/ {print $3}' "$T/$shape.out")
	bias=$("$GSREPORT" info "$T/$shape.trace" | awk '/load bias 0x/ {print $3; exit}')
	got=$("$GSREPORT" addr2line "$T/$shape.trace" "$(printf '0x%x' $((a - bias)))" | head -1)
	check "$shape: main.spin at run time $a, load bias $bias: symbolizes to $got" [ "$got" = main.spin ]
done

# Frame sizes (pcsp), which the unwinder will use: against DWARF's CFA.
for shape in symbols cgosym; do
	out=$("$O/tests/pcsp-check" "$W/$shape" 20000)
	check "$shape: pcsp agrees with DWARF call frame information ($out)" \
		eval 'echo "$out" | awk "{exit !(\$3 > 18000 && \$5 == 0)}"'
done

# The binary can go: the trace is enough.
rm -f "$T/bin-symbols" "$T/symbols.trace.db"
"$GSREPORT" addr2line "$T/symbols.trace" <"$T/symbols.addrs" >"$T/after-rm" 2>/dev/null
cmp -s "$T/after-rm" "$T/symbols.ours" && ok "after the binary is deleted, addr2line answers the same" ||
	notok "addr2line changed after deleting the binary"
"$GSREPORT" summary "$T/symbols.trace" | grep -q "# symbols: .* objects, .* bytes of tables" &&
	ok "the summary states what the symbol tables add" || notok "summary lacks the symbols line"

# Non-Go objects: libc's functions, from its embedded dynamic symbols.
libc=$(awk '$NF ~ /libc\.so\.6$/ {print $NF; exit}' /proc/self/maps)
want=$(nm -D --defined-only "$libc" | awk '$3 ~ /^malloc(@|$)/ {print "0x" $1; exit}')
got=$("$GSREPORT" addr2line --object libc.so.6 "$T/cgosym.trace" "$want" | head -1)
check "libc symbols from the trace: $want is malloc (got $got)" [ "$got" = malloc ]
check "an unknown object: nothing to report (exit 6)" \
	sh -c "'$GSREPORT' addr2line --object nosuch.so '$T/cgosym.trace' 0x1000 2>/dev/null; [ \$? -eq 6 ]"
"$GSREPORT" addr2line "$T/cgosym.trace" zzz >/dev/null 2>&1
check "a malformed address is a usage error" [ $? -eq 2 ]

# Debian's caddy: stripped, externally linked. Go 1.19's go tool addr2line
# bases entries on the .text section there, which starts 0x100 before Go's
# code, so the oracle is its library with runtime.text as the runtime has it
# (moduledata.text); the running caddy's own goroutine dump checks it too.
if need_prog caddy 3 "caddy's symbols"; then
	mkdir -p "$T/www" && echo hello >"$T/www/index.html"
	printf '{\n\tadmin localhost:2019\n}\n:18080 {\n\troot * %s\n\tfile_server\n}\n' "$T/www" >"$T/Caddyfile"
	caddy run --config "$T/Caddyfile" --adapter caddyfile >"$T/caddy.log" 2>&1 &
	cpid=$!
	cleanup_hook() { kill $cpid 2>/dev/null; wait $cpid 2>/dev/null; }
	for _ in $(seq 50); do curl -sf localhost:18080/ >/dev/null && break; sleep 0.1; done
	"$GSREC" -q -o "$T/caddy.trace" -d 1 -p $cpid
	{ "$PCLN" --entries /usr/bin/caddy | awk 'NR % 5 == 0'; "$PCLN" --random 4000 7 /usr/bin/caddy; } >"$T/caddy.addrs"
	"$GSREPORT" addr2line "$T/caddy.trace" <"$T/caddy.addrs" >"$T/caddy.ours"
	"$CADDY_GOSYM" -runtime-text /usr/bin/caddy <"$T/caddy.addrs" >"$T/caddy.oracle"
	compare "$T/caddy.ours" "$T/caddy.oracle" 4000 &&
		ok "caddy: agrees with debug/gosym at runtime.text on $(wc -l <"$T/caddy.addrs") pcs" ||
		notok "caddy: disagrees with debug/gosym"
	curl -s 'localhost:2019/debug/pprof/goroutine?debug=1' |
		awk -F'\t' '/^#\t0x/ {sub(/\+0x[0-9a-f]+$/, "", $3); print $2 "\t" $3 "\t" $NF}' | sort -u >"$T/rt"
	bad=0
	while IFS=$'\t' read -r pc name fl; do
		got=$("$GSREPORT" addr2line --inlines "$T/caddy.trace" "$pc" | head -2 | paste - -)
		[ "$got" = "$name	$fl" ] || { bad=$((bad + 1)); echo "#   $pc runtime: $name $fl, ours: $got"; }
	done <"$T/rt"
	n=$(wc -l <"$T/rt")
	check "caddy: the running caddy's own stack frames ($n) match ours, inlined ones too" \
		[ "$bad" -eq 0 -a "$n" -gt 10 ]
	"$GSREPORT" info "$T/caddy.trace" >"$T/info"
	raw=$(awk '/go.pclntab/ {for (i = 1; i <= NF; i++) if ($i == "go.pclntab") print $(i + 1)}' "$T/info" | tr -d ',' | head -1)
	comp=$(awk '/^symbol tables:/ {print $6}' "$T/info")
	check "caddy: embedded tables take $comp bytes, no more than its pclntab ($raw)" [ "$comp" -le "$raw" ]
fi

# Bad binaries: a clear error, never a crash.
printf 'hello\n' >"$T/text"
"$PCLN" "$T/text" </dev/null 2>"$T/e"; grep -q "not an ELF file" "$T/e" && ok "not ELF: says so" || notok "not ELF: $(cat "$T/e")"
"$PCLN" /bin/true </dev/null 2>"$T/e"; grep -q "no .gopclntab" "$T/e" && ok "not Go: says so" || notok "not Go: $(cat "$T/e")"
head -c 300000 "$W/symbols" >"$T/trunc"
"$PCLN" "$T/trunc" <"$T/symbols.addrs" >/dev/null 2>"$T/e"
rc=$?; check "truncated ELF: exit $rc, no crash ($(head -c 80 "$T/e"))" [ $rc -lt 128 ]
cp "$W/symbols" "$T/corrupt"
off=$((16#$(readelf -SW "$T/corrupt" | awk '/ \.gopclntab / {for (i = 1; i < NF; i++) if ($i == "PROGBITS") print $(i + 2)}')))
dd if=/dev/urandom of="$T/corrupt" bs=1 seek=$((off + 65536)) count=65536 conv=notrunc 2>/dev/null
"$PCLN" "$T/corrupt" <"$T/symbols.addrs" >/dev/null 2>&1
rc=$?; check "corrupt pclntab: no crash (exit $rc)" [ $rc -lt 128 ]
dd if=/dev/urandom of="$T/corrupt" bs=1 seek="$off" count=64 conv=notrunc 2>/dev/null
"$PCLN" "$T/corrupt" </dev/null 2>"$T/e"
check "corrupt pclntab header: an error ($(head -c 80 "$T/e"))" grep -q "pclntab" "$T/e"
