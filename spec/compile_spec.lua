-- The compiler against the running kernel: every program is loaded into the
-- verifier, and run with BPF_PROG_TEST_RUN where its type allows.
local ffi = require('ffi')
local bpf = require('bpf')
local pk = require('spec.support.packets')
local programs = require('spec.support.programs')

-- Compile, load as sched_cls (sees the Ethernet header), run on a packet.
local function run(fn, packet, ptype)
  local prog = assert(bpf(fn))
  local handle = assert(prog:load(ptype or 'sched_cls'))
  local res = assert(require('bpf.loader').test_run(handle, packet))
  handle:close()
  return res.retval, prog
end

local udp53 = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 28)))
local tcp80 = pk.eth_ip(6, pk.tcp(4000, 80, 'GET / HTTP/1.1\r\n'))
local icmp = pk.eth_ip(1, '\8\0\0\0\0\0\0\0')

describe('compiler', function()
  it('reports how it reads this LuaJIT', function()
    local info = bpf.core_info()
    assert.is_true(info.opcodes >= 90)
    assert.is_true(info.fr2 == 0 or info.fr2 == 1)
    assert.equals(ffi.abi('gc64') and 1 or 0, info.fr2)
  end)

  it('counts packets by protocol in 13 instructions', function()
    local map = assert(bpf.map('array', 256))
    local prog = assert(bpf(programs.counter(map)))
    assert.is_true(prog.pc <= 15)
    local h = assert(prog:load('sched_cls'))
    assert.matches('libbpf object', tostring(h)) -- loaded as an ELF object through libbpf
    local path = os.tmpname()
    assert(prog:save(path, { type = 'sched_cls' }))
    local f = assert(io.open(path, 'rb'))
    assert.equals('\127ELF', f:read(4))
    f:close()
    os.remove(path)
    local loader = require('bpf.loader')
    for _ = 1, 3 do assert(loader.test_run(h, udp53)) end
    assert(loader.test_run(h, tcp80))
    h:close()
    assert.equals(3, map[17])
    assert.equals(1, map[6])
    assert.equals(0, map[1])
  end)

  it('reads packet fields in host byte order', function()
    local r = run(function() return pkt.ip.udp.dst_port end, udp53)
    assert.equals(53, r)
    r = run(function() if pkt.ip.udp.dst_port == 53 then return 1 end return 2 end, udp53)
    assert.equals(1, r)
  end)

  it('indexes the packet with a run-time value', function()
    local f = function(skb) local k = skb.len - skb.len + 23; return pkt[k] end
    assert.equals(17, (run(f, udp53)))
  end)

  it('follows a variable IPv4 header length', function()
    local with_opts = pk.eth_ip(17, pk.udp(1, 7777, 'x'), 7)
    assert.equals(7777, (run(function() return pkt.ip.udp.dst_port end, with_opts)))
  end)

  it('compares packet slices with strings as wire bytes', function()
    local f = function()
      if pkt.ip.tcp.data(0, 4) == 'GET ' then return 1 end
      return 0
    end
    assert.equals(1, (run(f, tcp80)))
    assert.equals(0, (run(f, pk.eth_ip(6, pk.tcp(1, 80, 'POST /')))))
  end)

  it('parses DNS queries within the 2016 instruction count', function()
    local map = assert(bpf.map('array', 256))
    local prog = assert(bpf(programs.dns_parser(map)))
    assert.is_true(prog.pc <= 52)
    local h = assert(prog:load('sched_cls'))
    assert(require('bpf.loader').test_run(h, udp53))
    assert(require('bpf.loader').test_run(h, pk.eth_ip(17, pk.udp(1, 53, pk.dns_query('a.b', 1)))))
    h:close()
    assert.equals(1, map[28])
    assert.equals(1, map[1])
  end)

  it('folds constants and removes dead branches', function()
    local k = 40
    local prog = assert(bpf(function()
      local x = k + 2
      if x > 100 then return 7 end
      return x * 2
    end))
    assert.equals(2, prog.pc) -- r0 = 84; exit
    assert.equals(84, (run(function() local x = k + 2; return x * 2 end, icmp)))
  end)

  it('joins branches that assign different values', function()
    local f = function()
      local x
      if pkt.ip.proto == 17 then x = 5 else x = 9 end
      return x + 1
    end
    assert.equals(6, (run(f, udp53)))
    assert.equals(10, (run(f, tcp80)))
  end)

  it('does arithmetic with constants on either side', function()
    local f = function()
      local p = pkt.ip.proto -- 17
      return (100 - p) * 2 + (p % 5) + 60 / p
    end
    assert.equals((100 - 17) * 2 + 17 % 5 + math.floor(60 / 17), (run(f, udp53)))
  end)

  it('uses and/or and not', function()
    local f = function()
      local p = pkt.ip.proto
      local is_icmp = p == 1
      if (p == 6 or p == 17) and not is_icmp then return 1 end
      return 0
    end
    assert.equals(1, (run(f, udp53)))
    assert.equals(0, (run(f, icmp)))
  end)

  it('updates and deletes map entries', function()
    local map = assert(bpf.map('hash', 16, 'uint32_t', 'uint64_t'))
    map[5] = 1
    local f = function()
      local p = pkt.ip.proto
      map[p] = 42
      map[5] = nil
    end
    run(f, udp53)
    assert.equals(42ULL, map[17])
    assert.is_nil(map[5])
  end)

  it('guards map values: a NULL check or an automatic guard', function()
    local map = assert(bpf.map('hash', 16, 'uint32_t', 'uint32_t'))
    map[17] = 9
    local f = function()
      local v = map[pkt.ip.proto]
      if v then return v[0] end
      return 3
    end
    assert.equals(9, (run(f, udp53)))
    assert.equals(3, (run(f, tcp80)))
    assert.equals(0, (run(function() return map[pkt.ip.proto] end, tcp80)))
    -- unchecked members read as 0 when the key is absent
    assert.equals(9, (run(function() return map[pkt.ip.proto][0] + map[1][0] end, udp53)))
  end)

  it('reads the context of a socket filter', function()
    local r = run(function(skb) return skb.len end, udp53, 'sched_cls')
    assert.equals(#udp53, r)
    -- array members of the context: the offset is folded into the load
    assert.equals(0, (run(function(skb) return skb.cb[2] + skb.cb[4] end, udp53)))
    local raw = assert(bpf(function(ctx) return ctx.args[1] end,
      { ctx = { __dissector = ffi.typeof('struct { uint64_t args[12]; }') } }))
    assert(raw:load('raw_tracepoint')):close()
  end)

  it('builds structs on the stack with ffi.new', function()
    local f = function()
      local s = ffi.new('struct { uint32_t a; uint16_t b; }')
      s.a = pkt.ip.proto
      s.b = 3
      return s.a + s.b
    end
    assert.equals(20, (run(f, udp53)))
  end)

  it('calls helpers', function()
    local r = run(function() local t = time(); if t > 0 then return 1 end return 0 end, icmp)
    assert.equals(1, r)
    assert.equals(0x34120000, (run(function() return ntoh(pkt.ip.udp.crc + 0x1234) end,
      pk.eth_ip(17, pk.udp(1, 2, '')))))
  end)

  it('computes log2 of run-time values', function()
    assert.equals(4, (run(function() return math.log2(pkt.ip.proto) end, udp53)))
    -- floor(log2(x)) of x taken unsigned, log2(0) = 0, from a map value of unknown
    -- range and from one masked to 16 bits (the steps above its range are left out)
    local loader = require('bpf.loader')
    local u64 = ffi.typeof('uint64_t')
    local input = assert(bpf.map('array', 1, ffi.typeof('uint32_t'), u64))
    local output = assert(bpf.map('array', 2, ffi.typeof('uint32_t'), u64))
    local prog = assert(bpf(function()
      local v, w, w16 = input[0], output[0], output[1]
      if v and w and w16 then
        w[0] = math.log2(v[0])
        w16[0] = math.log2(bit.band(v[0], 0xffff))
      end
      return 0
    end))
    local h = assert(prog:load('sched_cls'))
    local function log2(x)
      local r = 0
      while x > 1ULL do x, r = x / 2ULL, r + 1 end
      return r
    end
    local values = { 0, 1, 2, 3, 5, 255, 256, 65535, 65536, 2 ^ 32 - 1, 2 ^ 32, -1LL, -2LL ^ 62 }
    for k = 0, 63 do values[#values + 1] = 2ULL ^ k end
    for k = 1, 63 do values[#values + 1] = 2ULL ^ k - 1 end
    for _, x in ipairs(values) do
      local ux = ffi.cast(u64, x)
      input[0] = ux
      assert(loader.test_run(h, udp53))
      assert.equals(log2(ux), tonumber(output[0]), 'log2 ' .. tostring(ux))
      assert.equals(log2(bit.band(ux, 0xffff)), tonumber(output[1]), 'log2 16 bits ' .. tostring(ux))
    end
    h:close()
  end)

  it('compares with every operator, constants on either side', function()
    local f = function()
      local p = pkt.ip.proto -- 17
      local n = 0
      if p <= 17 then n = n + 1 end
      if p < 17 then n = n + 10 end
      if 16 < p then n = n + 100 end
      if p >= 18 then n = n + 1000 end
      if 0x100000000ULL > p then n = n + 10000 end
      return n
    end
    assert.equals(10101, (run(f, udp53)))
  end)

  it('compiles tail calls and calls with multiple results', function()
    assert.equals(0x3500, (run(function() return ntoh(pkt.ip.udp.dst_port) end, udp53)))
    local prog = assert(bpf(function() print('proto %d', pkt.ip.proto, cpu()) end))
    assert(prog:load('sched_cls')):close()
  end)

  it('loads kprobe programs reading pt_regs and probing pointers', function()
    local ctx = { ctx = bpf.proto.pt_regs }
    local start = assert(bpf.map('hash', 64, 'uint64_t', 'uint64_t'))
    local hist = assert(bpf.map('array', 64))
    ffi.cdef 'struct spec_req { uint32_t a; uint64_t b; };'
    local progs = {
      function(regs) start[regs.parm1] = time() end,
      function(regs)
        local t = start[regs.parm1]
        if t then
          xadd(hist[math.log2(time() - t[0])], 1)
          start[regs.parm1] = nil
        end
      end,
      function(regs) return ffi.cast('struct spec_req *', regs.parm1).b end,
      function()
        local buf = ffi.new('char[16]')
        comm(buf)
        if buf == 'bash' then return 1 end
        return 0
      end,
    }
    for _, fn in ipairs(progs) do
      local prog = assert(bpf(fn, ctx))
      assert(prog:load('kprobe')):close()
    end
  end)

  it('reads packets directly through skb.data with a bounds check', function()
    local f = function(skb)
      local d = skb.data
      if d + 24 > skb.data_end then return 0 end
      return d[23]
    end
    assert.equals(17, (run(f, udp53)))
    assert.equals(0, (run(f, string.rep('\0', 20))))
  end)

  it('dissects IPv6, ICMP and header bitfields', function()
    local ip6 = string.rep('\0', 12) .. pk.be16(0x86dd) .. '\x60\0\0\0' .. pk.be16(8) ..
      '\17\64' .. string.rep('\0', 32) .. pk.udp(1, 853, '')
    assert.equals(853, (run(function() return pkt.ip6.udp.dst_port end, ip6)))
    assert.equals(8, (run(function() return pkt.ip.icmp.type end, icmp)))
    assert.equals(405, (run(function() return pkt.ip.ver * 100 + pkt.ip.hlen end, udp53)))
  end)

  it('copies packet bytes with load_bytes', function()
    local f = function()
      local b = ffi.new('uint8_t[4]')
      load_bytes(20, b)
      return b[3]
    end
    assert.equals(17, (run(f, udp53)))
  end)

  it('compares a string with a member of a map value', function()
    local vals = assert(bpf.map('hash', 4, 'uint32_t', 'struct { char s[8]; uint32_t n; }'))
    vals[1] = { s = 'abc', n = 1 }
    vals[2] = { s = 'abcd', n = 2 }
    local f = function()
      local v = vals[pkt.ip.proto - 16]
      if v and v.s == 'abc' then return 1 end
      return 2
    end
    assert.equals(1, (run(f, udp53)))
    assert.equals(2, (run(f, pk.eth_ip(18, ''))))
  end)

  it('loads programs that submit perf events and take stack ids', function()
    local perf = assert(bpf.map('perf_event_array'))
    local stacks = assert(bpf.map('stack_trace', 128))
    local prog = assert(bpf(function()
      local e = ffi.new('struct { uint32_t a; }')
      e.a = pkt.ip.proto
      perf_submit(perf, e)
    end))
    assert(prog:load('sched_cls')):close()
    prog = assert(bpf(function() return stack_id(stacks, 0) end, { ctx = bpf.proto.pt_regs }))
    assert(prog:load('kprobe')):close()
  end)

  it('uses the bit library and 64-bit constants', function()
    local f = function()
      local p = pkt.ip.proto -- 17
      local x = bit.bor(bit.lshift(p, 8), bit.band(p, 0x0f)) -- 0x1101
      local big = 0x123456789ULL
      if bit.rshift(big, 32) == 1 and bit.bxor(x, 1) == 0x1100 then return x end
      return 0
    end
    assert.equals(0x1101, (run(f, udp53)))
  end)

  it('joins compile-time strings', function()
    local f = function()
      local word = 'GE' .. 'T '
      if pkt.ip.tcp.data(0, 4) == word then return 1 end
      return 0
    end
    assert.equals(1, (run(f, tcp80)))
  end)

  it('copies strings and probed memory with ffi.copy', function()
    local f = function()
      local buf = ffi.new('char[8]')
      ffi.copy(buf, 'GET ')
      if pkt.ip.tcp.data(0, 4) == 'GET ' and buf == 'GET ' then return 1 end
      return 0
    end
    assert.equals(1, (run(f, tcp80)))
    local prog = assert(bpf(function(regs)
      local buf = ffi.new('char[16]')
      ffi.copy(buf, ffi.cast('const char *', regs.parm1), 16)
      if buf == 'bash' then return 1 end
      return 0
    end, { ctx = bpf.proto.pt_regs }))
    assert(prog:load('kprobe')):close()
  end)

  it('reads a map value used as a number, 0 when absent', function()
    local m = assert(bpf.map('hash', 4, 'uint32_t', 'uint64_t'))
    m[17] = 40
    local f = function()
      local v = m[pkt.ip.proto]
      if v and v > 30 then return v + 2 end
      return 100 - m[pkt.ip.proto]
    end
    assert.equals(42, (run(f, udp53)))
    assert.equals(100, (run(f, tcp80)))
  end)

  it('writes ring buffer records with output and with reserve/submit', function()
    local ring = assert(bpf.map('ringbuf', 4096))
    local out = function()
      local e = ffi.new('struct { uint32_t proto; uint32_t len; }')
      e.proto = pkt.ip.proto
      return ringbuf_output(ring, e)
    end
    assert.equals(0, (run(out, udp53)))
    local reserve = function()
      local proto = pkt.ip.proto -- packet loads first: the kernel forbids them while reserving
      local e = ringbuf_reserve(ring, 'struct { uint32_t proto; uint32_t len; }')
      if not e then return 1 end
      e.proto = proto
      e.len = 7
      ringbuf_submit(e)
      return 0
    end
    assert.equals(0, (run(reserve, udp53)))
    local discard = function()
      local e = ringbuf_reserve(ring, 'uint64_t')
      if e then ringbuf_discard(e) end
    end
    assert.equals(0, (run(discard, udp53)))
  end)

  it('resolves upvalues to the values the function closes over', function()
    local function make(n) return function() return n end end
    assert.equals(11, (run(make(11), icmp)))
    assert.equals(12, (run(make(12), icmp)))
  end)

  it('folds calls to Lua functions with constant arguments', function()
    local function double(x) return 2 * x end
    assert.equals(14, (run(function() return double(7) end, icmp)))
  end)
end)

describe('bad input', function()
  local function fails(fn, pattern)
    local prog, err = bpf(fn)
    assert.is_nil(prog)
    assert.matches('compile_spec.lua:%d+: .*' .. pattern, err)
  end

  it('names an unknown global', function()
    fails(function() return no_such_thing end, "unknown global .no_such_thing.") -- luacheck: ignore
  end)
  it('refuses closures', function()
    fails(function() local f = function() end; return f end, 'closures')
  end)
  it('refuses tables built at run time', function()
    fails(function() local t = {}; return t end, 'tables cannot be built')
  end)
  it('refuses floats', function()
    fails(function() return 1.5 end, 'not an integer')
  end)
  it('refuses run-time calls of Lua functions it cannot compile into the program', function()
    local f = function(...) return ... end
    fails(function() return f(pkt.ip.proto) end, "a function with '%.%.%.' is called with a value known only")
    local t = { f = function(x) return x end }
    local pick = function() return t.f end
    fails(function() return pick()(pkt.ip.proto) end, 'unless the compiler sees which function')
  end)
  it('refuses the loops it cannot compile yet, with a hint', function()
    fails(function(skb) local s = 0; for i = 1, 3, skb.len do s = s + i end; return s end,
      "a for loop's step must be a constant")
    fails(function(skb) local s = 0; for _ in next, {}, skb.len do s = s + 1 end; return s end,
      "tables cannot be built at run time")
    local t = {}
    fails(function(skb) local s = 0; for _ in next, t, skb.len do s = s + 1 end; return s end,
      "a 'for ... in' loop runs at compile time, so its iterator must be known then")
  end)
  it('gives clear errors for other misuse', function()
    local map = assert(bpf.map('hash', 4))
    fails(function(...) return select('#', ...) end, "'...' is not supported")
    fails(function() map.foo = 1 end, 'a map is indexed with %[key%]')
    fails(function() return ffi.new('char[1000]') end, 'out of BPF stack')
    fails(function() xadd(map[1]) end, 'xadd%(%) takes 2')
    fails(function() return pkt.ip.nosuch end, "no field or layer 'nosuch'")
    fails(function() return pkt.ip.proto / 0 end, 'division by zero')
    fails(function() return tostring(pkt.ip.proto) end, 'compile time')
  end)
  it('returns a verifier rejection with the Lua line', function()
    local prog = assert(bpf(function(skb) return skb.tc_classid end))
    local h, err = prog:load('socket_filter')
    assert.is_nil(h)
    assert.matches('compile_spec.lua:%d+', err)
  end)
end)

describe('the decode stage', function()
  it('prints each bytecode with its operands, line and the slots read after it', function()
    local map = assert(bpf.map('array', 256))
    local prog = assert(bpf(programs.counter(map)))
    local text = bpf.dump_string(prog, { stage = 'bytecode' })
    assert.matches('0001  GGET ', text)
    assert.matches('TGETS .* live {0}', text)
    assert.matches('CALL .* live {}', text)
    assert.matches('RET0', text)
    local list = require('bpf.core').decode(prog.fn)
    assert.equals('GGET', list[1].op)
    assert.same({ 0 }, list[1].live)
    assert.matches('^function main\nb0:', bpf.dump_string(prog, { stage = 'ir' }))
    assert.has_error(function() bpf.dump_string(prog, { stage = 'regs' }) end)
  end)
end)
