-- 12. Count each TCP flag set (bit i of the flags byte, FIN = 0 ... CWR = 7)
-- into an 8-slot array map; returns how many flags were set.
return { time = 'ack', maps = { { name = 'flags', entries = 8 } }, build = function(flags)
  return function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_tcp then return 0 end
    local byte = ip.tcp[13]
    local n = 0
    for i = 0, 7 do
      if bit.band(byte, bit.lshift(1, i)) ~= 0 then
        xadd(flags[i], 1)
        n = n + 1
      end
    end
    return n
  end
end }
