-- 8. IPv4 payload length: tot_len less the header (ihl * 4), 0 if not IPv4.
return { build = function()
  return function()
    if pkt.type ~= c.eth.ip then return 0 end
    local ip = pkt.ip
    return ip.tlen - ip.hlen * 4
  end
end }
