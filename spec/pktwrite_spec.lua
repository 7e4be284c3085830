-- Packet writes in tc and XDP (csrc/pktwrite.c): header fields stored in
-- network order and the checksums that cover them updated, checked on the
-- frames BPF_PROG_TEST_RUN hands back and on real traffic through a veth
-- pair, where the kernel's own UDP receive path checks the checksums.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')
local veth = require('spec.support.veth')

local udp_frame = pk.with_checksums(pk.eth_ip(17, pk.udp(1234, 7777, 'hello')))
local tcp_frame = pk.with_checksums(pk.eth_ip(6, pk.tcp(4000, 80, 'GET / HTTP/1.1\r\n')))

local function u16(s, at) return s:byte(at + 1) * 256 + s:byte(at + 2) end -- at: 0-based
local function u32(s, at) return u16(s, at) * 65536 + u16(s, at + 2) end

-- fn loaded as each packet-writing type, run on frame: { [type] = { retval, frame out } }
local function run_both(fn, frame, opts)
  local out = {}
  for _, t in ipairs { 'xdp', 'sched_cls' } do
    local o = { type = t }
    for k, v in pairs(opts or {}) do o[k] = v end
    local prog = assert(bpf(fn, o))
    local h = assert(prog:load(t))
    local r = assert(loader.test_run(h, frame))
    h:close()
    out[t] = { retval = r.retval, frame = r.data_out }
  end
  return out
end

