-- fuzz failure: mismatch (mismatch: / bit.bxor loop num pkt field skb ~=)
-- seed 3, program 1357, input 1; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/mismatch-3-1357.lua
-- returned 56, expected 1
return {
  class = "mismatch", seed = 3, program = 1357, signature = "mismatch: / bit.bxor loop num pkt field skb ~=",
  source = [[
return function(skb)
  local x1 = pkt.ip.tcp.flag_syn
  local x2 = skb.len
  local x3 = skb.len
  local x4 = skb.len
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = skb.len
  local i18, n19 = 1, 9
  repeat
    do
      local x9 = (skb.len ~= x2)
      local i21, n22 = 3, 5
      while i21 < n22 do
        do
          x2 = 0
        end
        i21 = i21 + 1
      end
      local x10 = (0 / skb.len)
    end
    i18 = i18 + 1
  until i18 >= n19
  return bit.bxor(bit.bxor(bit.bxor(bit.bxor(bit.bxor(bit.bxor(bit.bxor(x1, x2), x3), x4), x5), x6), x7), x8)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = P:field('pkt.ip.tcp.flag_syn')
  local x2 = skb.len
  local x3 = skb.len
  local x4 = skb.len
  local x5 = skb.len
  local x6 = skb.len
  local x7 = skb.len
  local x8 = skb.len
  local i18, n19 = 1LL, 9LL
  repeat
    do
      local x9 = (skb.len ~= x2)
      local i21, n22 = 3LL, 5LL
      while i21 < n22 do
        do
          x2 = 0LL
        end
        i21 = i21 + 1LL
      end
      local x10 = O.div(0LL, skb.len)
    end
    i18 = i18 + 1LL
  until i18 >= n19
  return bit.bxor(bit.bxor(bit.bxor(bit.bxor(bit.bxor(bit.bxor(bit.bxor(x1, x2), x3), x4), x5), x6), x7), x8)
end
]],
  packet = "5d3a1e614ca0a52d3781a08c080045c2002b934c150ec61191a5171f111990bf519101bb00010017ffcbacc4c3e7073fd7cdb21eb552410372", -- 57 bytes
  ctx = { mark = 25, priority = 2147483647, cb = { 1, 2, 17, 3, 2147483648 } },
  expected = 1, got = 56,
  message = [[
returned 56, expected 1]],
  shrunk_from = 1960, -- characters of source before shrinking (370 tries)
}
