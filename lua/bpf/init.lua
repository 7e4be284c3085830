-- require('bpf'): compile a Lua function to an eBPF program with the C core,
-- and reach maps, loading and printing from one table.
--
--   local prog = assert(bpf(function (skb) ... end[, opts]))
--   prog.insn, prog.pc          instructions (struct bpf_insn[?]) and count
--   bpf.dump(prog[, opts])      print it; opts.syntax = 'classic' | 'pseudo-c' | 'mnemonic'
--   prog:load(type[, opts])     into the kernel: a handle with .fd, or nil, err
--   bpf.asm(text[, opts])       the same kind of program from assembly text
local ffi = require('ffi')
local bit = require('bit')
local jutil = require('jit.util')
local core = require('bpf.core')
local insn = require('bpf.insn')
local proto = require('bpf.proto')
local builtins = require('bpf.builtins')
local facts = require('bpf.facts')

local M = {}

-- bpf.user(p) and bpf.kernel(p): which memory a pointer points into (see builtins)
M.user, M.kernel = builtins.bpf.user, builtins.bpf.kernel

-- Globals a program can name, besides the caller's locals and _G.
local base_env = {
  pkt = proto.pkt, eth = proto.eth, c = proto.c, skb = proto.skb,
  ffi = ffi, bit = bit, math = builtins.math, bpf = M,
}
for k, v in pairs(builtins) do
  if type(v) == 'function' then base_env[k] = v end
end

-- Names not among the caller's locals: the helpers and dissectors, then _G.
local env_mt = { __index = function(_, k)
  local v = base_env[k]
  if v == nil then v = rawget(_G, k) end
  return v
end }

local function program_env(level)
  local env = {}
  -- the caller's locals, innermost scope last so it wins
  for lvl = level + 3, level, -1 do
    if debug.getinfo(lvl + 1, 'l') then
      local i = 1
      while true do
        local name, value = debug.getlocal(lvl + 1, i)
        if not name then break end
        if name:byte(1) ~= 40 then env[name] = value end -- not '(temporary)'
        i = i + 1
      end
    end
  end
  return setmetatable(env, env_mt)
end

-- opts.env: the names it gives first, then the helpers and dissectors, then _G.
local function with_base(names)
  return setmetatable({}, { __index = function(_, k)
    local v = names[k]
    if v == nil then v = base_env[k] end
    if v == nil then v = rawget(_G, k) end
    return v
  end })
end

local prog_mt = {}
prog_mt.__index = prog_mt

