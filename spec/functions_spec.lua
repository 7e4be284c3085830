-- Local functions (csrc/inline.c): a Lua function the program calls with
-- run-time values is compiled into it, run in the kernel and checked against
-- what LuaJIT computes for the same function on the same packet.
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')

local udp53 = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 28)))

local function run(fn, opts)
  local prog = assert(bpf(fn, opts))
  local h = assert(prog:load('sched_cls'))
  local r = assert(loader.test_run(h, udp53))
  h:close()
  return r.retval, prog
end

-- Helpers the programs below call; `skb` stands for the context in LuaJIT.
local skb_lua = { len = #udp53 }
local function add(a, b) return a + b end
local function scale(x, k) return x * (k or 3) end -- k left out: nil
local function clamp(x, hi) if x > hi then return hi end return x end
local function sum_to(n) local s = 0 for i = 1, n do s = s + i end return s end
jit.off(sum_to) -- LuaJIT runs it for the expected values: its loop must stay bytecode
local function is_big(x) return x > 50 end
local function twice(x) return add(x, x) end
local function deep(x) return twice(add(x, 1)) end -- three levels: deep, twice, add
local lib = { mix = function(a, b) return bit.bxor(a * 31, b) end }
local function divmod(a, b) return a / b, a % b end -- two results
local function three(x) return x, x + 1 end           -- a third asked for: nil

-- Programs calling the helpers above with run-time values.
local runtime_cases = {
  function(skb) return add(skb.len, 5) end,
  function(skb) return scale(skb.len) + scale(skb.len, 2) end,
  function(skb) return clamp(skb.len, 60) + clamp(skb.len, 100) end,
  function(skb) return sum_to(bit.band(skb.len, 15)) end,
  function(skb) if is_big(skb.len) then return 1 end return 2 end,
  function(skb) return deep(skb.len) + twice(3) end,
  function(skb) return lib.mix(skb.len, 7) end,
  function(skb) local s = 0 for i = 1, 4 do s = s + add(i, skb.len) end return s end,
  function(skb) local a, b, c = three(skb.len) if c == nil then return a + b end return 0 end,
}
-- LuaJIT runs each for the expected value, and each is compiled again later:
-- a loop LuaJIT has traced is JFORL, which the compiler refuses
for _, fn in ipairs(runtime_cases) do jit.off(fn) end

describe('local functions', function()
  it('compute with run-time arguments what LuaJIT computes', function()
    for i, fn in ipairs(runtime_cases) do
      local got = run(fn) -- first: once LuaJIT has run a loop, its bytecode is its JIT's
      assert.equals(fn(skb_lua), got, 'case ' .. i)
    end
  end)

  it('give back several results', function()
    local n = #udp53
    assert.equals(math.floor(n / 7) * 100 + n % 7,
      (run(function(skb) local q, r = divmod(skb.len, 7) return q * 100 + r end))) -- floor division
  end)

  it('take packets, the context and maps as they are', function()
    local m = assert(bpf.map('array', 4))
    local function l4port(ip) if ip.proto == 17 then return ip.udp.dst_port end return 0 end
    local function length(ctx) return ctx.len end
    local function count(k) xadd(m[k], 1) return k end
    assert.equals(53 + #udp53 + 2, (run(function(skb) return l4port(pkt.ip) + length(skb) + count(2) end)))
    assert.equals(1, tonumber(m[2]))
  end)

  it('are folded when every argument is known and the function runs in Lua', function()
    local function slow(n) local t = {} for i = 1, n do t[i] = i end return #t end -- a table: Lua only
    local _, prog = run(function() return slow(9) end)
    assert.equals(2, prog.pc) -- r0 = 9; exit
  end)

  it('name their own lines in listings and errors', function()
    local function bad(x) return x + {} end -- luacheck: ignore
    local line = debug.getinfo(1, 'l').currentline - 1
    local prog, err = bpf(function(skb) return bad(skb.len) end)
    assert.is_nil(prog)
    assert.matches('functions_spec%.lua:' .. line .. ': ', err)
    local _, p = run(function(skb) return add(skb.len, 5) end)
    local seen = false
    for _, l in pairs(p:lines()) do
      if l.line == debug.getinfo(add, 'S').linedefined then seen = true end
    end
    assert.is_true(seen, 'a line of add')
  end)

  it('refuse recursion with a value known only at run time, and say so', function()
    local down
    down = function(n) if n <= 0 then return 0 end return down(n - 1) end
    local prog, err = bpf(function(skb) return down(skb.len) end)
    assert.is_nil(prog)
    assert.matches('calls itself', err)
    assert.equals(0, (run(function() return down(3) end))) -- known: it runs in Lua
  end)
end)

-- Subprograms (inline.c chooses, call.c calls, translate.c translates each
-- once): a function is compiled once for all its calls, its arguments in
-- r1-r5 and its result in r0, when that is smaller than a copy per call, or
-- always with opts.functions = 'subprog'.
describe('local functions as BPF-to-BPF subprograms', function()
  -- long enough (40 bytecodes or more) that one copy and three calls are
  -- smaller than three copies
  local function mix(a, b)
    local x = a * 3 + b
    if x > 100 then x = x - 100 end
    x = bit.bxor(x, 5) + a
    if x < 0 then x = -x end
    x = x + bit.band(b, 12) * 7 - bit.band(a, 60)
    if x > 1000 then x = x % 997 end
    if x == 3 then x = a - b end
    if b > x then x = x + b * 5 - 1 else x = x * 2 + 1 end
    return x + b * 2
  end
  local function subprogram_names(prog)
    local names = {}
    for i, f in ipairs(prog.funcs or {}) do if i > 1 then names[#names + 1] = f.name end end
    return table.concat(names, ',')
  end

  it('compute what LuaJIT computes, every function compiled once', function()
    local cases = { function(skb) return mix(skb.len, 7) - mix(7, skb.len) + mix(-skb.len, 1) end }
    for _, fn in ipairs(runtime_cases) do cases[#cases + 1] = fn end
    -- scale(x) leaves k nil, three gives two results: those two are inlined
    local inlined = { [3] = true, [10] = true }
    for i, fn in ipairs(cases) do
      local got, prog = run(fn, { functions = 'subprog' })
      assert.equals(fn(skb_lua), got, 'case ' .. i)
      assert.equals(not inlined[i], prog.funcs ~= nil, 'case ' .. i .. ' has subprograms')
    end
    local _, prog = run(cases[7], { functions = 'subprog' })
    assert.equals('add,twice,deep', subprogram_names(prog)) -- callees first, add once
  end)

  it('are chosen when smaller than a copy per call', function()
    local fn = function(skb) return mix(skb.len, 1) + mix(skb.len, 2) + mix(skb.len, 3) end
    local got, prog = run(fn)
    assert.equals(fn(skb_lua), got)
    assert.equals('mix', subprogram_names(prog))
    local inlined = assert(bpf(fn, { functions = 'inline' }))
    assert.is_nil(inlined.funcs)
    assert.is_true(prog.pc < inlined.pc, prog.pc .. ' < ' .. inlined.pc)
    local _, small = run(function(skb) return add(skb.len, 1) + add(skb.len, 2) end)
    assert.is_nil(small.funcs) -- add is shorter than its calls: inlined
  end)

  it('are inlined instead where an argument is not a number', function()
    local function l4port(ip) if ip.proto == 17 then return ip.udp.dst_port end return 0 end
    local function length(ctx) return ctx.len end
    local fn = function(skb) return l4port(pkt.ip) + length(skb) + add(skb.len, 1) end
    local got, prog = run(fn, { functions = 'subprog' })
    assert.equals(53 + #udp53 + #udp53 + 1, got)
    assert.equals('add', subprogram_names(prog))
    -- a boolean argument, and a call of constants whose result must fold
    local gate = function(skb) return (is_big(3) and 1 or 2) + clamp(skb.len, 10) end
    assert.equals(gate(skb_lua), (run(gate, { functions = 'subprog' })))
  end)

  it('have a stack frame of their own', function()
    local ffi = require('ffi')
    local function digits(x)
      local buf = ffi.new('uint8_t[8]')
      for i = 0, 7 do buf[i] = x % 10 x = x / 10 end
      return buf[0] + buf[1] * 10
    end
    local fn = function(skb)
      local own = ffi.new('uint8_t[4]')
      own[0] = 7
      return digits(skb.len) + digits(1234) + own[0]
    end
    local got, prog = run(fn, { functions = 'subprog' })
    assert.equals(#udp53 % 100 + 34 + 7, got)
    assert.equals('digits', subprogram_names(prog))
    assert.is_true(prog.funcs[2].stack >= 8)
  end)

  it('leave out a function whose every call is dead code', function()
    local fn = function(skb) if false then return mix(skb.len, 1) end return 3 end -- luacheck: ignore
    local got, prog = run(fn, { functions = 'subprog' })
    assert.equals(3, got)
    assert.is_nil(prog.funcs)
  end)

  it('refuse functions that call each other in a circle', function()
    local ping, pong
    ping = function(n) if n <= 0 then return 0 end return pong(n - 1) + 1 end
    pong = function(n) if n <= 0 then return 0 end return ping(n - 1) * 2 end
    local prog, err = bpf(function(skb) return ping(skb.len) + pong(skb.len) end,
      { functions = 'subprog' })
    assert.is_nil(prog)
    assert.matches('calls itself', err)
  end)

  it('are named in the IR listing, and opts.functions is checked', function()
    local prog = assert(bpf(function(skb) return mix(skb.len, 1) + mix(2, skb.len) end,
      { functions = 'subprog' }))
    assert.matches('function mix', prog:dump_string({ stage = 'ir' }))
    local bad, err = bpf(function() return 0 end, { functions = 'always' })
    assert.is_nil(bad)
    assert.matches("opts.functions is 'inline' or 'subprog'", err)
  end)
end)
