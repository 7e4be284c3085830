-- 10. Bytes of IPv4 options (ihl * 4 - 20), 0 without options or if not IPv4.
return { time = 'opts', build = function()
  return function()
    if pkt.type ~= c.eth.ip then return 0 end
    local hlen = pkt.ip.hlen
    if hlen <= 5 then return 0 end
    return (hlen - 5) * 4
  end
end }
