/*
** Passes over the IR, run in the order of the list below once translation
** is done, on each of the program's functions.  Each drops what turned out
** to be useless by turning it into IR_NOP (shared_exits also places a
** label); ir_compact removes those at the end.  Labels make deleting safe:
** no pass counts instructions.
*/
#include <stdlib.h>
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

/* `r0 = K; exit` more than once with the same K (every `return 0` of a
** parser): the earlier ones jump to the last, one instruction instead of
** two each.  Only a pair nothing jumps into between its two halves, so
** the exit it loses is its own; the jumps go forward. */
static void shared_exits(struct ctx *C, const struct ir_func *cf)
{
	struct ir_func *f = &C->funcs[cf - C->funcs];
	enum { MAX_PAIRS = 256 };
	int mov[MAX_PAIRS], n = 0;
	for (int i = f->first; i + 1 < f->first + f->n && n < MAX_PAIRS; i++) {
		const struct ir_ins *in = &C->ir[i];
		int j = i + 1;
		while (j < f->first + f->n && C->ir[j].kind == IR_NOP)
			j++;
		if (in->kind == IR_OP && in->code == (BPF_ALU64 | BPF_MOV | BPF_K) && in->dst == 0 &&
		    j < f->first + f->n && C->ir[j].kind == IR_EXIT)
			mov[n++] = i;
	}
	for (int last = n - 1; last > 0; last--) { /* the last pair of each constant is kept */
		if (mov[last] < 0)
			continue;
		int32_t k = (int32_t)C->ir[mov[last]].imm;
		int label = -1;
		for (int e = 0; e < last; e++) {
			if (mov[e] < 0 || (int32_t)C->ir[mov[e]].imm != k)
				continue;
			if (label < 0) {
				if (C->nlabels >= MAX_IR)
					return;
				label = C->nlabels++;
			}
			struct ir_ins *m = &C->ir[mov[e]];
			*m = (struct ir_ins){.kind = IR_JMP, .code = BPF_JMP | BPF_JA, .helper = -1,
					     .pc = m->pc, .label = label};
			int j = mov[e] + 1;
			while (C->ir[j].kind == IR_NOP)
				j++;
			C->ir[j].kind = IR_NOP; /* its exit */
			mov[e] = -1;
		}
		if (label >= 0) {
			if (!ir_insert_label(C, f, mov[last], label))
				bpfc_fail(C, "program is too long (more than %d instructions)", MAX_INSNS);
			for (int e = last; e < n; e++) /* everything from there moved up by one */
				if (mov[e] >= 0)
					mov[e]++;
		}
		mov[last] = -1;
	}
}

/* A jump to a `goto L2` goes to L2 itself (a `return 0` shared_exits made
** a jump of, reached by a test's jump); a `goto` nothing reaches any more
** is dropped, as the verifier refuses code it cannot reach. */
static void jump_threading(struct ctx *C, const struct ir_func *f)
{
	int end = f->first + f->n;
	int *at = malloc(sizeof(int) * (size_t)C->nlabels); /* label -> its instruction */
	bool *used = calloc((size_t)C->nlabels, 1);
	if (!at || !used) {
		free(at), free(used);
		return; /* an optimisation: without memory the jumps stay as they are */
	}
	for (int l = 0; l < C->nlabels; l++)
		at[l] = -1;
	for (int i = f->first; i < end; i++)
		if (C->ir[i].kind == IR_LABEL)
			at[C->ir[i].label] = i;
	for (int i = f->first; i < end; i++) {
		struct ir_ins *j = &C->ir[i];
		if (j->kind != IR_JMP)
			continue;
		for (int hops = 0; hops < 8 && at[j->label] >= 0; hops++) {
			int t = next_real(C, f, at[j->label]);
			if (t >= end || t == i || C->ir[t].kind != IR_JMP || C->ir[t].code != (BPF_JMP | BPF_JA))
				break;
			j->label = C->ir[t].label;
		}
	}
	for (int i = f->first; i < end; i++)
		if (C->ir[i].kind == IR_JMP)
			used[C->ir[i].label] = true;
	int prev = -1; /* the last real instruction */
	for (int i = f->first; i < end; i++) {
		struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP)
			continue;
		if (in->kind == IR_LABEL) {
			if (used[in->label])
				prev = -1; /* reached by a jump */
			continue;
		}
		bool no_way_in = prev >= 0 && (C->ir[prev].kind == IR_EXIT ||
					       (C->ir[prev].kind == IR_JMP && C->ir[prev].code == (BPF_JMP | BPF_JA)));
		if (no_way_in && in->kind == IR_JMP && in->code == (BPF_JMP | BPF_JA)) {
			in->kind = IR_NOP;
			continue;
		}
		prev = i;
	}
	free(at), free(used);
}

/* The opposite test, or 0 for none (JSET). */
static uint8_t inverse(uint8_t op)
{
	switch (op) {
	case BPF_JEQ: return BPF_JNE;
	case BPF_JNE: return BPF_JEQ;
	case BPF_JGT: return BPF_JLE;
	case BPF_JLE: return BPF_JGT;
	case BPF_JGE: return BPF_JLT;
	case BPF_JLT: return BPF_JGE;
	case BPF_JSGT: return BPF_JSLE;
	case BPF_JSLE: return BPF_JSGT;
	case BPF_JSGE: return BPF_JSLT;
	case BPF_JSLT: return BPF_JSGE;
	default: return 0;
	}
}

