-- Strings and memory in a program, in the real kernel: ffi.copy of a
-- NUL-terminated string through a user or kernel pointer (and of exactly n
-- bytes), from a tracepoint record's arrays and __data_loc strings, into
-- stack buffers, map values and ring buffer records; comm() into a record;
-- char arrays compared with strings and prefixes; the compile errors.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local tp = require('bpf.tracepoint')
local proto = require('bpf.proto')

ffi.cdef [[
void *strings_spec_mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off) __asm__("mmap");
int strings_spec_mprotect(void *addr, size_t len, int prot) __asm__("mprotect");
int strings_spec_munmap(void *addr, size_t len) __asm__("munmap");
int strings_spec_openat(int dirfd, const char *path, int flags, ...) __asm__("openat");
int strings_spec_close(int fd) __asm__("close");
int strings_spec_prctl(int option, ...) __asm__("prctl");
int strings_spec_getpid(void) __asm__("getpid");
int strings_spec_getpagesize(void) __asm__("getpagesize");
]]
local C = ffi.C
local PROT_NONE, PROT_RW, MAP_PRIVATE_ANON = 0, 3, 0x22
local O_RDONLY, O_DIRECTORY = 0, 0x10000
local PR_SET_NAME = 15
local AT_FDCWD = -100

-- The events a ring buffer holds now, copied.
local function drain(ring, ct)
  local got = {}
  local rb = assert(bpf.ringbuf_reader(ring, ct, function(ev)
    local copy = ffi.new(ct)
    ffi.copy(copy, ev, ffi.sizeof(ct))
    got[#got + 1] = copy
  end))
  rb:consume()
  rb:close()
  return got
end

-- The calls of a helper in a compiled program.
local function calls(prog, id)
  local n = 0
  for pc = 0, prog.pc - 1 do
    local i = prog.insn[pc]
    if i.code == 0x85 and i.src_reg == 0 and i.imm == id then n = n + 1 end
  end
  return n
end
local PROBE_READ, PROBE_READ_USER, PROBE_READ_KERNEL = 4, 112, 113
local PROBE_READ_USER_STR, PROBE_READ_KERNEL_STR = 114, 115

-- A compile that must fail: its message, which names this file's line.
local function refused(fn, opts)
  local prog, err = bpf(fn, opts)
  assert.is_nil(prog)
  assert.matches('strings_spec.lua:%d+:', err)
  return err
end

local openat_ctx = { ctx = tp.dissector('syscalls/sys_enter_openat'), type = 'tracepoint' }
local mypid = C.strings_spec_getpid()

describe('ffi.copy of strings from syscall arguments (user memory)', function()
  local ev_t = ffi.typeof([[struct { int32_t dfd; uint32_t cwd; int64_t dfd64; char comm[16];
    char name[64]; char raw[64]; }]])
  local page = C.strings_spec_getpagesize()

  it('reads a filename that ends right before an unmapped page in full; dfd is -100 for AT_FDCWD', function()
    local ring = assert(bpf.map('ringbuf', 64 * 1024))
    local link = assert(bpf.tracepoint('syscalls/sys_enter_openat', function(arg)
      if bit.rshift(pid_tgid(), 32) ~= mypid then return 0 end
      local e = ringbuf_reserve(ring, ev_t)
      if e then
        ffi.copy(e.name, arg.filename)     -- a string: probe_read_user_str
        if ffi.string(e.name, 13) == '/tmp/strings-' then
          ffi.copy(e.raw, arg.filename, 64) -- 64 bytes: across the page, so none
          e.dfd = arg.dfd
          e.dfd64 = arg.dfd
          if arg.dfd == -100 then e.cwd = 1 end
          comm(e.comm)
          ringbuf_submit(e)
        else
          ringbuf_discard(e)
        end
      end
      return 0
    end))
    -- two pages, the second one PROT_NONE; the name and its NUL end the first
    local base = C.strings_spec_mmap(nil, 2 * page, PROT_RW, MAP_PRIVATE_ANON, -1, 0)
    assert.is_true(ffi.cast('intptr_t', base) ~= -1)
    assert.equals(0, C.strings_spec_mprotect(ffi.cast('char *', base) + page, page, PROT_NONE))
    local name = ('/tmp/strings-%d-page-end'):format(mypid)
    local at = ffi.cast('char *', base) + page - (#name + 1)
    ffi.copy(at, name)
    local fd = C.strings_spec_openat(AT_FDCWD, at, ffi.new('int', O_RDONLY))
    if fd >= 0 then C.strings_spec_close(fd) end
    -- a name relative to a directory fd: dfd is that fd
    local dir = C.strings_spec_openat(AT_FDCWD, '/tmp', ffi.new('int', O_RDONLY + O_DIRECTORY))
    assert.is_true(dir >= 0)
    local rel = ('/tmp/strings-%d-relative'):format(mypid)
    fd = C.strings_spec_openat(dir, rel, ffi.new('int', O_RDONLY))
    if fd >= 0 then C.strings_spec_close(fd) end
    link:close()
    local got = drain(ring, ev_t)
    C.strings_spec_close(dir)
    C.strings_spec_munmap(base, 2 * page)
    assert.equals(2, #got)
    assert.equals(name, ffi.string(got[1].name))
    assert.equals('', ffi.string(got[1].raw)) -- the 64-byte read fails: what ffi.copy(buf, p) did before
    assert.equals(AT_FDCWD, got[1].dfd)
    assert.equals(AT_FDCWD, tonumber(got[1].dfd64))
    assert.equals(1, got[1].cwd)
    assert.equals(rel, ffi.string(got[2].name))
    assert.equals(rel, ffi.string(got[2].raw, #rel))
    assert.equals(dir, got[2].dfd)
    assert.equals(0, got[2].cwd)
    local f = assert(io.open('/proc/self/comm'))
    assert.equals(f:read('*l'), ffi.string(got[1].comm))
    f:close()
    -- zeros after the NUL, to the end of the buffer
    for i = #name, 63 do assert.equals(0, got[1].name[i]) end
  end)

  it('cuts a string longer than the buffer at its size - 1 bytes, with a NUL', function()
    local ring = assert(bpf.map('ringbuf', 4096))
    local small_t = ffi.typeof('struct { char name[8]; }')
    local link = assert(bpf.tracepoint('syscalls/sys_enter_openat', function(arg)
      if bit.rshift(pid_tgid(), 32) ~= mypid then return 0 end
      local e = ringbuf_reserve(ring, small_t)
      if e then
        ffi.copy(e.name, arg.filename)
        ringbuf_submit(e)
      end
      return 0
    end))
    local fd = C.strings_spec_openat(AT_FDCWD, '/tmp/strings-too-long', ffi.new('int', O_RDONLY))
    if fd >= 0 then C.strings_spec_close(fd) end
    link:close()
    local got = drain(ring, small_t)
    assert.is_true(#got >= 1)
    assert.equals('/tmp/st', ffi.string(got[#got].name))
    assert.equals(0, got[#got].name[7])
  end)

  it('copies into a map value, NULL-checked, and a stack buffer sent whole', function()
    local names = assert(bpf.map('array', 1, 'uint32_t', 'struct { char name[32]; uint32_t n; }'))
    local ring = assert(bpf.map('ringbuf', 4096))
    -- (name after a 4-byte field: its start is not 8-aligned, and the stack stores that zero it
    -- first are as wide as its address allows)
    local buf_t = ffi.typeof('struct { uint32_t pad; char name[28]; }')
    local link = assert(bpf.tracepoint('syscalls/sys_enter_openat', function(arg)
      if bit.rshift(pid_tgid(), 32) ~= mypid then return 0 end
      local v = names[0]
      if v then
        ffi.copy(v.name, arg.filename)
        if v.name == '/tmp/strings-map' then v.n = v.n + 1 end
      end
      local b = ffi.new(buf_t)
      ffi.copy(b.name, arg.filename)
      if ffi.string(b.name, 16) == '/tmp/strings-map' then ringbuf_output(ring, b) end
      return 0
    end))
    local fd = C.strings_spec_openat(AT_FDCWD, '/tmp/strings-map', ffi.new('int', O_RDONLY))
    if fd >= 0 then C.strings_spec_close(fd) end
    link:close()
    assert.equals('/tmp/strings-map', ffi.string(names[0].name))
    assert.equals(1, names[0].n)
    local got = drain(ring, buf_t)
    assert.equals(1, #got)
    assert.equals('/tmp/strings-map', ffi.string(got[1].name))
  end)
end)

describe('a tracepoint record read in place', function()
  local function set_comm(name)
    assert.equals(0, C.strings_spec_prctl(PR_SET_NAME, ffi.cast('const char *', name)))
  end

  it("compares arrays with strings and prefixes, copies them into records, and comm() fills a record's array",
    function()
    local ring = assert(bpf.map('ringbuf', 64 * 1024))
    local ev_t = ffi.typeof([[struct { char old[16]; char new[16]; char now[16]; uint32_t is_bash;
      uint32_t old_prefix; uint32_t buf_is; uint32_t long_prefix; }]])
    local link = assert(bpf.tracepoint('task/task_rename', function(arg)
      if bit.rshift(pid_tgid(), 32) ~= mypid then return 0 end
      local e = ringbuf_reserve(ring, ev_t)
      if e then
        ffi.copy(e.old, arg.oldcomm)
        ffi.copy(e.new, arg.newcomm, 16)
        comm(e.now)
        if arg.newcomm == 'bash' then e.is_bash = 1 end
        if ffi.string(arg.oldcomm, 4) == 'strs' then e.old_prefix = 1 end
        if ffi.string(arg.oldcomm, 4) == 'strs-x' then e.long_prefix = 1 end -- another length: never
        if e.now == 'bash' then e.buf_is = 1 end
        ringbuf_submit(e)
      end
      return 0
    end))
    local f = assert(io.open('/proc/self/comm'))
    local was = f:read('*l')
    f:close()
    set_comm('strs-one')
    set_comm('bash')
    set_comm('bashful')
    set_comm(was)
    link:close()
    local got = drain(ring, ev_t)
    assert.equals(4, #got)
    local function row(i) return { ffi.string(got[i].old), ffi.string(got[i].new), ffi.string(got[i].now),
      got[i].is_bash, got[i].old_prefix, got[i].buf_is, got[i].long_prefix } end
    -- (the tracepoint fires before the task takes its new name: comm() gives the old one)
    local b = was == 'bash' and 1 or 0
    local p = was:sub(1, 4) == 'strs' and 1 or 0
    assert.same({ was:sub(1, 15), 'strs-one', was:sub(1, 15), 0, p, b, 0 }, row(1))
    assert.same({ 'strs-one', 'bash', 'strs-one', 1, 1, 0, 0 }, row(2))
    assert.same({ 'bash', 'bashful', 'bash', 0, 0, 1, 0 }, row(3))
    assert.same({ 'bashful', was:sub(1, 15), 'bashful', b, 0, 0, 0 }, row(4))
  end)

  it('copies a __data_loc string (sched_process_exec filename) out of the record', function()
    local ring = assert(bpf.map('ringbuf', 64 * 1024))
    local ev_t = ffi.typeof('struct { char name[128]; char small[8]; uint32_t loc; }')
    local path = ('/tmp/strings-true-%d'):format(mypid)
    assert.is_true(os.execute(('cp /bin/true %s'):format(path)) == 0 or true)
    local link = assert(bpf.tracepoint('sched/sched_process_exec', function(arg)
      local e = ringbuf_reserve(ring, ev_t)
      if e then
        ffi.copy(e.name, arg.filename)
        ffi.copy(e.small, arg.filename)
        e.loc = arg.filename -- the word itself: (length << 16) | offset
        if ffi.string(e.name, 18) == '/tmp/strings-true-' then ringbuf_submit(e) else ringbuf_discard(e) end
      end
      return 0
    end))
    os.execute(path)
    link:close()
    os.remove(path)
    local got = drain(ring, ev_t)
    assert.equals(1, #got)
    assert.equals(path, ffi.string(got[1].name))
    assert.equals(path:sub(1, 7), ffi.string(got[1].small))
    assert.equals(#path + 1, bit.rshift(got[1].loc, 16))
  end)
end)

describe('which memory a pointer reads', function()
  local function buf_copy(regs)
    local buf = ffi.new('char[16]')
    ffi.copy(buf, ffi.cast('const char *', regs.parm2))
    return buf[0]
  end

  it('is kernel memory for a pointer cast in a kprobe, user memory in a uprobe', function()
    local k = assert(bpf(buf_copy, { ctx = proto.pt_regs, type = 'kprobe' }))
    assert.equals(1, calls(k, PROBE_READ_KERNEL_STR))
    assert.equals(0, calls(k, PROBE_READ) + calls(k, PROBE_READ_USER_STR))
    local u = assert(bpf(buf_copy, { ctx = proto.pt_regs, type = 'uprobe' }))
    assert.equals(1, calls(u, PROBE_READ_USER_STR))
    local m = assert(bpf(buf_copy, { ctx = proto.pt_regs, type = 'kprobe', memory = 'user' }))
    assert.equals(1, calls(m, PROBE_READ_USER_STR))
    -- compiled for a kprobe, loaded as a uprobe: compiled again for user memory
    local h = assert(k:load('uprobe'))
    assert.equals(1, calls(k, PROBE_READ_USER_STR))
    h:close()
    h = assert(m:load('kprobe'))
    h:close()
  end)

  it('is said by bpf.user and bpf.kernel, and kept through casts, reads and arithmetic', function()
    local prog = assert(bpf(function(regs)
      local buf = ffi.new('char[16]')
      local p = bpf.user(ffi.cast('const char *', regs.parm2)) -- ksys_write's buf
      ffi.copy(buf, p, 8)
      ffi.copy(buf, ffi.cast('const char *', bpf.user(regs.parm2) + 1)) -- an address, then cast
      local pp = ffi.cast('const char **', bpf.user(regs.parm3))
      ffi.copy(buf, pp[1])                                          -- a user pointer read from user memory
      ffi.copy(buf, ffi.cast('const char *', bpf.kernel(regs.parm4)))
      return buf[0]
    end, { ctx = proto.pt_regs, type = 'uprobe' }))
    assert.equals(2, calls(prog, PROBE_READ_USER)) -- 8 bytes, and pp[1]
    assert.equals(2, calls(prog, PROBE_READ_USER_STR))
    assert.equals(1, calls(prog, PROBE_READ_KERNEL_STR))
    assert.equals(0, calls(prog, PROBE_READ_KERNEL) + calls(prog, PROBE_READ))
    local h = assert(prog:load('kprobe'))
    h:close()
  end)

  it('reads a syscall argument as user memory and another tracepoint record as kernel memory', function()
    local prog = assert(bpf(function(arg)
      local buf = ffi.new('char[32]')
      ffi.copy(buf, arg.filename)
      return buf[0]
    end, openat_ctx))
    assert.equals(1, calls(prog, PROBE_READ_USER_STR))
    local h = assert(prog:load('tracepoint'))
    h:close()
    prog = assert(bpf(function(arg)
      local buf = ffi.new('char[16]')
      ffi.copy(buf, arg.prev_comm)
      return buf[0]
    end, { ctx = tp.dissector('sched/sched_switch'), type = 'tracepoint' }))
    assert.equals(1, calls(prog, PROBE_READ_KERNEL_STR))
    h = assert(prog:load('tracepoint'))
    h:close()
  end)
end)

describe('a compare with a string', function()
  it('runs one branch: the compare is not made again at the jump after the then-branch', function()
    local m = assert(bpf.map('array', 2))
    local prog = assert(bpf(function()
      local b = ffi.new('char[4]')
      ffi.copy(b, 'ab')
      if b == 'ab' then m[0] = 1 else m[1] = 1 end
      if ffi.string(b, 1) == 'a' then m[0] = m[0] + 2 else m[1] = m[1] + 2 end
      return 0
    end, { type = 'socket_filter' }))
    local h = assert(prog:load('socket_filter'))
    assert(require('bpf.loader').test_run(h, string.rep('\0', 64)))
    h:close()
    assert.equals(3, m[0])
    assert.equals(0, m[1])
  end)
end)

describe('refused at compile time, naming the line', function()
  it('a variable holding a user pointer on one path and a kernel pointer on another', function()
    local err = refused(function(arg)
      local buf = ffi.new('char[16]')
      local p = arg.filename
      if arg.flags == 1 then p = ffi.cast('const char *', arg.mode) end
      ffi.copy(buf, p)
      return buf[0]
    end, openat_ctx)
    assert.matches('holds a user pointer on one path and a kernel pointer on another', err)
    assert.matches('bpf.user%(%) or bpf.kernel%(%)', err)
  end)

  it('ffi.string not compared with a string constant at once, or longer than its array', function()
    local err = refused(function(arg)
      local s = ffi.string(arg.comm, 2)
      return s
    end, { ctx = tp.dissector('sched/sched_wakeup'), type = 'tracepoint' })
    assert.matches('ffi.string%(%) works in a program only compared with a string constant', err)
    err = refused(function(arg)
      return ffi.string(arg.comm, 17) == 'x'
    end, { ctx = tp.dissector('sched/sched_wakeup'), type = 'tracepoint' })
    assert.matches('ffi.string%(mem, 17%) of a 16%-byte array', err)
  end)

  it('ffi.copy from an array of a context that is no record, or of a number, or into one', function()
    local err = refused(function(skb)
      local buf = ffi.new('uint32_t[5]')
      ffi.copy(buf, skb.cb)
      return 0
    end, { type = 'socket_filter' })
    assert.matches("reads a tracepoint's record only", err)
    err = refused(function(arg)
      local buf = ffi.new('char[8]')
      ffi.copy(buf, arg.mode)
      return 0
    end, openat_ctx)
    assert.matches('ffi.copy%(%) reads through a pointer', err)
    err = refused(function(arg)
      ffi.copy(arg.flags, 'x')
      return 0
    end, openat_ctx)
    assert.matches('ffi.copy%(%) writes into a buffer made with ffi.new, a map value or a ring buffer', err)
    err = refused(function(arg)
      local buf = ffi.new('char[8]')
      ffi.copy(buf, arg.filename, 9)
      return 0
    end, openat_ctx)
    assert.matches('ffi.copy%(%) of 9 bytes into a 8%-byte buffer', err)
  end)

  it('comm() into a map value not checked for nil, and opts.memory of another word', function()
    local m = assert(bpf.map('array', 1, 'uint32_t', 'char[16]'))
    local err = refused(function()
      comm(m[0])
      return 0
    end, { type = 'tracepoint' })
    assert.matches('comm%(v%): check the map value for nil first', err)
    local prog, e2 = bpf(function() return 0 end, { memory = 'users' })
    assert.is_nil(prog)
    assert.matches("opts.memory is 'user' or 'kernel'", e2)
  end)
end)

ffi.cdef 'struct strings_spec_bits { int8_t c; int32_t low:4, high:4; };'
describe('pointers read through probe_read, as LuaJIT reads them', function()
  it("move by elements (p + n is n elements on), read signed and bitfield members by type", function()
    local got = assert(bpf.map('array', 4, 'uint32_t', 'int64_t'))
    local link = assert(bpf.tracepoint('syscalls/sys_enter_openat', function(arg)
      if bit.rshift(pid_tgid(), 32) ~= mypid then return 0 end
      local name = ffi.new('char[16]')
      ffi.copy(name, arg.filename)
      if name ~= '/tmp/abcdefgh' then return 0 end -- (this process opens other files too)
      local q = ffi.cast('uint32_t *', arg.filename)
      got[0] = ffi.cast('uint8_t *', q + 2)[0]                 -- byte 8
      got[1] = ffi.cast('uint8_t *', 1 + q)[0]                 -- byte 4
      got[2] = ffi.cast('uint8_t *', (q + 3) - 1)[0]           -- byte 8 again
      local s = ffi.cast('struct strings_spec_bits *', arg.filename)
      got[3] = s.c * 1000 + s.low * 10 + s.high                -- '/' = 47, then 't' = 0x74: 4 and 7
      return 0
    end, openat_ctx))
    local fd = C.strings_spec_openat(AT_FDCWD, '/tmp/abcdefgh', ffi.new('int', O_RDONLY))
    if fd >= 0 then C.strings_spec_close(fd) end
    link:close()
    assert.equals(('d'):byte(), tonumber(got[0]))
    assert.equals(('/'):byte(), tonumber(got[1]))
    assert.equals(('d'):byte(), tonumber(got[2]))
    assert.equals(47 * 1000 + 4 * 10 + 7, tonumber(got[3]))
    local err = refused(function(regs)
      local p, q = ffi.cast('uint32_t *', regs.parm1), ffi.cast('uint32_t *', regs.parm2)
      return p - q
    end, { type = 'kprobe', ctx = proto.pt_regs })
    assert.matches('arithmetic on two pointers to 4%-byte elements', err)
  end)

  it('reads a signed bitfield of a map value with its sign', function()
    local m = assert(bpf.map('array', 1, 'uint32_t', 'struct { int32_t a:3, b:5; uint32_t c:4; }'))
    local v = m[0]
    v.a, v.b, v.c = -2, -9, 9
    m[0] = v
    local loader = require('bpf.loader')
    local function run(fn)
      local h = assert(assert(bpf(fn, { type = 'sched_cls' })):load('sched_cls'))
      local r = assert(loader.test_run(h, string.rep('\0', 64)))
      h:close()
      return bit.tobit(r.retval)
    end
    assert.equals(-2, run(function() local x = m[0] if x then return x.a end return 99 end))
    assert.equals(-9, run(function() local x = m[0] if x then return x.b end return 99 end))
    assert.equals(9, run(function() local x = m[0] if x then return x.c end return 99 end))
    assert.equals(1, run(function() local x = m[0] if x and x.a < 0 then return 1 end return 2 end))
  end)
end)
