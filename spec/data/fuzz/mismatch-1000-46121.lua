-- fuzz failure: mismatch (mismatch)
-- seed 1000, program 46121, input 3; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-1000-46121.lua
-- returned 917965868, expected 0
return {
  class = "mismatch", seed = 1000, program = 46121, signature = "mismatch",
  source = [[
return function(skb)
  local x1 = 8ULL
  local x2 = x1
  local x3 = (skb.mark + 9007199254740991)
  local x4 = skb.priority
  local x5 = (skb.cb[2] / pkt.ip[4])
  local x6 = ((skb.priority / x4) - (x2 / x5))
  local x7 = (23 * pkt.ip.mf)
  local x8 = x4
  local x9 = (-ffi.cast('int64_t', ffi.cast('uint64_t', x5)))
  local x10 = x3
  if (((-140737488355327) + pkt.ip.df) - pkt.ip.hlen) then
    local v11 = arr64[255]
    if v11 then
      local x12 = x4
      v11[0] = ((skb.priority / x9) - (skb.mark / 1099511627776))
      local x13 = bit.arshift(skb.priority, 33)
      return x12
    else
      xadd(arr64[8], 33)
      local x14 = x10
    end
    x5 = bit.bor(bit.bxor(skb.cb[3], x10), x7)
  elseif (-x9) then
    if false then
      xadd(hash32[bit.band((x4 - x4), 1)], ((x4 - x8) - skb.cb[4]))
      local x15 = ffi.cast('int64_t', (x1 ^ 8))
    elseif (ffi.cast('uint64_t', x3) ^ 7) then
      x6 = x2
      xadd(hash32[(x10 / x4)], 2)
      xadd(arr64[100], 1)
      return x9
    elseif x3 then
      x6 = 1349718821473285691ULL
      x4 = x4
      local x16 = (-(bit.bor(31, skb.cb[3]) - (x4 + skb.priority)))
    end
    x10 = ((skb.cb[3] ^ 2) - (-128))
    if ((x8 % skb.cb[2]) + (-(-255))) then
      x8 = ffi.cast('int64_t', x8)
    elseif x1 then
      x8 = x9
    else
      local x17 = ffi.cast('uint32_t', x8)
      x9 = (((-x7) - (4 * x17)) % x9)
      x5 = x17
      return bit.arshift((skb.cb[0] % x5), 7)
    end
  else
    local v18 = arr32[x7]
    if not v18 then
      x9 = (x8 * x4)
      xadd(arr64[4294967295LL], 2147483647)
    else
      v18[0] = (bit.bnot(x6) + (65535 + x1))
      x9 = ffi.cast('uint32_t', v18[0])
    end
    x4 = ((x9 + (skb.cb[2] - x7)) - 128)
    x2 = (((skb.cb[3] % x8) + (-x2)) - bit.bor(x1, x6))
    return ((x4 ^ 3) - (x4 % x3))
  end
  local x19 = skb.len
  return ((((((((((x1 + x2) + x3) + x4) * x5) * x6) * x7) - x8) * x9) + x10) + x19)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = 8ULL
  local x2 = x1
  local x3 = (skb.mark + 9007199254740991LL)
  local x4 = skb.priority
  local x5 = O.div(skb.cb[2], P:index('ip', 4LL))
  local x6 = (O.div(skb.priority, x4) - O.div(x2, x5))
  local x7 = (23LL * P:field('pkt.ip.mf'))
  local x8 = x4
  local x9 = (-O.cast('int64_t', O.cast('uint64_t', x5)))
  local x10 = x3
  if (((-140737488355327LL) + P:field('pkt.ip.df')) - P:field('pkt.ip.hlen')) then
    local v11 = O.get(arr64, 255LL)
    if v11 then
      local x12 = x4
      O.wr(v11, (O.div(skb.priority, x9) - O.div(skb.mark, 1099511627776LL)))
      local x13 = bit.arshift(skb.priority, 33LL)
      return x12
    else
      O.xadd(arr64, 8LL, 33LL)
      local x14 = x10
    end
    x5 = bit.bor(bit.bxor(skb.cb[3], x10), x7)
  elseif (-x9) then
    if false then
      O.xadd(hash32, bit.band((x4 - x4), 1LL), ((x4 - x8) - skb.cb[4]))
      local x15 = O.cast('int64_t', O.pow(x1, 8))
    elseif O.pow(O.cast('uint64_t', x3), 7) then
      x6 = x2
      O.xadd(hash32, O.div(x10, x4), 2LL)
      O.xadd(arr64, 100LL, 1LL)
      return x9
    elseif x3 then
      x6 = 1349718821473285691ULL
      x4 = x4
      local x16 = (-(bit.bor(31LL, skb.cb[3]) - (x4 + skb.priority)))
    end
    x10 = (O.pow(skb.cb[3], 2) - (-128LL))
    if (O.mod(x8, skb.cb[2]) + (-(-255LL))) then
      x8 = O.cast('int64_t', x8)
    elseif x1 then
      x8 = x9
    else
      local x17 = O.cast('uint32_t', x8)
      x9 = O.mod(((-x7) - (4LL * x17)), x9)
      x5 = x17
      return bit.arshift(O.mod(skb.cb[0], x5), 7LL)
    end
  else
    local v18 = O.get(arr32, x7)
    if not v18 then
      x9 = (x8 * x4)
      O.xadd(arr64, 4294967295LL, 2147483647LL)
    else
      O.wr(v18, (bit.bnot(x6) + (65535LL + x1)))
      x9 = O.cast('uint32_t', O.rd(v18))
    end
    x4 = ((x9 + (skb.cb[2] - x7)) - 128LL)
    x2 = ((O.mod(skb.cb[3], x8) + (-x2)) - bit.bor(x1, x6))
    return (O.pow(x4, 3) - O.mod(x4, x3))
  end
  local x19 = skb.len
  return ((((((((((x1 + x2) + x3) + x4) * x5) * x6) * x7) - x8) * x9) + x10) + x19)
end
]],
  packet = "22ea57ce3e4ac1bda3a387d92359b8cdf8e2c87220", -- 21 bytes
  ctx = { mark = 2323022210, priority = 17, cb = { 5, 14, 2147483648, 375777698, 65536 } },
  expected = 0, got = 917965868,
  message = [[
returned 917965868, expected 0]],
  shrunk_from = 1906, -- characters of source before shrinking (0 tries)
}
