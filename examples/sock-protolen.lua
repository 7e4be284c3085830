-- Count the bytes seen on a socket per IP protocol, in 64-bit counters kept
-- in an array map (no key allocation: one slot per protocol number).
--   sudo luajit examples/sock-protolen.lua
-- require('examples.sock-protolen').build() compiles the program only.
local modname = ...
local bpf = require('bpf')

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
  local progs, maps = example.build()
  if not progs then
    io.stderr:write(maps, '\n')
    os.exit(1)
  end
  local p = progs[1]
  local handle = assert(p.prog:load(p.type))
  print(('%s: %d instructions, loaded as a %s program'):format(p.name, p.prog.pc, handle.type))
  bpf.dump(p.prog)
  print('not available yet: attaching a program to a socket by interface name (bpf.socket(\'lo\', ...));')
  print('examples/sock-proto.lua shows the same kind of program attached by hand with SO_ATTACH_BPF.')
  handle:close()
end

-- require() hands over the builder; `luajit examples/sock-protolen.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
