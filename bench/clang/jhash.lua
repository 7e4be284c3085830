-- 22. jhash_3words (the kernel's lookup3 final mix) of an IPv4 packet's
-- source, destination and protocol, initval 0.
local M32 = 0xffffffff
local function rol32(x, k) return bit.band(bit.bor(bit.lshift(x, k), bit.rshift(x, 32 - k)), M32) end

local function jhash_3words(a, b, c)
  local iv = 0xdeadbeef + 12 -- JHASH_INITVAL + (3 << 2)
  a, b, c = bit.band(a + iv, M32), bit.band(b + iv, M32), bit.band(c + iv, M32)
  c = bit.band(bit.bxor(c, b) - rol32(b, 14), M32)
  a = bit.band(bit.bxor(a, c) - rol32(c, 11), M32)
  b = bit.band(bit.bxor(b, a) - rol32(a, 25), M32)
  c = bit.band(bit.bxor(c, b) - rol32(b, 16), M32)
  a = bit.band(bit.bxor(a, c) - rol32(c, 4), M32)
  b = bit.band(bit.bxor(b, a) - rol32(a, 14), M32)
  return bit.band(bit.bxor(c, b) - rol32(b, 24), M32)
end

return { build = function()
  return function()
    local ip = pkt.ip
    return jhash_3words(ip.src, ip.dst, ip.proto)
  end
end }
