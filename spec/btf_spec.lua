-- Kernel types from BTF (bpf.ctype, current_task(), kfunc()), the program
-- types that take BTF-typed arguments (bpf.tp_btf, bpf.fentry, bpf.fexit,
-- bpf.lsm) and CO-RE relocations in saved objects, against the running
-- kernel.  What the kernel cannot do here is asked of it (bpf.feature,
-- its LSM list, its BTF), and then the clear error is what is checked.
local ffi = require('ffi')
local bpf = require('bpf')
local btf = require('bpf.btf')
local libbpf = require('bpf.libbpf')
local attach = require('bpf.attach')
local lib = libbpf.lib

ffi.cdef [[
int getpid(void);
int getppid(void);
]]
local me, parent = ffi.C.getpid(), ffi.C.getppid()

-- The kernel's own account of a struct, from bpftool: member -> { bits =, bsize = }.
local dump
local function bpftool_struct(name)
  if not dump then
    local p = assert(io.popen('bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null'))
    dump = p:read('*a')
    p:close()
  end
  local body = dump:match("\n%[%d+%] STRUCT '" .. name .. "' size=%d+ vlen=%d+\n(.-)\n%[")
  assert(body, 'bpftool shows no struct ' .. name)
  local size = tonumber(dump:match("\n%[%d+%] STRUCT '" .. name .. "' size=(%d+)"))
  local members = {}
  for line in body:gmatch('[^\n]+') do
    local m, id, bits, bsize = line:match("^%s+'([^']+)' type_id=(%d+) bits_offset=(%d+)(.*)$")
    if m then
      members[m] = { bits = tonumber(bits), type = tonumber(id),
        bsize = tonumber(bsize:match('bitfield_size=(%d+)') or '0') }
    end
  end
  return members, size
end

-- The bit offset LuaJIT gives member name of ct.
local function lj_bits(ct, name)
  local off, bpos, bsize = ffi.offsetof(ct, name)
  assert.is_truthy(off, tostring(ct) .. ' has no member ' .. name)
  return off * 8 + (bpos or 0), bsize or 0
end

-- Stores what fn's program stores in map[key], after trigger() ran, with the link.
local function run_tracepoint(path, fn, trigger)
  local link = assert(bpf.tracepoint(path, fn))
  local ok, err = pcall(trigger)
  link:close()
  assert(ok, err)
end

-- The pid of a shell that prints it and exits with code (its parent: us).
local function child(code)
  local f = assert(io.popen(('echo $$; exit %d'):format(code or 0)))
  local pid = tonumber(f:read('*l'))
  f:close()
  return pid
end

