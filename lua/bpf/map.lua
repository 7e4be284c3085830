-- BPF maps seen from user space, over libbpf.
--
-- require('bpf.map') returns a callable table (bpf.map in the public API):
--   map, err = bpf.map(type, max_entries, key_ctype, val_ctype, opts)
--   map, err = bpf.map.new(...)                     (the same)
--   map, err = bpf.map.open_pinned(path, key_ctype, val_ctype)
-- type is a lowercase map type name ('hash', 'percpu_array', 'lpm_trie',
-- ...); ctypes are ctype objects or C type strings; opts = { name=,
-- flags= (number), map_extra=, numa_node=, inner_map= (a map object, for
-- array_of_maps and hash_of_maps) }.  Failures return nil and a message that
-- names the map and the errno text.
--
-- A map is a Lua table whose plain fields the compiler core reads: __map
-- (true), fd, map_type (name), key_type, val_type (ctypes, nil when the type
-- has no keys or values, like ringbuf), key_size, val_size, max_entries,
-- name, flags; for per-CPU types also percpu = true and ncpus.
--   map[k]              value, or nil when absent (scalars of up to 32 bits
--                       and floats come back as Lua numbers, 64-bit
--                       integers as boxed cdata, structs and arrays as
--                       cdata copies)
--   map[k] = v          update (BPF_ANY); raises a Lua error on failure
--   map[k] = nil        delete
--   map:lookup(k)       value; nil when absent; nil, err on failure
--   map:update(k, v, flags) / map:delete(k)   true, or nil, err
--   for k, v in map.pairs, map, nil do        (the 2016 form)
--   for k, v in map:pairs() do
--   map:len(), #map     max_entries (#map only where the LuaJIT build honours
--                       __len on tables, i.e. LUAJIT_ENABLE_LUA52COMPAT)
--   map:lookup_batch() -> keys, values (1-based arrays)
--   map:update_batch(keys, values, flags) / map:delete_batch(keys) -> count
--   map:pin(path), map:close() (also on GC; closing twice is harmless)
-- Keys and values may be numbers, cdata, or Lua tables (initialisers of a
-- struct or array type).  A per-CPU map reads as a 1-based Lua array with
-- one value per possible CPU (element i is CPU i-1); writing a table sets
-- one value per CPU (missing CPUs get zero), anything else sets every CPU.
-- A string key that names a method (map['pairs']) gives the method: use
-- map:lookup(k) for such keys.
local ffi = require('ffi')
local libbpf = require('bpf.libbpf')

local lib, errno = libbpf.lib, libbpf.errno

-- The kernel's stack trace value: PERF_MAX_STACK_DEPTH instruction pointers.
if not pcall(ffi.typeof, 'struct bpf_stacktrace') then
  ffi.cdef('struct bpf_stacktrace { uint64_t ip[127]; };')
end

local page_size = libbpf.page_size

-- ffi.typeof with parameters ('$[1]'), safe under wrappers that memoise
-- ffi.typeof by its first argument alone (busted does): the parameters'
-- ctype ids go into a comment, so the string differs when they do.
local function typeof_with(template, ...)
  local ids = {}
  for i = 1, select('#', ...) do
    local param = select(i, ...)
    ids[i] = type(param) == 'number' and ('n' .. param) or ('t' .. tonumber(param))
  end
  return ffi.typeof(template .. ' /* ' .. table.concat(ids, ' ') .. ' */', ...)
end

-- One slot of ct, for libbpf to read or write through.
local function slot_of(ct)
  local slot = typeof_with('$[1]', ct)()
  assert(ffi.sizeof(slot) == ffi.sizeof(ct), 'bpf.map: ffi.typeof returned the wrong type')
  return slot
end

