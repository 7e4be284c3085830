-- A veth pair in the run's own network namespace (spec/support/netns.lua),
-- both ends up: made with `ip` (iproute2 on the host; busybox's in the 6.1
-- guest, which names the peer veth0 whatever it is told, so it is renamed).
--   local veth = require('spec.support.veth')
--   local a, b = veth.pair('va', 'vb')   -> the two ifindexes
--   veth.delete('va')                    (the peer goes with it)
--   veth.send('va', frame, n)            n copies of an Ethernet frame (a string) out of va,
--                                        through a packet socket: they arrive at its peer
local ffi = require('ffi')

ffi.cdef [[
unsigned int spec_veth_if_nametoindex(const char *name) __asm__("if_nametoindex");
int spec_veth_socket(int domain, int type, int protocol) __asm__("socket");
long spec_veth_sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)
  __asm__("sendto");
int spec_veth_close(int fd) __asm__("close");
]]

local AF_PACKET, SOCK_RAW = 17, 3
local sockaddr_ll = ffi.typeof [[struct { uint16_t family; uint16_t protocol; int ifindex;
  uint16_t hatype; uint8_t pkttype; uint8_t halen; uint8_t addr[8]; }]]

local M = {}

local function sh(cmd)
  local r = os.execute(cmd .. ' >/dev/null 2>&1')
  return r == 0 or r == true
end

function M.index(name) return ffi.C.spec_veth_if_nametoindex(name) end

function M.pair(a, b)
  M.delete(a)
  assert(sh(('ip link add %s type veth peer name %s'):format(a, b)), 'ip link add ' .. a .. ' (veth) failed')
  if M.index(b) == 0 and M.index('veth0') ~= 0 then assert(sh('ip link set veth0 name ' .. b)) end
  assert(sh(('ip link set %s up && ip link set %s up'):format(a, b)))
  local ia, ib = M.index(a), M.index(b)
  assert(ia ~= 0 and ib ~= 0, 'no veth pair ' .. a .. ', ' .. b)
  return ia, ib
end

function M.delete(a) sh('ip link del ' .. a) end

function M.send(a, frame, n)
  local fd = ffi.C.spec_veth_socket(AF_PACKET, SOCK_RAW, 0) -- (protocol 0: it receives nothing)
  assert(fd >= 0, 'no packet socket: errno ' .. ffi.errno())
  local to = sockaddr_ll({ family = AF_PACKET, ifindex = M.index(a) })
  for _ = 1, n or 1 do
    assert(ffi.C.spec_veth_sendto(fd, frame, #frame, 0, to, ffi.sizeof(to)) == #frame,
      'sendto ' .. a .. ': errno ' .. ffi.errno())
  end
  ffi.C.spec_veth_close(fd)
end

return M
