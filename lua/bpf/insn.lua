-- Declares struct bpf_insn (the kernel's 8-byte instruction) for the FFI,
-- once, for every module that handles instructions; from_list makes an array.
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

local M = { insn_t = ffi.typeof('struct bpf_insn'), array_t = ffi.typeof('struct bpf_insn[?]') }

-- An instruction array from a list of { code, dst, src, off, imm } (missing
-- fields 0), and its length: the few hand-made programs that probe the kernel.
function M.from_list(list)
  local code = M.array_t(#list)
  for i, f in ipairs(list) do
    local slot = code[i - 1]
    slot.code, slot.dst_reg, slot.src_reg = f[1], f[2] or 0, f[3] or 0
    slot.off, slot.imm = f[4] or 0, f[5] or 0
  end
  return code, #list
end

return M
