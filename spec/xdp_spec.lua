-- XDP programs that move packets: redirect_map through a devmap, a cpumap
-- and an xskmap (an AF_XDP socket, spec/support/xsk.lua), on veth pairs in
-- the run's own network namespace (spec/support/veth.lua).
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')
local veth = require('spec.support.veth')
local xsk = require('spec.support.xsk')
local lo = require('examples.lib.loopback')

local XDP_ABORTED, XDP_PASS, XDP_REDIRECT = 0, 2, 4
local frame = pk.frames.udp53 -- 71 bytes: Ethernet, IPv4 (proto 17 at 23), UDP 4000 -> 53 at 34

local function test_run(prog, data, t)
  local h = assert(prog:load(t or 'xdp'))
  local r = assert(loader.test_run(h, data))
  h:close()
  return r.retval, r.data_out
end

-- Polls until map[k] reaches want (packets go through NAPI and cpumap's
-- kthread on their own time), at most about 3 s.
local function wait_for(map, k, want)
  for _ = 1, 60 do
    if (map[k] or 0) >= want then break end
    lo.sleep(0.05)
  end
  lo.sleep(0.05) -- (and none more after them)
  return map[k]
end

local port = 9990
local probe = pk.eth_ip(17, pk.udp(4000, port, 'redirected'))

describe('redirect_map', function()
  it('through a devmap: frames arriving at one veth leave by another, counted at its far end', function()
    veth.pair('xda', 'xdb')
    veth.pair('xdc', 'xdd') -- out of xdc, into xdd
    local devs = assert(bpf.map('devmap', 4))
    devs[1] = veth.index('xdc')
    assert.equals(veth.index('xdc'), devs[1])
    local m = assert(bpf.map('array', 4))
    local rx = assert(bpf.xdp('xdd', function()
      if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == port then xadd(m[1], 1) end
      return XDP_PASS
    end))
    local fwd = assert(bpf.xdp('xdb', function()
      if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == port then
        xadd(m[0], 1)
        return redirect_map(devs, 1)
      end
      return XDP_PASS
    end))
    veth.send('xda', probe, 5)
    local arrived = wait_for(m, 1, 5)
    fwd:close()
    rx:close()
    veth.delete('xda')
    veth.delete('xdc')
    assert.equals(5, m[0]) -- seen arriving at xdb ...
    assert.equals(5, arrived) -- ... and at xdd, out of xdc
  end)

  it('returns XDP_REDIRECT for a devmap slot that holds an interface, the fallback for an empty one',
    function()
      local devs = assert(bpf.map('devmap_hash', 4))
      devs[7] = 1 -- lo
      local prog = assert(bpf(function() return redirect_map(devs, 7) * 10 + redirect_map(devs, 8, 2) end,
        { type = 'xdp' }))
      assert.equals(XDP_REDIRECT * 10 + XDP_PASS, (test_run(prog, frame)))
    end)

  it('through a cpumap: frames redirected to CPU 0 still reach the stack (tc ingress counts them)',
    function()
      veth.pair('xca', 'xcb')
      local cpus = assert(bpf.map('cpumap'))
      assert.is_true(cpus.max_entries >= 1)
      cpus[0] = 64 -- a queue of 64 frames for CPU 0
      assert.equals(64, cpus[0])
      local m = assert(bpf.map('array', 4))
      local tc = assert(bpf.tc('xcb', function()
        if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == port then xadd(m[1], 1) end
        return 0
      end))
      local fwd = assert(bpf.xdp('xcb', function()
        if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == port then
          xadd(m[0], 1)
          return redirect_map(cpus, 0)
        end
        return XDP_PASS
      end))
      veth.send('xca', probe, 5)
      local arrived = wait_for(m, 1, 5)
      fwd:close()
      tc:close()
      veth.delete('xca')
      assert.equals(5, m[0])
      assert.equals(5, arrived)
    end)

  it('through an xskmap: frames arriving at a veth go to the AF_XDP socket in the slot', function()
    local ifindex = select(2, veth.pair('xsa', 'xsb'))
    local sock = xsk.open(ifindex, 0) -- bound to xsb's queue 0, where the frames arrive
    local xsks = assert(bpf.map('xskmap', 4))
    xsks[0] = sock.fd
    local m = assert(bpf.map('array', 4))
    local fwd = assert(bpf.xdp('xsb', function()
      if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == port then
        local r = redirect_map(xsks, 0)
        if r == XDP_REDIRECT then xadd(m[0], 1) end
        return r
      end
      return XDP_PASS
    end))
    veth.send('xsa', probe, 5)
    for _ = 1, 60 do
      if sock:received() >= 5 then break end
      lo.sleep(0.05)
    end
    local received = sock:received()
    fwd:close()
    sock:close()
    veth.delete('xsa')
    assert.equals(5, m[0])
    assert.equals(5, received)
  end)

  it('on an empty xskmap returns the action its flags name', function()
    local xsks = assert(bpf.map('xskmap', 4))
    local prog = assert(bpf(function() return redirect_map(xsks, 0, XDP_PASS) end, { type = 'xdp' }))
    assert.equals(XDP_PASS, (test_run(prog, frame)))
    prog = assert(bpf(function() return redirect_map(xsks, 3) end, { type = 'xdp' }))
    assert.equals(XDP_ABORTED, (test_run(prog, frame)))
  end)

  it('needs a map first, and is a compile error outside XDP', function()
    local prog, err = bpf(function() return redirect_map(1, 0) end, { type = 'xdp' })
    assert.is_nil(prog)
    assert.matches('redirect_map%(map, key%[, flags%]%) needs a devmap, cpumap or xskmap first', err)
    local devs = assert(bpf.map('devmap', 1))
    prog, err = bpf(function() return redirect_map(devs, 0) end, { type = 'sched_cls' })
    assert.is_nil(prog)
    assert.matches('redirect_map%(%) cannot be called from a sched_cls program', err)
  end)
end)
