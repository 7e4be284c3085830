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
M.asm = insn.from_list

-- The interpreter running this spec (luajit, luajit2 or one without GC64),
-- for the scripts and child processes a spec starts.
ffi.cdef 'long spec_support_readlink(const char *path, char *buf, size_t size) __asm__("readlink");'
function M.interpreter()
  local buf = ffi.new('char[4096]')
  local n = ffi.C.spec_support_readlink('/proc/self/exe', buf, 4096)
  assert(n > 0, 'cannot read /proc/self/exe')
  return ffi.string(buf, n)
end

-- Runs a Lua script in a child interpreter with this spec's paths: its
-- output and exit status.
function M.run_child(source)
  local file = os.tmpname()
  local f = assert(io.open(file, 'w'))
  f:write(source)
  f:close()
  local p = assert(io.popen(("'%s' %s 2>&1; echo \"exit status $?\""):format(M.interpreter(), file)))
  local out = p:read('*a')
  p:close()
  os.remove(file)
  local status = tonumber(out:match('exit status (%d+)%s*$'))
  return out:gsub('exit status %d+%s*$', ''), status
end

return M
