/*
** Common subexpressions in a block: local value numbering over the IR,
** before register allocation.  Each register carries the number of the
** value it holds; an ALU operation whose operator, operands' numbers and
** immediate were seen before computes that value again.  When a register
** still holds it, the operation becomes a copy from that register (or
** nothing, when its own register does), and dead_definitions then drops
** what computed the copy's value the long way.  `ip.tcp` read twice
** (`ip.tcp.src_port`, `ip.tcp.dst_port`) computes the header's offset once.
**
** ALU operations are numbered, classic packet loads and loads from the
** context (the same bytes read again are the same value until a store or a
** call); any other load, a call or anything else that defines a register
** gives it a value of its own, and every block starts with nothing known (what a join brings may
** differ by the way in).  It runs before direct_packet, on the classic
** loads, and dead_definitions after both.
*/
#include <string.h>
#include "core.h"

#define MAX_EXPRS 512 /* remembered per block */

struct expr {
	bool load;	/* a classic packet load (forgotten at a store or a call) */
	uint8_t code;
	int16_t off;	/* (a sign-extending move's width) */
	int a, b;	/* operands' value numbers (b: 0 for an immediate) */
	int64_t imm;
	int vn;
};

struct numbering {
	int *vn;	/* per register: its value's number, when gen[r] is this block's */
	int *gen;
	int *holder;	/* per value number: the register that got it last */
	int nregs, next, cap, block;
	struct expr e[MAX_EXPRS];
	int ne;
};

static int fresh(struct numbering *N)
{
	if (N->next >= N->cap)
		return 0; /* out of numbers: nothing more is found equal */
	N->holder[N->next] = -1;
	return N->next++;
}

static int vn_of(struct numbering *N, int r)
{
	if (r < 0 || r >= N->nregs)
		return 0;
	if (N->gen[r] != N->block) {
		N->gen[r] = N->block;
		N->vn[r] = fresh(N);
	}
	return N->vn[r];
}

static int held_by(const struct numbering *N, int vn);

/* r gets value vn; it holds it for later unless a register still does. */
static void give(struct numbering *N, int r, int vn)
{
	if (r < 0 || r >= N->nregs)
		return;
	N->gen[r] = N->block;
	N->vn[r] = vn;
	if (vn > 0 && held_by(N, vn) < 0)
		N->holder[vn] = r;
}

/* The register holding value vn now, -1 none.  A register made by this
** pass (beyond nregs: a load's keeper) is never written again. */
static int held_by(const struct numbering *N, int vn)
{
	int h = vn > 0 ? N->holder[vn] : -1;
	if (h >= N->nregs)
		return h;
	return h >= 0 && N->gen[h] == N->block && N->vn[h] == vn ? h : -1;
}

static void keep_holder(struct numbering *N, int keeper, int vn)
{
	if (vn > 0)
		N->holder[vn] = keeper;
}

/* The value number of code over a, b and imm: one seen before, or new. */
static int number(struct numbering *N, const struct ir_ins *in, int a, int b, int64_t imm, bool *seen)
{
	for (int k = 0; k < N->ne; k++)
		if (N->e[k].code == in->code && N->e[k].off == in->off && N->e[k].a == a && N->e[k].b == b &&
		    N->e[k].imm == imm) {
			*seen = true;
			return N->e[k].vn;
		}
	*seen = false;
	int vn = fresh(N);
	if (vn && N->ne < MAX_EXPRS)
		N->e[N->ne++] = (struct expr){.code = in->code, .off = in->off, .a = a, .b = b, .imm = imm,
					      .vn = vn, .load = false};
	return vn;
}

/* A register holding value vn, when one does, in place of computing it
** again: `dst = h` replaces in (or nothing, when dst holds it already). */
static void reuse(struct ir_ins *in, int h)
{
	if (h == in->dst)
		in->kind = IR_NOP;
	else
		*in = (struct ir_ins){.kind = IR_OP, .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst = in->dst,
				      .src = (uint16_t)h, .helper = -1, .pc = in->pc, .label = -1};
}

/* An ALU operation numbered (maybe taken from a register); in is changed. */
static void alu(struct numbering *N, struct ir_ins *in, const struct operands *o)
{
	uint8_t op = BPF_OP(in->code);
	if (o->copy) {
		give(N, in->dst, vn_of(N, in->src));
		return;
	}
	bool x = BPF_SRC(in->code) == BPF_X && op != BPF_END && op != BPF_NEG;
	int a = op == BPF_MOV ? 0 : vn_of(N, in->dst), b = x ? vn_of(N, in->src) : 0;
	if ((op != BPF_MOV && !a) || (x && !b)) { /* out of numbers */
		give(N, in->dst, fresh(N));
		return;
	}
	bool seen;
	int vn = number(N, in, a, b, x ? 0 : in->imm, &seen);
	int h = seen ? held_by(N, vn) : -1;
	/* (a constant is as cheap to load as to copy) */
	if (h >= 0 && (h == in->dst || op != BPF_MOV))
		reuse(in, h);
	give(N, in->dst, vn);
}

