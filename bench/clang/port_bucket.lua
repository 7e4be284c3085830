-- 18. Per destination-port bucket (port >> 12: 16 buckets) of TCP and UDP:
-- packets in one array map, bytes (skb->len, 64-bit) in another.
return { maps = { { name = 'packets', entries = 16 }, { name = 'bytes', entries = 16, value = 'uint64_t' } },
  build = function(packets, bytes)
    return function(skb)
      local ip = pkt.ip
      local port
      if ip.proto == c.ip.proto_tcp then
        port = ip.tcp.dst_port
      elseif ip.proto == c.ip.proto_udp then
        port = ip.udp.dst_port
      else
        return 0
      end
      local b = bit.rshift(port, 12)
      xadd(packets[b], 1)
      xadd(bytes[b], skb.len)
      return b
    end
  end }
