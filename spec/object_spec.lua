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

-- What the kernel keeps of a loaded program's BTF: struct bpf_prog_info as
-- Linux 6.1 has it, func_info and line_info records, and libbpf's BTF reader.
if not pcall(ffi.typeof, 'struct spec_obj_prog_info') then
  ffi.cdef [[
  struct spec_obj_prog_info {
    uint32_t type, id; uint8_t tag[8]; uint32_t jited_prog_len, xlated_prog_len;
    uint64_t jited_prog_insns, xlated_prog_insns, load_time;
    uint32_t created_by_uid, nr_map_ids; uint64_t map_ids; char name[16];
    uint32_t ifindex, gpl_compatible; uint64_t netns_dev, netns_ino;
    uint32_t nr_jited_ksyms, nr_jited_func_lens; uint64_t jited_ksyms, jited_func_lens;
    uint32_t btf_id, func_info_rec_size; uint64_t func_info;
    uint32_t nr_func_info, nr_line_info; uint64_t line_info, jited_line_info;
    uint32_t nr_jited_line_info, line_info_rec_size, jited_line_info_rec_size, nr_prog_tags;
    uint64_t prog_tags, run_time_ns, run_cnt, recursion_misses;
    uint32_t verified_insns, attach_btf_obj_id, attach_btf_id, pad;
  };
  struct spec_obj_func_info { uint32_t insn_off, type_id; };
  struct spec_obj_line_info { uint32_t insn_off, file_name_off, line_off, line_col; };
  struct spec_obj_btf_type { uint32_t name_off, info, size_or_type; };
  typedef struct spec_obj_btf spec_obj_btf;
  spec_obj_btf *spec_obj_btf_by_id(uint32_t id) __asm__("btf__load_from_kernel_by_id");
  const struct spec_obj_btf_type *spec_obj_btf_type(const spec_obj_btf *btf, uint32_t id)
    __asm__("btf__type_by_id");
  const char *spec_obj_btf_name(const spec_obj_btf *btf, uint32_t off) __asm__("btf__name_by_offset");
  void spec_obj_btf_free(spec_obj_btf *btf) __asm__("btf__free");
  ]]
end

-- The functions of the program loaded as fd, as its func_info names them
-- ({ name =, insn =, static = }, in the order loaded), the instructions its
-- line_info covers (a set) and its id.
local function loaded_funcs(fd)
  local lib = libbpf.lib
  local info = ffi.new('struct spec_obj_prog_info')
  local len = ffi.new('uint32_t[1]', ffi.sizeof(info))
  assert.equals(0, lib.bpf_obj_get_info_by_fd(fd, info, len))
  local nf, nl = info.nr_func_info, info.nr_line_info
  local funcs = ffi.new('struct spec_obj_func_info[?]', math.max(nf, 1))
  local lines = ffi.new('struct spec_obj_line_info[?]', math.max(nl, 1))
  local again = ffi.new('struct spec_obj_prog_info')
  again.nr_func_info, again.func_info_rec_size = nf, ffi.sizeof('struct spec_obj_func_info')
  again.func_info = ffi.cast('uint64_t', ffi.cast('uintptr_t', funcs))
  again.nr_line_info, again.line_info_rec_size = nl, ffi.sizeof('struct spec_obj_line_info')
  again.line_info = ffi.cast('uint64_t', ffi.cast('uintptr_t', lines))
  len[0] = ffi.sizeof(again)
  assert.equals(0, lib.bpf_obj_get_info_by_fd(fd, again, len))
  local btf = lib.spec_obj_btf_by_id(info.btf_id)
  assert.is_true(btf ~= nil)
  local out, covered = {}, {}
  for i = 0, nf - 1 do
    local t = lib.spec_obj_btf_type(btf, funcs[i].type_id)
    assert.equals(12, bit.rshift(t.info, 24)) -- BTF_KIND_FUNC
    out[#out + 1] = { name = ffi.string(lib.spec_obj_btf_name(btf, t.name_off)),
      insn = funcs[i].insn_off, static = bit.band(t.info, 0xffff) == 0 }
  end
  lib.spec_obj_btf_free(btf)
  for i = 0, nl - 1 do covered[lines[i].insn_off] = true end
  return out, covered, info.id
end

-- A program with subprograms, one calling another and one using a map.
local function subprogram_prog(hits)
  local function mix(a, b)
    local x = a * 3 + b
    if x > 100 then x = x - 100 end
    return bit.bxor(x, 5) + a
  end
  local function twice(a) return mix(a, a) + mix(a, 1) end
  local function bump(a)
    xadd(hits[a % 4], 1)
    return a
  end
  local prog = assert(bpf(function(skb) return twice(skb.len) + mix(skb.len, 2) + bump(skb.len) end,
    { functions = 'subprog' }))
  local function expect(len) return twice(len) + mix(len, 2) + len end
  return prog, expect
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

