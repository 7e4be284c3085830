-- fuzz failure: mismatch (mismatch)
-- seed 1000, program 78660, input 3; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-1000-78660.lua
-- returned 858993458, expected 0
return {
  class = "mismatch", seed = 1000, program = 78660, signature = "mismatch",
  source = [[
local u1 = (-4095)
local u2 = 53
local u3 = 81985529216486895LL
return function(skb)
  local x4 = ((-9223372036854775808LL) + u1)
  local x5 = (-53)
  local x6 = (x5 % x4)
  local x7 = (-u2)
  local x8 = x4
  hash64[17] = (x6 / u1)
  arr32[5] = ((pkt.ip.df % x4) % (53 + skb.priority))
  x5 = (-u3)
  return ((bit.rshift(pkt[2], u2) + (skb.priority - skb.cb[4])) / (-5))
end
]],
  oracle_source = [[
local u1 = (-4095LL)
local u2 = 53LL
local u3 = 81985529216486895LL
return function(skb)
  local x4 = ((-9223372036854775808LL) + u1)
  local x5 = (-53LL)
  local x6 = O.mod(x5, x4)
  local x7 = (-u2)
  local x8 = x4
  O.set(hash64, 17LL, O.div(x6, u1))
  O.set(arr32, 5LL, O.mod(O.mod(P:field('pkt.ip.df'), x4), (53LL + skb.priority)))
  x5 = (-u3)
  return O.div((bit.rshift(P:index('eth', 2LL), u2) + (skb.priority - skb.cb[4])), (-5LL))
end
]],
  packet = "cfa83fc02fc8c7b2763e21e4c1401493b365e0e38d", -- 21 bytes
  ctx = { mark = 65536, priority = 5, cb = { 17, 19, 0, 2381591047, 4294967295 } },
  expected = 0, got = 858993458,
  message = [[
returned 858993458, expected 0]],
  shrunk_from = 375, -- characters of source before shrinking (0 tries)
}
