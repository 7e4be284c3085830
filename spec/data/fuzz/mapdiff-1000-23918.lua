-- fuzz failure: mapdiff (mapdiff: == > if mset num pkt field)
-- seed 1000, program 23918, input 2; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/mapdiff-1000-23918.lua
-- map arr64 holds { [0]=0, [1]=1, [2]=18446744073709551615, [3]=9223372036854775808, [4]=4886718345, [5]=42, [6]=9223372036854775807, [7]=5 }, expected { [0]=0, [1]=0, [2]=18446744073709551615, [3]=9223372036854775808, [4]=4886718345, [5]=42, [6]=9223372036854775807, [7]=5 }
return {
  class = "mapdiff", seed = 1000, program = 23918, signature = "mapdiff: == > if mset num pkt field",
  source = [[
return function(skb)
  if ((pkt.ip.tcp.flag_syn > 1) == 0) then
  elseif 1 then
    arr64[1] = 0
  end
end
]],
  oracle_source = [[
return function(skb)
  if ((P:field('pkt.ip.tcp.flag_syn') > 1LL) == 0LL) then
  elseif 1LL then
    O.set(arr64, 1LL, 0LL)
  end
end
]],
  packet = "d7acf19632dac360fb110ad7080046eb003e976adc7b7b11fdd56e779cd7f3146b6680f5a3733386ffff0026c03f9d69c80df324abdcde0e24c2014e89b313eb17798409c4e9bc5ec2a8e128", -- 76 bytes
  ctx = { mark = 19, priority = 2, cb = { 31, 3954502114, 4294967294, 1658165593, 16 } },
  expected = 0, got = 0,
  message = [[
map arr64 holds { [0]=0, [1]=1, [2]=18446744073709551615, [3]=9223372036854775808, [4]=4886718345, [5]=42, [6]=9223372036854775807, [7]=5 }, expected { [0]=0, [1]=0, [2]=18446744073709551615, [3]=9223372036854775808, [4]=4886718345, [5]=42, [6]=9223372036854775807, [7]=5 }]],
  shrunk_from = 2721, -- characters of source before shrinking (149 tries)
}
