-- Links against the running kernel: programs attached for real to a packet
-- socket on lo, a caller's socket, tracepoints, raw tracepoints, uprobes on a
-- C program built here, XDP on lo; kprobes give the no-kprobes error on a
-- kernel without them.  Counts are exact: each program only counts what
-- this spec does itself (its ports, its pid, its binary).  Every link must
-- detach on close, on GC and at exit, and leave no fd behind.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local attach = require('bpf.attach')
local libbpf = require('bpf.libbpf')
local lo = require('examples.lib.loopback')

ffi.cdef [[
int bpf_attach_spec_getpid(void) __asm__("getpid");
int bpf_attach_spec_getppid(void) __asm__("getppid");
long bpf_attach_spec_recv(int fd, void *buf, size_t len, int flags) __asm__("recv");
int bpf_attach_spec_open(const char *path, int flags) __asm__("open");
long bpf_attach_spec_pread(int fd, void *buf, size_t len, int64_t off) __asm__("pread64");
int bpf_attach_spec_close(int fd) __asm__("close");
]]
local C = ffi.C
local MSG_DONTWAIT = 0x40

-- This process's open fds, counted in-process (no child, no pipe), after
-- a full collection so that garbage still holding an fd does not count.
local function open_fds()
  collectgarbage('collect')
  collectgarbage('collect')
  return require('spec.support.kernel').open_fd_count()
end

-- The links not closed yet, after a full collection: a link an earlier
-- spec dropped without closing is garbage that may or may not have been
-- collected, so it must not count.
local function open_links()
  collectgarbage('collect')
  collectgarbage('collect')
  return attach.open_links()
end

-- Waits (up to a second) until counter() reaches want, then a little
-- longer so that anything extra would show.
local function settle(counter, want)
  for _ = 1, 100 do
    if counter() >= want then break end
    lo.sleep(0.01)
  end
  lo.sleep(0.02)
  return counter()
end

local run_child = require('spec.support.kernel').run_child

local function xdp_prog_id(ifindex)
  local id = ffi.new('uint32_t[1]')
  assert.equals(0, libbpf.lib.bpf_xdp_query_id(ifindex, 0, id))
  return id[0]
end

local getppid_nr = ({ x64 = 110, arm64 = 173 })[ffi.arch]

