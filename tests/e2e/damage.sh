# A damaged trace loses only its damaged chunk (FORMAT.md §3.1). The oracle
# is the file's own frame headers, walked here with od (FORMAT.md §3: a
# 24-byte header whose fields say how long the frame is and how many
# records it holds) and the import of the intact trace: for one byte flipped
# at 20 places spread over a real recording, and for 10 truncations, gsreport
# must read every record of every intact frame, report exit 0, and show no
# value the intact trace does not have (statm samples, smaps reads, CPU
# samples are compared row for row).
. "$(dirname "$0")/lib.bash"
plan 5

need_root "damaged traces" || exit 0
need_bpf "damaged traces" || exit 0

# A real recording with many chunks: CPU samples, faults, smaps reads, GC.
"$GSREC" -q -F 499 --flush-ms 100 -o "$T/good.trace" -- "$W/heapgrow" -mb 64 -steps 16 \
	-step-delay 100ms -hold 1s >/dev/null
size=$(stat -c %s "$T/good.trace")

# frames FILE: "offset length records" for each frame, from the headers alone
frames() {
	local f=$1 off=32 n
	n=$(stat -c %s "$f")
	while [ $((off + 24)) -le "$n" ]; do
		read -r magic _ _ zlen nrec _ < <(od -An -tu4 -w24 -j "$off" -N 24 "$f")
		[ "$magic" = 1179862817 ] || break	# "!GSF"
		echo "$off $((24 + zlen)) $nrec"
		off=$((off + 24 + zlen))
	done
}
frames "$T/good.trace" >"$T/frames"
nframes=$(wc -l <"$T/frames")
total=$(awk '{t += $3} END {print t}' "$T/frames")
"$GSREPORT" import -o "$T/good.db" "$T/good.trace" 2>/dev/null
read -r got ncpu < <(sqlite3 -separator ' ' "$T/good.db" \
	"SELECT (SELECT value FROM meta WHERE key='records'), (SELECT count(*) FROM cpu_sample)")
check "the intact trace: $nframes frames end at its last byte, $total records, all read ($got), $ncpu CPU samples" \
	eval '[ "$nframes" -ge 20 ] && [ "$(tail -1 "$T/frames" | awk "{print \$1 + \$2}")" = "$size" ] &&
	[ "$got" = "$total" ] && [ "$ncpu" -gt 50 ]'

# compare DB: rows of the damaged import that the intact one lacks, by table
# (0 each, or a value was made up), and what the damaged one reads. A CPU
# sample whose STACK record was lost has an unknown stack (folded names it
# so), not another one: samples are compared with their stacks' pcs.
compare() {
	sqlite3 -separator ' ' "$1" "ATTACH '$T/good.db' AS g;
		SELECT (SELECT count(*) FROM (SELECT * FROM main.statm EXCEPT SELECT * FROM g.statm)),
		(SELECT count(*) FROM (SELECT t_ns, kind, mappings, rss_kb, pss_kb FROM main.smaps_read
			EXCEPT SELECT t_ns, kind, mappings, rss_kb, pss_kb FROM g.smaps_read)),
		(SELECT count(*) FROM (SELECT r.t_ns, c.class, c.pss_kb FROM main.smaps_class c
			JOIN main.smaps_read r ON r.id = c.read_id EXCEPT SELECT r.t_ns, c.class, c.pss_kb
			FROM g.smaps_class c JOIN g.smaps_read r ON r.id = c.read_id)),
		(SELECT count(*) FROM (SELECT t_ns, tid, goid, sp_word, (SELECT pcs FROM main.stack s
			WHERE s.id = c.stack_id) FROM main.cpu_sample c
			WHERE c.stack_id IN (SELECT id FROM main.stack) EXCEPT SELECT t_ns, tid, goid,
			sp_word, (SELECT pcs FROM g.stack s WHERE s.id = c.stack_id) FROM g.cpu_sample c)),
		(SELECT value FROM main.meta WHERE key='records'),
		(SELECT count(*) FROM main.cpu_sample)"
}