-- The text of a function's source file, by line (empty for a string chunk).
local function source_text(info, cache)
  local text = cache[info.source]
  if text then return text end
  text = {}
  if info.source:sub(1, 1) == '@' then
    local f = io.open(info.source:sub(2), 'r')
    if f then
      for l in f:lines() do text[#text + 1] = l end
      f:close()
    end
  end
  cache[info.source] = text
  return text
end

-- Source line of each instruction, from the bytecode position it came from
-- (in the program, or in a function the program calls that was inlined).
function prog_mt:lines()
  if self._lines then return self._lines end
  local lines, texts = {}, {}
  for pc = 0, self.pc - 1 do
    local fn = self.fns and self.fns[pc] or self.fn
    local info = jutil.funcinfo(fn)
    local text = source_text(info, texts)
    local line = jutil.funcinfo(fn, self.bcpos[pc] or 0).currentline or info.linedefined
    lines[pc] = { file = info.source:gsub('^[@=]', ''), line = line,
      text = text[line] and text[line]:match('^%s*(.-)%s*$') }
  end
  self._lines = lines
  return lines
end

function prog_mt:dump_string(opts)
  return M.dump_string(self, opts)
end

function prog_mt:dump(opts)
  return M.dump(self, opts)
end

-- Into the kernel the one way: a BPF object (ELF with BTF and line info)
-- opened and loaded by libbpf, its maps reusing the live map fds.
-- opts.raw = true loads the bare instructions instead (bpf_prog_load).
local load_once, translated, for_packet_access, for_memory, compiled_with, adopt

-- Does this kernel run bpf_loop callbacks (5.17+), and check them soundly?
-- Before 6.7 the verifier checks a callback once, with the values of its
-- first turn, and may then rewrite a branch it saw taken one way only (6.1
-- does): a loop that stops once its sum passes 400 then runs every turn.
-- Asked once (bpf.features keeps the answer), by running such a loop (71
-- turns) and comparing its answer.
local function probe_bpf_loop()
  local p = translated(function(skb)
    local s = 5
    for i = 1, skb.len do
      if s > 400 then break end
      s = s + i
    end
    return s
  end, {}, { loops = 'bpf_loop', type = 'socket_filter' })
  local h = p and load_once(setmetatable(p, prog_mt), 'socket_filter')
  if not h then return false, 'this kernel has no bpf_loop (5.17+)' end
  local r = require('bpf.loader').test_run(h, string.rep('\0', 71))
  h:close()
  if r and r.retval == 411 then return true end -- 5 + 1 + ... + 28
  return false, "this kernel's verifier checks a bpf_loop callback with the values of its first "
    .. 'turn only and may rewrite its branches for them (kernels before 6.7), so the loop could '
    .. 'compute something else; a loop that stops when its sum passes 400 ran to ' .. tostring(r and r.retval)
end
local features = require('bpf.features')
features.define('bpf_loop', probe_bpf_loop)

-- Did bpf_loop run any of prog's loops (a callback is a function loop_<line>)?
local function has_callback(prog)
  for _, f in ipairs(prog.funcs or {}) do
    if f.name and f.name:match('^loop_') then return true end
  end
  return false
end

-- The kernel's verifier (seen on 6.18) drops a bpf_loop callback it finds
-- is never called (a count it knows to be 0) and then fails on the
-- callback's address ("verifier bug: No program to jit"): such a program is
-- compiled again with BPF loops, which compute the same.
local function callback_dropped(err)
  return tostring(err):find('No program to jit', 1, true) ~= nil
end

local strategy_words = { may_goto = 'may_goto at the end of each turn',
  bpf_loop = 'its for loops run by bpf_loop', bounded = 'BPF loops' }

-- A loop the verifier could not bound, in a program compiled without
-- opts.loops: the program is compiled again with each turn ending in
-- may_goto where the kernel has it (each turn may leave once the kernel's
-- budget is spent), and if that is refused too (the verifier has had bugs
-- with may_goto and classic packet loads) with its for loops run by
-- bpf_loop where the kernel has that; prog then is what was loaded.
function prog_mt:load(prog_type, opts)
  if self.dialect then return nil, self:_not_kernel('loaded into the kernel') end
  local attach = opts and opts.expected_attach_type
  if type(attach) == 'string' then attach = require('bpf.libbpf').attach_type[attach] or attach end
  local ok, rerr = for_packet_access(self, prog_type or self.type or 'socket_filter', attach)
  if not ok then return nil, rerr end
  ok, rerr = for_memory(self, prog_type)
  if not ok then return nil, rerr end
  if attach == nil and self._facts and self._facts.attach then -- what it was compiled for
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.expected_attach_type = self._facts.attach
    opts = o
  end
  if self._facts and self._facts.loops == 'bpf_loop' and has_callback(self) then
    local works, why = features.has('bpf_loop')
    if not works then return nil, "bpf: cannot load a program compiled with loops = 'bpf_loop': " .. why end
  end
  local handle, err = load_once(self, prog_type, opts)
  local loader = require('bpf.loader')
  if handle or not self._facts then return handle, err end
  local strategies = {}
  if self._facts.loops == 'bpf_loop' and callback_dropped(err) then
    strategies[1] = 'bounded'
  elseif self._facts.loops == nil and loader.loop_gave_up(err) then
    if loader.has_may_goto() then strategies[#strategies + 1] = 'may_goto' end
    local works, why = features.has('bpf_loop')
    if not (opts and opts.raw) and works then strategies[#strategies + 1] = 'bpf_loop' end
    if #strategies == 0 then
      return nil, err .. '\nnot compiled again: this kernel has no may_goto (6.9+), and bpf_loop is '
        .. 'not used: ' .. why
    end
  end
  local before, tried = {}, {}
  for k, v in pairs(self) do before[k] = v end
  for _, strategy in ipairs(strategies) do
    local again = compiled_with(self, 'loops', strategy)
    -- bpf_loop changes nothing in a program whose loops it cannot run
    if again and (strategy ~= 'bpf_loop' or has_callback(again)) then
      adopt(self, again)
      local h2, err2 = load_once(self, prog_type, opts)
      if h2 then return h2 end
      tried[#tried + 1] = ('\ncompiled again with %s, it was refused too: ')
        :format(strategy_words[strategy]) .. tostring(err2):match('[^\n]*')
    end
  end
  -- prog stays as it was, and every answer is given
  for k in pairs(self) do self[k] = nil end
  for k, v in pairs(before) do self[k] = v end
  return nil, err .. table.concat(tried)
end

-- The program types that read the packet directly (ctx.data .. ctx.data_end)
-- where the others use the classic loads; by name and by number.
local direct_access = { sched_cls = true, sched_act = true, xdp = true, [3] = true, [4] = true, [6] = true }

-- A program compiled for one way of reading the packet and loaded as a type
-- that wants the other is compiled again for the type it is loaded as.
-- So is one that writes context fields and was compiled for no type (or
-- another), or for another attach type: which fields it may write is the
-- type's (and the attach type's) to say, at compile time.
function for_packet_access(self, prog_type, attach)
  local other_attach = type(attach) == 'number' and self._facts and self._facts.attach ~= attach
  if self.ctx_writes and self._facts and (self._facts.type ~= prog_type or other_attach) then
    local again, err = compiled_with(self, 'type', prog_type, other_attach and 'attach', attach)
    if not again then return nil, err end
    adopt(self, again)
    return true
  end
  if not self.packet or not self._facts or self._facts.packet == 'classic' then return true end
  if (self.packet == 'direct') == (direct_access[prog_type] or false) then return true end
  local again, err = compiled_with(self, 'type', prog_type)
  if not again then return nil, err end
  adopt(self, again)
  return true
end

-- A pointer cast from a number points into the program's default memory:
-- user memory in a uprobe (a register holds a user address), kernel memory
-- elsewhere.  A program compiled without opts.memory that made such a
-- pointer and is loaded as a uprobe is compiled again for user memory.
local user_types = { uprobe = true, uretprobe = true }
function for_memory(self, prog_type)
  if not (user_types[prog_type] and self.default_space and self._facts and self._facts.memory == nil) then
    return true
  end
  local again, err = compiled_with(self, 'memory', 'user')
  if not again then return nil, err end
  adopt(self, again)
  return true
end

-- prog's function compiled again with one of its compile options changed
-- (nil, err if that fails), and what becomes of prog when it takes that.
function compiled_with(self, option, value, option2, value2)
  local fopts = {}
  for k, v in pairs(self._facts) do fopts[k] = v end
  fopts[option] = value
  if option2 then fopts[option2] = value2 end
  return translated(self.fn, self._env, fopts)
end
function adopt(self, again)
  for k, v in pairs(again) do self[k] = v end
  self._lines = nil
end

function load_once(self, prog_type, opts)
  opts = opts or {}
  prog_type = prog_type or self.type or 'socket_filter'
  if opts.raw then
    local lopts = {}
    for k, v in pairs(opts) do lopts[k] = v end
    lopts.lines = self:lines()
    -- the maps' lddw get their fds here (the object path leaves that to libbpf)
    local code = insn.array_t(self.pc)
    ffi.copy(code, self.insn, ffi.sizeof(code))
    for _, use in ipairs(self.maps or {}) do code[use.insn].imm = use.map.fd end
    return require('bpf.loader').load(code, self.pc, prog_type, lopts)
  end
  return require('bpf.object').load(self, prog_type, opts)
end

-- The same object written to a file (bpftool prog load accepts it).
function prog_mt:save(path, opts)
  if self.dialect then return nil, self:_not_kernel('saved as a kernel BPF object') end
  opts = opts or {}
  if not opts.type and not opts.section then opts.type = self.type or 'socket_filter' end
  return require('bpf.object').save(self, path, opts)
end

prog_mt.__tostring = function(self)
  return string.format('bpf program: %d instructions, %d bytes of stack\n%s', self.pc,
    self.stack, M.dump_string(self))
end

-- The core's compile of fn as a program's fields (compile, and prog:load
-- compiling again with may_goto).
function translated(fn, env, fopts)
  local out, err = core.compile(fn, env, facts.new(fopts))
  if not out then return nil, err end
  local arr = insn.array_t(out.n)
  ffi.copy(arr, out.insns, #out.insns)
  local prog = { insn = arr, pc = out.n, fn = fn, bcpos = out.bcpos, fns = out.fns or false, maps = out.maps,
    stack = out.stack, funcs = out.funcs, packet = out.packet or false, type = fopts.type, _env = env,
    ctx_writes = out.ctx_writes or false, default_space = out.default_space or false,
    core = out.core,
    _facts = fopts }
  for _, f in ipairs(out.funcs or {}) do -- a bpf_loop callback: named by the line its body starts at
    if f.name and f.name:match('^loop_%d+$') then
      local where = (prog.fns and prog.fns[f.insn]) or fn
      local line = jutil.funcinfo(where, out.bcpos[f.insn] or 0).currentline
      if line then f.name = 'loop_' .. line end
    end
  end
  return prog
end

local packet_modes = { direct = true, linear = true, classic = true } -- opts.packet's values

-- Compile fn. opts.ctx: the dissector of its first parameter (default skb);
-- opts.type: the program type it is meant for (a helper that type may not call is a
-- compile error; without it every helper compiles; tc and XDP read the packet
-- directly, the others with the classic loads); opts.packet = 'classic' keeps
-- the classic loads in tc too, 'linear' reads tc's linear part only (as XDP);
-- opts.csum = false makes packet writes leave the checksums as they are.
-- opts.memory = 'user' | 'kernel': what a pointer cast from a number points
-- into (default kernel; uprobes compile with 'user').
-- opts.attach: the attach type it is loaded for, as libbpf names it
-- ('cgroup_inet4_connect') or its number: some context fields may be written
-- only for some (prog:load then sets it as the expected attach type).
local function compile(fn, opts, level)
  opts = opts or {}
  if type(fn) == 'string' then
    local chunk, err = loadstring(fn)
    if not chunk then return nil, err end
    fn = chunk
  end
  if type(fn) ~= 'function' then
    return nil, 'bpf: expected a Lua function to compile, got a ' .. type(fn)
  end
  local env = opts.env and with_base(opts.env) or program_env((level or 1) + 1)
  -- what the core may ask about Lua values, all through one object (bpf/facts.lua)
  local strategies = { bounded = true, may_goto = true, bpf_loop = true }
  if opts.loops ~= nil and not strategies[opts.loops] then
    return nil, ("bpf: opts.loops is 'bounded', 'may_goto' or 'bpf_loop', not %s")
      :format(tostring(opts.loops))
  end
  if opts.functions ~= nil and opts.functions ~= 'inline' and opts.functions ~= 'subprog' then
    return nil, ("bpf: opts.functions is 'inline' or 'subprog', not %s"):format(tostring(opts.functions))
  end
  if opts.packet ~= nil and not packet_modes[opts.packet] then
    return nil, ("bpf: opts.packet is 'direct', 'linear' or 'classic', not %s"):format(tostring(opts.packet))
  end
  if opts.csum ~= nil and type(opts.csum) ~= 'boolean' then
    return nil, ('bpf: opts.csum is true or false, not %s'):format(tostring(opts.csum))
  end
  if opts.memory ~= nil and opts.memory ~= 'user' and opts.memory ~= 'kernel' then
    return nil, ("bpf: opts.memory is 'user' or 'kernel' (what a pointer cast from a number "
      .. 'points into), not %s'):format(tostring(opts.memory))
  end
  local attach = opts.attach
  if type(attach) == 'string' then attach = require('bpf.libbpf').attach_type[attach] end
  if opts.attach ~= nil and type(attach) ~= 'number' then
    return nil, ("bpf: opts.attach is an attach type as libbpf names it ('cgroup_inet4_connect') "
      .. 'or its number, not %s'):format(tostring(opts.attach))
  end
  local fopts = {
    builtins = builtins.names, layers = proto.layers, ctx = opts.ctx or proto.skb, type = opts.type,
    attach = attach,
    loops = opts.loops, functions = opts.functions, packet = opts.packet, csum = opts.csum,
    memory = opts.memory,
  }
  local prog, err = translated(fn, env, fopts)
  if not prog then return nil, err end
  return setmetatable(prog, prog_mt)
end
M.compile = compile

-- The decode stage: each bytecode with its operands, its line and the
-- slots still read after it (what the translation starts from).
local function dump_bytecode(prog)
  local list, err = core.decode(prog.fn)
  if not list then return nil, err end
  local out = {}
  for _, b in ipairs(list) do
    local line = jutil.funcinfo(prog.fn, b.pc).currentline
    out[#out + 1] = ('%04d  %-6s %3d %3d %3d %5d  line %-4d live {%s}'):format(b.pc, b.op, b.a, b.b,
      b.c, b.d, line, table.concat(b.live, ' '))
  end
  return table.concat(out, '\n')
end

-- The IR stage: the same function compiled again with the IR kept, printed
-- as blocks (their edges, back edges marked) over instructions that name
-- labels and maps by number, each with its Lua line.
local function dump_ir(prog, opts)
  if not prog._facts then return nil, 'bpf.dump: the IR stage needs a program bpf(fn) compiled' end
  local F = facts.new(prog._facts)
  F.keep_ir = true -- the core hands the IR back too
  local out, err = core.compile(prog.fn, prog._env, F)
  if not out then return nil, err end
  local text = {}
  if opts.source ~= false and jutil.funcinfo(prog.fn).source:sub(1, 1) == '@' then
    local f = io.open(jutil.funcinfo(prog.fn).source:sub(2), 'r')
    if f then
      for l in f:lines() do text[#text + 1] = l:match('^%s*(.-)%s*$') end
      f:close()
    end
  end
  local rows, last = {}, nil
  for _, row in ipairs(out.ir) do
    if row.pc then
      local line = jutil.funcinfo(row.fn or prog.fn, row.pc).currentline
      local note = ''
      if opts.source ~= false and line and line ~= last then
        note = ('  -- line %d%s'):format(line, text[line] and (': ' .. text[line]) or '')
        last = line
      end
      rows[#rows + 1] = note == '' and '    ' .. row.text or ('    %-36s%s'):format(row.text, note)
    else
      rows[#rows + 1] = row.text
    end
  end
  return table.concat(rows, '\n')
end

function prog_mt:_not_kernel(what)
  return ('bpf: an %s program (bpf.asm with dialect = %q) runs on Solana\'s sBPF VM and cannot be %s')
    :format(self.dialect, self.dialect, what)
end

-- Subprograms of assembled code: where local calls and function addresses
-- lead (the kernel's encoding), named by their labels.
local function asm_funcs(code, n, labels)
  local starts, names = { [0] = true }, {}
  for _, l in ipairs(labels) do names[l.pc] = names[l.pc] or l.name end
  for pc = 0, n - 1 do
    local i = code[pc]
    if (i.code == 0x85 and i.src_reg == 1) or (i.code == 0x18 and i.src_reg == 4) then
      local to = pc + 1 + i.imm
      if to >= 0 and to < n then starts[to] = true end
    end
  end
  local list = {}
  for pc in pairs(starts) do list[#list + 1] = pc end
  if #list < 2 then return nil end
  table.sort(list)
  local funcs = {}
  for k, pc in ipairs(list) do
    funcs[k] = { insn = pc, name = names[pc] or (k > 1 and 'sub_' .. pc or nil) }
  end
  return funcs
end

-- Bytes of stack the code reaches below r10 (kernel encoding).
local function asm_stack(code, n)
  local deepest, pc = 0, 0
  while pc < n do
    local i, cls = code[pc], bit.band(code[pc].code, 7)
    if (cls == 1 and i.src_reg == 10) or ((cls == 2 or cls == 3) and i.dst_reg == 10) then
      if i.off < 0 then deepest = math.max(deepest, -i.off) end
    end
    pc = pc + (i.code == 0x18 and 2 or 1) -- lddw takes two slots
  end
  return deepest
end

-- bpf.asm(text[, opts]): a program from assembly text, like bpf(fn) gives.
--   opts.syntax: nil (pseudo-C and the mnemonic syntax, GNU as's normal one,
--     mixed line by line), 'pseudo-c', 'mnemonic' or 'classic';
--   opts.dialect: 'kernel' (default) or 'sbpf-v1' | 'sbpf-v2' | 'sbpf-v3'
--     (mnemonic syntax; such a program is only printed, never loaded);
--   opts.maps = { name = map }: "r1 = name ll" / "lddw r1, name" loads that map
--     (a relocation, as compiled programs have);
--   opts.name: the file name errors and line records give ('asm');
--   opts.type: the program type prog:load uses by default.
-- Returns the program, or nil and "NAME:LINE:COLUMN: what was expected".
function M.asm(text, opts)
  opts = opts or {}
  if type(text) ~= 'string' then
    return nil, 'bpf.asm: expected the assembly text (a string), got a ' .. type(text)
  end
  local disasm = require('bpf.disasm')
  local fname = opts.name or 'asm'
  local names, maps = {}, {}
  for name, map in pairs(opts.maps or {}) do
    if type(name) ~= 'string' or not name:match('^[%a_][%w_]*$') or type(map) ~= 'table' then
      return nil, ('bpf.asm: opts.maps is { name = map }: %s = %s'):format(tostring(name), tostring(map))
    end
    names[#names + 1] = name
  end
  table.sort(names)
  for i, name in ipairs(names) do maps[i] = opts.maps[name] end
  local dialect = opts.dialect
  if dialect == 'kernel' then dialect = nil end
  if dialect and not disasm.dialects[dialect] then
    return nil, ("bpf.asm: opts.dialect is 'kernel', 'sbpf-v1', 'sbpf-v2' or 'sbpf-v3', not %s")
      :format(tostring(dialect))
  end
  local syntax = opts.syntax or (dialect and 'mnemonic' or 'mixed')
  if syntax ~= 'mixed' and not disasm.syntax_names[syntax] then
    return nil, ("bpf.asm: opts.syntax is 'pseudo-c', 'mnemonic', 'classic' or nil (mixed), not %s")
      :format(tostring(syntax))
  end
  local code, n, info = disasm.assemble(text, syntax, { dialect = dialect, maps = names })
  if not code then return nil, fname .. ':' .. n end
  local source = {}
  for l in (text .. '\n'):gmatch('([^\n]*)\n') do source[#source + 1] = l:gsub('\r$', '') end
  local lines = {}
  for pc = 0, n - 1 do
    local l = info.lines[pc]
    lines[pc] = { file = fname, line = l, text = source[l] and source[l]:match('^%s*(.-)%s*$') }
  end
  local uses, index, map_names, nmaps = {}, {}, {}, 0
  for _, r in ipairs(info.relocs) do -- index: the map's place among those used, as compiled ones have
    local map = maps[r.map]
    if not index[map] then
      index[map], nmaps = nmaps, nmaps + 1
      map_names[map] = names[r.map]
    end
    uses[#uses + 1] = { insn = r.insn, map = map, index = index[map] }
  end
  local prog = { insn = code, pc = n, maps = uses, type = opts.type, packet = false, ctx_writes = false,
    stack = dialect and 0 or asm_stack(code, n),
    funcs = (not dialect) and asm_funcs(code, n, info.labels) or nil,
    dialect = dialect, fns = false, _lines = lines, asm = { name = fname, map_names = map_names } }
  return setmetatable(prog, prog_mt)
end

function M.dump_string(prog, opts)
  local disasm = require('bpf.disasm')
  opts = opts or {}
  if opts.stage == 'bytecode' then return assert(dump_bytecode(prog)) end
  if opts.stage == 'ir' then return assert(dump_ir(prog, opts)) end
  if opts.stage and opts.stage ~= 'insns' then
    error(("bpf.dump: unknown stage '%s' (bytecode, ir or insns)"):format(tostring(opts.stage)), 2)
  end
  local dopts = {}
  for k, v in pairs(opts) do dopts[k] = v end
  local asm = prog.asm -- a program bpf.asm made: its listing is its source
  if dopts.source ~= false and getmetatable(prog) == prog_mt and (not asm or dopts.source) then
    dopts.lines = prog:lines()
  end
  if dopts.dialect == nil then dopts.dialect = prog.dialect end
  if opts.maps or asm then -- maps by name (opts.maps, as bpf.asm takes it), which bpf.asm reads back
    local by_map = {}
    for name, map in pairs(opts.maps or {}) do by_map[map] = name end
    for map, name in pairs(asm and asm.map_names or {}) do by_map[map] = by_map[map] or name end
    dopts.map_names, dopts.maps = {}, nil
    for _, use in ipairs(prog.maps or {}) do dopts.map_names[use.insn] = by_map[use.map] end
  end
  if prog.funcs and not dopts.funcs then -- where each subprogram starts
    dopts.funcs = {}
    for i = 2, #prog.funcs do dopts.funcs[prog.funcs[i].insn] = prog.funcs[i].name or ('#' .. i - 1) end
  end
  return disasm.dump_string(prog.insn, prog.pc, dopts)
end

function M.dump(prog, opts)
  print(M.dump_string(prog, opts))
end

-- What the running kernel can do, probed (lua/bpf/features.lua):
-- bpf.feature(name) -> true, or false and why not.
M.feature = features.has

M.map = require('bpf.map')
M.open_pinned = require('bpf.pin').open_pinned
M.proto = proto
M.c = proto.c
M.ntoh, M.hton = builtins.ntoh, builtins.hton
M.core_info = core.info

-- Attaching programs and reading what they send (bpf/attach.lua, bpf/reader.lua).
local attach, reader = require('bpf.attach'), require('bpf.reader')
M.socket, M.tracepoint, M.uprobe, M.kprobe = attach.socket, attach.tracepoint, attach.uprobe, attach.kprobe
M.raw_tracepoint, M.xdp, M.usdt, M.tc = attach.raw_tracepoint, attach.xdp, attach.usdt, attach.tc
M.cgroup = attach.cgroup
M.perf_event, M.perf_event_data = attach.perf_event, attach.perf_event_data
M.tp_btf, M.fentry, M.fexit, M.lsm = attach.tp_btf, attach.fentry, attach.fexit, attach.lsm
M.ctype = require('bpf.btf').ctype -- kernel types by name, from /sys/kernel/btf/vmlinux
M.tracelog, M.ringbuf_reader, M.print_log2_hist = reader.tracelog, reader.ringbuf, reader.print_log2_hist
M.stack, M.ksym = require('bpf.ksym').stack, require('bpf.ksym').lookup -- kernel stacks, symbols

return setmetatable(M, {
  __call = function(_, fn, opts) return compile(fn, opts, 2) end,
})
