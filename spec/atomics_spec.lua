-- Atomics (csrc/atomic.c): xadd, atomic_add/and/or/xor, the fetch forms,
-- xchg and cmpxchg on map values, on number fields and array elements of
-- map values and on stack objects, run in the kernel (socket filters under
-- BPF_PROG_TEST_RUN; raw_tracepoint programs run on each CPU at once for
-- the counters) with the exact values checked against a model in Lua.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')

local frame = pk.frames.udp53

ffi.cdef [[
struct atomics_spec_v {
  uint32_t u32; int32_t i32; uint64_t u64; int64_t i64;
  uint8_t small; uint16_t half; uint32_t flag : 3; uint64_t counts[4];
};
struct atomics_spec_cnt { uint64_t add; uint64_t fadd; uint32_t cas; uint32_t won; };
int atomics_spec_fork(void) __asm__("fork");
int atomics_spec_waitpid(int pid, int *status, int options) __asm__("waitpid");
void atomics_spec_exit(int status) __asm__("_exit");
]]
local C = ffi.C

local V = ffi.typeof('struct atomics_spec_v')
local m = assert(bpf.map('array', 2, 'uint32_t', V))
local args = assert(bpf.map('array', 4, 'uint32_t', 'int64_t'))
local out = assert(bpf.map('array', 4, 'uint32_t', 'int64_t'))

-- A program from source: m, args and out are its upvalues; chunk names
-- the lines in messages.
local function compile(body, opts, chunk)
  local src = 'local m, args, out, ffi = ...\nreturn function()\n' .. body .. '\nend'
  local fn = assert(loadstring(src, '=' .. (chunk or 'atomics')))(m, args, out, ffi)
  return bpf(fn, opts)
end

local function run(prog, t)
  t = t or 'socket_filter'
  local h = assert(prog:load(t))
  local r = assert(loader.test_run(h, t == 'socket_filter' and frame or nil))
  h:close()
  return r.retval
end

local function exec(body) return run(assert(compile(body))) end

-- 64-bit patterns, compared as such.
local function u64(x)
  if type(x) == 'number' then x = ffi.cast('int64_t', x) end -- (a negative double has no uint64 cast)
  return ffi.cast('uint64_t', x)
end
local function same(want, got, what) assert.equals(tostring(u64(want)), tostring(u64(got)), what) end

-- The model: a field's value as its type reads it, as a 64-bit pattern.
local kinds = { u32 = { 4, false }, i32 = { 4, true }, u64 = { 8, false }, i64 = { 8, true } }
local function as_read(kind, x)
  x = u64(x)
  local size, signed = kinds[kind][1], kinds[kind][2]
  if size == 8 then return x end
  local low = bit.band(x, 0xffffffffULL)
  if signed and low >= 0x80000000ULL then return low + 0xffffffff00000000ULL end
  return low
end
local ops = {
  add = function(a, b) return a + b end,
  ['and'] = function(a, b) return bit.band(a, b) end,
  ['or'] = function(a, b) return bit.bor(a, b) end,
  xor = function(a, b) return bit.bxor(a, b) end,
}
local start = { u32 = 0xfffffff0ULL, i32 = -5LL, u64 = 0x8000000000000005ULL, i64 = -7LL }
local operands = { 0x1234567LL, -3LL, 0x100000003LL }

local function reset(t) m[0] = t or start end