# 20 flips, each in the middle of one of 20 stretches of the file
bad=
for k in $(seq 0 19); do
	at=$((32 + (2 * k + 1) * (size - 32) / 40))
	read -r foff flen fnrec < <(awk -v p="$at" '$1 <= p && p < $1 + $2' "$T/frames")
	cp "$T/good.trace" "$T/d.trace"
	byte=$(od -An -tu1 -j "$at" -N 1 "$T/d.trace" | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ 0x55)))" | dd of="$T/d.trace" bs=1 seek="$at" conv=notrunc 2>/dev/null
	rm -f "$T/d.db"
	"$GSREPORT" import -o "$T/d.db" "$T/d.trace" 2>"$T/d.err"
	rc=$?
	read -r xs xr xc xcpu rec ncpu_d < <(compare "$T/d.db")
	"$GSREPORT" folded --weight cpu "$T/d.db" >"$T/d.folded" 2>/dev/null
	frc=$?
	fsum=$(awk '{t += $NF} END {print t + 0}' "$T/d.folded")
	"$GSREPORT" timeline "$T/d.db" >"$T/d.csv" 2>/dev/null
	trc=$?
	rows=$(($(wc -l <"$T/d.csv") - 1))
	if [ $rc -ne 0 ] || [ "$rec" != $((total - fnrec)) ] || [ "$xs$xr$xc$xcpu" != 0000 ] ||
	   [ $frc -ne 0 ] || [ "$fsum" != "$ncpu_d" ] || [ $trc -ne 0 ] || [ "$rows" -lt 100 ] ||
	   ! grep -q "damaged bytes in 1 stretch were skipped" "$T/d.err"; then
		bad="$bad byte $at (frame at $foff, $fnrec records): import $rc, $rec of $((total - fnrec)) records, made-up rows $xs/$xr/$xc/$xcpu, folded cpu $frc sums $fsum of $ncpu_d samples, timeline $trc $rows rows;"
	fi
done
check "one byte flipped at 20 places: every other frame's records read, exit 0, no made-up values, folded and timeline whole${bad:+:$bad}" \
	[ -z "$bad" ]

# 10 truncations, each inside one of 10 stretches of the file
bad=
for k in $(seq 0 9); do
	cut=$((32 + (2 * k + 1) * (size - 32) / 20))
	want=$(awk -v c="$cut" '$1 + $2 <= c {t += $3} END {print t + 0}' "$T/frames")
	head -c "$cut" "$T/good.trace" >"$T/t.trace"
	rm -f "$T/t.db"
	"$GSREPORT" import -o "$T/t.db" "$T/t.trace" 2>"$T/t.err"
	rc=$?
	read -r xs xr xc xcpu rec _ < <(compare "$T/t.db")
	cutshort=$(sqlite3 "$T/t.db" "SELECT value FROM meta WHERE key='cut_short'")
	if [ $rc -ne 0 ] || [ "$rec" != "$want" ] || [ "$xs$xr$xc$xcpu" != 0000 ] ||
	   [ "$cutshort" != 1 ] || ! grep -q "cut short" "$T/t.err"; then
		bad="$bad cut at $cut: import $rc, $rec of $want records, made-up rows $xs/$xr/$xc/$xcpu, cut_short $cutshort;"
	fi
done
check "cut at 10 sizes: every whole frame before the cut read, exit 0, no made-up values${bad:+:$bad}" \
	[ -z "$bad" ]

# A stretch of zeros over several frames (a lost disk block): one gap, the
# frames after it read.
read -r z0 _ _ < <(sed -n 5p "$T/frames")
read -r z1 zl _ < <(sed -n 8p "$T/frames")
want=$(awk 'NR < 5 || NR > 8 {t += $3} END {print t}' "$T/frames")
cp "$T/good.trace" "$T/z.trace"
dd if=/dev/zero of="$T/z.trace" bs=1 seek=$((z0 + 3)) count=$((z1 + zl - z0 - 6)) conv=notrunc 2>/dev/null
"$GSREPORT" import -o "$T/z.db" "$T/z.trace" 2>"$T/z.err"
rc=$?
read -r xs xr xc xcpu rec _ < <(compare "$T/z.db")
lost=$(sqlite3 "$T/z.db" "SELECT frames_lost FROM damage")
check "zeros over frames 5 to 8: one stretch skipped, 4 frames lost ($lost), the other $want records read ($rec), nothing made up ($xs/$xr/$xc/$xcpu)" \
	eval '[ $rc -eq 0 ] && [ "$lost" = 4 ] && [ "$rec" = "$want" ] && [ "$xs$xr$xc$xcpu" = 0000 ]'
"$GSREPORT" summary "$T/z.db" >"$T/z.sum" 2>/dev/null
check "the summary says what was skipped" grep -q "DAMAGED: .*skipped .* damaged bytes in 1 stretch (4 chunks lost" "$T/z.sum"
