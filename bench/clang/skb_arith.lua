-- 30. Arithmetic on skb fields: (len * 3 + mark) % 1021, priority << 16,
-- ifindex * 7 and the ethertype in skb->protocol (network order there), summed.
return { time = 'syn', build = function()
  return function(skb)
    return (skb.len * 3 + skb.mark) % 1021 + bit.lshift(skb.priority, 16) + skb.ifindex * 7 +
      ntoh(skb.protocol, 2)
  end
end }
