-- fuzz failure: mapdiff (mapdiff)
-- seed 1000, program 37470, input 1; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mapdiff-1000-37470.lua
-- map hash64 holds { [0]=1, [6]=18446744073709551614, [136]=18446744073709549321, [4294967297]=3, [18446744073709551615]=0 }, expected { [0]=1, [6]=18446744073709551614, [4294967297]=3, [18446744073709551615]=0 }
return {
  class = "mapdiff", seed = 1000, program = 37470, signature = "mapdiff",
  source = [[
local u1 = 255ULL
local u2 = (-140737488355327)
local u3 = (-9)
return function(skb)
  local x4 = (-1000)
  local x5 = u1
  local x6 = ((2147483648 or u2) or ffi.cast('int8_t', 4294967295))
  local x7 = (-14949534952651741644ULL)
  x6 = u3
  if ((x6 == u2) or ((0 == (pkt.ip.tcp.flag_fin < x4)) or (u1 < x5))) then
    hash64[bit.band((x4 and pkt.ip[6]), ((-65) - u3))] = (bit.tobit(u3) * (u1 ^ 1))
    hash64[u1] = nil
  elseif (u3 < (x4 - pkt.ip.udp[60])) then
    arr32[(x4 or 4294967295)] = ffi.cast('uint64_t', (x6 ^ 1))
    local x8 = x5
    x5 = u1
    x5 = x5
  end
  local x9 = (u3 and u1)
  return (x6 - ((false and (((u3 < 484081401129586274ULL) and pkt.ip[15]) or x4)) or bit.lshift(3, 0)))
end
]],
  oracle_source = [[
local u1 = 255ULL
local u2 = (-140737488355327LL)
local u3 = (-9LL)
return function(skb)
  local x4 = (-1000LL)
  local x5 = u1
  local x6 = ((2147483648LL or u2) or O.cast('int8_t', 4294967295LL))
  local x7 = (-14949534952651741644ULL)
  x6 = u3
  if ((x6 == u2) or ((0LL == (P:field('pkt.ip.tcp.flag_fin') < x4)) or (u1 < x5))) then
    O.set(hash64, bit.band((x4 and P:index('ip', 6LL)), ((-65LL) - u3)), (O.tobit(u3) * O.pow(u1, 1)))
    O.del(hash64, u1)
  elseif (u3 < (x4 - P:index('l4', 60LL))) then
    O.set(arr32, (x4 or 4294967295LL), O.cast('uint64_t', O.pow(x6, 1)))
    local x8 = x5
    x5 = u1
    x5 = x5
  end
  local x9 = (u3 and u1)
  return (x6 - ((false and (((u3 < 484081401129586274ULL) and P:index('ip', 15LL)) or x4)) or bit.lshift(3LL, 0LL)))
end
]],
  packet = "e43c1a2c15493e70847026000800455e005a0b4fbebe57068777f12ab4997874334c1f909e916840d737dcf8866e619359812c457268016d2134475d82c16aa843e927c4c669f2dc162ebe63657ff00ec88767ed25bc3567b95e37502349bb235bba65e8e4e3981c", -- 104 bytes
  ctx = { mark = 4294967295, priority = 3, cb = { 4294967294, 17, 255, 65536, 23 } },
  expected = 4294967284, got = 4294967284,
  message = [[
map hash64 holds { [0]=1, [6]=18446744073709551614, [136]=18446744073709549321, [4294967297]=3, [18446744073709551615]=0 }, expected { [0]=1, [6]=18446744073709551614, [4294967297]=3, [18446744073709551615]=0 }]],
  shrunk_from = 707, -- characters of source before shrinking (0 tries)
}