-- The frame with the bytes at 0-based offsets replaced.
local function patched(frame, at, bytes)
  return frame:sub(1, at) .. bytes .. frame:sub(at + #bytes + 1)
end

describe('packet writes', function()
  it('decrements the TTL with the IP checksum still right', function()
    local r = run_both(function()
      local ip = pkt.ip
      ip.ttl = ip.ttl - 1
      return ip.ttl
    end, udp_frame)
    for t, o in pairs(r) do
      assert.equals(63, o.retval, t)
      assert.equals(63, o.frame:byte(14 + 8 + 1), t)
      local ip_ok, l4_ok = pk.checksums_ok(o.frame)
      assert.is_true(ip_ok, t)
      assert.is_true(l4_ok, t)
      -- nothing else changed but the TTL and the checksum
      assert.equals(patched(udp_frame, 14 + 8, string.char(63, 17) .. o.frame:sub(14 + 11, 14 + 12)), o.frame)
    end
  end)

  it('rewrites a UDP and a TCP port, host order in, network order out, checksums right', function()
    local function rewrite()
      local ip = pkt.ip
      if ip.proto == 17 then ip.udp.dst_port = 5353 end
      if ip.proto == 6 then ip.tcp.src_port = ip.tcp.src_port + 1 end
      return 1
    end
    for _, o in pairs(run_both(rewrite, udp_frame)) do
      assert.equals(5353, u16(o.frame, 14 + 20 + 2))
      assert.same({ true, true }, { pk.checksums_ok(o.frame) })
    end
    for _, o in pairs(run_both(rewrite, tcp_frame)) do
      assert.equals(4001, u16(o.frame, 14 + 20))
      assert.same({ true, true }, { pk.checksums_ok(o.frame) })
    end
    -- a UDP checksum of 0 (none) stays 0
    local none = patched(udp_frame, 14 + 26, '\0\0')
    for _, o in pairs(run_both(rewrite, none)) do
      assert.equals(5353, u16(o.frame, 14 + 20 + 2))
      assert.equals(0, u16(o.frame, 14 + 26))
    end
  end)

  it('rewrites an address: the IP checksum and the TCP or UDP one (pseudo-header) follow', function()
    local function nat()
      pkt.ip.dst = 0x0a000005
      pkt.ip.src = pkt.ip.src + 0x01000000
      return 1
    end
    for _, frame in ipairs { udp_frame, tcp_frame } do
      for t, o in pairs(run_both(nat, frame)) do
        assert.equals(0x0a000005, u32(o.frame, 14 + 16), t)
        assert.equals(0x80000001, u32(o.frame, 14 + 12), t)
        assert.same({ true, true }, { pk.checksums_ok(o.frame) }, t)
      end
    end
    -- a later fragment carries no UDP header: its bytes stay as they were
    local frag = pk.with_checksums(patched(udp_frame, 14 + 6, '\0\1'))
    for t, o in pairs(run_both(nat, frag)) do
      assert.equals(frag:sub(14 + 21), o.frame:sub(14 + 21), t)
      assert.is_true((pk.checksums_ok(o.frame)), t)
    end
  end)

  it('writes bitfields, bytes of a field shared with another, and udp.length (counted twice)', function()
    local r = run_both(function()
      local ip = pkt.ip
      ip.tos = 0xb8
      ip.df = 1
      ip.tcp.flag_psh = 0
      pkt.dst[5] = 0x42
      return ip.df
    end, tcp_frame)
    for t, o in pairs(r) do
      assert.equals(1, o.retval, t)
      assert.equals(0xb8, o.frame:byte(14 + 2), t)
      assert.equals(0x40, o.frame:byte(14 + 7), t) -- DF, fragment offset 0
      assert.equals(0x10, o.frame:byte(14 + 20 + 14), t) -- ACK left, PSH cleared
      assert.equals(0x42, o.frame:byte(6), t)
      assert.same({ true, true }, { pk.checksums_ok(o.frame) }, t)
    end
    -- udp.length is in the pseudo-header too: from a frame summed with a length of 99
    local right = pk.with_checksums(pk.eth_ip(17, pk.udp(1234, 7777, 'hello')))
    local wrong = pk.with_checksums(patched(right, 14 + 20 + 4, '\0\99'))
    for t, o in pairs(run_both(function()
      pkt.ip.udp.length = 13
      return 1
    end, wrong)) do
      assert.equals(right, o.frame, t)
    end
  end)

  it('writes UDP and ICMP payloads, ffi.copy(data, string) and bytes, their checksums following', function()
    local r = run_both(function()
      local d = pkt.ip.udp.data
      ffi.copy(d, 'HEL') -- a word and a byte
      d[5] = 0x5f
      return d[0]
    end, pk.with_checksums(pk.eth_ip(17, pk.udp(1234, 7777, 'hello world'))))
    for t, o in pairs(r) do
      assert.equals(72, o.retval, t)
      assert.equals('HELlo_world', o.frame:sub(14 + 20 + 9), t)
      assert.same({ true, true }, { pk.checksums_ok(o.frame) }, t)
    end
    local echo = pk.eth_ip(1, '\8\0\0\0\0\1\0\1' .. 'ping!!')
    local function icmp_ok(frame) -- the ICMP checksum over its message
      local sum = 0
      local msg = frame:sub(14 + 21)
      for i = 1, #msg, 2 do sum = sum + msg:byte(i) * 256 + (msg:byte(i + 1) or 0) end
      while sum > 0xffff do sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16) end
      return sum == 0xffff
    end
    local sum = 0
    for i = 1, #echo - 34, 2 do sum = sum + echo:byte(34 + i) * 256 + (echo:byte(35 + i) or 0) end
    while sum > 0xffff do sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16) end
    echo = patched(echo, 14 + 22, pk.be16(bit.band(bit.bnot(sum), 0xffff)))
    assert.is_true(icmp_ok(echo))
    for t, o in pairs(run_both(function()
      ffi.copy(pkt.ip.icmp.data, 'pong')
      pkt.ip.icmp.type = 0 -- an echo reply
      return 1
    end, echo)) do
      assert.equals('pong!!', o.frame:sub(14 + 29), t)
      assert.is_true(icmp_ok(o.frame), t)
    end
    -- a TCP payload with {csum = false}: the bytes alone
    for t, o in pairs(run_both(function()
      ffi.copy(pkt.ip.tcp.data, 'PUT')
      return 1
    end, tcp_frame, { csum = false })) do
      assert.equals(patched(tcp_frame, 14 + 40, 'PUT'), o.frame, t)
    end
  end)

  it('leaves the checksums alone with {csum = false}, and stores through a packet pointer', function()
    local r = run_both(function()
      pkt.ip.ttl = 1
      return 1
    end, udp_frame, { csum = false })
    for t, o in pairs(r) do
      assert.equals(1, o.frame:byte(14 + 9), t)
      assert.equals(u16(udp_frame, 14 + 10), u16(o.frame, 14 + 10), t)
    end
    local prog = assert(bpf(function(ctx)
      local p = ffi.cast('uint16_t *', ctx.data + 12)
      if ctx.data + 14 > ctx.data_end then return 0 end
      p[0] = 0x86dd
      return 2
    end, { type = 'xdp', ctx = require('bpf.attach').xdp_md }))
    local h = assert(prog:load('xdp'))
    local out = assert(loader.test_run(h, udp_frame))
    h:close()
    assert.equals(0x86dd, u16(out.data_out, 12))
  end)

  it('returns 0 and writes nothing when the field lies past the packet', function()
    local short = udp_frame:sub(1, 14 + 20 + 1) -- the UDP header cut off
    for t, o in pairs(run_both(function()
      pkt.ip.udp.dst_port = 1
      return 7
    end, short)) do
      assert.equals(0, o.retval, t)
      assert.equals(short, o.frame, t)
    end
  end)

  it('refuses what it cannot write right, at compile time, naming what to do', function()
    local function refused(fn, opts, pattern)
      local prog, err = bpf(fn, opts)
      assert.is_nil(prog)
      assert.matches(pattern, err)
    end
    refused(function() pkt.ip.ttl = 1 end, { type = 'socket_filter' },
      'pktwrite_spec.lua:%d+: a socket_filter program cannot change the packet: packet writes are for tc')
    refused(function() pkt.ip.tcp.data[0] = 1 end, { type = 'xdp' },
      'a write to a TCP payload: where its checksum lies')
    refused(function() ffi.copy(pkt.ip.udp.data, 7) end, { type = 'xdp' },
      'ffi.copy%(%) into the packet takes a constant string')
    refused(function() (pkt.ip + 2).ttl = 1 end, { type = 'xdp' },
      'a write through a moved dissector')
    refused(function() pkt.dst = 1 end, { type = 'xdp' },
      'cannot assign a struct or array member of a packet header')
    refused(function() pkt.ip.udp = 1 end, { type = 'xdp' }, "cannot assign 'udp'")
    refused(function(skb) pkt.ip[skb.len] = 1 end, { type = 'xdp' }, 'a packet write at a run%-time index')
    refused(function() pkt.ip.ttl = 'x' end, { type = 'xdp' }, 'a packet field takes a number')
    refused(function() -- whose checksum a header's write updates is known at compile time
      local h = pkt.ip.proto == 17 and pkt.ip.udp or pkt.ip.tcp
      h.dst_port = 9
    end, { type = 'xdp' }, 'holds one packet header %(dissector%) on one path and another on another')
    refused(function() -- two payloads met at a join read alike, but whose checksum is whose?
      local d
      if pkt.ip.proto == 6 then d = pkt.ip.tcp.data else d = pkt.ip.udp.data end
      d[0] = 1
    end, { type = 'xdp' }, 'a write to the bytes of a layer with no checksum rule %(data%)')
    local prog = assert(bpf(function() -- (reading them is what it always was)
      local d
      if pkt.ip.proto == 6 then d = pkt.ip.tcp.data else d = pkt.ip.udp.data end
      return d[0]
    end, { type = 'xdp' }))
    local h = assert(prog:load('xdp'))
    assert.equals(('G'):byte(), assert(loader.test_run(h, tcp_frame)).retval)
    assert.equals(('h'):byte(), assert(loader.test_run(h, udp_frame)).retval)
    h:close()
    refused(function() pkt.ip.ttl = 1 end, { type = 'xdp', csum = 'no' }, 'opts.csum is true or false')
    -- with no type, loading as one decides
    local untyped = assert(bpf(function() pkt.ip.ttl = 9 return 1 end))
    local none, err = untyped:load('socket_filter')
    assert.is_nil(none)
    assert.matches('a socket_filter program cannot change the packet', err)
    assert(untyped:load('xdp')):close()
  end)
