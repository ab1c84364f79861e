#!/bin/sh
# gorelease.sh BOOTSTRAP_GO RELEASE OUT: make OUT a command that runs the Go
# toolchain RELEASE (e.g. go1.22.12). BOOTSTRAP_GO (a go command of 1.21 or
# later) fetches it from the Go module proxy the first time
# (GOTOOLCHAIN=RELEASE; kept in the module cache), and OUT runs that
# toolchain's own go command with GOTOOLCHAIN=local: the go command does not
# switch toolchains in GOPATH mode (GO111MODULE=off), which the workloads
# use; and GOENV=off: the user's `go env -w` settings may name flags an older
# release does not know. Fails, naming the problem, when the release cannot be had.
set -eu
boot=$1 rel=$2 out=$3
mkdir -p "$(dirname "$out")"
if ! root=$(GOTOOLCHAIN=$rel "$boot" env GOROOT 2>"$out.err") || [ ! -x "$root/bin/go" ]; then
	echo "gsmapper: cannot have Go $rel through $boot (GOTOOLCHAIN=$rel fetches it from" \
		"the Go module proxy): $(tail -1 "$out.err")" >&2
	rm -f "$out.err"
	exit 1
fi
rm -f "$out.err"
printf '#!/bin/sh\n# runs %s (written by scripts/gorelease.sh)\nGOENV=off GOTOOLCHAIN=local exec %s "$@"\n' \
	"$rel" "$root/bin/go" >"$out.tmp"
chmod +x "$out.tmp"
v=$("$out.tmp" env GOVERSION)
if [ "$v" != "$rel" ]; then
	echo "gsmapper: $root/bin/go is $v, not $rel" >&2
	rm -f "$out.tmp"
	exit 1
fi
mv "$out.tmp" "$out"
