-- fuzz failure: refused (refused: context member of a copied context)
-- seed 2001, program 45538; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/refused-2001-45538.lua
-- fuzz:2: context member of a copied context
return {
  class = "refused", seed = 2001, program = 45538, signature = "refused: context member of a copied context",
  source = [[
return function(skb)
  skb.cb[0] = ((((0 < skb.len) and (0 ~= skb.len)) and skb.cb[2]) or 0)
end
]],
  oracle_source = [[
return function(skb)
  skb.cb[0] = O.u32(((((0LL < skb.len) and (0LL ~= skb.len)) and skb.cb[2]) or 0LL))
end
]],
  packet = "cadad22ddaccebb824bda4ec080045cb005c7586cf9bf4110dc30d97300ec49ce4300dcb4c81004877b5352a3b73114301188a9155ad1710992084735d1a936d38de35f8c50cace97a17994abc5bbaf9ad30cc74403ca6bb74c89c708fbff78069e57e9633848a1a22a7", -- 106 bytes
  ctx = { mark = 2147483647, priority = 31, cb = { 2128868775, 2147483647, 1, 9, 7 } },
  message = [[
fuzz:2: context member of a copied context]],
  shrunk_from = 763, -- characters of source before shrinking (115 tries)
}
