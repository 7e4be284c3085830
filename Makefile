# luajit-bpf: build the C core as a LuaJIT native module, test it against the
# running kernel, run the demo and the benchmarks.  `make demo` and `make test`
# install the Debian packages they need first (see tools/deps.sh).

LUAJIT   ?= luajit
CC       ?= cc
BUILD    := build
CORE     := $(BUILD)/bpf/core.so
LJ_CFLAGS := $(shell pkg-config --cflags luajit 2>/dev/null || echo -I/usr/include/luajit-2.1)
CFLAGS   ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC -fvisibility=hidden $(LJ_CFLAGS)
LDFLAGS  += -shared
LDLIBS   += -lbpf -lelf -lz

SRCS := $(wildcard csrc/*.c)
OBJS := $(SRCS:csrc/%.c=$(BUILD)/obj/%.o)
HDRS := $(wildcard csrc/*.h csrc/*.def)

export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/?.lua;;
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;

.PHONY: all deps test test-kernel demo bench lint clean install install-rock asan mutants check golden fuzz

all: $(CORE)

$(BUILD)/obj/%.o: csrc/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(CORE): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

# The same core built with AddressSanitizer and UBSan, for the test run.
ASAN_CORE := $(BUILD)/asan/bpf/core.so
asan: $(ASAN_CORE)
$(ASAN_CORE): $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(CFLAGS)) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined $(LDFLAGS) -o $@ $(SRCS) $(LDLIBS)

deps:
	@sh tools/deps.sh

lint:
	luacheck -q lua spec examples bench bin/bpf-lua

test: deps all asan
	@sh tools/run-tests.sh

# The kernel specs and the examples on Debian 12's 6.1 kernel, booted under
# qemu (tools/vm/): ends with "kernel 6.1: N passed, N failed".  make test
# runs it after the host suite.
test-kernel: deps all
	@sh tools/vm/run.sh

# What needs neither the kernel nor root (and writes nothing into the tree):
# lint, the compiler data files (spec/data/compile) and the ISA data files.
# The specs' kernel runs are left out here; `make test` runs them.
BUSTED := $(LUAJIT) -e 'require("busted.runner")({ standalone = false })' $(shell command -v busted)
check: $(CORE)
	luacheck -q lua spec examples bench tools bin/bpf-lua
	$(BUSTED) $(BUSTED_OPTS) --filter-out='against the kernel' --filter-out='in the kernel' \
		spec/compile_data_spec.lua spec/asm_spec.lua spec/disasm_spec.lua spec/fuzz_spec.lua \
		spec/rockspec_spec.lua spec/facts_spec.lua

# Rewrite the expected listings of spec/data/compile from the current compiler.
golden: $(CORE)
	$(LUAJIT) tools/golden.lua

demo: deps all
	$(LUAJIT) examples/sock-proto.lua

mutants: deps all
	@sh tools/mutants.sh

bench: deps all
	$(LUAJIT) bench/run.lua

# The differential fuzzer (tools/fuzz): random programs, kernel against oracle.
N    ?= 1000
SEED ?= 1
fuzz: all
	$(LUAJIT) tools/fuzz/main.lua --n=$(N) --seed=$(SEED)

install: all
	luarocks make rockspec/luajit-bpf-scm-1.rockspec

# luarocks' install pass (the rockspec): the core and the Lua modules into
# its tree, LIBDIR and LUADIR being the tree's lib/lua/5.1 and share/lua/5.1.
install-rock: $(CORE)
	@test -n "$(LIBDIR)" -a -n "$(LUADIR)" || { echo "install-rock: LIBDIR and LUADIR are luarocks' to set" >&2; exit 1; }
	mkdir -p $(LIBDIR)/bpf $(LUADIR)/bpf
	cp $(CORE) $(LIBDIR)/bpf/core.so
	cp lua/bpf/*.lua $(LUADIR)/bpf/

clean:
	rm -rf $(BUILD)
