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
** byte read at k + 1 goes too when nothing else reads what it gave
** (drop_second), else it stays for its other readers.  Safe when:
**
** - everything from the first load to the `|=` is one path (no label, jump
**   or exit) with no effect (a call, a store that is not to the stack): the
**   halfword load fails earlier than the second byte's would, so nothing
**   may be seen in between;
** - nothing but `vA = r0` reads the first load's r0 (the others read the
**   halfword now), and nothing reads vA between its shift and the `|=`;
** - an LD_IND's offset register is the same and unchanged in between.
*/
#include <string.h>
#include "core.h"

static bool is_byte_load(const struct ir_ins *in)
{
	uint8_t mode = BPF_MODE(in->code);
	return in->kind == IR_OP && BPF_CLASS(in->code) == BPF_LD && BPF_SIZE(in->code) == BPF_B &&
	       (mode == BPF_ABS || mode == BPF_IND);
}

static bool has_effect(const struct ir_ins *in)
{
	uint8_t cls = BPF_CLASS(in->code);
	return in->kind == IR_CALL || in->kind == IR_EXIT || in->kind == IR_JMP || in->kind == IR_LABEL ||
	       (in->kind == IR_OP && (cls == BPF_ST || cls == BPF_STX) && in->dst != BPF_REG_10);
}

/* How many instructions of the function read each virtual register:
** counted the first time a match needs it (most functions never get that
** far), then the pass takes off what it drops. */
struct readers {
	struct ctx *C;
	const struct ir_func *f;
	int *n;
};

static void count_reads(int *n, const struct ir_ins *in, int by)
{
	struct operands o = ir_operands(in, false);
	if (o.use_dst && in->dst >= IR_VREG0)
		n[in->dst] += by;
	if (o.use_src && in->src >= IR_VREG0 && !(o.use_dst && in->src == in->dst))
		n[in->src] += by;
}

/* Is in a copy into a virtual register nothing reads? */
static bool unread_copy(struct readers *rd, const struct ir_ins *in)
{
	if (in->kind != IR_OP || in->code != (BPF_ALU64 | BPF_MOV | BPF_X) || in->dst < IR_VREG0 ||
	    in->dst >= rd->C->nvregs)
		return false;
	if (!rd->n) {
		rd->n = scratch(rd->C, sizeof(int) * (size_t)rd->C->nvregs);
		memset(rd->n, 0, sizeof(int) * (size_t)rd->C->nvregs);
		for (int i = rd->f->first; i < rd->f->first + rd->f->n; i++)
			if (rd->C->ir[i].kind != IR_NOP && rd->C->ir[i].kind != IR_LABEL)
				count_reads(rd->n, &rd->C->ir[i], 1);
	}
	return rd->n[in->dst] == 0;
}

/* The nearest instruction before at (back to from) that writes r: its
** index; -1 when none does, or something with an effect or (no_reads) a
** read of r comes first. */
static int writer(const struct ctx *C, int from, int at, int r, bool no_reads)
{
	for (int j = at - 1; j >= from; j--) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (has_effect(in))
			return -1;
		if (ir_writes(in, r))
			return j;
		if (no_reads && ir_reads(in, r))
			return -1;
	}
	return -1;
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
		if (ir_writes(in, a))
			return false;
		if (ir_writes(in, b))
			return in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && in->src == a;
	}
	return false;
}

/* At `vA |= vB` (instruction at): the pattern above, its first load and
** the shift of vA; false when it is not there. */
static bool match(const struct ctx *C, struct readers *rd, int from, int at, int *load0, int *shift,
		  int *second)
{
	const struct ir_ins *op = &C->ir[at];
	int a = op->dst, b = op->src;
	if (a < IR_VREG0 || b < IR_VREG0 || a == b)
		return false;
	/* vB's definition: `vB = r0` right after the second byte's load */
	int j = writer(C, from, at, b, false);
	if (j < 0 || C->ir[j].code != (BPF_ALU64 | BPF_MOV | BPF_X) || C->ir[j].src != BPF_REG_0)
		return false;
	int load1 = writer(C, from, j, BPF_REG_0, false);
	if (load1 < 0 || !is_byte_load(&C->ir[load1]))
		return false;
	/* vA: `vA <<= 8` (or `*= 256`) after `vA = r0` right after the first byte's load */
	int sh = writer(C, from, at, a, true);
	const struct ir_ins *s = sh >= 0 ? &C->ir[sh] : NULL;
	if (!s || !((s->code == (BPF_ALU64 | BPF_LSH | BPF_K) && s->imm == 8) ||
		    (s->code == (BPF_ALU64 | BPF_MUL | BPF_K) && s->imm == 256)))
		return false;
	int mov = writer(C, from, sh, a, true);
	if (mov < 0 || C->ir[mov].code != (BPF_ALU64 | BPF_MOV | BPF_X) || C->ir[mov].src != BPF_REG_0)
		return false;
	j = writer(C, from, mov, BPF_REG_0, false);
	if (j < 0 || !is_byte_load(&C->ir[j]))
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
		if (ir_reads(in, BPF_REG_0) && !ir_writes(in, BPF_REG_0) && !unread_copy(rd, in))
			return false;
		if (ir_writes(in, BPF_REG_0))
			break;
	}
	if (BPF_MODE(l0->code) == BPF_IND)
		for (int k = j + 1; k < load1; k++)
			if (ir_writes(&C->ir[k], l0->src))
				return false;
	*load0 = j;
	*shift = sh;
	*second = load1;
	return true;
}

/* The second byte's load k, when nothing reads what it gives: the
** halfword load failed already where it would, so it goes too (a classic
** load dead_definitions keeps, as it could fail). */
static void drop_second(struct ctx *C, const struct ir_func *f, struct readers *rd, int k)
{
	for (int j = k + 1; j < f->first + f->n; j++) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_NOP)
			continue;
		if (in->kind == IR_LABEL || in->kind == IR_JMP)
			return; /* (r0 read on another path: keep it) */
		if (ir_reads(in, BPF_REG_0) && !unread_copy(rd, in))
			return;
		if (ir_writes(in, BPF_REG_0))
			break;
	}
	C->ir[k].kind = IR_NOP;
}

void combine_loads(struct ctx *C, const struct ir_func *f)
{
	int from = f->first;
	struct readers rd = {.C = C, .f = f, .n = NULL};
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
		/* (the pattern is a few instructions long: a window keeps long blocks linear) */
		if (!match(C, &rd, from > i - 48 ? from : i - 48, i, &load0, &shift, &second))
			continue;
		struct ir_ins *l0 = &C->ir[load0];
		l0->code = (uint8_t)(BPF_LD | BPF_H | BPF_MODE(l0->code));
		if (rd.n)
			count_reads(rd.n, &C->ir[shift], -1);
		C->ir[shift].kind = IR_NOP;
		if (rd.n)
			count_reads(rd.n, in, -1);
		in->kind = IR_NOP;
		drop_second(C, f, &rd, second);
	}
	if (rd.n)
		scratch_pop(C, 1);
}
