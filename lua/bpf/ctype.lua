-- What the compiler core asks about C types (through bpf/facts.lua): sizes,
-- members, scalars, element types.  LuaJIT has no reflection API, so
-- members are probed on a scratch instance; answers are cached per ctype.
local ffi = require('ffi')

local M = {}
local cache = setmetatable({}, { __mode = 'k' })
local aliases = {}

-- Accept a ctype, a type string or a cdata; return the ctype.
-- A string is declared once: each ffi.typeof('struct {...}') makes a new
-- ctype, and LuaJIT holds at most 65536 of them, so a process that compiles
-- the same program again and again must not make one per compile.
local declared = {}
function M.typeof(t, n)
  if type(t) == 'string' then
    local ct = declared[t]
    if not ct then
      ct = ffi.typeof(t)
      declared[t] = ct
    end
    if n then return ct, n end
    return ct
  end
  return ffi.typeof(t)
end

-- The id of a ctype (one per C type, whichever ctype object names it), or nil
-- for any other value: a cdata's tonumber() is its value, a ctype's its id.
function M.id(ct)
  if type(ct) ~= 'cdata' or tostring(ct):sub(1, 6) ~= 'ctype<' then return nil end
  return tonumber(ct)
end

function M.sizeof(ct)
  return ffi.sizeof(ct)
end

