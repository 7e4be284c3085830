-- Two tc programs on lo: on egress one marks the UDP datagrams to one port
-- (skb.mark = 42, a context field tc may write) and counts them; on
-- ingress the other counts the datagrams that arrive marked.  The mark
-- travels with the packet from one hook to the other.  bpf.tc attaches them
-- as tcx links where the kernel has them, else as clsact filters.
--   sudo luajit examples/tc-mark.lua
-- require('examples.tc-mark').build() compiles the programs only.
local modname = ...
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local example = {}

example.port, example.mark = 9975, 42
local MARKED, ARRIVED_MARKED, ARRIVED = 0, 1, 2

function example.build(port)
  port = port or example.port
  local counts = assert(bpf.map('array', 3))
  local mark = example.mark
  local marker, err = bpf(function(skb)
    if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == port then
      skb.mark = mark
      xadd(counts[MARKED], 1)
    end
    return 0 -- TC_ACT_OK: on it goes
  end, { type = 'sched_cls' })
  if not marker then return nil, err end
  local counter
  counter, err = bpf(function(skb)
    if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == port then
      xadd(counts[ARRIVED], 1)
      if skb.mark == mark then xadd(counts[ARRIVED_MARKED], 1) end
    end
    return 0
  end, { type = 'sched_cls' })
  if not counter then return nil, err end
  return { { name = 'mark', prog = marker, type = 'sched_cls' },
    { name = 'count', prog = counter, type = 'sched_cls' } }, { counts = counts }
end

function example.main()
  local progs, maps = run.build(example.build)
  for _, p in ipairs(progs) do run.show(p) end
  local egress = run.attached(assert(bpf.tc('lo', progs[1].prog, { direction = 'egress' })))
  local ingress = run.attached(assert(bpf.tc('lo', progs[2].prog, { direction = 'ingress' })))
  local at = lo.udp_listener(example.port)
  lo.udp(example.port, 5, 'marked')
  lo.udp(example.port + 1, 5, 'not ours')
  lo.sleep(0.2)
  print(('port %d: %d marked on egress, %d of %d arrived with mark %d'):format(example.port,
    maps.counts[MARKED], maps.counts[ARRIVED_MARKED], maps.counts[ARRIVED], example.mark))
  egress:close()
  ingress:close()
  lo.close(at)
end

if modname and package.loaded[modname] then return example end
example.main()
