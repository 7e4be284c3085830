-- tc programs that act on packets: context fields written (skb.mark, ...)
-- with the program type's rules at compile time, and bpf.tc attaching them
-- to an interface (a tcx link where the kernel has them, else a filter on
-- the clsact qdisc), driven by real traffic on lo in the run's own network
-- namespace (spec/support/netns.lua).
local ffi = require('ffi')
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')
local veth = require('spec.support.veth')

local frame = pk.frames.udp53

-- Sends n UDP datagrams to 127.0.0.1:port (bash's /dev/udp).
local function send(port, n)
  for _ = 1, n do
    assert(os.execute(("bash -c 'echo hi > /dev/udp/127.0.0.1/%d'"):format(port)))
  end
end

describe('context fields written', function()
  it('writes mark, priority and cb in tc, as the context the kernel hands back shows', function()
    local prog = assert(bpf(function(skb)
      skb.mark = 42
      skb.priority = skb.len
      skb.cb[2] = 7
      skb.tc_index = 3
      skb.tc_classid = 5 -- (16 bits in the kernel's skb)
      return skb.tc_index * 100 + skb.cb[2] * 10 + skb.tc_classid
    end, { type = 'sched_cls' }))
    local h = assert(prog:load('sched_cls'))
    local r = assert(loader.test_run(h, frame, { ctx_out = true }))
    h:close()
    assert.equals(375, r.retval)
    local out = ffi.cast('struct __sk_buff *', r.ctx_out)
    assert.equals(42, out.mark)
    assert.equals(#frame, out.priority)
    assert.equals(7, out.cb[2])
  end)

  it('names the field and the program types that may write it, at compile time', function()
    local prog, err = bpf(function(skb) skb.tc_index = 1 end, { type = 'socket_filter' })
    assert.is_nil(prog)
    assert.matches('tc_spec.lua:%d+: a socket_filter program cannot write skb.tc_index: sched_cls and '
      .. 'sched_act programs may', err)
    prog, err = bpf(function(skb) skb.cb[0] = 1 end, { type = 'socket_filter' })
    assert.truthy(prog, err) -- cb is the socket filter's own
    assert(prog:load('socket_filter')):close()
    prog, err = bpf(function(skb) skb.len = 1 end, { type = 'sched_cls' })
    assert.is_nil(prog)
    assert.matches('this context field cannot be written %(a program may write skb.mark', err)
    prog, err = bpf(function(regs) regs.parm1 = 1 end, { type = 'kprobe', ctx = bpf.proto.pt_regs })
    assert.is_nil(prog)
    assert.matches('the context of a kprobe program cannot be written', err)
    prog = assert(bpf(function(skb) skb.mark = 1 end)) -- no type yet: loading as one decides
    local h, lerr = prog:load('socket_filter')
    assert.is_nil(h)
    assert.matches('a socket_filter program cannot write skb.mark: sched_cls, sched_act, cgroup_skb and '
      .. 'lwt_xmit programs may', lerr)
  end)
end)

describe('bpf.tc', function()
  for _, via in ipairs({ 'clsact', 'tcx' }) do
    it('marks on egress and counts the marks on ingress, detached on close (' .. via .. ')', function()
      if via == 'tcx' and not bpf.feature('tcx') then
        -- 6.1: no tcx links, and bpf.tc says so
        local link, err = bpf.tc('lo', function() return 0 end, { via = 'tcx' })
        assert.is_nil(link)
        assert.matches('bpf.tc%("lo"%): attaching a tcx link', err)
        return
      end
      local m = assert(bpf.map('array', 4))
      local eg = assert(bpf.tc('lo', function(skb)
        if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == 9999 then
          skb.mark = 42
          xadd(m[0], 1)
        end
        return 0
      end, { direction = 'egress', via = via }))
      local ing = assert(bpf.tc('lo', function(skb)
        if skb.mark == 42 then xadd(m[1], 1) end
        return 0
      end, { direction = 'ingress', priority = 5, via = via }))
      assert.equals('tc', eg.kind)
      send(9999, 3)
      assert.equals(3, m[0])
      assert.equals(3, m[1])
      eg:close()
      ing:close()
      send(9999, 2)
      assert.equals(3, m[0])
      assert.equals(3, m[1])
    end)
  end

  it('attaches by default where the kernel can: tcx links, else clsact', function()
    local m = assert(bpf.map('array', 1))
    local link = assert(bpf.tc('lo', function()
      if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == 9998 then xadd(m[0], 1) end
      return 0
    end))
    send(9998, 2)
    link:close()
    assert.equals(2, m[0])
  end)

  it('refuses a bad direction, priority or way to attach, and a missing interface', function()
    local _, err = bpf.tc('lo', function() return 0 end, { direction = 'sideways' })
    assert.matches("direction is 'ingress' or 'egress'", err)
    _, err = bpf.tc('lo', function() return 0 end, { priority = 0 })
    assert.matches('priority is a whole number from 1 to 65535', err)
    _, err = bpf.tc('lo', function() return 0 end, { via = 'netlink' })
    assert.matches("via is 'tcx' or 'clsact'", err)
    _, err = bpf.tc('nosuch0', function() return 0 end)
    assert.matches('nosuch0', err)
  end)
end)

describe('redirect', function()
  it('sends a datagram from lo out of one veth; the other end sees it, lo does not', function()
    local va = veth.pair('rda', 'rdb')
    local m = assert(bpf.map('array', 4))
    local rx = assert(bpf.tc('rdb', function()
      if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == 9997 then xadd(m[0], 1) end
      return 0
    end))
    local lo_in = assert(bpf.tc('lo', function()
      if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == 9997 then xadd(m[2], 1) end
      return 0
    end))
    local out = assert(bpf.tc('lo', function()
      if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == 9997 then
        xadd(m[1], 1)
        return redirect(va)
      end
      return 0
    end, { direction = 'egress' }))
    send(9997, 3)
    out:close()
    lo_in:close()
    rx:close()
    veth.delete('rda')
    assert.equals(3, m[1]) -- seen leaving lo ...
    assert.equals(3, m[0]) -- ... arrived at the far end of the pair
    assert.equals(0, m[2]) -- and never came back in on lo
  end)

  it('is refused where the program type has no redirect; clone_redirect sends a copy', function()
    local prog, err = bpf(function() return redirect(1) end, { type = 'socket_filter' })
    assert.is_nil(prog)
    assert.matches('redirect%(%) cannot be called from a socket_filter program', err)
    prog = assert(bpf(function() return clone_redirect(1, 0) + 5 end, { type = 'sched_cls' }))
    assert.matches('clone_redirect', bpf.dump_string(prog, { source = false }))
    local h = assert(prog:load('sched_cls'))
    assert.equals(5, assert(loader.test_run(h, frame)).retval) -- a copy out of lo: 0, done
    h:close()
  end)
end)

describe('tail calls', function()
  it('runs a chain of three programs, state passed in skb.cb, and falls through an empty slot', function()
    local progs = assert(bpf.map('prog_array', 4))
    local third = assert(assert(bpf(function(skb)
      return skb.cb[0] * 10 + skb.cb[1]
    end, { type = 'sched_cls' })):load('sched_cls'))
    local second = assert(assert(bpf(function(skb)
      skb.cb[1] = 3
      tail_call(progs, 2)
      return 99
    end, { type = 'sched_cls' })):load('sched_cls'))
    local first = assert(assert(bpf(function(skb)
      skb.cb[0] = 4
      tail_call(progs, 1)
      return 7 -- slot 1 empty
    end, { type = 'sched_cls' })):load('sched_cls'))
    local function run() return assert(loader.test_run(first, frame)).retval end
    assert.equals(7, run())
    progs[1] = second
    assert.equals(99, run()) -- slot 2 empty: the second's own return
    progs[2] = third
    assert.equals(43, run())
    progs[1] = nil
    assert.equals(7, run())
    local unloaded = assert(bpf(function() return 0 end, { type = 'sched_cls' }))
    local ok, err = pcall(function() progs[0] = unloaded end)
    assert.is_false(ok)
    assert.matches('a slot takes a loaded program', err)
    assert(unloaded:load('sched_cls')):close() -- (it loads: only not yet)
    local prog
    prog, err = bpf(function() return tail_call(frame, 0) end, { type = 'sched_cls' })
    assert.is_nil(prog)
    assert.matches('tail_call%(map, index%) needs a prog_array map first', err)
    first:close(); second:close(); third:close()
  end)
end)
