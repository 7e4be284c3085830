-- The IR stage (csrc/ir.h): blocks and edges over labelled instructions, map
-- references by number, helper calls by name, each with its bytecode pc; and
-- the encoded program it becomes, run in the kernel.
local ffi = require('ffi')
local bpf = require('bpf')
local loader = require('bpf.loader')
local pk = require('spec.support.packets')

ffi.cdef [[
int ir_spec_setenv(const char *name, const char *value, int overwrite) __asm__("setenv");
int ir_spec_unsetenv(const char *name) __asm__("unsetenv");
]]

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

-- f() with BPFC_REGS=k (csrc/regalloc.c: the allocator has k registers for
-- values, so it spills; nil: unset, all of them), the variable as it was
-- afterwards.
local function with_regs(k, f)
  local old = os.getenv('BPFC_REGS')
  if k then ffi.C.ir_spec_setenv('BPFC_REGS', tostring(k), 1) else ffi.C.ir_spec_unsetenv('BPFC_REGS') end
  local ok, a, b = pcall(f)
  if old then ffi.C.ir_spec_setenv('BPFC_REGS', old, 1) else ffi.C.ir_spec_unsetenv('BPFC_REGS') end
  if not ok then error(a, 0) end
  return a, b
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

    it('reads a packet field into the register of the variable it is for', function()
      -- each way into `return 0xffff` leaves some value in r0, which no one reads
      -- there: that is no reason for the two to live apart, and len copied out of r0
      local prog = assert(bpf(function()
        local ip = pkt.ip
        local len = ip.udp.length
        if len < 8 or len > ip.tlen - ip.hlen * 4 then return 0xffff end
        return len - 8
      end, { type = 'sched_cls', packet = 'linear' }))
      local text = bpf.dump_string(prog, { syntax = 'pseudo-c', source = false })
      assert.is_nil(text:find('\tr%d = r0\n'), text)
      assert.equals(#udp53 - 34 - 8, run(prog))
      assert.equals(0xffff, run(prog, udp53:sub(1, 14) .. '\69\0\0\40' .. udp53:sub(19)))
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

    describe('with fewer registers than values (BPFC_REGS)', function()
      -- Each compiled with k registers spills (more stack than with all of
      -- them) and computes in the kernel what LuaJIT computes (or the third
      -- field says).
      local len = #udp53
      local function ip(i) return udp53:byte(15 + i) end
      local sum = 0
      for i = 0, 7 do sum = sum + ip(i) * (ip(9) + i) + ip(8) end
      local cases = {
        { 'many values live at once', [[return function(skb)
          local a = skb.len
          local b = a * 3
          local c = a + 7
          local d = b - c
          local e = bit.band(a, 255)
          local f = b + e
          local g = a ~= 0 and b or c
          return a + b + c + d + e + f + g
        end]] },
        { 'values carried around a loop', [[return function(skb)
          local a, b, c, s = skb.len, 3, 5, 0
          for i = 0, 7 do
            s = s + i * a
            b = b + s % 7
            c = c + b * i
          end
          return s + b + c + a
        end]] },
        { 'packet reads (the context fixed in r6) around a loop', [[return function(skb)
          local s, a, b = 0, pkt.ip[9], pkt.ip[8]
          for i = 0, 7 do s = s + pkt.ip[i] * (a + i) + b end
          return s
        end]], sum },
      }
      for _, k in ipairs({ 3, 4 }) do
        for _, case in ipairs(cases) do
          it(case[1] .. ', ' .. k .. ' registers', function()
            local fn = assert(loadstring(case[2]))()
            local all = with_regs(nil, function() return compile(case[2]) end)
            local few = with_regs(k, function() return compile(case[2]) end)
            assert.is_true(few.stack > all.stack, bpf.dump_string(few, { source = false }))
            local expected = case[3] or fn({ len = len })
            assert.equals(expected, run(all))
            assert.equals(expected, run(few))
          end)
        end
      end

      it('spills map value pointers and values live across a helper call', function()
        local m = bpf.map('array', 4, 'uint32_t', 'uint64_t')
        local src = [[return function(skb)
          local n = skb.len
          local v, w = m[1], m[2]
          local x = n * 2
          local t = time()
          if v and w then
            xadd(v, n)
            w[0] = x + v[0]
            return v[0] + w[0] + x + n + (t - t)
          end
          return n
        end]]
        local all = with_regs(nil, function() return compile(src, { m = m }) end)
        local few = with_regs(3, function() return compile(src, { m = m }) end)
        assert.is_true(few.stack > all.stack, bpf.dump_string(few, { source = false }))
        for _, prog in ipairs({ all, few }) do
          m[1], m[2] = 10, 0
          assert.equals(7 * len + 20, run(prog))
          assert.equals(10 + len, tonumber(m[1]))
          assert.equals(3 * len + 10, tonumber(m[2]))
        end
      end)

      it('refuses a program when too many values are live at one instruction', function()
        local fn = assert(loadstring('return function(skb) return skb.len - skb.mark end'))()
        local prog, err = with_regs(1, function() return bpf(fn) end)
        assert.is_nil(prog)
        assert.matches('too many values are live at once: 1 register cannot hold them', err, 1, true)
        assert.equals(len, run(assert(with_regs(2, function() return bpf(fn) end)))) -- mark 0
      end)
    end)
  end)
end)
