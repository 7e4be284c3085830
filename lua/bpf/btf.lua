-- Kernel types from the running kernel's BTF (/sys/kernel/btf/vmlinux),
-- read through libbpf's btf__* accessors, for LuaJIT's FFI and for the
-- compiler.
--
--   local btf = require('bpf.btf')
--   ct = btf.ctype('struct task_struct')   the kernel's type as a ctype (also
--        'union ...', 'task_struct' for the first struct or union of that name,
--        a typedef's name, and 'struct task_struct *': a pointer to it)
--   btf.cname(ct) -> 'struct task_struct' (the kernel's name), or nil for a
--        ctype that is not a kernel type
--   btf.field(ct, name)  what the compiler asks of a member (ctype.field's
--        answer, from BTF: see below), or nil
--   btf.func_args(kind, name)  the context of a tracing program: a ctype with
--        one 8-byte slot per argument, by name ('tp_btf', 'fentry', 'fexit', 'lsm')
--   btf.kfunc(name)  a kernel function a program may call: { id =, nargs =, args =,
--        ret = 'void' | 'int' | 'ptr', ret_size =, ret_signed =, ret_ctype = }
--   btf.core_spec(n)  the CO-RE access of relocation spec n (see below)
--   btf.vmlinux()     the struct btf * of vmlinux (kept), or nil, err
--
-- Names.  LuaJIT has one C namespace, so the declarations are made under
-- names no user writes: `struct task_struct` of the kernel is declared as
-- `struct task_struct___kernel` (libbpf's "flavor" spelling, which CO-RE
-- matches to task_struct again), and a user's own struct task_struct stays
-- theirs.  Typedefs are not declared: a member's type is what its typedef
-- names (a typedef of an anonymous struct becomes `struct NAME___kernel`);
-- enums are integers of their size; function pointers are `void *`;
-- flexible arrays `T x[0]`; 128-bit integers `uint8_t [16]`.  Every
-- struct and union is declared packed with explicit padding, so that each
-- member sits at the offset BTF gives whatever its alignment, and once
-- declared each member's ffi.offsetof is checked against BTF (a mismatch is
-- an error naming the member, never a wrong layout).  Types are declared on
-- first use, each once, with the types they hold by value; a type a pointer
-- leads to is declared when the pointer is first followed.
--
-- The compiler's member answers come from BTF too: { offset =, size =,
-- bpos =, bsize = (bitfields: the 1, 2, 4 or 8 bytes holding the bits, from
-- offset), pointer =, signed =, aggregate =, ctype =, kernel = true,
-- btf_pointer = true when the member points to a struct or union (the
-- verifier's PTR_TO_BTF_ID when loaded directly), core = n (the CO-RE spec
-- of this access: { type = btf id of the struct, name =, access = '0:i:j',
-- bitfield = }) }.  Members of anonymous structs and unions are found
-- through them, as in C.
local ffi = require('ffi')
local bit = require('bit')

local M = {}

ffi.cdef [[
typedef struct bpf_btf_handle bpf_btf_handle;
typedef struct { uint32_t name_off, info, size_type; } bpf_btf_type_t;
typedef struct { uint32_t name_off, type, offset; } bpf_btf_member_t;
typedef struct { uint32_t name_off, type; } bpf_btf_param_t;
typedef struct { uint32_t type, index_type, nelems; } bpf_btf_array_t;
typedef struct { uint32_t name_off; int32_t val; } bpf_btf_enum_t;
bpf_btf_handle *bpf_btf_load_vmlinux(void) __asm__("btf__load_vmlinux_btf");
uint32_t bpf_btf_type_cnt(const bpf_btf_handle *btf) __asm__("btf__type_cnt");
const bpf_btf_type_t *bpf_btf_type_by_id(const bpf_btf_handle *btf, uint32_t id) __asm__("btf__type_by_id");
const char *bpf_btf_name_by_offset(const bpf_btf_handle *btf, uint32_t off) __asm__("btf__name_by_offset");
int bpf_btf_find_by_name_kind(const bpf_btf_handle *btf, const char *name, uint32_t kind)
  __asm__("btf__find_by_name_kind");
]]
local C = require('bpf.libbpf').lib

