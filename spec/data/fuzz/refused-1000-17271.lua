-- fuzz failure: refused (refused: modulo by zero: the divisor is # here)
-- seed 1000, program 17271; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/refused-1000-17271.lua
-- fuzz:4: modulo by zero: the divisor is 0 here
return {
  class = "refused", seed = 1000, program = 17271, signature = "refused: modulo by zero: the divisor is # here",
  source = [[
return function(skb)
  local x1 = skb.len
  local x2 = false
  x1 = ((1 / skb.len) % (x2 or 0))
end
]],
  oracle_source = [[
return function(skb)
  local x1 = skb.len
  local x2 = false
  x1 = O.mod(O.div(1LL, skb.len), (x2 or 0LL))
end
]],
  packet = "8a9b64ea3f038fcabb9d269086dd60016eca000d1151b1c8509463995f665bcf23a106b54d5b626583d024f3a13cdecfcba6e40c1275b9a25818000d7bdba2509b8cb4", -- 67 bytes
  ctx = { mark = 417231572, priority = 30, cb = { 17, 2147483647, 3571422190, 0, 0 } },
  message = [[
fuzz:4: modulo by zero: the divisor is 0 here]],
  shrunk_from = 1225, -- characters of source before shrinking (93 tries)
}
