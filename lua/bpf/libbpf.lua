-- libbpf through the LuaJIT FFI: the one place that declares the libbpf API
-- the runtime calls (as libbpf 1.1.2 ships it, see <bpf/bpf.h>), the loaded
-- library, the kernel enum names, and turning a negative errno into a
-- message that names the object.
--
--   local libbpf = require('bpf.libbpf')
--   libbpf.lib                      the ffi.load()ed library
--   libbpf.map_type.hash == 1       libbpf.map_type_name[1] == 'hash'
--   libbpf.prog_type.xdp == 6       libbpf.prog_type_name[6] == 'xdp'
--   libbpf.attach_type.xdp == 37    libbpf.attach_type_name[37] == 'xdp'
--   libbpf.error(what, ret)         -> nil, "what: <errno text> (errno N)"
--   libbpf.message(what, ret), libbpf.strerror(ret), libbpf.errno.ENOENT, ...
--   libbpf.update_flags.noexist, libbpf.map_flags.no_prealloc, libbpf.page_size
--   libbpf.own_fd(fd) / libbpf.close_fd(owner)   fds closed once, or on GC
-- Other modules that need more of libbpf should add its declarations here:
-- a second ffi.cdef of the same struct or enum fails.
local ffi = require('ffi')
require('bpf.insn') -- struct bpf_insn, used by bpf_prog_load

local M = {}

-- The kernel enums, in kernel order (a name's position is its value; the
-- kernel only ever appends).  Everything else below is generated from this
-- table: the C enum declarations and both lookup directions.
local enums = {
  { c_name = 'bpf_map_type', prefix = 'BPF_MAP_TYPE_', lua_name = 'map_type', names = [[
    unspec hash array prog_array perf_event_array percpu_hash percpu_array
    stack_trace cgroup_array lru_hash lru_percpu_hash lpm_trie array_of_maps
    hash_of_maps devmap sockmap cpumap xskmap sockhash cgroup_storage
    reuseport_sockarray percpu_cgroup_storage queue stack sk_storage
    devmap_hash struct_ops ringbuf inode_storage task_storage bloom_filter
    user_ringbuf cgrp_storage arena ]] },
  { c_name = 'bpf_prog_type', prefix = 'BPF_PROG_TYPE_', lua_name = 'prog_type', names = [[
    unspec socket_filter kprobe sched_cls sched_act tracepoint xdp perf_event
    cgroup_skb cgroup_sock lwt_in lwt_out lwt_xmit sock_ops sk_skb
    cgroup_device sk_msg raw_tracepoint cgroup_sock_addr lwt_seg6local
    lirc_mode2 sk_reuseport flow_dissector cgroup_sysctl
    raw_tracepoint_writable cgroup_sockopt tracing struct_ops ext lsm
    sk_lookup syscall netfilter ]] },
  { c_name = 'bpf_attach_type', prefix = 'BPF_', lua_name = 'attach_type', names = [[
    cgroup_inet_ingress cgroup_inet_egress cgroup_inet_sock_create
    cgroup_sock_ops sk_skb_stream_parser sk_skb_stream_verdict cgroup_device
    sk_msg_verdict cgroup_inet4_bind cgroup_inet6_bind cgroup_inet4_connect
    cgroup_inet6_connect cgroup_inet4_post_bind cgroup_inet6_post_bind
    cgroup_udp4_sendmsg cgroup_udp6_sendmsg lirc_mode2 flow_dissector
    cgroup_sysctl cgroup_udp4_recvmsg cgroup_udp6_recvmsg cgroup_getsockopt
    cgroup_setsockopt trace_raw_tp trace_fentry trace_fexit modify_return
    lsm_mac trace_iter cgroup_inet4_getpeername cgroup_inet6_getpeername
    cgroup_inet4_getsockname cgroup_inet6_getsockname xdp_devmap
    cgroup_inet_sock_release xdp_cpumap sk_lookup xdp sk_skb_verdict
    sk_reuseport_select sk_reuseport_select_or_migrate perf_event
    trace_kprobe_multi lsm_cgroup struct_ops netfilter tcx_ingress tcx_egress
    trace_uprobe_multi cgroup_unix_connect cgroup_unix_sendmsg
    cgroup_unix_recvmsg cgroup_unix_getpeername cgroup_unix_getsockname
    netkit_primary netkit_peer trace_kprobe_session trace_uprobe_session ]] },
}

