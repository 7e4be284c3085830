-- Puts raw BPF instructions into the kernel through libbpf, and runs loaded
-- programs with BPF_PROG_TEST_RUN.
--
--   local loader = require('bpf.loader')
--   prog, err = loader.load(insns, n, prog_type, opts)
--     insns: cdata struct bpf_insn[?] (bpf.insn); n: count (default: all)
--     prog_type: lowercase name ('socket_filter', 'xdp', ...) or number
--     opts: license ('GPL'), name, expected_attach_type (name or number),
--           kern_version, log_level (> 0 also keeps the log of a success in
--           prog.log), lines = { [pc] = { file=, line=, text= } } (0-based pc),
--           any_encoding (true: load cpu v4 instructions even where bpf.feature
--           says the kernel has none; the feature probes do)
--   prog: { fd=, type=, name=, log=, :close() }, closed on GC as well.
--   On rejection err reads "<file>:<line>: bpf: cannot load ...: <errno
--   text>" (the Lua line of the failing instruction, when known) followed by
--   the verifier log, each instruction line annotated with its Lua line.
--   result, err = loader.test_run(prog, data_in, opts)
--     data_in: packet as a Lua string (or nil); opts: repeat, ctx_in
--     (string), ctx_out (true: return the context as the program left
--     it; some types, like raw_tracepoint, refuse it), flags, cpu.
--     result = { retval=, data_out=, duration=, ctx_out= }
--   loader.annotate_log(log, lines) -> annotated log, pc of the failing
--   instruction (or nil)
local ffi = require('ffi')
local bit = require('bit')
local insn = require('bpf.insn')
local libbpf = require('bpf.libbpf')

local lib, errno = libbpf.lib, libbpf.errno

local M = {}

-- The verifier's limit on log_size (UINT32_MAX >> 2 since Linux 5.2).
local max_log_size = 0x3fffffff
local first_log_size = 64 * 1024

local function where(info)
  return ('%s:%s'):format(info.file or '?', info.line or '?')
end

