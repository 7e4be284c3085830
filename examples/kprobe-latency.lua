-- Block I/O latency as a log2 histogram: one kprobe notes when a request
-- starts, another, when it completes, adds one to the bucket of its latency
-- (math.log2 of the nanoseconds), and the script prints the histogram the
-- way bcc does while it writes and syncs a file to make some I/O.  On a
-- kernel without kprobes it loads both programs and says why they cannot
-- be attached.
--   sudo luajit examples/kprobe-latency.lua
-- require('examples.kprobe-latency').build() compiles both programs only.
local modname = ...
local bpf = require('bpf')
local proto = require('bpf.proto')
local run = require('examples.lib.run')

local example = {}

local buckets = 64

function example.build()
  local started = assert(bpf.map('hash', 512, 'uint64_t', 'uint64_t')) -- request -> ns
  local histogram = assert(bpf.map('array', buckets, 'uint32_t', 'uint64_t'))
  local on_start, err = bpf(function(ptregs)
    started[ptregs.parm1] = time() -- the first argument: the request
  end, { ctx = proto.pt_regs, type = 'kprobe' })
  if not on_start then return nil, err end
  local on_done
  on_done, err = bpf(function(ptregs)
    local delta = time() - started[ptregs.parm1]
    local bucket = math.log2(delta)
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

-- Some block I/O: a file written and synced, then removed.
local function make_io()
  local name = os.tmpname()
  local f = assert(io.open(name, 'w'))
  for _ = 1, 64 do f:write(string.rep('x', 4096)) end
  f:flush()
  f:close()
  os.execute('sync ' .. name)
  os.remove(name)
end

function example.main()
  local progs, maps = run.build(example.build)
  local links = {}
  for _, p in ipairs(progs) do
    run.show(p, 'a kprobe program for ' .. p.attach)
    links[#links + 1] = run.attached(bpf.kprobe(p.attach, p.prog)) -- nil (none kept) if refused
  end
  if #links < #progs then
    print('so the histogram stays empty.')
    return
  end
  local seconds = run.seconds(3)
  for _ = 1, run.rounds(seconds, 1) do
    make_io()
    os.execute('sleep 1')
    bpf.print_log2_hist(maps.histogram, 'nsecs')
  end
  for _, link in ipairs(links) do link:close() end
end

-- require() hands over the builders; `luajit examples/kprobe-latency.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