describe('atomics on struct fields of a map value', function()
  it('add, and, or, xor and their fetch forms give exact values, run-time and constant operands', function()
    for kind in pairs(kinds) do
      for name, op in pairs(ops) do
        for _, fetch in ipairs({ false, true }) do
          local fn = (fetch and 'atomic_fetch_' or 'atomic_') .. name
          local what = fn .. ' on ' .. kind
          local prog = assert(compile(([[
            local v = m[0]
            local x = args[0]
            local r = %s(v.%s, x)
            out[0] = r or 12345
            out[1] = x + 0]]):format(fn, kind)))
          for _, n in ipairs(operands) do
            reset()
            args[0] = n
            run(prog)
            local old = as_read(kind, start[kind])
            same(as_read(kind, op(old, u64(n))), m[0][kind], what .. ' ' .. tostring(n))
            same(fetch and old or 12345, out[0], what .. ': the result')
            same(n, out[1], what .. ': the operand stays what it was')
          end
          -- the operand a constant (folded into the program)
          local n = operands[3]
          reset()
          exec(('local v = m[0]\nout[0] = %s(v.%s, %s) or 12345'):format(fn, kind, tostring(n)))
          same(as_read(kind, op(as_read(kind, start[kind]), u64(n))), m[0][kind], what .. ' constant')
          same(fetch and as_read(kind, start[kind]) or 12345, out[0], what .. ' constant: the result')
        end
      end
    end
  end)

  it('xadd on a field, an array element and a chain without a local, every one kept', function()
    reset({ u32 = 1, counts = { 1, 2, 3, 4 } })
    assert.equals(0, exec([[
      local v = m[0]
      xadd(v.u32, 1)
      xadd(v.u32, 1)
      xadd(v.counts[3], 10)
      xadd(m[0].counts[0], -1)
      if v then xadd(v.counts[1], 5) end
      return 0]]))
    local v = m[0]
    assert.equals(3, v.u32)
    same(0, v.counts[0])
    same(7, v.counts[1])
    same(3, v.counts[2])
    same(14, v.counts[3])
  end)

  it('xchg gives the old value and stores the new one, in the field\'s type', function()
    for kind in pairs(kinds) do
      reset()
      args[0] = -2
      exec(('local v = m[0]\nout[0] = xchg(v.%s, args[0])'):format(kind))
      same(as_read(kind, start[kind]), out[0], 'xchg ' .. kind)
      same(as_read(kind, -2), m[0][kind], 'xchg ' .. kind .. ': stored')
    end
  end)

  it('gives a fetch the field\'s type: signed and unsigned comparisons as a read would make them', function()
    reset({ u32 = 0xffffffff, i32 = -1, u64 = -1LL, i64 = -1 })
    assert.equals(63, exec([[
      local v = m[0]
      local r = 0
      if atomic_fetch_add(v.u32, 0) > 0 then r = r + 1 end
      if atomic_fetch_add(v.i32, 0) < 0 then r = r + 2 end
      if atomic_fetch_or(v.u64, 0) > 0 then r = r + 4 end
      if atomic_fetch_or(v.i64, 0) < 0 then r = r + 8 end
      if xchg(v.u32, 0xffffffff) == 0xffffffff then r = r + 16 end
      if cmpxchg(v.i32, -1, -1) == -1 then r = r + 32 end
      return r]]))
  end)
end)

describe('atomics through the passes', function()
  it('keeps each one in order and reads a fetch result as the instruction wrote it', function()
    reset({ u32 = 1, u64 = 10 })
    args[0] = 5
    -- the same operation twice (no common subexpression), a result unused (not dead), the operand
    -- register reused after a fetch overwrote its copy
    assert.equals(1 * 10000 + 2 * 1000 + 5 * 100 + 10 + 5, exec([[
      local v = m[0]
      local x = args[0] + 0
      local a = atomic_fetch_add(v.u32, 1)
      local b = atomic_fetch_add(v.u32, 1)
      atomic_fetch_add(v.u32, 2)
      local c = xchg(v.u32, x)
      local d = atomic_fetch_xor(v.u64, x)
      return a * 10000 + b * 1000 + c * 100 + d + x]]) - 0)
    same(5, m[0].u32)
    same(15, m[0].u64)
  end)
end)

