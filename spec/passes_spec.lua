-- Passes over the IR: common subexpressions (csrc/cse.c), dead definitions
-- (csrc/dce.c), dead stores to the stack (csrc/stack.c) and jump threading
-- (csrc/passes.c).  Every program runs in the kernel.
local ffi = require('ffi')
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')

local function run(prog, data)
  local h = assert(prog:load('sched_cls'))
  local r = assert(loader.test_run(h, data or pk.frames.udp53))
  h:close()
  return r.retval
end

local function listing(prog) return bpf.dump_string(prog, { source = false }) end

-- The stores of constants to the frame (ffi.new's zero-fill is made of them).
local function zero_fills(prog)
  local _, n = listing(prog):gsub('\tST[BHWD]+\t%[R10%-%d+%]\t#0', '')
  return n
end

local function count(text, pattern)
  local _, n = text:gsub(pattern, '')
  return n
end

describe('common subexpressions', function()
  it('reads a packet byte two fields share once (classic loads)', function()
    local prog = assert(bpf(function()
      return pkt.ip.ver * 100 + pkt.ip.hlen
    end, { type = 'sched_cls', packet = 'classic' }))
    assert.equals(1, count(listing(prog), 'skb%[14%]'), listing(prog))
    assert.equals(405, run(prog))
  end)

  it('computes an expression written twice once', function()
    local prog = assert(bpf(function(skb)
      local a = skb.len * 3 + 7
      local b = skb.len * 3 + 7
      return a + b
    end, { type = 'sched_cls' }))
    assert.equals(1, count(listing(prog), '\tMUL\t'), listing(prog))
    assert.equals(2 * (#pk.frames.udp53 * 3 + 7), run(prog))
  end)
end)

describe('dead definitions', function()
  it('drops a context load whose value nothing reads', function()
    local prog = assert(bpf(function(skb)
      local unused = skb.mark + 1 -- luacheck: ignore
      return 7
    end, { type = 'sched_cls' }))
    assert.equals(0, count(listing(prog), 'LDX'), listing(prog))
    assert.equals(7, run(prog))
  end)
end)

describe('dead stores to the stack', function()
  local key_t = ffi.typeof('struct { uint32_t a, b; }')

  it('drops the zero-fill of a struct whose every field is set before a helper reads it', function()
    local m = assert(bpf.map('hash', 4, key_t, 'uint32_t'))
    local prog = assert(bpf(function(skb)
      local k = ffi.new(key_t)
      k.a, k.b = skb.len, skb.protocol
      m[k] = 7
      return 0
    end, { type = 'sched_cls' }))
    assert.equals(0, zero_fills(prog), listing(prog))
    assert.equals(0, run(prog))
    local k = key_t(#pk.frames.udp53, 8) -- skb.protocol: ETH_P_IP in network order
    assert.equals(7, m[k])
  end)

  it('keeps the zero-fill of the bytes nothing sets, which a helper reads', function()
    local m = assert(bpf.map('hash', 4, key_t, 'uint32_t'))
    local prog = assert(bpf(function(skb)
      local k = ffi.new(key_t)
      k.a = skb.len -- b stays 0
      m[k] = 9
      return 0
    end, { type = 'sched_cls' }))
    assert.equals(1, zero_fills(prog), listing(prog))
    run(prog)
    assert.equals(9, m[key_t(#pk.frames.udp53, 0)])
  end)

  it('keeps a store read before it is written again', function()
    local prog = assert(bpf(function(skb)
      local a = ffi.new('uint32_t[2]')
      local x = a[0] -- 0, from the zero-fill
      a[0] = skb.len
      a[1] = 3
      return x + a[0] + a[1]
    end, { type = 'sched_cls' }))
    assert.equals(#pk.frames.udp53 + 3, run(prog))
  end)
end)

describe('jump threading', function()
  it('sends a test to the shared return itself, not through a goto', function()
    local prog = assert(bpf(function()
      if pkt.ip.proto ~= 6 then return 0 end
      local tcp = pkt.ip.tcp
      if tcp.flag_syn == 1 and tcp.flag_ack == 0 then return 1 end
      return 0
    end, { type = 'xdp' }))
    local text = listing(prog)
    local insns = {}
    for line in text:gmatch('[^\n]+') do
      local pc, rest = line:match('^(%d+)\t(.*)$')
      if pc then insns[tonumber(pc)] = rest end
    end
    for pc, rest in pairs(insns) do
      local target = tonumber(rest:match('=> (%d+)$'))
      if target then
        assert.is_nil((insns[target] or ''):match('^JA\t'), ('%d jumps to a goto:\n%s'):format(pc, text))
      end
    end
    local h = assert(prog:load('xdp'))
    assert.equals(0, assert(loader.test_run(h, pk.frames.tcp80)).retval) -- PSH|ACK
    h:close()
  end)
end)