-- Appends the Lua source of each instruction to the log lines that start
-- with its index ("12: (b7) r0 = 0"); the failing instruction is the last
-- one the verifier printed.
function M.annotate_log(log, lines)
  local out, failing_pc = {}, nil
  for text in (log .. '\n'):gmatch('([^\n]*)\n') do
    local pc = tonumber(text:match('^(%d+): '))
    if pc and text:match('^%d+: %(%x%x%)') then failing_pc = pc end
    local info = pc and lines and lines[pc]
    if info then
      local source = info.text and (': ' .. info.text:gsub('^%s+', ''):gsub('%s+$', '')) or ''
      text = ('%s\t-- %s%s'):format(text, where(info), source)
    end
    out[#out + 1] = text
  end
  -- the split adds one empty line for a log that ends in a newline
  if out[#out] == '' then out[#out] = nil end
  return table.concat(out, '\n'), failing_pc
end

local function enum_value(names, value, what)
  if value == nil then return 0 end
  if type(value) == 'number' then return value end
  local v = names[value]
  if not v then return nil, ('bpf: unknown %s %q'):format(what, tostring(value)) end
  return v
end

-- Kernel object names: at most 15 characters of [A-Za-z0-9_.].
local function kernel_name(name)
  if not name then return nil end
  return (name:gsub('[^%w_.]', '_'):sub(1, 15))
end

local prog_mt = { __index = {} }

function prog_mt.__index.close(prog)
  libbpf.close_fd(prog._fd_owner)
  prog.fd = -1
  return true
end

function prog_mt.__tostring(prog)
  return ('bpf program "%s" (%s) fd %d'):format(prog.name, prog.type, prog.fd)
end

local load_opts = ffi.new('struct bpf_prog_load_opts')

local function prog_load(type_id, name, license, insns, n, opts, log_level, log_buf, log_size)
  ffi.fill(load_opts, ffi.sizeof(load_opts))
  load_opts.sz = ffi.sizeof(load_opts)
  load_opts.expected_attach_type = opts.attach_type_id
  load_opts.kern_version = opts.kern_version or 0
  load_opts.log_level = log_level
  load_opts.log_size = log_size
  load_opts.log_buf = log_buf
  local fd = lib.bpf_prog_load(type_id, name, license, insns, n, load_opts)
  if libbpf.out_of_fds(fd) then
    -- unreachable programs and maps may still hold fds until collected
    collectgarbage('collect')
    fd = lib.bpf_prog_load(type_id, name, license, insns, n, load_opts)
  end
  return fd
end

-- Loads again with a verifier log, growing the buffer until the whole log
-- fits.  Returns fd (or -errno), log, and whether the log is cut short.
local function load_with_log(type_id, name, license, insns, n, opts, log_level)
  local size = first_log_size
  while true do
    local buf = ffi.new('char[?]', size)
    local fd = prog_load(type_id, name, license, insns, n, opts, log_level, buf, size)
    if fd ~= -errno.ENOSPC or size >= max_log_size or M.gave_up(ffi.string(buf)) then
      return fd, ffi.string(buf), fd == -errno.ENOSPC
    end
    size = math.min(size * 4, max_log_size)
  end
end

local function first_is_insn(insns) return ffi.istype(insn.insn_t, insns[0]) end

-- How many instructions to load: n, checked against the array's size; a
-- bare pointer must come with n.
local function instruction_count(insns, n)
  local indexable, is_insn = false, false
  if type(insns) == 'cdata' then indexable, is_insn = pcall(first_is_insn, insns) end
  if not (indexable and is_insn) then
    return nil, 'bpf.loader.load: instructions must be a struct bpf_insn[?] cdata'
  end
  if ffi.istype('const struct bpf_insn *', insns) then
    if not n then return nil, 'bpf.loader.load: a struct bpf_insn pointer needs a count' end
    return n
  end
  local capacity = ffi.sizeof(insns) / ffi.sizeof(insn.insn_t)
  n = n or capacity
  if n < 1 or n > capacity or n % 1 ~= 0 then
    return nil, ('bpf.loader.load: %s instructions asked for, the array holds %d')
      :format(tostring(n), capacity)
  end
  return n
end

-- Did the verifier stop at its instruction limit?  Then a longer log would
-- only repeat the same walk: the end of the log (the kernel keeps its tail)
-- says all there is.
function M.gave_up(log)
  log = log or ''
  local processed = tonumber(log:match('processed (%d+) insns'))
  return log:find('BPF program is too large', 1, true) ~= nil or (processed or 0) >= 1000000 or
    log:find('jumps is too complex', 1, true) ~= nil
end

-- Did a load fail because the verifier could not see a loop end (err a
-- rejection message)?  Then may_goto can bound it.
function M.loop_gave_up(err)
  return type(err) == 'string' and (err:find('it follows a loop turn by turn', 1, true) ~= nil or
    err:find('infinite loop detected', 1, true) ~= nil)
end

-- Does this kernel take may_goto (6.9+)?  (bpf.features asks it once.)
function M.has_may_goto()
  return (require('bpf.features').has('may_goto'))
end

-- The Lua lines of the program's loops (where each backward jump lands), in
-- order, as "file:line"; empty without instructions or lines.
function M.loop_lines(insns, n, lines)
  local out, seen = {}, {}
  if not insns or not lines then return out end
  for pc = 0, n - 1 do
    local code = insns[pc].code
    local cls, op = bit.band(code, 0x07), bit.band(code, 0xf0)
    if (cls == 0x05 or cls == 0x06) and op ~= 0x80 and op ~= 0x90 and insns[pc].off < 0 then
      local info = lines[pc + 1 + insns[pc].off]
      local at = info and where(info)
      if at and not seen[at] then
        seen[at] = true
        out[#out + 1] = at
      end
    end
  end
  return out
end

-- The message for a program the kernel refused: the Lua line of the failing
-- instruction first, then the verifier log annotated with Lua lines.  insns
-- (optional) lets a verifier that gave up name the program's loops.
function M.rejection(type_name, name, n, err, log, lines, truncated, insns)
  local annotated, failing_pc = M.annotate_log(log or '', lines)
  local failing = failing_pc and lines and lines[failing_pc]
  local head = libbpf.message(('bpf: cannot load %s program "%s" (%d instructions)')
    :format(type_name, name, n), err)
  local too_complex = ''
  if M.gave_up(log) or (truncated and err == -errno.ENOSPC) then
    too_complex = '\nthe verifier gave up: it walks every path through the program and stops' ..
      ' after 1,000,000 instructions; make the paths fewer (fewer branches one after another,' ..
      ' or values that do not differ between them) or split the program'
    local loops = M.loop_lines(insns, n, lines)
    if #loops > 0 then
      too_complex = too_complex .. ('; it follows a loop turn by turn: give the loop%s at %s a' ..
        ' bound it can see (a constant, bit.band(n, 15), if n > 15 then n = 15 end), or on a' ..
        ' kernel with may_goto (6.9+) compile without loops = \'bounded\' and each turn ends in it,' ..
        ' or make it a numeric for and compile with loops = \'bpf_loop\' (5.17+)')
        :format(#loops > 1 and 's' or '', table.concat(loops, ', '))
    end
    failing, failing_pc = nil, nil
  end
  if failing then
    head = where(failing) .. ': ' .. head
  elseif failing_pc then
    head = head .. (' at instruction %d'):format(failing_pc)
  end
  head = head .. too_complex
  -- a helper the program type may not call: 6.1's verifier says "unknown func", later ones
  -- "program of this type cannot use helper"
  local helper = log and (log:match('cannot use helper (bpf_[%w_]+)#%d+')
    or log:match('unknown func (bpf_[%w_]+)#%d+'))
  if helper then
    head = head .. ('\n%s programs may not call %s (the kernel refuses it for this program type)')
      :format(type_name, helper)
  end
  -- an encoding the kernel does not know: an instruction newer than it
  if log and (log:find('uses reserved fields', 1, true) or log:find('unknown opcode', 1, true)
      or log:find('invalid atomic opcode', 1, true)) then
    head = head .. '\nthe program uses an instruction this kernel does not know, one newer than it '
      .. '(cpu v4 instructions such as signed division, sign extension, byte swaps and gotol: 6.6+; '
      .. "may_goto: 6.9+; load-acquire and store-release: 6.15+); bpf.feature('cpu_v4') and the "
      .. 'others say what this kernel has'
  end
  if truncated then annotated = annotated .. '\n(verifier log cut at the kernel limit)' end
  if annotated ~= '' then head = head .. '\nverifier log:\n' .. annotated end
  return head
end

-- The first cpu v4 instruction (6.6+) in insns, by name, or nil.  A kernel
-- without them refuses most, but 6.1 takes gotol (a BPF_JMP32 BPF_JA) and
-- jumps somewhere else: so they are looked for before loading there.
local function first_v4(insns, n)
  for pc = 0, n - 1 do
    local i = insns[pc]
    local class, op, mode = bit.band(i.code, 7), bit.band(i.code, 0xf0), bit.band(i.code, 0xe0)
    local alu = class == 4 or class == 7
    if class == 6 and op == 0x00 then return pc, 'gotol' end
    if alu and (op == 0x30 or op == 0x90) and i.off == 1 then return pc, 'signed division' end
    if alu and op == 0xb0 and i.off ~= 0 then return pc, 'a sign-extending move' end
    if class == 7 and op == 0xd0 then return pc, 'bswap' end
    if class == 1 and mode == 0x80 then return pc, 'a sign-extending load' end
  end
end

function M.load(insns, n, prog_type, opts)
  opts = opts or {}
  local count_err
  n, count_err = instruction_count(insns, n)
  if not n then return nil, count_err end
  if not opts.any_encoding and not require('bpf.features').has('cpu_v4') then
    local pc, what = first_v4(insns, n)
    if pc then
      return nil, ('bpf: cannot load: instruction %d is %s, a cpu v4 instruction this kernel does not have '
        .. '(6.6+); the program uses an instruction this kernel does not know'):format(pc, what)
    end
  end
  local type_id, err = enum_value(libbpf.prog_type, prog_type or 'unspec', 'program type')
  if not type_id then return nil, err end
  local type_name = libbpf.prog_type_name[type_id] or tostring(prog_type)
  local attach_id
  attach_id, err = enum_value(libbpf.attach_type, opts.expected_attach_type, 'attach type')
  if not attach_id then return nil, err end
  local settings = { attach_type_id = attach_id, kern_version = opts.kern_version }
  local name, license = kernel_name(opts.name), opts.license or 'GPL'
  local log_level = opts.log_level or 0

  local fd, log, truncated
  if log_level > 0 then
    fd, log, truncated = load_with_log(type_id, name, license, insns, n, settings, log_level)
  else
    -- the fast path: no log unless the kernel says no
    fd = prog_load(type_id, name, license, insns, n, settings, 0, nil, 0)
    if fd < 0 then
      -- the log explains it; the errno is the first answer's (a log that does not
      -- fit turns any error into ENOSPC)
      local first = fd
      fd, log, truncated = load_with_log(type_id, name, license, insns, n, settings, 1)
      if fd < 0 then fd = first end
    end
  end

  local display_name = opts.name or type_name
  if fd < 0 then
    return nil, M.rejection(type_name, display_name, n, fd, log, opts.lines, truncated, insns)
  end
  return setmetatable({
    fd = fd, type = type_name, name = display_name, insn_count = n,
    log = log_level > 0 and log or nil,
    _fd_owner = libbpf.own_fd(fd),
  }, prog_mt)
end

local test_opts = ffi.new('struct bpf_test_run_opts')

-- One BPF_PROG_TEST_RUN; out = { data = bytes, ctx = bytes or nil } are
-- the sizes of the output buffers.  Returns the result and the buffers.
local function run_once(prog, data_in, run, out)
  ffi.fill(test_opts, ffi.sizeof(test_opts))
  test_opts.sz = ffi.sizeof(test_opts)
  local data_out, ctx_out = nil, nil
  if data_in then
    data_out = ffi.new('uint8_t[?]', out.data)
    test_opts.data_in = data_in
    test_opts.data_size_in = #data_in
    test_opts.data_out = data_out
    test_opts.data_size_out = out.data
  end
  if run.ctx_in then
    test_opts.ctx_in = run.ctx_in
    test_opts.ctx_size_in = #run.ctx_in
  end
  if out.ctx then
    ctx_out = ffi.new('uint8_t[?]', out.ctx)
    test_opts.ctx_out = ctx_out
    test_opts.ctx_size_out = out.ctx
  end
  -- 0 means once; some program types (raw_tracepoint) insist on 0
  test_opts['repeat'] = run['repeat'] or 0
  test_opts.flags = run.flags or 0
  test_opts.cpu = run.cpu or 0
  return lib.bpf_prog_test_run_opts(prog.fd, test_opts), data_out, ctx_out
end

-- Runs prog once (or opts.repeat times) on data_in in the kernel.
function M.test_run(prog, data_in, opts)
  opts = opts or {}
  -- room for programs that grow the packet; the kernel tells us if it needs more
  local out = { data = data_in and #data_in + 256 or 0 }
  if opts.ctx_out then out.ctx = math.max(opts.ctx_in and #opts.ctx_in or 0, 256) end
  local ret, data_out, ctx_out = run_once(prog, data_in, opts, out)
  if ret == -errno.ENOSPC then
    -- the kernel reported the sizes it needed: run again with those
    out.data = math.max(out.data, test_opts.data_size_out)
    if out.ctx then out.ctx = math.max(out.ctx, test_opts.ctx_size_out) end
    ret, data_out, ctx_out = run_once(prog, data_in, opts, out)
  end
  if ret ~= 0 then return libbpf.error(('bpf: test run of %s'):format(tostring(prog)), ret) end
  local result = { retval = test_opts.retval, duration = test_opts.duration }
  if data_out then result.data_out = ffi.string(data_out, test_opts.data_size_out) end
  if ctx_out then result.ctx_out = ffi.string(ctx_out, test_opts.ctx_size_out) end
  return result
end

return M
