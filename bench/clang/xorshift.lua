-- 23. Eight rounds of xorshift32 seeded from skb->len, mark and priority.
local M32 = 0xffffffff

return { time = 'syn', build = function()
  return function(skb)
    local x = bit.band(bit.bxor(skb.len, bit.lshift(skb.mark, 8), skb.priority), M32)
    if x == 0 then x = 1 end
    for _ = 1, 8 do
      x = bit.band(bit.bxor(x, bit.lshift(x, 13)), M32)
      x = bit.bxor(x, bit.rshift(x, 17))
      x = bit.band(bit.bxor(x, bit.lshift(x, 5)), M32)
    end
    return x
  end
end }
