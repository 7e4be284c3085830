-- 32. A class from skb->protocol (4 IPv4, 6 IPv6, 0x81 802.1Q, 1 other),
-- plus 0x100 when skb->mark is set and 0x200 when skb->priority is above 2.
return { time = 'syn', build = function()
  return function(skb)
    local proto = ntoh(skb.protocol, 2)
    local r
    if proto == c.eth.ip then r = 4
    elseif proto == c.eth.ip6 then r = 6
    elseif proto == c.eth.vlan then r = 0x81
    else r = 1
    end
    if skb.mark ~= 0 then r = r + 0x100 end
    if skb.priority > 2 then r = r + 0x200 end
    return r
  end
end }
