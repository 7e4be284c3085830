/*
** The helper table, made from helpers.def: the rows, their lookup by name,
** the program types their masks are made of, and the table as Lua sees it
** (core.helpers()).
*/
#include <stdio.h>
#include <string.h>
#include "core.h"
#include "isa.h"

/* Program types in the kernel's order (enum bpf_prog_type only ever grows);
** the names are libbpf's, as bpf.libbpf and prog:load(type) spell them. */
#define PROGTYPES(_)                                                                               \
	_(UNSPEC, unspec) _(SOCKET_FILTER, socket_filter) _(KPROBE, kprobe)                        \
	_(SCHED_CLS, sched_cls) _(SCHED_ACT, sched_act) _(TRACEPOINT, tracepoint) _(XDP, xdp)      \
	_(PERF_EVENT, perf_event) _(CGROUP_SKB, cgroup_skb) _(CGROUP_SOCK, cgroup_sock)            \
	_(LWT_IN, lwt_in) _(LWT_OUT, lwt_out) _(LWT_XMIT, lwt_xmit) _(SOCK_OPS, sock_ops)          \
	_(SK_SKB, sk_skb) _(CGROUP_DEVICE, cgroup_device) _(SK_MSG, sk_msg)                        \
	_(RAW_TRACEPOINT, raw_tracepoint) _(CGROUP_SOCK_ADDR, cgroup_sock_addr)                    \
	_(LWT_SEG6LOCAL, lwt_seg6local) _(LIRC_MODE2, lirc_mode2) _(SK_REUSEPORT, sk_reuseport)   \
	_(FLOW_DISSECTOR, flow_dissector) _(CGROUP_SYSCTL, cgroup_sysctl)                          \
	_(RAW_TRACEPOINT_WRITABLE, raw_tracepoint_writable) _(CGROUP_SOCKOPT, cgroup_sockopt)      \
	_(TRACING, tracing) _(STRUCT_OPS, struct_ops) _(EXT, ext) _(LSM, lsm)                      \
	_(SK_LOOKUP, sk_lookup) _(SYSCALL, syscall) _(NETFILTER, netfilter)

enum {
#define PTENUM(up, low) PTI_##up,
	PROGTYPES(PTENUM)
#undef PTENUM
	PTI__MAX
};
_Static_assert((int)PTI_SYSCALL == (int)BPF_PROG_TYPE_SYSCALL,
	       "program types follow <linux/bpf.h>");
_Static_assert(PTI__MAX <= 64, "a program type mask is 64 bits");

static const char *const progtype_names[] = {
#define PTNAME(up, low) #low,
	PROGTYPES(PTNAME)
#undef PTNAME
};

#define PT(t) (1ull << PTI_##t)
#define PT_ALL ((~0ull >> (64 - PTI__MAX)) & ~PT(UNSPEC))
#define ARGS(...) {__VA_ARGS__}

const struct helper helpers[H__MAX] = {
#define HELPER(name_, from_, func_, min_, max_, args_, result_, flags_, types_, lower_)            \
	[H_##name_] = {.name = #name_, .from = from_, .func = func_, .min = min_, .max = max_,     \
		       .args = args_, .result = result_, .flags = flags_, .types = types_,         \
		       .lower = lower_},
#include "helpers.def"
#undef HELPER
};

const struct helper *helper_find(const char *name)
{
	for (int i = 0; i < H__MAX; i++)
		if (!strcmp(helpers[i].name, name))
			return &helpers[i];
	return NULL;
}

/* How messages name it: the ffi functions as written (ffi.new), the others
** by their own name (xadd, band, log2). */
const char *helper_shown(const struct helper *h)
{
	return strncmp(h->from, "ffi.", 4) ? h->name : h->from;
}

const char *helper_func_name(const struct helper *h)
{
	return h->func ? bpfc_helper_name(h->func) : NULL;
}

/* uprobe, uretprobe and kretprobe programs are kprobe programs. */
static int progtype_find(const char *name)
{
	static const char *const kprobe_aliases[] = {"uprobe", "uretprobe", "kretprobe"};
	for (int t = 1; t < PTI__MAX; t++)
		if (!strcmp(progtype_names[t], name))
			return t;
	for (size_t i = 0; i < sizeof(kprobe_aliases) / sizeof(kprobe_aliases[0]); i++)
		if (!strcmp(kprobe_aliases[i], name))
			return PTI_KPROBE;
	return -1;
}

