/*
** Calls: helpers the program may use (xadd, time, comm, print, ...), slices
** of dissectors, and Lua functions folded at compile time.
*/
#include <string.h>
#include "core.h"

static int arg(struct ctx *C, int a, int i)
{
	return a + 1 + C->fr2 + i;
}

static void need(struct ctx *C, const char *name, int nargs, int lo, int hi)
{
	if (nargs < lo || nargs > hi)
		bpfc_fail(C, "%s() takes %d to %d arguments, got %d", name, lo, hi, nargs);
}

/* Result of a helper call: R0 becomes slot a's value. */
static void result_r0(struct ctx *C, int a, int width, int flags)
{
	v_def(C, a);
	v_rt(C, a, 0, PK_SCALAR, width, flags);
}

/* A helper call's arguments need no room made for them: variables live in
** virtual registers, and regalloc keeps what a call clobbers out of r0-r5. */
static void call_prepare(struct ctx *C)
{
	(void)C;
}

/* Load the given slots into R1.. (each variable stays where it is). */
static void load_args(struct ctx *C, const int *slots, int n)
{
	for (int i = 0; i < n; i++) {
		struct var *v = v_src(C, slots[i]);
		if (v->reg == NOREG && v->kind != VK_NUM && v->kind != VK_STACK && v->kind != VK_NIL)
			bpfc_fail(C, "argument %d cannot be passed to a helper", i + 1);
		v_load_arg(C, slots[i], 1 + i);
	}
}

static void helper(struct ctx *C, const struct helper *h)
{
	emit_call(C, h->func, (int)(h - helpers));
}

/* The register that keeps the context, for a helper that takes it. */
static int ctx_reg(struct ctx *C)
{
	if (!C->ctx_pinned) /* a subprogram's: made to be inlined instead (bpfc_fail) */
		bpfc_fail(C, "this helper needs the program's context");
	return C->ctx_reg;
}

static bool is_map(struct ctx *C, int slot)
{
	struct var *v = v_src(C, slot);
	return v->kind == VK_LUA && fact_map(C, v->ref);
}

/* ---- the helpers, by name ---- */

void bi_noarg(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	call_prepare(C);
	helper(C, h);
	result_r0(C, a, 8, 0);
}

/* A helper of numbers (redirect(ifindex[, flags]); with the context,
** adjust_head(n), skb_adjust_room(len_diff, mode[, flags])): in r1.. (after
** the context in r1 when ctx), 0 for the ones left out. */
static void numargs(struct ctx *C, int a, int nargs, const struct helper *h, bool ctx)
{
	int first = ctx ? 2 : 1;
	call_prepare(C);
	if (ctx)
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 1, ctx_reg(C), 0, 0);
	for (int i = 0; i < h->max; i++) {
		if (i < nargs) {
			int s = arg(C, a, i);
			check_scalar(C, s, h->name);
			v_load_arg(C, s, first + i);
		} else {
			emit(C, BPF_ALU64 | BPF_MOV | BPF_K, first + i, 0, 0, 0);
		}
	}
	helper(C, h);
	result_r0(C, a, 8, 0);
}

void bi_numargs(struct ctx *C, int a, int nargs, const struct helper *h)
{
	numargs(C, a, nargs, h, false);
}

void bi_ctx_numargs(struct ctx *C, int a, int nargs, const struct helper *h)
{
	numargs(C, a, nargs, h, true);
}

/* tail_call(prog_array, index): runs the program in that slot in place of
** this one (with the same context); returns only when the slot is empty. */
void bi_tail_call(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	int m = arg(C, a, 0), i = arg(C, a, 1);
	if (!is_map(C, m))
		bpfc_fail(C, "tail_call(map, index) needs a prog_array map first");
	check_scalar(C, i, "tail_call");
	int mapref = v_src(C, m)->ref;
	call_prepare(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 1, ctx_reg(C), 0, 0);
	emit_map_fd(C, 2, mapref);
	v_load_arg(C, i, 3);
	helper(C, h);
	v_def(C, a); /* (it gives nothing back: the verifier holds r0 unset after it) */
	C->v[a].kind = VK_NIL;
}

/* redirect_map(map, key[, flags]): XDP's redirect through a devmap,
** cpumap or xskmap slot; the low two bits of flags are what it returns
** when the slot is empty (XDP_ABORTED, 0, by default). */
void bi_redirect_map(struct ctx *C, int a, int nargs, const struct helper *h)
{
	int m = arg(C, a, 0), k = arg(C, a, 1);
	if (!is_map(C, m))
		bpfc_fail(C, "redirect_map(map, key[, flags]) needs a devmap, cpumap or xskmap first");
	check_scalar(C, k, "redirect_map");
	if (nargs == 3)
		check_scalar(C, arg(C, a, 2), "redirect_map");
	int mapref = v_src(C, m)->ref;
	call_prepare(C);
	emit_map_fd(C, 1, mapref);
	v_load_arg(C, k, 2);
	if (nargs == 3)
		v_load_arg(C, arg(C, a, 2), 3);
	else
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0);
	helper(C, h);
	result_r0(C, a, 8, 0);
}

/* Where ffi.copy and comm write: a stack object (fp - off) or memory a
** register points to (a map value, a ring buffer record or a member of one),
** size bytes; skip is the label of a NULL check's jump over the write (-1 none). */
struct dest {
	int base, off, size, skip;
};

static struct dest dest_of(struct ctx *C, int slot, const char *who)
{
	struct var *d = v_src(C, slot);
	struct dest o = {.skip = -1};
	if (d->kind == VK_STACK && !(d->flags & VF_SLICE)) {
		o.base = BPF_REG_10;
		o.off = (int)-d->num;
	} else if (d->kind == VK_RT && d->ptr == PK_MAPVAL && !(d->flags & VF_SLICE)) {
		o.skip = null_guard(C, slot); /* nothing is written when the lookup missed */
		o.base = v_reg(C, slot);
		o.off = 0;
	} else {
		bpfc_fail(C, "%s writes into a buffer made with ffi.new, a map value or a ring buffer "
			     "record (or an array member of one)", who);
	}
	o.size = d->ref ? fact_sizeof(C, d->ref) : -1;
	if (o.size <= 0)
		bpfc_fail(C, "%s into memory of unknown size (give it a C type with a size)", who);
	return o;
}