describe('bpf.socket', function()
  it('counts exactly the UDP, TCP and ICMP packets this spec sends on lo', function()
    local counts = assert(bpf.map('array', 4))
    local listener, udp_port = lo.udp_listener(0)
    local tcp_port = udp_port == 65535 and 65534 or udp_port + 1 -- nobody listens: refused
    local link = assert(bpf.socket('lo', function(skb)
      if skb.pkt_type ~= 0 then return 0 end -- the received copy only, not the outgoing one
      if eth.type ~= c.eth.ip then return 0 end
      local ip = pkt.ip
      if ip.proto == c.ip.proto_udp then
        if ip.udp.dst_port == udp_port then xadd(counts[0], 1) end
      elseif ip.proto == c.ip.proto_tcp then
        if ip.tcp.dst_port == tcp_port or ip.tcp.src_port == tcp_port then xadd(counts[1], 1) end
      elseif ip.proto == c.ip.proto_icmp then
        if ip.icmp.data(0, 4) == 'LBPF' then xadd(counts[2], 1) end
      end
      return 0
    end))
    assert.equals('socket', link.kind)
    assert.equals('socket_filter', link.prog.type)
    assert.is_true(link:fd() >= 0)
    lo.udp(udp_port, 5)
    lo.tcp_refused(tcp_port, 3)   -- a SYN and a RST each
    lo.icmp_echo(2, 'LBPF marks this spec') -- a request and a reply each
    local function total() return counts[0] + counts[1] + counts[2] end
    settle(total, 5 + 6 + 4)
    assert.same({ 5, 6, 4 }, { counts[0], counts[1], counts[2] })
    link:close()
    assert.equals(-1, link:fd())
    lo.udp(udp_port, 3)
    lo.icmp_echo(1, 'LBPF')
    lo.sleep(0.05)
    assert.same({ 5, 6, 4 }, { counts[0], counts[1], counts[2] })
    lo.close(listener)
    assert.is_true(link:close()) -- closing again is harmless
  end)

  it('filters a socket the caller owns, and leaves it open when detached', function()
    local seen = assert(bpf.map('array', 1))
    local fd, port = lo.udp_listener(0)
    local link = assert(bpf.socket(fd, function(skb)
      xadd(seen[0], 1)
      return skb.len -- keep the datagram
    end))
    assert.equals(fd, link:fd())
    lo.udp(port, 4, 'four')
    local buf = ffi.new('char[64]')
    local got = 0
    for _ = 1, 100 do
      if C.bpf_attach_spec_recv(fd, buf, 64, MSG_DONTWAIT) == 4 then got = got + 1 end
      if got == 4 then break end
      lo.sleep(0.005)
    end
    assert.equals(4, got)
    assert.equals(4, seen[0])
    link:close()
    lo.udp(port, 2, 'more')
    lo.sleep(0.02)
    assert.equals(4, seen[0])
    -- the socket is still the caller's, and still receives
    assert.equals(4, tonumber(C.bpf_attach_spec_recv(fd, buf, 64, MSG_DONTWAIT)))
    lo.close(fd)
  end)

  it('accepts an fd as cdata, a compiled program and a loaded one', function()
    local prog = assert(bpf(function() return 0 end))
    local fd = lo.udp_listener(0)
    local link = assert(bpf.socket(ffi.new('int', fd), prog))
    assert.equals('socket_filter', link.prog.type)
    local handle = link.prog
    link:close()
    assert.equals(-1, handle.fd) -- loaded here, so closed here
    local loaded = assert(prog:load('socket_filter'))
    link = assert(bpf.socket(fd, loaded))
    link:close()
    assert.is_true(loaded.fd >= 0) -- the caller's: still open
    loaded:close()
    lo.close(fd)
  end)

  it('says what is wrong', function()
    local ok_prog = function() return 0 end
    local link, err = bpf.socket('no-such-if0', ok_prog)
    assert.is_nil(link)
    assert.matches('no network interface named "no%-such%-if0"', err)
    link, err = bpf.socket({}, ok_prog)
    assert.is_nil(link)
    assert.matches('expected an interface name, a socket fd', err)
    link, err = bpf.socket('lo', 42)
    assert.is_nil(link)
    assert.matches('expected a Lua function, a compiled program', err)
    link, err = bpf.socket('lo', function() return undefined_thing end) -- luacheck: ignore 113
    assert.is_nil(link)
    assert.matches("unknown global 'undefined_thing'", err)
    local tp_prog = assert(bpf(function() return 0 end):load('tracepoint'))
    link, err = bpf.socket('lo', tp_prog)
    assert.is_nil(link)
    assert.matches('needs a socket_filter program, this one was loaded as tracepoint', err)
    tp_prog:close()
    link, err = bpf.socket(123456, ok_prog) -- not an fd
    assert.is_nil(link)
    assert.matches('SO_ATTACH_BPF: Bad file descriptor', err)
  end)
end)

describe('bpf.tracepoint', function()
  local mypid = C.bpf_attach_spec_getpid()

  it('counts exactly the getppid() calls of this process, with the record as context', function()
    local counts = assert(bpf.map('array', 2))
    local link = assert(bpf.tracepoint('syscalls/sys_enter_getppid', function(arg)
      if bit.rshift(pid_tgid(), 32) == mypid then
        xadd(counts[0], 1)
        if arg.__syscall_nr == getppid_nr then xadd(counts[1], 1) end
      end
    end))
    assert.equals('tracepoint', link.kind)
    assert.equals('tracepoint', link.prog.type)
    for _ = 1, 37 do C.bpf_attach_spec_getppid() end
    assert.equals(37, counts[0])
    assert.equals(37, counts[1])
    link:close()
    for _ = 1, 5 do C.bpf_attach_spec_getppid() end
    assert.equals(37, counts[0])
  end)

  it('reads sched_switch records by field name (arg.prev_pid)', function()
    local seen = assert(bpf.map('array', 1))
    local link = assert(bpf.tracepoint('sched/sched_switch', function(arg)
      if arg.prev_pid == mypid then xadd(seen[0], 1) end
    end))
    for _ = 1, 5 do lo.sleep(0.002) end -- each sleep switches this process out
    link:close()
    assert.is_true(seen[0] >= 5)
  end)

  it('names an unknown tracepoint, and a tracefs that cannot be mounted', function()
    local link, err = bpf.tracepoint('syscalls/sys_enter_nothing_like_this', function() end)
    assert.is_nil(link)
    assert.matches('no tracepoint syscalls/sys_enter_nothing_like_this', err)
    link, err = bpf.tracepoint('not a path', function() end)
    assert.is_nil(link)
    assert.matches('is not a tracepoint path', err)
    local tracepoint = require('bpf.tracepoint')
    local root = tracepoint.root
    tracepoint.root = '/nonexistent/tracing'
    link, err = bpf.tracepoint('syscalls/sys_enter_getppid', function() end)
    tracepoint.root = root
    assert.is_nil(link)
    assert.matches('tracefs is not mounted and mounting it at /nonexistent/tracing failed', err)
  end)
end)

