-- The one place that loads the C core for the FFI and declares the types
-- every Lua module shares (struct bpf_insn).  Modules add the declarations
-- of the core functions they call next to their own code.
local ffi = require('ffi')

ffi.cdef [[
struct bpf_insn {
  uint8_t code;
  uint8_t dst_reg:4;
  uint8_t src_reg:4;
  int16_t off;
  int32_t imm;
};
]]

local path = package.searchpath('bpf.core', package.cpath)
if not path then
  error('bpf: the C core (bpf/core.so) is not on package.cpath; run `make` first', 2)
end

return { lib = ffi.load(path), path = path, insn_t = ffi.typeof('struct bpf_insn') }
