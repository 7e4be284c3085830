-- 14. ICMP: 1 for an echo request, 2 for an echo reply, 3 for any other
-- type (code 0) and 4 (code not 0); 0 if not ICMP.
return { time = 'icmp', build = function()
  return function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_icmp then return 0 end
    local icmp = ip.icmp
    if icmp.code ~= 0 then return 4 end
    if icmp.type == 8 then return 1 elseif icmp.type == 0 then return 2 end
    return 3
  end
end }
