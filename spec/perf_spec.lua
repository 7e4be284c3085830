-- bpf.perf_event against the kernel: a perf_event program sampling every
-- CPU, which finds a busy child process (spec/support/perf_target.c) by its
-- user stacks (stack_id(map, 'user'), named from its ELF symbols by
-- map:stack(id, pid)) and its kernel stacks; the frequency and period
-- options as the program sees them (ctx.sample_period); one process only
-- ({pid = n}); closing the link stops the sampling; clear errors for bad
-- options and for a hardware event a machine has no counter for.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local attach = require('bpf.attach')
local usym = require('bpf.usym')
local elf = require('bpf.elf')

ffi.cdef [[
int bpf_perf_spec_getpid(void) __asm__("getpid");
int bpf_perf_spec_getppid(void) __asm__("getppid");
struct bpf_perf_spec_timespec { int64_t sec, nsec; };
int bpf_perf_spec_clock_gettime(int clock, struct bpf_perf_spec_timespec *ts) __asm__("clock_gettime");
]]
local C = ffi.C

-- The target, built in a directory of its own with frame pointers, so
-- that the kernel can walk its user stack.
local function build_target()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute('mkdir -p ' .. dir) == 0 or true)
  local has_cc = os.execute('command -v cc >/dev/null 2>&1')
  local cmd = (has_cc == 0 or has_cc == true)
    and 'cc -O1 -fno-omit-frame-pointer -o %s/perf-target spec/support/perf_target.c'
    or 'cp build/spec/perf-target %s/perf-target' -- no compiler here: the copy tools/vm/build.sh made
  local ok = os.execute(cmd:format(dir))
  assert(ok == 0 or ok == true, 'could not build the perf target: ' .. cmd:format(dir))
  return dir .. '/perf-target', dir
end

-- Starts the target busy for `seconds` (it exits then by itself): its pid.
local function start(target, seconds)
  local p = assert(io.popen(('%s %g >/dev/null 2>&1 & echo $!'):format(target, seconds)))
  local pid = tonumber(p:read('*l'))
  p:close()
  assert(pid and pid > 0, 'no pid for ' .. target)
  return pid
end

local function stop(pid) os.execute(('kill %d 2>/dev/null'):format(pid)) end

