-- Count HTTP requests and responses on a socket by their first four bytes
-- ('GET ', 'POST', 'HTTP', ...): comparing packet slices with strings, and a
-- hash map keyed by those bytes.  The script serves and requests a few
-- pages on 127.0.0.1 itself.
--   sudo luajit examples/sock-parse-http.lua
-- require('examples.sock-parse-http').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local example = {}

function example.build()
  local methods = assert(bpf.map('hash', 64))
  local prog, err = bpf(function(skb)
    if skb.ingress_ifindex == 0 then return end -- loopback: count one direction only
    local data = pkt.ip.tcp.data                -- the TCP payload
    if data + 7 > skb.len then return end       -- at least 7 bytes of it
    local h = data(0, 4)
    if h == 'HTTP' or h == 'GET ' or h == 'POST' or h == 'PUT ' or h == 'HEAD' or h == 'DELE' then
      local v = methods[h]
      if not v then
        methods[h] = 1 -- first one: create the entry
      else
        xadd(methods[h], 1)
      end
    end
  end)
  if not prog then return nil, err end
  return { { name = 'http_methods', prog = prog, type = 'socket_filter' } }, { methods = methods }
end

-- A key as the four bytes it was on the wire (the program read them as a
-- big-endian number).
function example.key_string(k)
  local word = ffi.new('uint32_t[1]', bpf.ntoh(k))
  return ffi.string(word, 4)
end

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p)
  local link = run.attached(assert(bpf.socket('lo', p.prog)))
  local seconds = run.seconds(3)
  print(('a server and a client on 127.0.0.1 for %g s: GET, GET, POST each round, each answered')
    :format(seconds))
  for _ = 1, run.rounds(seconds, 0.5) do
    lo.http({ 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'GET /a HTTP/1.1\r\n\r\n',
      'POST /form HTTP/1.1\r\nContent-Length: 0\r\n\r\n' })
    lo.sleep(0.5)
    local counts = {}
    for k, n in maps.methods:pairs() do
      counts[#counts + 1] = ('%q: %d'):format(example.key_string(k), n)
    end
    table.sort(counts)
    print(table.concat(counts, '  '))
  end
  link:close()
end

-- require() hands over the builder; `luajit examples/sock-parse-http.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
