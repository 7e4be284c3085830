-- fuzz failure: refused (refused: ran out of registers: too many values are in use at once)
-- seed 1, program 16; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/spec-1/refused-1-16.lua
-- fuzz:10: ran out of registers: too many values are in use at once
return {
  class = "refused", seed = 1, program = 16, signature = "refused: ran out of registers: too many values are in use at once",
  source = [[
return function(skb)
  local x1 = 0
  local x2 = skb.len
  local x3 = skb.len
  local x4 = skb.len
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = (x1 - skb.len)
  local x9 = (skb.len + (((x2 ~= skb.len) and 0) or 0))
  return ((((((x1 + x3) * x4) + x5) + x6) - x7) + x8)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = 0LL
  local x2 = skb.len
  local x3 = skb.len
  local x4 = skb.len
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = (x1 - skb.len)
  local x9 = (skb.len + (((x2 ~= skb.len) and 0LL) or 0LL))
  return ((((((x1 + x3) * x4) + x5) + x6) - x7) + x8)
end
]],
  packet = "1a71c528672e431fc0576a77080045000052d17d531324061ebd6a1a2c3f7be607a41f909f8205d81317afa8051380cfbe4d3faff3512622263bd3cd061c8f029cca7224edd918b1656ec4d8dbe85c1cbec9ad3cf998099baf07875ca34ff281", -- 96 bytes
  ctx = { mark = 2, priority = 2363434656, cb = { 13, 819280713, 7, 65536, 4294967294 } },
  message = [[
fuzz:10: ran out of registers: too many values are in use at once]],
  shrunk_from = 860, -- characters of source before shrinking (250 tries)
}