-- The CPU time process pid has had (user and system, /proc/pid/stat).
local function cpu_seconds(pid)
  local f = assert(io.open(('/proc/%d/stat'):format(pid), 'r'))
  local line = f:read('*l')
  f:close()
  local fields = {}
  for field in line:match('%) (.*)$'):gmatch('%S+') do fields[#fields + 1] = field end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- utime, stime in USER_HZ
end

local timespec = ffi.new('struct bpf_perf_spec_timespec')
local function now()
  assert(C.bpf_perf_spec_clock_gettime(1, timespec) == 0) -- CLOCK_MONOTONIC
  return tonumber(timespec.sec) + tonumber(timespec.nsec) / 1e9
end

local function sleep(seconds) os.execute(('sleep %g'):format(seconds)) end

local function total(map)
  local n = 0
  for _, v in map:pairs() do n = n + tonumber(v) end
  return n
end

local function names(frames)
  local list = {}
  for i, frame in ipairs(frames) do list[i] = frame.sym or tostring(frame) end
  return list
end

local function has(frames, name)
  for _, frame in ipairs(frames) do
    if frame.sym == name then return true end
  end
  return false
end

local key_t = 'struct { uint32_t pid; int32_t user_stack; int32_t kernel_stack; char comm[16]; }'

describe('bpf.perf_event', function()
  local target, dir
  setup(function() target, dir = build_target() end)
  teardown(function() os.execute('rm -rf ' .. dir) end)

  it("finds a busy process's functions in its user stacks, and its system calls in kernel stacks",
    function()
    local stacks = assert(bpf.map('stack_trace', 1024))
    local counts = assert(bpf.map('hash', 4096, key_t, 'uint64_t'))
    local child = start(target, 20)
    sleep(0.05)
    local t0 = cpu_seconds(child)
    local link = assert(bpf.perf_event(function()
      local key = ffi.new(key_t)
      key.pid = bit.rshift(pid_tgid(), 32)
      comm(key.comm)
      key.user_stack = stack_id(stacks, 'user')
      key.kernel_stack = stack_id(stacks)
      if not counts[key] then counts[key] = 0 end
      xadd(counts[key], 1)
    end, { freq = 99 }))
    assert.equals('perf_event', link.kind)
    assert.equals('cpu-clock at 99 Hz', link.target)
    assert.equals('perf_event', link.prog.type)
    assert.same(attach.online_cpus(), link.cpus)
    assert.is_true(link:fd() >= 0)
    if #link.cpus > 1 then
      assert.matches('one attachment per CPU %(%d+%), and a pin holds one', select(2,
        link:pin('/sys/fs/bpf/lbpf_perf_spec')))
    end
    sleep(1)
    link:close()
    local t1 = cpu_seconds(child)
    -- closed: nothing counts any more
    local after_close = total(counts)
    sleep(0.3)
    assert.equals(after_close, total(counts))

    local samples, in_busy, in_order, with_kernel, kernel_in_read = 0, 0, 0, 0, 0
    local kernel_example
    for key, n in counts:pairs() do
      n = tonumber(n)
      local name = ffi.string(key.comm)
      if name == 'perf-target' then assert.equals(child, key.pid) end -- the child's alone
      if key.pid == child then
        assert.equals('perf-target', name)
        samples = samples + n
        assert.is_true(key.user_stack >= 0, 'no user stack: ' .. key.user_stack)
        local frames = assert(stacks:stack(key.user_stack, child))
        for _, frame in ipairs(frames) do assert.is_true(frame.user) end
        if has(frames, 'lbpf_profile_busy') then in_busy = in_busy + n end
        local list = table.concat(names(frames), ' ')
        if list:match('^lbpf_profile_busy lbpf_profile_outer main') then in_order = in_order + n end
        assert.equals('perf-target', frames[1].module)
        assert.equals(target, frames[1].path:gsub('^/proc/%d+/root', ''))
        if key.kernel_stack >= 0 then
          with_kernel = with_kernel + n
          local kframes = assert(stacks:stack(key.kernel_stack))
          for _, frame in ipairs(kframes) do assert.is_nil(frame.user) end
          -- the read system call the loop makes
          if has(kframes, 'vfs_read') and (has(kframes, 'do_syscall_64')
              or has(kframes, 'entry_SYSCALL_64_after_hwframe')) then
            kernel_in_read = kernel_in_read + n
            kernel_example = kernel_example or tostring(kframes)
          end
        end
      end
    end
    stop(child)
    -- ~99 samples in each second of CPU time it has
    assert.is_true(samples >= 10 and samples >= 0.7 * 99 * (t1 - t0) - 5,
      ('only %d samples of the child in %.2f s of its CPU time'):format(samples, t1 - t0))
    assert.is_true(in_busy >= 0.9 * samples,
      ('lbpf_profile_busy in %d of %d samples'):format(in_busy, samples))
    assert.is_true(in_order >= 0.8 * samples,
      ('busy <- outer <- main in %d of %d samples'):format(in_order, samples))
    -- it spends about a third of its time reading /dev/zero
    assert.is_true(with_kernel >= 1, 'no kernel stack in ' .. samples .. ' samples')
    assert.is_true(kernel_in_read >= 0.5 * with_kernel,
      ('read(2) in %d of %d kernel stacks'):format(kernel_in_read, with_kernel))
    assert.matches('vfs_read%+0x%x+', kernel_example)
  end)

  it('samples at the frequency or the period asked for, one process only when given its pid', function()
    local ncpu = #attach.online_cpus()
    local counts = assert(bpf.map('array', 256, 'uint32_t', 'uint64_t'))
    local period = assert(bpf.map('array', 1, 'uint32_t', 'uint64_t'))
    local pids = assert(bpf.map('hash', 64, 'uint32_t', 'uint64_t'))
    local function sampler()
      return function(ctx)
        xadd(counts[cpu()], 1)
        period[0] = ctx.sample_period
        local pid = bit.rshift(pid_tgid(), 32)
        if not pids[pid] then pids[pid] = 0 end
        xadd(pids[pid], 1)
      end
    end
    local function reset()
      for c = 0, 255 do counts[c] = 0 end
      for pid in pids:pairs() do pids[pid] = nil end
    end
    -- every CPU at 99 Hz: cpu-clock turns the frequency into a period of
    -- 1e9 / 99 ns; no CPU samples more often (an idle one may less: its
    -- timer is not always run from an interrupt that samples)
    local started = now()
    local link = assert(bpf.perf_event(sampler(), { freq = 99 }))
    sleep(1)
    link:close()
    local elapsed = now() - started
    assert.equals(10101010, tonumber(period[0]))
    for c = 0, 255 do
      local n = tonumber(counts[c])
      assert.is_true(n <= 99 * elapsed * 1.1 + 3,
        ('CPU %d: %d samples in %.2f s at 99 Hz'):format(c, n, elapsed))
      if c >= ncpu then assert.equals(0, n) end
    end
    assert.is_true(total(counts) > 0)
    -- one process, followed from CPU to CPU: its samples and no other's,
    -- as many as its CPU time makes at the rate asked for
    for _, rate in ipairs({ { freq = 99, hz = 99, sample_period = 10101010, target = 'at 99 Hz' },
        { period = 4000000, hz = 250, sample_period = 4000000, target = 'every 4000000' } }) do
      reset()
      local child = start(target, 20)
      sleep(0.05)
      link = assert(bpf.perf_event(sampler(), { freq = rate.freq, period = rate.period, pid = child }))
      local t0 = cpu_seconds(child)
      assert.same({ -1 }, link.cpus)
      assert.equals(child, link.pid)
      assert.equals(('cpu-clock %s, pid %d'):format(rate.target, child), link.target)
      sleep(1)
      local t1 = cpu_seconds(child)
      link:close()
      stop(child)
      assert.equals(rate.sample_period, tonumber(period[0]))
      local seen = {}
      for pid, n in pids:pairs() do seen[#seen + 1] = ('%d: %d'):format(pid, tonumber(n)) end
      assert.equals(1, #seen, table.concat(seen, ', '))
      local n, expected = tonumber(pids[child] or 0), rate.hz * (t1 - t0)
      assert.is_true(n >= 0.7 * expected - 5 and n <= 1.3 * expected + 5 and n > 0,
        ('%d samples of the child in %.2f s of its CPU time at %d Hz'):format(n, t1 - t0, rate.hz))
    end
  end)

  it('takes a compiled program, and detaches everything it attached', function()
    local before = attach.open_links()
    local hits = assert(bpf.map('array', 2))
    local prog = assert(bpf(function(ctx)
      xadd(hits[0], 1)
      if ctx.regs.ip ~= 0 and ctx.regs.sp ~= 0 then xadd(hits[1], 1) end
    end, { ctx = bpf.perf_event_data, type = 'perf_event' }))
    local link = assert(bpf.perf_event(prog, { freq = 1000, cpus = attach.online_cpus()[1] }))
    assert.same({ attach.online_cpus()[1] }, link.cpus)
    assert.equals(before + 1, attach.open_links())
    sleep(0.2)
    assert.is_true(link:close())
    assert.is_true(link:close()) -- again: harmless
    assert.equals(before, attach.open_links())
    local n = tonumber(hits[0])
    assert.is_true(n > 0)
    assert.equals(n, tonumber(hits[1])) -- every sample has the registers it interrupted
    sleep(0.1)
    assert.equals(n, tonumber(hits[0]))
    assert.matches(', closed$', tostring(link))
    local _, err = link:pin('/sys/fs/bpf/lbpf_perf_spec')
    assert.matches('closed', err)
  end)

  it('says what is wrong with its options', function()
    local function err_of(opts)
      local link, err = bpf.perf_event(function() end, opts)
      assert.is_nil(link)
      return err
    end
    assert.matches('give freq %(samples a second%) or period %(events between samples%), not both',
      err_of({ freq = 99, period = 1000 }))
    assert.matches('freq is a whole number of samples a second above 0, not 0', err_of({ freq = 0 }))
    assert.matches('freq is a whole number .- not 1.5', err_of({ freq = 1.5 }))
    assert.matches('period is a whole number of events %(ns for cpu%-clock%) above 0, not %-5',
      err_of({ period = -5 }))
    assert.matches("freq 1000000000 is above the kernel's limit of %d+ samples a second",
      err_of({ freq = 1e9 }))
    assert.matches('no perf event named "cpu_clock" %(branch%-instructions, .*cpu%-clock, .*task%-clock; '
      .. 'or type = n, config = n%)', err_of({ event = 'cpu_clock' }))
    assert.matches("type is 'hardware', 'software' or a PMU's number", err_of({ type = 'firmware' }))
    assert.matches('cycles is a hardware event, not of type software',
      err_of({ event = 'cycles', type = 'software' }))
    assert.matches('cpus is a CPU number or a list of them', err_of({ cpus = {} }))
    assert.matches('opts is a table', select(2, bpf.perf_event(function() end, 99)))
    assert.matches('bpf.perf_event%(cpu%-clock at 99 Hz, pid 2147483647%): perf_event_open for pid '
      .. '2147483647 %(no process 2147483647%): No such process %(errno 3%)', err_of({ pid = 0x7fffffff }))
    assert.matches('bpf.perf_event%(99:0 at 99 Hz%): perf_event_open on CPU %d+ %(no such event type or '
      .. 'config%)', err_of({ type = 99 }))
    -- a program of another type
    local prog = assert(bpf(function() return 0 end, { type = 'kprobe', ctx = bpf.proto.pt_regs }))
    local handle = assert(prog:load('kprobe'))
    assert.matches('needs a perf_event program, this one was loaded as kprobe', select(2,
      bpf.perf_event(handle, {})))
    handle:close()
  end)

  it('samples hardware cycles where the machine counts them, and says so where it does not', function()
    local f = io.open('/sys/bus/event_source/devices/cpu/type', 'r')
    if f then f:close() end
    local hits = assert(bpf.map('array', 1))
    local link, err = bpf.perf_event(function() xadd(hits[0], 1) end, { event = 'cycles', period = 1000000 })
    if link then
      -- (a PMU: cycles count while any CPU runs; this process does)
      for _ = 1, 200000 do C.bpf_perf_spec_getppid() end
      link:close()
      assert.is_true(tonumber(hits[0]) > 0)
    else
      assert.is_nil(f, 'there is a cpu PMU, yet: ' .. tostring(err))
      assert.matches("bpf.perf_event%(cycles every 1000000%): perf_event_open on CPU %d+ %(no hardware "
        .. "event here: this machine has no PMU that counts it, as in many VMs, no "
        .. "/sys/bus/event_source/devices/cpu; event = 'cpu%-clock' samples by time%)", err)
    end
  end)
end)

describe('stack_id and user frames', function()
  it("stores user stacks with stack_id(map, 'user') and refuses other words", function()
    local stacks = assert(bpf.map('stack_trace', 4))
    local p = assert(bpf(function() return stack_id(stacks, 'user') end,
      { ctx = bpf.perf_event_data, type = 'perf_event' }))
    assert.matches('r3 = 256', bpf.dump_string(p, { syntax = 'c' }) or '')
    local both = assert(bpf(function() return stack_id(stacks, 'user', bit.lshift(1, 9)) end,
      { ctx = bpf.perf_event_data, type = 'perf_event' }))
    assert.matches('r3 = 768', bpf.dump_string(both, { syntax = 'c' }) or '')
    local kernel = assert(bpf(function() return stack_id(stacks, 'kernel') end,
      { ctx = bpf.perf_event_data, type = 'perf_event' }))
    assert.matches('r3 = 0', bpf.dump_string(kernel, { syntax = 'c' }) or '')
    local bad, err = bpf(function() return stack_id(stacks, 'users') end,
      { ctx = bpf.perf_event_data, type = 'perf_event' })
    assert.is_nil(bad)
    assert.matches("stack_id%(map, which%): which stack is 'user' or 'kernel', not 'users'", err)
    assert(p:load('perf_event')):close()
  end)

  it("names an address of this process from its files' symbols", function()
    local me = C.bpf_perf_spec_getpid()
    local addr = tonumber(ffi.cast('uintptr_t', ffi.cast('void *', C.bpf_perf_spec_getppid)))
    local name, off, module, path = usym.lookup(me, addr)
    assert.equals('getppid', name)
    assert.equals(0, off)
    assert.matches('^libc%.so', module)
    assert.matches('libc%.so', path)
    assert.equals('getppid', (usym.lookup(me, addr + 1)))
    assert.is_nil(usym.lookup(me, 0x1000)) -- nothing is mapped there
    -- the same table through bpf.elf: getppid's file offset names it
    local syms = assert(elf.symbols(path:gsub('^/proc/%d+/root', '')))
    local at = assert(elf.func_offset(path:gsub('^/proc/%d+/root', ''), 'getppid'))
    assert.equals('getppid', (syms:lookup(at)))
    -- frames of a user stack: named given the pid, addresses without it
    local ksym = require('bpf.ksym')
    local ips = ffi.new('uint64_t[2]', addr + 4, addr + 4)
    local frames = usym.resolve(me, ksym.frames(ips, 2))
    assert.is_true(frames[1].user)
    assert.matches('^getppid%+0x4 %[libc%.so[%w.]*%]$', tostring(frames[1]))
    frames = usym.resolve(nil, ksym.frames(ips, 2))
    assert.is_true(frames[1].user)
    assert.is_nil(frames[1].sym)
    assert.matches('^0x%x+$', tostring(frames[1]))
  end)
end)
