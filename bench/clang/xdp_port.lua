-- 34. XDP: UDP to port 53 sent to 5353 instead, the UDP checksum updated
-- (0, none, stays 0; one that comes out 0 is 0xffff); XDP_PASS (2).
return { type = 'xdp', build = function()
  return function()
    local ip = pkt.ip
    if pkt.type == c.eth.ip and ip.proto == c.ip.proto_udp and ip.udp.dst_port == 53 then
      ip.udp.dst_port = 5353
    end
    return 2
  end
end }
