-- Attaching programs where the kernel runs them: packet sockets,
-- tracepoints, raw tracepoints, uprobes, USDT probes, kprobes, XDP, tc and
-- cgroups.  Each
-- attachment is a link object; a link detaches on :close(), when it is
-- collected, and when the Lua state closes (a sentinel closes every link
-- still open), also when attaching fails half-way.
--
--   local attach = require('bpf.attach')  (bpf.socket, bpf.tracepoint, ... in the public API)
--   link, err = attach.socket(iface | fd | socket cdata, prog)
--   link, err = attach.tracepoint('group/name', prog)
--   link, err = attach.raw_tracepoint('name', prog)
--   link, err = attach.uprobe('path:function[+off]' | 'path:0xoffset', prog, retprobe, pid)
--   link, err = attach.usdt('path:provider:name', prog, pid)    (link.args: where its arguments are)
--   link, err = attach.kprobe('[label:]function[+off]', prog, retprobe)
--   link, err = attach.xdp(iface, prog, flags)   flags: 'skb' | 'drv' | 'hw' | a number,
--     or {mode = one of those ('native' is 'drv')}
--   link, err = attach.cgroup(path, kind, prog)   kind: 'ingress' | 'egress' (cgroup_skb: return
--     1 lets it by), 'sock_create' (cgroup_sock), 'connect4' | 'connect6' | 'bind4' | 'sendmsg4'
--     (cgroup_sock_addr): return 1 allows, 0 refuses (EPERM)
--   link, err = attach.tc(iface, prog, {direction = 'ingress' | 'egress', priority = n,
--     via = 'tcx' | 'clsact'})   (tcx where the kernel has it, else a clsact filter)
--   link, err = attach.perf_event(prog, {freq = 99 | period = n, event = 'cpu-clock' | 'cycles' | ...
--     (or type =, config =), pid = n, cpus = {...}})   on every online CPU (link.cpus)
--   link:close()    detach (again: harmless);  link:fd()  the fd holding the attachment
--   link:pin(path)  keep it after the script (bpf/pin.lua: bpf.open_pinned(path):detach())
--   link.kind, link.target, link.prog (the loaded program: .fd, .type)
--   attach.open_links() -> how many links are not closed yet
--   attach.detach_all() -> detaches every open link (the sentinel's job at exit)
--
-- prog is a Lua function, compiled here with the context of the attachment
-- (skb for sockets, the tracepoint's record, bpf.proto.pt_regs for probes,
-- attach.raw_args for raw tracepoints, attach.xdp_md for XDP, bpf.proto.sock
-- and bpf.proto.sock_addr for cgroup_sock and cgroup_sock_addr,
-- attach.perf_event_data for perf events); or a
-- compiled program (bpf(fn)), loaded here; or a loaded program
-- (prog:load(type)), which the link uses but does not close.  Failures
-- return nil and a message naming the target.
--
-- Programs are loaded as libbpf objects (bpf.object) and attached with
-- libbpf's bpf_program__attach_* functions, whose struct bpf_link the link
-- destroys: tracepoints, raw tracepoints, kprobes, uprobes (found by name,
-- C++ names demangled by bpf.elf when libbpf finds none), USDT probes (a
-- uprobe at each site, with the semaphore counted up by the kernel) and
-- XDP.  Probes come from their PMUs, so nothing is left in tracefs; an XDP
-- link is dropped by the kernel with its fd even if the process dies.
-- libbpf 1.1's bpf_program__attach_xdp takes no mode, so an XDP mode other
-- than the default goes through libbpf's bpf_link_create.  Only sockets take
-- a program loaded without an object (prog:load(type, {raw = true})): a
-- socket given by name is a raw AF_PACKET socket bound to that interface
-- and owned by the link; a socket given as an fd (a number, or cdata
-- holding one) stays the caller's, and closing the link detaches the
-- filter from it (SO_ATTACH_BPF and SO_DETACH_BPF: libbpf has no socket
-- attach).
local ffi = require('ffi')
local bit = require('bit')
local libbpf = require('bpf.libbpf')
local proto = require('bpf.proto')

local lib = libbpf.lib
local C = ffi.C

local M = {}

ffi.cdef [[
int bpf_attach_socket(int domain, int type, int protocol) __asm__("socket");
int bpf_attach_setsockopt(int fd, int level, int name, const void *value, uint32_t len)
  __asm__("setsockopt");
int bpf_attach_bind(int fd, const void *addr, uint32_t len) __asm__("bind");
unsigned int bpf_attach_if_nametoindex(const char *name) __asm__("if_nametoindex");
int bpf_attach_open(const char *path, int flags) __asm__("open");

/* What a link undoes when it is closed or collected. */
struct bpf_attach_guard {
  int kind;         /* 1: close fd (a packet socket, an XDP link in a mode); 2: detach the
                       filter of socket fd; 3: XDP by netlink; 4: destroy the libbpf link */
  struct bpf_link *blink;
  int fd;
  int ifindex;
  uint32_t flags;
  uint32_t prog_id; /* the XDP program that must still be there to be detached */
  uint32_t handle, priority; /* 5: a tc filter by netlink (flags: ingress 1, egress 2) */
};
]]

-- Contexts of the program types that proto.lua has none for (struct
-- xdp_md unless some other module has declared it already).
local function declare_once(tag, decl)
  local ok, ct = pcall(ffi.typeof, tag)
  if not (ok and ffi.sizeof(ct)) then ffi.cdef(decl) end
end
ffi.cdef [[
/* A raw tracepoint's arguments: argN in compiled programs, args[i] (the
   kernel's struct bpf_raw_tracepoint_args) from C. */
struct bpf_attach_raw_args {
  union {
    uint64_t args[12];
    struct { uint64_t arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11; };
  };
};
]]
declare_once('struct xdp_md', [[
struct xdp_md {
  uint32_t data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex;
};
]])

M.raw_args = { __dissector = ffi.typeof('struct bpf_attach_raw_args') }
M.xdp_md = { __dissector = ffi.typeof('struct xdp_md') }
M.xdp_action = { aborted = 0, drop = 1, pass = 2, tx = 3, redirect = 4 }

local errno = { ENOENT = 2, ESRCH = 3, EBUSY = 16, EEXIST = 17, EINVAL = 22, EMFILE = 24, ENFILE = 23,
  EOPNOTSUPP = 95 }

local AF_PACKET, SOCK_RAW, SOCK_CLOEXEC = 17, 3, 0x80000
local ETH_P_ALL_BE = 0x0300 -- htons(ETH_P_ALL)
local SOL_SOCKET, SO_ATTACH_BPF, SO_DETACH_BPF = 1, 50, 27
local XDP_FLAGS = { skb = 2, generic = 2, drv = 4, native = 4, hw = 8, offload = 8 }
local GUARD_FDS, GUARD_SOCKET_FILTER, GUARD_XDP, GUARD_LIBBPF_LINK, GUARD_TC = 1, 2, 3, 4, 5

local sockaddr_ll = ffi.typeof [[struct { uint16_t family; uint16_t protocol; int ifindex;
  uint16_t hatype; uint8_t pkttype; uint8_t halen; uint8_t addr[8]; }]]
local int_box = ffi.typeof('int[1]')

-- Runs open(), collecting garbage (links and programs nobody holds any
-- more) and trying once more when the process is out of fds.
local function with_fd_retry(open)
  local fd, e = open()
  if libbpf.out_of_fds(fd) or (fd == -1 and (e == errno.EMFILE or e == errno.ENFILE)) then
    collectgarbage('collect')
    fd, e = open()
  end
  return fd, e
end

local function close_fd(fd)
  if fd >= 0 then C.bpf_libc_close(fd) end
end

---------------------------------------------------------------------------
-- Links

local release_guard
do
  local xdp_opts = ffi.new('struct bpf_xdp_attach_opts')
  local id_box = ffi.new('uint32_t[1]')
  release_guard = function(g)
    local kind = g.kind
    g.kind = 0
    if kind == GUARD_FDS then
      close_fd(g.fd)
    elseif kind == GUARD_SOCKET_FILTER then
      C.bpf_attach_setsockopt(g.fd, SOL_SOCKET, SO_DETACH_BPF, int_box(0), 4)
    elseif kind == GUARD_LIBBPF_LINK then
      local blink = g.blink
      g.blink = nil
      if blink ~= nil then lib.bpf_link__destroy(blink) end
    elseif kind == GUARD_TC then
      -- the filter this link made (its handle and priority), on its hook
      local hook = ffi.new('struct bpf_tc_hook')
      hook.sz, hook.ifindex, hook.attach_point = ffi.sizeof(hook), g.ifindex, g.flags
      local opts = ffi.new('struct bpf_tc_opts')
      opts.sz, opts.handle, opts.priority = ffi.sizeof(opts), g.handle, g.priority
      local old_print = lib.libbpf_set_print(nil)
      lib.bpf_tc_detach(hook, opts)
      lib.libbpf_set_print(old_print)
    elseif kind == GUARD_XDP then
      -- only the program this link put there
      if lib.bpf_xdp_query_id(g.ifindex, g.flags, id_box) == 0 and id_box[0] == g.prog_id then
        ffi.fill(xdp_opts, ffi.sizeof(xdp_opts))
        xdp_opts.sz = ffi.sizeof(xdp_opts)
        lib.bpf_xdp_detach(g.ifindex, g.flags, xdp_opts)
      end
    end
    g.fd = -1
  end
end

local guard_t = ffi.typeof('struct bpf_attach_guard')

local function new_guard(kind, fields)
  local g = guard_t()
  g.kind, g.fd = kind, fields.fd or -1
  g.ifindex, g.flags, g.prog_id = fields.ifindex or 0, fields.flags or 0, fields.prog_id or 0
  g.blink = fields.blink
  g.handle, g.priority = fields.handle or 0, fields.priority or 0
  return ffi.gc(g, release_guard)
end

-- Every link not closed yet; the sentinel detaches them when the Lua state
-- closes (lua_close runs the finalizers of all cdata, in no set order).  It
-- leaves the programs to their own finalizers, some of which may have run
-- by then.
local open_links = setmetatable({}, { __mode = 'k' })

-- Releases what a link holds (one guard, and more for a probe at several
-- places); false when it was released already.
local function drop_guards(link)
  local g = link._guard
  if not g then return false end
  local more = link._more
  link._guard, link._more = nil, nil
  open_links[link] = nil
  release_guard(g)
  ffi.gc(g, nil)
  for _, m in ipairs(more or {}) do
    release_guard(m)
    ffi.gc(m, nil)
  end
  return true
end

-- Detaches every open link (their programs stay loaded); how many.
function M.detach_all()
  local n = 0
  for link in pairs(open_links) do
    if drop_guards(link) then n = n + 1 end
  end
  return n
end

M._sentinel = ffi.gc(ffi.new('char[1]'), function() M.detach_all() end)

local link_mt = { __index = {} }

function link_mt.__index.close(link)
  drop_guards(link)
  if link._owns_prog and link.prog then link.prog:close() end
  return true
end

function link_mt.__index.fd(link)
  local g = link._guard
  if not g then return -1 end
  if g.kind == GUARD_LIBBPF_LINK then return lib.bpf_link__fd(g.blink) end
  return g.fd
end

-- Pins the attachment at path: it stays after this link is closed and the
-- script ends (bpf.open_pinned(path):detach() ends it).  Only what the
-- kernel keeps as a link: a clsact filter, an XDP program set by netlink
-- or a socket's filter has none.
function link_mt.__index.pin(link, path)
  local g, what = link._guard, ('bpf link %s %s'):format(link.kind, tostring(link.target))
  if not g then return nil, what .. ': closed' end
  if link.kind == 'perf_event' and link._more and #link._more > 0 then
    return nil, ('%s: one attachment per CPU (%d), and a pin holds one; pin the program instead')
      :format(what, #link._more + 1)
  end
  if g.kind == GUARD_LIBBPF_LINK then
    local ret = lib.bpf_link__pin(g.blink, path)
    if ret ~= 0 then return libbpf.error(('%s: pin to %s'):format(what, tostring(path)), ret) end
    return true
  end
  if g.kind == GUARD_FDS and link.kind ~= 'socket' then
    return require('bpf.pin').pin_fd(g.fd, path, what)
  end
  return nil, ('%s: this attachment is no BPF link and cannot be pinned%s'):format(what,
    link.kind == 'tc' and " (bpf.tc(..., {via = 'tcx'}) makes one where the kernel has tcx)" or '')
end

function link_mt.__tostring(link)
  return ('bpf link: %s %s (%s program, fd %d)%s'):format(link.kind, link.target,
    link.prog and link.prog.type or '?', link:fd(), link._guard and '' or ', closed')
end

local function new_link(kind, target, prog, owns_prog, guard, more)
  local link = setmetatable({ kind = kind, target = target, prog = prog, _owns_prog = owns_prog,
    _guard = guard, _more = more }, link_mt)
  open_links[link] = true
  return link
end

function M.open_links()
  local n = 0
  for _ in pairs(open_links) do n = n + 1 end
  return n
end

M.is_link = function(x) return getmetatable(x) == link_mt end

---------------------------------------------------------------------------
-- Programs

local function is_loaded(p)
  return type(p) == 'table' and type(rawget(p, 'fd')) == 'number' and rawget(p, 'insn') == nil
end

local function is_compiled(p)
  return type(p) == 'table' and rawget(p, 'insn') ~= nil and type(p.load) == 'function'
end

-- How deep the first caller outside this file is, as bpf.compile counts
-- (it resolves a program's free names through that caller's locals).
local this_file = debug.getinfo(1, 'S').source
local function caller_level()
  local level = 2
  while true do
    local info = debug.getinfo(level, 'S')
    if not info then return 2 end
    if info.source ~= this_file then return level - 1 end
    level = level + 1
  end
end

-- Attaching failed after the program was loaded: give it back.
local function fail(handle, owned, message)
  if owned then handle:close() end
  return nil, message
end

-- The struct bpf_program of a handle loaded as a libbpf object, or nil.
local function libbpf_program(handle)
  local object = type(handle.object) == 'function' and handle:object()
  if not object or object == nil then return nil end
  local lprog = lib.bpf_object__find_program_by_name(object, handle.name)
  if lprog == nil then return nil end
  return lprog
end

-- The loaded program for prog (see the header), whether the link owns it,
-- and its struct bpf_program (unless spec.any_fd: sockets take any program fd).
-- spec = { what=, type= (program type name), ctx= (function returning the context),
-- name=, load_type= (what the object is loaded as, else type: uprobe, kretprobe, ...),
-- memory= ('user' in uprobes: what a pointer cast from a register points into),
-- target= (the object section's target), attach= (the expected attach type, by
-- libbpf's name), section= (the object's section, else from type and target) }
local function program(prog, spec)
  if type(prog) == 'function' or type(prog) == 'string' then
    local bpf = require('bpf')
    local ok, ctx = pcall(spec.ctx)
    if not ok then return nil, (tostring(ctx):gsub('^[^:]*:%d+: ', '')) end
    -- (the compile options an attach call passes on: packet = ..., csum = false)
    local copts = spec.compile or {}
    local compiled, err = bpf.compile(prog, { ctx = ctx, type = spec.type, attach = spec.attach,
      packet = copts.packet, csum = copts.csum, memory = spec.memory }, caller_level())
    if not compiled then return nil, err end
    prog = compiled
  end
  local handle, owned
  if is_compiled(prog) then
    local err
    handle, err = prog:load(spec.load_type or spec.type, { name = spec.name, target = spec.target,
      expected_attach_type = spec.attach, section = spec.section })
    if not handle then return nil, err end
    owned = true
  elseif is_loaded(prog) then
    if prog.fd < 0 then return nil, ('%s: the program is closed'):format(spec.what) end
    if prog.type and prog.type ~= spec.type then
      return nil, ('%s: needs a %s program, this one was loaded as %s'):format(spec.what, spec.type,
        tostring(prog.type))
    end
    handle, owned = prog, false
  else
    return nil, ('%s: expected a Lua function, a compiled program (bpf(fn)) or a loaded one '
      .. '(prog:load()), got a %s'):format(spec.what, type(prog))
  end
  if spec.any_fd then return handle, owned end
  local lprog = libbpf_program(handle)
  if not lprog then
    return fail(handle, owned, ('%s: the program was loaded without a libbpf object (raw = true); '
      .. 'libbpf attaches programs loaded with prog:load(type)'):format(spec.what))
  end
  return handle, owned, lprog
end

-- Runs attach_fn, a libbpf bpf_program__attach_* call, with libbpf's
-- warnings silenced (its errno becomes our message), collecting garbage
-- and trying once more when the process is out of fds.  Returns the guard
-- that destroys the struct bpf_link, or nil, errno.
local function libbpf_link(attach_fn)
  local old_print = lib.libbpf_set_print(nil)
  local blink = attach_fn()
  local e = ffi.errno()
  if blink == nil and (e == errno.EMFILE or e == errno.ENFILE) then
    collectgarbage('collect')
    blink = attach_fn()
    e = ffi.errno()
  end
  lib.libbpf_set_print(old_print)
  if blink == nil then return nil, e end
  return new_guard(GUARD_LIBBPF_LINK, { blink = blink })
end

---------------------------------------------------------------------------
-- Sockets

local function socket_fd(sock)
  if type(sock) == 'number' then return sock end
  if type(sock) == 'cdata' then
    local ok, n = pcall(tonumber, sock)
    if ok and n then return n end
    local has_fd, fd = pcall(function() return sock.fd end)
    if has_fd and fd then return tonumber(fd) end
    local has_getfd, got = pcall(function() return sock:getfd() end)
    if has_getfd and got then return tonumber(got) end
  end
  return nil
end

local function if_index(iface, what)
  local ifindex = C.bpf_attach_if_nametoindex(iface)
  if ifindex == 0 then return nil, ('%s: no network interface named %q'):format(what, iface) end
  return ifindex
end

function M.socket(sock, prog)
  local what = ('bpf.socket(%s)'):format(type(sock) == 'string' and ('%q'):format(sock) or tostring(sock))
  local fd, ifindex, err
  if type(sock) == 'string' then
    ifindex, err = if_index(sock, what)
    if not ifindex then return nil, err end
  else
    fd = socket_fd(sock)
    if not fd then
      return nil, ('%s: expected an interface name, a socket fd or cdata holding one, got a %s')
        :format(what, type(sock))
    end
  end
  local handle, owned = program(prog, { what = what, type = 'socket_filter', name = 'socket',
    any_fd = true, ctx = function() return proto.skb end })
  if not handle then return nil, owned end
  local box = int_box(handle.fd)
  if not ifindex then
    if C.bpf_attach_setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, box, 4) ~= 0 then
      return fail(handle, owned, libbpf.message(what .. ': SO_ATTACH_BPF', ffi.errno()))
    end
    return new_link('socket', tostring(fd), handle, owned, new_guard(GUARD_SOCKET_FILTER, { fd = fd }))
  end
  -- A packet socket that sees nothing until the filter is on, then bound
  -- to every protocol of the interface.
  local e
  fd, e = with_fd_retry(function()
    local s = C.bpf_attach_socket(AF_PACKET, bit.bor(SOCK_RAW, SOCK_CLOEXEC), 0)
    return s, s < 0 and ffi.errno() or 0
  end)
  if fd < 0 then return fail(handle, owned, libbpf.message(what .. ': packet socket', e)) end
  local guard = new_guard(GUARD_FDS, { fd = fd })
  if C.bpf_attach_setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, box, 4) ~= 0 then
    e = ffi.errno()
    release_guard(guard)
    return fail(handle, owned, libbpf.message(what .. ': SO_ATTACH_BPF', e))
  end
  local sa = sockaddr_ll({ family = AF_PACKET, protocol = ETH_P_ALL_BE, ifindex = ifindex })
  if C.bpf_attach_bind(fd, sa, ffi.sizeof(sa)) ~= 0 then
    e = ffi.errno()
    release_guard(guard)
    return fail(handle, owned, libbpf.message(what .. ': bind', e))
  end
  return new_link('socket', sock, handle, owned, guard)