/* The names of the program types of a mask, "a, b and c", into buf. */
void progtype_list(uint64_t mask, char *buf, size_t size)
{
	int n = 0, count = __builtin_popcountll(mask);
	size_t o = 0;
	buf[0] = 0;
	for (int t = 1; t < PTI__MAX && o < size; t++)
		if ((mask >> t) & 1) {
			n++;
			o += (size_t)snprintf(buf + o, size - o, "%s%s", n == 1 ? "" : n == count ? " and " : ", ",
					      progtype_names[t]);
		}
}

/* The program type the compile is for (opts.type: a name or a number, read
** with the program's facts), or -1 when none was given; *name is how the
** caller spelt it. */
int helper_progtype(struct ctx *C, const char **name)
{
	const struct facts *F = &C->facts;
	int t = -1;
	if (F->type_kind == LUA_TSTRING) {
		*name = F->type_name;
		if ((t = progtype_find(*name)) < 0)
			bpfc_fail(C, "unknown program type '%s'", *name);
	} else if (F->type_kind == LUA_TNUMBER) {
		t = (int)F->type_num;
		if (t <= 0 || t >= PTI__MAX)
			bpfc_fail(C, "unknown program type %d", t);
		*name = progtype_names[t];
	} else if (F->type_kind != LUA_TNIL) {
		bpfc_fail(C, "the program type (opts.type) is a name like 'socket_filter'");
	}
	return t;
}

static const char *const arg_kinds[] = {
	[HA_NONE] = "none",	   [HA_NUM] = "number",	    [HA_CONST] = "constant",
	[HA_MAP] = "map",	   [HA_MAPVAL] = "map value", [HA_BUF] = "buffer",
	[HA_CTYPE] = "ctype",	   [HA_STR] = "string",	    [HA_NUMBUF] = "number or buffer",
	[HA_STRPTR] = "string or pointer", [HA_NUMPTR] = "number or pointer",
};
static const char *const result_kinds[] = {
	[HR_NONE] = "none",   [HR_NUM] = "number",	    [HR_MAPVAL] = "map value",
	[HR_BUF] = "buffer", [HR_NUMPTR] = "number or pointer",
};

static void set_string(lua_State *L, const char *key, const char *value)
{
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, int value)
{
	lua_pushinteger(L, value);
	lua_setfield(L, -2, key);
}

/* core.helpers(): the rows as a list of { name =, from =, func_id =, func =,
** min =, max =, args = {kind...}, result =, sometimes =, prog_types = {name...} }:
** args holds the kind of each of the max arguments. */
int helpers_lua(lua_State *L)
{
	lua_createtable(L, H__MAX, 0);
	for (int i = 0; i < H__MAX; i++) {
		const struct helper *h = &helpers[i];
		lua_createtable(L, 0, 11);
		set_string(L, "name", h->name);
		set_string(L, "from", h->from);
		set_int(L, "func_id", h->func);
		if (h->func)
			set_string(L, "func", bpfc_helper_name(h->func));
		set_int(L, "min", h->min);
		set_int(L, "max", h->max);
		lua_createtable(L, h->max, 0);
		for (int k = 0, last = 0; k < h->max; k++) {
			if (k < 4 && h->args[k] != HA_NONE)
				last = k;
			lua_pushstring(L, arg_kinds[h->args[last]]);
			lua_rawseti(L, -2, k + 1);
		}
		lua_setfield(L, -2, "args");
		set_string(L, "result", result_kinds[h->result]);
		lua_pushboolean(L, (h->flags & HF_SOMETIMES) != 0);
		lua_setfield(L, -2, "sometimes");
		lua_newtable(L);
		for (int t = 1, n = 0; t < PTI__MAX; t++) {
			if (h->types & 1ull << t) {
				lua_pushstring(L, progtype_names[t]);
				lua_rawseti(L, -2, ++n);
			}
		}
		lua_setfield(L, -2, "prog_types");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}
