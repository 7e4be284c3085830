-- make bench: instruction counts and compile times (median of many runs,
-- in this process) against what the 2016 compiler made and took.
local bpf = require('bpf')

-- The programs are the examples' own (what the 2016 module's examples compiled).
local function example_fn(name, index)
  local progs = assert(require('examples.' .. name).build())
  return progs[index or 1].prog.fn
end

local map = assert(bpf.map('array', 256))
local ports = { 53, 80, 443, 8080 }
local programs = {
  { name = 'socket protocol counter', old_insns = 15, old_us = 43, target_us = 20,
    fn = example_fn('sock-proto') },
  { name = 'DNS parser', old_insns = 52, old_us = 116, target_us = 60,
    fn = example_fn('sock-parse-dns') },
  { name = 'HTTP request counter', fn = example_fn('sock-parse-http') },
  { name = 'checksum (for, bounded)', fn = function()
    local s = 0
    for i = 0, 9 do s = s + pkt.ip[2 * i] * 256 + pkt.ip[2 * i + 1] end
    return bit.band(s, 0xffff)
  end },
  { name = 'labels (while, bounded)', fn = example_fn('sock-dns-labels') },
  { name = 'ports (for in, unrolled)', fn = function()
    local n = 0
    for i, port in ipairs(ports) do if pkt.ip.udp.dst_port == port then n = i end end
    return n
  end },
  { name = 'latency histogram (kprobe)', ctx = true, fn = function(regs)
    local t = map[regs.parm1]
    if t then xadd(map[math.log2(time() - t[0])], 1) end
  end },
}

local function median_us(fn, opts, runs)
  local times = {}
  for i = 1, runs do
    local t0 = os.clock()
    for _ = 1, 10 do assert(bpf(fn, opts)) end
    times[i] = (os.clock() - t0) / 10 * 1e6
  end
  table.sort(times)
  return times[math.floor(runs / 2) + 1]
end

-- What the verifier walked to accept a program: loops cost a walk per turn.
local function verifier_processed(prog, prog_type)
  local h = assert(prog:load(prog_type, { raw = true, log_level = 1 }))
  local n = tonumber((h.log or ''):match('processed (%d+) insns'))
  h:close()
  return n or -1
end

-- Targets: a quarter of the 2016 compiler's time (issue 6).
print(('%-26s %6s %6s %6s %5s %10s %7s %8s %7s %9s'):format('program', 'insns', '2016', 'ratio',
  'bcs', 'compile us', 'us/bc', '2016 us', 'ratio', 'verifier'))
for _, p in ipairs(programs) do
  local opts = p.ctx and { ctx = bpf.proto.pt_regs } or nil
  local prog = assert(bpf(p.fn, opts))
  local ptype = p.ctx and 'kprobe' or 'socket_filter'
  assert(prog:load(ptype)):close()
  local walked = verifier_processed(prog, ptype)
  for _ = 1, 200 do bpf(p.fn, opts) end -- warm up
  local us = median_us(p.fn, opts, 101)
  local bcs = require('jit.util').funcinfo(p.fn).bytecodes - 1 -- without FUNCF
  if p.old_insns then
    print(('%-26s %6d %6d %6.2f %5d %10.1f %7.2f %8d %7.2f %9d%s'):format(p.name, prog.pc, p.old_insns,
      prog.pc / p.old_insns, bcs, us, us / bcs, p.old_us, us / p.old_us, walked,
      us <= p.old_us / 4 and '' or ('  (target %.1f us)'):format(p.old_us / 4)))
  else
    print(('%-26s %6d %6s %6s %5d %10.1f %7.2f %8s %7s %9d'):format(p.name, prog.pc, '-', '-', bcs, us,
      us / bcs, '-', '-', walked))
  end
end

-- A local function called three times: compiled once as a subprogram (the
-- choice the compiler makes for a body of 40 bytecodes or more) against
-- inlined at each call.
do
  local function mix(a, b)
    local x = a * 3 + b
    if x > 100 then x = x - 100 end
    x = bit.bxor(x, 5) + a
    if x < 0 then x = -x end
    x = x + bit.band(b, 12) * 7 - bit.band(a, 60)
    if x > 1000 then x = x % 997 end
    if x == 3 then x = a - b end
    if b > x then x = x + b * 5 - 1 else x = x * 2 + 1 end
    return x + b * 2
  end
  local fn = function(skb) return mix(skb.len, 1) + mix(skb.len, 2) + mix(skb.protocol, skb.len) end
  local sub, inl = assert(bpf(fn)), assert(bpf(fn, { functions = 'inline' }))
  assert(sub.funcs, 'mix is a subprogram')
  print(('%-26s %6d insns as a subprogram (verifier %d), %d inlined (verifier %d)'):format(
    'mix() called 3 times', sub.pc, verifier_processed(sub, 'socket_filter'), inl.pc,
    verifier_processed(inl, 'socket_filter')))