end

---------------------------------------------------------------------------
-- Tracepoints, uprobes, USDT probes and kprobes

-- The words for an errno of attaching that says more than its text.
local function hint(e)
  if e == errno.EEXIST then return ' (this program is attached there already)' end
  return ''
end

local function exists(path)
  local f = io.open(path, 'r')
  if f then f:close() end
  return f ~= nil
end

local function no_error_position(err)
  return (tostring(err):gsub('^[^:]*:%d+: ', ''))
end

function M.tracepoint(path, prog)
  local tracepoint = require('bpf.tracepoint')
  local what = ('bpf.tracepoint(%q)'):format(tostring(path))
  -- mounts tracefs if need be, and names a tracepoint that is not there
  local ok, id = pcall(tracepoint.id, path)
  if not ok then return nil, no_error_position(id) end
  local group, name = path:match('^([%w_]+)[/:]([%w_]+)$')
  local handle, owned, lprog = program(prog, { what = what, type = 'tracepoint', name = 'tracepoint',
    target = group .. '/' .. name, ctx = function() return tracepoint.dissector(path) end })
  if not handle then return nil, owned end
  local guard, e = libbpf_link(function() return lib.bpf_program__attach_tracepoint(lprog, group, name) end)
  if not guard then
    return fail(handle, owned, libbpf.message(('%s: attaching (tracepoint id %d)%s'):format(what, id,
      hint(e)), e))
  end
  return new_link('tracepoint', path, handle, owned, guard)
