-- The rockspec (what `make install` and luarocks build) names every C file
-- of the core and every Lua module, so that an installed module is whole.
local function listing(pattern)
  local list = {}
  local p = assert(io.popen('ls ' .. pattern))
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

describe('the rockspec', function()
  local spec = {}
  setfenv(assert(loadfile('rockspec/luajit-bpf-scm-1.rockspec')), spec)()
  local modules = spec.build.modules

  it('builds every C file of the core', function()
    local listed = {}
    for _, src in ipairs(modules['bpf.core'].sources) do listed[src] = true end
    for _, c in ipairs(listing('csrc/*.c')) do assert.is_true(listed[c], c .. ' is not in the rockspec') end
    for src in pairs(listed) do assert.is_truthy(io.open(src), src .. ' does not exist') end
  end)

  it('installs every Lua module', function()
    for _, path in ipairs(listing('lua/bpf/*.lua')) do
      local name = path:match('lua/bpf/(.*)%.lua$')
      local mod = name == 'init' and 'bpf' or 'bpf.' .. name
      assert.equals(path, modules[mod], mod .. ' is not in the rockspec')
    end
  end)
end)
