package = 'luajit-bpf'
version = 'scm-1'
source = { url = 'git+file://.' }
description = {
  summary = 'Write eBPF programs as Lua functions: a LuaJIT module with a compiler core in C',
  license = 'Apache-2.0',
}
dependencies = { 'lua == 5.1' }
external_dependencies = { LIBBPF = { header = 'bpf/libbpf.h', library = 'bpf' } }
-- The Makefile is the one list of what makes the module: it builds every
-- csrc/*.c against LuaJIT's headers (pkg-config luajit) and its install-rock
-- target copies the core and every lua/bpf/*.lua into luarocks' tree.
build = {
  type = 'make',
  build_target = 'all',
  build_variables = { CFLAGS = '$(CFLAGS)' },
  install_target = 'install-rock',
  install_variables = { LUADIR = '$(LUADIR)', LIBDIR = '$(LIBDIR)' },
  -- the command line (its work is lua/bpf/cli.lua): luarocks wraps it for its tree
  install = { bin = { ['bpf-lua'] = 'bin/bpf-lua' } },
}