static void dest_end(struct ctx *C, const struct dest *o)
{
	if (o->skip >= 0)
		emit_label(C, o->skip);
}

/* r = the address of [o->base + o->off] (a helper's argument). */
static void dest_addr(struct ctx *C, int r, const struct dest *o)
{
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, o->base, 0, 0);
	if (o->off)
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, r, 0, 0, o->off);
}

/* n zero bytes at the destination, 8 at a time where the address allows:
** the verifier refuses a stack store its width does not align (the base,
** the stack's frame or a map value, is 8-aligned). */
static void dest_zero(struct ctx *C, const struct dest *o, int n)
{
	for (int i = 0; i < n;) {
		int w = 8, at = o->off + i;
		while (w > 1 && (n - i < w || at % w))
			w /= 2;
		uint8_t sz = w == 8 ? BPF_DW : w == 4 ? BPF_W : w == 2 ? BPF_H : BPF_B;
		emit(C, BPF_ST | BPF_MEM | sz, o->base, 0, (int16_t)(o->off + i), 0);
		i += w;
	}
}

/* comm(buf): the task's name into a char array of a stack buffer, a map
** value or a ring buffer record (bpf_get_current_comm: NUL-terminated,
** zeros after it). */
void bi_comm(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	int buf = arg(C, a, 0);
	struct var *b = v_src(C, buf);
	if (b->kind != VK_STACK && !(b->kind == VK_RT && b->ptr == PK_MAPVAL))
		bpfc_fail(C, "comm(buf) needs a buffer from ffi.new('char[16]'), or a char array of a "
			     "map value or a ring buffer record");
	if (b->kind == VK_STACK && !b->ref) { /* (as it always did) */
		call_prepare(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 1, BPF_REG_10, 0, 0);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, (int32_t)-b->num);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 16);
		helper(C, h);
		result_r0(C, a, 8, 0);
		return;
	}
	if (b->kind == VK_RT && (b->flags & VF_NULL))
		bpfc_fail(C, "comm(v): check the map value for nil first (if v then comm(v) end)");
	struct dest o = dest_of(C, buf, "comm()");
	call_prepare(C);
	dest_addr(C, 1, &o);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, o.size);
	helper(C, h);
	result_r0(C, a, 8, 0);
}

void bi_print(struct ctx *C, int a, int nargs, const struct helper *h)
{
	struct var *f = v_src(C, arg(C, a, 0));
	const char *s;
	size_t len;
	if (f->kind != VK_LUA || !k_isstring(C, f->ref, &s, &len))
		bpfc_fail(C, "print() needs a constant format string first");
	int off = stack_alloc(C, (int)len + 1);
	for (size_t i = 0; i < len + 1; i += 4) {
		uint32_t w = 0;
		for (size_t k = 0; k < 4 && i + k < len; k++)
			w |= (uint32_t)(uint8_t)s[i + k] << (8 * k);
		emit(C, BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, (int16_t)(-off + (int)i), (int32_t)w);
	}
	int slots[5] = {0};
	int nv = nargs - 1;
	for (int i = 0; i < nv; i++)
		slots[2 + i] = arg(C, a, 1 + i);
	call_prepare(C);
	for (int i = 0; i < nv; i++) { /* numbers, and buffers for %s */
		struct var *v = v_src(C, slots[2 + i]);
		if (v->reg == NOREG && v->kind != VK_NUM && v->kind != VK_STACK)
			bpfc_fail(C, "print() argument %d is not a number or a buffer", i + 2);
		v_load_arg(C, slots[2 + i], 3 + i);
	}
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 1, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -off);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, (int32_t)len + 1);
	helper(C, h);
	result_r0(C, a, 8, 0);
}

/* ntoh(x[, width]) and hton: swap the bytes of x's width: the width given,
** or that of the field x was read from, or 4 (as builtins.ntoh does in Lua). */
void bi_swap(struct ctx *C, int a, int nargs, const struct helper *h)
{
	const char *name = h->name;
	int x = as_number(C, arg(C, a, 0), C->tmp + 6);
	struct var *v = v_src(C, x);
	int width = v->kind == VK_RT && v->width ? v->width : 4;
	if (nargs == 2) {
		struct var *w = v_src(C, arg(C, a, 1));
		if (w->kind != VK_NUM || (w->num != 2 && w->num != 4 && w->num != 8))
			bpfc_fail(C, "%s(x, width): the width is 2, 4 or 8, known at compile time", name);
		width = (int)w->num;
	}
	if (width == 1) { /* one byte reads the same in either order */
		v_copy(C, a, x);
		return;
	}
	if (v->kind == VK_NUM) {
		v_const(C, a, fold_bswap(v->num, width));
		return;
	}
	check_scalar(C, x, name);
	int rd = alu_dst(C, a, x);
	emit(C, BPF_ALU | BPF_END | BPF_TO_BE, rd, 0, 0, width * 8);
	C->v[a].width = (uint8_t)width;
	C->v[a].flags = width < 8 ? VF_NONNEG : 0;
	C->v[a].ptr = PK_SCALAR;
}

void bi_new(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)h;
	struct var *t = v_src(C, arg(C, a, 0));
	if (t->kind != VK_LUA)
		bpfc_fail(C, "ffi.new() needs a C type (a string or ctype) known at compile time");
	int64_t len = 0;
	if (nargs == 2) {
		struct var *n = v_src(C, arg(C, a, 1));
		if (n->kind != VK_NUM)
			bpfc_fail(C, "ffi.new() of a variable-length array needs a constant length");
		len = n->num;
	}
	int ct = fact_typeof(C, t->ref, nargs == 2, len, "ffi.new()");
	int size = fact_sizeof(C, ct);
	if (size <= 0)
		bpfc_fail(C, "ffi.new() of a type with no size");
	int off = stack_alloc(C, size);
	C->nobjects++;
	/* the verifier wants stack memory written before a helper reads it */
	for (int i = 0; i < size; i += 8) {
		int w = size - i >= 8 ? 8 : size - i >= 4 ? 4 : size - i >= 2 ? 2 : 1;
		uint8_t sz = w == 8 ? BPF_DW : w == 4 ? BPF_W : w == 2 ? BPF_H : BPF_B;
		emit(C, BPF_ST | BPF_MEM | sz, BPF_REG_10, 0, (int16_t)(-off + i), 0);
		if (w < 8)
			i -= 8 - w;
	}
	v_def(C, a);
	C->v[a].kind = VK_STACK;
	C->v[a].num = off;
	C->v[a].ref = ct;
}

