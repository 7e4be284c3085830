-- fuzz failure: mismatch (mismatch)
-- seed 100, program 7988, input 2; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-100-7988.lua
-- returned 2147483713, expected 0
return {
  class = "mismatch", seed = 100, program = 7988, signature = "mismatch",
  source = [[
return function(skb)
  local x1 = ffi.cast('int64_t', 100ULL)
  local x2 = (x1 - skb.mark)
  local x3 = (-bit.rshift(pkt.ip6.priority, ffi.cast('uint64_t', x2)))
  if ((skb.cb[0] - x2) > x1) then
    local x4 = bit.band(skb.cb[4], (x1 + x1))
    x1 = (skb.len or (pkt.ip.icmp.checksum or (x1 <= 81985529216486895ULL)))
  elseif ffi.cast('int64_t', (((2147483648 ~= x2) and ffi.cast('uint64_t', pkt.ip.df)) or 5ULL)) then
    local x5 = (-((((33 < 5) == pkt.ip.tcp.dst_port) and ffi.cast('int64_t', 9223372036854775808ULL)) or ffi.cast('int8_t', skb.cb[3])))
  end
  x2 = skb.len
  if (not (13765093773381800314ULL ~= skb.mark)) then
    x2 = x2
    local x6 = ((33 and (-256)) - ffi.cast('int8_t', ffi.cast('uint64_t', x2)))
    if ((8 * x1) >= bit.band((-256), ffi.cast('uint64_t', x6))) then
      local x7 = ffi.cast('int16_t', ((-16) * skb.priority))
      x6 = (((x3 and x7) or skb.mark) * bit.tobit(skb.cb[1]))
      x2 = (x1 or x3)
    elseif ((((skb.mark >= x3) and x3) or 64) == (x3 + x1)) then
      x1 = bit.arshift((x3 and (skb.priority - skb.mark)), (4026642264868731928ULL - (skb.cb[0] + x3)))
    elseif (x6 < (x6 * 255)) then
      x3 = ffi.cast('uint32_t', 65535)
    end
  else
    x1 = bit.band(bit.bor(skb.priority, x2), ((-4) * x2))
  end
  x3 = x3
  if (((-127) * skb.len) >= ffi.cast('uint64_t', x3)) then
    x2 = x1
    return bit.bnot((2 + x1))
  end
  x3 = bit.tobit((x2 - x3))
  if ((skb.cb[4] * (-3)) <= (x2 - 13635217218141630021ULL)) then
    x2 = x2
    local x8 = x1
  elseif (false or (x1 > 3170576969612215414ULL)) then
    x3 = x1
  end
  return bit.bxor(bit.bxor(x1, x2), x3)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = O.cast('int64_t', 100ULL)
  local x2 = (x1 - skb.mark)
  local x3 = (-bit.rshift(P:field('pkt.ip6.priority'), O.cast('uint64_t', x2)))
  if ((skb.cb[0] - x2) > x1) then
    local x4 = bit.band(skb.cb[4], (x1 + x1))
    x1 = (skb.len or (P:field('pkt.ip.icmp.checksum') or (x1 <= 81985529216486895ULL)))
  elseif O.cast('int64_t', (((2147483648LL ~= x2) and O.cast('uint64_t', P:field('pkt.ip.df'))) or 5ULL)) then
    local x5 = (-((((33LL < 5LL) == P:field('pkt.ip.tcp.dst_port')) and O.cast('int64_t', 9223372036854775808ULL)) or O.cast('int8_t', skb.cb[3])))
  end
  x2 = skb.len
  if (not (13765093773381800314ULL ~= skb.mark)) then
    x2 = x2
    local x6 = ((33LL and (-256LL)) - O.cast('int8_t', O.cast('uint64_t', x2)))
    if ((8LL * x1) >= bit.band((-256LL), O.cast('uint64_t', x6))) then
      local x7 = O.cast('int16_t', ((-16LL) * skb.priority))
      x6 = (((x3 and x7) or skb.mark) * O.tobit(skb.cb[1]))
      x2 = (x1 or x3)
    elseif ((((skb.mark >= x3) and x3) or 64LL) == (x3 + x1)) then
      x1 = bit.arshift((x3 and (skb.priority - skb.mark)), (4026642264868731928ULL - (skb.cb[0] + x3)))
    elseif (x6 < (x6 * 255LL)) then
      x3 = O.cast('uint32_t', 65535LL)
    end
  else
    x1 = bit.band(bit.bor(skb.priority, x2), ((-4LL) * x2))
  end
  x3 = x3
  if (((-127LL) * skb.len) >= O.cast('uint64_t', x3)) then
    x2 = x1
    return bit.bnot((2LL + x1))
  end
  x3 = O.tobit((x2 - x3))
  if ((skb.cb[4] * (-3LL)) <= (x2 - 13635217218141630021ULL)) then
    x2 = x2
    local x8 = x1
  elseif (false or (x1 > 3170576969612215414ULL)) then
    x3 = x1
  end
  return bit.bxor(bit.bxor(x1, x2), x3)
end
]],
  packet = "063a6a87c72925da583aa0e30801450f00", -- 17 bytes
  ctx = { mark = 255, priority = 2147483647, cb = { 65536, 4294967295, 2147483647, 3413008873, 30 } },
  expected = 0, got = 2147483713,
  message = [[
returned 2147483713, expected 0]],
  shrunk_from = 1617, -- characters of source before shrinking (0 tries)
}
