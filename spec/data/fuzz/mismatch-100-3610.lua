-- fuzz failure: mismatch (mismatch: % LL pkt field pkt[run-time] skb)
-- seed 100, program 3610, input 1; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-100-3610.lua
-- returned 75, expected 0
return {
  class = "mismatch", seed = 100, program = 3610, signature = "mismatch: % LL pkt field pkt[run-time] skb",
  source = [[
return function(skb)
  local x1 = pkt.ip.tcp[(4294967296LL % pkt.ip.tcp.flag_syn)]
  return skb.len
end
]],
  oracle_source = [[
return function(skb)
  local x1 = P:index('tcp', O.mod(4294967296LL, P:field('pkt.ip.tcp.flag_syn')))
  return skb.len
end
]],
  packet = "5fc2355b0b4ea9d3c0957d84080047df003dad3b093ec411e065782092781480a8bb0352322a60e54d4a936fb6f50021b3eb3bbcf3d479ade4c4e63480e7b3eaa97278207d11e21c028b63", -- 75 bytes
  ctx = { mark = 0, priority = 806467184, cb = { 1, 2147483647, 0, 2147483648, 3 } },
  expected = 0, got = 75,
  message = [[
returned 75, expected 0]],
  shrunk_from = 1732, -- characters of source before shrinking (113 tries)
}