/* The memory a pointer cast from v points into: a pointer's own, an
** address's (computed from a pointer, or said by bpf.user/bpf.kernel), else
** the program's default: user memory in uprobes (opts.memory = 'user'),
** kernel memory in the others. */
static int cast_space(struct ctx *C, const struct var *v)
{
	if (v->kind == VK_RT && v->ptr == PK_PROBE)
		return v->flags & VF_USER ? VF_USER : VF_KERNEL;
	if (v->kind == VK_RT && (v->flags & VF_SPACE))
		return v->flags & VF_SPACE;
	C->default_space = true;
	return C->facts.user_memory ? VF_USER : VF_KERNEL;
}

/* Slot a = x's value in a register of a's own (a constant loaded), as a
** run-time value that bi_space and bi_cast then say what it points to. */
static void to_register(struct ctx *C, int a, int x)
{
	struct var *v = v_src(C, x);
	if (v->kind == VK_NUM) {
		v_const(C, a, v->num);
		v_reg(C, a);
	} else {
		alu_dst(C, a, x);
	}
	C->v[a].kind = VK_RT;
}

/* bpf.user(p), bpf.kernel(p): p (a pointer, or a number cast to one later)
** points into user memory, or kernel memory; outside a program they give p. */
void bi_space(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	int x = arg(C, a, 0);
	int space = !strcmp(h->name, "user") ? VF_USER : VF_KERNEL;
	struct var *v = v_src(C, x);
	if (!(v->kind == VK_NUM || (v->kind == VK_RT && (v->ptr == PK_PROBE || v->ptr == PK_SCALAR))) ||
	    (v->flags & (VF_BOOL | VF_MIXED | VF_DATALOC)))
		bpfc_fail(C, "bpf.%s() takes a pointer (ffi.cast) or a number that is an address", h->name);
	bool ptr = v->kind == VK_RT && v->ptr == PK_PROBE;
	to_register(C, a, x);
	C->v[a].flags = (uint16_t)((C->v[a].flags & ~(VF_SPACE | VF_NULL)) |
				   (ptr ? space & VF_USER : space));
}

void bi_cast(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs, (void)h;
	struct var *t = v_src(C, arg(C, a, 0));
	int x = arg(C, a, 1);
	if (t->kind != VK_LUA)
		bpfc_fail(C, "ffi.cast() needs a C type known at compile time");
	int ct = fact_typeof(C, t->ref, false, 0, "ffi.cast()");
	int esize;
	int pointee = fact_elem(C, ct, &esize);
	int size;
	bool sg;
	struct var *v = v_src(C, x);
	if (pointee && v->kind == VK_RT && v->ptr == PK_PKTPTR) {
		/* a packet pointer (skb.data + n) stays one: its 2 or 4 bytes are
		** read at once, directly, in host order like every packet read */
		alu_dst(C, a, x);
		C->v[a].ref = pointee;
		return;
	}
	if (pointee) { /* a pointer to read through probe_read */
		int space = cast_space(C, v);
		to_register(C, a, x);
		C->v[a].ptr = PK_PROBE;
		C->v[a].ref = pointee;
		C->v[a].flags = (uint16_t)(space & VF_USER);
		return;
	}
	if (!fact_scalar(C, ct, &size, &sg))
		bpfc_fail(C, "ffi.cast() to a type that is neither a number nor a pointer");
	int tflags = sg ? 0 : size == 8 ? VF_U64 : VF_NONNEG;
	if (v->kind == VK_NUM) {
		uint64_t n = (uint64_t)v->num;
		if (size < 8) {
			n &= (1ull << (size * 8)) - 1;
			if (sg && (n >> (size * 8 - 1)) & 1)
				n |= ~((1ull << (size * 8)) - 1);
		}
		v_numconst(C, a, (int64_t)n, tflags);
		return;
	}
	check_scalar(C, x, "ffi.cast()");
	int rd = alu_dst(C, a, x);
	if (size == 4 && !sg)
		emit(C, BPF_ALU | BPF_MOV | BPF_X, rd, rd, 0, 0);
	else if (size < 8) {
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rd, 0, 0, 64 - size * 8);
		emit(C, BPF_ALU64 | (sg ? BPF_ARSH : BPF_RSH) | BPF_K, rd, 0, 0, 64 - size * 8);
	}
	C->v[a].ptr = PK_SCALAR;
	C->v[a].width = (uint8_t)size;
	C->v[a].flags = (uint16_t)tflags;
}

