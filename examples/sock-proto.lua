-- Count packets by IP protocol on the loopback interface, as a socket
-- filter, while this script sends some UDP, TCP and ICMP traffic itself.
--   sudo luajit examples/sock-proto.lua        (or: make demo)
-- require('examples.sock-proto').build() compiles the program without
-- running anything.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')

local example = {}

-- The kernel half: one counter per protocol number.
function example.build()
  local map = assert(bpf.map('array', 256))
  local prog, err = bpf(function()
    local proto = pkt.ip.proto -- one byte at offset 23 of the Ethernet frame
    xadd(map[proto], 1)        -- count it
  end)
  if not prog then return nil, err end
  return { { name = 'count', prog = prog, type = 'socket_filter' } }, { packets = map }
end

ffi.cdef [[
int socket(int domain, int type, int protocol);
int setsockopt(int fd, int level, int optname, const void *optval, unsigned optlen);
int close(int fd);
unsigned if_nametoindex(const char *ifname);
int bind(int fd, const void *addr, unsigned addrlen);
int connect(int fd, const void *addr, unsigned addrlen);
long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, unsigned alen);
]]
local sockaddr_ll = ffi.typeof [[struct { uint16_t family; uint16_t protocol; int ifindex;
  uint16_t hatype; uint8_t pkttype; uint8_t halen; uint8_t addr[8]; }]]
local sockaddr_in = ffi.typeof [[struct { uint16_t family; uint16_t port; uint32_t addr;
  uint8_t zero[8]; }]]
local C = ffi.C
local AF_INET, AF_PACKET, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 2, 17, 1, 2, 3

-- Some traffic of each kind to 127.0.0.1 (port 9, discard: nobody listens).
local function send_traffic()
  local to = sockaddr_in({ family = AF_INET, port = bpf.hton(9) / 65536,
    addr = 0x0100007f })
  local udp = C.socket(AF_INET, SOCK_DGRAM, 0)
  for _ = 1, 5 do C.sendto(udp, 'hello', 5, 0, to, ffi.sizeof(to)) end
  C.close(udp)
  for _ = 1, 3 do -- each refused connect is a SYN and a RST
    local tcp = C.socket(AF_INET, SOCK_STREAM, 0)
    C.connect(tcp, to, ffi.sizeof(to))
    C.close(tcp)
  end
  local icmp = C.socket(AF_INET, SOCK_RAW, 1)
  local echo = '\8\0\247\255\0\0\0\0' -- echo request, checksum precomputed
  for _ = 1, 2 do C.sendto(icmp, echo, #echo, 0, to, ffi.sizeof(to)) end
  C.close(icmp)
end

function example.main()
  local progs, maps = example.build()
  if not progs then
    io.stderr:write(maps, '\n')
    os.exit(1)
  end
  local prog, map = progs[1].prog, maps.packets
  print(('compiled to %d instructions:'):format(prog.pc))
  bpf.dump(prog)

  -- A raw packet socket on lo, the program attached to it.
  local ETH_P_ALL = 0x0300 -- htons(0x0003)
  local fd = C.socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)
  assert(fd >= 0, 'cannot open a packet socket (are you root?)')
  local sa = sockaddr_ll({ family = AF_PACKET, protocol = ETH_P_ALL,
    ifindex = C.if_nametoindex('lo') })
  assert(C.bind(fd, sa, ffi.sizeof(sa)) == 0, 'cannot bind to lo')
  local handle = assert(prog:load(progs[1].type))
  local SOL_SOCKET, SO_ATTACH_BPF = 1, 50
  assert(C.setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, ffi.new('int[1]', handle.fd), 4) == 0,
    'cannot attach the program to the socket')

  send_traffic()
  print(('TCP: %d  UDP: %d  ICMP: %d packets'):format(map[6], map[17], map[1]))
  C.close(fd)
  handle:close()
end

-- require() hands over the builder; `luajit examples/sock-proto.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
