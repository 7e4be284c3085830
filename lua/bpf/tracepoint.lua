-- Tracepoints seen through tracefs: the layout of a tracepoint's record as
-- an ffi struct type (read from its format file), usable as the context of a
-- compiled program, and the tracepoint's id.
--
--   local tp = require('bpf.tracepoint')
--   tp.ctype('sched/sched_switch')      -> ctype of the record (cached per path)
--   tp.dissector('sched/sched_switch')  -> { __dissector = ctype }, for
--                                          bpf(fn, { ctx = ..., type = 'tracepoint' })
--   tp.id('sched/sched_switch')         -> the tracepoint's id (a number)
--   tp.fields('sched/sched_switch')     -> the parsed format: { {name=, type=,
--                                          offset=, size=, signed=}, ... }
--   tp.mount()                          -> the tracefs root, mounting it when missing
-- A path is "group/name" or "group:name".  Failures raise a Lua error that
-- names the tracepoint (or tracefs) and the reason.
local ffi = require('ffi')
local libbpf = require('bpf.libbpf')

local M = {}

M.root = '/sys/kernel/tracing'

if not pcall(function() return ffi.C.mount end) then
  ffi.cdef [[
int mount(const char *source, const char *target, const char *filesystemtype,
          unsigned long mountflags, const void *data);
]]
end

local function readable(path)
  local f = io.open(path, 'r')
  if f then f:close() end
  return f ~= nil
end

-- The tracefs root, mounted (mount -t tracefs nodev /sys/kernel/tracing)
-- when its events are not visible yet.
function M.mount()
  if readable(M.root .. '/events/header_page') then return M.root end
  if ffi.C.mount('nodev', M.root, 'tracefs', 0, nil) ~= 0 then
    error(libbpf.message(('bpf.tracepoint: tracefs is not mounted and mounting it at %s failed')
      :format(M.root), -ffi.errno()), 2)
  end
  if not readable(M.root .. '/events/header_page') then
    error(('bpf.tracepoint: tracefs mounted at %s shows no events'):format(M.root), 2)
  end
  return M.root
end

local function normalise(path)
  if type(path) ~= 'string' then
    error(('bpf.tracepoint: expected a "group/name" string, got a %s'):format(type(path)), 3)
  end
  local group, name = path:match('^([%w_]+)[/:]([%w_]+)$')
  if not group then
    error(('bpf.tracepoint: %q is not a tracepoint path ("group/name")'):format(path), 3)
  end
  return group, name
end

local function read_event_file(path, file)
  local group, name = normalise(path)
  local full = ('%s/events/%s/%s/%s'):format(M.mount(), group, name, file)
  local f, err = io.open(full, 'r')
  if not f then error(('bpf.tracepoint: no tracepoint %s/%s (%s)'):format(group, name, err), 3) end
  local text = f:read('*a')
  f:close()
  return text, group, name
end

function M.id(path)
  local text, group, name = read_event_file(path, 'id')
  local id = tonumber(text:match('%d+'))
  if not id then error(('bpf.tracepoint: %s/%s has an unreadable id'):format(group, name), 2) end
  return id
end

-- "field:<declaration>;\toffset:N;\tsize:N;\tsigned:N;" lines.
local function parse_format(text)
  local fields = {}
  for decl, off, size, signed in text:gmatch(
      'field:([^;]+);%s*offset:(%d+);%s*size:(%d+);%s*signed:(%d+);') do
    local type_text, name, dims = decl:match('^(.-)%s*([%a_][%w_]*)%s*(%[%d*%])%s*$')
    if not name then type_text, name = decl:match('^(.-)%s*([%a_][%w_]*)%s*$') end
    if name then
      fields[#fields + 1] = { type = type_text, name = name, dims = dims,
        offset = tonumber(off), size = tonumber(size), signed = signed == '1' }
    end
  end
  table.sort(fields, function(a, b) return a.offset < b.offset end)
  return fields
end

