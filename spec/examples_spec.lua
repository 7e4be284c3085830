-- The examples against the running kernel: each example's programs are
-- compiled (require('examples.NAME').build()) and loaded into the verifier
-- with their program type, and each example also runs as a script.  The
-- socket examples' programs are run on test packets as well, loaded as
-- sched_cls (which sees the Ethernet header, as a packet socket does).
local ffi = require('ffi')
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')

local examples = { 'sock-proto', 'sock-protolen', 'sock-parse-dns', 'sock-dns-labels', 'sock-parse-http',
  'tracepoint-offcputime', 'kprobe-latency', 'kprobe-write', 'uprobe-readline', 'uprobe-tailkt',
  'xdp-drop', 'ringbuf-exec', 'tracepoint-execsnoop', 'tc-mark', 'xdp-lb',
  'cgroup-connect', 'profile', 'tracepoint-opensnoop', 'tracepoint-exitsnoop' }

-- What running each one as a script must print (each runs for a second:
-- EXAMPLE_SECONDS=1).
local script_says = {
  ['sock-proto'] = 'TCP: [1-9]%d*  UDP: [1-9]%d*  ICMP: [1-9]%d* packets',
  ['sock-protolen'] = 'TCP: [1-9]%d*  UDP: [1-9]%d*  ICMP: [1-9]%d* bytes',
  ['sock-parse-dns'] = 'A: [1-9]%d*  MX: [1-9]%d*  AAAA: [1-9]%d*',
  ['sock-dns-labels'] = 'A: [1-9]%d*  MX: [1-9]%d*  AAAA: [1-9]%d*',
  ['sock-parse-http'] = '"GET ": [1-9]%d*  "HTTP": [1-9]%d*  "POST": [1-9]%d*',
  ['tracepoint-offcputime'] = 'attached: bpf link: tracepoint sched/sched_switch.-'
    .. '%d+ command/stack pairs; the ten longest off the CPU:\n +%d+ us  ',
  ['uprobe-readline'] = 'attached: bpf link: uretprobe .-'
    .. 'read: echo one\n.-read: echo two\n.-read: echo three', -- any bash's lines: others' may come between
  ['uprobe-tailkt'] = 'bpf.uprobe%("/usr/local/bin/ktserver:kyotocabinet::StashDB::accept"%)',
  ['xdp-drop'] = 'port 9977: 0 received; port 9978: 5 received\nXDP verdicts: drop 5  pass [1-9]%d*',
  ['tc-mark'] = 'port 9975: 5 marked on egress, 5 of 5 arrived with mark 42',
  ['xdp-lb'] = 'port 9970: 0 received; backends 9971: %d+, 9972: %d+ '
    .. '%(8 in all; the program sent %d+ and %d+%)',
  ['cgroup-connect'] = 'attached: bpf link: cgroup .-\nconnect to 127.0.0.1:9971 reached port 9972; '
    .. 'connections at 9971: 0, at 9972: 1; 1 redirected',
  ['ringbuf-exec'] = 'exec: pid %d+ +uname\n.-[1-9]%d* programs started',
  ['tracepoint-opensnoop'] = 'open: pid %d+ +[^\n]- AT_FDCWD +/tmp/opensnoop%-marker%-absolute\n.-'
    .. 'open: pid %d+ +[^\n]- %d+ +opensnoop%-marker%-relative\n.-'
    .. '[1-9]%d* files opened, 2 of them the markers it opened',
  ['profile'] = 'attached: bpf link: perf_event cpu%-clock at 99 Hz .-\n'
    .. 'sampling %d+ CPUs 99 times a second for 1 s while this script keeps one busy\n'
    .. '[1-9]%d* samples in [1-9]%d* folded stacks, [1-9]%d* of them of this script %(pid %d+%):\n'
    .. '[^\n;]+;[^\n]* [1-9]%d*\n', -- a line with frames
  ['tracepoint-execsnoop'] = 'exec: pid %d+ +ppid %d+ +/bin/echo one two execsnoop%-marker\n.-'
    .. 'exec: pid %d+ +ppid %d+ +/bin/true execsnoop%-marker\n.-[1-9]%d* programs started, 2 of them ours',
  ['tracepoint-exitsnoop'] = 'exit: pid %d+ +ppid %d+ +sh +code 3\n.-exit: pid %d+ +ppid %d+ +sh +code 5\n.-'
    .. '[1-9]%d* processes exited, ours with codes 3 4 5',
}

