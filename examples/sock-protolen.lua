-- Count the bytes seen on a socket per IP protocol, in 64-bit counters kept
-- in an array map (no key allocation: one slot per protocol number), while
-- this script sends UDP, TCP and ICMP traffic on lo.
--   sudo luajit examples/sock-protolen.lua
-- require('examples.sock-protolen').build() compiles the program only.
local modname = ...
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local example = {}

function example.build()
  local bytes = assert(bpf.map('array', 256, 'uint32_t', 'uint64_t'))
  local prog, err = bpf(function(skb)
    local proto = pkt.ip.proto -- the protocol byte of the IPv4 header
    xadd(bytes[proto], skb.len) -- add the frame's length to its counter
  end)
  if not prog then return nil, err end
  return { { name = 'bytes_by_proto', prog = prog, type = 'socket_filter' } }, { bytes = bytes }
end

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p)
  local link = run.attached(assert(bpf.socket('lo', p.prog)))
  local seconds = run.seconds(3)
  print(('sending UDP, TCP and ICMP to 127.0.0.1 for %g s'):format(seconds))
  local listener, port = lo.udp_listener(0)
  for _ = 1, run.rounds(seconds, 0.5) do
    lo.udp(port, 4, string.rep('u', 1000)) -- 4 datagrams of 1000 bytes
    lo.tcp_refused(port, 1)
    lo.icmp_echo(1, string.rep('i', 200))
    lo.sleep(0.5)
    print(('TCP: %d  UDP: %d  ICMP: %d bytes'):format(tonumber(maps.bytes[6]), tonumber(maps.bytes[17]),
      tonumber(maps.bytes[1])))
  end
  lo.close(listener)
  link:close()
end

-- require() hands over the builder; `luajit examples/sock-protolen.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
