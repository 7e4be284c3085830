-- The semantics table of README ("What a program computes") in Lua, on
-- 64-bit cdata: what a compiled program must compute, whether its values are
-- known at compile time or not.  LuaJIT's own cdata / and % truncate, and
-- x / 0 gives INT64_MIN, so division is written out here.
local ffi = require('ffi')
local bit = require('bit')

local M = {}

local i64, u64 = ffi.typeof('int64_t'), ffi.typeof('uint64_t')
M.i64, M.u64 = i64, u64
M.INT64_MIN = ffi.new(i64, -0x7fffffffffffffffLL - 1)
M.INT64_MAX = ffi.new(i64, 0x7fffffffffffffffLL)

local function floor_div(x, y)
  if y == 0 then return ffi.new(i64, 0) end
  if y == -1 then return -x end -- INT64_MIN / -1 wraps
  local q = x / y               -- truncates
  if x % y ~= 0 and ((x < 0) ~= (y < 0)) then q = q - 1 end
  return q
end

local function floor_mod(x, y)
  if y == 0 then return x end
  if y == -1 then return ffi.new(i64, 0) end
  local r = x % y -- the sign of x
  if r ~= 0 and ((r < 0) ~= (y < 0)) then r = r + y end
  return r
end

local function ipow(x, y)
  local r = ffi.new(u64, 1)
  x, y = ffi.cast(u64, x), ffi.cast(u64, y)
  while y ~= 0 do
    if bit.band(y, 1) ~= 0 then r = r * x end
    x = x * x
    y = bit.rshift(y, 1)
  end
  return r
end

-- op(x, y) on int64 (unsigned = false) or uint64 values.
function M.arith(op, x, y, unsigned)
  local t = unsigned and u64 or i64
  x, y = ffi.cast(t, x), ffi.cast(t, y)
  local r
  if op == '+' then r = x + y
  elseif op == '-' then r = x - y
  elseif op == '*' then r = x * y
  elseif op == '/' then
    if unsigned then r = y == 0 and ffi.new(t, 0) or x / y else r = floor_div(x, y) end
  elseif op == '%' then
    if unsigned then r = y == 0 and x or x % y else r = floor_mod(x, y) end
  elseif op == '^' then r = ipow(x, y)
  elseif op == 'band' then r = bit.band(x, y)
  elseif op == 'bor' then r = bit.bor(x, y)
  elseif op == 'bxor' then r = bit.bxor(x, y)
  elseif op == 'lshift' then r = bit.lshift(x, y)
  elseif op == 'rshift' then r = bit.rshift(x, y)
  elseif op == 'arshift' then r = bit.arshift(x, y)
  elseif op == '<' then return x < y
  elseif op == '<=' then return x <= y
  elseif op == '>' then return x > y
  elseif op == '>=' then return x >= y
  elseif op == '==' then return x == y
  elseif op == '~=' then return x ~= y
  else error('unknown op ' .. op) end
  return ffi.cast(t, r)
end

-- A 64-bit value as Lua source: a cdata literal of the right type.
function M.literal(x, unsigned)
  if unsigned then return tostring(ffi.cast(u64, x)) end
  x = ffi.cast(i64, x)
  if x == M.INT64_MIN then return '(-0x7fffffffffffffffLL - 1)' end
  return tostring(x)
end

return M
