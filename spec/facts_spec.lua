-- The one interface between the compiler core and Lua (lua/bpf/facts.lua,
-- asked by csrc/facts.c alone): each query answers as its header says, a
-- failed query is a clean compile error at the program's line, and no other
-- C file asks Lua for facts.
local ffi = require('ffi')
local bpf = require('bpf')
local facts = require('bpf.facts')
local proto = require('bpf.proto')
local builtins = require('bpf.builtins')

local function read(path)
  local f = assert(io.open(path, 'r'))
  local s = f:read('*a')
  f:close()
  return s
end

local function csources()
  local list = {}
  local p = assert(io.popen('ls csrc/*.c'))
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

-- The line a program's body is on, for the error it is expected to name.
local function here() return debug.getinfo(2, 'l').currentline end

describe('the facts interface', function()
  local F = facts.new{ ctx = proto.skb, type = 'sched_cls' }
  local ip_t = ffi.typeof('struct ip_t')

  it('names the context and the program type', function()
    local p = assert(F:program())
    assert.equals(proto.skb.__dissector, p.ctx_ctype)
    assert.equals('sched_cls', p.type)
    p = assert(facts.new{ ctx = { no = 'dissector' } }:program())
    assert.is_false(p.ctx_ctype)
    assert.is_nil(p.type)
  end)

  it('lists the dissector layers and the steps between them', function()
    local byname = {}
    for _, l in ipairs(assert(F:layers())) do byname[l.name] = l end
    for name, l in pairs(proto.layers) do
      assert.equals(l.ctype, byname[name].ctype, name)
    end
    local steps = {}
    for _, s in ipairs(byname.eth.next) do steps[s.name] = s end
    assert.same({ name = 'ip', to = 'ip', skip = 14 }, steps.ip)
    steps = {}
    for _, s in ipairs(byname.ip.next) do steps[s.name] = s end
    assert.same({ name = 'udp', to = 'udp', skip = false, hdr_off = 0, mask = 0x0f, shift = 2 }, steps.udp)
  end)

  it('reads the layers again when the table changes, and only then (run in the kernel)', function()
    local first = assert(F:layers())
    assert.equals(first, assert(F:layers()))
    assert.equals(first, assert(facts.new{}:layers())) -- across compiles too
    local loader = require('bpf.loader')
    local fn = function() return pkt.ip.udp.payload[0] end
    proto.layers.udp.next.payload = { layer = 'data', skip = 8 }
    local ok, prog = pcall(bpf, fn, { type = 'sched_cls' }) -- (prog:load compiles no more)
    proto.layers.udp.next.payload = nil
    assert.is_true(ok, prog)
    assert.is_truthy(prog, 'a step added to the table is seen by the next compile')
    assert.are_not.equals(first, assert(F:layers()))
    local h = assert(prog:load('sched_cls'))
    local pk = require('spec.support.packets')
    local r = assert(loader.test_run(h, pk.eth_ip(17, pk.udp(4000, 53, 'Zpayload'))))
    h:close()
    assert.equals(string.byte('Z'), r.retval)
    local again, err = bpf(fn)
    assert.is_nil(again)
    assert.matches("no field or layer 'payload'", err)
  end)

  it('tells dissectors, helpers and plain values apart', function()
    assert.same({ kind = 'dissector', ctype = ffi.typeof('struct eth_t'), layer = 'eth', off = 0,
      context = false }, assert(F:constant(proto.pkt)))
    local ctx = assert(F:constant(proto.skb))
    assert.equals('dissector', ctx.kind)
    assert.is_true(ctx.context)
    assert.is_false(ctx.off)
    local name = builtins.names[builtins.xadd]
    assert.same({ kind = 'helper', name = name }, assert(F:constant(builtins.xadd)))
    assert.is_false(F:constant({}))
    assert.is_false(F:constant(function() end))
    assert.is_false(F:constant('a string'))
  end)

  it('reads a map constant once, whole', function()
    local stand_in = { __map = true, key_size = 4, val_size = 8, key_type = ffi.typeof('uint32_t'),
      val_type = ffi.typeof('uint64_t'), max_entries = 16 }
    assert.same({ kind = 'map', key_size = 4, val_size = 8, key_type = stand_in.key_type,
      val_type = stand_in.val_type }, assert(F:constant(stand_in)))
    assert.equals(16, F:length(stand_in))
    local ringbuf_like = { __map = true, key_size = 0, val_size = 0 }
    local m = assert(F:constant(ringbuf_like))
    assert.is_false(m.key_type)
    assert.is_false(m.val_type)
  end)

  it('reads a real map (made in the kernel)', function()
    local map = assert(bpf.map('hash', 8, 'uint16_t', 'uint64_t'))
    local m = assert(F:constant(map))
    assert.equals('map', m.kind)
    assert.equals(2, m.key_size)
    assert.equals(8, m.val_size)
    assert.equals(8, F:length(map))
    map:close()
  end)

  it('classifies cdata constants', function()
    local n, u64 = F:integer(ffi.new('uint64_t', 5))
    assert.is_true(u64)
    assert.equals(5, tonumber(n))
    n, u64 = F:integer(ffi.new('int32_t', -3))
    assert.equals(-3, n)
    assert.is_false(u64)
    assert.is_false(F:integer(ffi.new('struct ip_t')))
  end)

  it('describes ctypes: members, sizes, scalars, elements', function()
    local m = assert(F:member(ip_t, 'proto'))
    assert.equals(9, m.offset)
    assert.equals(1, m.size)
    assert.is_nil(m.bpos)
    local ver = assert(F:member(ip_t, 'ver'))
    assert.equals(4, ver.bsize)
    assert.is_false(F:member(ip_t, 'no_such_member'))
    assert.equals(20, F:sizeof(ip_t))
    ffi.cdef('struct facts_spec_opaque;')
    assert.is_false(F:sizeof(ffi.typeof('struct facts_spec_opaque')))
    local none, msg = F:sizeof(ffi.typeof('uint8_t[?]')) -- ffi.sizeof raises without a length
    assert.is_nil(none)
    assert.is_string(msg)
    local size, signed = F:scalar(ffi.typeof('int16_t'))
    assert.equals(2, size)
    assert.is_true(signed)
    assert.is_false(F:scalar(ip_t))
    local elem, esize = F:elem(ffi.typeof('uint32_t[4]'))
    assert.equals(ffi.typeof('uint32_t'), elem)
    assert.equals(4, esize)
    assert.is_false(F:elem(ffi.typeof('int')))
    assert.equals(ffi.typeof('uint32_t'), F:typeof('uint32_t'))
    -- one id per type, whichever ctype object names it (joins compare pointer types so)
    assert.equals(F:typeid(ffi.typeof('uint64_t')), F:typeid(ffi.typeof('uint64_t')))
    assert.are_not.equal(F:typeid(ffi.typeof('uint64_t')), F:typeid(ffi.typeof('uint8_t')))
    assert.are_not.equal(F:typeid(ffi.typeof('uint64_t')), F:typeid(ffi.typeof('const uint64_t')))
    assert.is_number(F:typeid(ip_t))
    assert.is_false(F:typeid(ffi.new('uint64_t', 12))) -- a number, not a ctype
    assert.is_false(F:typeid(12))
  end)

  it('evaluates at compile time, metamethods included', function()
    assert.equals(3, F:length('abc'))
    assert.equals(2, F:length({ 1, 2 }))
    local t = setmetatable({}, { __index = function(_, k) return k .. '!' end })
    assert.same({ true, 'a!' }, { F:index(t, 'a') })
    assert.same({ true, nil }, { F:index({}, 'a') })
    assert.same({ true, 5, 'more' }, { F:call(function(a, b) return a + b, 'more' end, 2, 3) })
    local iter, list = ipairs({ 'x', 'y' })
    assert.same({ { 1, 'x' }, { 2, 'y' } }, F:steps(iter, list, 0, 2))
    assert.same({}, F:steps(next, {}, nil, 2))
    assert.same({ nil, 'more than 2 turns: a loop unrolled at compile time stops there' },
      { F:steps(iter, { 1, 2, 3 }, 0, 2) })
    assert.equals(0, F:log(1))
  end)

  it('answers nil and a message instead of raising', function()
    local bad = setmetatable({}, { __index = function() error('boom') end })
    for _, q in ipairs({
      { F.constant, bad }, { F.index, bad, 'x' }, { F.length, bad },
      { F.call, function() error('boom') end },
    } ) do
      local ok, a, msg = pcall(q[1], F, q[2], q[3])
      assert.is_true(ok)
      assert.is_nil(a)
      assert.matches('boom', msg)
    end
    local a, msg = F:typeof('struct {')
    assert.is_nil(a)
    assert.is_string(msg)
    a, msg = facts.new{ ctx = bad }:program()
    assert.is_nil(a)
    assert.matches('boom', msg)
  end)

  it('keeps what it learnt of a ctype across compiles, and never answers for another', function()
    -- new ctypes with the same member at other offsets, old ones collected in
    -- between: a cached answer found by a reused address would be wrong
    local u32 = ffi.typeof('uint32_t')
    for i = 1, 300 do
      local pad = i % 7
      local ct = ffi.typeof('struct { uint8_t pad[' .. pad .. ']; uint32_t x; }')
      local m = { __map = true, key_size = 4, val_size = ffi.sizeof(ct), key_type = u32, val_type = ct }
      local prog = assert(bpf(function() local v = m[0]; return v and v.x or 0 end, { env = { m = m } }))
      local off
      for k = 0, prog.pc - 1 do
        if prog.insn[k].code == 0x61 then off = prog.insn[k].off end -- ldxw
      end
      assert.equals(pad == 0 and 0 or pad <= 4 and 4 or 8, off, 'pad ' .. pad)
      collectgarbage()
    end
  end)

  it('documents every query the core asks, and the core asks no other way', function()
    local header = read('lua/bpf/facts.lua'):match('^(.-)\nlocal ')
    local asked = {}
    for q in read('csrc/facts.c'):gmatch('ask[%w_]*%(C, "([%w_]+)"') do asked[q] = true end
    assert.is_not_nil(next(asked))
    for q in pairs(asked) do
      assert.is_truthy(header:find('F:' .. q .. '(', 1, true), 'F:' .. q .. ' is asked but not documented')
      assert.is_function(F[q], q)
    end
    for q in header:gmatch('%-%-%s+F:([%w_]+)%(') do
      assert.is_true(asked[q], 'F:' .. q .. ' is documented but the core never asks it')
    end
  end)
end)

