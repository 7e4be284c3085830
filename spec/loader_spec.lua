-- bpf.loader against the running kernel: hand-assembled programs are loaded
-- into the real verifier and run with BPF_PROG_TEST_RUN.  Needs root and BPF.
local ffi = require('ffi')
local loader = require('bpf.loader')
local kernel = require('spec.support.kernel')

local open_fd_count, asm = kernel.open_fd_count, kernel.asm

local MOV_IMM, MOV_REG, EXIT, CALL = 0xb7, 0xbf, 0x95, 0x85
local LD_ABS_B, LDX_DW = 0x30, 0x79

local function return_constant(value)
  return asm({ { MOV_IMM, 0, 0, 0, value }, { EXIT } })
end

-- r6 = ctx; r0 = the byte at packet offset; exit
local function load_byte_at(offset)
  return asm({ { MOV_REG, 6, 1 }, { LD_ABS_B, 0, 0, 0, offset }, { EXIT } })
end

-- Ethernet + IPv4 (no options) + 8 bytes of payload, protocol as given.
local function packet(protocol)
  return string.rep('\0', 12) .. '\8\0'
    .. '\69\0\0\28\0\0\0\0\64' .. string.char(protocol) .. '\0\0'
    .. '\10\0\0\1' .. '\10\0\0\2' .. string.rep('\170', 8)
end

local UDP, TCP = 17, 6

