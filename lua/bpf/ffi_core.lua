-- Loads the C core (bpf/core.so, also the native module `bpf.core`) for the
-- FFI.  Modules declare the core functions they call next to their own code.
local ffi = require('ffi')
require('bpf.insn')

local path = package.searchpath('bpf.core', package.cpath)
if not path then
  error('bpf: the C core (bpf/core.so) is not on package.cpath; run `make` first', 2)
end

return { lib = ffi.load(path), path = path }
