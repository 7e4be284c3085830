-- Helpers for the specs that talk to the kernel below bpf(): counting this
-- process's open fds (to show that nothing leaks) and hand-assembled
-- instruction arrays.
local ffi = require('ffi')
local insn = require('bpf.insn')
local M = {}

-- Private names, so that specs in the same process can declare their own.
ffi.cdef [[
typedef struct spec_support_dir spec_support_dir;
spec_support_dir *spec_support_opendir(const char *name) __asm__("opendir");
void *spec_support_readdir(spec_support_dir *dir) __asm__("readdir");
int spec_support_closedir(spec_support_dir *dir) __asm__("closedir");
]]

-- How many entries /proc/self/fd has right now (the directory's own fd included).
function M.open_fd_count()
  local dir = ffi.C.spec_support_opendir('/proc/self/fd')
  assert(dir ~= nil, 'cannot open /proc/self/fd')
  local n = 0
  while ffi.C.spec_support_readdir(dir) ~= nil do n = n + 1 end
  ffi.C.spec_support_closedir(dir)
  return n
end

-- An instruction array and its length; each instruction is { code, dst, src, off, imm },
-- missing fields 0.
function M.asm(list)
  local code = insn.array_t(#list)
  for i, f in ipairs(list) do
    local slot = code[i - 1]
    slot.code, slot.dst_reg, slot.src_reg = f[1], f[2] or 0, f[3] or 0
    slot.off, slot.imm = f[4] or 0, f[5] or 0
  end
  return code, #list
end

return M
