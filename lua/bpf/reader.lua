-- Reading what programs send to user space: perf event arrays, ring
-- buffers, the trace pipe (print() in a program), and log2 histograms.
--
--   local reader = require('bpf.reader')
--   r, err = map:reader([cpu][, event_ctype][, opts])     (perf_event_array maps; reader.perf)
--     cpu: one CPU's buffer, or nil for every CPU; opts.pages: pages per CPU (64)
--     r:block([timeout_ms])  -> true when events are waiting, false after timeout_ms
--                              (nil: wait as long as it takes)
--     for ev in r:read() do  the events now in the buffers, each a copy of
--                            event_ctype (a Lua string without one), oldest
--                            first within a CPU
--     r:consume(fn)          -> count: fn(ptr, size, cpu) for each event, ptr pointing
--                              into the buffer (valid during the call only), no copies
--     r.lost                 records the kernel dropped because the buffer was full
--     r:fd() (the epoll fd), r:close() (also on GC)
--   rb, err = reader.ringbuf(map, event_ctype, callback)   (bpf.ringbuf_reader)
--     rb:poll([timeout_ms])  waits like block(), then hands every record to
--                            callback(ev, size): ev points into the ring as
--                            event_ctype * (a void * without one), valid during the
--                            call only; returns how many, or nil, err
--     rb:consume()           the same without waiting
--     for ev in rb:events([timeout_ms]) do   copies, until none comes within timeout_ms
--     rb:fd(), rb:close() (also on GC)
--   log = reader.tracelog([path][, {wait = s}])  (bpf.tracelog) the trace pipe, tracefs mounted if
--                                            needed; while another process reads it, waits up to
--                                            wait seconds (10) for it to let go
--     log:read([timeout_ms]) -> line, message (the text after "bpf_trace_printk: "),
--                              or nil after timeout_ms (nil: wait as long as it takes)
--     for line, message in log:lines([timeout_ms]) do  until none comes within timeout_ms
--     log:close()
--   reader.print_log2_hist(hist[, label][, opts])   (bpf.print_log2_hist)
--     hist: a map or Lua table indexed by floor(log2(value)) (what math.log2 gives in a
--     program); prints bcc's histogram, opts.print replaces print; returns the text.
--     reader.log2_hist_string(hist[, label][, opts]) only returns it.
--
-- Perf buffers come from libbpf (perf_buffer__new_raw) and are read here
-- through perf_buffer__buffer(); ring buffers are mapped here the way libbpf
-- maps them (the consumer page writable, the producer page and the data
-- twice over read-only) because libbpf 1.1 hands no ring memory out.  Either
-- way events reach Lua with no C-to-Lua callback: the loops below are plain
-- Lua that the JIT compiles.
local ffi = require('ffi')
local bit = require('bit')
local libbpf = require('bpf.libbpf')

local lib = libbpf.lib
local C = ffi.C

local M = {}

ffi.cdef [[
struct bpf_reader_pollfd { int fd; short events; short revents; };
int bpf_reader_poll(struct bpf_reader_pollfd *fds, unsigned long nfds, int timeout) __asm__("poll");
void *bpf_reader_mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)
  __asm__("mmap");
int bpf_reader_munmap(void *addr, size_t length) __asm__("munmap");
int bpf_reader_open(const char *path, int flags) __asm__("open");
long bpf_reader_read(int fd, void *buf, size_t count) __asm__("read");
struct bpf_reader_timespec { long sec; long nsec; };
int bpf_reader_clock_gettime(int clock, struct bpf_reader_timespec *ts) __asm__("clock_gettime");
]]

local page_size = libbpf.page_size
local EINTR, EAGAIN = 4, 11
local POLLIN = 1

local pollfd = ffi.new('struct bpf_reader_pollfd[1]')
local now_ts = ffi.new('struct bpf_reader_timespec')
local CLOCK_MONOTONIC = 1

local function now_ms()
  C.bpf_reader_clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.sec) * 1e3 + tonumber(now_ts.nsec) / 1e6
end

