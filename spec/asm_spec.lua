-- Assembler: the data files in spec/data/isa (text in each syntax, also the
-- input-only spellings, to raw bytes, or to the expected error), a round
-- trip of every valid encoding of a sweep through the three syntaxes, LLVM's
-- assembler on the same pseudo-C, and the kernel running what it assembles.
-- The data files and their sections are described in spec/support/isa_data.lua.
local ffi = require('ffi')
local disasm = require('bpf.disasm')
local core = require('bpf.ffi_core')
local insn = require('bpf.insn')
local isa = require('spec.support.isa_data')

local C = core.lib
local syntaxes, cases, hex_bytes = isa.syntaxes, isa.cases, isa.hex_bytes

local function bytes_hex(s)
  return (s:gsub('.', function(c) return string.format('%02x ', c:byte()) end):gsub(' $', ''))
end

local function assembled(text, syntax, dialect)
  local out, n = disasm.assemble(text, syntax, { dialect = dialect })
  if not out then return nil, n end
  return bytes_hex(ffi.string(out, n * 8))
end

describe('bpf.disasm.assemble data files', function()
  for _, case in ipairs(cases()) do
    local raw = case.s.raw and bytes_hex(hex_bytes(case.s.raw))
    for _, syn in ipairs(syntaxes) do
      for _, sec in ipairs({ syn, syn .. ' in' }) do
        local text = case.s[sec]
        local dialect = case.s.dialect
        if text and raw then
          it(case.name .. ' assembles from ' .. sec, function()
            assert.are.equal(raw, assembled(text, syn, dialect))
          end)
        elseif text and case.s.error then
          it(case.name .. ' fails from ' .. sec .. ': ' .. case.s.error, function()
            local out, err = disasm.assemble(text, syn, { dialect = dialect })
            assert.is_nil(out)
            assert.are.equal(case.s.error, err)
          end)
        end
      end
    end
  end
end)

describe('bpf.disasm.assemble', function()
  it('returns an instruction array and its slot count', function()
    local out, n = disasm.assemble('r0 = 1 ll\nexit', 'c')
    assert.are.equal(3, n)
    assert.is_true(ffi.istype(insn.array_t, out))
    assert.are.equal(0x18, out[0].code)
    assert.are.equal(0x95, out[2].code)
  end)

  it('accepts empty text and text of comments and labels only', function()
    assert.are.equal(0, select(2, disasm.assemble('', 'classic')))
    assert.are.equal(0, select(2, disasm.assemble('\n  ; nothing\n', 'classic')))
    assert.are.equal(0, select(2, disasm.assemble('a:\n// nothing\nb: # still nothing', 'mnemonic')))
  end)

  it('reads the default syntax, classic', function()
    assert.are.equal('95 00 00 00 00 00 00 00', assembled('EXIT R0 #0'))
  end)

  it('refuses an unknown syntax', function()
    assert.has_error(function() disasm.assemble('exit', 'att') end, "bpf.disasm: unknown syntax 'att'")
  end)

  it('resolves forward and backward labels, also for gotol and local calls', function()
    local text = 'top:\n  goto end\n  gotol top\n  call top\n  r1 = func[top] ll\nend: exit'
    assert.are.equal(table.concat({ '05 00 04 00 00 00 00 00', '06 00 00 00 fe ff ff ff',
      '85 10 00 00 fd ff ff ff', '18 41 00 00 fc ff ff ff', '00 00 00 00 00 00 00 00',
      '95 00 00 00 00 00 00 00' }, ' '), assembled(text, 'pseudo-c'))
  end)

  it('refuses a label too far for a 16-bit offset', function()
    local body = string.rep('r0 = 0\n', 32768)
    local _, err = disasm.assemble('goto far\n' .. body .. 'far: exit', 'pseudo-c')
    assert.are.equal("1:6: label 'far' too far for a 16-bit offset (32768)", err)
    assert.is_truthy(disasm.assemble('gotol far\n' .. body .. 'far: exit', 'pseudo-c'))
  end)

  it('reports the line of the first error and stops the C side at cap', function()
    local _, err = disasm.assemble('exit\n\nbogus\nexit', 'mnemonic')
    assert.are.equal("3:1: expected an instruction, got 'bogus'", err)
    local out = insn.array_t(1)
    local buf = ffi.new('char[64]')
    assert.are.equal(-28, C.bpfc_asm('exit\nexit', 2, out, 1, buf, 64)) -- -ENOSPC
    assert.are.equal('2:1: program needs more than 1 slots', ffi.string(buf))
    assert.are.equal(2, C.bpfc_asm('exit\nexit', 2, nil, 0, nil, 0))
  end)
end)

