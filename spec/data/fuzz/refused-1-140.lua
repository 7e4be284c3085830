-- fuzz failure: refused (refused: comparison on nil (Lua would raise an error here))
-- seed 1, program 140; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/spec-1/refused-1-140.lua
-- fuzz:2: comparison on nil (Lua would raise an error here)
return {
  class = "refused", seed = 1, program = 140, signature = "refused: comparison on nil (Lua would raise an error here)",
  source = [[
return function(skb)
  if (0 ~= nil) then
  end
end
]],
  oracle_source = [[
return function(skb)
  if (0LL ~= nil) then
  end
end
]],
  packet = "ada8ff974e694c875f685197080045da003c37d761b54b1183426fdb5324cd13fda3ffff1f900028b69e1fa837776ff2385e73d4c11c301950a9a08bacc9c37131e5297503a12cefeb40", -- 74 bytes
  ctx = { mark = 27, priority = 255, cb = { 15, 4199036184, 17, 24, 10 } },
  message = [[
fuzz:2: comparison on nil (Lua would raise an error here)]],
  shrunk_from = 2404, -- characters of source before shrinking (84 tries)
}
