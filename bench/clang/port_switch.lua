-- 31. A compare chain: the destination port of TCP or UDP among eight known
-- ones (1 to 8), 9 for any other port, 0 for other protocols.
return { build = function()
  return function()
    local ip = pkt.ip
    local port
    if ip.proto == c.ip.proto_tcp then
      port = ip.tcp.dst_port
    elseif ip.proto == c.ip.proto_udp then
      port = ip.udp.dst_port
    else
      return 0
    end
    if port == 22 then return 1
    elseif port == 25 then return 2
    elseif port == 53 then return 3
    elseif port == 80 then return 4
    elseif port == 123 then return 5
    elseif port == 443 then return 6
    elseif port == 5353 then return 7
    elseif port == 7777 then return 8
    end
    return 9
  end
end }
