-- Where a function lives in an executable or shared library: the file
-- offset a uprobe takes, found in the ELF symbol tables with libelf (the
-- same search libbpf makes for bpf_program__attach_uprobe_opts: .symtab
-- first, then .dynsym; functions and ifuncs only; a global symbol wins over
-- a weak one).
--
--   local elf = require('bpf.elf')
--   offset, err = elf.func_offset(path, name)   name: 'readline', 'memcpy@GLIBC_2.14',
--                                               a demangled C++ name ('ns::Class::method')
--   path, err = elf.find(name)                  '/bin/bash' stays; 'bash' is looked
--                                               up in $PATH, 'libc.so.6' in the library dirs
--   probes, err = elf.usdt_probes(path[, provider, name])
--     the USDT (SystemTap SDT) probes of the file, from its .note.stapsdt notes:
--     { { provider=, name=, offset= (file offset of the probe site),
--         semaphore= (file offset of its semaphore, 0 if none), args= }, ... }
local ffi = require('ffi')
local bit = require('bit')

local M = {}

ffi.cdef [[
typedef struct Elf Elf;
typedef struct Elf_Scn Elf_Scn;
typedef struct {
  void *d_buf;
  int d_type;
  unsigned int d_version;
  size_t d_size;
  int64_t d_off;
  size_t d_align;
} Elf_Data;
typedef struct {
  unsigned char e_ident[16];
  uint16_t e_type, e_machine;
  uint32_t e_version;
  uint64_t e_entry, e_phoff, e_shoff;
  uint32_t e_flags;
  uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} GElf_Ehdr;
typedef struct {
  uint32_t sh_name, sh_type;
  uint64_t sh_flags, sh_addr, sh_offset, sh_size;
  uint32_t sh_link, sh_info;
  uint64_t sh_addralign, sh_entsize;
} GElf_Shdr;
typedef struct {
  uint32_t st_name;
  unsigned char st_info, st_other;
  uint16_t st_shndx;
  uint64_t st_value, st_size;
} GElf_Sym;
unsigned int elf_version(unsigned int version);
Elf *elf_begin(int fd, int cmd, Elf *ref);
int elf_end(Elf *elf);
GElf_Ehdr *gelf_getehdr(Elf *elf, GElf_Ehdr *dst);
Elf_Scn *elf_nextscn(Elf *elf, Elf_Scn *scn);
Elf_Scn *elf_getscn(Elf *elf, size_t index);
GElf_Shdr *gelf_getshdr(Elf_Scn *scn, GElf_Shdr *dst);
Elf_Data *elf_getdata(Elf_Scn *scn, Elf_Data *data);
GElf_Sym *gelf_getsym(Elf_Data *data, int index, GElf_Sym *dst);
char *elf_strptr(Elf *elf, size_t section, size_t offset);
typedef struct { uint32_t n_namesz, n_descsz, n_type; } GElf_Nhdr;
typedef struct {
  uint32_t p_type, p_flags;
  uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
} GElf_Phdr;
size_t gelf_getnote(Elf_Data *data, size_t offset, GElf_Nhdr *result, size_t *name_offset,
                    size_t *desc_offset);
int elf_getshdrstrndx(Elf *elf, size_t *index);
int elf_getphdrnum(Elf *elf, size_t *count);
GElf_Phdr *gelf_getphdr(Elf *elf, int index, GElf_Phdr *dst);
const char *elf_errmsg(int err);
int bpf_elf_open(const char *path, int flags) __asm__("open");
int bpf_elf_close(int fd) __asm__("close");
int bpf_elf_access(const char *path, int mode) __asm__("access");
]]

local libelf = require('bpf.libbpf').load_library('bpf.elf', 'elf', 'libelf.so.1')
local C = ffi.C

local EV_CURRENT, ELF_C_READ_MMAP, O_RDONLY_CLOEXEC = 1, 8, 0x80000
local ET_EXEC, ET_DYN = 2, 3
local SHT_SYMTAB, SHT_DYNSYM = 2, 11
local STT_FUNC, STT_GNU_IFUNC = 2, 10
local STB_GLOBAL, STB_WEAK = 1, 2
local X_OK = 1

libelf.elf_version(EV_CURRENT)

local function elf_error(path, what)
  return nil, ('bpf.elf: %s: %s: %s'):format(path, what, ffi.string(libelf.elf_errmsg(-1)))
end

