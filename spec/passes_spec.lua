-- Passes over the IR: common subexpressions (csrc/cse.c), dead definitions
-- (csrc/dce.c), dead stores to the stack (csrc/stack.c), two bytes read as
-- a halfword (csrc/combine.c), 32-bit operations (csrc/narrow.c), run-time
-- offsets checked once and bounded (csrc/packet.c), copy propagation
-- (csrc/copyprop.c), bit tests (csrc/bittest.c), the Internet checksum
-- (csrc/csum.c), tail merging (csrc/tailmerge.c) and jump threading
-- (csrc/passes.c).
-- Every program runs in the kernel.
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

describe('two packet bytes read as one halfword', function()
  local frame = pk.frames.udp53
  local tot_len = frame:byte(17) * 256 + frame:byte(18) -- the IPv4 total length

  it('reads bor(lshift(p[k], 8), p[k + 1]) and its + form with one 16-bit load', function()
    for _, packet in ipairs({ 'classic', 'linear', 'exact' }) do
      local prog = assert(bpf(function()
        local ip = pkt.ip
        return bit.bor(bit.lshift(ip[2], 8), ip[3]) * 10 + (ip.udp[2] * 256 + ip.udp[3])
      end, { type = 'sched_cls', packet = packet ~= 'exact' and packet or nil }))
      local text = listing(prog)
      assert.equals(1, count(text, 'LDX?B\t'), text) -- (the IHL's)
      assert.equals(tot_len * 10 + 53, run(prog), packet)
      assert.equals(0, run(prog, frame:sub(1, 37)), packet) -- ends between the port's two bytes
    end
  end)

  it('keeps the two bytes apart when the program does something between them', function()
    local m = assert(bpf.map('array', 1))
    local prog = assert(bpf(function()
      local hi = pkt[34]
      m[0] = 7
      return bit.bor(bit.lshift(hi, 8), pkt[35])
    end, { type = 'sched_cls', packet = 'linear' }))
    assert.equals(0, run(prog, frame:sub(1, 35))) -- the second byte is past the end ...
    assert.equals(7, m[0]) -- ... and the store before it was made
    assert.equals(4000, run(prog))
  end)
end)

describe('32-bit operations', function()
  it('multiplies in 32 bits with the constant as the immediate when only the low half is kept', function()
    local prog = assert(bpf(function(skb)
      return bit.band(skb.len * 0x85ebca6b, 0xffffffff)
    end, { type = 'sched_cls' }))
    local text = listing(prog)
    assert.equals(1, count(text, 'MUL32\tR%d\t#%-2048144789'), text)
    assert.equals(0, count(text, '\tMUL\t'), text)
    local want = ffi.cast('uint32_t', ffi.cast('uint64_t', #pk.frames.udp53) * 0x85ebca6bULL)
    assert.equals(tonumber(want), run(prog))
  end)

  it('keeps a 64-bit shift by 32 or more, which a 32-bit one would count modulo 32', function()
    local prog = assert(bpf(function(skb)
      return bit.band(bit.lshift(skb.len, 40), 0xffffffff) + bit.band(bit.lshift(skb.len, 4), 0xffffffff)
    end, { type = 'sched_cls' }))
    assert.equals(#pk.frames.udp53 * 16, run(prog))
  end)
end)

describe('run-time offsets checked once', function()
  it('covers two reads at one run-time offset with one check (linear packets)', function()
    local prog = assert(bpf(function()
      local udp = pkt.ip.udp
      return udp.src_port * 65536 + udp.dst_port
    end, { type = 'sched_cls', packet = 'linear' }))
    local text = listing(prog)
    assert.equals(2, count(text, 'JGT\tR%d\tR%d'), text) -- the IPv4 header's, and the ports'
    assert.equals(4000 * 65536 + 53, run(prog))
    assert.equals(0, run(prog, pk.frames.udp53:sub(1, 37))) -- ends inside the destination port
  end)

  it('keeps a read after a store to a map apart from the check before it', function()
    local m = assert(bpf.map('array', 1))
    local prog = assert(bpf(function()
      local udp = pkt.ip.udp
      local s = udp.src_port
      m[0] = s
      return udp.dst_port
    end, { type = 'sched_cls', packet = 'linear' }))
    assert.equals(0, run(prog, pk.frames.udp53:sub(1, 37)))
    assert.equals(4000, m[0]) -- stored before the read that failed
    assert.equals(53, run(prog))
  end)
end)

describe('copy propagation', function()
  it('tests a field kept for a later read in the register it was read into', function()
    local prog = assert(bpf(function()
      local ip = pkt.ip
      if ip.proto ~= 17 then return 0 end
      return ip.proto + ip.udp.dst_port
    end, { type = 'sched_cls', packet = 'linear' }))
    local text = listing(prog)
    assert.is_nil(text:find('MOV\tR(%d)\tR%d\n%d+\tJNE\tR%1'), text)
    assert.equals(17 + 53, run(prog))
    assert.equals(0, run(prog, pk.frames.tcp80))
  end)
end)

describe('tail merging', function()
  it('keeps one copy of what two arms do alike before they join', function()
    local prog = assert(bpf(function()
      local ip = pkt.ip
      local port
      if ip.proto == c.ip.proto_tcp then
        port = ip.tcp.dst_port
      elseif ip.proto == c.ip.proto_udp then
        port = ip.udp.dst_port
      else
        return 0
      end
      return port + 1
    end, { type = 'sched_cls', packet = 'linear' }))
    local text = listing(prog)
    assert.equals(1, count(text, 'LDXH'), text) -- the port, read in one place for both
    assert.equals(54, run(prog))
    assert.equals(81, run(prog, pk.frames.tcp80))
    assert.equals(0, run(prog, pk.frames.icmp))
  end)

  -- fuzz seed 606, program 5254: the context's field and a map value read by one instruction
  it('keeps apart loads alike through the context on one way and a map value on the other', function()
    local arr32 = assert(bpf.map('array', 8))
    local hash32 = assert(bpf.map('hash', 8, 'uint32_t', 'uint32_t'))
    hash32[0] = 5
    local prog = assert(bpf(function(skb)
      local x1 = 0
      local x2 = 0
      local x3 = 0
      local i21, n22 = 3, bit.band(4095, 7)
      repeat
        do
          local v4 = arr32[0]
          if v4 then
            return (((skb.len <= skb.len) and skb.len) or v4[0])
          end
        end
        i21 = i21 + 1
      until i21 >= n22
      local v5 = hash32[0]
      if v5 then
        if (0 ~= skb.len) then
          x3 = 0
          x2 = 1
          x1 = v5[0]
        elseif (((0 <= v5[0]) and 0) or false) then -- luacheck: ignore
        end
        local v6 = hash32[skb.len]
        if v6 then
          x3 = v5[0]
        end
      end
      return ((x1 + x2) + x3)
    end, { type = 'sched_cls' }))
    assert.equals(#pk.frames.udp53, run(prog))
  end)
end)

describe('bounds on run-time offsets', function()
  it('knows a loop counter from its test: a payload scan needs no bound of its own on the offset', function()
    local prog = assert(bpf(function()
      local data = pkt.ip.udp.data
      for i = 0, 31 do
        if data[i] == 0x63 then return i + 1 end -- 'c', of 'com'
      end
      return 0
    end, { type = 'sched_cls', packet = 'linear' }))
    local text = listing(prog)
    assert.equals(0, count(text, 'JGT\tR%d\t#%d+'), text) -- only `p + n > data_end` checks
    local q = pk.dns_query('example.com', 28)
    assert.equals(q:find('com', 1, true), run(prog))
    assert.equals(0, run(prog, pk.frames.udp53:sub(1, 42 + 20))) -- 'com' lies past the end
  end)

  -- fuzz seed 1001, program 1614: a classic load that stays one (an offset no
  -- packet has) gives the verifier a number it knows nothing of
  it('knows nothing of what a classic load gives', function()
    local prog = assert(bpf(function(skb)
      local x1 = pkt.ip.tcp[(((skb.len == skb.len) and 0) or pkt[(-1)])] -- luacheck: ignore
    end, { type = 'sched_cls', packet = 'linear' }))
    assert.equals(0, run(prog))
  end)
end)

describe('tests of bits of one value', function()
  -- a TCP segment whose flags byte is f
  local function segment(f)
    local tcp = pk.be16(4000) .. pk.be16(80) .. string.rep('\0', 8) .. string.char(0x50, f) ..
      pk.be16(65535) .. pk.be16(0) .. pk.be16(0)
    return pk.eth_ip(6, tcp)
  end
  local function bit_of(f, k) return bit.band(bit.rshift(f, k), 1) end

  it('tests SYN set and ACK clear with one masked compare, right for every flags byte', function()
    local prog = assert(bpf(function()
      local tcp = pkt.ip.tcp
      if tcp.flag_syn == 1 and tcp.flag_ack == 0 then return 1 end
      return 0
    end, { type = 'sched_cls', packet = 'linear' }))
    local text = listing(prog)
    assert.equals(1, count(text, 'AND\tR%d\t#18\n'), text) -- SYN 0x02 and ACK 0x10
    local h = assert(prog:load('sched_cls'))
    for f = 0, 255 do
      local want = (bit_of(f, 1) == 1 and bit_of(f, 4) == 0) and 1 or 0
      assert.equals(want, assert(loader.test_run(h, segment(f))).retval, ('flags %02x'):format(f))
    end
    h:close()
  end)

  it('chains three tests, one of them written with ~=, and keeps a bit the program reads again', function()
    local prog = assert(bpf(function()
      local tcp = pkt.ip.tcp
      if tcp.flag_fin ~= 1 and tcp.flag_rst == 0 and tcp.flag_psh == 1 then
        return 10 + tcp.flag_urg
      end
      return tcp.flag_ack
    end, { type = 'sched_cls', packet = 'linear' }))
    local h = assert(prog:load('sched_cls'))
    for f = 0, 255 do
      local pass = bit_of(f, 0) ~= 1 and bit_of(f, 2) == 0 and bit_of(f, 3) == 1
      local want = pass and 10 + bit_of(f, 5) or bit_of(f, 4)
      assert.equals(want, assert(loader.test_run(h, segment(f))).retval, ('flags %02x'):format(f))
    end
    h:close()
  end)

  it('leaves tests apart when something between them has an effect', function()
    local m = assert(bpf.map('array', 1))
    local prog = assert(bpf(function()
      local tcp = pkt.ip.tcp
      if tcp.flag_syn == 1 then
        xadd(m[0], 1)
        if tcp.flag_ack == 0 then return 1 end
      end
      return 0
    end, { type = 'sched_cls', packet = 'linear' }))
    local h = assert(prog:load('sched_cls'))
    for f = 0, 255 do
      local want = (bit_of(f, 1) == 1 and bit_of(f, 4) == 0) and 1 or 0
      assert.equals(want, assert(loader.test_run(h, segment(f))).retval, ('flags %02x'):format(f))
    end
    h:close()
    assert.equals(128, m[0]) -- every byte with SYN set counted
  end)
end)

describe('the Internet checksum', function()
  local function ip_csum()
    local ip = pkt.ip
    local sum = 0
    for i = 0, 18, 2 do
      sum = sum + bit.bor(bit.lshift(ip[i], 8), ip[i + 1])
    end
    sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16)
    sum = sum + bit.rshift(sum, 16)
    return bit.band(bit.bnot(sum), 0xffff)
  end
  -- the same in Lua: ones' complement sum of the header's ten words, host order
  local function want(hdr)
    local sum = 0
    for i = 1, 19, 2 do sum = sum + hdr:byte(i) * 256 + hdr:byte(i + 1) end
    while sum > 0xffff do sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16) end
    return bit.band(bit.bnot(sum), 0xffff)
  end
  local function frame(hdr) return pk.frames.udp53:sub(1, 14) .. hdr .. pk.frames.udp53:sub(35) end

  it('sums the words as loaded and swaps the result once, the same for every header', function()
    local prog = assert(bpf(ip_csum, { type = 'sched_cls', packet = 'linear' }))
    local text = listing(prog)
    assert.equals(1, count(text, '\tBE\t'), text)
    local h = assert(prog:load('sched_cls'))
    local state = 12345
    local function byte() -- a small LCG: the same headers every run
      state = (state * 1103515245 + 12345) % 2147483648
      return math.floor(state / 65536) % 256
    end
    local headers = { string.rep('\0', 20), string.rep('\255', 20), pk.frames.udp53:sub(15, 34) }
    for _ = 1, 300 do
      local t = { string.char(0x45) }
      for k = 2, 20 do t[k] = string.char(byte()) end
      headers[#headers + 1] = table.concat(t)
    end
    for _, hdr in ipairs(headers) do
      assert.equals(want(hdr), assert(loader.test_run(h, frame(hdr))).retval)
    end
    h:close()
  end)

  it('keeps the swaps when the sum is also read elsewhere', function()
    local prog = assert(bpf(function()
      local ip = pkt.ip
      local sum = 0
      for i = 0, 18, 2 do
        sum = sum + bit.bor(bit.lshift(ip[i], 8), ip[i + 1])
      end
      local all = sum
      sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16)
      sum = sum + bit.rshift(sum, 16)
      return bit.band(bit.bnot(sum), 0xffff) + all * 16
    end, { type = 'sched_cls', packet = 'linear' }))
    local hdr = pk.frames.udp53:sub(15, 34)
    local all = 0
    for i = 1, 19, 2 do all = all + hdr:byte(i) * 256 + hdr:byte(i + 1) end
    assert.equals(want(hdr) + all * 16, run(prog))
  end)
end)
