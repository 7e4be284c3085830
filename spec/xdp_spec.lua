-- XDP programs that move packets and change their size: redirect_map
-- through a devmap, a cpumap and an xskmap (an AF_XDP socket,
-- spec/support/xsk.lua); adjust_head and adjust_tail in
-- XDP and skb_adjust_room in tc, each checked by BPF_PROG_TEST_RUN's
-- retval and data_out; after such a call, reads see the new frame and are
-- checked again against its bounds (csrc/packet.c).  The redirects run on
-- veth pairs in the run's own network namespace (spec/support/veth.lua).
local bpf = require('bpf')
local bit = require('bit')
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

local function byte(s, i) return s:byte(i + 1) end

describe('adjust_head and adjust_tail', function()
  it('adjust_head(-4) makes room in front: a byte read at its new offset', function()
    local prog = assert(bpf(function()
      if adjust_head(-4) ~= 0 then return 1 end
      return pkt[4 + 23] -- what was the IPv4 protocol
    end, { type = 'xdp' }))
    local ret, out = test_run(prog, frame)
    assert.equals(17, ret)
    assert.equals(#frame + 4, #out)
    assert.equals(frame, out:sub(5))
  end)

  it('adjust_head(14) strips the Ethernet header: offset 0 is the IP header; a byte read ' ..
    'before is not taken for the same offset after', function()
    local prog = assert(bpf(function()
      local before = pkt[23]
      if adjust_head(14) ~= 0 then return 1 end
      return pkt[0] * 0x10000 + pkt[9] * 0x100 + before + pkt[23] * 0x1000000
    end, { type = 'xdp' }))
    local ret, out = test_run(prog, frame)
    -- 0x45 version and IHL, 17 the protocol, 17 read before, 53 (UDP's dst port) now at 23
    assert.equals(0x35451111, ret)
    assert.equals(#frame - 14, #out)
    assert.equals(frame:sub(15), out)
  end)

  it('checks reads after the call again, and no check before it covers them, on frames cut ' ..
    'at every length', function()
    local prog = assert(bpf(function()
      local t = pkt[20]
      if adjust_head(-4) ~= 0 then return 1 end
      return t + pkt[34] * 256 -- what was at 30: past the end of a frame shorter than 31
    end, { type = 'xdp' }))
    local h = assert(prog:load('xdp'))
    for n = 14, #frame do
      local cut = frame:sub(1, n)
      local r = assert(loader.test_run(h, cut))
      if n < 21 then -- the first read fails: 0 before the call
        assert.equals(0, r.retval, n)
        assert.equals(n, #r.data_out, n)
      else -- the call made, then the second read fails or not
        assert.equals(n >= 31 and byte(cut, 20) + byte(cut, 30) * 256 or 0, r.retval, n)
        assert.equals(n + 4, #r.data_out, n)
      end
    end
    h:close()
  end)

  it('adjust_tail(-n) shortens the frame; a read past the new end returns 0', function()
    local prog = assert(bpf(function()
      local t = pkt[40]
      if adjust_tail(-20) ~= 0 then return 1 end
      return t + pkt[40] * 256
    end, { type = 'xdp' }))
    local h = assert(prog:load('xdp'))
    local r = assert(loader.test_run(h, frame))
    assert.equals(byte(frame, 40) * 257, r.retval) -- 51 bytes left: 40 is in
    assert.equals(frame:sub(1, #frame - 20), r.data_out)
    r = assert(loader.test_run(h, frame:sub(1, 60)))
    assert.equals(0, r.retval) -- 40 bytes left: 40 is out
    assert.equals(40, #r.data_out)
    h:close()
    prog = assert(bpf(function() return adjust_tail(-200) end, { type = 'xdp' }))
    local ret, out = test_run(prog, frame)
    assert.equals(2 ^ 32 - 22, ret) -- -EINVAL (the low 32 bits), the frame as it was
    assert.equals(frame, out)
  end)

  it('reads after a join where one way moved the frame are checked again', function()
    local prog = assert(bpf(function()
      if pkt[23] == 17 then adjust_head(14) end
      return pkt[20] * 256 + pkt[22]
    end, { type = 'xdp' }))
    local h = assert(prog:load('xdp'))
    local r = assert(loader.test_run(h, frame))
    assert.equals(15 * 256, r.retval) -- UDP: stripped, 20 and 22 what were 34 and 36 (the ports' high bytes)
    assert.equals(#frame - 14, #r.data_out)
    r = assert(loader.test_run(h, pk.frames.tcp80))
    assert.equals(64, r.retval) -- TCP: as it came (fragment offset 0, TTL 64)
    assert.equals(#pk.frames.tcp80, #r.data_out)
    h:close()
  end)

  it('reads at a run-time offset after the call through pointers made after it', function()
    local prog = assert(bpf(function()
      local off = bit.band(pkt[14], 15) * 4 -- IHL: the IP header's length
      local a = pkt[off + 15]                -- the source port's low byte
      if adjust_head(14) ~= 0 then return 1 end
      return a * 1000 + pkt[off + 1]          -- the same byte, 14 bytes nearer the start
    end, { type = 'xdp' }))
    assert.equals(160160, (test_run(prog, frame))) -- 4000 = 0x0fa0
  end)
end)

describe('skb_adjust_room', function()
  it('grows and shrinks a tc packet after its network header; tc reads it with classic loads', function()
    local function room(n)
      return function()
        local a = pkt.ip.proto
        local r = skb_adjust_room(n, 0)
        return r * 1000 + pkt.ip.proto + a
      end
    end
    for _, n in ipairs({ 8, -4 }) do
      local prog = assert(bpf(room(n), { type = 'sched_cls' }))
      assert.equals('classic', prog.packet)
      local ret, out = test_run(prog, frame, 'sched_cls')
      assert.equals(34, ret)
      assert.equals(#frame + n, #out)
      assert.equals(frame:sub(1, 34), out:sub(1, 34)) -- Ethernet and IPv4 where they were
      -- told its packets are linear, tc reads directly, checked again after the call
      prog = assert(bpf(room(n), { type = 'sched_cls', packet = 'linear' }))
      assert.equals('direct', prog.packet)
      ret, out = test_run(prog, frame, 'sched_cls')
      assert.equals(34, ret)
      assert.equals(#frame + n, #out)
    end
    local prog = assert(bpf(function() return skb_adjust_room(-4, 7) end, { type = 'sched_cls' }))
    assert.equals(2 ^ 32 - 524, (test_run(prog, frame, 'sched_cls'))) -- no mode 7: the kernel's -ENOTSUPP
  end)

  it('is a compile error in XDP, as adjust_head is in tc', function()
    local prog, err = bpf(function() return skb_adjust_room(4, 0) end, { type = 'xdp' })
    assert.is_nil(prog)
    assert.matches('skb_adjust_room%(%) cannot be called from a xdp program', err)
    prog, err = bpf(function() return adjust_head(4) end, { type = 'sched_cls' })
    assert.is_nil(prog)
    assert.matches('adjust_head%(%) cannot be called from a sched_cls program', err)
  end)
end)

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
