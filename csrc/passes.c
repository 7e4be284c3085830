/*
** Passes over the IR, run in the order of the list below once translation
** is done.  Each drops what turned out to be useless by turning it into
** IR_NOP; ir_compact removes those at the end.  Labels make deleting safe:
** no pass counts instructions.
*/
#include <string.h>
#include "core.h"

/* The next instruction at or after i that is not a label or deleted. */
static int next_real(const struct ctx *C, const struct ir_func *f, int i)
{
	while (i < f->first + f->n && (C->ir[i].kind == IR_LABEL || C->ir[i].kind == IR_NOP))
		i++;
	return i;
}

/* A jump to the very next instruction does nothing, taken or not. */
static void jump_to_next(struct ctx *C, const struct ir_func *f)
{
	for (int i = f->first; i < f->first + f->n; i++) {
		struct ir_ins *j = &C->ir[i];
		if (j->kind != IR_JMP)
			continue;
		for (int k = i + 1; k < f->first + f->n; k++) {
			const struct ir_ins *l = &C->ir[k];
			if (l->kind == IR_LABEL && l->label == j->label) {
				j->kind = IR_NOP;
				break;
			}
			if (l->kind != IR_LABEL && l->kind != IR_NOP)
				break;
		}
	}
}

/* Does in write its dst register without reading it first? */
static bool writes_fresh(const struct ir_ins *in)
{
	if (in->kind != IR_OP)
		return false;
	uint8_t cls = BPF_CLASS(in->code);
	if (cls == BPF_LDX)
		return true;
	if ((cls == BPF_ALU64 || cls == BPF_ALU) && BPF_OP(in->code) == BPF_MOV)
		return BPF_SRC(in->code) == BPF_K || in->src != in->dst;
	return false;
}

/* `rX = <value>; r0 = rX; exit` becomes `r0 = <value>; exit` when no jump
** lands between the two. */
static void return_in_r0(struct ctx *C, const struct ir_func *f)
{
	bool target[MAX_IR];
	memset(target, 0, sizeof(bool) * (size_t)C->nlabels);
	for (int i = f->first; i < f->first + f->n; i++)
		if (C->ir[i].kind == IR_JMP)
			target[C->ir[i].label] = true;
	int def = -1; /* the last real instruction, when no jump target followed it */
	for (int i = f->first; i < f->first + f->n; i++) {
		struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP)
			continue;
		if (in->kind == IR_LABEL) {
			if (target[in->label])
				def = -1;
			continue;
		}
		int ex = next_real(C, f, i + 1);
		if (def >= 0 && in->kind == IR_OP && in->code == (BPF_ALU64 | BPF_MOV | BPF_X) &&
		    in->dst == 0 && ex < f->first + f->n && C->ir[ex].kind == IR_EXIT &&
		    writes_fresh(&C->ir[def]) && C->ir[def].dst == in->src) {
			C->ir[def].dst = 0;
			in->kind = IR_NOP;
			def = -1;
			continue;
		}
		def = i;
	}
}

static bool uses_r6(const struct ir_ins *in)
{
	if (in->kind == IR_LABEL || in->kind == IR_NOP)
		return false;
	uint8_t cls = BPF_CLASS(in->code), mode = BPF_MODE(in->code);
	if (in->kind == IR_OP && cls == BPF_LD && (mode == BPF_ABS || mode == BPF_IND))
		return true;
	return in->src == 6 || in->dst == 6;
}

/* The prologue's `r6 = r1` when nothing uses r6. */
static void unused_ctx_copy(struct ctx *C, const struct ir_func *f)
{
	int first = next_real(C, f, f->first);
	if (first >= f->first + f->n)
		return;
	struct ir_ins *mov = &C->ir[first];
	if (mov->kind != IR_OP || mov->code != (BPF_ALU64 | BPF_MOV | BPF_X) || mov->dst != 6 ||
	    mov->src != 1)
		return;
	for (int i = first + 1; i < f->first + f->n; i++)
		if (uses_r6(&C->ir[i]))
			return;
	mov->kind = IR_NOP;
}

static const struct pass {
	const char *name;
	void (*run)(struct ctx *C, const struct ir_func *f);
} passes[] = {
	{"jump_to_next", jump_to_next},
	{"constants_once", constants_once},
	{"regalloc", regalloc},
	{"return_in_r0", return_in_r0},
	{"unused_ctx_copy", unused_ctx_copy},
};

/* Each function through the list; spill slots go into its own frame. */
void passes_run(struct ctx *C)
{
	for (int f = 0; f < C->nfuncs; f++) {
		C->stack_top = C->funcs[f].stack;
		for (size_t p = 0; p < sizeof(passes) / sizeof(passes[0]); p++)
			passes[p].run(C, &C->funcs[f]);
		C->funcs[f].stack = C->stack_top;
	}
	C->stack_top = C->funcs[0].stack;
	ir_compact(C);
}
