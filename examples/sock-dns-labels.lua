-- Count DNS queries by query type, however many labels their names have:
-- a while loop walks the labels of the query name (sixteen at most, a bound
-- the verifier can see) on the packet.  The script sends its own queries to
-- 127.0.0.1:53 (nobody needs to answer them).
--   sudo luajit examples/sock-dns-labels.lua
-- require('examples.sock-dns-labels').build() compiles the program only.
local modname = ...
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

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

local type_names = { [1] = 'A', [2] = 'NS', [5] = 'CNAME', [15] = 'MX', [16] = 'TXT', [28] = 'AAAA' }

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p)
  local link = run.attached(assert(bpf.socket('lo', p.prog)))
  local seconds = run.seconds(3)
  print(('sending DNS queries to 127.0.0.1:53 for %g s: a.b.c.example.com A,'):format(seconds))
  print('localhost AAAA, mx.mail.example.org MX (twice each round); lo shows each one twice,')
  print('leaving and arriving')
  for _ = 1, run.rounds(seconds, 0.5) do
    lo.udp(53, 2, lo.dns_query('a.b.c.example.com', 1))
    lo.udp(53, 2, lo.dns_query('localhost', 28))
    lo.udp(53, 2, lo.dns_query('mx.mail.example.org', 15))
    lo.sleep(0.5)
    local counts = {}
    for qtype, n in maps.qtypes:pairs() do
      if n > 0 then counts[#counts + 1] = ('%s: %d'):format(type_names[qtype] or ('TYPE' .. qtype), n) end
    end
    print(table.concat(counts, '  '))
  end
  link:close()
end

-- require() hands over the builder; `luajit examples/sock-dns-labels.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
