-- The helpers a compiled program may call, by the name the core knows them
-- under.  Outside a program, the ones that make sense in Lua work there too.
local ffi = require('ffi')
local bit = require('bit')

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
M.hton = M.ntoh

local function kernel_only(name)
  return function() error('bpf: ' .. name .. '() works only inside a compiled program', 2) end
end

local kernel_helpers = { 'xadd', 'time', 'cpu', 'pid_tgid', 'uid_gid', 'comm', 'perf_submit',
  'stack_id', 'load_bytes', 'random', 'ringbuf_output', 'ringbuf_reserve', 'ringbuf_submit',
  'ringbuf_discard' }
for _, name in ipairs(kernel_helpers) do
  M[name] = kernel_only(name)
end

-- math with log2, which LuaJIT's math lacks (integer results on the kernel side)
M.math = setmetatable({ log2 = function(x) return math.log(x) / math.log(2) end,
  log10 = math.log10, log = math.log }, { __index = math })

-- function value -> name the core dispatches on
M.names = {}
for _, name in ipairs(kernel_helpers) do
  M.names[M[name]] = name
end
M.names[M.ntoh], M.names[M.hton] = 'ntoh', 'hton'
M.names[print] = 'print'
M.names[ffi.new] = 'new'
M.names[ffi.cast] = 'cast'
M.names[ffi.copy] = 'copy'
for _, name in ipairs({ 'band', 'bor', 'bxor', 'lshift', 'rshift', 'arshift', 'bnot', 'tobit' }) do
  M.names[bit[name]] = name
end
M.names[M.math.log2] = 'log2'
M.names[M.math.log10] = 'log10'
M.names[M.math.log] = 'log'
M.names[math.log] = 'log'
M.names[math.log10] = 'log10'

return M
