-- Side by side with clang -O2: each NAME.lua here has a NAME.c with the
-- same logic (a sched_cls program on an Ethernet frame, or an XDP one where
-- the spec says type = 'xdp').  Both are loaded, run on the same frames and
-- must agree (return values, map contents and the frames they hand back,
-- which the programs that rewrite packets change); then sizes, verifier
-- work and run time are compared, ours / clang.
-- The C reads skb->data .. skb->data_end and returns 0 past it; ours with
-- {packet = 'linear'} has that rule, so the table compares like with like.
-- Our default stays exact on an skb that is not all linear (it pulls, and
-- falls back to the classic load); its geomean is the last line.
--   luajit bench/clang/run.lua       (or the end of `make bench`)
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local libbpf = require('bpf.libbpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')
local lib = libbpf.lib

-- What bpf/libbpf.lua does not declare (libbpf 1.1.2, kernel uapi).  The
-- info struct stops after the two lengths: the kernel fills min(len, its size).
ffi.cdef [[
struct bpf_object *bpf_object__open_file(const char *path, const struct bpf_object_open_opts *opts);
size_t bpf_program__insn_cnt(const struct bpf_program *prog);
int bpf_program__set_log_level(struct bpf_program *prog, uint32_t log_level);
int bpf_program__set_log_buf(struct bpf_program *prog, char *log_buf, size_t log_size);
struct bench_clang_prog_info {
  uint32_t type, id; uint8_t tag[8]; uint32_t jited_prog_len, xlated_prog_len;
};
]]

local M = {}

local PAIRS = { 'udp_dport', 'proto_count', 'fnv16', 'dns_match', 'len_hist', 'tcp_syn',
  'ip_ttl', 'ip_payload', 'ip_addrs', 'ip_opts', 'tcp_ports', 'tcp_flags', 'udp_len', 'icmp_type',
  'tuple_hash', 'vlan_id', 'dns_labels', 'port_bucket', 'proto_hash', 'port_hash', 'proto_bytes',
  'jhash', 'xorshift', 'crc32', 'len_linear', 'tlen_log2', 'rb_event', 'ip_csum', 'payload_search',
  'skb_arith', 'port_switch', 'skb_class', 'xdp_ttl', 'xdp_port', 'tc_nat' }
local ROUNDS, REPEAT = 5, 100000

local here = (debug.getinfo(1, 'S').source:match('^@(.*/)') or './')

-- The inputs, every pair run on each.  pk.tcp sends PSH|ACK, so the SYN's
-- header is written here; `ack` is pk.tcp's segment from other addresses
-- and TTL; some inputs set skb->mark and skb->priority through ctx_in.
local be16 = pk.be16
local syn = be16(4000) .. be16(80) .. string.rep('\0', 8) .. string.char(0x50, 0x02) ..
  be16(65535) .. be16(0) .. be16(0)
-- frame with TTL ttl and addresses src, dst (strings of 4 bytes) in its IPv4 header
local function readdress(frame, ttl, src, dst)
  return frame:sub(1, 22) .. string.char(ttl) .. frame:sub(24, 26) .. src .. dst .. frame:sub(35)
end
-- frame with an 802.1Q tag (tci: priority and VLAN id) after the MAC addresses
local function vlan(frame, tci) return frame:sub(1, 12) .. be16(0x8100) .. be16(tci) .. frame:sub(13) end
local INPUTS = {
  { name = 'dns', data = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 1))) },
  { name = 'syn', data = pk.eth_ip(6, syn), mark = 7, priority = 3 },
  { name = 'short', data = pk.frames.short },
  { name = 'icmp', data = pk.frames.icmp, mark = 0x10000 },
  { name = 'udp', data = pk.eth_ip(17, pk.udp(1234, 7777, 'hello world')), priority = 6 },
  -- IHL 6 (one word of options) and a DNS name of seven labels
  { name = 'opts', data = pk.eth_ip(17, pk.udp(5353, 53, pk.dns_query('a.bb.ccc.dddd.mail.example.org', 28)),
    6) },
  { name = 'vlan', data = vlan(pk.frames.udp7777, 0x6064), mark = 100 }, -- priority 3, VLAN 100
  { name = 'ack', data = readdress(pk.frames.tcp80, 128, '\10\1\2\3', '\192\168\1\20'),
    mark = 0xfffffff0, priority = 1 },
  { name = 'ip6', data = pk.frames.ip6udp },
}
local by_name = {}
for _, input in ipairs(INPUTS) do
  by_name[input.name] = input
  if input.mark or input.priority then
    local ctx = ffi.new('struct __sk_buff')
    ctx.mark, ctx.priority = input.mark or 0, input.priority or 0
    input.ctx = ffi.string(ctx, ffi.sizeof(ctx))
  end