-- Every valid instruction among a sweep of field values.
local function sweep(fn)
  local offs = { 0, 1, 8, 16, 32, -8 }
  local imms = { 0, 1, 16, 64, 0x100, 0x110, 0xe1, 0xf1, 0x41, 0xa1, -5, 65536 }
  local p = insn.array_t(2)
  local buf = ffi.new('char[256]')
  for code = 0, 255 do
    for _, dst in ipairs({ 0, 1, 10, 11 }) do
      for _, src in ipairs({ 0, 1, 2, 3, 4, 5, 6, 7, 10 }) do
        for _, off in ipairs(offs) do
          for _, imm in ipairs(imms) do
            p[0].code, p[0].dst_reg, p[0].src_reg, p[0].off, p[0].imm = code, dst, src, off, imm
            p[1].code, p[1].dst_reg, p[1].src_reg, p[1].off, p[1].imm = 0, 0, 0, 0, 7
            local k = C.bpfc_disasm_insn(p, 2, 0, 0, buf, 256)
            if k > 0 then
              if k == 1 then p[1].imm = 0 end
              fn(p, k)
            end
          end
        end
      end
    end
  end
end

describe('bpf.disasm round trip', function()
  it('assembles every valid instruction of a sweep back from each syntax', function()
    local text, err = ffi.new('char[256]'), ffi.new('char[256]')
    local q = insn.array_t(2)
    local valid, bad = 0, {}
    sweep(function(p, k)
      valid = valid + 1
      for s = 0, 2 do
        assert(C.bpfc_disasm_insn(p, 2, 0, s, text, 256) == k)
        local m = C.bpfc_asm(text, s, q, 2, err, 256)
        if m ~= k or ffi.string(p, k * 8) ~= ffi.string(q, k * 8) then
          bad[#bad + 1] = string.format('%s: %q -> %s', syntaxes[s + 1], ffi.string(text),
            m < 0 and ffi.string(err) or bytes_hex(ffi.string(q, m * 8)))
        end
      end
    end)
    assert.is_true(valid > 10000)
    assert.are.same({}, { unpack(bad, 1, 10) })
  end)
end)

