-- 7. The TTL of an IPv4 packet, 0 for any other ethertype.
return { build = function()
  return function()
    if pkt.type ~= c.eth.ip then return 0 end
    return pkt.ip.ttl
  end
end }