describe('bpf.raw_tracepoint', function()
  it('counts exactly this process\'s getppid() calls at sys_enter', function()
    local mypid = C.bpf_attach_spec_getpid()
    local counts = assert(bpf.map('array', 1))
    local link = assert(bpf.raw_tracepoint('sys_enter', function(ctx)
      -- sys_enter(struct pt_regs *regs, long id)
      if bit.rshift(pid_tgid(), 32) == mypid and ctx.arg1 == getppid_nr then xadd(counts[0], 1) end
    end))
    assert.equals('raw_tracepoint', link.prog.type)
    for _ = 1, 23 do C.bpf_attach_spec_getppid() end
    link:close()
    for _ = 1, 3 do C.bpf_attach_spec_getppid() end
    assert.equals(23, counts[0])
    local bad, err = bpf.raw_tracepoint('no_such_raw_tracepoint', function() end)
    assert.is_nil(bad)
    assert.matches('bpf.raw_tracepoint%("no_such_raw_tracepoint"%): attaching: No such file', err)
  end)
end)

-- The uprobe target, spec/support/uprobe_target.c, built in a directory of
-- its own: bump() is called n times (n from the command line).
local function build_target()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute('mkdir -p ' .. dir) == 0 or true)
  local has_cc = os.execute('command -v cc >/dev/null 2>&1')
  local cmd = (has_cc == 0 or has_cc == true) and 'cc -O1 -o %s/target spec/support/uprobe_target.c'
    or 'cp build/spec/uprobe-target %s/target' -- no compiler here: the copy tools/vm/build.sh made
  local ok = os.execute(cmd:format(dir))
  assert(ok == 0 or ok == true, 'could not build the uprobe target: ' .. cmd:format(dir))
  return dir .. '/target', dir
end

local function run(path, n)
  local ok = os.execute(('%s %d'):format(path, n))
  assert(ok == 0 or ok == true, path .. ' failed')
end

local function uprobe_events()
  local f = io.open(require('bpf.tracepoint').mount() .. '/uprobe_events', 'r')
  if not f then return '' end
  local text = f:read('*a')
  f:close()
  return text
end

