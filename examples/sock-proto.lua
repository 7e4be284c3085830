-- Count packets by IP protocol on the loopback interface, as a socket
-- filter, while this script sends some UDP, TCP and ICMP traffic itself.
--   sudo luajit examples/sock-proto.lua
local ffi = require('ffi')
local bpf = require('bpf')

local map = assert(bpf.map('array', 256))
local prog = assert(bpf(function()
  local proto = pkt.ip.proto -- one byte at offset 23 of the Ethernet frame
  xadd(map[proto], 1)        -- count it
end))
print(('compiled to %d instructions:'):format(prog.pc))
bpf.dump(prog)

ffi.cdef [[
int socket(int domain, int type, int protocol);
int setsockopt(int fd, int level, int optname, const void *optval, unsigned optlen);
int close(int fd);
unsigned if_nametoindex(const char *ifname);
int bind(int fd, const void *addr, unsigned addrlen);
int connect(int fd, const void *addr, unsigned addrlen);
long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, unsigned alen);
struct sockaddr_ll_ { uint16_t family; uint16_t protocol; int ifindex; uint16_t hatype;
  uint8_t pkttype; uint8_t halen; uint8_t addr[8]; };
struct sockaddr_in_ { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
]]
local C = ffi.C

-- A raw packet socket on lo, the program attached to it.
local AF_INET, AF_PACKET, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 2, 17, 1, 2, 3
local ETH_P_ALL = 0x0300 -- htons(0x0003)
local fd = C.socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)
assert(fd >= 0, 'cannot open a packet socket (are you root?)')
local sa = ffi.new('struct sockaddr_ll_', { family = AF_PACKET, protocol = ETH_P_ALL,
  ifindex = C.if_nametoindex('lo') })
assert(C.bind(fd, sa, ffi.sizeof(sa)) == 0, 'cannot bind to lo')
local handle = assert(prog:load('socket_filter'))
local SOL_SOCKET, SO_ATTACH_BPF = 1, 50
assert(C.setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, ffi.new('int[1]', handle.fd), 4) == 0,
  'cannot attach the program to the socket')

-- Some traffic of each kind to 127.0.0.1 (port 9, discard: nobody listens).
local to = ffi.new('struct sockaddr_in_', { family = AF_INET, port = bpf.hton(9) / 65536,
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

print(('TCP: %d  UDP: %d  ICMP: %d packets'):format(map[6], map[17], map[1]))
C.close(fd)
handle:close()
