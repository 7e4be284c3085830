#!/bin/sh
# make mutants: turn off one safeguard of the compiler at a time
# (BPFC_BREAK=name, the switches in csrc/core.h) and run the specs that
# should notice.  A mutant is killed when those specs fail; every one must be.
# Ends with "mutants: K killed of N".
cd "$(dirname "$0")/.."
SPECS="spec/regressions_spec.lua spec/compile_spec.lua spec/compile_data_spec.lua spec/semantics_spec.lua \
	spec/fuzz_findings_spec.lua spec/ir_spec.lua spec/loops_spec.lua spec/packet_spec.lua \
	spec/pktwrite_spec.lua spec/xdp_spec.lua"
NAMES=$(luajit -e 'for _, n in ipairs(require("bpf.core").info().breaks) do print(n) end')
run() {
	luajit -e 'require("busted.runner")({ standalone = false })' /usr/bin/busted -o TAP $SPECS \
		>/tmp/mutants.$$ 2>&1
}
if ! run; then
	echo "mutants: the specs fail without any switch; fix that first" >&2
	tail -20 /tmp/mutants.$$ >&2
	rm -f /tmp/mutants.$$
	exit 1
fi
killed=0 total=0
for name in $NAMES; do
	total=$((total + 1))
	if BPFC_BREAK=$name run; then
		echo "survived: $name (no spec failed without it)"
	else
		killed=$((killed + 1))
		echo "killed:   $name ($(grep -c '^not ok' /tmp/mutants.$$) specs failed)"
	fi
done
rm -f /tmp/mutants.$$
echo "mutants: $killed killed of $total"
[ "$killed" = "$total" ]
