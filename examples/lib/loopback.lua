-- Traffic on the loopback interface for the examples and the specs, sent
-- through FFI sockets (no shell tools): UDP datagrams, refused TCP
-- connections, ICMP echo requests, DNS queries and small HTTP exchanges,
-- all to 127.0.0.1.
--
--   local lo = require('examples.lib.loopback')
--   fd = lo.udp_listener(port)          a bound UDP socket (no ICMP "port unreachable")
--   lo.udp(port, count, payload)        datagrams to 127.0.0.1:port
--   lo.tcp_refused(port, count)         connects nobody accepts: a SYN and a RST each
--   lo.icmp_echo(count, payload)        echo requests (the kernel answers each)
--   lo.dns_query(name, qtype)           a DNS query as UDP payload; lo.udp(53, 1, it) sends it
--   lo.http(requests)                   a listener and a client on an ephemeral port: each
--                                       request string is sent and answered with 'HTTP/1.1 200 OK'
--   lo.drain(fd)                        datagrams waiting on a socket (read, not waited for)
--   fd = lo.tcp_listener(port)          a listening TCP socket on 127.0.0.1:port
--   conn = lo.accept(fd)                a connection waiting on it, or nil (not waited for)
--   fd, peer = lo.tcp_connect(port)     connected to 127.0.0.1:port, and the port it reached
--                                       (nil, errno when refused)
--   lo.send(fd, s), s = lo.receive(fd)  on a connection (one read: '' at its end)
--   lo.close(fd), lo.sleep(seconds)
local ffi = require('ffi')
local bit = require('bit')

local M = {}

ffi.cdef [[
int bpf_lo_socket(int domain, int type, int protocol) __asm__("socket");
int bpf_lo_close(int fd) __asm__("close");
int bpf_lo_bind(int fd, const void *addr, uint32_t len) __asm__("bind");
int bpf_lo_listen(int fd, int backlog) __asm__("listen");
int bpf_lo_accept(int fd, void *addr, void *len) __asm__("accept");
int bpf_lo_getpeername(int fd, void *addr, uint32_t *len) __asm__("getpeername");
int bpf_lo_connect(int fd, const void *addr, uint32_t len) __asm__("connect");
int bpf_lo_getsockname(int fd, void *addr, uint32_t *len) __asm__("getsockname");
long bpf_lo_sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)
  __asm__("sendto");
long bpf_lo_recv(int fd, void *buf, size_t len, int flags) __asm__("recv");
int bpf_lo_nanosleep(const void *req, void *rem) __asm__("nanosleep");
]]

local C = ffi.C
local AF_INET, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, IPPROTO_ICMP = 2, 1, 2, 3, 1
local sockaddr_in = ffi.typeof [[struct { uint16_t family; uint16_t port; uint32_t addr;
  uint8_t zero[8]; }]]
local timespec = ffi.typeof('struct { long sec; long nsec; }')

local function be16(n) return bit.rshift(bit.bswap(n), 16) end

local function loopback(port)
  return sockaddr_in({ family = AF_INET, port = be16(port or 0), addr = 0x0100007f })
end

local function socket(kind, protocol)
  local fd = C.bpf_lo_socket(AF_INET, kind, protocol or 0)
  assert(fd >= 0, ('cannot open a socket (errno %d)'):format(ffi.errno()))
  return fd
end

function M.close(fd) C.bpf_lo_close(fd) end

function M.sleep(seconds)
  local ts = timespec(math.floor(seconds), (seconds % 1) * 1e9)
  C.bpf_lo_nanosleep(ts, nil)
end

local function bound_port(fd)
  local sa = loopback()
  local len = ffi.new('uint32_t[1]', ffi.sizeof(sa))
  assert(C.bpf_lo_getsockname(fd, sa, len) == 0)
  return be16(sa.port)
end

-- A UDP socket bound to 127.0.0.1:port (0: any free port); returns fd, port.
function M.udp_listener(port)
  local fd = socket(SOCK_DGRAM)
  local sa = loopback(port)
  assert(C.bpf_lo_bind(fd, sa, ffi.sizeof(sa)) == 0, ('cannot bind UDP port %d'):format(port or 0))
  return fd, bound_port(fd)
end

-- How many datagrams are waiting on fd (read and thrown away, no waiting).
function M.drain(fd)
  local buf, n = ffi.new('char[2048]'), 0
  local MSG_DONTWAIT = 0x40
  while C.bpf_lo_recv(fd, buf, 2048, MSG_DONTWAIT) >= 0 do n = n + 1 end
  return n
