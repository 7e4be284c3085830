-- Count returns from write(2) with a kretprobe and one array slot.
--   sudo luajit examples/kprobe-write.lua
-- require('examples.kprobe-write').build() compiles the program only.
local modname = ...
local bpf = require('bpf')
local proto = require('bpf.proto')

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
  local p = progs[1]
  local handle = assert(p.prog:load(p.type))
  print(('%s: %d instructions, loaded as a %s program'):format(p.name, p.prog.pc, handle.type))
  bpf.dump(p.prog)
  handle:close()
  if has_kprobes() then
    print(('not available yet: attaching a kretprobe to %s (bpf.kprobe)'):format(p.attach))
  else
    print(('cannot attach to %s: this kernel has no kprobes (CONFIG_KPROBES is not set)')
      :format(p.attach))
  end
end

-- require() hands over the builder; `luajit examples/kprobe-write.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
