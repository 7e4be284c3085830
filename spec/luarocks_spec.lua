-- The module as luarocks installs it, against the kernel: `luarocks make`
-- into a temporary tree, `luarocks pack` of what it installed and
-- `luarocks install` of that rock into a second tree; then a script that
-- sees only the second tree (not this checkout) compiles a socket filter,
-- loads it, attaches it to lo, counts datagrams it sends, reads the map and
-- detaches; and bin/bpf-lua, from that tree, compiles and disassembles.

local interpreter = require('spec.support.kernel').interpreter

-- Runs a shell command: everything it printed, and whether it succeeded.
local function sh(cmd)
  local p = assert(io.popen('(' .. cmd .. ') 2>&1; echo "exit status $?"'))
  local out = p:read('*a')
  p:close()
  local status = tonumber(out:match('exit status (%d+)%s*$'))
  return out:gsub('exit status %d+%s*$', ''), status == 0
end

local function tmpdir()
  local out, ok = sh('mktemp -d')
  assert(ok, out)
  return (out:gsub('%s+$', ''))
end

local function exists(path)
  local f = io.open(path, 'rb')
  if f then f:close() end
  return f ~= nil
end

local script = [[
local ffi = require('ffi')
local bpf = require('bpf')
print('bpf from ' .. package.searchpath('bpf', package.path))
print('core from ' .. package.searchpath('bpf.core', package.cpath))
local PORT = 47011
local counts = assert(bpf.map('array', 1))
local prog = assert(bpf(function(skb)
  if skb.pkt_type ~= 0 then return 0 end -- the copy coming in, not the one going out
  if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == PORT then xadd(counts[0], 1) end
  return 0
end))
local link = assert(bpf.socket('lo', prog))
ffi.cdef [[
int socket(int domain, int type, int protocol);
long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen);
int close(int fd);
int poll(void *fds, unsigned long n, int timeout);
]] .. ']]' .. [[

local addr = ffi.new('struct { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; }',
  2, bit.rshift(bit.bswap(PORT), 16), 0x0100007f)
local fd = ffi.C.socket(2, 2, 0)
for _ = 1, 3 do assert(ffi.C.sendto(fd, 'hi', 2, 0, addr, ffi.sizeof(addr)) == 2) end
ffi.C.close(fd)
for _ = 1, 100 do
  if counts[0] >= 3 then break end
  ffi.C.poll(nil, 0, 10)
end
print('counted ' .. counts[0])
link:close()
print(tostring(link))
]]

describe('luarocks against the kernel', function()
  it('installs the module with luarocks make, and again from the rock luarocks pack makes of it', function()
    local made, installed, packs = tmpdir(), tmpdir(), tmpdir()
    local out, ok = sh(('luarocks make --tree %s rockspec/luajit-bpf-scm-1.rockspec'):format(made))
    assert.is_true(ok, 'luarocks make failed:\n' .. out)
    assert.is_true(exists(made .. '/lib/lua/5.1/bpf/core.so'), out)
    local p = assert(io.popen('ls lua/bpf'))
    for file in p:lines() do
      assert.is_true(exists(made .. '/share/lua/5.1/bpf/' .. file), file .. ' was not installed')
    end
    p:close()

    out, ok = sh(('cd %s && luarocks pack luajit-bpf --tree %s'):format(packs, made))
    assert.is_true(ok, 'luarocks pack failed:\n' .. out)
    local rock = out:match('Packed: (%S+%.rock)')
    assert.is_truthy(rock, out)
    out, ok = sh(('luarocks install --tree %s %s'):format(installed, rock))
    assert.is_true(ok, 'luarocks install of the packed rock failed:\n' .. out)

    local file = packs .. '/script.lua'
    local f = assert(io.open(file, 'w'))
    f:write(script)
    f:close()
    -- only the installed tree on the paths, and a working directory without the module
    -- (and where this interpreter finds its own jit.* modules: a LuaJIT built
    -- here has them beside its binary, off the default path)
    local jit_root = assert(package.searchpath('jit.vmdef', package.path)):match('^(.*)/jit/vmdef%.lua$')
    local paths = ("LUA_PATH='%s/share/lua/5.1/?.lua;%s/share/lua/5.1/?/init.lua;%s/?.lua;;' "
      .. "LUA_CPATH='%s/lib/lua/5.1/?.so;;'"):format(installed, installed, jit_root, installed)
    out, ok = sh(("cd / && %s '%s' %s"):format(paths, interpreter(), file))
    assert.is_true(ok, 'the script on the installed module failed:\n' .. out)
    assert.equals(('bpf from %s/share/lua/5.1/bpf/init.lua\ncore from %s/lib/lua/5.1/bpf/core.so\n'
      .. 'counted 3\nbpf link: socket lo (socket_filter program, fd -1), closed\n')
      :format(installed, installed), out)

    -- bin/bpf-lua, as luarocks wrapped it (for its configured Lua, which
    -- hands over to LuaJIT): it compiles a program file and lists the object
    local wrapper = installed .. '/bin/bpf-lua'
    assert.is_true(exists(wrapper), 'bin/bpf-lua was not installed')
    f = assert(io.open(packs .. '/progs.lua', 'w'))
    f:write("return { pass = { section = 'xdp', fn = function() return 2 end } }\n")
    f:close()
    out, ok = sh(("cd %s && %s LUAJIT='%s' %s compile progs.lua -o progs.o && LUAJIT='%s' %s disasm progs.o")
      :format(packs, paths, interpreter(), wrapper, interpreter(), wrapper))
    assert.is_true(ok, 'bpf-lua from the installed rock failed:\n' .. out)
    assert.matches('progs%.o: 1 program: pass %(xdp, 2 insns%)', out)
    assert.matches('\npass:\n// progs%.lua:1[^\n]*\n   0:\tr0 = 2\n   1:\texit', out)
    sh(('rm -rf %s %s %s'):format(made, installed, packs))
  end)
end)