describe('a failed fact', function()
  it('is a compile error at the line of the program that needed it', function()
    local t = setmetatable({}, { __index = function() error('boom') end })
    local line = here() + 1
    local prog, err = bpf(function() return t.x end)
    assert.is_nil(prog)
    assert.matches('facts_spec%.lua:' .. line .. ': reading a Lua value the program uses', err)
    assert.matches('boom', err)

    line = here() + 1
    prog, err = bpf(function() local s = ffi.new('struct no_such_struct'); return s end)
    assert.is_nil(prog)
    assert.matches('facts_spec%.lua:' .. line .. ': ffi.new%(%) failed: ', err)

    local function fold() error('no folding today') end
    line = here() + 1
    prog, err = bpf(function() return fold() end)
    assert.is_nil(prog)
    assert.matches('facts_spec%.lua:' .. line .. ': calling a Lua function at compile time failed: ', err)
    assert.matches('no folding today', err)

    local env = setmetatable({}, { __index = function() error('no globals here') end })
    prog, err = bpf('return nothing', { env = env })
    assert.is_nil(prog)
    assert.matches(":1: reading the global 'nothing' failed: .*no globals here", err)

    assert(bpf(function() return pkt.ip.proto end)) -- and the next compile is whole
  end)
end)

describe('the rule that only facts.c asks Lua', function()
  -- module.c drives the compile (the reader, jit.util for error lines, the
  -- result), bcread.c reads bytecode, obj.c and asm.c are not the compiler
  local allowed = { ['csrc/facts.c'] = true, ['csrc/module.c'] = true, ['csrc/bcread.c'] = true,
    ['csrc/obj.c'] = true, ['csrc/asm.c'] = true }
  local calls = { 'lua_getfield', 'lua_gettable', 'lua_pcall', 'lua_call', 'lua_getglobal' }

  it('holds for every C file of the core', function()
    for _, path in ipairs(csources()) do
      if not allowed[path] then
        local src = read(path)
        for _, fn in ipairs(calls) do
          assert.is_nil(src:find(fn .. '%s*%('), path .. ' calls ' .. fn .. ': ask through facts.c')
        end
      end
    end
  end)

  it('keeps the options and the answers\' field names in facts.c', function()
    for _, path in ipairs(csources()) do
      if path ~= 'csrc/facts.c' and path ~= 'csrc/obj.c' and path ~= 'csrc/asm.c' then
        local src = read(path)
        if path ~= 'csrc/module.c' then -- which sets it
          assert.is_nil(src:find('C%->opts'), path .. ' reads the facts object itself')
        end
        for _, name in ipairs({ '__dissector', '__map', 'max_entries', 'val_type', 'key_size', 'layers',
          'builtins', 'hdr_off' }) do
          assert.is_nil(src:find('"' .. name .. '"', 1, true), path .. ' names the field ' .. name)
        end
      end
    end
  end)
end)
