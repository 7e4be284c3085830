-- Kernel symbols: the function an address in the kernel belongs to, from
-- /proc/kallsyms (read once, when first needed, and sorted by address), and
-- the frames of a stack that a program stored in a stack_trace map with
-- stack_id(map[, 'user' | 'kernel'][, flags]); user frames are named by
-- bpf.usym from the process's files.
--
--   local ksym = require('bpf.ksym')       (bpf.ksym and bpf.stack in the public API)
--   name, off, module = ksym.lookup(addr)  addr: a number or 64-bit cdata; nil when
--                                          no kernel symbol holds it
--   frames, err = ksym.stack(map, id[, pid][, max])   also map:stack(id[, pid][, max]),
--                                          or map:stack(id, {pid = , max = })
--     { { addr = (uint64_t cdata), sym = 'do_syscall_64' (nil if unknown),
--         off = 0x1f, module = nil | 'bpf' | 'nf_tables' ... }, ... }, innermost first;
--     tostring(frame) is "do_syscall_64+0x1f" (with " [module]", or "0x..." if
--     unknown); tostring(frames) one frame a line; nil, err for a negative id
--     (stack_id's error) or one the map does not hold.  A user stack's frames
--     (stack_id(map, 'user')) have user = true and, given the pid of the
--     process, a sym from its files, the file's name as module ("main+0x1a
--     [prog]", "0x7f3a12b4c24a [libc.so.6]" when the file names nothing
--     there) and path (bpf.usym); without the pid they are addresses.
--   frames = ksym.frames(ips, n)            the same for n addresses (a uint64_t array,
--                                          kept alive by the caller)
--   text = ksym.format(frames[, sep])       "a+0x1 <- b+0x2 ..." with sep = ' <- '
--   ksym.reload()                           read /proc/kallsyms again
--
-- Only text symbols count (t, T, w, W: kernel functions, module functions,
-- BPF programs and trampolines), without the __pfx_ padding before each
-- function.  Addresses are compared by their low 52 bits, which a Lua number
-- holds exactly; kernel addresses all share the bits above.  An address more
-- than max_offset past the nearest symbol below it belongs to nothing we
-- know (code loaded after the table was read, such as a BPF program): a
-- stack with such an address reads /proc/kallsyms again, at most once a
-- second.  Without root (kptr_restrict) every address reads as 0 and
-- nothing resolves.
local ffi = require('ffi')

local M = {}

M.path = '/proc/kallsyms'
M.max_offset = 0x100000

local LOW52 = 0x10000000000000ULL
local u64 = ffi.typeof('uint64_t')
local u64_array = ffi.typeof('uint64_t[?]')

-- The table: parallel arrays sorted by address (keys: low 52 bits).
local addrs, names, modules, lowest, loaded_at

-- A hex string of up to 16 digits as uint64_t.
local function hex_u64(hex)
  local hi = tonumber(hex:sub(1, -9), 16) or 0
  return u64(hi) * 0x100000000ULL + (tonumber(hex:sub(-8), 16) or 0)
end

local text_kinds = { t = true, T = true, w = true, W = true }

function M.reload()
  local f = io.open(M.path, 'r')
  local a, n, m = {}, {}, {}
  local lowest_hex, lowest_key
  if f then
    for line in f:lines() do
      local hex, kind, name, rest = line:match('^(%x+) (%a) (%S+)(.*)$')
      if hex and text_kinds[kind] and name:sub(1, 6) ~= '__pfx_' and not hex:match('^0+$') then
        local i = #a + 1
        a[i] = tonumber(hex:sub(-13), 16)
        n[i] = name
        m[i] = rest:match('%[([^%]]+)%]') or false
        if not lowest_key or a[i] < lowest_key then lowest_hex, lowest_key = hex, a[i] end
      end
    end
    f:close()
  end
  -- /proc/kallsyms is sorted but for what was loaded later (modules, BPF)
  local sorted = true
  for i = 2, #a do
    if a[i] < a[i - 1] then sorted = false break end
  end
  if not sorted then
    local order = {}
    for i = 1, #a do order[i] = i end
    table.sort(order, function(x, y)
      if a[x] ~= a[y] then return a[x] < a[y] end
      return x < y
    end)
    local sa, sn, sm = {}, {}, {}
    for i, j in ipairs(order) do sa[i], sn[i], sm[i] = a[j], n[j], m[j] end
    a, n, m = sa, sn, sm
  end
  addrs, names, modules, loaded_at = a, n, m, os.time()
  lowest = lowest_hex and hex_u64(lowest_hex) or nil
  return #a
