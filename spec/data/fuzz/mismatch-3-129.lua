-- fuzz failure: mismatch (mismatch: % * + - / <= == > if num skb)
-- seed 3, program 129, input 1; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/spec-3/mismatch-3-129.lua
-- returned 25789685, expected 25789755
return {
  class = "mismatch", seed = 3, program = 129, signature = "mismatch: % * + - / <= == > if num skb",
  source = [[
return function(skb)
  local x1 = (0 <= 0)
  local x2 = skb.len
  local x3 = (skb.len * skb.len)
  local x4 = x2
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = x6
  local x9 = skb.len
  local x10 = (x3 <= skb.len)
  local x11 = 0
  local x12 = x8
  local x13 = 0
  local x14 = 1
  if (skb.len == (skb.len + skb.len)) then
    if ((x2 % skb.len) + skb.len) then
      local x15 = skb.len
    end
  elseif x10 then
    local x16 = 0
  else
    x8 = (x5 * skb.len)
    if (x2 <= 0) then
      x1 = ((0 / (skb.len - 0)) > 0)
      x12 = 0
    else
      local x17 = 1
      x13 = 1
    end
    local x18 = 0
  end
  local x19 = skb.len
  local x20 = 0
  return (((((((((x2 * x3) + x5) + x6) + x7) + x8) + x9) * x12) - x13) + x20)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = (0LL <= 0LL)
  local x2 = skb.len
  local x3 = (skb.len * skb.len)
  local x4 = x2
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = x6
  local x9 = skb.len
  local x10 = (x3 <= skb.len)
  local x11 = 0LL
  local x12 = x8
  local x13 = 0LL
  local x14 = 1LL
  if (skb.len == (skb.len + skb.len)) then
    if (O.mod(x2, skb.len) + skb.len) then
      local x15 = skb.len
    end
  elseif x10 then
    local x16 = 0LL
  else
    x8 = (x5 * skb.len)
    if (x2 <= 0LL) then
      x1 = (O.div(0LL, (skb.len - 0LL)) > 0LL)
      x12 = 0LL
    else
      local x17 = 1LL
      x13 = 1LL
    end
    local x18 = 0LL
  end
  local x19 = skb.len
  local x20 = 0LL
  return (((((((((x2 * x3) + x5) + x6) + x7) + x8) + x9) * x12) - x13) + x20)
end
]],
  packet = "33dab33bbb52cdff2cff439b080045f800394a38a9e9e9063a47c1b08c26d029fd180050e360962fc6c1f7a51ec2841361ce328112c5e3cfc8f0ac019b367eddbbfe7c0888663a", -- 71 bytes
  ctx = { mark = 22, priority = 18, cb = { 2355975399, 2147483647, 30, 19, 0 } },
  expected = 25789755, got = 25789685,
  message = [[
returned 25789685, expected 25789755]],
  shrunk_from = 2091, -- characters of source before shrinking (250 tries)
}
