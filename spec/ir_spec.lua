-- The IR stage (csrc/ir.h): blocks and edges over labelled instructions, map
-- references by number, helper calls by name, each with its bytecode pc; and
-- the encoded program it becomes, run in the kernel.
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')

local udp53 = pk.eth_ip(17, pk.udp(4000, 53, pk.dns_query('example.com', 28)))

local function compile(src, env)
  local fn = assert(loadstring(src, '=ir_test'))()
  return assert(bpf(fn, env and { env = env } or nil))
end

local function run(prog, packet)
  local h = assert(prog:load('sched_cls'))
  local r = assert(loader.test_run(h, packet or udp53))
  h:close()
  return r.retval
end

-- The dump's blocks: { name =, succ = { names }, back = { name = true }, insns = { texts } }.
local function blocks(prog)
  local text = bpf.dump_string(prog, { stage = 'ir', source = false })
  local list, by = {}, {}
  for line in text:gmatch('[^\n]+') do
    local name, rest = line:match('^(b%d+):(.*)$')
    if name then
      local b = { name = name, succ = {}, back = {}, insns = {}, header = rest }
      for s, back in rest:gmatch('(b%d+)( ?%(?b?a?c?k?%)?)') do
        b.succ[#b.succ + 1] = s
        if back == ' (back)' then b.back[s] = true end
      end
      list[#list + 1], by[name] = b, b
    elseif line:match('^    ') then
      local cur = list[#list]
      cur.insns[#cur.insns + 1] = line:match('^%s*(.-)%s*$')
    end
  end
  return list, by, text
end

describe('the IR', function()
  it('cuts a program into blocks whose edges are its jumps and fallthroughs', function()
    local prog = compile([[return function(skb)
      local x = skb.len
      if x > 100 then x = x - 100 elseif x > 50 then x = x * 2 end
      return x
    end]])
    local list, by = blocks(prog)
    assert.is_true(#list >= 4)
    local ninsn = 0
    for _, b in ipairs(list) do
      for _, s in ipairs(b.succ) do assert.is_truthy(by[s], b.name .. ' -> ' .. s) end
      for _, i in ipairs(b.insns) do
        local target = i:match('goto (b%d+)$')
        if target then
          assert.is_truthy(by[target], i)
          assert.is_truthy(b.header:find(target, 1, true), 'the jump to ' .. target .. ' is an edge')
        end
        ninsn = ninsn + (i:find(' ll$') and 2 or 1)
      end
      assert.is_nil(next(b.back)) -- no loops yet: no back edges
    end
    assert.equals(prog.pc, ninsn) -- every IR instruction is one encoded one (lddw two)
    assert.equals(list[#list].header:match('exit$'), 'exit')
    assert.equals((#udp53 - 14 > 100) and #udp53 - 100 or #udp53 * 2, run(prog))
  end)

  it('names maps by number and helpers by name; the relocations say which map', function()
    local a = bpf.map('hash', 4, 'uint32_t', 'uint64_t')
    local b = bpf.map('array', 4, 'uint32_t', 'uint64_t')
    local prog = compile([[return function(skb)
      local k = 1
      local v = a[k]
      if v then xadd(v, 2) end
      b[k] = 7
      local w = a[k]
      return w and w[0] or 0
    end]], { a = a, b = b })
    local _, _, text = blocks(prog)
    assert.is_truthy(text:find('r1 = map[idx:0] ll', 1, true))
    assert.is_truthy(text:find('r1 = map[idx:1] ll', 1, true))
    assert.is_nil(text:find('map[idx:2]', 1, true))
    assert.is_truthy(text:find('map_lookup_elem', 1, true))
    local seen = {}
    for _, r in ipairs(prog.maps) do
      assert.equals(r.index == 0 and a or b, r.map)
      assert.equals(0x18, prog.insn[r.insn].code) -- an lddw
      seen[r.index] = (seen[r.index] or 0) + 1
    end
    assert.same({ [0] = 2, [1] = 1 }, seen)
    a[1] = 40
    assert.equals(42, run(prog))
    assert.equals(42, tonumber(a[1]))
  end)

  it('keeps the Lua line of every instruction', function()
    local src = 'return function(skb)\n  local n = skb.len\n  return n + 1\nend'
    local fn = assert(loadstring(src, '@no_such_file.lua'))()
    local prog = assert(bpf(fn))
    local text = bpf.dump_string(prog, { stage = 'ir' })
    assert.is_truthy(text:find('-- line 2', 1, true))
    assert.is_truthy(text:find('-- line 3', 1, true))
    assert.is_truthy(text:find('^function main\nb0:'))
  end)

  it('refuses an unknown stage with the ones it knows', function()
    local prog = compile('return function() return 1 end')
    assert.has_error(function() bpf.dump_string(prog, { stage = 'regs' }) end,
      "bpf.dump: unknown stage 'regs' (bytecode, ir or insns)")
  end)

  describe('register allocation', function()
    it('lets a copy disappear when both sides can share a register', function()
      local prog = compile([[return function(skb)
        local x = skb.len
        return x > 40 and 1 or 0
      end]])
      local text = bpf.dump_string(prog, { syntax = 'pseudo-c', source = false })
      assert.is_nil(text:find('r0 = r%d'), text) -- each branch writes r0 itself
      assert.equals(1, run(prog))
    end)

    it('keeps a value a helper reads and the program reads after it out of r0-r5', function()
      local prog = compile([[return function(skb)
        local n = skb.len
        print('len %d', n)
        return n
      end]])
      assert.equals(#udp53, run(prog))
      local text = bpf.dump_string(prog, { syntax = 'pseudo-c', source = false })
      local after = text:match('trace_printk\n(.*)$')
      assert.matches('r0 = r[6-9]', after)
    end)

    it('keeps the context in r6 for packet loads across helper calls', function()
      local prog = compile([[return function(skb)
        local a = pkt.ip[9]
        local t = time()
        local b = pkt.ip.udp[3]
        return a + b + (t - t)
      end]])
      assert.equals(17 + 53, run(prog))
    end)
  end)
end)
