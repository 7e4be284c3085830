-- Attaching programs where the kernel runs them: packet sockets,
-- tracepoints, raw tracepoints, uprobes, kprobes and XDP.  Each attachment
-- is a link object; a link detaches on :close(), when it is collected, and
-- when the Lua state closes (a sentinel closes every link still open), also
-- when attaching fails half-way.
--
--   local attach = require('bpf.attach')  (bpf.socket, bpf.tracepoint, ... in the public API)
--   link, err = attach.socket(iface | fd | socket cdata, prog)
--   link, err = attach.tracepoint('group/name', prog)
--   link, err = attach.raw_tracepoint('name', prog)
--   link, err = attach.uprobe('path:function[+off]' | 'path:0xoffset', prog, retprobe, pid)
--   link, err = attach.usdt('path:provider:name', prog, pid)    (link.args: where its arguments are)
--   link, err = attach.kprobe('[label:]function[+off]', prog, retprobe)
--   link, err = attach.xdp(iface, prog, flags)   flags: 'skb' | 'drv' | 'hw' | a number
--   link:close()    detach (again: harmless);  link:fd()  the fd holding the attachment
--   link.kind, link.target, link.prog (the loaded program: .fd, .type)
--   attach.open_links() -> how many links are not closed yet
--   attach.detach_all() -> detaches every open link (the sentinel's job at exit)
--
-- prog is a Lua function, compiled here with the context of the attachment
-- (skb for sockets, the tracepoint's record, bpf.proto.pt_regs for probes,
-- attach.raw_args for raw tracepoints, attach.xdp_md for XDP); or a
-- compiled program (bpf(fn)), loaded here; or a loaded program
-- (prog:load(type)), which the link uses but does not close.  Failures
-- return nil and a message naming the target.
--
-- A socket given by name is a raw AF_PACKET socket bound to that interface
-- and owned by the link; a socket given as an fd (a number, or cdata holding
-- one) stays the caller's, and closing the link detaches the filter from it.
-- A uprobe's program is loaded as a libbpf object (bpf.object) and
-- attached with bpf_program__attach_uprobe_opts, which finds the function
-- by name (C++ names are demangled by bpf.elf when libbpf finds none); a
-- program loaded without an object (bpf.loader) gets the uprobe PMU
-- directly at the offset bpf.elf finds.  Tracepoints and kprobes are perf
-- events with a bpf_link (BPF_PERF_EVENT).  Probes come from their PMUs, so
-- nothing is left in tracefs.  XDP attaches as a bpf_link too, which the
-- kernel drops with its fd even if the process dies.
local ffi = require('ffi')
local bit = require('bit')
local libbpf = require('bpf.libbpf')
local proto = require('bpf.proto')

local lib = libbpf.lib
local C = ffi.C

local M = {}

ffi.cdef [[
long bpf_attach_perf_event_open(long nr, const struct perf_event_attr *attr, int pid, int cpu,
                                int group_fd, unsigned long flags) __asm__("syscall");
int bpf_attach_ioctl(int fd, unsigned long request, unsigned long arg) __asm__("ioctl");
int bpf_attach_socket(int domain, int type, int protocol) __asm__("socket");
int bpf_attach_setsockopt(int fd, int level, int name, const void *value, uint32_t len)
  __asm__("setsockopt");
int bpf_attach_bind(int fd, const void *addr, uint32_t len) __asm__("bind");
unsigned int bpf_attach_if_nametoindex(const char *name) __asm__("if_nametoindex");

/* What a link undoes when it is closed or collected. */
struct bpf_attach_guard {
  int kind;         /* 1: close fd and fd2; 2: detach the filter of socket fd; 3: XDP by netlink;
                       4: destroy the libbpf link */
  struct bpf_link *blink;
  int fd, fd2;
  int ifindex;
  uint32_t flags;
  uint32_t prog_id; /* the XDP program that must still be there to be detached */
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

local errno = { ENOENT = 2, ESRCH = 3, E2BIG = 7, EBADF = 9, EACCES = 13, EBUSY = 16, EEXIST = 17,
  ENODEV = 19, EINVAL = 22, EMFILE = 24, ENFILE = 23, ENOTSOCK = 88, EOPNOTSUPP = 95,
  ENOTSUPP = 524 }

local perf_event_open_nr = ({ x64 = 298, arm64 = 241, x86 = 336, arm = 364, ppc = 319,
  ppcspe = 319, mips = 4333, mipsel = 4333, mips64 = 5292, mips64el = 5292 })[ffi.arch]

local AF_PACKET, SOCK_RAW, SOCK_CLOEXEC = 17, 3, 0x80000
local ETH_P_ALL_BE = 0x0300 -- htons(ETH_P_ALL)
local SOL_SOCKET, SO_ATTACH_BPF, SO_DETACH_BPF = 1, 50, 27
local PERF_TYPE_TRACEPOINT, PERF_FLAG_FD_CLOEXEC = 2, 8
local PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF = 0x2400, 0x40042408
local XDP_FLAGS = { skb = 2, generic = 2, drv = 4, native = 4, hw = 8, offload = 8 }
local GUARD_FDS, GUARD_SOCKET_FILTER, GUARD_XDP, GUARD_LIBBPF_LINK = 1, 2, 3, 4

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
      close_fd(g.fd2)
    elseif kind == GUARD_SOCKET_FILTER then
      C.bpf_attach_setsockopt(g.fd, SOL_SOCKET, SO_DETACH_BPF, int_box(0), 4)
    elseif kind == GUARD_LIBBPF_LINK then
      local blink = g.blink
      g.blink = nil
      if blink ~= nil then lib.bpf_link__destroy(blink) end
    elseif kind == GUARD_XDP then
      -- only the program this link put there
      if lib.bpf_xdp_query_id(g.ifindex, g.flags, id_box) == 0 and id_box[0] == g.prog_id then
        ffi.fill(xdp_opts, ffi.sizeof(xdp_opts))
        xdp_opts.sz = ffi.sizeof(xdp_opts)
        lib.bpf_xdp_detach(g.ifindex, g.flags, xdp_opts)
      end
    end
    g.fd, g.fd2 = -1, -1
  end
end

local guard_t = ffi.typeof('struct bpf_attach_guard')

local function new_guard(kind, fields)
  local g = guard_t()
  g.kind, g.fd, g.fd2 = kind, fields.fd or -1, fields.fd2 or -1
  g.ifindex, g.flags, g.prog_id = fields.ifindex or 0, fields.flags or 0, fields.prog_id or 0
  g.blink = fields.blink
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

-- The loaded program for prog (see the header), and whether the link owns it.
-- spec = { what=, type= (program type name), ctx= (function returning the context),
-- name=, load= (function(compiled) -> handle, err; else compiled:load(type)) }
local function program(prog, spec)
  if type(prog) == 'function' or type(prog) == 'string' then
    local bpf = require('bpf')
    local ok, ctx = pcall(spec.ctx)
    if not ok then return nil, (tostring(ctx):gsub('^[^:]*:%d+: ', '')) end
    local compiled, err = bpf.compile(prog, { ctx = ctx, type = spec.type }, caller_level())
    if not compiled then return nil, err end
    prog = compiled
  end
  if is_compiled(prog) then
    local handle, err
    if spec.load then
      handle, err = spec.load(prog)
    else
      handle, err = prog:load(spec.type, { name = spec.name })
    end
    if not handle then return nil, err end
    return handle, true
  end
  if is_loaded(prog) then
    if prog.fd < 0 then return nil, ('%s: the program is closed'):format(spec.what) end
    if prog.type and prog.type ~= spec.type then
      return nil, ('%s: needs a %s program, this one was loaded as %s'):format(spec.what, spec.type,
        tostring(prog.type))
    end
    return prog, false
  end
  return nil, ('%s: expected a Lua function, a compiled program (bpf(fn)) or a loaded one '
    .. '(prog:load()), got a %s'):format(spec.what, type(prog))
end

-- Attaching failed after the program was loaded: give it back.
local function fail(handle, owned, message)
  if owned then handle:close() end
  return nil, message
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
    ctx = function() return proto.skb end })
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
-- Perf events: tracepoints, uprobes, kprobes

local attr_t = ffi.typeof('struct perf_event_attr')
local link_opts = ffi.new('struct bpf_link_create_opts')

local function perf_event_open(attr, pid, cpu)
  if not perf_event_open_nr then return -1, errno.EOPNOTSUPP end
  return with_fd_retry(function()
    local fd = tonumber(C.bpf_attach_perf_event_open(perf_event_open_nr, attr, pid, cpu, -1,
      PERF_FLAG_FD_CLOEXEC))
    return fd, fd < 0 and ffi.errno() or 0
  end)
end

-- Runs the program on every hit of perf event pfd: a bpf_link where the
-- kernel has them (5.15), the older ioctl otherwise.  Returns the guard
-- that owns pfd (and the link fd), or nil, errno.
local function attach_perf_event(prog_fd, pfd)
  ffi.fill(link_opts, ffi.sizeof(link_opts))
  link_opts.sz = ffi.sizeof(link_opts)
  local link_fd = with_fd_retry(function()
    return lib.bpf_link_create(prog_fd, pfd, libbpf.attach_type.perf_event, link_opts)
  end)
  if link_fd >= 0 then
    return new_guard(GUARD_FDS, { fd = link_fd, fd2 = pfd })
  end
  if link_fd ~= -errno.EINVAL and link_fd ~= -errno.EOPNOTSUPP then return nil, -link_fd end
  if C.bpf_attach_ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) ~= 0 then return nil, ffi.errno() end
  if C.bpf_attach_ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) ~= 0 then return nil, ffi.errno() end
  return new_guard(GUARD_FDS, { fd = pfd })
