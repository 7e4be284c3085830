-- Count DNS queries by query type, and by how many labels their names have,
-- however many that is: a local function walks the labels of the query name
-- with a while loop (sixteen at most, a bound the verifier can see), and both
-- programs call it; the compiler builds it into each.  The script sends its
-- own queries to 127.0.0.1:53 (nobody needs to answer them).
--   sudo luajit examples/sock-dns-labels.lua
-- require('examples.sock-dns-labels').build() compiles the programs only.
local modname = ...
local bpf = require('bpf')
local dns = require('examples.lib.dns')

local example = {}

-- The query name's labels, from name (a position in the packet): where the
-- walk stopped, how many labels it passed, and the length byte there (0: the
-- name's end, so it had sixteen labels at most).
local function walk_name(name)
  local label, labels = name[0], 0                     -- the first label's length
  while label > 0 and labels < 16 do                   -- one turn a label
    name = name + label + 1
    label = name[0]
    labels = labels + 1
  end
  return name, labels, label
end

function example.build()
  local qtypes, nlabels = assert(bpf.map('array', 256)), assert(bpf.map('array', 17))
  local by_type, err = bpf(function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_udp then return false end -- UDP only
    local udp = ip.udp
    if udp.length < 12 then return false end            -- room for a DNS header
    local stop, _, label = walk_name(udp.data + 12)     -- the query name
    if label == 0 then xadd(qtypes[stop[2]], 1) end     -- QTYPE's low byte
  end)
  if not by_type then return nil, err end
  local by_labels
  by_labels, err = bpf(function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_udp then return false end
    local udp = ip.udp
    if udp.length < 12 then return false end
    local _, labels, label = walk_name(udp.data + 12)
    if label == 0 then xadd(nlabels[labels], 1) end     -- names by their labels
  end)
  if not by_labels then return nil, err end
  return { { name = 'dns_labels', prog = by_type, type = 'socket_filter' },
    { name = 'dns_label_count', prog = by_labels, type = 'socket_filter' } },
    { qtypes = qtypes, nlabels = nlabels }
end

function example.main()
  dns.main(example.build, { { 'a.b.c.example.com', 1 }, { 'localhost', 28 },
    { 'mx.mail.example.org', 15 } })
end

-- require() hands over the builder; `luajit examples/sock-dns-labels.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
