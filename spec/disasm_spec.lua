-- Disassembler: the data files in spec/data/isa (raw bytes and their text in
-- each syntax, or the reason they are invalid), listings, helper names, and
-- LLVM's objdump on the same bytes.
local ffi = require('ffi')
local disasm = require('bpf.disasm')
local insn = require('bpf.insn')
local isa = require('spec.support.isa_data')

local syntaxes, cases = isa.syntaxes, isa.cases

local function raw_insns(hex)
  local bytes = isa.hex_bytes(hex)
  local n = #bytes / 8
  local arr = insn.array_t(math.max(n, 1))
  ffi.copy(arr, bytes, #bytes)
  return arr, n, bytes
end

local function listing(arr, n, syntax, dialect)
  local out, pc = {}, 0
  while pc < n do
    local text, k = disasm.disasm_insn(arr, n, pc, syntax, dialect)
    if not text then return nil, k end
    out[#out + 1] = text
    pc = pc + k
  end
  return table.concat(out, '\n')
end

describe('bpf.disasm data files', function()
  local all = cases()

  it('are there', function()
    assert.is_true(#all >= 100)
  end)

  for _, case in ipairs(all) do
    local raw = case.s.raw
    for _, syn in ipairs(syntaxes) do
      if raw and case.s[syn] then
        it(case.name .. ' disassembles to ' .. syn, function()
          local arr, n = raw_insns(raw)
          assert.are.equal(case.s[syn], listing(arr, n, syn, case.s.dialect))
        end)
      end
    end
    if raw and case.s.error then
      it(case.name .. ' is rejected: ' .. case.s.error, function()
        local arr, n = raw_insns(raw)
        for _, syn in ipairs(case.s.dialect and { 'mnemonic' } or syntaxes) do
          local text, why = disasm.disasm_insn(arr, n, 0, syn, case.s.dialect)
          assert.is_nil(text)
          assert.are.equal(case.s.error, why)
        end
      end)
    end
  end
end)

describe('bpf.disasm listings', function()
  local prog, n = raw_insns([[
    b7 01 00 00 05 00 00 00
    15 01 01 00 00 00 00 00
    85 00 00 00 05 00 00 00
    18 02 00 00 01 00 00 00 00 00 00 00 02 00 00 00
    ff 00 00 00 00 00 00 00
    95 00 00 00 00 00 00 00]])

  it('prints the classic layout with a pc column, lddw taking two', function()
    assert.are.equal(table.concat({
      '0000\tMOV\tR1\t#5',
      '0001\tJEQ\tR1\t#0\t=> 0003',
      '0002\tCALL\tR0\t#5\t; ktime_get_ns',
      '0003\tLDDW\tR2\t#8589934593',
      '0005\t; invalid: invalid opcode 0xff (code 0xff dst 0 src 0 off 0 imm 0)',
      '0006\tEXIT\tR0\t#0',
    }, '\n'), disasm.dump_string(prog, n))
  end)

  it('hides the counter and starts at an offset', function()
    assert.are.equal(table.concat({ 'r2 = 8589934593 ll',
      '// invalid: invalid opcode 0xff (code 0xff dst 0 src 0 off 0 imm 0)', 'exit' }, '\n'),
      disasm.dump_string(prog, n, { syntax = 'llvm', offset = 3, hide_counter = true }))
  end)

  it('annotates the first instruction of each source line, in each syntax', function()
    local lines = {
      [0] = { file = '/src/count.lua', line = 3, text = 'local x = 5' },
      [1] = { file = '/src/count.lua', line = 4, text = 'if x == 0 then' },
      [2] = { file = '/src/count.lua', line = 4, text = 'if x == 0 then' },
      [3] = { file = '/src/count.lua', line = 7 },
      [5] = { line = 7 },
      [6] = { file = '/src/count.lua', line = 9, text = 'return' },
    }
    local got = disasm.dump_string(prog, n, { syntax = 'mnemonic', lines = lines })
    assert.are.equal(table.concat({
      '// count.lua:3  local x = 5',
      '0000\tmov64 r1, 5',
      '// count.lua:4  if x == 0 then',
      '0001\tjeq r1, 0, +1',
      '0002\tcall 5 // ktime_get_ns',
      '// count.lua:7',
      '0003\tlddw r2, 8589934593',
      '// line 7',
      '0005\t// invalid: invalid opcode 0xff (code 0xff dst 0 src 0 off 0 imm 0)',
      '// count.lua:9  return',
      '0006\texit',
    }, '\n'), got)
    assert.matches('^; count.lua:3  local x = 5\n0000\tMOV', disasm.dump_string(prog, n, { lines = lines }))
    assert.matches('^// count.lua:3  local x = 5\n0000\tr1 = 5',
      disasm.dump_string(prog, n, { syntax = 'c', lines = lines }))
  end)

  it('re-assembles its own listing, counters and annotations included', function()
    local p2, n2 = raw_insns('b7 01 00 00 05 00 00 00 15 01 01 00 00 00 00 00 '
      .. '85 00 00 00 05 00 00 00 95 00 00 00 00 00 00 00')
    local lines = { [0] = { file = 'x.lua', line = 1, text = 'a' }, [2] = { file = 'x.lua', line = 2 } }
    for _, syn in ipairs(syntaxes) do
      local text = disasm.dump_string(p2, n2, { syntax = syn, lines = lines })
      local out, count = disasm.assemble(text, syn)
      assert.are.equal(n2, count, syn)
      assert.are.equal(ffi.string(p2, n2 * 8), ffi.string(out, count * 8), syn)
    end
  end)

  it('dump prints the listing', function()
    local printed
    local old = _G.print
    _G.print = function(s) printed = s end
    disasm.dump(prog, 1, { hide_counter = true })
    _G.print = old
    assert.are.equal('MOV\tR1\t#5', printed)
  end)

  it('returns text and slot count for one instruction', function()
    assert.are.same({ 'LDDW\tR2\t#8589934593', 2 }, { disasm.disasm_insn(prog, n, 3) })
    assert.are.same({ 'exit', 1 }, { disasm.disasm_insn(prog, n, 6, 'sbpf') })
    assert.are.same({ nil, 'pc 7 is past the end of the program' }, { disasm.disasm_insn(prog, n, 7) })
  end)

  it('knows every syntax name and alias, and refuses others', function()
    for name, canon in pairs({ classic = 'classic', ['pseudo-c'] = 'pseudo-c', llvm = 'pseudo-c',
      gnu = 'pseudo-c', c = 'pseudo-c', mnemonic = 'mnemonic', ubpf = 'mnemonic', sbpf = 'mnemonic' }) do
      assert.are.equal(canon, disasm.syntax_names[name])
      assert.is_string(disasm.dump_string(prog, 1, { syntax = name }))
    end
    assert.has_error(function() disasm.dump_string(prog, 1, { syntax = 'intel' }) end,
      "bpf.disasm: unknown syntax 'intel'")
  end)
end)

describe('bpf.disasm helper names', function()
  it('come from the kernel header, by id and by name', function()
    assert.are.equal('unspec', disasm.helper_name(0))
    assert.are.equal('map_lookup_elem', disasm.helper_name(1))
    assert.are.equal('trace_printk', disasm.helper_name(6))
    assert.are.equal('perf_event_output', disasm.helper_name(25))
    assert.are.equal(1, disasm.helper_id('map_lookup_elem'))
    assert.are.equal(1, disasm.helper_id('bpf_map_lookup_elem'))
    assert.is_nil(disasm.helper_name(-1))
    assert.is_nil(disasm.helper_name(100000))
    assert.is_nil(disasm.helper_id('no_such_helper'))
  end)

  it('cover every id below the last one', function()
    local last = 0
    while disasm.helper_name(last + 1) do last = last + 1 end
    assert.is_true(last > 200)
    for id = 0, last do assert.are.equal(id, disasm.helper_id(disasm.helper_name(id))) end
  end)
end)

describe('bpf.disasm against llvm-objdump', function()
  -- LLVM (14 here) prints our pseudo-C for the bytes of every data file
  -- marked "objdump", give or take our helper comments and its <.text+N>.
  it('prints the same pseudo-C', function()
    local marked, src = {}, {}
    for _, case in ipairs(cases()) do
      if case.s.llvm and case.s.llvm:match('objdump') then
        local _, n, bytes = raw_insns(case.s.raw)
        marked[#marked + 1] = { case = case, n = n }
        for i = 1, #bytes do src[#src + 1] = string.format('.byte %d', bytes:byte(i)) end
      end
    end
    assert.is_true(#marked >= 60)
    local base = os.tmpname()
    local f = assert(io.open(base .. '.s', 'w'))
    f:write(table.concat(src, '\n'), '\n')
    f:close()
    local rc = os.execute(string.format('llvm-mc -triple bpfel -filetype=obj -o %s.o %s.s', base, base))
    assert.is_true(rc == 0 or rc == true, 'llvm-mc (Debian package llvm) failed or is missing')
    local outs = {}
    for i, attr in ipairs({ '', '--mattr=+alu32' }) do
      local p = assert(io.popen(string.format('llvm-objdump -d -z --no-show-raw-insn %s %s.o', attr, base)))
      local lines = {}
      for l in p:lines() do
        local text = l:match('^%s*%d+:\t(.*)$')
        if text then lines[#lines + 1] = text:gsub(' <[^<>]*>$', ''):gsub('%s+$', '') end
      end
      p:close()
      outs[i] = lines
    end
    os.remove(base .. '.s'); os.remove(base .. '.o'); os.remove(base)
    local at = 1
    for _, m in ipairs(marked) do
      local arr, n = raw_insns(m.case.s.raw)
      local pc = 0
      while pc < n do
        local ours, k = disasm.disasm_insn(arr, n, pc, 'pseudo-c')
        ours = ours:gsub(' // .*$', '')
        local a, b = outs[1][at], outs[2][at]
        assert(ours == a or ours == b, string.format('%s: ours %q, llvm-objdump %q / %q',
          m.case.name, ours, tostring(a), tostring(b)))
        at, pc = at + 1, pc + k
      end
    end
  end)
end)
