-- 33. XDP: an IPv4 packet's TTL decremented, its header checksum updated
-- (the frame comes back changed); XDP_PASS (2), or XDP_DROP (1) at TTL 1.
return { type = 'xdp', build = function()
  return function()
    if pkt.type ~= c.eth.ip then return 2 end
    local ip = pkt.ip
    if ip.ttl <= 1 then return 1 end
    ip.ttl = ip.ttl - 1
    return 2
  end
end }
