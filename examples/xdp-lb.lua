-- A tiny XDP load balancer on lo: UDP datagrams to a service port are
-- spread over two backend ports by a hash of their source port.  The
-- program rewrites the destination port (the UDP checksum follows it,
-- updated incrementally) and sends the frame on with redirect(), back out
-- of lo; it comes in again on its new port, which the program lets pass.
-- The script sends datagrams from several sockets to the service port and
-- shows where they arrived.
--   sudo luajit examples/xdp-lb.lua
-- require('examples.xdp-lb').build() compiles the program only.
local modname = ...
local bpf = require('bpf')
local attach = require('bpf.attach')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local example = {}

local XDP_PASS = 2
example.port = 9970 -- the service; its backends listen on port + 1 and port + 2

function example.build(port, ifindex)
  port = port or example.port
  ifindex = ifindex or 1 -- lo
  local sent = assert(bpf.map('array', 2))
  local prog, err = bpf(function()
    local ip = pkt.ip
    if pkt.type ~= c.eth.ip or ip.proto ~= c.ip.proto_udp or ip.udp.dst_port ~= port then
      return XDP_PASS
    end
    local backend = bit.band(bit.bxor(ip.udp.src_port, bit.rshift(ip.udp.src_port, 8)), 1)
    ip.udp.dst_port = port + 1 + backend
    xadd(sent[backend], 1)
    return redirect(ifindex)
  end, { ctx = attach.xdp_md })
  if not prog then return nil, err end
  return { { name = 'balance', prog = prog, type = 'xdp' } }, { sent = sent }
end

function example.main()
  local progs, maps = run.build(example.build)
  run.show(progs[1])
  local service = lo.udp_listener(example.port)
  local backends = { lo.udp_listener(example.port + 1), lo.udp_listener(example.port + 2) }
  local link = run.attached(assert(bpf.xdp('lo', progs[1].prog, 'skb')))
  for i = 1, 8 do lo.udp(example.port, 1, 'request ' .. i) end -- a socket, a source port each
  lo.sleep(0.2)
  local a, b = lo.drain(backends[1]), lo.drain(backends[2])
  print(('port %d: %d received; backends %d: %d, %d: %d (%d in all; the program sent %d and %d)')
    :format(example.port, lo.drain(service), example.port + 1, a, example.port + 2, b, a + b,
      maps.sent[0], maps.sent[1]))
  link:close()
  lo.close(service)
  for _, fd in ipairs(backends) do lo.close(fd) end
end

if modname and package.loaded[modname] then return example end
example.main()
