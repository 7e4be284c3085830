#!/bin/sh
# The guest's /init (tools/vm/build.sh packs it): mounts what the specs
# use, loads the tc and veth modules, runs the specs listed in
# /work/vm-specs under busted and prints "kernel VERSION: N passed, N failed",
# the line tools/vm/run.sh waits for; then it powers the guest off.
export PATH=/usr/bin:/usr/sbin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for m in /lib/modules/*.ko; do insmod "$m" || echo "vm: insmod $m failed"; done
ip link set lo up
version=$(uname -r | cut -d. -f1-2)
echo "vm: kernel $(uname -r), $(nproc) CPUs; running: $(cat /work/vm-specs)"

cd /work || exit 1
export LUA_PATH="/work/lua/?.lua;/work/lua/?/init.lua;/work/?.lua;;" LUA_CPATH="/work/build/?.so;;"
export BPF_TEST_COUNTS=/tmp/counts
if [ -f /work/vm-cmd ]; then # VM_CMD: a command of one's own instead of the specs
	sh /work/vm-cmd 2>&1
	reboot -f
fi
: > $BPF_TEST_COUNTS
# shellcheck disable=SC2046
# busted's output to the second serial port (build/vm/output.log on the host, at most
# its last 4 MB),
# what failed and the result line to the console
luajit -e 'require("busted.runner")({ standalone = false })' /usr/bin/busted \
	-o spec/support/counting_output.lua $(cat /work/vm-specs) > /tmp/output.log 2>&1
tail -c 4000000 /tmp/output.log > /dev/ttyS1 # its end, where busted lists the failures (the port is slow)
sed 's/\x1b\[[0-9;]*m//g' /tmp/output.log | grep -A1 -E '^(Failure|Error) ' | grep -v -E '^(Failure|Error) |^--' |
	sed 's/^/vm: failed: /'
awk -v v="$version" '{ p += $1; f += $2 } END { if (NR == 0) f = 1; printf "kernel %s: %d passed, %d failed\n", v, p, f }' \
	$BPF_TEST_COUNTS
reboot -f
