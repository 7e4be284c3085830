-- bpf.cgroup: a cgroup_skb program on a cgroup v2 directory, counting what
-- a child process put in that cgroup sends (and nothing the spec sends from
-- outside it), detached on close.  Real datagrams on lo in the run's own
-- network namespace.
local bpf = require('bpf')

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
    local _, err = bpf.cgroup(dir, 'connect4', function() return 1 end)
    assert.matches("the kind is 'ingress' or 'egress'", err)
    _, err = bpf.cgroup(dir .. '-missing', 'egress', function() return 1 end)
    assert.matches('opening the cgroup', err)
    _, err = bpf.cgroup(dir, 'egress', function() return pkt.ip.proto end)
    assert.matches('cgroup_spec.lua:%d+: a cgroup_skb program sees the packet from its IP header', err)
  end)
end)
