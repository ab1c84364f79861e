# Go binaries of every release, built here or real ones from the npm
# registry: the version gsrec names, and symbols from the trace against
# `go tool addr2line` of the newest toolchain (it reads every release's
# pclntab). Go 1.26 stopped keeping the text address in pclntab's header,
# and some release builds keep no build info: both are covered.
. "$(dirname "$0")/lib.bash"

NEWGO=${NEWGO:-/usr/local/go/bin/go}
plan $((2 * 6 + 2 * 4 + 1))

# addr2line_check NAME BINARY TRACE: 3000 pcs spread over the binary's
# functions, through gsreport addr2line (the trace's tables alone) and go
# tool addr2line (the binary): the same function and file:line for each.
addr2line_check() {
	local name=$1 bin=$2 tr=$3
	"$O/tests/pcln-addr2line" --random 3000 7 "$bin" >"$T/pcs" 2>"$T/pcs.err"
	"$GSREPORT" addr2line "$tr" <"$T/pcs" >"$T/ours" 2>"$T/ours.err"
	"$NEWGO" tool addr2line "$bin" <"$T/pcs" >"$T/theirs" 2>&1
	local n differ known
	n=$(wc -l <"$T/pcs")
	differ=$(diff "$T/ours" "$T/theirs" | grep -c '^<')
	known=$(grep -vc '^?' "$T/theirs")
	check "$name: symbols of $n pcs as go tool addr2line has them ($differ lines differ, $known known to it)" \
		sh -c "[ $n -eq 3000 ] && [ $differ -eq 0 ] && [ $known -ge 5000 ] && \
		       [ \$(wc -l <'$T/ours') -eq 6000 ]"
}

# record NAME BINARY ARGS...: a short launch of BINARY (its stdin kept open,
# as esbuild --serve needs), its trace in $T/NAME.trace
record() {
	local name=$1; shift
	"$GSREC" -q -d 1 -o "$T/$name.trace" -- "$@" >/dev/null 2>"$T/$name.err" < <(sleep 10)
}

version_check() {	# NAME TRACE WANT
	local got
	got=$("$GSREPORT" info "$2" 2>&1 | awk '/^  go version:/ { print $3; exit }')
	check "$1: gsrec names the Go version $got ($3 expected)" [ "$got" = "$3" ]
}

# Real binaries of releases this machine cannot build.
if need_prog npm 12 "real Go binaries from the npm registry"; then
	if ! scripts/realbins.sh "$O/realbins" >"$T/realbins" 2>"$T/realbins.err"; then
		for i in $(seq 12); do notok "real Go binaries: $(cat "$T/realbins.err")"; done
	else
		mkdir -p "$T/www" && echo hi >"$T/www/index.html"
		while read -r bin gv ev; do
			record "esbuild-$gv" "$bin" --serve=127.0.0.1:0 --servedir="$T/www"
			version_check "esbuild $ev ($gv)" "$T/esbuild-$gv.trace" "$gv"
			addr2line_check "esbuild $ev ($gv)" "$bin" "$T/esbuild-$gv.trace"
		done <"$T/realbins"
	fi
fi

# Built here by the newest toolchain: stripped, PIE and cgo (external
# linking: C code comes before the Go text), and one with its build info
# removed, whose version must still be right.
goversion=$("$NEWGO" env GOVERSION)
build() {	# build OUT DIR FLAGS...
	local out=$1 dir=$2; shift 2
	(cd "tests/workloads/$dir" && GOCACHE="$O/gocache-new" GO111MODULE=off GOTOOLCHAIN=local \
		"$NEWGO" build "$@" -o "$out" .) 2>"$T/build.err"
}
build "$T/stripped" symbols -ldflags='-s -w'
build "$T/pie" symbols -buildmode=pie
build "$T/cgo" cgosym
objcopy --remove-section=.go.buildinfo "$T/stripped" "$T/noinfo"
for b in stripped pie cgo noinfo; do
	record "$b" "$T/$b" -run 3s
	version_check "$goversion, $b" "$T/$b.trace" "$goversion"
	addr2line_check "$goversion, $b" "$T/$b" "$T/$b.trace"
done
check "the build info really was removed (go version reads the original, not the copy)" \
	sh -c "'$NEWGO' version '$T/noinfo' 2>&1 | grep -q 'could not read Go build info' && \
	       '$NEWGO' version '$T/stripped' | grep -q ': $goversion\$'"
