-- The object writer and the libbpf loader against the running kernel: every
-- object is loaded (by us through libbpf, or by bpftool from a file), run
-- with BPF_PROG_TEST_RUN where the type allows, and read back with readelf,
-- llvm-objdump and bpftool.
local ffi = require('ffi')
local bpf = require('bpf')
local object = require('bpf.object')
local loader = require('bpf.loader')
local libbpf = require('bpf.libbpf')
local pk = require('spec.support.packets')
local programs = require('spec.support.programs')

if not pcall(function() return ffi.C.bpf_spec_getpid end) then
  ffi.cdef('int bpf_spec_getpid(void) __asm__("getpid");')
end

local udp53 = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 28)))
local tcp80 = pk.eth_ip(6, pk.tcp(4000, 80, 'GET / HTTP/1.1\r\n'))
local icmp = pk.eth_ip(1, '\8\0\0\0\0\0\0\0')
local tmpdir = os.getenv('TMPDIR') or '/tmp'
local tag = ('luabpf_spec_%d'):format(ffi.C.bpf_spec_getpid())

-- Runs a shell command; its output (stdout and stderr) and whether it
-- succeeded.  The tools run without the sanitizer runtime a test run may
-- preload into luajit (bpftool spins under it).
local function sh(cmd)
  local out = os.tmpname()
  local status = os.execute(('env -u LD_PRELOAD %s >%s 2>&1'):format(cmd, out))
  local f = assert(io.open(out, 'r'))
  local text = f:read('*a')
  f:close()
  os.remove(out)
  return text, status == 0 or status == true
end

local function must(cmd)
  local text, ok = sh(cmd)
  assert(ok, ('`%s` failed:\n%s'):format(cmd, text))
  return text
end

local function bpffs()
  local fs = sh('stat -f -c %T /sys/fs/bpf')
  if not fs:match('bpf') then must('mount -t bpf bpf /sys/fs/bpf') end
  return '/sys/fs/bpf'
end

-- bpftool loads the object file at path, pinning the program and the maps
-- it creates under bpffs (names made from name); the pins and the file go
-- when the test ends.  The program's pin and the maps' directory.
local function bpftool_load(path, name)
  local dir = bpffs()
  local pin, maps = ('%s/%s_%s'):format(dir, tag, name), ('%s/%s_%s_maps'):format(dir, tag, name)
  finally(function()
    os.remove(pin)
    sh('rm -rf ' .. maps)
    os.remove(path)
  end)
  must(('bpftool prog load %s %s pinmaps %s'):format(path, pin, maps))
  return pin, maps
end

-- A program pinned at path, as loader.test_run wants it.
local function pinned_prog(path)
  local fd = libbpf.lib.bpf_obj_get(path)
  assert(fd >= 0, libbpf.message('bpf_obj_get ' .. path, fd))
  return setmetatable({ fd = fd }, {
    __index = { close = function(p) ffi.C.bpf_libc_close(p.fd) end },
    __tostring = function() return 'pinned ' .. path end,
  })
end

local function counter(map) return assert(bpf(programs.counter(map))) end
local function dns_parser(map) return assert(bpf(programs.dns_parser(map))) end

local packets = { udp53, udp53, tcp80, icmp, udp53,
  pk.eth_ip(17, pk.udp(1, 53, pk.dns_query('a.b', 1))), pk.eth_ip(17, pk.udp(1, 53, pk.dns_query('x', 15))) }

-- The program raw-loaded (bpf_prog_load) and loaded from its object through
-- libbpf, each counting into its own map, must leave the same counts.
local function same_as_raw(make)
  local raw_map, obj_map = assert(bpf.map('array', 256)), assert(bpf.map('array', 256))
  local raw = assert(make(raw_map):load('sched_cls'))
  local h = assert(object.load(make(obj_map), 'sched_cls'))
  assert.is_true(h.fd >= 0)
  assert.is_true(h.btf_fd >= 0) -- the kernel took our BTF
  for _, p in ipairs(packets) do
    assert.equals(assert(loader.test_run(raw, p)).retval, assert(loader.test_run(h, p)).retval)
  end
  raw:close()
  h:close()
  local nonzero = 0
  for k = 0, 255 do
    assert.equals(raw_map[k], obj_map[k])
    if obj_map[k] ~= 0 then nonzero = nonzero + 1 end
  end
  return obj_map, nonzero
end