describe('bpf.uprobe', function()
  local target, dir
  setup(function() target, dir = build_target() end)
  teardown(function() os.execute('rm -rf ' .. dir) end)

  it('counts every call of a function, and sums what it returns', function()
    local events_before = uprobe_events()
    local counts = assert(bpf.map('array', 2, 'uint32_t', 'uint64_t'))
    local entry = assert(bpf.uprobe(target .. ':bump', function() xadd(counts[0], 1) end))
    local ret = assert(bpf.uprobe(target .. ':bump', function(regs) xadd(counts[1], regs.ret) end, true))
    assert.equals('uprobe', entry.kind)
    assert.equals('uretprobe', ret.kind)
    assert.equals('kprobe', entry.prog.type)
    assert.is_true(entry:fd() >= 0)
    run(target, 100)
    assert.equals(100, tonumber(counts[0]))
    assert.equals(5050, tonumber(counts[1])) -- 1 + 2 + ... + 100
    entry:close()
    ret:close()
    run(target, 10)
    assert.equals(100, tonumber(counts[0]))
    assert.equals(events_before, uprobe_events()) -- the PMU leaves nothing in tracefs
  end)

  it('only sees the process it is given', function()
    local counts = assert(bpf.map('array', 2))
    local mine = assert(bpf.uprobe(target .. ':bump', function() xadd(counts[0], 1) end, false,
      C.bpf_attach_spec_getpid()))
    local all = assert(bpf.uprobe(target .. ':bump', function() xadd(counts[1], 1) end))
    run(target, 7)
    mine:close()
    all:close()
    assert.equals(0, counts[0])
    assert.equals(7, counts[1])
  end)

  it('finds a C++ method by its demangled name', function()
    local counts = assert(bpf.map('array', 2))
    local link = assert(bpf.uprobe(target .. ':kt::StashDB::accept', function() xadd(counts[0], 1) end))
    local handle = assert(bpf(function() xadd(counts[1], 1) end, { ctx = bpf.proto.pt_regs }):load('kprobe'))
    local plain = assert(bpf.uprobe(target .. ':kt::StashDB::accept', handle))
    run(target, 12)
    link:close()
    plain:close()
    handle:close()
    assert.equals(12, counts[0])
    assert.equals(12, counts[1])
  end)

  it('attaches to a USDT probe, turning its semaphore on while attached', function()
    local counts = assert(bpf.map('array', 3, 'uint32_t', 'uint64_t'))
    local link = assert(bpf.usdt(target .. ':lbpf:tick', function(regs)
      xadd(counts[0], 1)
      xadd(counts[1], regs.ax) -- the probe's argument: -4@%eax
    end))
    assert.equals('usdt', link.kind)
    assert.equals('-4@%eax', link.args)
    local handle = assert(bpf(function() xadd(counts[2], 1) end, { ctx = bpf.proto.pt_regs }):load('kprobe'))
    local plain = assert(bpf.usdt(target .. ':lbpf:tick', handle))
    run(target, 10)
    link:close()
    plain:close()
    run(target, 10)
    handle:close()
    assert.same({ 10, 55, 10 }, { tonumber(counts[0]), tonumber(counts[1]), tonumber(counts[2]) })
    local bad, err = bpf.usdt(target .. ':lbpf:nothing', function() end)
    assert.is_nil(bad)
    assert.matches('has no USDT probe lbpf:nothing', err)
    bad, err = bpf.usdt(target .. ':tick', function() end)
    assert.is_nil(bad)
    assert.matches('expected "path:provider:name"', err)
  end)

  it('attaches programs loaded without an object, by name and by file offset', function()
    local counts = assert(bpf.map('array', 1))
    local handle = assert(bpf(function() xadd(counts[0], 1) end, { ctx = bpf.proto.pt_regs })
      :load('kprobe'))
    local offset = assert(require('bpf.elf').func_offset(target, 'bump'))
    local by_name = assert(bpf.uprobe(target .. ':bump', handle))
    local by_offset = assert(bpf.uprobe(('%s:0x%x'):format(target, offset), handle))
    run(target, 9)
    by_name:close()
    by_offset:close()
    assert.equals(18, counts[0])
    assert.is_true(handle.fd >= 0)
    handle:close()
  end)

  it('finds binaries in $PATH and says what is missing', function()
    local link, err = bpf.uprobe(target .. ':no_such_function', function() end)
    assert.is_nil(link)
    assert.matches('has no function named "no_such_function"', err)
    link, err = bpf.uprobe('/no/such/binary:main', function() end)
    assert.is_nil(link)
    assert.matches('no file /no/such/binary', err)
    link, err = bpf.uprobe('no-such-program-anywhere:main', function() end)
    assert.is_nil(link)
    assert.matches('cannot find no%-such%-program%-anywhere in %$PATH', err)
    link, err = bpf.uprobe(target, function() end)
    assert.is_nil(link)
    assert.matches('expected "path:function"', err)
    link, err = bpf.uprobe(target .. ':bump', function() end, false, 0x3fffffff)
    assert.is_nil(link)
    assert.matches('no process', err)
    link = assert(bpf.uprobe('bash:readline', function() end)) -- found in $PATH
    assert.matches('^/.*/bash:readline$', link.target)
    link:close()
  end)
end)