-- C++ names, demangled with the C++ runtime when there is one.
local demangle
do
  local ok, cxx = pcall(ffi.load, 'libstdc++.so.6')
  if ok then
    ffi.cdef 'char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);'
    ffi.cdef 'void bpf_elf_free(void *p) __asm__("free");'
    local status = ffi.new('int[1]')
    demangle = function(name)
      local out = cxx.__cxa_demangle(name, nil, nil, status)
      if out == nil then return nil end
      local text = ffi.string(out)
      C.bpf_elf_free(out)
      return text
    end
  end
end

-- Does the symbol's name match what was asked for?  "name@VERSION" and
-- "name@@VERSION" match "name"; a demangled C++ name matches with or
-- without its parameter list.
local function matches(sym_name, wanted, cxx)
  if sym_name == wanted then return true end
  if not wanted:find('@', 1, true) and sym_name:match('^([^@]+)@') == wanted then return true end
  if cxx and demangle and sym_name:sub(1, 2) == '_Z' then
    local plain = demangle(sym_name)
    if plain and (plain == wanted or plain:match('^([^(]*)%(') == wanted) then return true end
  end
  return false
end

-- The best function symbol named `wanted` in one symbol table section.
local function search_table(elf, scn, shdr, wanted, cxx)
  local data = libelf.elf_getdata(scn, nil)
  if data == nil or shdr.sh_entsize == 0 then return nil end
  local count = tonumber(shdr.sh_size / shdr.sh_entsize)
  local sym = ffi.new('GElf_Sym')
  local best, best_bind, seen = nil, nil, {}
  for i = 0, count - 1 do
    if libelf.gelf_getsym(data, i, sym) ~= nil then
      local kind, bind = bit.band(sym.st_info, 0xf), bit.rshift(sym.st_info, 4)
      if (kind == STT_FUNC or kind == STT_GNU_IFUNC) and sym.st_shndx ~= 0 and sym.st_value ~= 0 then
        local name_ptr = libelf.elf_strptr(elf, shdr.sh_link, sym.st_name)
        if name_ptr ~= nil and matches(ffi.string(name_ptr), wanted, cxx) then
          local value = sym.st_value
          seen[tostring(value)] = true
          if not best or (best_bind == STB_WEAK and bind == STB_GLOBAL) then
            best, best_bind = { value = value, shndx = sym.st_shndx }, bind
          end
        end
      end
    end
  end
  if best then
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    best.ambiguous = n > 1 and best_bind ~= STB_GLOBAL
  end
  return best
end

-- Opens path with libelf and calls fn(elf) with it (an executable or a
-- shared object); returns what fn returns, or nil, err.
local function with_elf(path, fn)
  local fd = C.bpf_elf_open(path, O_RDONLY_CLOEXEC)
  if fd < 0 then
    return nil, ('bpf.elf: cannot open %s: errno %d'):format(path, ffi.errno())
  end
  local elf = libelf.elf_begin(fd, ELF_C_READ_MMAP, nil)
  if elf == nil then
    C.bpf_elf_close(fd)
    return elf_error(path, 'not an ELF file')
  end
  local function done(...)
    libelf.elf_end(elf)
    C.bpf_elf_close(fd)
    return ...
  end
  local ehdr = ffi.new('GElf_Ehdr')
  if libelf.gelf_getehdr(elf, ehdr) == nil then
    return done(nil, ('bpf.elf: %s is not an ELF file'):format(path))
  end
  if ehdr.e_type ~= ET_EXEC and ehdr.e_type ~= ET_DYN then
    return done(nil, ('bpf.elf: %s is neither an executable nor a shared object'):format(path))
  end
  return done(fn(elf))
end

-- File offset of function `name` in the ELF file at path.
function M.func_offset(path, name)
  return with_elf(path, function(elf)
    local cxx = name:find('::', 1, true) or name:find('(', 1, true)
    local shdr = ffi.new('GElf_Shdr')
    local found
    for _, wanted_type in ipairs({ SHT_SYMTAB, SHT_DYNSYM }) do
      local scn = libelf.elf_nextscn(elf, nil)
      while scn ~= nil and not found do
        if libelf.gelf_getshdr(scn, shdr) ~= nil and shdr.sh_type == wanted_type then
          found = search_table(elf, scn, shdr, name, cxx)
        end
        scn = libelf.elf_nextscn(elf, scn)
      end
      if found then break end
    end
    if not found then
      return nil, ('bpf.elf: %s has no function named %q'):format(path, name)
    end
    if found.ambiguous then
      return nil, ('bpf.elf: %s has several weak functions named %q'):format(path, name)
    end
    local scn = libelf.elf_getscn(elf, found.shndx)
    if scn == nil or libelf.gelf_getshdr(scn, shdr) == nil then
      return elf_error(path, ('section of %s'):format(name))
    end
    return tonumber(found.value - shdr.sh_addr + shdr.sh_offset)
  end)
