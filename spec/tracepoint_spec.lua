-- Tracepoint records as ffi types, checked against the kernel's own format
-- files, and a program reading one loaded into the verifier as a tracepoint.
local ffi = require('ffi')
local bpf = require('bpf')
local tp = require('bpf.tracepoint')

-- The format file, read here on its own: name -> { offset, size }.
local function format_of(path)
  local root = tp.mount()
  local f = assert(io.open(('%s/events/%s/format'):format(root, path)))
  local text = f:read('*a')
  f:close()
  local fields = {}
  for line in text:gmatch('[^\n]+') do
    local decl, off, size = line:match('field:(.-);%s*offset:(%d+);%s*size:(%d+);')
    if decl then
      local name = decl:gsub('%[%d*%]%s*$', ''):match('([%a_][%w_]*)%s*$')
      fields[name] = { offset = tonumber(off), size = tonumber(size) }
    end
  end
  return fields
end

local function same_layout(path)
  local ct = tp.ctype(path)
  local fields = format_of(path)
  local n = 0
  for name, f in pairs(fields) do
    n = n + 1
    assert.equals(f.offset, ffi.offsetof(ct, name), path .. ' ' .. name .. ' offset')
    local obj = ffi.new(ct)
    local v = obj[name]
    if type(v) == 'cdata' and not tostring(ffi.typeof(v)):find('%*') then
      assert.equals(f.size, ffi.sizeof(v), path .. ' ' .. name .. ' size')
    end
  end
  assert.is_true(n >= 5)
  return ct, fields
end

describe('bpf.tracepoint', function()
  it('mounts tracefs when it is missing and finds the events', function()
    local root = tp.mount()
    assert.equals('/sys/kernel/tracing', root)
    assert.is_not_nil(io.open(root .. '/events/sched/sched_switch/format', 'r'))
  end)

  it('lays out sched/sched_switch as its format says', function()
    local ct, fields = same_layout('sched/sched_switch')
    assert.equals(16, ffi.sizeof(ffi.new(ct).prev_comm))
    assert.equals(fields.next_prio.offset + 4, ffi.sizeof(ct))
    local rec = ffi.new(ct)
    rec.prev_pid = -1
    assert.equals(-1, rec.prev_pid)
  end)

  it('lays out syscalls/sys_enter_write with padding and pointers', function()
    local ct, fields = same_layout('syscalls/sys_enter_write')
    -- __syscall_nr is 4 bytes at 8, fd starts at 16: a gap of 4
    assert.equals(8, fields.__syscall_nr.offset)
    assert.equals(16, ffi.offsetof(ct, 'fd'))
    assert.matches('char', tostring(ffi.typeof(ffi.new(ct).buf)))
    assert.matches('%*', tostring(ffi.typeof(ffi.new(ct).buf)))
  end)

  it("types each field as its format declares it: an int in a syscall's 8-byte slot is an int32_t", function()
    local ct = same_layout('syscalls/sys_enter_openat')
    local rec = ffi.new(ct)
    assert.equals(16, ffi.offsetof(ct, 'dfd'))
    assert.equals(4, ffi.sizeof(ffi.typeof(rec.__slot_dfd))) -- the slot's other 4 bytes
    ffi.cast('int64_t *', ffi.cast('char *', rec) + 16)[0] = -100 -- as the kernel stores AT_FDCWD
    assert.equals(-100, rec.dfd)
    ffi.cast('uint64_t *', ffi.cast('char *', rec) + 16)[0] = 0xffffff9c -- upper half 0: an int all the same
    assert.equals(-100, rec.dfd)
    assert.equals(24, ffi.offsetof(ct, 'filename'))
    assert.equals(32, ffi.offsetof(ct, 'flags'))
    local w = ffi.new(tp.ctype('syscalls/sys_enter_write'))
    ffi.cast('int64_t *', ffi.cast('char *', w) + 16)[0] = -1
    assert.equals(0xffffffff, w.fd) -- unsigned int fd: zero-extended
    w.count = -1
    assert.equals(ffi.cast('uint64_t', -1), w.count) -- size_t count: a uint64
  end)

  it('compiles arg.dfd as a sign-extended int, so that -100 compares equal, and loads it', function()
    local prog = assert(bpf(function(arg)
      if arg.dfd == -100 then return 1 end
      return 0
    end, { ctx = tp.dissector('syscalls/sys_enter_openat'), type = 'tracepoint' }))
    local listing = prog:dump_string()
    assert.matches('LDXW\tR%d\t%[R%d%+16%]', listing) -- the int's 4 bytes
    assert.matches('ARSH', listing)
    local h = assert(prog:load('tracepoint'))
    h:close()
  end)

  it('keeps a __data_loc field the u32 it is, and copies its string with ffi.copy', function()
    local rec = ffi.new((same_layout('sched/sched_process_exec')))
    rec.filename = 0xffffffff
    assert.equals(0xffffffff, rec.filename) -- a uint32
    local prog = assert(bpf(function(arg)
      local buf = ffi.new('char[64]')
      ffi.copy(buf, arg.filename)
      return bit.rshift(arg.filename, 16)
    end, { ctx = tp.dissector('sched/sched_process_exec'), type = 'tracepoint' }))
    assert.matches('probe_read_kernel_str', prog:dump_string())
    local h = assert(prog:load('tracepoint'))
    h:close()
  end)

  it('caches one type per tracepoint, whichever way the path is spelled', function()
    assert.equals(tp.ctype('sched/sched_switch'), tp.ctype('sched:sched_switch'))
    local d = tp.dissector('sched/sched_switch')
    assert.equals(tp.ctype('sched/sched_switch'), d.__dissector)
  end)

  it('gives the id from tracefs', function()
    local f = assert(io.open(tp.mount() .. '/events/sched/sched_switch/id'))
    local id = tonumber(f:read('*a'))
    f:close()
    assert.equals(id, tp.id('sched/sched_switch'))
  end)

  it('names a tracepoint that does not exist', function()
    local ok, err = pcall(tp.ctype, 'sched/no_such_event')
    assert.is_false(ok)
    assert.matches('no tracepoint sched/no_such_event', err)
    ok, err = pcall(tp.ctype, 'not a path')
    assert.is_false(ok)
    assert.matches('not a tracepoint path', err)
  end)

  it('compiles a program reading prev_pid and loads it as a tracepoint program', function()
    local prog = assert(bpf(function(arg) return arg.prev_pid end,
      { ctx = tp.dissector('sched/sched_switch'), type = 'tracepoint' }))
    local listing = prog:dump_string()
    assert.matches('%+24%]', listing) -- prev_pid's offset
    local h = assert(prog:load('tracepoint'))
    assert.equals('tracepoint', h.type)
    h:close()
  end)

  it('reads the arguments of sys_enter_write at their offsets', function()
    local prog = assert(bpf(function(arg)
      if arg.fd == 1 then return arg.count end
      return 0
    end, { ctx = tp.dissector('syscalls/sys_enter_write'), type = 'tracepoint' }))
    local listing = prog:dump_string()
    assert.matches('%+16%]', listing)
    assert.matches('%+32%]', listing)
    local h = assert(prog:load('tracepoint'))
    h:close()
  end)
end)