/* `if c goto L1; goto L2; L1:` is `if !c goto L2; L1:`. */
static void jump_over_jump(struct ctx *C, const struct ir_func *f)
{
	int end = f->first + f->n;
	for (int i = f->first; i < end; i++) {
		struct ir_ins *j = &C->ir[i];
		uint8_t op = BPF_OP(j->code), cls = BPF_CLASS(j->code);
		if (j->kind != IR_JMP || op == BPF_JA || op == BPF_JCOND || !inverse(op))
			continue;
		int k = i + 1;
		while (k < end && C->ir[k].kind == IR_NOP)
			k++;
		if (k >= end || C->ir[k].kind != IR_JMP || C->ir[k].code != (BPF_JMP | BPF_JA))
			continue;
		bool lands = false; /* L1 right after the ja (among the labels there) */
		for (int l = k + 1; l < end && (C->ir[l].kind == IR_LABEL || C->ir[l].kind == IR_NOP); l++)
			lands |= C->ir[l].kind == IR_LABEL && C->ir[l].label == j->label;
		if (!lands)
			continue;
		j->code = (uint8_t)(cls | inverse(op) | BPF_SRC(j->code));
		j->label = C->ir[k].label;
		C->ir[k].kind = IR_NOP;
	}
}

static const struct pass {
	const char *name;
	void (*run)(struct ctx *C, const struct ir_func *f);
} passes[] = {
	{"jump_to_next", jump_to_next},
	{"common_subexpressions", common_subexpressions},
	{"combine_loads", combine_loads},
	{"direct_packet", direct_packet},
	{"dead_stack_stores", dead_stack_stores},
	{"narrow_to_32", narrow_to_32},
	{"copy_propagation", copy_propagation},
	{"bit_tests", bit_tests},
	{"dead_definitions", dead_definitions},
	{"csum_order", csum_order},
	{"constants_once", constants_once},
	{"regalloc", regalloc},
	{"return_in_r0", return_in_r0},
	{"unused_ctx_copy", unused_ctx_copy},
	{"shared_exits", shared_exits},
	{"tail_merge", tail_merge},
	{"jump_threading", jump_threading},
	{"jump_over_jump", jump_over_jump},
	{"jump_to_next_again", jump_to_next}, /* the jumps the passes above left so */
};

/* The subprograms function f calls (a mask of their numbers). */
static uint8_t calls_of(const struct ctx *C, const struct ir_func *f)
{
	uint8_t calls = 0;
	for (int i = f->first; i < f->first + f->n; i++)
		if ((C->ir[i].kind == IR_CALL || C->ir[i].kind == IR_LD64) &&
		    C->ir[i].helper == IR_SUBPROG) /* a call, or a callback's address */
			calls |= (uint8_t)(1u << C->ir[i].imm);
	return calls;
}

/* The combined stack of the deepest chain of calls from function f, each
** frame rounded up as the verifier does. */
static int stack_depth(const struct ctx *C, int f)
{
	int deepest = 0;
	uint8_t calls = calls_of(C, &C->funcs[f]);
	for (int k = 0; k < C->nsubs; k++)
		if (calls & (1u << k)) {
			int d = stack_depth(C, C->subs[k].func);
			if (d > deepest)
				deepest = d;
		}
	int own = C->funcs[f].stack > 0 ? C->funcs[f].stack : 1;
	return ((own + 31) & ~31) + deepest;
}

/* A subprogram whose calls all sat in code found dead is left out: the
** verifier refuses code nothing reaches. */
static void drop_uncalled(struct ctx *C)
{
	uint8_t used = 0, todo = calls_of(C, &C->funcs[0]);
	while (todo & ~used) {
		int k = __builtin_ctz(todo & ~used);
		used |= (uint8_t)(1u << k);
		todo |= calls_of(C, &C->funcs[C->subs[k].func]);
	}
	struct ir_func kept[IR_MAX_FUNCS];
	int n = 0, renum[IR_MAX_FUNCS];
	for (int f = 0; f < C->nfuncs; f++) {
		renum[f] = -1;
		int k = 0;
		while (f && C->subs[k].func != f)
			k++;
		if (f && !(used & (1u << k))) {
			for (int i = C->funcs[f].first; i < C->funcs[f].first + C->funcs[f].n; i++)
				C->ir[i].kind = IR_NOP;
			continue;
		}
		renum[f] = n;
		kept[n++] = C->funcs[f];
	}
	for (int k = 0; k < C->nsubs; k++)
		C->subs[k].func = renum[C->subs[k].func];
	memcpy(C->funcs, kept, sizeof(kept[0]) * (size_t)n);
	C->nfuncs = n;
}

/* The program's functions: those nothing calls dropped, the program's own
** first, each through the list (spill slots go into its own frame), then
** the stack of the deepest chain of calls checked. */
void passes_run(struct ctx *C)
{
	C->packet = PACKET_NONE;
	drop_uncalled(C);
	ir_main_first(C);
	const char *look = getenv("BPFC_IR_AFTER");
	for (int f = 0; f < C->nfuncs; f++) {
		C->stack_top = C->funcs[f].stack;
		if (look && !strcmp(look, "translate"))
			ir_print(C, &C->funcs[f], look);
		for (size_t p = 0; p < sizeof(passes) / sizeof(passes[0]); p++) {
			passes[p].run(C, &C->funcs[f]);
			if (look && !strcmp(look, passes[p].name))
				ir_print(C, &C->funcs[f], look);
		}
		C->funcs[f].stack = C->stack_top;
	}
	C->stack_top = C->funcs[0].stack;
	ir_compact(C);
	if (C->nfuncs > 1 && stack_depth(C, 0) > STACK_SIZE)
		bpfc_fail(C, "the program and the functions it calls need %d bytes of stack "
			     "together, more than BPF's %d", stack_depth(C, 0), STACK_SIZE);
}
