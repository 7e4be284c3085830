-- fuzz failure: refused (refused: cannot agree on where variable # lives where control flow joins)
-- seed 1000, program 54082; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/refused-1000-54082.lua
-- fuzz:16: cannot agree on where variable 9 lives where control flow joins
return {
  class = "refused", seed = 1000, program = 54082, signature = "refused: cannot agree on where variable # lives where control flow joins",
  source = [[
return function(skb)
  local x1 = skb.len
  local x2 = skb.len
  local x3 = skb.len
  local x4 = skb.len
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = skb.len
  local x9 = 0
  local x10 = 0
  if ((x9 - skb.len) > skb.len) then
    x10 = skb.len
    x9 = skb.len
  end
  return (((((((((x1 - x2) - x3) + x4) * x5) + x6) - x7) - x8) - x9) * x10)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = skb.len
  local x2 = skb.len
  local x3 = skb.len
  local x4 = skb.len
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = skb.len
  local x9 = 0LL
  local x10 = 0LL
  if ((x9 - skb.len) > skb.len) then
    x10 = skb.len
    x9 = skb.len
  end
  return (((((((((x1 - x2) - x3) + x4) * x5) + x6) - x7) - x8) - x9) * x10)
end
]],
  packet = "4b82e9c46f38a4539b1ff1610800481c004309d46dd382013dc2989541131909ba2764e3c5d91800af4dfafee43b0002a18acdea78f93f2a204095ab0cc931401580318933db351dbac8459f7ec9af4e62", -- 81 bytes
  ctx = { mark = 4294967294, priority = 31, cb = { 20, 1, 20, 24, 1377146357 } },
  message = [[
fuzz:16: cannot agree on where variable 9 lives where control flow joins]],
  shrunk_from = 962, -- characters of source before shrinking (514 tries)
}
