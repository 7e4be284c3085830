-- 4. 1 for a UDP datagram to port 53, else 0.
return { build = function()
  return function()
    if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == 53 then return 1 end
    return 0
  end
end }
