-- Count DNS queries by query type, however many labels their names have:
-- a while loop walks the labels of the query name (sixteen at most, a bound
-- the verifier can see) on the packet.  The script sends its own queries to
-- 127.0.0.1:53 (nobody needs to answer them).
--   sudo luajit examples/sock-dns-labels.lua
-- require('examples.sock-dns-labels').build() compiles the program only.
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
    local name = udp.data + 12                           -- the query name
    local label, labels = name[0], 0                     -- the first label's length
    while label > 0 and labels < 16 do                   -- one turn a label
      name = name + label + 1
      label = name[0]
      labels = labels + 1
    end
    if label == 0 then                                   -- the name ended here
      xadd(qtypes[name[2]], 1)                           -- QTYPE's low byte
    end
  end)
  if not prog then return nil, err end
  return { { name = 'dns_labels', prog = prog, type = 'socket_filter' } }, { qtypes = qtypes }
end

function example.main()
  dns.main(example.build, { { 'a.b.c.example.com', 1 }, { 'localhost', 28 },
    { 'mx.mail.example.org', 15 } })
end

-- require() hands over the builder; `luajit examples/sock-dns-labels.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