describe('bpf.ctype', function()
  it('gives kernel structs by name, with the offsets of the kernel\'s BTF', function()
    local task = bpf.ctype('struct task_struct')
    local members, size = bpftool_struct('task_struct')
    assert.equals(size, ffi.sizeof(task))
    local checked, bitfields = 0, 0
    for name, m in pairs(members) do
      if not name:match('^%(') then -- (anon) members: their own members are checked below
        local bits, bsize = lj_bits(task, name)
        assert.equals(m.bits, bits, 'task_struct.' .. name)
        assert.equals(m.bsize, bsize, 'task_struct.' .. name .. ' bit size')
        checked = checked + 1
        if m.bsize > 0 then bitfields = bitfields + 1 end
      end
    end
    assert.is_true(checked > 100 and bitfields >= 3, checked .. ' members, ' .. bitfields .. ' bitfields')
    for _, name in ipairs({ 'real_parent', 'tgid', 'pid', 'comm', 'mm', 'exit_code' }) do
      assert.equals(members[name].bits, lj_bits(task, name))
    end
    -- a field through the answer the compiler reads (bpf.btf.field)
    local f = btf.field(task, 'real_parent')
    assert.same({ members.real_parent.bits / 8, 8, true, true },
      { f.offset, f.size, f.pointer, f.btf_pointer })
    assert.equals(task, f.ctype)
  end)

  it('lays out anonymous structs and unions, flexible arrays and function pointers as the kernel', function()
    local mm = bpf.ctype('struct mm_struct')
    local members, size = bpftool_struct('mm_struct')
    assert.equals(size, ffi.sizeof(mm))
    assert.equals(members.cpu_bitmap.bits, lj_bits(mm, 'cpu_bitmap')) -- unsigned long cpu_bitmap[]
    -- mm_struct's fields sit in an anonymous struct: exe_file is found through it
    local anon = assert(members['(anon)'], 'mm_struct starts with an anonymous struct')
    local inner = dump:match(('\n%%[%d%%] STRUCT %%S+ size=%%d+ vlen=%%d+\n(.-)\n%%['):format(anon.type))
    local exe = tonumber(inner:match("'exe_file' type_id=%d+ bits_offset=(%d+)"))
    assert.equals(anon.bits + exe, lj_bits(mm, 'exe_file'))
    assert.equals((anon.bits + exe) / 8, btf.field(mm, 'exe_file').offset)
    -- its CO-RE access goes through the anonymous struct
    assert.matches('^0:0:%d+$', btf.core_spec(btf.field(mm, 'exe_file').core).access)
    -- function pointers: struct file_operations is made of them
    local fops = bpf.ctype('struct file_operations')
    local fm = bpftool_struct('file_operations')
    for _, name in ipairs({ 'read', 'write', 'open', 'release' }) do
      assert.equals(fm[name].bits, lj_bits(fops, name))
    end
    -- sock: its common part is an embedded struct whose fields are in anonymous unions
    local sock, sm = bpf.ctype('struct sock'), bpftool_struct('sock')
    assert.equals(sm.sk_protocol.bits, lj_bits(sock, 'sk_protocol'))
    assert.equals(sm.sk_type.bits, lj_bits(sock, 'sk_type'))
    local common = bpf.ctype('struct sock_common')
    local skc_family = select(1, lj_bits(common, 'skc_family'))
    assert.equals(sm.__sk_common.bits + skc_family, 8 * (ffi.offsetof(sock, '__sk_common') +
      ffi.offsetof(common, 'skc_family')))
  end)

  it('declares kernel types under names of their own: a user\'s struct task_struct stays theirs', function()
    ffi.cdef 'struct task_struct { int mine; };'
    assert.equals(4, ffi.sizeof('struct task_struct'))
    local task = bpf.ctype('struct task_struct')
    assert.equals('struct task_struct', btf.cname(task))
    assert.matches('task_struct___kernel', tostring(task))
    assert.equals(bpf.ctype('struct task_struct *'), ffi.typeof('$ *', task))
    local p = ffi.cast(bpf.ctype('struct task_struct *'), 0)
    assert.equals(ffi.sizeof(task), ffi.sizeof(p[0]))
    assert.has_error(function() bpf.ctype('struct no_such_kernel_struct') end,
      'bpf.ctype: the kernel has no type struct no_such_kernel_struct')
  end)
end)

describe('current_task()', function()
  it('reads real_parent.tgid through probe reads in a tracepoint program: a child\'s parent is us', function()
    local parents = assert(bpf.map('hash', 64, 'uint32_t', 'int64_t'))
    local seen
    run_tracepoint('syscalls/sys_enter_getppid', function()
      local t = current_task()
      parents[t.tgid] = t.real_parent.tgid
    end, function() seen = child() end) -- sh asks getppid() for $PPID
    assert.equals(me, tonumber(parents[seen]))
    local prog = assert(bpf(function()
      return current_task().real_parent.tgid
    end, { type = 'tracepoint' }))
    local listing = bpf.dump_string(prog)
    assert.matches('get_current_task\n', listing)
    assert.matches('probe_read_kernel', listing)
  end)

  it('gives the exit code of a child at sched_process_exit, and its comm, exactly', function()
    local codes = assert(bpf.map('hash', 64, 'uint32_t', 'int64_t'))
    local comms = assert(bpf.map('hash', 64, 'uint32_t', 'struct { char c[16]; }'))
    local pid
    run_tracepoint('sched/sched_process_exit', function()
      local t = current_task()
      codes[t.tgid] = t.exit_code
      local e = ffi.new('struct { char c[16]; }')
      ffi.copy(e.c, t.comm, 16)
      comms[t.tgid] = e
    end, function() pid = child(7) end)
    assert.equals(7 * 256, tonumber(codes[pid])) -- the wait status: exit(7)
    assert.equals('sh', ffi.string(comms[pid].c))
  end)

  it('reads 0 through a NULL pointer: a kernel thread has no mm', function()
    local exe = assert(bpf.map('hash', 4096, 'uint32_t', 'int64_t'))
    run_tracepoint('sched/sched_switch', function()
      local t = current_task()
      local mm = t.mm
      if mm == nil then exe[t.pid] = mm.exe_file == nil and 1 or 2 end
    end, function() os.execute('sleep 0.2') end)
    local n = 0
    for _, v in exe:pairs() do
      assert.equals(1, tonumber(v))
      n = n + 1
    end
    assert.is_true(n >= 1, 'no kernel thread ran')
  end)

  it('is bpf_get_current_task_btf with direct loads in tracing programs', function()
    local prog = assert(bpf(function()
      return current_task().real_parent.tgid
    end, { type = 'tracing' }))
    local listing = bpf.dump_string(prog)
    assert.matches('get_current_task_btf', listing)
    assert.not_matches('probe_read', listing)
    local off = btf.field(bpf.ctype('struct task_struct'), 'real_parent').offset
    assert.matches('LDXDW\tR0\t%[R0%+' .. off, listing)
  end)

  it('refuses what it cannot read, naming the Lua line', function()
    local prog, err = bpf(function()
      return current_task().no_such_field
    end, { type = 'tracepoint' })
    assert.is_nil(prog)
    assert.matches("btf_spec.lua:%d+: no field 'no_such_field' in this type", err)
  end)
end)

