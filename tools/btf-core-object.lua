-- Writes spec/data/btf/parents.o, the object spec/btf_spec.lua loads on
-- every kernel to see CO-RE at work: a tracepoint program on
-- syscalls/sys_enter_getppid that stores the caller's real_parent.tgid
-- under its tgid in the hash map "parents", with the field offsets of the
-- kernel this runs on (the suite's is 6.18), relocated by libbpf wherever
-- the object is loaded.  luajit tools/btf-core-object.lua [path]
local bpf = require('bpf')
local parents = assert(bpf.map('hash', 64, 'uint32_t', 'int64_t'))
parents.name = 'parents'
local prog = assert(bpf(function()
  local t = current_task()
  parents[t.tgid] = t.real_parent.tgid
end, { type = 'tracepoint' }))
local path = arg[1] or 'spec/data/btf/parents.o'
assert(prog:save(path, { name = 'parents_of', target = 'syscalls/sys_enter_getppid' }))
print(('%s: %d instructions, %d CO-RE relocations, made on %s'):format(path, prog.pc, #prog.core,
  io.popen('uname -r'):read('*l')))
