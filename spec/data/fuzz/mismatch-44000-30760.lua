-- fuzz failure: mismatch (mismatch: - > and bool num or skb)
-- seed 44000, program 30760, input 1; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/mismatch-44000-30760.lua
-- returned 4294967295, expected 0
return {
  class = "mismatch", seed = 44000, program = 30760, signature = "mismatch: - > and bool num or skb",
  source = [[
return function(skb)
  local x1 = (skb.len > 0)
  local x2 = x1
  x1 = (x1 and false)
  return (((x1 and 0) or 0) - ((x2 and 0) or 1))
end
]],
  oracle_source = [[
return function(skb)
  local x1 = (skb.len > 0LL)
  local x2 = x1
  x1 = (x1 and false)
  return (((x1 and 0LL) or 0LL) - ((x2 and 0LL) or 1LL))
end
]],
  packet = "a5c414f9423a014c168477fa080045540055300e8e475e111a800a0501dad7157b6b71e5df1e004138c27e58a963d29fdce801a851d8f813dc62d3bd449b43a3aab7605af7b0ba7922e37c983fb567a9adb96f76602c2be824bfbf72ba34cb122558a2", -- 99 bytes
  ctx = { mark = 1, priority = 2637171831, cb = { 19, 1, 4294967295, 18, 23 } },
  expected = 0, got = 4294967295,
  message = [[
returned 4294967295, expected 0]],
  shrunk_from = 2651, -- characters of source before shrinking (214 tries)
}