local enum_decls = {}
for _, enum in ipairs(enums) do
  local by_name, by_value, constants = {}, {}, {}
  local value = 0
  for name in enum.names:gmatch('%S+') do
    by_name[name], by_value[value] = value, name
    constants[#constants + 1] = ('  %s%s = %d'):format(enum.prefix, name:upper(), value)
    value = value + 1
  end
  M[enum.lua_name], M[enum.lua_name .. '_name'] = by_name, by_value
  enum_decls[#enum_decls + 1] = ('enum %s {\n%s\n};'):format(enum.c_name, table.concat(constants, ',\n'))
end
ffi.cdef(table.concat(enum_decls, '\n'))

-- Flags of bpf_map_update_elem and of map creation (uapi <linux/bpf.h>).
M.update_flags = { any = 0, noexist = 1, exist = 2, lock = 4 }
M.map_flags = { no_prealloc = 1, no_common_lru = 2, numa_node = 4, rdonly = 8, wronly = 16,
  stack_build_id = 32, zero_seed = 64, rdonly_prog = 128, wronly_prog = 256, clone = 512,
  mmapable = 1024 }

-- The libbpf 1.1.2 declarations, field for field.  Every opts struct starts
-- with size_t sz, which the caller sets to ffi.sizeof of the struct.
ffi.cdef [[
struct bpf_map_create_opts {
  size_t sz;
  uint32_t btf_fd;
  uint32_t btf_key_type_id;
  uint32_t btf_value_type_id;
  uint32_t btf_vmlinux_value_type_id;
  uint32_t inner_map_fd;
  uint32_t map_flags;
  uint64_t map_extra;
  uint32_t numa_node;
  uint32_t map_ifindex;
};

struct bpf_prog_load_opts {
  size_t sz;
  int attempts;
  enum bpf_attach_type expected_attach_type;
  uint32_t prog_btf_fd;
  uint32_t prog_flags;
  uint32_t prog_ifindex;
  uint32_t kern_version;
  uint32_t attach_btf_id;
  uint32_t attach_prog_fd;
  uint32_t attach_btf_obj_fd;
  const int *fd_array;
  const void *func_info;
  uint32_t func_info_cnt;
  uint32_t func_info_rec_size;
  const void *line_info;
  uint32_t line_info_cnt;
  uint32_t line_info_rec_size;
  uint32_t log_level;
  uint32_t log_size;
  char *log_buf;
};

struct bpf_map_batch_opts {
  size_t sz;
  uint64_t elem_flags;
  uint64_t flags;
};

struct bpf_test_run_opts {
  size_t sz;
  const void *data_in;
  void *data_out;
  uint32_t data_size_in;
  uint32_t data_size_out;
  const void *ctx_in;
  void *ctx_out;
  uint32_t ctx_size_in;
  uint32_t ctx_size_out;
  uint32_t retval;
  int repeat;
  uint32_t duration;
  uint32_t flags;
  uint32_t cpu;
  uint32_t batch_size;
};

/* uapi <linux/bpf.h> as of 6.1; the kernel fills at most the length we pass. */
struct bpf_map_info {
  uint32_t type;
  uint32_t id;
  uint32_t key_size;
  uint32_t value_size;
  uint32_t max_entries;
  uint32_t map_flags;
  char name[16];
  uint32_t ifindex;
  uint32_t btf_vmlinux_value_type_id;
  uint64_t netns_dev;
  uint64_t netns_ino;
  uint32_t btf_id;
  uint32_t btf_key_type_id;
  uint32_t btf_value_type_id;
  uint32_t :32;
  uint64_t map_extra;
} __attribute__((aligned(8)));

int bpf_map_create(enum bpf_map_type map_type, const char *map_name, uint32_t key_size,
                   uint32_t value_size, uint32_t max_entries, const struct bpf_map_create_opts *opts);
int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags);
int bpf_map_lookup_elem(int fd, const void *key, void *value);
int bpf_map_delete_elem(int fd, const void *key);
int bpf_map_get_next_key(int fd, const void *key, void *next_key);
int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values,
                         uint32_t *count, const struct bpf_map_batch_opts *opts);
int bpf_map_update_batch(int fd, const void *keys, const void *values, uint32_t *count,
                         const struct bpf_map_batch_opts *opts);
int bpf_map_delete_batch(int fd, const void *keys, uint32_t *count,
                         const struct bpf_map_batch_opts *opts);
int bpf_obj_pin(int fd, const char *pathname);
int bpf_obj_get(const char *pathname);
int bpf_map_get_fd_by_id(uint32_t id);
int bpf_link__pin(struct bpf_link *link, const char *path);
int bpf_obj_get_info_by_fd(int bpf_fd, void *info, uint32_t *info_len);
int bpf_prog_load(enum bpf_prog_type prog_type, const char *prog_name, const char *license,
                  const struct bpf_insn *insns, size_t insn_cnt, const struct bpf_prog_load_opts *opts);
int bpf_prog_test_run_opts(int prog_fd, struct bpf_test_run_opts *opts);
int libbpf_num_possible_cpus(void);
int libbpf_strerror(int err, char *buf, size_t size);
const char *libbpf_bpf_map_type_str(enum bpf_map_type t);
const char *libbpf_bpf_prog_type_str(enum bpf_prog_type t);
const char *libbpf_bpf_attach_type_str(enum bpf_attach_type t);

/* Objects (libbpf.h): opened from memory, maps reusing existing fds,
   loaded whole.  The print callback is a plain pointer: it is only ever
   swapped (to silence libbpf), never called from Lua. */
struct bpf_object;
struct bpf_program;
struct bpf_map;
struct bpf_object_open_opts {
  size_t sz;
  const char *object_name;
  bool relaxed_maps;
  const char *pin_root_path;
  uint32_t :32;
  const char *kconfig;
  const char *btf_custom_path;
  char *kernel_log_buf;
  size_t kernel_log_size;
  uint32_t kernel_log_level;
};
typedef void *libbpf_print_fn_t;
libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn);
struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz,
                                        const struct bpf_object_open_opts *opts);