/* dst = x op y for one of LuaJIT's bit operations on 64-bit values: the
** result is uint64 when an operand is (for shifts: when x is), shift
** counts are taken modulo 64. */
static void bitop2(struct ctx *C, int dst, int x, int y, enum arop op)
{
	static const uint8_t alu[] = {[AR_BAND] = BPF_AND, [AR_BOR] = BPF_OR, [AR_BXOR] = BPF_XOR,
				      [AR_SHL] = BPF_LSH, [AR_SHR] = BPF_RSH, [AR_SAR] = BPF_ARSH};
	bool shift = op == AR_SHL || op == AR_SHR || op == AR_SAR;
	x = as_number(C, x, C->tmp + 6);
	y = as_number(C, y, C->tmp + 7);
	struct var *vx = v_src(C, x), *vy = v_src(C, y);
	int flags = (vx->flags | (shift ? 0 : vy->flags)) & VF_U64;
	if (vx->kind == VK_NUM && vy->kind == VK_NUM) {
		int64_t r;
		fold_arith(op, flags != 0, vx->num, vy->num, &r);
		v_numconst(C, dst, r, flags);
		return;
	}
	if (vx->kind == VK_NUM && !shift) { /* commutative: the constant second */
		int t = x;
		x = y;
		y = t;
		vx = v_src(C, x);
		vy = v_src(C, y);
	}
	check_scalar(C, x, "a bit operation");
	check_scalar(C, y, "a bit operation");
	int bx = vx->bits, by = vy->bits; /* 0 <= x < 2^bx (0: unknown) */
	int64_t k = vy->kind == VK_NUM ? (shift ? vy->num & 63 : vy->num) : 0;
	bool imm = vy->kind == VK_NUM && fits_imm(k);
	/* x & 0xffffffff: the low half zero-extended, one instruction and no mask register */
	bool low32 = op == AR_BAND && vy->kind == VK_NUM && k == 0xffffffffll;
	int ry = -1;
	if (!imm && !low32) {
		ry = v_reg(C, y);
	}
	int rd = alu_dst(C, dst, x);
	if (low32)
		emit(C, BPF_ALU | BPF_MOV | BPF_X, rd, rd, 0, 0);
	else if (ry == rd || (shift && !imm)) { /* the count modulo 64, in a register of its own */
		int t = r_scratch(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, ry, 0, 0);
		if (shift)
			emit(C, BPF_ALU64 | BPF_AND | BPF_K, t, 0, 0, 63);
		ry = t;
	}
	if (imm)
		emit(C, BPF_ALU64 | alu[op] | BPF_K, rd, 0, 0, (int32_t)k);
	else if (!low32)
		emit(C, BPF_ALU64 | alu[op] | BPF_X, rd, ry, 0, 0);
	C->v[dst].ptr = PK_SCALAR;
	C->v[dst].width = 0;
	C->v[dst].flags = (uint16_t)flags;
	C->v[dst].bits = (uint8_t)(op == AR_BAND ? (bx && (!by || bx < by) ? bx : by)
			 : op == AR_SHR && imm && bx ? (bx > k ? bx - k : 1)
			 : op == AR_SHL && imm && bx && bx + k <= 62 ? bx + k : 0);
	if (C->v[dst].bits)
		C->v[dst].flags |= VF_NONNEG;
}

void bi_bitop(struct ctx *C, int a, int nargs, const struct helper *h)
{
	static const struct {
		const char *name;
		enum arop op;
	} ops[] = {{"band", AR_BAND},	{"bor", AR_BOR},       {"bxor", AR_BXOR},
		   {"lshift", AR_SHL}, {"rshift", AR_SHR}, {"arshift", AR_SAR}};
	size_t i = 0;
	while (strcmp(h->name, ops[i].name))
		i++;
	bitop2(C, a, arg(C, a, 0), arg(C, a, 1), ops[i].op);
	for (int k = 2; k < nargs; k++)
		bitop2(C, a, a, arg(C, a, k), ops[i].op);
}

/* bit.tobit: the low 32 bits, sign-extended. */
void bi_tobit(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs, (void)h;
	int x = as_number(C, arg(C, a, 0), C->tmp + 6);
	struct var *v = v_src(C, x);
	if (v->kind == VK_NUM) {
		int64_t r;
		fold_arith(AR_TOBIT, false, v->num, 0, &r);
		v_const(C, a, r);
		return;
	}
	check_scalar(C, x, "bit.tobit");
	int rd = alu_dst(C, a, x);
	emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rd, 0, 0, 32);
	emit(C, BPF_ALU64 | BPF_ARSH | BPF_K, rd, 0, 0, 32);
	C->v[a].ptr = PK_SCALAR;
	C->v[a].width = 0;
	C->v[a].flags = 0;
}

void bi_bnot(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs, (void)h;
	int x = as_number(C, arg(C, a, 0), C->tmp + 6);
	int flags = v_src(C, x)->flags & VF_U64;
	if (v_src(C, x)->kind == VK_NUM) {
		v_numconst(C, a, ~v_src(C, x)->num, flags);
		return;
	}
	check_scalar(C, x, "bit.bnot");
	emit(C, BPF_ALU64 | BPF_XOR | BPF_K, alu_dst(C, a, x), 0, 0, -1);
	C->v[a].ptr = PK_SCALAR;
	C->v[a].flags = (uint16_t)flags;
}

/* floor(log2(x)) by halving steps (x unsigned, log2(0) = 0); log and log10
** scale it (integer result). */
void bi_log(struct ctx *C, int a, int nargs, const struct helper *h)
{
	const char *name = h->name;
	(void)nargs;
	int x = arg(C, a, 0);
	struct var *v = v_src(C, x);
	if (v->kind == VK_NUM) { /* fold with Lua's own math */
		double ln = fact_log(C, (double)v->num);
		double r = !strcmp(name, "log2") ? ln / 0.6931471805599453
			   : !strcmp(name, "log10") ? ln / 2.302585092994046 : ln;
		v_const(C, a, (int64_t)r);
		return;
	}
	/* Branchless, so that the verifier walks one path, not one per outcome
	** of six tests: each step s takes b = (x >= 2^s) as 0 or 1 from a sign
	** bit, then x >>= b * s and r += b * s.  (2^s - 1) - x is negative
	** exactly when x >= 2^s as long as x < 2^63; for an x that may be larger
	** (taken unsigned) the first step uses the sign of -(x >> 32) instead.
	** A step at or above the range x is known to lie in is left out. */
	int bits = v->kind == VK_RT && v->ptr == PK_SCALAR && !(v->flags & VF_U64) ? v->bits : 0;
	int rx = alu_dst(C, a, x); /* x is consumed into the result register */
	int rr = r_scratch(C);
	bool first = true;
	for (int k = 5; k >= 0; k--) {
		int s = 1 << k, rt = r_scratch(C);
		if (bits && s >= bits)
			continue; /* x < 2^bits <= 2^s */
		if (k == 5 && !bits) {
			emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rt, rx, 0, 0);
			emit(C, BPF_ALU64 | BPF_RSH | BPF_K, rt, 0, 0, 32);
			emit(C, BPF_ALU64 | BPF_NEG, rt, 0, 0, 0);
		} else {
			emit_mov_imm(C, rt, ((int64_t)1 << s) - 1);
			emit(C, BPF_ALU64 | BPF_SUB | BPF_X, rt, rx, 0, 0);
		}
		emit(C, BPF_ALU64 | BPF_RSH | BPF_K, rt, 0, 0, 63);
		if (k) {
			emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rt, 0, 0, k);
			emit(C, BPF_ALU64 | BPF_RSH | BPF_X, rx, rt, 0, 0);
		}
		emit(C, BPF_ALU64 | (first ? BPF_MOV : BPF_ADD) | BPF_X, rr, rt, 0, 0);
		first = false;
	}
	if (first) /* x < 2: log2 is 0 */
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, rr, 0, 0, 0);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rx, rr, 0, 0);
	if (!strcmp(name, "log10")) { /* log10(x) ~ log2(x) * 1233 / 4096 */
		emit(C, BPF_ALU64 | BPF_MUL | BPF_K, rx, 0, 0, 1233);
		emit(C, BPF_ALU64 | BPF_RSH | BPF_K, rx, 0, 0, 12);
	} else if (!strcmp(name, "log")) { /* ln(x) ~ log2(x) * 2839 / 4096 */
		emit(C, BPF_ALU64 | BPF_MUL | BPF_K, rx, 0, 0, 2839);
		emit(C, BPF_ALU64 | BPF_RSH | BPF_K, rx, 0, 0, 12);
	}
	C->v[a].ptr = PK_SCALAR;
	C->v[a].flags = 0;
}

