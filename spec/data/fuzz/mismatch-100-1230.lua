-- fuzz failure: mismatch (mismatch: + - ULL bit.band bit.bxor bool cast uint64_t if or pkt field skb)
-- seed 100, program 1230, input 1; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-100-1230.lua
-- returned 73, expected 4294914592
return {
  class = "mismatch", seed = 100, program = 1230, signature = "mismatch: + - ULL bit.band bit.bxor bool cast uint64_t if or pkt field skb",
  source = [[
return function(skb)
  local x1 = skb.len
  local x2 = skb.len
  local x3 = ffi.cast('uint64_t', pkt.ip.udp.crc)
  local x4 = skb.len
  local x5 = pkt.ip6.priority
  local x6 = x4
  local x7 = x3
  if (skb.len or false) then
    x3 = bit.band(0ULL, skb.len)
  end
  x4 = pkt.ip.tlen
  return (bit.bxor(((x1 - x2) + x3), x6) - x7)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = skb.len
  local x2 = skb.len
  local x3 = O.cast('uint64_t', P:field('pkt.ip.udp.crc'))
  local x4 = skb.len
  local x5 = P:field('pkt.ip6.priority')
  local x6 = x4
  local x7 = x3
  if (skb.len or false) then
    x3 = bit.band(0ULL, skb.len)
  end
  x4 = P:field('pkt.ip.tlen')
  return (bit.bxor(((x1 - x2) + x3), x6) - x7)
end
]],
  packet = "e834d454554e4376b31a78d808004566003b931ebbb91a016ca8a680f7b0e5feadaa0b0134dac04fce29778e4b794a2fc617a6d5d08043961c8909cf1a4b5cdedace8ab8117f796b53", -- 73 bytes
  ctx = { mark = 4294967295, priority = 22, cb = { 4294967295, 255, 7, 970623185, 4294967294 } },
  expected = 4294914592, got = 73,
  message = [[
returned 73, expected 4294914592]],
  shrunk_from = 856, -- characters of source before shrinking (434 tries)
}
