package = 'luajit-bpf'
version = 'scm-1'
source = { url = 'git+file://.' }
description = {
  summary = 'Write eBPF programs as Lua functions: a LuaJIT module with a compiler core in C',
  license = 'Apache-2.0',
}
dependencies = { 'lua == 5.1' }
external_dependencies = { LIBBPF = { header = 'bpf/libbpf.h', library = 'bpf' } }
-- spec/rockspec_spec.lua checks that every csrc/*.c and lua/bpf/*.lua is listed here
build = {
  type = 'builtin',
  modules = {
    ['bpf.core'] = {
      sources = { 'csrc/asm.c', 'csrc/bcread.c', 'csrc/bpfloop.c', 'csrc/call.c', 'csrc/constants.c', 'csrc/cse.c', 'csrc/dce.c', 'csrc/disasm.c', 'csrc/emit.c',
        'csrc/encode.c', 'csrc/facts.c', 'csrc/fold.c', 'csrc/helpers.c', 'csrc/index.c', 'csrc/inline.c',
        'csrc/ir.c', 'csrc/isa.c', 'csrc/lower_arith.c', 'csrc/luaval.c', 'csrc/mem.c',
        'csrc/module.c', 'csrc/obj.c', 'csrc/packet.c', 'csrc/passes.c', 'csrc/regalloc.c', 'csrc/stack.c', 'csrc/translate.c',
        'csrc/var.c' },
      libraries = { 'bpf', 'elf', 'z' },
      defines = { '_GNU_SOURCE' },
    },
    ['bpf.attach'] = 'lua/bpf/attach.lua',
    ['bpf.builtins'] = 'lua/bpf/builtins.lua',
    ['bpf.ctype'] = 'lua/bpf/ctype.lua',
    ['bpf.disasm'] = 'lua/bpf/disasm.lua',
    ['bpf.elf'] = 'lua/bpf/elf.lua',
    ['bpf.facts'] = 'lua/bpf/facts.lua',
    ['bpf.ffi_core'] = 'lua/bpf/ffi_core.lua',
    ['bpf'] = 'lua/bpf/init.lua',
    ['bpf.insn'] = 'lua/bpf/insn.lua',
    ['bpf.ksym'] = 'lua/bpf/ksym.lua',
    ['bpf.libbpf'] = 'lua/bpf/libbpf.lua',
    ['bpf.loader'] = 'lua/bpf/loader.lua',
    ['bpf.map'] = 'lua/bpf/map.lua',
    ['bpf.object'] = 'lua/bpf/object.lua',
    ['bpf.proto'] = 'lua/bpf/proto.lua',
    ['bpf.reader'] = 'lua/bpf/reader.lua',
    ['bpf.tracepoint'] = 'lua/bpf/tracepoint.lua',
  },
}
