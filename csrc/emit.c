/*
** Appending instructions, each tagged with the bytecode it came from.
*/
#include "core.h"

void emit(struct ctx *C, uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
	if (C->ninsn >= MAX_INSNS)
		bpfc_fail(C, "program is too long (more than %d instructions)", MAX_INSNS);
	struct bpf_insn *i = &C->insn[C->ninsn];
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
	C->insn_bc[C->ninsn++] = (uint16_t)C->pc;
}

/* lddw: a 64-bit immediate in two slots (src may be BPF_PSEUDO_MAP_FD). */
void emit_ld64(struct ctx *C, int dst, int src, int64_t imm)
{
	emit(C, BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, (int32_t)(uint32_t)imm);
	emit(C, 0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)imm >> 32));
}

/* The shortest load of a constant: sign-extended imm32, zero-extended
** 32-bit move, or lddw. */
void emit_mov_imm(struct ctx *C, int dst, int64_t imm)
{
	if (imm >= INT32_MIN && imm <= INT32_MAX)
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)imm);
	else if (imm >= 0 && imm <= UINT32_MAX)
		emit(C, BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)(uint32_t)imm);
	else
		emit_ld64(C, dst, 0, imm);
}