local function has_kprobes()
  local f = io.open('/sys/bus/event_source/devices/kprobe/type', 'r')
  if f then f:close() end
  return f ~= nil
end
local kprobe_says = has_kprobes() and 'attached: bpf link: k%a*probe '
  or 'this kernel has no kprobes %(CONFIG_KPROBES is not set%); the program itself loaded'
script_says['kprobe-latency'] = kprobe_says
script_says['kprobe-write'] = kprobe_says

-- Compiles an example's programs; a compiler error fails the spec with it.
local function build(name, ...)
  local example = require('examples.' .. name)
  local ok, progs, maps = pcall(example.build, ...)
  assert.is_truthy(ok and progs, ('examples/%s.lua: the compiler rejects the example\'s program: %s')
    :format(name, tostring(maps or progs)))
  return progs, maps
end

local function load_all(name, progs)
  assert.is_true(#progs >= 1)
  for _, p in ipairs(progs) do
    local handle, err = p.prog:load(p.type)
    assert.is_truthy(handle, ('examples/%s.lua: program %s does not load as %s: %s')
      :format(name, p.name, p.type, tostring(err)))
    assert.equals(p.type, handle.type)
    handle:close()
  end
end

local interpreter = require('spec.support.kernel').interpreter

-- Runs examples/NAME.lua as a script: its output and exit status.
local function run_script(name, args)
  local cmd = ("EXAMPLE_SECONDS=1 '%s' examples/%s.lua %s 2>&1; echo \"exit status $?\"")
    :format(interpreter(), name, args or '')
  local p = assert(io.popen(cmd, 'r'))
  local out = p:read('*a')
  p:close()
  local status = tonumber(out:match('exit status (%d+)%s*$'))
  return out:gsub('exit status %d+%s*$', ''), status
end

describe('examples', function()
  it('are all listed here', function()
    local found = {}
    local ls = assert(io.popen('ls examples'))
    for file in ls:lines() do
      local name = file:match('^(.*)%.lua$')
      if name then found[#found + 1] = name end
    end
    ls:close()
    table.sort(found)
    local listed = {}
    for i, name in ipairs(examples) do listed[i] = name end
    table.sort(listed)
    assert.same(listed, found)
  end)

  for _, name in ipairs(examples) do
    it(name .. ' compiles, loads with its program type and runs as a script', function()
      local progs = build(name)
      load_all(name, progs)
      local out, status = run_script(name)
      assert.is_true(status == 0, ('examples/%s.lua exits with %s:\n%s'):format(name, tostring(status), out))
      assert.matches(script_says[name], out)
      assert.matches('%d+ instructions', out)
    end)
  end
end)

describe('socket examples on test packets', function()
  local udp53 = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 28)))
  local tcp80 = pk.eth_ip(6, pk.tcp(4000, 80, 'GET / HTTP/1.1\r\n'))
  local icmp = pk.eth_ip(1, '\8\0\0\0\0\0\0\0')

  local function run_on(prog, packets, opts)
    local handle = assert(prog:load('sched_cls'))
    for _, packet in ipairs(packets) do assert(loader.test_run(handle, packet, opts)) end
    handle:close()
  end

  it('sock-proto counts packets by protocol', function()
    local progs, maps = build('sock-proto')
    run_on(progs[1].prog, { udp53, udp53, udp53, tcp80 })
    assert.equals(3, maps.packets[17])
    assert.equals(1, maps.packets[6])
    assert.equals(0, maps.packets[1])
  end)

  it('sock-protolen adds up bytes by protocol', function()
    local progs, maps = build('sock-protolen')
    run_on(progs[1].prog, { udp53, udp53, icmp })
    assert.equals(2 * #udp53, tonumber(maps.bytes[17]))
    assert.equals(#icmp, tonumber(maps.bytes[1]))
    assert.equals(0, tonumber(maps.bytes[6]))
  end)

  it('sock-parse-dns counts query types of names with up to two labels', function()
    local progs, maps = build('sock-parse-dns')
    local function query(qname, qtype) return pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query(qname, qtype))) end
    run_on(progs[1].prog, { udp53, query('a.b', 1), query('localhost', 1), query('a.b.c', 15), tcp80 })
    assert.equals(1, maps.qtypes[28])
    assert.equals(2, maps.qtypes[1])
    assert.equals(0, maps.qtypes[15]) -- three labels: more than the program unrolls
  end)

  it('sock-dns-labels walks every label of a name with a loop, in a function both programs call', function()
    local progs, maps = build('sock-dns-labels')
    local function query(qname, qtype) return pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query(qname, qtype))) end
    local packets = { udp53, query('a.b.c.d.e', 15), query('localhost', 1), query('a.b.c', 15),
      query(string.rep('x.', 16) .. 'y', 16), query(string.rep('x.', 15) .. 'y', 2), tcp80 }
    run_on(progs[1].prog, packets)
    run_on(progs[2].prog, packets)
    assert.same({ [1] = 1, [2] = 1, [3] = 1, [5] = 1, [16] = 1 }, (function()
      local by = {}
      for n, k in maps.nlabels:pairs() do if k > 0 then by[n] = tonumber(k) end end
      return by
    end)()) -- example.com: 2; localhost: 1; a.b.c: 3; a.b.c.d.e: 5; sixteen; seventeen: not counted
    assert.equals(1, maps.qtypes[28])
    assert.equals(1, maps.qtypes[1])
    assert.equals(2, maps.qtypes[15]) -- five labels and three
    assert.equals(1, maps.qtypes[2])  -- sixteen labels: as many as the loop walks
    assert.equals(0, maps.qtypes[16]) -- seventeen: one more than it walks
  end)

  it('sock-parse-http counts requests by method, ingress only', function()
    local example = require('examples.sock-parse-http')
    local progs, maps = build('sock-parse-http')
    local function tcp(data) return pk.eth_ip(6, pk.tcp(4000, 80, data)) end
    local skb = ffi.new('struct __sk_buff')
    skb.ingress_ifindex = 1 -- lo: as if received
    local ingress = { ctx_in = ffi.string(skb, ffi.sizeof(skb)) }
    local function counts(map)
      local by_method = {}
      for k, v in map:pairs() do by_method[example.key_string(k)] = tonumber(v) end
      return by_method
    end
    run_on(progs[1].prog, { tcp80 }) -- egress: not counted
    assert.same({}, counts(maps.methods))
    run_on(progs[1].prog, { tcp80, tcp80, tcp('POST /x HTTP/1.1\r\n'), tcp('HTTP/1.1 200 OK\r\n'),
      tcp('GET'), tcp('XYZW 1234') }, ingress)
    assert.same({ ['GET '] = 2, POST = 1, HTTP = 1 }, counts(maps.methods))
  end)
end)

describe('example builders', function()
  it('uprobe-tailkt folds its command-line choices into the program', function()
    for _, choice in ipairs({ { 0, 'foo' }, { 1, '*' }, { 'any', 'some-key' } }) do
      load_all('uprobe-tailkt', (build('uprobe-tailkt', choice[1], choice[2])))
    end
  end)

  it('compiled programs name their example in the listing', function()
    local progs = build('sock-proto')
    assert.matches('sock%-proto%.lua:%d+', bpf.dump_string(progs[1].prog))
  end)
end)
