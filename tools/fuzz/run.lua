-- One program through both sides: compiled by the module, loaded as
-- sched_cls and test-run in the kernel on a few inputs (packet, context,
-- map contents), and run by the oracle on the same inputs; the answers and
-- the maps afterwards must agree.  Also makes the inputs.
local ffi = require('ffi')
local bit = require('bit')
local gen = require('tools.fuzz.gen')
local O = require('tools.fuzz.oracle')

local M = {}

M.classes = { 'mismatch', 'mapdiff', 'refused', 'verifier', 'error', 'invalid' }

------------------------------------------------------------------ the inputs

local function be16(n) return string.char(bit.band(bit.rshift(n, 8), 0xff), bit.band(n, 0xff)) end
local function be32(n) return be16(bit.rshift(n, 16)) .. be16(n) end

local function bytes(rng, n)
  local t = {}
  for i = 1, n do t[i] = string.char(rng:below(256)) end
  return table.concat(t)
end

local ports = { 53, 80, 443, 0, 1, 65535, 4000, 8080 }

local function l4_header(rng, proto, payload)
  if proto == 17 then
    local function port() return rng:chance(0.5) and rng:pick(ports) or rng:below(65536) end
    return be16(port()) .. be16(port()) .. be16(8 + #payload) .. be16(rng:below(65536))
  elseif proto == 6 then
    local off = rng:range(5, 8) -- data offset in words: options stretch the header
    return be16(rng:pick(ports)) .. be16(rng:below(65536)) .. be32(rng:u32()) .. be32(rng:u32()) ..
      string.char(off * 16 + rng:below(16), rng:below(256)) .. bytes(rng, 6) .. bytes(rng, (off - 5) * 4)
  end
  return string.char(rng:pick({ 0, 8, 3, 11 }), rng:below(16)) .. be16(rng:below(65536)) .. bytes(rng, 4)
end

-- A well-formed Ethernet frame: IPv4 (with options sometimes) or IPv6,
-- then UDP, TCP or ICMP and some payload.
local function frame(rng)
  local eth = bytes(rng, 12)
  local payload = bytes(rng, rng:chance(0.2) and rng:range(0, 16) or rng:range(16, 64))
  if rng:chance(0.15) then
    local l4 = l4_header(rng, 17, payload) .. payload
    return eth .. be16(0x86dd) .. string.char(0x60 + rng:below(16), rng:below(256)) .. bytes(rng, 2) ..
      be16(#l4) .. string.char(17, rng:range(1, 255)) .. bytes(rng, 32) .. l4
  end
  local proto = rng:pick({ 17, 17, 6, 6, 1 })
  local ihl = rng:chance(0.7) and 5 or rng:range(6, 8)
  local l4 = l4_header(rng, proto, payload) .. payload
  local ip = string.char(0x40 + ihl, rng:below(256)) .. be16(ihl * 4 + #l4) .. be16(rng:below(65536)) ..
    be16(rng:below(65536)) .. string.char(rng:range(1, 255), proto) .. be16(rng:below(65536)) ..
    be32(rng:u32()) .. be32(rng:u32()) .. bytes(rng, (ihl - 5) * 4)
  return eth .. be16(0x0800) .. ip .. l4
end

local ctx_values = { 0, 1, 2, 3, 7, 17, 255, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 65536 }

local function ctx_value(rng)
  if rng:chance(0.6) then return rng:pick(ctx_values) end
  if rng:chance(0.5) then return rng:below(32) end
  return rng:u32()
end

-- The kernel's test run refuses a frame shorter than an Ethernet header,
-- and an IPv4 (IPv6) frame shorter than its IP header: such a frame is
-- lengthened, or its EtherType changed so that it is not IP any more.
local function runnable(rng, pkt)
  local et = pkt:byte(13) * 256 + pkt:byte(14)
  local need = et == 0x0800 and 34 or et == 0x86dd and 54 or 14
  if #pkt >= need then return pkt end
  if rng:chance(0.5) then return pkt .. bytes(rng, need - #pkt) end
  return pkt:sub(1, 12) .. be16(rng:pick({ 0x0806, 0x8100, 0x0801, 0 })) .. pkt:sub(15)
end

-- n inputs: whole frames, frames cut short (reads past the end) and
-- random bytes.
function M.inputs(rng, n)
  local out = {}
  for i = 1, n do
    local pkt
    local c = (i == 1) and 0 or rng:below(10)
    if c < 7 then pkt = frame(rng)
    elseif c < 9 then
      pkt = frame(rng)
      pkt = pkt:sub(1, rng:range(14, #pkt))
    else
      pkt = bytes(rng, rng:range(14, 96))
    end
    pkt = runnable(rng, pkt)
    local cb = {}
    for j = 1, 5 do cb[j] = ctx_value(rng) end
    out[i] = { packet = pkt, ctx = { mark = ctx_value(rng), priority = ctx_value(rng), cb = cb } }
  end
  return out
end

require('bpf.proto') -- declares struct __sk_buff
local skb_t = ffi.typeof('struct __sk_buff')
local skb_buf = skb_t()

-- ctx_in for the test run: only the fields the kernel lets us set.
local function ctx_in(ctx)
  ffi.fill(skb_buf, ffi.sizeof(skb_t))
  skb_buf.mark, skb_buf.priority = ctx.mark, ctx.priority
  for i = 0, 4 do skb_buf.cb[i] = ctx.cb[i + 1] end
  return ffi.string(skb_buf, ffi.sizeof(skb_t))
end

------------------------------------------------------------------ the runner

local Runner = {}
Runner.__index = Runner

-- A map object the core accepts without a kernel (compile-only): the
-- fields csrc/mem.c reads, fd -1.
function M.standin(d)
  local kt, vt = ffi.typeof(d.key), ffi.typeof(d.val)
  return { __map = true, fd = -1, map_type = d.type, name = d.name, key_type = kt, val_type = vt,
    key_size = ffi.sizeof(kt), val_size = ffi.sizeof(vt), max_entries = d.max, flags = 0, percpu = false }
end

-- What gen.lua renders some operators as (gen.FNS): local functions called
-- with run-time values, up to three deep (f_add3 calls f_add2 calls f_add),
-- with branches in some; inlined or compiled once as subprograms.
local function f_add(a, b) return a + b end
local function f_add2(a, b) return f_add(a, b) end
local function f_sub(a, b) return a - b end
local function f_mul(a, b) return a * b end
local function f_mul2(a, b)
  local p = f_mul(a, b)
  return p
end
local function f_lt(a, b) return a < b end
local function f_lt2(a, b)
  if f_lt(a, b) then return true end
  return false
end
local function f_eq(a, b) return a == b end
local function f_eq2(a, b)
  if a == b then return f_eq(b, a) end
  return false
end
M.fns = { f_add = f_add, f_add2 = f_add2, f_add3 = function(a, b) return f_add2(a, b) end,
  f_sub = f_sub, f_sub2 = function(a, b) return f_add(a, f_sub(0, b)) end,
  f_sub3 = function(a, b) return f_sub(f_add2(a, 0), b) end,
  f_mul = f_mul, f_mul2 = f_mul2, f_mul3 = function(a, b) return f_add(f_mul2(a, b), 0) end,
  f_lt = f_lt, f_lt2 = f_lt2, f_lt3 = function(a, b) return f_lt2(a, b) end,
  f_eq = f_eq, f_eq2 = f_eq2, f_eq3 = function(a, b) return f_eq2(a, b) end }

-- opts: kernel (load and run; else compile only), current (a file each
-- program is written to before it is compiled, after runner.label), raw
-- (load the bare instructions instead of a BPF object).
function M.new(opts)
  local bpf = require('bpf')
  local r = setmetatable({ kernel = opts.kernel, current = opts.current, raw = opts.raw, maps = {},
    loops = opts.loops, functions = opts.functions, packet = opts.packet,
    dirty = {}, bpf = bpf }, Runner)
  local builtins = require('bpf.builtins')
  r.env = { pkt = bpf.proto.pkt, eth = bpf.proto.eth, bit = bit, ffi = ffi, xadd = builtins.xadd,
    ipairs = ipairs, range = function(from, to, step) -- a for ... in over from, to, step
      local t = {}
      for i = from, to, step do t[#t + 1] = i end
      return t
    end,
  }
  for name, f in pairs(M.fns) do r.env[name] = f end
  for _, d in ipairs(O.maps) do
    local m
    if opts.kernel then
      m = assert(bpf.map(d.type, d.max, d.key, d.val, { name = 'fz_' .. d.name }))
      r.dirty[d.name] = true
    else
      m = M.standin(d)
    end
    r.maps[d.name], r.env[d.name] = m, m
  end
  return r
end

function Runner:close()
  for _, m in pairs(self.maps) do if m.close then m:close() end end
end

-- First line of a message, without positions and numbers, so that one
-- bug gives one signature however the program around it looks.
local function normalise(msg)
  msg = tostring(msg):match('^[^\n]*')
  msg = msg:gsub('^[^:]*:%d+: ', ''):gsub('%d+', '#')
  return msg
end

-- The verifier's complaint: the last log line before its statistics.
local function verifier_reason(msg)
  local reason
  for l in tostring(msg):gmatch('[^\n]+') do
    if l:match('^processed %d+ insns') then break end
    if not l:match('^%s*$') and not l:match('^verifier log:') then reason = l end
  end
  reason = (reason or normalise(msg)):gsub('%s*%-%-.*$', '')
  return (reason:gsub('%d+', '#'))
end
M.normalise, M.verifier_reason = normalise, verifier_reason

local function write_file(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

-- The compiled program, or nil and a failure.
function Runner:compile(src)
  if self.current then write_file(self.current, (self.label or '') .. src) end
  local chunk, err = loadstring(src, '=fuzz')
  if not chunk then return nil, { class = 'invalid', msg = 'does not parse: ' .. err } end
  local fn = chunk()
  local ok, p, cerr = pcall(self.bpf.compile, fn,
    { env = self.env, loops = self.loops, functions = self.functions, type = 'sched_cls',
      packet = self.packet })
  if not ok then return nil, { class = 'error', msg = tostring(p), sig = 'error: ' .. normalise(p) } end
  if not p then
    return nil, { class = 'refused', msg = tostring(cerr), sig = 'refused: ' .. normalise(cerr) }
  end
  return p
end

-- The oracle's function and its environment, from the oracle's rendering.
function M.oracle(src)
  local chunk, err = loadstring(src, '=oracle')
  if not chunk then return nil, err end
  local env = O.env()
  setfenv(chunk, env)
  return chunk(), env
end

-- The kernel's maps back to the initial contents (only those a run may
-- have changed).
function Runner:reset_maps()
  for _, d in ipairs(O.maps) do
    if self.dirty[d.name] then
      local m = self.maps[d.name]
      if d.type == 'hash' then
        local ks = assert(m:lookup_batch())
        if #ks > 0 then assert(m:delete_batch(ks)) end
      end
      local ks, vs = {}, {}
      for i, kv in ipairs(O.initial[d.name]) do ks[i], vs[i] = kv[1], kv[2] end
      assert(m:update_batch(ks, vs))
      self.dirty[d.name] = false
    end
  end
end

-- A kernel map's contents as a sorted { key, value } list of uint64s.
function Runner:contents(name)
  local ks, vs = assert(self.maps[name]:lookup_batch())
  local out = {}
  for i = 1, #ks do out[i] = { ffi.cast(O.u64, ks[i]), ffi.cast(O.u64, vs[i]) } end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

local function same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i][1] ~= b[i][1] or a[i][2] ~= b[i][2] then return false end
  end
  return true
end

local function list_text(l)
  local parts = {}
  local function n(x) return (tostring(x):gsub('ULL', '')) end
  for i, kv in ipairs(l) do parts[i] = ('[%s]=%s'):format(n(kv[1]), n(kv[2])) end
  return '{ ' .. table.concat(parts, ', ') .. ' }'
end
M.list_text = list_text

local initial_lists = {}
for _, d in ipairs(O.maps) do initial_lists[d.name] = O.model(d, O.initial[d.name]):list() end

-- Runs the loaded program and the oracle on one input; nil when they agree.
function Runner:run_input(handle, ofn, oenv, input, used)
  local loader = require('bpf.loader')
  local expected, model = O.run(ofn, oenv, input)
  if not expected then return { class = 'invalid', msg = 'the oracle failed: ' .. model } end
  if next(used) then self:reset_maps() end
  local ok, res, err = pcall(loader.test_run, handle, input.packet, { ctx_in = ctx_in(input.ctx) })
  if not ok or not res then
    local msg = tostring(ok and err or res)
    return { class = 'error', msg = msg, sig = 'error: test run: ' .. normalise(msg) }
  end
  local got = tonumber(res.retval)
  local fail
  if got ~= expected then
    fail = { class = 'mismatch', expected = expected, got = got,
      msg = ('returned %d, expected %d'):format(got, expected) }
  end
  for _, d in ipairs(O.maps) do
    if used[d.name] then
      local kernel, want = self:contents(d.name), model[d.name]:list()
      self.dirty[d.name] = not same_list(kernel, initial_lists[d.name])
      if not fail and not same_list(kernel, want) then
        fail = { class = 'mapdiff', expected = expected, got = got, map = d.name,
          msg = ('map %s holds %s, expected %s'):format(d.name, list_text(kernel), list_text(want)) }
      end
    end
  end
  return fail
end

-- Checks prog on the inputs; returns nil when all agree, else a failure
-- { class, msg, sig, input = index, expected, got }.  opts.only = an input
-- index (the shrinker re-checks the one that failed).
function Runner:check(prog, inputs, opts)
  return self:check_source(gen.render(prog), gen.render(prog, true), inputs, opts)
end

-- The same from the two renderings (a failure file holds them).
function Runner:check_source(src, osrc, inputs, opts)
  opts = opts or {}
  local p, fail = self:compile(src)
  local ofn, oenv = M.oracle(osrc)
  if not p and fail.class == 'refused' and fail.msg:find('by zero: the divisor is 0', 1, true) and ofn then
    -- refused by the table's rule: right when the oracle, on these inputs,
    -- divides by 0 on that line or never gets there (the two renderings keep
    -- the lines of the AST)
    local line = tonumber(fail.msg:match('^fuzz:(%d+):'))
    O.divisions = {}
    for _, input in ipairs(inputs) do O.run(ofn, oenv, input) end
    local d, tail = line and O.divisions[line], O.divisions.tail
    if line and (not d or d.zero > 0 or (tail and tail.zero > 0)) then return nil end
  end
  if not p then return fail end
  if p.funcs then
    M.with_subprograms = (M.with_subprograms or 0) + 1
    for _, f in ipairs(p.funcs) do
      if f.name and f.name:match('^loop_') then M.with_bpf_loop = (M.with_bpf_loop or 0) + 1 break end
    end
  end
  if not ofn then return { class = 'invalid', msg = 'the oracle does not parse: ' .. tostring(oenv) } end
  if not self.kernel then
    -- no kernel: the oracle still runs, so an invalid program shows up
    for i, input in ipairs(inputs) do
      local r, err = O.run(ofn, oenv, input)
      if not r then return { class = 'invalid', msg = 'the oracle failed: ' .. err, input = i } end
    end
    return nil
  end
  local ok, handle, err = pcall(p.load, p, 'sched_cls', { raw = self.raw })
  if not ok then
    return { class = 'error', msg = tostring(handle), sig = 'error: load: ' .. normalise(handle) }
  end
  if not handle then
    -- a program with more paths than the verifier walks (1M instructions) is
    -- the program's limit, not the compiler's: not a failure
    if tostring(err):find('the verifier gave up', 1, true) then
      M.too_complex = (M.too_complex or 0) + 1
      return nil
    end
    -- a loop the verifier cannot bound, on a kernel with no may_goto and no
    -- sound bpf_loop to compile it again with (6.1): refused, saying so
    if tostring(err):find('not compiled again: this kernel has no may_goto', 1, true) then
      M.loops_refused = (M.loops_refused or 0) + 1
      return nil
    end
    return { class = 'verifier', msg = tostring(err), sig = 'verifier: ' .. verifier_reason(err) }
  end
  local used = {}
  for _, d in ipairs(O.maps) do
    if src:find(d.name, 1, true) then used[d.name] = true end
  end
  for i, input in ipairs(inputs) do
    if not opts.only or opts.only == i then
      fail = self:run_input(handle, ofn, oenv, input, used)
      if fail then
        fail.input = i
        break
      end
    end
  end
  handle:close()
  return fail
end

return M
