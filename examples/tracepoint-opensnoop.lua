-- opensnoop: every file opened with openat(2), as it is opened.  A
-- tracepoint program on syscalls/sys_enter_openat fills a ring buffer
-- record in place (ringbuf_reserve): the pid, the command (comm() into the
-- record), the directory fd (arg.dfd, an int of the record: -100 is
-- AT_FDCWD, a path relative to the working directory) and the file name,
-- copied from the caller's memory as a string (ffi.copy into the record:
-- bpf_probe_read_user_str).  It opens a few files itself so there is
-- something to see.
--   sudo luajit examples/tracepoint-opensnoop.lua
-- require('examples.tracepoint-opensnoop').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local tracepoint = require('bpf.tracepoint')
local run = require('examples.lib.run')

local example = {}

local event_t = ffi.typeof('struct { uint32_t pid; int32_t dfd; char comm[16]; char filename[128]; }')

function example.build()
  local ring = assert(bpf.map('ringbuf', 256 * 1024))
  local prog, err = bpf(function(arg)
    local e = ringbuf_reserve(ring, event_t)
    if not e then return 0 end -- the ring is full: this one is lost
    e.pid = bit.rshift(pid_tgid(), 32)
    e.dfd = arg.dfd               -- AT_FDCWD is -100
    comm(e.comm)
    ffi.copy(e.filename, arg.filename) -- a user string, NUL-terminated
    ringbuf_submit(e)
    return 0
  end, { ctx = tracepoint.dissector('syscalls/sys_enter_openat') })
  if not prog then return nil, err end
  return { { name = 'opensnoop', prog = prog, type = 'tracepoint',
    attach = 'syscalls/sys_enter_openat' } }, { ring = ring }
end

ffi.cdef [[
int opensnoop_openat(int dirfd, const char *path, int flags, ...) __asm__("openat");
int opensnoop_close(int fd) __asm__("close");
int opensnoop_getpid(void) __asm__("getpid");
]]

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p)
  local link = run.attached(assert(bpf.tracepoint(p.attach, p.prog)))
  local me, seen, ours = ffi.C.opensnoop_getpid(), 0, 0
  local reader = assert(bpf.ringbuf_reader(maps.ring, event_t, function(ev)
    seen = seen + 1
    local name = ffi.string(ev.filename)
    if ev.pid == me and name:match('opensnoop%-marker') then ours = ours + 1 end
    if ev.pid == me or seen <= 20 then
      print(('  open: pid %-7d %-16s %-8s %s'):format(ev.pid, ffi.string(ev.comm),
        ev.dfd == -100 and 'AT_FDCWD' or tostring(ev.dfd), name))
    end
  end))
  local seconds = run.seconds(3)
  print(('opening a few files, then watching for %g s'):format(seconds))
  local dir = ffi.C.opensnoop_openat(-100, '/tmp', ffi.new('int', 0x10000)) -- O_DIRECTORY
  for _, path in ipairs({ '/etc/hostname', '/tmp/opensnoop-marker-absolute' }) do
    local fd = ffi.C.opensnoop_openat(-100, path, ffi.new('int', 0))
    if fd >= 0 then ffi.C.opensnoop_close(fd) end
  end
  local fd = ffi.C.opensnoop_openat(dir, 'opensnoop-marker-relative', ffi.new('int', 0))
  if fd >= 0 then ffi.C.opensnoop_close(fd) end
  if dir >= 0 then ffi.C.opensnoop_close(dir) end
  local deadline = os.time() + seconds
  repeat reader:poll(200) until os.time() >= deadline
  print(('%d files opened, %d of them the markers it opened'):format(seen, ours))
  link:close()
  return ours
end

if modname and package.loaded[modname] then return example end
example.main()
