/*
** The Internet checksum summed in network order.  A header's checksum in
** Lua reads each 16-bit word (in host order: a load and a byte swap) and
** folds the sum:
**
**   s = w0 + w1 + ... ; t = band(s, 0xffff) + rshift(s, 16)
**   t = t + rshift(t, 16) ; return band(bnot(t), 0xffff)
**
** The ones' complement sum does not care about byte order (RFC 1071, 2.B):
** swapping the bytes of a 16-bit x is multiplying it by 256 modulo 0xffff,
** so the folded sum of the swapped words is the swapped folded sum of the
** words as loaded (0 only when every word is 0, either way).  So the words
** are summed as they are loaded and only the result is swapped: one swap
** instead of one per word, what clang's code for the C does.  The two folds
** are exact while the sum stays below 2^32 (at most 65537 words).
**
** On the IR after dead_definitions, in one block:
**
**   r0 = *(u16 *)..; r0 = be16 r0; vS = r0             the first word
**   r0 = *(u16 *)..; r0 = be16 r0; vX = r0; vS += vX   each further word
**   vT = vS; vT &= 0xffff; vS >>= 16; vT += vS
**   vU = vT; vU >>= 16; vT += vU
**   vT ^= -1; vT &= 0xffff
**
** The swaps go and the last `&= 0xffff` becomes `vT = be16 vT` (which keeps
** the low 16 bits only).  Each of vS, vX, vT, vU is read nowhere else, as
** their values change, and each word's r0 only by its copy.
*/
#include "core.h"

#define MAX_WORDS 65537

static bool is(const struct ir_ins *in, uint8_t code, int dst, int src, int64_t imm)
{
	if (in->kind != IR_OP || in->code != code || in->dst != dst)
		return false;
	bool reg = BPF_SRC(code) == BPF_X && BPF_OP(code) != BPF_END; /* (BPF_TO_BE is BPF_X) */
	return reg ? in->src == src : in->imm == imm;
}

/* The next instruction after i that is not deleted, or -1 at a label or
** the function's end. */
static int next(const struct ctx *C, const struct ir_func *f, int i)
{
	for (i++; i < f->first + f->n; i++) {
		if (C->ir[i].kind == IR_LABEL)
			return -1;
		if (C->ir[i].kind != IR_NOP)
			return i;
	}
	return -1;
}

/* A word at i: `r0 = *(u16 *)(..); r0 = be16 r0; vX = r0`, vX then at *copy. */
static bool word(const struct ctx *C, const struct ir_func *f, int i, int *swap, int *copy)
{
	const struct ir_ins *l = &C->ir[i];
	if (l->kind != IR_OP || l->code != (BPF_LDX | BPF_MEM | BPF_H) || l->dst != BPF_REG_0)
		return false;
	int s = next(C, f, i), c = s < 0 ? -1 : next(C, f, s);
	if (c < 0 || !is(&C->ir[s], BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_0, 0, 16) ||
	    C->ir[c].code != (BPF_ALU64 | BPF_MOV | BPF_X) || C->ir[c].src != BPF_REG_0 || C->ir[c].dst < IR_VREG0)
		return false;
	/* r0, swapped, is read by the copy alone: written again before anything else reads it */
	for (int k = c + 1; k < f->first + f->n; k++) {
		const struct ir_ins *in = &C->ir[k];
		if (in->kind == IR_NOP)
			continue;
		if (in->kind == IR_LABEL || ir_reads(in, BPF_REG_0))
			return false;
		if (ir_writes(in, BPF_REG_0))
			break;
	}
	*swap = s;
	*copy = c;
	return true;
}

/* Is register r read anywhere in f but at the instructions of the mask? */
static bool read_elsewhere(const struct ctx *C, const struct ir_func *f, int r, const int *at, int nat)
{
	for (int i = f->first; i < f->first + f->n; i++) {
		if (C->ir[i].kind == IR_NOP || C->ir[i].kind == IR_LABEL || !ir_reads(&C->ir[i], r))
			continue;
		bool ours = false;
		for (int k = 0; k < nat && !ours; k++)
			ours = at[k] == i;
		if (!ours)
			return true;
	}
	return false;
}

