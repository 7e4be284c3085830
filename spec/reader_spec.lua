-- Readers against the running kernel: programs run with BPF_PROG_TEST_RUN
-- on packets made here send events through a perf event array or a ring
-- buffer, and the readers must hand back exactly those events, in order and
-- whole, also when records wrap around the end of a ring or the ring runs
-- full.  The trace pipe reader gets what print() writes; the log2 histogram
-- prints bcc's layout.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local loader = require('bpf.loader')
local reader = require('bpf.reader')
local pk = require('spec.support.packets')

ffi.cdef [[
int bpf_reader_spec_sched_getaffinity(int pid, size_t size, uint64_t *mask) __asm__("sched_getaffinity");
int bpf_reader_spec_sched_setaffinity(int pid, size_t size, const uint64_t *mask)
  __asm__("sched_setaffinity");
int bpf_reader_spec_getpid(void) __asm__("getpid");
struct bpf_reader_spec_timespec { long sec; long nsec; };
int bpf_reader_spec_clock_gettime(int clock, struct bpf_reader_spec_timespec *ts) __asm__("clock_gettime");
int bpf_reader_spec_nanosleep(const struct bpf_reader_spec_timespec *req, void *rem) __asm__("nanosleep");
]]
local C = ffi.C

-- Monotonic seconds, and a sleep.
local function now()
  local ts = ffi.new('struct bpf_reader_spec_timespec')
  C.bpf_reader_spec_clock_gettime(1, ts)
  return tonumber(ts.sec) + tonumber(ts.nsec) / 1e9
end
local function sleep(seconds)
  C.bpf_reader_spec_nanosleep(ffi.new('struct bpf_reader_spec_timespec', 0, seconds * 1e9), nil)
end

-- 24 bytes: a perf record of it is 40 bytes, a ring record 32, so perf
-- records wrap around the end of a page.
local event_decl = 'struct { uint32_t seq; uint32_t tag; uint64_t len; uint32_t proto; uint32_t sum; }'
local event_t = ffi.typeof(event_decl)

-- A UDP packet whose ports carry seq and tag.
local function packet(seq, tag)
  return pk.eth_ip(17, pk.udp(seq, tag, string.rep('x', seq % 7)))
end

local function expected(seq, tag)
  local e = event_t()
  local p = packet(seq, tag)
  e.seq, e.tag, e.len, e.proto, e.sum = seq, tag, #p, 17, seq + tag
  return e
end

local function same_event(want, got)
  return ffi.string(want, ffi.sizeof(event_t)) == ffi.string(got, ffi.sizeof(event_t))
end

-- A program (sched_cls: it sees the Ethernet header) sending one event per
-- packet with send(map, event).
local function sender(kind, map)
  local prog
  if kind == 'perf' then
    prog = assert(bpf(function(skb)
      local e = ffi.new(event_decl)
      local udp = pkt.ip.udp
      e.seq, e.tag, e.len, e.proto = udp.src_port, udp.dst_port, skb.len, pkt.ip.proto
      e.sum = udp.src_port + udp.dst_port
      perf_submit(map, e)
    end))
  else
    prog = assert(bpf(function(skb)
      local e = ffi.new(event_decl)
      local udp = pkt.ip.udp
      e.seq, e.tag, e.len, e.proto = udp.src_port, udp.dst_port, skb.len, pkt.ip.proto
      e.sum = udp.src_port + udp.dst_port
      ringbuf_output(map, e)
    end))
  end
  local handle = assert(prog:load('sched_cls'))
  return function(first, last, tag)
    for seq = first, last do assert(loader.test_run(handle, packet(seq, tag or 7))) end
  end, handle
end

local function pin_to(cpu)
  local mask = ffi.new('uint64_t[16]')
  mask[math.floor(cpu / 64)] = bit.lshift(1ULL, cpu % 64)
  assert.equals(0, C.bpf_reader_spec_sched_setaffinity(0, ffi.sizeof(mask), mask))
end

-- fn() with this process on CPU 0 only: a test run writes its events to the
-- ring of the CPU it runs on, and a process the scheduler moves in the middle
-- of a batch would split it over two rings (read one after the other).
local function on_one_cpu(fn)
  local mask = ffi.new('uint64_t[16]')
  assert.equals(0, C.bpf_reader_spec_sched_getaffinity(0, ffi.sizeof(mask), mask))
  pin_to(0)
  local ok, err = pcall(fn)
  assert.equals(0, C.bpf_reader_spec_sched_setaffinity(0, ffi.sizeof(mask), mask))
  assert(ok, err)
