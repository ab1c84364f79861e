# The heap profile of Debian's stripped caddy, read from outside under load,
# against caddy's own /debug/pprof/heap?debug=1 taken right after a GC it
# ran itself (?gc=1): for that cycle, every allocation stack (the very pcs)
# holds the same sampled in-use bytes in both.
. "$(dirname "$0")/lib.bash"
plan 3

need_root "caddy's heap profile" || exit 0
need_bpf "caddy's heap profile" || exit 0
pids=""
cleanup_hook() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }

# debug=1 text: "INUSE_OBJ: INUSE_BYTES [ALLOC_OBJ: ALLOC_BYTES] @ PC PC ...",
# one record a bucket: "PCS BYTES" (pcs as 0x..., sampled bytes), summed by
# stack, those in use only
own_stacks() {
	awk '$3 ~ /^\[/ && $0 ~ / @ / { b = $2; sub(/^.* @ /, ""); gsub(/ +$/, ""); s[$0] += b }
	     END { for (k in s) if (s[k] > 0) print k "|" s[k] }' "$1" | sort
}
# the same from the trace at snapshot SEQ: the bucket's pcs (LE u64 in a
# blob) as 0x..., and (allocs - frees) x size
trace_stacks() {
	sqlite3 -separator ' ' "$1" "SELECT hex(s.pcs), (c.allocs - c.frees) * b.size FROM heap_count c
		JOIN heap_bucket b ON b.id = c.bucket_id JOIN stack s ON s.id = b.stack_id
		WHERE c.seq BETWEEN (SELECT max(seq) FROM heap_snapshot WHERE full AND seq <= $2) AND $2
		AND NOT EXISTS (SELECT 1 FROM heap_count d WHERE d.bucket_id = c.bucket_id
		                AND d.seq > c.seq AND d.seq <= $2)" |
	awk '{ h = $1; out = ""
	       for (i = 1; i + 15 <= length(h); i += 16) {
		w = substr(h, i, 16); le = ""
		for (j = 15; j >= 1; j -= 2) le = le substr(w, j, 2)
		sub(/^0+/, "", le); out = out (out == "" ? "" : " ") "0x" tolower(le) }
	       s[out] += $2 }
	     END { for (k in s) if (s[k] > 0) print k "|" s[k] }' | sort
}

if need_prog caddy 3 "caddy's heap profile" && need_prog wrk 3 "caddy's heap profile"; then
	mkdir -p "$T/www" && head -c 1048576 /dev/urandom >"$T/www/f"
	printf '{\n\tadmin 127.0.0.1:2039\n}\n:18095 {\n\troot * %s\n\tfile_server\n}\n' "$T/www" >"$T/Caddyfile"
	caddy run --config "$T/Caddyfile" --adapter caddyfile >"$T/caddy.log" 2>&1 &
	cpid=$!; pids="$pids $cpid"
	for _ in $(seq 50); do curl -sf 127.0.0.1:2039/debug/vars >/dev/null && break; sleep 0.1; done
	"$GSREC" -q -o "$T/caddy.trace" -p $cpid 2>"$T/rec.err" &
	rec=$!
	wrk -t1 -c16 -d3s http://127.0.0.1:18095/f >"$T/wrk.out" 2>&1
	# three GCs of caddy's own, each with its profile as of that GC
	for k in 1 2 3; do
		curl -s '127.0.0.1:2039/debug/pprof/heap?gc=1&debug=1' >"$T/heap.$k"
		sleep 0.3
	done
	kill -INT $rec; wait $rec
	"$GSREPORT" import "$T/caddy.trace" -o "$T/caddy.db" >/dev/null 2>&1
	reqs=$(awk '/requests in/ { print $1 }' "$T/wrk.out")
	check "caddy served ${reqs:-no} requests under gsrec, whose trace holds $(sqlite3 "$T/caddy.db" "SELECT count(*) FROM heap_snapshot" 2>/dev/null) heap profile snapshots" \
		eval '[ "${reqs:-0}" -gt 100 ] && [ "$(sqlite3 "$T/caddy.db" "SELECT count(*) FROM heap_snapshot")" -ge 2 ]'
	# a profile whose GC cycle the trace has a snapshot of
	found="" why=""
	for k in 1 2 3; do
		n=$(awk '/^# NumGC = / { print $4 }' "$T/heap.$k")
		seq=$(sqlite3 "$T/caddy.db" "SELECT max(seq) FROM heap_snapshot WHERE cycle = ${n:-0} AND known")
		why="$why $k:${n:-?}:${seq:-none}"
		[ -n "$seq" ] && [ -n "$n" ] || continue
		found=$k
		break
	done
	if [ -n "$found" ]; then
		own_stacks "$T/heap.$found" >"$T/own"
		trace_stacks "$T/caddy.db" "$seq" >"$T/got"
		nown=$(wc -l <"$T/own")
		same=$(comm -12 "$T/own" "$T/got" | wc -l)
		check "GC cycle $n (profile $found; profiles:cycles:snapshots$why): all $nown of caddy's in-use allocation stacks have the same pcs and bytes in the trace ($same equal, $(comm -3 "$T/own" "$T/got" | wc -l) lines differ)" \
			eval '[ "$nown" -ge 2 ] && cmp -s "$T/own" "$T/got"'
		check "and the layout's checks verified the bucket list and the profile cycle" \
			eval '"$GSREPORT" info "$T/caddy.db" >"$T/info" 2>&1 &&
			      [ "$(grep -A1 -E "^  addr\.(mbuckets|mProfCycle) " "$T/info" | grep -c "verified:")" = 2 ]'
	else
		notok "no snapshot in the trace of the GC cycle of any of caddy's three profiles (profile:NumGC:snapshot$why)"
		notok "the layout's checks (not reached)"
	fi
fi
