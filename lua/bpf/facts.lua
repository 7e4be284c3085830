-- The facts the compiler core asks of Lua: the one module it queries
-- (csrc/facts.c is the one C file that asks).  bpf() makes one facts
-- object per compile and hands it to core.compile as its options:
--
--   local F = facts.new{ ctx =, type =, builtins =, layers = }
--     ctx       the context a parameterless program names as skb (default proto.skb)
--     type      the program type asked for: a name, a number or nil
--     attach    the attach type it is loaded for (a number, libbpf.attach_type) or nil
--     builtins  function -> helper name (default builtins.names)
--     layers    the dissector layers (default proto.layers)
--
-- Every query is a method of F.  It answers with plain data (numbers,
-- booleans, strings, ctypes and tables with the fields listed), `false`
-- when the thing asked about does not exist, and nil plus a message when
-- asking failed (a metamethod raised, a C type did not parse): no query
-- raises, so the core turns a failure into a compile error of its own.
--
-- Read once per compile, before translation:
--   F:program()        { ctx_ctype = the context's ctype or false,
--                        ctx_name = its C name ('struct bpf_sock') or false,
--                        attach = opts.attach (a number) or nil,
--                        type = opts.type as given (a name, a number, nil or other),
--                        may_goto = true when loops end each turn with may_goto,
--                        bpf_loop = true when for loops of run-time bounds call bpf_loop,
--                        classic_packet = true when even tc and XDP read the packet
--                        with the classic loads (opts.packet = 'classic'),
--                        linear_packet = true when tc reads the skb's linear part
--                        only, as XDP reads its frame (opts.packet = 'linear'),
--                        no_csum = true when packet writes leave the checksums
--                        as they are (opts.csum = false),
--                        functions = 'inline' | 'subprog' | nil (opts.functions),
--                        user_memory = true when a pointer cast from a number points
--                        to user memory (opts.memory = 'user', or no opts.memory and
--                        type 'uprobe', 'uretprobe' or 'usdt'),
--                        ctx_memory = true when the context is a tracepoint's record
--                        (ctype.note), kernel memory helpers may read }
--   F:layers()         a list of layers, each { name =, ctype = ctype or false,
--                        next = list of steps { name =, to = layer name,
--                        skip = bytes } or { name =, to =, hdr_off =, mask =, shift = }
--                        (the header length is (byte at hdr_off & mask) << shift,
--                        >> -shift when negative) }; names are strings, in no order;
--                        the same list again while the layer table keeps its shape
--                        (the core then keeps what it read)
-- Read when a constant first appears (the core caches the answer per value):
--   F:constant(v)      what a table or function is:
--                        { kind = 'map', key_size =, val_size = (numbers or false),
--                          key_type =, val_type = (ctypes or false) }
--                        { kind = 'dissector', ctype = its __dissector, layer = name or
--                          false, off = number or false, context = true when v is
--                          the program's context }
--                        { kind = 'helper', name = } (a function bpf.builtins names)
--                        false for any other value
--   F:integer(v)       for a cdata: n, is_u64 when it is an integer (n a number
--                        or a boxed int64), else false
-- Asked on first use (the core caches each answer for the compile):
--   F:member(ct, name) { offset =, size =, bpos =, bsize = (bitfields only),
--                        pointer =, signed =, float =, aggregate = (true or absent),
--                        user = true (a pointer to user memory), data_loc = true
--                        (a tracepoint's __data_loc u32), from ctype.note,
--                        ctype = the member's (a pointer's target), if any }, or false
--   F:sizeof(ct)       bytes, or false (no size: a VLA)
--   F:scalar(ct)       size, signed for an integer ctype, else false
--   F:elem(ct)         ctype, size of an array's element or a pointer's target, and
--                        whether ct is a pointer; else false
--   F:typeof(t[, n])   the ctype a type argument of ffi.new/ffi.cast names
--   F:typeid(ct)       the C type's id (tonumber of the ctype): one per type, so
--                        two ffi.typeof('uint64_t'), two ctype objects, give one id;
--                        false when ct is not a ctype
-- Compile-time evaluation (metamethods included, as Lua would run it):
--   F:length(v)        #v of a table (a map's max_entries) or string
--   F:index(t, k)      true, t[k]
--   F:call(fn, ...)    true, the results of fn(...)
--   F:steps(fn, s, c, max)  the steps of `for ... in fn, s, c`, each a list of the
--                        values it gives (k, v), in order; an error past max steps
--   F:log(n)           math.log(n)
-- Kernel types (bpf.btf), asked when a program uses them:
--   F:kernel_type(name) the ctype of the kernel's type `name` ('struct task_struct')
--   F:kfunc(name)      { id =, nargs =, args = { 'int' | 'ptr', ... }, ret = 'void' |
--                        'int' | 'ptr', ret_size =, ret_signed =, ret_ctype = } from
--                        the kernel function's BTF prototype, or false when none
local ctype = require('bpf.ctype')

local M = {}
local F = {}
F.__index = F

function M.new(opts)
  opts = opts or {}
  -- the fields are not named like the queries: the core finds those through F
  return setmetatable({
    ctx_value = opts.ctx or require('bpf.proto').skb,
    prog_type = opts.type,
    attach = opts.attach,
    loops = opts.loops,
    functions = opts.functions,
    packet = opts.packet,
    csum = opts.csum,
    memory = opts.memory,
    helper_names = opts.builtins or require('bpf.builtins').names,
    layer_table = opts.layers or require('bpf.proto').layers,
  }, F)
end

-- The answers of fn(...), or nil and the message of what it raised.
local function answer(ok, ...)
  if ok then return ... end
  return nil, tostring((...))
end
-- A query: fn run under pcall (made once, so that asking allocates no closure).
local function query(fn)
  return function(...) return answer(pcall(fn, ...)) end
end

F.program = query(function(self)
  local ctx = self.ctx_value
  local ct = type(ctx) == 'table' and ctx.__dissector
  -- the core knows the kernel's contexts (struct __sk_buff, ...) by name
  local name = type(ct) == 'cdata' and tostring(ct):match('^ctype<(.*)>$')
  return { ctx_ctype = ct ~= nil and ct, ctx_name = name or false, attach = self.attach,
    type = self.prog_type, may_goto = self.loops == 'may_goto',
    bpf_loop = self.loops == 'bpf_loop', classic_packet = self.packet == 'classic',
    linear_packet = self.packet == 'linear', no_csum = self.csum == false,
    functions = self.functions, user_memory = self.memory == 'user' or (self.memory == nil and
      (self.prog_type == 'uprobe' or self.prog_type == 'uretprobe' or self.prog_type == 'usdt')),
    ctx_memory = ct ~= nil and (ctype.kind(ct) or {}).record == true }
end)

-- A number the core reads from a table: numbers and numeric strings, as lua_tonumber.
local function num(v)
  if type(v) == 'number' or type(v) == 'string' then return tonumber(v) or false end
  return false
end

local function steps_of(nexts)
  local steps = {}
  for name, t in pairs(nexts) do
    if type(name) == 'string' and type(t) == 'table' then
      local s = { name = name, to = type(t.layer) == 'string' and t.layer, skip = num(t.skip) }
      if not s.skip then
        s.hdr_off, s.mask, s.shift = num(t.hdr_off) or 0, num(t.mask) or 0, num(t.shift) or 0
      end
      steps[#steps + 1] = s
    end
  end
  return steps
end

-- The list is built again only when the layer table changed (a layer or
-- a step added, removed or replaced), so that the core, which keeps what it
-- read from a list it saw before, reads it once.  A field changed in place
-- in an existing step is not noticed.
local built = setmetatable({}, { __mode = 'k' }) -- layer table -> { list =, shape = }

-- The identities the list was built from, in the order pairs() gives them.
local function same_shape(layers, shape)
  local i = 0
  for name, layer in pairs(layers) do
    i = i + 1
    if shape[i] ~= name or shape[i + 1] ~= layer then return false end
    i = i + 1
    local nexts = type(layer) == 'table' and layer.next or false
    i = i + 1
    if shape[i] ~= nexts then return false end
    if type(nexts) == 'table' then
      for sname, step in pairs(nexts) do
        if shape[i + 1] ~= sname or shape[i + 2] ~= step then return false end
        i = i + 2
      end
    end
  end
  return i == #shape
end

local function shape_of(layers)
  local shape = {}
  for name, layer in pairs(layers) do
    shape[#shape + 1] = name
    shape[#shape + 1] = layer
    local nexts = type(layer) == 'table' and layer.next or false
    shape[#shape + 1] = nexts
    if type(nexts) == 'table' then
      for sname, step in pairs(nexts) do
        shape[#shape + 1] = sname
        shape[#shape + 1] = step
      end
    end
  end
  return shape
end

F.layers = query(function(self)
  local layers = self.layer_table
  local b = built[layers]
  if b and same_shape(layers, b.shape) then return b.list end
  local list = {}
  for name, layer in pairs(layers) do
    if type(name) == 'string' and type(layer) == 'table' then
      local ct = layer.ctype
      list[#list + 1] = { name = name, ctype = ct ~= nil and ct,
        next = type(layer.next) == 'table' and steps_of(layer.next) or {} }
    end
  end
  built[layers] = { list = list, shape = shape_of(layers) }
  return list
end)

local function typenum(v)
  return type(v) == 'number' and v or false
end

F.constant = query(function(self, v)
  if type(v) == 'function' then
    local name = rawget(self.helper_names, v)
    return type(name) == 'string' and { kind = 'helper', name = name } or false
  end
  if type(v) ~= 'table' then return false end
  local d = v.__dissector
  if d ~= nil then
    local layer = v.layer
    return { kind = 'dissector', ctype = d, layer = layer ~= nil and layer, off = num(v.off),
      context = rawequal(v, self.ctx_value) }
  end
  if v.__map then
    local kt, vt = v.key_type, v.val_type
    return { kind = 'map', key_size = typenum(v.key_size), val_size = typenum(v.val_size),
      key_type = kt ~= nil and kt, val_type = vt ~= nil and vt }
  end
  return false
end)

F.integer = query(function(_, v)
  local n, u64 = ctype.tointeger(v)
  if n == nil then return false end
  return n, u64 or false
end)

-- ctype.field's own answer (cached there for good: a layout never changes).
F.member = query(function(_, ct, name)
  return ctype.field(ct, name) or false
end)

F.sizeof = query(function(_, ct)
  return ctype.sizeof(ct) or false
end)

F.scalar = query(function(_, ct)
  local size, signed = ctype.scalar(ct)
  if not size then return false end
  return size, signed
end)

F.elem = query(function(_, ct)
  local t, size, pointer = ctype.elem(ct)
  if t == nil then return false end
  return t, size, pointer == true
end)

F.typeof = query(function(_, t, n)
  return (ctype.typeof(t, n))
end)

F.typeid = query(function(_, ct)
  return ctype.id(ct) or false
end)

F.length = query(function(_, v)
  if type(v) == 'table' and v.max_entries ~= nil then return tonumber(v.max_entries) or 0 end
  return #v
end)

F.index = query(function(_, t, k)
  return true, t[k]
end)

F.call = query(function(_, fn, ...)
  return true, fn(...)
end)

F.steps = query(function(_, fn, s, c, max)
  local steps = {}
  for k, v, w in fn, s, c do
    if #steps == max then
      error(('more than %d turns: a loop unrolled at compile time stops there'):format(max), 0)
    end
    steps[#steps + 1] = { k, v, w }
  end
  return steps
end)

F.log = query(function(_, n)
  return math.log(n)
end)

F.kernel_type = query(function(_, name)
  return require('bpf.btf').ctype(name)
end)

F.kfunc = query(function(_, name)
  local btf = require('bpf.btf')
  local k, err = btf.kfunc(name)
  if not k and err then error(err, 0) end
  return k or false
end)

return M
