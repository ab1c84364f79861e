# The timeline's Pss agrees with the kernel's own figure: heapgrow reads
# /proc/self/smaps_rollup just before it exits; the last timeline row must be
# within 2% of it. Launch mode and attach mode.
. "$(dirname "$0")/lib.bash"
plan 12

last_row() {	# column NAME of the last timeline row
	"$GSREPORT" timeline "$1" | awk -F, -v col="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ v = $c } END { print v }'
}

# launch mode
"$GSREC" -q -o "$T/launch.trace" -- "$W/heapgrow" -mb 256 -hold 3s -out "$T/launch.out" >/dev/null
rc=$?
check "launch: gsrec exits with the command's status 0 (got $rc)" [ $rc -eq 0 ]
want_kb=$(awk '{print $2}' "$T/launch.out")
got=$(last_row "$T/launch.trace" pss_bytes)
check "launch: last pss_bytes $got within 2% of the workload's own Pss ${want_kb} kB" \
	within "$got" "$((want_kb * 1024))" 2
heap=$(last_row "$T/launch.trace" pss_heap)
check "launch: heap class holds the 256 MiB the workload keeps (pss_heap $heap)" \
	within "$heap" $((256 << 20)) 5
rss=$(last_row "$T/launch.trace" rss_bytes)
want_rss=$(awk '{print $4}' "$T/launch.out")
check "launch: last rss_bytes $rss within 2% of the workload's Rss ${want_rss} kB" \
	within "$rss" "$((want_rss * 1024))" 2

# attach mode: start the workload, attach, record until it exits
"$W/heapgrow" -mb 192 -steps 4 -hold 3s -out "$T/attach.out" >/dev/null &
pid=$!
execd $pid "$W/heapgrow" || notok "heapgrow did not start"
sleep 0.3
"$GSREC" -q -o "$T/attach.trace" -p $pid
rc=$?
wait $pid
check "attach: gsrec exits 0 when the target exits (got $rc)" [ $rc -eq 0 ]
want_kb=$(awk '{print $2}' "$T/attach.out")
got=$(last_row "$T/attach.trace" pss_bytes)
check "attach: last pss_bytes $got within 2% of the workload's own Pss ${want_kb} kB" \
	within "$got" "$((want_kb * 1024))" 2
"$GSREPORT" summary "$T/attach.trace" >"$T/sum" 2>&1
grep -q "pid $pid (heapgrow)" "$T/sum" && grep -q "go1\." "$T/sum" && grep -q "exited at" "$T/sum" &&
	ok "attach: summary shows pid, go version, exit" || { cat "$T/sum"; notok "attach: summary content"; }

# Attached to a process whose heap grows fast (100 to 400 MiB in 3 s,
# 25,000 page faults a second), then exits: gsrec's budget is spent on the
# faults, yet per-mapping reads go on at least every 2 s (--smaps-max-ms)
# while RSS moves (without that, 4 s apart here), and the trace ends with
# the target's last state, or says plainly that its last read is older than
# the exit.
"$W/heapgrow" -mb 400 -steps 40 -step-delay 100ms -hold 0.5s -out "$T/grow.out" >/dev/null &
pid=$!
execd $pid "$W/heapgrow" || notok "heapgrow did not start"
for _ in $(seq 200); do	# until it holds 100 MiB
	[ "$(awk '{print $2}' /proc/$pid/statm 2>/dev/null || echo 0)" -gt 25600 ] && break
	sleep 0.01
done
"$GSREC" -q -o "$T/grow.trace" -p $pid
wait $pid
"$GSREPORT" import -o "$T/grow.db" "$T/grow.trace" >/dev/null 2>&1
read -r nfull gap < <(sqlite3 -separator ' ' "$T/grow.db" "SELECT count(*), max(d) FROM (SELECT
	(lead(t_ns, 1, (SELECT max(t_ns) FROM statm)) OVER (ORDER BY id) - t_ns) / 1e9 AS d
	FROM smaps_read WHERE kind != 'rollup')")