-- Kernel scalar type names the record may point at, by their C spelling.
local pointee = {
  char = 'char', ['unsigned char'] = 'unsigned char', ['signed char'] = 'signed char',
  short = 'short', ['unsigned short'] = 'unsigned short', int = 'int', unsigned = 'unsigned int',
  ['unsigned int'] = 'unsigned int', long = 'long', ['unsigned long'] = 'unsigned long',
  ['long long'] = 'long long', ['unsigned long long'] = 'unsigned long long',
  u8 = 'uint8_t', u16 = 'uint16_t', u32 = 'uint32_t', u64 = 'uint64_t',
  s8 = 'int8_t', s16 = 'int16_t', s32 = 'int32_t', s64 = 'int64_t',
  __u8 = 'uint8_t', __u16 = 'uint16_t', __u32 = 'uint32_t', __u64 = 'uint64_t',
  __s8 = 'int8_t', __s16 = 'int16_t', __s32 = 'int32_t', __s64 = 'int64_t',
  uint8_t = 'uint8_t', uint16_t = 'uint16_t', uint32_t = 'uint32_t', uint64_t = 'uint64_t',
  int8_t = 'int8_t', int16_t = 'int16_t', int32_t = 'int32_t', int64_t = 'int64_t',
  pid_t = 'int32_t', uid_t = 'uint32_t', gid_t = 'uint32_t', loff_t = 'int64_t',
  size_t = 'size_t', void = 'void',
}

