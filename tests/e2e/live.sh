# What a person at a terminal sees, and the cgroup figures against the
# kernel's own files.
. "$(dirname "$0")/lib.bash"

# The live status line appears on a terminal (script(1) gives us one) ...
script -qec "'$GSREC' -o '$T/tty.trace' -d 1 -- sleep 3" "$T/typescript" >/dev/null 2>&1
grep -q "samples, .* smaps reads, RSS .* trace .* lost 0" "$T/typescript" &&
	ok "a status line is shown on a terminal" || notok "no status line: $(tail -c 300 "$T/typescript")"
# ... and not when stderr is a file.
"$GSREC" -o "$T/tty.trace" -d 0.5 -- sleep 3 2>"$T/err" >/dev/null
grep -q "lost 0" "$T/err" && notok "status line written to a file" || ok "no status line into a file"

# Import progress on a terminal, for a trace of many records.
make -s -C "$TOP" "$O/tests/gentrace" >/dev/null 2>&1
"$O/tests/gentrace" "$T/big.trace" 300000 >/dev/null
script -qec "'$GSREPORT' import '$T/big.trace'" "$T/typescript2" >/dev/null 2>&1
grep -q "importing .*%" "$T/typescript2" && ok "import progress is shown on a terminal" ||
	notok "no import progress: $(tail -c 300 "$T/typescript2")"

# cgroup: the recorded usage is the kernel's (v2 memory.current or v1
# memory.usage_in_bytes of the target's cgroup), read just after, while the
# workload still holds its memory.
"$W/heapgrow" -mb 64 -steps 1 -hold 4s >/dev/null &
wl=$!
sleep 1
"$GSREC" -q -o "$T/cg.trace" -d 1.5 -p $wl
v2dir=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
v1dir=$(awk '$9 == "cgroup" && $NF ~ /memory/ {print $5; exit}' /proc/self/mountinfo)
cgpath=$(grep -E '^0::' /proc/self/cgroup | cut -d: -f3)
if [ -n "$v2dir" ] && [ -f "$v2dir$cgpath/memory.current" ]; then
	want=$(cat "$v2dir$cgpath/memory.current"); ver=2
else
	cgpath=$(grep -E ':memory:' /proc/self/cgroup | cut -d: -f3)
	want=$(cat "$v1dir$cgpath/memory.usage_in_bytes"); ver=1
fi
kill $wl
got=$("$GSREPORT" timeline "$T/cg.trace" | tail -1 | cut -d, -f7)
recver=$(sqlite3 "$T/cg.trace.db" "select version from cgroup limit 1")
check "cgroup v$recver recorded (kernel has v$ver); usage $got within 25% of the kernel's $want" \
	eval '[ "$recver" = "$ver" ] && within "$got" "$want" 25'
