-- fuzz failure: refused (refused: this value is a number on one path and nil or false on another, so its truth is not known; give it a value of one kind on every path)
-- seed 9300, program 82031; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/refused-9300-82031.lua
-- fuzz:11: this value is a number on one path and nil or false on another, so its truth is not known; give it a value of one kind on every path
return {
  class = "refused", seed = 9300, program = 82031, signature = "refused: this value is a number on one path and nil or false on another, so its truth is not known; give it a value of one kind on every path",
  source = [[
return function(skb)
  local x1 = 1
  local x2 = (x1 % skb.len)
  local x3 = x1
  local v4 = hash64[1]
  if v4 then
  else
    x1 = skb.len
  end
  local x5 = ((0 < x3) and 0)
  return bit.bxor(x1, (x5 or 0))
end
]],
  oracle_source = [[
return function(skb)
  local x1 = 1LL
  local x2 = O.mod(x1, skb.len)
  local x3 = x1
  local v4 = O.get(hash64, 1LL)
  if v4 then
  else
    x1 = skb.len
  end
  local x5 = ((0LL < x3) and 0LL)
  return bit.bxor(x1, (x5 or 0LL))
end
]],
  packet = "0707b7615619de0ea95c7ef8080045d70032a2e81c20801130caa7b96b101ee487db00000000001e066a26f0581291f6ddd259fb0f576d0e469968a5d9c92102", -- 64 bytes
  ctx = { mark = 1, priority = 3, cb = { 2, 0, 17, 17, 4294967294 } },
  message = [[
fuzz:11: this value is a number on one path and nil or false on another, so its truth is not known; give it a value of one kind on every path]],
  shrunk_from = 1673, -- characters of source before shrinking (276 tries)
}
