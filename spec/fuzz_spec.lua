-- The differential fuzzer (tools/fuzz): first its oracle and checker on
-- programs whose answers are known by hand (no kernel), then campaigns
-- against the running kernel with fixed seeds, and one compile-only run.
-- A campaign fails with its summary and the shrunk programs that fail.
local ffi = require('ffi')
local gen = require('tools.fuzz.gen')
local O = require('tools.fuzz.oracle')
local run = require('tools.fuzz.run')
local pk = require('spec.support.packets')

local T = gen.T

-- An oracle run of a program written in the oracle's rendering.
local function oracle(src, packet, ctx)
  local fn, env = run.oracle(src)
  assert(fn, env)
  local r, maps = O.run(fn, env, { packet = packet, ctx = ctx or { mark = 0, priority = 0, cb = {} } })
  assert(r, maps)
  return r, maps
end

local function body(text) return 'return function(skb)\n' .. text .. '\nend\n' end

local udp53 = pk.eth_ip(17, pk.udp(4000, 53, 'abcdefgh'))

describe('fuzz oracle', function()
  it('divides and takes the modulo as the table says', function()
    local div, mod = O.div, O.mod
    assert.equals(-4LL, div(-7LL, 2LL))
    assert.equals(1LL, mod(-7LL, 2LL))
    assert.equals(-1LL, mod(7LL, -2LL))
    assert.equals(-4LL, div(7LL, -2LL))
    assert.equals(3LL, div(7LL, 2LL))
    assert.equals(0LL, div(5LL, 0LL))
    assert.equals(5LL, mod(5LL, 0LL))
    assert.equals(-5LL, mod(-5LL, 0LL))
    local min = -0x7fffffffffffffffLL - 1
    assert.equals(min, div(min, -1LL))
    assert.equals(0LL, mod(min, -1LL))
    -- uint64: unsigned, whichever operand is uint64
    assert.equals(0x7fffffffffffffffULL, div(-1LL, 2ULL))
    assert.is_true(ffi.istype('uint64_t', div(-1LL, 2ULL)))
    assert.equals(1ULL, mod(-1LL, 2ULL))
    assert.equals(0ULL, div(7ULL, 0LL))
    assert.equals(2ULL, div(5ULL, 2LL))
  end)

  it('raises to integer powers with wrap-around', function()
    assert.equals(1LL, O.pow(5LL, 0))
    assert.equals(-27LL, O.pow(-3LL, 3))
    assert.equals(0LL, O.pow(2LL, 64))
    assert.equals(-0x7fffffffffffffffLL - 1, O.pow(2LL, 63))
    assert.equals(0xffffffffffffffffULL, O.pow(0xffffffffffffffffULL, 3))
  end)

  it('casts and converts as LuaJIT does on 64-bit cdata', function()
    assert.equals(0xffffffffffffffffULL, O.cast('uint64_t', -1LL))
    assert.equals(-1LL, O.cast('int64_t', 0xffffffffffffffffULL))
    assert.equals(255LL, O.cast('uint8_t', -1LL))
    assert.equals(-1LL, O.cast('int8_t', 255LL))
    assert.equals(-0x80000000LL, O.cast('int32_t', 0x80000000LL))
    assert.is_true(ffi.istype('int64_t', O.cast('uint32_t', -1LL)))
    assert.equals(-1LL, O.tobit(0x1ffffffffLL))
    assert.equals(0x23456789LL, O.tobit(0x123456789ULL))
  end)

  it('turns return values into what test_run reports', function()
    assert.equals(1, O.retval(true))
    assert.equals(0, O.retval(false))
    assert.equals(0, O.retval(nil))
    assert.equals(0, O.retval(0LL))
    assert.equals(0xffffffff, O.retval(-1LL))
    assert.equals(0x23456789, O.retval(0x123456789ULL))
  end)

  it('treats 0 as true and runs and/or as Lua does', function()
    assert.equals(5, oracle(body('local z = 0LL\nif z then return 5LL end\nreturn 6LL'), udp53))
    assert.equals(7, oracle(body('return (0LL and 7LL)'), udp53))
    assert.equals(0, oracle(body('return (0LL or 7LL)'), udp53))
    assert.equals(0, oracle(body('return ((1LL < 0LL) and 7LL)'), udp53)) -- false
    assert.equals(1, oracle(body('return (not nil)'), udp53))
    assert.equals(0, oracle(body('return (3LL == false)'), udp53))
    -- uint64 compares unsigned
    assert.equals(1, oracle(body('return (O.cast(\'uint64_t\', -1LL) > 5LL)'), udp53))
    assert.equals(0, oracle(body('return (-1LL > 5LL)'), udp53))
  end)

  it('reads packet fields in host byte order and returns 0 past the end', function()
    assert.equals(17, oracle(body("return P:field('pkt.ip.proto')"), udp53))
    assert.equals(53, oracle(body("return P:field('pkt.ip.udp.dst_port')"), udp53))
    assert.equals(0x0800, oracle(body("return P:field('pkt.type')"), udp53))
    assert.equals(4, oracle(body("return P:field('pkt.ip.ver')"), udp53))
    assert.equals(5, oracle(body("return P:field('pkt.ip.hlen')"), udp53))
    assert.equals(0x7f000001, oracle(body("return P:field('pkt.ip.src')"), udp53))
    assert.equals(17, oracle(body("return P:index('eth', 23LL)"), udp53))
    assert.equals(17, oracle(body("return P:index('ip', 9LL)"), udp53))
    assert.equals(53, oracle(body("return P:index('l4', 3LL)"), udp53))
    assert.equals(string.byte('c'), oracle(body("return P:index('udpdata', 2LL)"), udp53))
    -- IPv4 options move the UDP header
    local opts = pk.eth_ip(17, pk.udp(1, 7777, 'x'), 7)
    assert.equals(7777, oracle(body("return P:field('pkt.ip.udp.dst_port')"), opts))
    -- past the end, before it, and wrapping offsets: all 0
    assert.equals(0, oracle(body("return (P:index('eth', 1000LL) + 1LL)"), udp53))
    assert.equals(0, oracle(body("return (P:index('eth', -1LL) + 1LL)"), udp53))
    assert.equals(string.byte(udp53, 14), oracle(body("return P:index('ip', -1LL)"), udp53))
    assert.equals(0, oracle(body("return P:index('ip', O.cast('uint64_t', -1LL))"), udp53))
    assert.equals(0, oracle(body("return P:index('eth', 0x100000017LL)"), udp53))
    local short = udp53:sub(1, 36) -- the UDP header cut after its source port
    assert.equals(0, oracle(body("return (P:field('pkt.ip.udp.dst_port') + 1LL)"), short))
    assert.equals(17, oracle(body("return P:field('pkt.ip.proto')"), short))
  end)

  it('models the context', function()
    local ctx = { mark = 0xffffffff, priority = 3, cb = { 1, 2, 3, 4, 5 } }
    assert.equals(#udp53, oracle(body('return skb.len'), udp53, ctx))
    assert.equals(0xffffffff, oracle(body('return skb.mark'), udp53, ctx))
    assert.equals(1, oracle(body('return (skb.mark > 0LL)'), udp53, ctx)) -- zero-extended
    assert.equals(8, oracle(body('return (skb.cb[2] + skb.cb[4])'), udp53, ctx))
  end)

  it('models the maps: misses, updates, a full hash, deletes, xadd', function()
    local src = body([[
  local v = O.get(hash32, 17LL)
  local w = O.get(hash32, 18LL)
  local r = 0LL
  if v then r = O.rd(v) end
  if w then r = r + 1000000LL end
  O.xadd(hash32, 18LL, 1LL)
  O.xadd(arr32, 3LL, 1LL)
  O.set(arr32, 8LL, 5LL)
  O.set(hash32, 0x100000002LL, 9LL)
  O.del(hash32, 1LL)
  O.set(arr64, 1LL, -1LL)
  return r]])
    local r, maps = oracle(src, udp53)
    assert.equals(1000, r)
    assert.equals(0ULL, maps.arr32:list()[4][2]) -- 0xffffffff + 1 wraps in 32 bits
    assert.equals(8, #maps.arr32:list()) -- key 8 is out of range
    local h = maps.hash32:list()
    assert.equals(4, #h) -- 0, 2, 17, 0xffffffff: 1 deleted, 18 never added
    assert.equals(2ULL, h[2][1]) -- the key truncated to 32 bits
    assert.equals(9ULL, h[2][2])
    assert.equals(17ULL, h[3][1])
    assert.equals(0xffffffffffffffffULL, maps.arr64:list()[2][2])
    -- a full hash takes no new key but updates the ones it has
    local fill = {}
    for k = 100, 103 do fill[#fill + 1] = ('O.set(hash32, %dLL, 1LL)'):format(k) end
    fill[#fill + 1] = 'O.set(hash32, 104LL, 1LL)'
    fill[#fill + 1] = 'O.set(hash32, 0LL, 77LL)'
    local _, m2 = oracle(body(table.concat(fill, '\n')), udp53)
    assert.equals(8, #m2.hash32:list())
    assert.equals(77ULL, m2.hash32:list()[1][2])
  end)

  it('keeps map changes made before a read past the end', function()
    local src = body("O.set(arr32, 0LL, 9LL)\nlocal x = P:index('eth', 500LL)\n" ..
      "O.set(arr32, 1LL, 9LL)\nreturn x")
    local r, maps = oracle(src, udp53)
    assert.equals(0, r)
    assert.equals(9ULL, maps.arr32:list()[1][2])
    assert.equals(1ULL, maps.arr32:list()[2][2])
  end)

  it('renders one AST for the compiler and for the oracle', function()
    local prog = { upv = { { name = 'u1', e = gen.plain(-7) } }, body = {
      { k = 'local', name = 'x2', e = { k = 'pf', f = 'pkt.ip.proto' } },
      { k = 'if', arms = { { c = gen.plain(0), body = {
        { k = 'set', name = 'x2',
          e = { k = 'bin', op = '%', a = { k = 'var', name = 'u1' }, b = { k = 'var', name = 'x2' } } },
      } } } },
      { k = 'ret', e = { k = 'bin', op = '/', a = { k = 'var', name = 'x2' }, b = gen.plain(-2) } },
    } }
    assert.is_true(gen.check(prog))
    local src = gen.render(prog)
    assert.matches('local u1 = %(%-7%)', src)
    assert.matches('return %(x2 / %(%-2%)%)', src)
    -- -7 % 17 == 10 (floored), 10 / -2 == -5
    assert.equals(0xfffffffb, oracle(gen.render(prog, true), udp53))
  end)

  it('checks programs: what Lua or the table would not accept is refused', function()
    local function ret(e) return { body = { { k = 'ret', e = e } } } end
    local len = { k = 'skb', f = 'len' }
    assert.is_true(gen.check(ret({ k = 'bin', op = '/', a = len, b = gen.plain(3) })))
    -- two plain literals: LuaJIT's parser folds 7 / 2 into a float
    assert.is_nil(gen.check(ret({ k = 'bin', op = '/', a = gen.plain(7), b = gen.plain(2) })))
    -- a divisor known to be 0 is a compile error, so not a valid program
    assert.is_nil(gen.check({ body = { { k = 'local', name = 'z', e = gen.plain(0) },
      { k = 'ret', e = { k = 'bin', op = '%', a = len, b = { k = 'var', name = 'z' } } } } }))
    -- arithmetic on a boolean, a map value pointer returned, a path-dependent type
    assert.is_nil(gen.check(ret({ k = 'bin', op = '+', a = len, b = { k = 'bool', v = true } })))
    assert.is_nil(gen.check({ body = { { k = 'look', name = 'v', map = 'arr32', key = gen.plain(1),
      form = 'plain', body = { { k = 'ret', e = { k = 'ref', name = 'v' } } } } } }))
    local small = { k = 'cmp', op = '<', a = len, b = gen.plain(5) }
    assert.is_nil(gen.check(ret({ k = 'or', a = { k = 'and', a = small, b = len },
      b = gen.num(ffi.cast('uint64_t', 1), 'ULL') })))
    assert.equals(T.I, bit.band(T.I, T.I + T.F)) -- (types are sets)
  end)

  it('makes the same programs for a seed, valid ones', function()
    local feat = gen.features()
    for i = 1, 50 do
      local a, b = gen.program(5, i, feat, true), gen.program(5, i, feat, true)
      assert.equals(gen.render(a), gen.render(b))
      assert.is_true(gen.check(a))
      assert.truthy(loadstring(gen.render(a)))
    end
    assert.are_not.equals(gen.render(gen.program(5, 1, feat)), gen.render(gen.program(6, 1, feat)))
  end)
end)

-- A campaign; fails with the summary and the shrunk programs.
local fuzz = require('tools.fuzz.main').fuzz
local summary = require('tools.fuzz.main').summary

local function campaign(o)
  local defaults = require('tools.fuzz.main').defaults()
  for k, v in pairs(o) do defaults[k] = v end
  defaults.quiet, defaults.progress = true, false
  -- failures go to a directory of this run's own (make check runs unprivileged
  -- in a tree it may not write to)
  local dir = os.tmpname()
  os.remove(dir)
  defaults.out = dir .. '-fuzz-spec-' .. defaults.seed
  -- a few failures are shrunk, the first of each kind: the spec stays
  -- fast (make fuzz shrinks them all)
  defaults.shrink, defaults.max_shrinks, defaults.budget = 1, 5, 250
  local r = fuzz(defaults)
  if r.total == 0 then
    os.execute('rm -rf ' .. defaults.out) -- only current.lua is there
    return
  end
  local lines = { summary(r) }
  for _, s in ipairs(r.sigs) do
    if s.tries then
      lines[#lines + 1] = ('\n%d x %s (%s)'):format(s.n, s.sig, s.path)
      lines[#lines + 1] = s.source:gsub('\n$', '')
      if s.expected then lines[#lines + 1] = ('-- expected %d, got %d'):format(s.expected, s.got) end
      lines[#lines + 1] = '-- ' .. tostring(s.msg):match('^[^\n]*')
    end
  end
  lines[#lines + 1] = '\nnot shrunk here:'
  for _, s in ipairs(r.sigs) do
    if not s.tries then lines[#lines + 1] = ('%d x %s (e.g. %s)'):format(s.n, s.sig, s.path) end
  end
  error(table.concat(lines, '\n'), 0)
end

describe('fuzz against the kernel', function()
  it('agrees with the oracle: seed 1, every feature (swarm), 600 programs', function()
    campaign({ seed = 1, n = 600 })
  end)
  it('agrees with the oracle: seed 2, no ^ nor bit.tobit, 500 programs', function()
    campaign({ seed = 2, n = 500, without = { 'pow', 'tobit' } })
  end)
  it('agrees with the oracle: seed 3, arithmetic, logic and branches on the context, 450 programs', function()
    campaign({ seed = 3, n = 450,
      features = { 'arith', 'div', 'cmp', 'logic', 'branch', 'spill', 'ctx', 'k64' } })
  end)
  it('agrees with the oracle: seed 4, packets and maps, 450 programs', function()
    campaign({ seed = 4, n = 450,
      features = { 'arith', 'cmp', 'logic', 'branch', 'packet', 'pktidx', 'map', 'bit' } })
  end)
end)

describe('fuzz without a kernel', function()
  it('compiles 2000 programs with no error and no refusal', function()
    campaign({ seed = 11, n = 2000, compile_only = true })
  end)
end)
