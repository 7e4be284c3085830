-- fuzz failure: refused (refused: this value is a number on one path and nil or false on another, so its truth is not known; give it a value of one kind on every path)
-- seed 1, program 45; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/spec-1/refused-1-45.lua
-- fuzz:3: this value is a number on one path and nil or false on another, so its truth is not known; give it a value of one kind on every path
return {
  class = "refused", seed = 1, program = 45, signature = "refused: this value is a number on one path and nil or false on another, so its truth is not known; give it a value of one kind on every path",
  source = [[
return function(skb)
  local x1 = ((skb.len > 0) or 0)
  return (x1 or 0)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = ((skb.len > 0LL) or 0LL)
  return (x1 or 0LL)
end
]],
  packet = "d03cb5a1066ea1db38f2647686dd6062858f00471153bcbcabfbf8bef8c36b31b234454716b15ab9e354cb3469514c7d2fdaf4b4112e1f90ffff00477ae0f1e4d461ca2708dcbe9d35dcac38308b0a83ca987efde965a002f31275ac7e89a6e80fc329003a1126341c474a86060a971b11e820674c801caa92a6525418", -- 125 bytes
  ctx = { mark = 1221488194, priority = 17, cb = { 904696885, 2147483647, 17, 255, 2097830981 } },
  message = [[
fuzz:3: this value is a number on one path and nil or false on another, so its truth is not known; give it a value of one kind on every path]],
  shrunk_from = 864, -- characters of source before shrinking (160 tries)
}