/* A classic packet load numbered: the same bytes read again are the same
** value, taken from the register a copy after the first read keeps it in
** (dead_definitions drops the copies nothing reads).  Returns that
** register, or -1 when in stays a load with nothing kept. */
static int classic(struct ctx *C, struct numbering *N, struct ir_ins *in)
{
	int src = BPF_MODE(in->code) == BPF_IND ? vn_of(N, in->src) : 0;
	bool seen = false;
	int vn = src || BPF_MODE(in->code) == BPF_ABS ? number(N, in, src, 0, in->imm, &seen) : 0;
	if (vn && !seen && N->ne > 0 && N->e[N->ne - 1].vn == vn)
		N->e[N->ne - 1].load = true;
	int h = vn && seen ? held_by(N, vn) : -1;
	if (h >= 0 && h != BPF_REG_0) {
		in->dst = BPF_REG_0;
		reuse(in, h);
		give(N, BPF_REG_0, vn);
		return -1;
	}
	for (int r = 1; r <= 5; r++)
		give(N, r, fresh(N));
	give(N, BPF_REG_0, vn ? vn : fresh(N));
	if (!vn || C->nvregs >= MAX_VREGS || N->nregs <= 0)
		return -1;
	return vreg_new(C); /* the keeper (beyond nregs: never written again) */
}

/* A field of the context read again is the same value, until a store
** (the program may set skb.mark) or a call (a pull moves skb.data). */
static void context_load(struct numbering *N, struct ir_ins *in)
{
	bool seen;
	int vn = number(N, in, vn_of(N, in->src), 0, in->off, &seen);
	if (vn && !seen && N->ne > 0 && N->e[N->ne - 1].vn == vn)
		N->e[N->ne - 1].load = true;
	int h = seen ? held_by(N, vn) : -1;
	if (h >= 0)
		reuse(in, h);
	give(N, in->dst, vn ? vn : fresh(N));
}

static void block(struct ctx *C, const struct ir_block *blk, struct numbering *N)
{
	N->ne = 0;
	N->next = 1;
	for (int i = blk->first; i <= blk->last; i++) {
		struct ir_ins in = C->ir[i];
		struct operands o = ir_operands(&in, false);
		uint8_t cls = BPF_CLASS(in.code);
		int keep = -1;
		if (in.kind == IR_OP && (cls == BPF_ALU || cls == BPF_ALU64) && in.dst >= IR_VREG0 &&
		    in.dst < N->nregs && in.label < 0) { /* (a label: a CO-RE field offset, btf.c) */
			alu(N, &in, &o);
		} else if (in.kind == IR_OP && cls == BPF_LD &&
			   (BPF_MODE(in.code) == BPF_ABS || BPF_MODE(in.code) == BPF_IND)) {
			keep = classic(C, N, &in);
		} else if (in.kind == IR_OP && cls == BPF_LDX && in.src == C->ctx_reg && in.dst >= IR_VREG0 &&
			   in.dst < N->nregs) {
			context_load(N, &in);
		} else {
			if (in.kind == IR_CALL || (in.kind == IR_OP && (cls == BPF_ST || cls == BPF_STX) &&
						   in.dst != BPF_REG_10)) {
				int n = 0; /* a store or a helper may change the packet */
				for (int k = 0; k < N->ne; k++)
					if (!N->e[k].load)
						N->e[n++] = N->e[k];
				N->ne = n;
			}
			/* what it defines holds a value of its own */
			for (int r = 0; r < 16 && r < N->nregs; r++)
				if (o.defs & (1u << r))
					give(N, r, fresh(N));
			if (o.def_dst)
				give(N, in.dst, fresh(N));
			if (o.def_src)
				give(N, in.src, fresh(N));
		}
		ir_append(C, &in);
		if (keep >= 0) {
			struct ir_ins mov = {.kind = IR_OP, .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst = (uint16_t)keep,
					     .src = BPF_REG_0, .helper = -1, .pc = in.pc, .label = -1};
			ir_append(C, &mov);
			keep_holder(N, keep, N->vn[BPF_REG_0]);
		}
	}
}

void common_subexpressions(struct ctx *C, const struct ir_func *cf)
{
	struct ir_func *f = &C->funcs[cf - C->funcs];
	struct numbering *N = scratch(C, sizeof(*N));
	N->nregs = C->nvregs;
	N->cap = 4 * f->n + 64;
	N->vn = scratch(C, sizeof(int) * (size_t)N->nregs);
	N->gen = scratch(C, sizeof(int) * (size_t)N->nregs);
	N->holder = scratch(C, sizeof(int) * (size_t)N->cap);
	for (int r = 0; r < N->nregs; r++)
		N->gen[r] = -1;
	ir_cfg(C, f);
	int start = C->nir, pc = C->pc;
	for (int b = 0; b < C->nblk; b++) {
		N->block = b;
		block(C, &C->blk[b], N);
	}
	C->pc = pc;
	ir_rebuilt(C, f, start);
	scratch_pop(C, 4);
}
