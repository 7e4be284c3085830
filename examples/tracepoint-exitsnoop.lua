-- exitsnoop: every process that exits, with its pid, parent, command and
-- exit code.  A tracepoint program on sched/sched_process_exit reads the
-- exiting task from current_task(), the kernel's own struct task_struct
-- (bpf.ctype: its layout from the kernel's BTF, each field read with
-- bpf_probe_read_kernel, each offset a CO-RE relocation when saved), and
-- sends an event through a ring buffer.  It starts a few commands that
-- exit with known codes so there is something to see.
--   sudo luajit examples/tracepoint-exitsnoop.lua
-- require('examples.tracepoint-exitsnoop').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local run = require('examples.lib.run')

local example = {}

local event_t = ffi.typeof('struct { uint32_t pid, ppid; int32_t code, signal; char comm[16]; }')

function example.build()
  local ring = assert(bpf.map('ringbuf', 64 * 1024))
  local prog, err = bpf(function()
    local task = current_task()
    if task.pid ~= task.tgid then return end -- a thread of a process that goes on (or goes too)
    local e = ffi.new(event_t)
    e.pid = task.tgid
    e.ppid = task.real_parent.tgid
    local status = task.exit_code -- as wait() gives it: code << 8 | signal
    e.code = bit.band(bit.rshift(status, 8), 0xff)
    e.signal = bit.band(status, 0x7f)
    ffi.copy(e.comm, task.comm, 16)
    ringbuf_output(ring, e)
  end, { type = 'tracepoint' })
  if not prog then return nil, err end
  return { { name = 'exitsnoop', prog = prog, type = 'tracepoint',
    attach = 'sched/sched_process_exit' } }, { ring = ring }
end

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p)
  local link = run.attached(assert(bpf.tracepoint(p.attach, p.prog)))
  local seen, ours = 0, {}
  local reader = assert(bpf.ringbuf_reader(maps.ring, event_t, function(ev)
    seen = seen + 1
    local comm = ffi.string(ev.comm, 16):match('^[^%z]*')
    if comm == 'sh' and ev.code >= 3 and ev.code <= 5 then ours[#ours + 1] = ev.code end
    print(('  exit: pid %-7d ppid %-7d %-16s code %d%s'):format(ev.pid, ev.ppid, comm, ev.code,
      ev.signal ~= 0 and (' signal ' .. ev.signal) or ''))
  end))
  local seconds = run.seconds(3)
  print(('starting commands that exit with 3, 4 and 5, then watching for %g s'):format(seconds))
  os.execute('/bin/sh -c "exit 3"; /bin/sh -c "exit 4"; /bin/sh -c "exit 5"; true')
  local deadline = os.time() + seconds
  repeat reader:poll(200) until os.time() >= deadline
  table.sort(ours)
  print(('%d processes exited, ours with codes %s'):format(seen, table.concat(ours, ' ')))
  link:close()
  return #ours
end

if modname and package.loaded[modname] then return example end
example.main()
