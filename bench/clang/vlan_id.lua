-- 16. The VLAN id of an 802.1Q frame carrying IPv4, 0x1000 for an untagged
-- IPv4 frame, 0 otherwise.
return { time = 'vlan', build = function()
  return function()
    local etype = pkt.type
    if etype == c.eth.ip then return 0x1000 end
    if etype == c.eth.vlan and pkt(16, 18) == '\8\0' then
      return bit.band(bit.bor(bit.lshift(pkt[14], 8), pkt[15]), 0xfff)
    end
    return 0
  end
end }
