/*
** Copy propagation over virtual registers written once.  Translation and
** direct_packet copy one value into several registers (a load's result kept
** for a later read of the same bytes, and the Lua slot it was read into);
** the allocator then has to keep each in a register of its own and move
** between them.  When
**
**   vA = ...;  ...;  vB = vA        or      vA = X;  ...;  vB = X
**
** and vA and vB are each written by that one instruction alone, every read
** of vB may read vA instead: vA holds the same value from there on, as
** nothing writes it again.  The copy into vB goes (dead_definitions, after,
** drops what only it read).  The one way this could go wrong is a loop
** running vA's definition again and then reading vB's old value: so both
** definitions lie on one path (no label, jump or exit between them), which
** a loop enters only at its top, and nothing between them reads vB.  In
** the second form nothing between them writes X.
*/
#include "core.h"

static bool writes(const struct ir_ins *in, int r)
{
	struct operands o = ir_operands(in, false);
	return (o.def_dst && in->dst == r) || (o.def_src && in->src == r) || (r < 16 && ((o.defs >> r) & 1));
}

static bool reads(const struct ir_ins *in, int r)
{
	struct operands o = ir_operands(in, false);
	return (o.use_dst && in->dst == r) || (o.use_src && in->src == r) || (r < 16 && ((o.uses >> r) & 1));
}

static bool is_copy(const struct ir_ins *in)
{
	return in->kind == IR_OP && in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && in->off == 0;
}

void copy_propagation(struct ctx *C, const struct ir_func *f)
{
	int nv = C->nvregs;
	int *defs = scratch(C, sizeof(int) * (size_t)nv); /* how many instructions write each */
	int *at = scratch(C, sizeof(int) * (size_t)nv);	  /* ... the last of them */
	for (int r = 0; r < nv; r++)
		defs[r] = 0, at[r] = -1;
	int end = f->first + f->n;
	for (int i = f->first; i < end; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP || in->kind == IR_LABEL)
			continue;
		struct operands o = ir_operands(in, false);
		int d[2] = {o.def_dst ? in->dst : -1, o.def_src ? in->src : -1};
		for (int k = 0; k < 2; k++)
			if (d[k] >= IR_VREG0 && d[k] < nv) {
				defs[d[k]]++;
				at[d[k]] = i;
			}
	}
	for (int j = f->first; j < end; j++) {
		struct ir_ins *cp = &C->ir[j];
		int b = cp->dst;
		if (!is_copy(cp) || b < IR_VREG0 || b >= nv || defs[b] != 1)
			continue;
		/* vA: the source itself, or an earlier copy of the same register */
		int a = -1, i = -1;
		if (cp->src >= IR_VREG0 && cp->src < nv && defs[cp->src] == 1 && at[cp->src] < j) {
			a = cp->src;
			i = at[a];
		}
		bool path = true;
		for (int k = j - 1; k >= f->first && path && a < 0; k--) {
			const struct ir_ins *in = &C->ir[k];
			if (in->kind == IR_NOP)
				continue;
			if (in->kind == IR_LABEL || in->kind == IR_JMP || in->kind == IR_EXIT)
				break;
			if (is_copy(in) && in->src == cp->src && in->dst >= IR_VREG0 && in->dst < nv &&
			    in->dst != b && defs[in->dst] == 1) {
				a = in->dst;
				i = k;
				break;
			}
			if (writes(in, cp->src))
				break;
		}
		if (a < 0 || a == C->ctx_reg || b == C->ctx_reg)
			continue;
		for (int k = i + 1; k < j && path; k++) {
			const struct ir_ins *in = &C->ir[k];
			if (in->kind == IR_LABEL || in->kind == IR_JMP || in->kind == IR_EXIT ||
			    (in->kind != IR_NOP && reads(in, b)))
				path = false;
		}
		if (!path)
			continue;
		for (int k = f->first; k < end; k++) {
			struct ir_ins *in = &C->ir[k];
			if (in->kind == IR_NOP || in->kind == IR_LABEL || k == j)
				continue;
			struct operands o = ir_operands(in, false);
			if (o.use_dst && in->dst == b)
				in->dst = (uint16_t)a;
			if (o.use_src && in->src == b)
				in->src = (uint16_t)a;
		}
		cp->kind = IR_NOP;
		defs[b] = 0;
	}
	scratch_pop(C, 2);
}
