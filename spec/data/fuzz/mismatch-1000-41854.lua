-- fuzz failure: mismatch (mismatch: num pkt field)
-- seed 1000, program 41854, input 5; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-1000-41854.lua
-- returned 1, expected 0
return {
  class = "mismatch", seed = 1000, program = 41854, signature = "mismatch: num pkt field",
  source = [[
return function(skb)
  local x1 = pkt.ip.df
  return 1
end
]],
  oracle_source = [[
return function(skb)
  local x1 = P:field('pkt.ip.df')
  return 1LL
end
]],
  packet = "17720ed62dfedd6b6ee6f833dc2d254abbc9773375", -- 21 bytes
  ctx = { mark = 2155049546, priority = 7, cb = { 0, 0, 23, 0, 255 } },
  expected = 0, got = 1,
  message = [[
returned 1, expected 0]],
  shrunk_from = 945, -- characters of source before shrinking (98 tries)
}