int bpf_object__load(struct bpf_object *obj);
void bpf_object__close(struct bpf_object *obj);
int bpf_object__btf_fd(const struct bpf_object *obj);
struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name);
int bpf_map__reuse_fd(struct bpf_map *map, int fd);
int bpf_map__fd(const struct bpf_map *map);
const char *bpf_map__name(const struct bpf_map *map);
struct bpf_program *bpf_object__next_program(const struct bpf_object *obj, struct bpf_program *prog);
struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name);
int bpf_program__fd(const struct bpf_program *prog);
const char *bpf_program__name(const struct bpf_program *prog);
int bpf_program__set_type(struct bpf_program *prog, enum bpf_prog_type type);
int bpf_program__set_expected_attach_type(struct bpf_program *prog, enum bpf_attach_type type);

/* libc, under private names so that another module's declaration of
   close() cannot clash with ours. */
int bpf_libc_close(int fd) __asm__("close");
int bpf_libc_getpagesize(void) __asm__("getpagesize");

/* Owns one kernel fd; ffi.gc closes it when the owner is collected. */
struct bpf_fd_owner { int fd; };
]]

-- Attaching programs and reading their event streams (libbpf 1.1.2
-- <bpf/bpf.h> and <bpf/libbpf.h>), with the perf uapi structs those calls
-- take or hand back (<linux/perf_event.h> as Linux 6.1 has it).
ffi.cdef [[
struct bpf_link_create_opts {
  size_t sz;
  uint32_t flags;
  void *iter_info;
  uint32_t iter_info_len;
  uint32_t target_btf_id;
  union {
    struct { uint64_t bpf_cookie; } perf_event;
    struct { uint32_t flags; uint32_t cnt; const char **syms; const unsigned long *addrs;
             const uint64_t *cookies; } kprobe_multi;
    struct { uint64_t cookie; } tracing;
  };
};
int bpf_link_create(int prog_fd, int target_fd, enum bpf_attach_type attach_type,
                    const struct bpf_link_create_opts *opts);
int bpf_link_detach(int link_fd);
int bpf_raw_tracepoint_open(const char *name, int prog_fd);

struct bpf_xdp_attach_opts {
  size_t sz;
  int old_prog_fd;
};
int bpf_xdp_attach(int ifindex, int prog_fd, uint32_t flags, const struct bpf_xdp_attach_opts *opts);
int bpf_xdp_detach(int ifindex, uint32_t flags, const struct bpf_xdp_attach_opts *opts);
struct bpf_tc_hook { size_t sz; int ifindex; int attach_point; uint32_t parent; };
struct bpf_tc_opts {
  size_t sz; int prog_fd; uint32_t flags; uint32_t prog_id; uint32_t handle; uint32_t priority;
};
int bpf_tc_hook_create(struct bpf_tc_hook *hook);
int bpf_tc_hook_destroy(struct bpf_tc_hook *hook);
int bpf_tc_attach(const struct bpf_tc_hook *hook, struct bpf_tc_opts *opts);
int bpf_tc_detach(const struct bpf_tc_hook *hook, const struct bpf_tc_opts *opts);
int bpf_xdp_query_id(int ifindex, int flags, uint32_t *prog_id);

/* The flag bits (disabled, inherit, ... sigtrap) are one 64-bit word here:
   LuaJIT's FFI has no 64-bit bitfields. */
struct perf_event_attr {
  uint32_t type;
  uint32_t size;
  uint64_t config;
  union { uint64_t sample_period; uint64_t sample_freq; };
  uint64_t sample_type;
  uint64_t read_format;
  uint64_t flags;
  union { uint32_t wakeup_events; uint32_t wakeup_watermark; };
  uint32_t bp_type;
  union { uint64_t bp_addr; uint64_t kprobe_func; uint64_t uprobe_path; uint64_t config1; };
  union { uint64_t bp_len; uint64_t kprobe_addr; uint64_t probe_offset; uint64_t config2; };
  uint64_t branch_sample_type;
  uint64_t sample_regs_user;
  uint32_t sample_stack_user;
  int32_t clockid;
  uint64_t sample_regs_intr;
  uint32_t aux_watermark;
  uint16_t sample_max_stack;
  uint16_t __reserved_2;
  uint32_t aux_sample_size;
  uint32_t __reserved_3;
  uint64_t sig_data;
};
struct perf_event_header {
  uint32_t type;
  uint16_t misc;
  uint16_t size;
};
struct perf_event_mmap_page {
  uint32_t version;
  uint32_t compat_version;
  uint32_t lock;
  uint32_t index;
  int64_t offset;
  uint64_t time_enabled;
  uint64_t time_running;
  uint64_t capabilities;
  uint16_t pmc_width;
  uint16_t time_shift;
  uint32_t time_mult;
  uint64_t time_offset;
  uint64_t time_zero;
  uint32_t size;
  uint32_t __reserved_1;
  uint64_t time_cycles;
  uint64_t time_mask;
  uint8_t __reserved[928];
  uint64_t data_head;
  uint64_t data_tail;
  uint64_t data_offset;
  uint64_t data_size;
  uint64_t aux_head;
  uint64_t aux_tail;
  uint64_t aux_offset;
  uint64_t aux_size;
};

struct perf_buffer;
typedef void (*perf_buffer_sample_fn)(void *ctx, int cpu, void *data, uint32_t size);
typedef void (*perf_buffer_lost_fn)(void *ctx, int cpu, uint64_t cnt);
typedef int (*perf_buffer_event_fn)(void *ctx, int cpu, struct perf_event_header *event);
struct perf_buffer_opts {
  size_t sz;
};
/* Two fields were dropped from the middle in libbpf 1.0 (long :0 in C):
   cpu_cnt follows sz directly. */
struct perf_buffer_raw_opts {
  size_t sz;
  int cpu_cnt;
  int *cpus;
  int *map_keys;
};
struct perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt, perf_buffer_sample_fn sample_cb,
                                     perf_buffer_lost_fn lost_cb, void *ctx,
                                     const struct perf_buffer_opts *opts);
struct perf_buffer *perf_buffer__new_raw(int map_fd, size_t page_cnt, struct perf_event_attr *attr,
                                         perf_buffer_event_fn event_cb, void *ctx,
                                         const struct perf_buffer_raw_opts *opts);
void perf_buffer__free(struct perf_buffer *pb);
int perf_buffer__epoll_fd(const struct perf_buffer *pb);
int perf_buffer__poll(struct perf_buffer *pb, int timeout_ms);
int perf_buffer__consume(struct perf_buffer *pb);
int perf_buffer__consume_buffer(struct perf_buffer *pb, size_t buf_idx);
size_t perf_buffer__buffer_cnt(const struct perf_buffer *pb);
int perf_buffer__buffer_fd(const struct perf_buffer *pb, size_t buf_idx);
int perf_buffer__buffer(struct perf_buffer *pb, int buf_idx, void **buf, size_t *buf_size);

struct ring_buffer;
typedef int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size);
struct ring_buffer_opts {
  size_t sz;
};
struct ring_buffer *ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx,
                                     const struct ring_buffer_opts *opts);