check "a fast-growing target: $nfull per-mapping reads, never more than 2.3 s apart or before the end (at most ${gap} s)" \
	awk -v g="$gap" -v n="$nfull" 'BEGIN { exit !(n >= 2 && g <= 2.3) }'
want_kb=$(awk '{print $2}' "$T/grow.out")
last_kb=$(sqlite3 "$T/grow.db" "SELECT pss_kb FROM smaps_read WHERE kind != 'rollup' ORDER BY id DESC LIMIT 1")
said=$(sqlite3 "$T/grow.db" "SELECT text FROM message WHERE text LIKE 'the target exited % after the last per-mapping smaps read%'")
check "and its last per-mapping Pss ($last_kb kB) is the workload's own at exit ($want_kb kB) within 2%, or the trace says it is older (${said:-says nothing})" \
	eval 'within "$last_kb" "$want_kb" 2 || [ -n "$said" ]'

# the timeline's classes add up to its Pss on every fresh row (pss_fresh 1:
# a per-mapping read, which gives both), and there are such rows. How many
# reads the recording has is the budget's business (the heap's 49,000 faults
# spend it; without hogs, 2 to 7 reads were seen), so one row suffices.
read -r nfresh nbad firstbad < <("$GSREPORT" timeline "$T/attach.trace" | awk -F, '
	NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "pss_bytes") p = i; if ($i == "pss_fresh") f = i; if ($i ~ /^pss_[a-z_]+$/ && $i != "pss_bytes" && $i != "pss_fresh" && $i != "pss_age_ms") cls[i] = 1 } next }
	$f == 1 { s = 0; for (i in cls) s += $i; n++; if (s != $p) { bad++; if (!fb) fb = $1 ":" s "!=" $p } }
	END { print n + 0, bad + 0, fb ? fb : "-" }')
check "timeline: per-class Pss sums to pss_bytes on every fresh row ($nfresh rows, $nbad differ, first $firstbad)" \
	sh -c "[ $nfresh -ge 1 ] && [ $nbad -eq 0 ]"

# JSON has the same rows as CSV and parses
"$GSREPORT" timeline "$T/attach.trace" --format json >"$T/t.json"
rows_csv=$(( $("$GSREPORT" timeline "$T/attach.trace" | wc -l) - 1 ))
rows_json=$(jq length "$T/t.json" 2>/dev/null)
check "timeline json parses and has the csv's $rows_csv rows (got $rows_json)" [ "$rows_json" = "$rows_csv" ]

# A target that exits while gsrec reads its smaps: the read finds the
# address space gone half way and the text just ends. Such a read must not be
# recorded as the target's memory. heapgrow -maps 10000 makes smaps long
# (about 17 ms to read) and gsrec reads it back to back; its exit lands in a
# read about half the time, so five launches miss a regression about 1 in 30.
bad= runs=
for k in 1 2 3 4 5; do
	"$GSREC" -q -i 1 -b 100 --smaps-min-ms 1 -o "$T/cut.trace" -- \
		"$W/heapgrow" -mb 16 -steps 1 -step-delay 0 -hold 1s -maps 10000 >"$T/cut.out"
	read -r want_kb maps < <(awk '{print $2, $NF}' "$T/cut.out")
	"$GSREPORT" info "$T/cut.trace" >/dev/null 2>&1
	read -r got_kb got_maps < <(sqlite3 -separator ' ' "$T/cut.trace.db" \
		"select pss_kb, mappings from smaps_read where kind != 'rollup' order by id desc limit 1")
	runs="$runs ${got_maps:-none}/$maps"
	if [ "${got_maps:-0}" -lt $((maps - 10)) ] || ! within "${got_kb:-0}" "$want_kb" 2; then
		bad="$bad run $k: the last read has $got_maps of $maps mappings, $got_kb of $want_kb kB;"
	fi
done
check "exit during a read: the last read of each of 5 launches is whole (mappings:$runs)${bad:+;$bad}" \
	[ -z "$bad" ]
