-- 2. Count TCP (0), UDP (1) and anything else (2) into an array map.
return { maps = { { name = 'counts', entries = 3 } }, build = function(counts)
  return function()
    local proto = pkt.ip.proto -- past the end (too short): returns 0 at once
    local k = 2
    if proto == 6 then k = 0 elseif proto == 17 then k = 1 end
    xadd(counts[k], 1)
    return 0
  end
end }
