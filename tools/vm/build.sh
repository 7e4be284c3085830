#!/bin/sh
# Builds what tools/vm/run.sh boots: Debian 12's 6.1 cloud kernel (from its
# package, fetched once with apt-get download and kept in build/vm/) and an
# initramfs holding everything the guest's run needs, since the cloud
# kernel has no 9p to share this tree: busybox (dash as /bin/sh), LuaJIT
# and the shared libraries it and the core load, busted and the Lua modules
# it needs, bash and script(1) for the readline example, readelf,
# llvm-objdump, llvm-mc and bpftool for the object and assembler specs, the
# tc and veth modules the kernel builds as modules, and this tree's lua/,
# csrc/, spec/, examples/, tools/ and the built core.  Prints the paths of
# the kernel and the initramfs.
set -e
cd "$(dirname "$0")/../.."
VM=build/vm
mkdir -p $VM

# The kernel: the newest linux-image-6.1.*-cloud-amd64 package there is.
if [ ! -f $VM/vmlinuz ] || [ ! -d $VM/modules ]; then
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.[0-9]+-[0-9]+-cloud-amd64(-unsigned)?$' |
		cut -d' ' -f1 | sort -V | tail -1)
	[ -n "$pkg" ] || { echo "vm: no linux-image-6.1.*-cloud-amd64 package in the apt sources" >&2; exit 1; }
	echo "vm: fetching $pkg" >&2
	rm -rf $VM/pkg $VM/*.deb
	(cd $VM && apt-get download -q "$pkg" >/dev/null 2>&1) ||
		{ echo "vm: apt-get download $pkg failed" >&2; exit 1; }
	dpkg-deb -x $VM/*.deb $VM/pkg
	cp $VM/pkg/boot/vmlinuz-* $VM/vmlinuz
	cp $VM/pkg/boot/config-* $VM/config
	rm -rf $VM/modules && mkdir -p $VM/modules
	for m in net/sched/sch_ingress net/sched/cls_bpf net/sched/act_bpf drivers/net/veth; do
		cp $VM/pkg/lib/modules/*/kernel/$m.ko $VM/modules/
	done
	basename $VM/pkg/lib/modules/* > $VM/release
	rm -rf $VM/pkg $VM/*.deb
fi

# The root file system, made afresh each time: the tree changes.
R=$VM/root
rm -rf $R
mkdir -p $R/usr/bin $R/usr/lib $R/usr/lib64 $R/usr/sbin $R/proc $R/sys $R/dev $R/tmp $R/root $R/etc \
	$R/work $R/usr/lib/modules
ln -s dash $R/usr/bin/sh # /bin/sh as on Debian: busybox sh runs uname in-process, no exec to trace
for d in bin lib lib64 sbin; do [ -e $R/$d ] || ln -s usr/$d $R/$d; done

# The shared libraries a binary loads, at their paths.
libs() {
	ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^\s*\(\/[^ ]*\) .*/\1/p' |
	while read -r lib; do
		[ -e "$R$lib" ] && continue
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
}
# Files at their paths, with their libraries.
copy() {
	for f in "$@"; do
		mkdir -p "$R$(dirname "$f")"
		cp -L "$f" "$R$f"
		libs "$f"
	done
}

# what the examples run, as on Debian (busybox's sh would run uname and true without an exec)
copy /usr/bin/dash /usr/bin/luajit /usr/bin/bash /usr/bin/script /usr/bin/uname /usr/bin/true /usr/bin/echo \
	/usr/bin/sleep /usr/bin/sync
libs build/bpf/core.so
copy /usr/lib/x86_64-linux-gnu/libstdc++.so.6 # what bpf.elf demangles C++ names with
# what spec/object_spec.lua reads objects with, and what the assembler specs compare with
copy /usr/bin/readelf /usr/bin/llvm-objdump /usr/sbin/bpftool /usr/bin/llvm-mc
for tree in /usr/share/lua/5.1 /usr/lib/x86_64-linux-gnu/lua/5.1 /usr/share/luajit-2.1.0-beta3; do
	mkdir -p "$R$(dirname $tree)"
	cp -rL $tree "$R$tree" 2>/dev/null || true # a dangling link of a package we do not use
done
find /usr/lib/x86_64-linux-gnu/lua/5.1 -name '*.so' | while read -r so; do copy "$so"; done
cp /usr/bin/busted $R/usr/bin/busted
cp /bin/busybox $R/usr/bin/busybox
for applet in $(busybox --list); do
	[ -e $R/usr/bin/$applet ] || ln -s busybox $R/usr/bin/$applet
done
cp $VM/modules/*.ko $R/usr/lib/modules/
echo 'root:x:0:0:root:/root:/bin/sh' > $R/etc/passwd
echo 'root:x:0:' > $R/etc/group

cp -a lua csrc spec examples tools .busted .luacheckrc README.md Makefile $R/work/
mkdir -p $R/work/build/bpf && cp build/bpf/core.so $R/work/build/bpf/
# the uprobe specs' target, built here: the guest has no compiler
mkdir -p $R/work/build/spec
cc -O1 -o $R/work/build/spec/uprobe-target spec/support/uprobe_target.c
# and the profile spec's (spec/perf_spec.lua), with frame pointers
cc -O1 -fno-omit-frame-pointer -o $R/work/build/spec/perf-target spec/support/perf_target.c
[ -n "$VM_CMD" ] && echo "$VM_CMD" > $R/work/vm-cmd
cp $VM/specs $R/work/vm-specs 2>/dev/null || echo spec/attach_spec.lua > $R/work/vm-specs
cp tools/vm/init.sh $R/init
chmod +x $R/init

(cd $R && find . | busybox cpio -o -H newc 2>/dev/null) > $VM/initramfs.cpio
echo "$VM/vmlinuz $VM/initramfs.cpio"