describe('bpf.loader', function()
  it('loads "r0 = 1; exit" and runs it', function()
    local code, n = return_constant(1)
    local prog = assert(loader.load(code, n, 'socket_filter', { name = 'one' }))
    assert.equal('number', type(prog.fd))
    assert.is_true(prog.fd >= 0)
    assert.equal('socket_filter', prog.type)
    assert.equal('one', prog.name)
    local result = assert(loader.test_run(prog, packet(UDP)))
    assert.equal(1, result.retval)
    assert.equal('number', type(result.duration))
    prog:close()
  end)

  it('counts the instructions itself when n is left out', function()
    local prog = assert(loader.load((return_constant(3)), nil, 'socket_filter'))
    assert.equal(2, prog.insn_count)
    assert.equal(3, assert(loader.test_run(prog, packet(UDP))).retval)
    prog:close()
  end)

  it('takes fixed-size arrays and pointers with a count', function()
    local code = return_constant(4)
    local fixed = ffi.new('struct bpf_insn[2]')
    ffi.copy(fixed, code, ffi.sizeof(fixed))
    local prog = assert(loader.load(fixed, nil, 'socket_filter'))
    assert.equal(4, assert(loader.test_run(prog, packet(UDP))).retval)
    prog:close()
    prog = assert(loader.load(ffi.cast('const struct bpf_insn *', code), 2, 'socket_filter'))
    prog:close()
  end)

  for _, prog_type in ipairs({ 'socket_filter', 'sched_cls', 'sched_act', 'kprobe', 'tracepoint', 'xdp',
    'perf_event', 'raw_tracepoint' }) do
    it('loads a ' .. prog_type .. ' program', function()
      local code, n = return_constant(0)
      local prog = assert(loader.load(code, n, prog_type))
      assert.equal(prog_type, prog.type)
      assert.is_true(prog.fd >= 0)
      prog:close()
    end)
  end

  it('runs a socket filter on a packet from its network header (LD_ABS)', function()
    local code, n = load_byte_at(9)
    local prog = assert(loader.load(code, n, 'socket_filter'))
    assert.equal(UDP, assert(loader.test_run(prog, packet(UDP))).retval)
    assert.equal(TCP, assert(loader.test_run(prog, packet(TCP))).retval)
    prog:close()
  end)

  it('runs a sched_cls program on a packet from its Ethernet header', function()
    local code, n = load_byte_at(23)
    local prog = assert(loader.load(code, n, 'sched_cls'))
    local result = assert(loader.test_run(prog, packet(TCP), { ['repeat'] = 1000 }))
    assert.equal(TCP, result.retval)
    assert.equal(packet(TCP), result.data_out)
    prog:close()
  end)

  it('runs an XDP program and returns its verdict', function()
    local code, n = return_constant(1) -- XDP_DROP
    local prog = assert(loader.load(code, n, 'xdp'))
    local result = assert(loader.test_run(prog, packet(UDP)))
    assert.equal(1, result.retval)
    assert.equal(packet(UDP), result.data_out)
    prog:close()
  end)

  it('returns the whole packet of a program that grows it', function()
    -- r6 = ctx; bpf_xdp_adjust_head(ctx, -16); bpf_xdp_adjust_tail(ctx, 1000); return XDP_PASS
    local code, n = asm({ { MOV_REG, 6, 1 }, { MOV_IMM, 2, 0, 0, -16 }, { CALL, 0, 0, 0, 44 },
      { MOV_REG, 1, 6 }, { MOV_IMM, 2, 0, 0, 1000 }, { CALL, 0, 0, 0, 65 },
      { MOV_IMM, 0, 0, 0, 2 }, { EXIT } })
    local prog = assert(loader.load(code, n, 'xdp', { name = 'grow' }))
    local result = assert(loader.test_run(prog, packet(UDP)))
    assert.equal(2, result.retval)
    assert.equal(#packet(UDP) + 16 + 1000, #result.data_out)
    assert.equal(packet(UDP), result.data_out:sub(17, 16 + #packet(UDP)))
    prog:close()
  end)

  it('hands ctx_in to the program', function()
    -- r0 = *(u64 *)(ctx + 0); exit
    local code, n = asm({ { LDX_DW, 0, 1, 0, 0 }, { EXIT } })
    local prog = assert(loader.load(code, n, 'raw_tracepoint'))
    local ctx = ffi.new('uint64_t[1]', 42)
    local result = assert(loader.test_run(prog, nil, { ctx_in = ffi.string(ctx, 8) }))
    assert.equal(42, result.retval)
    prog:close()
  end)

  it('hands back the context a program wrote when asked (ctx_out)', function()
    -- r0 = skb->mark; r2 = 9; skb->mark = r2; exit (a register store: 6.1 takes no BPF_ST into the context)
    local code, n = asm({ { 0x61, 0, 1, 8, 0 }, { 0xb7, 2, 0, 0, 9 }, { 0x63, 1, 2, 8, 0 }, { EXIT } })
    local prog = assert(loader.load(code, n, 'sched_cls'))
    local ctx = ffi.new('uint32_t[3]', { 0, 0, 7 }) -- len, pkt_type, mark
    local result = assert(loader.test_run(prog, packet(UDP),
      { ctx_in = ffi.string(ctx, 12), ctx_out = true }))
    assert.equal(7, result.retval)
    assert.is_true(#result.ctx_out >= 12)
    ffi.copy(ctx, result.ctx_out, 12)
    assert.equal(9, ctx[2])
    prog:close()
  end)

  it('takes an expected attach type by name', function()
    local code, n = return_constant(1)
    local prog = assert(loader.load(code, n, 'cgroup_skb', { expected_attach_type = 'cgroup_inet_egress' }))
    prog:close()
    local bad, err = loader.load(code, n, 'cgroup_skb', { expected_attach_type = 'no_such_hook' })
    assert.is_nil(bad)
    assert.matches('unknown attach type "no_such_hook"', err)
  end)

  it('returns the verifier log, with Lua lines, when the verifier rejects a program', function()
    -- r0 = 1; r0 = r2 (never written); exit
    local code, n = asm({ { MOV_IMM, 0, 0, 0, 1 }, { MOV_REG, 0, 2 }, { EXIT } })
    local lines = {
      [0] = { file = 'prog.lua', line = 3, text = '  local x = 1' },
      [1] = { file = 'prog.lua', line = 4, text = 'x = y' },
      [2] = { file = 'prog.lua', line = 5, text = 'return x' },
    }
    local prog, err = loader.load(code, n, 'socket_filter', { name = 'reject', lines = lines })
    assert.is_nil(prog)
    assert.equal('prog.lua:4: bpf: cannot load socket_filter program "reject" (3 instructions): '
      .. 'Permission denied (errno 13)', err:match('^[^\n]*'))
    assert.matches('R2 !read_ok', err, 1, true)
    assert.matches('\n1: (bf) r0 = r2\t-- prog.lua:4: x = y\n', err, 1, true)
    assert.matches('\n0: %(b7%) r0 = 1[^\n]*\t%-%- prog%.lua:3: local x = 1\n', err)
  end)

  it('names the failing instruction when no Lua lines are known', function()
    local code, n = asm({ { MOV_REG, 0, 2 }, { EXIT } })
    local prog, err = loader.load(code, n, 'socket_filter')
    assert.is_nil(prog)
    assert.matches('^bpf: cannot load socket_filter program "socket_filter" %(2 instructions%): '
      .. 'Permission denied %(errno 13%) at instruction 0\n', err)
    assert.matches('R2 !read_ok', err, 1, true)
  end)

  it('explains a rejection that is not the verifier\'s', function()
    local code, n = return_constant(0)
    local prog, err = loader.load(code, n, 'no_such_type')
    assert.is_nil(prog)
    assert.matches('unknown program type "no_such_type"', err)
    prog, err = loader.load({ 1, 2 }, 2, 'xdp')
    assert.is_nil(prog)
    assert.matches('struct bpf_insn', err)
    prog, err = loader.load(ffi.new('uint64_t', 2), 2, 'xdp')
    assert.is_nil(prog)
    assert.matches('struct bpf_insn', err)
    prog, err = loader.load(ffi.new('uint64_t[2]'), 2, 'xdp')
    assert.is_nil(prog)
    assert.matches('struct bpf_insn', err)
    prog, err = loader.load(code, 3, 'xdp')
    assert.is_nil(prog)
    assert.matches('3 instructions asked for, the array holds 2', err)
    prog, err = loader.load(ffi.cast('struct bpf_insn *', code), nil, 'xdp')
    assert.is_nil(prog)
    assert.matches('needs a count', err)
  end)

  it('annotates log lines that start with an instruction index', function()
    local log = table.concat({
      'func#0 @0',
      '0: R1=ctx() R10=fp0',
      '0: (b7) r0 = 0                        ; R0_w=0',
      '1: (bf) r0 = r2',
      'R2 !read_ok',
      'processed 2 insns',
    }, '\n') .. '\n'
    local annotated, failing_pc = loader.annotate_log(log, {
      [0] = { file = 'a.lua', line = 10, text = 'local n = 0' },
      [1] = { file = 'a.lua', line = 11 },
    })
    assert.equal(1, failing_pc)
    assert.equal(table.concat({
      'func#0 @0',
      '0: R1=ctx() R10=fp0\t-- a.lua:10: local n = 0',
      '0: (b7) r0 = 0                        ; R0_w=0\t-- a.lua:10: local n = 0',
      '1: (bf) r0 = r2\t-- a.lua:11',
      'R2 !read_ok',
      'processed 2 insns',
    }, '\n'), annotated)
    local plain = loader.annotate_log('0: (95) exit\n')
    assert.equal('0: (95) exit', plain)
  end)

  it('keeps the log of a successful load when log_level asks for it', function()
    local code, n = return_constant(0)
    local prog = assert(loader.load(code, n, 'socket_filter', { log_level = 1 }))
    assert.matches('processed 2 insns', prog.log)
    prog:close()
  end)

  it('grows the log buffer rather than cut the log', function()
    -- 3000 instructions at log level 2 print well over the first 64 KiB
    local list = {}
    for i = 1, 3000 do list[i] = { MOV_IMM, 0, 0, 0, i } end
    list[#list + 1] = { EXIT }
    local code, n = asm(list)
    local prog = assert(loader.load(code, n, 'socket_filter', { log_level = 2 }))
    assert.is_true(#prog.log > 64 * 1024)
    assert.matches('\n0: %(b7%) r0 = 1', prog.log)
    assert.matches('processed 3001 insns', prog.log)
    prog:close()
  end)

  it('closes once and refuses to run a closed program', function()
    local code, n = return_constant(0)
    local prog = assert(loader.load(code, n, 'socket_filter'))
    assert.is_true(prog:close())
    assert.is_true(prog:close())
    assert.equal(-1, prog.fd)
    local result, err = loader.test_run(prog, packet(UDP))
    assert.is_nil(result)
    assert.matches('Bad file descriptor', err)
  end)

  it('leaves the fd count unchanged after 10,000 load/close cycles', function()
    local code, n = return_constant(0)
    collectgarbage('collect')
    local before = open_fd_count()
    for _ = 1, 10000 do assert(loader.load(code, n, 'socket_filter')):close() end
    assert.equal(before, open_fd_count())
  end)

  it('closes the fds of unreachable programs on GC', function()
    local code, n = return_constant(0)
    collectgarbage('collect')
    local before = open_fd_count()
    for _ = 1, 2000 do assert(loader.load(code, n, 'socket_filter')) end
    collectgarbage('collect')
    collectgarbage('collect')
    assert.equal(before, open_fd_count())
  end)
end)