-- Per type: what bpf.map() uses when the caller leaves an argument out.
-- keyless/valueless types have size-0 keys/values; default_entries may be a
-- function evaluated at creation.
local type_defaults = {
  stack_trace = { key = 'int32_t', val = 'struct bpf_stacktrace' },
  prog_array = { key = 'uint32_t', val = 'uint32_t' }, -- slots of program fds: m[i] = prog:load(...)
  -- redirect_map's targets: devmap[i] = ifindex, cpumap[cpu] = queue size (struct
  -- bpf_cpumap_val's qsize, one slot per possible CPU), xskmap[i] = an AF_XDP socket's fd
  devmap = { key = 'uint32_t', val = 'uint32_t' },
  devmap_hash = { key = 'uint32_t', val = 'uint32_t' },
  cpumap = { key = 'uint32_t', val = 'uint32_t', default_entries = libbpf.lib.libbpf_num_possible_cpus },
  xskmap = { key = 'uint32_t', val = 'uint32_t' },
  perf_event_array = { key = 'int', val = 'int', default_entries = libbpf.lib.libbpf_num_possible_cpus },
  ringbuf = { keyless = true, valueless = true, default_entries = function() return page_size end },
  user_ringbuf = { keyless = true, valueless = true, default_entries = function() return page_size end },
  queue = { keyless = true },
  stack = { keyless = true },
  bloom_filter = { keyless = true },
  -- The kernel requires lpm_trie maps to be created without preallocation.
  lpm_trie = { key = ffi.typeof('struct { uint32_t prefixlen; uint8_t data[4]; }'),
    flags = libbpf.map_flags.no_prealloc },
}

local percpu_types = { percpu_hash = true, percpu_array = true, lru_percpu_hash = true,
  percpu_cgroup_storage = true }

local ncpus_cached
local function possible_cpus()
  if not ncpus_cached then
    local n = lib.libbpf_num_possible_cpus()
    if n < 0 then return libbpf.error('bpf.map: number of possible CPUs', n) end
    ncpus_cached = n
  end
  return ncpus_cached
end

local function to_ctype(what, ct)
  local ok, t = pcall(ffi.typeof, ct)
  if not ok then return nil, ('bpf.map: %s type %s: %s'):format(what, tostring(ct), t) end
  if not ffi.sizeof(t) then return nil, ('bpf.map: %s type %s has no size'):format(what, tostring(t)) end
  return t
end

-- Readers turn the cdata a pointer points at into the Lua value map[k]
-- returns; a buffer is reused by the next call, so aggregates are copied.
local function reader_for(ct)
  local probe = slot_of(ct)[0]
  if type(probe) ~= 'cdata' or ffi.istype('int64_t', probe) or ffi.istype('uint64_t', probe) then
    -- numbers, booleans and boxed 64-bit integers are fresh values already
    return function(ptr) return ptr[0] end
  end
  local size = ffi.sizeof(ct)
  return function(ptr)
    local copy = ct()
    ffi.copy(copy, ptr, size)
    return copy
  end
end

local function store(ptr, v) ptr[0] = v end

-- Writes a Lua value into ptr[0]; conversion errors become nil, err.
local function write_into(ptr, v, numbers_direct)
  if numbers_direct and type(v) == 'number' then
    ptr[0] = v
    return true
  end
  local ok, err = pcall(store, ptr, v)
  -- the FFI's conversion message, without this file's position
  if not ok then return nil, (tostring(err):gsub('^[^:]*:%d+: ', '')) end
  return true
end

local function describe(map)
  return ('bpf.map "%s" (%s)'):format(map.name, map.map_type)
end

local function fail(map, operation, ret)
  if map.fd < 0 then return nil, ('%s: %s: the map is closed'):format(describe(map), operation) end
  return libbpf.error(describe(map) .. ': ' .. operation, ret)
end

local function keyless_error(map)
  return nil, describe(map) .. ' has no keys'
end

local function set_key(map, buf, key)
  local ok, err = write_into(buf, key, map._scalar_key)
  if not ok then return nil, describe(map) .. ': bad key: ' .. tostring(err) end
  return true
end

-- The Lua value of what the last lookup left in map._val.
local function read_value(map)
  if map.percpu then
    local values, read, cpu_ptrs = {}, map._read_val, map._cpu_vals
    for cpu = 1, map.ncpus do values[cpu] = read(cpu_ptrs[cpu]) end
    return values
  end
  return map._read_val(map._val)
end

