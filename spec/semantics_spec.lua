-- The semantics table against the kernel: every operation on edge values,
-- with its operands known at compile time (folded), known only at run time,
-- and one of each, on int64 and on uint64.  Each program writes its full
-- 64-bit result into a map, which is compared with spec/support/semantics.lua.
-- Folding and the emitted code must agree with the table, and so with each
-- other.
local ffi = require('ffi')
local bpf = require('bpf')
local loader = require('bpf.loader')
local S = require('spec.support.semantics')

local frame = string.rep('\0', 64)

local edge = {
  0, 1, -1, 2, -2, 3, -3, 7, -7, 10, -10, 255, 256, 1000, -1000, 0x7fffffff, -0x80000000,
  0xffffffff, 0x100000000, -0x100000001, 0x123456789, S.INT64_MAX, S.INT64_MIN,
  S.INT64_MIN + 1, S.INT64_MAX - 6,
}
local shifts = { 0, 1, 7, 31, 32, 33, 63, 64, 65, 127, -1 }

local ops = {
  { '+', '%s + %s' }, { '-', '%s - %s' }, { '*', '%s * %s' }, { '/', '%s / %s' },
  { '%', '%s %% %s' },
  { 'band', 'bit.band(%s, %s)' }, { 'bor', 'bit.bor(%s, %s)' }, { 'bxor', 'bit.bxor(%s, %s)' },
  { 'lshift', 'bit.lshift(%s, %s)', shifts }, { 'rshift', 'bit.rshift(%s, %s)', shifts },
  { 'arshift', 'bit.arshift(%s, %s)', shifts },
  { '<', '%s < %s' }, { '<=', '%s <= %s' }, { '>', '%s > %s' }, { '>=', '%s >= %s' },
  { '==', '%s == %s' }, { '~=', '%s ~= %s' },
}

local function is_cmp(op) return op:match('^[<>=~]') ~= nil end

-- The program: a and b are literals (folded) or read from the input map.
local function source(op, expr, a, b)
  local body = is_cmp(op) and ('if %s then out[0] = 1 else out[0] = 0 end'):format(expr:format('a', 'b'))
    or ('out[0] = %s'):format(expr:format('a', 'b'))
  return ('return function(skb)\n  local a = %s\n  local b = %s\n  %s\n  return 0\nend'):format(a, b, body)
end

local function compile(src, input, out)
  local fn = assert(loadstring(src))()
  return bpf(fn, { env = setmetatable({ input = input, out = out }, { __index = _G }) })
end

local function run(prog)
  local h = assert(prog:load('sched_cls'))
  assert(loader.test_run(h, frame))
  h:close()
end

