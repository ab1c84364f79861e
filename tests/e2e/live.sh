# What a person at a terminal sees, and the cgroup figures against the
# kernel's own files.
. "$(dirname "$0")/lib.bash"
plan 4

# The live status line appears on a terminal (script(1) gives us one) ...
script -qec "'$GSREC' -o '$T/tty.trace' -d 1 -- sleep 3" "$T/typescript" >/dev/null 2>&1
grep -q "samples, .* smaps reads, RSS .* trace .* lost 0" "$T/typescript" &&
	ok "a status line is shown on a terminal" || notok "no status line: $(tail -c 300 "$T/typescript")"
# ... and not when stderr is a file.
"$GSREC" -o "$T/tty.trace" -d 0.5 -- sleep 3 2>"$T/err" >/dev/null
grep -q "lost 0" "$T/err" && notok "status line written to a file" || ok "no status line into a file"

# Import progress on a terminal, for a trace of many records.
make -s -C "$TOP" O="$O" "$O/tests/gentrace" >/dev/null 2>&1
"$O/tests/gentrace" "$T/big.trace" 300000 >/dev/null
script -qec "'$GSREPORT' import '$T/big.trace'" "$T/typescript2" >/dev/null 2>&1
grep -q "importing .*%" "$T/typescript2" && ok "import progress is shown on a terminal" ||
	notok "no import progress: $(tail -c 300 "$T/typescript2")"

# cgroup: the recorded usage is the kernel's own figure for the target's
# cgroup. The workload runs alone in a child memory cgroup made for it
# (nothing else is charged there), holds its heap steady, and the kernel's
# usage is read just before and just after the recording: the last row's
# usage must lie between the two (within 1% and a page or so of cache).
need_root "cgroup figures" || exit 0
v2dir=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
v1dir=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
if [ -n "$v2dir" ] && grep -qw memory "$v2dir/cgroup.controllers" 2>/dev/null; then
	ver=2 base=$v2dir$(grep -E '^0::' /proc/self/cgroup | cut -d: -f3) file=memory.current
else
	ver=1 base=$v1dir$(grep -E ':memory:' /proc/self/cgroup | cut -d: -f3) file=memory.usage_in_bytes
fi
cg="$base/gsmapper-live-$$"
mkdir "$cg" || notok "cannot make a child cgroup under $base"
cleanup_hook() { kill $wl 2>/dev/null; wait $wl 2>/dev/null; rmdir "$cg" 2>/dev/null; }
sh -c "echo \$\$ >'$cg/cgroup.procs' && exec '$W/heapgrow' -mb 64 -steps 1 -hold 30s" >/dev/null &
wl=$!
execd $wl "$W/heapgrow" || notok "heapgrow did not start"
for _ in $(seq 200); do	# until it holds its 64 MiB
	[ "$(awk '{print $2}' /proc/$wl/statm 2>/dev/null || echo 0)" -gt 16384 ] && break
	sleep 0.05
done
before=$(cat "$cg/$file")
"$GSREC" -q -o "$T/cg.trace" -d 1.5 -p $wl
after=$(cat "$cg/$file")
got=$("$GSREPORT" timeline "$T/cg.trace" | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "cgroup_usage_bytes") c = i; next } { v = $c } END { print v }')
read -r recver recpath < <(sqlite3 -separator ' ' "$T/cg.trace.db" "select version, path from cgroup order by rowid desc limit 1")
lo=$((before < after ? before : after)) hi=$((before > after ? before : after))
check "cgroup v$recver of the target's own cgroup ($recpath; kernel has v$ver): usage $got between the kernel's $before and $after read around the recording" \
	eval '[ "$recver" = "$ver" ] && [ "$recpath" = "${cg#$base}" -o "${recpath##*/}" = "gsmapper-live-$$" ] &&
	[ "$got" -ge $((lo - lo / 100 - 65536)) ] && [ "$got" -le $((hi + hi / 100 + 65536)) ] && [ "$got" -gt $((60 << 20)) ]'
