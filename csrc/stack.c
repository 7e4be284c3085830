/*
** Dead stores to the stack: a store to [r10 + off] whose every byte is
** written again, on every way on, before anything reads it is dropped.
** ffi.new() zero-fills its object, because the verifier wants stack memory
** written before a helper reads it; when the program then sets every
** field, the zero-fill is the dead store (an event struct, a map key).
**
** The pass runs before register allocation (no spill slots yet), over each
** byte of the frame: a backward liveness of stack bytes, to a fixed point
** over the blocks (loops included).  A byte is read by a load from
** [r10 + off]; once the frame's address is taken (r10 used as a value: a
** pointer handed to a helper, a callback's block), every call and every
** load or atomic through another register may read any byte, and so does
** anything this pass does not know.  Bytes are dead at an exit.
*/
#include <string.h>
#include "core.h"

#define NBYTES STACK_SIZE
#define WORDS (NBYTES / 64)

struct bytes {
	uint64_t w[WORDS];
};

static void set_range(struct bytes *b, int from, int n, bool on)
{
	for (int i = from; i < from + n; i++) {
		if (i < 0 || i >= NBYTES)
			continue;
		if (on)
			b->w[i / 64] |= 1ull << (i % 64);
		else
			b->w[i / 64] &= ~(1ull << (i % 64));
	}
}

static bool any_in(const struct bytes *b, int from, int n)
{
	for (int i = from; i < from + n; i++)
		if (i < 0 || i >= NBYTES || (b->w[i / 64] >> (i % 64)) & 1)
			return true; /* (outside the frame: kept) */
	return false;
}

static int size_of(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default: return 8;
	}
}

/* A store to the frame at a known offset: its first byte (index into the
** byte sets), else -1. */
static int frame_store(const struct ir_ins *in)
{
	uint8_t cls = BPF_CLASS(in->code);
	if (in->kind != IR_OP || (cls != BPF_ST && cls != BPF_STX) || BPF_MODE(in->code) != BPF_MEM ||
	    in->dst != BPF_REG_10)
		return -1;
	return NBYTES + in->off;
}

/* Which registers may hold an address in the frame: those computed from
** r10 (moves, additions), to a fixed point; false when such an address is
** stored in memory, where any load may find it. */
static bool frame_pointers(const struct ctx *C, const struct ir_func *f, bool *ptr, int nregs)
{
	memset(ptr, 0, (size_t)nregs);
	for (bool grew = true; grew;) {
		grew = false;
		for (int i = f->first; i < f->first + f->n; i++) {
			const struct ir_ins *in = &C->ir[i];
			uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
			bool x = BPF_SRC(in->code) == BPF_X;
			bool from = x && (in->src == BPF_REG_10 || (in->src < nregs && ptr[in->src]));
			if (in->kind == IR_OP && cls == BPF_STX && from)
				return false; /* an address in memory */
			if (in->kind != IR_OP || (cls != BPF_ALU64 && cls != BPF_ALU) || in->dst >= nregs)
				continue;
			if (from && (op == BPF_MOV || op == BPF_ADD || op == BPF_SUB) && !ptr[in->dst]) {
				ptr[in->dst] = true;
				grew = true;
			}
		}
	}
	return true;
}

/* Does the register r hold an address in the frame at instruction i?
** Its last definition before i in the block says; else it may. */
static bool holds_frame_address(const struct ctx *C, const struct ir_block *blk, int i, int r,
				const bool *ptr, int nregs)
{
	for (int k = i - 1; k >= blk->first; k--) {
		const struct ir_ins *d = &C->ir[k];
		struct operands o = ir_operands(d, false);
		if (!(o.def_dst && d->dst == r) && !(o.defs & (1u << r)))
			continue;
		if (d->kind != IR_OP || BPF_CLASS(d->code) != BPF_ALU64 || BPF_SRC(d->code) != BPF_X)
			return d->kind == IR_OP && BPF_CLASS(d->code) == BPF_ALU64 && d->dst < nregs && ptr[d->dst] &&
			       BPF_OP(d->code) != BPF_MOV; /* r += k on an address */
		return d->src == BPF_REG_10 || (d->src < nregs && ptr[d->src]);
	}
	return true;
}

/* May in, instruction i of blk, read the frame through a pointer? */
static bool reads_through(const struct ctx *C, const struct ir_block *blk, int i, const bool *ptr, int nregs,
			  bool stored)
{
	const struct ir_ins *in = &C->ir[i];
	uint8_t cls = BPF_CLASS(in->code);
	if (in->kind == IR_CALL) { /* a helper or a function, given an address */
		uint16_t args = ir_operands(in, false).uses;
		for (int r = 1; r <= 5; r++)
			if ((args & (1u << r)) && (stored || holds_frame_address(C, blk, i, r, ptr, nregs)))
				return true;
		return false;
	}
	if (in->kind != IR_OP)
		return false;
	int base = cls == BPF_LDX ? in->src : cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC ? in->dst : -1;
	return base >= 0 && base != BPF_REG_10 && (stored || base >= nregs || ptr[base]);
}

