-- Pinning (lua/bpf/pin.lua): a program attached by one script keeps
-- counting after that script has exited, and a second script finds it in
-- the BPF filesystem, reads its map and detaches it.  Real datagrams on lo
-- in the run's own network namespace; each script a process of its own.
local bpf = require('bpf')
local run_child = require('spec.support.kernel').run_child

local dir = '/sys/fs/bpf/luajit-bpf-spec'

local function sh(cmd)
  local r = os.execute(cmd)
  return r == 0 or r == true
end

local function send(port, n)
  for _ = 1, n do
    assert(sh(("bash -c 'echo hi > /dev/udp/127.0.0.1/%d'"):format(port)))
  end
end

describe('pinned objects', function()
  local here
  before_each(function()
    here = os.tmpname():gsub('^/tmp/', dir .. '-')
    assert(sh('mkdir -p ' .. here))
  end)
  after_each(function() sh('rm -rf ' .. here) end)

  it('keep an XDP link counting after its script exits, until a second script detaches it', function()
    local out, status = run_child(([[
      local bpf = require('bpf')
      local m = assert(bpf.map('array', 1))
      local link = assert(bpf.xdp('lo', function()
        if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == 9996 then xadd(m[0], 1) end
        return 2 -- XDP_PASS
      end, { mode = 'skb' }))
      assert(link:pin('%s/link'))
      assert(m:pin('%s/count'))
      assert(link.prog:pin('%s/prog'))
      print('pinned')
    ]]):format(here, here, here))
    assert.equals(0, status, out)
    assert.matches('pinned', out)
    send(9996, 3) -- nobody holds the link now but its pin
    local count = assert(bpf.open_pinned(here .. '/count', 'uint32_t', 'uint32_t'))
    assert.equals(3, count[0])
    local prog = assert(bpf.open_pinned(here .. '/prog'))
    assert.equals('program', prog.kind)
    assert.equals('xdp', prog.type)
    local maps = assert(prog:maps('uint32_t', 'uint32_t'))
    assert.equals(1, #maps)
    assert.equals(3, maps[1][0])
    maps[1]:close()
    prog:close()
    out, status = run_child(([[
      local bpf = require('bpf')
      local link = assert(bpf.open_pinned('%s/link'))
      assert(link.kind == 'link', link.kind)
      assert(link:detach())
      print('detached')
    ]]):format(here))
    assert.equals(0, status, out)
    assert.matches('detached', out)
    assert.is_nil(io.open(here .. '/link')) -- the pin went with it
    send(9996, 2)
    assert.equals(3, count[0])
    count:close()
  end)

  it('says which attachments have no link to pin, and where a pin cannot go', function()
    local link = assert(bpf.tc('lo', function() return 0 end, { via = 'clsact' }))
    local ok, err = link:pin(here .. '/tc')
    assert.is_nil(ok)
    assert.matches('this attachment is no BPF link and cannot be pinned', err)
    link:close()
    local h = assert(assert(bpf(function() return 0 end)):load('socket_filter'))
    ok, err = h:pin('/tmp/not-bpffs-' .. os.time())
    assert.is_nil(ok)
    assert.matches('pin to /tmp/not%-bpffs%-%d+', err)
    h:close()
    local none
    none, err = bpf.open_pinned(here .. '/nothing')
    assert.is_nil(none)
    assert.matches('No such file or directory', err)
  end)
end)
