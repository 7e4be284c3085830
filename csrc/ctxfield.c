/*
** The kernel's program contexts (struct __sk_buff, bpf_sock, bpf_sock_addr):
** the fields a program may write, for which program and attach types, and
** those the kernel keeps in network byte order, which programs read and
** write in host order (index.c asks, and compiles the swap in).
*/
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "core.h"

/* The kernel's contexts, each with the fields a program may write (the
** kernel's *_is_valid_access for writes: the program types that may and,
** where the kernel asks the attach type too, the attach types among them)
** and those it keeps in network byte order, which programs read and write
** in host order as they read packets: the swap is compiled in. */
#define PT(t) (1ull << BPF_PROG_TYPE_##t)
#define AT(t) (1ull << BPF_##t)
#define SKB_TC (PT(SCHED_CLS) | PT(SCHED_ACT))
#define SKB_CB (SKB_TC | PT(SOCKET_FILTER) | PT(CGROUP_SKB) | PT(LWT_IN) | PT(LWT_OUT) | PT(LWT_XMIT) | \
		PT(SK_SKB))
#define SKB_MARK (SKB_TC | PT(CGROUP_SKB) | PT(LWT_XMIT))
#define SOCK_SET (AT(CGROUP_INET_SOCK_CREATE) | AT(CGROUP_INET_SOCK_RELEASE))
#define ADDR_IP4 (AT(CGROUP_INET4_BIND) | AT(CGROUP_INET4_CONNECT) | AT(CGROUP_UDP4_SENDMSG) | \
		  AT(CGROUP_UDP4_RECVMSG) | AT(CGROUP_INET4_GETPEERNAME) | AT(CGROUP_INET4_GETSOCKNAME))
#define ADDR_IP6 (AT(CGROUP_INET6_BIND) | AT(CGROUP_INET6_CONNECT) | AT(CGROUP_UDP6_SENDMSG) | \
		  AT(CGROUP_UDP6_RECVMSG) | AT(CGROUP_INET6_GETPEERNAME) | AT(CGROUP_INET6_GETSOCKNAME))
