-- The helper table (csrc/helpers.def, listed by core.helpers()) against
-- every other view of the helpers: what a program reaches them by
-- (bpf.builtins), the core's dispatch, .luacheckrc's program globals, the
-- README's list, and the kernel, which loads each helper's program for a
-- type the table allows and says which program types have each BPF_FUNC.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local core = require('bpf.core')
local builtins = require('bpf.builtins')
local proto = require('bpf.proto')
local libbpf = require('bpf.libbpf')
local disasm = require('bpf.disasm')
local kernel = require('spec.support.kernel')

local root = debug.getinfo(1, 'S').source:gsub('^@', ''):gsub('[^/]*$', '') .. '../'
local rows = core.helpers()

local function read(path)
  local f = assert(io.open(root .. path, 'r'))
  local text = f:read('*a')
  f:close()
  return text
end

-- How the core's messages name a helper: the ffi functions as written.
local function shown(h)
  return h.from:match('^ffi%.') and h.from or h.name
end

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- Every program type there is (libbpf's names), unspec aside.
local all_types = {}
for id = 1, #libbpf.prog_type_name do all_types[#all_types + 1] = libbpf.prog_type_name[id] end

describe('the helper table', function()
  it('has one row per name and per Lua value, each row whole', function()
    assert.is_true(#rows >= 31)
    local names, froms = {}, {}
    for _, h in ipairs(rows) do
      assert.is_nil(names[h.name], 'two rows named ' .. h.name)
      assert.is_nil(froms[h.from], 'two rows reached as ' .. h.from)
      names[h.name], froms[h.from] = true, true
      assert.is_true(h.min >= 0 and h.min <= h.max, h.name .. ': min/max')
      assert.equals(h.max, #h.args, h.name .. ': one kind per argument')
      assert.is_string(h.result)
      assert.is_true(#h.prog_types >= 1, h.name .. ': some program type may call it')
      local known = set(all_types)
      for _, t in ipairs(h.prog_types) do
        assert.is_true(known[t], h.name .. ': ' .. t .. ' is not a program type libbpf knows')
      end
      if h.func_id ~= 0 then
        -- the disassembler's names (the kernel's whole list) name the same function
        assert.equals(disasm.helper_name(h.func_id), h.func, h.name)
      else
        assert.is_nil(h.func)
        assert.equals(#all_types, #h.prog_types, h.name .. ' calls nothing: every type may use it')
      end
    end
  end)

  it('names every program type libbpf knows', function()
    local union = {}
    for _, h in ipairs(rows) do
      for _, t in ipairs(h.prog_types) do union[t] = true end
    end
    for _, t in ipairs(all_types) do assert.is_true(union[t], t) end
  end)
end)

describe('bpf.builtins', function()
  local libs = { ffi = ffi, bit = bit, math = builtins.math, bpf = bpf }

  it('gives every row a Lua value under its from name, that names the row', function()
    for _, h in ipairs(rows) do
      local lib, field = h.from:match('^(%w+)%.([%w_]+)$')
      local fn
      if lib then fn = libs[lib][field] else fn = builtins[h.from] or rawget(_G, h.from) end
      assert.is_function(fn, h.from)
      assert.equals(h.name, builtins.names[fn], h.from)
    end
    local n = 0
    for _ in pairs(builtins.names) do n = n + 1 end
    assert.equals(#rows, n) -- and names nothing else
  end)

  it('keeps the Lua implementations and stubs the kernel-only ones', function()
    assert.equals(0x3412, builtins.ntoh(0x1234, 2))
    assert.equals(0x3412, builtins.hton(0x1234, 2))
    assert.equals(5, builtins.math.log2(32))
    local ok, err = pcall(builtins.time)
    assert.is_false(ok)
    assert.matches('time%(%) works only inside a compiled program', err)
  end)

  it('dispatches each one to its own row (count checks come from the row)', function()
    for _, h in ipairs(rows) do
      local counts = { h.max + 1 }
      if h.min > 0 then counts[2] = h.min - 1 end
      for _, n in ipairs(counts) do
        local args = {}
        for i = 1, n do args[i] = '1' end
        local src = ('local f = %s; return f(%s)'):format(h.from, table.concat(args, ', '))
        local prog, err = bpf(src)
        assert.is_nil(prog, src)
        local want = ('%s() takes %d to %d arguments, got %d'):format(shown(h), h.min, h.max, n)
        assert.is_truthy(err:find(want, 1, true), src .. ': ' .. err)
      end
    end
  end)
end)

describe('.luacheckrc', function()
  it('declares the helpers a program reaches as globals, and only those and dissectors', function()
    local env = { files = {} }
    local chunk = assert(loadstring(read('.luacheckrc'), '.luacheckrc'))
    setfenv(chunk, env)
    chunk()
    for _, dir in ipairs({ 'spec', 'examples', 'bench' }) do
      local globals = env.files[dir].read_globals
      local declared, fields = {}, set(globals.math.fields)
      for _, g in ipairs(globals) do declared[g] = true end
      local from = {}
      for _, h in ipairs(rows) do
        from[h.from] = true
        local lib, field = h.from:match('^(%w+)%.([%w_]+)$')
        if not lib and rawget(_G, h.from) == nil then
          assert.is_true(declared[h.from], dir .. ': ' .. h.from .. ' is not declared')
        elseif lib == 'math' and math[field] == nil then -- not in luacheck's std math
          assert.is_true(fields[field], dir .. ': math.' .. field .. ' is not declared')
        end
      end
      for g in pairs(declared) do
        assert.is_true(from[g] or proto[g] ~= nil, dir .. ': ' .. g .. ' is neither a helper nor a dissector')
      end
      for f in pairs(fields) do
        assert.is_true(from['math.' .. f], dir .. ': math.' .. f .. ' is not a helper')
      end
    end
  end)
end)

describe('README', function()
  it('lists every helper in "What the compiler understands", and nothing else there', function()
    local text = read('README.md')
    local section = assert(text:match('\n## What the compiler understands\n(.-)\n##'))
    local bullet = assert(section:match('\n%- helpers: (.-)\n%- '), 'no "- helpers:" item')
    local listed = {}
    for span in bullet:gmatch('`([^`]+)`') do
      local name = span:gsub('%(.*%)$', '')
      listed[name] = true
    end
    local from = {}
    for _, h in ipairs(rows) do
      from[h.from] = true
      assert.is_true(listed[h.from], 'README does not list ' .. h.from)
    end
    for name in pairs(listed) do assert.is_true(from[name], 'README lists ' .. name) end
  end)
end)

-- A small program for each row that calls a BPF_FUNC: the maps and buffers it needs,
-- and the context (pt_regs for kprobe programs).
local ring = assert(bpf.map('ringbuf', 4096))
local perf = assert(bpf.map('perf_event_array'))
local stacks = assert(bpf.map('stack_trace', 16))
local progs = assert(bpf.map('prog_array', 2))
local devs = assert(bpf.map('devmap', 2))
local cases = {
  time = function() return time() end,
  cpu = function() return cpu() end,
  pid_tgid = function() return pid_tgid() end,
  uid_gid = function() return uid_gid() end,
  random = function() return random() end,
  comm = function()
    local buf = ffi.new('char[16]')
    return comm(buf)
  end,
  print = function() return print('helpers_spec %d', 1) end,
  copy = { type = 'kprobe', ctx = proto.pt_regs, fn = function(regs) -- from a pointer: probe_read
    local buf = ffi.new('char[8]')
    ffi.copy(buf, ffi.cast('const char *', regs.parm1), 8)
  end },
  ringbuf_output = function()
    local e = ffi.new('uint64_t[1]')
    return ringbuf_output(ring, e)
  end,
  ringbuf_reserve = function()
    local e = ringbuf_reserve(ring, 'uint64_t')
    if e then ringbuf_discard(e) end
  end,
  ringbuf_submit = function()
    local e = ringbuf_reserve(ring, 'uint64_t')
    if e then ringbuf_submit(e) end
  end,
  ringbuf_discard = function()
    local e = ringbuf_reserve(ring, 'uint64_t')
    if e then ringbuf_discard(e) end
  end,
  perf_submit = function()
    local e = ffi.new('uint64_t[1]')
    return perf_submit(perf, e)
  end,
  stack_id = function() return stack_id(stacks, 0) end,
  load_bytes = function()
    local buf = ffi.new('char[4]')
    return load_bytes(0, buf)
  end,
  redirect = function() return redirect(1) end,
  clone_redirect = function() return clone_redirect(1, 0) end,
  tail_call = function()
    tail_call(progs, 0)
    return 0
  end,
  redirect_map = function() return redirect_map(devs, 0, 2) end,
  adjust_head = function() return adjust_head(-4) end,
  adjust_tail = function() return adjust_tail(-4) end,
  skb_adjust_room = function() return skb_adjust_room(4, 0) end,
  current_task = function() return current_task().tgid end, -- (bpf_get_current_task_btf in tracing)
}

local function case_of(h)
  local case = cases[h.name]
  if type(case) == 'function' then
    local allowed = set(h.prog_types)
    local fn = case
    case = { fn = fn, type = allowed.socket_filter and 'socket_filter' or h.prog_types[1] }
    -- where socket filters are refused the helper (older kernels), a kprobe program
    if allowed.socket_filter and allowed.kprobe then case.fallback = { fn = fn, type = 'kprobe' } end
  end
  return case
end

local function calls(prog, id)
  for pc = 0, prog.pc - 1 do
    if prog.insn[pc].code == 0x85 and prog.insn[pc].src_reg == 0 and prog.insn[pc].imm == id then
      return true
    end
  end
  return false
end

describe('each helper that calls the kernel', function()
  it('compiles to its BPF_FUNC and loads for a program type the table allows', function()
    for _, h in ipairs(rows) do
      if h.func_id ~= 0 then
        local case = case_of(h)
        assert.is_truthy(case, 'no program in this spec calls ' .. h.name)
        assert.is_true(set(h.prog_types)[case.type], h.name .. ' in ' .. case.type)
        local prog = assert(bpf(case.fn, { type = case.type, ctx = case.ctx }))
        assert.is_true(calls(prog, h.func_id), h.name .. ' calls ' .. h.func)
        local handle, err = prog:load(case.type)
        if not handle and case.fallback then -- an older kernel without the helper there: it says so
          assert.matches(('%s programs may not call bpf_%s'):format(case.type, h.func), err)
          case = case.fallback
          prog = assert(bpf(case.fn, { type = case.type, ctx = case.ctx }))
          handle, err = prog:load(case.type)
        end
        assert.is_truthy(handle, ('%s as %s: %s'):format(h.name, case.type, tostring(err)))
        handle:close()
      end
    end
  end)

  it('compiles for every type the table allows, and is a compile error for the others', function()
    for _, h in ipairs(rows) do
      if h.func_id ~= 0 then
        local case, allowed = case_of(h), set(h.prog_types)
        for _, t in ipairs(all_types) do
          local prog, err = bpf(case.fn, { type = t, ctx = case.ctx })
          if allowed[t] then
            assert.is_truthy(prog, h.name .. ' as ' .. t .. ': ' .. tostring(err))
          else
            assert.is_nil(prog, h.name .. ' as ' .. t)
            local want = ('%s() cannot be called from a %s program: %s programs have no bpf_%s')
              :format(shown(h), t, t, h.func)
            assert.is_truthy(err:find(want, 1, true), err)
          end
        end
      end
    end
  end)

  it('is checked under the names attach uses, and not at all without a type', function()
    local fn = cases.load_bytes
    local prog, err = bpf(fn, { type = 'uprobe', ctx = proto.pt_regs })
    assert.is_nil(prog)
    assert.matches('load_bytes%(%) cannot be called from a uprobe program', err)
    prog, err = bpf(fn, { type = 2 }) -- BPF_PROG_TYPE_KPROBE
    assert.is_nil(prog)
    assert.matches('load_bytes%(%) cannot be called from a kprobe program', err)
    prog, err = bpf(fn, { type = 'no_such_type' })
    assert.is_nil(prog)
    assert.matches("unknown program type 'no_such_type'", err)
    assert.is_truthy(bpf(fn, { ctx = proto.pt_regs })) -- the verifier will say it
  end)
end)

-- The atomics call nothing: each is one BPF_STX | BPF_ATOMIC instruction
-- (spec/atomics_spec.lua checks what they compute), imm the operation.
ffi.cdef [[ struct helpers_spec_atomic { uint32_t w; uint64_t dw; }; ]]
local atomic_imm = { xadd = 0x00, atomic_add = 0x00, atomic_and = 0x50, atomic_or = 0x40, atomic_xor = 0xa0,
  atomic_fetch_add = 0x01, atomic_fetch_and = 0x51, atomic_fetch_or = 0x41, atomic_fetch_xor = 0xa1,
  xchg = 0xe1, cmpxchg = 0xf1 }

describe('each atomic', function()
  it('compiles to its BPF_ATOMIC instruction on a map value field, and loads', function()
    local m = assert(bpf.map('array', 1, 'uint32_t', 'struct helpers_spec_atomic'))
    local seen = 0
    for _, h in ipairs(rows) do
      local imm = atomic_imm[h.name]
      if imm or h.name:match('^atomic_') or h.name:match('xchg$') then
        assert.is_truthy(imm, 'no case in this spec for ' .. h.name)
        seen = seen + 1
        local extra = h.max == 3 and ', 2' or ''
        local src = ('local m = ...\nreturn function() local v = m[0] %s(v.w, 1%s) %s(v.dw, 1%s) end')
          :format(h.from, extra, h.from, extra)
        local prog = assert(bpf(assert(loadstring(src))(m), { type = 'socket_filter' }))
        local found = {}
        for pc = 0, prog.pc - 1 do
          local i = prog.insn[pc]
          if i.code == 0xc3 or i.code == 0xdb then -- BPF_STX | BPF_ATOMIC | BPF_W / BPF_DW
            assert.equals(imm, i.imm, h.name)
            found[i.code] = true
          end
        end
        assert.is_true(found[0xc3] and found[0xdb], h.name .. ': a 32- and a 64-bit one')
        local handle = assert(prog:load('socket_filter'))
        handle:close()
      end
    end
    assert.equals(11, seen)
  end)
end)

-- The kernel's own answer: which program types have each BPF_FUNC. Each type
-- loads a program that calls it with zero arguments: the verifier looks the
-- helper up for the type before it checks an argument.
ffi.cdef [[
typedef struct helpers_spec_btf helpers_spec_btf;
helpers_spec_btf *helpers_spec_vmlinux_btf(void) __asm__("btf__load_vmlinux_btf");
int helpers_spec_btf_find(const helpers_spec_btf *btf, const char *name, uint32_t kind)
  __asm__("btf__find_by_name_kind");
void helpers_spec_btf_free(helpers_spec_btf *btf) __asm__("btf__free");
int helpers_spec_probe_prog_type(int prog_type, const void *opts) __asm__("libbpf_probe_bpf_prog_type");
]]

-- How each type loads (what its programs must say about themselves), and the
-- types this machine cannot load at all.
local how = {
  cgroup_sock_addr = { attach = 'cgroup_inet4_connect' },
  cgroup_sockopt = { attach = 'cgroup_getsockopt' },
  sk_lookup = { attach = 'sk_lookup' },
  netfilter = { attach = 'netfilter' },
  tracing = { attach = 'trace_raw_tp', btf = 'btf_trace_sched_switch' }, -- tp_btf
  syscall = { flags = 16 }, -- BPF_F_SLEEPABLE
}
local not_here = {
  lirc_mode2 = 'this kernel has no BPF_LIRC_MODE2',
  struct_ops = 'needs a struct_ops map to belong to',
  ext = 'extends another program, whose type it takes',
  lsm = 'trampolines are refused on this host',
}

local function kernel_load(prog_type, id, log)
  local code, n
  if id then
    code, n = kernel.asm({ { 0xbf, 6, 1 }, { 0xb7, 1 }, { 0xb7, 2 }, { 0xb7, 3 }, { 0xb7, 4 },
      { 0xb7, 5 }, { 0x85, 0, 0, 0, id }, { 0xb7, 0 }, { 0x95 } })
  else
    code, n = kernel.asm({ { 0xb7, 0 }, { 0x95 } })
  end
  local opts = ffi.new('struct bpf_prog_load_opts')
  opts.sz = ffi.sizeof(opts)
  opts.log_level, opts.log_size, opts.log_buf = 1, ffi.sizeof(log), log
  log[0] = 0
  local settings = how[prog_type] or {}
  if settings.attach then opts.expected_attach_type = libbpf.attach_type[settings.attach] end
  if settings.flags then opts.prog_flags = settings.flags end
  if settings.btf then
    local btf = libbpf.lib.helpers_spec_vmlinux_btf()
    assert(btf ~= nil, 'no vmlinux BTF')
    opts.attach_btf_id = libbpf.lib.helpers_spec_btf_find(btf, settings.btf, 8) -- BTF_KIND_TYPEDEF
    libbpf.lib.helpers_spec_btf_free(btf)
    assert(opts.attach_btf_id > 0, settings.btf)
  end
  local fd = libbpf.lib.bpf_prog_load(libbpf.prog_type[prog_type], 'helpers_spec', 'GPL', code, n, opts)
  if fd >= 0 then libbpf.close_fd(libbpf.own_fd(fd)) end
  return fd, ffi.string(log)
end

-- The table is the newest kernel's (6.18's) answer.  An older kernel gives
-- some helpers to fewer program types (6.1: no bpf_get_current_pid_tgid in
-- socket filters) and lacks some types (netfilter, 6.4): a program calling
-- one there is refused at load with a line that says so.
describe('the table against the kernel', function()
  it('gives each BPF_FUNC every program type the kernel gives it, and the kernel names the others', function()
    local log = ffi.new('char[65536]')
    local types = {}
    for _, t in ipairs(all_types) do
      if not not_here[t] then
        local fd, text = kernel_load(t, nil, log)
        if fd >= 0 then
          types[#types + 1] = t
        else -- a type this kernel does not have, as libbpf's own probe finds too (0), or one
          -- newer than the libbpf here, which then cannot tell (-EOPNOTSUPP)
          local probed = libbpf.lib.helpers_spec_probe_prog_type(libbpf.prog_type[t], nil)
          assert.is_true(probed == 0 or probed == -95, t .. ' programs do not load here: ' .. text)
        end
      end
    end
    assert.is_true(#types >= 20, 'program types here: ' .. table.concat(types, ' '))
    for _, h in ipairs(rows) do
      if h.func_id ~= 0 then
        local allowed = set(h.prog_types)
        for _, t in ipairs(types) do
          local fd, text = kernel_load(t, h.func_id, log)
          local has = fd >= 0 or not (text:find('unknown func', 1, true)
            or text:find('cannot use helper', 1, true))
          assert.is_true(allowed[t] or not has, ('%s: %s programs have bpf_%s'):format(h.name, t, h.func))
          if allowed[t] and not has and not h.sometimes then -- the message a user gets for it
            local rejection = require('bpf.loader').rejection(t, 'x', 9, -22, text)
            assert.matches(('\n%s programs may not call bpf_%s %%(the kernel refuses it'):format(t, h.func),
              rejection)
          end
        end
      end
    end
  end)
end)
