-- The defects found by comparing the kernel's answers with LuaJIT's on random
-- programs (issue 6), one spec each, run in the kernel.
local bpf = require('bpf')
local loader = require('bpf.loader')
local ffi = require('ffi')
local pk = require('spec.support.packets')

local udp53 = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 28)))
local tcp80 = pk.eth_ip(6, pk.tcp(4000, 80, 'GET / HTTP/1.1\r\n'))
local L = #udp53

local function compile(src, env)
  local fn = assert(loadstring(src))()
  return bpf(fn, env and { env = env } or nil)
end

-- The program's return value on a packet (as the uint32 the kernel returns).
local function run(src, packet, env)
  local prog = assert(compile(src, env))
  local h = assert(prog:load('sched_cls'))
  local r = assert(loader.test_run(h, packet or udp53))
  h:close()
  return r.retval
end

local function u32(n) return n % 2 ^ 32 end

-- Ten values at once: more than the callee-saved registers hold.
local many = 'local a, b, c, d, e, f, g, h, i, j = skb.len + 1, skb.len + 2, skb.len + 3, ' ..
  'skb.len + 4, skb.len + 5, skb.len + 6, skb.len + 7, skb.len + 8, skb.len + 9, skb.len + 10\n'
local sum = 'a + b + c + d + e + f + g + h + i + j'
local total = 10 * L + 55

