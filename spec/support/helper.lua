-- busted's helper (see .busted): runs once, before the first spec.
require('spec.support.netns').enter()

-- busted (busted/luajit.lua) wraps ffi.typeof in a cache keyed by its first
-- argument alone, so that ffi.typeof('$ *', a) and later ffi.typeof('$ *', b)
-- give the same type (the module makes pointer types that way: bpf.btf,
-- the ring buffer reader).  The specs run with LuaJIT's own ffi.typeof.
do
  local ffi = require('ffi')
  for i = 1, 8 do
    local name, original = debug.getupvalue(ffi.typeof, i)
    if not name then break end
    if name == 'original' then
      ffi.typeof = original
      break
    end
  end
end