end

local function sh(cmd)
  local r = os.execute(cmd)
  return r == 0 or r == true
end

local function processed(log)
  return tonumber((log or ''):match('processed (%d+) insns')) or -1
end

local info = ffi.new('struct bench_clang_prog_info')
local info_len = ffi.new('uint32_t[1]')
local function sizes(fd)
  ffi.fill(info, ffi.sizeof(info))
  info_len[0] = ffi.sizeof(info)
  assert(lib.bpf_obj_get_info_by_fd(fd, info, info_len) == 0, 'bpf_obj_get_info_by_fd failed')
  return info.xlated_prog_len, info.jited_prog_len
end

-- A pair's maps, in spec.maps: { name =, type = 'array' (default), 'hash' or
-- 'ringbuf', entries =, key =, value = (ctypes of numbers, 'uint32_t' by
-- default) }; build gets ours in that order.  Both sides' maps are seen
-- through their fds alone: a map's contents are a string, array slots in
-- order, hash entries sorted, ring buffer records in hex.
local function map_spec(m)
  local kt, vt = m.key or 'uint32_t', m.value or 'uint32_t'
  return { name = m.name, type = m.type or 'array', entries = m.entries, ktype = kt, vtype = vt,
    key = ffi.new(kt .. '[1]'), val = ffi.new(vt .. '[1]'), next = ffi.new(kt .. '[1]') }
end