void ring_buffer__free(struct ring_buffer *rb);
int ring_buffer__add(struct ring_buffer *rb, int map_fd, ring_buffer_sample_fn sample_cb, void *ctx);
int ring_buffer__poll(struct ring_buffer *rb, int timeout_ms);
int ring_buffer__consume(struct ring_buffer *rb);
int ring_buffer__epoll_fd(const struct ring_buffer *rb);

struct bpf_link;
struct bpf_uprobe_opts {
  size_t sz;
  size_t ref_ctr_offset;
  uint64_t bpf_cookie;
  bool retprobe;
  const char *func_name;
};
struct bpf_link *bpf_program__attach_uprobe_opts(const struct bpf_program *prog, int pid,
                                                 const char *binary_path, size_t func_offset,
                                                 const struct bpf_uprobe_opts *opts);
int bpf_link__fd(const struct bpf_link *link);
int bpf_link__destroy(struct bpf_link *link);

/* The other attach functions of a loaded program; each returns a link, or
   NULL with errno set.  (bpf_kprobe_opts ends in size_t :0 in C, which
   pads it to 32 bytes as this declaration is.) */
struct bpf_kprobe_opts {
  size_t sz;
  uint64_t bpf_cookie;
  size_t offset;
  bool retprobe;
};
struct bpf_link *bpf_program__attach_kprobe_opts(const struct bpf_program *prog,
                                                 const char *func_name,
                                                 const struct bpf_kprobe_opts *opts);
