-- execsnoop: every program started on the machine, with its parent and
-- its arguments.  A tracepoint program on syscalls/sys_enter_execve reads
-- the parent's pid from current_task().real_parent.tgid (the kernel's own
-- struct task_struct, from its BTF), copies up to six of the
-- argv strings with a `for` loop (the loop is unrolled: each turn copies
-- into a row of the event known at compile time; each row a string read
-- from user memory, cut at ARGLEN - 1 bytes and a NUL) and sends the event
-- through a ring buffer; the script prints them.  It starts a few commands
-- itself so there is something to see.
--   sudo luajit examples/tracepoint-execsnoop.lua
-- require('examples.tracepoint-execsnoop').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local tracepoint = require('bpf.tracepoint')
local run = require('examples.lib.run')

local example = {}

local MAXARGS, ARGLEN = 6, 32
local event_t = ffi.typeof(('struct { uint32_t pid, ppid; uint32_t argc; char argv[%d][%d]; }')
  :format(MAXARGS, ARGLEN))

function example.build()
  local ring = assert(bpf.map('ringbuf', 64 * 1024))
  local prog, err = bpf(function(args)
    local e = ffi.new(event_t)
    e.pid = bit.rshift(pid_tgid(), 32)
    e.ppid = current_task().real_parent.tgid
    local argv = ffi.cast('const char **', args.argv) -- a user-space array of strings
    for i = 0, MAXARGS - 1 do
      local arg = argv[i]
      if arg == nil then break end -- argv ends with NULL
      ffi.copy(e.argv[i], arg)
      e.argc = i + 1
    end
    ringbuf_output(ring, e)
  end, { ctx = tracepoint.dissector('syscalls/sys_enter_execve'), type = 'tracepoint' })
  if not prog then return nil, err end
  return { { name = 'execsnoop', prog = prog, type = 'tracepoint',
    attach = 'syscalls/sys_enter_execve' } }, { ring = ring }
end

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p)
  local link = run.attached(assert(bpf.tracepoint(p.attach, p.prog)))
  local seen, ours = 0, 0
  local reader = assert(bpf.ringbuf_reader(maps.ring, event_t, function(ev)
    local argv = {}
    for i = 0, ev.argc - 1 do -- a row is a string, NUL-terminated
      argv[#argv + 1] = ffi.string(ev.argv[i])
    end
    seen = seen + 1
    if argv[#argv] == 'execsnoop-marker' then ours = ours + 1 end
    print(('  exec: pid %-7d ppid %-7d %s'):format(ev.pid, ev.ppid, table.concat(argv, ' ')))
  end))
  local seconds = run.seconds(3)
  print(('starting a few commands, then watching for %g s'):format(seconds))
  os.execute('/bin/echo one two execsnoop-marker >/dev/null; /bin/sh -c "/bin/true execsnoop-marker"')
  local deadline = os.time() + seconds
  repeat reader:poll(200) until os.time() >= deadline
  print(('%d programs started, %d of them ours'):format(seen, ours))
  link:close()
  return ours
end

if modname and package.loaded[modname] then return example end
example.main()