describe('bpf.tp_btf', function()
  it('gives sched_switch its arguments by name, BTF pointers read directly', function()
    local seen = assert(bpf.map('array', 4, 'uint32_t', 'int64_t'))
    local names = assert(bpf.map('array', 1, 'uint32_t', 'struct { char c[16]; }'))
    local link, err = bpf.tp_btf('sched_switch', function(args)
      if args.prev.tgid == me then
        seen[0] = args.prev.pid
        seen[1] = args.next.pid
        seen[2] = 1
        local e = ffi.new('struct { char c[16]; }')
        ffi.copy(e.c, args.prev.comm, 16)
        names[0] = e
      end
    end)
    assert.is_truthy(link, err)
    assert.matches('^bpf link: tp_btf sched_switch %(tracing program', tostring(link))
    os.execute('sleep 0.1')
    link:close()
    assert.equals(1, tonumber(seen[2]))
    assert.equals(me, tonumber(seen[0]))
    assert.are_not.equal(me, tonumber(seen[1]))
    local f = assert(io.open('/proc/self/comm'))
    local comm = f:read('*l')
    f:close()
    assert.equals(comm, ffi.string(names[0].c))
    assert.same({ nil, 'bpf.tp_btf("no_such_tracepoint"): the kernel has no raw tracepoint '
      .. 'no_such_tracepoint (no btf_trace_no_such_tracepoint in its BTF)' },
      { bpf.tp_btf('no_such_tracepoint', function() end) })
  end)
end)

-- The kernel refuses trampolines here (the host) or runs them (6.1 under qemu).
local trampolines, refused = bpf.feature('trampolines')

