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

describe('local functions', function()
  it('compute with run-time arguments what LuaJIT computes', function()
    local cases = {
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
    for i, fn in ipairs(cases) do
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
