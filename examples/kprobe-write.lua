-- Count returns from write(2) with a kretprobe and one array slot, while
-- the script writes to /dev/null itself.  On a kernel without kprobes it
-- loads the program and says why it cannot be attached.
--   sudo luajit examples/kprobe-write.lua
-- require('examples.kprobe-write').build() compiles the program only.
local modname = ...
local bpf = require('bpf')
local proto = require('bpf.proto')
local run = require('examples.lib.run')

local example = {}

function example.build()
  local hits = assert(bpf.map('array', 1))
  local prog, err = bpf(function()
    xadd(hits[0], 1)
  end, { ctx = proto.pt_regs, type = 'kprobe' })
  if not prog then return nil, err end
  return { { name = 'write_hits', prog = prog, type = 'kprobe', attach = 'ksys_write',
    retprobe = true } }, { hits = hits }
end

function example.main()
  local progs, maps = run.build(example.build)
  local p = progs[1]
  run.show(p, 'a kprobe program for a kretprobe on ' .. p.attach)
  local link = run.attached(bpf.kprobe(p.attach, p.prog, p.retprobe))
  if not link then return end
  local seconds = run.seconds(3)
  local null = assert(io.open('/dev/null', 'w'))
  null:setvbuf('no')
  for _ = 1, run.rounds(seconds, 0.5) do
    for _ = 1, 100 do null:write('x') end
    os.execute('sleep 0.5')
    print(('write() returned %d times so far (100 of them each round from this script)')
      :format(maps.hits[0]))
  end
  null:close()
  link:close()
end

-- require() hands over the builder; `luajit examples/kprobe-write.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
