#!/bin/sh
# Run the whole suite: lint, then the busted specs under every LuaJIT build
# we support: Debian's luajit, OpenResty's luajit2 (tools/luajit2.sh) and a
# build without GC64 (tools/luajit-nogc64.sh); then the kernel specs on
# Debian's 6.1 kernel under qemu.  Ends with the line "N passed, N failed",
# both kernels' counts in it.
cd "$(dirname "$0")/.."
COUNTS=$(mktemp)
export BPF_TEST_COUNTS="$COUNTS"
lint_failed=0
echo "== luacheck"
if luacheck -q lua spec examples bench tools; then echo "luacheck: clean"; else lint_failed=1; fi

mkdir -p build
sh tools/vm/run.sh > build/vm-run.log 2>&1 &
vm_pid=$!

run_busted() { # $1 = label, rest = interpreter command
	label=$1; shift
	echo "== busted on $label"
	before=$(wc -l < "$COUNTS")
	"$@" -e 'require("busted.runner")({ standalone = false })' /usr/bin/busted \
		-o spec/support/counting_output.lua spec
	if [ "$(wc -l < "$COUNTS")" = "$before" ]; then
		echo "busted on $label did not finish" >&2
		echo "0 1" >> "$COUNTS"
	fi
}

run_busted "luajit ($(luajit -v | cut -d' ' -f1-2))" luajit
if LJ2=$(sh tools/luajit2.sh); then
	run_busted "OpenResty luajit2" $LJ2
else
	echo "OpenResty luajit2 is not available" >&2
	echo "0 1" >> "$COUNTS"
fi

if LJ1=$(sh tools/luajit-nogc64.sh); then
	run_busted "LuaJIT without GC64 (one-slot frames)" $LJ1
else
	echo "LuaJIT without GC64 could not be built from Debian's source package" >&2
	echo "0 1" >> "$COUNTS"
fi

# What needs no kernel (make check: lint, the compiler and ISA data files),
# once as an unprivileged user, to show that it passes without root.
echo "== make check as an unprivileged user"
before=$(wc -l < "$COUNTS")
UCOUNTS=$(mktemp)
if [ "$(id -u)" = 0 ]; then
	chown 65534:65534 "$UCOUNTS"
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
	as_user=""
fi
if ! $as_user test -r Makefile -a -r build/bpf/core.so; then
	echo "make check: the tree or build/ is not readable by the unprivileged user" >&2
elif ! $as_user env HOME=/nonexistent TMPDIR=/tmp BPF_TEST_COUNTS="$UCOUNTS" \
		make -s check BUSTED_OPTS="-o spec/support/counting_output.lua"; then
	echo "make check failed as an unprivileged user" >&2
fi
cat "$UCOUNTS" >> "$COUNTS"
rm -f "$UCOUNTS"
if [ "$(wc -l < "$COUNTS")" = "$before" ]; then
	echo "make check as an unprivileged user did not finish" >&2
	echo "0 1" >> "$COUNTS"
fi

# The C core under AddressSanitizer and UBSan: the specs that drive it hardest.
echo "== sanitizers"
before=$(wc -l < "$COUNTS")
LUA_CPATH="$(pwd)/build/asan/?.so;;" ASAN_OPTIONS=detect_leaks=0 \
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
	luajit -e 'require("busted.runner")({ standalone = false })' /usr/bin/busted \
	-o spec/support/counting_output.lua spec/compile_spec.lua spec/disasm_spec.lua spec/asm_spec.lua \
	spec/object_spec.lua spec/compile_data_spec.lua spec/regressions_spec.lua spec/semantics_spec.lua \
	spec/fuzz_findings_spec.lua
if [ "$(wc -l < "$COUNTS")" = "$before" ]; then
	echo "the sanitizer run did not finish" >&2
	echo "0 1" >> "$COUNTS"
fi

# The specs and the examples once more on Debian's 6.1 kernel under qemu
# (tools/vm/run.sh), where kprobes exist and features differ: started at
# the beginning, it runs beside the host's runs (the guest takes one core).
echo "== kernel 6.1 under qemu"
wait "$vm_pid"
grep -a -e '^vm: ' -e '^test-kernel' -e '^kernel ' build/vm-run.log
vm_line=$(tail -1 build/vm-run.log)
case "$vm_line" in
	"kernel "*": "*" passed, "*" failed")
		echo "$vm_line" | sed 's/^kernel [0-9.]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/' >> "$COUNTS" ;;
	*) echo "the 6.1 guest gave no result line (see build/vm-run.log)" >&2; echo "0 1" >> "$COUNTS" ;;
esac

awk -v lint="$lint_failed" '{ p += $1; f += $2 } END { printf "%d passed, %d failed\n", p + (lint ? 0 : 1), f + lint; exit (f + lint) ? 1 : 0 }' "$COUNTS"
rc=$?
rm -f "$COUNTS"
exit $rc
