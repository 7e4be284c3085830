-- fuzz failure: mismatch (mismatch)
-- seed 1000, program 76442, input 3; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-1000-76442.lua
-- returned 4294966640, expected 0
return {
  class = "mismatch", seed = 1000, program = 76442, signature = "mismatch",
  source = [[
local u1 = (-1)
return function(skb)
  local x2 = 4294967295LL
  local x3 = pkt.ip.mf
  local x4 = (((true and u1) or pkt.ip.df) + 9223372036854775807LL)
  local x5 = (x3 / 4294967296LL)
  local x6 = ((-u1) % (x5 * skb.len))
  local x7 = bit.tobit((x5 + x4))
  local x8 = (pkt[bit.band(ffi.cast('int8_t', skb.cb[1]), 7)] or (4294967295ULL < pkt.ip.tcp.flag_ack))
  local x9 = x4
  local x10 = (skb.priority + x5)
  local x11 = pkt[bit.band((-23), 15)]
  local x12 = 16ULL
  x9 = x7
  x9 = 100
  x6 = (u1 / bit.arshift(u1, 63))
  x7 = x10
  return (((bit.bxor((bit.bxor((((bit.bxor((u1 + x2), x3) - x4) + x5) + x6), x7) * x8), x9) - x10) - x11) * x12)
end
]],
  oracle_source = [[
local u1 = (-1LL)
return function(skb)
  local x2 = 4294967295LL
  local x3 = P:field('pkt.ip.mf')
  local x4 = (((true and u1) or P:field('pkt.ip.df')) + 9223372036854775807LL)
  local x5 = O.div(x3, 4294967296LL)
  local x6 = O.mod((-u1), (x5 * skb.len))
  local x7 = O.tobit((x5 + x4))
  local x8 = (P:index('eth', bit.band(O.cast('int8_t', skb.cb[1]), 7LL)) or (4294967295ULL < P:field('pkt.ip.tcp.flag_ack')))
  local x9 = x4
  local x10 = (skb.priority + x5)
  local x11 = P:index('eth', bit.band((-23LL), 15LL))
  local x12 = 16ULL
  x9 = x7
  x9 = 100LL
  x6 = O.div(u1, bit.arshift(u1, 63LL))
  x7 = x10
  return (((bit.bxor((bit.bxor((((bit.bxor((u1 + x2), x3) - x4) + x5) + x6), x7) * x8), x9) - x10) - x11) * x12)
end
]],
  packet = "f9d9178dfee70c727d9185cdc342fe7d61365744d7", -- 21 bytes
  ctx = { mark = 1, priority = 2147483648, cb = { 2, 3571833342, 1, 0, 1 } },
  expected = 0, got = 4294966640,
  message = [[
returned 4294966640, expected 0]],
  shrunk_from = 655, -- characters of source before shrinking (0 tries)
}
