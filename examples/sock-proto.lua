-- Count packets by IP protocol on the loopback interface, as a socket
-- filter, while this script sends some UDP, TCP and ICMP traffic itself.
--   sudo luajit examples/sock-proto.lua        (or: make demo)
-- require('examples.sock-proto').build() compiles the program without
-- running anything.
local modname = ...
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local example = {}

-- The kernel half: one counter per protocol number.
function example.build()
  local map = assert(bpf.map('array', 256))
  local prog, err = bpf(function()
    local proto = pkt.ip.proto -- one byte at offset 23 of the Ethernet frame
    xadd(map[proto], 1)        -- count it
  end)
  if not prog then return nil, err end
  return { { name = 'count', prog = prog, type = 'socket_filter' } }, { packets = map }
end

-- Some traffic of each kind to 127.0.0.1 (port 9, discard: nobody listens,
-- so each datagram also brings an ICMP "port unreachable" back).
local function send_traffic()
  lo.udp(9, 5)
  lo.tcp_refused(9, 3) -- each refused connect is a SYN and a RST
  lo.icmp_echo(2)      -- each echo request gets a reply
end

function example.main()
  local progs, maps = run.build(example.build)
  local prog, map = progs[1].prog, maps.packets
  print(('compiled to %d instructions:'):format(prog.pc))
  bpf.dump(prog)

  -- A raw packet socket on lo with the program attached (SO_ATTACH_BPF).
  local link = run.attached(assert(bpf.socket('lo', prog)))
  local seconds = run.seconds(3)
  print(('sending UDP, TCP and ICMP to 127.0.0.1 for %g s; lo shows each packet twice,'):format(seconds))
  print('once leaving and once arriving')
  for _ = 1, run.rounds(seconds, 0.5) do
    send_traffic()
    lo.sleep(0.5)
    print(('TCP: %d  UDP: %d  ICMP: %d packets'):format(map[6], map[17], map[1]))
  end
  link:close()
end

-- require() hands over the builder; `luajit examples/sock-proto.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
