-- Random valid programs for the differential fuzzer: a PRNG of our own (the
-- same numbers under every LuaJIT), an AST generator, the checker that says
-- whether an AST is a valid program (the generator's repairs and every step
-- of the shrinker go through it), and the two renderers: the program as the
-- compiler gets it, and the same program for the oracle (tools/fuzz/oracle.lua).
local ffi = require('ffi')
local bit = require('bit')
local O = require('tools.fuzz.oracle')

local M = {}
local i64, u64, is_u = O.i64, O.u64, O.is_u
M.is_u = is_u

------------------------------------------------------------------- the PRNG

local TWO32 = 4294967296

-- bit.* results are signed 32-bit numbers; the PRNG works on 0 .. 2^32-1.
local function u32(x) return x % TWO32 end

-- (a * b) mod 2^32 in halves, so no bit is lost in a double.
local function mul32(a, b)
  local alo, blo = a % 65536, b % 65536
  local ahi, bhi = (a - alo) / 65536, (b - blo) / 65536
  return (alo * blo + ((ahi * blo + alo * bhi) % 65536) * 65536) % TWO32
end

local function fmix(h) -- murmur3's finaliser: spreads a seed over all bits
  h = u32(bit.bxor(h, bit.rshift(h, 16)))
  h = mul32(h, 0x85ebca6b)
  h = u32(bit.bxor(h, bit.rshift(h, 13)))
  h = mul32(h, 0xc2b2ae35)
  return u32(bit.bxor(h, bit.rshift(h, 16)))
end

local Rng = {}
Rng.__index = Rng

-- xorshift128 seeded from (seed, stream): program i of a run draws from
-- stream i, so it can be generated again on its own.
function M.rng(seed, stream)
  local lo, hi = u32(seed), u32(math.floor(seed / TWO32))
  local s = fmix(u32(lo + mul32(u32(stream or 0), 0x9e3779b9) + hi))
  local r = setmetatable({}, Rng)
  r.x, r.y = fmix(s + 1), fmix(u32(s + 0x6a09e667))
  r.z, r.w = fmix(u32(s + 0xbb67ae85)), fmix(u32(s + 0x3c6ef372))
  if r.x + r.y + r.z + r.w == 0 then r.w = 1 end
  for _ = 1, 8 do r:u32() end
  return r
end

function Rng:u32()
  local t = bit.bxor(self.x, bit.lshift(self.x, 11))
  self.x, self.y, self.z = self.y, self.z, self.w
  local w = self.w
  self.w = bit.bxor(w, bit.rshift(w, 19), t, bit.rshift(t, 8))
  return u32(self.w)
end

