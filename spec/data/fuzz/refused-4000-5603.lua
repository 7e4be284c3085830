-- fuzz failure: refused (refused: multiplication on a value that is nil or false on some path)
-- seed 4000, program 5603; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/refused-4000-5603.lua
-- fuzz:3: multiplication on a value that is nil or false on some path
return {
  class = "refused", seed = 4000, program = 5603, signature = "refused: multiplication on a value that is nil or false on some path",
  source = [[
return function(skb)
  local x1 = ((0 > skb.len) and nil)
  return (0 * (x1 or 0))
end
]],
  oracle_source = [[
return function(skb)
  local x1 = ((0LL > skb.len) and nil)
  return (0LL * (x1 or 0LL))
end
]],
  packet = "f169af0c361b6481e140fe5986dd658265ca00381172b795a737bb32d007ce687d3469672e57b4cb636a75e8c8d02c7af9ff994e66f1e5cde62e00382ca6a2207f8142aa5ae6255e2d1e637ff03cba7dce3c9432d5efff27a7caff49bef4d774cb4922780dcc6a089a39de26568a", -- 110 bytes
  ctx = { mark = 2917768934, priority = 2, cb = { 28, 2822904016, 3, 31, 4150559739 } },
  message = [[
fuzz:3: multiplication on a value that is nil or false on some path]],
  shrunk_from = 1037, -- characters of source before shrinking (186 tries)
}