-- Waits until fd is readable: true, false on timeout, or nil, err.
local function poll_once(fd, timeout_ms, what)
  pollfd[0].fd, pollfd[0].events, pollfd[0].revents = fd, POLLIN, 0
  local timeout = timeout_ms and math.max(0, math.floor(timeout_ms)) or -1
  while true do
    local n = C.bpf_reader_poll(pollfd, 1, timeout)
    if n >= 0 then return n > 0 end
    local e = ffi.errno()
    if e ~= EINTR then return libbpf.error(what .. ': poll', e) end
  end
end

-- Waits until has_data() or timeout_ms (nil: for ever) passes, polling fd
-- in between: a perf event reports a wakeup once more after its data was
-- read, so readiness alone is not enough.
local function wait_for(fd, timeout_ms, what, has_data)
  local deadline = timeout_ms and now_ms() + timeout_ms
  while true do
    if has_data() then return true end
    local left = deadline and deadline - now_ms()
    if left and left <= 0 then return false end
    local ready, err = poll_once(fd, left and math.ceil(left), what)
    if ready == nil then return nil, err end
  end
end

local function event_type(ct, what)
  if ct == nil then return nil end
  local ok, t = pcall(ffi.typeof, ct)
  if not ok then return nil, ('%s: event type %s: %s'):format(what, tostring(ct), t) end
  if not ffi.sizeof(t) then return nil, ('%s: event type %s has no size'):format(what, tostring(t)) end
  return t
end

-- A function turning (pointer, size) into what an iterator yields: a copy
-- of the event type (at most size bytes of it, the rest zero), or a string.
local function copier(ct)
  if not ct then return function(ptr, size) return ffi.string(ptr, size) end end
  local want = ffi.sizeof(ct)
  return function(ptr, size)
    local ev = ct()
    ffi.copy(ev, ptr, size < want and size or want)
    return ev
  end
end

local function map_fd(map, what, wanted_type)
  if type(map) == 'table' and type(map.fd) == 'number' then
    if map.fd < 0 then return nil, what .. ': the map is closed' end
    if map.map_type and map.map_type ~= wanted_type then
      return nil, ('%s: needs a %s map, not %s'):format(what, wanted_type, tostring(map.map_type))
    end
    return map.fd
  end
  return nil, ('%s: expected a %s map made with bpf.map()'):format(what, wanted_type)
end

---------------------------------------------------------------------------
-- Perf event arrays

local PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT, PERF_SAMPLE_RAW = 1, 10, 1024
local PERF_RECORD_LOST, PERF_RECORD_SAMPLE = 2, 9
local header_ptr = ffi.typeof('struct perf_event_header *')
local u32_ptr = ffi.typeof('uint32_t *')
local u64_ptr = ffi.typeof('uint64_t *')
local u8_ptr = ffi.typeof('uint8_t *')
local page_ptr = ffi.typeof('struct perf_event_mmap_page *')

local perf_mt = { __index = {} }
local perf = perf_mt.__index

local function free_perf_buffer(pb) lib.perf_buffer__free(pb) end