end

-- Opens the perf event that attr describes and runs the program on it:
-- the guard that owns both, or nil, errno, what failed.
local function perf_guard(attr, pid, prog_fd)
  local pfd, e = perf_event_open(attr, pid or -1, (pid and pid >= 0) and -1 or 0)
  if pfd < 0 then return nil, e, 'perf event' end
  local guard
  guard, e = attach_perf_event(prog_fd, pfd)
  if not guard then
    close_fd(pfd)
    return nil, e, 'attaching the program'
  end
  return guard
end

-- The same as a link: the link, or nil, errno, what failed.
local function perf_link(kind, target, attr, pid, handle, owned, keep_alive)
  local guard, e, step = perf_guard(attr, pid, handle.fd)
  if not guard then return nil, e, step end
  local link = new_link(kind, target, handle, owned, guard)
  link._keep = keep_alive
  return link
end

-- The words for an errno of attaching that says more than its text.
local function hint(e)
  if e == errno.EEXIST then return ' (this program is attached there already)' end
  return ''
end

local function read_file(path)
  local f = io.open(path, 'r')
  if not f then return nil end
  local text = f:read('*a')
  f:close()
  return text
end

-- A dynamic PMU's type and the config bit of its retprobe flag.
local function pmu(name)
  local base = '/sys/bus/event_source/devices/' .. name
  local pmu_type = tonumber(read_file(base .. '/type') or '')
  if not pmu_type then return nil end
  local retbit = tonumber((read_file(base .. '/format/retprobe') or ''):match('config:(%d+)')) or 0
  return pmu_type, retbit
