/*
** Tail merging (cross-jumping), after register allocation.  Two ways into
** one label that end in the same instructions compute the same thing on
** their way in: `ip.tcp.dst_port` and `ip.udp.dst_port` in the two arms of
** an `if` read the same offsets.  The arm that ends in `goto L` loses its
** copy and jumps instead to where the same instructions start in the arm
** that falls into L:
**
**   A: ...; x; y; goto L          A: ...; goto M
**   B: ...; x; y; L: ...    ->    B: ...; M: x; y; L: ...
**
** The copies compared are A's from its `goto` back to a label (something
** else jumps into A there) and B's from L, or from a later `goto L`, back
** to a `goto` or exit (B must reach its end by falling through); a conditional jump inside both to the same
** label is the same instruction.  Only forward `goto`s are rewritten, so
** the jump stays forward (the code makes no loop the verifier did not see).
*/
#include <string.h>
#include "core.h"

static bool same_ins(const struct ir_ins *a, const struct ir_ins *b)
{
	if (a->kind != b->kind || a->code != b->code || a->dst != b->dst || a->src != b->src ||
	    a->imm != b->imm || a->helper != b->helper)
		return false;
	if (a->kind == IR_JMP)
		return a->label == b->label;
	return a->kind != IR_OP || (a->off == b->off && a->label == b->label); /* label: CO-RE tag */
}

/* The registers that may hold the context somewhere in f (mask). */
static unsigned context_regs(const struct ctx *C, const struct ir_func *f)
{
	unsigned may = f == C->funcs ? 1u << 1 : 0x3eu; /* a function's r1..r5 may be passed it */
	bool spilled = false;
	for (bool again = true; again;) {
		again = false;
		for (int i = f->first; i < f->first + f->n; i++) {
			const struct ir_ins *in = &C->ir[i];
			if (in->kind != IR_OP || in->dst >= 16 || in->src >= 16)
				continue;
			unsigned was = may;
			bool sp = spilled;
			if (in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && ((may >> in->src) & 1))
				may |= 1u << in->dst;
			if (in->code == (BPF_STX | BPF_MEM | BPF_DW) && in->dst == BPF_REG_10 && ((may >> in->src) & 1))
				spilled = true;
			if (in->code == (BPF_LDX | BPF_MEM | BPF_DW) && in->src == BPF_REG_10 && spilled)
				may |= 1u << in->dst;
			again |= may != was || sp != spilled;
		}
	}
	return may;
}

/* Does in load or store through a register of the mask? */
static bool through(const struct ir_ins *in, unsigned regs)
{
	if (in->kind != IR_OP)
		return false;
	uint8_t cls = BPF_CLASS(in->code);
	int base = cls == BPF_LDX ? in->src : cls == BPF_ST || cls == BPF_STX ? in->dst : -1;
	return base >= 0 && base < 16 && ((regs >> base) & 1);
}


/* How many instructions end both the way into g (back to a label) and the
** way that falls into position end (back to a goto or an exit, not into
** g); *start: where the second copy starts. */
static int common_tail(const struct ctx *C, const struct ir_func *f, int g, int end, int *start,
		       unsigned ctx_regs)
{
	int a = g - 1, b = end - 1, n = 0;
	for (;;) {
		while (a > f->first && C->ir[a].kind == IR_NOP)
			a--;
		while (b > g && (C->ir[b].kind == IR_NOP || C->ir[b].kind == IR_LABEL))
			b--;
		if (a <= f->first || b <= g || C->ir[a].kind == IR_LABEL)
			return n;
		const struct ir_ins *x = &C->ir[a], *y = &C->ir[b];
		if (y->kind == IR_EXIT || (y->kind == IR_JMP && y->code == (BPF_JMP | BPF_JA)) ||
		    x->kind == IR_EXIT || !same_ins(x, y) || through(x, ctx_regs))
			return n;
		*start = b;
		n++;
		a--, b--;
	}
}

/* One merge at the `goto` at index g, or false: with the way that falls
** into its label, or with a later `goto` to the same label. */
static bool merge_at(struct ctx *C, struct ir_func *f, int g, unsigned ctx_regs, const int *where)
{
	int label = C->ir[g].label, l = where[label];
	if (l <= g)
		return false;
	int start = -1, n = common_tail(C, f, g, l, &start, ctx_regs);
	for (int j = g + 1; n == 0 && j < l; j++)
		if (C->ir[j].kind == IR_JMP && C->ir[j].code == (BPF_JMP | BPF_JA) && C->ir[j].label == label)
			n = common_tail(C, f, g, j, &start, ctx_regs);
	if (n == 0 || C->nlabels >= MAX_IR)
		return false;
	int m = C->nlabels++;
	/* A's copy goes (it lies before g, so start, after g, moves by one) */
	for (int i = g - 1, k = 0; k < n; i--) {
		if (C->ir[i].kind == IR_NOP)
			continue;
		C->ir[i].kind = IR_NOP;
		k++;
	}
	C->ir[g].label = m;
	if (!ir_insert_label(C, f, start, m))
		bpfc_fail(C, "program is too long (more than %d instructions)", MAX_INSNS);
	return true;
}

void tail_merge(struct ctx *C, const struct ir_func *cf)
{
	struct ir_func *f = &C->funcs[cf - C->funcs];
	unsigned ctx_regs = context_regs(C, f);
	int *where = scratch(C, sizeof(int) * (MAX_IR + 1)); /* each label's index */
	for (bool again = true; again;) {
		again = false;
		for (int l = 0; l < C->nlabels; l++)
			where[l] = -1;
		for (int i = f->first; i < f->first + f->n; i++)
			if (C->ir[i].kind == IR_LABEL)
				where[C->ir[i].label] = i;
		for (int i = f->first; i < f->first + f->n && !again; i++) {
			const struct ir_ins *in = &C->ir[i];
			/* (a merge moves indexes: then from the start again) */
			again = in->kind == IR_JMP && in->code == (BPF_JMP | BPF_JA) && merge_at(C, f, i, ctx_regs, where);
		}
	}
	scratch_pop(C, 1);
}
