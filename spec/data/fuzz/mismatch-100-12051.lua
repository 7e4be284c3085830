-- fuzz failure: mismatch (mismatch)
-- seed 100, program 12051, input 1; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-100-12051.lua
-- returned 1697263563, expected 1697208158
return {
  class = "mismatch", seed = 100, program = 12051, signature = "mismatch",
  source = [[
local u1 = (-140737488355327)
return function(skb)
  local x2 = (ffi.cast('uint64_t', pkt.ip.icmp.type) + ffi.cast('uint64_t', u1))
  local x3 = (skb.cb[4] * pkt.ip.tcp.reserved)
  local x4 = x2
  local x5 = x3
  local x6 = ((-7140413184228758023LL) and ffi.cast('uint64_t', pkt.ip.udp[3]))
  local x7 = (false and (skb.cb[1] + x3))
  local x8 = x4
  local x9 = pkt.ip.udp.data[bit.band(pkt.ip[15], x5)]
  local x10 = (127 - x5)
  local x11 = ((-x3) * skb.len)
  local x12 = ((x11 - skb.cb[3]) - skb.cb[1])
  local x13 = (((-100) + x9) - ((-5404973963924694557LL) * pkt.ip.udp[bit.band((x9 * skb.len), 31)]))
  local x14 = x13
  local x15 = ((skb.mark - 32) + (1099511627776 * u1))
  x7 = false
  if false then
    if ((9223372036854775808ULL * skb.len) <= bit.lshift(x15, 64)) then
      hash64[bit.band(x10, 1)] = ((140737488355327 - skb.mark) - (x9 and x15))
    elseif ((x14 + u1) <= bit.rshift(65ULL, 1)) then
      x11 = (53 * ((-31) - u1))
      x14 = (4294967295 * (x13 - 255))
    end
    if ((skb.cb[2] - (-100)) - (x13 and x15)) then
      x6 = x2
    end
  else
    x12 = x10
    local v16 = hash64[(bit.rshift(x3, 32) and x13)]
    if not v16 then
    else
      local x17 = nil
      arr32[bit.band((x15 - 4294967296), 15)] = ((skb.cb[1] - 256) + (skb.priority * u1))
      local x18 = x11
      x9 = (-(bit.band(x3, x3) or ((x5 <= x15) or x15)))
    end
  end
  if ((x10 == (-9223372036854775807LL)) and ((skb.len ~= x2) and (x8 < 4))) then
    if (bit.bxor(skb.priority, skb.mark) ~= x10) then
      local x19 = x11
      local x20 = skb.len
      local x21 = x4
      x4 = x2
    elseif (x3 < (skb.mark + x10)) then
      local x22 = ((skb.cb[4] == (-9223372036854775808LL)) and (skb.priority - x15))
      local x23 = (-skb.mark)
    end
    return ((-x10) - (x13 + (-2)))
  else
    if (((x7 and 33) or x15) > (skb.cb[0] + x13)) then
      x6 = bit.bor(4, x6)
      local x24 = x13
      x13 = bit.bnot(((x7 and x13) or x24))
      local x25 = ((skb.priority <= u1) or x14)
    elseif 2147483647ULL then
      x11 = u1
      x5 = ((((x13 >= skb.cb[1]) and x9) or x10) or ((ffi.cast('uint64_t', x15) <= 140737488355327) and 63))
    end
    arr64[bit.band(u1, 7)] = ((((skb.cb[2] ~= x14) and x5) or skb.cb[3]) + x15)
  end
  return ((bit.bxor((bit.bxor((bit.bxor(((bit.bxor(((((u1 - x2) - x3) - x4) * x5), x6) - x8) + x9), x10) + x11), x12) * x13), x14) + x15) - ((x7 and 50LL) or 107LL))
end
]],
  oracle_source = [[
local u1 = (-140737488355327LL)
return function(skb)
  local x2 = (O.cast('uint64_t', P:field('pkt.ip.icmp.type')) + O.cast('uint64_t', u1))
  local x3 = (skb.cb[4] * P:field('pkt.ip.tcp.reserved'))
  local x4 = x2
  local x5 = x3
  local x6 = ((-7140413184228758023LL) and O.cast('uint64_t', P:index('l4', 3LL)))
  local x7 = (false and (skb.cb[1] + x3))
  local x8 = x4
  local x9 = P:index('udpdata', bit.band(P:index('ip', 15LL), x5))
  local x10 = (127LL - x5)
  local x11 = ((-x3) * skb.len)
  local x12 = ((x11 - skb.cb[3]) - skb.cb[1])
  local x13 = (((-100LL) + x9) - ((-5404973963924694557LL) * P:index('l4', bit.band((x9 * skb.len), 31LL))))
  local x14 = x13
  local x15 = ((skb.mark - 32LL) + (1099511627776LL * u1))
  x7 = false
  if false then
    if ((9223372036854775808ULL * skb.len) <= bit.lshift(x15, 64LL)) then
      O.set(hash64, bit.band(x10, 1LL), ((140737488355327LL - skb.mark) - (x9 and x15)))
    elseif ((x14 + u1) <= bit.rshift(65ULL, 1LL)) then
      x11 = (53LL * ((-31LL) - u1))
      x14 = (4294967295LL * (x13 - 255LL))
    end
    if ((skb.cb[2] - (-100LL)) - (x13 and x15)) then
      x6 = x2
    end
  else
    x12 = x10
    local v16 = O.get(hash64, (bit.rshift(x3, 32LL) and x13))
    if not v16 then
    else
      local x17 = nil
      O.set(arr32, bit.band((x15 - 4294967296LL), 15LL), ((skb.cb[1] - 256LL) + (skb.priority * u1)))
      local x18 = x11
      x9 = (-(bit.band(x3, x3) or ((x5 <= x15) or x15)))
    end
  end
  if ((x10 == (-9223372036854775807LL)) and ((skb.len ~= x2) and (x8 < 4LL))) then
    if (bit.bxor(skb.priority, skb.mark) ~= x10) then
      local x19 = x11
      local x20 = skb.len
      local x21 = x4
      x4 = x2
    elseif (x3 < (skb.mark + x10)) then
      local x22 = ((skb.cb[4] == (-9223372036854775808LL)) and (skb.priority - x15))
      local x23 = (-skb.mark)
    end
    return ((-x10) - (x13 + (-2LL)))
  else
    if (((x7 and 33LL) or x15) > (skb.cb[0] + x13)) then
      x6 = bit.bor(4LL, x6)
      local x24 = x13
      x13 = bit.bnot(((x7 and x13) or x24))
      local x25 = ((skb.priority <= u1) or x14)
    elseif 2147483647ULL then
      x11 = u1
      x5 = ((((x13 >= skb.cb[1]) and x9) or x10) or ((O.cast('uint64_t', x15) <= 140737488355327LL) and 63LL))
    end
    O.set(arr64, bit.band(u1, 7LL), ((((skb.cb[2] ~= x14) and x5) or skb.cb[3]) + x15))
  end
  return ((bit.bxor((bit.bxor((bit.bxor(((bit.bxor(((((u1 - x2) - x3) - x4) * x5), x6) - x8) + x9), x10) + x11), x12) * x13), x14) + x15) - ((x7 and 50LL) or 107LL))
end
]],
  packet = "c534388efee6747aaeee9511080045e80052bc706344bf11b84fffbb4b0fffd67aff000078da003e06c9aa9f11c8a0f44241a2db3d8766956fd9133f071d6532e952454581cd10443cb0ee191323d85d77e9e142b82d0b2d40c70a45de218132", -- 96 bytes
  ctx = { mark = 1697236000, priority = 9, cb = { 17, 1756532888, 22, 2147483647, 1 } },
  expected = 1697208158, got = 1697263563,
  message = [[
returned 1697263563, expected 1697208158]],
  shrunk_from = 2411, -- characters of source before shrinking (0 tries)
}