end

local SHT_NOTE, PT_LOAD, NT_STAPSDT = 7, 1, 3

-- The file offset of a virtual address, through the loadable segments.
local function file_offset(elf, addr)
  local count = ffi.new('size_t[1]')
  if libelf.elf_getphdrnum(elf, count) ~= 0 then return nil end
  local phdr = ffi.new('GElf_Phdr')
  for i = 0, tonumber(count[0]) - 1 do
    if libelf.gelf_getphdr(elf, i, phdr) ~= nil and phdr.p_type == PT_LOAD
        and addr >= phdr.p_vaddr and addr < phdr.p_vaddr + phdr.p_memsz then
      return tonumber(addr - phdr.p_vaddr + phdr.p_offset)
    end
  end
  return nil
end

-- Sections by name: name -> GElf_Shdr copy (and the Elf_Scn).
local function sections(elf)
  local strndx = ffi.new('size_t[1]')
  if libelf.elf_getshdrstrndx(elf, strndx) ~= 0 then return {} end
  local by_name = {}
  local scn = libelf.elf_nextscn(elf, nil)
  while scn ~= nil do
    local shdr = ffi.new('GElf_Shdr')
    if libelf.gelf_getshdr(scn, shdr) ~= nil then
      local name = libelf.elf_strptr(elf, strndx[0], shdr.sh_name)
      if name ~= nil then by_name[ffi.string(name)] = { shdr = shdr, scn = scn } end
    end
    scn = libelf.elf_nextscn(elf, scn)
  end
  return by_name
end

local u64_ptr = ffi.typeof('const uint64_t *')

-- The USDT probes of path (all of them, or those of provider and name).
function M.usdt_probes(path, provider, name)
  return with_elf(path, function(elf)
    local secs = sections(elf)
    local notes = secs['.note.stapsdt']
    if not notes or notes.shdr.sh_type ~= SHT_NOTE then return {} end
    -- prelink may have moved the file: the notes record where .stapsdt.base was
    local base_sec = secs['.stapsdt.base']
    local data = libelf.elf_getdata(notes.scn, nil)
    if data == nil then return elf_error(path, '.note.stapsdt') end
    local bytes = ffi.cast('const uint8_t *', data.d_buf)
    local nhdr = ffi.new('GElf_Nhdr')
    local name_off, desc_off = ffi.new('size_t[1]'), ffi.new('size_t[1]')
    local probes, offset = {}, 0
    while true do
      local next_offset = libelf.gelf_getnote(data, offset, nhdr, name_off, desc_off)
      if next_offset == 0 then break end
      if nhdr.n_type == NT_STAPSDT and nhdr.n_descsz > 24
          and ffi.string(bytes + name_off[0]) == 'stapsdt' then
        local desc = bytes + desc_off[0]
        local words = ffi.cast(u64_ptr, desc)
        local pc, base, sema = words[0], words[1], words[2]
        local strings = ffi.string(desc + 24, nhdr.n_descsz - 24)
        local p_provider, p_name, args = strings:match('^([^%z]*)%z([^%z]*)%z([^%z]*)')
        if base_sec and base ~= 0 then
          local shift = base_sec.shdr.sh_addr - base
          pc = pc + shift
          if sema ~= 0 then sema = sema + shift end
        end
        if (not provider or provider == p_provider) and (not name or name == p_name) then
          local site = file_offset(elf, pc)
          local sema_off = sema ~= 0 and file_offset(elf, sema) or 0
          if site and sema_off then
            probes[#probes + 1] = { provider = p_provider, name = p_name, offset = site,
              semaphore = sema_off, args = args }
          end
        end
      end
      offset = next_offset
    end
    return probes
  end)
end

-- The function symbols of path by file offset (see the header).
local symbols_mt = { __index = {} }

