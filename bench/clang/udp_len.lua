-- 13. A UDP datagram's payload length from its header, when that fits in
-- the IPv4 payload (tot_len - ihl * 4); 0xffff when it does not, 0 if not UDP.
return { build = function()
  return function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_udp then return 0 end
    local len = ip.udp.length
    if len < 8 or len > ip.tlen - ip.hlen * 4 then return 0xffff end
    return len - 8
  end
end }
