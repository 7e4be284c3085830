-- An XDP program on lo that drops UDP datagrams to one port and lets the
-- rest through, counting both, with direct packet access: the program
-- reads the frame through ctx.data after checking it against ctx.data_end.
-- The script sends datagrams to that port and to another one and shows
-- that only the second kind arrives.
--   sudo luajit examples/xdp-drop.lua
-- require('examples.xdp-drop').build() compiles the program only.
local modname = ...
local bpf = require('bpf')
local attach = require('bpf.attach')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local example = {}

local XDP_DROP, XDP_PASS = 1, 2
example.port = 9977

function example.build(port)
  port = port or example.port
  local verdicts = assert(bpf.map('array', 4))
  local prog, err = bpf(function(ctx)
    local d = ctx.data
    -- Ethernet (14) + IPv4 without options (20) + UDP ports (4)
    if d + 38 > ctx.data_end then return XDP_PASS end
    if d[12] == 0x08 and d[13] == 0 and d[23] == 17 and d[14] == 0x45 and
       d[36] * 256 + d[37] == port then
      xadd(verdicts[XDP_DROP], 1)
      return XDP_DROP
    end
    xadd(verdicts[XDP_PASS], 1)
    return XDP_PASS
  end, { ctx = attach.xdp_md })
  if not prog then return nil, err end
  return { { name = 'drop_port', prog = prog, type = 'xdp' } }, { verdicts = verdicts }
end

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p)
  local dropped_at = lo.udp_listener(example.port)
  local passed_at = lo.udp_listener(example.port + 1)
  local link = run.attached(assert(bpf.xdp('lo', p.prog, 'skb')))
  lo.udp(example.port, 5, 'dropped')
  lo.udp(example.port + 1, 5, 'passed')
  lo.sleep(0.2)
  print(('port %d: %d received; port %d: %d received'):format(example.port,
    lo.drain(dropped_at), example.port + 1, lo.drain(passed_at)))
  print(('XDP verdicts: drop %d  pass %d'):format(maps.verdicts[XDP_DROP], maps.verdicts[XDP_PASS]))
  link:close()
  lo.close(dropped_at)
  lo.close(passed_at)
end

if modname and package.loaded[modname] then return example end
example.main()
