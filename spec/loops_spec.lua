-- Loops (csrc/var.c, "loops"): while, repeat, numeric for, break and a
-- backward goto, run in the kernel and checked against what LuaJIT computes
-- for the same function on the same packet.
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')

local udp53 = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 28)))

local function run(src, env)
  local fn = assert(loadstring(src, '=loops_spec'))()
  local prog = assert(bpf(fn, env and { env = env } or nil))
  local h = assert(prog:load('sched_cls'))
  local r = assert(loader.test_run(h, udp53))
  h:close()
  return r.retval, prog
end

-- The same function in LuaJIT, with the packet's length as skb.len.
local function lua(src)
  local fn = assert(loadstring(src))()
  return fn({ len = #udp53 })
end

describe('loops', function()
  it('while, repeat and for compute what LuaJIT computes', function()
    for _, src in ipairs({
      'return function(skb) local i, s = 0, 0 while i < 10 do s = s + i; i = i + 1 end return s end',
      'return function(skb) local s = 100 repeat s = s - 7 until s < 50 return s end',
      'return function(skb) local s = 0 for i = 1, 10 do s = s + i end return s end',
      'return function(skb) local s = 0 for i = 10, 1, -3 do s = s * 10 + i end return s end',
      'return function(skb) local s = 0 for i = 0, 20, 2 do s = s + i end return s end',
      'return function(skb) local s = 0 for i = 1, bit.band(skb.len, 15) do s = s + i end return s end',
      'return function(skb) local s = 0 for i = 5, 1 do s = s + 1 end return s + 7 end', -- no turn
      'return function(skb) local s = 0 for i = 1, 3 do for j = 1, 4 do s = s + i * j end end return s end',
      'return function(skb) local s = 0 for i = 1, 9 do if s > 10 then break end s = s + i end return s end',
    }) do
      assert.equals(lua(src), (run(src)), src)
    end
  end)

  it('knows a for loop variable lies between its bounds (floor division and modulo stay right)', function()
    assert.equals(244, (run('return function(skb) local s = 0 for i = 0, 5 do s = s + 100 / (i + 1) end ' ..
      'return s end')))
    assert.equals(258, (run('return function(skb) local s = 0 for i = -3, 3 do s = s + 100 / (i + 4) end ' ..
      'return s end')))
    assert.equals(8, (run('return function(skb) local s = 0 for i = 5, 0, -1 do s = s + 7 % (i + 1) end ' ..
      'return s end')))
    assert.equals(-3 - 2 - 1 + 0 + 1 + 2, (run('return function(skb) local s = 0 ' ..
      'for i = -3, bit.band(skb.len, 2) do s = s + i end return s + 0 end')) - 2 ^ 32)
  end)

  it('reads the packet at the loop variable', function()
    local sum = 0
    for i = 0, 7 do sum = sum + udp53:byte(15 + i) end
    assert.equals(sum, (run('return function(skb) local s = 0 for i = 0, 7 do s = s + pkt.ip[i] end ' ..
      'return s end')))
  end)

  it('assumes at the header only what every turn keeps', function()
    -- false on the first turn, true after: `if x` is not dead in the body
    assert.equals(2, (run([[return function(skb)
      local x, s = false, 0
      for i = 1, 3 do
        if x then s = s + 1 end
        x = true
      end
      return s
    end]])))
    -- a byte on entry, then a wider number: its range is not a byte's
    assert.equals(lua('return function(skb) local x = 3 for i = 1, 3 do x = x * 1000 end ' ..
      'return x % 65536 end'),
      (run('return function(skb) local x = pkt.ip[9] - 14 for i = 1, 3 do x = x * 1000 end ' ..
        'return x % 65536 end')))
    -- `x and 0` of a value that stays false is false on every turn
    assert.equals(2, (run([[return function(skb)
      local x = false
      for i = 1, 8 do x = (x and 0) end
      return x and 1 or 2
    end]])))
  end)

  it('keeps a variable the loop does not write, whatever the joins around it do', function()
    -- the loop's exit jumps to the join after an if whose other arm changes x
    assert.equals(0, (run([[return function(skb)
      local x = 0
      if 0 <= skb.len then
        local i, n = -2, 5
        while i < n do i = i + 1 end
      else
        x = skb.len
      end
      return x
    end]])))
  end)

  it('a map value looked up again on every turn is NULL-checked on every turn', function()
    local m = assert(bpf.map('array', 4, 'uint32_t', 'uint64_t'))
    m[1], m[3] = 5, 7
    assert.equals(5 + 7 + 0 + 1 + 2 + 3, (run([[return function(skb)
      local s = 0
      for k = 0, 3 do
        local v = m[k]
        if v then s = s + v[0] + k end
      end
      return s
    end]], { m = m })))
  end)

  it('names the loop the verifier could not bound, and says what to do', function()
    local fn = assert(loadstring('return function(skb)\n  local n = skb.len\n  while n > 0 do\n' ..
      '    n = n - 1\n  end\n  return n\nend', '@unbounded.lua'))()
    local prog = assert(bpf(fn))
    local h, err = prog:load('sched_cls')
    assert.is_nil(h)
    assert.matches('the verifier gave up', err)
    assert.matches('give the loop at unbounded.lua:3 a bound it can see', err, 1, true)
  end)

  it('copies a constant another slot holds at the header without losing either (fuzz 16000/2745)', function()
    local src = [[return function(skb)
      local x1, x2, x4, x5, x7, x9 = skb.len, skb.len, skb.len, skb.len, skb.len, skb.len
      local x3, x6, x8 = (1 > 0), 0, 0
      x3 = (skb.len == 0)
      for i16 = 1, 4 do
        if skb.len then else x8 = i16; x6 = 0 end
      end
      return ((((bit.bxor((((x1 + x2) + x4) - x5), x6) - x7) + x8) - x9) - ((x3 and 0) or 0))
    end]]
    assert.equals(lua(src), (run(src)))
  end)

  it('a backward goto is a loop', function()
    assert.equals(9, (run('return function(skb) local x = 1 ::top:: x = x + 1 ' ..
      'if bit.band(skb.len, 7) + 2 > x then goto top end return x end')))
  end)

  describe('a run-time index into a stack array', function()
    it('reads and writes the element, at any element size and signedness', function()
      local sum = 0
      for i = 0, 15 do sum = sum + udp53:byte(15 + i) end
      assert.equals(sum, (run([[return function(skb)
        local buf = ffi.new('uint8_t[16]')
        for i = 0, 15 do buf[i] = pkt[i + 14] end
        local s = 0
        for i = 0, 15 do s = s + buf[i] end
        return s
      end]])))
      assert.equals(10000 - 3000 - 2000, (run([[return function(skb)
        local a = ffi.new('int32_t[4]')
        for i = 0, 3 do a[i] = -i * 1000 end
        return a[bit.band(skb.len, 3)] + a[bit.band(skb.len, 2)] + 10000
      end]])))
      assert.equals(0x1234 + 0xfffe, (run([[return function(skb)
        local a = ffi.new('uint16_t[3]')
        local i = bit.band(skb.len, 1)
        a[i] = 0x1234
        a[i + 1] = -2
        return a[i] + a[i + 1]
      end]])))
    end)

    it('reads 0 outside the array and writes nothing there', function()
      assert.equals(7, (run([[return function(skb)
        local a = ffi.new('uint64_t[2]')
        a[0], a[1] = 3, 4
        a[skb.len] = 100
        a[skb.len - 1000] = 100
        return a[0] + a[1] + a[skb.len] + a[skb.len - 72]
      end]])))
    end)

    it('indexes an array member of a struct on the stack', function()
      assert.equals(3, (run([[return function(skb)
        local e = ffi.new('struct { uint32_t pid; uint8_t counter[8]; }')
        for k = 0, 7 do e.counter[bit.band(k * 3, 7)] = k end
        return e.counter[1]
      end]])))
    end)

    it('refuses an array of structs, which a run-time index cannot reach yet', function()
      local fn = assert(loadstring([[return function(skb)
        local a = ffi.new('struct { uint32_t x; } [4]')
        return a[bit.band(skb.len, 3)].x
      end]]))()
      local prog, err = bpf(fn)
      assert.is_nil(prog)
      assert.matches('a run%-time index works on a stack array of numbers', err)
    end)
  end)
end)