local function hash_keys(fd, m)
  local keys, prev = {}, nil
  while lib.bpf_map_get_next_key(fd, prev, m.next) == 0 do
    keys[#keys + 1] = m.next[0]
    m.key[0] = m.next[0]
    prev = m.key
  end
  return keys
end

local function hex(s) return (s:gsub('.', function(ch) return ('%02x'):format(ch:byte()) end)) end

local function map_read(side, i)
  local m, fd = side.maps[i].spec, side.maps[i].fd
  local t = {}
  if m.type == 'ringbuf' then
    for ev in side.maps[i].reader:events() do t[#t + 1] = hex(ev) end
  elseif m.type == 'hash' then
    for _, k in ipairs(hash_keys(fd, m)) do
      m.key[0] = k
      assert(lib.bpf_map_lookup_elem(fd, m.key, m.val) == 0, 'map lookup failed')
      t[#t + 1] = ('%s=%s'):format(tonumber(k), tonumber(m.val[0]))
    end
    table.sort(t)
  else
    for k = 0, m.entries - 1 do
      m.key[0], m.val[0] = k, 0
      assert(lib.bpf_map_lookup_elem(fd, m.key, m.val) == 0, 'map lookup failed')
      t[k + 1] = tonumber(m.val[0])
    end
  end
  return table.concat(t, ',')
end

local function map_clear(side, i)
  local m, fd = side.maps[i].spec, side.maps[i].fd
  if m.type == 'ringbuf' then
    for _ in side.maps[i].reader:events() do end
  elseif m.type == 'hash' then
    for _, k in ipairs(hash_keys(fd, m)) do
      m.key[0] = k
      assert(lib.bpf_map_delete_elem(fd, m.key) == 0, 'map delete failed')
    end
  else
    for k = 0, m.entries - 1 do
      m.key[0], m.val[0] = k, 0
      assert(lib.bpf_map_update_elem(fd, m.key, m.val, 0) == 0, 'map update failed')
    end
  end
end

-- A side's map: its fd, and a reader for a ring buffer (map: ours, or
-- a stand-in with the fields the reader needs).
local function side_map(m, fd, map)
  local sm = { spec = m, fd = fd, map = map }
  if m.type == 'ringbuf' then
    sm.reader = assert(bpf.ringbuf_reader(map or { fd = fd, max_entries = m.entries, name = m.name }))
  end
  return sm
end

-- Ours: compiled and loaded through the object path; nil, err if refused.
-- packet: opts.packet ('linear', the C's rule; nil, tc's exact default).
local function ours(name, packet)
  local spec = require('bench.clang.' .. name)
  local maps, live = {}, {}
  for i, m in ipairs(spec.maps or {}) do
    local ms = map_spec(m)
    if ms.type == 'ringbuf' then
      live[i] = assert(bpf.map('ringbuf', m.entries))
    else
      live[i] = assert(bpf.map(ms.type, m.entries, ms.ktype, ms.vtype))
    end
    maps[i] = side_map(ms, live[i].fd, live[i])
  end
  local ptype = spec.type or 'sched_cls'
  local prog, err = bpf(spec.build(unpack(live)),
    { type = ptype, packet = ptype == 'sched_cls' and packet or nil })
  if not prog then return nil, err end
  local h, lerr = prog:load(ptype)
  if not h then return nil, lerr end
  local hl = assert(prog:load(ptype, { log_level = 1 }))
  local side = { fd = h.fd, handle = h, insns = prog.pc, processed = processed(hl.log), maps = maps,
    xdp = ptype == 'xdp' }
  hl:close()
  return side
end

-- Clang's: clang -O2 into dir, then opened and loaded by libbpf with a
-- verifier log (level 1 adds the "processed N insns" line).
local logbuf = ffi.new('char[?]', 1024 * 1024)
local function clang(name, dir, spec)
  local o = dir .. '/' .. name .. '.o'
  local cmd = ('clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -c %s%s.c -o %s')
    :format(here, name, o)
  assert(sh(cmd), 'clang failed: ' .. cmd)
  local obj = lib.bpf_object__open_file(o, nil)
  assert(obj ~= nil, 'bpf_object__open_file failed: ' .. o)
  local p = lib.bpf_object__find_program_by_name(obj, name)
  assert(p ~= nil, 'no program ' .. name .. ' in ' .. o)
  lib.bpf_program__set_log_level(p, 1)
  lib.bpf_program__set_log_buf(p, logbuf, ffi.sizeof(logbuf))
  logbuf[0] = 0
  local rc = lib.bpf_object__load(obj)
  assert(rc == 0, 'libbpf could not load ' .. o .. ':\n' .. ffi.string(logbuf))
  local side = { fd = lib.bpf_program__fd(p), obj = obj, insns = tonumber(lib.bpf_program__insn_cnt(p)),
    processed = processed(ffi.string(logbuf)), maps = {}, xdp = spec.type == 'xdp' }
  for i, m in ipairs(spec.maps or {}) do
    local cm = lib.bpf_object__find_map_by_name(obj, m.name)
    assert(cm ~= nil, 'no map ' .. m.name .. ' in ' .. o)
    side.maps[i] = side_map(map_spec(m), lib.bpf_map__fd(cm))
  end
  return side
end

local function run(side, input, rep)
  -- (the skb fields some inputs set are no XDP program's context)
  return assert(loader.test_run(side, input.data, { ['repeat'] = rep or 0,
    ctx_in = not side.xdp and input.ctx or nil }))
end

-- Both sides on each input, from cleared maps, run twice: what differs (a list), and
-- what ours gave on each input, for -v.
local function compare(name, a, b)
  local bad, seen = {}, {}
  for _, input in ipairs(INPUTS) do
    for i = 1, #a.maps do map_clear(a, i); map_clear(b, i) end
    -- twice, so that a counter also meets the entry its first run made
    local ra, rb
    for turn = 1, 2 do
      local oa, ob = run(a, input), run(b, input)
      ra, rb = oa.retval, ob.retval
      if ra ~= rb then
        bad[#bad + 1] = ('%s on %s (run %d): returned %d, clang %d'):format(name, input.name, turn, ra, rb)
      end
      if oa.data_out ~= ob.data_out then
        bad[#bad + 1] = ('%s on %s: the frame came back as %s, from clang %s'):format(name, input.name,
          hex(oa.data_out or ''), hex(ob.data_out or ''))
      end
    end
    local got = { ('%s: %d'):format(input.name, ra) }
    for i = 1, #a.maps do
      local ma, mb = map_read(a, i), map_read(b, i)
      got[#got + 1] = ('%s {%s}'):format(a.maps[i].spec.name, ma)
      if ma ~= mb then
        bad[#bad + 1] = ('%s on %s: %s {%s}, clang {%s}'):format(name, input.name, a.maps[i].spec.name,
          ma, mb)
      end
    end
    seen[#seen + 1] = table.concat(got, ' ')
  end
  return bad, seen
end

local function median(t)
  table.sort(t)
  return t[math.floor(#t / 2) + 1]
end

-- opts.verbose: print what each pair returned (and left in its maps) on each input.
function M.main(opts)
  opts = opts or {}
  print()
  if not sh('command -v clang >/dev/null 2>&1') then
    print('clang -O2 comparison skipped: no clang on PATH')
    return
  end
  local p = io.popen('mktemp -d')
  local dir = p:read('*l')
  p:close()

  local rows, mismatches, refused = {}, {}, {}
  for _, name in ipairs(PAIRS) do
    local spec = require('bench.clang.' .. name)
    local a, err = ours(name, 'linear')
    local e, eerr = ours(name)
    local b = clang(name, dir, spec)
    if not a or not e then
      refused[#refused + 1] = ('%s: %s'):format(name, tostring(err or eerr))
      rows[#rows + 1] = { name = name, b = b }
    else
      local bad, seen = compare(name, a, b)
      for _, m in ipairs(bad) do mismatches[#mismatches + 1] = m end
      for _, m in ipairs((compare(name .. ' (exact)', e, b))) do mismatches[#mismatches + 1] = m end
      if opts.verbose then print(name .. '\n  ' .. table.concat(seen, '\n  ')) end
      local input = by_name[spec.time or 'dns']
      rows[#rows + 1] = { name = name, a = a, e = e, b = b, ns_a = {}, ns_e = {}, ns_b = {}, input = input }
    end
  end
  if #mismatches > 0 then
    os.execute('rm -rf ' .. dir)
    error('ours and clang -O2 disagree:\n  ' .. table.concat(mismatches, '\n  '), 0)
  end

  -- Timing on the pair's frame (spec.time, the DNS query unless named), the
  -- two sides interleaved round by round so that drift (frequency, other
  -- load) hits both alike; medians are kept.  Maps are cleared before each
  -- timed run (a ring buffer then has room for all REPEAT records).
  for _ = 1, ROUNDS do
    for _, r in ipairs(rows) do
      if r.a then
        for i = 1, #r.a.maps do map_clear(r.a, i); map_clear(r.e, i); map_clear(r.b, i) end
        r.ns_a[#r.ns_a + 1] = run(r.a, r.input, REPEAT).duration
        r.ns_e[#r.ns_e + 1] = run(r.e, r.input, REPEAT).duration
        r.ns_b[#r.ns_b + 1] = run(r.b, r.input, REPEAT).duration
      end
    end
  end

  print(('clang -O2 side by side (sched_cls, xdp_*: XDP; ns/run: median of %d x %d, frame named)'):format(
    ROUNDS, REPEAT))
  print("ours with {packet = 'linear'}: a read past data_end returns 0, the C's rule; the last line")
  print('is the default, exact on an skb not all linear (pulls, classic fallback), against the same C')
  local cols = { 'insns', 'verifier', 'xlated', 'jited', 'ns/run' }
  local row = '%-14s %-5s' .. string.rep(' %18s', #cols)
  print(row:format('program', 'frame', unpack(cols)))
  print(row:format('', '', unpack((function()
    local t = {} for i = 1, #cols do t[i] = 'ours/clang  ratio' end return t end)())))
  local logsum, elogsum, count = {}, {}, 0
  for i = 1, #cols do logsum[i], elogsum[i] = 0, 0 end
  for _, r in ipairs(rows) do
    local bx, bj = sizes(r.b.fd)
    local cb = { r.b.insns, r.b.processed, bx, bj, r.ns_b and median(r.ns_b) }
    if r.a then
      local ax, aj = sizes(r.a.fd)
      local ca = { r.a.insns, r.a.processed, ax, aj, median(r.ns_a) }
      local ex, ej = sizes(r.e.fd)
      local ce = { r.e.insns, r.e.processed, ex, ej, median(r.ns_e) }
      local cells = {}
      for i = 1, #cols do
        local ratio = ca[i] / cb[i]
        logsum[i] = logsum[i] + math.log(ratio)
        elogsum[i] = elogsum[i] + math.log(ce[i] / cb[i])
        cells[i] = ('%5d/%-5d %6.2f'):format(ca[i], cb[i], ratio)
      end
      count = count + 1
      print(row:format(r.name, r.input.name, unpack(cells)))
      r.a.handle:close()
      r.e.handle:close()
    else
      print(('%-20s  refused by our compiler (clang: %d insns)'):format(r.name, cb[1]))
    end
    lib.bpf_object__close(r.b.obj)
  end
  if count > 0 then
    local cells = {}
    for i = 1, #cols do cells[i] = ('%18.2f'):format(math.exp(logsum[i] / count)) end
    print(('%-20s' .. string.rep(' %s', #cols)):format('geomean', unpack(cells)))
    for i = 1, #cols do cells[i] = ('%18.2f'):format(math.exp(elogsum[i] / count)) end
    print(('%-20s' .. string.rep(' %s', #cols)):format('geomean, exact', unpack(cells)))
  end
  for _, msg in ipairs(refused) do print('refused: ' .. msg) end
  os.execute('rm -rf ' .. dir)
end

-- require() hands over M; `luajit bench/clang/run.lua [-v]` runs it.
if modname and package.loaded[modname] then return M end
M.main({ verbose = arg and arg[1] == '-v' })