-- Each sBPF version: every opcode it has (the table below, from the sweep
-- of all 256 codes), a few operand values each; every valid encoding
-- disassembles and assembles back to its bytes, and its text back to itself.
describe('sBPF dialects round trip', function()
  local opcodes = {
    ['sbpf-v1'] = '04 add32 05 ja 07 add64 0c add32 0f add64 14 sub32 15 jeq 17 sub64 18 lddw 1c sub32 '
      .. '1d jeq 1f sub64 24 mul32 25 jgt 27 mul64 2c mul32 2d jgt 2f mul64 34 div32 35 jge 37 div64 '
      .. '3c div32 3d jge 3f div64 44 or32 45 jset 47 or64 4c or32 4d jset 4f or64 54 and32 55 jne '
      .. '57 and64 5c and32 5d jne 5f and64 61 ldxw 62 stw 63 stxw 64 lsh32 65 jsgt 67 lsh64 69 ldxh '
      .. '6a sth 6b stxh 6c lsh32 6d jsgt 6f lsh64 71 ldxb 72 stb 73 stxb 74 rsh32 75 jsge 77 rsh64 '
      .. '79 ldxdw 7a stdw 7b stxdw 7c rsh32 7d jsge 7f rsh64 84 neg32 85 call 87 neg64 8d callx '
      .. '94 mod32 95 exit 97 mod64 9c mod32 9f mod64 a4 xor32 a5 jlt a7 xor64 ac xor32 ad jlt '
      .. 'af xor64 b4 mov32 b5 jle b7 mov64 bc mov32 bd jle bf mov64 c4 arsh32 c5 jslt c7 arsh64 '
      .. 'cc arsh32 cd jslt cf arsh64 d4 le d5 jsle dc be dd jsle',
    ['sbpf-v2'] = '04 add32 05 ja 07 add64 0c add32 0f add64 14 sub32 15 jeq 17 sub64 1c sub32 1d jeq '
      .. '1f sub64 25 jgt 27 stb 2c ldxb 2d jgt 2f stxb 35 jge 36 uhmul64 37 sth 3c ldxh 3d jge '
      .. '3e uhmul64 3f stxh 44 or32 45 jset 46 udiv32 47 or64 4c or32 4d jset 4e udiv32 4f or64 '
      .. '54 and32 55 jne 56 udiv64 57 and64 5c and32 5d jne 5e udiv64 5f and64 64 lsh32 65 jsgt '
      .. '66 urem32 67 lsh64 6c lsh32 6d jsgt 6e urem32 6f lsh64 74 rsh32 75 jsge 76 urem64 77 rsh64 '
      .. '7c rsh32 7d jsge 7e urem64 7f rsh64 85 call 86 lmul32 87 stw 8c ldxw 8d callx 8e lmul32 '
      .. '8f stxw 95 exit 96 lmul64 97 stdw 9c ldxdw 9e lmul64 9f stxdw a4 xor32 a5 jlt a7 xor64 '
      .. 'ac xor32 ad jlt af xor64 b4 mov32 b5 jle b6 shmul64 b7 mov64 bc mov32 bd jle be shmul64 '
      .. 'bf mov64 c4 arsh32 c5 jslt c6 sdiv32 c7 arsh64 cc arsh32 cd jslt ce sdiv32 cf arsh64 '
      .. 'd5 jsle d6 sdiv64 dc be dd jsle de sdiv64 e6 srem32 ee srem32 f6 srem64 f7 hor64 fe srem64',
  }
  -- v3: v2's, with syscall at exit's opcode, return at 0x9d, call by offset
  opcodes['sbpf-v3'] = opcodes['sbpf-v2']:gsub('95 exit', '95 syscall'):gsub('9c ldxdw', '9c ldxdw 9d return')

  local dialect_ids = { ['sbpf-v1'] = 1, ['sbpf-v2'] = 2, ['sbpf-v3'] = 3 }
  for _, dialect in ipairs({ 'sbpf-v1', 'sbpf-v2', 'sbpf-v3' }) do
    it(dialect .. ': every valid encoding, both ways', function()
      local p, q = insn.array_t(2), insn.array_t(2)
      local buf, err = ffi.new('char[256]'), ffi.new('char[256]')
      local o = ffi.new('struct bpfc_asm_opts')
      o.sz, o.syntax, o.dialect = ffi.sizeof(o), 2, dialect_ids[dialect]
      local seen, valid, bad = {}, 0, {}
      for code = 0, 255 do
        for _, dst in ipairs({ 0, 1, 10, 11 }) do
          for _, src in ipairs({ 0, 1, 2, 10, 12 }) do
            for _, off in ipairs({ 0, 1, -8 }) do
              for _, imm in ipairs({ 0, 1, 3, 16, 32, 64, -5 }) do
                p[0].code, p[0].dst_reg, p[0].src_reg, p[0].off, p[0].imm = code, dst, src, off, imm
                p[1].code, p[1].dst_reg, p[1].src_reg, p[1].off, p[1].imm = 0, 0, 0, 0, 7
                local k = C.bpfc_disasm_dialect(p, 2, 0, 2, o.dialect, buf, 256)
                if k > 0 then
                  if k == 1 then p[1].imm = 0 end
                  valid = valid + 1
                  local text = ffi.string(buf)
                  seen[code] = text:match('^[%a_]+%d*'):gsub('^([lb]e)%d+$', '%1')
                  local m = C.bpfc_asm_text(text, o, q, 2, err, 256)
                  local again = m == k and C.bpfc_disasm_dialect(q, 2, 0, 2, o.dialect, buf, 256) == k
                    and ffi.string(buf)
                  if m ~= k or ffi.string(p, k * 8) ~= ffi.string(q, k * 8) or again ~= text then
                    bad[#bad + 1] = ('%q -> %s'):format(text, m < 0 and ffi.string(err) or tostring(again))
                  end
                end
              end
            end
          end
        end
      end
      local got = {}
      for code = 0, 255 do
        if seen[code] then got[#got + 1] = ('%02x %s'):format(code, seen[code]) end
      end
      assert.are.same({}, { unpack(bad, 1, 10) })
      assert.are.equal(opcodes[dialect], table.concat(got, ' '))
      assert.is_true(valid > 1500)
    end)
  end

  it('says what a version lacks, and what it has instead', function()
    local function err(text, dialect) return select(2, disasm.assemble(text, nil, { dialect = dialect })) end
    assert.are.equal('1:1: sbpf-v2 has no lddw: load the low half with mov32 (zero-extended) or mov64, '
      .. 'the high half with hor64', err('lddw r1, 5', 'sbpf-v2'))
    assert.are.equal("1:1: sbpf-v3 has no mul64: multiplication is lmul32/lmul64 in sbpf-v2's "
      .. 'product/quotient class', err('mul64 r1, 3', 'sbpf-v3'))
    assert.are.equal('1:1: sbpf-v1 has no lmul64: it comes with a later sBPF version',
      err('lmul64 r1, 3', 'sbpf-v1'))
    assert.are.equal('1:1: kernel has no hor64: it is an sBPF instruction',
      select(2, disasm.assemble('hor64 r1, 3', 'mnemonic')))
    assert.are.equal('1:1: sbpf-v1 has no xaddw: it is a kernel eBPF instruction sBPF does not have',
      err('xaddw [r1 + 0], r2', 'sbpf-v1'))
    assert.has_error(function() disasm.assemble('exit', 'c', { dialect = 'sbpf-v9' }) end,
      "bpf.disasm: unknown dialect 'sbpf-v9' (kernel, sbpf-v1, sbpf-v2 or sbpf-v3)")
    assert.are.equal('sbpf-v2 is written in the mnemonic syntax',
      select(2, disasm.assemble('exit', 'c', { dialect = 'sbpf-v2' })))
  end)
end)

describe('bpf.disasm against llvm-mc', function()
  local function llvm_mc(lines)
    local base = os.tmpname()
    local f = assert(io.open(base .. '.s', 'w'))
    f:write(table.concat(lines, '\n'), '\n')
    f:close()
    local rc = os.execute(string.format('llvm-mc -triple bpfel -show-encoding %s.s > %s.out 2> %s.err',
      base, base, base))
    assert.is_true(rc == 0 or rc == true or rc == 1 or rc == 256,
      'llvm-mc (Debian package llvm) failed to run or is missing')
    local rejected, encodings = {}, {}
    for l in io.lines(base .. '.err') do
      local n = l:match('%.s:(%d+):%d+: error')
      if n then rejected[tonumber(n)] = true end
    end
    for l in io.lines(base .. '.out') do
      local enc = l:match('encoding: %[([^%]]*)%]')
      if enc then encodings[#encodings + 1] = enc:gsub('0x', ''):gsub(',', ' ') end
    end
    os.remove(base .. '.s'); os.remove(base .. '.out'); os.remove(base .. '.err'); os.remove(base)
    local by_line, e = {}, 0
    for i = 1, #lines do
      if not rejected[i] then
        e = e + 1
        by_line[i] = encodings[e]
      end
    end
    assert.are.equal(#encodings, e)
    return by_line
  end

  -- Every data file marked "mc": LLVM assembles its pseudo-C to its bytes.
  it('assembles the marked data files to the same bytes', function()
    local marked, lines = {}, {}
    for _, case in ipairs(cases()) do
      if case.s.llvm and case.s.llvm:match('mc') then
        for l in (case.s['pseudo-c'] .. '\n'):gmatch('(.-)\n') do lines[#lines + 1] = l end
        marked[#marked + 1] = case
      end
    end
    assert.is_true(#marked >= 50)
    local enc, at = llvm_mc(lines), 1
    for _, case in ipairs(marked) do
      local got = {}
      for _ in (case.s['pseudo-c'] .. '\n'):gmatch('(.-)\n') do
        got[#got + 1] = enc[at] or ('rejected: ' .. lines[at])
        at = at + 1
      end
      assert.are.equal(bytes_hex(hex_bytes(case.s.raw)), table.concat(got, ' '), case.name)
    end
  end)

  -- Every pseudo-C line we print that LLVM reads means the same bytes to it.
  -- LLVM 14 lacks cpu v4, JSET, ST and the fetch atomics, and reads
  -- "call pc+N" as a relocation; those it rejects or relocates are skipped.
  it('reads every line it accepts of the sweep as the same bytes', function()
    local text = ffi.new('char[256]')
    local lines, raws, seen = {}, {}, {}
    sweep(function(p, k)
      C.bpfc_disasm_insn(p, 2, 0, 1, text, 256)
      local t = ffi.string(text)
      if not seen[t] then
        seen[t] = true
        lines[#lines + 1], raws[#lines + 1] = t, bytes_hex(ffi.string(p, k * 8))
      end
    end)
    local enc, agreed, bad = llvm_mc(lines), 0, {}
    for i = 1, #lines do
      if enc[i] and not enc[i]:match('A') then
        if enc[i] == raws[i] then agreed = agreed + 1 else bad[#bad + 1] = lines[i] .. ': ' .. enc[i] end
      end
    end
    assert.are.same({}, { unpack(bad, 1, 10) })
    assert.is_true(agreed > 5000)
  end)
end)

-- The encodings LLVM 14 cannot check (cpu v4, ST, fetch atomics, packet
-- loads with offsets, map fds) mean to the kernel what they say: programs
-- assembled from text pass the verifier and compute the expected values.
describe('bpf.disasm.assemble against the kernel', function()
  local loader = require('bpf.loader')
  local packet = string.rep('\0', 14) .. '\69\0\0\40\0\0\0\0\64\17\0\0' .. string.rep('\0', 40)

  local function run(text, syntax)
    local code, n = disasm.assemble(text, syntax or 'pseudo-c')
    assert(code, n)
    local prog = assert(loader.load(code, n, 'socket_filter'))
    local res = assert(loader.test_run(prog, packet))
    prog:close()
    return res.retval
  end

  -- want from text where the kernel has the feature its instructions need;
  -- where it has not (the 6.1 guest: no cpu v4), the refusal says so
  local function expect(want, text, feature)
    local has = require('bpf').feature(feature)
    if has then return assert.are.equal(want, run(text)) end
    local code, n = assert(disasm.assemble(text, 'pseudo-c'))
    local prog, err = loader.load(code, n, 'socket_filter')
    assert.is_nil(prog, text)
    assert.matches('the program uses an instruction this kernel does not know', err)
    if feature == 'cpu_v4' then -- found before loading: 6.1 takes gotol and jumps elsewhere
      assert.matches('^bpf: cannot load: instruction %d+ is .*, a cpu v4 instruction this kernel does not',
        err)
    end
  end

  it('signed divide and remainder', function()
    expect(7, 'r1 = -7\nr1 s/= 2\nr0 = 10\nr0 += r1\nexit', 'cpu_v4')
    expect(4, 'w2 = 3\nw1 = -7\nw1 s%= w2\nw0 = 5\nw0 += w1\nexit', 'cpu_v4')
  end)

  it('sign-extending moves and byte swaps', function()
    expect(2, 'r1 = 255\nr2 = (s8)r1\nr0 = 3\nr0 += r2\nexit', 'cpu_v4')
    expect(65535, 'w1 = 32768\nw2 = (s16)w1\nw2 >>= 16\nw0 = w2\nexit', 'cpu_v4')
    expect(0x3412, 'r1 = 4660\nr1 = bswap16 r1\nr0 = r1\nexit', 'cpu_v4')
    assert.are.equal(0x3412, run('r1 = 4660\nr1 = be16 r1\nr0 = r1\nexit'))
  end)

  it('immediate stores and sign-extending loads', function()
    expect(72, '*(u8 *)(r10 - 1) = 128\nr1 = *(s8 *)(r10 - 1)\nr0 = 200\nr0 += r1\nexit', 'cpu_v4')
    assert.are.equal(4660, run('*(u16 *)(r10 - 2) = 4660\nr0 = *(u16 *)(r10 - 2)\nexit'))
  end)

  it('gotol, may_goto and jset', function()
    expect(1, 'r0 = 1\nif r1 == 0 goto two\ngotol skip\ntwo: r0 = 2\nskip: exit', 'cpu_v4')
    if require('bpf').feature('may_goto') then
      assert.is_true(run('r0 = 0\nloop: may_goto done\nr0 += 1\ngoto loop\ndone: exit') > 1000)
    else
      expect(nil, 'r0 = 0\nloop: may_goto done\nr0 += 1\ngoto loop\ndone: exit', 'may_goto')
    end
    assert.are.equal(5, run('r1 = 6\nr0 = 5\nif r1 & 4 goto +1\nr0 = 0\nexit'))
    assert.are.equal(5, run('w1 = 6\nw0 = 5\nif w1 & 4 goto +1\nw0 = 0\nexit'))
  end)

  -- (A callback's address, lddw func[], needs BTF func_info to load.)
  it('bpf-to-bpf calls', function()
    assert.are.equal(3, run('call sub\nexit\nsub: r0 = 3\nexit'))
  end)

  it('atomics with fetch, exchange, compare-exchange, acquire and release', function()
    assert.are.equal(13, run([[
      *(u64 *)(r10 - 8) = 5
      r1 = 3
      r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
      r0 = *(u64 *)(r10 - 8)
      r0 += r1
      exit]]))
    assert.are.equal(9, run([[
      *(u64 *)(r10 - 8) = 7
      r0 = 7
      r1 = 9
      r0 = cmpxchg_64(r10 - 8, r0, r1)
      r0 = *(u64 *)(r10 - 8)
      exit]]))
    assert.are.equal(7, run([[
      *(u32 *)(r10 - 4) = 1
      w1 = 6
      w1 = xchg32_32(r10 - 4, w1)
      r0 = *(u32 *)(r10 - 4)
      r0 += r1
      exit]]))
    expect(42, [[
      *(u64 *)(r10 - 8) = 0
      r1 = 42
      store_release((u64 *)(r10 - 8), r1)
      r0 = load_acquire((u64 *)(r10 - 8))
      exit]], 'load_acquire')
  end)

  it('classic packet loads, absolute and indirect', function()
    assert.are.equal(17, run('r6 = r1\nr0 = *(u8 *)skb[9]\nexit'))
    assert.are.equal(40, run('r6 = r1\nr7 = 1\nr0 = *(u16 *)skb[r7 + 1]\nexit'))
    assert.are.equal(17, run('MOV\tR6\tR1\nLDB\tR0\tskb[9]\nEXIT\tR0\t#0', 'classic'))
  end)

  it('a map by fd, a helper by name, in the mnemonic syntax', function()
    local map = assert(require('bpf.map')('array', 1, 'uint32_t', 'uint64_t'))
    map[0] = 41
    assert.are.equal(42, run(([[
      stw [r10 - 4], 0
      mov64 r2, r10
      add64 r2, -4
      lddw r1, map[fd:%d]
      call map_lookup_elem
      jeq r0, 0, out
      ldxdw r0, [r0]
      add64 r0, 1
      exit
out:  mov64 r0, 0
      exit]]):format(map.fd), 'mnemonic'))
  end)
end)
