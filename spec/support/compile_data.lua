-- The compiler data files in spec/data/compile: one program per file, its
-- expected listing or error, read by spec/compile_data_spec.lua and
-- rewritten by tools/golden.lua.
--
-- A data file is one case, after a "# what it shows" line (more "#" lines
-- before the first section are notes), in sections.  A
-- section starts at a line "-- NAME" where NAME is one of those below; every
-- other line (Lua comments included) belongs to the section above it.
--   -- source    a Lua chunk that returns the program: `return function(skb) ... end`;
--                it may set up locals first, which the program reads as upvalues
--   -- maps      optional, one map a line: `name type max_entries [key_ctype [value_ctype]]`
--                (a ctype may be `struct { ... }` with spaces); the source sees each
--                map as a global of that name
--   -- ctx       optional, the context of the first parameter: skb (default),
--                pt_regs, xdp_md, raw_args, or a C type (`struct { ... }`, may span lines)
--   -- type      optional, the program type of the kernel run (default sched_cls)
--   -- listing   the listing, as bpf.dump_string(prog, {syntax = 'pseudo-c', source = false})
--                prints it (tools/golden.lua writes it)
--   -- error     instead of a listing: plain text that the compile error contains
--   -- run       optional, for the kernel run, in order, one a line:
--                  packet FRAME -> RETVAL   BPF_PROG_TEST_RUN on a frame (see frame())
--                  map NAME[KEY] = VALUE    set a map entry
--                  map NAME[KEY] == VALUE   check a map entry (`== nil`: absent)
--                  load                     only load the program (types without test runs)
--
-- Compiling needs no kernel: maps are stand-ins (plain tables of the shape
-- the core reads, fd -1); only the kernel run creates real maps.
local ffi = require('ffi')
local bit = require('bit')
local pk = require('spec.support.packets')

local M = {}

local spec_dir = debug.getinfo(1, 'S').source:match('^@(.*/)support/[^/]*$') or 'spec/'
M.datadir = spec_dir .. 'data/compile/'

-- The section names, in the order a new file lists them.
M.sections = { 'source', 'maps', 'ctx', 'type', 'listing', 'error', 'run' }
local is_section = {}
for _, s in ipairs(M.sections) do is_section[s] = true end
M.is_section = is_section

-- The dump options the listings are written with.
M.dump_opts = { syntax = 'pseudo-c', source = false }