local function set_value(map, v)
  if map.map_type == 'prog_array' and type(v) == 'table' then -- a loaded program: its fd
    if type(rawget(v, 'fd')) ~= 'number' or v.fd < 0 then
      return nil, describe(map) .. ': a slot takes a loaded program (prog:load(type)) or its fd'
    end
    v = v.fd
  end
  if not map.percpu then
    local ok, err = write_into(map._val, v, map._scalar_val)
    if not ok then return nil, describe(map) .. ': bad value: ' .. tostring(err) end
    return true
  end
  ffi.fill(map._val, map._val_bytes)
  local per_cpu = type(v) == 'table'
  if per_cpu and (#v > map.ncpus or (#v == 0 and next(v) ~= nil)) then
    return nil, ('%s: a per-CPU value is a list of at most %d values (one per CPU); '
      .. 'give a struct for every CPU as cdata'):format(describe(map), map.ncpus)
  end
  for cpu = 1, map.ncpus do
    local cpu_value = v
    if per_cpu then cpu_value = v[cpu] end
    if cpu_value ~= nil then
      local ok, err = write_into(map._cpu_vals[cpu], cpu_value, map._scalar_val)
      if not ok then return nil, ('%s: bad value for CPU %d: %s'):format(describe(map), cpu - 1, err) end
    end
  end
  return true
end

local methods = {}

function methods.lookup(map, key)
  local key_buf = map._key
  if not key_buf then return keyless_error(map) end
  local ok, err = set_key(map, key_buf, key)
  if not ok then return nil, err end
  local ret = lib.bpf_map_lookup_elem(map.fd, key_buf, map._val)
  if ret == 0 then return read_value(map) end
  if ret == -errno.ENOENT then return nil end
  return fail(map, 'lookup', ret)
end

function methods.update(map, key, value, flags)
  local key_buf = map._key
  if not key_buf then return keyless_error(map) end
  local ok, err = set_key(map, key_buf, key)
  if not ok then return nil, err end
  ok, err = set_value(map, value)
  if not ok then return nil, err end
  local ret = lib.bpf_map_update_elem(map.fd, key_buf, map._val, flags or 0)
  if ret ~= 0 then return fail(map, 'update', ret) end
  return true
end

-- Returns the libbpf result (0 or -errno), or nil, err before the call.
local function delete_key(map, key)
  local key_buf = map._key
  if not key_buf then return keyless_error(map) end
  local ok, err = set_key(map, key_buf, key)
  if not ok then return nil, err end
  return lib.bpf_map_delete_elem(map.fd, key_buf)
end

function methods.delete(map, key)
  local ret, err = delete_key(map, key)
  if not ret then return nil, err end
  if ret ~= 0 then return fail(map, 'delete', ret) end
  return true
end

-- One step of iteration: the key after `key` (the first when nil) and its
-- value.  A key whose value cannot be read (deleted meanwhile, or a
-- perf_event_array slot) comes with a nil value.
local function next_entry(map, key)
  local cur = nil
  if not map._key then return nil end
  if key ~= nil then
    cur = map._key
    local ok, err = set_key(map, cur, key)
    if not ok then error(err, 2) end
  end
  local next_key = map._next_key
  local ret = lib.bpf_map_get_next_key(map.fd, cur, next_key)
  if ret == -errno.ENOENT then return nil end
  if ret ~= 0 then error(libbpf.message(describe(map) .. ': next key', ret), 2) end
  local k = map._read_key(next_key)
  if lib.bpf_map_lookup_elem(map.fd, next_key, map._val) ~= 0 then return k, nil end
  return k, read_value(map)
end

-- map.pairs(map, key) is the iterator itself (2016 form); map:pairs() with
-- no key returns the iterator triple.
function methods.pairs(map, ...)
  if select('#', ...) == 0 then return next_entry, map, nil end
  return next_entry(map, ...)
end

function methods.len(map)
  return map.max_entries
end

-- Scratch bytes for the batch calls: count slots of `size` bytes.
local function slots(count, size)
  return ffi.new('uint8_t[?]', math.max(count * size, 1))
end

local function value_slot_size(map)
  if map.percpu then return map._val_bytes end
  return map.val_size
end

local function read_slot(map, base, index, is_key)
  if is_key then
    return map._read_key(ffi.cast(map._key_ptr_t, base + index * map.key_size))
  end
  local at = base + index * value_slot_size(map)
  if not map.percpu then return map._read_val(ffi.cast(map._val_ptr_t, at)) end
  local values, stride = {}, map._cpu_stride
  for cpu = 1, map.ncpus do
    values[cpu] = map._read_val(ffi.cast(map._val_ptr_t, at + (cpu - 1) * stride))
  end
  return values
end

local batch_opts = ffi.new('struct bpf_map_batch_opts')

local function batch_options(flags)
  ffi.fill(batch_opts, ffi.sizeof(batch_opts))
  batch_opts.sz = ffi.sizeof(batch_opts)
  batch_opts.elem_flags = flags or 0
  return batch_opts
end

-- All entries, in as few syscalls as the kernel allows.
function methods.lookup_batch(map, chunk)
  if not map._key then return keyless_error(map) end
  chunk = chunk or math.min(map.max_entries, 256)
  local token_size = math.max(map.key_size, 8)
  local in_token, out_token = slots(1, token_size), slots(1, token_size)
  local count = ffi.new('uint32_t[1]')
  local keys, values = {}, {}
  local in_ptr = nil
  local key_slots, value_slots = slots(chunk, map.key_size), slots(chunk, value_slot_size(map))
  while true do
    count[0] = chunk
    local ret = lib.bpf_map_lookup_batch(map.fd, in_ptr, out_token, key_slots, value_slots, count,
      batch_options())
    if ret == -errno.ENOSPC and count[0] == 0 then
      -- a hash bucket holds more entries than one chunk: widen and retry
      chunk = chunk * 2
      key_slots, value_slots = slots(chunk, map.key_size), slots(chunk, value_slot_size(map))
    elseif ret ~= 0 and ret ~= -errno.ENOENT then
      return fail(map, 'lookup_batch', ret)
    else
      for i = 0, count[0] - 1 do
        keys[#keys + 1] = read_slot(map, key_slots, i, true)
        values[#values + 1] = read_slot(map, value_slots, i, false)
      end
      if ret == -errno.ENOENT then return keys, values end
      ffi.copy(in_token, out_token, token_size)
      in_ptr = in_token
    end
  end
end

-- Packs a Lua array of keys (or values) into contiguous slots.
local function pack(map, list, is_key)
  local n = #list
  if is_key then
    local buf = slots(n, map.key_size)
    for i = 1, n do
      local ok, err = set_key(map, ffi.cast(map._key_ptr_t, buf + (i - 1) * map.key_size), list[i])
      if not ok then return nil, err end
    end
    return buf, n
  end
  local size = value_slot_size(map)
  local buf = slots(n, size)
  for i = 1, n do
    local ok, err = set_value(map, list[i])
    if not ok then return nil, err end
    ffi.copy(buf + (i - 1) * size, map._val, size)
  end
  return buf, n
end

function methods.update_batch(map, keys, values, flags)
  if not map._key then return keyless_error(map) end
  if #keys ~= #values then return nil, describe(map) .. ': update_batch: keys and values differ in length' end
  local key_buf, n = pack(map, keys, true)
  if not key_buf then return nil, n end
  local value_buf, err = pack(map, values, false)
  if not value_buf then return nil, err end
  local count = ffi.new('uint32_t[1]', n)
  local ret = lib.bpf_map_update_batch(map.fd, key_buf, value_buf, count, batch_options(flags))
  if ret ~= 0 then return fail(map, ('update_batch (%d of %d done)'):format(count[0], n), ret) end
  return count[0]
end

function methods.delete_batch(map, keys)
  if not map._key then return keyless_error(map) end
  local key_buf, n = pack(map, keys, true)
  if not key_buf then return nil, n end
  local count = ffi.new('uint32_t[1]', n)
  local ret = lib.bpf_map_delete_batch(map.fd, key_buf, count, batch_options())
  if ret ~= 0 then return fail(map, ('delete_batch (%d of %d done)'):format(count[0], n), ret) end
  return count[0]
end

function methods.pin(map, path)
  local ret = lib.bpf_obj_pin(map.fd, path)
  if ret == 0 then return true end
  local _, err = fail(map, 'pin to ' .. path, ret)
  if ret == -errno.EPERM then
    err = err .. '; is a bpf filesystem mounted there (mount -t bpf bpf /sys/fs/bpf)?'
  end
  return nil, err
end

-- A reader of a perf_event_array map: map:reader([cpu][, event_ctype]), see bpf/reader.lua.
function methods.reader(map, ...)
  return require('bpf.reader').perf(map, ...)
end

-- The frames of a stack in a stack_trace map: map:stack(id[, pid][, max]), see bpf/ksym.lua.
function methods.stack(map, ...) return require('bpf.ksym').stack(map, ...) end

function methods.close(map)
  libbpf.close_fd(map._fd_owner)
  map.fd = -1
  return true
end

local map_mt = {
  __index = function(map, k)
    local method = methods[k]
    if method ~= nil then return method end
    -- a misspelt field of a map with number keys is not worth a syscall
    if map._scalar_key and type(k) ~= 'number' and type(k) ~= 'cdata' then return nil end
    return (methods.lookup(map, k))
  end,
  __newindex = function(map, k, v)
    if v ~= nil then
      local ok, err = methods.update(map, k, v, 0)
      if not ok then error(err, 2) end
      return
    end
    local ret, err = delete_key(map, k)
    if not ret then error(err, 2) end
    -- deleting an absent key is a no-op, as in a Lua table
    if ret ~= 0 and ret ~= -errno.ENOENT then error(select(2, fail(map, 'delete', ret)), 2) end
  end,
  __len = methods.len,
  __tostring = function(map)
    return ('%s fd %d, %d entries'):format(describe(map), map.fd, map.max_entries)
  end,
}

-- Builds the map object around an fd this module now owns.
local function wrap(fd, spec)
  local map = {
    __map = true, fd = fd, map_type = spec.type_name, name = spec.name,
    key_type = spec.key_type, val_type = spec.val_type,
    key_size = spec.key_type and ffi.sizeof(spec.key_type) or 0,
    val_size = spec.val_type and ffi.sizeof(spec.val_type) or 0,
    max_entries = spec.max_entries, flags = spec.flags or 0, percpu = false,
    _fd_owner = libbpf.own_fd(fd),
    -- private fields are never nil: a nil read would go to __index (a lookup)
    _key = false, _scalar_key = false, _scalar_val = false,
  }
  if spec.key_type then
    map._key = slot_of(spec.key_type)
    map._next_key = slot_of(spec.key_type)
    map._key_ptr_t = typeof_with('$ *', spec.key_type)
    map._read_key = reader_for(spec.key_type)
    map._scalar_key = type(slot_of(spec.key_type)[0]) == 'number'
  end
  if spec.val_type then
    map._val_ptr_t = typeof_with('$ *', spec.val_type)
    map._read_val = reader_for(spec.val_type)
    map._scalar_val = type(slot_of(spec.val_type)[0]) == 'number'
    if percpu_types[spec.type_name] then
      -- the kernel lays per-CPU values out in 8-byte aligned slots
      local ncpus = spec.ncpus
      map.percpu, map.ncpus = true, ncpus
      map._cpu_stride = math.ceil(map.val_size / 8) * 8
      map._val_bytes = map._cpu_stride * ncpus
      map._val = ffi.new('uint8_t[?]', map._val_bytes)
      map._cpu_vals = {}
      for cpu = 1, ncpus do
        map._cpu_vals[cpu] = ffi.cast(map._val_ptr_t, map._val + (cpu - 1) * map._cpu_stride)
      end
    else
      map._val = slot_of(spec.val_type)
    end
  end
  return setmetatable(map, map_mt)
end

-- Kernel object names: at most 15 characters of [A-Za-z0-9_.].
local function kernel_name(name)
  return (name:gsub('[^%w_.]', '_'):sub(1, 15))
end

local function is_power_of_two(n)
  while n > 1 and n % 2 == 0 do n = n / 2 end
  return n == 1
end

local create_opts = ffi.new('struct bpf_map_create_opts')

local function new(type_name, max_entries, key_ctype, val_ctype, opts)
  opts = opts or {}
  local type_id = libbpf.map_type[type_name]
  if not type_id then return nil, ('bpf.map: unknown map type %q'):format(tostring(type_name)) end
  local defaults = type_defaults[type_name] or {}
  local spec = { type_name = type_name, name = opts.name or type_name }
  if max_entries == nil then
    max_entries = defaults.default_entries and defaults.default_entries() or 4096
  end
  if type(max_entries) ~= 'number' or max_entries < 1 or max_entries % 1 ~= 0 then
    return nil, ('bpf.map "%s": max_entries must be a positive integer, not %s'):format(spec.name,
      tostring(max_entries))
  end
  spec.max_entries = max_entries
  if (type_name == 'ringbuf' or type_name == 'user_ringbuf')
      and not (is_power_of_two(max_entries) and max_entries % page_size == 0) then
    return nil, ('bpf.map "%s": a %s size must be a power of 2 and a multiple of %d bytes, not %d')
      :format(spec.name, type_name, page_size, max_entries)
  end
  local err
  if not defaults.keyless then
    spec.key_type, err = to_ctype('key', key_ctype or defaults.key or 'uint32_t')
    if not spec.key_type then return nil, err end
  end
  if not defaults.valueless then
    spec.val_type, err = to_ctype('value', val_ctype or defaults.val or 'uint32_t')
    if not spec.val_type then return nil, err end
  end
  if percpu_types[type_name] then
    spec.ncpus, err = possible_cpus()
    if not spec.ncpus then return nil, err end
  end
  spec.flags = opts.flags or defaults.flags or 0

  ffi.fill(create_opts, ffi.sizeof(create_opts))
  create_opts.sz = ffi.sizeof(create_opts)
  create_opts.map_flags = spec.flags
  create_opts.map_extra = opts.map_extra or 0
  create_opts.numa_node = opts.numa_node or 0
  if opts.inner_map then create_opts.inner_map_fd = opts.inner_map.fd end
  local key_size = spec.key_type and ffi.sizeof(spec.key_type) or 0
  local val_size = spec.val_type and ffi.sizeof(spec.val_type) or 0
  local function create()
    return lib.bpf_map_create(type_id, kernel_name(spec.name), key_size, val_size, max_entries, create_opts)
  end
  local fd = create()
  if libbpf.out_of_fds(fd) then
    -- unreachable maps may still hold fds until their owners are collected
    collectgarbage('collect')
    fd = create()
  end
  if fd < 0 then
    return libbpf.error(('bpf.map "%s" (%s): create (key %d B, value %d B, %d entries)')
      :format(spec.name, type_name, key_size, val_size, max_entries), fd)
  end
  return wrap(fd, spec)
end

-- A map from an fd of it (this takes the fd over); its type and sizes come
-- from the kernel.  Without ctypes, keys and values are byte arrays of the
-- kernel's sizes.  path: what messages call it.
local function open_fd(fd, path, key_ctype, val_ctype)
  local info = ffi.new('struct bpf_map_info')
  local info_len = ffi.new('uint32_t[1]', ffi.sizeof(info))
  local ret = lib.bpf_obj_get_info_by_fd(fd, info, info_len)
  if ret ~= 0 then
    ffi.C.bpf_libc_close(fd)
    return libbpf.error('bpf.map "' .. path .. '": map info', ret)
  end
  local type_name = libbpf.map_type_name[info.type] or ('map_type_' .. info.type)
  local spec = { type_name = type_name, max_entries = info.max_entries, flags = info.map_flags }
  spec.name = ffi.string(info.name)
  if spec.name == '' then spec.name = path end
  local function choose(what, ct, size)
    if size == 0 then return nil end
    local t, err = to_ctype(what, ct or 'uint8_t[' .. size .. ']')
    if t and ffi.sizeof(t) ~= size then
      err = ('bpf.map "%s": %s type %s is %d bytes, the map has %d')
        :format(path, what, tostring(t), ffi.sizeof(t), size)
      t = nil
    end
    return t, err
  end
  local err
  spec.key_type, err = choose('key', key_ctype, info.key_size)
  if err then ffi.C.bpf_libc_close(fd) return nil, err end
  spec.val_type, err = choose('value', val_ctype, info.value_size)
  if err then ffi.C.bpf_libc_close(fd) return nil, err end
  if percpu_types[type_name] then
    spec.ncpus, err = possible_cpus()
    if not spec.ncpus then ffi.C.bpf_libc_close(fd) return nil, err end
  end
  return wrap(fd, spec)
end

-- Opens a map pinned at path.
local function open_pinned(path, key_ctype, val_ctype)
  local fd = lib.bpf_obj_get(path)
  if libbpf.out_of_fds(fd) then
    collectgarbage('collect')
    fd = lib.bpf_obj_get(path)
  end
  if fd < 0 then return libbpf.error('bpf.map.open_pinned "' .. path .. '"', fd) end
  return open_fd(fd, path, key_ctype, val_ctype)
end

-- Opens the map of the given id (the maps a loaded program uses).
local function open_id(id, key_ctype, val_ctype)
  local fd = lib.bpf_map_get_fd_by_id(id)
  if fd < 0 then return libbpf.error(('bpf.map: map id %d'):format(id), fd) end
  return open_fd(fd, 'map id ' .. id, key_ctype, val_ctype)
end

return setmetatable({
  new = new,
  open_pinned = open_pinned,
  open_id = open_id,
  methods = methods,
  is_map = function(x) return type(x) == 'table' and rawget(x, '__map') == true end,
}, { __call = function(_, ...) return new(...) end })
