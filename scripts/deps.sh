#!/bin/sh
# Install the Debian packages gsmapper needs to build, test, demo and benchmark.
# Idempotent: when every package is present it prints nothing and changes nothing.
set -eu

PKGS="make gcc libc6-dev clang libclang-rt-14-dev
libzstd-dev libsqlite3-dev libelf-dev libdw-dev libbpf-dev libcapstone-dev zlib1g-dev bpftool
golang-go golang-1.19-go sqlite3 jq time util-linux bsdutils procps passwd
caddy prometheus curl binutils wrk linux-perf iproute2"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# npm fetches real Go release binaries for the tests (scripts/realbins.sh);
# a Node.js that brings its own npm (NodeSource's) conflicts with Debian's.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

echo "gsmapper: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "gsmapper: need root to install packages; run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