void bi_perf_submit(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	int m = arg(C, a, 0), d = arg(C, a, 1);
	if (!is_map(C, m))
		bpfc_fail(C, "perf_submit(map, data) needs a perf_event_array map first");
	struct var *dv = v_src(C, d);
	if (dv->kind != VK_STACK)
		bpfc_fail(C, "perf_submit() sends a struct made with ffi.new");
	int size = fact_sizeof(C, dv->ref);
	int mapref = v_src(C, m)->ref;
	int doff = (int)dv->num;
	call_prepare(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 1, ctx_reg(C), 0, 0);
	emit_map_fd(C, 2, mapref);
	emit_ld64(C, 3, 0xffffffffll); /* BPF_F_CURRENT_CPU */
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 4, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, -doff);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 5, 0, 0, size);
	helper(C, h);
	result_r0(C, a, 8, 0);
}

/* stack_id(map[, which][, flags]): which is 'kernel' (the default) or 'user'
 * (BPF_F_USER_STACK: the stack of the user code the thread was in), flags a
 * constant of more BPF_F_* bits (BPF_F_FAST_STACK_CMP, ...). */
void bi_stack_id(struct ctx *C, int a, int nargs, const struct helper *h)
{
	int m = arg(C, a, 0);
	if (!is_map(C, m))
		bpfc_fail(C, "stack_id(map[, 'user' | 'kernel'][, flags]) needs a stack_trace map");
	int64_t flags = 0;
	for (int i = 1; i < nargs; i++) {
		struct var *f = v_src(C, arg(C, a, i));
		const char *s;
		size_t len;
		if (i == 1 && f->kind == VK_LUA && k_isstring(C, f->ref, &s, &len)) {
			if (len == 4 && !memcmp(s, "user", 4))
				flags |= 1 << 8; /* BPF_F_USER_STACK */
			else if (!(len == 6 && !memcmp(s, "kernel", 6)))
				bpfc_fail(C, "stack_id(map, which): which stack is 'user' or 'kernel', "
					     "not '%.*s'", (int)(len > 32 ? 32 : len), s);
		} else if (f->kind != VK_NUM) {
			bpfc_fail(C, "stack_id() flags must be a constant");
		} else {
			flags |= f->num;
		}
	}
	int mapref = v_src(C, m)->ref;
	call_prepare(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 1, ctx_reg(C), 0, 0);
	emit_map_fd(C, 2, mapref);
	emit_mov_imm(C, 3, flags);
	helper(C, h);
	result_r0(C, a, 8, 0);
}

void bi_load_bytes(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	int off = arg(C, a, 0), buf = arg(C, a, 1);
	struct var *b = v_src(C, buf);
	if (b->kind != VK_STACK)
		bpfc_fail(C, "load_bytes(off, buf) needs a buffer made with ffi.new");
	int size = fact_sizeof(C, b->ref);
	int boff = (int)b->num;
	int slots[2] = {off, off};
	call_prepare(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 1, ctx_reg(C), 0, 0);
	load_args(C, slots, 0);
	{
		struct var *v = v_src(C, off);
		if (v->reg != NOREG || v->kind == VK_NUM || v->kind == VK_PKT)
			v_load_arg(C, off, 2);
	}
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 3, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -boff);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, size);
	helper(C, h);
	result_r0(C, a, 8, 0);
}

/* The helper that reads ffi.copy's source, and the address it reads at in
** r3: a pointer read through probe_read (user or kernel memory, as where it
** came from says), an array member of a tracepoint's record (the context,
** kernel memory), or a record's __data_loc field (its string in the record:
** lenreg gets its length then, else -1). */
static int copy_source(struct ctx *C, int src, bool str, int *lenreg)
{
	struct var *sv = v_src(C, src);
	*lenreg = -1;
	if (sv->kind == VK_RT && sv->ptr == PK_PROBE) {
		int func = probe_func(sv, str);
		int rs = v_reg(C, src);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 3, rs, 0, 0);
		return func;
	}
	bool record = C->facts.ctx_memory && C->ctx_pinned;
	if (sv->kind == VK_RT && sv->ptr == PK_CTX && sv->ref && fact_elem(C, sv->ref, &(int){0})) {
		if (!record)
			bpfc_fail(C, "ffi.copy() from an array of the context reads a tracepoint's record "
				     "only (this context is not memory the program may read through a helper)");
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 3, C->ctx_reg, 0, 0);
		if (sv->num)
			emit(C, BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, (int32_t)sv->num);
		return str ? BPF_FUNC_probe_read_kernel_str : BPF_FUNC_probe_read_kernel;
	}
	if (sv->kind == VK_RT && sv->ptr == PK_SCALAR && (sv->flags & VF_DATALOC)) {
		if (!record)
			bpfc_fail(C, "internal: a __data_loc field outside a tracepoint's record");
		int rx = v_reg(C, src);
		int t = r_scratch(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, rx, 0, 0);
		emit(C, BPF_ALU64 | BPF_AND | BPF_K, t, 0, 0, 0xffff);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 3, C->ctx_reg, 0, 0);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_X, 3, t, 0, 0);
		int l = r_scratch(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, l, rx, 0, 0);
		emit(C, BPF_ALU64 | BPF_RSH | BPF_K, l, 0, 0, 16);
		*lenreg = l;
		return str ? BPF_FUNC_probe_read_kernel_str : BPF_FUNC_probe_read_kernel;
	}
	bpfc_fail(C, "ffi.copy() reads through a pointer (ffi.cast, a pointer field such as a "
		     "syscall's `const char *filename`), from an array of a tracepoint's record "
		     "(arg.comm) or a record's __data_loc string (arg.filename), or stores a constant "
		     "string");
}

