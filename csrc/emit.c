/*
** Appending IR instructions (ir.h), each tagged with the bytecode it came
** from.  Jumps name labels; emit_label places one where the next
** instruction goes.
*/
#include "core.h"

static struct ir_ins *ir_add(struct ctx *C, uint8_t kind)
{
	if (C->nir >= MAX_IR)
		bpfc_fail(C, "program is too long (more than %d instructions)", MAX_INSNS);
	struct ir_ins *i = &C->ir[C->nir++];
	*i = (struct ir_ins){.kind = kind, .helper = -1, .pc = (uint16_t)C->pc, .label = -1};
	return i;
}

/* Any instruction but a jump: exit and calls become IR_EXIT and IR_CALL. */
void emit(struct ctx *C, uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
	uint8_t cls = BPF_CLASS(code), op = BPF_OP(code);
	uint8_t kind = IR_OP;
	if (cls == BPF_JMP || cls == BPF_JMP32) {
		if (op == BPF_EXIT)
			kind = IR_EXIT;
		else if (op == BPF_CALL)
			kind = IR_CALL;
		else
			bpfc_fail(C, "internal: a jump emitted without a label");
	}
	struct ir_ins *i = ir_add(C, kind);
	i->code = code;
	i->dst = (uint16_t)dst;
	i->src = (uint16_t)src;
	i->off = off;
	i->imm = imm;
}

/* The label a label argument names: one below nbc is a bytecode pc, which
** stands for itself or, in an unrolled copy of a loop body, for the copy's
** own label (made when first named). */
static int pc_label(struct ctx *C, int label)
{
	if (label >= C->nbc)
		return label;
	if (C->pclabel[label] < 0)
		C->pclabel[label] = label_new(C);
	return C->pclabel[label];
}

/* A jump to label (code: BPF_JMP | op | BPF_K or BPF_X, or BPF_JMP | BPF_JA). */
void emit_jmp(struct ctx *C, uint8_t code, int dst, int src, int32_t imm, int label)
{
	if (label < C->nbc)
		C->jumped[label] = true;
	label = pc_label(C, label);
	struct ir_ins *i = ir_add(C, IR_JMP);
	i->code = code;
	i->dst = (uint16_t)dst;
	i->src = (uint16_t)src;
	i->imm = imm;
	i->label = label;
}

void emit_ja(struct ctx *C, int label)
{
	emit_jmp(C, BPF_JMP | BPF_JA, 0, 0, 0, label);
}

/* A fresh label, placed later with emit_label. */
int label_new(struct ctx *C)
{
	if (C->nlabels >= MAX_IR)
		bpfc_fail(C, "program is too long (more than %d instructions)", MAX_INSNS);
	return C->nlabels++;
}

void emit_label(struct ctx *C, int label)
{
	label = pc_label(C, label);
	ir_add(C, IR_LABEL)->label = label;
}

void emit_call(struct ctx *C, int func, int helper)
{
	struct ir_ins *i = ir_add(C, IR_CALL);
	i->code = BPF_JMP | BPF_CALL;
	i->imm = func;
	i->helper = (int16_t)helper;
}

/* A BPF-to-BPF call of subprogram sub (C->subs), its nargs arguments in
** r1..; encode resolves the target. */
void emit_subcall(struct ctx *C, int sub, int nargs)
{
	struct ir_ins *i = ir_add(C, IR_CALL);
	i->code = BPF_JMP | BPF_CALL;
	i->imm = sub;
	i->helper = IR_SUBPROG;
	i->off = (int16_t)nargs;
}

/* dst = the address of subprogram sub (a bpf_loop callback): an lddw of
** BPF_PSEUDO_FUNC that encode makes relative, like a call. */
void emit_func_addr(struct ctx *C, int dst, int sub)
{
	struct ir_ins *i = ir_add(C, IR_LD64);
	i->code = BPF_LD | BPF_DW | BPF_IMM;
	i->dst = (uint16_t)dst;
	i->imm = sub;
	i->helper = IR_SUBPROG;
}

/* dst = the address of the program's map number index. */
void emit_map(struct ctx *C, int dst, int index)
{
	struct ir_ins *i = ir_add(C, IR_MAP);
	i->code = BPF_LD | BPF_DW | BPF_IMM;
	i->dst = (uint16_t)dst;
	i->src = BPF_PSEUDO_MAP_FD;
	i->imm = index;
}

/* lddw: a 64-bit immediate. */
void emit_ld64(struct ctx *C, int dst, int64_t imm)
{
	struct ir_ins *i = ir_add(C, IR_LD64);
	i->code = BPF_LD | BPF_DW | BPF_IMM;
	i->dst = (uint16_t)dst;
	i->imm = imm;
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
		emit_ld64(C, dst, imm);
}
