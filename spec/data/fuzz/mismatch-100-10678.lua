-- fuzz failure: mismatch (mismatch)
-- seed 100, program 10678, input 1; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-100-10678.lua
-- returned 15204675, expected 32219373
return {
  class = "mismatch", seed = 100, program = 10678, signature = "mismatch",
  source = [[
local u1 = 63
return function(skb)
  local x2 = skb.priority
  local x3 = bit.bor((u1 - x2), u1)
  local x4 = u1
  local x5 = 5
  local x6 = pkt.ip.udp[bit.band((skb.len / x4), 63)]
  local x7 = (x4 or ((skb.mark >= u1) or skb.priority))
  local x8 = skb.priority
  local x9 = ffi.cast('int16_t', (u1 + x2))
  local x10 = (-31)
  local x11 = x9
  local x12 = (x10 - x9)
  local x13 = (x8 + x6)
  local x14 = 65535
  local x15 = bit.bor(x2, x10)
  local x16 = (skb.mark + pkt.ip6.udp[bit.band(x9, 15)])
  local x17 = skb.mark
  x10 = (skb.mark * u1)
  if ((x17 >= 63) and ((x14 <= x5) and (32 >= skb.cb[1]))) then
    x5 = bit.lshift((x13 + x8), 7)
    if (x13 > ((((-2) < 1000) and x13) or skb.mark)) then
      x2 = ((x11 / x5) / (x14 + x4))
      local x18 = x14
    end
    if ((u1 > x9) or (x5 > x7)) then
      x2 = (x15 and skb.cb[3])
      x14 = x11
      x14 = (x17 and x10)
    elseif ((x12 % 8) >= x8) then
      local x19 = ((((256 + skb.priority) and (skb.priority ^ 8)) or 127) <= (((-4096) % x5) ^ 2))
    elseif (128 % (skb.mark / 9007199254740991)) then
      local x20 = ((4294967295 - x15) ^ 64)
      x3 = x17
    else
      x10 = (((33 == 256) and bit.lshift((-140737488355327), 32)) or bit.bnot(x15))
    end
  else
    local x21 = ((((-7) ~= 2147483648) and skb.mark) or 23)
    if ((((33 >= x12) and skb.mark) or x3) > bit.bxor(skb.priority, skb.len)) then
      x15 = bit.lshift((x5 ^ 16), 0)
      x10 = x3
      local x22 = x16
      x16 = (((nil and x21) or skb.priority) + (x2 / 64))
    end
  end
  x9 = skb.cb[0]
  x4 = (skb.mark + x9)
  x16 = ((x17 + x6) / ((-2) + x14))
  x14 = 127
  x12 = x12
  x17 = bit.lshift((x16 and skb.len), (x5 / 53))
  return ((((bit.bxor((((bit.bxor((((((((u1 + x2) + x3) + x4) - x5) + x6) + x7) - x8), x9) - x10) - x11) + x12), x13) * x14) * x15) + x16) + x17)
end
]],
  oracle_source = [[
local u1 = 63LL
return function(skb)
  local x2 = skb.priority
  local x3 = bit.bor((u1 - x2), u1)
  local x4 = u1
  local x5 = 5LL
  local x6 = P:index('l4', bit.band(O.div(skb.len, x4), 63LL))
  local x7 = (x4 or ((skb.mark >= u1) or skb.priority))
  local x8 = skb.priority
  local x9 = O.cast('int16_t', (u1 + x2))
  local x10 = (-31LL)
  local x11 = x9
  local x12 = (x10 - x9)
  local x13 = (x8 + x6)
  local x14 = 65535LL
  local x15 = bit.bor(x2, x10)
  local x16 = (skb.mark + P:index('ip6l4', bit.band(x9, 15LL)))
  local x17 = skb.mark
  x10 = (skb.mark * u1)
  if ((x17 >= 63LL) and ((x14 <= x5) and (32LL >= skb.cb[1]))) then
    x5 = bit.lshift((x13 + x8), 7LL)
    if (x13 > ((((-2LL) < 1000LL) and x13) or skb.mark)) then
      x2 = O.div(O.div(x11, x5), (x14 + x4))
      local x18 = x14
    end
    if ((u1 > x9) or (x5 > x7)) then
      x2 = (x15 and skb.cb[3])
      x14 = x11
      x14 = (x17 and x10)
    elseif (O.mod(x12, 8LL) >= x8) then
      local x19 = ((((256LL + skb.priority) and O.pow(skb.priority, 8)) or 127LL) <= O.pow(O.mod((-4096LL), x5), 2))
    elseif O.mod(128LL, O.div(skb.mark, 9007199254740991LL)) then
      local x20 = O.pow((4294967295LL - x15), 64)
      x3 = x17
    else
      x10 = (((33LL == 256LL) and bit.lshift((-140737488355327LL), 32LL)) or bit.bnot(x15))
    end
  else
    local x21 = ((((-7LL) ~= 2147483648LL) and skb.mark) or 23LL)
    if ((((33LL >= x12) and skb.mark) or x3) > bit.bxor(skb.priority, skb.len)) then
      x15 = bit.lshift(O.pow(x5, 16), 0LL)
      x10 = x3
      local x22 = x16
      x16 = (((nil and x21) or skb.priority) + O.div(x2, 64LL))
    end
  end
  x9 = skb.cb[0]
  x4 = (skb.mark + x9)
  x16 = O.div((x17 + x6), ((-2LL) + x14))
  x14 = 127LL
  x12 = x12
  x17 = bit.lshift((x16 and skb.len), O.div(x5, 53LL))
  return ((((bit.bxor((((bit.bxor((((((((u1 + x2) + x3) + x4) - x5) + x6) + x7) - x8), x9) - x10) - x11) + x12), x13) * x14) * x15) + x16) + x17)
end
]],
  packet = "3e7288eed97994309aa9d33f080045f1005754df7ea9e4115d57c10ef75655f7b4e8003500010043244d09a7de628f8a638f2849157ead1da98fc4ddb315ff479640c638cd3f52c1779dc010ee1b0163f72d5cd4aba506f9693d59d8ef303912d5b8643a06", -- 101 bytes
  ctx = { mark = 4294967294, priority = 3203199588, cb = { 17, 2147483648, 23, 2, 4294967295 } },
  expected = 32219373, got = 15204675,
  message = [[
returned 15204675, expected 32219373]],
  shrunk_from = 1825, -- characters of source before shrinking (0 tries)
}
