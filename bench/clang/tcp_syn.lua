-- 6. 1 for a TCP segment with SYN set and ACK clear, else 0.
return { build = function()
  return function()
    if pkt.ip.proto ~= 6 then return 0 end
    local tcp = pkt.ip.tcp
    if tcp.flag_syn == 1 and tcp.flag_ack == 0 then return 1 end
    return 0
  end
end }
