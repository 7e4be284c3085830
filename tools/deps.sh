#!/bin/sh
# Install the Debian packages the project needs, only when some are missing.
set -e
PKGS="luajit libluajit-5.1-dev libbpf-dev libelf-dev zlib1g-dev pkg-config gcc make
      lua-busted lua-check luarocks bpftool clang llvm iproute2 qemu-system-x86 busybox-static
      python3 procps"
missing=""
for p in $PKGS; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