/* The liveness step of in, backwards: live before in, from live after it.
** *dead: in is a store none of whose bytes is read before written again. */
static void step(const struct ctx *C, const struct ir_block *blk, int i, const bool *ptr, int nregs,
		 bool stored, struct bytes *live, bool *dead)
{
	const struct ir_ins *in = &C->ir[i];
	*dead = false;
	uint8_t cls = BPF_CLASS(in->code);
	int at = frame_store(in);
	if (at >= 0 && BPF_MODE(in->code) == BPF_MEM) {
		int n = size_of(in->code);
		*dead = !any_in(live, at, n);
		set_range(live, at, n, false);
		return;
	}
	if (in->kind == IR_OP && ((cls == BPF_LDX && in->src == BPF_REG_10) ||
				  (at >= 0 && BPF_MODE(in->code) == BPF_ATOMIC))) { /* (an atomic reads too) */
		set_range(live, NBYTES + in->off, size_of(in->code), true);
		return;
	}
	if (reads_through(C, blk, i, ptr, nregs, stored))
		memset(live, 0xff, sizeof(*live));
	if (in->kind == IR_EXIT)
		memset(live, 0, sizeof(*live)); /* the frame goes */
}

/* live: what the successors of block b read (the blocks' live-in). */
static void live_out(const struct ctx *C, int b, const struct bytes *in_live, struct bytes *live)
{
	memset(live, 0, sizeof(*live));
	for (int s = 0; s < 2; s++)
		if (C->blk[b].succ[s] >= 0)
			for (int k = 0; k < WORDS; k++)
				live->w[k] |= in_live[C->blk[b].succ[s]].w[k];
}

/* What block b does to the bytes live after it, as live before it =
** gen | (after & ~kill): one walk of its instructions, backwards. */
static void transfer(const struct ctx *C, int b, const bool *ptr, int nregs, bool stored, struct bytes *gen,
		     struct bytes *kill)
{
	memset(gen, 0, sizeof(*gen));
	memset(kill, 0, sizeof(*kill));
	for (int i = C->blk[b].last; i >= C->blk[b].first; i--) {
		/* step() on two probes: none live after, and all live after */
		struct bytes none = *gen, all = *gen;
		for (int k = 0; k < WORDS; k++)
			all.w[k] |= ~kill->w[k];
		bool dead;
		step(C, &C->blk[b], i, ptr, nregs, stored, &none, &dead);
		step(C, &C->blk[b], i, ptr, nregs, stored, &all, &dead);
		for (int k = 0; k < WORDS; k++) {
			gen->w[k] = none.w[k];
			kill->w[k] = ~all.w[k];
		}
	}
}

void dead_stack_stores(struct ctx *C, const struct ir_func *f)
{
	bool stores = false;
	for (int i = f->first; i < f->first + f->n; i++)
		stores |= frame_store(&C->ir[i]) >= 0;
	if (!stores)
		return;
	int nregs = C->nvregs;
	bool *ptr = scratch(C, (size_t)nregs);
	bool stored = !frame_pointers(C, f, ptr, nregs);
	ir_cfg(C, f);
	int nb = C->nblk > 0 ? C->nblk : 1;
	struct bytes *in_live = scratch(C, sizeof(struct bytes) * 3 * (size_t)nb);
	struct bytes *gen = in_live + nb, *kill = gen + nb;
	memset(in_live, 0, sizeof(struct bytes) * (size_t)C->nblk);
	for (int b = 0; b < C->nblk; b++)
		transfer(C, b, ptr, nregs, stored, &gen[b], &kill[b]);
	struct bytes live;
	bool dead;
	for (bool changed = true; changed;) { /* each block from its successors, to a fixed point */
		changed = false;
		for (int b = C->nblk - 1; b >= 0; b--) {
			live_out(C, b, in_live, &live);
			for (int k = 0; k < WORDS; k++)
				live.w[k] = gen[b].w[k] | (live.w[k] & ~kill[b].w[k]);
			if (memcmp(&live, &in_live[b], sizeof(live))) {
				in_live[b] = live;
				changed = true;
			}
		}
	}
	for (int b = 0; b < C->nblk; b++) {
		live_out(C, b, in_live, &live);
		for (int i = C->blk[b].last; i >= C->blk[b].first; i--) {
			step(C, &C->blk[b], i, ptr, nregs, stored, &live, &dead);
			if (dead)
				C->ir[i].kind = IR_NOP;
		}
	}
	scratch_pop(C, 2);
}
