-- bpf.map against the running kernel: every map type round-trips through
-- libbpf, and fds never leak.  Needs root and BPF; nothing here is mocked.
local ffi = require('ffi')
local bit = require('bit')
local libbpf = require('bpf.libbpf')
local bpfmap = require('bpf.map')
local loader = require('bpf.loader')
local kernel = require('spec.support.kernel')

-- Private names, so that other specs in the same process can declare their own.
ffi.cdef [[
long map_spec_syscall(long number, void *attr, int pid, int cpu, int group_fd,
                      unsigned long flags) __asm__("syscall");
int map_spec_close(int fd) __asm__("close");
struct map_spec_perf_attr {            /* PERF_ATTR_SIZE_VER0 */
  uint32_t type, size;
  uint64_t config, sample_period, sample_type, read_format, flags;
  uint32_t wakeup_events, bp_type;
  uint64_t config1;
};
]]

local open_fd_count, asm = kernel.open_fd_count, kernel.asm

local function ensure_bpffs()
  local mounts = assert(io.open('/proc/mounts')):read('*a')
  if not mounts:find(' /sys/fs/bpf bpf ', 1, true) then
    assert(os.execute('mount -t bpf bpf /sys/fs/bpf'))
  end
end

local function sorted(list)
  table.sort(list, function(a, b) return tonumber(a) < tonumber(b) end)
  return list
end

local ncpus = libbpf.lib.libbpf_num_possible_cpus()

describe('bpf.libbpf', function()
  it('has the enum names libbpf itself knows, in the same order', function()
    for _, kind in ipairs({ 'map_type', 'prog_type', 'attach_type' }) do
      local to_string = libbpf.lib['libbpf_bpf_' .. kind .. '_str']
      local known = 0
      for value = 0, 200 do
        local s = to_string(value)
        if s == nil then break end
        assert.equal(ffi.string(s), libbpf[kind .. '_name'][value])
        assert.equal(value, libbpf[kind][ffi.string(s)])
        known = known + 1
      end
      assert.is_true(known > 30, kind)
    end
    assert.equal(1, libbpf.map_type.hash)
    assert.equal(27, libbpf.map_type.ringbuf)
    assert.equal(6, libbpf.prog_type.xdp)
    assert.equal(ffi.C.BPF_PROG_TYPE_SCHED_CLS, libbpf.prog_type.sched_cls)
  end)

  it('turns a negative errno into a message naming the object', function()
    local ok, err = libbpf.error('map "x": update', -7)
    assert.is_nil(ok)
    assert.equal('map "x": update: Argument list too long (errno 7)', err)
    assert.matches('ENOTSUPP', libbpf.message('y', -524))
  end)
end)

