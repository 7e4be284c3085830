#!/bin/sh
# Print a command line running a LuaJIT built without GC64 (one-slot call
# frames), compiled from Debian's luajit source package under
# build/luajit-nogc64, so the suite also covers the frame layout that
# Debian's own x86_64 build does not use.  Exits non-zero when it cannot.
cd "$(dirname "$0")/.."
ROOT="$(pwd)/build/luajit-nogc64"
if [ ! -x "$ROOT/src/luajit" ]; then
	tmp=$(mktemp -d)
	cat > "$tmp/src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	mkdir -p "$tmp/lists/partial"
	APT="-o Dir::Etc::sourcelist=$tmp/src.sources -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$tmp/lists"
	( cd "$tmp" && apt-get $APT update -qq && apt-get $APT source --download-only luajit ) \
		>/dev/null 2>&1 || { rm -rf "$tmp"; exit 1; }
	mkdir -p "$ROOT"
	tar xzf "$tmp"/luajit_*.orig.tar.gz -C "$ROOT" || exit 1
	rm -rf "$tmp"
	make -C "$ROOT" -j2 XCFLAGS=-DLUAJIT_DISABLE_GC64 >"$ROOT/build.log" 2>&1 || exit 1
fi
echo "env LUA_PATH=$LUA_PATH;$ROOT/src/?.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua LUA_CPATH=$LUA_CPATH;/usr/lib/x86_64-linux-gnu/lua/5.1/?.so $ROOT/src/luajit"
