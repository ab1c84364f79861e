# The runtime streams on real, stripped Go release binaries: esbuild's, from
# the npm registry (scripts/realbins.sh), built by Go 1.19.4 to 1.26.5, two
# of them without build info. Each serves a 1 MB file under load on
# loopback, launched by gsrec with GODEBUG=gctrace=1 and
# GOTRACEBACK=system, and is stopped by SIGQUIT once idle, so that its
# runtime prints every goroutine. The oracles are the binary's own runtime:
#  - GC: every cycle gctrace printed is in `gsreport gc`, exact;
#  - the census: the last one counts the goroutines the dump lists;
#  - creations: the runtime hands out goids in order, 16 at a time to each
#    P, so every goroutine created takes one and the highest (in the dump,
#    or of an exit the trace saw) bounds them: between it less 16 per P and
#    it;
#  - symbols: every frame of the dump with a pc, and the inlined frames
#    printed above it, are what `gsreport addr2line --inlines` gives for
#    that pc from the trace's tables;
#  - the layout and probes (a version table and code patterns, as the
#    binaries are stripped) verified by the target's own figures, none
#    contradicted (`gsreport info`).
. "$(dirname "$0")/lib.bash"
plan $((6 * 6))

need_root "real Go binaries' runtime streams" || exit 0
need_bpf "real Go binaries' runtime streams" || exit 0
rec=
cleanup_hook() { [ -n "$rec" ] && { kill "$rec" 2>/dev/null; wait "$rec" 2>/dev/null; }; }
need_prog npm 36 "real Go binaries from the npm registry" || exit 0
need_prog wrk 36 "real Go binaries under load" || exit 0
if ! scripts/realbins.sh "$O/realbins" >"$T/realbins" 2>"$T/realbins.err"; then
	for i in $(seq 36); do notok "real Go binaries: $(cat "$T/realbins.err")"; done
	exit 0
fi
mkdir -p "$T/www"
head -c 1000000 /dev/urandom >"$T/www/big.bin"
nproc=$(nproc)

# the live goroutines of the newest census in a trace being written, and
# how many censuses it holds so far
census_at() {
	"$GSREPORT" import "$1" -o "$T/live.db" >/dev/null 2>&1
	sqlite3 "$T/live.db" "SELECT count(*) FROM census" 2>/dev/null || echo 0
}

