-- fuzz failure: refused (refused: this value is nil on one path and false on another: compare it with false, or test its truth)
-- seed 11, program 577; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/spec-11/refused-11-577.lua
-- fuzz:2: this value is nil on one path and false on another: compare it with false, or test its truth
return {
  class = "refused", seed = 11, program = 577, signature = "refused: this value is nil on one path and false on another: compare it with false, or test its truth",
  source = [[
return function(skb)
  return ((0 >= skb.len) ~= nil)
end
]],
  oracle_source = [[
return function(skb)
  return ((0LL >= skb.len) ~= nil)
end
]],
  packet = "2bd0f7d7b5179e373d891299080046f400222a9e18e797119b0f42d8f1ac519785302dae9d1c00350050000adb3f2e1e", -- 48 bytes
  ctx = { mark = 18, priority = 2, cb = { 17, 2147483647, 1, 17, 2147483648 } },
  message = [[
fuzz:2: this value is nil on one path and false on another: compare it with false, or test its truth]],
  shrunk_from = 2681, -- characters of source before shrinking (132 tries)
}
