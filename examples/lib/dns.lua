-- What both DNS examples do when run as a script: attach the counting
-- program to lo, send the queries twice a round for a few seconds, and
-- print the counts by query type (their `qtypes` map) after each round.
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local M = {}

local type_names = { [1] = 'A', [2] = 'NS', [5] = 'CNAME', [15] = 'MX', [16] = 'TXT', [28] = 'AAAA' }

-- queries: a list of { name, qtype }.
function M.main(build, queries)
  local progs, maps = run.build(build)
  local p = progs[1]
  run.show(p)
  local link = run.attached(assert(bpf.socket('lo', p.prog)))
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
  end
  link:close()
end

return M
