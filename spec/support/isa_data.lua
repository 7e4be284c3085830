-- The instruction data files in spec/data/isa, read for the assembler and
-- disassembler specs.
--
-- A data file is one case, after a "# what" line, in sections:
--   -- raw            the bytes in hex
--   -- classic        canonical text in a syntax (also pseudo-c, mnemonic):
--                     assembles to raw, and raw disassembles to it
--   -- classic in     text that only has to assemble to raw
--   -- error          with raw alone: why the disassembler rejects it;
--                     with an "in" section: the assembler's message
--   -- llvm           "mc": llvm-mc assembles the pseudo-c text to raw;
--                     "objdump": llvm-objdump prints raw as the pseudo-c text
--   -- dialect        sbpf-v1, sbpf-v2 or sbpf-v3: raw is in that sBPF version's
--                     encoding and the text in the mnemonic syntax (no section: the
--                     kernel's eBPF)
local M = {}

local spec_dir = debug.getinfo(1, 'S').source:match('^@(.*/)support/[^/]*$') or 'spec/'
M.datadir = spec_dir .. 'data/isa/'

-- The three syntaxes, in the order of the C core's syntax numbers (0, 1, 2).
M.syntaxes = { 'classic', 'pseudo-c', 'mnemonic' }

-- One data file: { name = 'alu-add32-imm', s = { raw = '...', classic = '...', ... } },
-- each section's lines joined by newlines, trailing white space removed.
function M.read_case(path)
  local case, lines = { name = path:match('([^/]*)%.data$'), s = {} }, nil
  for line in io.lines(path) do
    local sec = line:match('^%-%- (.+)$')
    if sec then
      lines = {}
      case.s[sec] = lines
    elseif lines then
      lines[#lines + 1] = line
    end
  end
  for k, v in pairs(case.s) do case.s[k] = table.concat(v, '\n'):gsub('%s+$', '') end
  return case
end

-- Every data file, in the order ls sorts them.
function M.cases()
  local list = {}
  local p = assert(io.popen('ls ' .. M.datadir .. '*.data'))
  for path in p:lines() do list[#list + 1] = M.read_case(path) end
  p:close()
  return list
end

-- Hex text ("b7 01 00 ...", white space anywhere) to the bytes it spells.
function M.hex_bytes(hex)
  return (hex:gsub('%s', ''):gsub('%x%x', function(h) return string.char(tonumber(h, 16)) end))
end

return M