-- One data file: { name =, path =, title =, s = { source = '...', ... },
-- line = { source = N, ... } (the line of each section's header) }.
-- Sections are their lines joined by newlines, trailing white space removed.
function M.parse(text, path)
  local case = { path = path, name = path and path:match('([^/]*)%.data$'), s = {}, line = {} }
  local lines, n = nil, 0
  for l in (text:sub(-1) == '\n' and text or text .. '\n'):gmatch('(.-)\n') do
    n = n + 1
    local sec = l:match('^%-%- (%a+)%s*$')
    if sec and is_section[sec] then
      lines = {}
      case.s[sec], case.line[sec] = lines, n
    elseif lines then
      lines[#lines + 1] = l
    elseif not case.title then
      case.title = l:match('^#%s*(.-)%s*$')
    end
  end
  for k, v in pairs(case.s) do case.s[k] = table.concat(v, '\n'):gsub('%s+$', '') end
  return case
end

function M.read_case(path)
  local f = assert(io.open(path, 'rb'))
  local text = f:read('*a')
  f:close()
  return M.parse(text, path)
end

-- Every data file, in the order ls sorts them.
function M.paths()
  local list = {}
  local p = assert(io.popen('ls ' .. M.datadir .. '*.data 2>/dev/null'))
  for path in p:lines() do list[#list + 1] = path end
  p:close()
  return list
end

function M.cases()
  local list = {}
  for _, path in ipairs(M.paths()) do list[#list + 1] = M.read_case(path) end
  return list
end

-- Words of a maps line; `struct { ... }` and `union { ... }` (braces
-- balanced, a trailing [N] included) stay one word.
local function words(line)
  local out, pos = {}, 1
  while true do
    local s, e = line:find('%S+', pos)
    if not s then break end
    local w = line:sub(s, e)
    if (w == 'struct' or w == 'union') and line:find('^%s*[%w_]*%s*{', e + 1) then
      local open = line:find('{', e + 1, true)
      local depth, i = 0, open
      repeat
        local ch = line:sub(i, i)
        if ch == '{' then depth = depth + 1 elseif ch == '}' then depth = depth - 1 end
        i = i + 1
      until depth == 0 or i > #line
      local dims = line:match('^%s*%b[]', i) or ''
      w, e = line:sub(s, i - 1) .. dims, i - 1 + #dims
    elseif (w == 'struct' or w == 'union') then
      local tag_e = select(2, line:find('^%s*[%w_]+', e + 1))
      if tag_e then w, e = line:sub(s, tag_e), tag_e end
    end
    out[#out + 1] = w
    pos = e + 1
  end
  return out
end

-- The maps section as a list of { name =, type =, max_entries =, key =, val = }.
function M.map_specs(case)
  local list = {}
  for l in ((case.s.maps or '') .. '\n'):gmatch('(.-)\n') do
    if l:match('%S') then
      local w = words(l)
      local n = tonumber(w[3])
      assert(w[1] and w[2] and n, ('%s: cannot read the map line %q'):format(case.name, l))
      list[#list + 1] = { name = w[1], type = w[2], max_entries = n, key = w[4], val = w[5] }
    end
  end
  return list
end

-- What bpf.map gives a key or value when none is named (lua/bpf/map.lua).
local keyless = { ringbuf = true, user_ringbuf = true, queue = true, stack = true, bloom_filter = true }
local valueless = { ringbuf = true, user_ringbuf = true }
local default_types = {
  stack_trace = { 'int32_t', 'struct bpf_stacktrace' },
  perf_event_array = { 'int', 'int' },
}

-- A map the compiler can use without a kernel: the fields the core reads
-- from a map object, fd -1.  (While the core still writes the fd into the
-- map's lddw, the listings show that lddw as invalid: -1 sign-extends into
-- its second slot.)
function M.standin_map(spec)
  require('bpf.map') -- declares struct bpf_stacktrace
  local def = default_types[spec.type] or {}
  local kt = not keyless[spec.type] and ffi.typeof(spec.key or def[1] or 'uint32_t') or nil
  local vt = not valueless[spec.type] and ffi.typeof(spec.val or def[2] or 'uint32_t') or nil
  return {
    __map = true, fd = -1, map_type = spec.type, name = spec.name,
    key_type = kt, val_type = vt,
    key_size = kt and ffi.sizeof(kt) or 0, val_size = vt and ffi.sizeof(vt) or 0,
    max_entries = spec.max_entries, flags = 0, percpu = false,
  }
end

-- A kernel map for the run.
function M.kernel_map(spec)
  return assert(require('bpf.map')(spec.type, spec.max_entries, spec.key, spec.val, { name = spec.name }))
end

-- The context of the first parameter.
function M.ctx(case)
  local c = case.s.ctx
  if not c or c == '' or c == 'skb' then return require('bpf.proto').skb end
  if c == 'pt_regs' then return require('bpf.proto').pt_regs end
  if c == 'xdp_md' then return require('bpf.attach').xdp_md end
  if c == 'raw_args' then return require('bpf.attach').raw_args end
  return { __dissector = ffi.typeof(c) }
end

-- Globals a program can name, as bpf() gives them when no env is passed
-- (lua/bpf/init.lua), the case's maps first.
local function base_env()
  local proto, builtins = require('bpf.proto'), require('bpf.builtins')
  local env = { pkt = proto.pkt, eth = proto.eth, c = proto.c, skb = proto.skb,
    ffi = ffi, bit = bit, math = builtins.math }
  for k, v in pairs(builtins) do
    if type(v) == 'function' then env[k] = v end
  end
  return env
end

-- The program of a case: the source chunk run with the maps as globals,
-- line numbers those of the data file (chunk name "@path").  Returns the
-- function and its env, or nil and the chunk's error.
function M.program(case, maps)
  local base = base_env()
  local env = setmetatable({}, { __index = function(_, k)
    local v = base[k]
    if v == nil then v = rawget(_G, k) end
    return v
  end })
  for name, m in pairs(maps) do rawset(env, name, m) end
  local src = string.rep('\n', case.line.source or 0) .. (case.s.source or '')
  local chunk, err = loadstring(src, '@' .. (case.path or case.name or '?'))
  if not chunk then return nil, err end
  setfenv(chunk, env)
  local ok, fn = pcall(chunk)
  if not ok then return nil, fn end
  if type(fn) ~= 'function' then
    return nil, ('%s: the source returns a %s, not a function'):format(case.name, type(fn))
  end
  return fn, env
end

-- Compile a case; maps are stand-ins unless kernel maps are given
-- ({ name = map }).  Returns the program, or nil and the error.
function M.compile(case, maps)
  if not maps then
    maps = {}
    for _, spec in ipairs(M.map_specs(case)) do maps[spec.name] = M.standin_map(spec) end
  end
  local fn, env = M.program(case, maps)
  if not fn then return nil, env end
  local t = case.s.type
  return require('bpf')(fn, { env = env, ctx = M.ctx(case), type = t ~= '' and t or nil })
end

-- The listing of a compiled program, as the data files hold it.
function M.listing(prog)
  return (require('bpf').dump_string(prog, M.dump_opts):gsub('%s+$', ''))
end

-- The run section as a list of steps:
-- { op = 'packet', frame =, retval = } | { op = 'set' / 'check', map =, key =, value = } | { op = 'load' }.
function M.run_steps(case)
  local steps = {}
  for l in ((case.s.run or '') .. '\n'):gmatch('(.-)\n') do
    l = l:match('^%s*(.-)%s*$')
    if l ~= '' then
      local frame, ret = l:match('^packet%s+(.-)%s*%->%s*(%S+)$')
      local name, key, op, value = l:match('^map%s+([%w_]+)%s*%[%s*(.-)%s*%]%s*(==?)%s*(.-)$')
      if frame then
        steps[#steps + 1] = { op = 'packet', frame = frame, retval = assert(tonumber(ret), l) }
      elseif name then
        local v
        if value ~= 'nil' then v = assert(tonumber(value), l) end
        steps[#steps + 1] = { op = op == '=' and 'set' or 'check', map = name, key = assert(tonumber(key), l),
          value = v }
      elseif l == 'load' then
        steps[#steps + 1] = { op = 'load' }
      else
        error(('%s: cannot read the run line %q'):format(case.name, l))
      end
    end
  end
  return steps
end

-- Frames by name (spec/support/packets.lua), or the bytes of a hex string.
function M.frame(name)
  local f = pk.frames[name]
  if f then return f end
  local hex = name:gsub('%s', '')
  assert(hex:match('^%x*$') and #hex % 2 == 0,
    ('unknown frame %q (a name in packets.frames, or hex)'):format(name))
  return (hex:gsub('%x%x', function(h) return string.char(tonumber(h, 16)) end))
end

return M
