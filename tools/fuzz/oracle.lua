-- The oracle: the semantics table of the design ("What a program computes")
-- as LuaJIT code, and the models of what a program reads and writes (the
-- packet, the context, the maps).  gen.lua renders every program a second
-- time against this module: numbers become int64 cdata and the operators
-- whose cdata behaviour differs from the table (/ % ^, casts, bit.tobit,
-- packet and map accesses) become calls into it.
local ffi = require('ffi')
local bit = require('bit')

local M = {}

local i64, u64 = ffi.typeof('int64_t'), ffi.typeof('uint64_t')
M.i64, M.u64 = i64, u64

local function is_u(x) return ffi.istype(u64, x) end
M.is_u = is_u

-- An operation with a uint64 operand is uint64 (LuaJIT's rule).
local function both(a, b)
  if is_u(a) or is_u(b) then return ffi.cast(u64, a), ffi.cast(u64, b), true end
  return ffi.cast(i64, a), ffi.cast(i64, b), false
end

-- Per line of the oracle's source: { zero = n, other = n } divisions there
-- (the compiler refuses a divisor it knows to be 0: run.lua accepts that
-- refusal when the oracle divides by 0 on that line, or never gets there).
M.divisions = {}

local function count_division(b)
  local info = debug.getinfo(3, 'Sl')
  -- a division in `return a / b` is a tail call: its line is gone
  local line = info and info.source == '=oracle' and info.currentline or 'tail'
  local d = M.divisions[line] or { zero = 0, other = 0 }
  M.divisions[line] = d
  if b == 0 then d.zero = d.zero + 1 else d.other = d.other + 1 end
end

-- Floor division; unsigned on uint64; x / 0 == 0; INT64_MIN / -1 wraps.
-- LuaJIT's own cdata / truncates, so it is only used where that agrees.
function M.div(a, b)
  local unsigned
  a, b, unsigned = both(a, b)
  count_division(b)
  if b == 0 then return unsigned and 0ULL or 0LL end
  if unsigned then return a / b end
  if b == -1 then return -a end -- wraps for INT64_MIN
  local q = a / b
  if a % b ~= 0 and (a < 0) ~= (b < 0) then q = q - 1 end
  return q
end

-- Floored modulo (the sign of the divisor); unsigned on uint64; x % 0 == x.
function M.mod(a, b)
  local unsigned
  a, b, unsigned = both(a, b)
  count_division(b)
  if b == 0 then return a end
  if unsigned then return a % b end
  if b == -1 then return 0LL end
  local r = a % b
  if r ~= 0 and (r < 0) ~= (b < 0) then r = r + b end
  return r
end

-- Integer power by squaring, wrapping; the exponent is a non-negative constant.
function M.pow(a, n)
  n = tonumber(n)
  assert(n >= 0 and n % 1 == 0, 'oracle: negative or fractional exponent')
  local r = is_u(a) and 1ULL or 1LL
  while n > 0 do
    if n % 2 == 1 then r = r * a end
    a = a * a
    n = math.floor(n / 2)
  end
  return r
end

-- Casts: uint64_t/int64_t reinterpret the 64 bits; narrower types truncate
-- and come back as int64 (zero- or sign-extended by the narrow type).
function M.cast(ct, x)
  if ct == 'uint64_t' then return ffi.cast(u64, x) end
  if ct == 'int64_t' then return ffi.cast(i64, x) end
  return ffi.cast(i64, ffi.cast(ct, x))
end

-- bit.tobit returns a Lua number; the table says it is the sign-extended
-- low 32 bits as an int64.
function M.tobit(x) return ffi.cast(i64, bit.tobit(x)) end

-- What the program returns, as test_run's retval reads it (a uint32).
function M.retval(v)
  if v == nil or v == false then return 0 end
  if v == true then return 1 end
  assert(type(v) == 'cdata', 'oracle: a program returned a ' .. type(v))
  return tonumber(bit.band(ffi.cast(u64, v), 0xffffffffULL))
end

----------------------------------------------------------------- the packet

-- Raised by a read past the end: the whole program then returns 0.
M.past_end = setmetatable({}, { __tostring = function() return 'packet read past the end' end })

-- Header fields the generator may read: layer, byte offset in the layer,
-- size, and for bitfields the shift and width counted on the big-endian
-- value (the first declared bitfield holds the most significant bits).
M.fields = {
  ['pkt.type'] = { 'eth', 12, 2 },
  ['pkt.ip.ver'] = { 'ip', 0, 1, 4, 4 }, ['pkt.ip.hlen'] = { 'ip', 0, 1, 0, 4 },
  ['pkt.ip.tos'] = { 'ip', 1, 1 }, ['pkt.ip.tlen'] = { 'ip', 2, 2 },
  ['pkt.ip.identification'] = { 'ip', 4, 2 },
  -- a bitfield is read from the bytes it lies in: df and mf from one
  ['pkt.ip.df'] = { 'ip', 6, 1, 6, 1 }, ['pkt.ip.mf'] = { 'ip', 6, 1, 5, 1 },
  ['pkt.ip.foffset'] = { 'ip', 6, 2, 0, 13 },
  ['pkt.ip.ttl'] = { 'ip', 8, 1 }, ['pkt.ip.proto'] = { 'ip', 9, 1 },
  ['pkt.ip.hchecksum'] = { 'ip', 10, 2 }, ['pkt.ip.src'] = { 'ip', 12, 4 },
  ['pkt.ip.dst'] = { 'ip', 16, 4 },
  ['pkt.ip.udp.src_port'] = { 'l4', 0, 2 }, ['pkt.ip.udp.dst_port'] = { 'l4', 2, 2 },
  ['pkt.ip.udp.length'] = { 'l4', 4, 2 }, ['pkt.ip.udp.crc'] = { 'l4', 6, 2 },
  ['pkt.ip.tcp.src_port'] = { 'l4', 0, 2 }, ['pkt.ip.tcp.dst_port'] = { 'l4', 2, 2 },
  ['pkt.ip.tcp.seq_num'] = { 'l4', 4, 4 }, ['pkt.ip.tcp.ack_num'] = { 'l4', 8, 4 },
  ['pkt.ip.tcp.offset'] = { 'l4', 12, 1, 4, 4 }, ['pkt.ip.tcp.reserved'] = { 'l4', 12, 1, 0, 4 },
  ['pkt.ip.tcp.flag_cwr'] = { 'l4', 13, 1, 7, 1 }, ['pkt.ip.tcp.flag_syn'] = { 'l4', 13, 1, 1, 1 },
  ['pkt.ip.tcp.flag_ack'] = { 'l4', 13, 1, 4, 1 }, ['pkt.ip.tcp.flag_fin'] = { 'l4', 13, 1, 0, 1 },
  ['pkt.ip.tcp.rcv_wnd'] = { 'l4', 14, 2 },
  ['pkt.ip.icmp.type'] = { 'l4', 0, 1 }, ['pkt.ip.icmp.code'] = { 'l4', 1, 1 },
  ['pkt.ip.icmp.checksum'] = { 'l4', 2, 2 },
  ['pkt.ip6.flow_label'] = { 'ip6', 0, 4, 0, 20 },
  ['pkt.ip6.priority'] = { 'ip6', 0, 2, 4, 8 }, -- it lies in the header's first two bytes
  ['pkt.ip6.payload_len'] = { 'ip6', 4, 2 }, ['pkt.ip6.next_header'] = { 'ip6', 6, 1 },
  ['pkt.ip6.hop_limit'] = { 'ip6', 7, 1 }, ['pkt.ip6.udp.dst_port'] = { 'ip6l4', 2, 2 },
}

-- Layers a byte can be indexed in, and how the program names them.
M.layers = {
  eth = 'pkt', ip = 'pkt.ip', l4 = 'pkt.ip.udp', tcp = 'pkt.ip.tcp',
  udpdata = 'pkt.ip.udp.data', tcpdata = 'pkt.ip.tcp.data', ip6 = 'pkt.ip6', ip6l4 = 'pkt.ip6.udp',
}

local packet_mt = {}
packet_mt.__index = packet_mt

function M.packet(bytes)
  return setmetatable({ bytes = bytes, len = #bytes }, packet_mt)
end

function packet_mt:byte(off)
  if off < 0 or off >= self.len then error(M.past_end, 0) end
  return self.bytes:byte(off + 1)
end

function packet_mt:be(off, size)
  local v = 0
  for i = 0, size - 1 do v = v * 256 + self:byte(off + i) end
  return v
end

-- Where a layer starts: IPv4's header length (IHL) and TCP's data offset
-- are read from the packet, so they may be past the end too.
function packet_mt:base(layer)
  if layer == 'eth' then return 0 end
  if layer == 'ip' or layer == 'ip6' then return 14 end
  if layer == 'ip6l4' then return 54 end
  local l4 = 14 + bit.band(self:byte(14), 0x0f) * 4
  if layer == 'l4' or layer == 'tcp' then return l4 end
  if layer == 'udpdata' then return l4 + 8 end
  assert(layer == 'tcpdata', 'oracle: unknown layer ' .. tostring(layer))
  return l4 + bit.rshift(bit.band(self:byte(l4 + 12), 0xf0), 2)
end

-- A named header field (a non-negative integer in host byte order).
function packet_mt:field(name)
  local f = assert(M.fields[name], name)
  local v = self:be(self:base(f[1]) + f[2], f[3])
  if f[5] then v = math.floor(v / 2 ^ f[4]) % 2 ^ f[5] end
  return ffi.cast(i64, v)
end

-- A byte at an index k of a layer: the offset is the layer's start plus
-- k exactly (no wrap-around), past the end outside the packet.
function packet_mt:index(layer, k)
  local base = self:base(layer)
  if is_u(k) then
    if k >= self.len then error(M.past_end, 0) end
  elseif k < -base or k >= self.len then
    error(M.past_end, 0)
  end
  return ffi.cast(i64, self:byte(base + tonumber(k)))
end

----------------------------------------------------------------- the context

-- A number stored in a 32-bit context field, as the program reads it back.
function M.u32(v) return ffi.cast(i64, ffi.cast('uint32_t', v)) end

-- skb as the program sees it: len is the packet length, the rest given.
function M.context(len, ctx)
  local cb = {}
  for i = 0, 4 do cb[i] = ffi.cast(i64, ctx.cb[i + 1] or 0) end
  return { len = ffi.cast(i64, len), mark = ffi.cast(i64, ctx.mark), priority = ffi.cast(i64, ctx.priority),
    cb = cb }
end

----------------------------------------------------------------- the maps

-- The maps every program may use; the fuzzer creates each once.  Values
-- declared uint64_t read as uint64, uint32_t ones as (zero-extended) int64.
M.maps = {
  { name = 'arr32', type = 'array', max = 8, key = 'uint32_t', val = 'uint32_t' },
  { name = 'arr64', type = 'array', max = 8, key = 'uint32_t', val = 'uint64_t' },
  { name = 'hash32', type = 'hash', max = 8, key = 'uint32_t', val = 'uint32_t' },
  { name = 'hash64', type = 'hash', max = 8, key = 'uint64_t', val = 'uint64_t' },
}
M.map_by_name = {}
for _, d in ipairs(M.maps) do M.map_by_name[d.name] = d end

-- The contents every run starts from: { key, value } pairs (uint64 cdata).
M.initial = {
  arr32 = { { 0, 0 }, { 1, 1 }, { 2, 17 }, { 3, 0xffffffff }, { 4, 0x80000000 }, { 5, 100 },
    { 6, 7 }, { 7, 3 } },
  arr64 = { { 0, 0 }, { 1, 1 }, { 2, 0xffffffffffffffffULL }, { 3, 0x8000000000000000ULL },
    { 4, 0x123456789ULL }, { 5, 42 }, { 6, 0x7fffffffffffffffULL }, { 7, 5 } },
  hash32 = { { 0, 5 }, { 1, 0 }, { 17, 1000 }, { 0xffffffff, 0x80000000 } },
  hash64 = { { 0, 1 }, { 6, 0xfffffffffffffffeULL }, { 0x100000001ULL, 3 },
    { 0xffffffffffffffffULL, 0 } },
}

local function width_mask(ct)
  return ct == 'uint32_t' and 0xffffffffULL or 0xffffffffffffffffULL
end

-- A key or value as the map stores it: converted to its C type.
local function conv(ct, x) return bit.band(ffi.cast(u64, x), width_mask(ct)) end
M.conv = conv

local model_mt = {}
model_mt.__index = model_mt

-- A map model holds { [tostring(key)] = { key, value } }, keys and values
-- as uint64 cdata already converted to the map's types.
function M.model(desc, pairs_list)
  local m = setmetatable({ desc = desc, entries = {}, count = 0 }, model_mt)
  for _, kv in ipairs(pairs_list) do m:put(conv(desc.key, kv[1]), conv(desc.val, kv[2])) end
  return m
end

function model_mt:put(k, v)
  local s = tostring(k)
  if not self.entries[s] then self.count = self.count + 1 end
  self.entries[s] = { k, v }
end

function model_mt:find(x)
  local k = conv(self.desc.key, x)
  return self.entries[tostring(k)], k
end

-- Sorted { key, value } list, to compare with the kernel's contents.
function model_mt:list()
  local out = {}
  for _, kv in pairs(self.entries) do out[#out + 1] = kv end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

-- A lookup gives a reference to the entry (the program's map value
-- pointer) or nil; reading it reads the entry as it is now.
local ref_mt = {}
function M.get(m, x)
  local e = m:find(x)
  if not e then return nil end
  return setmetatable({ entry = e, map = m }, ref_mt)
end

local function typed(m, v)
  if m.desc.val == 'uint64_t' then return v end
  return ffi.cast(i64, v)
end

function M.rd(ref) return typed(ref.map, ref.entry[2]) end
function M.wr(ref, x) ref.entry[2] = conv(ref.map.desc.val, x) end

-- m[k] = x: an array ignores keys out of range, a full hash new keys
-- (the update fails, the program goes on).
function M.set(m, k, x)
  local e, key = m:find(k)
  local v = conv(m.desc.val, x)
  if e then e[2] = v return end
  if m.desc.type == 'array' then return end
  if m.count >= m.desc.max then return end
  m:put(key, v)
end

-- m[k] = nil: arrays cannot delete.
function M.del(m, k)
  if m.desc.type == 'array' then return end
  local e, key = m:find(k)
  if e then
    m.entries[tostring(key)] = nil
    m.count = m.count - 1
  end
end

-- xadd(m[k], x): an atomic add in place, nothing when the key is absent.
function M.xadd(m, k, x)
  local e = m:find(k)
  if e then e[2] = conv(m.desc.val, e[2] + ffi.cast(u64, x)) end
end

-- Fresh models of every map, from M.initial.
function M.fresh_maps()
  local out = {}
  for _, d in ipairs(M.maps) do out[d.name] = M.model(d, M.initial[d.name]) end
  return out
end

----------------------------------------------------------------- one run

-- The environment an oracle-rendered program runs in.
function M.env()
  return { O = M, bit = bit, ffi = ffi }
end

-- Runs an oracle-rendered function on one input; returns the retval (a
-- uint32) and the map models, or nil and the Lua error (an invalid program:
-- a bug of the generator, not of the compiler).
function M.run(fn, env, input)
  local maps = M.fresh_maps()
  env.P = M.packet(input.packet)
  for name, m in pairs(maps) do env[name] = m end
  local ok, v = pcall(fn, M.context(#input.packet, input.ctx))
  if not ok then
    if v == M.past_end then return 0, maps end
    return nil, tostring(v)
  end
  return M.retval(v), maps
end

return M