end

local function no_error_position(err)
  return (tostring(err):gsub('^[^:]*:%d+: ', ''))
end

function M.tracepoint(path, prog)
  local tracepoint = require('bpf.tracepoint')
  local what = ('bpf.tracepoint(%q)'):format(tostring(path))
  local ok, id = pcall(tracepoint.id, path)
  if not ok then return nil, no_error_position(id) end
  local handle, owned = program(prog, { what = what, type = 'tracepoint', name = 'tracepoint',
    ctx = function() return tracepoint.dissector(path) end })
  if not handle then return nil, owned end
  local attr = attr_t()
  attr.type, attr.size, attr.config = PERF_TYPE_TRACEPOINT, ffi.sizeof(attr), id
  local link, e, step = perf_link('tracepoint', path, attr, nil, handle, owned)
  if not link then
    return fail(handle, owned, libbpf.message(('%s: %s (tracepoint id %d)%s'):format(what, step, id,
      hint(e)), e))
  end
  return link
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

-- A function's offset in the file, demangling C++ names if need be.
local function func_offset(path, func, extra, what)
  local offset, err = require('bpf.elf').func_offset(path, func)
  if not offset then return nil, ('%s: %s'):format(what, err) end
  return offset + extra
end

local uprobe_opts = ffi.new('struct bpf_uprobe_opts')