function M.perf(map, cpu, ct, opts)
  local what = ('bpf reader of map "%s"'):format(type(map) == 'table' and tostring(map.name) or '?')
  -- map:reader(ctype) reads every CPU
  if cpu ~= nil and type(cpu) ~= 'number' then cpu, ct, opts = nil, cpu, ct end
  opts = opts or {}
  local fd, err = map_fd(map, what, 'perf_event_array')
  if not fd then return nil, err end
  local t
  t, err = event_type(ct, what)
  if ct ~= nil and not t then return nil, err end
  local pages = opts.pages or 64
  local attr = ffi.new('struct perf_event_attr')
  attr.size = ffi.sizeof(attr)
  attr.type, attr.config = PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT
  attr.sample_type, attr.sample_period, attr.wakeup_events = PERF_SAMPLE_RAW, 1, 1
  local raw_opts = ffi.new('struct perf_buffer_raw_opts')
  raw_opts.sz = ffi.sizeof(raw_opts)
  local cpus = ffi.new('int[1]', cpu or 0)
  if cpu then
    if cpu < 0 or cpu >= (map.max_entries or math.huge) then
      return nil, ('%s: no CPU %d in a map of %s entries'):format(what, cpu, tostring(map.max_entries))
    end
    raw_opts.cpu_cnt, raw_opts.cpus, raw_opts.map_keys = 1, cpus, cpus
  end
  local pb = lib.perf_buffer__new_raw(fd, pages, attr, nil, nil, raw_opts)
  if pb == nil then
    local e = ffi.errno()
    if libbpf.out_of_fds(-e) then
      collectgarbage('collect')
      pb = lib.perf_buffer__new_raw(fd, pages, attr, nil, nil, raw_opts)
      e = ffi.errno()
    end
    if pb == nil then
      return libbpf.error(('%s: perf buffers of %d pages%s'):format(what, pages,
        cpu and (' on CPU ' .. cpu) or ''), e)
    end
  end
  pb = ffi.gc(pb, free_perf_buffer)
  local r = setmetatable({ lost = 0, what = what, type = t, _pb = pb, _rings = {}, _copy = copier(t) },
    perf_mt)
  local buf, size = ffi.new('void *[1]'), ffi.new('size_t[1]')
  for i = 0, tonumber(lib.perf_buffer__buffer_cnt(pb)) - 1 do
    assert(lib.perf_buffer__buffer(pb, i, buf, size) == 0)
    local page = ffi.cast(page_ptr, buf[0])
    local data_size = tonumber(page.data_size)
    if data_size == 0 then data_size = tonumber(size[0]) end
    local offset = tonumber(page.data_offset)
    if offset == 0 then offset = page_size end
    r._rings[#r._rings + 1] = { page = page, data = ffi.cast(u8_ptr, buf[0]) + offset, size = data_size,
      scratch = ffi.new('uint8_t[?]', data_size), cpu = cpu or i }
  end
  return r
end

-- Walks the records of one CPU's ring: fn(ptr, size, cpu) for each sample.
local function drain(r, ring, fn)
  local page, data, size = ring.page, ring.data, ring.size
  local mask = size - 1
  local head = tonumber(page.data_head)
  local tail = tonumber(page.data_tail)
  local n = 0
  while tail < head do
    local off = bit.band(tail, mask)
    local rec = data + off
    local hdr = ffi.cast(header_ptr, rec)
    local len = hdr.size
    if off + len > size then -- the record wraps: put it together
      local first = size - off
      ffi.copy(ring.scratch, rec, first)
      ffi.copy(ring.scratch + first, data, len - first)
      rec = ring.scratch
      hdr = ffi.cast(header_ptr, rec)
    end
    if hdr.type == PERF_RECORD_SAMPLE then
      n = n + 1
      fn(rec + 12, ffi.cast(u32_ptr, rec + 8)[0], ring.cpu)
    elseif hdr.type == PERF_RECORD_LOST then
      r.lost = r.lost + tonumber(ffi.cast(u64_ptr, rec + 16)[0])
    end
    tail = tail + len
  end
  page.data_tail = tail
  return n
end

local function perf_has_data(r)
  for _, ring in ipairs(r._rings) do
    if ring.page.data_head ~= ring.page.data_tail then return true end
  end
  return false
end

function perf.block(r, timeout_ms)
  if not r._pb then return nil, r.what .. ': closed' end
  return wait_for(lib.perf_buffer__epoll_fd(r._pb), timeout_ms, r.what,
    function() return perf_has_data(r) end)
end

function perf.consume(r, fn)
  if not r._pb then return nil, r.what .. ': closed' end
  local n = 0
  for _, ring in ipairs(r._rings) do n = n + drain(r, ring, fn) end
  return n
end

function perf.read(r)
  local events, copy = {}, r._copy
  local count = 0
  if r._pb then
    r:consume(function(ptr, size)
      count = count + 1
      events[count] = copy(ptr, size)
    end)
  end
  local i = 0
  return function()
    i = i + 1
    if i > count then return nil end
    local ev = events[i]
    events[i] = nil
    return ev
  end
end

