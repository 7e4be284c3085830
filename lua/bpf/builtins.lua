-- The helpers a compiled program may call, by the name the core knows them
-- under.  The core's helper table (core.helpers(), csrc/helpers.def) says
-- which there are and where a program reaches each one (a global like
-- `xadd`, or `bit.band`, `ffi.new`, `math.log2`); this module gives each one
-- its Lua value.  Outside a program, the ones that make sense in Lua work
-- there too; the others raise an error.
local ffi = require('ffi')
local bit = require('bit')
local core = require('bpf.core')

local M = {}

-- Network/host byte order: the bytes of x's low `width` bytes (2, 4 or 8;
-- 4 by default) swapped.  In a program the width defaults to that of the
-- field x was read from.
function M.ntoh(x, width)
  width = width or 4
  if width == 8 then return bit.bswap(ffi.cast('uint64_t', x)) end
  local r = bit.bswap(bit.band(x, 0xffffffff))
  if width == 2 then r = bit.rshift(r, 16) end
  return width == 4 and bit.band(r, 0xffffffff) % 0x100000000 or r
end
-- the same swap, as a function of its own so that it compiles under its own name
function M.hton(x, width) return M.ntoh(x, width) end

-- math with log2, which LuaJIT's math lacks (integer results on the kernel side)
M.math = setmetatable({ log2 = function(x) return math.log(x) / math.log(2) end,
  log10 = math.log10, log = math.log }, { __index = math })

local function kernel_only(name)
  return function() error('bpf: ' .. name .. '() works only inside a compiled program', 2) end
end

-- bpf.user(p), bpf.kernel(p): in a program, p points into user memory, or
-- kernel memory (which probe_read helper reads through it); in Lua, p itself.
M.bpf = { user = function(p) return p end, kernel = function(p) return p end }

-- The tables a dotted `from` names, and the globals Lua has itself.
local libs = { ffi = ffi, bit = bit, math = M.math, bpf = M.bpf }
local lua_globals = { print = print }

-- function value -> name the core dispatches on
M.names = {}
M.helpers = core.helpers()
for _, h in ipairs(M.helpers) do
  local lib, field = h.from:match('^([%a_][%w_]*)%.([%a_][%w_]*)$')
  local fn
  if lib then
    fn = assert(libs[lib], 'bpf.builtins: no library ' .. lib .. ' for ' .. h.from)[field]
    assert(type(fn) == 'function', 'bpf.builtins: ' .. h.from .. ' is not a function here')
  else
    fn = M[h.from] or lua_globals[h.from]
    if fn == nil then -- only the kernel has it
      fn = kernel_only(h.from)
      M[h.from] = fn
    end
  end
  assert(M.names[fn] == nil, 'bpf.builtins: ' .. h.from .. ' is the function of two helpers')
  M.names[fn] = h.name
end

return M
