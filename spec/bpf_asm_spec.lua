-- bpf.asm: assembly text to a program object like bpf(fn) gives.  Every
-- listing bpf.dump prints for the examples' programs, in each syntax, comes
-- back as the same instructions and the same map relocations; errors name
-- line and column; an assembled program with a map loads and runs.
local ffi = require('ffi')
local bpf = require('bpf')

local examples = { 'sock-proto', 'sock-protolen', 'sock-parse-dns', 'sock-dns-labels', 'sock-parse-http',
  'tracepoint-offcputime', 'kprobe-latency', 'kprobe-write', 'uprobe-readline', 'uprobe-tailkt',
  'xdp-drop', 'ringbuf-exec', 'tracepoint-execsnoop', 'tc-mark', 'xdp-lb',
  'cgroup-connect' }

local function bytes(p) return ffi.string(p.insn, p.pc * 8) end

-- The relocations as "insn:map" with each map object by the name it has in names.
local function relocs(p, names)
  local by_map, out = {}, {}
  for name, map in pairs(names) do by_map[map] = name end
  for _, use in ipairs(p.maps or {}) do
    out[#out + 1] = ('%d:%s:%d'):format(use.insn, tostring(by_map[use.map]), use.index)
  end
  return table.concat(out, ' ')
end

describe('bpf.asm on the listings of the examples', function()
  for _, name in ipairs(examples) do
    it(name .. ': every listing, in each syntax, assembles to the same program', function()
      local progs, maps = require('examples.' .. name).build()
      maps = maps or {}
      for _, p in ipairs(progs) do
        local prog = p.prog
        for _, syn in ipairs({ 'classic', 'pseudo-c', 'mnemonic' }) do
          local listing = bpf.dump_string(prog, { syntax = syn, maps = maps })
          local modes = syn == 'classic' and { 'classic' } or { syn, nil }
          for k = 1, #modes + (syn == 'classic' and 0 or 1) do
            local back, err = bpf.asm(listing, { syntax = modes[k], maps = maps, name = p.name .. '.s' })
            assert(back, ('%s (%s, %s): %s\n%s'):format(p.name, syn, tostring(modes[k]), tostring(err),
              listing))
            assert.are.equal(prog.pc, back.pc)
            assert.is_true(bytes(prog) == bytes(back), p.name .. ' in ' .. syn)
            assert.are.equal(relocs(prog, maps), relocs(back, maps))
            assert.are.equal(#(prog.maps or {}) > 0 and 'named' or 'none',
              #(back.maps or {}) > 0 and 'named' or 'none')
            -- and its own listing is the same text
            assert.are.equal(bpf.dump_string(prog, { syntax = syn, maps = maps, source = false }),
              bpf.dump_string(back, { syntax = syn }))
          end
        end
      end
    end)
  end
end)

describe('bpf.asm', function()
  it('reads pseudo-C and the normal (mnemonic) syntax mixed, labels, comments and ll', function()
    local p = assert(bpf.asm([[
      # GNU as style comment
      mov %r0, 0          ; a mnemonic line with a GNU register
      r1 = 0x100000000 ll // pseudo-C with a 64-bit immediate
      lddw r2, -1
      endbe %r1, 16
    loop:
      r0 += 1
      jlt r0, 3, loop
      if r0 != 3 goto loop
      exit]]))
    assert.are.equal(table.concat({
      'r0 = 0', 'r1 = 4294967296 ll', 'r2 = -1 ll', 'r1 = be16 r1', 'r0 += 1',
      'if r0 < 3 goto -2', 'if r0 != 3 goto -3', 'exit' }, '\n'),
      bpf.dump_string(p, { syntax = 'pseudo-c', hide_counter = true }))
  end)

  it('calls helpers by name, by their BPF_FUNC name and by number', function()
    for _, text in ipairs({ 'call map_lookup_elem', 'call bpf_map_lookup_elem', 'call 1' }) do
      local p = assert(bpf.asm(text .. '\nexit'))
      assert.are.equal(0x85, p.insn[0].code)
      assert.are.equal(1, p.insn[0].imm)
    end
  end)

  it('loads maps by the names it is given, as relocations', function()
    local m, other = bpf.map('array', 2), bpf.map('hash', 4)
    local p = assert(bpf.asm('r1 = counts ll\nlddw r2, other\nlddw r3, counts',
      { maps = { counts = m, other = other } }))
    assert.are.same({ { insn = 0, map = m, index = 0 }, { insn = 2, map = other, index = 1 },
      { insn = 4, map = m, index = 0 } }, p.maps)
    assert.are.equal(0x18, p.insn[4].code)
    assert.are.equal(1, p.insn[4].src_reg) -- BPF_PSEUDO_MAP_FD, its fd filled in at load
    assert.are.equal('LDDW\tR3\tcounts', bpf.dump_string(p, { hide_counter = true }):match('[^\n]*$'))
    local c = assert(bpf.asm('LDDW R1 counts\nEXIT R0 #0', { syntax = 'classic', maps = { counts = m } }))
    assert.are.equal(m, c.maps[1].map)
  end)

  it('says where a line stops making sense, and what was expected there', function()
    local function err(text, opts) return select(2, bpf.asm(text, opts)) end
    assert.are.equal("prog.s:3:17: expected a register, got 'r11'",
      err('r0 = 1\n\n  r0 = *(u32 *)(r11 + 0)\nexit', { name = 'prog.s' }))
    assert.are.equal("asm:1:1: expected an instruction, got 'frob'", err('frob r1'))
    assert.are.equal("asm:2:6: expected '-', a number, a 64-bit register (rN), '(', 'addr_space_cast' "
      .. "or a map (map[fd:N] or the name of a map), got 'counts'", err('r0 = 0\nr1 = counts ll'))
    assert.are.equal("asm:1:6: unknown label 'away'", err('goto away'))
    assert.are.equal("asm:1:11: expected a register, got 'r12'",
      err('mov64 r1, r12', { syntax = 'mnemonic' }))
    assert.matches("^bpf.asm: opts.maps is { name = map }", err('exit', { maps = { 'x' } }))
  end)

  it('gives its lines to the listing only when asked, and to the object', function()
    local p = assert(bpf.asm('r0 = 2 // two\nexit', { name = 'two.s' }))
    assert.are.equal('0000\tr0 = 2\n0001\texit', bpf.dump_string(p, { syntax = 'c' }))
    assert.are.equal('// two.s:1  r0 = 2 // two\n0000\tr0 = 2\n// two.s:2  exit\n0001\texit',
      bpf.dump_string(p, { syntax = 'c', source = true }))
    assert.are.same({ file = 'two.s', line = 1, text = 'r0 = 2 // two' }, p:lines()[0])
    assert.matches('^bpf program: 2 instructions, 0 bytes of stack', tostring(p))
  end)

  it('finds the subprograms local calls lead to, named by their labels', function()
    local p = assert(bpf.asm('call sub\nexit\nsub: r0 = 3\nexit'))
    assert.are.same({ { insn = 0 }, { insn = 2, name = 'sub' } }, p.funcs)
    assert.matches('// function sub\n0002', bpf.dump_string(p, { syntax = 'c' }))
  end)

  it('refuses to load or save an sBPF program', function()
    local p = assert(bpf.asm('mov64 r0, 1\nreturn', { dialect = 'sbpf-v3' }))
    local h, err = p:load('socket_filter')
    assert.is_nil(h)
    assert.matches("an sbpf%-v3 program .* runs on Solana's sBPF VM", err)
    assert.is_nil((p:save(os.tmpname())))
  end)
end)

describe('bpf.asm in the kernel', function()
  local loader = require('bpf.loader')

  it('loads a program with a map and runs it', function()
    local counts = bpf.map('array', 4)
    local p = assert(bpf.asm([[
        r6 = r1
        *(u32 *)(r10 - 4) = 2     // key 2
        r2 = r10
        r2 += -4
        lddw r1, counts
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        w1 = 5
        lock *(u32 *)(r0 + 0) += w1
        r0 = *(u32 *)(r0 + 0)
        exit
      out:
        mov64 r0, 0
        exit]], { maps = { counts = counts }, name = 'count.s' }))
    local h = assert(p:load('socket_filter'))
    assert.are.equal(5, loader.test_run(h, string.rep('\0', 64)).retval)
    assert.are.equal(10, loader.test_run(h, string.rep('\0', 64)).retval)
    h:close()
    assert.are.equal(10, counts[2])
  end)

  it('names the source line of what the verifier refuses', function()
    local p = assert(bpf.asm('r1 = 0\nr0 = *(u64 *)(r1 + 0)\nexit', { name = 'bad.s' }))
    local h, err = p:load('socket_filter')
    assert.is_nil(h)
    assert.matches('bad.s:2', err)
  end)

  it('attaches through bpf.socket', function()
    local p = assert(bpf.asm('r0 = 0\nexit', { type = 'socket_filter' }))
    local link = assert(bpf.socket('lo', p))
    link:close()
  end)
end)
