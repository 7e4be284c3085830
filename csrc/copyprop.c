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

/* (o: the instruction's operands, computed once for the pass) */
static bool writes(const struct ir_ins *in, const struct operands *o, int r)
{
	return (o->def_dst && in->dst == r) || (o->def_src && in->src == r) || (r < 16 && ((o->defs >> r) & 1));
}

static bool reads(const struct ir_ins *in, const struct operands *o, int r)
{
	return (o->use_dst && in->dst == r) || (o->use_src && in->src == r) || (r < 16 && ((o->uses >> r) & 1));
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
	struct operands *ops = scratch(C, sizeof(struct operands) * (size_t)(f->n + 1));
	for (int i = f->first; i < end; i++)
		ops[i - f->first] = ir_operands(&C->ir[i], false);
	/* the explicit reads of each register, as lists of use ids 2k + (0 dst,
	** 1 src) for instruction f->first + k: a rename walks b's, then joins
	** them to a's */
	int *head = scratch(C, sizeof(int) * (size_t)nv);
	int *nxt = scratch(C, sizeof(int) * (size_t)(2 * f->n + 2));
	for (int r = 0; r < nv; r++)
		head[r] = -1;
	for (int i = end - 1; i >= f->first; i--) {
		const struct ir_ins *in = &C->ir[i];
		const struct operands *o = &ops[i - f->first];
		if (in->kind == IR_NOP || in->kind == IR_LABEL)
			continue;
		int u[2] = {o->use_dst ? in->dst : -1, o->use_src ? in->src : -1};
		for (int w = 1; w >= 0; w--)
			if (u[w] >= IR_VREG0 && u[w] < nv) {
				int id = 2 * (i - f->first) + w;
				nxt[id] = head[u[w]];
				head[u[w]] = id;
			}
	}
	for (int i = f->first; i < end; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP || in->kind == IR_LABEL)
			continue;
		struct operands o = ops[i - f->first];
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
		/* (an earlier copy a few instructions up: a window keeps long blocks linear) */
		for (int k = j - 1; k >= f->first && k >= j - 32 && path && a < 0; k--) {
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
			if (writes(in, &ops[k - f->first], cp->src))
				break;
		}
		if (a < 0 || a == C->ctx_reg || b == C->ctx_reg || j - i > 64)
			continue;
		for (int k = i + 1; k < j && path; k++) {
			const struct ir_ins *in = &C->ir[k];
			if (in->kind == IR_LABEL || in->kind == IR_JMP || in->kind == IR_EXIT ||
			    (in->kind != IR_NOP && reads(in, &ops[k - f->first], b)))
				path = false;
		}
		if (!path)
			continue;
		int last = -1;
		for (int id = head[b]; id >= 0; last = id, id = nxt[id]) {
			struct ir_ins *in = &C->ir[f->first + id / 2];
			if (id & 1)
				in->src = (uint16_t)a;
			else
				in->dst = (uint16_t)a;
		}
		if (last >= 0) {
			nxt[last] = head[a];
			head[a] = head[b];
			head[b] = -1;
		}
		cp->kind = IR_NOP;
		defs[b] = 0;
	}
	scratch_pop(C, 5);
}