/* ffi.copy(dst, src[, len]) into a stack buffer, a map value or a ring
** buffer record: a constant string is stored (with its NUL when it fits);
** ffi.copy(dst, p) from memory reads a NUL-terminated string with
** probe_read_user_str or probe_read_kernel_str, dst zeroed first, so that it
** holds the string (cut to #dst - 1 bytes and a NUL), then zeros to its end
** (all zeros when the memory cannot be read); ffi.copy(dst, p, n) reads
** exactly n bytes with probe_read_user or probe_read_kernel (n zeros when
** they cannot be read), the rest of dst left as it was. */
void bi_copy(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)h;
	struct var *d = v_src(C, arg(C, a, 0));
	int src = arg(C, a, 1);
	struct var *sv = v_src(C, src);
	const char *str;
	size_t slen;
	if (d->kind == VK_PKT || (d->kind == VK_RT && d->ptr == PK_PKTOFF)) { /* into the packet */
		if (!(sv->kind == VK_LUA && k_isstring(C, sv->ref, &str, &slen)) || nargs > 2)
			bpfc_fail(C, "ffi.copy() into the packet takes a constant string, its bytes "
				     "written without a NUL (ffi.copy(udp.data, 'abcd'))");
		pk_copy(C, arg(C, a, 0), a, str, (int)slen);
		v_def(C, a);
		C->v[a].kind = VK_NIL;
		return;
	}
	int len = -1;
	if (nargs == 3) {
		struct var *n = v_src(C, arg(C, a, 2));
		if (n->kind != VK_NUM)
			bpfc_fail(C, "ffi.copy() needs a constant length");
		if (n->num <= 0 || n->num > STACK_SIZE)
			bpfc_fail(C, "ffi.copy() of %lld bytes", (long long)n->num);
		len = (int)n->num;
	}
	bool isstr = sv->kind == VK_LUA && k_isstring(C, sv->ref, &str, &slen);
	if (!isstr && (sv->flags & VF_SLICE))
		bpfc_fail(C, "ffi.copy() from ffi.string(): copy from the memory itself");
	if (!isstr) /* (a source it cannot read is refused before anything is emitted) */
		if (!(sv->kind == VK_RT && (sv->ptr == PK_PROBE || sv->ptr == PK_CTX ||
					    (sv->ptr == PK_SCALAR && (sv->flags & VF_DATALOC)))))
			copy_source(C, src, false, &(int){0});
	struct dest o = dest_of(C, arg(C, a, 0), "ffi.copy()");
	if (isstr) {
		if (len < 0)
			len = (int)slen + 1 < o.size ? (int)slen + 1 : o.size;
		if (len > o.size)
			bpfc_fail(C, "ffi.copy() of %d bytes into a %d-byte buffer", len, o.size);
		for (int i = 0; i < len; i++)
			emit(C, BPF_ST | BPF_MEM | BPF_B, o.base, 0, (int16_t)(o.off + i),
			     i < (int)slen ? (uint8_t)str[i] : 0);
	} else {
		if (len > o.size)
			bpfc_fail(C, "ffi.copy() of %d bytes into a %d-byte buffer", len, o.size);
		struct var *s2 = v_src(C, src);
		if (len > 0 && s2->kind == VK_RT && s2->ptr == PK_CTX) {
			int ssize = s2->ref ? fact_sizeof(C, s2->ref) : -1;
			if (ssize > 0 && len > ssize)
				bpfc_fail(C, "ffi.copy() of %d bytes from a %d-byte array of the record", len, ssize);
		}
		bool strcopy = len < 0;
		if (strcopy)
			dest_zero(C, &o, o.size);
		int lenreg;
		int func = copy_source(C, src, strcopy, &lenreg);
		if (lenreg >= 0 && strcopy) { /* a __data_loc string: its length, at most the buffer's */
			int fits = label_new(C);
			emit_jmp(C, BPF_JMP | BPF_JLE | BPF_K, lenreg, 0, o.size, fits);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_K, lenreg, 0, 0, o.size);
			emit_label(C, fits);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 2, lenreg, 0, 0);
		} else {
			emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, strcopy ? o.size : len);
		}
		dest_addr(C, 1, &o);
		emit_call(C, func, (int)(h - helpers));
	}
	dest_end(C, &o);
	v_def(C, a);
	C->v[a].kind = VK_NIL;
}

