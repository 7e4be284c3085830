-- fuzz failure: refused (refused: ran out of registers while joining control flow)
-- seed 11, program 35; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/spec-11/refused-11-35.lua
-- fuzz:25: ran out of registers while joining control flow
return {
  class = "refused", seed = 11, program = 35, signature = "refused: ran out of registers while joining control flow",
  source = [[
local u1 = (-1)
return function(skb)
  local x2 = 1ULL
  local x3 = skb.len
  local x4 = (0 <= skb.len)
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = skb.len
  local x9 = ffi.cast('int64_t', 0)
  local x10 = 0
  local x11 = 0
  local x12 = skb.len
  local x13 = skb.len
  local x14 = bit.arshift(u1, 0)
  local x15 = (skb.len / u1)
  if (0 >= skb.len) then
    x8 = 0
  else
    if (skb.len <= 0) then
      x2 = 0ULL
    end
    if skb.len then
      x4 = ((x8 % 1) ~= 1)
      x9 = skb.len
    elseif skb.len then
    end
  end
  if skb.len then
    if (0 == x13) then
    elseif skb.len then
      x8 = bit.bxor((((x3 and x2) or 0) and 0), x15)
    end
  else
    if x8 then
      local x16 = x5
      x5 = (x11 or x4)
    end
    x11 = x12
    return ffi.cast('int64_t', bit.rshift(x9, 65))
  end
end
]],
  oracle_source = [[
local u1 = (-1LL)
return function(skb)
  local x2 = 1ULL
  local x3 = skb.len
  local x4 = (0LL <= skb.len)
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = skb.len
  local x9 = O.cast('int64_t', 0LL)
  local x10 = 0LL
  local x11 = 0LL
  local x12 = skb.len
  local x13 = skb.len
  local x14 = bit.arshift(u1, 0LL)
  local x15 = O.div(skb.len, u1)
  if (0LL >= skb.len) then
    x8 = 0LL
  else
    if (skb.len <= 0LL) then
      x2 = 0ULL
    end
    if skb.len then
      x4 = (O.mod(x8, 1LL) ~= 1LL)
      x9 = skb.len
    elseif skb.len then
    end
  end
  if skb.len then
    if (0LL == x13) then
    elseif skb.len then
      x8 = bit.bxor((((x3 and x2) or 0LL) and 0LL), x15)
    end
  else
    if x8 then
      local x16 = x5
      x5 = (x11 or x4)
    end
    x11 = x12
    return O.cast('int64_t', bit.rshift(x9, 65LL))
  end
end
]],
  packet = "fe6bfdd3efa649e7317bc13786dd6661a32c0024117eb16e243f7cf5a99b12fa6b7db42aa444934df2480ad99a3725ff5152d7326ed573409aa00024d117a5a0319c3dc1deb8fce625fac5c84076aee5784d977eeda76c7cb178", -- 90 bytes
  ctx = { mark = 1499168910, priority = 1, cb = { 4294967294, 3954597832, 17, 1459211895, 593833758 } },
  message = [[
fuzz:25: ran out of registers while joining control flow]],
  shrunk_from = 3111, -- characters of source before shrinking (250 tries)
}