-- The function holding file offset off: name, off - its start (nil when
-- none does: before the first, past a sized function's end).
function symbols_mt.__index.lookup(syms, off)
  local offsets = syms.offsets
  local lo, hi = 1, #offsets
  if hi == 0 or off < offsets[1] then return nil end
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if offsets[mid] <= off then lo = mid else hi = mid - 1 end
  end
  local size, delta = syms.sizes[lo], off - offsets[lo]
  if size > 0 and delta >= size then return nil end
  if size == 0 and delta > 0x10000 then return nil end -- an unsized label: not that far
  local name = syms.names[lo]
  if demangle and name:sub(1, 2) == '_Z' then
    name = demangle(name) or name
    syms.names[lo] = name
  end
  return name, delta
end

function M.symbols(path)
  return with_elf(path, function(elf)
    local shdr, sym = ffi.new('GElf_Shdr'), ffi.new('GElf_Sym')
    -- the file offset of each section's first byte, less its address
    local shift = {}
    local scn = libelf.elf_nextscn(elf, nil)
    local tables = {}
    while scn ~= nil do
      if libelf.gelf_getshdr(scn, shdr) ~= nil then
        local index = #shift + 1
        shift[index] = tonumber(shdr.sh_offset) - tonumber(shdr.sh_addr)
        if (shdr.sh_type == SHT_SYMTAB or shdr.sh_type == SHT_DYNSYM) and shdr.sh_entsize > 0 then
          tables[#tables + 1] = { scn = scn, link = shdr.sh_link,
            count = tonumber(shdr.sh_size / shdr.sh_entsize), symtab = shdr.sh_type == SHT_SYMTAB }
        end
      end
      scn = libelf.elf_nextscn(elf, scn)
    end
    -- .symtab before .dynsym: its names are the fuller list
    table.sort(tables, function(a, b) return a.symtab and not b.symtab end)
    local by_offset = {} -- offset -> { name, size, global }
    for _, t in ipairs(tables) do
      local data = libelf.elf_getdata(t.scn, nil)
      for i = 0, data ~= nil and t.count - 1 or -1 do
        if libelf.gelf_getsym(data, i, sym) ~= nil then
          local kind, bind = bit.band(sym.st_info, 0xf), bit.rshift(sym.st_info, 4)
          -- (elf_nextscn starts at section 1, so shift[k] is section k's)
          if (kind == STT_FUNC or kind == STT_GNU_IFUNC) and sym.st_value ~= 0 and shift[sym.st_shndx] then
            local off = tonumber(sym.st_value) + shift[sym.st_shndx]
            local have = by_offset[off]
            local global = bind == STB_GLOBAL
            if not have or (global and not have.global) then
              local name_ptr = libelf.elf_strptr(elf, t.link, sym.st_name)
              if name_ptr ~= nil then
                by_offset[off] = { name = ffi.string(name_ptr), size = tonumber(sym.st_size),
                  global = global }
              end
            end
          end
        end
      end
    end
    local offsets = {}
    for off in pairs(by_offset) do offsets[#offsets + 1] = off end
    table.sort(offsets)
    local sizes, names = {}, {}
    for i, off in ipairs(offsets) do
      local entry = by_offset[off]
      sizes[i], names[i] = entry.size, entry.name
    end
    return setmetatable({ path = path, offsets = offsets, sizes = sizes, names = names }, symbols_mt)
  end)
end

local R_OK = 4

local function usable(path, library)
  return C.bpf_elf_access(path, library and R_OK or X_OK) == 0
end

local library_dirs = { '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib' }

-- A binary's path: names with a slash as they are, libraries ("*.so*") in
-- $LD_LIBRARY_PATH and the usual directories, programs in $PATH.
function M.find(name)
  if name:find('/', 1, true) then
    if not usable(name, true) then return nil, ('bpf.elf: no file %s'):format(name) end
    return name
  end
  local dirs, library = {}, name:find('%.so') ~= nil
  if library then
    for dir in (os.getenv('LD_LIBRARY_PATH') or ''):gmatch('[^:]+') do dirs[#dirs + 1] = dir end
    for _, dir in ipairs(library_dirs) do dirs[#dirs + 1] = dir end
  else
    for dir in (os.getenv('PATH') or '/usr/bin:/bin'):gmatch('[^:]+') do dirs[#dirs + 1] = dir end
  end
  for _, dir in ipairs(dirs) do
    local path = dir .. '/' .. name
    if usable(path, library) then return path end
  end
  return nil, ('bpf.elf: cannot find %s in %s'):format(name,
    library and 'the library directories' or '$PATH')
end

return M
