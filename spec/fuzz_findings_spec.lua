-- Every wrong or refused program the differential fuzzer found (and the
-- compiler no longer gets wrong), as the fuzzer wrote it: the program in
-- both renderings, the packet and the context.  Each must compile, load and
-- give the oracle's answer in the kernel again (tools/fuzz/main.lua --replay
-- runs one the same way).
local run = require('tools.fuzz.run')

local dir = 'spec/data/fuzz/'

local function unhex(h)
  return (h:gsub('%x%x', function(x) return string.char(tonumber(x, 16)) end))
end

local files = {}
local p = assert(io.popen('ls ' .. dir))
for name in p:lines() do files[#files + 1] = name end
p:close()

describe('the fuzzer\'s findings', function()
  local runner = run.new({ kernel = true })
  for _, name in ipairs(files) do
    it(name:gsub('%.lua$', '') .. ' gives the oracle\'s answer', function()
      local f = assert(dofile(dir .. name))
      local cb = {}
      for i = 1, 5 do cb[i] = f.ctx.cb[i] end
      local ctx = { mark = f.ctx.mark, priority = f.ctx.priority, cb = cb }
      local inputs = { { packet = unhex(f.packet), ctx = ctx } }
      local fail = runner:check_source(f.source, f.oracle_source, inputs)
      assert(not fail, fail and ('%s: %s'):format(fail.class, tostring(fail.msg)))
    end)
  end
end)

-- refused-2001-45538 returns nothing, so its file checks little more than
-- that it compiles: here it and the shapes around it (a member of the
-- context, skb.cb, kept through and/or joins, if joins and loops, read and
-- written) run on two contexts, and the value returned and skb.cb as the
-- program leaves it must be what Lua computes on a table of the same values.
describe('a member of the context through joins (fuzz 2001/45538)', function()
  local ffi = require('ffi')
  local bpf = require('bpf')
  local loader = require('bpf.loader')
  local frame = require('spec.support.packets').frames.udp53
  local cbs = { { 11, 22, 33, 44, 55 }, { 30, 0, 7, 0, 4294967295 } }
  local skb_t = ffi.typeof('struct __sk_buff')

  local function check(src, opts)
    local fn = assert(loadstring(src, '=shape'))()
    local prog = assert(bpf(fn, { type = 'sched_cls', loops = opts and opts.loops }))
    local h = assert(prog:load('sched_cls'))
    for _, cb in ipairs(cbs) do
      local model = { len = #frame, cb = {} }
      local ctx = skb_t()
      for i = 0, 4 do model.cb[i], ctx.cb[i] = cb[i + 1], cb[i + 1] end
      local want = fn(model) -- after bpf(): a loop LuaJIT compiled is refused
      want = want == true and 1 or (want == false or want == nil) and 0 or want % 2 ^ 32
      local ctx_in = ffi.string(ctx, ffi.sizeof(skb_t))
      local r = assert(loader.test_run(h, frame, { ctx_in = ctx_in, ctx_out = true }))
      local out = ffi.cast('struct __sk_buff *', r.ctx_out)
      assert.equals(want, tonumber(r.retval))
      for i = 0, 4 do assert.equals(model.cb[i] % 2 ^ 32, tonumber(out.cb[i])) end
    end
    h:close()
  end

  it('writes the and/or the fuzzer found, as skb.cb shows', function()
    check([[return function(skb)
      skb.cb[0] = ((((0 < skb.len) and (0 ~= skb.len)) and skb.cb[2]) or 0)
    end]])
    check([[return function(skb)
      skb.cb[0] = ((((0 > skb.len) and (0 ~= skb.len)) and skb.cb[2]) or 0)
      return skb.cb[0] + 1
    end]])
  end)

  it('keeps skb.cb in a local across an if, a write on one path only', function()
    check([[return function(skb)
      local c = skb.cb; if skb.cb[0] > 20 then c[1] = 5 end; return c[1]
    end]])
    check([[return function(skb)
      local c = skb.cb; local d = c; if skb.len > 5 then d = skb.cb end; d[2] = 3; return c[2] + d[2]
    end]])
  end)

  it('indexes (cond and skb.cb or skb.cb), to read and to write', function()
    check([[return function(skb) return ((skb.cb[0] > 20) and skb.cb or skb.cb)[3] end]])
    check([[return function(skb) ((skb.cb[1] > 20) and skb.cb or skb.cb)[3] = 9; return skb.cb[3] end]])
    check([[return function(skb)
      local c = skb.cb; local x = (c[0] > 5 and c[1] > 5) and c or skb.cb; x[0] = x[1] + x[2]; return x[0]
    end]])
  end)

  it('reads cb through and/or joins', function()
    check([[return function(skb)
      local x = skb.cb[0] > 20 and skb.cb[1] or skb.cb[2]; skb.cb[4] = x; return x
    end]])
    check([[return function(skb)
      skb.cb[1] = (skb.len > 10 and skb.cb[3] or skb.cb[4]) + (skb.cb[0] > 20 and skb.cb[0] or 7)
      return skb.cb[1]
    end]])
    check([[return function(skb)
      local s = skb.len > 0 and skb or skb; s.cb[2] = s.cb[2] + 1; return s.cb[2]
    end]])
  end)

  it('reads and writes skb.cb[i] in loops, unrolled or not', function()
    for _, loops in ipairs({ false, 'may_goto' }) do
      local opts = { loops = loops or nil }
      check([[return function(skb) local s = 0; for i = 0, 4 do s = s + skb.cb[i] end return s end]], opts)
      check([[return function(skb)
        local c = skb.cb; for i = 0, 4 do c[i] = c[i] + i end return c[4]
      end]], opts)
      check([[return function(skb)
        local c = skb.cb; for i = 0, 4 do if skb.cb[0] > i * 10 then c[i] = i * 2 end end return c[3]
      end]], opts)
      check([[return function(skb)
        local c = skb.cb
        for i = 1, 3 do if skb.cb[0] > i * 10 then c = skb.cb end c[0] = c[0] + 1 end
        return c[0]
      end]], opts)
      check([[return function(skb)
        local t = 0; local c = skb.cb
        for i = 0, 4 do t = t + ((skb.cb[0] > i * 8) and c[i] or 0) end
        return t
      end]], opts)
    end
  end)

  it('refuses different members of the context at a join, and arithmetic on one', function()
    -- these once compiled with the first path's member on every path, or ctx + n
    local function refused(src, msg, loops)
      local prog, err = bpf(assert(loadstring(src, '=shape'))(), { type = 'sched_cls', loops = loops })
      assert.is_nil(prog)
      assert.matches(msg, err, 1, true)
    end
    local other = 'holds one member of the context on one path and another on another'
    refused([[return function(skb) return ((skb.len > 1000) and skb.cb or skb.remote_ip6)[1] end]], other)
    refused([[return function(skb)
      local c = skb.cb; for i = 1, 3 do if skb.len > i then c = skb.remote_ip6 end c[0] = c[0] + 1 end
      return c[0]
    end]], other) -- unrolled
    refused([[return function(skb)
      local c, n = skb.cb, skb.cb[0]
      while n > 0 do c[0] = c[0] + 1; c = skb.remote_ip6; n = n - 1 end
      return 1
    end]], 'holds one member of the context on one turn of the loop and another', 'may_goto')
    refused([[return function(skb) return skb.cb + 1 end]], 'operand is the program\'s context')
    refused([[return function(skb) return skb - 1 end]], 'operand is the program\'s context')
    refused([[return function(skb) return bit.band(skb.cb, 7) end]], 'operand is the program\'s context')
  end)
end)
