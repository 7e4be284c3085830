/*
** Two packet bytes read as one 16-bit word.  `bit.bor(bit.lshift(p[k], 8),
** p[k + 1])` (or `+` for the `bor`) is what the classic halfword load at k
** gives: both read in network order, and both fail, returning 0, on a
** packet shorter than k + 2.  Before direct_packet, on the classic loads:
**
**   r0 = b[k]; vA = r0; vA <<= 8; ... r0 = b[k+1]; vB = r0; ... vA |= vB
**
** (`vA *= 256` for the shift, `+=` for the `|=`)
**
** becomes `r0 = h[k]; vA = r0; ...`, the shift and the `|=` dropped.  The
** byte read at k + 1 stays for whatever else reads vB (dead_definitions
** drops it when nothing does, once it is a direct load).  Safe when:
**
** - everything from the first load to the `|=` is one path (no label, jump
**   or exit) with no effect (a call, a store that is not to the stack): the
**   halfword load fails earlier than the second byte's would, so nothing
**   may be seen in between;
** - nothing but `vA = r0` reads the first load's r0 (the others read the
**   halfword now), and nothing reads vA between its shift and the `|=`;
** - an LD_IND's offset register is the same and unchanged in between.
*/
#include "core.h"

static bool is_byte_load(const struct ir_ins *in)
{
	uint8_t mode = BPF_MODE(in->code);
	return in->kind == IR_OP && BPF_CLASS(in->code) == BPF_LD && BPF_SIZE(in->code) == BPF_B &&
	       (mode == BPF_ABS || mode == BPF_IND);
}

static bool reads(const struct ir_ins *in, int r)
{
	struct operands o = ir_operands(in, false);
	return (o.use_dst && in->dst == r) || (o.use_src && in->src == r) || (r < 16 && ((o.uses >> r) & 1));
}

static bool writes(const struct ir_ins *in, int r)
{
	struct operands o = ir_operands(in, false);
	return (o.def_dst && in->dst == r) || (o.def_src && in->src == r) || (r < 16 && ((o.defs >> r) & 1));
}

static bool has_effect(const struct ir_ins *in)
{
	uint8_t cls = BPF_CLASS(in->code);
	return in->kind == IR_CALL || in->kind == IR_EXIT || in->kind == IR_JMP || in->kind == IR_LABEL ||
	       (in->kind == IR_OP && (cls == BPF_ST || cls == BPF_STX) && in->dst != BPF_REG_10);
}

/* Is in a copy into a virtual register nothing in f reads? */
static bool unread_copy(const struct ctx *C, const struct ir_func *f, const struct ir_ins *in)
{
	if (in->kind != IR_OP || in->code != (BPF_ALU64 | BPF_MOV | BPF_X) || in->dst < IR_VREG0)
		return false;
	for (int i = f->first; i < f->first + f->n; i++)
		if (C->ir[i].kind != IR_NOP && reads(&C->ir[i], in->dst))
			return false;
	return true;
}

/* Does the LD_IND at load1 read its offset from l0's register, or from a
** copy of it made while that held its value? */
static bool same_offset(const struct ctx *C, int from, const struct ir_ins *l0, int load1)
{
	int a = l0->src, b = C->ir[load1].src;
	if (a == b)
		return true;
	for (int j = load1 - 1; j >= from; j--) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (writes(in, a))
			return false;
		if (writes(in, b))
			return in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && in->src == a;
	}
	return false;
}

