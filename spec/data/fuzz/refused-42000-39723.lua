-- fuzz failure: refused (refused: out of BPF stack: # bytes needed, the limit is #)
-- seed 42000, program 39723; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/refused-42000-39723.lua
-- fuzz:4: out of BPF stack: 520 bytes needed, the limit is 512
return {
  class = "refused", seed = 42000, program = 39723, signature = "refused: out of BPF stack: # bytes needed, the limit is #",
  source = [[
return function(skb)
  for _, i14 in ipairs(range((-1), 8, 1)) do
    for _, i16 in ipairs(range(8, 2, -1)) do
      hash32[skb.len] = nil
    end
  end
end
]],
  oracle_source = [[
return function(skb)
  do
    local i14, i14_limit = (-1LL), 8LL
    while i14 <= i14_limit do
      do
        do
          local i16, i16_limit = 8LL, 2LL
          while i16 >= i16_limit do
            do
              O.del(hash32, skb.len)
            end
            i16 = i16 + -1LL
          end
        end
      end
      i14 = i14 + 1LL
    end
  end
end
]],
  packet = "bc7faa5473172ad750f6a94d86dd65d0ecbf001c11d8e6baab7b9a2feb9e18f5151b0d2d4e2e52b41f415da01037c55799bbc82eedeff39aa041001c02a97a608c25c5c299b6d385a0cc19823762625815c6", -- 82 bytes
  ctx = { mark = 1233628030, priority = 7, cb = { 2, 0, 4294967295, 65536, 2147483647 } },
  message = [[
fuzz:4: out of BPF stack: 520 bytes needed, the limit is 512]],
  shrunk_from = 1080, -- characters of source before shrinking (37 tries)
}
