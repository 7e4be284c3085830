-- 26. log2 histogram of the IPv4 tot_len field into a 16-slot array map
-- (IPv4 frames only); returns the slot.
return { maps = { { name = 'hist', entries = 16 } }, build = function(hist)
  return function()
    if pkt.type ~= c.eth.ip then return 0 end
    local slot = math.log2(pkt.ip.tlen)
    xadd(hist[slot], 1)
    return slot
  end
end }
