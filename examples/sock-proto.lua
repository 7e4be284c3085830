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
struct sockaddr_ll_ { uint16_t family; uint16_t protocol; int ifindex; uint16_t hatype;
  uint8_t pkttype; uint8_t halen; uint8_t addr[8]; };
]]

-- A raw packet socket on lo, the program attached to it.
local AF_PACKET, SOCK_RAW, ETH_P_ALL = 17, 3, 0x0300 -- ETH_P_ALL in network order
local fd = ffi.C.socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)
assert(fd >= 0, 'cannot open a packet socket (are you root?)')
local sa = ffi.new('struct sockaddr_ll_', { family = AF_PACKET, protocol = ETH_P_ALL,
  ifindex = ffi.C.if_nametoindex('lo') })
assert(ffi.C.bind(fd, sa, ffi.sizeof(sa)) == 0, 'cannot bind to lo')
local handle = assert(prog:load('socket_filter'))
local SOL_SOCKET, SO_ATTACH_BPF = 1, 50
local pfd = ffi.new('int[1]', handle.fd)
assert(ffi.C.setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, pfd, 4) == 0, 'cannot attach')

-- Some traffic of each kind on 127.0.0.1.
os.execute('ping -c 3 -i 0.2 127.0.0.1 >/dev/null 2>&1')
os.execute([[luajit -e "local s=require'socket'" >/dev/null 2>&1]])
for _ = 1, 5 do
  os.execute('exec 3<>/dev/udp/127.0.0.1/9 2>/dev/null; echo hi >&3 2>/dev/null; exec 3>&-')
end
os.execute('bash -c "exec 3<>/dev/tcp/127.0.0.1/9" 2>/dev/null')

print(('TCP: %d  UDP: %d  ICMP: %d packets'):format(map[6], map[17], map[1]))
ffi.C.close(fd)
handle:close()