/* ffi.string(mem[, n]) compared with a string constant right away:
** ffi.string(arg.comm, 2) == 'ba' tests whether the first n bytes are the
** string's (a prefix test; false for a string of another length, as in
** Lua), ffi.string(mem) == 'bash' what mem == 'bash' does (equal up to the
** NUL).  mem is an array in a stack buffer, a map value, a ring buffer
** record or a tracepoint's record. */
void bi_string(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)h;
	int m = arg(C, a, 0);
	struct var *v = v_src(C, m);
	bool mem = v->kind == VK_STACK ||
		   (v->kind == VK_RT && (v->ptr == PK_MAPVAL || (v->ptr == PK_CTX && v->ref)));
	const struct bcins *next = C->pc + 1 < C->nbc ? &C->bc[C->pc + 1] : NULL;
	bool compared = next && (next->op == OP_ISEQS || next->op == OP_ISNES) && next->a == a &&
			!bc_live(C, C->pc + 1, a);
	if (!compared)
		bpfc_fail(C, "ffi.string() works in a program only compared with a string constant at "
			     "once: ffi.string(arg.comm, 2) == 'ba' (a prefix), ffi.string(buf) == 'bash'");
	if (!mem || v->flags & VF_SLICE || !v->ref || fact_sizeof(C, v->ref) <= 0)
		bpfc_fail(C, "ffi.string() compares a char array of a stack buffer, a map value, a ring "
			     "buffer record or a tracepoint's record (copy other memory there first with "
			     "ffi.copy)");
	int size = fact_sizeof(C, v->ref);
	int64_t n = size;
	if (nargs == 2) {
		struct var *nv = v_src(C, arg(C, a, 1));
		if (nv->kind != VK_NUM)
			bpfc_fail(C, "ffi.string(mem, n) needs a constant n");
		n = nv->num;
		if (n < 1 || n > size)
			bpfc_fail(C, "ffi.string(mem, %lld) of a %d-byte array: 1 to %d bytes", (long long)n,
				  size, size);
	}
	int ref = v->ref;
	if (nargs == 2) {
		lua_pushfstring(C->L, "char[%d]", (int)n);
		int tref = k_ref(C, -1);
		lua_pop(C->L, 1);
		ref = fact_typeof(C, tref, false, 0, "ffi.string()");
	}
	if (v->kind == VK_RT && v->ptr == PK_MAPVAL) {
		alu_dst(C, a, m); /* the same pointer, in a register of its own */
	} else { /* the stack object, or the context's member (on the context register) */
		struct var keep = *v;
		v_def(C, a);
		C->v[a] = keep;
		C->v[a].shadow = -1;
	}
	C->v[a].ref = ref;
	if (nargs == 2)
		C->v[a].flags |= VF_SLICE;
}

/* Typed ctype of a C type given at compile time (string or ctype). */
static int ctype_arg(struct ctx *C, int slot, const char *who)
{
	struct var *t = v_src(C, slot);
	if (t->kind != VK_LUA)
		bpfc_fail(C, "%s needs a C type known at compile time", who);
	return fact_typeof(C, t->ref, false, 0, who);
}

/* ringbuf_output(map, data[, flags]): copy a stack struct into a ring buffer. */
void bi_ringbuf_output(struct ctx *C, int a, int nargs, const struct helper *h)
{
	int m = arg(C, a, 0);
	struct var *d = v_src(C, arg(C, a, 1));
	if (!is_map(C, m))
		bpfc_fail(C, "ringbuf_output(map, data) needs a ringbuf map first");
	if (d->kind != VK_STACK)
		bpfc_fail(C, "ringbuf_output() sends a struct made with ffi.new");
	int64_t flags = 0;
	if (nargs == 3) {
		struct var *f = v_src(C, arg(C, a, 2));
		if (f->kind != VK_NUM)
			bpfc_fail(C, "ringbuf_output() flags must be a constant");
		flags = f->num;
	}
	int size = fact_sizeof(C, d->ref), doff = (int)d->num, mapref = v_src(C, m)->ref;
	call_prepare(C);
	emit_map_fd(C, 1, mapref);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 2, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -doff);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, size);
	emit_mov_imm(C, 4, flags);
	helper(C, h);
	result_r0(C, a, 8, 0);
}

/* ringbuf_reserve(map, ctype): room in the ring, NULL when full; the
** program fills it and hands it to ringbuf_submit or ringbuf_discard. */
void bi_ringbuf_reserve(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	int m = arg(C, a, 0);
	if (!is_map(C, m))
		bpfc_fail(C, "ringbuf_reserve(map, ctype) needs a ringbuf map first");
	int ct = ctype_arg(C, arg(C, a, 1), "ringbuf_reserve()");
	int size = fact_sizeof(C, ct), mapref = v_src(C, m)->ref;
	call_prepare(C);
	emit_map_fd(C, 1, mapref);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, size);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0);
	helper(C, h);
	v_def(C, a);
	v_rt(C, a, 0, PK_MAPVAL, 8, VF_NULL);
	C->v[a].ref = ct;
}

void bi_ringbuf_commit(struct ctx *C, int a, int nargs, const struct helper *h)
{
	const char *name = h->name;
	(void)nargs;
	int p = arg(C, a, 0);
	struct var *v = v_src(C, p);
	if (!(v->kind == VK_RT && v->ptr == PK_MAPVAL))
		bpfc_fail(C, "%s() takes what ringbuf_reserve() returned", name);
	if (v->flags & VF_NULL)
		bpfc_fail(C, "%s(): check the reserved record for nil first", name);
	int slots[1] = {p};
	call_prepare(C);
	load_args(C, slots, 1);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0);
	helper(C, h);
	v_def(C, a);
	C->v[a].kind = VK_NIL;
}

/* A helper by the name bpf.builtins gave its function: the row says how
** many arguments it takes, which program types may call it and what lowers it. */
bool bi_call(struct ctx *C, const char *name, int a, int nargs)
{
	const struct helper *h = helper_find(name);
	if (!h)
		return false;
	const char *shown = helper_shown(h), *tname = NULL;
	int t = helper_progtype(C, &tname);
	if (t >= 0 && !(h->types >> t & 1)) {
		const char *func = helper_func_name(h);
		bpfc_fail(C, "%s() cannot be called from a %s program: %s programs have no %s%s",
			  shown, tname, tname, func ? "bpf_" : "", func ? func : "such helper");
	}
	need(C, shown, nargs, h->min, h->max);
	h->lower(C, a, nargs, h);
	return true;
}