-- Kernel integer types a field may be declared as, by their C spelling,
-- with their size and sign (x86_64's).  A syscall's argument sits in an
-- 8-byte slot whatever its type, and its format says signed:0 for all of
-- them (`field:int dfd; offset:16; size:8; signed:0;`): the declared type
-- says what it is, an int in the slot's first 4 bytes then.  char takes its
-- sign from the format (the kernel's char is unsigned since 6.2).
local integers = {
  short = { 2, true }, ['short int'] = { 2, true }, ['unsigned short'] = { 2, false },
  ['unsigned short int'] = { 2, false }, ['signed short'] = { 2, true },
  int = { 4, true }, ['signed int'] = { 4, true }, signed = { 4, true },
  unsigned = { 4, false }, ['unsigned int'] = { 4, false },
  long = { 8, true }, ['long int'] = { 8, true }, ['signed long'] = { 8, true },
  ['unsigned long'] = { 8, false }, ['unsigned long int'] = { 8, false },
  ['long long'] = { 8, true }, ['unsigned long long'] = { 8, false },
  ['signed char'] = { 1, true }, ['unsigned char'] = { 1, false },
  bool = { 1, false }, _Bool = { 1, false },
  u8 = { 1, false }, u16 = { 2, false }, u32 = { 4, false }, u64 = { 8, false },
  s8 = { 1, true }, s16 = { 2, true }, s32 = { 4, true }, s64 = { 8, true },
  __u8 = { 1, false }, __u16 = { 2, false }, __u32 = { 4, false }, __u64 = { 8, false },
  __s8 = { 1, true }, __s16 = { 2, true }, __s32 = { 4, true }, __s64 = { 8, true },
  uint8_t = { 1, false }, uint16_t = { 2, false }, uint32_t = { 4, false }, uint64_t = { 8, false },
  int8_t = { 1, true }, int16_t = { 2, true }, int32_t = { 4, true }, int64_t = { 8, true },
  pid_t = { 4, true }, uid_t = { 4, false }, gid_t = { 4, false }, qid_t = { 4, false },
  umode_t = { 2, false }, loff_t = { 8, true }, off_t = { 8, true }, size_t = { 8, false },
  ssize_t = { 8, true }, key_serial_t = { 4, true }, clockid_t = { 4, true }, timer_t = { 4, true },
  mqd_t = { 4, true }, key_t = { 4, true }, rwf_t = { 4, true }, aio_context_t = { 8, false },
  dev_t = { 4, false }, ino_t = { 8, false }, gfp_t = { 4, false }, fmode_t = { 4, false },
}

local function integer(size, signed)
  local bits = ({ [1] = 8, [2] = 16, [4] = 32, [8] = 64 })[size]
  if not bits then return nil end
  return (signed and 'int%d_t' or 'uint%d_t'):format(bits)
end

-- The C declaration of one field, from its kernel type, size and sign:
-- integers as their declared type says (an int in a syscall's 8-byte slot
-- is an int32_t, then 4 bytes of the slot), others by width and sign,
-- pointers to known scalars kept (others as
-- void), arrays by element, __data_loc as the uint32 (offset << 16 | length)
-- it is, anything else as bytes.
local function declare(f)
  local t = f.type
  if t:find('__data_loc', 1, true) then
    return ('uint32_t %s'):format(f.name)
  end
  if t:find('*', 1, true) then
    local base = t:gsub('%*.*$', ''):gsub('%f[%w_]const%f[^%w_]', ''):gsub('%f[%w_]volatile%f[^%w_]', '')
      :gsub('%s+', ' '):match('^%s*(.-)%s*$')
    local depth = select(2, t:gsub('%*', ''))
    local target = pointee[base] or 'void'
    if depth > 1 then target = 'void *' end
    return ('const %s *%s'):format(target, f.name)
  end
  if f.dims then
    local n = tonumber(f.dims:match('%d+'))
    if not n then -- a flexible array: no room in the record of its own
      return ('uint8_t %s[0]'):format(f.name)
    end
    if n > 0 and f.size % n == 0 then
      local esize = f.size / n
      local base = t:gsub('%f[%w_]const%f[^%w_]', ''):match('^%s*(.-)%s*$')
      local elem = (esize == 1 and (base == 'char' or base == 'unsigned char' or base == 'signed char'))
        and base or integer(esize, f.signed)
      if elem then return ('%s %s[%d]'):format(elem, f.name, n) end
    end
    return ('uint8_t %s[%d]'):format(f.name, f.size)
  end
  local base = t:gsub('%f[%w_]const%f[^%w_]', ''):gsub('%f[%w_]volatile%f[^%w_]', '')
    :gsub('%s+', ' '):match('^%s*(.-)%s*$')
  local known = integers[base]
  if base == 'char' then known = { 1, f.signed } end
  -- the type's bytes first (little-endian), then the slot's rest
  if known and (known[1] == f.size or (known[1] < f.size and ffi.abi('le'))) then
    local decl = ('%s %s'):format(integer(known[1], known[2]), f.name)
    if known[1] < f.size then decl = decl .. (';uint8_t __slot_%s[%d]'):format(f.name, f.size - known[1]) end
    return decl
  end
  local scalar = integer(f.size, f.signed)
  if scalar then return ('%s %s'):format(scalar, f.name) end
  return ('uint8_t %s[%d]'):format(f.name, f.size)
end

-- The format file, parsed.
function M.fields(path)
  return (parse_format((read_event_file(path, 'format'))))
end

local cache = {}

-- The record of tracepoint path as a packed struct, every field at the
-- offset its format gives, gaps filled with explicit padding.
function M.ctype(path)
  local group, name = normalise(path)
  local key = group .. '/' .. name
  if cache[key] then return cache[key] end
  local text = read_event_file(key, 'format')
  local fields = parse_format(text)
  if #fields == 0 then error(('bpf.tracepoint: %s has no fields in its format'):format(key), 2) end
  local lines, at = {}, 0
  for _, f in ipairs(fields) do
    if f.offset < at then
      error(('bpf.tracepoint: %s: field %s at offset %d overlaps the one before'):format(key,
        f.name, f.offset), 2)
    end
    if f.offset > at then
      lines[#lines + 1] = ('uint8_t __pad_%d[%d];'):format(at, f.offset - at)
    end
    lines[#lines + 1] = declare(f) .. ';'
    at = f.offset + f.size
  end
  local tag = ('tp__%s__%s'):format(group, name)
  local ok, ct = pcall(ffi.typeof, 'struct ' .. tag)
  if not ok or ffi.sizeof(ct) == nil then
    ffi.cdef(('struct %s { %s } __attribute__((packed));'):format(tag, table.concat(lines, ' ')))
    ct = ffi.typeof('struct ' .. tag)
  end
  for _, f in ipairs(fields) do
    local off = ffi.offsetof(ct, f.name)
    if off ~= f.offset then
      error(('bpf.tracepoint: %s: field %s landed at offset %s, the format says %d'):format(key,
        f.name, tostring(off), f.offset), 2)
    end
  end
  -- what the C type cannot say: a syscall's pointer arguments point to user
  -- memory, a __data_loc field is the (length << 16 | offset) of its array
  -- in the record, and the record is kernel memory a program reads in place
  local notes = {}
  for _, f in ipairs(fields) do
    if f.type:find('__data_loc', 1, true) then
      notes[f.name] = { data_loc = true }
    elseif group == 'syscalls' and name:match('^sys_enter_') and f.type:find('*', 1, true) then
      notes[f.name] = { user = true }
    end
  end
  require('bpf.ctype').note(ct, notes, { record = true })
  cache[key] = ct
  return ct
end

function M.dissector(path)
  return { __dissector = M.ctype(path) }
end

return M