/* At `vA |= vB` (instruction at): the pattern above, its first load and
** the shift of vA; false when it is not there. */
static bool match(const struct ctx *C, const struct ir_func *f, int from, int at, int *load0, int *shift,
		  int *second)
{
	const struct ir_ins *op = &C->ir[at];
	int a = op->dst, b = op->src;
	if (a < IR_VREG0 || b < IR_VREG0 || a == b)
		return false;
	/* vB's definition: `vB = r0` right after the second byte's load */
	int j = at - 1, load1 = -1;
	for (; j >= from; j--) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (has_effect(in))
			return false;
		if (writes(in, b))
			break;
	}
	if (j < from || C->ir[j].code != (BPF_ALU64 | BPF_MOV | BPF_X) || C->ir[j].src != BPF_REG_0)
		return false;
	for (j--; j >= from; j--) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (has_effect(in))
			return false;
		if (writes(in, BPF_REG_0)) {
			load1 = j;
			break;
		}
	}
	if (load1 < 0 || !is_byte_load(&C->ir[load1]))
		return false;
	/* vA: `vA <<= 8` (or `*= 256`) after `vA = r0` right after the first byte's load */
	int sh = -1;
	for (j = at - 1; j >= from; j--) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (has_effect(in))
			return false;
		if (writes(in, a)) {
			sh = j;
			break;
		}
		if (reads(in, a))
			return false;
	}
	const struct ir_ins *s = sh >= 0 ? &C->ir[sh] : NULL;
	if (!s || !((s->code == (BPF_ALU64 | BPF_LSH | BPF_K) && s->imm == 8) ||
		    (s->code == (BPF_ALU64 | BPF_MUL | BPF_K) && s->imm == 256)))
		return false;
	for (j = sh - 1; j >= from; j--) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (has_effect(in) || reads(in, a))
			return false;
		if (writes(in, a))
			break;
	}
	if (j < from || C->ir[j].code != (BPF_ALU64 | BPF_MOV | BPF_X) || C->ir[j].src != BPF_REG_0)
		return false;
	int mov = j;
	for (j--; j >= from; j--) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (has_effect(in))
			return false;
		if (writes(in, BPF_REG_0))
			break;
	}
	if (j < from || !is_byte_load(&C->ir[j]))
		return false;
	const struct ir_ins *l0 = &C->ir[j], *l1 = &C->ir[load1];
	if (BPF_MODE(l0->code) != BPF_MODE(l1->code) || l1->imm != l0->imm + 1 ||
	    (BPF_MODE(l0->code) == BPF_IND && !same_offset(C, from, l0, load1)))
		return false;
	/* no other reader of the first load's r0; an LD_IND's offset unchanged */
	for (int k = j + 1; k < load1; k++) {
		const struct ir_ins *in = &C->ir[k];
		if (in->kind == IR_NOP || k == mov)
			continue;
		if (reads(in, BPF_REG_0) && !writes(in, BPF_REG_0) && !unread_copy(C, f, in))
			return false;
		if (writes(in, BPF_REG_0))
			break;
	}
	if (BPF_MODE(l0->code) == BPF_IND)
		for (int k = j + 1; k < load1; k++)
			if (writes(&C->ir[k], l0->src))
				return false;
	*load0 = j;
	*shift = sh;
	*second = load1;
	return true;
}

/* The second byte's load k, when nothing reads what it gives: the
** halfword load failed already where it would, so it goes too (a classic
** load dead_definitions keeps, as it could fail). */
static void drop_second(struct ctx *C, const struct ir_func *f, int k)
{
	for (int j = k + 1; j < f->first + f->n; j++) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (in->kind == IR_LABEL || in->kind == IR_JMP)
			return; /* (r0 read on another path: keep it) */
		if (reads(in, BPF_REG_0) && !unread_copy(C, f, in))
			return;
		if (writes(in, BPF_REG_0))
			break;
	}
	C->ir[k].kind = IR_NOP;
}

void combine_loads(struct ctx *C, const struct ir_func *f)
{
	int from = f->first;
	for (int i = f->first; i < f->first + f->n; i++) {
		struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_LABEL) {
			from = i + 1;
			continue;
		}
		if (in->kind != IR_OP ||
		    (in->code != (BPF_ALU64 | BPF_OR | BPF_X) && in->code != (BPF_ALU64 | BPF_ADD | BPF_X)))
			continue;
		int load0, shift, second;
		if (!match(C, f, from, i, &load0, &shift, &second))
			continue;
		struct ir_ins *l0 = &C->ir[load0];
		l0->code = (uint8_t)(BPF_LD | BPF_H | BPF_MODE(l0->code));
		C->ir[shift].kind = IR_NOP;
		in->kind = IR_NOP;
		drop_second(C, f, second);
	}
}
