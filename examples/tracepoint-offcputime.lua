-- Off-CPU time by command and kernel stack: on every context switch
-- (tracepoint sched/sched_switch) remember when the outgoing thread left the
-- CPU, and add to the incoming thread's entry how long it was away.  The
-- script sleeps in short naps meanwhile, so it shows up itself.
--   sudo luajit examples/tracepoint-offcputime.lua
-- require('examples.tracepoint-offcputime').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local tracepoint = require('bpf.tracepoint')
local ksym = require('bpf.ksym')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local example = {}

local BPF_F_FAST_STACK_CMP = bit.lshift(1, 9) -- compare stacks by hash only
local key_t = 'struct { char name[16]; int32_t stack_id; }'

function example.build()
  -- pid -> ns, signed: the idle tasks of all CPUs share pid 0, so one CPU can
  -- read a time another CPU noted later, and that delta must come out negative
  local left_at = assert(bpf.map('hash', 128, 'uint32_t', 'int64_t'))
  local away = assert(bpf.map('hash', 128, key_t, 'uint64_t'))          -- key -> us
  local stacks = assert(bpf.map('stack_trace', 16))
  local prog, err = bpf(function(arg)
    -- the thread leaving the CPU: note the time
    local pid = arg.prev_pid
    local now = time()
    left_at[pid] = now
    -- the thread coming back: how long was it away?
    pid = arg.next_pid
    local from = left_at[pid]
    if not from then return 0 end
    local delta = (now - from) / 1000 -- microseconds
    left_at[pid] = nil
    if delta < 1 then return end
    local key = ffi.new(key_t)
    comm(key.name)
    key.stack_id = stack_id(stacks, BPF_F_FAST_STACK_CMP)
    local total = away[key]
    if not total then away[key] = 0 end -- first time: create the entry
    xadd(away[key], delta)
  end, { ctx = tracepoint.dissector('sched/sched_switch'), type = 'tracepoint' })
  if not prog then return nil, err end
  return { { name = 'offcpu', prog = prog, type = 'tracepoint', attach = 'sched/sched_switch' } },
    { left_at = left_at, away = away, stacks = stacks }
end

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p, ('a tracepoint program on %s (id %d)'):format(p.attach, tracepoint.id(p.attach)))
  local link = run.attached(assert(bpf.tracepoint(p.attach, p.prog)))
  local seconds = run.seconds(3)
  print(('collecting for %g s while this script naps for 10 ms at a time'):format(seconds))
  for _ = 1, math.floor(seconds * 100) do lo.sleep(0.01) end
  link:close()

  local entries = {}
  for key, us in maps.away:pairs() do
    entries[#entries + 1] = { name = ffi.string(key.name), stack_id = key.stack_id, us = tonumber(us) }
  end
  table.sort(entries, function(a, b) return a.us > b.us end)
  print(('%d command/stack pairs; the ten longest off the CPU:'):format(#entries))
  for i = 1, math.min(10, #entries) do
    local e = entries[i]
    -- the innermost four frames, named from /proc/kallsyms (bpf.ksym)
    local frames = maps.stacks:stack(e.stack_id, { max = 4 })
    print(('%10d us  %-16s %s'):format(e.us, e.name,
      frames and #frames > 0 and ksym.format(frames) or '(no stack)'))
  end
end

-- require() hands over the builder; `luajit examples/tracepoint-offcputime.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
