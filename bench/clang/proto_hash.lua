-- 19. Packets per IP protocol in a hash map (64-bit counts), the first of
-- a protocol inserted; returns the protocol.
return { maps = { { name = 'counts', type = 'hash', entries = 64, value = 'uint64_t' } },
  build = function(counts)
    return function()
      local proto = pkt.ip.proto
      local v = counts[proto]
      if v then
        xadd(v, 1)
      else
        counts[proto] = 1
      end
      return proto
    end
  end }
