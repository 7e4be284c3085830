-- bpf.cgroup: a cgroup_skb program on a cgroup v2 directory, counting what
-- a child process put in that cgroup sends (and nothing the spec sends from
-- outside it), detached on close; cgroup_sock and cgroup_sock_addr programs
-- that see the sockets a child in the cgroup makes and the addresses it
-- connects, binds and sends to.  Real datagrams and connections on lo in
-- the run's own network namespace.
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local kernel = require('spec.support.kernel')

-- The cgroup v2 mount (/sys/fs/cgroup in the 6.1 guest, .../unified here).
local function cgroup2_root()
  for line in io.lines('/proc/mounts') do
    local dir, fstype = line:match('^%S+ (%S+) (%S+)')
    if fstype == 'cgroup2' then return dir end
  end
  error('no cgroup2 mount: bpf.cgroup needs one')
end

local function sh(cmd)
  local r = os.execute(cmd)
  return r == 0 or r == true
end

-- n datagrams to 127.0.0.1:port, from a shell that first joins cgroup dir
-- (or stays where it is when dir is nil)
local function send_from(dir, port, n)
  local join = dir and ('echo $$ > %s/cgroup.procs; '):format(dir) or ''
  assert(sh(("sh -c '%sfor i in $(seq %d); do bash -c \"echo hi > /dev/udp/127.0.0.1/%d\"; done'")
    :format(join, n, port)))
end

-- Runs Lua source in a child interpreter that first joins cgroup dir:
-- what it prints (it must exit with 0).
local function in_cgroup(dir, source)
  local out, status = kernel.run_child(([[
local ffi = require('ffi')
ffi.cdef 'int getpid(void);'
local f = assert(io.open(%q, 'w'))
f:write(ffi.C.getpid())
f:close()
]]):format(dir .. '/cgroup.procs') .. source)
  assert.equals(0, status, out)
  return out
end

-- The child's connect to 127.0.0.1:port: "connected to <port it reached>"
-- (after sending "hi") or "refused, errno N".
local function connect_from(dir, port)
  return in_cgroup(dir, ([[
local lo = require('examples.lib.loopback')
local fd, peer = lo.tcp_connect(%d)
if fd then lo.send(fd, 'hi') lo.close(fd) end
io.write(fd and ('connected to ' .. peer) or ('refused, errno ' .. peer))
]]):format(port))
end

