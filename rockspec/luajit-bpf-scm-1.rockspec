package = 'luajit-bpf'
version = 'scm-1'
source = { url = 'git+file://.' }
description = {
  summary = 'Write eBPF programs as Lua functions: a LuaJIT module with a compiler core in C',
  license = 'Apache-2.0',
}
dependencies = { 'lua == 5.1' }
external_dependencies = { LIBBPF = { header = 'bpf/libbpf.h', library = 'bpf' } }
build = {
  type = 'builtin',
  modules = {
    ['bpf.core'] = {
      sources = { 'csrc/bcread.c', 'csrc/call.c', 'csrc/emit.c', 'csrc/index.c', 'csrc/luaval.c',
        'csrc/mem.c', 'csrc/module.c', 'csrc/peephole.c', 'csrc/translate.c', 'csrc/var.c',
        'csrc/isa.c', 'csrc/disasm.c', 'csrc/asm.c' },
      libraries = { 'bpf', 'elf', 'z' },
      defines = { '_GNU_SOURCE' },
    },
    ['bpf'] = 'lua/bpf/init.lua',
    ['bpf.builtins'] = 'lua/bpf/builtins.lua',
    ['bpf.ctype'] = 'lua/bpf/ctype.lua',
    ['bpf.disasm'] = 'lua/bpf/disasm.lua',
    ['bpf.ffi_core'] = 'lua/bpf/ffi_core.lua',
    ['bpf.insn'] = 'lua/bpf/insn.lua',
    ['bpf.libbpf'] = 'lua/bpf/libbpf.lua',
    ['bpf.loader'] = 'lua/bpf/loader.lua',
    ['bpf.map'] = 'lua/bpf/map.lua',
    ['bpf.proto'] = 'lua/bpf/proto.lua',
  },
}
