/*
** Dead definitions: an instruction whose only work is to give a register a
** value nothing reads afterwards is dropped (the rest of a value's
** computation another pass took from elsewhere, a temporary the translation
** made and did not need, `r0 = kept` for a read whose value nothing uses).
** A backward liveness of the registers (virtual ones and r0..r9) over the
** blocks, to a fixed point, before register allocation.  Only ALU
** operations, loads and 64-bit constants count: they have no effect but
** their register.  The liveness counts a dead definition's operands as not
** read, so what only it read dies in the same round.
*/
#include <string.h>
#include "core.h"

static bool pure_def(const struct ir_ins *in)
{
	uint8_t cls = BPF_CLASS(in->code);
	if (in->kind == IR_LD64 || in->kind == IR_MAP)
		return in->helper != IR_SUBPROG; /* (not a callback's address) */
	return in->kind == IR_OP && (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LDX);
}

struct live {
	int nv;		/* virtual registers: bits 0 .. nv-1; r0..r9 after them */
	int words;	/* per set */
	uint64_t *in;	/* per block: the registers live at its start */
	struct operands *ops; /* per instruction of the function (ir_operands, once) */
	int first;
};

/* A register's bit, or -1 (r10, none). */
static int bit_of(const struct live *L, int r)
{
	if (r >= IR_VREG0)
		return r - IR_VREG0;
	return r < 10 ? L->nv + r : -1;
}

static void set_bit(uint64_t *s, int b, bool on)
{
	if (b < 0)
		return;
	if (on)
		s[b / 64] |= 1ull << (b % 64);
	else
		s[b / 64] &= ~(1ull << (b % 64));
}

static bool get_bit(const uint64_t *s, int b)
{
	return b >= 0 && ((s[b / 64] >> (b % 64)) & 1);
}

/* live, from what is live after in, becomes what is live before it; *dead:
** in is a pure definition of a register not live after it. */
static void step(const struct live *L, const struct ir_ins *in, const struct operands *o, uint64_t *live,
		 bool *dead)
{
	*dead = false;
	if (in->kind == IR_NOP || in->kind == IR_LABEL)
		return; /* (dropped: its operands stand for nothing now) */
	int d = bit_of(L, in->dst);
	*dead = pure_def(in) && d >= 0 && !get_bit(live, d);
	if (*dead)
		return; /* (reads nothing, once gone) */
	if (o->def_dst && !o->rmw)
		set_bit(live, d, false);
	if (o->def_src && !o->rmw_src)
		set_bit(live, bit_of(L, in->src), false);
	for (int r = 0; r < 10; r++)
		if ((o->defs >> r) & 1)
			set_bit(live, L->nv + r, false);
	for (int r = 0; r < 10; r++)
		if ((o->uses >> r) & 1)
			set_bit(live, L->nv + r, true);
	if (o->use_dst)
		set_bit(live, d, true);
	if (o->use_src)
		set_bit(live, bit_of(L, in->src), true);
}

static void live_after(const struct ctx *C, const struct live *L, int b, uint64_t *live)
{
	memset(live, 0, sizeof(uint64_t) * (size_t)L->words);
	for (int k = 0; k < 2; k++)
		if (C->blk[b].succ[k] >= 0)
			for (int w = 0; w < L->words; w++)
				live[w] |= L->in[(size_t)C->blk[b].succ[k] * L->words + w];
}

void dead_definitions(struct ctx *C, const struct ir_func *f)
{
	int nv = C->nvregs - IR_VREG0;
	if (nv < 0 || f->n <= 0)
		return;
	ir_cfg(C, f);
	struct live L = {.nv = nv, .words = (nv + 10 + 63) / 64, .first = f->first};
	L.ops = scratch(C, sizeof(struct operands) * (size_t)f->n);
	for (int i = 0; i < f->n; i++)
		L.ops[i] = ir_operands(&C->ir[f->first + i], false);
	size_t bytes = sizeof(uint64_t) * (size_t)L.words;
	L.in = scratch(C, bytes * (size_t)(C->nblk > 0 ? C->nblk : 1));
	uint64_t *live = scratch(C, bytes);
	memset(L.in, 0, bytes * (size_t)C->nblk);
	bool dead;
	for (bool changed = true; changed;) {
		changed = false;
		for (int b = C->nblk - 1; b >= 0; b--) {
			live_after(C, &L, b, live);
			for (int i = C->blk[b].last; i >= C->blk[b].first; i--)
				step(&L, &C->ir[i], &L.ops[i - L.first], live, &dead);
			if (memcmp(live, &L.in[(size_t)b * L.words], bytes)) {
				memcpy(&L.in[(size_t)b * L.words], live, bytes);
				changed = true;
			}
		}
	}
	for (int b = 0; b < C->nblk; b++) {
		live_after(C, &L, b, live);
		for (int i = C->blk[b].last; i >= C->blk[b].first; i--) {
			step(&L, &C->ir[i], &L.ops[i - L.first], live, &dead);
			if (dead)
				C->ir[i].kind = IR_NOP;
		}
	}
	scratch_pop(C, 3);
}
