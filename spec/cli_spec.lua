-- bin/bpf-lua against the kernel, each subcommand run as a child process:
-- compile (one object of several programs, loaded by bpftool and by a C
-- loader built against libbpf), disasm (of that object, and of clang's,
-- whose instructions must read as llvm-objdump prints them), asm, run
-- (Ctrl-C detaches and prints the maps) and the one-liners (under a pseudo
-- terminal, Ctrl-C typed into it).  Needs gcc, clang, llvm-objdump, bpftool
-- and python3 (its pty module).
local ffi = require('ffi')
local interpreter = require('spec.support.kernel').interpreter

if not pcall(function() return ffi.C.bpf_cli_spec_getpid end) then
  ffi.cdef('int bpf_cli_spec_getpid(void) __asm__("getpid");')
end

local root = os.getenv('PWD') or '.'
local tmp = (os.getenv('TMPDIR') or '/tmp') .. ('/bpf_cli_spec_%d'):format(ffi.C.bpf_cli_spec_getpid())
local bpffs = '/sys/fs/bpf/bpf_cli_spec_' .. ffi.C.bpf_cli_spec_getpid()

-- Runs a shell command: its output (stdout and stderr) and exit status.
-- Tools run without the sanitizer runtime a test run may preload into luajit.
local function sh(cmd)
  local p = assert(io.popen('(' .. cmd .. ') 2>&1; echo "exit status $?"'))
  local out = p:read('*a')
  p:close()
  local status = tonumber(out:match('exit status (%d+)%s*$'))
  return (out:gsub('exit status %d+%s*$', '')), status
end

local function tool(cmd) return sh('env -u LD_PRELOAD ' .. cmd) end

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
  return path
end

local function read(path)
  local f = io.open(path, 'r')
  if not f then return nil end
  local s = f:read('*a')
  f:close()
  return s
end

-- bpf-lua with these arguments (a shell word list), from the checkout.
local function cli(args)
  return sh(("cd %s && '%s' %s/bin/bpf-lua %s"):format(tmp, interpreter(), root, args))
end

local function exists(path) return read(path) ~= nil end

setup(function()
  assert(os.execute('mkdir -p ' .. tmp) == 0)
end)
teardown(function()
  os.execute('rm -rf ' .. tmp .. ' ' .. bpffs)
end)

local programs_file = [[
local bpf = require('bpf')
local counts = assert(bpf.map('hash', 256, 'uint32_t', 'uint64_t'))
local opens = assert(bpf.map('array', 1, 'uint32_t', 'uint64_t'))
return {
  count_proto = { section = 'socket', fn = function(skb)
    local proto = pkt.ip.proto
    if not counts[proto] then counts[proto] = 0 end
    xadd(counts[proto], 1)
    return 0
  end },
  { section = 'tracepoint/syscalls/sys_enter_openat', name = 'on_openat', fn = function(arg)
    xadd(opens[0], 1)
    xadd(counts[arg.flags], 1)
    return 0
  end },
  pass = { type = 'xdp', fn = function(ctx) return 2 end },
  maps = { opens = opens },
}
]]

local loader_c = [[
#include <stdio.h>
#include <bpf/libbpf.h>
int main(int argc, char **argv)
{
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) { perror("open"); return 1; }
	if (bpf_object__load(obj)) { perror("load"); return 1; }
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj)
		printf("program %s %s %s\n", bpf_program__name(p), bpf_program__section_name(p),
		       bpf_program__fd(p) >= 0 ? "loaded" : "not loaded");
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj)
		printf("map %s %s\n", bpf_map__name(m), bpf_map__fd(m) >= 0 ? "created" : "missing");
	bpf_object__close(obj);
	return 0;
}
]]