-- Other names for members (pt_regs' parm1 is di on x86_64).
function M.alias(ct, map)
  aliases[tonumber(ffi.typeof(ct))] = map
end

-- What the C type does not say about a struct's members, by type id: a
-- pointer to user memory (a syscall's `const char *filename`), a
-- tracepoint's __data_loc word; and whether the struct is a tracepoint's
-- record (kernel memory a program may read through helpers).
--   M.note(ct, { filename = { user = true }, ... }, { record = true })
local notes, kinds = {}, {}
function M.note(ct, members, kind)
  local id = tonumber(ffi.typeof(ct))
  notes[id], kinds[id] = members, kind
end

-- The struct's own note ({ record = true }), or nil.
function M.kind(ct)
  local ok, id = pcall(function() return tonumber(ffi.typeof(ct)) end)
  return ok and kinds[id] or nil
end

local u64, i64 = ffi.typeof('uint64_t'), ffi.typeof('int64_t')

-- 64-bit integer cdata as a boxed int64 (and true when it is a uint64),
-- other integers as numbers, else nil.
function M.tointeger(v)
  if ffi.istype(u64, v) then return ffi.cast(i64, v), true end
  if ffi.istype(i64, v) then return ffi.cast(i64, v) end
  if tostring(v):sub(1, 6) == 'ctype<' then return nil end -- tonumber() of a ctype is its id
  local ok, n = pcall(tonumber, v)
  if ok and n and n == math.floor(n) then return n end
  return nil
end

-- fn's two answers about a ctype, asked once per ctype (the core asks the
-- same questions at every compile).
local NONE = {}
local function per_ctype(fn)
  local answers = setmetatable({}, { __mode = 'k' })
  return function(ct)
    local c = answers[ct]
    if not c then
      local a, b, d = fn(ct)
      c = a and { a, b, d } or NONE
      answers[ct] = c
    end
    return c[1], c[2], c[3]
  end
end

-- size and signedness of a scalar ctype, or nil (M.scalar, cached below).
local function scalar_of(ct)
  ct = ffi.typeof(ct)
  local ok, v = pcall(ffi.new, ct, -1)
  if not ok then return nil end
  local s = tostring(ct)
  if s:find('%*') or s:find('%[') or s:find('struct') or s:find('union') then return nil end
  local size = ffi.sizeof(ct)
  if s:find('float') or s:find('double') then return nil end
  return size, (v < 0)
end

local function ptr_target(s)
  local inner = s:match('^ctype<(.*)%s*%*>$')
  if inner then
    local ok, t = pcall(ffi.typeof, inner)
    if ok then return t end
    return ffi.typeof('uint8_t')
  end
end

-- Element ctype of a pointer or array ctype and its size, or nil (M.elem).
local function elem_of(ct)
  ct = ffi.typeof(ct)
  local s = tostring(ct)
  local p = ptr_target(s)
  if p then return p, ffi.sizeof(p), true end
  -- T [n][m]...: the element is T [m]... (the first dimension goes)
  local base, rest = s:match('^ctype<([^%[]-)%s*%[%d*%](.*)>$')
  if base then
    local ok, t = pcall(ffi.typeof, base .. rest)
    if ok then return t, ffi.sizeof(t) end
  end
  return nil
end

local function probe_member(ct, name)
  local off, bpos, bsize = ffi.offsetof(ct, name)
  if not off then return nil end
  local obj = ffi.new(ct)
  local v = obj[name]
  local f = { offset = off, bpos = bpos, bsize = bsize }
  if type(v) == 'cdata' then
    local mt = ffi.typeof(v)
    local s = tostring(mt)
    if ptr_target(s) then
      f.pointer, f.size, f.ctype = true, ffi.sizeof(mt), ptr_target(s)
    elseif ffi.istype(u64, v) or ffi.istype(i64, v) then
      f.size, f.signed = 8, ffi.istype(i64, v)
    else
      -- a struct/union/array member comes back as a reference
      local rt = ffi.typeof(v)
      local s2 = tostring(rt):gsub('%(&%)', ''):gsub(' &>$', '>')
      local ok, t = pcall(ffi.typeof, s2:match('^ctype<(.*)>$'))
      f.ctype = ok and t or rt
      f.size, f.aggregate = ffi.sizeof(f.ctype) or ffi.sizeof(v), true
    end
  elseif type(v) == 'boolean' then
    f.size = 1
  else
    -- numbers: a fraction survives only in a float; else probe width and sign with -1
    if not bsize then
      obj[name] = 0.5
      if obj[name] == 0.5 then
        local ok4 = pcall(function() obj[name] = 2 ^ 30 + 0.25 end)
        f.float = true
        f.size = (ok4 and obj[name] == 2 ^ 30 + 0.25) and 8 or 4
        return f
      end
    end
    obj[name] = -1
    local back = obj[name]
    if bsize then
      f.size = bpos + bsize <= 8 and 1 or bpos + bsize <= 16 and 2 or bpos + bsize <= 32 and 4 or 8
      f.signed = back < 0
    elseif back < 0 then
      f.signed = true
      obj[name] = 2 ^ 31
      f.size = (obj[name] == 2 ^ 31) and 8 or (function()
        obj[name] = 2 ^ 15; if obj[name] == 2 ^ 15 then return 4 end
        obj[name] = 2 ^ 7; if obj[name] == 2 ^ 7 then return 2 end
        return 1 end)()
    elseif back == 0xffffffff then f.size = 4
    elseif back == 0xffff then f.size = 2
    elseif back == 0xff then f.size = 1
    else f.float = true; f.size = ffi.sizeof('double') end
    if back ~= math.floor(back) then f.float = true end
  end
  if bsize then
    -- the storage unit the bitfield sits in, from its first byte
    f.size = (bpos + bsize <= 8) and 1 or (bpos + bsize <= 16) and 2 or 4
    if f.size > 1 and off % f.size ~= 0 then f.size = 1 end
  end
  return f
end

-- The same member as values, for the core: offset, size, bpos, bsize,
-- flags (1 pointer, 2 signed, 4 float, 8 aggregate), ctype; nil if none.
local member_cache = setmetatable({}, { __mode = 'k' })
function M.member(ct, name)
  local per = member_cache[ct]
  if not per then per = {}; member_cache[ct] = per end
  local m = per[name]
  if m == nil then
    local f = M.field(ct, name)
    m = f and { f.offset, f.size, f.bpos, f.bsize,
      (f.pointer and 1 or 0) + (f.signed and 2 or 0) + (f.float and 4 or 0) + (f.aggregate and 8 or 0),
      f.ctype } or false
    per[name] = m
  end
  if not m then return nil end
  return m[1], m[2], m[3], m[4], m[5], m[6]
end

-- A member: {offset, size, bpos, bsize, pointer, signed, float, aggregate, ctype}.
-- Types whose members another module knows (bpf.btf: the kernel's types,
-- from BTF): provider(ct, name) answers a field, false for none, or nil
-- when ct is not one of its types.
local providers = {}
function M.provider(fn) providers[#providers + 1] = fn end

function M.field(ct, name)
  ct = ffi.typeof(ct)
  for _, p in ipairs(providers) do
    local f = p(ct, name)
    if f ~= nil then return f or nil end
  end
  local id = tonumber(ct)
  local per = cache[ct]
  if not per then per = {}; cache[ct] = per end
  local f = per[name]
  if f == nil then
    local a = aliases[id]
    local real = a and a[name] or name
    local ok, r = pcall(probe_member, ct, real)
    f = ok and r or false
    local note = f and notes[id] and notes[id][name]
    if note then
      for k, v in pairs(note) do f[k] = v end
    end
    per[name] = f
  end
  return f or nil
end

M.scalar, M.elem = per_ctype(scalar_of), per_ctype(elem_of)

return M
