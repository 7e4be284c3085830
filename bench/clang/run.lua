-- Side by side with clang -O2: each NAME.lua here has a NAME.c with the
-- same logic (a sched_cls program on an Ethernet frame).  Both are loaded,
-- run on the same frames and must agree (return values and map contents);
-- then sizes, verifier work and run time are compared, ours / clang.
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

local PAIRS = { 'udp_dport', 'proto_count', 'fnv16', 'dns_match', 'len_hist', 'tcp_syn' }
local ROUNDS, REPEAT = 5, 100000

local here = (debug.getinfo(1, 'S').source:match('^@(.*/)') or './')

-- The three inputs: a DNS query over UDP, a TCP SYN (pk.tcp sends PSH|ACK,
-- so the header is written here), and a frame too short for IPv4.
local be16 = pk.be16
local syn = be16(4000) .. be16(80) .. string.rep('\0', 8) .. string.char(0x50, 0x02) ..
  be16(65535) .. be16(0) .. be16(0)
local INPUTS = {
  { name = 'dns', data = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 1))) },
  { name = 'syn', data = pk.eth_ip(6, syn) },
  { name = 'short', data = pk.frames.short },
}

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

-- Array maps seen through their fds alone (ours and libbpf's alike).
local key, val = ffi.new('uint32_t[1]'), ffi.new('uint32_t[1]')
local function map_read(fd, n)
  local t = {}
  for i = 0, n - 1 do
    key[0], val[0] = i, 0
    assert(lib.bpf_map_lookup_elem(fd, key, val) == 0, 'map lookup failed')
    t[i + 1] = val[0]
  end
  return table.concat(t, ',')
end
local function map_clear(fd, n)
  for i = 0, n - 1 do
    key[0], val[0] = i, 0
    assert(lib.bpf_map_update_elem(fd, key, val, 0) == 0, 'map update failed')
  end
end

-- Ours: compiled and loaded through the object path; nil, err if refused.
local function ours(name)
  local spec = require('bench.clang.' .. name)
  local map = spec.map and assert(bpf.map('array', spec.map.entries))
  local prog, err = bpf(spec.build(map), { type = 'sched_cls' })
  if not prog then return nil, err end
  local h, lerr = prog:load('sched_cls')
  if not h then return nil, lerr end
  local hl = assert(prog:load('sched_cls', { log_level = 1 }))
  local side = { fd = h.fd, handle = h, insns = prog.pc, processed = processed(hl.log),
    map_fd = map and map.fd, map = map }
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
    processed = processed(ffi.string(logbuf)) }
  if spec.map then
    local m = lib.bpf_object__find_map_by_name(obj, spec.map.name)
    assert(m ~= nil, 'no map ' .. spec.map.name .. ' in ' .. o)
    side.map_fd = lib.bpf_map__fd(m)
  end
  return side
end

local function run(side, data, rep)
  return assert(loader.test_run(side, data, { ['repeat'] = rep or 0 }))
end

-- Both sides on each input, from cleared maps: what differs, or nil.
local function compare(name, spec, a, b)
  local bad = {}
  for _, input in ipairs(INPUTS) do
    local n = spec.map and spec.map.entries
    if n then map_clear(a.map_fd, n); map_clear(b.map_fd, n) end
    local ra, rb = run(a, input.data).retval, run(b, input.data).retval
    if ra ~= rb then bad[#bad + 1] = ('%s on %s: returned %d, clang %d'):format(name, input.name, ra, rb) end
    if n then
      local ma, mb = map_read(a.map_fd, n), map_read(b.map_fd, n)
      if ma ~= mb then bad[#bad + 1] = ('%s on %s: map {%s}, clang {%s}'):format(name, input.name, ma, mb) end
    end
  end
  return bad
end

local function median(t)
  table.sort(t)
  return t[math.floor(#t / 2) + 1]
end

function M.main()
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
    local a, err = ours(name)
    local b = clang(name, dir, spec)
    if not a then
      refused[#refused + 1] = ('%s: %s'):format(name, tostring(err))
      rows[#rows + 1] = { name = name, b = b }
    else
      for _, m in ipairs(compare(name, spec, a, b)) do mismatches[#mismatches + 1] = m end
      rows[#rows + 1] = { name = name, a = a, b = b, ns_a = {}, ns_b = {} }
    end
  end
  if #mismatches > 0 then
    os.execute('rm -rf ' .. dir)
    error('ours and clang -O2 disagree:\n  ' .. table.concat(mismatches, '\n  '), 0)
  end

  -- Timing on the DNS frame, the two sides interleaved round by round so
  -- that drift (frequency, other load) hits both alike; medians are kept.
  local dns = INPUTS[1].data
  for _ = 1, ROUNDS do
    for _, r in ipairs(rows) do
      if r.a then
        r.ns_a[#r.ns_a + 1] = run(r.a, dns, REPEAT).duration
        r.ns_b[#r.ns_b + 1] = run(r.b, dns, REPEAT).duration
      end
    end
  end

  print(('clang -O2 side by side (sched_cls; ns per run: median of %d x %d on a DNS frame)'):format(
    ROUNDS, REPEAT))
  local cols = { 'insns', 'verifier', 'xlated', 'jited', 'ns/run' }
  print(('%-12s' .. string.rep(' %18s', #cols)):format('program', unpack(cols)))
  print(('%-12s' .. string.rep(' %18s', #cols)):format('', unpack((function()
    local t = {} for i = 1, #cols do t[i] = 'ours/clang  ratio' end return t end)())))
  local logsum, count = {}, 0
  for i = 1, #cols do logsum[i] = 0 end
  for _, r in ipairs(rows) do
    local bx, bj = sizes(r.b.fd)
    local cb = { r.b.insns, r.b.processed, bx, bj, r.ns_b and median(r.ns_b) }
    if r.a then
      local ax, aj = sizes(r.a.fd)
      local ca = { r.a.insns, r.a.processed, ax, aj, median(r.ns_a) }
      local cells = {}
      for i = 1, #cols do
        local ratio = ca[i] / cb[i]
        logsum[i] = logsum[i] + math.log(ratio)
        cells[i] = ('%5d/%-5d %6.2f'):format(ca[i], cb[i], ratio)
      end
      count = count + 1
      print(('%-12s' .. string.rep(' %18s', #cols)):format(r.name, unpack(cells)))
      r.a.handle:close()
    else
      print(('%-12s  refused by our compiler (clang: %d insns)'):format(r.name, cb[1]))
    end
    lib.bpf_object__close(r.b.obj)
  end
  if count > 0 then
    local cells = {}
    for i = 1, #cols do cells[i] = ('%18.2f'):format(math.exp(logsum[i] / count)) end
    print(('%-12s' .. string.rep(' %s', #cols)):format('geomean', unpack(cells)))
  end
  for _, msg in ipairs(refused) do print('refused: ' .. msg) end
  os.execute('rm -rf ' .. dir)
end

-- require() hands over M; `luajit bench/clang/run.lua` runs it.
if modname and package.loaded[modname] then return M end
M.main()
