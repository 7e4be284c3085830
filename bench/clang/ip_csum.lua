-- 28. The ones' complement checksum of the 20-byte IPv4 header (0 when
-- its checksum field is right): ten 16-bit words summed in a constant-bound loop.
return { build = function()
  return function()
    local ip = pkt.ip
    local sum = 0
    for i = 0, 18, 2 do
      sum = sum + bit.bor(bit.lshift(ip[i], 8), ip[i + 1])
    end
    sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16)
    sum = sum + bit.rshift(sum, 16)
    return bit.band(bit.bnot(sum), 0xffff)
  end
end }