describe('regressions', function()
  it('1: a constant index into a dissector reads that byte', function()
    assert.equals(17, run('return function() return pkt[23] end'))
    assert.equals(17, run('return function() return pkt.ip[9] end'))
    assert.equals(53, run('return function() return pkt.ip.udp[3] end'))
  end)

  it('2: keeps packet values across loads and layers', function()
    assert.equals(1, run('return function() local d = pkt.ip.tcp.data; return 1 end', tcp80))
    assert.equals(string.byte('G'), run('return function() local d = pkt.ip.tcp.data; return d[0] ' ..
      'end', tcp80))
    assert.equals(17 + 53, run([[return function(skb)
      local p = pkt.ip.proto
      if skb.len > 10 then if pkt.ip.udp.dst_port == 53 then p = p + 53 end end
      return p end]]))
  end)

  it('3: a = b or a and a = b and a copy b only when it is chosen', function()
    assert.equals(L, run('return function(skb) local a = skb.len; local b = skb.len > 1000; a = b or a; ' ..
      'return a end'))
    assert.equals(L, run('return function(skb) local a = skb.len; local b = skb.len < 1000; a = b and a; ' ..
      'return a end'))
    assert.equals(0, run('return function(skb) local a = skb.len; local b = skb.len > 1000; a = b and a; ' ..
      'return a end'))
    assert.equals(1, run('return function(skb) local a = skb.len < 1000; local b = skb.len > 1000; a = b ' ..
      'or a; return a end'))
  end)

  it('4: a 64-bit constant on the left of + and * keeps its 64 bits', function()
    assert.equals(1, run('return function(skb) return bit.rshift(0x123456789ULL + skb.len, 32) end'))
    assert.equals(0x123, run('return function(skb) return bit.rshift(0x12345678900ULL * (skb.len - ' ..
      'skb.len + 1), 32) end'))
  end)

  it('5: folded and run-time division, modulo and comparisons agree', function()
    local folded = run('return function(skb) local a, b = -7, 2; return (a / b) * 10 + a % b end')
    local rt = run('return function(skb) local a, b = skb.len - skb.len - 7, skb.len - skb.len + 2; ' ..
      'return (a / b) * 10 + a % b end')
    assert.equals(u32(-4 * 10 + 1), folded)
    assert.equals(folded, rt)
    assert.equals(1, run('return function(skb) local a = skb.len - skb.len - 1; if a < 1 then return 1 ' ..
      'end return 2 end'))
  end)

  it('6: seven copies of a value, then a branch that reassigns it', function()
    assert.equals(7 + 7 * L, run([[return function(skb) local a = skb.len
      local b, c, d, e, f, g, h = a, a, a, a, a, a, a
      if skb.len > 5 then a = 7 end return a + b + c + d + e + f + g + h end]]))
  end)

  it('7: a copy of a spilled local keeps its value when the local changes', function()
    assert.equals(total - (L + 1) + 3 * L + (L + 1) * 100,
      run('return function(skb) ' .. many .. 'local k = a; a = skb.len * 3; return ' ..
        '' .. sum .. ' + k * 100 end'))
    assert.equals(total - (L + 10) + 3 * L + (L + 10) * 100,
      run('return function(skb) ' .. many .. 'local k = j; j = skb.len * 3; return ' ..
        '' .. sum .. ' + k * 100 end'))
  end)

  it('8: spilled locals given new values on one path', function()
    assert.equals(total - (L + 1) + 1000, run('return function(skb) ' .. many .. 'if skb.len > 5 then a = ' ..
      '1000 end return ' .. sum .. ' end'))
    assert.equals(total - (L + 10) + 17, run('return function(skb) ' .. many .. 'if skb.len > 5 then j = ' ..
      'pkt.ip.proto end return ' .. sum .. ' end'))
    assert.equals(total - (L + 1) + 53, run('return function(skb) ' .. many ..
      'if pkt.ip.proto == 17 then a = pkt.ip.udp.dst_port end return ' .. sum .. ' end'))
    assert.equals(total + L + 2, run('return function(skb) ' .. many ..
      'local z = (skb.len > 1000) and 5 or b; return ' .. sum .. ' + z end'))
  end)

  it('9: folds extreme values without crashing or undefined behaviour', function()
    assert.equals(0, run('return function() local a, b = 0x8000000000000000ULL, -1; return a / b end'))
    assert.equals(0, run('return function() local a, b = -0x7fffffffffffffffLL - 1, -1; return a % b end'))
    assert.equals(0, run('return function() local a, b = -0x7fffffffffffffffLL - 1, -1; return bit.band(a ' ..
      '/ b, 0xffffffff) end'))
    assert.equals(0, run('return function() local a = -0x7fffffffffffffffLL - 1; return bit.band(-a, ' ..
      '0xffffffff) end'))
    assert.equals(u32(3500008393), run('return function() local a, b = 3, 50; return a ^ b end'))
    assert.equals(0, run('return function() local a, b = 2, 1e12; return a ^ b end'))
    local prog, err = compile('return function() local a, b = 2, -1; return a ^ b end')
    assert.is_nil(prog)
    assert.matches('negative exponent', err)
  end)

  it('10: ntoh swaps the same width folded, at run time and in Lua', function()
    local folded = run('return function() return ntoh(0x3500) end')
    assert.equals(0x350000, folded)
    assert.equals(folded, run('return function(skb) return ntoh(skb.len - skb.len + 0x3500) end'))
    assert.equals(folded, bpf.ntoh(0x3500))
    assert.equals(0x35, run('return function() return ntoh(0x3500, 2) end'))
    assert.equals(0x35, bpf.ntoh(0x3500, 2))
    assert.equals(0x3500, run('return function(skb) return ntoh(pkt.ip.udp.dst_port) end'))
  end)

  it('11: a Lua error inside a compile ends that compile only', function()
    local bad = setmetatable({}, { __index = function() error('no such thing') end })
    local prog, err = compile('return function() return anything end', bad)
    assert.is_nil(prog)
    assert.matches('no such thing', err)
    assert.matches('^%[string', err)
    local f = assert(loadstring('local t = ...; return function() return t.y end'))(bad)
    prog, err = bpf(f)
    assert.is_nil(prog)
    assert.matches('no such thing', err)
    assert(bpf(function() return 1 end)) -- the next compile works
  end)

  it('12: ffi.new of a struct written as a string, compiled 20,000 times', function()
    local fn = function() local s = ffi.new('struct { uint32_t a; uint64_t b; }'); s.a = 1; return s.a end
    for _ = 1, 20000 do assert(bpf(fn)) end
    assert.equals(1, run('return function() local s = ffi.new("struct { uint32_t a; uint64_t b; }"); s.a ' ..
      '= 1; return s.a end'))
  end)

  it('reads outside the packet return 0, whatever the index', function()
    assert.equals(0, run('return function() return pkt[-1] end'))
    assert.equals(0, run('return function() local p = pkt.ip - 20; return p[0] end'))
    assert.equals(0, run('return function() return pkt[100000] end'))
    -- offsets the kernel would read relative to the network header (SKF_NET_OFF)
    assert.equals(0, run('return function(skb) local k = skb.len - skb.len - 0x100000 + 9; ' ..
      'return pkt[k] end'))
    assert.equals(0, run('return function(skb) return pkt[skb.len + 0x100000000] end'))
    -- a negative index that still lands in the packet
    assert.equals(17, run('return function(skb) local k = skb.len - skb.len - 1; return pkt.ip[k + 10] end'))
  end)

  it('13: a backward goto is a loop; recursion and a program too complex for the verifier say so', function()
    -- (where the verifier cannot bound it and no may_goto helps, spec/loops_spec.lua checks the message)
    if bpf.feature('may_goto') then
      assert.equals(9, run('return function(skb) local x = 1 ::top:: x = x + 1 ' ..
        'if bit.band(skb.len, 7) + 2 > x then goto top end return x end'))
    end
    local prog, err
    local f
    f = function(skb) if skb.len > 5 then return f(skb) end return 1 end
    prog, err = bpf(f)
    assert.is_nil(prog)
    assert.matches('recursion is not supported', err)
    local msg = loader.rejection('sched_cls', 'p', 10, -7,
      'BPF program is too large. Processed 1000001 insn\nprocessed 1000001 insns (limit 1000000)', nil, false)
    assert.matches('the verifier gave up', msg)
    msg = loader.rejection('sched_cls', 'p', 10, -28, 'the log ...', nil, true)
    assert.matches('the verifier gave up', msg)
  end)
end)

