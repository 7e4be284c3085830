-- Print every line that any bash reads with readline(): a uretprobe on
-- /bin/bash:readline copies the returned string (40 bytes at most) to the
-- stack and prints it to the kernel's trace pipe.
--   sudo luajit examples/uprobe-readline.lua
-- require('examples.uprobe-readline').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local proto = require('bpf.proto')

local example = {}

function example.build()
  local prog, err = bpf(function(ptregs)
    local line = ffi.new('char [40]')             -- a buffer on the BPF stack
    ffi.copy(line, ffi.cast('char *', ptregs.ax)) -- the return value is the line
    print('%s\n', line)                           -- to /sys/kernel/tracing/trace_pipe
  end, { ctx = proto.pt_regs, type = 'kprobe' })
  if not prog then return nil, err end
  return { { name = 'bash_readline', prog = prog, type = 'kprobe', attach = '/bin/bash:readline',
    retprobe = true } }, {}
end

function example.main()
  local progs, err = example.build()
  if not progs then
    io.stderr:write(err, '\n')
    os.exit(1)
  end
  local p = progs[1]
  local handle = assert(p.prog:load(p.type))
  print(('%s: %d instructions, loaded as a %s program (uprobes are kprobe programs)')
    :format(p.name, p.prog.pc, handle.type))
  bpf.dump(p.prog)
  handle:close()
  print(('not available yet: attaching a uretprobe to %s (bpf.uprobe) and reading the trace pipe')
    :format(p.attach))
  print('(bpf.tracelog), so no lines are printed.')
end

-- require() hands over the builder; `luajit examples/uprobe-readline.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
