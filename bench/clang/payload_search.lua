-- 29. Bounded search: 1 + the offset of the first space in the first 32
-- bytes of a TCP or UDP payload; 0 if there is none there (or the payload ends first).
return { time = 'ack', build = function()
  return function()
    local ip = pkt.ip
    local data
    if ip.proto == c.ip.proto_tcp then
      data = ip.tcp.data
    elseif ip.proto == c.ip.proto_udp then
      data = ip.udp.data
    else
      return 0
    end
    for i = 0, 31 do
      if data[i] == 32 then return i + 1 end
    end
    return 0
  end
end }
