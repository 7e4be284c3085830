-- 21. Bytes (skb->len) per IP protocol number in a 256-slot array map of
-- 64-bit counters, IPv4 frames only; returns the protocol.
return { maps = { { name = 'bytes', entries = 256, value = 'uint64_t' } }, build = function(bytes)
  return function(skb)
    if pkt.type ~= c.eth.ip then return 0 end
    local proto = pkt.ip.proto
    xadd(bytes[proto], skb.len)
    return proto
  end
end }
