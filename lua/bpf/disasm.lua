-- Disassembler and assembler over the C core (csrc/disasm.c, csrc/asm.c).
--
--   M.disasm_insn(insns, n, pc, syntax) -> text, slots | nil, why
--   M.dump_string(insns, n, opts) -> listing;  M.dump(insns, n, opts) prints it
--     opts: syntax ('classic'), offset (first pc), hide_counter,
--           lines = { [pc] = { file=, line=, text= } } (0-based pc),
--           funcs = { [pc] = name } (a subprogram starts there)
--   M.assemble(text, syntax) -> struct bpf_insn[?], count | nil, 'line N: why'
--   M.syntax_names: accepted syntax name -> canonical name
local ffi = require('ffi')
local core = require('bpf.ffi_core')
local insn = require('bpf.insn')

ffi.cdef [[
int bpfc_disasm_insn(const struct bpf_insn *insns, size_t n, size_t pc, int syntax,
                     char *buf, size_t size);
int bpfc_asm(const char *text, int syntax, struct bpf_insn *out, size_t cap,
             char *err, size_t errsz);
const char *bpfc_helper_name(int id);
int bpfc_helper_id(const char *name, size_t len);
]]

local C = core.lib
local M = {}

M.syntax_names = {
  classic = 'classic',
  ['pseudo-c'] = 'pseudo-c', llvm = 'pseudo-c', gnu = 'pseudo-c', c = 'pseudo-c',
  mnemonic = 'mnemonic', ubpf = 'mnemonic', sbpf = 'mnemonic',
}
local syntax_ids = { classic = 0, ['pseudo-c'] = 1, mnemonic = 2 }
-- A syntax's comment, for the source annotations of a listing.
local comment = { classic = ';', ['pseudo-c'] = '//', mnemonic = '//' }

local function syntax_of(name)
  local canon = M.syntax_names[name or 'classic']
  if not canon then error(string.format("bpf.disasm: unknown syntax '%s'", tostring(name)), 3) end
  return canon, syntax_ids[canon]
end

local buf_size = 256
local buf = ffi.new('char[?]', buf_size)

function M.disasm_insn(insns, n, pc, syntax)
  local _, id = syntax_of(syntax)
  local k = C.bpfc_disasm_insn(insns, n, pc, id, buf, buf_size)
  if k < 0 then return nil, ffi.string(buf) end
  return ffi.string(buf), k
end

function M.helper_name(id)
  local s = C.bpfc_helper_name(id)
  return s ~= nil and ffi.string(s) or nil
end

function M.helper_id(name)
  local id = C.bpfc_helper_id(name, #name)
  return id >= 0 and id or nil
end

-- "; file.lua:12  local proto = pkt.ip.proto"
local function annotation(cmt, src)
  local where = src.file and (src.file:match('[^/]*$') .. ':' .. tostring(src.line))
    or ('line ' .. tostring(src.line))
  if src.text and src.text ~= '' then return cmt .. ' ' .. where .. '  ' .. src.text end
  return cmt .. ' ' .. where
end

function M.dump_string(insns, n, opts)
  opts = opts or {}
  local canon, id = syntax_of(opts.syntax)
  local cmt, lines = comment[canon], opts.lines
  local out, last = {}, nil
  local pc = opts.offset or 0
  while pc < n do
    local fname = opts.funcs and opts.funcs[pc]
    if fname then
      out[#out + 1] = cmt .. ' function ' .. fname
      last = nil
    end
    local src = lines and lines[pc]
    if src and src.line then
      local key = tostring(src.file) .. ':' .. tostring(src.line)
      if key ~= last then out[#out + 1] = annotation(cmt, src) end
      last = key
    end
    local k = C.bpfc_disasm_insn(insns, n, pc, id, buf, buf_size)
    local text = ffi.string(buf)
    if k < 0 then
      local i = insns[pc]
      text = string.format('%s invalid: %s (code 0x%02x dst %d src %d off %d imm %d)', cmt,
        text, i.code, i.dst_reg, i.src_reg, i.off, i.imm)
      k = 1
    end
    out[#out + 1] = opts.hide_counter and text or string.format('%04u\t%s', pc, text)
    pc = pc + k
  end
  return table.concat(out, '\n')
end

function M.dump(insns, n, opts)
  print(M.dump_string(insns, n, opts))
end

local err_size = 256
local err = ffi.new('char[?]', err_size)

function M.assemble(text, syntax)
  local _, id = syntax_of(syntax)
  local cap = C.bpfc_asm(text, id, nil, 0, err, err_size)
  if cap < 0 then return nil, ffi.string(err) end
  local out = insn.array_t(math.max(cap, 1))
  local count = C.bpfc_asm(text, id, out, cap, err, err_size)
  if count < 0 then return nil, ffi.string(err) end
  return out, count
end

return M