while read -r bin gv ev; do
	name="esbuild $ev ($gv)"
	rm -f "$T/e.trace" "$T/e.db"
	# esbuild serves until its stdin closes: a pipe the test holds open
	rm -f "$T/stdin" && mkfifo "$T/stdin"
	GODEBUG=gctrace=1 GOTRACEBACK=system "$GSREC" -q --go-rate 0 --census-ms 100 -o "$T/e.trace" \
		-- "$bin" --serve=127.0.0.1:0 --servedir="$T/www" --log-level=warning 2>"$T/e.err" <"$T/stdin" &
	rec=$!
	exec 9>"$T/stdin"
	# (no request log: the runtime writes a gctrace line in pieces, and
	# another writer's lines would come between them) its port, from ss
	port= pid=
	for _ in $(seq 100); do
		pid=$(pgrep -P "$rec" -f "$bin" | head -1)
		[ -n "$pid" ] && port=$(ss -Htlnp | awk -v p="pid=$pid," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
		[ -n "$port" ] && break
		sleep 0.1
	done
	wrk -t1 -c4 -d2s -H 'Connection: close' "http://127.0.0.1:$port/big.bin" >"$T/e.wrk" 2>&1
	# idle: every connection closed, so their goroutines have ended
	for _ in $(seq 100); do
		[ -z "$(ss -Htn state established "( sport = :$port )")" ] && break
		sleep 0.1
	done
	# then censuses after that: gsrec writes the trace out every second, so
	# once it has grown twice, the newest census in it is from after now
	c=$(census_at "$T/e.trace")
	for _ in 1 2; do
		for _ in $(seq 100); do
			n=$(census_at "$T/e.trace")
			[ "$n" -gt "$c" ] && break
			sleep 0.2
		done
		c=$n
	done
	kill -QUIT "$pid"
	wait "$rec"
	rec=
	exec 9>&-

	# GC: gctrace's cycles, every one exact
	grep -E '^gc [0-9]+ @' "$T/e.err" | awk '{print $2}' >"$T/gctrace"
	"$GSREPORT" gc --db "$T/e.db" "$T/e.trace" >"$T/gc.csv" 2>/dev/null
	ngc=$(wc -l <"$T/gctrace")
	nexact=$(awk -F, 'NR > 1 && $12 == 1' "$T/gc.csv" | wc -l)
	check "$name: every GC cycle of gctrace is in gsreport gc, exact ($nexact of $ngc; $(awk '/Requests\/sec/ {print $2}' "$T/e.wrk") requests/s)" \
		sh -c "[ $ngc -ge 5 ] && [ $nexact -eq $ngc ] && \
		       [ \"\$(awk -F, 'NR > 1 {print \$1}' '$T/gc.csv')\" = \"\$(cat '$T/gctrace')\" ]"

	# the census against the dump
	dumped=$(grep -c '^goroutine [1-9][0-9]* ' "$T/e.err")
	counted=$(sqlite3 "$T/e.db" "SELECT idle + runnable + running + syscall + waiting + copystack + preempted
		FROM census ORDER BY id DESC LIMIT 1")
	check "$name: the last census counts the $dumped goroutines of the runtime's dump (${counted:-none})" \
		[ "${counted:-0}" = "$dumped" -a "$dumped" -gt 3 ]

	# creations against the goids
	created=$(sqlite3 "$T/e.db" "SELECT count(*) FROM go_create")
	high=$( { grep -o '^goroutine [0-9]*' "$T/e.err" | awk '{print $2}'
		 sqlite3 "$T/e.db" "SELECT max(goid) FROM go_exit"; } | sort -n | tail -1)
	check "$name: $created goroutines created, and goids went to $high (between it less $((16 * nproc)) and it)" \
		[ "$created" -le "$high" -a "$created" -ge $((high - 16 * nproc)) -a "$created" -gt 50 ]

	# symbols: each physical frame of the dump (the one with a pc) and the
	# inlined frames above it, against addr2line --inlines of pc - 1 (the
	# call), but for the innermost frame of the thread the signal stopped
	# (goroutine 0, or one running), whose pc is the instruction itself
	awk '/^goroutine [0-9]+ / { run = / \[running\]:/ || /^goroutine 0 /; top = 1; n = 0; next }
	     /^created by / { getline; next }
	     /^\t/ && fn != "" { fl = $1; sub(/^\t/, "", fl); grp = grp fn "\t" fl "\n"; fn = ""
		if (match($0, / pc=0x[0-9a-f]+/)) { pc = substr($0, RSTART + 4, RLENGTH - 4)
			if (!(run && top)) printf "%s\n%s", pc, grp
			grp = ""; top = 0 }
		next }
	     /^[^ \t].*\(.*\)$/ { fn = $0; sub(/\([^()]*\)$/, "", fn); next }' "$T/e.err" >"$T/frames"
	bad=0 n=0
	{
		while read -r pc; do
			want=
			while IFS= read -r l && [ -n "$l" ]; do want="$want$l"$'\n'; done
			n=$((n + 1))
			got=$("$GSREPORT" addr2line --inlines "$T/e.db" "$(printf '%#x' $((pc - 1)))" | paste - -)$'\n'
			[ "$got" = "$want" ] || { bad=$((bad + 1)); [ $bad -le 3 ] && echo "#   $pc: runtime: $want#   ours: $got"; }
		done
	} < <(awk '/^0x/ { if (NR > 1) print ""; print; next } { print } END { print "" }' "$T/frames")
	check "$name: the $n frames of its own dump that have a pc (and those inlined into them) are ours ($bad differ)" \
		[ "$bad" -eq 0 -a "$n" -gt 20 ]

	# the layout and the probes, checked by the target's own figures
	"$GSREPORT" info "$T/e.db" >"$T/e.info" 2>&1
	nver=$(grep -c ' verified: ' "$T/e.info")
	check "$name: the layout and probes verified by its own runtime ($nver verified, $(grep -c contradicted "$T/e.info") contradicted)" \
		sh -c "! grep -q contradicted '$T/e.info' && [ $nver -ge 20 ] && \
		       awk '\$1 == \"g.sched.sp\" { getline; exit \$1 != \"verified:\" }' '$T/e.info' && \
		       grep -q '^  runtime.newproc1  *verified: ' '$T/e.info' && \
		       grep -q '^  runtime.gcMarkTermination  *verified: ' '$T/e.info'"
	check "$name: the layout came from the version table and code patterns (stripped)" \
		sh -c "grep -q '^  g.goid .*(version table' '$T/e.info' && grep -q '^  addr.allgs .*(code patterns' '$T/e.info'"
done <"$T/realbins"
