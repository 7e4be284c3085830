-- 24. CRC-32 (reflected, polynomial 0xedb88320) of the IPv4 addresses,
-- bit by bit: two nested loops of constant bounds (8 bytes, 8 bits).
return { build = function()
  return function()
    local ip = pkt.ip
    local crc = 0xffffffff
    for i = 12, 19 do -- saddr and daddr
      crc = bit.bxor(crc, ip[i])
      for _ = 1, 8 do
        if bit.band(crc, 1) ~= 0 then
          crc = bit.bxor(bit.rshift(crc, 1), 0xedb88320)
        else
          crc = bit.rshift(crc, 1)
        end
      end
    end
    return bit.bxor(crc, 0xffffffff)
  end
end }
