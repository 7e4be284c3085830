#!/bin/sh
# Print a command line that runs OpenResty's luajit2 from Debian's packages,
# unpacked under build/luajit2 (it conflicts with Debian's luajit, so it is
# not installed system-wide).  Exits non-zero when it cannot be had.
cd "$(dirname "$0")/.."
ROOT="$(pwd)/build/luajit2"
if [ ! -x "$ROOT/usr/bin/luajit" ]; then
	tmp=$(mktemp -d)
	( cd "$tmp" && apt-get download luajit2 libluajit2-5.1-2 libluajit2-5.1-common >/dev/null 2>&1 ) || {
		apt-get update -qq >/dev/null 2>&1
		( cd "$tmp" && apt-get download luajit2 libluajit2-5.1-2 libluajit2-5.1-common >/dev/null 2>&1 ) || exit 1
	}
	mkdir -p "$ROOT"
	for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$ROOT"; done
	rm -rf "$tmp"
fi
jitlib=$(ls -d "$ROOT"/usr/share/luajit-2.1*/ | head -1)
echo "env LD_LIBRARY_PATH=$ROOT/usr/lib/x86_64-linux-gnu LUA_PATH=$jitlib?.lua;$LUA_PATH $ROOT/usr/bin/luajit"