end)

ffi.cdef [[
int spec_pw_socket(int domain, int type, int protocol) __asm__("socket");
int spec_pw_close(int fd) __asm__("close");
int spec_pw_bind(int fd, const void *addr, uint32_t len) __asm__("bind");
long spec_pw_sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)
  __asm__("sendto");
long spec_pw_recv(int fd, void *buf, size_t len, int flags) __asm__("recv");
int spec_pw_poll(void *fds, unsigned long n, int timeout) __asm__("poll");
]]
local C = ffi.C

-- Raw Ethernet frames out of interface ifindex (AF_PACKET).
local function send_frames(ifindex, frame, n)
  local AF_PACKET, SOCK_RAW = 17, 3
  local fd = C.spec_pw_socket(AF_PACKET, SOCK_RAW, 0)
  assert(fd >= 0, 'no packet socket')
  local sll = ffi.new('struct { uint16_t family, protocol; int ifindex; uint16_t hatype; '
    .. 'uint8_t pkttype, halen; uint8_t addr[8]; }')
  sll.family = AF_PACKET
  sll.ifindex = ifindex
  sll.halen = 6
  for _ = 1, n do assert(C.spec_pw_sendto(fd, frame, #frame, 0, sll, ffi.sizeof(sll)) == #frame) end
  C.spec_pw_close(fd)
end

-- The datagrams arriving at a UDP socket bound to port within a second.
local function listen_udp(port)
  local fd = C.spec_pw_socket(2, 2, 0)
  local sa = ffi.new('struct { uint16_t family, port; uint32_t addr; uint8_t zero[8]; }')
  sa.family = 2
  sa.port = bit.rshift(bit.bswap(port), 16)
  assert(C.spec_pw_bind(fd, sa, ffi.sizeof(sa)) == 0)
  return function()
    local got, buf = {}, ffi.new('char[2048]')
    local pfd = ffi.new('struct { int fd; short events, revents; }', fd, 1, 0)
    while C.spec_pw_poll(pfd, 1, 1000) > 0 do
      local n = C.spec_pw_recv(fd, buf, 2048, 0)
      if n < 0 then break end
      got[#got + 1] = ffi.string(buf, n)
    end
    C.spec_pw_close(fd)
    return got
  end
end

local function sh(cmd) assert(os.execute(cmd .. ' >/dev/null 2>&1'), cmd) end

describe('packet writes on real traffic', function()
  it('an XDP port rewrite on a veth reaches the server on the new port (UDP checks the sums)', function()
    local ia = veth.pair('pwa', 'pwb')
    sh('ip link set pwb address 02:00:00:00:00:0b')
    sh('ip addr add 10.9.0.2/24 dev pwb')
    local frame = pk.with_checksums(pk.eth_ip(17, pk.udp(1234, 7000, 'rewritten')))
    frame = patched(frame, 0, '\2\0\0\0\0\11' .. '\2\0\0\0\0\10') -- to pwb, from pwa
    frame = pk.with_checksums(patched(frame, 14 + 12, '\10\9\0\1\10\9\0\2')) -- 10.9.0.1 -> .2
    local old, new = listen_udp(7000), listen_udp(7001)
    local link = assert(bpf.xdp('pwb', function()
      local ip = pkt.ip
      if ip.proto == 17 and ip.udp.dst_port == 7000 then ip.udp.dst_port = 7001 end
      return 2 -- XDP_PASS
    end))
    send_frames(ia, frame, 3)
    local on_new, on_old = new(), old()
    link:close()
    veth.delete('pwa')
    assert.same({ 'rewritten', 'rewritten', 'rewritten' }, on_new)
    assert.same({}, on_old)
    -- the same datagram with its checksum left wrong is dropped by UDP: the check is real
    local rx = listen_udp(7001)
    veth.pair('pwa', 'pwb')
    sh('ip link set pwb address 02:00:00:00:00:0b')
    sh('ip addr add 10.9.0.2/24 dev pwb')
    link = assert(bpf.xdp('pwb', function()
      local ip = pkt.ip
      if ip.proto == 17 and ip.udp.dst_port == 7000 then ip.udp.dst_port = 7001 end
      return 2
    end, { csum = false }))
    send_frames(veth.index('pwa'), frame, 2)
    local got = rx()
    link:close()
    veth.delete('pwa')
    assert.same({}, got)
  end)
end)

-- Random header writes, each checked against a model: the frame that comes
-- back must be the input with the fields replaced and both checksums as a
-- computation from scratch gives them (an incremental update that is right
-- gives exactly those bytes).  A fixed seed: the same programs every run.
describe('packet writes, at random', function()
  -- field: layer, byte offset in its header, bytes, bit position from the top (bitfields), bits
  local fields = {
    { 'ip', 'tos', 1, 1 }, { 'ip', 'identification', 4, 2 }, { 'ip', 'df', 6, 2, 1, 1 },
    { 'ip', 'ttl', 8, 1 }, { 'ip', 'src', 12, 4 }, { 'ip', 'dst', 16, 4 },
    { 'udp', 'src_port', 0, 2 }, { 'udp', 'dst_port', 2, 2 }, { 'udp', 'length', 4, 2 },
    { 'tcp', 'src_port', 0, 2 }, { 'tcp', 'dst_port', 2, 2 }, { 'tcp', 'seq_num', 4, 4 },
    { 'tcp', 'ack_num', 8, 4 }, { 'tcp', 'flag_ack', 13, 1, 3, 1 }, { 'tcp', 'flag_fin', 13, 1, 7, 1 },
    { 'tcp', 'rcv_wnd', 14, 2 }, { 'tcp', 'urg_ptr', 18, 2 },
  }
  local frames = {
    udp = pk.with_checksums(pk.eth_ip(17, pk.udp(1234, 7777, 'hello, world'))),
    tcp = pk.with_checksums(pk.eth_ip(6, pk.tcp(4000, 80, 'GET / HTTP/1.1\r\n'))),
    tcp_opts = pk.with_checksums(pk.eth_ip(6, pk.tcp(4000, 443, 'abc'), 7)), -- IP options
  }
  local function layer_off(frame, layer)
    return layer == 'ip' and 14 or 14 + bit.band(frame:byte(15), 15) * 4
  end
  -- the model: frame with field f set to v (its low bits)
  local function model(frame, f, v)
    local at = layer_off(frame, f[1]) + f[3]
    local n, pos, bits = f[4], f[5], f[6]
    local old = 0
    for k = 0, n - 1 do old = old * 256 + frame:byte(at + k + 1) end
    local new
    if bits then
      local shift = n * 8 - pos - bits
      local mask = bit.lshift(bit.lshift(1, bits) - 1, shift)
      new = bit.bor(bit.band(old, bit.bnot(mask)), bit.band(bit.lshift(v, shift), mask))
    else
      new = n == 4 and v % 2 ^ 32 or bit.band(v, 2 ^ (n * 8) - 1)
    end
    local bytes = ''
    for k = n - 1, 0, -1 do bytes = bytes .. string.char(math.floor(new / 2 ^ (8 * k)) % 256) end
    return patched(frame, at, bytes)
  end
  -- (PKTWRITE_N=2000 PKTWRITE_SEED=7 run more of them, for a longer look)
  local seed = tonumber(os.getenv('PKTWRITE_SEED')) or 12345
  local count = tonumber(os.getenv('PKTWRITE_N')) or 40
  local function rnd(n) -- a small LCG: the same numbers on every LuaJIT
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  end
  it('keeps every checksum right over programs of one to three writes, tc and XDP', function()
    for _ = 1, count do
      local names = { 'udp', 'tcp', 'tcp_opts' }
      local fname = names[rnd(3) + 1]
      local frame = frames[fname]
      local proto = fname == 'udp' and 'udp' or 'tcp'
      local src, expect = {}, frame
      for _ = 1, rnd(3) + 1 do
        local f
        repeat f = fields[rnd(#fields) + 1] until f[1] == 'ip' or f[1] == proto
        local v = rnd(2) == 0 and rnd(2 ^ 31) or rnd(70000)
        if f[6] then v = rnd(2) end
        if f[1] == 'udp' and f[2] == 'length' then v = 8 + #'hello, world' end
        local path = f[1] == 'ip' and 'pkt.ip' or 'pkt.ip.' .. f[1]
        src[#src + 1] = ('%s.%s = %d'):format(path, f[2], v)
        expect = model(expect, f, v)
      end
      expect = pk.with_checksums(expect)
      local code = 'return function() ' .. table.concat(src, '; ') .. '; return 1 end'
      local fn = assert(loadstring(code))()
      for t, o in pairs(run_both(fn, frame)) do
        assert.equals(1, o.retval, t .. ': ' .. code)
        assert.equals(pk.checksums_ok(expect) and expect, o.frame, t .. ': ' .. code)
      end
    end
  end)
end)