end

local function table_loaded()
  if not addrs then M.reload() end
end

-- Index of the last symbol at or below key, or nil.
local function find(key)
  local lo, hi = 1, #addrs
  if hi == 0 or key < addrs[1] then return nil end
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if addrs[mid] <= key then lo = mid else hi = mid - 1 end
  end
  return lo
end

-- name, offset, module of addr (nil when no kernel symbol holds it).
function M.lookup(addr)
  table_loaded()
  if addr == nil or not lowest then return nil end
  addr = u64(addr)
  if addr < lowest then return nil end
  local key = tonumber(addr % LOW52)
  local i = find(key)
  if not i then return nil end
  local off = key - addrs[i]
  if off > M.max_offset then return nil end
  return names[i], off, modules[i] or nil
end

local frame_mt = {}
function frame_mt.__tostring(frame)
  local text = frame.sym and ('%s+0x%x'):format(frame.sym, frame.off) or ('0x%x'):format(frame.addr)
  if frame.module then text = ('%s [%s]'):format(text, frame.module) end
  return text
end

function M.format(frames, sep)
  local parts = {}
  for i, frame in ipairs(frames) do parts[i] = tostring(frame) end
  return table.concat(parts, sep or ' <- ')
end

local stack_mt = { __tostring = function(frames) return M.format(frames, '\n') end }

-- The frames of n addresses (an array of uint64_t), up to the first 0.
function M.frames(ips, n)
  table_loaded()
  local frames, missed = {}, false
  for i = 0, n - 1 do
    local ip = u64(ips[i])
    if ip == 0 then break end
    local sym, off, module = M.lookup(ip)
    if not sym and lowest and ip >= lowest then missed = true end
    frames[#frames + 1] = setmetatable({ addr = ip, sym = sym, off = off, module = module }, frame_mt)
  end
  if missed and os.time() > loaded_at then
    -- code the table does not know yet: read it again, once
    M.reload()
    for _, frame in ipairs(frames) do
      if not frame.sym then frame.sym, frame.off, frame.module = M.lookup(frame.addr) end
    end
  end
  return setmetatable(frames, stack_mt)
end

-- The stack that stack_id() stored under id in a stack_trace map (user
-- frames named from process pid's files).
function M.stack(map, id, pid, max)
  if type(pid) == 'table' then pid, max = pid.pid, pid.max end
  local what = ('bpf.stack(%s, %s)'):format(map and map.name or tostring(map), tostring(id))
  if type(map) ~= 'table' or map.map_type ~= 'stack_trace' then
    return nil, what .. ': expected a stack_trace map'
  end
  id = tonumber(id)
  if not id then return nil, what .. ': expected a stack id (what stack_id() returned)' end
  if id < 0 then
    return nil, ('%s: stack_id() could not store this stack (errno %d)'):format(what, -id)
  end
  local value, err = map:lookup(id)
  if value == nil then
    return nil, err or (what .. ': the map holds no such stack')
  end
  local n = math.floor(map.val_size / 8)
  if max then n = math.max(0, math.min(n, max)) end
  -- an array of our own: a pointer into value would not keep it alive
  local ips = u64_array(math.max(n, 1))
  ffi.copy(ips, value, n * 8)
  local frames = M.frames(ips, n)
  return require('bpf.usym').resolve(pid, frames)
end

return M