-- libbpf attaches (bpf_program__attach_uprobe_opts), finding func by name
-- itself; it knows no C++ names, which the ELF module demangles.
local function libbpf_uprobe(lprog, path, func, offset, retprobe, pid, what)
  ffi.fill(uprobe_opts, ffi.sizeof(uprobe_opts))
  uprobe_opts.sz = ffi.sizeof(uprobe_opts)
  uprobe_opts.retprobe = retprobe and true or false
  uprobe_opts.func_name = func
  local old_print = lib.libbpf_set_print(nil) -- its warnings become our error
  local blink = lib.bpf_program__attach_uprobe_opts(lprog, pid or -1, path, offset, uprobe_opts)
  local e, message = ffi.errno(), nil
  if blink == nil and func and e == errno.ENOENT then
    local file_offset
    file_offset, message = func_offset(path, func, offset, what)
    if file_offset then
      uprobe_opts.func_name = nil
      blink = lib.bpf_program__attach_uprobe_opts(lprog, pid or -1, path, file_offset, uprobe_opts)
      e = ffi.errno()
    end
  end
  lib.libbpf_set_print(old_print)
  if blink == nil then return nil, e, message end
  return new_guard(GUARD_LIBBPF_LINK, { blink = blink })
end

function M.uprobe(spec, prog, retprobe, pid)
  local what = ('bpf.uprobe(%q%s)'):format(tostring(spec), retprobe and ', retprobe' or '')
  local path, func, offset = uprobe_target(spec, what)
  if not path then return nil, func end
  local pmu_type, retbit = pmu('uprobe')
  if not pmu_type then
    return nil, ('%s: this kernel has no uprobe PMU (/sys/bus/event_source/devices/uprobe)')
      :format(what)
  end
  local handle, owned = program(prog, { what = what, type = 'kprobe', name = 'uprobe',
    ctx = function() return proto.pt_regs end,
    load = function(compiled)
      return require('bpf.object').load(compiled, retprobe and 'uretprobe' or 'uprobe',
        { target = path .. ':' .. (func or ('0x%x'):format(offset)) })
    end })
  if not handle then return nil, owned end
  local kind = retprobe and 'uretprobe' or 'uprobe'
  local target = ('%s:%s'):format(path, func and (func .. (offset > 0 and ('+%d'):format(offset) or ''))
    or ('0x%x'):format(offset))
  local lprog = rawget(handle, '_box') and handle:object() and
    lib.bpf_object__find_program_by_name(handle:object(), handle.name)
  local e, message
  if lprog and lprog ~= nil then
    local guard
    guard, e, message = libbpf_uprobe(lprog, path, func, offset, retprobe, pid, what)
    if guard then return new_link(kind, target, handle, owned, guard) end
    if message then return fail(handle, owned, message) end
  else
    -- a program loaded without libbpf's object: the PMU directly
    local file_offset, err = offset, nil
    if func then file_offset, err = func_offset(path, func, offset, what) end
    if not file_offset then return fail(handle, owned, err) end
    local c_path = ffi.new('char[?]', #path + 1, path)
    local attr = attr_t()
    attr.type, attr.size = pmu_type, ffi.sizeof(attr)
    attr.config = retprobe and bit.lshift(1ULL, retbit) or 0
    attr.uprobe_path = ffi.cast('uintptr_t', c_path)
    attr.probe_offset = file_offset
    local link
    link, e = perf_link(kind, target, attr, pid, handle, owned, c_path)
    if link then return link end
  end
  local why = hint(e)
  if e == errno.ESRCH then why = (' (no process %s)'):format(tostring(pid)) end
  if e == errno.ENOENT and func then why = (' (no function %s in %s)'):format(func, path) end
  return fail(handle, owned, libbpf.message(what .. ': attaching' .. why, e))
end

-- The bit of a uprobe's config where the semaphore's file offset goes.
local function ref_ctr_shift()
  local text = read_file('/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset') or ''
  return tonumber(text:match('config:(%d+)')) or 32
end

-- USDT probes: a uprobe at each place the probe's note names, and its
-- semaphore (if it has one) counted up by the kernel while attached, so
-- that code guarded by it runs.  Arguments are read from the registers the
-- notes name (link.args, e.g. "-4@%edi 8@%rsi"); libbpf's own USDT support
-- needs BPF-side code (usdt.bpf.h) that compiled Lua has not.
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
  local pmu_type = pmu('uprobe')
  if not pmu_type then
    return nil, ('%s: this kernel has no uprobe PMU (/sys/bus/event_source/devices/uprobe)'):format(what)
  end
  local handle, owned = program(prog, { what = what, type = 'kprobe', name = 'usdt',
    ctx = function() return proto.pt_regs end,
    load = function(compiled)
      return require('bpf.object').load(compiled, 'uprobe',
        { target = ('%s:0x%x'):format(path, probes[1].offset) })
    end })
  if not handle then return nil, owned end
  local lprog = rawget(handle, '_box') and handle:object() and
    lib.bpf_object__find_program_by_name(handle:object(), handle.name)
  local guards = {}
  local function give_up(message)
    for _, g in ipairs(guards) do
      release_guard(g)
      ffi.gc(g, nil)
    end
    return fail(handle, owned, message)
  end
  local c_path = ffi.new('char[?]', #path + 1, path)
  for _, probe in ipairs(probes) do
    local guard, e
    if lprog and lprog ~= nil then
      ffi.fill(uprobe_opts, ffi.sizeof(uprobe_opts))
      uprobe_opts.sz = ffi.sizeof(uprobe_opts)
      uprobe_opts.ref_ctr_offset = probe.semaphore
      local old_print = lib.libbpf_set_print(nil)
      local blink = lib.bpf_program__attach_uprobe_opts(lprog, pid or -1, path, probe.offset, uprobe_opts)
      e = ffi.errno()
      lib.libbpf_set_print(old_print)
      if blink ~= nil then guard = new_guard(GUARD_LIBBPF_LINK, { blink = blink }) end
    else
      local attr = attr_t()
      attr.type, attr.size = pmu_type, ffi.sizeof(attr)
      attr.config = bit.lshift(ffi.cast('uint64_t', probe.semaphore), ref_ctr_shift())
      attr.uprobe_path = ffi.cast('uintptr_t', c_path)
      attr.probe_offset = probe.offset
      guard, e = perf_guard(attr, pid, handle.fd)
    end
    if not guard then
      local why = hint(e)
      if e == errno.ESRCH then why = (' (no process %s)'):format(tostring(pid)) end
      return give_up(libbpf.message(('%s: attaching at 0x%x of %s%s'):format(what, probe.offset, path,
        why), e))
    end
    guards[#guards + 1] = guard
  end
  local first = table.remove(guards, 1)
  local link = new_link('usdt', ('%s:%s:%s'):format(path, provider, name), handle, owned, first, guards)
  link.args, link.probes = probes[1].args, probes
  return link
end

local no_kprobes = 'this kernel has no kprobes (CONFIG_KPROBES is not set)'

function M.kprobe(spec, prog, retprobe)
  local what = ('bpf.kprobe(%q%s)'):format(tostring(spec), retprobe and ', retprobe' or '')
  local func = tostring(spec):match('^[^:]+:(.+)$') or tostring(spec)
  local name, extra = func:match('^([%w_.]+)%+(0?[xX]?%x+)$')
  name = name or func
  -- load first: a program the verifier refuses is the more useful error
  local handle, owned = program(prog, { what = what, type = 'kprobe', name = 'kprobe',
    ctx = function() return proto.pt_regs end })
  if not handle then return nil, owned end
  local pmu_type, retbit = pmu('kprobe')
  if not pmu_type then
    return fail(handle, owned, ('%s: cannot attach to %s: %s; the program itself loaded (%s, fd %d)')
      :format(what, name, no_kprobes, handle.type, handle.fd))
  end
  local c_name = ffi.new('char[?]', #name + 1, name)
  local attr = attr_t()
  attr.type, attr.size = pmu_type, ffi.sizeof(attr)
  attr.config = retprobe and bit.lshift(1ULL, retbit) or 0
  attr.kprobe_func = ffi.cast('uintptr_t', c_name)
  attr.probe_offset = tonumber(extra or '0') or 0
  local link, e = perf_link(retprobe and 'kretprobe' or 'kprobe', name, attr, nil, handle, owned, c_name)
  if not link then
    if e == errno.ENOENT or e == errno.EOPNOTSUPP or e == errno.ENOTSUPP then
      return fail(handle, owned, libbpf.message(('%s: cannot attach to %s: %s, or no such function')
        :format(what, name, no_kprobes), e))
    end
    return fail(handle, owned, libbpf.message(what .. ': attaching' .. hint(e), e))
  end
  return link
end

M.kprobe_error = no_kprobes

---------------------------------------------------------------------------
-- Raw tracepoints and XDP

function M.raw_tracepoint(name, prog)
  local what = ('bpf.raw_tracepoint(%q)'):format(tostring(name))
  if type(name) ~= 'string' then return nil, what .. ': expected a tracepoint name' end
  name = name:match('[/:]([%w_]+)$') or name -- 'sched/sched_switch' names sched_switch
  local handle, owned = program(prog, { what = what, type = 'raw_tracepoint', name = 'raw_tp',
    ctx = function() return M.raw_args end })
  if not handle then return nil, owned end
  local fd = with_fd_retry(function() return lib.bpf_raw_tracepoint_open(name, handle.fd) end)
  if fd < 0 then
    return fail(handle, owned, libbpf.message(what .. ': attaching' .. hint(-fd), fd))
  end
  return new_link('raw_tracepoint', name, handle, owned, new_guard(GUARD_FDS, { fd = fd }))
end

local function xdp_flags(flags, what)
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

function M.xdp(iface, prog, flags)
  local what = ('bpf.xdp(%q)'):format(tostring(iface))
  local ifindex, err = if_index(tostring(iface), what)
  if type(iface) == 'number' then ifindex, err = iface, nil end
  if not ifindex then return nil, err end
  local mode
  mode, err = xdp_flags(flags, what)
  if not mode then return nil, err end
  local handle, owned = program(prog, { what = what, type = 'xdp', name = 'xdp',
    ctx = function() return M.xdp_md end })
  if not handle then return nil, owned end
  ffi.fill(link_opts, ffi.sizeof(link_opts))
  link_opts.sz = ffi.sizeof(link_opts)
  link_opts.flags = mode
  local fd = with_fd_retry(function()
    return lib.bpf_link_create(handle.fd, ifindex, libbpf.attach_type.xdp, link_opts)
  end)
  if fd >= 0 then
    return new_link('xdp', iface, handle, owned, new_guard(GUARD_FDS, { fd = fd }))
  end
  if fd == -errno.EBUSY then
    return fail(handle, owned, libbpf.message(what .. ': attaching (another XDP program is there)', fd))
  end
  if fd ~= -errno.EINVAL and fd ~= -errno.EOPNOTSUPP then
    return fail(handle, owned, libbpf.message(what .. ': attaching', fd))
  end
  -- kernels before 5.9 have no XDP links: netlink, detached by the guard
  local opts = ffi.new('struct bpf_xdp_attach_opts')
  opts.sz = ffi.sizeof(opts)
  local XDP_FLAGS_UPDATE_IF_NOEXIST = 1
  local ret = lib.bpf_xdp_attach(ifindex, handle.fd, bit.bor(mode, XDP_FLAGS_UPDATE_IF_NOEXIST), opts)
  if ret ~= 0 then return fail(handle, owned, libbpf.message(what .. ': attaching', ret)) end
  return new_link('xdp', iface, handle, owned, new_guard(GUARD_XDP, { ifindex = ifindex, flags = mode,
    prog_id = prog_id(handle.fd) }))
end

return M
