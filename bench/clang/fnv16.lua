-- 3. 32-bit FNV-1a over the first 16 bytes of the frame (all our inputs
-- have at least 16; only the low 32 bits matter: the return value is u32).
return { build = function()
  return function()
    local h = 2166136261
    for i = 0, 15 do
      h = bit.band(bit.bxor(h, pkt[i]) * 16777619, 0xffffffff)
    end
    return h
  end
end }