function Rng:below(n) return self:u32() % n end
function Rng:range(a, b) return a + self:below(b - a + 1) end
function Rng:chance(p) return self:u32() < p * TWO32 end
function Rng:pick(t) return t[1 + self:below(#t)] end
function Rng:u64() return ffi.cast(u64, self:u32()) * 0x100000000ULL + self:u32() end

-- list = { { weight, value }, ... }
function Rng:weighted(list)
  local total = 0
  for _, wv in ipairs(list) do total = total + wv[1] end
  local x = self:below(total)
  for _, wv in ipairs(list) do
    if x < wv[1] then return wv[2] end
    x = x - wv[1]
  end
end

--------------------------------------------------------------- the features

M.feature_names = { 'arith', 'div', 'pow', 'bit', 'tobit', 'cmp', 'logic', 'branch', 'spill',
  'packet', 'pktidx', 'ctx', 'map', 'u64', 'k64', 'cast', 'upval', 'loop' }

-- The set of features on: `on` (a list, default all) minus `off`.
function M.features(on, off)
  local known = {}
  for _, n in ipairs(M.feature_names) do known[n] = true end
  local set = {}
  for _, n in ipairs(on or M.feature_names) do
    if not known[n] then error('fuzz: unknown feature ' .. n, 0) end
    set[n] = true
  end
  for _, n in ipairs(off or {}) do
    if not known[n] then error('fuzz: unknown feature ' .. n, 0) end
    set[n] = nil
  end
  return set
end

------------------------------------------------------------------ the types

-- A type is the set of what a value may be at run time: int64, uint64,
-- true, false, nil, or a map value pointer (P: only ever tested for truth).
local TI, TU, TT, TF, TN, TP = 1, 2, 4, 8, 16, 32
M.T = { I = TI, U = TU, T = TT, F = TF, N = TN, P = TP }
local FALSY, TRUTHY = TF + TN, TI + TU + TT + TP
local band, bor = bit.band, bit.bor

local function truthy(t) return band(t, TRUTHY) end
local function falsy(t) return band(t, FALSY) end
local function isnum(t) return t == TI or t == TU end

local function and_type(ta, tb)
  return bor(falsy(ta), truthy(ta) ~= 0 and tb or 0)
end
local function or_type(ta, tb)
  return bor(truthy(ta), falsy(ta) ~= 0 and tb or 0)
end
local function not_type(ta)
  return bor(truthy(ta) ~= 0 and TF or 0, falsy(ta) ~= 0 and TT or 0)
end

----------------------------------------------------------------- the checker

-- Constant values the checker tracks, as a compiler with constant
-- propagation and dead-branch removal would know them: numbers (cdata),
-- booleans, NILV; RT for what is known only at run time.
local RT = setmetatable({}, { __tostring = function() return 'run-time' end })
local NILV = setmetatable({}, { __tostring = function() return 'nil' end })

local function const_truth(v)
  if v == RT then return nil end
  return not (v == false or v == NILV)
end

local function same_const(a, b)
  if a == RT or b == RT then return false end
  if type(a) == 'cdata' and type(b) == 'cdata' then return is_u(a) == is_u(b) and a == b end
  return a == b
end

-- A plain number literal (or its negation): LuaJIT's parser folds
-- arithmetic on two of them in doubles (7 / 2 becomes the float 3.5), so
-- no arithmetic may have two of them as operands.
local function plainlit(e)
  if e.k == 'num' then return e.lit == 'n' end
  -- `0 and -33` is folded by the parser too: it is the literal -33
  if (e.k == 'and' or e.k == 'or') and e.a and e.b then
    -- `true and 1`, `false or 1`, `nil or 1` are folded to the literal 1 too
    local a = e.a
    if e.k == 'and' and a.k == 'bool' and a.v then return plainlit(e.b) end
    if e.k == 'or' and (a.k == 'nil' or (a.k == 'bool' and not a.v)) then return plainlit(e.b) end
    return plainlit(e.a) and plainlit(e.b)
  end
  return e.k == 'unm' and plainlit(e.a)
end
M.plainlit = plainlit

local narrow = { uint8_t = true, int8_t = true, uint16_t = true, int16_t = true, uint32_t = true,
  int32_t = true, uint64_t = true, int64_t = true }
local bitfns = { band = 2, bor = 2, bxor = 2, lshift = 2, rshift = 2, arshift = 2, bnot = 1, tobit = 1 }
local arith_ops = { ['+'] = true, ['-'] = true, ['*'] = true, ['/'] = true, ['%'] = true }
local cmp_ops = { ['<'] = true, ['<='] = true, ['>'] = true, ['>='] = true, ['=='] = true, ['~='] = true }
local skb_fields = { len = true, mark = true, priority = true }

local function fold_arith(op, a, b)
  if op == '+' then return a + b elseif op == '-' then return a - b
  elseif op == '*' then return a * b elseif op == '/' then return O.div(a, b) end
  return O.mod(a, b)
end

local function fold_cmp(op, a, b)
  if op == '==' then return a == b elseif op == '~=' then return a ~= b end
  if op == '<' then return a < b elseif op == '<=' then return a <= b end
  if op == '>' then return a > b end
  return a >= b
end

local function is_zero(v) return type(v) == 'cdata' and v == 0 end

local Check = {}
Check.__index = Check

local function bad(why, node, t) error({ why = why, node = node, t = t }, 0) end

-- Type and constant value of an expression; `cond` allows a map value
-- pointer (a value only tested for truth).
function Check:expr(e, cond)
  local t, v = self:expr1(e)
  if band(t, TP) ~= 0 and not cond then bad('a map value pointer used as a value', e) end
  if band(t, TI) ~= 0 and band(t, TU) ~= 0 then bad('int64 or uint64 depending on the path', e) end
  return t, v
end

-- Values the compiler refuses to test or compare at run time (README: a value
-- that is a number on one path and nil or false on another, or nil on one
-- and a boolean on another, is held in one register where those look alike).
local function mixed(t)
  local num = band(t, TI + TU) ~= 0
  return num and (band(t, TF + TN) ~= 0 or band(t, TP) ~= 0)
end

-- The values LuaJIT tests one by one where e's truth is tested: `and`,
-- `or` and `not` compile to jumps, so their operands are tested on their
-- own paths (`c and x or y` tests x only where c held).
function Check:test_leaves(e)
  if e.k == 'and' or e.k == 'or' then
    self:test_leaves(e.a)
    self:test_leaves(e.b)
  elseif e.k == 'not' then
    self:test_leaves(e.a)
  else
    local t, v = self:expr(e, true)
    if v == RT and mixed(t) then bad('mixed', e) end
  end
end

-- The type and value of e where its truth is tested.
function Check:tested(e)
  local t, v = self:expr(e, true)
  if v == RT and not self.typing then self:test_leaves(e) end
  return t, v
end

function Check:num(e)
  local t, v = self:expr(e)
  if not isnum(t) then bad('arithmetic on a non-number', e) end
  return t, v
end

function Check:expr1(e)
  local k = e.k
  if k == 'num' then
    if type(e.v) ~= 'cdata' then bad('number literal without a cdata value', e) end
    if e.lit == 'n' then
      if is_u(e.v) or e.v > 2 ^ 53 or e.v < -2 ^ 53 then bad('plain literal out of range', e) end
    elseif e.lit == 'ULL' then
      if not is_u(e.v) then bad('ULL literal of an int64', e) end
    elseif e.lit ~= 'LL' or is_u(e.v) then
      bad('bad literal', e)
    end
    return is_u(e.v) and TU or TI, e.v
  elseif k == 'bool' then
    return e.v and TT or TF, e.v
  elseif k == 'nil' then
    return TN, NILV
  elseif k == 'var' then
    local ent = self.vars[e.name]
    if not ent or ent.kind == 'ref' then bad('unknown variable ' .. tostring(e.name), e) end
    return ent.t, self.const[e.name] or RT
  elseif k == 'skb' then
    if not skb_fields[e.f] then bad('bad skb field', e) end
    return TI, RT
  elseif k == 'cb' then
    if type(e.i) ~= 'number' or e.i < 0 or e.i > 4 then bad('bad cb index', e) end
    return TI, RT
  elseif k == 'pf' then
    if not O.fields[e.f] then bad('bad packet field', e) end
    return TI, RT
  elseif k == 'pb' then
    if not O.layers[e.layer] or type(e.i) ~= 'number' then bad('bad packet byte', e) end
    return TI, RT
  elseif k == 'pi' then
    if not O.layers[e.layer] then bad('bad layer', e) end
    self:num(e.e)
    return TI, RT
  elseif k == 'vrd' or k == 'ref' then
    local ent = self.vars[e.name]
    if not ent or ent.kind ~= 'ref' or not ent.live then bad('map value outside its check', e) end
    if k == 'ref' then return TP + TN, RT end
    return ent.map.val == 'uint64_t' and TU or TI, RT
  elseif k == 'bin' then
    if not arith_ops[e.op] then bad('bad operator', e) end
    local ta, va = self:num(e.a)
    local tb, vb = self:num(e.b)
    if plainlit(e.a) and plainlit(e.b) then bad('two plain literals (folded by the parser)', e) end
    local t = (ta == TU or tb == TU) and TU or TI
    if (e.op == '/' or e.op == '%') and is_zero(vb) and not self.typing then bad('divzero', e, tb) end
    if va ~= RT and vb ~= RT then return t, fold_arith(e.op, va, vb) end
    -- (the compiler folds only what it knows both operands of: x * 0 or x - x
    -- stay run-time values, as here)
    return t, RT
  elseif k == 'pow' then
    local t, va = self:num(e.a)
    if plainlit(e.a) then bad('a plain literal raised to a power (folded by the parser)', e) end
    if type(e.n) ~= 'number' or e.n < 0 or e.n > 64 or e.n % 1 ~= 0 then bad('bad exponent', e) end
    if va ~= RT then return t, O.pow(va, e.n) end
    if e.n == 0 then return t, t == TU and 1ULL or 1LL end
    return t, RT
  elseif k == 'unm' then
    local t, va = self:num(e.a)
    if va ~= RT then return t, -va end
    return t, RT
  elseif k == 'bit' then
    local n = bitfns[e.f]
    if not n or #e.args < 1 or (n == 1 and #e.args ~= 1) or (n == 2 and #e.args < 2)
      or (e.f ~= 'band' and e.f ~= 'bor' and e.f ~= 'bxor' and #e.args ~= n) then
      bad('bad bit call', e)
    end
    local ts, vs, allconst = {}, {}, true
    for i, a in ipairs(e.args) do
      ts[i], vs[i] = self:num(a)
      if vs[i] == RT then allconst = false end
    end
    local t = ts[1]
    if e.f == 'tobit' then t = TI
    elseif e.f == 'band' or e.f == 'bor' or e.f == 'bxor' then
      for _, ti in ipairs(ts) do if ti == TU then t = TU end end
    end
    if allconst then
      if e.f == 'tobit' then return t, O.tobit(vs[1]) end
      return t, bit[e.f](unpack(vs))
    end
    return t, RT
  elseif k == 'cast' then
    if not narrow[e.ct] then bad('bad cast', e) end
    local _, va = self:num(e.a)
    local t = e.ct == 'uint64_t' and TU or TI
    if va ~= RT then return t, O.cast(e.ct, va) end
    return t, RT
  elseif k == 'cmp' then
    if not cmp_ops[e.op] then bad('bad comparison', e) end
    local va, vb
    if e.op == '==' or e.op == '~=' then
      local ta, tb
      ta, va = self:expr(e.a)
      tb, vb = self:expr(e.b)
      for i, x in ipairs({ { ta, va, e.a }, { tb, vb, e.b } }) do
        local _ = i
        local tx, vx = x[1], x[2]
        -- (`c and nil` folds to a false value here, but the compiler holds it as
        -- nil on one path and false on the other: it cannot compare that)
        local folded = x[3].k == 'and' or x[3].k == 'or'
        if (vx == RT or folded) and not self.typing and
          (mixed(tx) or (band(tx, TN) ~= 0 and band(tx, TT + TF) ~= 0)) then
          bad('mixed', x[3])
        end
      end
    else
      va, vb = select(2, self:num(e.a)), select(2, self:num(e.b))
    end
    if va ~= RT and vb ~= RT then
      if va == NILV then va = nil end
      if vb == NILV then vb = nil end
      return TT + TF, fold_cmp(e.op, va, vb)
    end
    return TT + TF, RT
  elseif k == 'and' or k == 'or' then
    local ta, va = self:tested(e.a)
    local tb, vb = self:expr(e.b, true)
    local t = k == 'and' and and_type(ta, tb) or or_type(ta, tb)
    local ct = const_truth(va)
    if ct == nil then
      -- a number is never false: `x and y` is y, `x or y` is x
      if falsy(ta) == 0 and k == 'and' then return t, vb end
      -- x and false is false (or nil) whatever x is: the branch it guards is dead
      if k == 'and' and (vb == false or vb == NILV) then return t, false end
      -- c and K or K is K, a number either way
      if k == 'or' and e.a.k == 'and' and type(vb) == 'cdata' then
        local _, vk = self:expr(e.a.b, true)
        if same_const(vk, vb) then return t, vb end
      end
      return t, RT
    end
    -- (not `ct and vb or va`: vb may be false)
    if (k == 'and') == ct then return t, vb end
    return t, va
  elseif k == 'not' then
    local ta, va = self:tested(e.a)
    local ct = const_truth(va)
    if ct == nil then
      if falsy(ta) == 0 then return TF, false end
      if truthy(ta) == 0 then return TT, true end
      return not_type(ta), RT
    end
    return not_type(ta), not ct
  end
  bad('unknown expression ' .. tostring(k), e)
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

function Check:declare(name, ent, node)
  if type(name) ~= 'string' or not name:match('^[%a_][%w_]*$') then bad('bad name', node) end
  if self.declared[name] then bad('name declared twice: ' .. name, node) end
  self.declared[name] = true
  self.nlocals = self.nlocals + 1
  self.vars[name] = ent
end

-- Checks a block; returns the constant state at its end (nil when every
-- path through it returns).
function Check:block(block, const)
  local saved_vars, saved_const = self.vars, self.const
  self.vars, self.const = copy(self.vars), const
  local reaches = true
  for i, s in ipairs(block) do
    if (s.k == 'ret' or s.k == 'brk') and i ~= #block then bad('return before the end of a block', s) end
    if not self:stmt(s) then reaches = false end
  end
  local out = self.const
  self.vars, self.const = saved_vars, saved_const
  return reaches and out or nil
end

-- The constants both paths agree on.
function Check:join(states, names)
  local out = copy(self.const)
  if #states == 0 then return out end
  for name in pairs(names) do
    local v = states[1][name] or RT
    for j = 2, #states do
      if not same_const(v, states[j][name] or RT) then v = RT end
    end
    out[name] = v
  end
  return out
end

local function map_desc(name, node)
  local d = O.map_by_name[name]
  if not d then bad('unknown map ' .. tostring(name), node) end
  return d
end

-- Checks a statement; false when control does not go on after it.
function Check:stmt(s)
  local k = s.k
  if k == 'local' then
    local t, v = self:expr(s.e)
    self:declare(s.name, { t = t, kind = 'local' }, s)
    self.const[s.name] = v
  elseif k == 'set' then
    local ent = self.vars[s.name]
    if not ent or ent.kind ~= 'local' then bad('assignment to a non-local', s) end
    local t, v = self:expr(s.e)
    if bor(t, ent.t) ~= ent.t then bad('assigned value of another type', s) end
    self.const[s.name] = v
  elseif k == 'cset' then -- skb.mark = e, skb.cb[i] = e: the kernel keeps the low 32 bits
    if not (s.f == 'mark' or s.f == 'priority' or (s.f == 'cb' and type(s.i) == 'number' and s.i >= 0 and
        s.i <= 4)) then bad('bad context field to set', s) end
    local t = self:expr(s.e)
    if not isnum(t) then bad('context field set to a non-number', s) end
  elseif k == 'if' then
    if #s.arms == 0 then bad('if without arms', s) end
    local outs, live, names = {}, true, copy(self.const)
    for _, arm in ipairs(s.arms) do
      local tc, v = self:tested(arm.c)
      -- a number is true whatever it is: the compiler removes the other arms
      if v == RT and band(tc, TP) == 0 and falsy(tc) == 0 then v = true end
      local ct = const_truth(v)
      local arm_live = live and ct ~= false
      local out = self:block(arm.body, copy(self.const))
      if arm_live and out then outs[#outs + 1] = out end
      if live and ct == true then live = false end
    end
    if s.els then
      local out = self:block(s.els, copy(self.const))
      if live and out then outs[#outs + 1] = out end
    elseif live then
      outs[#outs + 1] = self.const
    end
    self.const = self:join(outs, names)
    return #outs > 0
  elseif k == 'look' then
    local d = map_desc(s.map, s)
    self:num(s.key)
    local ent = { t = TP + TN, kind = 'ref', map = d, live = false }
    self:declare(s.name, ent, s)
    if s.form ~= 'plain' and s.form ~= 'and' and s.form ~= 'not' then bad('bad look form', s) end
    if s.form == 'and' then
      if not s.c then bad('look without its condition', s) end
      ent.live = true
      self:expr(s.c, true)
      ent.live = false
    elseif s.c then
      bad('condition on a plain look', s)
    end
    local names = copy(self.const)
    ent.live = true
    self.in_look = self.in_look + 1
    local outs = {}
    local out = self:block(s.body, copy(self.const))
    if out then outs[#outs + 1] = out end
    self.in_look = self.in_look - 1
    ent.live = false
    if s.els then
      out = self:block(s.els, copy(self.const))
      if out then outs[#outs + 1] = out end
    else
      outs[#outs + 1] = self.const
    end
    self.const = self:join(outs, names)
    return #outs > 0
  elseif k == 'mset' or k == 'mdel' or k == 'xadd' then
    local d = map_desc(s.map, s)
    if k ~= 'xadd' and d.type == 'hash' and self.in_look > 0 then
      bad('a hash map changed while a value pointer is held', s)
    end
    self:num(s.key)
    if k ~= 'mdel' then self:num(s.e) end
  elseif k == 'vwr' then
    local ent = self.vars[s.name]
    if not ent or ent.kind ~= 'ref' or not ent.live then bad('map value outside its check', s) end
    self:num(s.e)
  elseif k == 'loop' then
    -- for, while or repeat over a counter the body cannot change, with
    -- bounds that keep the turns few (the verifier follows each of them)
    if s.form ~= 'for' and s.form ~= 'while' and s.form ~= 'repeat' then bad('bad loop form', s) end
    if s.step ~= 1 and s.step ~= -1 and s.step ~= 2 then bad('bad loop step', s) end
    if s.form ~= 'for' and s.step ~= 1 then bad('while and repeat count up by 1', s) end
    local tf, vf = self:num(s.from)
    local tl, vl = self:num(s.limit)
    if tf ~= TI or tl ~= TI then bad('loop bounds are int64', s) end
    if s.form ~= 'for' then -- the limit in a local the loop never changes
      self:declare(s.lim, { t = TI, kind = 'ro' }, s)
      self.const[s.lim] = vl
    end
    self:declare(s.name, { t = TI, kind = 'ro' }, s)
    -- a turn may follow any other: what the body assigns is unknown in it and after it
    local assigned = {}
    local function walk(b)
      for _, x in ipairs(b or {}) do
        if x.k == 'set' then assigned[x.name] = true end
        walk(x.body)
        walk(x.els)
        for _, arm in ipairs(x.arms or {}) do walk(arm.body) end
      end
    end
    walk(s.body)
    local entry = copy(self.const)
    for name in pairs(assigned) do self.const[name] = RT end
    self.const[s.name] = RT
    local header = copy(self.const)
    self.in_loop = self.in_loop + 1
    local outer_breaks = self.breaks
    self.breaks = {}
    local out = self:block(s.body, copy(self.const))
    local breaks = self.breaks
    self.breaks = outer_breaks
    self.in_loop = self.in_loop - 1
    -- after it, what the compiler knows: the states it may leave with agree on
    -- it.  A while loop leaves from its header (where what it assigns is not
    -- known); a repeat loop and a for loop from the end of a turn, a for loop
    -- also from its entry unless its constant bounds give it a turn (and not
    -- at all when they give it none); any loop from its breaks.  Said so that
    -- a divisor the compiler knows to be 0 is repaired.
    local never = s.form == 'for' and vf ~= RT and vl ~= RT and
      ((s.step > 0 and vf > vl) or (s.step < 0 and vf < vl))
    local exits = {}
    if never then
      exits[1] = entry
    else
      for _, st in ipairs(breaks) do exits[#exits + 1] = st end
      if s.form == 'while' then
        exits[#exits + 1] = header
      else
        if out then exits[#exits + 1] = out end
        if s.form == 'for' and (vf == RT or vl == RT) then exits[#exits + 1] = entry end
      end
    end
    for name in pairs(assigned) do
      local v
      for i, st in ipairs(exits) do
        local x = st[name]
        if x == nil then x = RT end
        if i == 1 then v = x elseif not same_const(v, x) then v = RT end
      end
      if v == nil then v = RT end
      self.const[name] = v
    end
  elseif k == 'brk' then
    if self.in_loop == 0 then bad('break outside a loop', s) end
    self.breaks[#self.breaks + 1] = copy(self.const)
    return false
  elseif k == 'ret' then
    if s.e then self:expr(s.e) end
    return false
  else
    bad('unknown statement ' .. tostring(k), s)
  end
  return true
end

-- true, or nil, the reason and the offending node.
function M.check(prog)
  local c = setmetatable({ vars = {}, const = {}, declared = {}, nlocals = 0, in_look = 0, in_loop = 0 },
    Check)
  local ok, err = pcall(function()
    for _, u in ipairs(prog.upv or {}) do
      if u.e.k ~= 'num' then bad('upvalue that is not a literal', u) end
      local t, v = c:expr(u.e)
      c:declare(u.name, { t = t, kind = 'upv' }, u)
      c.const[u.name] = v
    end
    c:block(prog.body, c.const)
    if c.nlocals > 180 then bad('too many locals', prog) end
  end)
  if ok then return true end
  if type(err) ~= 'table' then error(err, 0) end
  return nil, err.why, err.node, err.t
end

-- The type of an expression in a program at a point is what the checker
-- computes; the generator keeps its own view (G.vars) as it builds.

---------------------------------------------------------------- the generator

local G = {}
G.__index = G

local small = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 53, 63, 64, 65, 100, 127, 128,
  255, 256, 1000, 4095, 4096, 65535, 65536 }
local wide = { 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffff, 2 ^ 53 - 1, 2 ^ 40 }
local big64 = { 0x123456789LL, 0x7fffffffffffffffLL, -0x7fffffffffffffffLL - 1, -1LL, 0x100000000LL,
  0xffffffffLL, 0x7fffffffLL, -0x80000000LL, 0x0123456789abcdefLL, 0x8000000000000001LL }
local shifts = { 0, 1, 3, 7, 8, 16, 31, 32, 33, 63, 64, 65, -1 }
local exps = { 0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 7, 8, 16, 31, 32, 63, 64 }
local narrow_types = { 'uint8_t', 'int8_t', 'uint16_t', 'int16_t', 'uint32_t', 'int32_t' }
local keys = { 0, 1, 2, 3, 5, 7, 8, 17, 255, 0xffffffff, -1, 0x100000001 }
local field_names = {}
for name in pairs(O.fields) do field_names[#field_names + 1] = name end
table.sort(field_names)
local layer_names = {}
for name in pairs(O.layers) do layer_names[#layer_names + 1] = name end
table.sort(layer_names)

local function num(v, lit) return { k = 'num', v = v, lit = lit } end
local function plain(n) return num(ffi.cast(i64, n), 'n') end
M.num, M.plain = num, plain

function G:fresh(prefix)
  self.nvar = self.nvar + 1
  return prefix .. self.nvar
end

function G:vars_where(pred)
  local out = {}
  for _, v in ipairs(self.vars) do if pred(v) then out[#out + 1] = v end end
  return out
end

-- A literal of type nt.
function G:lit(nt)
  local r, f = self.rng, self.f
  if nt == TU then
    local x = r:chance(0.5) and r:pick(big64) or r:chance(0.5) and r:pick(small) or r:u64()
    return num(ffi.cast(u64, x), 'ULL')
  end
  if f.k64 and r:chance(0.2) then
    return num(r:chance(0.7) and ffi.cast(i64, r:pick(big64)) or ffi.cast(i64, r:u64()), 'LL')
  end
  local x = r:chance(0.8) and r:pick(small) or r:pick(wide)
  if r:chance(0.25) then x = -x end
  return plain(x)
end

-- A literal of type nt that the parser does not fold with another one.
local function cdata_lit(nt, x)
  if nt == TU then return num(ffi.cast(u64, x), 'ULL') end
  return num(ffi.cast(i64, x), 'LL')
end

function G:refs(nt)
  return self:vars_where(function(v)
    return v.kind == 'ref' and (not nt or (v.map.val == 'uint64_t') == (nt == TU))
  end)
end

-- A leaf of type nt: a literal (unless nolit), a variable, the context,
-- the packet, a map value.
function G:num_leaf(nt, nolit)
  local r, f = self.rng, self.f
  local opts = {}
  if not nolit then opts[#opts + 1] = { 3, 'lit' } end
  local vs = self:vars_where(function(v) return v.t == nt and v.kind ~= 'ref' end)
  if #vs > 0 then opts[#opts + 1] = { 6, 'var' } end
  local refs = self:refs(nt)
  if #refs > 0 then opts[#opts + 1] = { 4, 'vrd' } end
  if nt == TI then
    -- every packet read may be past the end, and one such read makes the
    -- run return 0: a program reads a few, so that most runs finish
    if f.ctx then opts[#opts + 1] = { 3, 'ctx' } end
    if f.packet and self.npkt < 4 then opts[#opts + 1] = { 3, 'pkt' } end
    if f.pktidx and self.leafdepth < 2 and self.npidx < 2 then opts[#opts + 1] = { 2, 'pidx' } end
  elseif f.u64 and self.leafdepth < 2 and (f.ctx or f.packet) then
    opts[#opts + 1] = { 2, 'widen' }
  end
  if #opts == 0 then return cdata_lit(nt, r:pick(small)) end
  local which = r:weighted(opts)
  if which == 'lit' then return self:lit(nt) end
  if which == 'var' then return { k = 'var', name = r:pick(vs).name } end
  if which == 'vrd' then return { k = 'vrd', name = r:pick(refs).name } end
  if which == 'ctx' then
    if r:chance(0.4) then return { k = 'cb', i = r:below(5) } end
    return { k = 'skb', f = r:pick({ 'len', 'mark', 'priority' }) }
  end
  if which == 'pkt' then
    self.npkt = self.npkt + 1
    if r:chance(0.6) then return { k = 'pf', f = r:pick(field_names) } end
    local layer = self:layer()
    local i = r:chance(0.85) and r:below(layer == 'eth' and 40 or 16) or r:range(16, 120)
    if f.bit and r:chance(0.25) then -- two bytes as a word (combine_loads' pattern)
      local hi = { k = 'bit', f = 'lshift', args = { { k = 'pb', layer = layer, i = i }, plain(8) } }
      local lo = { k = 'pb', layer = layer, i = i + 1 }
      if r:chance(0.3) then return { k = 'bin', op = '+', a = hi, b = lo } end
      return { k = 'bit', f = 'bor', args = { hi, lo } }
    end
    return { k = 'pb', layer = layer, i = i }
  end
  self.leafdepth = self.leafdepth + 1
  local e
  if which == 'pidx' then
    -- an index near the layer (often in the packet), or anything at all
    self.npidx = self.npidx + 1
    local idx
    if r:chance(0.85) and f.bit then
      idx = { k = 'bit', f = 'band', args = { self:num(TI, 1), plain(r:pick({ 7, 15, 15, 31, 63 })) } }
    else
      idx = self:num(r:chance(0.85) and TI or (f.u64 and TU or TI), 1)
    end
    e = { k = 'pi', layer = self:layer(), e = idx }
  else -- widen: a run-time uint64
    e = { k = 'cast', ct = 'uint64_t', a = self:num_leaf(TI, true) }
  end
  self.leafdepth = self.leafdepth - 1
  return e
end

-- A layer to index: mostly the ones most packets reach.
function G:layer()
  local r = self.rng
  if r:chance(0.75) then return r:pick({ 'eth', 'eth', 'ip', 'ip', 'l4', 'tcp', 'udpdata' }) end
  return r:pick(layer_names)
end

-- Operand types of a binary operation whose result is nt.
function G:operand_types(nt)
  if nt == TI then return TI, TI end
  local c = self.rng:below(3)
  if c == 0 then return TU, TU elseif c == 1 then return TU, TI end
  return TI, TU
end

-- Makes sure a and b are not both plain literals.
function G:unfold(a, b, tb)
  if plainlit(a) and plainlit(b) then return self:num_leaf(tb, true) end
  return b
end

-- A number expression of type nt, at most d levels deep.
function G:num(nt, d)
  local r, f = self.rng, self.f
  if d <= 0 or r:chance(0.35) then return self:num_leaf(nt) end
  local opts = {}
  local function add(w, name) opts[#opts + 1] = { w, name } end
  if f.arith then add(30, 'bin'); add(4, 'unm') end
  if f.div then add(12, 'div') end
  if f.pow then add(4, 'pow') end
  if f.bit then add(14, 'bit') end
  if f.tobit and nt == TI then add(3, 'tobit') end
  if f.u64 then add(5, 'cast64') end
  if f.cast and nt == TI then add(4, 'castn') end
  if f.logic then add(8, 'tern'); add(4, 'andor') end
  if #opts == 0 then return self:num_leaf(nt) end
  local which = r:weighted(opts)
  if which == 'bin' or which == 'div' then
    local ta, tb = self:operand_types(nt)
    local op = which == 'bin' and r:pick({ '+', '-', '*', '+', '-' }) or r:pick({ '/', '%' })
    local a = self:num(ta, d - 1)
    local b = self:num(tb, d - 1)
    if which == 'div' and b.k == 'num' and b.v == 0 then b = cdata_lit(tb, r:range(1, 9)) end
    return { k = 'bin', op = op, a = a, b = self:unfold(a, b, tb) }
  elseif which == 'unm' then
    return { k = 'unm', a = self:num(nt, d - 1) }
  elseif which == 'pow' then
    local a = self:num(nt, d - 1)
    if plainlit(a) then a = self:num_leaf(nt, true) end
    return { k = 'pow', a = a, n = r:pick(exps) }
  elseif which == 'bit' then
    local fn = r:pick({ 'band', 'bor', 'bxor', 'band', 'lshift', 'rshift', 'arshift', 'bnot' })
    if fn == 'bnot' then return { k = 'bit', f = fn, args = { self:num(nt, d - 1) } } end
    if fn == 'lshift' or fn == 'rshift' or fn == 'arshift' then
      local n = r:chance(0.6) and plain(r:pick(shifts)) or self:num(self:numtype(), d - 1)
      return { k = 'bit', f = fn, args = { self:num(nt, d - 1), n } }
    end
    local ta, tb = self:operand_types(nt)
    local args = { self:num(ta, d - 1), self:num(tb, d - 1) }
    -- the low half, as hashes take it (narrow_to_32's pattern)
    if fn == 'band' and r:chance(0.3) then args[2] = cdata_lit(tb, 0xffffffff) end
    if r:chance(0.04) then args[3] = self:num(nt, d - 1) end
    return { k = 'bit', f = fn, args = args }
  elseif which == 'tobit' then
    return { k = 'bit', f = 'tobit', args = { self:num(f.u64 and r:chance(0.3) and TU or TI, d - 1) } }
  elseif which == 'cast64' then
    if nt == TU then
      return { k = 'cast', ct = 'uint64_t', a = self:num(r:chance(0.7) and TI or TU, d - 1) }
    end
    return { k = 'cast', ct = 'int64_t', a = self:num(r:chance(0.7) and TU or TI, d - 1) }
  elseif which == 'castn' then
    return { k = 'cast', ct = r:pick(narrow_types), a = self:num(self:numtype(), d - 1) }
  elseif which == 'tern' then
    -- c and x or y: x is a number, never false, so this is x when c holds
    return { k = 'or', a = { k = 'and', a = self:cond(d - 1), b = self:num(nt, d - 1) },
      b = self:num(nt, d - 1) }
  end
  -- andor: a number is true, so `x or y` is x and `x and y` is y
  if r:chance(0.5) then return { k = 'or', a = self:num(nt, d - 1), b = self:value(d - 1) } end
  return { k = 'and', a = self:num(self:numtype(), d - 1), b = self:num(nt, d - 1) }
end

function G:numtype()
  return (self.f.u64 and self.rng:chance(0.2)) and TU or TI
end

-- An expression that is true or false (or nil when none can be made).
function G:bool(d)
  local r, f = self.rng, self.f
  local opts = {}
  local bvs = self:vars_where(function(v) return v.kind == 'local' and band(v.t, TI + TU + TP) == 0 end)
  if f.cmp then opts[#opts + 1] = { 12, 'cmp' } end
  if #bvs > 0 then opts[#opts + 1] = { 4, 'var' } end
  if f.logic then
    opts[#opts + 1] = { 3, 'not' }
    opts[#opts + 1] = { 4, 'andor' }
    opts[#opts + 1] = { 1, 'lit' }
    if f.cmp then opts[#opts + 1] = { 1, 'eqmix' } end
  end
  if #opts == 0 then return nil end
  local which = r:weighted(opts)
  if d <= 0 and (which == 'not' or which == 'andor') then which = f.cmp and 'cmp' or 'lit' end
  if which == 'cmp' then
    local op = r:pick({ '<', '<=', '>', '>=', '==', '~=' })
    local ta, tb = self:numtype(), self:numtype()
    return { k = 'cmp', op = op, a = self:num(ta, d - 1), b = self:num(tb, d - 1) }
  elseif which == 'var' then
    return { k = 'var', name = r:pick(bvs).name }
  elseif which == 'not' then
    return { k = 'not', a = self:cond(d - 1) }
  elseif which == 'andor' then
    local a, b = self:bool(d - 1), self:bool(d - 1)
    if not a or not b then return { k = 'bool', v = r:chance(0.5) } end
    return { k = r:pick({ 'and', 'or' }), a = a, b = b }
  elseif which == 'lit' then
    return { k = 'bool', v = r:chance(0.5) }
  end
  -- eqmix: values of different kinds are never equal in Lua (each side of
  -- one kind: the compiler cannot compare a number-or-false, README)
  return { k = 'cmp', op = r:pick({ '==', '~=' }), a = self:plainvalue(d - 1), b = self:plainvalue(d - 1) }
end

-- A value of one kind: a number, a boolean, nil or false.
function G:plainvalue(d)
  local c = self.rng:below(100)
  if c < 60 then return self:num(self:numtype(), d) end
  if c < 85 then return self:bool(d) or self:num(TI, d) end
  return self.rng:chance(0.5) and { k = 'nil' } or { k = 'bool', v = false }
end

-- Any value a variable may hold or a function return: numbers, booleans,
-- nil and the mixtures `and`/`or` make.
function G:value(d)
  local r, f = self.rng, self.f
  local c = r:below(100)
  if c < 55 then return self:num(TI, d) end
  if c < 65 then return self:num(self:numtype(), d) end
  if c < 85 then return self:bool(d) or self:num(TI, d) end
  if not f.logic then return self:num(TI, d) end
  if c < 98 then
    local test = self:bool(d - 1) or self:cond(d - 1)
    return { k = c < 92 and 'and' or 'or', a = test, b = self:num(self:numtype(), d - 1) }
  end
  return r:chance(0.5) and { k = 'nil' } or { k = 'bool', v = false }
end

-- A condition: anything, map value pointers included.
function G:cond(d)
  local r = self.rng
  local refs = self:refs()
  if #refs > 0 and r:chance(0.15) then
    local ref = { k = 'ref', name = r:pick(refs).name }
    if r:chance(0.3) then return { k = 'not', a = ref } end
    local b = self:bool(d - 1)
    if b and r:chance(0.5) then return { k = r:pick({ 'and', 'or' }), a = ref, b = b } end
    return ref
  end
  local c = r:below(100)
  if c < 75 then
    local b = self:bool(d)
    if b then return b end
  end
  if c < 88 then return self:num(self:numtype(), d) end
  return self:plainvalue(d)
end

-- An expression whose type fits in t (the declared type of a variable).
function G:typed(t, d)
  if t == TI or t == TU then return self:num(t, d) end
  for _ = 1, 20 do
    local e = band(t, TT + TF) == TT + TF and self:bool(d) or self:value(d)
    if e then
      local ok, et = pcall(self.type_of, self, e)
      if ok and et and bor(et, t) == t then return e end
    end
  end
  if band(t, TI) ~= 0 then return self:num(TI, d) end
  if band(t, TU) ~= 0 then return self:num(TU, d) end
  if band(t, TF) ~= 0 then return { k = 'bool', v = false } end
  if band(t, TT) ~= 0 then return { k = 'bool', v = true } end
  return { k = 'nil' }
end

-- The type of a freshly built expression, from the generator's variables.
function G:type_of(e)
  -- typing only: a zero divisor is repaired once the program is whole
  local c = setmetatable({ vars = self.byname, const = {}, declared = {}, nlocals = 0, in_look = 0,
    typing = true }, Check)
  local ok, t = pcall(c.expr, c, e)
  if not ok then
    if type(t) == 'table' then return nil, t.why end
    error(t, 0)
  end
  return t
end

-- Maps a lookup may read (uint64 values only with u64), or a statement
-- may change (no hash map while a value pointer is held: an update there
-- replaces the element the pointer points at).
function G:maps(purpose)
  local out = {}
  for _, d in ipairs(O.maps) do
    local ok = true
    if purpose == 'lookup' then ok = d.val ~= 'uint64_t' or self.f.u64 end
    if purpose == 'change' then ok = d.type ~= 'hash' or self.in_look == 0 end
    if ok then out[#out + 1] = d end
  end
  return out
end

-- A map key: often one of the keys the maps hold.
function G:key()
  local r, f = self.rng, self.f
  local c = r:below(100)
  if c < 35 then
    local k = r:pick(keys)
    if k > 0x7fffffff then return cdata_lit(TI, k) end
    return plain(k)
  end
  if c < 75 and f.bit then
    return { k = 'bit', f = 'band', args = { self:num(TI, 1), plain(r:pick({ 1, 3, 7, 15 })) } }
  end
  return self:num(self:numtype(), 2)
end

-- The generator's variables in scope: a list (to pick from) and by name
-- (the checker's view, for typing new expressions).
function G:push(v)
  self.vars[#self.vars + 1] = v
  self.byname[v.name] = v
end

function G:pop_to(mark)
  for i = #self.vars, mark + 1, -1 do
    self.byname[self.vars[i].name] = nil
    self.vars[i] = nil
  end
end

function G:declare(out, e)
  local t, why = self:type_of(e)
  if not t then
    error(('fuzz: the generator made an invalid expression (%s): %s'):format(why,
      M.render({ body = { { k = 'ret', e = e } } })), 0)
  end
  local name = self:fresh('x')
  out[#out + 1] = { k = 'local', name = name, e = e }
  self:push({ name = name, t = t, kind = 'local' })
  return name, t
end

function G:assignable()
  return self:vars_where(function(v) return v.kind == 'local' end)
end

function G:stmt(out, depth)
  local r, f = self.rng, self.f
  local opts = {}
  local targets = self:assignable()
  if #targets > 0 then opts[#opts + 1] = { 30, 'set' }; opts[#opts + 1] = { 6, 'copy' } end
  opts[#opts + 1] = { 12, 'local' }
  if f.branch and depth < 3 then opts[#opts + 1] = { 20, 'if' } end
  if f.map then
    if depth < 3 then opts[#opts + 1] = { 12, 'look' } end
    opts[#opts + 1] = { 5, 'mset' }
    opts[#opts + 1] = { 5, 'xadd' }
    if self.in_look == 0 then opts[#opts + 1] = { 2, 'mdel' } end
  end
  if #self:refs() > 0 then opts[#opts + 1] = { 8, 'vwr' } end
  if f.ctx then opts[#opts + 1] = { 3, 'cset' } end
  if f.loop and depth < 3 and self.nloop < 2 and self.loops < 3 then opts[#opts + 1] = { 8, 'loop' } end
  if self.nloop > 0 then opts[#opts + 1] = { 3, 'brk' } end
  local which = r:weighted(opts)
  if which == 'set' then
    local v = r:pick(targets)
    out[#out + 1] = { k = 'set', name = v.name, e = self:typed(v.t, r:range(1, 3)) }
  elseif which == 'copy' then
    -- local e = d; d = x: two names for one value, then one of them changes
    local v = r:pick(targets)
    local name = self:fresh('x')
    out[#out + 1] = { k = 'local', name = name, e = { k = 'var', name = v.name } }
    self:push({ name = name, t = v.t, kind = 'local' })
    if r:chance(0.6) then out[#out + 1] = { k = 'set', name = v.name, e = self:typed(v.t, 2) } end
  elseif which == 'local' then
    self:declare(out, self:value(r:range(1, 3)))
  elseif which == 'if' then
    local s = { k = 'if', arms = {} }
    for _ = 1, r:weighted({ { 6, 1 }, { 3, 2 }, { 1, 3 } }) do
      local c = self:cond(2)
      s.arms[#s.arms + 1] = { c = c, body = self:block(depth + 1, r:range(1, 3), true) }
    end
    if r:chance(0.5) then s.els = self:block(depth + 1, r:range(1, 3), true) end
    out[#out + 1] = s
  elseif which == 'look' then
    self:look(out, depth)
  elseif which == 'mset' or which == 'xadd' or which == 'mdel' then
    local ds = self:maps(which ~= 'xadd' and 'change' or nil)
    if which == 'mdel' then -- mostly hash maps: an array cannot delete
      local all = ds
      ds = {}
      for _, d in ipairs(all) do if d.type == 'hash' or r:chance(0.2) then ds[#ds + 1] = d end end
    end
    if #ds == 0 then return self:stmt(out, depth) end
    local d = r:pick(ds)
    local s = { k = which, map = d.name, key = self:key() }
    if which ~= 'mdel' then
      if which == 'xadd' and r:chance(0.5) then s.e = plain(r:pick({ 1, 1, 2, -1, 0x7fffffff }))
      else s.e = self:num(self:numtype(), 2) end
    end
    out[#out + 1] = s
  elseif which == 'vwr' then
    out[#out + 1] = { k = 'vwr', name = r:pick(self:refs()).name, e = self:num(self:numtype(), 2) }
  elseif which == 'cset' then
    out[#out + 1] = { k = 'cset', f = r:pick({ 'mark', 'priority', 'cb', 'cb' }), i = r:below(5),
      e = self:num(self:numtype(), 2) }
  elseif which == 'loop' then
    self:loop(out, depth)
  elseif which == 'brk' then
    out[#out + 1] = { k = 'if', arms = { { c = self:cond(2), body = { { k = 'brk' } } } } }
  end
end

-- A bound of a few turns: a small literal, or a run-time value masked.
function G:bound()
  local r = self.rng
  if r:chance(0.5) then return plain(r:range(0, 9)) end
  return { k = 'bit', f = 'band', args = { self:num(TI, 1), plain(r:pick({ 3, 7, 15 })) } }
end

-- for i = from, limit[, step] / while i < limit / repeat ... until i >= limit
function G:loop(out, depth)
  local r = self.rng
  local s = { k = 'loop', form = r:weighted({ { 5, 'for' }, { 3, 'while' }, { 2, 'repeat' } }),
    name = self:fresh('i'), step = 1 }
  if s.form == 'for' then s.step = r:weighted({ { 6, 1 }, { 3, -1 }, { 1, 2 } }) end
  if s.step < 0 then s.from, s.limit = self:bound(), plain(r:range(-2, 3))
  else s.from, s.limit = plain(r:range(-2, 3)), self:bound() end
  if s.form ~= 'for' then s.lim = self:fresh('n') end
  local mark = #self.vars
  if s.lim then self:push({ name = s.lim, t = TI, kind = 'ro' }) end
  self:push({ name = s.name, t = TI, kind = 'ro' })
  self.nloop = self.nloop + 1
  self.loops = self.loops + 1
  s.body = self:block(depth + 1, r:range(1, 3), true)
  self.nloop = self.nloop - 1
  self:pop_to(mark)
  out[#out + 1] = s
end

-- local v = m[k]; if v [and c] then <v[0] used> else ... end
function G:look(out, depth)
  local r = self.rng
  local d = r:pick(self:maps('lookup'))
  local s = { k = 'look', map = d.name, key = self:key(), name = self:fresh('v') }
  s.form = r:weighted({ { 5, 'plain' }, { 3, 'and' }, { 2, 'not' } })
  local ref = { name = s.name, kind = 'ref', map = d, t = TP + TN, live = true } -- live while in scope
  if s.form == 'and' then
    self:push(ref)
    s.c = self:bool(2) or { k = 'bool', v = true }
    self:pop_to(#self.vars - 1)
  end
  local mark = #self.vars
  self:push(ref)
  self.in_look = self.in_look + 1
  s.body = self:block(depth + 1, r:range(1, 4), true)
  self.in_look = self.in_look - 1
  self:pop_to(mark)
  if r:chance(0.4) then s.els = self:block(depth + 1, r:range(1, 2), true) end
  out[#out + 1] = s
end

function G:block(depth, n, allow_ret)
  local mark = #self.vars
  local out = {}
  for _ = 1, n do self:stmt(out, depth) end
  if allow_ret and self.rng:chance(0.15) then out[#out + 1] = { k = 'ret', e = self:value(2) } end
  self:pop_to(mark)
  return out
end

-- The last return uses every live number, so all of them stay live (and
-- some must be spilled) until the end.
function G:final()
  local r, f = self.rng, self.f
  local nums, others = {}, {}
  for _, v in ipairs(self.vars) do
    if v.kind ~= 'ref' then
      if isnum(v.t) then nums[#nums + 1] = v else others[#others + 1] = v end
    end
  end
  local ops = {}
  if f.arith then ops = { '+', '-', '+', '*' } end
  if f.bit then ops[#ops + 1] = 'bxor' end
  if #nums < 2 or #ops == 0 or r:chance(0.2) then return { k = 'ret', e = self:value(3) } end
  local e = { k = 'var', name = nums[1].name }
  local function combine(x)
    local op = r:pick(ops)
    if op == 'bxor' then e = { k = 'bit', f = 'bxor', args = { e, x } }
    else e = { k = 'bin', op = op, a = e, b = x } end
  end
  for i = 2, #nums do combine({ k = 'var', name = nums[i].name }) end
  if f.logic then
    for _, v in ipairs(others) do
      local test = { k = 'and', a = { k = 'var', name = v.name }, b = cdata_lit(TI, r:range(1, 99)) }
      combine({ k = 'or', a = test, b = cdata_lit(TI, r:range(100, 199)) })
    end
  end
  return { k = 'ret', e = e }
end

function G:program()
  local r, f = self.rng, self.f
  local prog = { upv = {}, body = {} }
  if f.upval then
    for _ = 1, r:range(1, 3) do
      local nt = self:numtype()
      local name = self:fresh('u')
      prog.upv[#prog.upv + 1] = { name = name, e = self:lit(nt) }
      self:push({ name = name, t = nt, kind = 'upv' })
    end
  end
  local body = prog.body
  -- the locals first: with spill, more than eBPF's four callee-saved registers
  for _ = 1, f.spill and r:range(10, 16) or r:range(2, 5) do
    self:declare(body, r:chance(0.8) and self:num(self:numtype(), r:range(0, 2)) or self:value(2))
  end
  for _ = 1, r:range(2, 8) do self:stmt(body, 1) end
  body[#body + 1] = self:final()
  return prog
end

-- Replaces divisors the checker knows to be 0 (the compiler would refuse
-- them) by non-zero literals until the program checks.
local function repair(prog, rng)
  for _ = 1, 200 do
    local ok, why, node, tb = M.check(prog)
    if ok then return prog end
    if why == 'mixed' then return nil end -- a program the compiler refuses by design
    if why ~= 'divzero' then
      local at = node and node.k and M.render({ body = { { k = 'ret', e = node.e or node } } }) or ''
      error(('fuzz: the generator made an invalid program (%s):\n%s\nat: %s'):format(why, M.render(prog), at),
        0)
    end
    if why == 'divzero' then
      -- a literal of the divisor's type, so that the division keeps its type
      local v = rng:range(1, 9)
      if tb == TU or plainlit(node.a) then node.b = cdata_lit(tb, v) else node.b = plain(v) end
    end
  end
  error('fuzz: could not repair a program:\n' .. M.render(prog), 0)
end

-- A program for (seed, index) under the feature set.  With swarm, each
-- program keeps a random part of the features (swarm testing): a feature
-- the compiler refuses then does not hide the bugs behind the others.
function M.program(seed, index, feat, swarm)
  local rng = M.rng(seed, index)
  local f = feat
  if swarm then
    f = {}
    for _, name in ipairs(M.feature_names) do
      if feat[name] and rng:chance(0.7) then f[name] = true end
    end
  end
  -- programs that test values the compiler cannot test (README) are made
  -- again, from where the generator's random numbers are
  for _ = 1, 100 do
    local g = setmetatable({ rng = rng, f = f, vars = {}, byname = {}, nvar = 0, in_look = 0,
      leafdepth = 0, npkt = 0, npidx = 0, nloop = 0, loops = 0 }, G)
    local prog = repair(g:program(), rng)
    if prog then return prog end
  end
  error('fuzz: no program without a mixed-type test after 100 tries', 0)
end

----------------------------------------------------------------- rendering

local function lit_text(e, oracle)
  if e.lit == 'n' and not oracle then
    local n = tonumber(e.v)
    local s = ('%.0f'):format(n)
    return n < 0 and '(' .. s .. ')' or s
  end
  local s = tostring(e.lit == 'n' and ffi.cast(i64, e.v) or e.v)
  return s:sub(1, 1) == '-' and '(' .. s .. ')' or s
end

local R = {}
R.__index = R

-- The local functions some operators are rendered as (run.lua's env
-- defines them: fuzz programs call them with run-time values, so the
-- compiler inlines them or makes them subprograms); f_add2 calls f_add,
-- f_add3 calls f_add2, and so on.
local FNS = { ['+'] = 'f_add', ['-'] = 'f_sub', ['*'] = 'f_mul', ['<'] = 'f_lt', ['=='] = 'f_eq' }
M.FNS = FNS
local DEPTH_SUFFIX = { [0] = '', '2', '3' }

-- Every third + - * < == (counted in R.nfn) is a call, of a depth that turns.
function R:fn_call(op, a, b)
  self.nfn = self.nfn + 1
  if self.oracle or not FNS[op] or self.nfn % 3 ~= 0 then return nil end
  return ('%s%s(%s, %s)'):format(FNS[op], DEPTH_SUFFIX[math.floor(self.nfn / 3) % 3], a, b)
end

function R:expr(e)
  local k, oracle = e.k, self.oracle
  if k == 'num' then return lit_text(e, oracle)
  elseif k == 'bool' then return tostring(e.v)
  elseif k == 'nil' then return 'nil'
  elseif k == 'var' or k == 'ref' then return e.name
  elseif k == 'skb' then return 'skb.' .. e.f
  elseif k == 'cb' then return 'skb.cb[' .. e.i .. ']'
  elseif k == 'pf' then
    if oracle then return ("P:field('%s')"):format(e.f) end
    return e.f
  elseif k == 'pb' then
    if oracle then return ("P:index('%s', %dLL)"):format(e.layer, e.i) end
    return ('%s[%d]'):format(O.layers[e.layer], e.i)
  elseif k == 'pi' then
    if oracle then return ("P:index('%s', %s)"):format(e.layer, self:expr(e.e)) end
    return ('%s[%s]'):format(O.layers[e.layer], self:expr(e.e))
  elseif k == 'bin' then
    local a, b = self:expr(e.a), self:expr(e.b)
    if oracle and e.op == '/' then return ('O.div(%s, %s)'):format(a, b) end
    if oracle and e.op == '%' then return ('O.mod(%s, %s)'):format(a, b) end
    return self:fn_call(e.op, a, b) or ('(%s %s %s)'):format(a, e.op, b)
  elseif k == 'pow' then
    if oracle then return ('O.pow(%s, %d)'):format(self:expr(e.a), e.n) end
    return ('(%s ^ %d)'):format(self:expr(e.a), e.n)
  elseif k == 'unm' then return '(-' .. self:expr(e.a) .. ')'
  elseif k == 'bit' then
    local args = {}
    for i, a in ipairs(e.args) do args[i] = self:expr(a) end
    if oracle and e.f == 'tobit' then return ('O.tobit(%s)'):format(args[1]) end
    return ('bit.%s(%s)'):format(e.f, table.concat(args, ', '))
  elseif k == 'cast' then
    return ("%s('%s', %s)"):format(oracle and 'O.cast' or 'ffi.cast', e.ct, self:expr(e.a))
  elseif k == 'cmp' then
    local a, b = self:expr(e.a), self:expr(e.b)
    return self:fn_call(e.op, a, b) or ('(%s %s %s)'):format(a, e.op, b)
  elseif k == 'and' or k == 'or' then return ('(%s %s %s)'):format(self:expr(e.a), k, self:expr(e.b))
  elseif k == 'not' then return '(not ' .. self:expr(e.a) .. ')'
  elseif k == 'vrd' then
    if oracle then return ('O.rd(%s)'):format(e.name) end
    return e.name .. '[0]'
  end
  error('fuzz: cannot render ' .. tostring(k))
end

function R:line(depth, s) self.out[#self.out + 1] = ('  '):rep(depth) .. s end

function R:block(b, depth)
  for _, s in ipairs(b) do self:stmt(s, depth) end
end

function R:stmt(s, depth)
  local k, oracle = s.k, self.oracle
  if k == 'local' then self:line(depth, ('local %s = %s'):format(s.name, self:expr(s.e)))
  elseif k == 'set' then self:line(depth, ('%s = %s'):format(s.name, self:expr(s.e)))
  elseif k == 'cset' then
    local field = s.f == 'cb' and ('skb.cb[%d]'):format(s.i) or 'skb.' .. s.f
    if oracle then self:line(depth, ('%s = O.u32(%s)'):format(field, self:expr(s.e)))
    else self:line(depth, ('%s = %s'):format(field, self:expr(s.e))) end
  elseif k == 'if' then
    for i, arm in ipairs(s.arms) do
      self:line(depth, ('%s %s then'):format(i == 1 and 'if' or 'elseif', self:expr(arm.c)))
      self:block(arm.body, depth + 1)
    end
    if s.els then
      self:line(depth, 'else')
      self:block(s.els, depth + 1)
    end
    self:line(depth, 'end')
  elseif k == 'look' then
    local key = self:expr(s.key)
    if oracle then self:line(depth, ('local %s = O.get(%s, %s)'):format(s.name, s.map, key))
    else self:line(depth, ('local %s = %s[%s]'):format(s.name, s.map, key)) end
    local first, second = s.body, s.els
    if s.form == 'not' then
      self:line(depth, ('if not %s then'):format(s.name))
      first, second = s.els or {}, s.body
    elseif s.form == 'and' then
      self:line(depth, ('if %s and %s then'):format(s.name, self:expr(s.c)))
    else
      self:line(depth, ('if %s then'):format(s.name))
    end
    self:block(first, depth + 1)
    if second then
      self:line(depth, 'else')
      self:block(second, depth + 1)
    end
    self:line(depth, 'end')
  elseif k == 'mset' then
    if oracle then self:line(depth, ('O.set(%s, %s, %s)'):format(s.map, self:expr(s.key), self:expr(s.e)))
    else self:line(depth, ('%s[%s] = %s'):format(s.map, self:expr(s.key), self:expr(s.e))) end
  elseif k == 'mdel' then
    if oracle then self:line(depth, ('O.del(%s, %s)'):format(s.map, self:expr(s.key)))
    else self:line(depth, ('%s[%s] = nil'):format(s.map, self:expr(s.key))) end
  elseif k == 'xadd' then
    if oracle then self:line(depth, ('O.xadd(%s, %s, %s)'):format(s.map, self:expr(s.key), self:expr(s.e)))
    else self:line(depth, ('xadd(%s[%s], %s)'):format(s.map, self:expr(s.key), self:expr(s.e))) end
  elseif k == 'vwr' then
    if oracle then self:line(depth, ('O.wr(%s, %s)'):format(s.name, self:expr(s.e)))
    else self:line(depth, ('%s[0] = %s'):format(s.name, self:expr(s.e))) end
  elseif k == 'loop' then
    -- the body in a block of its own, so that a return or break may end it
    local function body(d)
      self:line(d, 'do')
      self:block(s.body, d + 1)
      self:line(d, 'end')
    end
    local one = oracle and '1LL' or '1'
    local bounds = ('local %s, %s = %s, %s'):format(s.name, s.lim or s.name .. '_limit', self:expr(s.from),
      self:expr(s.limit))
    -- (not over a range holding 0: unrolled, a turn dividing by the variable
    -- is a compile error even where an earlier turn returns first)
    if s.form == 'for' and not oracle and s.from.k == 'num' and s.limit.k == 'num' and
        tonumber(s.name:match('%d+')) % 2 == 0 and (s.from.v > 0) == (s.limit.v > 0) and
        (s.from.v < 0) == (s.limit.v < 0) and s.from.v ~= 0 then
      -- every other loop with constant bounds as a for ... in over the same
      -- numbers (range, in the runner's environment): unrolled at compile time
      self:line(depth, ('for _, %s in ipairs(range(%s, %s, %d)) do'):format(s.name, self:expr(s.from),
        self:expr(s.limit), s.step))
      self:block(s.body, depth + 1)
      self:line(depth, 'end')
    elseif s.form == 'for' and not oracle then
      local step = s.step == 1 and '' or (', %d'):format(s.step)
      self:line(depth, ('for %s = %s, %s%s do'):format(s.name, self:expr(s.from), self:expr(s.limit), step))
      self:block(s.body, depth + 1)
      self:line(depth, 'end')
    elseif s.form == 'for' then -- a for loop takes numbers, not int64 cdata: the same as a while
      -- on as many lines as the for loop, so that the body's lines are the
      -- same in both renderings (a refusal names a line of the source)
      local cmp = s.step > 0 and '<=' or '>='
      self:line(depth, ('do %s; while %s %s %s_limit do do'):format(bounds, s.name, cmp, s.name))
      self:block(s.body, depth + 1)
      self:line(depth, ('end %s = %s + %dLL end end'):format(s.name, s.name, s.step))
    elseif s.form == 'while' then
      self:line(depth, bounds)
      self:line(depth, ('while %s < %s do'):format(s.name, s.lim))
      body(depth + 1)
      self:line(depth + 1, ('%s = %s + %s'):format(s.name, s.name, one))
      self:line(depth, 'end')
    else
      self:line(depth, bounds)
      self:line(depth, 'repeat')
      body(depth + 1)
      self:line(depth + 1, ('%s = %s + %s'):format(s.name, s.name, one))
      self:line(depth, ('until %s >= %s'):format(s.name, s.lim))
    end
  elseif k == 'brk' then
    self:line(depth, 'break')
  elseif k == 'ret' then
    self:line(depth, s.e and 'return ' .. self:expr(s.e) or 'return')
  else
    error('fuzz: cannot render statement ' .. tostring(k))
  end
end

-- The chunk: upvalues, then `return function(skb) ... end`.  With oracle
-- true, the same program for tools/fuzz/oracle.lua.
function M.render(prog, oracle)
  local r = setmetatable({ out = {}, oracle = oracle, nfn = 0 }, R)
  for _, u in ipairs(prog.upv or {}) do r:line(0, ('local %s = %s'):format(u.name, r:expr(u.e))) end
  r:line(0, 'return function(skb)')
  r:block(prog.body, 1)
  r:line(0, 'end')
  return table.concat(r.out, '\n') .. '\n'
end

-- What a (shrunk) program is made of, as a short sorted list: groups
-- result mismatches, which have no message, by the constructs left in them.
function M.shape(prog)
  local seen = {}
  local function note(x) seen[x] = true end
  local function walk(x)
    if type(x) ~= 'table' then return end
    local k = x.k
    if k == 'num' then note(x.lit == 'n' and 'num' or x.lit)
    elseif k == 'bin' or k == 'cmp' then note(x.op)
    elseif k == 'bit' then note('bit.' .. x.f)
    elseif k == 'cast' then note('cast ' .. x.ct)
    elseif k == 'pf' then note('pkt field')
    elseif k == 'pb' then note('pkt[const]')
    elseif k == 'pi' then note('pkt[run-time]')
    elseif k == 'skb' or k == 'cb' then note('skb')
    elseif k == 'look' then note('lookup')
    elseif k and k ~= 'var' and k ~= 'local' and k ~= 'set' and k ~= 'ret' then note(k) end
    for _, v in pairs(x) do if type(v) == 'table' then walk(v) end end
  end
  walk(prog.body)
  local out = {}
  for name in pairs(seen) do out[#out + 1] = name end
  table.sort(out)
  return table.concat(out, ' ')
end

return M
