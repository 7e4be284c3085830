/*
** Numeric for loops run by the bpf_loop helper (opts.loops = 'bpf_loop'):
** the verifier checks the body once, as a callback, however many turns
** there are, so a loop whose bound it cannot see still loads.
**
** At FORI, when the bounds are not both constants and the body qualifies
** (for_bpf_loop):
**
**   block = zeroed 8-byte words on the program's stack, one per carried
**           slot: each run-time value the body reads, and each slot it
**           writes that is read in it or after the loop
**   store the carried values; nr = the number of turns (0 when the start
**   is past the limit; at most BPF_LOOP_MAX, bpf_loop's own limit)
**   bpf_loop(nr, callback, block, 0)
**   load the carried slots the body writes back from the block
**
** and translation goes on at the loop's exit.  The callback is a
** subprogram (a struct subprog with loop >= 0) translated later on its own
** (tr_loop_callback): r1 is the turn's index, r2 the block; the variables
** the program had at FORI that are constants stay constants, the carried
** ones are loaded from the block, the loop variable is start + index * step;
** the end of a turn stores back what the body wrote and returns 0, a break
** the same and returns 1.
**
** A body qualifies when nothing in it leaves the loop but a break or the
** end of a turn (no return, no goto out), every carried value is a plain
** number, and it does not need the program's context.  What fails in the
** callback makes the compile restart with that loop a plain BPF loop (a
** no_bpf_loop hint), so bpf_loop never refuses what a BPF loop compiles.
*/
#include <stdlib.h>
#include <string.h>
#include "core.h"

#define BPF_LOOP_MAX (1 << 23) /* bpf_loop refuses more turns (-E2BIG) */

static bool in_set(const uint64_t *set, int s)
{
	return (set[s / 64] >> (s % 64)) & 1;
}

/* Does the body [body, forl) leave only by a break to exit or by its end? */
static bool leaves_only_by_break(const struct ctx *C, int body, int forl, int exit)
{
	for (int pc = body; pc < forl; pc++) {
		const struct bcins *i = &C->bc[pc];
		if (i->op == OP_RET || i->op == OP_RET0 || i->op == OP_RET1 || i->op == OP_RETM ||
		    i->op == OP_CALLT || i->op == OP_CALLMT)
			return false;
		if (((i->mode >> 7) & 15) == BCM_JUMP) {
			int t = bc_jump_target(i, pc);
			if (t < body || t > exit)
				return false;
		}
	}
	return true;
}