local K = { INT = 1, PTR = 2, ARRAY = 3, STRUCT = 4, UNION = 5, ENUM = 6, FWD = 7, TYPEDEF = 8,
  VOLATILE = 9, CONST = 10, RESTRICT = 11, FUNC = 12, FUNC_PROTO = 13, VAR = 14, DATASEC = 15,
  FLOAT = 16, DECL_TAG = 17, TYPE_TAG = 18, ENUM64 = 19 }
M.kind = K
local SUFFIX = '___kernel'
M.suffix = SUFFIX

local vmlinux, vmlinux_err
function M.vmlinux()
  if vmlinux then return vmlinux end
  if vmlinux_err then return nil, vmlinux_err end
  local b = C.bpf_btf_load_vmlinux()
  if b == nil then
    vmlinux_err = 'this kernel has no BTF (/sys/kernel/btf/vmlinux): kernel types need it'
    return nil, vmlinux_err
  end
  vmlinux = b -- kept for the process: the kernel's types do not change under it
  return b
end

local function need()
  local b, err = M.vmlinux()
  if not b then error('bpf.btf: ' .. err, 0) end
  return b
end

-- ---- reading BTF ----

local function t_of(id) return C.bpf_btf_type_by_id(need(), id) end
local function kind_of(t) return bit.band(bit.rshift(t.info, 24), 0x1f) end
local function vlen_of(t) return bit.band(t.info, 0xffff) end
local function kflag_of(t) return bit.rshift(t.info, 31) == 1 end
local function name_of(t)
  if t.name_off == 0 then return nil end
  local s = ffi.string(C.bpf_btf_name_by_offset(need(), t.name_off))
  return s ~= '' and s or nil
end
local function extra(t, ctype) return ffi.cast(ctype, ffi.cast('const bpf_btf_type_t *', t) + 1) end

-- A struct's or union's members: { name =, type =, bit =, bsize = (0 none) }
local members_cache = {}
local function members(id)
  local m = members_cache[id]
  if m then return m end
  local t = t_of(id)
  m = {}
  local ms, kf = extra(t, 'const bpf_btf_member_t *'), kflag_of(t)
  for i = 0, vlen_of(t) - 1 do
    local e = ms[i]
    local off = e.offset
    local nm = e.name_off ~= 0 and ffi.string(C.bpf_btf_name_by_offset(need(), e.name_off)) or ''
    m[i + 1] = { name = nm ~= '' and nm or nil, type = e.type,
      bit = kf and bit.band(off, 0xffffff) or off, bsize = kf and bit.rshift(off, 24) or 0 }
  end
  members_cache[id] = m
  return m
end

-- Skips const, volatile, restrict, type tags and (unless keep_typedef) typedefs.
local function skip(id, keep_typedef)
  while id ~= 0 do
    local k = kind_of(t_of(id))
    if k == K.VOLATILE or k == K.CONST or k == K.RESTRICT or k == K.TYPE_TAG or
      (k == K.TYPEDEF and not keep_typedef) then
      id = t_of(id).size_type
    else
      break
    end
  end
  return id
end

-- size in bytes of type id (0 for void and functions)
local function size_of(id)
  id = skip(id)
  if id == 0 then return 0 end
  local t = t_of(id)
  local k = kind_of(t)
  if k == K.INT or k == K.STRUCT or k == K.UNION or k == K.ENUM or k == K.ENUM64 or k == K.FLOAT then
    return t.size_type
  elseif k == K.PTR then return 8
  elseif k == K.ARRAY then
    local a = extra(t, 'const bpf_btf_array_t *')
    return a.nelems * size_of(a.type)
  end
  return 0
end