describe('bpf.cgroup', function()
  local dir
  before_each(function()
    dir = ('%s/luajit-bpf-spec-%d'):format(cgroup2_root(), math.random(1e9))
    assert(sh('mkdir ' .. dir))
  end)
  after_each(function() sh('rmdir ' .. dir) end)

  it('counts the packets and bytes a process in the cgroup sends, until closed', function()
    local m = assert(bpf.map('array', 2))
    local link = assert(bpf.cgroup(dir, 'egress', function(skb)
      xadd(m[0], 1)
      xadd(m[1], skb.len)
      return 1 -- let it by
    end))
    assert.equals('cgroup', link.kind)
    send_from(dir, 9995, 3)
    send_from(nil, 9995, 2) -- from outside the cgroup: not counted
    assert.equals(3, m[0])
    assert.equals(3 * (20 + 8 + 3), m[1]) -- IPv4, UDP, "hi\n": the skb starts at the IP header
    link:close()
    send_from(dir, 9995, 2)
    assert.equals(3, m[0])
  end)

  it('drops what a program returns 0 for: the datagram never reaches lo', function()
    local m = assert(bpf.map('array', 1))
    local drop = assert(bpf.cgroup(dir, 'egress', function() return 0 end))
    local seen = assert(bpf.tc('lo', function()
      if pkt.ip.proto == 17 and pkt.ip.udp.dst_port == 9994 then xadd(m[0], 1) end
      return 0
    end))
    -- (the sender's write fails: the program dropped it)
    sh(("sh -c 'echo $$ > %s/cgroup.procs; bash -c \"echo hi > /dev/udp/127.0.0.1/9994\"' 2>/dev/null")
      :format(dir))
    send_from(nil, 9994, 1)
    drop:close()
    seen:close()
    assert.equals(1, m[0]) -- only the one sent from outside
  end)

  it('refuses what it cannot do yet, and says what it needs', function()
    local _, err = bpf.cgroup(dir, 'connect', function() return 1 end)
    assert.matches("the kind is 'ingress' or 'egress' %(cgroup_skb%), 'sock_create' %(cgroup_sock%), "
      .. "'connect4', 'connect6', 'bind4' or 'sendmsg4' %(cgroup_sock_addr%)", err)
    _, err = bpf.cgroup(dir .. '-missing', 'egress', function() return 1 end)
    assert.matches('opening the cgroup', err)
    _, err = bpf.cgroup(dir, 'egress', function() return pkt.ip.proto end)
    assert.matches('cgroup_spec.lua:%d+: a cgroup_skb program sees the packet from its IP header', err)
  end)

  it('connect4 sends a connection to 127.0.0.1:P1 to port P2, in host byte order', function()
    local P1, P2 = 9991, 9992
    local seen = assert(bpf.map('array', 2))
    local link = assert(bpf.cgroup(dir, 'connect4', function(ctx)
      if ctx.user_ip4 == 0x7f000001 and ctx.user_port == P1 then -- 127.0.0.1:P1
        xadd(seen[0], 1)
        ctx.user_port = P2
      end
      seen[1] = ctx.user_port -- (read back: what the kernel connects to)
      return 1
    end))
    assert.equals('cgroup_sock_addr', link.prog.type)
    local l1, l2 = lo.tcp_listener(P1), lo.tcp_listener(P2)
    assert.equals('connected to ' .. P2, connect_from(dir, P1))
    assert.is_nil(lo.accept(l1)) -- nothing reached P1
    local conn = assert(lo.accept(l2))
    assert.equals('hi', lo.receive(conn))
    lo.close(conn)
    assert.equals(1, seen[0])
    assert.equals(P2, seen[1])
    -- from outside the cgroup: not redirected
    local fd, peer = lo.tcp_connect(P1)
    assert.equals(P1, peer)
    lo.close(fd)
    conn = assert(lo.accept(l1))
    lo.close(conn)
    assert.equals(1, seen[0])
    link:close()
    assert.equals('connected to ' .. P1, connect_from(dir, P1)) -- closed: no more
    lo.close(assert(lo.accept(l1)))
    lo.close(l1)
    lo.close(l2)
  end)

  it('connect4 returning 0 makes connect fail with EPERM', function()
    local P = 9989
    local link = assert(bpf.cgroup(dir, 'connect4', function(ctx) return ctx.user_port ~= P end))
    local l, other = lo.tcp_listener(P), lo.tcp_listener(P + 1)
    assert.equals('refused, errno 1', connect_from(dir, P))
    assert.is_nil(lo.accept(l))
    assert.equals('connected to ' .. (P + 1), connect_from(dir, P + 1))
    lo.close(assert(lo.accept(other)))
    link:close()
    assert.equals('connected to ' .. P, connect_from(dir, P))
    lo.close(assert(lo.accept(l)))
    lo.close(l)
    lo.close(other)
  end)

  it('bind4 and sendmsg4 read and write addresses and ports in host byte order', function()
    local seen = assert(bpf.map('array', 4))
    local bind = assert(bpf.cgroup(dir, 'bind4', function(ctx)
      if ctx.user_port == 9987 then ctx.user_port = 9988 end -- bind to 9987 binds 9988
      return 1
    end))
    local send = assert(bpf.cgroup(dir, 'sendmsg4', function(ctx)
      seen[0] = ctx.user_ip4
      seen[1] = ctx.user_port
      seen[2] = ctx.protocol
      if ctx.user_port == 9985 then ctx.user_port = 9986 end
      ctx.msg_src_ip4 = 0x7f000001 -- sendmsg's own: the source address
      return 1
    end))
    local target = lo.udp_listener(9986)
    local out = in_cgroup(dir, [[
local lo = require('examples.lib.loopback')
local fd, port = lo.udp_listener(9987)
io.write('bound to ', port)
lo.close(fd)
lo.udp(9985, 1, 'hi')
]])
    assert.equals('bound to 9988', out)
    assert.equals(0x7f000001, seen[0])
    assert.equals(9985, seen[1])
    assert.equals(17, seen[2])
    assert.equals(1, lo.drain(target)) -- it went to 9986
    bind:close()
    send:close()
    lo.close(target)
  end)

  it('sock_create sets the mark of the sockets a process makes, and may refuse to make some', function()
    local seen = assert(bpf.map('array', 1))
    local link = assert(bpf.cgroup(dir, 'sock_create', function(sk)
      if sk.family == 2 and sk.type == 2 then return 0 end -- AF_INET, SOCK_DGRAM: refused
      sk.mark = 0x1200 + sk.protocol
      seen[0] = sk.family
      return 1
    end))
    assert.equals('cgroup_sock', link.prog.type)
    local out = in_cgroup(dir, [[
local ffi = require('ffi')
ffi.cdef 'int socket(int, int, int); int getsockopt(int, int, int, void *, uint32_t *);'
local udp = ffi.C.socket(2, 2, 0)
io.write('udp ', udp, ' errno ', ffi.errno(), '; ')
local tcp = ffi.C.socket(2, 1, 0)
local mark, len = ffi.new('uint32_t[1]'), ffi.new('uint32_t[1]', 4)
assert(ffi.C.getsockopt(tcp, 1, 36, mark, len) == 0) -- SOL_SOCKET, SO_MARK
io.write(('tcp mark 0x%x'):format(mark[0]))
]])
    assert.equals('udp -1 errno 1; tcp mark 0x1206', out) -- EPERM; 0x1200 + IPPROTO_TCP
    assert.equals(2, seen[0])
    link:close()
  end)

  it('refuses a context write the kind may not do at compile time, naming the field and who may', function()
    local _, err = bpf.cgroup(dir, 'sock_create', function(sk)
      sk.family = 10
      return 1
    end)
    assert.matches('cgroup_spec.lua:%d+: this context field cannot be written %(a program may write '
      .. 'sock.bound_dev_if, sock.mark and sock.priority, as its type allows%)', err)
    _, err = bpf.cgroup(dir, 'connect4', function(ctx)
      ctx.msg_src_ip4 = 0x7f000001
      return 1
    end)
    assert.matches('cgroup_spec.lua:%d+: a cgroup_sock_addr program for connect4 cannot write '
      .. 'sock_addr.msg_src_ip4: one for sendmsg4 may', err)
    _, err = bpf.cgroup(dir, 'connect6', function(ctx)
      ctx.user_ip4 = 0x7f000001
      return 1
    end)
    assert.matches('cgroup_spec.lua:%d+: a cgroup_sock_addr program for connect6 cannot write '
      .. 'sock_addr.user_ip4: one for bind4, connect4, sendmsg4, recvmsg4, getpeername4 or getsockname4 '
      .. 'may', err)
    _, err = bpf.cgroup(dir, 'connect4', function(ctx)
      ctx.user_port = 65536
      return 1
    end)
    assert.matches('cgroup_spec.lua:%d+: sock_addr.user_port takes a number from 0 to 65535', err)
    -- compiled for no attach type: loading it for one decides
    local prog = assert(bpf(function(ctx)
      ctx.msg_src_ip4 = 1
      return 1
    end, { ctx = bpf.proto.sock_addr, type = 'cgroup_sock_addr' }))
    _, err = bpf.cgroup(dir, 'connect4', prog)
    assert.matches('a cgroup_sock_addr program for connect4 cannot write sock_addr.msg_src_ip4', err)
    local link = assert(bpf.cgroup(dir, 'sendmsg4', prog))
    link:close()
    -- the context is the type's
    _, err = bpf(function(skb) skb.mark = 1 end, { type = 'cgroup_sock' })
    assert.matches("a cgroup_sock program's context is struct bpf_sock, not struct __sk_buff", err)
    -- connect6 and its user_ip6 words
    link = assert(bpf.cgroup(dir, 'connect6', function(ctx)
      if ctx.user_ip6[3] == 1 then ctx.user_port = ctx.user_port end -- ::1
      return 1
    end))
    link:close()
  end)
end)
