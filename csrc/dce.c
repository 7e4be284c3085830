/*
** Dead definitions: an instruction whose only work is to give a virtual
** register a value nothing reads afterwards is dropped (the rest of a
** value's computation another pass took from elsewhere, a temporary the
** translation made and did not need).  A backward liveness of the virtual
** registers over the blocks, to a fixed point, before register allocation.
** Only ALU operations, loads and 64-bit constants count: they have no
** effect but their register.  One round is enough: the liveness counts a
** dead definition's operands as not read, so what only it read dies too.
*/
#include <string.h>
#include "core.h"

static bool pure_def(const struct ir_ins *in)
{
	uint8_t cls = BPF_CLASS(in->code);
	if (in->kind == IR_LD64 || in->kind == IR_MAP)
		return in->helper != IR_SUBPROG && in->dst >= IR_VREG0; /* (not a callback's address) */
	return in->kind == IR_OP && (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LDX) &&
	       in->dst >= IR_VREG0;
}

struct live {
	int words;	/* per set */
	uint64_t *in;	/* per block: the virtual registers live at its start */
	struct operands *ops; /* per instruction of the function (ir_operands, once) */
	int first;
};

static void set_bit(uint64_t *s, int v, bool on)
{
	if (on)
		s[v / 64] |= 1ull << (v % 64);
	else
		s[v / 64] &= ~(1ull << (v % 64));
}

static bool get_bit(const uint64_t *s, int v)
{
	return (s[v / 64] >> (v % 64)) & 1;
}

/* live, from what is live after in, becomes what is live before it; *dead:
** in is a pure definition of a register not live after it. */
static void step(const struct ir_ins *in, const struct operands *op, uint64_t *live, bool *dead)
{
	struct operands o = *op;
	int d = o.def_dst ? in->dst : -1, s = o.def_src ? in->src : -1;
	*dead = pure_def(in) && !get_bit(live, in->dst - IR_VREG0);
	if (*dead)
		return; /* (reads nothing, once gone) */
	if (d >= IR_VREG0 && !o.rmw)
		set_bit(live, d - IR_VREG0, false);
	if (s >= IR_VREG0 && !o.rmw_src)
		set_bit(live, s - IR_VREG0, false);
	if (o.use_dst && in->dst >= IR_VREG0)
		set_bit(live, in->dst - IR_VREG0, true);
	if (o.use_src && in->src >= IR_VREG0)
		set_bit(live, in->src - IR_VREG0, true);
}

/* The liveness to a fixed point, then the dead definitions dropped. */
static bool round_once(struct ctx *C, const struct ir_func *f, struct live *L, uint64_t *live)
{
	size_t bytes = sizeof(uint64_t) * (size_t)L->words;
	memset(L->in, 0, bytes * (size_t)C->nblk);
	bool dead;
	for (bool changed = true; changed;) {
		changed = false;
		for (int b = C->nblk - 1; b >= 0; b--) {
			memset(live, 0, bytes);
			for (int k = 0; k < 2; k++)
				if (C->blk[b].succ[k] >= 0)
					for (int w = 0; w < L->words; w++)
						live[w] |= L->in[(size_t)C->blk[b].succ[k] * L->words + w];
			for (int i = C->blk[b].last; i >= C->blk[b].first; i--)
				step(&C->ir[i], &L->ops[i - L->first], live, &dead);
			if (memcmp(live, &L->in[(size_t)b * L->words], bytes)) {
				memcpy(&L->in[(size_t)b * L->words], live, bytes);
				changed = true;
			}
		}
	}
	bool any = false;
	for (int b = 0; b < C->nblk; b++) {
		memset(live, 0, bytes);
		for (int k = 0; k < 2; k++)
			if (C->blk[b].succ[k] >= 0)
				for (int w = 0; w < L->words; w++)
					live[w] |= L->in[(size_t)C->blk[b].succ[k] * L->words + w];
		for (int i = C->blk[b].last; i >= C->blk[b].first; i--) {
			step(&C->ir[i], &L->ops[i - L->first], live, &dead);
			if (dead) {
				C->ir[i].kind = IR_NOP;
				any = true;
			}
		}
	}
	(void)f;
	return any;
}

void dead_definitions(struct ctx *C, const struct ir_func *f)
{
	int nv = C->nvregs - IR_VREG0;
	if (nv <= 0)
		return;
	ir_cfg(C, f);
	struct live L = {.words = (nv + 63) / 64, .first = f->first};
	L.ops = scratch(C, sizeof(struct operands) * (size_t)(f->n > 0 ? f->n : 1));
	for (int i = 0; i < f->n; i++)
		L.ops[i] = ir_operands(&C->ir[f->first + i], false);
	L.in = scratch(C, sizeof(uint64_t) * (size_t)L.words * (size_t)(C->nblk > 0 ? C->nblk : 1));
	uint64_t *live = scratch(C, sizeof(uint64_t) * (size_t)L.words);
	round_once(C, f, &L, live); /* (a dead definition reads nothing: what only it read dies too) */
	scratch_pop(C, 3);
}
