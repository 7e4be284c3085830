/*
** Operations narrowed to 32 bits.  `bit.band(x * K, 0xffffffff)` translates
** to a 64-bit multiply and then `wD = wD`, the zero extension of its low
** half.  The low 32 bits of a sum, difference, product, bitwise operation,
** negation or left shift by less than 32 depend only on the low 32 bits of
** its operands, and BPF's 32-bit ALU zero-extends what it writes: so
**
**   rD op= S; wD = wD      is      wD op= S
**
** whenever nothing can land between the two (no label: the pair is one
** path).  The 64-bit value is never seen, as the extension overwrites it.
**
** A 32-bit operation then takes only the low half of a register operand,
** so `rS = K` (a constant the 64-bit form needed in a register, as
** 0x85ebca6b does not fit a sign-extended immediate) becomes the immediate
** (int32)K when that definition is the last one of S in the block;
** dead_definitions, after this pass, drops the constant nothing reads.
*/
#include "core.h"

static bool narrows(const struct ir_ins *in)
{
	if (in->kind != IR_OP || BPF_CLASS(in->code) != BPF_ALU64)
		return false;
	switch (BPF_OP(in->code)) {
	case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_AND: case BPF_OR: case BPF_XOR:
		return true;
	case BPF_NEG:
		return BPF_SRC(in->code) == BPF_K;
	case BPF_LSH: /* 64-bit shifts count modulo 64, 32-bit ones modulo 32 */
		return BPF_SRC(in->code) == BPF_K && in->imm >= 0 && in->imm < 32;
	default:
		return false;
	}
}

static bool is_zext(const struct ir_ins *in)
{
	return in->kind == IR_OP && in->code == (BPF_ALU | BPF_MOV | BPF_X) && in->dst == in->src;
}

/* The constant register s holds at instruction i, from its last
** definition before i in the same stretch (no label between). */
static bool constant_at(const struct ctx *C, int from, int i, int s, int64_t *k)
{
	for (int j = i - 1; j >= from; j--) {
		const struct ir_ins *in = &C->ir[j];
		if (in->kind == IR_LABEL)
			return false;
		if (in->kind == IR_NOP)
			continue;
		if (!ir_writes(in, s))
			continue;
		if (in->kind == IR_OP && BPF_OP(in->code) == BPF_MOV && BPF_SRC(in->code) == BPF_K &&
		    (BPF_CLASS(in->code) == BPF_ALU || BPF_CLASS(in->code) == BPF_ALU64) && in->dst == s &&
		    in->off == 0) {
			*k = in->imm;
			return true;
		}
		if (in->kind == IR_LD64 && in->helper != IR_SUBPROG && in->dst == s) {
			*k = in->imm;
			return true;
		}
		return false;
	}
	return false;
}

void narrow_to_32(struct ctx *C, const struct ir_func *f)
{
	int end = f->first + f->n;
	for (int i = f->first; i < end; i++) {
		struct ir_ins *in = &C->ir[i];
		if (!narrows(in))
			continue;
		int j = i + 1;
		while (j < end && C->ir[j].kind == IR_NOP)
			j++;
		if (j >= end || !is_zext(&C->ir[j]) || C->ir[j].dst != in->dst)
			continue;
		in->code = (uint8_t)(BPF_ALU | BPF_OP(in->code) | BPF_SRC(in->code));
		C->ir[j].kind = IR_NOP;
		int64_t k;
		if (BPF_SRC(in->code) == BPF_X && in->src != in->dst &&
		    constant_at(C, f->first, i, in->src, &k)) {
			in->code = (uint8_t)(BPF_ALU | BPF_OP(in->code) | BPF_K);
			in->imm = (int32_t)(uint32_t)k;
			in->src = 0;
		}
	}
}
