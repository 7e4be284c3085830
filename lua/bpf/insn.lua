-- Declares struct bpf_insn (the kernel's 8-byte instruction) for the FFI,
-- once, for every module that handles instructions.
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

return { insn_t = ffi.typeof('struct bpf_insn'), array_t = ffi.typeof('struct bpf_insn[?]') }