-- Hand-written programs around bpf_loop (helper 181), whose callback is a
-- subprogram named by its address: lddw with src_reg BPF_PSEUDO_FUNC (4),
-- imm relative as a call's (the callback starts at the lddw + 1 + imm).
local function op(code, dst, src, off, imm)
  return { code = code, dst_reg = dst or 0, src_reg = src or 0, off = off or 0, imm = imm or 0 }
end
local BPF_LOOP, PSEUDO_FUNC = 181, 4
-- (a list of instructions, as add_to_ctx's: hand_prog flattens them)
local function func_addr(dst, at, target) return { op(0x18, dst, PSEUDO_FUNC, 0, target - at - 1), op(0) } end
local function call_sub(at, target) return op(0x85, 0, 1, 0, target - at - 1) end
local exit = op(0x95)
-- r3 = *(u64 *)(r2 + 0); r3 += what; *(u64 *)(r2 + 0) = r3; r0 = 0; exit
local function add_to_ctx(what)
  return { op(0x79, 3, 2), what, op(0x7b, 2, 3), op(0xb7, 0), exit }
end

-- { insn =, pc =, maps =, funcs = } of instruction tables; funcs as bpf(fn) gives them.
local function hand_prog(items, funcs)
  local list = {}
  for _, item in ipairs(items) do
    for _, ins in ipairs(item[1] and item or { item }) do list[#list + 1] = ins end
  end
  local code = ffi.new('struct bpf_insn[?]', #list)
  for i, ins in ipairs(list) do code[i - 1] = ins end
  return { insn = code, pc = #list, maps = {}, funcs = funcs }
end

-- The sum of the indexes 0..9, the callback adding each to the u64 at fp-8.
local function loop_sum()
  return hand_prog({
    op(0x7a, 10, 0, -8, 0),         -- 0: *(u64 *)(r10 - 8) = 0
    op(0xb7, 1, 0, 0, 10),          -- 1: r1 = 10 (nr_loops)
    func_addr(2, 2, 10),            -- 2, 3: r2 = &add_index
    op(0xbf, 3, 10), op(0x07, 3, 0, 0, -8), -- 4, 5: r3 = r10 - 8 (ctx)
    op(0xb7, 4),                    -- 6: r4 = 0 (flags)
    op(0x85, 0, 0, 0, BPF_LOOP),    -- 7: call bpf_loop
    op(0x79, 0, 10, -8),            -- 8: r0 = *(u64 *)(r10 - 8)
    exit,                           -- 9
    add_to_ctx(op(0x0f, 3, 1)),     -- 10: add_index(index, ctx): ... r3 += r1
  }, { { insn = 0 }, { insn = 10, name = 'add_index' } })
end

-- The callback calls a subprogram for what it adds: index + 1, summing to 55.
local function loop_calling()
  return hand_prog({
    op(0x7a, 10, 0, -8, 0), op(0xb7, 1, 0, 0, 10),
    func_addr(2, 2, 10),            -- 2, 3: r2 = &step
    op(0xbf, 3, 10), op(0x07, 3, 0, 0, -8), op(0xb7, 4), op(0x85, 0, 0, 0, BPF_LOOP),
    op(0x79, 0, 10, -8), exit,
    op(0xbf, 6, 2),                 -- 10: step(index, ctx): r6 = r2
    call_sub(11, 17),               -- 11: r0 = weight(index)
    op(0x79, 3, 6), op(0x0f, 3, 0), op(0x7b, 6, 3), op(0xb7, 0), exit, -- 12..16: *r6 += r0
    op(0xbf, 0, 1), op(0x07, 0, 0, 0, 1), exit, -- 17: weight(i): return i + 1
  }, { { insn = 0 }, { insn = 10, name = 'step' }, { insn = 17, name = 'weight' } })
end

-- Two callbacks, the second one's address loaded in a subprogram (so from
-- .text): 45 from ten turns of add_index, 500 from five of add_hundred.
local function loop_two()
  return hand_prog({
    op(0x7a, 10, 0, -8, 0), op(0xb7, 1, 0, 0, 10),
    func_addr(2, 2, 21),            -- 2, 3: r2 = &add_index
    op(0xbf, 3, 10), op(0x07, 3, 0, 0, -8), op(0xb7, 4), op(0x85, 0, 0, 0, BPF_LOOP),
    op(0xbf, 1, 10), op(0x07, 1, 0, 0, -8), -- 8, 9: r1 = r10 - 8
    call_sub(10, 13),               -- 10: run(r1)
    op(0x79, 0, 10, -8), exit,      -- 11, 12
    op(0xbf, 3, 1), op(0xb7, 1, 0, 0, 5), -- 13: run(ctx): r3 = ctx, r1 = 5
    func_addr(2, 15, 26),           -- 15, 16: r2 = &add_hundred
    op(0xb7, 4), op(0x85, 0, 0, 0, BPF_LOOP), op(0xb7, 0), exit, -- 17..20
    add_to_ctx(op(0x0f, 3, 1)),     -- 21: add_index
    add_to_ctx(op(0x07, 3, 0, 0, 100)), -- 26: add_hundred
  }, { { insn = 0 }, { insn = 13, name = 'run' }, { insn = 21, name = 'add_index' },
    { insn = 26, name = 'add_hundred' } })
end

-- Loads prog with bpf_prog_load itself, no object: the kernel wants BTF
-- func_info for a program that names a callback ("missing btf func_info"),
-- the callbacks static, so the helper gives it that.  A { fd = } for
-- loader.test_run, and close().
if not pcall(ffi.typeof, 'spec_loop_btf') then
  ffi.cdef [[
  typedef struct spec_loop_btf spec_loop_btf;
  spec_loop_btf *spec_loop_btf_new(void) __asm__("btf__new_empty");
  void spec_loop_btf_free(spec_loop_btf *btf) __asm__("btf__free");
  int spec_loop_btf_int(spec_loop_btf *btf, const char *name, size_t size, int enc) __asm__("btf__add_int");
  int spec_loop_btf_ptr(spec_loop_btf *btf, int ref) __asm__("btf__add_ptr");
  int spec_loop_btf_proto(spec_loop_btf *btf, int ret) __asm__("btf__add_func_proto");
  int spec_loop_btf_param(spec_loop_btf *btf, const char *name, int type) __asm__("btf__add_func_param");
  int spec_loop_btf_func(spec_loop_btf *btf, const char *name, int linkage, int proto)
    __asm__("btf__add_func");
  int spec_loop_btf_load(spec_loop_btf *btf) __asm__("btf__load_into_kernel");
  int spec_loop_btf_fd(const spec_loop_btf *btf) __asm__("btf__fd");
  ]]
end

local function raw_load(prog, prog_type)
  local lib = libbpf.lib
  local btf = ffi.gc(lib.spec_loop_btf_new(), lib.spec_loop_btf_free)
  local int = lib.spec_loop_btf_int(btf, 'int', 4, 1)
  local main_proto = lib.spec_loop_btf_proto(btf, int)
  lib.spec_loop_btf_param(btf, 'ctx', lib.spec_loop_btf_ptr(btf, 0))
  local records = ffi.new('struct spec_obj_func_info[?]', #prog.funcs)
  records[0].type_id = lib.spec_loop_btf_func(btf, 'main', 1, main_proto) -- global
  local sub_proto = lib.spec_loop_btf_proto(btf, int)
  for i = 2, #prog.funcs do
    records[i - 1].insn_off = prog.funcs[i].insn -- in instructions here, not bytes
    records[i - 1].type_id = lib.spec_loop_btf_func(btf, prog.funcs[i].name, 0, sub_proto) -- static
  end
  assert.equals(0, lib.spec_loop_btf_load(btf))
  local opts = ffi.new('struct bpf_prog_load_opts')
  opts.sz = ffi.sizeof(opts)
  opts.prog_btf_fd = lib.spec_loop_btf_fd(btf)
  opts.func_info, opts.func_info_cnt = records, #prog.funcs
  opts.func_info_rec_size = ffi.sizeof('struct spec_obj_func_info')
  local log = ffi.new('char[65536]')
  opts.log_buf, opts.log_size, opts.log_level = log, 65536, 1
  local fd = lib.bpf_prog_load(libbpf.prog_type[prog_type], 'raw', 'GPL', prog.insn, prog.pc, opts)
  assert(fd >= 0, ffi.string(log))
  return { fd = fd, close = function() ffi.C.bpf_libc_close(fd) end }
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
    -- the kernel's own line comments, from our line_info (6.1 leaves out the " @ file:line")
    assert.matches('\n; return d%[23%] %-%- no bounds check: the verifier refuses[^\n]*\n', err)
    if not err:find('; return d[23] -- no bounds check: the verifier refuses\n', 1, true) then
      assert.matches('; return d[23] -- no bounds check: the verifier refuses @ object_spec.lua:', err, 1,
        true)
    end
  end)

  it('loads with log_level 1 a program whose log does not fit the first buffer (ENOSPC: a bigger one)',
    function()
      local prog = assert(bpf(function(skb)
        local s = 0
        for i = 1, 60 do -- too many turns to unroll: the verifier walks each, logging its branches
          if skb.len > i then s = s + i end
          if skb.mark > i then s = s + 2 end
          if skb.priority > i then s = s + 3 end
        end
        return s
      end, { type = 'sched_cls' }))
      local h = assert(prog:load('sched_cls', { log_level = 1 }))
      assert.matches('processed %d+ insns', h.log)
      h:close()
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

  describe('with subprograms', function()
    it('writes them into .text as static functions that readelf, llvm-objdump and bpftool read', function()
      local hits = assert(bpf.map('array', 4, nil, nil, { name = 'hits' }))
      local prog = subprogram_prog(hits)
      assert.equals(4, #prog.funcs)
      local path = ('%s/%s_subprog.o'):format(tmpdir, tag)
      finally(function() os.remove(path) end)
      assert(object.save(prog, path, { type = 'socket_filter', name = 'with_calls' }))
      local sections = must('readelf -SW ' .. path)
      assert.matches('%] %.text%s+PROGBITS%s+%x+%s+%x+%s+%x+%s+00%s+AX', sections)
      assert.matches('%] %.rel%.text%s+REL', sections)
      assert.matches('%] %.relsocket%s+REL', sections)
      local symbols = must('readelf -sW ' .. path)
      local size = {}
      for i = 2, #prog.funcs do
        local f, stop = prog.funcs[i], prog.funcs[i + 1] and prog.funcs[i + 1].insn or prog.pc
        size[f.name] = (stop - f.insn) * 8
        assert.matches(' ' .. size[f.name] .. '%s+FUNC%s+LOCAL%s+DEFAULT%s+%d+%s+' .. f.name .. '\n', symbols)
      end
      local main_size = prog.funcs[2].insn * 8 -- the program's section ends where mix starts
      assert.matches(' ' .. main_size .. '%s+FUNC%s+GLOBAL%s+DEFAULT%s+%d+%s+with_calls', symbols)
      local dis = must('llvm-objdump -dr ' .. path)
      local text = dis:match('Disassembly of section %.text:(.*)$')
      assert.is_truthy(text)
      for _, name in ipairs({ 'mix', 'twice', 'bump' }) do
        assert.matches('<' .. name .. '>:', text, 1, true)
      end
      -- calls out of the program's section go through their function's symbol
      local main = dis:match('<with_calls>:(.-)Disassembly')
      assert.matches('call %-1\n%s+0*%x+:%s+R_BPF_64_32%s+twice', main)
      assert.matches('call %-1\n%s+0*%x+:%s+R_BPF_64_32%s+mix', main)
      assert.matches('r1 = 0 ll\n%s+0*%x+:%s+R_BPF_64_64%s+hits', text:match('<bump>:(.*)$'))
      local btf = must('bpftool btf dump file ' .. path)
      assert.matches("FUNC 'mix' type_id=%d+ linkage=static", btf)
      assert.matches("FUNC_PROTO '%(anon%)' ret_type_id=%d+ vlen=2\n%s+'a' type_id=%d+\n%s+'b' type_id=%d+\n"
        .. "%[%d+%] FUNC 'mix'", btf)
      assert.matches("FUNC 'with_calls' type_id=%d+ linkage=global", btf)
      -- bpftool loads the file too, each function named and with its lines
      local pin = bpftool_load(path, 'subprog')
      local xlated = must('bpftool prog dump xlated pinned ' .. pin .. ' linum')
      assert.matches('int with_calls(void * ctx):', xlated, 1, true)
      assert.matches('__s64 mix(__s64 a, __s64 b):\n; local x = a * 3 + b [file:', xlated, 1, true)
      assert.matches('__s64 twice(__s64 a):\n; local function twice(a) return mix(a, a) + mix(a, 1) end'
        .. ' [file:', xlated, 1, true)
      assert.matches('__s64 bump(__s64 a):\n; xadd(hits[a % 4], 1) [file:', xlated, 1, true)
      assert.matches('call pc%+%d+#bpf_prog_%x+_mix', xlated)
    end)

    it('loads them through libbpf, runs as the raw load does, func_info naming each', function()
      local hits = assert(bpf.map('array', 4, nil, nil, { name = 'hits' }))
      local prog, expect = subprogram_prog(hits)
      local h = assert(prog:load('socket_filter'))
      local raw = assert(prog:load('socket_filter', { raw = true }))
      for _, p in ipairs({ udp53, tcp80, icmp }) do
        local len = #p - 14 -- a socket filter's skb starts after the Ethernet header
        assert.equals(expect(len) % 2 ^ 32, assert(loader.test_run(h, p)).retval)
        assert.equals(assert(loader.test_run(raw, p)).retval, assert(loader.test_run(h, p)).retval)
      end
      raw:close()
      local counted = 0
      for k = 0, 3 do counted = counted + hits[k] end
      assert.equals(9, counted)
      local funcs, covered, id = loaded_funcs(h.fd)
      assert.equals(4, #funcs)
      assert.same({ name = h.name, insn = 0, static = false }, funcs[1])
      local names = {}
      for i = 2, 4 do
        assert.is_true(funcs[i].static)
        assert.is_true(funcs[i].insn > funcs[i - 1].insn)
        names[i - 1] = funcs[i].name
      end
      -- libbpf appends a subprogram where the first call to it is met
      assert.same({ 'twice', 'mix', 'bump' }, names)
      for _, f in ipairs(funcs) do assert.is_true(covered[f.insn], f.name) end
      local xlated = must(('bpftool prog dump xlated id %d'):format(id))
      assert.matches('__s64 bump(__s64 a):', xlated, 1, true)
      h:close()
    end)

    it('names the Lua line of a refused subprogram instruction, in the order libbpf loads them', function()
      local prog = subprogram_prog(assert(bpf.map('array', 4)))
      local code = ffi.new('struct bpf_insn[?]', prog.pc)
      ffi.copy(code, prog.insn, ffi.sizeof(code))
      local mix = prog.funcs[2]
      assert.equals('mix', mix.name)
      assert.equals(0xbf, code[mix.insn].code) -- r0 = r1 ...
      code[mix.insn].src_reg = 9 -- ... now r0 = r9, which no one set
      local lines = prog:lines()
      local broken = { insn = code, pc = prog.pc, maps = prog.maps, lines = lines, funcs = prog.funcs }
      local h, err = object.load(broken, 'socket_filter')
      assert.is_nil(h)
      assert.matches('R9 !read_ok', err, 1, true)
      local where = ('%s:%d: '):format(lines[mix.insn].file, lines[mix.insn].line)
      assert.equals(where, err:sub(1, #where))
      local at = err:match('\n(%d+): %(bf%) r0 = r9\t%-%- ' .. where:gsub('%p', '%%%0'))
      assert.is_truthy(at)
      assert.are_not.equal(mix.insn, tonumber(at)) -- libbpf put twice before mix
    end)

    it('writes two programs with a subprogram of one name into one object', function()
      local core = require('bpf.ffi_core').lib
      local progs = {}
      do
        local function walk_name(n) return n * 2 + 1 end
        progs[1] = assert(bpf(function(skb) return walk_name(skb.len) end, { functions = 'subprog' }))
      end
      do
        local function walk_name(n) return n + 7 end
        progs[2] = assert(bpf(function(skb) return walk_name(skb.len) + walk_name(1) end,
          { functions = 'subprog' }))
      end
      local o = ffi.gc(core.bpfc_obj_new(nil), core.bpfc_obj_free)
      -- a map takes the name first: the subprograms' symbols move aside
      local m = ffi.new('struct bpfc_obj_map')
      m.sz, m.name, m.type, m.max_entries, m.key_size, m.value_size =
        ffi.sizeof(m), 'walk_name', libbpf.map_type.array, 1, 4, 4
      assert.equals(0, core.bpfc_obj_add_map(o, m))
      for i, prog in ipairs(progs) do
        assert.equals(2, #prog.funcs)
        assert.equals('walk_name', prog.funcs[2].name)
        local funcs = ffi.new('struct bpfc_obj_func[1]')
        funcs[0].insn, funcs[0].name, funcs[0].arg_cnt = prog.funcs[2].insn, 'walk_name', 1
        local src = prog:lines()
        local lines, n = ffi.new('struct bpfc_obj_line[?]', prog.pc), 0
        for pc = 0, prog.pc - 1 do
          if src[pc] then
            lines[n].insn, lines[n].line, lines[n].file, lines[n].text = pc, src[pc].line, src[pc].file,
              src[pc].text or ''
            n = n + 1
          end
        end
        local p = ffi.new('struct bpfc_obj_prog')
        p.sz, p.name, p.section = ffi.sizeof(p), i == 1 and 'first' or 'second', i == 1 and 'socket' or 'tc'
        p.insns, p.insn_cnt, p.lines, p.line_cnt = prog.insn, prog.pc, lines, n
        p.funcs, p.func_cnt = funcs, 1
        assert.equals(0, core.bpfc_obj_add_prog(o, p), ffi.string(core.bpfc_obj_errmsg(o)))
      end
      local data, size = ffi.new('const void *[1]'), ffi.new('size_t[1]')
      assert.equals(0, core.bpfc_obj_finish(o, data, size))
      local bytes = ffi.string(data[0], size[0])
      local path = ('%s/%s_two.o'):format(tmpdir, tag)
      finally(function() os.remove(path) end)
      local f = assert(io.open(path, 'wb'))
      f:write(bytes)
      f:close()
      local symbols = must('readelf -sW ' .. path)
      assert.matches('OBJECT%s+GLOBAL%s+DEFAULT%s+%d+ walk_name\n', symbols)
      assert.matches('FUNC%s+LOCAL%s+DEFAULT%s+%d+ walk_name_2\n', symbols)
      assert.matches('FUNC%s+LOCAL%s+DEFAULT%s+%d+ walk_name_3\n', symbols)
      local btf = must('bpftool btf dump file ' .. path)
      local _, btf_funcs = btf:gsub("FUNC 'walk_name' type_id=%d+ linkage=static", '')
      assert.equals(2, btf_funcs)
      local text = must('llvm-objdump -d ' .. path):match('Disassembly of section %.text:(.*)$')
      assert.matches('<walk_name_2>:.*<walk_name_3>:', text)

      local lib = libbpf.lib
      local obj = lib.bpf_object__open_mem(bytes, #bytes, nil)
      assert.is_true(obj ~= nil)
      finally(function() lib.bpf_object__close(obj) end)
      assert.equals(0, lib.bpf_object__load(obj))
      local len = #udp53 - 14
      for i, name in ipairs({ 'first', 'second' }) do
        local fd = lib.bpf_program__fd(lib.bpf_object__find_program_by_name(obj, name))
        assert.is_true(fd >= 0)
        local funcs, covered = loaded_funcs(fd)
        assert.same({ name = name, insn = 0, static = false }, funcs[1])
        assert.equals('walk_name', funcs[2].name)
        assert.is_true(funcs[2].static and covered[funcs[2].insn])
        local retval = assert(loader.test_run({ fd = fd }, udp53)).retval
        assert.equals(i == 1 and len * 2 + 1 or #udp53 + 15, retval) -- tc: the whole frame
      end
    end)

    it('keeps subprograms to the C API: in order, named, at most 5 arguments, code inside them', function()
      local core = require('bpf.ffi_core').lib
      local EINVAL = -22
      local o = ffi.gc(core.bpfc_obj_new(nil), core.bpfc_obj_free)
      local function msg() return ffi.string(core.bpfc_obj_errmsg(o)) end
      -- r1 = 1; call f; exit; f: r0 = r1; exit
      local insns = ffi.new('struct bpf_insn[5]', { { code = 0xb7, dst_reg = 1, imm = 1 },
        { code = 0x85, src_reg = 1, imm = 1 }, { code = 0x95 },
        { code = 0xbf, src_reg = 1 }, { code = 0x95 } })
      local names = ffi.new('const char *[2]', { 'x', 'bad name' })
      local funcs = ffi.new('struct bpfc_obj_func[1]', { { insn = 3, name = 'f', arg_cnt = 1 } })
      local p = ffi.new('struct bpfc_obj_prog')
      p.sz, p.name, p.section, p.insns, p.insn_cnt = ffi.sizeof(p), 'main', 'socket', insns, 5
      p.funcs, p.func_cnt = funcs, 1
      local function refused(pattern)
        assert.equals(EINVAL, core.bpfc_obj_add_prog(o, p))
        assert.matches(pattern, msg(), 1, true)
      end
      funcs[0].insn = 0
      refused("subprogram 0 starts at 0: not after the one before, or past the end (5 instructions)")
      funcs[0].insn = 5
      refused("subprogram 0 starts at 5")
      funcs[0].insn, funcs[0].name = 4, 'not a name'
      refused("subprogram name 'not a name' is not a C identifier")
      funcs[0].name = 'f'
      refused("instruction 1 calls 3, where no subprogram starts")
      funcs[0].insn, funcs[0].arg_cnt = 3, 6
      refused("subprogram 'f' takes 6 arguments, registers carry 5")
      funcs[0].arg_cnt, funcs[0].arg_names = 2, names
      refused("argument name 'bad name' of 'f' is not a C identifier")
      funcs[0].arg_cnt = 1
      insns[2] = { code = 0x05, off = 1 } -- goto f+1
      refused("instruction 2 jumps to 4, out of its function [0, 3)")
      insns[2] = { code = 0x95 }
      -- a caller's struct from before subprograms: none, so the call lands nowhere
      p.sz = ffi.offsetof('struct bpfc_obj_prog', 'funcs')
      refused("instruction 1 calls 3, where no subprogram starts")
      p.sz = ffi.sizeof(p)
      local lddw = ffi.new('struct bpf_insn[3]', { { code = 0x18, dst_reg = 1 }, {}, { code = 0x95 } })
      local cut = ffi.new('struct bpfc_obj_func[1]', { { insn = 1, name = 'g' } })
      local q = ffi.new('struct bpfc_obj_prog', { sz = ffi.sizeof(p), name = 'q', section = 'xdp',
        insns = lddw, insn_cnt = 3, funcs = cut, func_cnt = 1 })
      assert.equals(EINVAL, core.bpfc_obj_add_prog(o, q))
      assert.matches("the lddw at 0 is cut by the end of its function", msg(), 1, true)

      assert.equals(0, core.bpfc_obj_add_prog(o, p), msg())
      -- an old caller's program without subprograms still goes in
      local plain = ffi.new('struct bpf_insn[2]', { { code = 0xb7, imm = 2 }, { code = 0x95 } })
      local old = ffi.new('struct bpfc_obj_prog', { sz = ffi.offsetof('struct bpfc_obj_prog', 'funcs'),
        name = 'old', section = 'tc', insns = plain, insn_cnt = 2 })
      assert.equals(0, core.bpfc_obj_add_prog(o, old), msg())
      local data, size = ffi.new('const void *[1]'), ffi.new('size_t[1]')
      assert.equals(0, core.bpfc_obj_finish(o, data, size))
      local lib = libbpf.lib
      -- (libbpf warns of programs without line_info: these have none)
      local old_print = lib.libbpf_set_print(nil)
      local obj = lib.bpf_object__open_mem(data[0], size[0], nil)
      local loaded_ok = obj ~= nil and lib.bpf_object__load(obj)
      lib.libbpf_set_print(old_print)
      assert.is_true(obj ~= nil)
      finally(function() lib.bpf_object__close(obj) end)
      assert.equals(0, loaded_ok)
      local fd = lib.bpf_program__fd(lib.bpf_object__find_program_by_name(obj, 'main'))
      assert.equals(1, assert(loader.test_run({ fd = fd }, icmp)).retval)
      local loaded = loaded_funcs(fd)
      assert.same({ { name = 'main', insn = 0, static = false },
        { name = 'f', insn = 3, static = true } }, loaded)
      fd = lib.bpf_program__fd(lib.bpf_object__find_program_by_name(obj, 'old'))
      assert.equals(2, assert(loader.test_run({ fd = fd }, icmp)).retval)
    end)

    it('loads a bpf_loop callback named by its address, as the raw load does', function()
      local prog = loop_sum()
      local refused, why = loader.load(prog.insn, prog.pc, 'socket_filter')
      assert.is_nil(refused) -- loader.load passes no BTF: the kernel wants func_info
      assert.matches('missing btf func_info', why, 1, true)
      local raw = raw_load(prog, 'socket_filter')
      assert.equals(45, assert(loader.test_run(raw, icmp)).retval)
      raw:close()
      local h = assert(object.load(prog, 'socket_filter', { name = 'summed' }))
      assert.equals(45, assert(loader.test_run(h, icmp)).retval)
      local funcs = loaded_funcs(h.fd)
      assert.same({ name = 'summed', insn = 0, static = false }, funcs[1])
      -- (further than 10: the kernel inlines bpf_loop into the program)
      assert.is_true(funcs[2].name == 'add_index' and funcs[2].static and funcs[2].insn >= 10)
      h:close()
      -- the writer works on a copy: the lddw is still relative and PSEUDO_FUNC
      assert.equals(PSEUDO_FUNC, prog.insn[2].src_reg)
      assert.equals(7, prog.insn[2].imm)
      -- in the file: src_reg 0, imm the callback's byte offset in .text, a
      -- relocation against .text's section symbol (as clang writes &static_fn)
      local path = ('%s/%s_loop.o'):format(tmpdir, tag)
      finally(function() os.remove(path) end)
      assert(object.save(prog, path, { type = 'socket_filter', name = 'summed' }))
      local dis = must('llvm-objdump -dr ' .. path)
      local main = dis:match('<summed>:(.-)Disassembly')
      assert.matches('r2 = 0 ll\n%s+0*10:%s+R_BPF_64_64%s+%.text\n', main)
      assert.matches('call 181\n', main)
      assert.matches('<add_index>:', dis:match('Disassembly of section %.text:(.*)$'), 1, true)
      assert.matches('SECTION%s+LOCAL%s+DEFAULT%s+%d+ %.text\n', must('readelf -sW ' .. path))
      -- (readelf calls type 1 R_BPF_INSN_64, llvm-objdump R_BPF_64_64)
      assert.matches('\n0+10%s+%x+01%s+R_BPF_%S+%s+0+%s+%.text\n', must('readelf -rW ' .. path))
      -- bpftool reads and loads the file too
      local pin = bpftool_load(path, 'loop')
      local p = pinned_prog(pin)
      assert.equals(45, assert(loader.test_run(p, icmp)).retval)
      p:close()
      local xlated = must('bpftool prog dump xlated pinned ' .. pin)
      assert.matches('r2 = subprog%[%+%d+%]', xlated)
      assert.matches('__s64 add_index():', xlated, 1, true)
      -- 6.1 inlines bpf_loop: its loop calls the callback itself
      assert.matches('call pc%+%d+#bpf_prog_%x+_add_index', xlated)
    end)

    it('loads a bpf_loop callback that calls a subprogram', function()
      local prog = loop_calling()
      local raw = raw_load(prog, 'sched_cls')
      assert.equals(55, assert(loader.test_run(raw, icmp)).retval)
      raw:close()
      local h = assert(object.load(prog, 'sched_cls', { name = 'stepped' }))
      assert.equals(55, assert(loader.test_run(h, icmp)).retval)
      local names = {}
      for _, f in ipairs(loaded_funcs(h.fd)) do names[#names + 1] = f.name end
      assert.same({ 'stepped', 'step', 'weight' }, names)
      h:close()
      local path = ('%s/%s_loop2.o'):format(tmpdir, tag)
      finally(function() os.remove(path) end)
      assert(object.save(prog, path, { type = 'sched_cls', name = 'stepped' }))
      local text = must('llvm-objdump -dr ' .. path):match('Disassembly of section %.text:(.*)$')
      assert.matches('call 5\n', text) -- inside .text a call stays relative
    end)

    it('loads two callbacks, one named from a subprogram, through the C API', function()
      local prog = loop_two()
      local raw = raw_load(prog, 'socket_filter')
      assert.equals(545, assert(loader.test_run(raw, icmp)).retval)
      raw:close()
      local bytes = assert(object.build(prog, { type = 'socket_filter', name = 'two' }))
      local path = ('%s/%s_loop3.o'):format(tmpdir, tag)
      finally(function() os.remove(path) end)
      local f = assert(io.open(path, 'wb'))
      f:write(bytes)
      f:close()
      local dis = must('llvm-objdump -dr ' .. path)
      -- add_index is 8 instructions into .text, add_hundred 13
      assert.matches('r2 = 64 ll\n%s+0*10:%s+R_BPF_64_64%s+%.text\n', dis:match('<two>:(.-)Disassembly'))
      local text = dis:match('Disassembly of section %.text:(.*)$')
      assert.matches('r2 = 104 ll\n%s+0*10:%s+R_BPF_64_64%s+%.text\n', text:match('<run>:(.-)<add_index>'))
      local lib = libbpf.lib
      local old_print = lib.libbpf_set_print(nil) -- (no line_info: libbpf would say so)
      local obj = lib.bpf_object__open_mem(bytes, #bytes, nil)
      local loaded_ok = obj ~= nil and lib.bpf_object__load(obj)
      lib.libbpf_set_print(old_print)
      assert.is_true(obj ~= nil)
      finally(function() lib.bpf_object__close(obj) end)
      assert.equals(0, loaded_ok)
      local fd = lib.bpf_program__fd(lib.bpf_object__find_program_by_name(obj, 'two'))
      assert.equals(545, assert(loader.test_run({ fd = fd }, icmp)).retval)
      -- libbpf appends each where it is first named, by a call or an address
      local names = {}
      for i, fn in ipairs(loaded_funcs(fd)) do
        names[i] = fn.name
        assert.is_true(i == 1 or fn.static)
      end
      assert.same({ 'two', 'add_index', 'run', 'add_hundred' }, names)
    end)

    it('names the line of a refused callback instruction where libbpf put the callback', function()
      local prog = loop_two()
      prog.insn[21] = op(0xbf, 0, 9) -- add_index starts with r0 = r9, which no one set
      local lines = {}
      for pc = 0, prog.pc - 1 do lines[pc] = { file = 'hand.lua', line = 100 + pc, text = 'insn ' .. pc } end
      prog.lines = lines
      local h, err = object.load(prog, 'socket_filter')
      assert.is_nil(h)
      assert.matches('R9 !read_ok', err, 1, true)
      assert.equals('hand.lua:121: ', err:sub(1, 14))
      -- the verifier counts it at 13: after the program, before run
      assert.matches('\n13: (bf) r0 = r9\t-- hand.lua:121', err, 1, true)
    end)

    it('refuses a subprogram address that is not where a subprogram starts', function()
      local prog = loop_sum()
      prog.insn[2].imm = 8 -- the lddw names 11
      local bytes, err = object.build(prog)
      assert.is_nil(bytes)
      assert.matches("the lddw at 2 loads the address of 11, where no subprogram starts", err, 1, true)
      prog.insn[2].imm = 7
      bytes, err = object.build({ insn = prog.insn, pc = prog.pc, maps = {} })
      assert.is_nil(bytes)
      assert.matches("the lddw at 2 loads the address of 10, where no subprogram starts", err, 1, true)
      -- some other pseudo source without a relocation is still refused
      prog.insn[2].src_reg = 2
      bytes, err = object.build(prog)
      assert.is_nil(bytes)
      assert.matches("loads a map or pseudo value (src 2) that has no relocation", err, 1, true)
    end)
  end)
end)