describe('bpf.kprobe', function()
  local has_kprobes = io.open('/sys/bus/event_source/devices/kprobe/type', 'r')
  if has_kprobes then has_kprobes:close() end

  it('loads the program, then says when the kernel has no kprobes', function()
    local hits = assert(bpf.map('array', 1))
    local link, err = bpf.kprobe('ksys_write', function() xadd(hits[0], 1) end, true)
    if has_kprobes then
      assert.is_truthy(link, err)
      link:close()
    else
      assert.is_nil(link)
      assert.matches('bpf.kprobe%("ksys_write", retprobe%): cannot attach to ksys_write: '
        .. 'this kernel has no kprobes %(CONFIG_KPROBES is not set%); the program itself loaded '
        .. '%(kprobe, fd %d+%)', err)
      link, err = bpf.kprobe('myprobe:do_sys_openat2+0x10', function() return 0 end)
      assert.is_nil(link)
      assert.matches('cannot attach to do_sys_openat2: this kernel has no kprobes', err)
    end
  end)

  -- Where the kernel has kprobes (the 6.1 guest of make test-kernel): reads
  -- of a file with a size nobody else asks for, counted at vfs_read's entry
  -- and, with the bytes each returned, at its return.
  it('count exactly the vfs_read() calls this process makes, at entry and at return', function()
    if not has_kprobes then -- this host: refused, and why
      local link, err = bpf.kprobe('vfs_read', function() end)
      assert.is_nil(link)
      assert.matches('cannot attach to vfs_read: this kernel has no kprobes', err)
      return
    end
    local mypid = C.bpf_attach_spec_getpid()
    local path = os.tmpname()
    local f = assert(io.open(path, 'w'))
    f:write(string.rep('k', 100))
    f:close()
    local fd = C.bpf_attach_spec_open(path, 0)
    assert.is_true(fd >= 0)
    local READ_SIZE = 4093
    local counts = assert(bpf.map('array', 3, 'uint32_t', 'uint64_t'))
    local entry = assert(bpf.kprobe('vfs_read', function(regs)
      if bit.rshift(pid_tgid(), 32) == mypid and regs.dx == READ_SIZE then xadd(counts[0], 1) end
    end))
    local exit = assert(bpf.kprobe('vfs_read', function(regs)
      if bit.rshift(pid_tgid(), 32) == mypid then
        xadd(counts[1], 1)
        xadd(counts[2], regs.ax)
      end
    end, true))
    assert.equals('kprobe', entry.kind)
    local buf = ffi.new('char[?]', READ_SIZE)
    for _ = 1, 5 do assert.equals(100, tonumber(C.bpf_attach_spec_pread(fd, buf, READ_SIZE, 0))) end
    exit:close()
    entry:close()
    local calls, bytes = tonumber(counts[1]), tonumber(counts[2])
    assert.equals(5, tonumber(counts[0]))
    assert.same({ 5, 500 }, { calls, bytes })
    C.bpf_attach_spec_pread(fd, buf, READ_SIZE, 0) -- detached: not counted
    assert.equals(5, tonumber(counts[0]))
    C.bpf_attach_spec_close(fd)
    os.remove(path)
  end)

  it('reports a program the verifier refuses before anything about kprobes', function()
    local function packet_helper()
      local buf = ffi.new('char[8]')
      load_bytes(0, buf) -- a packet helper: no kprobe program may call it
    end
    -- compiled for no program type in particular, the verifier is the one to refuse it
    local prog = assert(bpf(packet_helper, { ctx = bpf.proto.pt_regs }))
    local link, err = bpf.kprobe('ksys_write', prog)
    assert.is_nil(link)
    assert.matches('cannot load kprobe program', err)
    assert.matches('\nkprobe programs may not call bpf_skb_load_bytes %(the kernel refuses it', err)
    assert.not_matches('no kprobes', err)
    -- a function is compiled as a kprobe program: then the compiler refuses it
    link, err = bpf.kprobe('ksys_write', packet_helper)
    assert.is_nil(link)
    assert.matches('load_bytes%(%) cannot be called from a kprobe program', err)
    assert.not_matches('no kprobes', err)
  end)
end)

