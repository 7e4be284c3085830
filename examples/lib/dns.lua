-- What the DNS examples do when run as a script: attach their counting
-- programs to lo, send the queries twice a round for a few seconds, and
-- print the counts by query type (their `qtypes` map) after each round, and
-- by labels in the name (an `nlabels` map) where there is one.
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local M = {}

local type_names = { [1] = 'A', [2] = 'NS', [5] = 'CNAME', [15] = 'MX', [16] = 'TXT', [28] = 'AAAA' }

-- queries: a list of { name, qtype }.
function M.main(build, queries)
  local progs, maps = run.build(build)
  local links = {}
  for _, p in ipairs(progs) do
    run.show(p)
    links[#links + 1] = run.attached(assert(bpf.socket('lo', p.prog)))
  end
  local seconds = run.seconds(3)
  local said = {}
  for _, q in ipairs(queries) do said[#said + 1] = ('%s %s'):format(q[1], type_names[q[2]]) end
  print(('sending DNS queries to 127.0.0.1:53 for %g s: %s'):format(seconds, table.concat(said, ', ')))
  print('(twice each round); lo shows each one twice, leaving and arriving')
  for _ = 1, run.rounds(seconds, 0.5) do
    for _, q in ipairs(queries) do lo.udp(53, 2, lo.dns_query(q[1], q[2])) end
    lo.sleep(0.5)
    local counts = {}
    for qtype, n in maps.qtypes:pairs() do
      if n > 0 then counts[#counts + 1] = ('%s: %d'):format(type_names[qtype] or ('TYPE' .. qtype), n) end
    end
    print(table.concat(counts, '  '))
    if maps.nlabels then
      local by = {}
      for n, k in maps.nlabels:pairs() do
        if k > 0 then by[#by + 1] = ('%d labels: %d'):format(n, k) end
      end
      print(table.concat(by, '  '))
    end
  end
  for _, link in ipairs(links) do link:close() end
end

return M
