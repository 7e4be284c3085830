-- 35. tc: IPv4 sent to 10.0.0.5 instead of where it was going, the IP
-- checksum and the TCP or UDP one (pseudo-header) updated; returns 0.
return { time = 'ack', build = function()
  return function()
    if pkt.type == c.eth.ip then pkt.ip.dst = 0x0a000005 end
    return 0
  end
end }