function perf.fd(r)
  if not r._pb then return -1 end
  return lib.perf_buffer__epoll_fd(r._pb)
end

function perf.close(r)
  local pb = r._pb
  if pb then
    r._pb, r._rings = nil, {}
    ffi.gc(pb, nil)
    lib.perf_buffer__free(pb)
  end
  return true
end

perf_mt.__tostring = function(r)
  return ('%s: %d CPU buffer(s)%s'):format(r.what, #r._rings, r._pb and '' or ', closed')
end

---------------------------------------------------------------------------
-- Ring buffers

local PROT_READ, PROT_WRITE, MAP_SHARED = 1, 2, 1
local BUSY_BIT, DISCARD_BIT = 0x80000000, 0x40000000
local LEN_MASK = 0x3fffffff
local MAP_FAILED = ffi.cast('void *', -1)

local ringbuf_mt = { __index = {} }
local ringbuf = ringbuf_mt.__index

-- The two mappings of a ring, unmapped when the owner is collected.
ffi.cdef [[
struct bpf_reader_ring {
  uint64_t *consumer;      /* consumer page, writable */
  uint64_t *producer;      /* producer page, then the data twice */
  size_t size;             /* data bytes (max_entries) */
};
]]

local function unmap_ring(ring)
  if ring.consumer ~= nil then C.bpf_reader_munmap(ring.consumer, page_size) end
  if ring.producer ~= nil then C.bpf_reader_munmap(ring.producer, page_size + 2 * ring.size) end
  ring.consumer, ring.producer = nil, nil
end

local function mmap(size, prot, fd, offset)
  local p = C.bpf_reader_mmap(nil, size, prot, MAP_SHARED, fd, offset)
  if p == MAP_FAILED then return nil, ffi.errno() end
  return p
end

function M.ringbuf(map, ct, callback)
  local what = ('bpf ring buffer reader of map "%s"')
    :format(type(map) == 'table' and tostring(map.name) or '?')
  if type(ct) == 'function' and callback == nil then ct, callback = nil, ct end
  local fd, err = map_fd(map, what, 'ringbuf')
  if not fd then return nil, err end
  local t
  t, err = event_type(ct, what)
  if ct ~= nil and not t then return nil, err end
  if callback ~= nil and type(callback) ~= 'function' then
    return nil, what .. ': the callback must be a function'
  end
  local size = map.max_entries
  local ring = ffi.gc(ffi.new('struct bpf_reader_ring'), unmap_ring)
  ring.size = size
  local p, e = mmap(page_size, bit.bor(PROT_READ, PROT_WRITE), fd, 0)
  if not p then return libbpf.error(what .. ': mapping the consumer page', e) end
  ring.consumer = ffi.cast(u64_ptr, p)
  p, e = mmap(page_size + 2 * size, PROT_READ, fd, page_size)
  if not p then return libbpf.error(what .. ': mapping the data pages', e) end
  ring.producer = ffi.cast(u64_ptr, p)
  return setmetatable({
    what = what, type = t, callback = callback, _ring = ring, _fd = fd, _map = map,
    _data = ffi.cast(u8_ptr, p) + page_size, _mask = size - 1,
    _ptr_t = t and ffi.typeof('$ *', t) or ffi.typeof('void *'), _copy = copier(t),
  }, ringbuf_mt)
end

-- Hands every committed record to fn(ptr, size); stops at a record still
-- being written, or when fn returns false.  Returns the count.
local function process(rb, fn)
  local ring = rb._ring
  local consumer, producer, data, mask, ptr_t = ring.consumer, ring.producer, rb._data, rb._mask, rb._ptr_t
  local cons = tonumber(consumer[0])
  local n = 0
  while true do
    local prod = tonumber(producer[0])
    if cons >= prod then return n end
    repeat
      local at = data + bit.band(cons, mask)
      local len = ffi.cast(u32_ptr, at)[0]
      if bit.band(len, BUSY_BIT) ~= 0 then return n end
      cons = cons + bit.band(bit.band(len, LEN_MASK) + 15, -8)
      local stop = false
      if bit.band(len, DISCARD_BIT) == 0 then
        n = n + 1
        stop = fn(ffi.cast(ptr_t, at + 8), len) == false
      end
      consumer[0] = cons
      if stop then return n end
    until cons >= prod
  end
end

function ringbuf.consume(rb)
  if not rb._ring then return nil, rb.what .. ': closed' end
  if not rb.callback then return nil, rb.what .. ': no callback (use rb:events())' end
  return process(rb, rb.callback)
end

local function has_data(rb)
  local ring = rb._ring
  return ring.consumer[0] < ring.producer[0]
end

function ringbuf.poll(rb, timeout_ms)
  if not rb._ring then return nil, rb.what .. ': closed' end
  local ready, err = wait_for(rb._fd, timeout_ms, rb.what, function() return has_data(rb) end)
  if ready == nil then return nil, err end
  return rb:consume()
end

function ringbuf.events(rb, timeout_ms)
  local copy = rb._copy
  local batch, count, i = {}, 0, 0
  local function collect(ptr, size)
    count = count + 1
    batch[count] = copy(ptr, size)
    if count == 4096 then return false end -- enough for one batch
  end
  return function()
    if i == count then -- the batch is used up: take what the ring holds now
      if not rb._ring then return nil end
      for j = 1, count do batch[j] = nil end
      count, i = 0, 0
      process(rb, collect)
      if count == 0 and timeout_ms and timeout_ms > 0 then
        if wait_for(rb._fd, timeout_ms, rb.what, function() return has_data(rb) end) then
          process(rb, collect)
        end
      end
      if count == 0 then return nil end
    end
    i = i + 1
    return batch[i]
  end
end

function ringbuf.fd(rb) return rb._ring and rb._fd or -1 end

function ringbuf.close(rb)
  local ring = rb._ring
  if ring then
    rb._ring = nil
    unmap_ring(ring)
    ffi.gc(ring, nil)
  end
  return true
end

ringbuf_mt.__tostring = function(rb)
  return ('%s: %d bytes%s'):format(rb.what, rb._mask + 1, rb._ring and '' or ', closed')
end

---------------------------------------------------------------------------
-- The trace pipe

local O_RDONLY_NONBLOCK_CLOEXEC = 0x800 + 0x80000

local tracelog_mt = { __index = {} }
local tracelog = tracelog_mt.__index

local EBUSY = 16
local DEFAULT_WAIT_SECONDS = 10

-- The kernel lets one reader at a time open the trace pipe (EBUSY for the
-- next): wait for the other one to let go, up to opts.wait seconds.
function M.tracelog(path, opts)
  if type(path) == 'table' then path, opts = nil, path end
  opts = opts or {}
  local wait = opts.wait or DEFAULT_WAIT_SECONDS
  if type(wait) ~= 'number' or wait < 0 then
    return nil, ('bpf.tracelog: opts.wait is seconds to wait (a number >= 0), not %s'):format(tostring(wait))
  end
  local tracepoint = require('bpf.tracepoint')
  if not path then
    local ok, root = pcall(tracepoint.mount)
    if not ok then return nil, (tostring(root):gsub('^[^:]*:%d+: ', '')) end
    path = root .. '/trace_pipe'
  end
  local deadline = now_ms() + wait * 1e3
  local fd = C.bpf_reader_open(path, O_RDONLY_NONBLOCK_CLOEXEC)
  while fd < 0 and ffi.errno() == EBUSY and now_ms() < deadline do
    poll_once(-1, 50, 'bpf.tracelog') -- no fd: a 50 ms sleep
    fd = C.bpf_reader_open(path, O_RDONLY_NONBLOCK_CLOEXEC)
  end
  if fd < 0 then
    local e = ffi.errno()
    if e == EBUSY then
      return nil, ('bpf.tracelog: %s: another reader has it open, and the kernel allows one at a time '
        .. '(EBUSY, waited %g s; close that reader, or wait longer with {wait = seconds})')
        :format(path, wait)
    end
    return libbpf.error('bpf.tracelog: ' .. path, e)
  end
  return setmetatable({ path = path, _owner = libbpf.own_fd(fd), _buf = ffi.new('char[4096]'),
    _pending = '' }, tracelog_mt)
end

local function message_of(line)
  return line:match('bpf_trace_printk: (.*)$')
end

-- One line from what was read already, if a whole one is there.
local function next_line(log)
  local line, rest = log._pending:match('^([^\n]*)\n(.*)$')
  if not line then return nil end
  log._pending = rest
  return line
end

function tracelog.read(log, timeout_ms)
  if type(timeout_ms) ~= 'number' then timeout_ms = nil end -- log:read('*l') as with a file
  local fd = log._owner.fd
  if fd < 0 then return nil, 'bpf.tracelog: closed' end
  local deadline = timeout_ms and now_ms() + timeout_ms
  while true do
    local line = next_line(log)
    if line then return line, message_of(line) end
    local n = tonumber(C.bpf_reader_read(fd, log._buf, 4096))
    if n > 0 then
      log._pending = log._pending .. ffi.string(log._buf, n)
    else
      local e = ffi.errno()
      if n < 0 and e ~= EAGAIN and e ~= EINTR then return libbpf.error('bpf.tracelog: read', e) end
      local left = deadline and deadline - now_ms()
      if left and left <= 0 then return nil end
      local ready, err = poll_once(fd, left and math.ceil(left), 'bpf.tracelog')
      if ready == nil then return nil, err end
    end
  end
end

function tracelog.lines(log, timeout_ms)
  return function()
    local line, message = log:read(timeout_ms or 0)
    if line then return line, message end
    return nil
  end
end

function tracelog.fd(log) return log._owner.fd end

function tracelog.close(log)
  libbpf.close_fd(log._owner)
  return true
end

---------------------------------------------------------------------------
-- log2 histograms, printed the way bcc prints them

local function bucket_counts(hist)
  local counts, top = {}, -1
  local function put(k, v)
    k = tonumber(k)
    v = tonumber(v) or 0
    if k and k >= 0 and k % 1 == 0 then
      counts[k] = (counts[k] or 0) + v
      if v > 0 and k > top then top = k end
    end
  end
  if type(hist) == 'table' and rawget(hist, '__map') then
    for k, v in hist:pairs() do
      if type(v) == 'table' then -- a per-CPU map: add the CPUs up
        local sum = 0
        for _, x in ipairs(v) do sum = sum + (tonumber(x) or 0) end
        v = sum
      end
      put(k, v)
    end
  else
    for k, v in pairs(hist) do put(k, v) end
  end
  return counts, top
end

local function stars(count, max, width)
  if max <= 0 then return '' end
  local n = math.min(width, math.floor(width * count / max))
  return string.rep('*', n)
end

function M.log2_hist_string(hist, label, opts)
  if type(label) == 'table' then label, opts = nil, label end
  opts = opts or {}
  label = label or 'value'
  local counts, top = bucket_counts(hist)
  if top < 0 then return '' end
  local max = 0
  for k = 0, top do max = math.max(max, counts[k] or 0) end
  local wide = top >= 32
  local width = wide and 20 or 40
  local head = wide and '               %-29s : count     distribution'
    or '     %-19s : count     distribution'
  local row = (wide and '%20s -> %-20s : %-8d |%-' or '%10s -> %-10s : %-8d |%-') .. width .. 's|'
  local lines = { head:format(label) }
  local skipping = opts.strip_leading_zero
  for k = 0, top do
    local count = counts[k] or 0
    if not (skipping and count == 0) then
      skipping = false
      local low = k == 0 and 0 or 2 ^ k
      local high = 2 ^ (k + 1) - 1
      lines[#lines + 1] = row:format(('%.0f'):format(low), ('%.0f'):format(high), count,
        stars(count, max, width))
    end
  end
  return table.concat(lines, '\n')
end

function M.print_log2_hist(hist, label, opts)
  if type(label) == 'table' then label, opts = nil, label end
  local text = M.log2_hist_string(hist, label, opts)
  if text ~= '' then ((opts and opts.print) or print)(text) end
  return text
end

return M