-- Is an integer (or enum) signed?
local function signed_of(id)
  id = skip(id)
  local t = t_of(id)
  local k = kind_of(t)
  if k == K.INT then return bit.band(extra(t, 'const uint32_t *')[0], 0x01000000) ~= 0 end
  if k == K.ENUM then
    if kflag_of(t) then return true end
    local es = extra(t, 'const bpf_btf_enum_t *')
    for i = 0, vlen_of(t) - 1 do if es[i].val < 0 then return true end end
    return false
  end
  if k == K.ENUM64 then return kflag_of(t) end
  return false
end

-- ---- C declarations ----

local cnames = {}    -- btf id -> C tag name declared for it ('struct foo___kernel')
local taken = {}     -- C tag names given out
local defined = {}   -- btf id -> true once its definition went through ffi.cdef
local by_ctype = {}  -- ctype id -> btf id of the struct or union (kernel types)
local ctypes = {}    -- btf id -> its ctype

-- The C tag (struct/union X___kernel) of a named struct, union or forward,
-- or of an anonymous one that a typedef names.
local function tag_of(id, alias)
  if cnames[id] then return cnames[id] end
  local t = t_of(id)
  local k = kind_of(t)
  local kw = (k == K.UNION or (k == K.FWD and kflag_of(t))) and 'union' or 'struct'
  local base = (name_of(t) or alias or ('anon' .. id)) .. SUFFIX
  local name, n = base, 1
  while taken[kw .. ' ' .. name] do n = n + 1; name = base .. n end
  taken[kw .. ' ' .. name] = true
  cnames[id] = kw .. ' ' .. name
  return cnames[id]
end

local int_names = { [1] = 'int8_t', [2] = 'int16_t', [4] = 'int32_t', [8] = 'int64_t' }
local function int_c(size, signed)
  local n = int_names[size]
  if not n then return nil end
  return signed and n or 'u' .. n
end

local function decl_array(elem, inner, n) return elem .. ' ' .. inner .. '[' .. n .. ']' end

-- A declarator: how type id declares `inner` (a name or '' for an abstract
-- type), calling dep(id) for each struct or union it holds by value.
local decl
local function base_decl(id, inner, dep)
  local sp = inner == '' and '' or ' '
  if id == 0 then return 'void' .. sp .. inner end
  local t = t_of(id)
  local k = kind_of(t)
  if k == K.VOLATILE or k == K.CONST or k == K.RESTRICT or k == K.TYPE_TAG then
    return decl(t.size_type, inner, dep)
  elseif k == K.TYPEDEF then
    local target = skip(t.size_type, true)
    local tt = target ~= 0 and t_of(target)
    if tt and (kind_of(tt) == K.STRUCT or kind_of(tt) == K.UNION) and not name_of(tt) then
      tag_of(target, name_of(t)) -- the anonymous struct a typedef names is named after it
    end
    return decl(t.size_type, inner, dep)
  elseif k == K.INT then
    local enc = extra(t, 'const uint32_t *')[0]
    local size = t.size_type
    if bit.band(enc, 0x04000000) ~= 0 and size == 1 then return 'bool' .. sp .. inner end
    if bit.band(enc, 0x02000000) ~= 0 and size == 1 then return 'char' .. sp .. inner end
    local c = int_c(size, signed_of(id))
    if c then return c .. sp .. inner end
    return decl_array('uint8_t', inner, size)
  elseif k == K.ENUM or k == K.ENUM64 then
    return (int_c(t.size_type, signed_of(id)) or 'uint32_t') .. sp .. inner
  elseif k == K.FLOAT then
    return (t.size_type == 4 and 'float' or 'double') .. sp .. inner
  elseif k == K.PTR then
    local target = skip(t.size_type)
    if target ~= 0 and kind_of(t_of(target)) == K.FUNC_PROTO then return 'void *' .. inner end
    local p = '*' .. inner
    if target ~= 0 and kind_of(t_of(target)) == K.ARRAY then p = '(' .. p .. ')' end
    return decl(t.size_type, p, nil) -- what a pointer points to need not be complete
  elseif k == K.ARRAY then
    local a = extra(t, 'const bpf_btf_array_t *')
    return decl(a.type, inner .. '[' .. tonumber(a.nelems) .. ']', dep)
  elseif k == K.STRUCT or k == K.UNION or k == K.FWD then
    if dep then dep(id) end
    return tag_of(id) .. sp .. inner
  elseif k == K.FUNC_PROTO then
    return 'void *' .. inner -- (only behind a pointer, handled above)
  end
  error(('bpf.btf: BTF type %d of kind %d cannot be declared'):format(id, k), 0)