end

function M.udp(port, count, payload)
  payload = payload or 'hello'
  local to = loopback(port)
  local fd = socket(SOCK_DGRAM)
  for _ = 1, count or 1 do
    assert(C.bpf_lo_sendto(fd, payload, #payload, 0, to, ffi.sizeof(to)) == #payload)
  end
  M.close(fd)
end

function M.tcp_refused(port, count)
  local to = loopback(port)
  for _ = 1, count or 1 do
    local fd = socket(SOCK_STREAM)
    C.bpf_lo_connect(fd, to, ffi.sizeof(to))
    M.close(fd)
  end
end

-- The Internet checksum of a string.
local function checksum(s)
  local sum = 0
  for i = 1, #s - 1, 2 do sum = sum + s:byte(i) * 256 + s:byte(i + 1) end
  if #s % 2 == 1 then sum = sum + s:byte(#s) * 256 end
  while sum > 0xffff do sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16) end
  return bit.band(bit.bnot(sum), 0xffff)
end

function M.icmp_echo(count, payload)
  payload = payload or ''
  local to = loopback()
  local fd = socket(SOCK_RAW, IPPROTO_ICMP)
  for seq = 1, count or 1 do
    local body = '\0\0' .. string.char(0, seq % 256) .. payload -- id 0, sequence
    local sum = checksum('\8\0\0\0' .. body)
    local packet = '\8\0' .. string.char(bit.rshift(sum, 8), bit.band(sum, 0xff)) .. body
    assert(C.bpf_lo_sendto(fd, packet, #packet, 0, to, ffi.sizeof(to)) == #packet)
  end
  M.close(fd)
end

function M.dns_query(name, qtype)
  local labels = {}
  for label in name:gmatch('[^.]+') do labels[#labels + 1] = string.char(#label) .. label end
  return '\18\52\1\0\0\1\0\0\0\0\0\0' .. table.concat(labels) .. '\0'
    .. string.char(bit.rshift(qtype, 8), bit.band(qtype, 0xff)) .. '\0\1'
end

local function send_all(fd, s)
  assert(C.bpf_lo_sendto(fd, s, #s, 0, nil, 0) == #s)
end

local function receive(fd)
  local buf = ffi.new('char[4096]')
  local n = C.bpf_lo_recv(fd, buf, 4096, 0)
  return n > 0 and ffi.string(buf, n) or ''
end

function M.receive(fd) return receive(fd) end
function M.send(fd, s) send_all(fd, s) end

local SOCK_NONBLOCK = 0x800

function M.tcp_listener(port)
  local fd = socket(SOCK_STREAM + SOCK_NONBLOCK) -- so that lo.accept does not wait
  local sa = loopback(port)
  assert(C.bpf_lo_bind(fd, sa, ffi.sizeof(sa)) == 0 and C.bpf_lo_listen(fd, 8) == 0,
    ('cannot listen on TCP port %d'):format(port))
  return fd
end

function M.accept(fd)
  local conn = C.bpf_lo_accept(fd, nil, nil)
  if conn < 0 then return nil end
  return conn
end

function M.tcp_connect(port)
  local fd = socket(SOCK_STREAM)
  local to = loopback(port)
  if C.bpf_lo_connect(fd, to, ffi.sizeof(to)) ~= 0 then
    local e = ffi.errno()
    M.close(fd)
    return nil, e
  end
  local peer = loopback()
  local len = ffi.new('uint32_t[1]', ffi.sizeof(peer))
  assert(C.bpf_lo_getpeername(fd, peer, len) == 0)
  return fd, be16(peer.port)
end

function M.http(requests)
  local server = socket(SOCK_STREAM)
  local sa = loopback(0)
  assert(C.bpf_lo_bind(server, sa, ffi.sizeof(sa)) == 0 and C.bpf_lo_listen(server, 8) == 0)
  local port = bound_port(server)
  local to = loopback(port)
  for _, request in ipairs(requests) do
    local client = socket(SOCK_STREAM)
    assert(C.bpf_lo_connect(client, to, ffi.sizeof(to)) == 0)
    local conn = C.bpf_lo_accept(server, nil, nil)
    assert(conn >= 0)
    send_all(client, request)
    receive(conn)
    send_all(conn, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
    receive(client)
    M.close(client)
    M.close(conn)
  end
  M.close(server)
  return port
end

return M