/* Call a Lua function at compile time: every argument must be a constant;
** its first nres results (pairs(t): next, t, nil) go to a, a + 1, ... */
static void fold_call(struct ctx *C, int a, int nargs, int nres)
{
	lua_State *L = C->L;
	k_push(C, v_src(C, a)->ref);
	if (lua_rawequal(L, -1, C->fn))
		bpfc_fail(C, "the program calls itself: recursion is not supported in a BPF program");
	for (int i = 0; i < nargs; i++) {
		struct var *v = v_src(C, arg(C, a, i));
		switch (v->kind) {
		case VK_NIL: lua_pushnil(L); break;
		case VK_NUM:
			if (v->flags & VF_BOOL) {
				lua_pushboolean(L, (int)v->num);
				break;
			}
			if (v->num < -(1LL << 53) || v->num > (1LL << 53) || (v->num < 0 && (v->flags & VF_U64)))
				bpfc_fail(C, "argument %d, a 64-bit constant, has no exact Lua number to run "
					     "this function with at compile time", i + 1);
			lua_pushnumber(L, (lua_Number)v->num);
			break;
		case VK_LUA: k_push(C, v->ref); break;
		default:
			switch (C->inl_why[C->pc]) { /* why inline.c did not compile it in */
			case WHY_RECURSION:
				bpfc_fail(C, "this function calls itself (directly or through another) "
					     "with a value known only at run time: a BPF program cannot "
					     "recurse; write it as a loop");
			case WHY_DEPTH:
				bpfc_fail(C, "functions call each other more than 8 deep here: the "
					     "compiler inlines no deeper");
			case WHY_VARARG:
				bpfc_fail(C, "a function with '...' is called with a value known only at "
					     "run time: name its parameters, and it is compiled in");
			case WHY_COUNT:
				bpfc_fail(C, "the program calls more than %d different functions", MAX_FNS - 1);
			default:
				break;
			}
			bpfc_fail(C, "a Lua function can only be called with values known at compile "
				     "time (argument %d is not), unless the compiler sees which function it "
				     "is and compiles it into the program: a local function, a global or "
				     "a module's field, without '...'", i + 1);
		}
	}
	if (nres < 1)
		nres = 1;
	fact_call(C, nargs, nres);
	for (int i = 0; i < nres; i++)
		v_set_lua(C, a + i, -nres + i);
	lua_pop(L, nres);
}

void tr_call(struct ctx *C, int a, int nres, int nargs)
{
	struct var *f = v_src(C, a);
	if (f->kind == VK_PKT || (f->kind == VK_RT && f->ptr == PK_PKTOFF)) {
		/* slice: dissector(from, to) reads bytes [from, to) as one number */
		struct var *x = v_src(C, arg(C, a, 0)), *y = v_src(C, arg(C, a, 1));
		if (nargs != 2 || x->kind != VK_NUM || y->kind != VK_NUM)
			bpfc_fail(C, "a packet slice takes two constant offsets: data(from, to)");
		int w = (int)(y->num - x->num);
		if (w != 1 && w != 2 && w != 4 && w != 8)
			bpfc_fail(C, "a packet slice is 1, 2, 4 or 8 bytes long, not %d", w);
		pk_load(C, a, a, x->num, w, -1);
		return;
	}
	if (f->kind != VK_LUA)
		bpfc_fail(C, "calling a value that is not a function");
	const char *name = fact_helper(C, f->ref);
	if (name && bi_call(C, name, a, nargs))
		return;
	k_push(C, f->ref);
	int t = lua_type(C->L, -1);
	lua_pop(C->L, 1);
	if (t != LUA_TFUNCTION && t != 10)
		bpfc_fail(C, "calling a %s", lua_typename(C->L, t));
	fold_call(C, a, nargs, nres);
}

/* Does slot hold the function ref (a splice's guess of what a CALL calls)? */
static bool holds_function(struct ctx *C, int slot, int ref)
{
	const struct var *f = v_src(C, slot);
	if (f->kind != VK_LUA)
		return false;
	k_push(C, f->ref);
	k_push(C, ref);
	bool same = lua_rawequal(C->L, -1, -2);
	lua_pop(C->L, 2);
	return same;
}

/* The CALL at pc of a subprogram (sub_call): its arguments in r1.., its
** result what it returns.  An argument that is not a number makes the
** function one to inline instead. */
void tr_call_sub(struct ctx *C, int pc, int a, int nres, int nargs)
{
	int k = C->sub_call[pc] - 1;
	const struct subprog *sp = &C->subs[k];
	if (!holds_function(C, a, sp->ref)) { /* the splice guessed wrong: whatever this is */
		tr_call(C, a, nres, nargs);
		return;
	}
	if (nargs < sp->nparams)
		sub_inline_instead(C, k);
	int slots[MAX_SUB_ARGS];
	for (int i = 0; i < sp->nparams; i++) {
		slots[i] = arg(C, a, i);
		if (!v_plain_number(v_src(C, slots[i]), false))
			sub_inline_instead(C, k);
	}
	call_prepare(C);
	load_args(C, slots, sp->nparams);
	emit_subcall(C, k, sp->nparams);
	if (sp->ret == SR_NUM || sp->ret == SR_BOOL) {
		result_r0(C, a, 8, sp->ret == SR_BOOL ? VF_BOOL : 0);
	} else {
		v_def(C, a);
		C->v[a].kind = VK_NIL;
	}
	for (int i = 1; i < nres; i++) {
		v_def(C, a + i);
		C->v[a + i].kind = VK_NIL;
	}
}

/* A CALL whose function's bytecode follows it (inline.c): the body is
** translated next, in the call's place, so that the function computes what
** the semantics table says whether its arguments are known or not.  When
** they are all known and the body cannot be compiled (it builds a table,
** say), bpfc_fail compiles again with this call run in Lua at compile time
** (a fold hint), as a call of constants always was.  A function slot that
** holds something else now (an __index that answered differently) is an
** ordinary call. */
void tr_call_inlined(struct ctx *C, int pc, int a, int nres, int nargs)
{
	int cont = C->inl_cont[pc], fn = 0;
	for (int p = pc + 1; p < cont && !fn; p++)
		if (C->bc[p].fn != C->bc[pc].fn)
			fn = C->bc[p].fn;
	if (!fn || !holds_function(C, a, C->fn_ref[fn])) {
		tr_call(C, a, nres, nargs);
		C->resume = cont;
		return;
	}
	if (fold_hinted(C, pc)) { /* its body could not be compiled: it runs in Lua (bpfc_fail) */
		fold_call(C, a, nargs, nres);
		C->resume = cont;
		return;
	}
	bool known = true;
	for (int i = 0; i < nargs; i++) {
		const struct var *v = v_src(C, arg(C, a, i));
		known &= v->kind == VK_NIL || v->kind == VK_NUM || v->kind == VK_LUA;
	}
	if (known && C->ninl_open < MAX_BC)
		C->inl_open[C->ninl_open++] = (int16_t)pc;
}
