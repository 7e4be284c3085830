-- fuzz failure: mismatch (mismatch)
-- seed 100, program 14433, input 2; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mismatch-100-14433.lua
-- returned 2102743660, expected 0
return {
  class = "mismatch", seed = 100, program = 14433, signature = "mismatch",
  source = [[
local u1 = 5
return function(skb)
  local x2 = ffi.cast('uint64_t', u1)
  local x3 = u1
  local x4 = 3
  local x5 = x4
  local x6 = (u1 - (-31))
  local x7 = (pkt.ip6.priority ^ 3)
  local x8 = 64
  local x9 = 2608862191073713740LL
  local x10 = (x9 + (-9223372036854775807ULL))
  local x11 = x4
  local x12 = 6002430444512781971LL
  if (-2147483648LL) then
    local x13 = x10
    x10 = (x9 / x13)
    x2 = 18446744073709551615ULL
  elseif ffi.cast('int64_t', 17ULL) then
    x10 = (((ffi.cast('uint64_t', x7) ^ 4) % (pkt.ip.tcp[0] - x12)) + pkt.ip6.hop_limit)
    x11 = (pkt.ip6.udp[6] / 2147483648)
  elseif x8 then
    if (x2 / (x9 - 23)) then
      local x14 = (x11 % x5)
      x6 = (x11 - 8)
    elseif ((2 - x3) % (33 - x7)) then
      local x15 = x6
    elseif ((x4 + x6) + (x5 - x9)) then
      x2 = ((x2 - x4) - (x10 + 6075537926454936386ULL))
      x3 = x3
    end
    x6 = 4294967296LL
    x5 = x12
  else
    xadd(arr32[(-(x4 ^ 0))], x12)
    x8 = (x5 ^ 32)
    local v16 = arr64[5]
    if not v16 then
    else
      xadd(arr64[(v16[0] ^ 0)], 1)
    end
  end
  x7 = ffi.cast('int64_t', ffi.cast('uint64_t', u1))
  local x17 = x11
  return ((((((((((((u1 - x2) + x3) * x4) * x5) + x6) + x7) + x8) * x9) + x10) + x11) * x12) + x17)
end
]],
  oracle_source = [[
local u1 = 5LL
return function(skb)
  local x2 = O.cast('uint64_t', u1)
  local x3 = u1
  local x4 = 3LL
  local x5 = x4
  local x6 = (u1 - (-31LL))
  local x7 = O.pow(P:field('pkt.ip6.priority'), 3)
  local x8 = 64LL
  local x9 = 2608862191073713740LL
  local x10 = (x9 + (-9223372036854775807ULL))
  local x11 = x4
  local x12 = 6002430444512781971LL
  if (-2147483648LL) then
    local x13 = x10
    x10 = O.div(x9, x13)
    x2 = 18446744073709551615ULL
  elseif O.cast('int64_t', 17ULL) then
    x10 = (O.mod(O.pow(O.cast('uint64_t', x7), 4), (P:index('tcp', 0LL) - x12)) + P:field('pkt.ip6.hop_limit'))
    x11 = O.div(P:index('ip6l4', 6LL), 2147483648LL)
  elseif x8 then
    if O.div(x2, (x9 - 23LL)) then
      local x14 = O.mod(x11, x5)
      x6 = (x11 - 8LL)
    elseif O.mod((2LL - x3), (33LL - x7)) then
      local x15 = x6
    elseif ((x4 + x6) + (x5 - x9)) then
      x2 = ((x2 - x4) - (x10 + 6075537926454936386ULL))
      x3 = x3
    end
    x6 = 4294967296LL
    x5 = x12
  else
    O.xadd(arr32, (-O.pow(x4, 0)), x12)
    x8 = O.pow(x5, 32)
    local v16 = O.get(arr64, 5LL)
    if not v16 then
    else
      O.xadd(arr64, O.pow(O.rd(v16), 0), 1LL)
    end
  end
  x7 = O.cast('int64_t', O.cast('uint64_t', u1))
  local x17 = x11
  return ((((((((((((u1 - x2) + x3) * x4) * x5) + x6) + x7) + x8) * x9) + x10) + x11) * x12) + x17)
end
]],
  packet = "6fe0e8a58516f51d2880bbb471c3c4a74e", -- 17 bytes
  ctx = { mark = 2147483647, priority = 2147483647, cb = { 4294967295, 867923734, 255, 0, 2168836285 } },
  expected = 0, got = 2102743660,
  message = [[
returned 2102743660, expected 0]],
  shrunk_from = 1249, -- characters of source before shrinking (0 tries)
}