describe('cmpxchg', function()
  local prog
  local function cas(kind, cur, old, new)
    reset({ [kind] = ffi.cast('int64_t', cur) })
    args[0], args[1] = old, new
    prog = prog or {}
    prog[kind] = prog[kind] or assert(compile(('local v = m[0]\nout[0] = cmpxchg(v.%s, args[0], args[1])')
      :format(kind)))
    run(prog[kind])
    return out[0], m[0][kind]
  end

  it('exchanges when the field holds old and gives back what was there either way', function()
    for kind in pairs(kinds) do
      local was, now = cas(kind, 5, 5, -9)
      same(5, was, kind)
      same(as_read(kind, -9), now, kind .. ': exchanged')
      was, now = cas(kind, 5, 6, -9)
      same(5, was, kind .. ': no match')
      same(5, now, kind .. ': no match, unchanged')
      was, now = cas(kind, -1, -1, 3)
      same(as_read(kind, -1), was, kind .. ' -1')
      -- an int64 -1 equals every field holding all ones only where the type can hold it
      same(kind == 'u32' and as_read(kind, -1) or 3, now, kind .. ' -1 against all ones')
    end
  end)

  it('never matches an old the 32-bit field cannot hold (BPF compares the low 32 bits)', function()
    local was, now = cas('u32', 5, 5 + 2 ^ 32, 9)
    same(5, was)
    same(5, now)
    was, now = cas('i32', -1, 0xffffffff, 9)
    same(-1, was)
    same(-1, now)
    was, now = cas('i32', 7, 7 - 2 ^ 32, 9)
    same(7, was)
    same(7, now)
    -- the same with constants
    reset({ u32 = 5, i32 = -1 })
    exec('local v = m[0]\nout[0] = cmpxchg(v.u32, 0x100000005, 1)\nout[1] = cmpxchg(v.i32, 0xffffffff, 1)')
    same(5, out[0])
    same(-1, out[1])
    same(5, m[0].u32)
    same(-1, m[0].i32)
    exec('local v = m[0]\nout[0] = cmpxchg(v.u32, 5, 1)\nout[1] = cmpxchg(v.i32, -1, 2)')
    same(5, out[0])
    same(-1, out[1])
    same(1, m[0].u32)
    same(2, m[0].i32)
  end)
end)

describe('atomics on map values and stack objects', function()
  it('work on a map value of a number type', function()
    local cnt = assert(bpf.map('array', 2, 'uint32_t', 'uint32_t'))
    cnt[0], cnt[1] = 10, 0xf0
    local prog = assert(bpf(function()
      xadd(cnt[0], 3)
      local a = atomic_fetch_add(cnt[0], 1)
      local b = atomic_fetch_and(cnt[1], 0x3c)
      atomic_xor(cnt[1], 1)
      return a * 1000 + b
    end))
    assert.equals(13 * 1000 + 0xf0, run(prog))
    assert.equals(14, cnt[0])
    assert.equals(0x31, cnt[1])
  end)

  it('do nothing on a missing entry, and the forms that give a value give 0', function()
    local h = assert(bpf.map('hash', 4, 'uint32_t', V))
    local hs = assert(bpf.map('hash', 4, 'uint32_t', 'uint64_t'))
    local prog = assert(bpf(function()
      local v = h[7]
      xadd(v.u32, 1)
      local r = atomic_fetch_add(v.u64, 5) + xchg(v.i32, 3) + cmpxchg(v.i64, 0, 1)
      atomic_or(hs[1], 1)
      return r + atomic_fetch_add(hs[2], 1) + 100
    end))
    assert.equals(100, run(prog))
    assert.is_nil(h[7])
    assert.is_nil(hs[1])
  end)

  it('work on fields of stack objects', function()
    assert.equals(710, exec([[
      local s = ffi.new('struct atomics_spec_v')
      s.u32 = 7
      local o = atomic_fetch_add(s.u32, 3)
      return o * 100 + s.u32]]))
    assert.equals(1, exec([[
      local s = ffi.new('struct atomics_spec_v')
      s.counts[2] = 5
      if cmpxchg(s.counts[2], 5, 8) ~= 5 or s.counts[2] ~= 8 then return 0 end
      if cmpxchg(s.i64, 1, 8) ~= 0 or s.i64 ~= 0 then return 0 end
      atomic_or(s.i32, 6)
      return xchg(s.i32, 0) == 6 and s.i32 == 0 and 1 or 0]]))
  end)
end)

