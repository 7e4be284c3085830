-- 25. Linear histogram of skb->len: 64-byte buckets, the 16th for 960 and
-- above, into a 16-slot array map; returns the bucket.
return { maps = { { name = 'hist', entries = 16 } }, build = function(hist)
  return function(skb)
    local b = skb.len / 64
    if b > 15 then b = 15 end
    xadd(hist[b], 1)
    return b
  end
end }
