-- Every program the machine starts, as it starts: a tracepoint program on
-- sched/sched_process_exec sends the new process's pid and command name
-- through a ring buffer, and the script reads them with a callback.  It
-- starts a few commands itself so there is something to see.
--   sudo luajit examples/ringbuf-exec.lua
-- require('examples.ringbuf-exec').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local tracepoint = require('bpf.tracepoint')
local run = require('examples.lib.run')

local example = {}

local event_t = ffi.typeof('struct { uint32_t pid; char comm[16]; }')

function example.build()
  local ring = assert(bpf.map('ringbuf', 64 * 1024))
  local prog, err = bpf(function(arg)
    local e = ffi.new(event_t)
    e.pid = arg.pid
    comm(e.comm)              -- the command name the process has now
    ringbuf_output(ring, e)   -- copied into the ring, woken reader
  end, { ctx = tracepoint.dissector('sched/sched_process_exec') })
  if not prog then return nil, err end
  return { { name = 'exec', prog = prog, type = 'tracepoint',
    attach = 'sched/sched_process_exec' } }, { ring = ring }
end

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p)
  local link = run.attached(assert(bpf.tracepoint(p.attach, p.prog)))
  local seen = 0
  local reader = assert(bpf.ringbuf_reader(maps.ring, event_t, function(ev)
    seen = seen + 1
    print(('  exec: pid %-7d %s'):format(ev.pid, ffi.string(ev.comm)))
  end))
  local seconds = run.seconds(3)
  print(('starting a few commands, then watching for %g s'):format(seconds))
  os.execute('true; /bin/true; /bin/sh -c /bin/true; uname >/dev/null')
  local deadline = os.time() + seconds
  repeat reader:poll(200) until os.time() >= deadline
  print(('%d programs started'):format(seen))
  link:close()
end

if modname and package.loaded[modname] then return example end
example.main()
