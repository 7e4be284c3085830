/*
** A 64-bit constant loaded once per block: translation gives each use of a
** constant too wide for an instruction's imm an lddw of its own (two
** instructions), so `h = h * K` three times in a row loads K three times.
** Before register allocation, where every value still has a virtual
** register of its own, a later lddw of the same constant in the same block
** is dropped and its register's uses read the first one's instead.
**
** Safe because both registers have that lddw as their only definition: the
** first is defined before the second in one block, so it holds K wherever
** the second's uses are (they all follow the second's definition).  The
** value lives longer; regalloc spills it if registers run out.
*/
#include <stdlib.h>
#include "core.h"

#define MAX_KEPT 16 /* constants remembered per block */

static bool plain_lddw(const struct ir_ins *in)
{
	return in->kind == IR_LD64 && in->helper != IR_SUBPROG && in->dst >= IR_VREG0;
}

void constants_once(struct ctx *C, const struct ir_func *f)
{
	int nv = C->nvregs - IR_VREG0;
	if (nv <= 0)
		return;
	uint8_t *defs = calloc((size_t)nv, 1); /* definitions of each register, up to 2 */
	int *to = malloc(sizeof(int) * (size_t)nv); /* a register renamed to another, or -1 */
	if (!defs || !to) {
		free(defs);
		free(to);
		return; /* an optimisation: without memory, the program stays as it is */
	}
	for (int v = 0; v < nv; v++)
		to[v] = -1;
	bool any = false;
	for (int i = f->first; i < f->first + f->n; i++) {
		const struct ir_ins *in = &C->ir[i];
		struct operands o = ir_operands(in, false);
		if (o.def_dst && in->dst >= IR_VREG0 && defs[in->dst - IR_VREG0] < 2)
			defs[in->dst - IR_VREG0]++;
		if (o.def_src && in->src >= IR_VREG0 && defs[in->src - IR_VREG0] < 2)
			defs[in->src - IR_VREG0]++;
	}
	ir_cfg(C, f);
	for (int b = 0; b < C->nblk; b++) {
		struct { int64_t k; int reg; } kept[MAX_KEPT];
		int nkept = 0;
		for (int i = C->blk[b].first; i <= C->blk[b].last; i++) {
			struct ir_ins *in = &C->ir[i];
			if (!plain_lddw(in) || defs[in->dst - IR_VREG0] != 1)
				continue;
			int same = -1;
			for (int k = 0; k < nkept && same < 0; k++)
				if (kept[k].k == in->imm)
					same = kept[k].reg;
			if (same >= 0) {
				to[in->dst - IR_VREG0] = same;
				in->kind = IR_NOP;
				any = true;
			} else if (nkept < MAX_KEPT) {
				kept[nkept].k = in->imm;
				kept[nkept++].reg = in->dst;
			}
		}
	}
	for (int i = f->first; any && i < f->first + f->n; i++) {
		struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP || in->kind == IR_LABEL)
			continue;
		if (in->dst >= IR_VREG0 && to[in->dst - IR_VREG0] >= 0)
			in->dst = (uint16_t)to[in->dst - IR_VREG0];
		if (in->src >= IR_VREG0 && to[in->src - IR_VREG0] >= 0)
			in->src = (uint16_t)to[in->src - IR_VREG0];
	}
	free(defs);
	free(to);
}
