-- A compiled program as a BPF ELF object (written by the C core, csrc/obj.c),
-- and loading that object through libbpf: the one way into the kernel.
--
--   local object = require('bpf.object')
--   bytes, err = object.build(prog, opts)     the ELF object as a Lua string
--   ok, err    = object.save(prog, path, opts)
--   bytes, err = object.build_all(entries, opts)   several programs, one object:
--   ok, err    = object.save_all(entries, path, opts)   entries = { { prog =,
--     section = | type = [, target =], name = }, ... }, sharing the maps they
--     name; opts: license, kern_version, map_names = { [map] = name }
--   handle, err = object.load(prog, prog_type, opts)
--     handle.fd, handle.btf_fd, handle.type, handle.name, handle.maps
--     ({ [map object] = name in the object }), handle:close() (also on GC)
--   object.section(prog_type, target) -> the libbpf section name
--   object.members(ctype, { 'name', ... }) names the members of a struct or
--     union ctype, so that keys and values of that type get BTF with fields
--
-- prog is what bpf(fn) returns (insn, pc, maps, lines(), funcs) or a table
-- { insn =, pc =, maps =, lines =, funcs = } of the same shape.  funcs (nil:
-- no subprograms) is { {insn = 0}, {insn =, name =, fn =}, ... }: the
-- program, then its subprograms in ascending insn order.  Each subprogram
-- goes into the object's .text as a static function named name (else
-- func<i>; a C identifier made of it), with one __s64 parameter per fixed
-- parameter of fn, named as in fn.  libbpf appends the subprograms that
-- the program calls (or loads the address of: a lddw with src_reg
-- BPF_PSEUDO_FUNC and imm relative as a call's, for bpf_loop) in the order
-- of the first references, so the loaded program's instructions may be
-- ordered otherwise than prog.insn.
-- opts: section (else from type and target), type (a prog_type name, or
-- uprobe, uretprobe, kretprobe), target ("do_sys_open",
-- "syscalls/sys_enter_write", "/bin/bash:readline"), name (the
-- function symbol: program name), license ("GPL"), kern_version.
-- load opts also: expected_attach_type, log_level (> 0 keeps the verifier
-- log of a success in handle.log), verbose (let libbpf print to stderr;
-- by default it is silenced during the load, its errors come back as err).
--
-- Keys and values get BTF types from their ctypes: integers (with
-- signedness), bool, float and double, pointers (as 64-bit integers),
-- arrays of any of those, and structs and unions whose member names were
-- given with object.members (LuaJIT cannot list them).  Any other struct or
-- union is written as a byte array of its size (an lpm_trie key as
-- { __u32 prefixlen; __u8 data[N]; }).  Map types the kernel keeps without
-- BTF (perf_event_array, stack_trace, queue, ...) get key_size/value_size.
local ffi = require('ffi')
local core = require('bpf.ffi_core').lib
local libbpf = require('bpf.libbpf')
local ctype = require('bpf.ctype')

local lib, errno = libbpf.lib, libbpf.errno

ffi.cdef [[
struct bpfc_obj;
struct bpfc_obj_opts { size_t sz; const char *license; uint32_t kern_version; };
struct bpfc_obj_map {
  size_t sz; const char *name; uint32_t type, max_entries, key_size, value_size;
  int key_type_id, value_type_id; uint32_t map_flags, numa_node; uint64_t map_extra;
};
struct bpfc_obj_reloc { uint32_t insn, map; };
struct bpfc_obj_line { uint32_t insn, line; const char *file, *text; };
struct bpfc_obj_func {
  uint32_t insn; const char *name; uint32_t arg_cnt; const char *const *arg_names;
};
struct bpfc_obj_core_relo { uint32_t insn; int type_id; const char *access; uint32_t kind; };
struct bpfc_obj_prog {
  size_t sz; const char *name, *section; const struct bpf_insn *insns; size_t insn_cnt;
  const struct bpfc_obj_reloc *relocs; size_t reloc_cnt;
  const struct bpfc_obj_line *lines; size_t line_cnt;
  const struct bpfc_obj_func *funcs; size_t func_cnt;
  const struct bpfc_obj_core_relo *core_relos; size_t core_relo_cnt;
};
int bpfc_obj_add_ptr(struct bpfc_obj *obj, int type_id);
int bpfc_obj_add_enum(struct bpfc_obj *obj, const char *name, uint32_t size);
struct bpfc_obj *bpfc_obj_new(const struct bpfc_obj_opts *opts);
void bpfc_obj_free(struct bpfc_obj *obj);
const char *bpfc_obj_errmsg(const struct bpfc_obj *obj);
int bpfc_obj_add_int(struct bpfc_obj *obj, const char *name, uint32_t size, int encoding);
int bpfc_obj_add_float(struct bpfc_obj *obj, const char *name, uint32_t size);
int bpfc_obj_add_array(struct bpfc_obj *obj, int elem_type_id, uint32_t nelems);
int bpfc_obj_add_struct(struct bpfc_obj *obj, const char *name, uint32_t size, int is_union);
int bpfc_obj_add_field(struct bpfc_obj *obj, const char *name, int type_id,
                       uint32_t bit_offset, uint32_t bit_size);
int bpfc_obj_add_map(struct bpfc_obj *obj, const struct bpfc_obj_map *map);
int bpfc_obj_add_prog(struct bpfc_obj *obj, const struct bpfc_obj_prog *prog);
int bpfc_obj_finish(struct bpfc_obj *obj, const void **data, size_t *size);
]]

local M = {}

local INT_SIGNED, INT_BOOL = 1, 4
local CALL_INSN = 0x85

-- libbpf's section names (libbpf 1.1 section_defs) by program type; the
-- types that take a target get "/<target>" when one is given.  uprobe,
-- uretprobe and kretprobe name kprobe programs by how they attach.
local sections = {
  socket_filter = 'socket', kprobe = 'kprobe', sched_cls = 'tc', sched_act = 'action',
  tracepoint = 'tracepoint', xdp = 'xdp', perf_event = 'perf_event',
  cgroup_skb = 'cgroup/skb', cgroup_sock = 'cgroup/sock', lwt_in = 'lwt_in',
  lwt_out = 'lwt_out', lwt_xmit = 'lwt_xmit', sock_ops = 'sockops', sk_skb = 'sk_skb',
  cgroup_device = 'cgroup/dev', sk_msg = 'sk_msg', raw_tracepoint = 'raw_tracepoint',
  cgroup_sock_addr = 'cgroup/bind4', lwt_seg6local = 'lwt_seg6local',
  lirc_mode2 = 'lirc_mode2', sk_reuseport = 'sk_reuseport',
  flow_dissector = 'flow_dissector', cgroup_sysctl = 'cgroup/sysctl',
  raw_tracepoint_writable = 'raw_tracepoint.w', cgroup_sockopt = 'cgroup/getsockopt',
  sk_lookup = 'sk_lookup', syscall = 'syscall',
  uprobe = 'uprobe', uretprobe = 'uretprobe', kretprobe = 'kretprobe',
}
local targeted = { kprobe = true, kretprobe = true, uprobe = true, uretprobe = true,
  tracepoint = true, raw_tracepoint = true, raw_tracepoint_writable = true }
-- Sections from which libbpf takes the program type, the expected attach
-- type and the BTF id of the target (vmlinux's function, raw tracepoint or
-- LSM hook): a program in one is loaded as its section says.
local function btf_section(section)
  return section and (section:match('^fentry/') or section:match('^fexit/') or section:match('^tp_btf/')
    or section:match('^lsm/')) and true or false
end
M.btf_section = btf_section
local alias_types = { uprobe = 'kprobe', uretprobe = 'kprobe', kretprobe = 'kprobe' }

function M.section(prog_type, target)
  if type(prog_type) == 'number' then prog_type = libbpf.prog_type_name[prog_type] end
  prog_type = prog_type or 'socket_filter'
  local sec = sections[prog_type]
  if not sec then
    return nil, ('bpf.object: no section name for program type %q'):format(tostring(prog_type))
  end
  if target and targeted[prog_type] then sec = sec .. '/' .. target end
  return sec
end

-- Map types the kernel creates without BTF key/value types.
local sized_only = {}
for name in ([[perf_event_array cgroup_array stack_trace array_of_maps hash_of_maps devmap
    devmap_hash cpumap xskmap sockmap sockhash queue stack prog_array reuseport_sockarray
    ringbuf user_ringbuf]]):gmatch('%S+') do sized_only[name] = true end

-- Member names of struct and union ctypes, by ctype id.
local member_names = {}

function M.members(ct, names)
  ct = ffi.typeof(ct)
  for _, name in ipairs(names) do
    if not ctype.field(ct, name) then
      error(('bpf.object.members: %s has no member %q'):format(tostring(ct), tostring(name)), 2)
    end
  end
  member_names[tonumber(ct)] = names
  return ct
end

local function ctype_name(ct)
  return (tostring(ct):match('^ctype<(.*)>$'))
end

-- A C identifier made of name; '' gives fallback.
local function identifier(name, fallback)
  name = tostring(name or ''):gsub('[^%w_]', '_')
  if name == '' then name = fallback end
  if name:match('^%d') then name = '_' .. name end
  return name
end

-- The writer: the C object and what keeps its inputs alive.
local function check(w, ret)
  if ret < 0 then error({ bpf_object = ffi.string(core.bpfc_obj_errmsg(w.obj)) }, 0) end
  return ret
end

local int_names = { [1] = 'u8', [2] = 'u16', [4] = 'u32', [8] = 'u64', [16] = 'u128' }

local function int_type(w, size, signed, encoding)
  signed = signed and true or false
  local key = ('int %d %s %d'):format(size, tostring(signed), encoding or 0)
  if not w.types[key] then
    local name = (signed and '__s' or '__u') .. (int_names[size] or ('8[' .. size .. ']')):sub(2)
    if encoding == INT_BOOL then name = '_Bool' end
    w.types[key] = check(w, core.bpfc_obj_add_int(w.obj, name, size,
      (signed and INT_SIGNED or 0) + (encoding or 0)))
  end
  return w.types[key]
end

local function float_type(w, size)
  local key = 'float ' .. size
  if not w.types[key] then
    w.types[key] = check(w, core.bpfc_obj_add_float(w.obj, size == 4 and 'float' or 'double', size))
  end
  return w.types[key]
end

local function bytes_type(w, size)
  local key = 'bytes ' .. size
  if not w.types[key] then
    w.types[key] = check(w, core.bpfc_obj_add_array(w.obj, int_type(w, 1, false), size))
  end
  return w.types[key]
end

local describe

-- Whether member `name` of ct holds fractions (ctype.field reads a double
-- member as an integer).
local function float_member(ct, name)
  local probe = ffi.new(ct)
  local ok = pcall(function() probe[name] = 0.5 end)
  return ok and probe[name] == 0.5
end

-- A struct or union with named members: member types first, then the
-- struct, then its fields (the order libbpf's writer needs).
local function struct_type(w, ct, names, tag)
  local fields = {}
  for i, name in ipairs(names) do
    local f = ctype.field(ct, name)
    local id
    if f.aggregate then id = describe(w, f.ctype)
    elseif f.pointer then id = int_type(w, f.size, false)
    elseif f.float or (not f.bsize and float_member(ct, name)) then id = float_type(w, f.size)
    else id = int_type(w, f.size, f.signed) end
    fields[i] = { name = name, id = id, bit_offset = f.offset * 8 + (f.bpos or 0), bit_size = f.bsize or 0 }
  end
  local kind, name = tag:match('^(%a+)%s+([%a_][%w_]*)$')
  if not kind then kind = tag:match('^(%a+)') end
  local id = check(w, core.bpfc_obj_add_struct(w.obj, name, ffi.sizeof(ct), kind == 'union' and 1 or 0))
  for _, f in ipairs(fields) do
    check(w, core.bpfc_obj_add_field(w.obj, f.name, f.id, f.bit_offset, f.bit_size))
  end
  return id
end

-- The BTF type id of a ctype.
function describe(w, ct)
  ct = ffi.typeof(ct)
  local key = tonumber(ct)
  if w.types[key] then return w.types[key] end
  local name, size = ctype_name(ct), ffi.sizeof(ct)
  local id
  if name == 'bool' or name == '_Bool' then
    id = int_type(w, size, false, INT_BOOL)
  elseif name == 'float' or name == 'double' then
    id = float_type(w, size)
  elseif name:find('%*$') or name:find('%(%*%)') then
    id = int_type(w, size, false)
  elseif name:find('%]$') then
    local elem, esize = ctype.elem(ct)
    if not elem or esize == 0 then id = bytes_type(w, size)
    else id = check(w, core.bpfc_obj_add_array(w.obj, describe(w, elem), size / esize)) end
  elseif name:match('^struct') or name:match('^union') then
    local names = member_names[key]
    if names then id = struct_type(w, ct, names, name)
    else id = bytes_type(w, size) end
  else
    local isize, signed = ctype.scalar(ct)
    if isize then id = int_type(w, isize, signed) else id = bytes_type(w, size) end
  end
  w.types[key] = id
  return id
end

-- The lpm_trie key the kernel wants: a struct that starts with prefixlen.
local function lpm_key_type(w, ct)
  local key = tonumber(ffi.typeof(ct))
  if member_names[key] then return describe(w, ct) end
  local size = ffi.sizeof(ct)
  local u32, data = int_type(w, 4, false), bytes_type(w, size - 4)
  local id = check(w, core.bpfc_obj_add_struct(w.obj, nil, size, 0))
  check(w, core.bpfc_obj_add_field(w.obj, 'prefixlen', u32, 0, 0))
  check(w, core.bpfc_obj_add_field(w.obj, 'data', data, 32, 0))
  return id
end

local function add_map(w, map, name)
  local def = ffi.new('struct bpfc_obj_map')
  def.sz = ffi.sizeof(def)
  def.name = name
  w.keep[#w.keep + 1] = name
  local type_id = libbpf.map_type[map.map_type]
  if not type_id then
    local msg = ('bpf.object: map "%s" has an unknown type %q'):format(name, tostring(map.map_type))
    error({ bpf_object = msg }, 0)
  end
  def.type = type_id
  def.max_entries = map.max_entries or 0
  def.key_size, def.value_size = map.key_size or 0, map.val_size or 0
  if not sized_only[map.map_type] then
    if map.key_type and def.key_size > 0 then
      def.key_type_id = map.map_type == 'lpm_trie' and lpm_key_type(w, map.key_type)
        or describe(w, map.key_type)
    end
    if map.val_type and def.value_size > 0 then def.value_type_id = describe(w, map.val_type) end
  end
  def.map_flags = map.flags or 0
  return check(w, core.bpfc_obj_add_map(w.obj, def))
end

-- The object's maps: each map object the programs name once, under a
-- unique C identifier (names[map] first, else the map's own name).
local function collect_maps(progs, taken, names)
  local list, index = {}, {}
  for _, prog in ipairs(progs) do
    for _, use in ipairs(prog.maps or {}) do
      local map = use.map
      if not index[map] then
        local base = identifier(names and names[map] or map.name, 'map')
        local name, n = base, 1
        while taken[name] do n = n + 1; name = base .. '_' .. n end
        taken[name] = true
        list[#list + 1] = { map = map, name = name }
        index[map] = #list - 1
      end
    end
  end
  return list, index
end

local function prog_lines(prog, opts)
  if opts.lines then return opts.lines end
  if type(prog.lines) == 'function' then return prog:lines() end
  return prog.lines
end

local MAX_ARGS = 5 -- r1..r5

-- The subprograms as bpfc_obj_func records (funcs[1] is the program itself),
-- or nil and 0.
local function subprograms(w, prog)
  local funcs = prog.funcs
  if type(funcs) ~= 'table' or #funcs < 2 then return nil, 0 end
  local records = ffi.new('struct bpfc_obj_func[?]', #funcs - 1)
  for i = 2, #funcs do
    local f, r = funcs[i], records[i - 2]
    local name = identifier(f.name, 'func' .. (i - 1))
    w.keep[#w.keep + 1] = name
    r.insn, r.name = f.insn, name
    if type(f.fn) == 'function' then
      local info = require('jit.util').funcinfo(f.fn)
      local n = math.min(info and info.params or 0, MAX_ARGS)
      local names = ffi.new('const char *[?]', math.max(n, 1))
      w.keep[#w.keep + 1] = names
      for a = 1, n do
        local pname = debug.getlocal(f.fn, a)
        if type(pname) == 'string' and pname:match('^[%a_][%w_]*$') then
          w.keep[#w.keep + 1] = pname
          names[a - 1] = pname
        end
      end
      r.arg_cnt, r.arg_names = n, names
    end
  end
  return records, #funcs - 1
end

-- ---- CO-RE: the kernel types a program reads, as this object's own ----
--
-- Each access to a kernel type's field (prog.core: { insn =, spec =, kind = },
-- spec a bpf.btf.core_spec: the struct's BTF id in vmlinux and the member
-- path '0:i:j' through anonymous members) becomes a bpf_core_relo against a
-- local copy of the struct that holds just the members the program reads,
-- each at its offset on the compiling kernel and of a compatible type
-- (integers by size and sign, pointers as void *, arrays, enums, embedded
-- structs by name and size): libbpf finds the same members by name in the
-- kernel it loads the object on and rewrites the offsets.
local function core_relos(w, prog)
  local list = prog.core
  if type(list) ~= 'table' or #list == 0 then return nil, 0 end
  local btf = require('bpf.btf')
  local view = btf.view()
  -- the member paths wanted of each root struct, as a tree of kernel member indices
  local roots, order = {}, {}
  for _, r in ipairs(list) do
    local spec = btf.core_spec(r.spec)
    local root = roots[spec.type]
    if not root then
      root = { id = spec.type, kids = {} }
      roots[spec.type] = root
      order[#order + 1] = root
    end
    local node = root
    for idx in spec.access:gsub('^0:?', ''):gmatch('%d+') do
      local i = tonumber(idx)
      node.kids[i] = node.kids[i] or { kids = {} }
      node = node.kids[i]
    end
  end
  local leaf_types = {}
  local function leaf(id)
    id = view.skip(id)
    if leaf_types[id] then return leaf_types[id] end
    local t = view.info(id)
    local r
    if id == 0 then r = 0
    elseif t.kind == view.kind.INT then r = int_type(w, t.size, t.signed)
    elseif t.kind == view.kind.PTR then r = check(w, core.bpfc_obj_add_ptr(w.obj, 0))
    elseif t.kind == view.kind.ARRAY then
      r = check(w, core.bpfc_obj_add_array(w.obj, leaf(t.elem), t.nelems))
    elseif t.kind == view.kind.ENUM then r = check(w, core.bpfc_obj_add_enum(w.obj, t.name, t.size))
    elseif t.kind == view.kind.STRUCT or t.kind == view.kind.UNION then
      r = check(w, core.bpfc_obj_add_struct(w.obj, t.name, t.size, t.kind == view.kind.UNION and 1 or 0))
    else
      local msg = ('bpf.object: a kernel field of BTF kind %d cannot be relocated'):format(t.kind)
      error({ bpf_object = msg }, 0)
    end
    leaf_types[id] = r
    return r
  end
  -- a local struct for node (kernel struct id): its wanted members, in the kernel's order;
  -- node.local_index[i]: where kernel member i sits in it
  local function build(id, node)
    local t = view.info(id)
    local members = view.members(id)
    local idxs = {}
    for i in pairs(node.kids) do idxs[#idxs + 1] = i end
    table.sort(idxs)
    local fields = {}
    node.local_index = {}
    for pos, i in ipairs(idxs) do
      local m = members[i + 1]
      local kid = node.kids[i]
      local tid
      if next(kid.kids) then tid = build(view.skip(m.type), kid) else tid = leaf(m.type) end
      fields[pos] = { name = m.name, id = tid, bit = m.bit, bsize = m.bsize }
      node.local_index[i] = pos - 1
    end
    local union = t.kind == view.kind.UNION and 1 or 0
    local sid = check(w, core.bpfc_obj_add_struct(w.obj, t.name, t.size, union))
    for _, f in ipairs(fields) do
      check(w, core.bpfc_obj_add_field(w.obj, f.name, f.id, f.bit, f.bsize))
    end
    return sid
  end
  for _, root in ipairs(order) do root.type_id = build(root.id, root) end
  local records = ffi.new('struct bpfc_obj_core_relo[?]', #list)
  for k, r in ipairs(list) do
    local spec = btf.core_spec(r.spec)
    local root = roots[spec.type]
    local node, path = root, { '0' }
    for idx in spec.access:gsub('^0:?', ''):gmatch('%d+') do
      local i = tonumber(idx)
      path[#path + 1] = tostring(node.local_index[i])
      node = node.kids[i]
    end
    local access = table.concat(path, ':')
    w.keep[#w.keep + 1] = access
    local rec = records[k - 1]
    rec.insn, rec.type_id, rec.access, rec.kind = r.insn, root.type_id, access, r.kind
  end
  w.keep[#w.keep + 1] = records
  return records, #list
end

local function default_name(prog)
  if type(prog.fn) == 'function' then
    local info = require('jit.util').funcinfo(prog.fn)
    if info and info.linedefined then return 'lua_' .. info.linedefined end
  end
  return 'lua_prog'
end

local function is_program(prog)
  return type(prog) == 'table' and type(prog.insn) == 'cdata' and type(prog.pc) == 'number'
end

-- One program's bpfc_obj_prog: its relocations against the object's maps
-- (index: map -> its number), lines and subprograms.
local function add_program(w, prog, name, section, index, opts)
  local relocs = ffi.new('struct bpfc_obj_reloc[?]', math.max(#(prog.maps or {}), 1))
  for i, use in ipairs(prog.maps or {}) do
    relocs[i - 1].insn = use.insn
    relocs[i - 1].map = index[use.map]
  end
  local lines, nlines = prog_lines(prog, opts), 0
  local records = ffi.new('struct bpfc_obj_line[?]', math.max(prog.pc, 1))
  if lines then
    for pc = 0, prog.pc - 1 do
      local l = lines[pc]
      if l then
        local r = records[nlines]
        r.insn, r.line = pc, l.line or 0
        local file, text = tostring(l.file or '?'), l.text and tostring(l.text) or ''
        w.keep[#w.keep + 1], w.keep[#w.keep + 2] = file, text
        r.file, r.text = file, text
        nlines = nlines + 1
      end
    end
  end
  local p = ffi.new('struct bpfc_obj_prog')
  p.sz = ffi.sizeof(p)
  p.name, p.section = name, section
  p.insns, p.insn_cnt = prog.insn, prog.pc
  p.relocs, p.reloc_cnt = relocs, #(prog.maps or {})
  p.lines, p.line_cnt = records, nlines
  p.funcs, p.func_cnt = subprograms(w, prog)
  p.core_relos, p.core_relo_cnt = core_relos(w, prog)
  check(w, core.bpfc_obj_add_prog(w.obj, p))
end

-- Builds one object of several programs sharing their maps: entries is
-- { { prog =, section =, type =, target =, name = }, ... } (section, else
-- from type and target; name, else from the program's function); opts:
-- license, kern_version, map_names ({ [map] = name in the object }).
-- Returns the bytes and what load needs to know ({ progs = { {name =,
-- section =}, ... }, maps = { {map =, name =}, ... } }).
local function build_all(entries, opts)
  opts = opts or {}
  local progs, taken, named = {}, { LICENSE = true, _version = true }, {}
  for i, e in ipairs(entries) do
    if not is_program(e.prog) then
      return nil, 'bpf.object: expected a compiled program (bpf(fn)) or { insn =, pc =, maps = }'
    end
    local section = e.section
    if not section then
      local err
      section, err = M.section(e.type or e.prog.type, e.target)
      if not section then return nil, err end
    end
    local name = identifier(e.name or default_name(e.prog), 'lua_prog')
    if named[name] then
      return nil, ('bpf.object: two programs are named %q (program %d and %d)'):format(name, named[name], i)
    end
    named[name], taken[name] = i, true
    progs[i] = { name = name, section = section }
  end
  local copts = ffi.new('struct bpfc_obj_opts')
  copts.sz = ffi.sizeof(copts)
  copts.license = opts.license or 'GPL'
  copts.kern_version = opts.kern_version or 0
  local raw = core.bpfc_obj_new(copts)
  if raw == nil then return libbpf.error('bpf.object: new object', -ffi.errno()) end
  -- keep: the Lua strings that C structs point into, alive until the C side copied them
  local w = { obj = ffi.gc(raw, core.bpfc_obj_free), types = {}, keep = {} }

  local list = {}
  for i, e in ipairs(entries) do list[i] = e.prog end
  local maps, index = collect_maps(list, taken, opts.map_names)
  local ok, res = pcall(function()
    for _, m in ipairs(maps) do add_map(w, m.map, m.name) end
    for i, e in ipairs(entries) do add_program(w, e.prog, progs[i].name, progs[i].section, index, e) end
    local data, size = ffi.new('const void *[1]'), ffi.new('size_t[1]')
    check(w, core.bpfc_obj_finish(w.obj, data, size))
    return ffi.string(data[0], size[0])
  end)
  if not ok then
    if type(res) == 'table' and res.bpf_object then return nil, res.bpf_object end
    error(res, 0)
  end
  return res, { progs = progs, maps = maps }
end

-- Builds the object of one program; returns the bytes and what load needs to know.
local function build(prog, opts)
  opts = opts or {}
  if not is_program(prog) then
    return nil, 'bpf.object: expected a compiled program (bpf(fn)) or { insn =, pc =, maps = }'
  end
  local bytes, info = build_all({ { prog = prog, section = opts.section, type = opts.type,
    target = opts.target, name = opts.name, lines = opts.lines } }, opts)
  if not bytes then return nil, info end
  return bytes, { name = info.progs[1].name, section = info.progs[1].section, maps = info.maps }
end

function M.build(prog, opts)
  local bytes, err = build(prog, opts)
  return bytes, (not bytes) and err or nil
end

-- A kfunc call holds the BTF id of the kernel it was compiled on: an object
-- saved with one would call whatever that id is on another kernel, so it is
-- not saved (libbpf's extern __ksym relocations are not written yet).
local function kfunc_call(prog)
  for pc = 0, (prog.pc or 0) - 1 do
    local i = prog.insn[pc]
    if i.code == CALL_INSN and i.src_reg == 2 then return pc end -- BPF_PSEUDO_KFUNC_CALL
  end
end
local write_file

function M.save(prog, path, opts)
  local at = type(prog) == 'table' and type(prog.insn) == 'cdata' and kfunc_call(prog)
  if at then
    return nil, ('bpf.object: instruction %d calls a kfunc by this kernel\'s BTF id, which another kernel '
      .. 'does not share: a program with kfunc calls is loaded (prog:load), not saved'):format(at)
  end
  local bytes, err = build(prog, opts)
  if not bytes then return nil, err end
  return write_file(path, bytes)
end

-- Several programs in one object (see build_all): the bytes, or nil, err.
function M.build_all(entries, opts)
  local bytes, err = build_all(entries, opts)
  return bytes, (not bytes) and err or nil
end

function write_file(path, bytes)
  local f, ferr = io.open(path, 'wb')
  if not f then return nil, 'bpf.object: ' .. tostring(ferr) end
  local wok, werr = f:write(bytes)
  f:close()
  if not wok then return nil, ('bpf.object: writing %s: %s'):format(path, tostring(werr)) end
  return true
end

function M.save_all(entries, path, opts)
  local bytes, err = build_all(entries, opts)
  if not bytes then return nil, err end
  return write_file(path, bytes)
end

-- ---- loading through libbpf ----

local handle_mt = { __index = {} }

-- The libbpf object sits in a box whose finalizer empties it, so a close()
-- that comes after the finalizer (from another finalizer) finds nothing to free.
ffi.cdef 'struct bpfc_objbox { struct bpf_object *obj; };'
local function box_close(box)
  if box.obj ~= nil then
    local obj = box.obj
    box.obj = nil
    lib.bpf_object__close(obj)
  end
end
local function box(obj)
  local b = ffi.new('struct bpfc_objbox')
  b.obj = obj
  return ffi.gc(b, box_close)
end

-- The libbpf object (struct bpf_object *), or nil once closed.
function handle_mt.__index.object(h)
  return h._box and h._box.obj ~= nil and h._box.obj or nil
end

function handle_mt.__index.close(h)
  if h._box then
    box_close(h._box)
    h._box = nil
  end
  h.fd, h.btf_fd = -1, -1
  return true
end

-- Pins the loaded program at path (bpf.open_pinned finds it again).
function handle_mt.__index.pin(h, path)
  return require('bpf.pin').pin_fd(h.fd, path, ('bpf program "%s"'):format(h.name))
end

function handle_mt.__tostring(h)
  return ('bpf program "%s" (%s, libbpf object) fd %d'):format(h.name, h.type, h.fd)
end

local function enum_value(names, value, what)
  if value == nil then return nil end
  if type(value) == 'number' then return value end
  local v = names[value]
  if not v then return nil, ('bpf.object: unknown %s %q'):format(what, tostring(value)) end
  return v
end

local first_log_size, max_log_size = 64 * 1024, 0x3fffffff

-- One open and load; returns the object, or nil, err, -errno, log.
local function open_and_load(bytes, info, type_id, attach_id, opts, log_size)
  local log = ffi.new('char[?]', log_size)
  local oo = ffi.new('struct bpf_object_open_opts')
  oo.sz = ffi.sizeof(oo)
  oo.object_name = info.name
  oo.kernel_log_buf = log
  oo.kernel_log_size = log_size
  oo.kernel_log_level = opts.log_level or 0
  local obj = lib.bpf_object__open_mem(bytes, #bytes, oo)
  if obj == nil then
    local e = ffi.errno()
    return nil, libbpf.message('bpf.object: libbpf cannot open the object', -e), -e
  end
  obj = ffi.gc(obj, lib.bpf_object__close)
  local function give_up(what, ret)
    lib.bpf_object__close(ffi.gc(obj, nil))
    return nil, libbpf.message('bpf.object: ' .. what, ret), ret
  end
  for _, m in ipairs(info.maps) do
    local lmap = lib.bpf_object__find_map_by_name(obj, m.name)
    if lmap == nil then return give_up(('map "%s" is not in the object'):format(m.name), -errno.ENOENT) end
    if (m.map.fd or -1) < 0 then return give_up(('map "%s" is closed'):format(m.name), -errno.EBADF) end
    local ret = lib.bpf_map__reuse_fd(lmap, m.map.fd)
    if ret ~= 0 then return give_up(('map "%s": reuse fd %d'):format(m.name, m.map.fd), ret) end
  end
  local lprog = lib.bpf_object__find_program_by_name(obj, info.name)
  if lprog == nil then
    return give_up(('program "%s" is not in the object'):format(info.name), -errno.ENOENT)
  end
  if btf_section(info.section) then type_id, attach_id = nil, nil end -- the section says
  if type_id then
    local ret = lib.bpf_program__set_type(lprog, type_id)
    if ret ~= 0 then return give_up('set program type', ret) end
  end
  if attach_id then
    local ret = lib.bpf_program__set_expected_attach_type(lprog, attach_id)
    if ret ~= 0 then return give_up('set expected attach type', ret) end
  end
  local ret = lib.bpf_object__load(obj)
  if ret ~= 0 then
    local text = ffi.string(log)
    lib.bpf_object__close(ffi.gc(obj, nil))
    -- ENOSPC: the log did not fit (the kernel keeps its end and refuses the
    -- program, however right it is); a bigger buffer is tried then
    return nil, nil, ret, text, #text >= log_size - 1 or ret == -errno.ENOSPC
  end
  return obj, lprog, 0, ffi.string(log)
end

local CALL, PSEUDO_CALL, LDDW, PSEUDO_FUNC = 0x85, 1, 0x18, 4

-- The lines and instructions of prog in the order libbpf loads them, for
-- reading the verifier's instruction numbers: the program, then each
-- subprogram where the first call to it or load of its address (a
-- bpf_loop callback) is met, walked at once (bpf_object__reloc_code);
-- subprograms never referenced come last.  Without subprograms, lines and
-- prog.insn as they are.
local function loaded_order(prog, lines)
  local funcs = prog.funcs
  if type(funcs) ~= 'table' or #funcs < 2 then return lines, prog.insn end
  local by_start = {}
  for i, f in ipairs(funcs) do by_start[f.insn] = i end
  local function stop(i) return funcs[i + 1] and funcs[i + 1].insn or prog.pc end
  local order, placed = { 1 }, { true }
  local function walk(i)
    for pc = funcs[i].insn, stop(i) - 1 do
      local ins = prog.insn[pc]
      -- a lddw's second half has code 0: never taken for a call or a lddw
      local k = (ins.code == CALL and ins.src_reg == PSEUDO_CALL or
        ins.code == LDDW and ins.src_reg == PSEUDO_FUNC) and by_start[pc + 1 + ins.imm]
      if k and not placed[k] then
        placed[k] = true
        order[#order + 1] = k
        walk(k)
      end
    end
  end
  walk(1)
  for i = 2, #funcs do
    if not placed[i] then order[#order + 1] = i end
  end
  local out_lines, out_insns, at = {}, ffi.new('struct bpf_insn[?]', prog.pc), 0
  for _, i in ipairs(order) do
    for pc = funcs[i].insn, stop(i) - 1 do
      out_lines[at] = lines and lines[pc]
      out_insns[at] = prog.insn[pc]
      at = at + 1
    end
  end
  return lines and out_lines, out_insns
end

-- Loads prog through libbpf: the object built with build(), its maps
-- reusing the fds of the map objects the program names.
function M.load(prog, prog_type, opts)
  opts = opts or {}
  prog_type = prog_type or opts.type or prog.type or 'socket_filter'
  local type_id, err = enum_value(libbpf.prog_type, alias_types[prog_type] or prog_type, 'program type')
  if not type_id then return nil, err end
  local type_name = libbpf.prog_type_name[type_id] or tostring(prog_type)
  local attach_id
  attach_id, err = enum_value(libbpf.attach_type, opts.expected_attach_type, 'attach type')
  if err then return nil, err end
  local bopts = {}
  for k, v in pairs(opts) do bopts[k] = v end
  bopts.type = alias_types[prog_type] and prog_type or type_name
  local bytes, info = build(prog, bopts)
  if not bytes then return nil, info end

  local old_print = (not opts.verbose) and lib.libbpf_set_print(nil)
  local log_size = first_log_size
  local obj, lprog, ret, log, truncated
  while true do
    obj, lprog, ret, log, truncated = open_and_load(bytes, info, type_id, attach_id, opts, log_size)
    if obj or not truncated or log_size >= max_log_size or require('bpf.loader').gave_up(log) then break end
    log_size = math.min(log_size * 16, max_log_size)
  end
  if old_print then lib.libbpf_set_print(old_print) end

  if not obj then
    if lprog then return nil, lprog end -- failed before the kernel saw it
    local lines, insns = loaded_order(prog, prog_lines(prog, opts))
    return nil, require('bpf.loader').rejection(type_name, info.name, prog.pc, ret, log,
      lines, truncated, insns)
  end
  local names = {}
  for _, m in ipairs(info.maps) do names[m.map] = m.name end
  return setmetatable({
    fd = lib.bpf_program__fd(lprog), btf_fd = lib.bpf_object__btf_fd(obj),
    type = type_name, name = info.name, section = info.section, insn_count = prog.pc,
    maps = names, log = (opts.log_level or 0) > 0 and log or nil,
    _box = box(ffi.gc(obj, nil)), _bytes = bytes,
  }, handle_mt)
end

return M
