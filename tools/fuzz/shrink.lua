-- Shrinks a failing program by delta debugging on its AST: drop runs of
-- statements, inline or drop branches, replace expressions by their parts
-- or by small constants.  A candidate is kept when it is still a valid
-- program (gen.check) and still fails the same way (the caller's test).
local ffi = require('ffi')
local gen = require('tools.fuzz.gen')

local M = {}

local function deepcopy(x)
  if type(x) ~= 'table' then return x end -- cdata numbers are immutable
  local c = {}
  for k, v in pairs(x) do c[k] = deepcopy(v) end
  return c
end
M.deepcopy = deepcopy

local function at(root, path)
  local x = root
  for _, k in ipairs(path) do x = x[k] end
  return x
end

local function extend(path, ...)
  local p = {}
  for i, k in ipairs(path) do p[i] = k end
  for i = 1, select('#', ...) do p[#p + 1] = select(i, ...) end
  return p
end

-- Where an expression's parts are, by kind.
local function parts(e)
  local k = e.k
  if k == 'bin' or k == 'cmp' or k == 'and' or k == 'or' then return { 'a', 'b' } end
  if k == 'pow' or k == 'unm' or k == 'cast' or k == 'not' then return { 'a' } end
  if k == 'pi' then return { 'e' } end
  if k == 'bit' then
    local out = {}
    for i = 1, #e.args do out[i] = { 'args', i } end
    return out
  end
  return {}
end

-- Paths to every block and every expression slot, outermost first.
local function collect(prog)
  local blocks, exprs, stmts = {}, {}, {}
  local expr
  function expr(path)
    exprs[#exprs + 1] = path
    for _, p in ipairs(parts(at(prog, path))) do
      if type(p) == 'table' then expr(extend(path, p[1], p[2])) else expr(extend(path, p)) end
    end
  end
  local block
  local function stmt(path)
    stmts[#stmts + 1] = path
    local s = at(prog, path)
    for _, key in ipairs({ 'key', 'c', 'e' }) do
      if s[key] then expr(extend(path, key)) end
    end
    if s.k == 'if' then
      for i = 1, #s.arms do
        expr(extend(path, 'arms', i, 'c'))
        block(extend(path, 'arms', i, 'body'))
      end
    end
    if s.body then block(extend(path, 'body')) end
    if s.els then block(extend(path, 'els')) end
  end
  function block(path)
    blocks[#blocks + 1] = path
    for i = 1, #at(prog, path) do stmt(extend(path, i)) end
  end
  for i = 1, #(prog.upv or {}) do expr({ 'upv', i, 'e' }) end
  block({ 'body' })
  return blocks, stmts, exprs
end

-- Replaces the statement at path by the statements in list.
local function splice(prog, path, list)
  local parent = at(prog, { unpack(path, 1, #path - 1) })
  local i = path[#path]
  table.remove(parent, i)
  for j = #list, 1, -1 do table.insert(parent, i, list[j]) end
end

-- What an expression may become: small constants, and one run-time
-- value (so that an operation the compiler folds on constants stays one
-- it has to compile).
local function simple_values()
  return { gen.plain(0), gen.plain(1), gen.num(ffi.cast('uint64_t', 0), 'ULL'),
    gen.num(ffi.cast('uint64_t', 1), 'ULL'), { k = 'bool', v = false }, { k = 'bool', v = true },
    { k = 'nil' }, { k = 'skb', f = 'len' } }
end

-- Each candidate is a function making the changed copy; the list goes
-- from the biggest changes to the smallest.
local function candidates(prog)
  local blocks, stmts, exprs = collect(prog)
  local out = {}
  local function add(f) out[#out + 1] = f end
  for i = #(prog.upv or {}), 1, -1 do
    add(function(p) table.remove(p.upv, i) end)
  end
  -- runs of statements, halves first
  for _, bpath in ipairs(blocks) do
    local n = #at(prog, bpath)
    local size = n
    while size >= 1 do
      local count = size -- size changes below; each closure keeps its own
      for start = 1, n - count + 1, count do
        add(function(p)
          local b = at(p, bpath)
          for _ = 1, count do table.remove(b, start) end
        end)
      end
      size = math.floor(size / 2)
    end
  end
  -- branches: one arm instead of the if, an arm or the else dropped
  for _, spath in ipairs(stmts) do
    local s = at(prog, spath)
    if s.k == 'if' then
      for i = 1, #s.arms do
        add(function(p) splice(p, spath, at(p, spath).arms[i].body) end)
        if #s.arms > 1 then add(function(p) table.remove(at(p, spath).arms, i) end) end
      end
      if s.els then
        add(function(p) splice(p, spath, at(p, spath).els) end)
        add(function(p) at(p, spath).els = nil end)
      end
    elseif s.k == 'look' then
      add(function(p) splice(p, spath, at(p, spath).els or {}) end)
      if s.els then add(function(p) at(p, spath).els = nil end) end
      if s.form ~= 'plain' then
        add(function(p)
          local x = at(p, spath)
          x.form, x.c = 'plain', nil
        end)
      end
    elseif s.k == 'ret' and s.e then
      add(function(p) at(p, spath).e = nil end)
    end
  end
  -- a variable assigned once: its uses may become its initial value
  local init, assigned = {}, {}
  for _, spath in ipairs(stmts) do
    local s = at(prog, spath)
    if s.k == 'local' then init[s.name] = s.e elseif s.k == 'set' then assigned[s.name] = true end
  end
  -- expressions: a part of it, or a small constant
  for _, epath in ipairs(exprs) do
    local e = at(prog, epath)
    if e.k == 'var' and init[e.name] and not assigned[e.name] then
      local value = init[e.name]
      add(function(p)
        local x = at(p, epath)
        x.k, x.name = nil, nil
        for k, v in pairs(deepcopy(value)) do x[k] = v end
      end)
    end
    for _, part in ipairs(parts(e)) do
      add(function(p)
        local x = at(p, epath)
        local sub = type(part) == 'table' and x[part[1]][part[2]] or x[part]
        for k in pairs(x) do x[k] = nil end
        for k, v in pairs(sub) do x[k] = v end
      end)
    end
    if e.k == 'pi' then
      add(function(p)
        local x = at(p, epath)
        x.k, x.i, x.e = 'pb', 0, nil
      end)
    end
    local is_small = (e.k == 'num' and e.lit == 'n' and (e.v == 0 or e.v == 1)) or e.k == 'bool'
      or e.k == 'nil' or (e.k == 'skb' and e.f == 'len')
    if not is_small then
      for _, c in ipairs(simple_values()) do
        add(function(p)
          local x = at(p, epath)
          for k in pairs(x) do x[k] = nil end
          for k, v in pairs(c) do x[k] = v end
        end)
      end
      if e.k == 'num' and e.lit ~= 'n' and e.v <= 2 ^ 31 and e.v >= -2 ^ 31 and not gen.is_u(e.v) then
        add(function(p) at(p, epath).lit = 'n' end)
      end
    end
  end
  return out
end

M.candidates = candidates

-- Variables numbered again in the order they appear, for reading.
function M.rename(prog)
  local names, n = {}, 0
  local function walk(x)
    if type(x) ~= 'table' then return end
    if type(x.name) == 'string' and (x.k == 'local' or x.k == 'look') then
      n = n + 1
      names[x.name] = x.name:sub(1, 1) .. n
    end
    for _, k in ipairs({ 'upv', 'body', 'arms', 'els', 'e', 'a', 'b', 'c', 'key', 'args' }) do walk(x[k]) end
    for i = 1, #x do walk(x[i]) end
  end
  for _, u in ipairs(prog.upv or {}) do
    n = n + 1
    names[u.name] = 'u' .. n
  end
  walk(prog.body)
  local out = deepcopy(prog)
  local function apply(x)
    if type(x) ~= 'table' then return end
    if type(x.name) == 'string' and names[x.name] then x.name = names[x.name] end
    for _, v in pairs(x) do apply(v) end
  end
  apply(out)
  return out
end

-- The smallest program found that still fails(prog) (which returns true
-- when the failure is still there).  opts.budget: at most this many
-- programs tried.  Returns it and the number of tries.
function M.shrink(prog, fails, opts)
  opts = opts or {}
  local budget = opts.budget or 2000
  local tried, tries = {}, 0
  local best = prog
  local progress = true
  while progress and tries < budget do
    progress = false
    local cands = candidates(best)
    local i = 1
    while i <= #cands and tries < budget do
      local cand = deepcopy(best)
      cands[i](cand)
      local src = gen.check(cand) and gen.render(cand)
      if src and not tried[src] then
        tried[src] = true
        tries = tries + 1
        if fails(cand) then
          best, progress = cand, true
          cands = candidates(best) -- the same position now holds another change
        else
          i = i + 1
        end
      else
        i = i + 1
      end
    end
  end
  local renamed = M.rename(best)
  if gen.check(renamed) and fails(renamed) then best = renamed end
  return best, tries
end

return M
