# Golden traces (tests/golden/README.md): good, cut short, damaged and
# foreign inputs each get their documented result and never a crash.
. "$(dirname "$0")/lib.bash"
plan 17
G="$TOP/tests/golden"

expect() {	# expect FILE EXIT-CODE STDERR-PATTERN [SUMMARY-PATTERN]
	local f=$1 code=$2 pat=$3 spat=${4:-}
	"$GSREPORT" summary --db :memory: "$G/$f" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ $rc -eq "$code" ] && { if [ -z "$pat" ]; then [ ! -s "$T/err" ]; else grep -q -- "$pat" "$T/err"; fi; } &&
	   { [ -z "$spat" ] || grep -q -- "$spat" "$T/out"; }; then
		ok "$f: exit $code, says '${pat:-nothing}'"
	else
		notok "$f: exit $rc (want $code); stderr: $(head -c 300 "$T/err")"
	fi
}
expect good.trace 0 '' "closed cleanly; .* in 7 chunks"
expect truncated.trace 0 "is damaged.*frame 6 is cut short" "DAMAGED: .* in 6 chunks"
expect bitflip.trace 0 "is damaged.*fails its checksum.*344 damaged bytes in 1 stretch were skipped (1 chunks lost)" \
	"DAMAGED: read .* in 6 chunks; skipped 344 damaged bytes in 1 stretch (1 chunks lost, 3 per-mapping smaps reads not rebuilt)"
expect wrong-magic.trace 4 "not a gsmapper trace"
expect newer-version.trace 4 "version 2.0 is newer than this build reads (version 1.x"
expect empty.trace 4 "the file is empty"
expect not-a-trace.trace 4 "not a gsmapper trace"
for cmd in timeline import; do
	out=$("$GSREPORT" $cmd "$G/empty.trace" -o "$T/x" 2>&1); rc=$?
	check "$cmd of an empty trace exits 4 (got $rc)" [ $rc -eq 4 ]
done

# The good trace holds what its writer counted: its END record's figures.
cp "$G/good.trace" "$T/good.trace"
"$GSREPORT" import "$T/good.trace" 2>/dev/null
q() { sqlite3 "$T/good.trace.db" "$1"; }
check "every statm sample the writer counted is in the database" \
	[ "$(q 'select statm_samples from recording')" = "$(q 'select count(*) from statm')" ]
check "every smaps read the writer counted is in the database" \
	[ "$(q 'select smaps_reads + rollup_reads from recording')" = "$(q 'select count(*) from smaps_read')" ]
check "the writer's record count (+1 for END) is what was read" \
	[ "$(q 'select records + 1 from recording')" = "$(q "select value from meta where key='records'")" ]

# An up-to-date database is reused; a changed trace is imported again.
m1=$(stat -c %Y.%N "$T/good.trace.db" 2>/dev/null; stat -c %i "$T/good.trace.db")
sleep 1.1
"$GSREPORT" summary "$T/good.trace" >/dev/null 2>&1
m2=$(stat -c %Y.%N "$T/good.trace.db" 2>/dev/null; stat -c %i "$T/good.trace.db")
check "an up-to-date database is reused, not rebuilt" [ "$m1" = "$m2" ]
touch "$T/good.trace"
"$GSREPORT" summary "$T/good.trace" >/dev/null 2>&1
m3=$(stat -c %Y.%N "$T/good.trace.db" 2>/dev/null; stat -c %i "$T/good.trace.db")
check "a trace modified since its import is imported again" [ "$m3" != "$m2" ]
# the database can be given directly
"$GSREPORT" summary "$T/good.trace.db" >"$T/s2" 2>&1
check "summary reads a database given directly" grep -q "closed cleanly" "$T/s2"
# a trace in a folder we cannot write is imported into memory, with a note
if need_root "read-only trace folder"; then
	chmod 0755 "$T" && mkdir "$T/ro" && cp "$G/good.trace" "$T/ro/" && chmod 0555 "$T/ro"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$GSREPORT" summary "$T/ro/good.trace" 2>&1)
	rc=$?
	echo "$out" | grep -q "importing into memory" && [ $rc -eq 0 ] &&
		ok "a trace in a read-only folder is reported from memory" ||
		notok "read-only folder: rc $rc: $out"
fi

# SCHEMA.md's query for "mappings live at read R" rebuilds every read's total.
bad=$(sqlite3 "$T/good.trace.db" "SELECT count(*) FROM smaps_read r WHERE kind != 'rollup' AND
	pss_kb != (SELECT sum(v.pss_kb) FROM mapping m JOIN mapping_value v ON v.mapping_id = m.id
	WHERE m.first_read <= r.id AND (m.last_read IS NULL OR m.last_read >= r.id)
	AND v.read_id = (SELECT max(read_id) FROM mapping_value WHERE mapping_id = m.id AND read_id <= r.id))")
n=$(sqlite3 "$T/good.trace.db" "SELECT count(*) FROM smaps_read WHERE kind != 'rollup'")
check "mapping/mapping_value rebuild the Pss of all $n reads ($bad differ)" [ "$bad" = 0 -a "$n" -gt 3 ]
