#!/usr/bin/env bash
# realbins.sh DIR: real, stripped Go release binaries built by Go releases
# this machine has no toolchain for, fetched from the npm registry (esbuild's
# Linux platform packages, one per Go release), unpacked as DIR/esbuild-GOVERSION.
# They are fetched at test time and never committed. Prints one line per
# binary: "PATH GOVERSION ESBUILD_VERSION". Exit 1 when one cannot be had.
set -eu
dir=$1
mkdir -p "$dir"
# esbuild release -> the Go release that built it: what `go version BINARY`
# says, and for 0.27.0 and 0.28.2, which keep no build info (go version
# refuses them), the one "go1.N.M" string in the binary (strings(1)).
while read -r ev gv; do
	out="$dir/esbuild-$gv"
	if [ ! -x "$out" ]; then
		tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
		(cd "$tmp" && npm pack --silent "@esbuild/linux-x64@$ev" >/dev/null 2>npm.err) || {
			echo "realbins: npm pack @esbuild/linux-x64@$ev failed: $(tail -1 "$tmp/npm.err")" >&2
			rm -rf "$tmp"; exit 1; }
		tar xzf "$tmp"/esbuild-linux-x64-"$ev".tgz -C "$tmp" package/bin/esbuild
		mv "$tmp/package/bin/esbuild" "$out"
		rm -rf "$tmp"
	fi
	echo "$out $gv $ev"
done <<'LIST'
0.16.17 go1.19.4
0.19.12 go1.20.12
0.23.1 go1.22.5
0.24.2 go1.23.1
0.27.0 go1.25.4
0.28.2 go1.26.5
LIST