end

describe('perf event array reader', function()
  it('hands back exactly the events sent, in order and whole, across ring wraps', function()
    on_one_cpu(function()
      local perf = assert(bpf.map('perf_event_array'))
      local send, handle = sender('perf', perf)
      local r = assert(perf:reader(nil, event_t, { pages = 1 }))
      local got = {}
      for batch = 0, 19 do
        send(batch * 50 + 1, batch * 50 + 50)
        assert.is_true(r:block(1000))
        for ev in r:read() do got[#got + 1] = ev end
      end
      assert.equals(1000, #got)
      for seq = 1, 1000 do
        assert.is_true(ffi.istype(event_t, got[seq]))
        assert.is_true(same_event(expected(seq, 7), got[seq]), 'event ' .. seq)
      end
      assert.equals(0, r.lost)
      assert.is_false(r:block(0))
      r:close()
      handle:close()
    end)
  end)

  it('counts what the kernel dropped when the buffer was full', function()
    on_one_cpu(function()
      local perf = assert(bpf.map('perf_event_array'))
      local send, handle = sender('perf', perf)
      local r = assert(perf:reader(event_t, { pages = 1 })) -- every CPU, one page each
      send(1, 300)
      local seqs = {}
      for ev in r:read() do seqs[#seqs + 1] = ev.seq end
      assert.is_true(#seqs > 50 and #seqs < 300)
      for i, seq in ipairs(seqs) do assert.equals(i, seq) end
      send(301, 301) -- the kernel writes the loss record before this one
      for ev in r:read() do seqs[#seqs + 1] = ev.seq end
      assert.equals(301, seqs[#seqs])
      assert.equals(300, #seqs - 1 + r.lost)
      r:close()
      handle:close()
    end)
  end)

  it('reads one CPU only when asked', function()
    local mask = ffi.new('uint64_t[16]')
    assert.equals(0, C.bpf_reader_spec_sched_getaffinity(0, ffi.sizeof(mask), mask))
    local ncpus = require('bpf.libbpf').lib.libbpf_num_possible_cpus()
    local cpu = ncpus - 1
    local perf = assert(bpf.map('perf_event_array'))
    local send, handle = sender('perf', perf)
    local mine = assert(perf:reader(cpu, event_t))
    local other = ncpus > 1 and assert(perf:reader(0, event_t))
    local ok, err = pcall(function()
      pin_to(cpu)
      send(1, 10)
    end)
    assert.equals(0, C.bpf_reader_spec_sched_setaffinity(0, ffi.sizeof(mask), mask))
    assert(ok, err)
    local n = 0
    for ev in mine:read() do
      n = n + 1
      assert.equals(n, ev.seq)
    end
    assert.equals(10, n)
    if other then
      assert.is_false(other:block(0))
      other:close()
    end
    mine:close()
    handle:close()
  end)

  it('waits no longer than asked, and consumes in place without copies', function()
    local perf = assert(bpf.map('perf_event_array'))
    local send, handle = sender('perf', perf)
    local r = assert(perf:reader(nil, event_t))
    local t0 = os.time()
    assert.is_false(r:block(30))
    assert.is_true(os.time() - t0 <= 1)
    send(1, 3, 99)
    assert.is_true(r:block())
    local seen = {}
    assert.equals(3, r:consume(function(ptr, size, cpu)
      local ev = ffi.cast('const struct { uint32_t seq; uint32_t tag; } *', ptr)
      seen[#seen + 1] = ('%d/%d'):format(ev.seq, ev.tag)
      assert.is_true(size >= ffi.sizeof(event_t))
      assert.is_true(cpu >= 0)
    end))
    assert.same({ '1/99', '2/99', '3/99' }, seen)
    assert.equals(0, r:consume(function() end))
    assert.is_true(r:fd() >= 0)
    r:close()
    assert.equals(-1, r:fd())
    local n = 0
    for _ in r:read() do n = n + 1 end
    assert.equals(0, n)
    handle:close()
  end)

  it('gives the raw bytes without an event type, and says what is wrong', function()
    local perf = assert(bpf.map('perf_event_array'))
    local send, handle = sender('perf', perf)
    local r = assert(perf:reader())
    send(5, 5, 6)
    local raw
    for ev in r:read() do raw = ev end
    assert.equals('string', type(raw))
    assert.equals(ffi.string(expected(5, 6), ffi.sizeof(event_t)), raw:sub(1, ffi.sizeof(event_t)))
    r:close()
    handle:close()
    local array = assert(bpf.map('array', 4))
    local bad, err = array:reader()
    assert.is_nil(bad)
    assert.matches('needs a perf_event_array map, not array', err)
    bad, err = perf:reader(4096, event_t)
    assert.is_nil(bad)
    assert.matches('no CPU 4096', err)
    bad, err = perf:reader(0, 'struct nothing_declared')
    assert.is_nil(bad)
    assert.matches('event type', err)
  end)
end)

describe('ring buffer reader', function()
  it('hands every event to the callback, in order and whole, across ring wraps', function()
    local ring = assert(bpf.map('ringbuf', 4096))
    local send, handle = sender('ring', ring)
    local got = {}
    local rb = assert(bpf.ringbuf_reader(ring, event_t, function(ev, size)
      assert.equals(ffi.sizeof(event_t), size)
      local copy = event_t()
      ffi.copy(copy, ev, size)
      got[#got + 1] = copy
    end))
    for batch = 0, 19 do
      send(batch * 50 + 1, batch * 50 + 50)
      assert.equals(50, rb:poll(1000))
    end
    assert.equals(1000, #got)
    for seq = 1, 1000 do
      assert.is_true(same_event(expected(seq, 7), got[seq]), 'event ' .. seq)
    end
    assert.equals(0, rb:poll(20))
    assert.equals(0, rb:consume())
    rb:close()
    handle:close()
  end)

  it('iterates over copies, and keeps what a full ring could take', function()
    local ring = assert(bpf.map('ringbuf', 4096))
    local send, handle = sender('ring', ring)
    local rb = assert(bpf.ringbuf_reader(ring, event_t))
    send(1, 200) -- 4096 bytes take 127 records of 32 bytes: the kernel never fills it up
    local events = {}
    for ev in rb:events() do events[#events + 1] = ev end
    assert.equals(127, #events)
    send(1000, 1009)
    for ev in rb:events(100) do events[#events + 1] = ev end
    assert.equals(137, #events)
    for i = 1, 127 do assert.is_true(same_event(expected(i, 7), events[i]), 'event ' .. i) end
    for i = 1, 10 do assert.is_true(same_event(expected(999 + i, 7), events[127 + i])) end
    rb:close()
    handle:close()
  end)

  it('skips discarded records and stops when the callback says false', function()
    local ring = assert(bpf.map('ringbuf', 4096 * 4))
    local prog = assert(bpf(function()
      local seq = pkt.ip.udp.src_port -- packet loads first: none while a record is held
      local e = ringbuf_reserve(ring, 'struct { uint32_t seq; uint32_t pad; }')
      if e then
        e.seq = seq
        if bit.band(seq, 1) == 1 then ringbuf_discard(e) else ringbuf_submit(e) end
      end
    end))
    local handle = assert(prog:load('sched_cls'))
    for seq = 1, 20 do assert(loader.test_run(handle, packet(seq, 1))) end
    local seqs = {}
    local rb = assert(bpf.ringbuf_reader(ring, 'struct { uint32_t seq; uint32_t pad; }', function(ev)
      seqs[#seqs + 1] = ev.seq
      if #seqs == 3 then return false end
    end))
    assert.equals(3, rb:poll(0))
    assert.same({ 2, 4, 6 }, seqs)
    assert.equals(7, rb:consume())
    assert.same({ 2, 4, 6, 8, 10, 12, 14, 16, 18, 20 }, seqs)
    rb:close()
    handle:close()
  end)

  it('says what is wrong', function()
    local hash = assert(bpf.map('hash', 4))
    local rb, err = bpf.ringbuf_reader(hash, event_t, function() end)
    assert.is_nil(rb)
    assert.matches('needs a ringbuf map, not hash', err)
    local ring = assert(bpf.map('ringbuf', 4096))
    rb, err = bpf.ringbuf_reader(ring, event_t, 'not a function')
    assert.is_nil(rb)
    assert.matches('the callback must be a function', err)
    rb = assert(bpf.ringbuf_reader(ring, event_t))
    local n
    n, err = rb:consume()
    assert.is_nil(n)
    assert.matches('no callback', err)
    rb:close()
    n, err = rb:poll(0)
    assert.is_nil(n)
    assert.matches('closed', err)
  end)
end)

describe('bpf.tracelog', function()
  it('reads what print() in a program writes to the trace pipe', function()
    local log = assert(bpf.tracelog())
    local marker = ('lbpf%d.%d'):format(C.bpf_reader_spec_getpid(), math.random(100000, 999999))
    local prog = assert(bpf(function()
      print(marker .. ' seq %d\n', pkt.ip.udp.src_port)
    end))
    local handle = assert(prog:load('sched_cls'))
    for seq = 1, 3 do assert(loader.test_run(handle, packet(seq, 1))) end
    local messages = {}
    for _ = 1, 1000 do
      local line, message = log:read(2000)
      assert.is_truthy(line, 'no line on the trace pipe within 2 s')
      if message and message:find(marker, 1, true) then
        assert.matches('bpf_trace_printk: ', line)
        messages[#messages + 1] = message
        if #messages == 3 then break end
      end
    end
    assert.same({ marker .. ' seq 1', marker .. ' seq 2', marker .. ' seq 3' }, messages)
    local t0 = os.time()
    log:read(20) -- nothing of ours: returns on time, a line or nil
    assert.is_true(os.time() - t0 <= 1)
    assert.is_true(log:fd() >= 0)
    log:close()
    local line, err = log:read(0)
    assert.is_nil(line)
    assert.matches('closed', err)
    handle:close()
  end)

  -- The kernel lets one reader at a time open the trace pipe.
  it('waits for another reader of the trace pipe to let go', function()
    local log = assert(bpf.tracelog())
    local t0 = now()
    local second, err = bpf.tracelog({ wait = 0.2 })
    assert.is_nil(second)
    assert.matches('trace_pipe: another reader has it open.*EBUSY, waited 0.2 s', err)
    assert.is_true(now() - t0 >= 0.2)
    local bad
    bad, err = bpf.tracelog({ wait = 'long' })
    assert.is_nil(bad)
    assert.matches('opts.wait is seconds to wait', err)
    log:close()
    -- a shell holds it for half a second: this one gets it after
    local held = os.tmpname()
    os.remove(held)
    assert(os.execute(("sh -c 'exec 3<%s && touch %s && sleep 0.5' >/dev/null 2>&1 &")
      :format(log.path, held)))
    for _ = 1, 1000 do
      local f = io.open(held)
      if f then f:close() break end
      sleep(0.01)
    end
    assert.is_truthy(io.open(held), 'the shell did not get the trace pipe')
    t0 = now()
    log = assert(bpf.tracelog({ wait = 10 }))
    assert.is_true(now() - t0 >= 0.1, 'opened while the shell held it')
    log:close()
    os.remove(held)
  end)
end)

describe('bpf.print_log2_hist', function()
  it('prints a Lua table the way bcc prints its histograms', function()
    local out = {}
    local text = bpf.print_log2_hist({ [0] = 1, [1] = 5, [2] = 10, [4] = 3 }, 'usecs',
      { print = function(s) out[#out + 1] = s end })
    assert.equals(table.concat({
      '     usecs               : count     distribution',
      '         0 -> 1          : 1        |****                                    |',
      '         2 -> 3          : 5        |********************                    |',
      '         4 -> 7          : 10       |****************************************|',
      '         8 -> 15         : 0        |                                        |',
      '        16 -> 31         : 3        |************                            |',
    }, '\n'), text)
    assert.same({ text }, out)
    assert.equals('', reader.log2_hist_string({}))
  end)

  it('prints a map a program filled with math.log2', function()
    local hist = assert(bpf.map('array', 64, 'uint32_t', 'uint64_t'))
    local prog = assert(bpf(function(skb)
      xadd(hist[math.log2(skb.len)], 1)
    end))
    local handle = assert(prog:load('sched_cls'))
    for _, size in ipairs({ 40, 100, 120, 1000 }) do
      assert(loader.test_run(handle, pk.eth_ip(17, string.rep('x', size - 34))))
    end
    handle:close()
    local text = reader.log2_hist_string(hist, 'bytes', { strip_leading_zero = true })
    assert.equals(table.concat({
      '     bytes               : count     distribution',
      '        32 -> 63         : 1        |********************                    |',
      '        64 -> 127        : 2        |****************************************|',
      '       128 -> 255        : 0        |                                        |',
      '       256 -> 511        : 0        |                                        |',
      '       512 -> 1023       : 1        |********************                    |',
    }, '\n'), text)
  end)
end)
