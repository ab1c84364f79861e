# The runtime layout: the version table agrees with DWARF; addresses found
# from code patterns agree with .symtab; on stripped binaries the memstats
# found reads what the program's own runtime.ReadMemStats says; a Go version
# outside the table is reported and symbolization still works.
. "$(dirname "$0")/lib.bash"
plan 22
LAY="$O/tests/golayout"

# The oracles come from outside gsmapper: struct offsets from the binary's
# DWARF as Go's own debug/dwarf reads it (tests/tools/godwarf), addresses
# from go tool nm. golayout prints gsmapper's layout (DWARF, the version
# table, code patterns); NAME is gsmapper's name for a field, mapped here to
# the runtime's struct.
oracle_offsets() {	# BINARY: "NAME OFFSET" for every field golayout names
	"$LAY" "$1" 2>/dev/null | awk '$1 !~ /^addr/ { split($1, p, "."); st = p[1]; s = "?"
		if (st == "g") s = "runtime.g"; if (st == "m") s = "runtime.m"
		if (st == "mstats") s = "runtime.mstats"; if (st == "gcController") s = "runtime.gcControllerState"
		print $1, s, substr($1, length(st) + 2) }' | "$GS/tests/godwarf" "$1"
}
oracle_addrs() {	# BINARY: "addr.NAME ADDRESS" (decimal) from go tool nm
	"$GO" tool nm "$1" | awk '$3 ~ /^runtime\.(memstats|mheap_|allgs|allglen|gcController|mbuckets|MemProfileRate|mProfCycle|mProf)$/ { if ($3 == "runtime.mProf") $3 = "runtime.mProfCycle";
		sub(/^runtime\./, "", $3); print "addr." $3, $1 }' | while read -r n a; do
		echo "$n $((16#$a))"; done | sort
}

for b in symbols symbols-pie cgosym heapgrow; do
	oracle_offsets "$W/$b" | sort >"$T/want"
	"$LAY" "$W/$b" 2>/dev/null | grep -v '^addr' | awk '{print $1, $2}' | sort >"$T/dwarf"
	"$LAY" --no-dwarf "$W/$b" 2>/dev/null | grep -v '^addr' | awk '{print $1, $2}' | sort >"$T/table"
	n=$(wc -l <"$T/want")
	check "$b: DWARF (debug/dwarf) gives all $n offsets, and gsmapper's DWARF reading and its version table both agree ($(diff "$T/want" "$T/table" | grep -c '^>') differ from the table)" \
		eval '[ "$n" -ge 25 ] && ! grep -q " -1$" "$T/want" && cmp -s "$T/want" "$T/dwarf" && cmp -s "$T/want" "$T/table"'
	oracle_addrs "$W/$b" >"$T/nm"
	ms=$(awk '$1 == "addr.memstats" {print $2}' "$T/nm")
	lg=$(awk '$1 == "mstats.last_gc_unix" {print $2}' "$T/want")
	echo "addr.memstats.last_gc_unix $((ms + lg))" >>"$T/nm"
	sort -o "$T/nm" "$T/nm"
	"$LAY" --no-symtab "$W/$b" 2>/dev/null | grep '^addr' | grep -v allglen | awk '{print $1, $2}' | sort >"$T/code"
	grep -v allglen "$T/nm" >"$T/nm.code"
	check "$b: code patterns find go tool nm's addresses ($(tr '\n' ' ' <"$T/code"))" \
		eval '[ "$(wc -l <"$T/nm.code")" -ge 8 ] && cmp -s "$T/nm.code" "$T/code"'
	# &memstats.last_gc_unix by a pattern that needs no mstats offsets (so
	# it works for releases the table lacks)
	c=$("$LAY" --no-symtab --no-mstats "$W/$b" 2>/dev/null | awk '$1 == "addr.memstats.last_gc_unix" {print $2}')
	check "$b: the GC run found without mstats offsets is at memstats + $lg ($c)" [ "$c" = $((ms + lg)) ]
done

# A stripped binary, live: the memstats the layout finds holds the runtime's figures.
"$W/gcstats-stripped" -gcs 6 -hold 4s >"$T/gc.out" &
wl=$!
for _ in $(seq 50); do [ -s "$T/gc.out" ] && break; sleep 0.1; done
"$GSREC" -q -o "$T/gc.trace" -d 0.5 -p $wl
"$LAY" "$W/gcstats-stripped" $wl 2>/dev/null | tail -1 >"$T/live"
"$LAY" --no-mstats "$W/gcstats-stripped" $wl 2>/dev/null | tail -1 >"$T/live2"
kill $wl 2>/dev/null
read -r _ want_n _ want_t _ <"$T/gc.out"
read -r _ _ got_n _ got_t <"$T/live"
check "stripped: memstats read from outside says NumGC $got_n LastGC $got_t, the runtime $want_n $want_t" \
	[ "$got_n" = "$want_n" -a "$got_t" = "$want_t" -a "$want_n" -ge 6 ]
check "stripped, without mstats offsets: the same figures" cmp -s "$T/live" "$T/live2"
# ... and the trace holds that same layout
"$GSREPORT" info "$T/gc.trace" | awk '/^  (g|m|mstats|gcController|addr)\./ {print $1, ($2 == "not" ? -1 : $2)}' |
	while read -r f v; do echo "$f $((v))"; done >"$T/trace.lay"	# addresses are hex there
