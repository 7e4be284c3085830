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

-- A program compiled with loops = 'bpf_loop' on a kernel where bpf_loop is
-- not used (the 6.1 guest): refused, and why.
local function refused(h, err)
  assert.is_nil(h)
  assert.equals("bpf: cannot load a program compiled with loops = 'bpf_loop': "
    .. select(2, bpf.feature('bpf_loop')), err)
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
    local prog = assert(bpf(fn, { loops = 'bounded' })) -- else it loads with may_goto (below)
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

  describe('whose bound the verifier cannot see', function()
    local src = 'return function(skb) local n, s = skb.len, 0 ' ..
      'while n > 0 do n = n - 1; s = s + 2 end return s end'
    local chunk = '=may_goto.lua'

    it('load with may_goto at the end of each turn, on a kernel that has it', function()
      if not bpf.feature('may_goto') then -- before 6.9 (the 6.1 guest): refused, saying why
        local prog = assert(bpf(assert(loadstring(src, chunk))()))
        local h, err = prog:load('sched_cls')
        assert.is_nil(h)
        assert.matches('not compiled again: this kernel has no may_goto %(6.9%+%)', err)
        return
      end
      local got, prog = run(src)
      assert.equals(lua(src), got)
      assert.equals('may_goto', prog._facts.loops) -- compiled again, and that was loaded
      assert.matches('may_goto', bpf.dump_string(prog, { syntax = 'pseudo-c' }))
    end)

    it('may be given may_goto from the start, or refused it', function()
      local fn = assert(loadstring(src, chunk))()
      local prog = assert(bpf(fn, { loops = 'may_goto' }))
      assert.matches('may_goto', bpf.dump_string(prog, { syntax = 'pseudo-c' }))
      local capped = src:gsub('while n > 0', 'while n > 0 and s < 1000')
      assert.equals(lua(capped), (run(capped)))
      prog = assert(bpf(fn, { loops = 'bounded' }))
      local h, err = prog:load('sched_cls')
      assert.is_nil(h)
      assert.matches('give the loop at may_goto.lua:1 a bound it can see', err, 1, true)
      assert.matches("without loops = 'bounded'", err, 1, true)
      local none
      none, err = bpf(fn, { loops = 'unrolled' })
      assert.is_nil(none)
      assert.matches("opts.loops is 'bounded', 'may_goto' or 'bpf_loop'", err, 1, true)
    end)
  end)

  it('unrolls a for loop of a few constant turns whose body needs its variable constant', function()
    -- a packet slice takes constant offsets: each turn is its own copy
    local src = [[return function(skb)
      local s = 0
      for i = 0, 3 do
        s = s + pkt.ip(i * 2, i * 2 + 2)
        if s > 70000 then break end
      end
      return s
    end]]
    local got, prog = run(src)
    local want, ip = 0, 14 -- the IP header's first four 16-bit words, big-endian
    for i = 0, 3 do
      want = want + udp53:byte(ip + i * 2 + 1) * 256 + udp53:byte(ip + i * 2 + 2)
      if want > 70000 then break end
    end
    assert.equals(want, got)
    for i = 0, prog.pc - 1 do -- no jump back: unrolled
      local ins = prog.insn[i]
      assert.is_false(bit.band(ins.code, 0x07) == 5 and ins.off < 0 and ins.code ~= 0x85, 'insn ' .. i)
    end
    -- one that needs nothing constant stays a loop when unrolled it would be long
    -- (a short one is unrolled: spec/data/compile/loop-numeric-for.data)
    local _, looped = run('return function(skb) local s = 0 for i = 1, 100 do s = s + i end return s end')
    local back = false
    for i = 0, looped.pc - 1 do
      local ins = looped.insn[i]
      if bit.band(ins.code, 0x07) == 5 and ins.off < 0 then back = true end
    end
    assert.is_true(back)
  end)

  it('unrolls a short loop of constant bounds, and keeps it a loop when a turn would not compile', function()
    local function back_jumps(prog)
      local n = 0
      for i = 0, prog.pc - 1 do
        local ins = prog.insn[i]
        if bit.band(ins.code, 0x07) == 5 and ins.off < 0 and ins.code ~= 0x85 then n = n + 1 end
      end
      return n
    end
    local got, short = run('return function(skb) local s = 0 for i = 1, 4 do s = s * 3 + pkt[i] end '
      .. 'return s end')
    local want = 0
    for i = 1, 4 do want = want * 3 + udp53:byte(i + 1) end
    assert.equals(want, got)
    assert.equals(0, back_jumps(short))
    -- unrolled, the turn i = 0 divides by a constant 0 (a compile error): a loop instead
    local src = [[return function(skb)
      local s = 0
      for i = -1, 1 do
        if skb.len > 100000 then s = s + 12 / i end
        s = s + i + 2
      end
      return s
    end]]
    local r, looped = run(src)
    assert.equals(6, r)
    assert.is_true(back_jumps(looped) > 0)
  end)

  it('runs a for loop of run-time bounds with bpf_loop when asked, the body a callback', function()
    local cases = {
      'return function(skb) local s = 0 for i = 1, skb.len do s = s + i end return s end',
      'return function(skb) local s, t = 0, 1 for i = skb.len, 3, -2 do '
        .. 's = s + i; t = bit.bxor(t * 3, i) end return s + t end',
      'return function(skb) local s = 5 for i = 1, skb.len do if s > 400 then break end s = s + i end '
        .. 'return s end',
      -- no turns at all
      'return function(skb) local s, k = 0, 7 for i = skb.len, 1 do s = s + k end return s + k end',
      'return function(skb) local s = 0 for i = 1, skb.len do local d = i % 3 '
        .. 'if d == 0 then s = s + 1 end end return s end',
      'return function(skb) local n, s = skb.len, 0 for i = -n, n, 4 do s = s + i * i end return s end',
    }
    local works, why = bpf.feature('bpf_loop')
    for i, src in ipairs(cases) do
      local fn = assert(loadstring(src, '=loops_spec'))()
      local prog = assert(bpf(fn, { loops = 'bpf_loop' }))
      assert.is_table(prog.funcs, 'case ' .. i .. ' has its callback')
      assert.matches('^loop_', prog.funcs[2].name)
      local h, err = prog:load('sched_cls')
      if not works then -- before 6.7 (the 6.1 guest): bpf_loop could compute something else
        refused(h, err)
        assert.matches('checks a bpf_loop callback with the values of its first turn only', why)
        goto next_case
      end
      assert.is_truthy(h, err)
      assert.equals(lua(src) % 2 ^ 32, assert(loader.test_run(h, udp53)).retval, 'case ' .. i)
      h:close()
      ::next_case::
    end
    -- a stack array lives in the program's frame: the loop writing it stays a BPF loop
    local buf = assert(loadstring([[return function(skb)
      local buf = ffi.new('uint8_t[16]')
      for i = 0, bit.band(skb.len, 15) do buf[i] = i end
      return buf[5] + buf[7]
    end]], '=loops_spec'))()
    local bprog = assert(bpf(buf, { loops = 'bpf_loop' }))
    assert.is_nil(bprog.funcs)
    local bh = assert(bprog:load('sched_cls'))
    assert.equals(12, assert(loader.test_run(bh, udp53)).retval)
    bh:close()
    -- a body that reads the packet needs the context: it stays a BPF loop
    local got, prog = run('return function(skb) local s = 0 for i = 0, bit.band(skb.len, 7) do '
      .. 's = s + pkt[i] end return s end')
    assert.is_nil(prog.funcs)
    local want = 0
    for i = 0, bit.band(#udp53, 7) do want = want + udp53:byte(i + 1) end
    assert.equals(want, got)
  end)

  it('loads a bpf_loop whose count the verifier knows to be 0 (the verifier drops its callback)', function()
    local function times0(a) return a * 0 end -- a subprogram: only the verifier sees the 0
    local fn = function(skb)
      local s = 3
      for i = 2, bit.band(times0(skb.len), 15) do s = s + i end
      return s
    end
    local prog = assert(bpf(fn, { loops = 'bpf_loop', functions = 'subprog' }))
    local h, err = prog:load('sched_cls')
    if not bpf.feature('bpf_loop') then return refused(h, err) end
    assert.is_truthy(h, err)
    assert.equals(3, assert(loader.test_run(h, udp53)).retval)
    h:close()
  end)

  it('a loop the verifier gives up on loads compiled again, with may_goto or bpf_loop', function()
    local m = assert(bpf.map('array', 16))
    local src = [[return function(skb)
      local s = 0
      for i = 1, skb.len do
        local v = m[bit.band(i, 15)]
        if v then s = s + v[0] + i end
        if i == 1000 then s = s * 2 end
      end
      return s
    end]]
    local fn = assert(loadstring(src, '=loops_spec'))()
    local prog = assert(bpf(fn, { env = { m = m } }))
    local h, err = prog:load('sched_cls')
    if not bpf.feature('may_goto') and not bpf.feature('bpf_loop') then -- the 6.1 guest
      assert.is_nil(h)
      assert.matches('not compiled again: this kernel has no may_goto %(6.9%+%), and bpf_loop is not used',
        err)
      return
    end
    assert.is_truthy(h, err)
    local may_goto, callback = false, false
    for i = 0, prog.pc - 1 do may_goto = may_goto or prog.insn[i].code == 0xe5 end
    for _, f in ipairs(prog.funcs or {}) do callback = callback or (f.name or ''):match('^loop_') ~= nil end
    assert.is_true(may_goto or callback, 'compiled again one of the two ways')
    assert.equals(#udp53 * (#udp53 + 1) / 2, assert(loader.test_run(h, udp53)).retval)
    h:close()
  end)

  it('stops a bpf_loop after 2^23 turns, as the semantics table says', function()
    local fn = assert(loadstring('return function(skb) local s = 0 for i = 1, skb.len * 1000000 do '
      .. 's = s + 1 end return s end'))()
    local prog = assert(bpf(fn, { loops = 'bpf_loop' }))
    local h, err = prog:load('sched_cls')
    if not bpf.feature('bpf_loop') then return refused(h, err) end
    assert.is_truthy(h, err)
    assert.equals(8388608, assert(loader.test_run(h, udp53)).retval)
    h:close()
  end)

  -- 6.1's verifier cannot bound this loop (its signed compare), and then
  -- with no may_goto there is nothing to compile it again with: it says so
  it('a backward goto is a loop', function()
    local src = 'return function(skb) local x = 1 ::top:: x = x + 1 ' ..
      'if bit.band(skb.len, 7) + 2 > x then goto top end return x end'
    local prog = assert(bpf(assert(loadstring(src, '=loops_spec'))()))
    local h, err = prog:load('sched_cls')
    if not h then
      assert.is_false(bpf.feature('may_goto'), err)
      assert.matches('the verifier gave up.*not compiled again: this kernel has no may_goto %(6.9%+%)', err)
      return
    end
    assert.equals(9, assert(loader.test_run(h, udp53)).retval)
    h:close()
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

  describe('for ... in over what the program captures', function()
    -- The loop runs at compile time and its body is unrolled once per turn.
    local env = setmetatable({
      t = { 3, 5, 7 }, empty = {}, offsets = { 9, 12, 13 },
      ports = { dns = 53, http = 80, https = 443 },
      grid = { { 1, 2 }, { 3, 4, 5 } },
    }, { __index = _G })
    local function both(src)
      local fn = assert(loadstring(src))
      setfenv(fn, env)
      local want = fn()({ len = #udp53 })
      return want, (run(src, env))
    end

    it('computes what LuaJIT computes', function()
      for _, body in ipairs({ -- each the body of function(skb) local s = 0 ... return s end
        'for i, v in ipairs(t) do s = s + v * i end',
        'for _, v in ipairs(t) do s = s + v + skb.len end',
        'for k, v in pairs(t) do if v == 5 then break end s = s + v end',
        'for _, v in ipairs(empty) do s = s + v end s = s + 1',
        'for _, v in ipairs(t) do for j = 1, 2 do s = s + v * j + skb.len end end',
        'for _, row in ipairs(grid) do for _, x in ipairs(row) do s = s * 3 + x end end',
        'for _, v in ipairs(t) do if v == 5 then goto continue end s = s + v ::continue:: end',
        'for i = 1, 3 do for _, v in ipairs(t) do s = s + i * v end end',
      }) do
        local src = 'return function(skb) local s = 0 ' .. body .. ' return s end'
        local want, got = both(src)
        assert.equals(want, got, src)
      end
    end)

    it('compares packet fields with each value, and reads the packet at each offset', function()
      assert.equals(#'dns', (run('return function(skb) local n = 0 for name, port in pairs(ports) do ' ..
        'if pkt.ip.udp.dst_port == port then n = n + #name end end return n end', env)))
      local want = 0
      for _, off in ipairs(env.offsets) do want = want * 256 + udp53:byte(15 + off) end
      assert.equals(want, (run('return function(skb) local s = 0 for _, off in ipairs(offsets) do ' ..
        's = s * 256 + pkt.ip[off] end return s end', env)))
    end)

    it('counts into a map with each key the loop gives', function()
      local m = assert(bpf.map('array', 8))
      local fn = assert(loadstring([[return function(skb)
        for i, v in ipairs(t) do xadd(m[i], v) end
        return 0
      end]]))()
      local prog = assert(bpf(fn, { env = setmetatable({ m = m }, { __index = env }) }))
      local h = assert(prog:load('sched_cls'))
      assert(loader.test_run(h, udp53))
      assert(loader.test_run(h, udp53))
      h:close()
      assert.same({ 6, 10, 14 }, { tonumber(m[1]), tonumber(m[2]), tonumber(m[3]) })
    end)

    it('lets each turn use the stack again, unless a value keeps what a turn put there', function()
      local m = assert(bpf.map('array', 64))
      local many = {}
      for i = 1, 60 do many[i] = i end
      local fn = assert(loadstring([[return function(skb)
        local s = 0
        for _, k in ipairs(many) do local v = m[k] if v then s = s + v[0] end xadd(m[k], 1) end
        return s
      end]]))()
      local prog = assert(bpf(fn, { env = setmetatable({ m = m, many = many }, { __index = env }) }))
      assert.is_true(prog.stack <= 64, 'stack ' .. prog.stack)
      local h = assert(prog:load('sched_cls'))
      assert.equals(0, assert(loader.test_run(h, udp53)).retval)
      assert.equals(60, assert(loader.test_run(h, udp53)).retval)
      h:close()
      assert.equals(3 + 4 * 256, (run([[return function(skb)
        local kept
        for _, n in ipairs(t) do
          local b = ffi.new('uint8_t[2]')
          b[0], b[1] = n, n + 1
          if n == 3 then kept = b end -- the first turn's: the later ones take other bytes
        end
        return kept[0] + kept[1] * 256
      end]], env)))
    end)

    it('refuses an iterator known only at run time, and a loop of too many turns', function()
      local fn = assert(loadstring('return function(skb) local s = 0 ' ..
        'for i, v in next, empty, skb.len do s = s + 1 end return s end'))()
      local prog, err = bpf(fn, { env = env })
      assert.is_nil(prog)
      assert.matches("a 'for ... in' loop runs at compile time, so its iterator must be known then",
        err, 1, true)
      local big = {}
      for i = 1, 300 do big[i] = i end
      fn = assert(loadstring('return function(skb) local s = 0 ' ..
        'for _, v in ipairs(big) do s = s + v end return s end'))()
      prog, err = bpf(fn, { env = { big = big, ipairs = ipairs } })
      assert.is_nil(prog)
      assert.matches('more than 256 turns', err, 1, true)
    end)

    it('refuses to walk a map at compile time', function()
      local m = assert(bpf.map('hash', 8))
      local fn = assert(loadstring('return function(skb) local s = 0 ' ..
        'for k, v in pairs(m) do s = s + 1 end return s end'))()
      local prog, err = bpf(fn, { env = { m = m, pairs = pairs } })
      assert.is_nil(prog)
      assert.matches('a map is read at run time', err, 1, true)
    end)
  end)
end)