describe('bpf.map', function()
  it('is callable and has .new and .open_pinned', function()
    assert.is_function(bpfmap.new)
    assert.is_function(bpfmap.open_pinned)
    local m = assert(bpfmap('hash'))
    assert.is_true(bpfmap.is_map(m))
    m:close()
  end)

  it('creates a hash map with the 2016 defaults and plain fields', function()
    local m = assert(bpfmap('hash'))
    assert.equal(true, rawget(m, '__map'))
    assert.equal('number', type(rawget(m, 'fd')))
    assert.is_true(m.fd >= 0)
    assert.equal('hash', rawget(m, 'map_type'))
    assert.equal(4096, rawget(m, 'max_entries'))
    assert.equal(4, rawget(m, 'key_size'))
    assert.equal(4, rawget(m, 'val_size'))
    assert.is_true(ffi.istype('uint32_t', ffi.new(rawget(m, 'key_type'))))
    assert.is_true(ffi.istype('uint32_t', ffi.new(rawget(m, 'val_type'))))
    assert.equal('hash', rawget(m, 'name'))
    assert.equal(4096, m:len())
    assert.equal(4096, getmetatable(m).__len(m))
    -- `#` calls __len on tables only in LuaJIT builds with LUA52COMPAT
    if #setmetatable({}, { __len = function() return 1 end }) == 1 then assert.equal(4096, #m) end
    m:close()
  end)

  it('round-trips hash entries: update, lookup, iterate both ways, delete', function()
    local m = assert(bpfmap('hash', 64))
    assert.is_nil(m[7])
    m[7], m[8], m[9] = 70, 80, 90
    assert.equal(70, m[7])
    assert.equal('number', type(m[8]))
    local seen = {}
    for k, v in m.pairs, m, nil do seen[k] = v end
    assert.same({ [7] = 70, [8] = 80, [9] = 90 }, seen)
    seen = {}
    for k, v in m:pairs() do seen[k] = v end
    assert.same({ [7] = 70, [8] = 80, [9] = 90 }, seen)
    m[8] = nil
    assert.is_nil(m[8])
    m[8] = nil -- deleting an absent key is a no-op
    assert.is_true(m:update(8, 81))
    assert.equal(81, m:lookup(8))
    assert.is_true(m:delete(8))
    local ok, err = m:delete(8)
    assert.is_nil(ok)
    assert.matches('bpf.map "hash" %(hash%): delete: No such file or directory', err)
    m:close()
  end)

  it('honours update flags', function()
    local m = assert(bpfmap('hash', 8))
    assert.is_nil((m:update(1, 1, libbpf.update_flags.exist)))
    assert.is_true(m:update(1, 1, libbpf.update_flags.noexist))
    local ok, err = m:update(1, 2, libbpf.update_flags.noexist)
    assert.is_nil(ok)
    assert.matches('File exists', err)
    m:close()
  end)

  it('reports a full map, naming it, both as nil, err and as a raised error', function()
    local m = assert(bpfmap('hash', 2, nil, nil, { name = 'tiny' }))
    m[1], m[2] = 1, 2
    local ok, err = m:update(3, 3)
    assert.is_nil(ok)
    assert.matches('bpf.map "tiny" %(hash%): update: Argument list too long %(errno 7%)', err)
    assert.has_error(function() m[3] = 3 end)
    m:close()
  end)

  it('reads and writes an array map: every index exists, delete is refused', function()
    local m = assert(bpfmap('array', 8, 'uint32_t', 'int64_t'))
    assert.equal(0LL, m[3])
    m[3] = -5
    assert.equal(-5LL, m[3])
    assert.equal('cdata', type(m[3]))
    local n = 0
    for k, v in m:pairs() do
      n = n + 1
      assert.equal(k == 3 and -5LL or 0LL, v)
    end
    assert.equal(8, n)
    assert.is_nil(m[8])
    local ok, err = m:delete(3)
    assert.is_nil(ok)
    assert.matches('Invalid argument', err)
    assert.has_error(function() m[3] = nil end)
    m:close()
  end)

  it('round-trips lru_hash entries and evicts the oldest when full', function()
    local m = assert(bpfmap('lru_hash', 16))
    for i = 1, 100 do m[i] = i * 2 end
    assert.equal(200, m[100])
    local n = 0
    for k, v in m:pairs() do
      n = n + 1
      assert.equal(k * 2, v)
    end
    assert.is_true(n > 0 and n <= 16)
    m:close()
  end)

  for _, type_name in ipairs({ 'percpu_hash', 'percpu_array', 'lru_percpu_hash' }) do
    it('gives one value per possible CPU for ' .. type_name, function()
      local m = assert(bpfmap(type_name, 8, nil, 'uint32_t'))
      assert.equal(true, m.percpu)
      assert.equal(ncpus, m.ncpus)
      local per_cpu = {}
      for cpu = 1, ncpus do per_cpu[cpu] = cpu * 10 end
      m[2] = per_cpu
      assert.same(per_cpu, m[2])
      m[3] = 7 -- one value for every CPU
      local all = m[3]
      assert.equal(ncpus, #all)
      for cpu = 1, ncpus do assert.equal(7, all[cpu]) end
      m[4] = { 1 } -- missing CPUs get zero
      assert.equal(1, m[4][1])
      if ncpus > 1 then assert.equal(0, m[4][2]) end
      local seen = {}
      for k, v in m:pairs() do seen[k] = v end
      assert.same(per_cpu, seen[2])
      m:close()
    end)
  end

  it('keeps per-CPU struct values apart in their 8-byte slots', function()
    local pair_t = ffi.typeof('struct { uint8_t a; uint8_t b; uint8_t c; }')
    local m = assert(bpfmap('percpu_array', 2, nil, pair_t))
    local values = {}
    for cpu = 1, ncpus do values[cpu] = { a = cpu, b = 2, c = 3 } end
    m[1] = values
    local got = m[1]
    for cpu = 1, ncpus do
      assert.equal(cpu, got[cpu].a)
      assert.equal(3, got[cpu].c)
    end
    m[0] = pair_t({ a = 5 }) -- one struct for every CPU
    assert.equal(5, m[0][ncpus].a)
    local ok, err = m:update(0, { a = 1 })
    assert.is_nil(ok)
    assert.matches('a per%-CPU value is a list', err)
    m:close()
  end)

  it('takes struct keys and values as cdata or as Lua tables', function()
    ffi.cdef('struct map_spec_flow { uint32_t saddr, daddr; uint16_t sport, dport; };')
    ffi.cdef('struct map_spec_stats { uint64_t packets, bytes; };')
    local m = assert(bpfmap('hash', 16, 'struct map_spec_flow', ffi.typeof('struct map_spec_stats')))
    assert.equal(12, m.key_size)
    assert.equal(16, m.val_size)
    local key = ffi.new('struct map_spec_flow', { saddr = 1, daddr = 2, sport = 3, dport = 4 })
    m[key] = ffi.new('struct map_spec_stats', { packets = 5, bytes = 600 })
    m[{ saddr = 9, daddr = 9, sport = 9, dport = 9 }] = { packets = 1, bytes = 2 }
    local v = m[{ saddr = 1, daddr = 2, sport = 3, dport = 4 }]
    assert.equal(5ULL, v.packets)
    assert.equal(600ULL, v.bytes)
    -- a value is a copy: the next lookup does not change it
    assert.equal(2ULL, m[{ saddr = 9, daddr = 9, sport = 9, dport = 9 }].bytes)
    assert.equal(600ULL, v.bytes)
    local keys = {}
    for k, val in m:pairs() do
      assert.is_true(ffi.istype('struct map_spec_flow', k))
      keys[#keys + 1] = k.saddr
      assert.is_true(val.packets > 0)
      -- the key handed back feeds map[k]
      assert.equal(val.bytes, m[k].bytes)
    end
    assert.same({ 1, 9 }, sorted(keys))
    local ok, err = m:update('not a flow', { packets = 1 })
    assert.is_nil(ok)
    assert.matches('bpf.map "hash" %(hash%): bad key: cannot convert', err)
    ok, err = m:update(key, 'not stats')
    assert.is_nil(ok)
    assert.matches('bad value: cannot convert', err)
    m:close()
  end)

  it('finds the longest prefix in an lpm_trie with its default IPv4 key', function()
    local m = assert(bpfmap('lpm_trie', 16))
    assert.equal(8, m.key_size)
    m[{ prefixlen = 8, data = { 10, 0, 0, 0 } }] = 1
    m[{ prefixlen = 16, data = { 10, 1, 0, 0 } }] = 2
    assert.equal(2, m[{ prefixlen = 32, data = { 10, 1, 2, 3 } }])
    assert.equal(1, m[{ prefixlen = 32, data = { 10, 200, 2, 3 } }])
    assert.is_nil(m[{ prefixlen = 32, data = { 11, 1, 2, 3 } }])
    local prefixes = {}
    for k, v in m:pairs() do prefixes[#prefixes + 1] = k.prefixlen * 100 + v end
    assert.same({ 801, 1602 }, sorted(prefixes))
    m[{ prefixlen = 16, data = { 10, 1, 0, 0 } }] = nil
    assert.equal(1, m[{ prefixlen = 32, data = { 10, 1, 2, 3 } }])
    m:close()
  end)

  it('takes an lpm_trie key struct of the caller (IPv6)', function()
    local key_t = ffi.typeof('struct { uint32_t prefixlen; uint8_t addr[16]; }')
    local m = assert(bpfmap('lpm_trie', 16, key_t, 'uint64_t'))
    m[key_t({ prefixlen = 16, addr = { 0x20, 0x01 } })] = 6
    assert.equal(6ULL, m[key_t({ prefixlen = 128, addr = { 0x20, 0x01, 0xd, 0xb8 } })])
    m:close()
  end)

  it('recovers kernel stacks from a stack_trace map filled by a program', function()
    local m = assert(bpfmap('stack_trace', 64))
    assert.equal(4, m.key_size)
    assert.equal(127 * 8, m.val_size)
    assert.is_true(ffi.istype('int32_t', ffi.new(m.key_type)))
    -- r2 = map; r3 = 0; r0 = bpf_get_stackid(ctx, map, 0); exit
    local code, n = asm({ { 0x18, 2, 1, 0, m.fd }, { 0 }, { 0xb7, 3, 0, 0, 0 },
      { 0x85, 0, 0, 0, 27 }, { 0x95 } })
    local prog = assert(loader.load(code, n, 'raw_tracepoint'))
    local run = assert(loader.test_run(prog))
    local id = bit.tobit(run.retval)
    assert.is_true(id >= 0, 'bpf_get_stackid returned ' .. id)
    local trace = m[id]
    assert.is_not_nil(trace)
    assert.is_true(trace.ip[0] ~= 0ULL)
    local ids = {}
    for k in m:pairs() do ids[#ids + 1] = k end
    assert.same({ id }, ids)
    m[id] = nil
    assert.is_nil(m[id])
    prog:close()
    m:close()
  end)

  it('defaults a perf_event_array to one int slot per CPU and stores perf event fds', function()
    local m = assert(bpfmap('perf_event_array'))
    assert.equal(ncpus, m.max_entries)
    assert.equal(4, m.key_size)
    assert.equal(4, m.val_size)
    local attr = ffi.new('struct map_spec_perf_attr')
    attr.type, attr.size, attr.config, attr.sample_period = 1, ffi.sizeof(attr), 10, 1 -- sw BPF output
    local syscall_no = ({ x64 = 298, arm64 = 241 })[jit.arch]
    local event_fd = tonumber(ffi.C.map_spec_syscall(syscall_no, attr, -1, 0, -1, 8))
    assert.is_true(event_fd >= 0, 'perf_event_open failed')
    m[0] = event_fd
    -- the kernel does not read perf_event_array slots back to user space
    local value, err = m:lookup(0)
    assert.is_nil(value)
    assert.matches('bpf.map "perf_event_array" %(perf_event_array%): lookup: .*ENOTSUPP', err)
    local keys = {}
    for k in m:pairs() do keys[#keys + 1] = k end
    assert.equal(ncpus, #keys)
    m[0] = nil
    ffi.C.map_spec_close(event_fd)
    m:close()
  end)

  it('stores programs in a prog_array and reads back their ids', function()
    local m = assert(bpfmap('prog_array', 4))
    local prog = assert(loader.load(asm({ { 0xb7, 0, 0, 0, 1 }, { 0x95 } }), 2, 'socket_filter'))
    m[1] = prog.fd
    local id = m[1]
    assert.equal('number', type(id))
    assert.is_true(id > 0)
    assert.is_nil(m[2])
    m[1] = nil
    assert.is_nil(m[1])
    prog:close()
    m:close()
  end)

  it('nests maps in array_of_maps and hash_of_maps', function()
    local inner = assert(bpfmap('array', 4))
    for _, type_name in ipairs({ 'array_of_maps', 'hash_of_maps' }) do
      local outer = assert(bpfmap(type_name, 4, nil, nil, { inner_map = inner }))
      outer[0] = inner.fd
      assert.is_true(outer[0] > 0) -- the inner map's id
      outer:close()
    end
    inner:close()
  end)

  it('sizes a ringbuf in bytes: a power of 2 and a page multiple, no keys', function()
    local page = libbpf.page_size
    local m = assert(bpfmap('ringbuf', page * 4))
    assert.equal(page * 4, m.max_entries)
    assert.equal(0, m.key_size)
    assert.equal(0, m.val_size)
    assert.is_nil(m.key_type)
    local value, err = m:lookup(0)
    assert.is_nil(value)
    assert.matches('has no keys', err)
    assert.equal(page, assert(bpfmap('ringbuf')).max_entries)
    local bad
    bad, err = bpfmap('ringbuf', page * 3)
    assert.is_nil(bad)
    assert.matches('power of 2', err)
    bad, err = bpfmap('ringbuf', page / 4)
    assert.is_nil(bad)
    assert.matches('multiple of ' .. page, err)
    m:close()
  end)

  it('creates keyless queue and stack maps', function()
    for _, type_name in ipairs({ 'queue', 'stack' }) do
      local m = assert(bpfmap(type_name, 8))
      assert.equal(0, m.key_size)
      assert.equal(4, m.val_size)
      m:close()
    end
  end)

  it('reads, writes and deletes in batches', function()
    local m = assert(bpfmap('hash', 1024))
    local keys, values = {}, {}
    for i = 1, 600 do keys[i], values[i] = i, i * 3 end
    assert.equal(600, m:update_batch(keys, values))
    assert.equal(1797, m[599])
    local got_keys, got_values = m:lookup_batch()
    assert.equal(600, #got_keys)
    for i = 1, #got_keys do assert.equal(got_keys[i] * 3, got_values[i]) end
    assert.equal(300, m:delete_batch({ unpack(keys, 1, 300) }))
    got_keys = m:lookup_batch()
    assert.equal(300, #got_keys)
    assert.is_nil(m[1])
    assert.equal(903, m[301])
    m:close()
  end)

  it('reads per-CPU values in batches and refuses to batch-delete an array', function()
    local m = assert(bpfmap('percpu_array', 4, nil, 'uint64_t'))
    m[2] = 5
    local keys, values = m:lookup_batch()
    assert.same({ 0, 1, 2, 3 }, keys)
    assert.equal(ncpus, #values[3])
    assert.equal(5ULL, values[3][1])
    local count, err = m:delete_batch({ 1 })
    assert.is_nil(count)
    assert.matches('bpf.map "percpu_array" %(percpu_array%): delete_batch', err)
    m:close()
  end)

  it('pins to bpffs and opens the pinned map with its type and sizes', function()
    ensure_bpffs()
    local path = '/sys/fs/bpf/luajit_bpf_map_spec_' .. tostring(os.time())
    os.remove(path)
    local m = assert(bpfmap('hash', 32, 'uint32_t', 'uint64_t', { name = 'pinned_counts' }))
    m[5] = 55
    assert.is_true(m:pin(path))
    local raw = assert(bpfmap.open_pinned(path))
    assert.equal('hash', raw.map_type)
    assert.equal('pinned_counts', raw.name)
    assert.equal(32, raw.max_entries)
    assert.equal(4, raw.key_size)
    assert.equal(8, raw.val_size)
    assert.equal(4, ffi.sizeof(raw.key_type))
    local v = raw[{ 5, 0, 0, 0 }]
    assert.equal(55, v[0])
    raw:close()
    local typed = assert(bpfmap.open_pinned(path, 'uint32_t', ffi.typeof('uint64_t')))
    assert.equal(55ULL, typed[5])
    typed[6] = 66
    assert.equal(66ULL, m[6])
    typed:close()
    local wrong, err = bpfmap.open_pinned(path, 'uint64_t')
    assert.is_nil(wrong)
    assert.matches('key type .* is 8 bytes, the map has 4', err)
    local ok
    ok, err = m:pin(path)
    assert.is_nil(ok)
    assert.matches('pin to ' .. path .. ': File exists', err)
    assert.is_true(os.remove(path))
    local missing
    missing, err = bpfmap.open_pinned(path)
    assert.is_nil(missing)
    assert.matches('No such file or directory', err)
    m:close()
  end)

  it('opens a pinned per-CPU map', function()
    ensure_bpffs()
    local path = '/sys/fs/bpf/luajit_bpf_map_spec_percpu_' .. tostring(os.time())
    os.remove(path)
    local m = assert(bpfmap('percpu_hash', 8, nil, 'uint32_t'))
    m[1] = 9
    assert.is_true(m:pin(path))
    local again = assert(bpfmap.open_pinned(path, 'uint32_t', 'uint32_t'))
    assert.equal('percpu_hash', again.map_type)
    assert.equal(ncpus, #again[1])
    assert.equal(9, again[1][1])
    again:close()
    os.remove(path)
    m:close()
  end)

  it('returns nil and a message for bad arguments', function()
    local m, err = bpfmap('no_such_type')
    assert.is_nil(m)
    assert.matches('unknown map type "no_such_type"', err)
    m, err = bpfmap('hash', 16, 'struct not_declared_anywhere_xyz')
    assert.is_nil(m)
    assert.matches('key type', err)
    m, err = bpfmap('hash', 0)
    assert.is_nil(m)
    assert.matches('max_entries', err)
    -- an array is indexed by 32-bit keys only
    m, err = bpfmap('array', 16, 'uint64_t', nil, { name = 'wide_index' })
    assert.is_nil(m)
    assert.equal('bpf.map "wide_index" (array): create (key 8 B, value 4 B, 16 entries): '
      .. 'Invalid argument (errno 22)', err)
    m = assert(bpfmap('hash', 16))
    local value
    value, err = m:lookup('not a number')
    assert.is_nil(value)
    assert.matches('bad key: cannot convert', err)
    assert.is_nil(m.no_such_field)
    m:close()
  end)

  it('closes once, stays closed, and says so', function()
    local m = assert(bpfmap('array', 4))
    assert.is_true(m:close())
    assert.is_true(m:close())
    assert.equal(-1, m.fd)
    local v, err = m:lookup(1)
    assert.is_nil(v)
    assert.matches('closed', err)
  end)

  it('leaves the fd count unchanged after 10,000 maps opened and closed', function()
    collectgarbage('collect')
    local before = open_fd_count()
    for _ = 1, 10000 do
      local m = assert(bpfmap('array', 1))
      m:close()
    end
    assert.equal(before, open_fd_count())
  end)

  it('closes the fds of 10,000 unreachable maps on GC', function()
    collectgarbage('collect')
    local before = open_fd_count()
    for _ = 1, 10000 do assert(bpfmap('array', 1)) end
    collectgarbage('collect')
    collectgarbage('collect')
    assert.equal(before, open_fd_count())
  end)
end)