describe('bpf.xdp', function()
  it('runs on lo until closed, and leaves the interface as it was', function()
    local ifindex = C.bpf_attach_if_nametoindex('lo')
    assert.equals(0, xdp_prog_id(ifindex))
    local seen = assert(bpf.map('array', 1))
    local link = assert(bpf.xdp('lo', function(ctx)
      if ctx.ingress_ifindex ~= 0 then xadd(seen[0], 1) end
      return 2 -- XDP_PASS: lo keeps working
    end))
    assert.equals('xdp', link.prog.type)
    assert.is_true(xdp_prog_id(ifindex) > 0)
    local fd, port = lo.udp_listener(0)
    lo.udp(port, 6)
    settle(function() return seen[0] end, 6)
    assert.is_true(seen[0] >= 6)
    -- the datagrams passed
    local buf, got = ffi.new('char[16]'), 0
    while C.bpf_attach_spec_recv(fd, buf, 16, MSG_DONTWAIT) > 0 do got = got + 1 end
    assert.equals(6, got)
    link:close()
    lo.close(fd)
    assert.equals(0, xdp_prog_id(ifindex))
    local bad, err = bpf.xdp('lo', function() return 2 end, 'sideways')
    assert.is_nil(bad)
    assert.matches('unknown XDP mode "sideways"', err)
  end)

  it('attaches in the mode asked for (skb: generic XDP), and detaches from it', function()
    local ifindex = C.bpf_attach_if_nametoindex('lo')
    local link = assert(bpf.xdp('lo', function() return 2 end, 'skb'))
    assert.is_true(xdp_prog_id(ifindex) > 0)
    assert.is_true(link:fd() >= 0)
    link:close()
    assert.equals(0, xdp_prog_id(ifindex))
  end)
end)

describe('programs loaded raw', function()
  it('attach to sockets only: libbpf attaches programs it loaded as objects', function()
    local seen = assert(bpf.map('array', 1))
    local raw = assert(bpf(function() xadd(seen[0], 1) return 0 end):load('socket_filter', { raw = true }))
    local fd, port = lo.udp_listener(0)
    local link = assert(bpf.socket(fd, raw))
    lo.udp(port, 2)
    settle(function() return seen[0] end, 2)
    link:close()
    assert.equals(2, seen[0])
    lo.close(fd)
    raw:close()
    local raw_tp = assert(bpf(function() return 0 end, { ctx = attach.raw_args })
      :load('raw_tracepoint', { raw = true }))
    local bad, err = bpf.raw_tracepoint('sys_enter', raw_tp)
    assert.is_nil(bad)
    assert.matches('bpf.raw_tracepoint%("sys_enter"%): the program was loaded without a libbpf object', err)
    assert.is_true(raw_tp.fd >= 0) -- the caller's: still open
    raw_tp:close()
  end)
end)

