-- A sampling profiler: a perf_event program run 99 times a second on every
-- CPU (bpf.perf_event, the software cpu-clock event) counts what each CPU
-- was doing, by process, command, user stack and kernel stack, and the
-- script prints the counts as folded stacks, one line a stack:
--   comm;user_outermost;...;user_innermost;kernel_outermost;...;kernel_innermost count
-- which flamegraph.pl and inferno-flamegraph draw.  Meanwhile the script
-- keeps one CPU busy itself, reading /dev/zero and adding numbers, so that
-- it shows up.  The idle task (pid 0) is left out.
--   sudo luajit examples/profile.lua [seconds] > out.folded; flamegraph.pl out.folded > out.svg
-- require('examples.profile').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bit = require('bit')
local bpf = require('bpf')
local run = require('examples.lib.run')

ffi.cdef 'int bpf_example_getpid(void) __asm__("getpid");'

local example = {}

local FREQ = 99
local key_t = 'struct { uint32_t pid; int32_t user_stack; int32_t kernel_stack; char comm[16]; }'

function example.build()
  local stacks = assert(bpf.map('stack_trace', 4096))
  local counts = assert(bpf.map('hash', 10240, key_t, 'uint64_t')) -- key -> samples
  local prog, err = bpf(function()
    local pid = bit.rshift(pid_tgid(), 32)
    if pid == 0 then return 0 end -- the idle task
    local key = ffi.new(key_t)
    key.pid = pid
    comm(key.comm)
    key.user_stack = stack_id(stacks, 'user')  -- negative: none (a kernel thread)
    key.kernel_stack = stack_id(stacks)        -- negative: none (sampled in user code)
    if not counts[key] then counts[key] = 0 end -- first time: create the entry
    xadd(counts[key], 1)
  end, { ctx = bpf.perf_event_data, type = 'perf_event' })
  if not prog then return nil, err end
  return { { name = 'profile', prog = prog, type = 'perf_event',
    attach = ('cpu-clock at %d Hz'):format(FREQ) } },
    { stacks = stacks, counts = counts }
end

-- A frame as a flame graph names it: the function, else the file it is in.
local function frame_name(frame)
  if frame.sym then return frame.sym end
  if frame.module then return frame.module:match('^%[') and frame.module or '[' .. frame.module .. ']' end
  return '[unknown]'
end

-- The frames of stack id, outermost first (nil for a negative id).
local function outermost_first(stacks, id, pid)
  if id < 0 then return {} end
  local frames = stacks:stack(id, pid)
  if not frames then return { '[lost]' } end
  local names = {}
  for i = #frames, 1, -1 do names[#names + 1] = frame_name(frames[i]) end
  return names
end

-- What the script does while it samples: read /dev/zero, add numbers.
local function keep_busy(seconds)
  local zero = assert(io.open('/dev/zero', 'rb'))
  local stop, sum = os.clock() + seconds, 0
  -- (os.clock is this process's CPU time: a slower CPU runs longer)
  local deadline = os.time() + seconds + 2
  while os.clock() < stop and os.time() < deadline do
    sum = sum + #zero:read(65536)
    for i = 1, 20000 do sum = sum + i % 7 end
  end
  zero:close()
  return sum
end

function example.main(seconds)
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p, 'a perf_event program on every CPU, ' .. p.attach)
  local link = run.attached(bpf.perf_event(p.prog, { freq = FREQ }))
  if not link then os.exit(1) end
  seconds = tonumber(seconds) or run.seconds(5)
  print(('sampling %d CPUs %d times a second for %g s while this script keeps one busy')
    :format(#link.cpus, FREQ, seconds))
  keep_busy(seconds)
  link:close()
  local me = ffi.C.bpf_example_getpid()
  local lines, samples, mine = {}, 0, 0
  for key, n in maps.counts:pairs() do
    local pid, count = key.pid, tonumber(n)
    if pid == me then mine = mine + count end
    local names = { (ffi.string(key.comm):gsub('[; ]', '_')) }
    for _, name in ipairs(outermost_first(maps.stacks, key.user_stack, pid)) do names[#names + 1] = name end
    for _, name in ipairs(outermost_first(maps.stacks, key.kernel_stack)) do names[#names + 1] = name end
    local line = table.concat(names, ';')
    lines[line] = (lines[line] or 0) + count -- (stacks that name alike count as one)
    samples = samples + count
  end
  local sorted = {}
  for line, count in pairs(lines) do sorted[#sorted + 1] = { line = line, count = count } end
  table.sort(sorted, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.line < b.line
  end)
  print(('%d samples in %d folded stacks, %d of them of this script (pid %d):'):format(samples, #sorted,
    mine, me))
  for _, s in ipairs(sorted) do print(('%s %d'):format(s.line, s.count)) end
end

-- require() hands over the builder; `luajit examples/profile.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main(...)