/* Try the loop at FORI pc (base a, exit after its FORL) as a bpf_loop:
** false when it does not qualify (nothing emitted). */
bool for_bpf_loop(struct ctx *C, int pc, int a, int exit)
{
	int body = pc + 1, forl = exit - 1;
	int64_t step, start = 0, limit;
	if (!C->facts.bpf_loop || C->cur_loop >= 0 || no_bpf_loop_hinted(C, pc) ||
	    C->nsubs >= MAX_SUBS || !is_num(C, a + 2, &step) || step == 0 ||
	    step <= -(1ll << 31) || step >= (1ll << 31) || (v_src(C, a + 2)->flags & VF_U64))
		return false;
	bool start_known = is_num(C, a, &start);
	if (start_known && is_num(C, a + 1, &limit))
		return false; /* constant bounds: a BPF loop the verifier follows */
	if (!v_plain_number(v_src(C, a), false) || !v_plain_number(v_src(C, a + 1), false) ||
	    !leaves_only_by_break(C, body, forl, exit))
		return false;
	if (!C->cbloop && !(C->cbloop = calloc(MAX_SUBS, sizeof(*C->cbloop))))
		bpfc_fail(C, "out of memory (bpf_loop)");
	struct cbloop *L = &C->cbloop[C->ncbloop];
	*L = (struct cbloop){.fori = pc, .a = a, .body = body, .forl = forl, .exit = exit,
			     .step = step, .start_known = start_known, .start = start};
	bc_writes(C, body, forl, L->written);
	if (!start_known)
		L->carried[L->ncarried++] = (int16_t)a;
	for (int s = 0; s < C->nslots; s++) {
		if (s >= a && s <= a + 3)
			continue;
		const struct var *v = v_src(C, s);
		bool read = bc_livein(C, body, s), written = in_set(L->written, s);
		bool after = written && bc_livein(C, exit, s);
		if (!read && !after)
			continue;
		if (v->kind == VK_STACK)
			return false; /* at an offset of the program's frame, not the callback's */
		if (!written && v->kind != VK_RT)
			continue; /* a constant the callback knows too */
		bool fresh = v->kind == VK_UNDEF && !read; /* first written in the loop: 0 stands */
		if (!fresh && !v_plain_number(v, false))
			return false;
		if (L->ncarried >= MAX_CARRIED)
			return false;
		L->carried[L->ncarried++] = (int16_t)s;
	}
	for (int s = 0; s < C->nslots; s++) { /* what the callback may know as constants */
		L->vars[s] = *v_src(C, s);
		L->vars[s].shadow = -1;
		L->vars[s].reg = NOREG; /* the program's register, not the callback's */
	}

	/* the block, zeroed, then what is known on entry */
	int words = L->ncarried ? L->ncarried : 1;
	int block = stack_alloc(C, 8 * words);
	for (int k = 0; k < words; k++)
		emit(C, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (int16_t)(-block + 8 * k), 0);
	for (int k = 0; k < L->ncarried; k++) {
		const struct var *v = v_src(C, L->carried[k]);
		if (v->kind == VK_UNDEF)
			continue;
		int r = v_peek(C, L->carried[k]);
		emit(C, BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, r, (int16_t)(-block + 8 * k), 0);
	}

	/* nr = the turns: (limit - start) / step + 1 counting up, 0 past it */
	int lo = step > 0 ? a : a + 1, hi = step > 0 ? a + 1 : a;
	int nr = vreg_new(C), none = label_new(C), done = label_new(C);
	int rlo = v_peek(C, lo), rhi = v_peek(C, hi);
	emit_jmp(C, BPF_JMP | BPF_JSGT | BPF_X, rlo, rhi, 0, none);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, nr, rhi, 0, 0);
	emit(C, BPF_ALU64 | BPF_SUB | BPF_X, nr, rlo, 0, 0);
	if (step != 1 && step != -1)
		emit(C, BPF_ALU64 | BPF_DIV | BPF_K, nr, 0, 0, (int32_t)(step > 0 ? step : -step));
	emit_jmp(C, BPF_JMP | BPF_JLT | BPF_K, nr, 0, BPF_LOOP_MAX - 1, done);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, nr, 0, 0, BPF_LOOP_MAX - 1);
	emit_ja(C, done);
	emit_label(C, none);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, nr, 0, 0, -1);
	emit_label(C, done);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, nr, 0, 0, 1);

	int k = C->nsubs++;
	C->subs[k] = (struct subprog){.fn = C->bc[body].fn, .start = body, .end = forl,
				      .nparams = 2, .loop = C->ncbloop++, .func = -1};
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, nr, 0, 0);
	emit_func_addr(C, BPF_REG_2, k);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -block);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0);
	emit_call(C, BPF_FUNC_loop, -1);

	/* what the body wrote, back from the block */
	for (int j = 0; j < L->ncarried; j++) {
		int s = L->carried[j];
		if (!in_set(L->written, s) || s == a)
			continue;
		v_def(C, s);
		int r = v_newreg(C, s);
		emit(C, BPF_LDX | BPF_MEM | BPF_DW, r, BPF_REG_10, (int16_t)(-block + 8 * j), 0);
		v_rt(C, s, r, PK_SCALAR, 8, 0);
		C->v[s].reg = (uint16_t)r;
	}
	for (int s = a; s <= a + 3; s++)
		v_def(C, s); /* the loop's own slots: dead after it */
	C->resume = exit;
	return true;
}

