-- fuzz failure: refused (refused: division by zero: the divisor is # here)
-- seed 11, program 1622; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/spec-11/refused-11-1622.lua
-- fuzz:3: division by zero: the divisor is 0 here
return {
  class = "refused", seed = 11, program = 1622, signature = "refused: division by zero: the divisor is # here",
  source = [[
return function(skb)
  local x1 = false
  local x2 = (0 / (x1 or 0))
end
]],
  oracle_source = [[
return function(skb)
  local x1 = false
  local x2 = O.div(0LL, (x1 or 0LL))
end
]],
  packet = "2cf400e2631c25d94c136a3686dd6d1c27130036115f9ec505a30ce1d7a59368e3a7e37a8396635b488362ae20b9ea993ff89e589704fc5400500036a1dc3071043ee81f7c0a7eea39c179e6195d1a557f8908b8f7450e04742a9edae55d2acf37a0e4ddba523f745ecf462e", -- 108 bytes
  ctx = { mark = 65536, priority = 28, cb = { 4294967294, 255, 2147483647, 31, 1 } },
  message = [[
fuzz:3: division by zero: the divisor is 0 here]],
  shrunk_from = 1563, -- characters of source before shrinking (87 tries)
}
