-- 11. The lower of a TCP segment's two ports (the server's, usually), 0 if not TCP.
return { time = 'ack', build = function()
  return function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_tcp then return 0 end
    local tcp = ip.tcp
    local s, d = tcp.src_port, tcp.dst_port
    if s < d then return s end
    return d
  end
end }