-- A map value is a pointer the code after a join reads through one value
-- type: (c and m8[k] or m64[k])[0] once read the uint64_t of m64 as m8's
-- uint8_t on every path (0x89 for 0x123456789).  Joins now compare the types
-- pointers point to (a ctype's id: each lookup has a ref of its own, and two
-- ffi.typeof('uint64_t') are two objects of one type), refuse different
-- ones, and loops no longer refuse v = m[n] because each lookup's ref differs.
-- The programs run in the kernel on frames of several lengths, and the
-- answers must be what Lua computes with the maps' values behind pointers
-- (m[k] a uint64_t[1] holding the value, nil when the key is absent).
describe('map values and other pointers through joins', function()
  local frames = {}
  for pad = 0, 5 do frames[#frames + 1] = udp53 .. string.rep('\0', pad) end -- skb.len 71 ... 76
  local u64 = ffi.typeof('uint64_t')
  -- the maps and what they hold, the same in the kernel and in the model
  local defs = {
    m8 = { 'array', 'uint8_t', { [0] = 0x21, 0x12, 0x34, 0x56 } },
    m64 = { 'array', 'uint64_t', { [0] = 0x10, 0x123456789ULL, 0xfedcba9876543210ULL, 7 } },
    n64 = { 'array', 'uint64_t', { [0] = 3, 0x0badc0ffee0ddf00dULL, 99, 0x80000001 } },
    h64 = { 'hash', 'uint64_t', { [1] = 0xabcdef012345ULL, [3] = 5 } }, -- 0 and 2 absent
    ull = { 'array', 'unsigned long long', { [0] = 11, 0xffffffff00000022ULL, 33, 44 } },
    i64 = { 'array', 'int64_t', { [0] = -1, -0x123456789LL, 2, -3 } },
  }
  local maps, model = {}, {}
  setup(function()
    for name, d in pairs(defs) do
      local m = assert(bpf.map(d[1], 4, 'uint32_t', d[2]))
      local t = {}
      for k, v in pairs(d[3]) do m[k] = v; t[k] = ffi.new(d[2] .. '[1]', v) end
      maps[name], model[name] = m, t
    end
  end)
  teardown(function()
    for _, m in pairs(maps) do m:close() end
  end)

  local function lua_answer(v)
    if v == true then return 1 elseif v == false or v == nil then return 0 end
    return tonumber(ffi.cast('uint32_t', ffi.cast(u64, v)))
  end

  -- src's answer in the kernel on every frame is what Lua computes
  local function check(src, opts)
    local prog = assert(bpf(assert(loadstring(src, '=shape'))(), { env = maps, type = 'sched_cls',
      loops = opts and opts.loops }))
    local h = assert(prog:load('sched_cls'))
    local fn = assert(loadstring(src, '=shape'))()
    setfenv(fn, setmetatable({}, { __index = function(_, k) return model[k] or _G[k] end }))
    for _, f in ipairs(frames) do
      local want = lua_answer(fn({ len = #f }))
      local r = assert(loader.test_run(h, f))
      assert.equals(want, tonumber(r.retval), src .. ' on ' .. #f .. ' bytes')
    end
    h:close()
  end

  local function refused(src, msg, opts)
    local prog, err = bpf(assert(loadstring(src, '=shape'))(), { env = maps, type = 'sched_cls',
      loops = opts and opts.loops })
    assert.is_nil(prog, src)
    assert.matches(msg, err, 1, true)
    assert.matches('^shape:%d+: ', err)
  end

  it('refuses map values of different value types at a join (once read as the first map\'s)', function()
    local other = 'holds values of one map on one path and of another (a different value type) on another'
    refused('return function(skb) local v = (skb.len > 1000) and m8[1] or m64[1]; return v[0] end', other)
    refused('return function(skb) local v = (skb.len < 1000) and m8[1] or m64[1]; return v[0] end', other)
    refused('return function(skb) return ((skb.len % 2 == 0) and m64[1] or i64[1])[0] end', other)
    refused([[return function(skb)
      local v = m64[2]; if bit.band(skb.len, 1) == 1 then v = m8[2] end; return v[0] end]], other)
    -- where the value is right anyway, it is read on each path
    check('return function(skb) return (skb.len % 2 == 0) and m8[1][0] or m64[1][0] end')
  end)

  it('joins map values of one value type: the pointer is chosen at run time', function()
    check('return function(skb) local v = (skb.len > 1000) and m64[1] or n64[1]; return v[0] end')
    check('return function(skb) local v = (skb.len < 1000) and m64[1] or n64[1]; return v[0] end')
    check('return function(skb) return ((skb.len % 2 == 0) and m64[1] or n64[1])[0] end')
    check('return function(skb) return ((skb.len % 3 == 0) and m64[2] or m64[3])[0] end')
    check('return function(skb) local v = (skb.len % 2 == 0) and m64[1] or n64[3]; v[0] = v[0] + 1; '
      .. 'return v[0] end')
    check([[return function(skb)
      local k = skb.len % 4; local v = (k > 1) and h64[k] or h64[k + 1]
      if v then return v[0] end; return 7 end]])
    check([[return function(skb)
      local v = m64[0]; local k = skb.len % 4
      if k == 1 then v = n64[1] elseif k == 2 then v = h64[3] end
      return v and v[0] + 1 or 2 end]])
    -- two C types of one layout (uint64_t and unsigned long long: two ids)
    check('return function(skb) return ((skb.len % 2 == 0) and m64[1] or ull[1])[0] end')
  end)

  it('carries a map value across loop turns (once refused: each lookup had its own type ref)', function()
    for _, loops in ipairs({ false, 'may_goto' }) do
      local opts = { loops = loops or nil }
      if not loops or bpf.feature('may_goto') then
        check([[return function(skb)
          local n = skb.len % 4; local v = m64[1]
          while n > 0 do v = m64[n]; n = n - 1 end
          return v and v[0] or 0 end]], opts)
        check([[return function(skb)
          local n = skb.len % 4; local v = m64[0]; local s = 0
          while n > 0 do s = s + v[0]; v = (n % 2 == 0) and n64[n] or h64[n]; n = n - 1 end
          return v and s + v[0] or s end]], opts)
        check([[return function(skb)
          local v = n64[0]; for i = 1, 3 do if skb.len % 4 >= i then v = m64[i] end end
          return v[0] end]], opts)
        refused([[return function(skb)
          local n = skb.len % 4; local v = m64[1]
          while n > 0 do v = m8[n]; n = n - 1 end
          return v and v[0] or 0 end]],
          'and of another (a different value type) on another', opts) -- (on a turn, or at the exit)
        refused([[return function(skb)
          local n = skb.len % 4; local v = m64[1]; local s = 0
          while n > 0 do s = s + v[0]; v = m8[n]; n = n - 1 end
          return s end]],
          'holds values of one map on one turn of the loop and of another (a different value type)', opts)
      end
    end
  end)

  it('compares packet headers and pointer types the same way', function()
    -- a dissector carried across turns (once refused, as map values were): 17, UDP
    local prog = assert(bpf(function(skb)
      local d = pkt.ip; local n = skb.len % 4
      while n > 0 do d = pkt.ip; n = n - 1 end
      return d.proto * 1000 + (skb.len > 1000 and pkt.ip.udp or pkt.ip.udp).dst_port
    end, { type = 'sched_cls' }))
    local h = assert(prog:load('sched_cls'))
    for _, f in ipairs(frames) do assert.equals(17053, tonumber(assert(loader.test_run(h, f)).retval)) end
    h:close()
    local other = 'holds one packet header (dissector) on one path and another on another'
    refused('return function(skb) local d = skb.len > 1000 and pkt.ip or pkt.ip.udp; return d.dst_port end',
      other)
    refused('return function(skb) local d = pkt.ip; if skb.len > 10 then d = pkt.ip.udp end; return d[3] end',
      other)
    refused([[return function(skb)
      local d = skb.data; if d + 40 > skb.data_end then return 0 end
      local p = skb.len > 1000 and ffi.cast('uint16_t *', d + 12) or ffi.cast('uint32_t *', d + 12)
      return p[0] end]], 'holds a pointer to one C type on one path and to another on another')
    -- one type on both paths: the pointer is chosen at run time (host order, like every packet read)
    prog = assert(bpf(function(skb)
      local d = skb.data; if d + 40 > skb.data_end then return 0 end
      local p = skb.len % 2 == 0 and ffi.cast('uint16_t *', d + 14) or ffi.cast('uint16_t *', d + 12)
      return p[0]
    end, { type = 'sched_cls' }))
    h = assert(prog:load('sched_cls'))
    for _, f in ipairs(frames) do
      local at = #f % 2 == 0 and 14 or 12
      assert.equals(f:byte(at + 1) * 256 + f:byte(at + 2), tonumber(assert(loader.test_run(h, f)).retval))
    end
    h:close()
  end)
end)
