-- fuzz failure: mismatch (mismatch: * + == bit.bxor if lookup loop num skb xadd)
-- seed 44000, program 15806, input 1; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/mismatch-44000-15806.lua
-- returned 1, expected 105
return {
  class = "mismatch", seed = 44000, program = 15806, signature = "mismatch: * + == bit.bxor if lookup loop num skb xadd",
  source = [[
return function(skb)
  local x1 = skb.len
  local x2 = skb.len
  local x3 = skb.len
  local x4 = 1
  if (0 == skb.len) then
  else
    x4 = 0
  end
  local v5 = hash64[0]
  if v5 then
    for _, i20 in ipairs(range((-2), 1, 1)) do
      xadd(arr32[1], 1)
      return x3
    end
  end
  return f_mul(bit.bxor((x1 + skb.len), x2), x4)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = skb.len
  local x2 = skb.len
  local x3 = skb.len
  local x4 = 1LL
  if (0LL == skb.len) then
  else
    x4 = 0LL
  end
  local v5 = O.get(hash64, 0LL)
  if v5 then
    do
      local i20, i20_limit = (-2LL), 1LL
      while i20 <= i20_limit do
        do
          O.xadd(arr32, 1LL, 1LL)
          return x3
        end
        i20 = i20 + 1LL
      end
    end
  end
  return (bit.bxor((x1 + skb.len), x2) * x4)
end
]],
  packet = "f39673e4d6ceb52b677a774c080045de005b792ae6f8670162c031a2de59d99521b303030d5aebb34bfffe44743367eb8c9cf09f7e5f03f2713d0866c33d9f6e403f3ec846653352898c2750800001032c1bb3647fd401672b83b6cdea60817254bd3709185ffd2814", -- 105 bytes
  ctx = { mark = 255, priority = 0, cb = { 3392569199, 2013865569, 3, 4294967294, 2147483648 } },
  expected = 105, got = 1,
  message = [[
returned 1, expected 105]],
  shrunk_from = 2151, -- characters of source before shrinking (500 tries)
}