/* The pattern from the first word's load at i: true when rewritten. */
static bool rewrite_at(struct ctx *C, const struct ir_func *f, int i, int *swaps, int *uses)
{
	int sw, cp;
	if (!word(C, f, i, &sw, &cp))
		return false;
	int s = C->ir[cp].dst, nw = 0, nu = 0;
	swaps[nw++] = sw;
	int k = next(C, f, cp);
	/* the further words */
	for (;;) {
		int sw2, cp2;
		if (k < 0 || nw >= MAX_WORDS || !word(C, f, k, &sw2, &cp2))
			break;
		int x = C->ir[cp2].dst, add = next(C, f, cp2);
		if (add < 0 || x == s || !is(&C->ir[add], BPF_ALU64 | BPF_ADD | BPF_X, s, x, 0))
			break;
		for (int j = f->first; j < f->first + f->n; j++) /* vX: one definition, one read */
			if (C->ir[j].kind != IR_NOP && j != cp2 && j != add && (ir_reads(&C->ir[j], x) || ir_writes(&C->ir[j], x)))
				return false;
		swaps[nw++] = sw2;
		uses[nu++] = add;
		k = next(C, f, add);
	}
	if (nw < 2 || k < 0)
		return false;
	/* the folds */
	const struct ir_ins *in = &C->ir[k];
	int t = in->dst;
	if (in->code != (BPF_ALU64 | BPF_MOV | BPF_X) || in->src != s || t < IR_VREG0 || t == s)
		return false;
	int f1[4] = {k}, f2[3], f3[2];
	for (int j = 1; j < 4; j++)
		if ((f1[j] = next(C, f, f1[j - 1])) < 0)
			return false;
	if (!is(&C->ir[f1[1]], BPF_ALU64 | BPF_AND | BPF_K, t, 0, 0xffff) ||
	    !is(&C->ir[f1[2]], BPF_ALU64 | BPF_RSH | BPF_K, s, 0, 16) ||
	    !is(&C->ir[f1[3]], BPF_ALU64 | BPF_ADD | BPF_X, t, s, 0))
		return false;
	f2[0] = next(C, f, f1[3]);
	for (int j = 1; j < 3 && f2[j - 1] >= 0; j++)
		f2[j] = next(C, f, f2[j - 1]);
	if (f2[0] < 0 || f2[2] < 0)
		return false;
	int u = C->ir[f2[0]].dst;
	if (C->ir[f2[0]].code != (BPF_ALU64 | BPF_MOV | BPF_X) || C->ir[f2[0]].src != t || u < IR_VREG0 ||
	    u == t || u == s || !is(&C->ir[f2[1]], BPF_ALU64 | BPF_RSH | BPF_K, u, 0, 16) ||
	    !is(&C->ir[f2[2]], BPF_ALU64 | BPF_ADD | BPF_X, t, u, 0))
		return false;
	f3[0] = next(C, f, f2[2]);
	f3[1] = f3[0] < 0 ? -1 : next(C, f, f3[0]);
	if (f3[1] < 0 || !is(&C->ir[f3[0]], BPF_ALU64 | BPF_XOR | BPF_K, t, 0, -1) ||
	    !is(&C->ir[f3[1]], BPF_ALU64 | BPF_AND | BPF_K, t, 0, 0xffff))
		return false;
	/* vS, vT, vU read nowhere else (vT after its last `&=` may be: the
	** result is the same there) */
	uses[nu++] = f1[0], uses[nu++] = f1[2], uses[nu++] = f1[3];
	if (read_elsewhere(C, f, s, uses, nu))
		return false;
	for (int j = f->first; j < f->first + f->n; j++) /* vS written only here */
		if (C->ir[j].kind != IR_NOP && ir_writes(&C->ir[j], s) && j != cp && j != f1[2]) {
			bool acc = false;
			for (int q = 0; q < nu && !acc; q++)
				acc = uses[q] == j;
			if (!acc)
				return false;
		}
	int tu[] = {f1[0], f1[1], f1[3], f2[0], f2[2], f3[0], f3[1]}, uu[] = {f2[1], f2[2]};
	for (int j = f->first; j < f->first + f->n; j++) {
		const struct ir_ins *q = &C->ir[j];
		if (q->kind == IR_NOP || q->kind == IR_LABEL)
			continue;
		bool in_t = false;
		for (int z = 0; z < 7; z++)
			in_t |= tu[z] == j;
		if ((j < f1[0] || (j < f3[1] && !in_t)) && (ir_reads(q, t) || ir_writes(q, t)))
			return false; /* vT read or written before its value is the result */
		if ((ir_reads(q, u) || ir_writes(q, u)) && j != f2[0] && j != uu[0] && j != uu[1])
			return false;
	}
	for (int j = 0; j < nw; j++)
		C->ir[swaps[j]].kind = IR_NOP;
	struct ir_ins *last = &C->ir[f3[1]];
	last->code = BPF_ALU | BPF_END | BPF_TO_BE;
	last->imm = 16;
	return true;
}

void csum_order(struct ctx *C, const struct ir_func *f)
{
	int n = f->n;
	int *swaps = scratch(C, sizeof(int) * (size_t)(n + 1));
	int *uses = scratch(C, sizeof(int) * (size_t)(n + 4));
	for (int i = f->first; i < f->first + f->n; i++)
		rewrite_at(C, f, i, swaps, uses);
	scratch_pop(C, 2);
}
