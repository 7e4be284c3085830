-- The helpers a compiled program may call, by the name the core knows them
-- under.  Outside a program, the ones that make sense in Lua work there too.
local ffi = require('ffi')
local bit = require('bit')

local M = {}

-- Network/host byte order for 16/32-bit values (the core picks the width).
function M.ntoh(x) return bit.bswap(x) end
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
for _, name in ipairs({ 'band', 'bor', 'bxor', 'lshift', 'rshift', 'arshift', 'bnot' }) do
  M.names[bit[name]] = name
end
M.names[M.math.log2] = 'log2'
M.names[M.math.log10] = 'log10'
M.names[M.math.log] = 'log'
M.names[math.log] = 'log'
M.names[math.log10] = 'log10'

return M