end

-- 'path:function[+off]' or 'path:0xoffset' -> path, function name (nil
-- for an offset), offset (within the function, or in the file)
local function uprobe_target(spec, what)
  local file, where = tostring(spec):match('^([^:]+):(.+)$')
  if not file then
    return nil, ('%s: expected "path:function" (or "path:0xoffset")'):format(what)
  end
  local path, err = require('bpf.elf').find(file)
  if not path then return nil, ('%s: %s'):format(what, err) end
  local offset = tonumber(where:match('^0[xX]%x+$') or where:match('^%d+$') or '')
  if offset then return path, nil, offset end
  local func, extra = where:match('^(.-)%+(0?[xX]?%x+)$')
  return path, func or where, tonumber(extra or '0') or 0
end

local uprobe_opts = ffi.new('struct bpf_uprobe_opts')

-- bpf_program__attach_uprobe_opts at func (found by libbpf) or at a file
-- offset (func nil): the guard, or nil, errno.
local function uprobe_guard(lprog, path, func, offset, retprobe, pid, ref_ctr_offset)
  return libbpf_link(function()
    ffi.fill(uprobe_opts, ffi.sizeof(uprobe_opts))
    uprobe_opts.sz = ffi.sizeof(uprobe_opts)
    uprobe_opts.retprobe = retprobe and true or false
    uprobe_opts.func_name = func
    uprobe_opts.ref_ctr_offset = ref_ctr_offset or 0
    return lib.bpf_program__attach_uprobe_opts(lprog, pid or -1, path, offset, uprobe_opts)
  end)
