-- 5. log2 histogram of skb->len into a 32-slot array map.
return { maps = { { name = 'hist', entries = 32 } }, build = function(hist)
  return function(skb)
    xadd(hist[math.log2(skb.len)], 1)
    return 0
  end
end }