/* The end of a turn (ret 0) or a break (ret 1): what the body wrote back to
** the block, r0 = ret, exit. */
static void turn_end(struct ctx *C, const struct cbloop *L, int blockreg, int ret)
{
	for (int k = 0; k < L->ncarried; k++) {
		int s = L->carried[k];
		if (!in_set(L->written, s) || s == L->a)
			continue;
		const struct var *v = v_src(C, s);
		if (v->kind == VK_UNDEF)
			continue; /* not written on this path: the block keeps it */
		if (!v_plain_number(v, false))
			bpfc_fail(C, "a loop run by bpf_loop changes a variable to something that is "
				     "not a number");
		emit(C, BPF_STX | BPF_MEM | BPF_DW, blockreg, v_peek(C, s), (int16_t)(8 * k), 0);
	}
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, ret);
	emit(C, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	C->reachable = false;
}

/* Subprogram k, the callback of a bpf_loop, as function func. */
static void tr_loop_callback(struct ctx *C, int k, int func)
{
	struct subprog *sp = &C->subs[k];
	struct cbloop *L = &C->cbloop[sp->loop];
	int first = C->nir;
	function_begin(C, -1, sp->loop, L->body);
	sp->func = func;
	int index = vreg_new(C), blockreg = vreg_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, index, BPF_REG_1, 0, 0);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, blockreg, BPF_REG_2, 0, 0);
	for (int pc = L->body; pc <= L->exit; pc++) { /* labels and joins of its own */
		C->joinidx[pc] = C->loopidx[pc] = -1;
		C->jumped[pc] = false;
		C->pclabel[pc] = -1;
	}
	int header = C->not_a_header;
	C->not_a_header = L->body; /* no loop in the callback: one turn a call */
	for (int s = 0; s < C->nslots; s++) /* the constants the program had at FORI */
		if (v_isconst(&L->vars[s]) && L->vars[s].kind != VK_STACK)
			C->v[s] = L->vars[s];
	for (int j = 0; j < L->ncarried; j++) {
		int s = L->carried[j];
		v_def(C, s);
		int r = v_newreg(C, s);
		emit(C, BPF_LDX | BPF_MEM | BPF_DW, r, blockreg, (int16_t)(8 * j), 0);
		v_rt(C, s, r, PK_SCALAR, 8, 0);
		C->v[s].reg = (uint16_t)r;
	}
	/* the loop variable: start + index * step */
	int r = vreg_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, index, 0, 0);
	if (L->step != 1)
		emit(C, BPF_ALU64 | BPF_MUL | BPF_K, r, 0, 0, (int32_t)L->step);
	if (L->start_known) {
		if (L->start >= INT32_MIN && L->start <= INT32_MAX) {
			if (L->start)
				emit(C, BPF_ALU64 | BPF_ADD | BPF_K, r, 0, 0, (int32_t)L->start);
		} else {
			int t = vreg_new(C);
			emit_ld64(C, t, L->start);
			emit(C, BPF_ALU64 | BPF_ADD | BPF_X, r, t, 0, 0);
		}
	} else {
		emit(C, BPF_ALU64 | BPF_ADD | BPF_X, r, C->v[L->a].reg, 0, 0);
	}
	v_def(C, L->a + 3);
	v_rt(C, L->a + 3, r, PK_SCALAR, 8, 0);
	tr_range(C, L->body, L->forl, true);
	if (C->reachable)
		turn_end(C, L, blockreg, 0);
	if (C->jumped[L->exit]) { /* a break */
		C->reachable = false;
		v_join_enter(C, L->exit);
		if (C->reachable)
			turn_end(C, L, blockreg, 1);
	}
	C->cur_loop = -1;
	C->not_a_header = header;
	lua_pushfstring(C->L, "loop_%d", C->bc[L->fori].opc); /* bpf.compile names it by line */
	int name = k_ref(C, -1);
	lua_pop(C->L, 1);
	sp->name = name;
	C->funcs[func] = (struct ir_func){.name = "loop", .first = first, .n = C->nir - first,
					  .nbc = C->nbc, .stack = C->stack_top, .name_ref = name,
					  .nargs = 2};
	L->done = true;
}

/* The bpf_loop callbacks made since the last call, each as the next
** function from func on; returns the function number after them. */
int tr_loop_callbacks(struct ctx *C, int func)
{
	for (int k = C->nsubs_spliced; k < C->nsubs; k++)
		if (C->subs[k].loop >= 0 && C->subs[k].func < 0)
			tr_loop_callback(C, k, func++);
	return func;
}