struct ctx_field {
	const char *name;
	int off, size;	 /* bytes: an array of 4-byte words when more than 4 */
	int wire;	 /* network order: the bytes of each word that hold it (0: host order) */
	uint64_t types;	 /* the program types that may write it (0: none) */
	uint64_t attach; /* the attach types among them that may (0: every one) */
};
#define F(s, name, size, wire, types, attach) {#name, offsetof(struct s, name), size, wire, types, attach}
static const struct ctx_field skb_fields[] = {
	F(__sk_buff, mark, 4, 0, SKB_MARK, 0),
	F(__sk_buff, priority, 4, 0, SKB_MARK, 0),
	F(__sk_buff, tc_index, 4, 0, SKB_TC, 0),
	F(__sk_buff, tc_classid, 4, 0, SKB_TC, 0),
	F(__sk_buff, queue_mapping, 4, 0, SKB_TC, 0),
	F(__sk_buff, cb, 4 * 5, 0, SKB_CB, 0),
};
static const struct ctx_field sock_fields[] = {
	F(bpf_sock, bound_dev_if, 4, 0, PT(CGROUP_SOCK), SOCK_SET),
	F(bpf_sock, mark, 4, 0, PT(CGROUP_SOCK), SOCK_SET),
	F(bpf_sock, priority, 4, 0, PT(CGROUP_SOCK), SOCK_SET),
	F(bpf_sock, src_ip4, 4, 4, 0, 0),
	F(bpf_sock, src_ip6, 16, 4, 0, 0),
	F(bpf_sock, dst_port, 2, 2, 0, 0),
	F(bpf_sock, dst_ip4, 4, 4, 0, 0),
	F(bpf_sock, dst_ip6, 16, 4, 0, 0),
};
static const struct ctx_field sock_addr_fields[] = {
	F(bpf_sock_addr, user_ip4, 4, 4, PT(CGROUP_SOCK_ADDR), ADDR_IP4),
	F(bpf_sock_addr, user_ip6, 16, 4, PT(CGROUP_SOCK_ADDR), ADDR_IP6),
	F(bpf_sock_addr, user_port, 4, 2, PT(CGROUP_SOCK_ADDR), 0), /* a be16 in a u32 */
	F(bpf_sock_addr, msg_src_ip4, 4, 4, PT(CGROUP_SOCK_ADDR), AT(CGROUP_UDP4_SENDMSG)),
	F(bpf_sock_addr, msg_src_ip6, 16, 4, PT(CGROUP_SOCK_ADDR), AT(CGROUP_UDP6_SENDMSG)),
};
#undef F
#define FIELDS(a) a, sizeof(a) / sizeof(a[0])
static const struct ctx_layout {
	const char *ctype; /* the context's C name, as the facts give it */
	const char *shown; /* how messages name it: skb.mark */
	uint64_t types;	   /* the program types whose context it is */
	const struct ctx_field *fields;
	size_t n;
} ctx_layouts[] = {
	{"struct __sk_buff", "skb", SKB_CB | SKB_MARK, FIELDS(skb_fields)},
	{"struct bpf_sock", "sock", PT(CGROUP_SOCK), FIELDS(sock_fields)},
	{"struct bpf_sock_addr", "sock_addr", PT(CGROUP_SOCK_ADDR), FIELDS(sock_addr_fields)},
};
/* Attach types as bpf.cgroup names them (libbpf's section names say the same). */
static const struct {
	int type;
	const char *name;
} attach_names[] = {
	{BPF_CGROUP_INET_SOCK_CREATE, "sock_create"}, {BPF_CGROUP_INET_SOCK_RELEASE, "sock_release"},
	{BPF_CGROUP_INET4_BIND, "bind4"},	      {BPF_CGROUP_INET6_BIND, "bind6"},
	{BPF_CGROUP_INET4_CONNECT, "connect4"},	      {BPF_CGROUP_INET6_CONNECT, "connect6"},
	{BPF_CGROUP_UDP4_SENDMSG, "sendmsg4"},	      {BPF_CGROUP_UDP6_SENDMSG, "sendmsg6"},
	{BPF_CGROUP_UDP4_RECVMSG, "recvmsg4"},	      {BPF_CGROUP_UDP6_RECVMSG, "recvmsg6"},
	{BPF_CGROUP_INET4_GETPEERNAME, "getpeername4"}, {BPF_CGROUP_INET6_GETPEERNAME, "getpeername6"},
	{BPF_CGROUP_INET4_GETSOCKNAME, "getsockname4"}, {BPF_CGROUP_INET6_GETSOCKNAME, "getsockname6"},
};
_Static_assert(BPF_CGROUP_INET_SOCK_RELEASE < 64, "an attach type mask is 64 bits");

static const char *attach_name(int type)
{
	for (size_t i = 0; i < sizeof(attach_names) / sizeof(attach_names[0]); i++)
		if (attach_names[i].type == type)
			return attach_names[i].name;
	return NULL;
}

/* The names of a mask's attach types, "a, b or c", into buf. */
static void attach_list(uint64_t mask, char *buf, size_t size)
{
	int n = 0, count = __builtin_popcountll(mask);
	size_t o = 0;
	buf[0] = 0;
	for (int t = 0; t < 64 && o < size; t++)
		if ((mask >> t) & 1) {
			n++;
			o += (size_t)snprintf(buf + o, size - o, "%s%s", n == 1 ? "" : n == count ? " or " : ", ",
					      attach_name(t));
		}
}

/* The program's context among the kernel's, by its ctype's name; NULL for another. */
static const struct ctx_layout *ctx_layout(struct ctx *C)
{
	const char *name = C->facts.ctx_name;
	for (size_t i = 0; name && i < sizeof(ctx_layouts) / sizeof(ctx_layouts[0]); i++)
		if (!strcmp(ctx_layouts[i].ctype, name))
			return &ctx_layouts[i];
	return NULL;
}

/* The field of the context that [off, off + size) is one whole word of, or NULL. */
static const struct ctx_field *ctx_word(const struct ctx_layout *l, int off, int size)
{
	for (size_t i = 0; l && i < l->n; i++) {
		const struct ctx_field *w = &l->fields[i];
		int word = w->size > 4 ? 4 : w->size;
		if (off >= w->off && off < w->off + w->size)
			return size == word && (off - w->off) % word == 0 ? w : NULL;
	}
	return NULL;
}

/* How many bytes of the context word [off, off + size) are in network
** order: 0 when it is in host order (or part of no field the kernel's says). */
int ctx_wire(struct ctx *C, int off, int size)
{
	const struct ctx_field *w = ctx_word(ctx_layout(C), off, size);
	return w ? w->wire : 0;
}