end
decl = base_decl

-- The body of struct or union id: its members, each at its BTF offset
-- (explicit padding between them), anonymous members inline.
local body
local function pad(out, n, npad)
  if n > 0 then
    npad[1] = npad[1] + 1
    out[#out + 1] = ('uint8_t __pad%d[%d];'):format(npad[1], n)
  end
end
function body(id, out, dep, npad)
  local t = t_of(id)
  local union = kind_of(t) == K.UNION
  local at = 0 -- bits laid out so far (struct)
  for _, m in ipairs(members(id)) do
    local mt = skip(m.type)
    local mk = mt ~= 0 and kind_of(t_of(mt))
    local byte = math.floor(m.bit / 8)
    if not union then
      if m.bsize > 0 then
        if m.bit > at then
          -- padding bits before a bitfield: whole bytes, then an unnamed bitfield
          local from = at
          if from % 8 ~= 0 then
            local fill = math.min(8 - from % 8, m.bit - from)
            out[#out + 1] = ('uint8_t :%d;'):format(fill)
            from = from + fill
          end
          pad(out, math.floor((m.bit - from) / 8), npad)
          from = from + math.floor((m.bit - from) / 8) * 8
          if m.bit > from then out[#out + 1] = ('uint8_t :%d;'):format(m.bit - from) end
        end
      else
        if at % 8 ~= 0 then at = at + (8 - at % 8) end
        pad(out, byte - at / 8, npad)
      end
    end
    local size = size_of(m.type)
    if union and m.bit ~= 0 then
      error(('bpf.btf: union %s has a member at bit %d'):format(name_of(t) or id, m.bit), 0)
    end
    if m.bsize > 0 then
      local c = int_c(size, signed_of(m.type)) or 'uint64_t'
      out[#out + 1] = ('%s %s:%d;'):format(c, m.name or '', m.bsize)
      at = m.bit + m.bsize
    elseif (mk == K.STRUCT or mk == K.UNION) and not m.name then
      out[#out + 1] = (mk == K.UNION and 'union' or 'struct') .. ' __attribute__((packed)) {'
      body(mt, out, dep, npad)
      out[#out + 1] = '};'
      at = m.bit + size * 8
    else
      local nm = m.name or ('__anon' .. (#out + 1))
      if mk == K.ARRAY and size == 0 then
        -- a flexible array: zero elements, so that the struct keeps its size
        local a = extra(t_of(mt), 'const bpf_btf_array_t *')
        out[#out + 1] = decl(a.type, nm .. '[0]', dep) .. ';'
      else
        out[#out + 1] = decl(m.type, nm, dep) .. ';'
      end
      at = m.bit + size * 8
    end
  end
  if not union then
    if at % 8 ~= 0 then at = at + (8 - at % 8) end
    pad(out, t.size_type - at / 8, npad)
  elseif #members(id) == 0 or t.size_type > 0 then
    -- a union as big as BTF says, even when no member is
    npad[1] = npad[1] + 1
    out[#out + 1] = ('uint8_t __pad%d[%d];'):format(npad[1], t.size_type)
  end
end

-- Checks that LuaJIT lays struct id out as BTF does (each named member,
-- through anonymous ones), else raises naming the member.
local function check_layout(id, ct, base_bits, prefix)
  for _, m in ipairs(members(id)) do
    local mt = skip(m.type)
    local mk = mt ~= 0 and kind_of(t_of(mt))
    if not m.name and (mk == K.STRUCT or mk == K.UNION) then
      check_layout(mt, ct, base_bits + m.bit, false)
    elseif m.name then
      local off, bpos, bsize = ffi.offsetof(ct, m.name)
      local want = base_bits + m.bit
      local got = off and (off * 8 + (bpos or 0))
      if got ~= want or (m.bsize > 0 and bsize ~= m.bsize) then
        error(('bpf.btf: LuaJIT lays out %s.%s at bit %s, the kernel at bit %d'):format(tostring(ct), m.name,
          tostring(got), want), 0)
      end
    end
  end
  if base_bits == 0 and prefix and ffi.sizeof(ct) ~= t_of(id).size_type then
    error(('bpf.btf: LuaJIT makes %s %s bytes, the kernel %d'):format(prefix, tostring(ffi.sizeof(ct)),
      t_of(id).size_type), 0)
  end
end

-- Declares struct or union id (and what it holds by value) with ffi.cdef.
local function define(id)
  if defined[id] then return end
  local t = t_of(id)
  local k = kind_of(t)
  if k == K.FWD then
    -- a forward in vmlinux: the full type may be there under the same name
    local full = C.bpf_btf_find_by_name_kind(need(), name_of(t), kflag_of(t) and K.UNION or K.STRUCT)
    if full <= 0 then
      error(('bpf.btf: the kernel declares %s but never defines it'):format(tag_of(id)), 0)
    end
    cnames[id] = nil
    defined[id] = true
    return define(full)
  end
  defined[id] = 'defining'
  local deps = {}
  local out, npad = {}, { 0 }
  body(id, out, function(d) deps[#deps + 1] = d end, npad)
  for _, d in ipairs(deps) do
    if defined[d] == 'defining' then
      error(('bpf.btf: %s holds itself by value'):format(tag_of(d)), 0)
    end
    define(skip(d))
  end
  local tag = tag_of(id)
  local kw, nm = tag:match('^(%a+) (.*)$')
  ffi.cdef(('%s __attribute__((packed)) %s {\n%s\n};'):format(kw, nm, table.concat(out, '\n')))
  local ct = ffi.typeof(tag)
  check_layout(id, ct, 0, tag)
  defined[id] = true
  ctypes[id] = ct
  by_ctype[tonumber(ct)] = id
end

-- The ctype of struct or union id, declared.
local function struct_ctype(id)
  id = skip(id)
  local t = t_of(id)
  if kind_of(t) == K.FWD then
    local full = C.bpf_btf_find_by_name_kind(need(), name_of(t), kflag_of(t) and K.UNION or K.STRUCT)
    if full <= 0 then return nil end
    id = full
  end
  define(id)
  return ctypes[id], id
end

-- The ctype of any type id (declaring the structs it needs).
local abstract = {}
local function ctype_of(id)
  local sid = skip(id)
  if sid ~= 0 then
    local k = kind_of(t_of(sid))
    if k == K.STRUCT or k == K.UNION or k == K.FWD then return (struct_ctype(sid)) end
  end
  local s = abstract[id]
  if not s then
    s = decl(id, '', function(d) define(skip(d)) end)
    abstract[id] = s
  end
  return ffi.typeof(s)
end

-- The id of a struct, union or typedef named `name`.
local function find(name)
  local b = need()
  local kw, nm = name:match('^%s*(%a+)%s+([%w_]+)%s*$')
  if kw == 'struct' or kw == 'union' then
    local id = C.bpf_btf_find_by_name_kind(b, nm, kw == 'struct' and K.STRUCT or K.UNION)
    return id > 0 and id or nil
  end
  nm = name:match('^%s*([%w_]+)%s*$')
  if not nm then return nil end
  for _, k in ipairs({ K.STRUCT, K.UNION, K.TYPEDEF, K.ENUM }) do
    local id = C.bpf_btf_find_by_name_kind(b, nm, k)
    if id > 0 then return id end
  end
  return nil
end

local ctype_cache = {}
function M.ctype(name)
  if type(name) ~= 'string' then error('bpf.ctype: expected a C type name, as the kernel has it', 2) end
  local c = ctype_cache[name]
  if c then return c end
  local base, stars = name:match('^(.-)%s*(%**)%s*$')
  local id = find(base)
  if not id then
    local _, err = M.vmlinux()
    error(('bpf.ctype: %s'):format(err or ('the kernel has no type ' .. base)), 2)
  end
  local ct = ctype_of(id)
  if #stars > 0 then ct = ffi.typeof('$' .. stars, ct) end
  ctype_cache[name] = ct
  return ct
end

-- The kernel's name of a kernel struct ctype, or nil.
function M.cname(ct)
  local id = by_ctype[tonumber(ffi.typeof(ct))]
  if not id then return nil end
  local t = t_of(id)
  return (kind_of(t) == K.UNION and 'union ' or 'struct ') .. (name_of(t) or '')
end

function M.btf_id(ct)
  return by_ctype[tonumber(ffi.typeof(ct))]
end

-- ---- members, as the compiler asks ----

local specs = {}
local spec_index = {}
local function spec_of(root, access, bitfield)
  local key = root .. ':' .. access
  local n = spec_index[key]
  if not n then
    specs[#specs + 1] = { type = root, name = name_of(t_of(root)), access = access, bitfield = bitfield }
    n = #specs
    spec_index[key] = n
  end
  return n
end
function M.core_spec(n) return specs[n] end

-- The member `name` of struct id, through anonymous members: the member,
-- its bit offset from the struct's start and the access path ('0:i:j').
local function lookup(id, name)
  for i, m in ipairs(members(id)) do
    if m.name == name then return m, m.bit, tostring(i - 1) end
    if not m.name then
      local mt = skip(m.type)
      local mk = mt ~= 0 and kind_of(t_of(mt))
      if mk == K.STRUCT or mk == K.UNION then
        local f, b, path = lookup(mt, name)
        if f then return f, m.bit + b, (i - 1) .. ':' .. path end
      end
    end
  end
  return nil
end

local function answer(root, m, bits, path)
  local mt = skip(m.type)
  local k = mt ~= 0 and kind_of(t_of(mt))
  local f = { kernel = true, bpos = nil }
  if m.bsize > 0 then
    local byte = math.floor(bits / 8)
    local last = math.floor((bits + m.bsize - 1) / 8)
    local size = 1
    while byte + size - 1 < last do size = size * 2 end
    f.offset, f.size, f.bpos, f.bsize = byte, size, bits - byte * 8, m.bsize
    f.signed = signed_of(m.type)
    f.core = spec_of(root, '0:' .. path, true)
    return f
  end
  f.offset = bits / 8
  f.core = spec_of(root, '0:' .. path)
  if k == K.PTR then
    f.pointer, f.size = true, 8
    local target = skip(t_of(mt).size_type)
    local tk = target ~= 0 and kind_of(t_of(target))
    if tk == K.STRUCT or tk == K.UNION or tk == K.FWD then
      f.ctype = struct_ctype(target)
      f.btf_pointer = f.ctype ~= nil
    elseif tk == K.FUNC_PROTO or target == 0 then
      f.ctype = ffi.typeof('uint8_t')
    else
      f.ctype = ctype_of(target)
    end
    return f
  end
  if k == K.STRUCT or k == K.UNION or k == K.ARRAY then
    f.aggregate, f.size = true, size_of(mt)
    f.ctype = ctype_of(m.type)
    return f
  end
  if k == K.INT or k == K.ENUM or k == K.ENUM64 then
    f.size, f.signed = size_of(mt), signed_of(mt)
    if f.size > 8 then f.aggregate, f.ctype = true, ctype_of(m.type) end
    return f
  end
  if k == K.FLOAT then
    f.size, f.float = size_of(mt), true
    return f
  end
  return nil
end

local field_cache = {}
function M.field(ct, name)
  local id = by_ctype[tonumber(ffi.typeof(ct))]
  if not id then return nil end
  local per = field_cache[id]
  if not per then per = {}; field_cache[id] = per end
  local f = per[name]
  if f == nil then
    local m, bits, path = lookup(id, name)
    f = m and answer(id, m, bits, path) or false
    per[name] = f
  end
  return f or nil
end

function M.is_kernel(ct)
  return by_ctype[tonumber(ffi.typeof(ct))] ~= nil
end

-- The kernel's types as plain data, for the object writer's CO-RE types:
-- skip(id), info(id) -> { kind =, name =, size =, signed =, elem =, nelems = },
-- members(id) -> { { name =, type =, bit =, bsize = }, ... }, kind.
function M.view()
  return {
    kind = K, skip = skip, members = members,
    info = function(id)
      if id == 0 then return { kind = 0, size = 0 } end
      local t = t_of(id)
      local k = kind_of(t)
      local r = { kind = k, name = name_of(t), size = size_of(id) }
      if k == K.INT or k == K.ENUM or k == K.ENUM64 then r.signed = signed_of(id) end
      if k == K.ARRAY then
        local a = extra(t, 'const bpf_btf_array_t *')
        r.elem, r.nelems = a.type, a.nelems
      end
      return r
    end,
  }
end

-- ---- functions: tracing contexts and kfuncs ----

local function proto_params(proto_id)
  local t = t_of(proto_id)
  local ps = extra(t, 'const bpf_btf_param_t *')
  local list = {}
  for i = 0, vlen_of(t) - 1 do
    local nm = ps[i].name_off ~= 0 and ffi.string(C.bpf_btf_name_by_offset(need(), ps[i].name_off)) or nil
    list[#list + 1] = { name = nm ~= '' and nm or nil, type = ps[i].type }
  end
  return list, t.size_type -- params, return type
end

-- What a tracing program of kind attaches to, found in BTF: the
-- prototype's params and return type id, or nil, err.
local function target_proto(kind, name)
  local b = need()
  if kind == 'tp_btf' then
    -- __bpf_trace_<name>(void *__data, proto) names the arguments; the
    -- typedef btf_trace_<name> the kernel attaches by has the same types
    local named = C.bpf_btf_find_by_name_kind(b, '__bpf_trace_' .. name, K.FUNC)
    local id = C.bpf_btf_find_by_name_kind(b, 'btf_trace_' .. name, K.TYPEDEF)
    if named > 0 and id > 0 then
      local params = proto_params(t_of(named).size_type)
      table.remove(params, 1)
      return params, 0
    end
    if id <= 0 then
      return nil, ('the kernel has no raw tracepoint %s (no btf_trace_%s in its BTF)'):format(name, name)
    end
    local p = skip(t_of(id).size_type) -- a pointer to the prototype
    local proto = skip(t_of(p).size_type)
    local params = proto_params(proto)
    table.remove(params, 1) -- void *__data: the tracepoint's own, not the program's
    return params, 0
  end
  local fname = kind == 'lsm' and 'bpf_lsm_' .. name or name
  local id = C.bpf_btf_find_by_name_kind(b, fname, K.FUNC)
  if id <= 0 then
    if kind == 'lsm' then
      return nil, ('the kernel has no LSM hook %s (no bpf_lsm_%s in its BTF)'):format(name, name)
    end
    return nil, ('the kernel has no function %s in its BTF'):format(name)
  end
  return proto_params(t_of(id).size_type)
end

-- Arguments as a struct of 8-byte slots, each member typed as the kernel's
-- parameter (at the slot's start: the low bytes of the u64 on x86_64).
local args_cache = {}
local args_info = {} -- ctype id -> { [name] = { slot =, type = } }
function M.func_args(kind, name)
  local key = kind .. ' ' .. name
  if args_cache[key] then return args_cache[key] end
  local params, ret = target_proto(kind, name)
  if not params then return nil, ret end
  local slots = {}
  for i, p in ipairs(params) do
    slots[#slots + 1] = { name = p.name or ('arg' .. i), type = p.type }
  end
  if (kind == 'fexit' or kind == 'lsm') then
    if ret ~= 0 or kind == 'lsm' then slots[#slots + 1] = { name = 'ret', type = ret ~= 0 and ret or nil } end
  end
  if #slots > 12 then return nil, ('%s has %d arguments, more than BPF programs see'):format(name, #slots) end
  local out, info = {}, {}
  for i, s in ipairs(slots) do
    local size = s.type and size_of(s.type) or 8
    local sk = s.type and skip(s.type)
    local k = sk and sk ~= 0 and kind_of(t_of(sk))
    if k == K.STRUCT or k == K.UNION or size > 8 then
      -- a struct passed by value: the kernel passes it in registers, not one slot we can name
      out[#out + 1] = ('uint64_t __slot%d;'):format(i)
    else
      local d = s.type and decl(s.type, s.name, function(d) define(skip(d)) end) or ('int64_t ' .. s.name)
      out[#out + 1] = ('union { %s; uint64_t __slot%d; };'):format(d, i)
      info[s.name] = { slot = i - 1, type = s.type }
    end
  end
  local tag = ('bpf_args___%s_%s'):format(kind, name)
  ffi.cdef(('struct %s { %s };'):format(tag, table.concat(out, ' ')))
  local ct = ffi.typeof('struct ' .. tag)
  args_info[tonumber(ct)] = info
  args_cache[key] = ct
  return ct
end

-- A member of a tracing context: the argument in its slot (a pointer to a
-- struct is a BTF pointer the verifier knows, read directly).
function M.arg_field(ct, name)
  local info = args_info[tonumber(ffi.typeof(ct))]
  if not info then return nil end
  local a = info[name]
  if not a then return nil end
  local m = { name = name, type = a.type, bit = 0, bsize = 0 }
  local f = answer(0, m, a.slot * 64, '0')
  if not f then return nil end
  f.core, f.kernel = nil, nil -- the context is read as the context, never relocated
  f.context_arg = true
  return f
end

-- ctype.field asks here first: kernel types and tracing contexts answer from BTF.
require('bpf.ctype').provider(function(ct, name)
  local id = tonumber(ct)
  if by_ctype[id] then return M.field(ct, name) or false end
  if args_info[id] then return M.arg_field(ct, name) or false end
  return nil
end)

function M.is_args(ct)
  return args_info[tonumber(ffi.typeof(ct))] ~= nil
end

-- A kernel function a program calls (a kfunc), from its BTF prototype.
local kfuncs = {}
function M.kfunc(name)
  if kfuncs[name] ~= nil then return kfuncs[name] or nil end
  local b, err = M.vmlinux()
  if not b then return nil, err end
  local id = C.bpf_btf_find_by_name_kind(b, name, K.FUNC)
  if id <= 0 then
    kfuncs[name] = false
    return nil
  end
  local params, ret = proto_params(t_of(id).size_type)
  local r = { id = id, name = name, nargs = #params, args = {} }
  for i, p in ipairs(params) do
    local pk = skip(p.type) ~= 0 and kind_of(t_of(skip(p.type)))
    r.args[i] = pk == K.PTR and 'ptr' or 'int'
  end
  local rt = skip(ret)
  local rk = rt ~= 0 and kind_of(t_of(rt))
  if rt == 0 then r.ret = 'void'
  elseif rk == K.PTR then
    r.ret = 'ptr'
    local target = skip(t_of(rt).size_type)
    local tk = target ~= 0 and kind_of(t_of(target))
    if tk == K.STRUCT or tk == K.UNION or tk == K.FWD then r.ret_ctype = struct_ctype(target) end
  else
    r.ret, r.ret_size, r.ret_signed = 'int', size_of(rt), signed_of(rt)
  end
  kfuncs[name] = r
  return r
end

return M
