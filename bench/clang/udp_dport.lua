-- 1. The UDP destination port (0 if not UDP or too short).
return { build = function()
  return function()
    if pkt.ip.proto ~= 17 then return 0 end
    return pkt.ip.udp.dst_port
  end
end }
