-- Block I/O latency as a histogram: one kprobe notes when a request starts,
-- another, when it completes, adds one to the bucket of its latency
-- (3 * log2 of the nanoseconds: bucket 29 is about 1 us, 59 about 1 ms,
-- 89 about 1 s).
--   sudo luajit examples/kprobe-latency.lua
-- require('examples.kprobe-latency').build() compiles both programs only.
local modname = ...
local bpf = require('bpf')
local proto = require('bpf.proto')

local example = {}

local buckets = 100

function example.build()
  local started = assert(bpf.map('hash', 512, 'uint64_t', 'uint64_t')) -- request -> ns
  local histogram = assert(bpf.map('array', buckets))
  local on_start, err = bpf(function(ptregs)
    started[ptregs.parm1] = time() -- the first argument: the request
  end, { ctx = proto.pt_regs, type = 'kprobe' })
  if not on_start then return nil, err end
  local on_done
  on_done, err = bpf(function(ptregs)
    local delta = time() - started[ptregs.parm1]
    local bucket = 3 * math.log2(delta)
    if bucket >= buckets then bucket = buckets - 1 end
    xadd(histogram[bucket], 1)
    return true
  end, { ctx = proto.pt_regs, type = 'kprobe' })
  if not on_done then return nil, err end
  return {
    { name = 'io_start', prog = on_start, type = 'kprobe', attach = 'blk_mq_start_request' },
    { name = 'io_done', prog = on_done, type = 'kprobe', attach = 'blk_mq_end_request' },
  }, { started = started, histogram = histogram }
end

-- The kernel registers a "kprobe" event source only with CONFIG_KPROBES.
local function has_kprobes()
  local f = io.open('/sys/bus/event_source/devices/kprobe/type', 'r')
  if f then f:close() end
  return f ~= nil
end

function example.main()
  local progs, maps = example.build()
  if not progs then
    io.stderr:write(maps, '\n')
    os.exit(1)
  end
  for _, p in ipairs(progs) do
    local handle = assert(p.prog:load(p.type))
    print(('%s: %d instructions, loaded as a %s program'):format(p.name, p.prog.pc, handle.type))
    bpf.dump(p.prog)
    handle:close()
  end
  for _, p in ipairs(progs) do
    if has_kprobes() then
      print(('not available yet: attaching a kprobe to %s (bpf.kprobe)'):format(p.attach))
    else
      print(('cannot attach to %s: this kernel has no kprobes (CONFIG_KPROBES is not set)')
        :format(p.attach))
    end
  end
  print('so the histogram stays empty.')
end

-- require() hands over the builders; `luajit examples/kprobe-latency.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
