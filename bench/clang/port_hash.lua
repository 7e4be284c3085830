-- 20. Bytes (skb->len) per UDP destination port in a hash map keyed by
-- port; returns the port, 0 if not UDP.
return { maps = { { name = 'bytes', type = 'hash', entries = 256, value = 'uint64_t' } },
  build = function(bytes)
    return function(skb)
      local ip = pkt.ip
      if ip.proto ~= c.ip.proto_udp then return 0 end
      local port = ip.udp.dst_port
      local v = bytes[port]
      if v then
        xadd(v, skb.len)
      else
        bytes[port] = skb.len
      end
      return port
    end
  end }