describe('bpf-lua', function()
  it('prints its usage, and refuses what it does not know', function()
    local out, status = cli('--help')
    assert.equals(0, status, out)
    assert.matches('bpf%-lua compile prog%.lua', out)
    out, status = cli('frobnicate')
    assert.equals(2, status, out)
    assert.matches("bpf%-lua: unknown command 'frobnicate'", out)
    out, status = cli('compile nothere.lua')
    assert.equals(1, status, out)
    assert.matches('bpf%-lua: .*nothere%.lua', out)
  end)

  describe('compile against the kernel', function()
    it('writes the programs a file returns into one object with BTF and line info', function()
      write(tmp .. '/progs.lua', programs_file)
      local out, status = cli('compile progs.lua -o progs.o')
      assert.equals(0, status, out)
      assert.matches('progs%.o: 3 programs: on_openat %(tracepoint/syscalls/sys_enter_openat, %d+ insns%), '
        .. 'count_proto %(socket, %d+ insns%), pass %(xdp, 2 insns%)', out)

      -- bpftool loads them all; the two that name counts share one map
      os.execute('rm -rf ' .. bpffs)
      out, status = tool(('bpftool prog loadall %s/progs.o %s'):format(tmp, bpffs))
      assert.equals(0, status, out)
      local ids = {}
      for _, name in ipairs({ 'count_proto', 'on_openat', 'pass' }) do
        out, status = tool(('bpftool -j prog show pinned %s/%s'):format(bpffs, name))
        assert.equals(0, status, out)
        assert.matches('"name":"' .. name .. '"', out)
        ids[name] = out:match('"map_ids":%[([%d,]*)%]')
      end
      assert.equals(nil, ids.pass)
      assert.is_truthy(ids.on_openat:find(ids.count_proto, 1, true), 'counts is not shared')
      -- Lua line info, as the kernel keeps it
      out = tool(('bpftool prog dump xlated pinned %s/count_proto linum'):format(bpffs))
      assert.matches('local proto = pkt%.ip%.proto %[file:[^%]]*progs%.lua line_num:6', out)
      out = tool(('bpftool btf dump file %s/progs.o'):format(tmp))
      assert.matches("FUNC 'count_proto'", out)
      assert.matches("VAR 'opens'", out)
      assert.matches("VAR 'counts'", out)
      os.execute('rm -rf ' .. bpffs)

      -- and a libbpf program in C loads it
      write(tmp .. '/loader.c', loader_c)
      out, status = tool(('gcc -o %s/loader %s/loader.c -lbpf'):format(tmp, tmp))
      assert.equals(0, status, out)
      out, status = tool(('%s/loader %s/progs.o'):format(tmp, tmp))
      assert.equals(0, status, out)
      assert.matches('program on_openat tracepoint/syscalls/sys_enter_openat loaded', out)
      assert.matches('program count_proto socket loaded', out)
      assert.matches('program pass xdp loaded', out)
      assert.matches('map counts created', out)
      assert.matches('map opens created', out)
    end)

    it('says what is wrong with a file', function()
      write(tmp .. '/bad1.lua', 'return 42')
      local out, status = cli('compile bad1.lua')
      assert.equals(1, status, out)
      assert.matches('bad1%.lua returns number: expected a table of programs', out)
      write(tmp .. '/bad2.lua', "return { x = { section = 'nosuch', fn = function() return 0 end } }")
      out, status = cli('compile bad2.lua')
      assert.equals(1, status, out)
      assert.matches('program x: unknown section "nosuch"', out)
      write(tmp .. '/bad3.lua', "return { a = { section = 'xdp', fn = function() return 1 end },"
        .. " b = { section = 'xdp', fn = function() return 2 end } }")
      out, status = cli('compile bad3.lua')
      assert.equals(1, status, out)
      assert.matches('program a and program b are both in section "xdp"', out)
      write(tmp .. '/bad4.lua', "return { a = { section = 'xdp', fn = function() return nope.x end } }")
      out, status = cli('compile bad4.lua')
      assert.equals(1, status, out)
      assert.matches('bad4%.lua: program a: ', out)
    end)
  end)

  describe('disasm', function()
    it("lists an object's programs with their Lua lines, in each syntax", function()
      write(tmp .. '/progs.lua', programs_file)
      assert.equals(0, select(2, cli('compile progs.lua -o progs.o')))
      local out, status = cli('disasm progs.o')
      assert.equals(0, status, out)
      assert.matches('Disassembly of section socket:\n\ncount_proto:\n'
        .. '// progs%.lua:6  local proto = pkt%.ip%.proto\n', out)
      assert.matches('\n%s+%d+:\tr1 = 0 ll  // counts\n', out)
      assert.matches('Disassembly of section xdp:\n\npass:\n// progs%.lua:16[^\n]*\n'
        .. '   0:\tr0 = 2\n   1:\texit', out)
      out = cli('disasm progs.o --syntax classic')
      assert.matches('\n   0:\tMOV\tR0\t#2\n   1:\tEXIT', out)
      out = cli('disasm progs.o --syntax=mnemonic')
      assert.matches('\n   1:\texit', out)
      out, status = cli('disasm progs.o --syntax nosuch')
      assert.equals(1, status, out)
      assert.matches("unknown syntax 'nosuch'", out)
      out, status = cli('disasm progs.lua')
      assert.equals(1, status, out)
      assert.matches('not a BPF ELF object', out)
    end)

    -- llvm-objdump's instruction text, and ours, by section: whitespace
    -- squeezed, its <label> targets and our // notes dropped, and a call to a
    -- subprogram's relative address written the one way ("call pc-1" is "call -1")
    local function llvm_listing(text)
      local out, sec = {}, nil
      for line in text:gmatch('[^\n]+') do
        local name = line:match('^Disassembly of section (.+):$')
        if name then sec = name; out[sec] = {} end
        local ins = line:match('^%s*%d+:\t[%x ]+\t(.+)$')
        if ins and sec then
          ins = ins:gsub('%s*<[%w_.]+>$', ''):gsub('%s+', ' ')
          out[sec][#out[sec] + 1] = ins
        end
      end
      return out
    end
    local function our_listing(text)
      local out, sec = {}, nil
      for line in text:gmatch('[^\n]+') do
        local name = line:match('^Disassembly of section (.+):$')
        if name then sec = name; out[sec] = {} end
        local ins = line:match('^%s*%d+:\t(.+)$')
        if ins and sec then
          ins = ins:gsub('%s*//.*$', ''):gsub('%s+', ' '):gsub('^call pc', 'call ')
          out[sec][#out[sec] + 1] = ins
        end
      end
      return out
    end

    local clang_c = [[
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");
static __attribute__((noinline)) int helper(int a, int b) { return a * b - (a >> 2) + (b ^ 0x55); }
SEC("socket") int filt(struct __sk_buff *skb)
{
	__u32 k = skb->len % 4, w = skb->protocol;
	__u64 *v = bpf_map_lookup_elem(&vals, &k);
	if (!v)
		return 0;
	__sync_fetch_and_add(v, skb->len);
	__u64 old = __sync_fetch_and_or(v, 8);
	if ((int)w < -3 || w > 1000)
		old += helper(w, k);
	if ((__s64)old <= 12)
		return old / 3;
	return (old % 7) | (w << 3) | (__u16)skb->mark;
}
SEC("tracepoint/syscalls/sys_enter_openat") int tp(void *ctx)
{
	long x = bpf_ktime_get_ns();
	return (x >> 3) * 5 > 7 ? -1 : 1;
}
char LICENSE[] SEC("license") = "GPL";
]]

    for _, cpu in ipairs({ 'v1', 'v3' }) do
      it('reads an object clang wrote (-mcpu=' .. cpu .. ') as llvm-objdump does, in pseudo-C', function()
        write(tmp .. '/c.c', clang_c)
        local out, status = tool(('clang -O2 -g -mcpu=%s -target bpf -I/usr/include/x86_64-linux-gnu '
          .. '-c %s/c.c -o %s/c.o'):format(cpu, tmp, tmp))
        assert.equals(0, status, out)
        local theirs = llvm_listing((tool(('llvm-objdump -d %s/c.o'):format(tmp))))
        out, status = cli('disasm c.o --syntax llvm')
        assert.equals(0, status, out)
        assert.matches('\n// c%.c:%d+%s+__u32 k = skb%->len %% 4', out) -- clang's line info
        local ours = our_listing(out)
        local n = 0
        for sec, list in pairs(theirs) do
          assert.same(list, ours[sec], sec)
          n = n + #list
        end
        for sec in pairs(ours) do assert.is_truthy(theirs[sec], sec) end
        assert.is_true(n > 40)
      end)
    end
  end)

  describe('asm', function()
    it('assembles a file with bpf.asm into an object bpftool loads', function()
      write(tmp .. '/p.s', 'r0 = 2\nexit\n')
      local out, status = cli('asm p.s -o p.o --syntax pseudo-c --section xdp')
      assert.equals(0, status, out)
      out = cli('disasm p.o')
      assert.matches('Disassembly of section xdp:', out)
      assert.matches('\n   0:\tr0 = 2\n.-\n   1:\texit', out) -- (the asm lines between)
      os.execute('rm -rf ' .. bpffs)
      out, status = tool(('bpftool prog loadall %s/p.o %s'):format(tmp, bpffs))
      assert.equals(0, status, out)
      os.execute('rm -rf ' .. bpffs)
    end)
  end)

  describe('run against the kernel', function()
    local script = [[
local bpf = require('bpf')
print('args ' .. table.concat({ ... }, ',') .. ' ' .. arg[0] .. ' ' .. #arg)
opens = assert(bpf.map('hash', 64, 'uint32_t', 'uint64_t'))
local o = opens
local link = assert(bpf.tracepoint('syscalls/sys_enter_openat', function()
  local pid = bit.rshift(pid_tgid(), 32)
  if not o[pid] then o[pid] = 0 end
  xadd(o[pid], 1)
end))
print('prog fd ' .. link.prog.fd)
io.stdout:flush()
]]

    it('runs a script until Ctrl-C, then prints its maps and detaches', function()
      write(tmp .. '/script.lua', script)
      -- in the background; its pid and output in files
      local cmd = ("cd %s && { '%s' %s/bin/bpf-lua run script.lua a b >run.out 2>run.err & echo $! >run.pid; "
        .. "wait $!; echo $? >run.status; } &"):format(tmp, interpreter(), root)
      os.execute(cmd)
      local pid, fd
      for _ = 1, 100 do
        pid = tonumber(read(tmp .. '/run.pid') or '')
        fd = (read(tmp .. '/run.out') or ''):match('prog fd (%d+)')
        if pid and fd and (read(tmp .. '/run.err') or ''):find('Ctrl%-C') then break end
        os.execute('sleep 0.05')
      end
      assert.is_truthy(fd, (read(tmp .. '/run.out') or '') .. (read(tmp .. '/run.err') or ''))
      local prog_id = (read(('/proc/%d/fdinfo/%s'):format(pid, fd)) or ''):match('prog_id:%s*(%d+)')
      assert.is_truthy(prog_id)
      for _ = 1, 5 do read('/etc/hostname') end -- openat from this process
      os.execute('kill -INT ' .. pid)
      for _ = 1, 100 do
        if read(tmp .. '/run.status') then break end
        os.execute('sleep 0.05')
      end
      assert.equals('0\n', read(tmp .. '/run.status'), read(tmp .. '/run.err'))
      local out = read(tmp .. '/run.out')
      assert.matches('^args a,b script%.lua 2\n', out)
      local me = ffi.C.bpf_cli_spec_getpid()
      local n = tonumber(out:match('\nopens%[' .. me .. '%]: (%d+)\n'))
      assert.is_truthy(n and n >= 5, out)
      -- nothing holds the program any more
      local show, status = tool('bpftool prog show id ' .. prog_id)
      assert.are_not.equals(0, status, show)
    end)

    it('prints the maps of a script that attaches nothing, and its errors', function()
      write(tmp .. '/quick.lua', [[
local bpf = require('bpf')
local m = assert(bpf.map('array', 4, 'uint32_t', 'uint64_t'))
m[2] = 7
return { m = m, other = 1 }
]])
      local out, status = cli('run quick.lua')
      assert.equals(0, status, out)
      assert.equals('m[2]: 7\n', out)
      write(tmp .. '/fails.lua', 'error("no luck")')
      out, status = cli('run fails.lua')
      assert.equals(1, status, out)
      assert.matches('bpf%-lua: .*no luck', out)
    end)
  end)

  describe('one-liners against the kernel', function()
    -- Runs argv under a pseudo terminal for `seconds`, then types Ctrl-C: what it printed, its status.
    local pty_py = [[
import os, pty, sys, time, select
secs = float(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out = b''
def drain(until):
    global out
    while time.time() < until:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                b = os.read(fd, 65536)
            except OSError:
                return
            if not b:
                return
            out += b
drain(time.time() + secs)
os.write(fd, b'\x03')
drain(time.time() + 5)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
sys.stdout.write('\nexit %d\n' % code)
]]
    -- A process named cli_spec_gen that opens a file every 10 ms for `seconds`.
    local gen = [[
local ffi = require('ffi')
ffi.cdef 'int prctl(int option, const char *arg2); int poll(void *fds, unsigned long n, int timeout);'
ffi.C.prctl(15, 'cli_spec_gen')
local stop = os.time() + tonumber(arg[1])
while os.time() <= stop do
  local f = io.open('/etc/hostname')
  if f then f:close() end
  ffi.C.poll(nil, 0, 10)
end
]]

    it('counts by comm() live in a terminal, redrawn in place, until Ctrl-C', function()
      write(tmp .. '/ptyrun.py', pty_py)
      write(tmp .. '/gen.lua', gen)
      os.execute(("'%s' %s/gen.lua 4 &"):format(interpreter(), tmp))
      local out, status = sh(("cd %s && env -u LD_PRELOAD python3 ptyrun.py 2.5 '%s' %s/bin/bpf-lua -e "
        .. "tracepoint:syscalls/sys_enter_openat 'count(comm())'"):format(tmp, interpreter(), root))
      assert.equals(0, status, out)
      assert.matches('exit 0\n$', out)
      assert.matches('tracepoint:syscalls/sys_enter_openat count%(comm%(%)%)', out)
      assert.matches('\27%[%d+F\27%[J', out) -- redrawn in place
      local n = tonumber(out:match('\ncli_spec_gen%s+(%d+)\r?\n'))
      assert.is_truthy(n and n > 0, out)
    end)

    it('prints plain lines when stdout is no terminal, and sums and histograms', function()
      write(tmp .. '/gen.lua', gen)
      -- opens for as long as the four one-liners below may take, however loaded the machine
      os.execute(("'%s' %s/gen.lua 30 &"):format(interpreter(), tmp))
      local out, status = cli("-e tracepoint:syscalls/sys_enter_openat 'count(comm())' --duration 2")
      assert.equals(0, status, out)
      assert.is_falsy(out:find('\27', 1, true))
      assert.matches('\n%-%- 1 s\n', out)
      assert.matches('\ncli_spec_gen%s+%d+\n', out)
      out, status = cli("-e tracepoint:syscalls/sys_enter_read 'sum(arg.count, pid())' --duration 1")
      assert.equals(0, status, out)
      out, status = cli("-e tracepoint:syscalls/sys_enter_openat 'hist(arg.flags)' --duration 1")
      assert.equals(0, status, out)
      assert.matches('arg%.flags%s+: count%s+distribution', out)
      out, status = cli("-e tracepoint:syscalls/sys_enter_openat 'count()' --duration 1")
      os.execute('pkill -x cli_spec_gen 2>/dev/null') -- (else it stops by itself)
      assert.equals(0, status, out)
      assert.matches('\ncount %d+\n', out)
    end)

    it('attaches uprobes, and says why a kprobe cannot', function()
      local out, status = cli("-e uprobe:/bin/bash:readline 'count(pid())' --duration 1")
      assert.equals(0, status, out)
      if exists('/sys/bus/event_source/devices/kprobe/type') then
        out, status = cli("-e kprobe:do_sys_openat2 'count(comm())' --duration 1")
        assert.equals(0, status, out)
      else
        out, status = cli("-e kprobe:do_sys_openat2 'count(comm())' --duration 1")
        assert.equals(1, status, out)
        assert.matches('this kernel has no kprobes', out)
      end
      out, status = cli("-e nosuch:thing 'count()'")
      assert.equals(1, status, out)
      assert.matches("unknown probe kind 'nosuch'", out)
      out, status = cli("-e tracepoint:syscalls/sys_enter_openat 'avg(arg.flags)'")
      assert.equals(1, status, out)
      assert.matches("unknown aggregation 'avg'", out)
    end)
  end)
end)
