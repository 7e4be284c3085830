-- Kernel symbols and stacks against the running kernel: addresses read from
-- /proc/kallsyms here name their functions, and a stack that a tracepoint
-- program stores with stack_id() while this process makes a syscall names
-- the kernel's syscall entry.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local ksym = require('bpf.ksym')

ffi.cdef [[
int bpf_ksym_spec_getpid(void) __asm__("getpid");
int bpf_ksym_spec_getppid(void) __asm__("getppid");
]]
local C = ffi.C

local function u64_of(hex)
  return ffi.new('uint64_t', tonumber(hex:sub(1, -9), 16)) * 0x100000000ULL + tonumber(hex:sub(-8), 16)
end

-- Text symbols of /proc/kallsyms whose address no other symbol has.
local function unique_text_symbols()
  local by_addr, order = {}, {}
  for line in io.lines('/proc/kallsyms') do
    local hex, kind, name = line:match('^(%x+) (%a) (%S+)$')
    if hex and (kind == 'T' or kind == 't') then
      if by_addr[hex] == nil then order[#order + 1] = hex end
      by_addr[hex] = by_addr[hex] == nil and name or false
    end
  end
  local unique = {}
  for _, hex in ipairs(order) do
    local name = by_addr[hex]
    if name and not name:find('^__pfx_') then unique[name] = hex end
  end
  return unique
end

describe('bpf.ksym', function()
  local unique = unique_text_symbols()

  it('names the function at an address read from /proc/kallsyms, and an offset into it', function()
    local name = unique.do_syscall_64 and 'do_syscall_64' or next(unique)
    local hex = assert(unique[name], 'no text symbol with an address of its own')
    assert.is_not.equals(('0'):rep(#hex), hex, 'run as root: /proc/kallsyms hides addresses')
    local addr = u64_of(hex)
    local sym, off, module = ksym.lookup(addr)
    assert.equals(name, sym)
    assert.equals(0, off)
    assert.is_nil(module)
    sym, off = bpf.ksym(addr + 0x1f)
    assert.equals(name, sym)
    assert.equals(0x1f, off)
    -- a user-space address and 0 are no kernel function
    assert.is_nil(ksym.lookup(0x400000))
    assert.is_nil(ksym.lookup(0ULL))
  end)

  it('turns addresses into frames, printed as "sym+0x1f"', function()
    local name = unique.do_syscall_64 and 'do_syscall_64' or next(unique)
    local hex = assert(unique[name], 'no text symbol with an address of its own')
    assert.equals(name, ksym.lookup(u64_of(hex)))
    local ips = ffi.new('uint64_t[4]', { u64_of(hex) + 0x1f, u64_of(hex), 0x7fff12345678ULL, 0 })
    local frames = ksym.frames(ips, 4)
    assert.equals(3, #frames) -- up to the first 0
    assert.equals(name .. '+0x1f', tostring(frames[1]))
    assert.equals(name .. '+0x0', tostring(frames[2]))
    assert.is_nil(frames[3].sym)
    assert.equals('0x7fff12345678', tostring(frames[3]))
    assert.is_true(frames[1].addr == u64_of(hex) + 0x1f)
    assert.equals(('%s+0x1f <- %s+0x0 <- 0x7fff12345678'):format(name, name), ksym.format(frames))
    assert.equals(('%s+0x1f\n%s+0x0\n0x7fff12345678'):format(name, name), tostring(frames))
  end)
end)

describe('stacks from a stack_trace map', function()
  local mypid = C.bpf_ksym_spec_getpid()

  local function syscall_frames(frames)
    local found = {}
    for _, frame in ipairs(frames) do
      local sym = frame.sym or ''
      if sym:find('getppid', 1, true) or sym:find('entry_SYSCALL', 1, true)
          or sym == 'do_syscall_64' then
        found[#found + 1] = sym
      end
    end
    return found
  end

  -- raw_syscalls/sys_enter rather than syscalls/sys_enter_getppid: on 6.1
  -- the syscalls tracepoints hand stack_id() the user registers, and then
  -- there is no kernel stack to walk (-EFAULT)
  it('names the kernel functions under a tracepoint on getppid()', function()
    local getppid_nr = ({ x64 = 110, arm64 = 173 })[ffi.arch]
    local stacks = assert(bpf.map('stack_trace', 32))
    local ids = assert(bpf.map('array', 2, 'uint32_t', 'int64_t'))
    local link = assert(bpf.tracepoint('raw_syscalls/sys_enter', function(arg)
      if bit.rshift(pid_tgid(), 32) == mypid and arg.id == getppid_nr then
        ids[0] = stack_id(stacks, 0)
        xadd(ids[1], 1)
      end
    end))
    for _ = 1, 3 do C.bpf_ksym_spec_getppid() end
    link:close()
    assert.equals(3, tonumber(ids[1]))
    local id = tonumber(ids[0])
    assert.is_true(id >= 0, 'stack_id() failed: ' .. id)
    local frames = assert(stacks:stack(id))
    assert.is_true(#frames >= 2, tostring(frames))
    for _, frame in ipairs(frames) do
      assert.is_string(frame.sym, 'an unnamed kernel frame: ' .. tostring(frame))
      assert.is_true(frame.off >= 0)
      assert.matches('^[%w_.$]+%+0x%x+', tostring(frame))
    end
    assert.is_true(#syscall_frames(frames) > 0, 'no syscall entry in\n' .. tostring(frames))
    -- the same through the public API, and only as deep as asked
    local same = assert(bpf.stack(stacks, id))
    assert.equals(tostring(frames), tostring(same))
    assert.equals(1, #assert(stacks:stack(id, nil, 1)))
    assert.equals(2, #assert(stacks:stack(id, { max = 2 })))
  end)

  it('names them under a raw tracepoint too', function()
    local getppid_nr = ({ x64 = 110, arm64 = 173 })[ffi.arch]
    local stacks = assert(bpf.map('stack_trace', 8))
    local ids = assert(bpf.map('array', 1, 'uint32_t', 'int64_t'))
    local link = assert(bpf.raw_tracepoint('sys_enter', function(ctx)
      if bit.rshift(pid_tgid(), 32) == mypid and ctx.arg1 == getppid_nr then
        ids[0] = stack_id(stacks, 0) + 1
      end
    end))
    C.bpf_ksym_spec_getppid()
    local id = tonumber(ids[0]) - 1
    assert.is_true(id >= 0, 'stack_id() failed: ' .. id)
    -- while the program is loaded, its JIT image has a symbol too (module [bpf])
    ksym.reload()
    local frames = assert(stacks:stack(id))
    link:close()
    assert.is_true(#syscall_frames(frames) > 0, 'no syscall entry in\n' .. tostring(frames))
    local f = io.open('/proc/sys/net/core/bpf_jit_kallsyms', 'r')
    local jit_kallsyms = f and f:read('*n') == 1
    if f then f:close() end
    if jit_kallsyms then
      assert.equals('bpf', frames[1].module, tostring(frames))
      assert.matches('^bpf_prog_%x+_raw_tp%+0x%x+ %[bpf%]$', tostring(frames[1]))
    end
  end)

  it('says when there is no stack to read', function()
    local stacks = assert(bpf.map('stack_trace', 4))
    local frames, err = stacks:stack(-17)
    assert.is_nil(frames)
    assert.matches('stack_id%(%) could not store this stack %(errno 17%)', err)
    frames, err = stacks:stack(3)
    assert.is_nil(frames)
    assert.matches('the map holds no such stack', err)
    local array = assert(bpf.map('array', 1))
    frames, err = bpf.stack(array, 0)
    assert.is_nil(frames)
    assert.matches('expected a stack_trace map', err)
  end)
end)