describe('links', function()
  it('detach when collected', function()
    local mypid = C.bpf_attach_spec_getpid()
    local counts = assert(bpf.map('array', 1))
    local open_before = open_links()
    do
      local link = assert(bpf.tracepoint('syscalls/sys_enter_getppid', function()
        if bit.rshift(pid_tgid(), 32) == mypid then xadd(counts[0], 1) end
      end))
      assert.equals(open_before + 1, open_links())
      assert.equals('tracepoint', link.kind)
      C.bpf_attach_spec_getppid()
    end
    collectgarbage('collect')
    collectgarbage('collect')
    for _ = 1, 4 do C.bpf_attach_spec_getppid() end
    assert.equals(1, counts[0])
    assert.equals(open_before, open_links())
  end)

  it('detach all at once, leaving their programs loaded', function()
    local mypid = C.bpf_attach_spec_getpid()
    local counts = assert(bpf.map('array', 1))
    local a = assert(bpf.tracepoint('syscalls/sys_enter_getppid', function()
      if bit.rshift(pid_tgid(), 32) == mypid then xadd(counts[0], 1) end
    end))
    local b = assert(bpf.socket('lo', function() return 0 end))
    assert.is_true(attach.detach_all() >= 2)
    assert.equals(0, attach.open_links())
    assert.equals(-1, a:fd())
    assert.equals(-1, b:fd())
    assert.is_true(a.prog.fd >= 0 and b.prog.fd >= 0)
    C.bpf_attach_spec_getppid()
    assert.equals(0, counts[0])
    a:close()
    b:close()
    assert.equals(-1, a.prog.fd)
  end)

  it('open and close 10,000 times with the process\'s fd count unchanged', function()
    local prog = assert(bpf(function() return 0 end))
    local fd = lo.udp_listener(0)
    collectgarbage('collect')
    local before, open_before = open_fds(), open_links()
    for _ = 1, 10000 do
      -- each link loads its own copy of the program, and closes it again
      local link = assert(bpf.socket(fd, prog))
      link:close()
    end
    assert.equals(before, open_fds())
    assert.equals(open_before, open_links())
    lo.close(fd)
  end)

  it('of every kind leave no fd behind, closed or collected', function()
    local target, dir = build_target()
    local mypid = C.bpf_attach_spec_getpid()
    local counts = assert(bpf.map('array', 1))
    local socket_prog = assert(bpf(function() return 0 end):load('socket_filter'))
    local tp_prog = assert(bpf(function() xadd(counts[0], 1) end,
      { ctx = require('bpf.tracepoint').dissector('syscalls/sys_enter_getppid') }):load('tracepoint'))
    local raw_prog = assert(bpf(function() return 0 end, { ctx = attach.raw_args }):load('raw_tracepoint'))
    local probe = assert(bpf(function() return 0 end, { ctx = bpf.proto.pt_regs }))
    local xdp_prog = assert(bpf(function() return 2 end, { ctx = attach.xdp_md }):load('xdp'))
    local kinds = {
      function() return bpf.socket('lo', socket_prog) end,
      function() return bpf.tracepoint('syscalls/sys_enter_getppid', tp_prog) end,
      function() return bpf.raw_tracepoint('sys_enter', raw_prog) end,
      function() return bpf.uprobe(target .. ':bump', probe) end,
      function() return bpf.uprobe(target .. ':bump', probe, true, mypid) end,
      function() return bpf.usdt(target .. ':lbpf:tick', probe) end,
      function() return bpf.xdp('lo', xdp_prog) end,
    }
    collectgarbage('collect')
    local before, open_before = open_fds(), open_links()
    for _, open in ipairs(kinds) do
      for _ = 1, 5 do assert(open()):close() end
      for _ = 1, 5 do
        assert(open()) -- dropped: the next one only attaches if this one is gone
        collectgarbage('collect')
      end
    end
    collectgarbage('collect')
    collectgarbage('collect')
    assert.equals(before, open_fds())
    assert.equals(open_before, open_links())
    local n = counts[0]
    C.bpf_attach_spec_getppid()
    assert.equals(n, counts[0]) -- no tracepoint link left
    for _, h in ipairs({ socket_prog, tp_prog, raw_prog, xdp_prog }) do h:close() end
    os.execute('rm -rf ' .. dir)
  end)

  it('close when the Lua state closes, and the kernel drops them when the process exits', function()
    local out, status = run_child([[
      local ffi = require('ffi')
      local bpf = require('bpf')
      local attach = require('bpf.attach')
      ffi.cdef 'long write(int fd, const void *buf, size_t n);'
      local detach_all = attach.detach_all
      attach.detach_all = function()
        local text = ('detached %d at exit\n'):format(detach_all())
        ffi.C.write(1, text, #text)
      end
      local socket_link = assert(bpf.socket('lo', function() return 0 end))
      local tracepoint_link = assert(bpf.tracepoint('syscalls/sys_enter_getppid', function() end))
      print('attached', socket_link.kind, tracepoint_link.kind)
      io.stdout:flush()
    ]])
    assert.equals(0, status, out)
    assert.matches('attached\tsocket\ttracepoint\ndetached 2 at exit\n', out)
    -- os.exit skips lua_close: the kernel still drops an XDP link with its fd
    local ifindex = C.bpf_attach_if_nametoindex('lo')
    out, status = run_child([[
      local bpf = require('bpf')
      local link = assert(bpf.xdp('lo', function() return 2 end))
      io.write('attached ', link.prog.fd, '\n')
      os.exit(0)
    ]])
    assert.equals(0, status, out)
    assert.matches('attached %d+', out)
    assert.equals(0, xdp_prog_id(ifindex))
    -- an error half-way: the script dies, nothing stays attached
    out, status = run_child([[
      local bpf = require('bpf')
      local link = assert(bpf.xdp('lo', function() return 2 end))
      error('something went wrong with ' .. tostring(link))
    ]])
    assert.equals(1, status)
    assert.matches('something went wrong with bpf link: xdp lo', out)
    assert.equals(0, xdp_prog_id(ifindex))
  end)
end)
