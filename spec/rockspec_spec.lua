-- The rockspec (what `make install` and luarocks build) leaves the list of
-- sources to the Makefile, whose install-rock target must install the core
-- and every Lua module; spec/luarocks_spec.lua runs luarocks itself.
local function listing(cmd)
  local list = {}
  local p = assert(io.popen(cmd))
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

describe('the rockspec', function()
  local spec = {}
  setfenv(assert(loadfile('rockspec/luajit-bpf-scm-1.rockspec')), spec)()

  it('builds with the Makefile and installs through its install-rock target', function()
    assert.equals('make', spec.build.type)
    assert.equals('install-rock', spec.build.install_target)
    assert.same({ LUADIR = '$(LUADIR)', LIBDIR = '$(LIBDIR)' }, spec.build.install_variables)
  end)

  it('installs the core and every Lua module (make install-rock)', function()
    local dir = listing('mktemp -d')[1]
    local out = listing(('make -s install-rock LIBDIR=%s/lib LUADIR=%s/share 2>&1; echo "exit $?"')
      :format(dir, dir))
    assert.equals('exit 0', out[#out], table.concat(out, '\n'))
    local installed = {}
    for _, path in ipairs(listing(('cd %s && find . -type f'):format(dir))) do installed[path] = true end
    assert.is_true(installed['./lib/bpf/core.so'], 'core.so was not installed')
    local n = 0
    for _, file in ipairs(listing('ls lua/bpf')) do
      assert.is_true(installed['./share/bpf/' .. file], file .. ' was not installed')
      n = n + 1
    end
    local all = 0
    for _ in pairs(installed) do all = all + 1 end
    assert.equals(n + 1, all) -- nothing else
    os.execute('rm -rf ' .. dir)
  end)

  it('installs every command in bin/ (luarocks itself, from build.install.bin)', function()
    local bin = spec.build.install and spec.build.install.bin or {}
    local listed = {}
    for name, file in pairs(bin) do
      assert.equals('bin/' .. name, file)
      listed[file] = true
    end
    local n = 0
    for _, file in ipairs(listing('ls bin')) do
      assert.is_true(listed['bin/' .. file], 'bin/' .. file .. ' is not in build.install.bin')
      n = n + 1
    end
    assert.is_true(listed['bin/bpf-lua'])
    local count = 0
    for _ in pairs(listed) do count = count + 1 end
    assert.equals(n, count)
  end)

  it('refuses to install without the tree luarocks gives it', function()
    local out = listing('make -s install-rock 2>&1; echo "exit $?"')
    assert.matches('LIBDIR and LUADIR are luarocks', table.concat(out, '\n'))
    assert.are_not.equals('exit 0', out[#out])
  end)
end)