-- The CPUs a test run may be pinned to.
local function online_cpus()
  local f = assert(io.open('/sys/devices/system/cpu/online'))
  local text = f:read('*l')
  f:close()
  local cpus = {}
  for range in text:gmatch('[^,]+') do
    local a, b = range:match('^(%d+)-(%d+)$')
    a, b = tonumber(a or range), tonumber(b or range)
    for c = a, b do cpus[#cpus + 1] = c end
  end
  return cpus
end

describe('a counter updated atomically from several CPUs', function()
  it('is exact: xadd, atomic_fetch_add and a cmpxchg loop, each CPU running at once', function()
    local cnt = assert(bpf.map('array', 1, 'uint32_t', 'struct atomics_spec_cnt'))
    local turns, runs = 1000, 40
    local prog = assert(bpf(function()
      local v = cnt[0]
      for _ = 1, turns do
        xadd(v.add, 1)
        atomic_fetch_add(v.fadd, 2)
        for _ = 1, 4 do -- a compare-and-swap loop: the increments that won are counted
          local o = v.cas
          if cmpxchg(v.cas, o, o + 1) == o then
            xadd(v.won, 1)
            break
          end
        end
      end
      return 0
    end, { type = 'raw_tracepoint' }))
    local h = assert(prog:load('raw_tracepoint'))
    local cpus = online_cpus()
    local pids = {}
    for _, cpu in ipairs(cpus) do -- one process for each CPU, each running the program there
      local pid = C.atomics_spec_fork()
      assert(pid >= 0, 'fork')
      if pid == 0 then
        local ok = true
        for _ = 1, runs do
          ok = ok and loader.test_run(h, nil, { flags = 1, cpu = cpu }) ~= nil -- BPF_F_TEST_RUN_ON_CPU
        end
        C.atomics_spec_exit(ok and 0 or 1)
      end
      pids[#pids + 1] = pid
    end
    local status = ffi.new('int[1]')
    for _, pid in ipairs(pids) do
      assert.equals(pid, C.atomics_spec_waitpid(pid, status, 0))
      assert.equals(0, status[0], 'a test run failed')
    end
    h:close()
    local v, n = cnt[0], #cpus * runs * turns
    same(n, v.add, 'xadd')
    same(2 * n, v.fadd, 'atomic_fetch_add')
    assert.equals(v.won, v.cas, 'cmpxchg: each increment that won, once')
    assert.is_true(v.won > 0 and v.won <= n)
  end)
end)

describe('atomics refused at compile time', function()
  local function refused(body, pattern)
    local prog, err = compile('local v = m[0]\n' .. body, nil, 'refuse')
    assert.is_nil(prog, body)
    local _, lines = body:gsub('\n', '')
    assert.matches('^refuse:' .. (4 + lines) .. ': ', err) -- the line of the call
    assert.matches(pattern, err, 1, true)
  end

  it('names the line and says why', function()
    refused('xadd(v.small, 1)',
      'xadd() works on 4- and 8-byte numbers (BPF has atomics of 32 and 64 bits only), and this one is 1 byte'
    )
    refused('atomic_fetch_or(v.half, 1)', 'and this one is 2 bytes')
    refused('xchg(v.flag, 1)', 'xchg() cannot update a bitfield')
    refused('xadd(v.counts, 1)', 'this member is a struct or an array')
    refused('local x = v.u32\nxadd(x, 1)',
      'xadd() updates memory in place, and its first argument is a number already read: name the place')
    refused('xadd(5, 1)', 'xadd() updates memory in place, and its first argument is a constant number')
    refused('cmpxchg(m[0], 1, 2)', "this map's value is a struct or an array: name a field of it")
    refused('atomic_add(v.u32, true)', 'atomic_add() argument 2 takes a number')
    refused('atomic_add(v.u32, nil)', 'atomic_add() argument 2 on nil')
    refused('xadd(v.u32, args[0] and 1 or 2)', 'no and/or: compute them into locals first')
  end)
end)