describe('bpf.fentry and bpf.fexit', function()
  it('run with the kernel function\'s arguments by name, and args.ret in fexit', function()
    local codes = assert(bpf.map('hash', 64, 'uint32_t', 'int64_t'))
    local rets = assert(bpf.map('hash', 64, 'uint32_t', 'int64_t'))
    local entry, err = bpf.fentry('do_exit', function(args)
      codes[current_task().tgid] = args.code
    end)
    if not trampolines then
      assert.is_nil(entry)
      assert.equals('bpf.fentry("do_exit"): ' .. refused, err:sub(1, #('bpf.fentry("do_exit"): ' .. refused)))
      assert.matches('refuses trampolines', err)
      local exit_, xerr = bpf.fexit('vfs_write', function(args) return args.ret end)
      assert.is_nil(exit_)
      assert.matches('^bpf.fexit%("vfs_write"%): this kernel refuses trampolines', xerr)
      return
    end
    assert.is_truthy(entry, err)
    local exit_ = assert(bpf.fexit('vfs_write', function(args)
      if current_task().tgid == me and args.count == 1234 then rets[me] = args.ret end
    end))
    local pid = child(5)
    local null = assert(io.open('/dev/null', 'w'))
    null:setvbuf('no')
    null:write(string.rep('x', 1234))
    null:close()
    entry:close()
    exit_:close()
    assert.equals(5 * 256, tonumber(codes[pid]))
    assert.equals(1234, tonumber(rets[me]))
  end)

  it('name a function the kernel has not as such', function()
    local link, err = bpf.fentry('no_such_kernel_function', function() end)
    assert.is_nil(link)
    assert.equals('bpf.fentry("no_such_kernel_function"): the kernel has no function no_such_kernel_function '
      .. 'in its BTF', err)
  end)
end)

describe('bpf.lsm', function()
  it('runs a hook where the kernel has the BPF LSM and trampolines, and says which is missing', function()
    local path = os.tmpname()
    local f = assert(io.open(path, 'w'))
    f:write('x')
    f:close()
    local st = assert(io.popen('stat -c %i ' .. path))
    local ino = tonumber(st:read('*l'))
    st:close()
    local link, err = bpf.lsm('file_open', function(args)
      if current_task().tgid == me and args.file.f_inode.i_ino == ino then return -13 end -- EACCES
      return 0
    end)
    local has_lsm, why = attach.bpf_lsm()
    if not has_lsm then
      assert.is_nil(link)
      assert.equals('bpf.lsm("file_open"): ' .. why, err)
    elseif not trampolines then
      assert.is_nil(link)
      assert.matches('^bpf.lsm%("file_open"%): this kernel refuses trampolines', err)
    else
      assert.is_truthy(link, err)
      local g, oerr = io.open(path, 'r')
      link:close()
      assert.is_nil(g)
      assert.matches('Permission denied', oerr)
      g = assert(io.open(path, 'r')) -- and again once the link is gone
      g:close()
    end
    os.remove(path)
  end)
end)

describe('kfunc()', function()
  local has = btf.kfunc('bpf_task_from_pid') and btf.kfunc('bpf_task_release')
  it('calls a kernel function by name with its BTF id (bpf_task_from_pid where the kernel has it)', function()
    local fn = function()
      local t = kfunc('bpf_task_from_pid', me)
      if t ~= nil then
        local r = t.real_parent.tgid
        kfunc('bpf_task_release', t)
        return r
      end
      return 0
    end
    local prog, err = bpf(fn, { type = 'sched_cls' })
    if not has then
      assert.is_nil(prog)
      assert.matches("btf_spec.lua:%d+: kfunc%(%): the kernel has no function 'bpf_task_from_pid' in its BTF",
        err)
      return
    end
    assert.is_truthy(prog, err)
    local listing = bpf.dump_string(prog)
    assert.matches('CALLKF\tR0\t#' .. btf.kfunc('bpf_task_from_pid').id, listing)
    local h = assert(prog:load('sched_cls'))
    local r = assert(require('bpf.loader').test_run(h, string.rep('\0', 64)))
    h:close()
    assert.equals(parent, r.retval)
  end)

  it('checks the arguments against the prototype', function()
    local prog, err = bpf(function() return kfunc('bpf_task_release', 5) end, { type = 'sched_cls' })
    assert.is_nil(prog)
    if has then
      assert.matches('argument 1 of kfunc bpf_task_release is a pointer', err)
    end
    prog, err = bpf(function() return kfunc('no_such_kfunc_here') end, { type = 'sched_cls' })
    assert.is_nil(prog)
    assert.matches("kfunc%(%): the kernel has no function 'no_such_kfunc_here' in its BTF", err)
  end)
end)

-- .BTF.ext's core_relo records of an object: { insn_off =, type_id =, access =, kind = }.
local function core_records(bytes)
  local elf = bytes
  local shoff = ffi.cast('const uint64_t *', ffi.cast('const char *', elf) + 0x28)[0]
  local shnum = ffi.cast('const uint16_t *', ffi.cast('const char *', elf) + 0x3c)[0]
  local shstrndx = ffi.cast('const uint16_t *', ffi.cast('const char *', elf) + 0x3e)[0]
  local sh = ffi.cast('const uint8_t *', elf) + shoff
  local function sec(i)
    local p = sh + 64 * i
    local u32 = ffi.cast('const uint32_t *', p)
    local u64 = ffi.cast('const uint64_t *', p)
    return { name = u32[0], off = tonumber(u64[3]), size = tonumber(u64[4]) }
  end
  local strs = sec(shstrndx)
  local secs = {}
  for i = 0, shnum - 1 do
    local s = sec(i)
    local name = ffi.string(ffi.cast('const char *', elf) + strs.off + s.name)
    secs[name] = s
  end
  local base = ffi.cast('const uint8_t *', elf)
  local function u32(at) return ffi.cast('const uint32_t *', base + at)[0] end
  local bt = secs['.BTF']
  local hdr_len, str_off = u32(bt.off + 4), u32(bt.off + 16)
  local function btf_str(off) return ffi.string(base + bt.off + hdr_len + str_off + off) end
  local ext = secs['.BTF.ext']
  local core_off, core_len = u32(ext.off + 24), u32(ext.off + 28)
  local at, stop = ext.off + 32 + core_off, ext.off + 32 + core_off + core_len
  local records = {}
  if core_len == 0 then return records end
  local rec_size = u32(at)
  at = at + 4
  while at < stop do
    local sec_name, n = btf_str(u32(at)), u32(at + 4)
    at = at + 8
    for _ = 1, n do
      records[#records + 1] = { section = sec_name, insn_off = u32(at), type_id = u32(at + 4),
        access = btf_str(u32(at + 8)), kind = u32(at + 12) }
      at = at + rec_size
    end
  end
  return records
end

-- Loads an object's bytes through libbpf as they are, attaches its program
-- (libbpf's own attach by section) and returns the fd of its map `name`.
ffi.cdef [[
struct bpf_link *btf_spec_attach(const struct bpf_program *prog) __asm__("bpf_program__attach");
]]
local function libbpf_object(bytes, map_name, trigger)
  local oo = ffi.new('struct bpf_object_open_opts')
  oo.sz = ffi.sizeof(oo)
  local obj = lib.bpf_object__open_mem(bytes, #bytes, oo)
  assert(obj ~= nil, 'libbpf opens the object')
  local old = lib.libbpf_set_print(nil)
  local ret = lib.bpf_object__load(obj)
  lib.libbpf_set_print(old)
  assert.equals(0, ret, 'libbpf loads the object (and applies its CO-RE relocations)')
  local prog = lib.bpf_object__next_program(obj, nil)
  local link = lib.btf_spec_attach(prog)
  assert(link ~= nil, 'libbpf attaches the program')
  trigger()
  lib.bpf_link__destroy(link)
  local fd = lib.bpf_map__fd(lib.bpf_object__find_map_by_name(obj, map_name))
  local key, val = ffi.new('uint32_t[1]', me), ffi.new('int64_t[1]')
  local found = lib.bpf_map_lookup_elem(fd, key, val) == 0
  lib.bpf_object__close(obj)
  return found and tonumber(val[0]) or nil
end

describe('prog:save() with kernel types', function()
  it('writes CO-RE field relocations that libbpf applies: the parent\'s tgid, right', function()
    local parents = assert(bpf.map('hash', 64, 'uint32_t', 'int64_t'))
    parents.name = 'parents'
    local prog = assert(bpf(function()
      local t = current_task()
      parents[t.tgid] = t.real_parent.tgid
    end, { type = 'tracepoint' }))
    local bytes = assert(require('bpf.object').build(prog, { name = 'parents_of',
      target = 'syscalls/sys_enter_getppid' }))
    local records = core_records(bytes)
    assert.equals(#prog.core, #records)
    assert.equals(3, #records) -- tgid, real_parent, real_parent's tgid
    local task = bpf.ctype('struct task_struct')
    for i, r in ipairs(records) do
      assert.equals(0, r.kind) -- BPF_CORE_FIELD_BYTE_OFFSET
      assert.equals('tracepoint/syscalls/sys_enter_getppid', r.section)
      assert.equals(prog.core[i].insn * 8, r.insn_off)
      assert.matches('^0:[01]$', r.access) -- a member of the local task_struct (tgid, real_parent)
    end
    local path = os.tmpname()
    assert(prog:save(path, { name = 'parents_of', target = 'syscalls/sys_enter_getppid' }))
    local bt = assert(io.popen('bpftool btf dump file ' .. path))
    local text = bt:read('*a')
    bt:close()
    os.remove(path)
    assert.matches("STRUCT 'task_struct' size=" .. ffi.sizeof(task) .. ' vlen=2', text)
    assert.matches("'real_parent' type_id=%d+ bits_offset=" .. 8 * ffi.offsetof(task, 'real_parent'), text)
    assert.equals(parent, libbpf_object(bytes, 'parents', function() ffi.C.getppid() end))
  end)

  it('gives an object saved on another kernel (spec/data/btf/parents.o, 6.18) this one\'s offsets', function()
    local f = assert(io.open('spec/data/btf/parents.o', 'rb'))
    local bytes = f:read('*a')
    f:close()
    local records = core_records(bytes)
    assert.equals(3, #records)
    assert.equals(parent, libbpf_object(bytes, 'parents', function() ffi.C.getppid() end))
  end)

  it('refuses to save kfunc calls, which are bound to this kernel\'s BTF ids', function()
    if not btf.kfunc('bpf_task_from_pid') then return end
    local prog = assert(bpf(function()
      local t = kfunc('bpf_task_from_pid', 1)
      if t ~= nil then kfunc('bpf_task_release', t) end
      return 0
    end, { type = 'sched_cls' }))
    local ok, err = prog:save(os.tmpname())
    assert.is_nil(ok)
    assert.matches('kfunc', err)
  end)
end)