struct bpf_link *bpf_program__attach_tracepoint(const struct bpf_program *prog,
                                                const char *tp_category, const char *tp_name);
struct bpf_link *bpf_program__attach_raw_tracepoint(const struct bpf_program *prog,
                                                    const char *tp_name);
struct bpf_link *bpf_program__attach_xdp(const struct bpf_program *prog, int ifindex);
]]

-- A shared library by its link name (libNAME.so, which comes with the -dev
-- package) or else its soname (what a machine without the -dev package has).
function M.load_library(what, name, soname)
  local ok, lib = pcall(ffi.load, name)
  if ok then return lib end
  local ok_so, lib_so = pcall(ffi.load, soname)
  if ok_so then return lib_so end
  error(('%s: cannot load lib%s (tried "%s" and "%s"): %s')
    :format(what, name, name, soname, tostring(lib_so)), 3)
end

M.lib = M.load_library('bpf', 'bpf', 'libbpf.so.1')
local lib = M.lib

M.page_size = ffi.C.bpf_libc_getpagesize()

M.errno = { EPERM = 1, ENOENT = 2, EBADF = 9, EAGAIN = 11, EFAULT = 14, EINVAL = 22,
  ENFILE = 23, EMFILE = 24, ENOSPC = 28, E2BIG = 7, EACCES = 13, ENOTSUPP = 524 }

-- Kernel-internal errnos that reach user space but that libc has no text for.
local kernel_only_errors = { [524] = 'Operation not supported by this object (ENOTSUPP)' }

local message_buf = ffi.new('char[256]')

-- err: an errno, negative (as libbpf returns it) or positive.
function M.strerror(err)
  err = math.abs(tonumber(err))
  if kernel_only_errors[err] then return kernel_only_errors[err] end
  lib.libbpf_strerror(err, message_buf, ffi.sizeof(message_buf))
  return ffi.string(message_buf)
end

-- "what: <text> (errno N)", what naming the object and the operation.
function M.message(what, err)
  return ('%s: %s (errno %d)'):format(what, M.strerror(err), math.abs(tonumber(err)))
end

-- nil, message: the failure convention of every runtime call.
function M.error(what, err)
  return nil, M.message(what, err)
end

-- True when the process ran out of fds: closing garbage may fix it.
function M.out_of_fds(ret)
  return ret == -M.errno.EMFILE or ret == -M.errno.ENFILE
end

local function close_owned(owner)
  local fd = owner.fd
  if fd >= 0 then
    owner.fd = -1
    ffi.C.bpf_libc_close(fd)
  end
end

local fd_owner_t = ffi.typeof('struct bpf_fd_owner')

-- A small cdata that closes fd when collected; keep it alive as long as fd.
function M.own_fd(fd)
  return ffi.gc(fd_owner_t(fd), close_owned)
end

-- Closes the owned fd now; safe to call again.
function M.close_fd(owner)
  close_owned(owner)
  ffi.gc(owner, nil)
end

return M