/* ctx.field = v: a store into the context, where the program type (and its
** attach type) may write that field, checked at compile time naming who may. */
void ctx_store(struct ctx *C, int base, const struct cfield *fp, int src)
{
	struct var *b = v_src(C, base);
	struct cfield f = *fp;
	int off = f.off + (int)b->num;
	const char *tname = NULL;
	int type = helper_progtype(C, &tname);
	const struct ctx_layout *l = ctx_layout(C);
	if (!l || (type >= 0 && !(l->types >> type & 1))) {
		const char *given = l ? l->ctype : C->facts.ctx_name ? C->facts.ctx_name : "this one";
		for (size_t i = 0; type >= 0 && i < sizeof(ctx_layouts) / sizeof(ctx_layouts[0]); i++)
			if (ctx_layouts[i].types >> type & 1) /* compiled with another's context */
				bpfc_fail(C, "a %s program's context is %s, not %s", tname, ctx_layouts[i].ctype,
					  given);
		if (type >= 0)
			bpfc_fail(C, "the context of a %s program cannot be written", tname);
		bpfc_fail(C, "this context cannot be written");
	}
	const struct ctx_field *w = f.isagg || f.bpos >= 0 ? NULL : ctx_word(l, off, f.size);
	if (!w || !w->types) {
		char names[320];
		size_t o = 0, n = 0, count = 0;
		for (size_t i = 0; i < l->n; i++)
			count += l->fields[i].types != 0;
		for (size_t i = 0; i < l->n && o < sizeof(names); i++)
			if (l->fields[i].types) {
				n++;
				o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s.%s%s",
						      n == 1 ? "" : n == count ? " and " : ", ", l->shown,
						      l->fields[i].name, l->fields[i].size > 4 ? "[i]" : "");
			}
		bpfc_fail(C, "this context field cannot be written (a program may write %s, as its type allows)",
			  names);
	}
	const char *sub = w->size > 4 ? "[i]" : "";
	if (type >= 0 && !(w->types >> type & 1)) {
		char types[256];
		progtype_list(w->types, types, sizeof(types));
		bpfc_fail(C, "a %s program cannot write %s.%s%s: %s programs may", tname, l->shown, w->name, sub,
			  types);
	}
	int at = C->facts.attach;
	if (w->attach && at >= 0 && (at >= 64 || !(w->attach >> at & 1))) {
		char kinds[256];
		attach_list(w->attach, kinds, sizeof(kinds));
		const char *aname = attach_name(at);
		char num[32];
		if (!aname) {
			snprintf(num, sizeof(num), "attach type %d", at);
			aname = num;
		}
		bpfc_fail(C, "a %s%sprogram for %s cannot write %s.%s%s: one for %s may", tname ? tname : "",
			  tname ? " " : "", aname, l->shown, w->name, sub, kinds);
	}
	struct var *s = v_src(C, src);
	if (s->kind != VK_NUM && s->kind != VK_RT)
		bpfc_fail(C, "%s.%s takes a number", l->shown, w->name);
	if (s->kind == VK_RT && s->ptr != PK_SCALAR)
		bpfc_fail(C, "%s.%s takes a number, not a pointer", l->shown, w->name);
	C->ctx_writes = true;
	/* from a register: BPF_ST into the context is refused by older kernels */
	int rs;
	if (w->wire && s->kind == VK_NUM) { /* a constant is swapped here */
		if (s->num < 0 || s->num >> (w->wire * 8))
			bpfc_fail(C, "%s.%s takes a number from 0 to %s", l->shown, w->name,
				  w->wire == 2 ? "65535" : "0xffffffff");
		uint32_t v = w->wire == 2 ? htons((uint16_t)s->num) : htonl((uint32_t)s->num);
		rs = r_scratch(C);
		emit(C, BPF_ALU | BPF_MOV | BPF_K, rs, 0, 0, (int32_t)v);
	} else if (w->wire) { /* host to network order, in a copy (the value lives on) */
		rs = r_scratch(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rs, v_reg(C, src), 0, 0);
		emit(C, BPF_ALU | BPF_END | BPF_TO_BE, rs, 0, 0, w->wire * 8);
	} else {
		rs = v_reg(C, src);
	}
	emit(C, BPF_STX | BPF_MEM | BPF_W, v_reg(C, base), rs, (int16_t)off, 0);
}

