#!/bin/sh
# make test-kernel: boots Debian 12's 6.1 cloud kernel under qemu (TCG: KVM
# hangs these guests before their first message) with an initramfs that
# tools/vm/build.sh makes of this tree, runs the kernel specs and the
# examples there, and ends with the guest's line "kernel 6.1: N passed, N
# failed" (exit status 1 when any failed or the guest never said).
#   VM_SPECS="spec/attach_spec.lua ..."  what to run (default: the list below)
#   VM_TIMEOUT=minutes                   how long the guest may take (40)
#   VM_CMD='luajit x.lua'                a command to run instead (in /work, for a look around)
set -e
cd "$(dirname "$0")/../.."
for p in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static; do
	command -v "${p%%:*}" >/dev/null 2>&1 || missing="$missing ${p#*:}"
done
if [ -n "$missing" ]; then
	echo "test-kernel: installing$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

# Every spec but the two that build and install the module (they need make,
# gcc and luarocks, which the guest has not; they ask nothing of the kernel's
# version), and spec/cli_spec.lua, which builds with gcc and clang and drives
# a pty from python3: the examples among them (spec/examples_spec.lua).
: "${VM_SPECS:=$(ls spec/*_spec.lua | grep -v -e '/luarocks_spec.lua$' -e '/rockspec_spec.lua$' \
	-e '/cli_spec.lua$' | tr '\n' ' ')}"
mkdir -p build/vm
echo "$VM_SPECS" > build/vm/specs
set -- $(sh tools/vm/build.sh)
kernel=$1 initramfs=$2
log=build/vm/console.log
echo "test-kernel: booting $(cat build/vm/release) under qemu (TCG); busted's output in build/vm/output.log" >&2
rm -f build/vm/output.log
timeout "$(( ${VM_TIMEOUT:-40} * 60 ))" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 2048 \
	-nographic -no-reboot -kernel "$kernel" -initrd "$initramfs" \
	-serial mon:stdio -serial file:build/vm/output.log \
	-append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 | tee $log || true
line=$(grep -a '^kernel [0-9.]*: [0-9]* passed, [0-9]* failed' $log | tail -1 | tr -d '\r')
if [ -z "$line" ]; then
	echo "test-kernel: the guest ended without a result line (see $log)" >&2
	echo "kernel 6.1: 0 passed, 1 failed"
	exit 1
fi
echo "$line"
case "$line" in *", 0 failed") exit 0 ;; *) exit 1 ;; esac