-- Note a wrong answer in bad.
local function mismatch(bad, what, got, want)
  if got ~= want then bad[#bad + 1] = ('%s = %s, want %s'):format(what, tostring(got), tostring(want)) end
end

local function expected(op, x, y, unsigned)
  local r = S.arith(op, x, y, unsigned)
  if type(r) == 'boolean' then r = r and 1 or 0 end
  return ffi.cast(unsigned and S.u64 or S.i64, r)
end

for _, unsigned in ipairs({ false, true }) do
  local t = unsigned and 'uint64_t' or 'int64_t'
  local input = assert(bpf.map('array', 2, 'uint32_t', t))
  local out = assert(bpf.map('array', 1, 'uint32_t', t))
  local lit = function(x) return S.literal(x, unsigned) end

  describe('the semantics on ' .. t, function()
    for _, o in ipairs(ops) do
      local op, expr, rights = o[1], o[2], o[3] or edge
      local zero_div = function(y) return (op == '/' or op == '%') and y == 0 end

      it(op .. ' at run time agrees with the table', function()
        local prog = assert(compile(source(op, expr, 'input[0]', 'input[1]'), input, out))
        local h = assert(prog:load('sched_cls'))
        local bad = {}
        for _, x in ipairs(edge) do
          for _, y in ipairs(rights) do
            input[0], input[1] = ffi.cast(t, x), ffi.cast(t, y)
            assert(loader.test_run(h, frame))
            local want = expected(op, x, y, unsigned)
            mismatch(bad, lit(x) .. ' ' .. op .. ' ' .. lit(y), out[0], want)
          end
        end
        h:close()
        assert.are.same({}, bad)
      end)

      it(op .. ' folded agrees with the table', function()
        local bad = {}
        for _, x in ipairs(edge) do
          for _, y in ipairs(rights) do
            local prog, err = compile(source(op, expr, lit(x), lit(y)), input, out)
            if zero_div(y) then
              assert.is_nil(prog)
              assert.matches('by zero', err)
            else
              assert(prog, err)
              run(prog)
              local want = expected(op, x, y, unsigned)
              mismatch(bad, lit(x) .. ' ' .. op .. ' ' .. lit(y), out[0], want)
            end
          end
        end
        assert.are.same({}, bad)
      end)

      -- One program with one operand constant, run over the other's values.
      local function one_constant(bad, src, values, set, pair)
        local prog = assert(compile(src, input, out))
        local h = assert(prog:load('sched_cls'))
        for _, v in ipairs(values) do
          set(v)
          assert(loader.test_run(h, frame))
          local x, y = pair(v)
          mismatch(bad, lit(x) .. ' ' .. op .. ' ' .. lit(y), out[0], expected(op, x, y, unsigned))
        end
        h:close()
      end

      it(op .. ' with a constant right operand agrees with the table', function()
        local bad = {}
        for _, y in ipairs(rights) do
          local src = source(op, expr, 'input[0]', lit(y))
          if zero_div(y) then
            local prog, err = compile(src, input, out)
            assert.is_nil(prog)
            assert.matches('by zero', err)
          else
            one_constant(bad, src, edge, function(x) input[0] = ffi.cast(t, x) end,
              function(x) return x, y end)
          end
        end
        assert.are.same({}, bad)
      end)

      it(op .. ' with a constant left operand agrees with the table', function()
        local bad = {}
        for _, x in ipairs(edge) do
          one_constant(bad, source(op, expr, lit(x), 'input[1]'), rights,
            function(y) input[1] = ffi.cast(t, y) end, function(y) return x, y end)
        end
        assert.are.same({}, bad)
      end)
    end

    it('^ with a constant exponent agrees with the table, folded and at run time', function()
      local bad = {}
      for _, y in ipairs({ 0, 1, 2, 3, 5, 8, 13, 50, 63, 64 }) do
        local prog = assert(compile(source('^', '%s ^ %s', 'input[0]', tostring(y)), input, out))
        local h = assert(prog:load('sched_cls'))
        for _, x in ipairs(edge) do
          input[0] = ffi.cast(t, x)
          assert(loader.test_run(h, frame))
          local want = expected('^', x, y, unsigned)
          mismatch(bad, lit(x) .. ' ^ ' .. y, out[0], want)
          local folded = assert(compile(source('^', '%s ^ %s', lit(x), tostring(y)), input, out))
          run(folded)
          mismatch(bad, 'folded ' .. lit(x) .. ' ^ ' .. y, out[0], want)
        end
        h:close()
      end
      assert.are.same({}, bad)
    end)
  end)
end

describe('the semantics of values', function()
  local out = assert(bpf.map('array', 1, 'uint32_t', 'int64_t'))
  local function value(src)
    local prog = assert(compile('return function(skb)\n' .. src .. '\nend', nil, out))
    local h = assert(prog:load('sched_cls'))
    local r = assert(loader.test_run(h, frame))
    h:close()
    return r.retval
  end

  it('0 is true, nil and false are false', function()
    assert.equals(1, value('local z = skb.len - skb.len; if z then return 1 end return 2'))
    assert.equals(1, value('if 0 then return 1 end return 2'))
    assert.equals(2, value('local z = skb.len > 1000; if z then return 1 end return 2'))
    assert.equals(7, value('local z = skb.len - skb.len; return (z and 7) or 9'))
    assert.equals(9, value('local z = skb.len > 1000; return (z and 7) or 9'))
    assert.equals(0, value('local z = skb.len - skb.len; return not z'))
  end)

  it('returns true as 1 and false and nil as 0', function()
    assert.equals(1, value('return skb.len > 0'))
    assert.equals(0, value('return skb.len > 1000'))
    assert.equals(0, value('return nil'))
    assert.equals(0xffffffff, value('return -1'))
  end)

  it('reads narrow unsigned fields zero-extended and compares them as numbers', function()
    assert.equals(1, value('if pkt.ip.ver - 16 < 0 then return 1 end return 2'))
    assert.equals(1, value('local x = pkt[0] - 1; if x < 0 then return 1 end return 2'))
  end)

  it('compares uint64 values unsigned', function()
    assert.equals(2, value("local x = ffi.cast('uint64_t', skb.len - skb.len - 1)\n" ..
      'if x < 0 then return 1 end return 2'))
    assert.equals(1, value("local x = skb.len - skb.len - 1; if x < 0 then return 1 end return 2"))
  end)

  it('refuses to test the truth of a value that is a number or nil depending on the path', function()
    local prog, err = compile('return function(skb) local x; if skb.len > 10 then x = skb.len end\n' ..
      'if x then return 1 end return 2 end', nil, out)
    assert.is_nil(prog)
    assert.matches('number on one path and nil or false on another', err)
  end)
end)
