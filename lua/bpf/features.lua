-- What the running kernel can do, each asked of it once by loading (and
-- where it matters, running) a small program, never guessed from its
-- version: the same Lua code runs on 6.1 and on 6.18, and the compiler and
-- the runtime choose by these answers.
--
--   features.has(name) -> true, or false and a sentence saying what is missing
--     (bpf.feature(name) is the same)
--   features.names     the names, in order
--   features.define(name, probe)   a probe of another module's (bpf_loop: init.lua
--                                  compiles a loop to ask)
--
-- Each probe returns true, or false and why.  Answers are kept for the
-- process: the kernel does not change under it.
local ffi = require('ffi')
local libbpf = require('bpf.libbpf')
local insn = require('bpf.insn')

local lib = libbpf.lib
local M = {}

ffi.cdef [[
typedef struct bpf_features_btf bpf_features_btf;
bpf_features_btf *bpf_features_vmlinux_btf(void) __asm__("btf__load_vmlinux_btf");
int bpf_features_btf_find(const bpf_features_btf *btf, const char *name, unsigned int kind)
  __asm__("btf__find_by_name_kind");
void bpf_features_btf_free(bpf_features_btf *btf) __asm__("btf__free");
unsigned int bpf_features_if_nametoindex(const char *name) __asm__("if_nametoindex");
]]

-- A program of a few instructions, each { code, dst, src, off, imm }.
local program = insn.from_list

local EXIT = { 0x95 }
local R0_0 = { 0xb7, 0, 0, 0, 0 } -- r0 = 0

local function loads(list, prog_type)
  local code, n = program(list)
  -- any_encoding: the loader's own check of new instructions asks these probes
  local h, err = require('bpf.loader').load(code, n, prog_type, { any_encoding = true })
  return h, err
end

local probes = {}
M.names = {}

function M.define(name, probe)
  if not probes[name] then M.names[#M.names + 1] = name end
  probes[name] = probe
end

M.define('bounded_loops', function()
  -- r0 = 0; r0 += 1; if r0 < 4 goto -2; exit
  local h = loads({ R0_0, { 0x07, 0, 0, 0, 1 }, { 0xa5, 0, 0, -2, 4 }, EXIT }, 'socket_filter')
  if not h then return false, 'this kernel takes no loops at all (bounded loops are 5.3+)' end
  h:close()
  return true
end)

M.define('may_goto', function()
  local h = loads({ { 0xe5 }, R0_0, EXIT }, 'socket_filter') -- may_goto +0; r0 = 0; exit
  if not h then return false, 'this kernel has no may_goto (6.9+)' end
  h:close()
  return true
end)

M.define('cpu_v4', function()
  -- r0 = -7; r0 s/= 2 (BPF_DIV with off 1); exit: -3 where the kernel has it
  local h = loads({ { 0xb7, 0, 0, 0, -7 }, { 0x37, 0, 0, 1, 2 }, EXIT }, 'socket_filter')
  if not h then
    return false, 'this kernel has no cpu v4 instructions (signed division, sign extension, bswap; 6.6+)'
  end
  local r = require('bpf.loader').test_run(h, string.rep('\0', 64))
  h:close()
  if not (r and r.retval == 0xfffffffd) then
    return false, 'this kernel loads signed division but computes -7 s/ 2 as ' .. tostring(r and r.retval)
  end
  return true
end)

M.define('load_acquire', function()
  -- *(u64 *)(r10 - 8) = 0; r0 = load_acquire((u64 *)(r10 - 8)); exit
  local h = loads({ { 0x7a, 10, 0, -8, 0 }, { 0xdb, 0, 10, -8, 0x100 }, EXIT }, 'socket_filter')
  if not h then return false, 'this kernel has no load-acquire and store-release instructions (6.15+)' end
  h:close()
  return true
end)

M.define('ringbuf', function()
  local fd = lib.bpf_map_create(libbpf.map_type.ringbuf, nil, 0, 0, 4096, nil)
  if fd < 0 then return false, 'this kernel has no ring buffer maps (5.8+)' end
  libbpf.close_fd(libbpf.own_fd(fd))
  return true
end)

M.define('probe_read_user_str', function()
  -- r1 = r10 - 8; r2 = 8; r3 = 0; call probe_read_user_str; r0 = 0; exit
  local h = loads({ { 0xbf, 1, 10 }, { 0x07, 1, 0, 0, -8 }, { 0xb7, 2, 0, 0, 8 }, { 0xb7, 3, 0, 0, 0 },
    { 0x85, 0, 0, 0, 114 }, R0_0, EXIT }, 'kprobe')
  if not h then return false, 'this kernel has no bpf_probe_read_user_str (5.5+)' end
  h:close()
  return true
end)

M.define('tcx', function()
  local h = loads({ R0_0, EXIT }, 'sched_cls')
  if not h then return false, 'this kernel loads no sched_cls programs' end
  local ifindex = ffi.C.bpf_features_if_nametoindex('lo')
  local link = lib.bpf_link_create(h.fd, ifindex, libbpf.attach_type.tcx_ingress, nil)
  h:close()
  if link < 0 then
    return false, 'this kernel has no tcx links (6.6+): tc programs attach through a clsact qdisc'
  end
  libbpf.close_fd(libbpf.own_fd(link)) -- a program returning 0 (pass) was on lo's ingress for this long
  return true
end)

M.define('trampolines', function()
  local btf = lib.bpf_features_vmlinux_btf()
  if btf == nil then
    return false, 'this kernel has no BTF (/sys/kernel/btf/vmlinux), which trampolines need'
  end
  local id = lib.bpf_features_btf_find(btf, 'bpf_fentry_test1', 12) -- BTF_KIND_FUNC
  lib.bpf_features_btf_free(btf)
  if id <= 0 then return false, 'vmlinux BTF has no bpf_fentry_test1 to attach a probe to' end
  local code, n = program({ R0_0, EXIT })
  local opts = ffi.new('struct bpf_prog_load_opts')
  opts.sz = ffi.sizeof(opts)
  opts.expected_attach_type = libbpf.attach_type.trace_fentry
  opts.attach_btf_id = id
  local fd = lib.bpf_prog_load(libbpf.prog_type.tracing, 'probe_fentry', 'GPL', code, n, opts)
  if fd < 0 then
    return false, libbpf.message('this kernel refuses trampolines (fentry, fexit, LSM programs)', fd)
  end
  local owner = libbpf.own_fd(fd)
  local link = lib.bpf_link_create(fd, 0, libbpf.attach_type.trace_fentry, nil)
  libbpf.close_fd(owner)
  if link < 0 then
    return false, libbpf.message('this kernel loads fentry programs but does not attach them', link)
  end
  libbpf.close_fd(libbpf.own_fd(link))
  return true
end)

local answers = {}

function M.has(name)
  local probe = probes[name]
  if not probe then
    error(('bpf.feature: no feature %s (%s)'):format(tostring(name), table.concat(M.names, ', ')), 2)
  end
  local a = answers[name]
  if not a then
    local ok, why = probe()
    a = { ok == true, why }
    answers[name] = a
  end
  if a[1] then return true end
  return false, a[2]
end

return M
