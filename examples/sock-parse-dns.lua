-- Parse DNS queries in UDP packets and count them by query type: walks a
-- variable-length structure (the labels of the query name, two at most)
-- with pointer arithmetic on the packet.  The script sends its own queries
-- to 127.0.0.1:53 (nobody needs to answer them).
--   sudo luajit examples/sock-parse-dns.lua
-- require('examples.sock-parse-dns').build() compiles the program only.
local modname = ...
local bpf = require('bpf')
local dns = require('examples.lib.dns')

local example = {}

function example.build()
  local qtypes = assert(bpf.map('array', 256))
  local prog, err = bpf(function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_udp then return false end -- UDP only
    local udp = ip.udp
    if udp.length < 12 then return false end            -- room for a DNS header
    udp = udp.data + 12                                  -- the query name
    local label = udp[0]                                 -- first label's length
    if label > 0 then
      udp = udp + label + 1
      label = udp[0]
      if label > 0 then udp = udp + label + 1 end
    end
    if udp[0] == 0 then                                  -- the name ended here
      local qtype = udp[2]                               -- QTYPE's low byte
      xadd(qtypes[qtype], 1)
    end
  end)
  if not prog then return nil, err end
  return { { name = 'dns_qtypes', prog = prog, type = 'socket_filter' } }, { qtypes = qtypes }
end

function example.main()
  dns.main(example.build, { { 'example.com', 1 }, { 'localhost', 28 }, { 'mail.example', 15 } })
end

-- require() hands over the builder; `luajit examples/sock-parse-dns.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
