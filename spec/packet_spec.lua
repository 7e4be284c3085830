-- Direct packet access (csrc/packet.c): tc and XDP programs read the packet
-- through ctx.data .. ctx.data_end instead of the classic loads, and keep
-- the table's rule that a read past the end returns 0.  Every program runs
-- in the kernel: on frames cut at every length, and in tc on lo with real
-- TCP traffic whose payload lies outside the skb's linear part.
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')
local lo = require('examples.lib.loopback')

local function run(h, data) return assert(loader.test_run(h, data)).retval end

local function listing(prog) return bpf.dump_string(prog) end

-- The frame's bytes: at offset i (0 past the end: what the program sees).
local function byte(s, i) return s:byte(i + 1) end

-- What `return pkt.ip.udp.dst_port` (after a protocol test) returns on frame s.
local function udp_dport(s)
  if #s < 24 or byte(s, 23) ~= 17 then return 0 end
  local l4 = 14 + bit.band(byte(s, 14), 15) * 4
  if #s < l4 + 4 then return 0 end
  return byte(s, l4 + 2) * 256 + byte(s, l4 + 3)
end

local function udp_dport_prog()
  return function()
    if pkt.ip.proto ~= 17 then return 0 end
    return pkt.ip.udp.dst_port
  end
end

describe('direct packet access', function()
  local frame = pk.frames.udp53

  -- An XDP program whose listing checks against data_end once, run on the
  -- frame cut at 14 .. last bytes: want(cut) is what it returns.
  local function one_check_on_cut_frames(prog, last, want)
    local text = listing(prog)
    local _, checks = text:gsub('\tJGT\tR%d\tR%d', '')
    assert.equals(1, checks, text)
    local h = assert(prog:load('xdp'))
    for n = 14, last do
      local cut = frame:sub(1, n)
      assert.equals(want(cut), run(h, cut), n .. ' bytes')
    end
    h:close()
  end

  for _, t in ipairs({ 'sched_cls', 'xdp' }) do
    it(('reads a dissector in %s with checks against data_end, on frames cut at every length'):format(t),
      function()
        local prog = assert(bpf(udp_dport_prog(), { type = t }))
        assert.equals('direct', prog.packet)
        -- no classic load left but tc's slow path of the run-time read: the
        -- classic load sees bytes outside the skb's linear part
        local _, classic = listing(prog):gsub('skb%[', '')
        assert.equals(t == 'xdp' and 0 or 1, classic)
        local h = assert(prog:load(t))
        -- a test run wants an Ethernet header at least, tc's an IPv4 header
        -- after it when the EtherType says IPv4
        for n = t == 'xdp' and 14 or 34, #frame do
          local cut = frame:sub(1, n)
          assert.equals(udp_dport(cut), run(h, cut), ('%s, %d bytes'):format(t, n))
        end
        assert.equals(53, run(h, frame))
        assert.equals(0, run(h, pk.frames.tcp80))
        assert.equals(7777, run(h, pk.frames.udp_opts)) -- IHL 7: the offset is read from the packet
        assert.equals(0, run(h, pk.frames.short))
        h:close()
      end)
  end

  it('covers several reads at constant offsets with one check', function()
    local prog = assert(bpf(function()
      return pkt.ip.ttl + pkt.ip.proto + pkt.ip.tlen + pkt.type
    end, { type = 'xdp' }))
    one_check_on_cut_frames(prog, 40, function(cut)
      return #cut >= 24 and byte(cut, 22) + byte(cut, 23) + byte(cut, 16) * 256 + byte(cut, 17) + 0x800 or 0
    end)
  end)

  it('checks once for a test that returns 0 and the field read after it', function()
    local prog = assert(bpf(function()
      if pkt.type ~= 0x0800 then return 0 end
      return pkt.ip.ttl
    end, { type = 'xdp' }))
    one_check_on_cut_frames(prog, 30, function(cut)
      return (#cut < 23 or byte(cut, 12) * 256 + byte(cut, 13) ~= 0x800) and 0 or byte(cut, 22)
    end)
  end)

  it('reads a byte two tests look at once (tcp.flag_syn, then tcp.flag_ack)', function()
    local function syn_only()
      if pkt.ip.proto ~= 6 then return 0 end
      local tcp = pkt.ip.tcp
      if tcp.flag_syn == 1 and tcp.flag_ack == 0 then return 1 end
      return 2
    end
    local be16 = pk.be16
    local syn = pk.eth_ip(6, be16(4000) .. be16(80) .. string.rep('\0', 8) .. string.char(0x50, 0x02) ..
      be16(65535) .. be16(0) .. be16(0))
    for _, t in ipairs({ 'sched_cls', 'xdp' }) do
      local prog = assert(bpf(syn_only, { type = t }))
      local _, direct = listing(prog):gsub('LDXB\tR%d\t%[R%d%+13%]', '')
      assert.equals(1, direct, listing(prog))
      local h = assert(prog:load(t))
      assert.equals(1, run(h, syn))
      assert.equals(2, run(h, pk.frames.tcp80)) -- PSH|ACK
      assert.equals(0, run(h, syn:sub(1, 46))) -- the flags byte is past the end
      assert.equals(0, run(h, frame))
      h:close()
    end
  end)

  it('keeps a read at a run-time offset inside a loop a classic load in tc (the verifier walks ' ..
    'each turn of a direct one), and reads it directly in XDP', function()
    local function sum16() -- (40 turns: too many to unroll)
      local s = 0
      for i = 0, 39 do s = s + pkt[i + 1] end
      return s
    end
    local tc, xdp = assert(bpf(sum16, { type = 'sched_cls' })), assert(bpf(sum16, { type = 'xdp' }))
    assert.matches('skb%[', listing(tc))
    assert.not_matches('skb%[', listing(xdp))
    local data = ''
    for i = 0, 63 do data = data .. string.char(i) end
    local want = 0
    for i = 0, 39 do want = want + i + 1 end
    for _, c in ipairs({ { tc, 'sched_cls' }, { xdp, 'xdp' } }) do
      local h = assert(c[1]:load(c[2]))
      assert.equals(want, run(h, data))
      assert.equals(0, run(h, data:sub(1, 20))) -- pkt[21] is past the end
      h:close()
    end
  end)

  it("reads only the linear part in tc with {packet = 'linear'}: no pull, no classic load, loops direct",
    function()
    local prog = assert(bpf(udp_dport_prog(), { type = 'sched_cls', packet = 'linear' }))
    assert.equals('direct', prog.packet)
    local text = listing(prog)
    assert.not_matches('skb%[', text)
    assert.not_matches('skb_pull_data', text)
    local h = assert(prog:load('sched_cls'))
    for n = 34, #frame do
      local cut = frame:sub(1, n)
      assert.equals(udp_dport(cut), run(h, cut), n .. ' bytes')
    end
    assert.equals(7777, run(h, pk.frames.udp_opts))
    h:close()
    local function sum40()
      local s = 0
      for i = 0, 39 do s = s + pkt[i + 1] end
      return s
    end
    local loop = assert(bpf(sum40, { type = 'sched_cls', packet = 'linear' }))
    assert.not_matches('skb%[', listing(loop))
    local data = ''
    for i = 0, 63 do data = data .. string.char(i) end
    h = assert(loop:load('sched_cls'))
    assert.equals(820, run(h, data))
    assert.equals(0, run(h, data:sub(1, 20)))
    h:close()
    -- a socket filter has no data_end: loaded as one, it is compiled again with the classic loads
    local sock = assert(prog:load('socket_filter'))
    assert.equals('classic', prog.packet)
    sock:close()
    local ok, err = bpf(udp_dport_prog(), { packet = 'pulled' })
    assert.is_nil(ok)
    assert.matches("opts.packet is 'direct', 'linear' or 'classic'", err)
  end)

  it('returns 0 for a run-time offset past 65535 (tc: the classic load decides; XDP: past any frame)',
    function()
    local function far() return pkt[pkt.ip.tlen * 4096] + 1 end
    for _, t in ipairs({ 'sched_cls', 'xdp' }) do
      local h = assert(assert(bpf(far, { type = t })):load(t))
      assert.equals(0, run(h, frame), t)
      h:close()
    end
  end)

  it('reads 2 and 4 bytes through ffi.cast of the data pointer directly, in host order', function()
    local function fields(ctx)
      local d = ctx.data
      if d + 34 > ctx.data_end then return 0 end
      local w = ffi.cast('uint16_t *', d + 12) -- the EtherType, then the IP version and TOS
      local src = ffi.cast('uint32_t *', d + 26)
      return bit.bxor(w[0] * 65536 + (w + 1)[0], src[0])
    end
    local want = bit.bxor(0x0800 * 65536 + 0x4500, 0x7f000001)
    for _, c in ipairs({ { 'sched_cls', nil }, { 'xdp', require('bpf.attach').xdp_md } }) do
      local prog = assert(bpf(fields, { type = c[1], ctx = c[2] }))
      assert.not_matches('probe_read', listing(prog)) -- which tc may not call
      local h = assert(prog:load(c[1]))
      assert.equals(want, run(h, frame))
      assert.equals(0, run(h, pk.frames.short)) -- shorter than the check
      h:close()
    end
    local prog, err = bpf(function(skb)
      local w = ffi.cast('uint16_t *', skb.data)
      return (w + skb.len)[0]
    end, { type = 'sched_cls' })
    assert.is_nil(prog)
    assert.matches('a run-time amount added to a packet pointer of 2-byte elements: add it before ffi.cast',
      err, 1, true)
  end)

  it('compiles again for the type a program is loaded as', function()
    local prog = assert(bpf(udp_dport_prog()))
    assert.equals('classic', prog.packet)
    local h = assert(prog:load('xdp'))
    assert.equals('direct', prog.packet)
    assert.equals(53, run(h, frame))
    h:close()
    local sock = assert(prog:load('socket_filter')) -- direct access is not allowed there
    assert.equals('classic', prog.packet)
    sock:close()
  end)

  it('names the line of an XDP read at a constant offset no frame reaches', function()
    local prog, err = bpf(function()
      return pkt[70000]
    end, { type = 'xdp' })
    assert.is_nil(prog)
    assert.matches('packet_spec.lua:%d+: a packet read at offset 70000: an XDP program reads the first '
      .. '65535 bytes', err)
  end)
end)

-- (libbpf's tc attachment: bpf.libbpf declares it, for bpf.tc)
ffi.cdef [[
unsigned int if_nametoindex(const char *ifname);
]]

describe('direct packet access in tc on lo', function()
  it('reads bytes that lie outside the linear part of the skb (pulled in first)', function()
    local lib = require('bpf.libbpf').lib
    local seen = assert(bpf.map('array', 6))
    local TC_ACT_UNSPEC = -1 -- the next filter runs
    -- first filter: counts TCP skbs whose byte 1100 is not in the linear part
    local probe = assert(bpf(function(skb)
      if skb.len > 1200 and skb.data + 1101 > skb.data_end then xadd(seen[0], 1) end
      return TC_ACT_UNSPEC
    end, { type = 'sched_cls' }))
    -- second filter: reads that byte through the dissector
    local reader = assert(bpf(function(skb)
      if skb.len > 1200 and pkt.ip.proto == 6 then
        if pkt[1100] == 0x5a then xadd(seen[1], 1) else xadd(seen[2], 1) end
      end
      return TC_ACT_UNSPEC
    end, { type = 'sched_cls' }))
    assert.equals('direct', reader.packet)
    -- third: the byte read first, its check the one that pulls (and the last
    -- filter: shorter packets end here, returning 0)
    local first = assert(bpf(function(skb)
      local b = pkt[1100]
      if skb.len > 1200 then xadd(seen[b == 0x5a and 3 or 2], 1) end
      return TC_ACT_UNSPEC
    end, { type = 'sched_cls' }))
    assert.not_matches('skb%[', listing(first))
    -- on egress, where TCP's payload lies in pages: {packet = 'linear'} reads
    -- only the linear part, so a read past it returns 0 at once (the count
    -- after it stays 0) where the count before it does not
    local linear = assert(bpf(function(skb)
      if skb.len > 1200 and pkt.ip.proto == 6 and skb.data + 1101 > skb.data_end then
        xadd(seen[4], 1)
        if pkt[1100] >= 0 then xadd(seen[5], 1) end
      end
      return 0
    end, { type = 'sched_cls', packet = 'linear' }))
    assert.not_matches('skb%[', listing(linear))
    assert.not_matches('skb_pull_data', listing(linear))
    local hp, hr = assert(probe:load('sched_cls')), assert(reader:load('sched_cls'))
    local hf, hl = assert(first:load('sched_cls')), assert(linear:load('sched_cls'))
    local hook = ffi.new('struct bpf_tc_hook', { sz = ffi.sizeof('struct bpf_tc_hook'),
      ifindex = lib.if_nametoindex('lo'), attach_point = 1 }) -- BPF_TC_INGRESS
    local made = lib.bpf_tc_hook_create(hook)
    assert(made == 0 or made == -17, 'bpf_tc_hook_create: ' .. made) -- -EEXIST: lo has clsact
    local opts = {}
    for i, h in ipairs({ hp, hr, hf }) do
      opts[i] = ffi.new('struct bpf_tc_opts', { sz = ffi.sizeof('struct bpf_tc_opts'), prog_fd = h.fd,
        handle = 0x5bf0 + i, priority = 0x5bf0 + i })
      assert.equals(0, lib.bpf_tc_attach(hook, opts[i]))
    end
    local ehook = ffi.new('struct bpf_tc_hook', { sz = ffi.sizeof('struct bpf_tc_hook'),
      ifindex = lib.if_nametoindex('lo'), attach_point = 2 }) -- BPF_TC_EGRESS
    local emade = lib.bpf_tc_hook_create(ehook)
    assert(emade == 0 or emade == -17, 'bpf_tc_hook_create: ' .. emade)
    opts[4] = ffi.new('struct bpf_tc_opts', { sz = ffi.sizeof('struct bpf_tc_opts'), prog_fd = hl.fd,
      handle = 0x5bf4, priority = 0x5bf4 })
    assert.equals(0, lib.bpf_tc_attach(ehook, opts[4]))
    local ok, err = pcall(lo.http, { string.rep('Z', 4000) })
    for i = 1, 4 do
      opts[i].prog_fd, opts[i].flags, opts[i].prog_id = 0, 0, 0
      lib.bpf_tc_detach(i == 4 and ehook or hook, opts[i])
    end
    if made == 0 then lib.bpf_tc_hook_destroy(hook) end
    hp:close()
    hr:close()
    hf:close()
    hl:close()
    assert(ok, err)
    assert.is_true(seen[0] >= 1, 'no skb came in pieces: the pull was not tried')
    assert.is_true(seen[1] >= 1)
    assert.equals(0, seen[2])
    assert.is_true(seen[3] >= 1)
    assert.is_true(seen[4] >= 1, 'no skb left in pieces on egress')
    assert.equals(0, seen[5])
  end)
end)