end

local function no_uprobes()
  if exists('/sys/bus/event_source/devices/uprobe/type') then return '' end
  return ' (this kernel has no uprobe PMU)'
end

function M.uprobe(spec, prog, retprobe, pid)
  local what = ('bpf.uprobe(%q%s)'):format(tostring(spec), retprobe and ', retprobe' or '')
  local path, func, offset = uprobe_target(spec, what)
  if not path then return nil, func end
  local handle, owned, lprog = program(prog, { what = what, type = 'kprobe', name = 'uprobe',
    load_type = retprobe and 'uretprobe' or 'uprobe', memory = 'user',
    target = path .. ':' .. (func or ('0x%x'):format(offset)),
    ctx = function() return proto.pt_regs end })
  if not handle then return nil, owned end
  local kind = retprobe and 'uretprobe' or 'uprobe'
  local target = ('%s:%s'):format(path, func and (func .. (offset > 0 and ('+%d'):format(offset) or ''))
    or ('0x%x'):format(offset))
  local guard, e = uprobe_guard(lprog, path, func, offset, retprobe, pid)
  if not guard and func and e == errno.ENOENT then
    -- libbpf knows no C++ names: bpf.elf demangles them, and finds the offset
    local file_offset, err = require('bpf.elf').func_offset(path, func)
    if not file_offset then return fail(handle, owned, ('%s: %s'):format(what, err)) end
    guard, e = uprobe_guard(lprog, path, nil, file_offset + offset, retprobe, pid)
  end
  if guard then return new_link(kind, target, handle, owned, guard) end
  local why = hint(e) .. no_uprobes()
  if e == errno.ESRCH then why = (' (no process %s)'):format(tostring(pid)) end
  return fail(handle, owned, libbpf.message(what .. ': attaching' .. why, e))
end