end

-- The runtime: map operations from Lua against the same calls from C
-- (bench/mapops.c, built here with cc and run as one loop per call), and
-- events per second from a ring buffer and a perf buffer into Lua.  The
-- events come from a program run with BPF_PROG_TEST_RUN (repeat = N): it
-- fills the buffer first, then the reader's time alone is measured.
do
  local ffi = require('ffi')
  local libbpf = require('bpf.libbpf')
  local loader = require('bpf.loader')
  local lib = libbpf.lib

  ffi.cdef [[
struct bpf_bench_timespec { long sec; long nsec; };
int bpf_bench_clock_gettime(int clock, struct bpf_bench_timespec *ts) __asm__("clock_gettime");
double mapops_lookup(int fd, long n, uint32_t nkeys, uint64_t *sum);
double mapops_update(int fd, long n, uint32_t nkeys);
]]
  local ts = ffi.new('struct bpf_bench_timespec')
  local function now()
    ffi.C.bpf_bench_clock_gettime(1, ts)
    return tonumber(ts.sec) + tonumber(ts.nsec) / 1e9
  end
  local function rate(n, seconds) return n / seconds end
  local function mops(r) return ('%7.2f M/s'):format(r / 1e6) end

  -- C: bench/mapops.c as a shared object
  os.execute('mkdir -p build/bench')
  local so = 'build/bench/mapops.so'
  local cc = ('%s -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden -o %s bench/mapops.c -lbpf')
    :format(os.getenv('CC') or 'cc', so)
  local built = os.execute(cc)
  assert(built == 0 or built == true, 'cannot build ' .. so .. ' with: ' .. cc)
  local mapops = ffi.load('./' .. so)

  print()
  print(('%-40s %12s %12s %7s'):format('map operation (hash, 1024 keys)', 'Lua', 'C', 'Lua/C'))
  local nkeys, n = 1024, 500000
  local hash = assert(bpf.map('hash', nkeys, 'uint32_t', 'uint64_t'))
  for k = 0, nkeys - 1 do hash[k] = k end
  local sum = ffi.new('uint64_t[1]')
  mapops.mapops_lookup(hash.fd, n / 10, nkeys, sum) -- warm up both sides
  for i = 0, n / 10 do local _ = hash[i % nkeys] end

  local t0 = now()
  local found = 0
  for i = 0, n - 1 do
    if hash[i % nkeys] then found = found + 1 end
  end
  local lua_lookup = rate(n, now() - t0)
  assert(found == n)
  local c_lookup = rate(n, mapops.mapops_lookup(hash.fd, n, nkeys, sum))
  print(('%-40s %12s %12s %7.2f'):format('lookup: hash[k]', mops(lua_lookup), mops(c_lookup),
    lua_lookup / c_lookup))

  t0 = now()
  for i = 0, n - 1 do hash[i % nkeys] = i end
  local lua_update = rate(n, now() - t0)
  local c_seconds = mapops.mapops_update(hash.fd, n, nkeys)
  assert(c_seconds > 0, 'the C updates failed')
  local c_update = rate(n, c_seconds)
  print(('%-40s %12s %12s %7.2f'):format('update: hash[k] = v', mops(lua_update), mops(c_update),
    lua_update / c_update))
  hash:close()

  -- Events: 16 bytes each, from a program run N times on one packet.
  local event = 'struct { uint64_t seq; uint64_t len; }'
  local packet = string.rep('\0', 12) .. '\8\0' .. string.rep('\0', 50)
  local function producer(send)
    local prog = assert(bpf(send))
    local handle = assert(prog:load('socket_filter'))
    return function(count)
      local t = now()
      assert(loader.test_run(handle, packet, { ['repeat'] = count }))
      return rate(count, now() - t)
    end, handle
  end

  -- One row of the table: produce(count) fills the buffer, then read() is
  -- timed; it returns how many events it read, after checking them.  Prints
  -- label, the events per second and note(rate) if given; returns the rate
  -- at which they were produced.
  local function events_row(label, produce, count, read, note)
    local produced = produce(count)
    local t = now()
    local r = rate(read(), now() - t)
    print(('%-52s %12s%s'):format(label, mops(r), note and note(r) or ''))
    return produced
  end

  -- Reads an iterator of events to its end: how many there were, all of them
  -- or an error naming what lost some.  (A socket filter's skb starts after
  -- the Ethernet header: each event's len is that of the rest.)
  local function drain(events, count, what)
    local got, last = 0, nil
    for ev in events do
      got = got + 1
      last = ev.len
    end
    assert(got == count and last == #packet - 14, what .. ' lost events')
    return got
  end

  print()
  print(('%-52s %12s'):format('events into Lua (16-byte events)', 'events/s'))
  local ring = assert(bpf.map('ringbuf', 64 * 1024 * 1024))
  local produce_ring, ring_prog = producer(function(skb)
    local e = ffi.new(event)
    e.seq = time()
    e.len = skb.len
    ringbuf_output(ring, e)
  end)
  local got, last = 0, 0
  local rb = assert(bpf.ringbuf_reader(ring, event, function(ev)
    got = got + 1
    last = ev.len
  end))
  local n_events = 2000000
  produce_ring(n_events / 10)
  rb:consume() -- warm up
  got = 0
  local produced = events_row('ring buffer, bpf.ringbuf_reader callback', produce_ring, n_events, function()
    local consumed = rb:consume()
    assert(consumed == n_events and got == n_events and last == #packet - 14, 'ring buffer lost events')
    return consumed
  end, function(r) return r >= 1e6 and ' (target 1 M/s)' or ' (BELOW the 1 M/s target)' end)
  events_row('ring buffer, rb:events() iterator (copies)', produce_ring, n_events, function()
    return drain(rb:events(), n_events, 'ring buffer iterator')
  end)
  rb:close()

  -- libbpf's own consumer calling back into Lua for each record, to compare
  local lcount = 0
  local cb = ffi.cast('ring_buffer_sample_fn', function() lcount = lcount + 1 return 0 end)
  local lrb = lib.ring_buffer__new(ring.fd, cb, nil, nil)
  assert(lrb ~= nil, 'ring_buffer__new failed')
  events_row('ring buffer, libbpf consume + FFI callback per event', produce_ring, n_events / 4, function()
    lib.ring_buffer__consume(lrb)
    return lcount
  end)
  lib.ring_buffer__free(lrb)
  cb:free()
  print(('%-52s %12s'):format('(producing them: ringbuf_output in test runs)', mops(produced)))
  ring_prog:close()
  ring:close()

  local perf = assert(bpf.map('perf_event_array'))
  local produce_perf, perf_prog = producer(function(skb)
    local e = ffi.new(event)
    e.seq = time()
    e.len = skb.len
    perf_submit(perf, e)
  end)
  local r = assert(perf:reader(nil, event, { pages = 2048 })) -- 8 MB per CPU
  n_events = 200000 -- each one wakes the reader up: slow to make
  produce_perf(n_events / 10)
  r:consume(function() end)
  got = 0
  events_row('perf buffer, r:consume(fn) (in place)', produce_perf, n_events, function()
    local consumed = r:consume(function() got = got + 1 end)
    assert(consumed == n_events and r.lost == 0, 'perf buffer lost events')
    return consumed
  end)
  events_row('perf buffer, r:read() iterator (copies)', produce_perf, n_events, function()
    return drain(r:read(), n_events, 'perf buffer iterator')
  end)
  r:close()

  -- libbpf's perf buffer calling back into Lua for each record, to compare
  lcount = 0
  local sample_cb = ffi.cast('perf_buffer_sample_fn', function() lcount = lcount + 1 end)
  local pb = lib.perf_buffer__new(perf.fd, 2048, sample_cb, nil, nil, nil)
  assert(pb ~= nil, 'perf_buffer__new failed')
  events_row('perf buffer, libbpf consume + FFI callback per event', produce_perf, n_events, function()
    lib.perf_buffer__consume(pb)
    return lcount
  end)
  lib.perf_buffer__free(pb)
  sample_cb:free()
  perf_prog:close()
end

-- The same kind of programs written in C and compiled by clang -O2
-- (bench/clang/): the results must agree, then sizes and times side by side.
require('bench.clang.run').main()
