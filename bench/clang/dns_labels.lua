-- 17. The number of labels in a DNS query's name (a walk of at most 16
-- labels, a constant bound), 0 if not UDP to port 53 or longer than that.
return { time = 'opts', build = function()
  return function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_udp or ip.udp.dst_port ~= 53 then return 0 end
    local name = ip.udp.data + 12 -- past the DNS header
    for n = 0, 15 do
      local len = name[0]
      if len == 0 then return n end
      name = name + len + 1
    end
    return 0
  end
end }
