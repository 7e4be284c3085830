-- Disassembler and assembler over the C core (csrc/disasm.c, csrc/asm.c).
--
--   M.disasm_insn(insns, n, pc, syntax[, dialect]) -> text, slots | nil, why
--   M.dump_string(insns, n, opts) -> listing;  M.dump(insns, n, opts) prints it
--     opts: syntax ('classic'; 'mnemonic' for an sBPF dialect), dialect ('kernel'),
--           offset (first pc), hide_counter,
--           lines = { [pc] = { file=, line=, text= } } (0-based pc),
--           funcs = { [pc] = name } (a subprogram starts there),
--           map_names = { [pc] = name } (the lddw there loads that map: printed by name)
--   M.assemble(text, syntax[, opts]) -> struct bpf_insn[?], count, info | nil, 'LINE:COL: why'
--     syntax: one of the three, or 'mixed' (pseudo-C and the mnemonic syntax line by
--     line, as GNU as reads its two syntaxes); opts: dialect, maps = { name, ... } (names
--     an lddw may load); info = { relocs = { { insn =, map = 1-based index } },
--     lines = { [pc] = source line }, labels = { { pc =, name = } } }
--   M.syntax_names: accepted syntax name -> canonical name
--   M.dialects: dialect name -> number ('kernel', 'sbpf-v1', 'sbpf-v2', 'sbpf-v3')
local ffi = require('ffi')
local core = require('bpf.ffi_core')
local insn = require('bpf.insn')

ffi.cdef [[
int bpfc_disasm_insn(const struct bpf_insn *insns, size_t n, size_t pc, int syntax,
                     char *buf, size_t size);
int bpfc_asm(const char *text, int syntax, struct bpf_insn *out, size_t cap,
             char *err, size_t errsz);
int bpfc_disasm_dialect(const struct bpf_insn *insns, size_t n, size_t pc, int syntax,
                        int dialect, char *buf, size_t size);
struct bpfc_asm_reloc { uint32_t insn, map; };
struct bpfc_asm_label { uint32_t pc, off, len; };
struct bpfc_asm_opts {
  size_t sz;
  int syntax, dialect;
  const char *const *maps;
  size_t nmaps;
  struct bpfc_asm_reloc *relocs;
  size_t reloc_cap, nrelocs;
  struct bpfc_asm_label *labels;
  size_t label_cap, nlabels;
  int32_t *lines;
};
int bpfc_asm_text(const char *text, struct bpfc_asm_opts *opts, struct bpf_insn *out,
                  size_t cap, char *err, size_t errsz);
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
local syntax_ids = { classic = 0, ['pseudo-c'] = 1, mnemonic = 2, mixed = 3 }
M.dialects = { kernel = 0, ['sbpf-v1'] = 1, ['sbpf-v2'] = 2, ['sbpf-v3'] = 3 }
-- A syntax's comment, for the source annotations of a listing.
local comment = { classic = ';', ['pseudo-c'] = '//', mnemonic = '//' }

local function dialect_of(name)
  local id = M.dialects[name or 'kernel']
  if not id then
    error(string.format("bpf.disasm: unknown dialect '%s' (kernel, sbpf-v1, sbpf-v2 or sbpf-v3)",
      tostring(name)), 3)
  end
  return id
end

local function syntax_of(name, dialect, input)
  if name == nil and dialect and dialect ~= 'kernel' then name = 'mnemonic' end
  local canon = M.syntax_names[name or 'classic']
  if not canon and input and (name == 'mixed' or name == 'gnu-as') then canon = 'mixed' end
  if not canon then error(string.format("bpf.disasm: unknown syntax '%s'", tostring(name)), 3) end
  return canon, syntax_ids[canon]
end

local buf_size = 256
local buf = ffi.new('char[?]', buf_size)

function M.disasm_insn(insns, n, pc, syntax, dialect)
  local _, id = syntax_of(syntax, dialect)
  local k = C.bpfc_disasm_dialect(insns, n, pc, id, dialect_of(dialect), buf, buf_size)
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
  local canon, id = syntax_of(opts.syntax, opts.dialect)
  local dialect = dialect_of(opts.dialect)
  local cmt, lines, names = comment[canon], opts.lines, opts.map_names
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
    local k = C.bpfc_disasm_dialect(insns, n, pc, id, dialect, buf, buf_size)
    local text = ffi.string(buf)
    if k > 0 and names and names[pc] then -- a map by its name: bpf.asm reads it back
      text = text:gsub('map%[fd:%-?%d+%]', function() return names[pc] end, 1)
    end
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

function M.assemble(text, syntax, opts)
  opts = opts or {}
  local _, id = syntax_of(syntax, opts.dialect, true)
  local names = opts.maps or {}
  local o = ffi.new('struct bpfc_asm_opts')
  o.sz, o.syntax, o.dialect = ffi.sizeof(o), id, dialect_of(opts.dialect)
  local cnames = ffi.new('const char *[?]', math.max(#names, 1))
  for i, name in ipairs(names) do cnames[i - 1] = name end
  o.maps, o.nmaps = cnames, #names
  local cap = C.bpfc_asm_text(text, o, nil, 0, err, err_size)
  if cap < 0 then return nil, ffi.string(err) end
  local out = insn.array_t(math.max(cap, 1))
  local relocs = ffi.new('struct bpfc_asm_reloc[?]', math.max(tonumber(o.nrelocs), 1))
  local labels = ffi.new('struct bpfc_asm_label[?]', math.max(tonumber(o.nlabels), 1))
  local lines = ffi.new('int32_t[?]', math.max(cap, 1))
  o.relocs, o.reloc_cap = relocs, o.nrelocs
  o.labels, o.label_cap = labels, o.nlabels
  o.lines = lines
  local count = C.bpfc_asm_text(text, o, out, cap, err, err_size)
  if count < 0 then return nil, ffi.string(err) end
  local info = { relocs = {}, lines = {}, labels = {} }
  for i = 0, tonumber(o.nrelocs) - 1 do
    info.relocs[i + 1] = { insn = relocs[i].insn, map = relocs[i].map + 1 }
  end
  for i = 0, tonumber(o.nlabels) - 1 do
    local l = labels[i]
    info.labels[i + 1] = { pc = l.pc, name = text:sub(l.off + 1, l.off + l.len) }
  end
  for pc = 0, count - 1 do info.lines[pc] = lines[pc] end
  return out, count, info
end

return M
