-- 9. Address tests as bits: 1 source in 10/8, 2 destination in 192.168/16,
-- 4 source in 127/8, 8 destination exactly 127.0.0.1.
return { build = function()
  return function()
    local ip = pkt.ip
    local src, dst = ip.src, ip.dst
    local r = 0
    if bit.rshift(src, 24) == 10 then r = r + 1 end
    if bit.rshift(dst, 16) == 0xc0a8 then r = r + 2 end
    if bit.rshift(src, 24) == 127 then r = r + 4 end
    if dst == c.ip.addr_loopback then r = r + 8 end
    return r
  end
end }