describe('bpf.object', function()
  it('writes sections, symbols and relocations that readelf and llvm-objdump read', function()
    local map = assert(bpf.map('array', 256, nil, nil, { name = 'counts' }))
    local prog = counter(map)
    local path = ('%s/%s_counter.o'):format(tmpdir, tag)
    assert(object.save(prog, path, { type = 'socket_filter', name = 'count_proto' }))
    local sections = must('readelf -SW ' .. path)
    for _, name in ipairs({ 'socket', '.relsocket', 'license', '.maps', '.BTF', '.BTF.ext', '.symtab',
      '.strtab' }) do
      assert.matches('%] ' .. name:gsub('%.', '%%.') .. '%s', sections)
    end
    assert.matches('socket%s+PROGBITS%s+%x+%s+%x+%s+%x+%s+00%s+AX', sections)
    assert.matches('ELF64', must('readelf -h ' .. path))
    assert.matches('Linux BPF', must('readelf -h ' .. path))
    local symbols = must('readelf -sW ' .. path)
    assert.matches(' ' .. prog.pc * 8 .. '%s+FUNC%s+GLOBAL%s+DEFAULT%s+%d+%s+count_proto', symbols)
    assert.matches('32%s+OBJECT%s+GLOBAL%s+DEFAULT%s+%d+%s+counts', symbols)
    local dis = must('llvm-objdump -dr ' .. path)
    assert.matches('Disassembly of section socket:', dis, 1, true)
    assert.matches('<count_proto>:', dis, 1, true)
    assert.matches('r1 = 0 ll\n%s+0*%x+:%s+R_BPF_64_64%s+counts', dis)
    assert.matches('lock %*%(u32 %*%)%(r0 %+ 0%) %+= r1', dis)
    os.remove(path)
  end)

  it('counts packets by protocol through libbpf as the raw-loaded program does', function()
    local map, nonzero = same_as_raw(counter)
    assert.equals(5, map[17])
    assert.equals(1, map[6])
    assert.equals(1, map[1])
    assert.equals(3, nonzero)
  end)

  it('parses DNS queries through libbpf as the raw-loaded program does', function()
    local map = same_as_raw(dns_parser)
    assert.equals(3, map[28])
    assert.equals(1, map[1])
    assert.equals(1, map[15])
  end)

  it('loads a kprobe program, its section naming the function', function()
    local start = assert(bpf.map('hash', 64, 'uint64_t', 'uint64_t', { name = 'start' }))
    local hist = assert(bpf.map('array', 64, nil, nil, { name = 'hist' }))
    local prog = assert(bpf(function(regs)
      local t = start[regs.parm1]
      if t then
        xadd(hist[math.log2(time() - t[0])], 1)
        start[regs.parm1] = nil
      else
        start[regs.parm1] = time()
      end
    end, { ctx = bpf.proto.pt_regs }))
    assert.equals('kprobe/do_sys_openat2', object.section('kprobe', 'do_sys_openat2'))
    local h = assert(object.load(prog, 'kprobe', { target = 'do_sys_openat2', name = 'latency' }))
    assert.equals('kprobe/do_sys_openat2', h.section)
    assert.equals('kprobe', h.type)
    assert.equals('start', h.maps[start])
    assert.equals('hist', h.maps[hist])
    assert.is_true(h.fd >= 0 and h.btf_fd >= 0)
    -- the same object from a file: bpftool guesses kprobe from the section name
    local path = ('%s/%s_kprobe.o'):format(tmpdir, tag)
    assert(object.save(prog, path, { type = 'kprobe', target = 'do_sys_openat2', name = 'latency' }))
    local pin = bpffs() .. '/' .. tag .. '_kprobe'
    finally(function()
      os.remove(pin)
      os.remove(path)
    end)
    must(('bpftool prog load %s %s'):format(path, pin))
    local show = must('bpftool prog show pinned ' .. pin)
    assert.matches('kprobe%s+name latency', show)
    local xlated = must('bpftool prog dump xlated pinned ' .. pin .. ' linum')
    assert.matches('; local t = start[regs.parm1] [file:spec/object_spec.lua', xlated, 1, true)
    assert.matches('; xadd(hist[math.log2(time() - t[0])], 1)', xlated, 1, true)
    assert.is_true(h:close())
    assert.equals(-1, h.fd)
    assert.is_true(h:close()) -- twice is harmless
  end)

  it('saves an object that bpftool loads, runs and dumps with Lua lines and typed maps', function()
    local map = assert(bpf.map('array', 256, nil, nil, { name = 'proto_count' }))
    local prog = counter(map)
    local path = ('%s/%s_tc.o'):format(tmpdir, tag)
    assert(object.save(prog, path, { type = 'sched_cls', name = 'by_proto' }))
    local pin, maps = bpftool_load(path, 'tc')
    do
      assert.matches('sched_cls%s+name by_proto', must('bpftool prog show pinned ' .. pin))
      -- bpftool created the map from our BTF definition: run the pinned program into it
      local p = pinned_prog(pin)
      for _ = 1, 3 do assert(loader.test_run(p, udp53)) end
      assert(loader.test_run(p, tcp80))
      p:close()
      local dump = must(('bpftool map dump pinned %s/proto_count'):format(maps))
      assert.matches('"key": 17,%s*"value": 3', dump)
      assert.matches('"key": 6,%s*"value": 1', dump)
      local json = must(('bpftool -j map dump pinned %s/proto_count'):format(maps))
      assert.matches('{"key":17,"value":3}', json, 1, true)
      assert.matches('btf_id %d+', must(('bpftool map show pinned %s/proto_count'):format(maps)))
      -- line_info: one source line per change, with file and line number
      local xlated = must('bpftool prog dump xlated pinned ' .. pin .. ' linum')
      assert.matches('int by_proto(void * ctx):', xlated, 1, true)
      local n = 0
      for file, line in xlated:gmatch('%[file:([^ ]+) line_num:(%d+)') do
        assert.equals(programs.file, file)
        assert.is_true(tonumber(line) > 0)
        n = n + 1
      end
      assert.equals(3, n) -- local proto = ... (the context to r6 first), xadd(...), end
      assert.matches('; local proto = pkt.ip.proto [file:' .. programs.file .. ' line_num:', xlated, 1, true)
      assert.matches('; xadd(map[proto], 1) [file:', xlated, 1, true)
    end
  end)

  it('gives keys and values BTF types: integers, arrays, named structs, bytes otherwise', function()
    ffi.cdef [[
      struct spec_obj_flow { uint32_t addr; uint16_t port; uint8_t proto; uint8_t syn:1, ack:1, rst:6; };
      struct spec_obj_opaque { uint32_t a, b; };
    ]]
    object.members('struct spec_obj_flow', { 'addr', 'port', 'proto', 'syn', 'ack', 'rst' })
    assert.has_error(function() object.members('struct spec_obj_flow', { 'nope' }) end,
      'bpf.object.members: ctype<struct spec_obj_flow> has no member "nope"')
    local flows = assert(bpf.map('hash', 16, 'struct spec_obj_flow', 'int64_t[2]', { name = 'flows' }))
    local opaque = assert(bpf.map('hash', 16, 'struct spec_obj_opaque', 'bool', { name = 'opaque' }))
    local lpm = assert(bpf.map('lpm_trie', 16, nil, 'uint16_t', { name = 'nets' }))
    local perf = assert(bpf.map('perf_event_array', nil, nil, nil, { name = 'events' }))
    local prog = assert(bpf(function()
      local k = ffi.new('struct spec_obj_flow')
      k.proto = pkt.ip.proto
      local v = flows[k]
      if v then return 1 end
      if opaque[ffi.new('struct spec_obj_opaque')] then return 2 end
      if lpm[ffi.new('struct { uint32_t prefixlen; uint8_t data[4]; }')] then return 3 end
      perf_submit(perf, k)
      return 0
    end))
    local path = ('%s/%s_types.o'):format(tmpdir, tag)
    assert(object.save(prog, path, { type = 'sched_cls' }))
    local btf = must('bpftool btf dump file ' .. path)
    assert.matches("STRUCT 'spec_obj_flow' size=8 vlen=6", btf, 1, true)
    assert.matches("'port' type_id=%d+ bits_offset=32\n", btf)
    assert.matches("'ack' type_id=%d+ bits_offset=57 bitfield_size=1", btf)
    assert.matches("INT '__s64' size=8 bits_offset=0 nr_bits=64 encoding=SIGNED", btf, 1, true)
    assert.matches("INT '_Bool' size=1 bits_offset=0 nr_bits=8 encoding=BOOL", btf, 1, true)
    assert.matches("'prefixlen' type_id=%d+ bits_offset=0\n%s+'data' type_id=%d+ bits_offset=32", btf)
    assert.matches("'key_size' type_id", btf, 1, true) -- perf_event_array: sizes, no types
    assert.matches("VAR 'flows' type_id=%d+, linkage=global", btf)
    assert.matches("DATASEC '.maps' size=%d+ vlen=4", btf)
    -- the kernel takes all of it when bpftool creates the maps from the object
    local _, maps = bpftool_load(path, 'types')
    do
      must(('bpftool map update pinned %s/flows key hex 0a 00 00 01 35 00 11 05 value hex %s')
        :format(maps, ('ff '):rep(8) .. '02 00 00 00 00 00 00 00'))
      local dump = must(('bpftool map dump pinned %s/flows'):format(maps))
      assert.matches('"addr": 16777226,%s*"port": 53,%s*"proto": 17,', dump)
      assert.matches('"syn": 0x1,%s*"ack": 0x0,%s*"rst": 0x1', dump)
      assert.matches('"value": %[%-1,2%s*%]', dump)
      assert.matches('btf_id', must(('bpftool map show pinned %s/nets'):format(maps)))
    end
    -- and through libbpf, reusing the maps above
    local h = assert(object.load(prog, 'sched_cls'))
    assert.equals(0, assert(loader.test_run(h, udp53)).retval)
    h:close()
  end)

  it('writes one symbol per map however often the program loads it, and unique names', function()
    local a = assert(bpf.map('hash', 16, nil, nil, { name = 'same' }))
    local b = assert(bpf.map('hash', 16, nil, nil, { name = 'same' }))
    local prog = assert(bpf(function()
      local p = pkt.ip.proto
      a[p] = 1
      b[p] = 2
      if a[p] then a[6] = 3 end
    end))
    assert.is_true(#prog.maps >= 4)
    local path = ('%s/%s_names.o'):format(tmpdir, tag)
    assert(object.save(prog, path, { type = 'sched_cls' }))
    local symbols = must('readelf -sW ' .. path)
    local _, objects = symbols:gsub('OBJECT%s+GLOBAL%s+DEFAULT%s+%d+ same', '')
    assert.equals(2, objects)
    assert.matches(' same_2\n', symbols, 1, true)
    local _, relocs = must('llvm-objdump -r ' .. path):gsub('R_BPF_64_64%s+same', '')
    assert.equals(#prog.maps, relocs)
    os.remove(path)
    local h = assert(object.load(prog, 'sched_cls'))
    assert.equals('same', h.maps[a])
    assert.equals('same_2', h.maps[b])
    assert(loader.test_run(h, udp53))
    h:close()
    assert.equals(3, a[6])
    assert.equals(1, a[17])
    assert.equals(2, b[17])
  end)

  it('writes ring buffers with only their type and size, and programs without lines', function()
    local ring = assert(bpf.map('ringbuf', 4096, nil, nil, { name = 'ring' }))
    local prog = assert(bpf(function()
      local e = ffi.new('struct { uint32_t proto; uint32_t len; }')
      e.proto = pkt.ip.proto
      return ringbuf_output(ring, e)
    end))
    local path = ('%s/%s_ring.o'):format(tmpdir, tag)
    local pin = ('%s/%s_ring'):format(bpffs(), tag)
    finally(function()
      os.remove(pin)
      os.remove(path)
    end)
    assert(object.save(prog, path, { type = 'sched_cls' }))
    local btf = must('bpftool btf dump file ' .. path)
    assert.matches("STRUCT '%(anon%)' size=16 vlen=2\n%s+'type' type_id=%d+ bits_offset=0\n"
      .. "%s+'max_entries' type_id=%d+ bits_offset=64\n%[%d+%] VAR 'ring'", btf)
    must(('bpftool prog load %s %s'):format(path, pin))
    local h = assert(object.load(prog, 'sched_cls'))
    assert.equals(0, assert(loader.test_run(h, udp53)).retval)
    h:close()
    -- instructions and maps alone: no line_info, the rest of BTF still loads
    local bare = { insn = prog.insn, pc = prog.pc, maps = prog.maps }
    h = assert(object.load(bare, 'sched_cls', { name = 'bare' }))
    assert.is_true(h.btf_fd >= 0)
    assert.equals(0, assert(loader.test_run(h, udp53)).retval)
    h:close()
  end)

  it('closes what it loaded when the handle is collected', function()
    local h = assert(object.load(assert(bpf(function() return 0 end)), 'socket_filter'))
    local fd_path = ('/proc/%d/fd/%d'):format(ffi.C.bpf_spec_getpid(), h.fd)
    assert.matches('bpf%-prog', must('readlink ' .. fd_path))
    h = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    assert.not_matches('bpf%-prog', (sh('readlink ' .. fd_path)))
  end)

  it('keeps to its C API: -errno and a message, types before fields, one finish', function()
    local core = require('bpf.ffi_core').lib
    local EBUSY, EEXIST, EINVAL = -16, -17, -22
    local o = ffi.gc(core.bpfc_obj_new(nil), core.bpfc_obj_free)
    local function msg() return ffi.string(core.bpfc_obj_errmsg(o)) end
    local u32 = core.bpfc_obj_add_int(o, '__u32', 4, 0)
    assert.is_true(u32 > 0)
    assert.equals(EINVAL, core.bpfc_obj_add_field(o, 'x', u32, 0, 0)) -- no struct just before
    assert.matches("BTF field 'x'", msg(), 1, true)
    assert.equals(EINVAL, core.bpfc_obj_add_struct(o, 'not a name', 8, 0))
    assert.equals("bpf.object: BTF struct name 'not a name' is not a C identifier: Invalid argument", msg())
    local pair = core.bpfc_obj_add_struct(o, 'pair', 8, 0)
    assert.equals(0, core.bpfc_obj_add_field(o, 'a', u32, 0, 0))
    assert.equals(0, core.bpfc_obj_add_field(o, 'b', u32, 32, 0))
    local m = ffi.new('struct bpfc_obj_map')
    m.sz, m.name, m.type, m.max_entries = ffi.sizeof(m), 'pairs', libbpf.map_type.hash, 4
    m.key_size, m.key_type_id, m.value_size, m.value_type_id = 4, pair, 4, u32
    assert.equals(EINVAL, core.bpfc_obj_add_map(o, m))
    assert.equals("bpf.object: map 'pairs': the key type is 8 bytes, not 4: Invalid argument", msg())
    m.key_size = 8
    assert.equals(0, core.bpfc_obj_add_map(o, m))
    assert.equals(EEXIST, core.bpfc_obj_add_map(o, m))
    -- r0 = 0; exit
    local insns = ffi.new('struct bpf_insn[2]', { { code = 0xb7 }, { code = 0x95 } })
    local p = ffi.new('struct bpfc_obj_prog')
    p.sz, p.name, p.section, p.insns, p.insn_cnt = ffi.sizeof(p), 'pairs', 'socket', insns, 2
    assert.equals(EEXIST, core.bpfc_obj_add_prog(o, p))
    p.name = 'main'
    local reloc = ffi.new('struct bpfc_obj_reloc[1]', { { insn = 0, map = 0 } })
    p.relocs, p.reloc_cnt = reloc, 1
    assert.equals(EINVAL, core.bpfc_obj_add_prog(o, p))
    assert.matches("relocation at 0 is not on a lddw", msg(), 1, true)
    p.relocs, p.reloc_cnt = nil, 0
    assert.equals(0, core.bpfc_obj_add_prog(o, p))
    p.name = 'other'
    assert.equals(EEXIST, core.bpfc_obj_add_prog(o, p))
    assert.equals("bpf.object: program 'other': section 'socket' holds 'main' already: File exists", msg())
    local data, size = ffi.new('const void *[1]'), ffi.new('size_t[1]')
    assert.equals(0, core.bpfc_obj_finish(o, data, size))
    local first, first_size = data[0], size[0]
    assert.equals(0, core.bpfc_obj_finish(o, data, size))
    assert.is_true(first == data[0] and first_size == size[0])
    assert.equals(EBUSY, core.bpfc_obj_add_int(o, '__u8', 1, 0))
    local path = ('%s/%s_capi.o'):format(tmpdir, tag)
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, 'wb'))
    f:write(ffi.string(data[0], size[0]))
    f:close()
    local btf = must('bpftool btf dump file ' .. path)
    assert.matches("STRUCT 'pair' size=8 vlen=2", btf, 1, true)
    assert.matches("FUNC 'main' type_id=%d+ linkage=global", btf)
    assert.matches("DATASEC '.maps' size=32 vlen=1", btf, 1, true)
  end)

  it('returns the verifier log annotated with Lua lines when the kernel says no', function()
    local prog = assert(bpf(function(skb)
      local d = skb.data
      return d[23] -- no bounds check: the verifier refuses
    end))
    local h, err = object.load(prog, 'sched_cls', { name = 'unchecked' })
    assert.is_nil(h)
    local first = err:match('^[^\n]*')
    assert.matches('^spec/object_spec%.lua:%d+: bpf: cannot load sched_cls program "unchecked" '
      .. '%(%d+ instructions%): Permission denied %(errno 13%)$', first)
    assert.matches('\nverifier log:\n', err, 1, true)
    assert.matches('invalid access to packet', err, 1, true)
    assert.matches('\t%-%- spec/object_spec%.lua:%d+: return d%[23%]', err)
    -- the kernel's own line comments, from our line_info
    assert.matches('; return d[23] -- no bounds check: the verifier refuses @ object_spec.lua:', err, 1, true)
  end)

  it('takes the license, the section and the load type from opts', function()
    local prog = assert(bpf(function() return 1 end))
    local bytes = assert(object.build(prog, { section = 'classifier/mine', license = 'Dual BSD/GPL' }))
    assert.equals('\127ELF', bytes:sub(1, 4))
    assert.matches('Dual BSD/GPL\0', bytes, 1, true)
    assert.matches('classifier/mine\0', bytes, 1, true)
    local h = assert(object.load(prog, 'sched_cls', { section = 'classifier/mine' }))
    assert.equals(1, assert(loader.test_run(h, icmp)).retval)
    h:close()
    h = assert(object.load(prog, 'cgroup_skb', { expected_attach_type = 'cgroup_inet_egress' }))
    assert.equals('cgroup/skb', h.section)
    h:close()
    h = assert(object.load(prog, 'xdp'))
    assert.equals(1, assert(loader.test_run(h, icmp)).retval)
    h:close()
    h = assert(object.load(prog, 'socket_filter', { log_level = 2 }))
    assert.matches('processed %d+ insns', h.log)
    h:close()
  end)

  it('loads tracepoint, raw tracepoint and uprobe programs under their section names', function()
    local tp = require('bpf.tracepoint')
    local writes = assert(bpf.map('hash', 16, 'uint32_t', 'uint64_t', { name = 'writes' }))
    local prog = assert(bpf(function(args)
      local fd = args.fd
      xadd(writes[fd], args.count)
    end, { ctx = tp.dissector('syscalls/sys_enter_write'), type = 'tracepoint' }))
    local h = assert(object.load(prog, nil, { target = 'syscalls/sys_enter_write' }))
    assert.equals('tracepoint/syscalls/sys_enter_write', h.section)
    assert.equals('tracepoint', h.type)
    h:close()
    local trivial = assert(bpf(function() return 0 end))
    h = assert(object.load(trivial, 'raw_tracepoint', { target = 'sched_switch' }))
    assert.equals('raw_tracepoint/sched_switch', h.section)
    h:close()
    h = assert(object.load(trivial, 'uprobe', { target = '/bin/sh:main' }))
    assert.equals('uprobe//bin/sh:main', h.section)
    assert.equals('kprobe', h.type)
    h:close()
  end)

  it('reports what it cannot write, naming the object', function()
    local prog = assert(bpf(function() return 0 end))
    local bytes, err = object.build(prog, { section = '.maps' })
    assert.is_nil(bytes)
    assert.equals("bpf.object: program 'lua_" .. debug.getinfo(1, 'l').currentline - 3
      .. "': section name '.maps' is not free: Invalid argument", err)
    bytes, err = object.build(prog, { type = 'no_such_type' })
    assert.is_nil(bytes)
    assert.matches('no section name for program type "no_such_type"', err, 1, true)
    bytes, err = object.build({ insn = 1 })
    assert.is_nil(bytes)
    assert.matches('expected a compiled program', err, 1, true)
    -- a map fd with no map behind it would be a stale number in the file
    local map = assert(bpf.map('array', 4))
    local raw = assert(bpf(function() return map[1][0] end))
    local unmapped = { insn = raw.insn, pc = raw.pc, maps = {} }
    bytes, err = object.build(unmapped)
    assert.is_nil(bytes)
    assert.matches("loads a map or pseudo value %(src 1%) that has no relocation", err)
    local h
    h, err = object.load(prog, 'no_such_type')
    assert.is_nil(h)
    assert.matches('unknown program type "no_such_type"', err, 1, true)
    map:close()
    h, err = object.load(raw, 'sched_cls')
    assert.is_nil(h)
    assert.matches('map "array" is closed', err, 1, true)
  end)
end)
