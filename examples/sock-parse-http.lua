-- Count HTTP requests and responses on a socket by their first four bytes
-- ('GET ', 'POST', 'HTTP', ...): comparing packet slices with strings, and a
-- hash map keyed by those bytes.
--   sudo luajit examples/sock-parse-http.lua
-- require('examples.sock-parse-http').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')

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
  local progs, maps = example.build()
  if not progs then
    io.stderr:write(maps, '\n')
    os.exit(1)
  end
  local p = progs[1]
  local handle = assert(p.prog:load(p.type))
  print(('%s: %d instructions, loaded as a %s program'):format(p.name, p.prog.pc, handle.type))
  bpf.dump(p.prog)
  print('not available yet: attaching a program to a socket by interface name (bpf.socket(\'lo\', ...)),')
  print('so no HTTP traffic is counted; the counters would be read from the map by method.')
  for k, n in maps.methods:pairs() do
    print(('%s %d'):format(example.key_string(k), n))
  end
  handle:close()
end

-- require() hands over the builder; `luajit examples/sock-parse-http.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
