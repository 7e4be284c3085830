-- 15. A 5-tuple hash of a TCP or UDP packet: addresses, ports and protocol
-- xored, then murmur3's 32-bit finaliser; 0 for other protocols.
local function fmix32(h)
  h = bit.bxor(h, bit.rshift(h, 16))
  h = bit.band(h * 0x85ebca6b, 0xffffffff)
  h = bit.bxor(h, bit.rshift(h, 13))
  h = bit.band(h * 0xc2b2ae35, 0xffffffff)
  return bit.bxor(h, bit.rshift(h, 16))
end

return { time = 'ack', build = function()
  return function()
    local ip = pkt.ip
    local sport, dport
    if ip.proto == c.ip.proto_tcp then
      sport, dport = ip.tcp.src_port, ip.tcp.dst_port
    elseif ip.proto == c.ip.proto_udp then
      sport, dport = ip.udp.src_port, ip.udp.dst_port
    else
      return 0
    end
    return fmix32(bit.bxor(ip.src, ip.dst, bit.lshift(sport, 16) + dport, ip.proto))
  end
end }