-- USDT probes: a uprobe at each place the probe's note names, and its
-- semaphore (if it has one) counted up by the kernel while attached
-- (ref_ctr_offset), so that code guarded by it runs.  Arguments are read
-- from the registers the notes name (link.args, e.g. "-4@%edi 8@%rsi");
-- libbpf's own USDT support needs BPF-side code (usdt.bpf.h) that compiled
-- Lua has not.
function M.usdt(spec, prog, pid)
  local what = ('bpf.usdt(%q)'):format(tostring(spec))
  local file, provider, name = tostring(spec):match('^([^:]+):([^:]+):([^:]+)$')
  if not file then return nil, what .. ': expected "path:provider:name"' end
  local elf = require('bpf.elf')
  local path, err = elf.find(file)
  if not path then return nil, ('%s: %s'):format(what, err) end
  local probes
  probes, err = elf.usdt_probes(path, provider, name)
  if not probes then return nil, ('%s: %s'):format(what, err) end
  if #probes == 0 then
    return nil, ('%s: %s has no USDT probe %s:%s'):format(what, path, provider, name)
  end
  local handle, owned, lprog = program(prog, { what = what, type = 'kprobe', name = 'usdt',
    load_type = 'uprobe', memory = 'user', target = ('%s:0x%x'):format(path, probes[1].offset),
    ctx = function() return proto.pt_regs end })
  if not handle then return nil, owned end
  local guards = {}
  for _, probe in ipairs(probes) do
    local guard, e = uprobe_guard(lprog, path, nil, probe.offset, false, pid, probe.semaphore)
    if not guard then
      for _, g in ipairs(guards) do
        release_guard(g)
        ffi.gc(g, nil)
      end
      local why = hint(e) .. no_uprobes()
      if e == errno.ESRCH then why = (' (no process %s)'):format(tostring(pid)) end
      return fail(handle, owned, libbpf.message(('%s: attaching at 0x%x of %s%s'):format(what,
        probe.offset, path, why), e))
    end
    guards[#guards + 1] = guard
  end
  local first = table.remove(guards, 1)
  local link = new_link('usdt', ('%s:%s:%s'):format(path, provider, name), handle, owned, first, guards)
  link.args, link.probes = probes[1].args, probes
  return link
end

local no_kprobes = 'this kernel has no kprobes (CONFIG_KPROBES is not set)'

-- Kprobes come from the kprobe PMU, or (before 4.17) from tracefs.
local function has_kprobes()
  if exists('/sys/bus/event_source/devices/kprobe/type') then return true end
  local tracefs = require('bpf.tracepoint').root
  return exists(tracefs .. '/kprobe_events') or exists('/sys/kernel/debug/tracing/kprobe_events')
end

local kprobe_opts = ffi.new('struct bpf_kprobe_opts')

function M.kprobe(spec, prog, retprobe)
  local what = ('bpf.kprobe(%q%s)'):format(tostring(spec), retprobe and ', retprobe' or '')
  local func = tostring(spec):match('^[^:]+:(.+)$') or tostring(spec)
  local name, extra = func:match('^([%w_.]+)%+(0?[xX]?%x+)$')
  name = name or func
  local offset = tonumber(extra or '0') or 0
  -- load first: a program the verifier refuses is the more useful error
  local handle, owned, lprog = program(prog, { what = what, type = 'kprobe', name = 'kprobe',
    load_type = retprobe and 'kretprobe' or 'kprobe', target = name,
    ctx = function() return proto.pt_regs end })
  if not handle then return nil, owned end
  local guard, e = libbpf_link(function()
    ffi.fill(kprobe_opts, ffi.sizeof(kprobe_opts))
    kprobe_opts.sz = ffi.sizeof(kprobe_opts)
    kprobe_opts.offset = offset
    kprobe_opts.retprobe = retprobe and true or false
    return lib.bpf_program__attach_kprobe_opts(lprog, name, kprobe_opts)
  end)
  if guard then return new_link(retprobe and 'kretprobe' or 'kprobe', name, handle, owned, guard) end
  if not has_kprobes() then
    return fail(handle, owned, ('%s: cannot attach to %s: %s; the program itself loaded (%s, fd %d)')
      :format(what, name, no_kprobes, handle.type, handle.fd))
  end
  local why = hint(e)
  if e == errno.ENOENT or e == errno.EINVAL then why = (' (is %s a kernel function?)'):format(name) end
  return fail(handle, owned, libbpf.message(what .. ': attaching' .. why, e))
end

M.kprobe_error = no_kprobes

---------------------------------------------------------------------------
-- Perf events: a perf_event program run by a sampling event on every
-- online CPU (or on those of opts.cpus, or following one process), each
-- event opened with perf_event_open and handed to libbpf's
-- bpf_program__attach_perf_event (a BPF link where the kernel has them,
-- 5.15+, else PERF_EVENT_IOC_SET_BPF), whose struct bpf_link closes the
-- event with it.  One link holds them all.

declare_once('struct bpf_perf_event_data', [[
struct bpf_perf_event_data { struct pt_regs regs; uint64_t sample_period; uint64_t addr; };
]])
ffi.cdef [[
struct bpf_link *bpf_program__attach_perf_event(const struct bpf_program *prog, int pfd);
/* perf_event_open(2) has no libc wrapper: syscall(2), its arguments declared
   as the kernel takes them (x86_64 and arm64 pass them alike either way). */
long bpf_attach_perf_event_open(long nr, struct perf_event_attr *attr, int pid, int cpu,
  int group_fd, unsigned long flags) __asm__("syscall");
]]

-- A perf_event program's context: regs (the interrupted registers,
-- bpf.proto.pt_regs' fields), sample_period, addr.
M.perf_event_data = { __dissector = ffi.typeof('struct bpf_perf_event_data') }

local PERF_TYPE = { hardware = 0, software = 1 }
-- <linux/perf_event.h>'s generic events, by the names perf(1) gives them
local PERF_EVENTS = {
  ['cpu-clock'] = { 1, 0 }, ['task-clock'] = { 1, 1 }, ['page-faults'] = { 1, 2 },
  ['context-switches'] = { 1, 3 }, ['cpu-migrations'] = { 1, 4 }, ['minor-faults'] = { 1, 5 },
  ['major-faults'] = { 1, 6 },
  cycles = { 0, 0 }, instructions = { 0, 1 }, ['cache-references'] = { 0, 2 },
  ['cache-misses'] = { 0, 3 }, ['branch-instructions'] = { 0, 4 }, ['branch-misses'] = { 0, 5 },
  ['bus-cycles'] = { 0, 6 }, ['ref-cycles'] = { 0, 9 },
}
M.perf_events = {}
for name in pairs(PERF_EVENTS) do M.perf_events[#M.perf_events + 1] = name end
table.sort(M.perf_events)

local PERF_FLAG_DISABLED, PERF_FLAG_FREQ = 1, 0x400 -- attr bits: disabled, freq
local PERF_FLAG_FD_CLOEXEC = 8
local NR_PERF_EVENT_OPEN = ({ x64 = 298, arm64 = 241 })[ffi.arch]

local function read_line(path)
  local f = io.open(path, 'r')
  if not f then return nil end
  local line = f:read('*l')
  f:close()
  return line
end

-- The online CPUs ("0-3,6" in sysfs), as a list.
local function online_cpus()
  local cpus = {}
  for part in (read_line('/sys/devices/system/cpu/online') or '0'):gmatch('[^,%s]+') do
    local a, b = part:match('^(%d+)%-(%d+)$')
    for cpu = tonumber(a or part), tonumber(b or part) do cpus[#cpus + 1] = cpu end
  end
  return cpus
end
M.online_cpus = online_cpus

local function whole(n, low) return type(n) == 'number' and n % 1 == 0 and n >= low end

-- opts -> the event's attr, a name for it, the CPUs and the pid; or nil, err.
local function perf_event_attr(opts, what)
  if opts.freq ~= nil and opts.period ~= nil then
    return nil, what .. ': give freq (samples a second) or period (events between samples), not both'
  end
  local event, etype, config = opts.event, opts.type, opts.config
  if event == nil and etype == nil and config == nil then event = 'cpu-clock' end
  if type(config) == 'string' and event == nil then event, config = config, nil end
  if event ~= nil then
    local e = PERF_EVENTS[event]
    if not e then
      return nil, ('%s: no perf event named %q (%s; or type = n, config = n)'):format(what,
        tostring(event), table.concat(M.perf_events, ', '))
    end
    if etype ~= nil and PERF_TYPE[etype] ~= e[1] and etype ~= e[1] then
      return nil, ('%s: %s is a %s event, not of type %s'):format(what, event,
        e[1] == 0 and 'hardware' or 'software', tostring(etype))
    end
    etype, config = e[1], e[2]
  else
    etype = PERF_TYPE[etype] or etype
    if not whole(etype, 0) then
      return nil, ("%s: type is 'hardware', 'software' or a PMU's number "
        .. '(/sys/bus/event_source/devices/*/type), not %s'):format(what, tostring(opts.type))
    end
    config = config or 0
    if not whole(config, 0) then
      return nil, ('%s: config is an event name or a number, not %s'):format(what, tostring(config))
    end
  end
  local attr = ffi.new('struct perf_event_attr')
  attr.size, attr.type, attr.config = ffi.sizeof(attr), etype, config
  local name = event or ('%d:%d'):format(etype, config)
  if opts.period ~= nil then
    if not whole(opts.period, 1) then
      return nil, ('%s: period is a whole number of events (ns for cpu-clock) above 0, not %s')
        :format(what, tostring(opts.period))
    end
    attr.sample_period, attr.flags = opts.period, PERF_FLAG_DISABLED
    name = ('%s every %d'):format(name, opts.period)
  else
    local freq = opts.freq or 99
    local max = tonumber(read_line('/proc/sys/kernel/perf_event_max_sample_rate') or '')
    if not whole(freq, 1) then
      return nil, ('%s: freq is a whole number of samples a second above 0, not %s'):format(what,
        tostring(freq))
    end
    if max and freq > max then
      return nil, ('%s: freq %d is above the kernel\'s limit of %d samples a second '
        .. '(/proc/sys/kernel/perf_event_max_sample_rate)'):format(what, freq, max)
    end
    attr.sample_freq, attr.flags = freq, bit.bor(PERF_FLAG_DISABLED, PERF_FLAG_FREQ)
    name = ('%s at %d Hz'):format(name, freq)
  end
  local pid = opts.pid or -1
  if not whole(pid, -1) then return nil, ('%s: pid is a process id, not %s'):format(what, tostring(pid)) end
  local cpus = opts.cpus
  if cpus == nil then
    cpus = pid >= 0 and { -1 } or online_cpus() -- a process's event follows it from CPU to CPU
  elseif type(cpus) == 'number' then
    cpus = { cpus }
  end
  if type(cpus) ~= 'table' or #cpus == 0 then
    return nil, ('%s: cpus is a CPU number or a list of them, not %s'):format(what, tostring(opts.cpus))
  end
  for _, cpu in ipairs(cpus) do
    if not whole(cpu, -1) then
      return nil, ('%s: cpus is a CPU number or a list of them, not %s'):format(what, tostring(cpu))
    end
  end
  if pid >= 0 then name = ('%s, pid %d'):format(name, pid) end
  return attr, name, cpus, pid
end

local function release_all(guards)
  for _, g in ipairs(guards) do
    release_guard(g)
    ffi.gc(g, nil)
  end
end

-- Why perf_event_open failed, in words.
local function perf_open_error(what, attr, cpu, pid, e)
  local on = cpu >= 0 and (' on CPU %d'):format(cpu) or (' for pid %d'):format(pid)
  local why = ''
  if attr.type == PERF_TYPE.hardware and (e == errno.ENOENT or e == errno.EOPNOTSUPP) then
    why = (" (no hardware event here: this machine has no PMU that counts it, as in many VMs%s; "
      .. "event = 'cpu-clock' samples by time)")
      :format(exists('/sys/bus/event_source/devices/cpu/type') and ''
        or ', no /sys/bus/event_source/devices/cpu')
  elseif e == errno.ENOENT then
    why = ' (no such event type or config)'
  elseif e == errno.ESRCH then
    why = (' (no process %d)'):format(pid)
  elseif e == errno.EINVAL and attr.type == PERF_TYPE.software then
    why = ' (is the period or frequency one the kernel takes?)'
  end
  return libbpf.message(('%s: perf_event_open%s%s'):format(what, on, why), -e)
end

-- attach.perf_event(prog, opts): see the header.
function M.perf_event(prog, opts)
  opts = opts or {}
  local what = 'bpf.perf_event'
  if type(opts) ~= 'table' then
    return nil, ('%s: opts is a table ({freq = 99} ...), not a %s'):format(what, type(opts))
  end
  if not NR_PERF_EVENT_OPEN then return nil, ('%s: no perf_event_open on %s'):format(what, ffi.arch) end
  local attr, name, cpus, pid = perf_event_attr(opts, what)
  if not attr then return nil, name end
  what = ('bpf.perf_event(%s)'):format(name)
  local handle, owned, lprog = program(prog, { what = what, type = 'perf_event', name = 'perf_event',
    ctx = function() return M.perf_event_data end })
  if not handle then return nil, owned end
  local guards = {}
  for _, cpu in ipairs(cpus) do
    local pfd, e = with_fd_retry(function()
      local fd = tonumber(C.bpf_attach_perf_event_open(NR_PERF_EVENT_OPEN, attr, pid, cpu, -1,
        PERF_FLAG_FD_CLOEXEC))
      return fd, fd < 0 and ffi.errno() or 0
    end)
    if pfd < 0 then
      release_all(guards)
      return fail(handle, owned, perf_open_error(what, attr, cpu, pid, e))
    end
    local guard
    guard, e = libbpf_link(function() return lib.bpf_program__attach_perf_event(lprog, pfd) end)
    if not guard then
      close_fd(pfd) -- (a link that was made owns its event and closes it)
      release_all(guards)
      return fail(handle, owned, libbpf.message(('%s: attaching on CPU %d'):format(what, cpu), -e))
    end
    guards[#guards + 1] = guard
  end
  local first = table.remove(guards, 1)
  local link = new_link('perf_event', name, handle, owned, first, guards)
  link.cpus, link.pid = cpus, pid >= 0 and pid or nil
  return link
end

---------------------------------------------------------------------------
-- Raw tracepoints and XDP

function M.raw_tracepoint(name, prog)
  local what = ('bpf.raw_tracepoint(%q)'):format(tostring(name))
  if type(name) ~= 'string' then return nil, what .. ': expected a tracepoint name' end
  name = name:match('[/:]([%w_]+)$') or name -- 'sched/sched_switch' names sched_switch
  local handle, owned, lprog = program(prog, { what = what, type = 'raw_tracepoint', name = 'raw_tp',
    target = name, ctx = function() return M.raw_args end })
  if not handle then return nil, owned end
  local guard, e = libbpf_link(function() return lib.bpf_program__attach_raw_tracepoint(lprog, name) end)
  if not guard then
    return fail(handle, owned, libbpf.message(what .. ': attaching' .. hint(e), e))
  end
  return new_link('raw_tracepoint', name, handle, owned, guard)
end

local function xdp_flags(flags, what)
  if type(flags) == 'table' then flags = flags.mode end -- {mode = 'skb' | 'native' | ...}
  if flags == nil then return 0 end
  if type(flags) == 'number' then return flags end
  local v = XDP_FLAGS[flags]
  if not v then
    return nil, ('%s: unknown XDP mode %q (skb, drv or hw)'):format(what, tostring(flags))
  end
  return v
end

local prog_info_t = ffi.typeof('struct { uint32_t type; uint32_t id; uint8_t rest[248]; }')

local function prog_id(fd)
  local info = prog_info_t()
  local len = ffi.new('uint32_t[1]', ffi.sizeof(info))
  if lib.bpf_obj_get_info_by_fd(fd, info, len) ~= 0 then return 0 end
  return info.id
end

local link_opts = ffi.new('struct bpf_link_create_opts')

-- An XDP link in a given mode (bpf_program__attach_xdp has none in libbpf
-- 1.1): the guard, or nil, errno.
local function xdp_link_in_mode(lprog, ifindex, mode)
  local fd = with_fd_retry(function()
    ffi.fill(link_opts, ffi.sizeof(link_opts))
    link_opts.sz = ffi.sizeof(link_opts)
    link_opts.flags = mode
    return lib.bpf_link_create(lib.bpf_program__fd(lprog), ifindex, libbpf.attach_type.xdp, link_opts)
  end)
  if fd < 0 then return nil, -fd end
  return new_guard(GUARD_FDS, { fd = fd })
end

function M.xdp(iface, prog, flags)
  local what = ('bpf.xdp(%q)'):format(tostring(iface))
  local ifindex, err = if_index(tostring(iface), what)
  if type(iface) == 'number' then ifindex, err = iface, nil end
  if not ifindex then return nil, err end
  local mode
  mode, err = xdp_flags(flags, what)
  if not mode then return nil, err end
  local handle, owned, lprog = program(prog, { what = what, type = 'xdp', name = 'xdp',
    ctx = function() return M.xdp_md end, compile = type(flags) == 'table' and flags or nil })
  if not handle then return nil, owned end
  local guard, e
  if mode == 0 then
    guard, e = libbpf_link(function() return lib.bpf_program__attach_xdp(lprog, ifindex) end)
  else
    guard, e = xdp_link_in_mode(lprog, ifindex, mode)
  end
  if guard then return new_link('xdp', iface, handle, owned, guard) end
  if e == errno.EBUSY then
    return fail(handle, owned, libbpf.message(what .. ': attaching (another XDP program is there)', e))
  end
  if e ~= errno.EINVAL and e ~= errno.EOPNOTSUPP then
    return fail(handle, owned, libbpf.message(what .. ': attaching', e))
  end
  -- kernels before 5.9 have no XDP links: netlink, detached by the guard
  local opts = ffi.new('struct bpf_xdp_attach_opts')
  opts.sz = ffi.sizeof(opts)
  local XDP_FLAGS_UPDATE_IF_NOEXIST = 1
  local old_print = lib.libbpf_set_print(nil)
  local ret = lib.bpf_xdp_attach(ifindex, handle.fd, bit.bor(mode, XDP_FLAGS_UPDATE_IF_NOEXIST), opts)
  lib.libbpf_set_print(old_print)
  if ret ~= 0 then return fail(handle, owned, libbpf.message(what .. ': attaching', ret)) end
  return new_link('xdp', iface, handle, owned, new_guard(GUARD_XDP, { ifindex = ifindex, flags = mode,
    prog_id = prog_id(handle.fd) }))
end

---------------------------------------------------------------------------
-- tc: a tcx link where the kernel has them (6.6+; it goes with its fd),
-- else a filter on the clsact qdisc (made when the interface has none;
-- left there, as other filters may come to share it), which the link's
-- guard deletes.

local TC_POINT = { ingress = 1, egress = 2 }

function M.tc(iface, prog, opts)
  opts = opts or {}
  local what = ('bpf.tc(%q)'):format(tostring(iface))
  local ifindex, err = if_index(tostring(iface), what)
  if type(iface) == 'number' then ifindex, err = iface, nil end
  if not ifindex then return nil, err end
  local direction = opts.direction or 'ingress'
  local point = TC_POINT[direction]
  if not point then
    return nil, ('%s: direction is \'ingress\' or \'egress\', not %q'):format(what, tostring(direction))
  end
  local priority = opts.priority or 1
  if type(priority) ~= 'number' or priority < 1 or priority > 0xffff or priority % 1 ~= 0 then
    return nil, ('%s: priority is a whole number from 1 to 65535'):format(what)
  end
  local handle, owned, lprog = program(prog, { what = what, type = 'sched_cls', name = 'tc',
    ctx = function() return nil end, compile = opts })
  if not handle then return nil, owned end
  local via = opts.via or (require('bpf.features').has('tcx') and 'tcx' or 'clsact')
  if via ~= 'tcx' and via ~= 'clsact' then
    return fail(handle, owned, ('%s: via is \'tcx\' or \'clsact\', not %q'):format(what, tostring(via)))
  end
  if via == 'tcx' then
    local at = direction == 'ingress' and libbpf.attach_type.tcx_ingress or libbpf.attach_type.tcx_egress
    local pfd = lib.bpf_program__fd(lprog)
    local fd = with_fd_retry(function() return lib.bpf_link_create(pfd, ifindex, at, nil) end)
    if fd < 0 then return fail(handle, owned, libbpf.message(what .. ': attaching a tcx link', -fd)) end
    return new_link('tc', iface, handle, owned, new_guard(GUARD_FDS, { fd = fd }))
  end
  local hook = ffi.new('struct bpf_tc_hook')
  hook.sz, hook.ifindex, hook.attach_point = ffi.sizeof(hook), ifindex, point
  local old_print = lib.libbpf_set_print(nil)
  local ret = lib.bpf_tc_hook_create(hook) -- the clsact qdisc (-EEXIST: there already)
  if ret ~= 0 and ret ~= -errno.EEXIST then
    lib.libbpf_set_print(old_print)
    return fail(handle, owned, libbpf.message(what .. ': making the clsact qdisc', ret))
  end
  local topts = ffi.new('struct bpf_tc_opts')
  topts.sz, topts.prog_fd, topts.priority = ffi.sizeof(topts), handle.fd, priority
  ret = lib.bpf_tc_attach(hook, topts)
  lib.libbpf_set_print(old_print)
  if ret ~= 0 then
    return fail(handle, owned, libbpf.message(what .. ': attaching a filter', ret))
  end
  return new_link('tc', iface, handle, owned, new_guard(GUARD_TC, { ifindex = ifindex, flags = point,
    handle = topts.handle, priority = topts.priority }))
end

---------------------------------------------------------------------------
-- cgroups: a program on a cgroup (v2) directory, as a BPF link (the
-- kernel's cgroup links, 5.7+).  Each kind is a program type, its context
-- and an attach type, also the expected attach type it is compiled and
-- loaded for (which context fields it may write depends on it; libbpf's
-- section names say the same: cgroup/connect4).  cgroup_skb sees what the
-- cgroup's processes send or receive (1 lets it by); cgroup_sock sees their
-- sockets being made, cgroup_sock_addr their connect(), bind() and
-- sendmsg() addresses (1 allows, 0 refuses: the call fails with EPERM).

local CGROUP_KINDS = {
  ingress = { type = 'cgroup_skb', attach = 'cgroup_inet_ingress' },
  egress = { type = 'cgroup_skb', attach = 'cgroup_inet_egress' },
  sock_create = { type = 'cgroup_sock', attach = 'cgroup_inet_sock_create', ctx = 'sock' },
  connect4 = { type = 'cgroup_sock_addr', attach = 'cgroup_inet4_connect', ctx = 'sock_addr' },
  connect6 = { type = 'cgroup_sock_addr', attach = 'cgroup_inet6_connect', ctx = 'sock_addr' },
  bind4 = { type = 'cgroup_sock_addr', attach = 'cgroup_inet4_bind', ctx = 'sock_addr' },
  sendmsg4 = { type = 'cgroup_sock_addr', attach = 'cgroup_udp4_sendmsg', ctx = 'sock_addr' },
}
local O_RDONLY_DIRECTORY_CLOEXEC = 0x10000 + 0x80000

function M.cgroup(path, kind, prog)
  local what = ('bpf.cgroup(%q, %q)'):format(tostring(path), tostring(kind))
  local k = CGROUP_KINDS[kind]
  if not k then
    return nil, ("%s: the kind is 'ingress' or 'egress' (cgroup_skb), 'sock_create' (cgroup_sock), "
      .. "'connect4', 'connect6', 'bind4' or 'sendmsg4' (cgroup_sock_addr)"):format(what)
  end
  local cg = C.bpf_attach_open(tostring(path), O_RDONLY_DIRECTORY_CLOEXEC)
  if cg < 0 then
    local e = ffi.errno()
    return nil, libbpf.message(what .. ': opening the cgroup (a directory of a cgroup v2 mount)', -e)
  end
  local handle, owned, lprog = program(prog, { what = what, type = k.type, name = k.type,
    attach = k.attach, section = k.ctx and 'cgroup/' .. kind,
    ctx = function() return k.ctx and proto[k.ctx] end })
  if not handle then
    close_fd(cg)
    return nil, owned
  end
  local pfd = lib.bpf_program__fd(lprog)
  local at = libbpf.attach_type[k.attach]
  local fd = with_fd_retry(function() return lib.bpf_link_create(pfd, cg, at, nil) end)
  close_fd(cg) -- (the link holds the cgroup)
  if fd < 0 then return fail(handle, owned, libbpf.message(what .. ': attaching', -fd)) end
  return new_link('cgroup', path, handle, owned, new_guard(GUARD_FDS, { fd = fd }))
end


---------------------------------------------------------------------------
-- BTF-typed programs: tp_btf, fentry, fexit and LSM, their arguments by name
-- from the kernel's BTF (bpf.btf.func_args): fn(args) reads args.prev,
-- args.next (tp_btf sched_switch), args.code (fentry do_exit), args.ret
-- (fexit: the return value; LSM: what the hooks before it returned).

ffi.cdef [[
struct bpf_link *bpf_attach_btf_trace(const struct bpf_program *prog) __asm__("bpf_program__attach_trace");
struct bpf_link *bpf_attach_btf_lsm(const struct bpf_program *prog) __asm__("bpf_program__attach_lsm");
]]

-- The kernel's LSMs (/sys/kernel/security/lsm, securityfs mounted when it is not).
local function lsm_list()
  local path = '/sys/kernel/security/lsm'
  if not exists(path) then
    pcall(function()
      if not pcall(function() return C.mount end) then
        ffi.cdef 'int mount(const char *, const char *, const char *, unsigned long, const void *);'
      end
      C.mount('securityfs', '/sys/kernel/security', 'securityfs', 0, nil)
    end)
  end
  local f = io.open(path, 'r')
  if not f then return nil, 'securityfs (' .. path .. ') cannot be read' end
  local list = f:read('*a') or ''
  f:close()
  return list
end

function M.bpf_lsm()
  local list, err = lsm_list()
  if not list then return false, err end
  for name in list:gmatch('[^,%s]+') do
    if name == 'bpf' then return true end
  end
  return false, ('the kernel does not run the BPF LSM (its LSMs: %s; boot with lsm=...,bpf)'):format(list)
end

local btf_kinds = {
  tp_btf = { type = 'tracing', attach = 'trace_raw_tp' },
  fentry = { type = 'tracing', attach = 'trace_fentry', trampoline = true },
  fexit = { type = 'tracing', attach = 'trace_fexit', trampoline = true },
  lsm = { type = 'lsm', attach = 'lsm_mac', trampoline = true },
}

function M.btf_program(kind, name, prog)
  local k = btf_kinds[kind]
  local what = ('bpf.%s(%q)'):format(kind, tostring(name))
  if type(name) ~= 'string' or not name:match('^[%w_]+$') then
    return nil, what .. ': expected the name of a kernel function, raw tracepoint or LSM hook'
  end
  if kind == 'lsm' then
    local ok, why = M.bpf_lsm()
    if not ok then return nil, what .. ': ' .. why end
  end
  local btf = require('bpf.btf')
  local ok, ct, err = pcall(btf.func_args, kind, name)
  if not ok or not ct then return nil, ('%s: %s'):format(what, no_error_position(ok and err or ct)) end
  local handle, owned, lprog = program(prog, { what = what, type = k.type, name = kind, attach = k.attach,
    section = kind .. '/' .. name, ctx = function() return { __dissector = ct } end })
  if not handle then
    if k.trampoline then
      local has, why = require('bpf.features').has('trampolines')
      if not has then return nil, ('%s: %s (%s)'):format(what, why, tostring(owned):match('[^\n]*')) end
    end
    return nil, owned
  end
  local guard, e = libbpf_link(function()
    if kind == 'lsm' then return lib.bpf_attach_btf_lsm(lprog) end
    return lib.bpf_attach_btf_trace(lprog)
  end)
  if not guard then
    return fail(handle, owned, libbpf.message(what .. ': attaching' .. hint(e), e))
  end
  return new_link(kind, name, handle, owned, guard)
end

function M.tp_btf(name, prog) return M.btf_program('tp_btf', name, prog) end
function M.fentry(name, prog) return M.btf_program('fentry', name, prog) end
function M.fexit(name, prog) return M.btf_program('fexit', name, prog) end
function M.lsm(hook, prog) return M.btf_program('lsm', hook, prog) end

return M
