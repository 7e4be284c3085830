-- The command line (bin/bpf-lua is `require('bpf.cli').main(arg)`):
--
--   bpf-lua compile prog.lua -o prog.o     the programs prog.lua returns, one object
--   bpf-lua disasm prog.o [--syntax S]     an object's programs (ours or clang's)
--   bpf-lua asm prog.s -o prog.o [--syntax S] [--section SEC | --type T] [--maps maps.lua]
--   bpf-lua run script.lua [args...]       run it; Ctrl-C detaches and prints its maps
--   bpf-lua -e PROBE EXPR [--interval S]   a one-liner: count/sum/hist, printed live
--
-- A file for compile returns a table of programs, each a table
--   { fn = function (ctx) ... end (or a compiled bpf(fn)),
--     section = libbpf's section name ('xdp', 'tc', 'socket',
--       'tracepoint/syscalls/sys_enter_openat', 'kprobe/do_unlinkat',
--       'uprobe//bin/bash:readline', 'cgroup/connect4', ...),
--     or type = a program type name ('socket_filter', 'xdp', ...) [, target = ...],
--     name = its function name (else the key it is under, else made of the section),
--     ctx =, loops =, packet =, csum =, functions = (bpf.compile's options) }
-- under string keys (the key names the program) or in its array part,
-- and optionally maps = { name = map } (the names maps get in the object;
-- else the upvalue a program reads the map through, else the map's own
-- name) and license = 'GPL'.  The section decides the program type, its
-- context (a tracepoint's record, pt_regs for probes, ...) and its attach
-- point, as for libbpf.
--
-- run: the script runs with arg and ... as `luajit script.lua args` gives
-- them.  If it attached something (a link still open when its main chunk
-- returns), bpf-lua waits until SIGINT (Ctrl-C) or SIGTERM, calling the
-- returned table's tick() every `interval` seconds (default 1) if it has
-- one; then it prints the maps the script names and detaches everything.
-- The maps it names: the bpf maps among the fields of the table it
-- returns, or else the globals it set that hold bpf maps.  Signals are
-- blocked (sigprocmask) once the main chunk returned and read from a
-- signalfd in a poll loop: no Lua runs in a signal handler.  While the main
-- chunk itself runs, Ctrl-C is LuaJIT's own: an "interrupted!" error, which
-- is caught, and the maps are printed as well.
local ffi = require('ffi')
local bit = require('bit')

local M = {}

ffi.cdef [[
typedef struct { unsigned long val[16]; } bpfcli_sigset_t;
int bpfcli_sigemptyset(bpfcli_sigset_t *set) __asm__("sigemptyset");
int bpfcli_sigaddset(bpfcli_sigset_t *set, int sig) __asm__("sigaddset");
int bpfcli_sigprocmask(int how, const bpfcli_sigset_t *set, bpfcli_sigset_t *old) __asm__("sigprocmask");
int bpfcli_signalfd(int fd, const bpfcli_sigset_t *mask, int flags) __asm__("signalfd");
struct bpfcli_pollfd { int fd; short events; short revents; };
int bpfcli_poll(struct bpfcli_pollfd *fds, unsigned long n, int timeout) __asm__("poll");
long bpfcli_read(int fd, void *buf, size_t n) __asm__("read");
int bpfcli_close(int fd) __asm__("close");
int bpfcli_isatty(int fd) __asm__("isatty");
struct bpfcli_ehdr {
  unsigned char ident[16]; uint16_t type, machine; uint32_t version;
  uint64_t entry, phoff, shoff; uint32_t flags;
  uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct bpfcli_shdr {
  uint32_t name, type; uint64_t flags, addr, offset, size;
  uint32_t link, info; uint64_t addralign, entsize;
};
struct bpfcli_sym { uint32_t name; uint8_t info, other; uint16_t shndx; uint64_t value, size; };
struct bpfcli_rel { uint64_t offset, info; };
]]
local C = ffi.C

local SIGINT, SIGTERM, SIG_BLOCK = 2, 15, 0
local SFD_NONBLOCK, SFD_CLOEXEC = 0x800, 0x80000
local POLLIN = 1

-- An error that is the user's (printed as "bpf-lua: msg", exit status 1).
local function die(fmt, ...)
  error({ cli = select('#', ...) > 0 and fmt:format(...) or fmt }, 0)
end

local function usage_error(msg)
  error({ cli = msg .. '\nusage: bpf-lua compile|disasm|asm|run|-e ... (bpf-lua --help)', usage = true }, 0)
end

local function read_file(path)
  local f, err = io.open(path, 'rb')
  if not f then die('%s', err) end
  local s = f:read('*a')
  f:close()
  return s
end

local function flush() io.stdout:flush() end

---------------------------------------------------------------------------
-- Signals: SIGINT and SIGTERM blocked and read from a signalfd.

local function watch_signals()
  local set = ffi.new('bpfcli_sigset_t')
  C.bpfcli_sigemptyset(set)
  C.bpfcli_sigaddset(set, SIGINT)
  C.bpfcli_sigaddset(set, SIGTERM)
  if C.bpfcli_sigprocmask(SIG_BLOCK, set, nil) ~= 0 then die('sigprocmask failed') end
  local fd = C.bpfcli_signalfd(-1, set, bit.bor(SFD_NONBLOCK, SFD_CLOEXEC))
  if fd < 0 then die('signalfd failed (errno %d)', ffi.errno()) end
  local pfd = ffi.new('struct bpfcli_pollfd[1]')
  local info = ffi.new('uint32_t[32]') -- struct signalfd_siginfo: ssi_signo first
  local w = {}
  -- Waits up to ms milliseconds: the signal's number if one came, else nil.
  function w.wait(ms)
    pfd[0].fd, pfd[0].events, pfd[0].revents = fd, POLLIN, 0
    local n = C.bpfcli_poll(pfd, 1, ms)
    if n > 0 and C.bpfcli_read(fd, info, 128) == 128 then return tonumber(info[0]) end
    return nil
  end
  function w.close() C.bpfcli_close(fd) end
  return w
end
M.watch_signals = watch_signals

---------------------------------------------------------------------------
-- Printing maps

local function is_map(v)
  return type(v) == 'table' and rawget(v, '__map') == true
end

local printable = { hash = true, lru_hash = true, percpu_hash = true, lru_percpu_hash = true,
  array = true, percpu_array = true, lpm_trie = true }

-- A key or value as text: numbers, 64-bit integers, strings of chars.
local function show(v)
  if type(v) == 'number' then
    if v == math.floor(v) then return ('%.0f'):format(v) end
    return tostring(v)
  end
  if type(v) == 'table' then -- per-CPU: the sum
    local sum = 0
    for _, x in ipairs(v) do sum = sum + (tonumber(x) or 0) end
    return show(sum)
  end
  if type(v) == 'cdata' then
    local ct = tostring(ffi.typeof(v))
    if ct:match('char %[%d+%]>$') then return ffi.string(v) end
    if ct:match('int64_t>$') then return (tostring(v):gsub('U?LL$', '')) end
    local size = ffi.sizeof(v)
    local bytes = ffi.cast('const uint8_t *', ffi.new(ffi.typeof(v), v))
    local hex = {}
    for i = 0, size - 1 do hex[#hex + 1] = ('%02x'):format(bytes[i]) end
    return table.concat(hex, ' ')
  end
  return tostring(v)
end

local function numeric(v)
  if type(v) == 'table' then
    local sum = 0
    for _, x in ipairs(v) do sum = sum + (tonumber(x) or 0) end
    return sum
  end
  return tonumber(v) or 0
end

-- The entries of map as { key text, value text, value number }, ascending
-- by value; arrays leave out zero entries.
local function map_entries(map)
  local list = {}
  local array = map.map_type == 'array' or map.map_type == 'percpu_array'
  for k, v in map:pairs() do
    local n = numeric(v)
    if not (array and n == 0) then list[#list + 1] = { show(k), show(v), n } end
  end
  table.sort(list, function(a, b)
    if a[3] ~= b[3] then return a[3] < b[3] end
    return a[1] < b[1]
  end)
  return list
end
M.entries = map_entries

-- "name[key]: value" lines of a map, or nil for a map that is not kept by key.
local function map_lines(name, map)
  if not printable[map.map_type] then return nil end
  local out = {}
  for _, e in ipairs(map_entries(map)) do out[#out + 1] = ('%s[%s]: %s'):format(name, e[1], e[2]) end
  if #out == 0 then out[1] = name .. ': (empty)' end
  return out
end

local function print_maps(named)
  local names = {}
  for name in pairs(named) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local lines = map_lines(name, named[name])
    if lines then print(table.concat(lines, '\n')) end
  end
  flush()
end

---------------------------------------------------------------------------
-- Sections: libbpf's section name -> program type, context, attach type

local function tracepoint_ctx(target)
  return function() return require('bpf.tracepoint').dissector(target) end
end
local function pt_regs() return require('bpf.proto').pt_regs end
local function attach_ctx(field) return function() return require('bpf.attach')[field] end end
local function proto_ctx(field) return function() return require('bpf.proto')[field] end end

-- { prefix, program type, context (function of the target), attach type };
-- a prefix ending in '/' takes a target after it, the others are whole names.
local section_kinds = {
  { 'socket', 'socket_filter' },
  { 'kprobe/', 'kprobe', pt_regs }, { 'kretprobe/', 'kprobe', pt_regs },
  { 'uprobe/', 'kprobe', pt_regs }, { 'uretprobe/', 'kprobe', pt_regs },
  { 'uprobe', 'kprobe', pt_regs }, { 'uretprobe', 'kprobe', pt_regs },
  { 'tracepoint/', 'tracepoint', tracepoint_ctx }, { 'tp/', 'tracepoint', tracepoint_ctx },
  { 'raw_tracepoint/', 'raw_tracepoint', attach_ctx('raw_args') },
  { 'raw_tp/', 'raw_tracepoint', attach_ctx('raw_args') },
  { 'xdp', 'xdp', attach_ctx('xdp_md') },
  { 'tc', 'sched_cls' }, { 'classifier', 'sched_cls' }, { 'action', 'sched_act' },
  { 'cgroup_skb/ingress', 'cgroup_skb', nil, 'cgroup_inet_ingress' },
  { 'cgroup_skb/egress', 'cgroup_skb', nil, 'cgroup_inet_egress' },
  { 'cgroup/skb', 'cgroup_skb' },
  { 'cgroup/sock_create', 'cgroup_sock', proto_ctx('sock'), 'cgroup_inet_sock_create' },
  { 'cgroup/sock', 'cgroup_sock', proto_ctx('sock'), 'cgroup_inet_sock_create' },
  { 'cgroup/connect4', 'cgroup_sock_addr', proto_ctx('sock_addr'), 'cgroup_inet4_connect' },
  { 'cgroup/connect6', 'cgroup_sock_addr', proto_ctx('sock_addr'), 'cgroup_inet6_connect' },
  { 'cgroup/bind4', 'cgroup_sock_addr', proto_ctx('sock_addr'), 'cgroup_inet4_bind' },
  { 'cgroup/sendmsg4', 'cgroup_sock_addr', proto_ctx('sock_addr'), 'cgroup_udp4_sendmsg' },
  { 'perf_event', 'perf_event', pt_regs },
}

-- What a section name says: { type =, ctx = (a function giving the
-- dissector, or nil: skb), attach = }, or nil, why.
function M.section_kind(section)
  for _, k in ipairs(section_kinds) do
    local prefix = k[1]
    local target
    if prefix:sub(-1) == '/' then
      target = section:sub(1, #prefix) == prefix and section:sub(#prefix + 1) or nil
      if target == '' then target = nil end
    elseif section == prefix then
      target = ''
    end
    if target then
      local ctx = k[3] and (k[3] == tracepoint_ctx and tracepoint_ctx(target) or k[3]) or nil
      return { type = k[2], ctx = ctx, attach = k[4], target = target }
    end
  end
  return nil, ('unknown section %q: use one of libbpf\'s names (socket, xdp, tc, '
    .. 'tracepoint/GROUP/NAME, kprobe/FUNC, uprobe/PATH:FUNC, raw_tracepoint/NAME, cgroup/connect4, ...)')
    :format(section)
end

---------------------------------------------------------------------------
-- compile

local function identifier(s)
  s = tostring(s):gsub('[^%w_]', '_'):gsub('__+', '_'):gsub('^_', ''):gsub('_$', '')
  if s == '' then s = 'prog' end
  if s:match('^%d') then s = '_' .. s end
  return s
end

-- Names of the maps the function reads through its upvalues.
local function upvalue_maps(fn, names)
  if type(fn) ~= 'function' then return end
  local i = 1
  while true do
    local name, v = debug.getupvalue(fn, i)
    if not name then break end
    if is_map(v) and not names[v] then names[v] = name end
    i = i + 1
  end
end

local compile_options = { 'loops', 'packet', 'csum', 'functions' }

-- The programs of a file's table, compiled: entries for object.save_all,
-- and the names of the maps.
local function compile_file(path)
  local chunk, err = loadfile(path)
  if not chunk then die('%s', err) end
  local ok, spec = xpcall(chunk, debug.traceback)
  if not ok then die('%s', spec) end
  if type(spec) ~= 'table' then
    die('%s returns %s: expected a table of programs, e.g. '
      .. "return { count = { section = 'tracepoint/syscalls/sys_enter_openat', "
      .. 'fn = function(arg) ... end } }',
      path, type(spec))
  end
  local list = {}
  for i, v in ipairs(spec) do list[#list + 1] = { key = i, def = v } end
  local keys = {}
  for k in pairs(spec) do
    if type(k) == 'string' and k ~= 'maps' and k ~= 'license' then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do list[#list + 1] = { key = k, def = spec[k] } end
  if #list == 0 then die('%s returns no programs', path) end

  local bpf, object = require('bpf'), require('bpf.object')
  local map_names = {}
  if spec.maps ~= nil then
    if type(spec.maps) ~= 'table' then die('%s: maps is a table { name = map }', path) end
    for name, m in pairs(spec.maps) do
      if not is_map(m) then die('%s: maps.%s is not a bpf map', path, tostring(name)) end
      map_names[m] = tostring(name)
    end
  end
  local entries, sections = {}, {}
  for _, item in ipairs(list) do
    local def, what = item.def, ('program %s'):format(type(item.key) == 'string' and item.key
      or ('#' .. item.key))
    if type(def) ~= 'table' then
      die('%s: %s is a %s: expected { section = ..., fn = function ... end }', path, what, type(def))
    end
    local section = def.section
    if not section then
      if not def.type then die('%s: %s has neither a section nor a type', path, what) end
      local serr
      section, serr = object.section(def.type, def.target)
      if not section then die('%s: %s: %s', path, what, serr) end
    end
    local kind, kerr = M.section_kind(section)
    if not kind then die('%s: %s: %s', path, what, kerr) end
    if sections[section] then
      die('%s: %s and %s are both in section %q: an object holds one program per section '
        .. '(libbpf finds line info by section name)', path, sections[section], what, section)
    end
    sections[section] = what
    local prog = def.fn
    if type(prog) == 'function' or type(prog) == 'string' then
      upvalue_maps(prog, map_names)
      local ctx = def.ctx
      if ctx == nil and kind.ctx then
        local cok, c = pcall(kind.ctx)
        if not cok then die('%s: %s: %s', path, what, tostring(c):gsub('^[^:]*:%d+: ', '')) end
        ctx = c
      end
      local copts = { ctx = ctx, type = def.type or kind.type, attach = def.attach or kind.attach, env = {} }
      for _, o in ipairs(compile_options) do copts[o] = def[o] end
      local cerr
      prog, cerr = bpf.compile(prog, copts)
      if not prog then die('%s: %s: %s', path, what, cerr) end
    elseif type(prog) == 'table' and prog.insn then
      upvalue_maps(prog.fn, map_names)
    else
      die('%s: %s has no fn (a Lua function or a compiled program)', path, what)
    end
    local name = def.name or (type(item.key) == 'string' and item.key) or identifier(section)
    entries[#entries + 1] = { prog = prog, section = section, name = name }
  end
  return entries, { license = spec.license, map_names = map_names }
end
M.compile_file = compile_file

local function cmd_compile(opts)
  if not opts.input then usage_error('compile: which file? bpf-lua compile prog.lua -o prog.o') end
  local out = opts.output or (opts.input:gsub('%.lua$', '') .. '.o')
  local entries, oopts = compile_file(opts.input)
  local object = require('bpf.object')
  local ok, err = object.save_all(entries, out, oopts)
  if not ok then die('%s', err) end
  local names = {}
  for _, e in ipairs(entries) do
    names[#names + 1] = ('%s (%s, %d insns)'):format(e.name, e.section, e.prog.pc)
  end
  print(('%s: %d program%s: %s'):format(out, #entries, #entries == 1 and '' or 's',
    table.concat(names, ', ')))
end

---------------------------------------------------------------------------
-- disasm: an ELF object's executable sections

local EM_BPF, SHF_EXECINSTR, SHT_REL, SHT_SYMTAB, STT_FUNC = 247, 4, 9, 2, 2

-- The sections, symbols and relocations of a BPF ELF object.
local function read_object(bytes, path)
  local function bad(why) die('%s: not a BPF ELF object (%s)', path, why) end
  if #bytes < ffi.sizeof('struct bpfcli_ehdr') or bytes:sub(1, 4) ~= '\127ELF' then bad('no ELF header') end
  local base = ffi.cast('const uint8_t *', bytes)
  local eh = ffi.cast('const struct bpfcli_ehdr *', base)
  if eh.ident[4] ~= 2 or eh.ident[5] ~= 1 then bad('not 64-bit little-endian') end
  if eh.machine ~= EM_BPF then bad(('machine %d'):format(eh.machine)) end
  local shoff, shnum = tonumber(eh.shoff), eh.shnum
  if shoff + shnum * ffi.sizeof('struct bpfcli_shdr') > #bytes then bad('section table past the end') end
  local shdrs = ffi.cast('const struct bpfcli_shdr *', base + shoff)
  local function data(sh)
    local off, size = tonumber(sh.offset), tonumber(sh.size)
    if off + size > #bytes then bad('a section past the end') end
    return bytes:sub(off + 1, off + size)
  end
  local function cstring(s, off)
    return s:match('^[^%z]*', off + 1)
  end
  local shstr = data(shdrs[eh.shstrndx])
  local obj = { sections = {}, syms = {} }
  for i = 0, shnum - 1 do
    local sh = shdrs[i]
    obj.sections[i] = { index = i, name = cstring(shstr, sh.name), type = sh.type,
      flags = tonumber(sh.flags), link = sh.link, info = sh.info, data = data(sh) }
  end
  for i = 1, shnum - 1 do
    local s = obj.sections[i]
    if s.type == SHT_SYMTAB then
      local strs = obj.sections[s.link].data
      local syms = ffi.cast('const struct bpfcli_sym *', s.data)
      for k = 0, #s.data / ffi.sizeof('struct bpfcli_sym') - 1 do
        obj.syms[k] = { name = cstring(strs, syms[k].name), type = bit.band(syms[k].info, 15),
          shndx = syms[k].shndx, value = tonumber(syms[k].value), section = obj.sections[syms[k].shndx] }
      end
    end
  end
  for i = 1, shnum - 1 do
    local s = obj.sections[i]
    if s.type == SHT_REL and obj.sections[s.info] then
      local target = obj.sections[s.info]
      target.relocs = target.relocs or {}
      local rels = ffi.cast('const struct bpfcli_rel *', s.data)
      for k = 0, #s.data / ffi.sizeof('struct bpfcli_rel') - 1 do
        local sym = obj.syms[tonumber(bit.rshift(rels[k].info, 32))]
        target.relocs[tonumber(rels[k].offset) / 8] = sym
      end
    end
  end
  return obj
end

-- Line info of .BTF.ext: { [section name] = { [pc] = { file =, line =, text = } } }.
local function btf_lines(obj)
  local btf, ext
  for _, s in pairs(obj.sections) do
    if s.name == '.BTF' then btf = s.data elseif s.name == '.BTF.ext' then ext = s.data end
  end
  if not btf or not ext or #btf < 24 or #ext < 32 then return {} end
  local b = ffi.cast('const uint32_t *', btf)
  local hdr_len, str_off, str_len = b[1], b[4], b[5]
  local strs = btf:sub(hdr_len + str_off + 1, hdr_len + str_off + str_len)
  local function str(off) return strs:match('^[^%z]*', off + 1) or '' end
  local e = ffi.cast('const uint32_t *', ext)
  local ehdr = e[1]
  local line_off, line_len = e[4], e[5]
  local at = ehdr + line_off
  local stop = at + line_len
  local out = {}
  if line_len < 4 or stop > #ext then return out end
  local rec = ffi.cast('const uint32_t *', ffi.cast('const uint8_t *', ext) + at)[0]
  at = at + 4
  while at + 8 <= stop do
    local p = ffi.cast('const uint32_t *', ffi.cast('const uint8_t *', ext) + at)
    local name, n = str(p[0]), p[1]
    at = at + 8
    local lines = out[name] or {}
    out[name] = lines
    for _ = 1, n do
      local r = ffi.cast('const uint32_t *', ffi.cast('const uint8_t *', ext) + at)
      local file = str(r[1])
      lines[r[0] / 8] = { file = file, line = bit.rshift(r[3], 10), text = str(r[2]) }
      at = at + rec
    end
  end
  return out
end

local comment = { classic = ';', ['pseudo-c'] = '//', mnemonic = '//' }

-- The listing of an object's programs, as text.
function M.disasm_object(bytes, path, syntax)
  local disasm, insn = require('bpf.disasm'), require('bpf.insn')
  syntax = syntax or 'pseudo-c'
  local canon = disasm.syntax_names[syntax]
  if not canon then die("unknown syntax '%s' (classic, pseudo-c, llvm, mnemonic)", syntax) end
  local cmt = comment[canon]
  local obj = read_object(bytes, path)
  local lines = btf_lines(obj)
  local out = {}
  for i = 1, #obj.sections do
    local s = obj.sections[i]
    if bit.band(s.flags, SHF_EXECINSTR) ~= 0 and #s.data >= 8 then
      local n = math.floor(#s.data / 8)
      local code = insn.array_t(n)
      ffi.copy(code, s.data, n * 8)
      local funcs = {}
      for _, sym in pairs(obj.syms) do
        if sym.shndx == i and sym.type == STT_FUNC then funcs[sym.value / 8] = sym.name end
      end
      out[#out + 1] = ''
      out[#out + 1] = ('Disassembly of section %s:'):format(s.name)
      local src, last = lines[s.name] or {}, nil
      local pc = 0
      while pc < n do
        if funcs[pc] then
          out[#out + 1] = ''
          out[#out + 1] = ('%s:'):format(funcs[pc])
          last = nil
        end
        local l = src[pc]
        if l and l.line and l.line > 0 then
          local key = l.file .. ':' .. l.line
          if key ~= last then
            out[#out + 1] = ('%s %s:%d%s'):format(cmt, l.file:match('[^/]*$'), l.line,
              l.text ~= '' and ('  ' .. l.text) or '')
          end
          last = key
        end
        local text, k = disasm.disasm_insn(code, n, pc, canon)
        if not text then
          local ins = code[pc]
          text, k = ('%s invalid: %s (code 0x%02x)'):format(cmt, tostring(k), ins.code), 1
        end
        local rel = s.relocs and s.relocs[pc]
        if rel then
          local target = rel.name ~= '' and rel.name or (rel.section and rel.section.name) or '?'
          text = ('%s  %s %s'):format(text, cmt, target)
        end
        out[#out + 1] = ('%4d:\t%s'):format(pc, text)
        pc = pc + k
      end
    end
  end
  if #out == 0 then return ('%s: no programs'):format(path) end
  return table.concat(out, '\n', 2)
end

local function cmd_disasm(opts)
  if not opts.input then usage_error('disasm: which object? bpf-lua disasm prog.o') end
  print(M.disasm_object(read_file(opts.input), opts.input, opts.syntax))
end

---------------------------------------------------------------------------
-- asm: bpf.asm(text, {syntax =, maps =}) -> a program with :save

local function cmd_asm(opts)
  if not opts.input then usage_error('asm: which file? bpf-lua asm prog.s -o prog.o') end
  local bpf = require('bpf')
  local maps
  if opts.maps then
    local chunk, err = loadfile(opts.maps)
    if not chunk then die('%s', err) end
    maps = chunk()
    if type(maps) ~= 'table' then die('%s: expected a table { name = bpf.map(...) }', opts.maps) end
  end
  local prog, err = bpf.asm(read_file(opts.input), { syntax = opts.syntax, maps = maps })
  if not prog then die('%s: %s', opts.input, tostring(err)) end
  local out = opts.output or (opts.input:gsub('%.[sS]$', '') .. '.o')
  local ok, serr = prog:save(out, { section = opts.section, type = opts.type, name = opts.name })
  if not ok then die('%s', serr) end
  print(('%s: %d instructions'):format(out, prog.pc))
end

---------------------------------------------------------------------------
-- run

local function interrupted(err)
  return type(err) == 'string' and err:find('interrupted!', 1, true) ~= nil
end

function M.run_script(path, args)
  local chunk, err = loadfile(path)
  if not chunk then die('%s', err) end
  local before = {}
  for k in pairs(_G) do before[k] = true end
  local script_arg = { [0] = path }
  for i, a in ipairs(args) do script_arg[i] = a end
  script_arg[-1] = arg and arg[-1]
  rawset(_G, 'arg', script_arg)
  local ok, ret = xpcall(chunk, debug.traceback, unpack(args))
  local attach = require('bpf.attach')
  local stopped = false
  if not ok then
    if not interrupted(ret) then die('%s', ret) end
    stopped = true
  end
  -- the maps it names
  local named = {}
  local function collect()
    if type(ret) == 'table' then
      for k, v in pairs(ret) do if is_map(v) then named[tostring(k)] = v end end
    end
    if next(named) == nil then
      for k, v in pairs(_G) do
        if not before[k] and is_map(v) then named[tostring(k)] = v end
      end
    end
  end
  collect()
  if not stopped and attach.open_links() > 0 then
    local signals = watch_signals()
    local tick = type(ret) == 'table' and type(ret.tick) == 'function' and ret.tick
    local interval = type(ret) == 'table' and tonumber(ret.interval) or 1
    io.stderr:write(('bpf-lua: %d attached; Ctrl-C to stop\n'):format(attach.open_links()))
    while true do
      local sig = signals.wait(math.floor(interval * 1000))
      if sig then break end
      if tick then
        local tok, terr = xpcall(tick, debug.traceback)
        if not tok then die('%s', terr) end
        flush()
      end
    end
    signals.close()
  end
  print_maps(named)
  attach.detach_all()
  return 0
end

---------------------------------------------------------------------------
-- one-liners: bpf-lua -e PROBE EXPR

-- The key expression's Lua in the program; comm() is a char[16] key.
local builtin_exprs = {
  ['pid()'] = 'bit.rshift(pid_tgid(), 32)', ['tid()'] = 'bit.band(pid_tgid(), 0xffffffff)',
  ['uid()'] = 'bit.band(uid_gid(), 0xffffffff)', ['gid()'] = 'bit.rshift(uid_gid(), 32)',
  ['cpu()'] = 'cpu()', ['time()'] = 'time()',
}
local function lua_expr(e)
  e = e:match('^%s*(.-)%s*$')
  return (e:gsub('%f[%w_]([%a_][%w_]*)%(%)', function(name)
    return builtin_exprs[name .. '()'] and ('(' .. builtin_exprs[name .. '()'] .. ')') or nil
  end))
end

-- Splits "a, b" at the top-level comma.
local function split_args(s)
  local args, depth, start = {}, 0, 1
  for i = 1, #s do
    local ch = s:sub(i, i)
    if ch == '(' or ch == '[' or ch == '{' then depth = depth + 1
    elseif ch == ')' or ch == ']' or ch == '}' then depth = depth - 1
    elseif ch == ',' and depth == 0 then
      args[#args + 1] = s:sub(start, i - 1)
      start = i + 1
    end
  end
  local last = s:sub(start)
  if last:match('%S') then args[#args + 1] = last end
  return args
end

-- What the expression asks: { what = 'count'|'sum'|'hist', key =, value = }.
function M.parse_aggregation(text)
  local what, inner = tostring(text):match('^%s*([%a_]+)%s*(%b())%s*$')
  if not what then die("expected count(KEY), sum(VALUE[, KEY]) or hist(VALUE), got '%s'", tostring(text)) end
  local args = split_args(inner:sub(2, -2))
  if what == 'count' then
    if #args > 1 then die('count takes one key at most: count(comm())') end
    return { what = 'count', key = args[1] }
  elseif what == 'sum' then
    if #args < 1 or #args > 2 then die('sum takes a value and a key at most: sum(arg.count, pid())') end
    return { what = 'sum', value = args[1], key = args[2] }
  elseif what == 'hist' then
    if #args ~= 1 then die('hist takes one value: hist(arg.count)') end
    return { what = 'hist', value = args[1] }
  end
  die("unknown aggregation '%s': count, sum or hist", what)
end

-- The map and the program (Lua source, and the function made of it).
local function oneliner_program(agg)
  local bpf = require('bpf')
  local map, key_t, err
  local comm_key = agg.key and agg.key:match('^%s*comm%(%)%s*$')
  if agg.what == 'hist' then
    map, err = bpf.map('array', 64, 'uint32_t', 'uint64_t', { name = 'hist' })
  elseif not agg.key then
    map, err = bpf.map('array', 1, 'uint32_t', 'uint64_t', { name = agg.what })
  else
    key_t = comm_key and 'char[16]' or 'uint64_t'
    map, err = bpf.map('hash', 10240, key_t, 'uint64_t', { name = agg.what })
  end
  if not map then die('%s', err) end
  local src = { 'local map, ffi, bit = ...', 'return function(arg)' }
  local function line(s) src[#src + 1] = '  ' .. s end
  if agg.what == 'hist' then
    line(('local v = %s'):format(lua_expr(agg.value)))
    line('local b = 0')
    line('if v > 0 then b = math.log2(v) end')
    line('xadd(map[b], 1)')
  else
    if not agg.key then line('local k = 0')
    elseif comm_key then line("local k = ffi.new('char[16]')"); line('comm(k)')
    else line(('local k = %s'):format(lua_expr(agg.key))) end
    local inc = agg.what == 'count' and '1' or lua_expr(agg.value)
    if agg.key then
      line('if not map[k] then map[k] = 0 end')
    end
    line(('xadd(map[k], %s)'):format(inc))
  end
  line('return 0')
  src[#src + 1] = 'end'
  local text = table.concat(src, '\n')
  local chunk = assert(loadstring(text, '=bpf-lua -e'))
  return map, chunk(map, ffi, bit), text
end

-- Attaches fn where the probe says: the link, or dies with the reason.
local function attach_probe(probe, fn)
  local bpf = require('bpf')
  local kind, target = tostring(probe):match('^([%a_]+):(.+)$')
  if not kind then
    die("expected a probe such as tracepoint:syscalls/sys_enter_openat, got '%s'", tostring(probe))
  end
  local link, err
  if kind == 'tracepoint' or kind == 't' or kind == 'tp' then
    link, err = bpf.tracepoint((target:gsub(':', '/')), fn)
  elseif kind == 'kprobe' or kind == 'k' or kind == 'kretprobe' or kind == 'kr' then
    link, err = bpf.kprobe(target, fn, kind:sub(1, 2) == 'kr' or nil)
  elseif kind == 'uprobe' or kind == 'u' or kind == 'uretprobe' or kind == 'ur' then
    link, err = bpf.uprobe(target, fn, kind:sub(1, 2) == 'ur' or nil)
  elseif kind == 'raw_tracepoint' or kind == 'rawtracepoint' then
    link, err = bpf.raw_tracepoint(target, fn)
  else
    die("unknown probe kind '%s': tracepoint:, kprobe:, kretprobe:, uprobe:, uretprobe:, "
      .. 'raw_tracepoint:', kind)
  end
  if not link then die('%s', err) end
  return link
end

local function isatty(fd) return C.bpfcli_isatty(fd) == 1 end

-- The lines to show of the map, at most `top` entries (the biggest).
local function oneliner_lines(agg, map, top)
  if agg.what == 'hist' then
    local text = require('bpf.reader').log2_hist_string(map, agg.value:match('^%s*(.-)%s*$'))
    if text == '' then return { '(no events yet)' } end
    local out = {}
    for l in (text .. '\n'):gmatch('([^\n]*)\n') do out[#out + 1] = l end
    return out
  end
  local list = map_entries(map)
  local out = {}
  local first = math.max(1, #list - top + 1)
  if first > 1 then out[#out + 1] = ('(%d more)'):format(first - 1) end
  local width = 4
  for i = first, #list do width = math.max(width, #list[i][1]) end
  for i = first, #list do
    if agg.key then
      out[#out + 1] = ('%-' .. width .. 's %10s'):format(list[i][1], list[i][2])
    else
      out[#out + 1] = ('%s %s'):format(agg.what, list[i][2])
    end
  end
  if #list == 0 then out[#out + 1] = '(no events yet)' end
  return out
end

local function cmd_oneliner(opts)
  if not opts.probe or not opts.expr then
    usage_error('-e takes a probe and an expression: '
      .. "bpf-lua -e 'tracepoint:syscalls/sys_enter_openat' 'count(comm())'")
  end
  local agg = M.parse_aggregation(opts.expr)
  local map, fn = oneliner_program(agg)
  local link = attach_probe(opts.probe, fn)
  local tty = isatty(1)
  local interval = tonumber(opts.interval or 1) or 1
  local signals = watch_signals()
  local shown, started = 0, os.time()
  local header = ('%s %s  (Ctrl-C to stop)'):format(opts.probe, opts.expr)
  local function draw(final)
    local lines = oneliner_lines(agg, map, 20)
    local text = table.concat(lines, '\n')
    if tty and not final then
      if shown > 0 then io.stdout:write(('\27[%dF\27[J'):format(shown)) end
      io.stdout:write(header, '\n', text, '\n')
      shown = #lines + 1
    else
      io.stdout:write(('-- %d s\n'):format(os.time() - started), text, '\n')
    end
    flush()
  end
  if not tty then io.stdout:write(header, '\n') end
  local seconds = tonumber(opts.duration)
  local deadline = seconds and (os.time() + seconds)
  while true do
    local sig = signals.wait(math.floor(interval * 1000))
    if sig or (deadline and os.time() >= deadline) then break end
    draw(false)
  end
  signals.close()
  if tty then io.stdout:write('\n') end
  draw(true)
  link:close()
  return 0
end

---------------------------------------------------------------------------
-- the command line

local help = [[
usage:
  bpf-lua compile prog.lua [-o prog.o]      the programs prog.lua returns, as one BPF object
  bpf-lua disasm prog.o [--syntax S]        S: pseudo-c (llvm, the default), classic, mnemonic
  bpf-lua asm prog.s [-o prog.o] [--syntax S] [--section SEC | --type T] [--maps maps.lua]
  bpf-lua run script.lua [args...]          Ctrl-C detaches and prints the maps it names
  bpf-lua -e PROBE EXPR [--interval S] [--duration S]
      PROBE: tracepoint:GROUP/NAME, kprobe:FUNC, kretprobe:FUNC, uprobe:PATH:FUNC,
             uretprobe:PATH:FUNC, raw_tracepoint:NAME
      EXPR:  count([KEY]), sum(VALUE[, KEY]), hist(VALUE); KEY and VALUE are Lua
             expressions over arg (the probe's context) and comm(), pid(), tid(),
             uid(), gid(), cpu()
      e.g.   bpf-lua -e tracepoint:syscalls/sys_enter_openat 'count(comm())'
]]

local with_value = { ['-o'] = 'output', ['--output'] = 'output', ['--syntax'] = 'syntax',
  ['--section'] = 'section', ['--type'] = 'type', ['--maps'] = 'maps', ['--name'] = 'name',
  ['--interval'] = 'interval', ['--duration'] = 'duration' }

local function parse(args, from, opts)
  local positional = {}
  local i = from
  while i <= #args do
    local a = args[i]
    local long, value = a:match('^(%-%-[%w-]+)=(.*)$')
    if long and with_value[long] then
      opts[with_value[long]] = value
    elseif with_value[a] then
      if args[i + 1] == nil then usage_error(a .. ' needs a value') end
      opts[with_value[a]] = args[i + 1]
      i = i + 1
    elseif a:match('^%-%-?.') and a ~= '-' then
      usage_error('unknown option ' .. a)
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  return positional
end

local commands = { compile = cmd_compile, disasm = cmd_disasm, asm = cmd_asm }

local function dispatch(args)
  local first = args[1]
  if first == nil or first == '-h' or first == '--help' or first == 'help' then
    io.stdout:write(help)
    return first == nil and 2 or 0
  end
  if first == 'run' then
    if not args[2] then usage_error('run: which script? bpf-lua run script.lua [args...]') end
    local rest = {}
    for i = 3, #args do rest[#rest + 1] = args[i] end
    return M.run_script(args[2], rest)
  end
  local opts = {}
  if first == '-e' then
    local pos = parse(args, 2, opts)
    opts.probe, opts.expr = pos[1], pos[2]
    if #pos > 2 then usage_error('-e takes one probe and one expression') end
    return cmd_oneliner(opts)
  end
  local cmd = commands[first]
  if not cmd then usage_error(("unknown command '%s'"):format(tostring(first))) end
  local pos = parse(args, 2, opts)
  if #pos > 1 then usage_error(first .. ' takes one file') end
  opts.input = pos[1]
  cmd(opts)
  return 0
end

-- Runs the command line; returns the exit status.
function M.main(args)
  args = args or {}
  local ok, res = xpcall(dispatch, function(e)
    if type(e) == 'table' and e.cli then return e end
    return debug.traceback(e, 2)
  end, args)
  if ok then
    flush()
    return res or 0
  end
  if type(res) == 'table' then
    io.stderr:write('bpf-lua: ', res.cli, '\n')
    return res.usage and 2 or 1
  end
  io.stderr:write('bpf-lua: ', tostring(res), '\n')
  return 1
end

return M
