-- fuzz failure: mismatch (mismatch: + bit.band bit.bxor bit.tobit lookup loop mset num skb)
-- seed 3, program 6819, input 1; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/mismatch-3-6819.lua
-- returned 200, expected 172
return {
  class = "mismatch", seed = 3, program = 6819, signature = "mismatch: + bit.band bit.bxor bit.tobit lookup loop mset num skb",
  source = [[
return function(skb)
  local x1 = skb.len
  local x2 = skb.len
  local x3 = skb.len
  local x4 = skb.len
  local v5 = hash64[skb.len]
  if v5 then
  end
  for i16 = bit.band(bit.tobit(x4), 15), (-1), -1 do
    local i17, n18 = 0, 2
    while i17 < n18 do
      do
        x4 = 0
      end
      i17 = i17 + 1
    end
  end
  hash64[0] = skb.len
  return bit.bxor(bit.bxor((x1 + x2), x3), x4)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = skb.len
  local x2 = skb.len
  local x3 = skb.len
  local x4 = skb.len
  local v5 = O.get(hash64, skb.len)
  if v5 then
  end
  do
    local i16, i16_limit = bit.band(O.tobit(x4), 15LL), (-1LL)
    while i16 >= i16_limit do
      do
        local i17, n18 = 0LL, 2LL
        while i17 < n18 do
          do
            x4 = 0LL
          end
          i17 = i17 + 1LL
        end
      end
      i16 = i16 + -1LL
    end
  end
  O.set(hash64, 0LL, skb.len)
  return bit.bxor(bit.bxor((x1 + x2), x3), x4)
end
]],
  packet = "069ef08a5dce9e11dc84c35686dd631757d8002e1162374095c7c025e8c20874a34656afd2fc0085f2c62b074f0d135dcb6012aee63927540000002e64c9bc7f885b6d7149ed81db4b37e88d6b0b9a29a4725ad9d312789c3d52464e95508998a5e4d270", -- 100 bytes
  ctx = { mark = 9, priority = 2, cb = { 7, 4294967294, 1, 1, 65536 } },
  expected = 172, got = 200,
  message = [[
returned 200, expected 172]],
  shrunk_from = 1740, -- characters of source before shrinking (170 tries)
}