"$GSREPORT" info "$T/gc.trace" | grep '^  addr\.' >"$T/info.addr"
check "info writes addresses in hex ($(grep -cE '^  addr\.[A-Za-z_.]+ +0x[0-9a-f]+ ' "$T/info.addr") of $(wc -l <"$T/info.addr"))" \
	eval '[ "$(wc -l <"$T/info.addr")" -ge 5 ] && ! grep -vqE "^  addr\.[A-Za-z_.]+ +(0x[0-9a-f]+ |not found)" "$T/info.addr"'
"$LAY" "$W/gcstats-stripped" 2>/dev/null | awk '{print $1, $2}' >"$T/tool.lay"
cmp -s "$T/trace.lay" "$T/tool.lay" && ok "the trace holds the layout ($(wc -l <"$T/trace.lay") values)" ||
	notok "trace layout differs: $(diff "$T/trace.lay" "$T/tool.lay" | head -4 | tr '\n' ' ')"
"$GSREPORT" info "$T/gc.trace" | grep -q "addr.memstats .*(code patterns (pclntab))" &&
	ok "info names the source of each value" || notok "info lacks sources"

# A Go version outside the table: said clearly, symbolization unharmed.
cp "$W/gcstats-stripped" "$T/go99"
# the version string sits at byte 33 of .go.buildinfo (after a length byte)
off=$((16#$(readelf -SW "$T/go99" | awk '/ \.go\.buildinfo / {for (i = 1; i < NF; i++) if ($i == "PROGBITS") print $(i + 2)}') + 33))
printf 'go1.99.8' | dd of="$T/go99" bs=1 seek="$off" conv=notrunc 2>/dev/null
"$GSREC" -o "$T/go99.trace" -- "$T/go99" -gcs 1 -hold 0.2s >/dev/null 2>"$T/err"
rc=$?
grep -q "runtime layout: not found: g.stack.lo" "$T/err" && [ $rc -eq 0 ] &&
	ok "Go 1.99 (outside the table): recorded, and the missing layout is named" ||
	notok "Go 1.99: rc $rc: $(cat "$T/err")"
"$GSREPORT" info "$T/go99.trace" | grep -q "go1.99.8" && ok "info shows the unknown version" || notok "info"
check "Go 1.99: the heap profile stays off, and gsrec says why, on stderr and in the trace" \
	eval 'grep -q "heap profile not recorded: the buckets of Go 1.99 are not known" "$T/err" &&
	      "$GSREPORT" import "$T/go99.trace" -o "$T/go99.db" >/dev/null 2>&1 &&
	      [ "$(sqlite3 "$T/go99.db" "SELECT count(*) FROM message WHERE text LIKE '"'"'heap profile not recorded: the buckets of Go 1.99%'"'"'")" = 1 ] &&
	      [ "$(sqlite3 "$T/go99.db" "SELECT count(*) FROM heap_snapshot")" = 0 ]'
entry=$("$O/tests/pcln-addr2line" --entries "$T/go99" | sed -n 100p)
check "Go 1.99: addr2line still works from pclntab" \
	[ "$("$GSREPORT" addr2line "$T/go99.trace" "$entry" | paste - -)" = "$(echo "$entry" | "$GO" tool addr2line "$T/go99" | paste - -)" ]

# Debian's caddy: addresses found in the stripped binary read the memstats
# that caddy itself reports at /debug/vars.
if need_prog caddy 1 "caddy's memstats"; then
	mkdir -p "$T/www"
	printf '{\n\tadmin localhost:2019\n}\n:18081 {\n\troot * %s\n\tfile_server\n}\n' "$T/www" >"$T/Caddyfile"
	caddy run --config "$T/Caddyfile" --adapter caddyfile >"$T/caddy.log" 2>&1 &
	cpid=$!
	cleanup_hook() { kill $cpid 2>/dev/null; wait $cpid 2>/dev/null; }
	for _ in $(seq 50); do curl -sf localhost:2019/debug/vars >/dev/null && break; sleep 0.1; done
	curl -s localhost:2019/debug/vars >/dev/null	# a first GC may come with start-up
	same=0
	for _ in 1 2 3; do
		# not jq: it reads numbers as doubles, and LastGC needs 61 bits
		a=$(curl -s localhost:2019/debug/vars | grep -oE '"(NumGC|LastGC)": *[0-9]+' | sort | awk -F': *' '{print $2}' | tac | tr '\n' ' ' | sed 's/ $//')
		b=$("$LAY" /usr/bin/caddy $cpid 2>/dev/null | awk '/^live/ {print $3, $5}')
		c=$(curl -s localhost:2019/debug/vars | grep -oE '"(NumGC|LastGC)": *[0-9]+' | sort | awk -F': *' '{print $2}' | tac | tr '\n' ' ' | sed 's/ $//')
		[ "$a" = "$c" ] && { [ "$a" = "$b" ] && same=1; break; }
	done
	check "caddy: memstats read from outside ($b) equals caddy's /debug/vars ($a)" [ $same -eq 1 ]
fi
