/*
** Inlining: a call of a local Lua function (an upvalue of the program, a
** global, or a field of either, as they are when the program is compiled)
** is followed by a copy of that function's bytecode, spliced into the
** program's before liveness and translation, so that the callee is
** translated as part of its caller: its parameters are the caller's
** argument slots, whatever kind of value they hold (numbers, packets,
** map values, the context), and what it returns goes where the call's
** result goes.
**
** The splice, for `CALL A B C` (or `CALLT A D`, a `return f(...)`):
**
**   CALL A B C            kept: inl_cont[] says where the body ends
**   KNIL ...              parameters the call leaves out are nil
**   <the callee's bytecode, every slot operand moved up to A + 1 + fr2,
**    the callee's frame; each RET a MOV of its value to A and a JMP past
**    the body>
**   (RET1 A)              after a CALLT: the caller returns the result
**
** Translation reaches the CALL first: when every argument is known at
** compile time and the function runs in Lua (it folds, as before), the
** body is skipped; otherwise the body is translated in its place.  Each
** copied bytecode keeps the function it came from (fn) and its pc there
** (opc): its constants, upvalues, lines and errors are that function's.
** Jumps are moved with the code.  A function calling itself, directly or
** through others, is not inlined again (a compile-time call may still
** fold), nor is one with `...`, and nesting stops after MAX_DEPTH levels.
**
** Subprograms.  A function called from several places whose body is long
** (40 bytecodes or more) and one copy plus the calls smaller than a copy
** per call (worth_a_subprogram), or every function with facts.functions ==
** 'subprog', is compiled once as a BPF-to-BPF subprogram instead: its calls
** stay CALLs (sub_call[] names the subprogram) and its bytecode is appended
** once after the program's, its frame at slot 0, its returns kept.  The
** splice runs twice then: the first time, inlining everything, counts the
** copies of each function; the second makes the subprograms.  A function
** that cannot be one after all (an argument that is not a number, a body
** that needs the context) is named in C->nosub and the splice is done
** again with it inlined (module.c).  Subprograms calling each other in a
** circle are recursion, refused like any other.
*/
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "core.h"

#define MAX_DEPTH 8

struct splice {
	struct ctx *C;
	int n;			/* bytecodes in C->bc2 so far (from 1) */
	int chain[MAX_DEPTH + 2]; /* refs of the functions being copied, outermost first */
	int depth;
	uint8_t why;		/* why the last function met was not inlined (enum inl_why) */
	const char *name;	/* the name the last function met was called by, NULL none */
	bool counting;		/* the first splice: copies[] counted, no subprograms */
	int copies[MAX_FNS];	/* by function number: how many times it was inlined */
	int len[MAX_FNS], nparams[MAX_FNS]; /* its bytecode count and parameters */
	int cand[MAX_SUBS], ncand; /* the functions to make subprograms (refs) */
	int cur;		/* the subprogram whose body is being copied, -1 none */
};

static bool slot_mode(int m)
{
	return m == BCM_DST || m == BCM_BASE || m == BCM_VAR || m == BCM_RBASE;
}

static uint8_t moved(struct ctx *C, int slot, int by)
{
	if (slot + by + NTMP >= MAX_SLOTS)
		bpfc_fail(C, "the functions this program calls use too many stack slots together "
			     "(at most %d)", MAX_SLOTS - NTMP);
	return (uint8_t)(slot + by);
}

/* An instruction with its slot operands moved up by `by`. */
static struct bcins move_slots(struct ctx *C, struct bcins in, int by)
{
	int ma = in.mode & 7, mb = (in.mode >> 3) & 15, mc = (in.mode >> 7) & 15;
	if (slot_mode(ma))
		in.a = moved(C, in.a, by);
	if (mb != BCM_NONE) { /* A B C */
		if (slot_mode(mb))
			in.b = moved(C, in.b, by);
		if (slot_mode(mc))
			in.c = moved(C, in.c, by);
		in.d = (uint16_t)(in.b << 8 | in.c);
	} else if (slot_mode(mc)) { /* A D */
		if (in.d + by + NTMP >= MAX_SLOTS)
			moved(C, in.d, by);
		in.d = (uint16_t)(in.d + by);
		in.c = (uint8_t)in.d;
		in.b = (uint8_t)(in.d >> 8);
	}
	return in;
}

static int put(struct splice *S, struct bcins in)
{
	if (S->n + 1 >= MAX_BC)
		bpfc_fail(S->C, "the program and the functions it calls are too long together (more "
				"than %d bytecodes)", MAX_BC);
	S->C->bc2[S->n] = in;
	return S->n++;
}

static struct bcins made(int op, int a, int d, uint16_t mode, const struct bcins *from)
{
	return (struct bcins){.op = (uint8_t)op, .a = (uint8_t)a, .d = (uint16_t)d, .c = (uint8_t)d,
			      .b = (uint8_t)(d >> 8), .mode = mode, .fn = from->fn, .opc = from->opc};
}

/* The bytecode before pc (in code) that last wrote slot, in layout order;
** -1 none found.  A guess: the arguments between a call's function and the
** call may branch (`f(a and b)`), and a function slot written on two paths
** is possible; translation checks that the slot holds that very function
** (tr_call_inlined), so a wrong guess costs an ordinary call, never a
** wrong program. */
static int writer_of(const struct bcins *code, int pc, int slot)
{
	for (int p = pc - 1; p >= 1; p--) {
		const struct bcins *i = &code[p];
		int ma = i->mode & 7;
		if (ma == BCM_DST && i->a == slot)
			return p;
		if (ma == BCM_BASE && i->a <= slot)
			return -1; /* calls, loops, KNIL: a range from A */
	}
	return -1;
}

/* Push the value slot holds at pc of function fn (code), when an upvalue, a
** global or a field of one of those put it there; false (nothing pushed)
** when it is not known. */
static bool value_at(struct ctx *C, const struct bcins *code, int pc, int slot, int fn, int hops,
		     const char **name)
{
	lua_State *L = C->L;
	int p = writer_of(code, pc, slot);
	if (p < 0 || hops > 2)
		return false;
	const struct bcins *w = &code[p];
	switch (w->op) {
	case OP_UGET:
		k_push(C, C->fn_ref[fn]);
		*name = lua_getupvalue(L, -1, w->d + 1);
		if (!*name) {
			lua_pop(L, 1);
			return false;
		}
		lua_remove(L, -2);
		return true;
	case OP_GGET:
	case OP_TGETS:
		if (w->op == OP_GGET)
			lua_pushvalue(L, C->env);
		else if (!value_at(C, code, p, w->b, fn, hops + 1, name))
			return false;
		if (lua_type(L, -1) != LUA_TTABLE) {
			lua_pop(L, 1);
			return false;
		}
		k_push(C, C->fn_ktab[fn]);
		lua_rawgeti(L, -1, -(int)(w->op == OP_GGET ? w->d : w->c) - 1);
		lua_remove(L, -2);
		*name = lua_tostring(L, -1); /* the key: kept alive by the constants */
		fact_index(C, "finding the function a call calls");
		return true;
	default:
		return false;
	}
}

/* Is the function at the top of the stack one to inline? */
static bool inlinable(struct splice *S)
{
	struct ctx *C = S->C;
	lua_State *L = C->L;
	if (lua_type(L, -1) != LUA_TFUNCTION || lua_iscfunction(L, -1))
		return false;
	for (int i = 0; i <= S->depth; i++) { /* itself again: recursion */
		k_push(C, S->chain[i]);
		bool same = lua_rawequal(L, -1, -2);
		lua_pop(L, 1);
		if (same) {
			S->why = WHY_RECURSION;
			return false;
		}
	}
	if (S->depth >= MAX_DEPTH) {
		S->why = WHY_DEPTH;
		return false;
	}
	int ref = k_ref(C, -1);
	const struct kfact *k = fact_value(C, ref);
	return !(k && k->kind == KF_HELPER); /* xadd, time, ...: the core's own */
}

static void copy_fn(struct splice *S, const struct bcins *code, int n, int fn, int by, int ret,
		    int nret);

/* The number of function fref among those in the bytecode, given one the
** first time it is met (ktab: stack index of its constants); 0 when there
** are too many. */
static int fn_number(struct ctx *C, int fref, int ktab)
{
	lua_State *L = C->L;
	for (int k = 1; k < C->nfn; k++) {
		k_push(C, C->fn_ref[k]);
		k_push(C, fref);
		bool same = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
		if (same)
			return k;
	}
	if (C->nfn >= MAX_FNS)
		return 0;
	C->fn_ref[C->nfn] = fref;
	C->fn_ktab[C->nfn] = k_ref(C, ktab);
	return C->nfn++;
}

/* Is the function at the top of the stack in refs[0..n)?  Its index, or -1. */
static int ref_index(struct ctx *C, const int *refs, int n)
{
	for (int k = 0; k < n; k++) {
		k_push(C, refs[k]);
		bool same = lua_rawequal(C->L, -1, -2);
		lua_pop(C->L, 1);
		if (same)
			return k;
	}
	return -1;
}

/* Does subprogram from call subprogram to, directly or through others? */
static bool sub_reaches(const struct ctx *C, int from, int to)
{
	uint8_t seen = 0, todo = (uint8_t)(1u << from);
	while (todo) {
		int k = __builtin_ctz(todo);
		todo &= (uint8_t)(todo - 1);
		if (k == to)
			return true;
		if (seen & (1u << k))
			continue;
		seen |= (uint8_t)(1u << k);
		todo |= C->subs[k].calls;
	}
	return false;
}

/* The call at out index `call` (made a CALL) calls the function at the top
** of the stack (popped), one of S->cand: it becomes a call of its
** subprogram.  False (nothing changed but the pop) when that would be
** recursion. */
static bool call_sub(struct splice *S, int call)
{
	struct ctx *C = S->C;
	int ref = k_ref(C, -1);
	int sub = -1;
	for (int i = 0; i < C->nsubs && sub < 0; i++) {
		k_push(C, C->subs[i].ref);
		if (lua_rawequal(C->L, -1, -2))
			sub = i;
		lua_pop(C->L, 1);
	}
	if (sub >= 0 && S->cur >= 0 && sub_reaches(C, sub, S->cur)) {
		lua_pop(C->L, 1);
		S->why = WHY_RECURSION;
		return false;
	}
	if (sub < 0) {
		lua_pushvalue(C->L, -1);
		bc_read(C); /* k, bc, modes, slots, params, isvararg */
		int top = lua_gettop(C->L);
		int fn = fn_number(C, ref, top - 5);
		int nparams = (int)lua_tointeger(C->L, top - 1);
		lua_settop(C->L, top - 6);
		if (!fn) {
			lua_pop(C->L, 1);
			S->why = WHY_COUNT;
			return false;
		}
		sub = C->nsubs++;
		C->subs[sub] = (struct subprog){.ref = ref, .fn = fn, .nparams = nparams, .loop = -1,
						.name = S->name ? (lua_pushstring(C->L, S->name),
								   k_ref(C, -1)) : 0};
		if (S->name)
			lua_pop(C->L, 1);
	}
	lua_pop(C->L, 1);
	if (S->cur >= 0)
		C->subs[S->cur].calls |= (uint8_t)(1u << sub);
	C->sub_call[call] = (int8_t)(sub + 1);
	return true;
}

/* Splice the function at the top of the stack (popped) after the CALL at
** out index call: its frame at base, its result to slot ret.  False: it
** takes `...`, and is not inlined. */
static bool splice_call(struct splice *S, int call, int base, int nargs, int ret, int nret)
{
	struct ctx *C = S->C;
	lua_State *L = C->L;
	int fref = k_ref(C, -1);
	bc_read(C); /* k, bc, modes, slots, params, isvararg */
	int top = lua_gettop(L);
	if (lua_toboolean(L, top)) { /* a function with ...: not inlined */
		lua_settop(L, top - 6);
		S->why = WHY_VARARG;
		return false;
	}
	int nparams = (int)lua_tointeger(L, top - 1);
	int nslots = (int)lua_tointeger(L, top - 2);
	int fn = fn_number(C, fref, top - 5);
	if (!fn) { /* too many different ones */
		lua_settop(L, top - 6);
		S->why = WHY_COUNT;
		return false;
	}
	struct bcins *code = scratch(C, sizeof(*code) * MAX_BC);
	int n = bc_decode(C, top - 4, top - 3, code, MAX_BC);
	lua_settop(L, top - 6);
	S->copies[fn]++;
	S->len[fn] = n - 1;
	S->nparams[fn] = nparams;
	if (base + nslots + NTMP >= MAX_SLOTS)
		moved(C, base + nslots, 0); /* the error */
	if (base + nslots > C->nslots)
		C->nslots = base + nslots;
	for (int p = 1; p < n; p++)
		code[p].fn = (uint8_t)fn;
	if (nargs < nparams) /* what the call leaves out is nil */
		put(S, made(OP_KNIL, base + nargs, base + nparams - 1, BC_MODE(BCM_BASE, 0, BCM_BASE),
			     &C->bc2[call]));
	S->chain[++S->depth] = fref;
	copy_fn(S, code, n, fn, base, ret, nret);
	S->depth--;
	scratch_pop(C, 1);
	return true;
}

/* Is the CALL `in` at pc of fn (or CALLT, CALLM, CALLMT) one whose function
** may be inlined?  Then the function is pushed. */
static bool callee(struct splice *S, const struct bcins *code, int pc, int fn)
{
	const struct bcins *in = &code[pc];
	if (in->op != OP_CALL && in->op != OP_CALLT && in->op != OP_CALLM && in->op != OP_CALLMT)
		return false;
	S->name = NULL;
	if (!value_at(S->C, code, pc, in->a, fn, 0, &S->name))
		return false;
	if (inlinable(S))
		return true;
	lua_pop(S->C->L, 1);
	return false;
}

/* Copy function fn's bytecode (code[1..n)) to the output, its slots moved
** up by `by`; ret >= 0: it is inlined, its returns go to slot ret. */
static void copy_fn(struct splice *S, const struct bcins *code, int n, int fn, int by, int ret,
		    int nret)
{
	struct ctx *C = S->C;
	int *at = scratch(C, sizeof(int) * (size_t)(n + 1)); /* code pc -> output index */
	int *jumps = scratch(C, sizeof(int) * (size_t)(3 * n + 1)), nj = 0; /* to fix, by code pc */
	int *exits = scratch(C, sizeof(int) * (size_t)(n + 1)), ne = 0; /* JMPs past the body */
	for (int pc = 1; pc < n; pc++) {
		at[pc] = S->n;
		struct bcins in = move_slots(C, code[pc], by);
		bool tail = in.op == OP_CALLT || in.op == OP_CALLMT;
		S->why = WHY_NONE;
		if (callee(S, code, pc, fn)) {
			/* CALLM's arguments end with the one result of the call before
			** (as translation takes it); return f(...) is a call of one
			** result, then its return */
			int nargs = in.op == OP_CALL ? in.c - 1 : in.op == OP_CALLT ? in.d - 1
				    : in.op == OP_CALLM ? in.c + 1 : in.d + 1;
			if (in.op != OP_CALL) {
				if (tail)
					in.b = 2;
				in.op = OP_CALL;
				in.c = (uint8_t)(nargs + 1);
				in.d = (uint16_t)(in.b << 8 | in.c);
				in.mode = BC_MODE(BCM_BASE, BCM_LIT, BCM_LIT);
			}
			int call = put(S, in);
			int want = in.b >= 2 ? in.b - 1 : 1; /* B == 0: as many as come, one taken */
			bool sub = !S->counting && ref_index(C, S->cand, S->ncand) >= 0;
			if (sub ? call_sub(S, call)
				: splice_call(S, call, in.a + 1 + C->fr2, nargs, in.a, want)) {
				if (!sub)
					C->inl_cont[call] = (int16_t)S->n;
				if (!tail)
					continue;
				in = made(OP_RET1, in.a, 2, BC_MODE(BCM_RBASE, 0, BCM_LIT), &in);
			} else { /* as it was */
				S->n = call;
				in = move_slots(C, code[pc], by);
			}
		}
		if (ret >= 0 && (in.op == OP_CALLT || in.op == OP_CALLMT)) {
			/* return f(...) of a function not inlined: the call, then its return */
			in.op = in.op == OP_CALLT ? OP_CALL : OP_CALLM;
			in.b = 2;
			in.c = (uint8_t)in.d;
			in.d = (uint16_t)(in.b << 8 | in.c);
			in.mode = BC_MODE(BCM_BASE, BCM_LIT, BCM_LIT);
			C->inl_why[put(S, in)] = S->why;
			in = made(OP_RET1, in.a, 2, BC_MODE(BCM_RBASE, 0, BCM_LIT), &in);
		}
		bool rets = in.op == OP_RET0 || in.op == OP_RET1 || in.op == OP_RET || in.op == OP_RETM;
		if (ret >= 0 && rets) {
			if (in.op == OP_RETM)
				bpfc_fail(C, "a function the program calls returns all the results of a "
					     "call (return ..., f(...)): give them locals first");
			/* the values to ret, ret + 1, ... (below the callee's frame, so
			** in order no move overwrites one still to be read); nil for
			** what it does not return */
			int have = in.op == OP_RET0 ? 0 : in.op == OP_RET1 ? 1 : in.d - 1;
			for (int i = 0; i < nret; i++)
				if (i >= have)
					put(S, made(OP_KPRI, ret + i, 0, BC_MODE(BCM_DST, 0, BCM_PRI), &in));
				else if (in.a + i != ret + i)
					put(S, made(OP_MOV, ret + i, in.a + i, BC_MODE(BCM_DST, 0, BCM_VAR), &in));
			exits[ne++] = put(S, made(OP_JMP, ret, 0x7fff, BC_MODE(BCM_RBASE, 0, BCM_JUMP), &in));
			continue;
		}
		int i = put(S, in);
		C->inl_why[i] = S->why;
		if (((in.mode >> 7) & 15) == BCM_JUMP)
			jumps[nj++] = i;
	}
	at[n] = S->n;
	for (int k = 0; k < nj; k++) { /* jumps go where their target went */
		struct bcins *j = &C->bc2[jumps[k]];
		int t = bc_jump_target(&code[j->opc], j->opc);
		int to = t > 0 && t <= n ? at[t] : S->n;
		j->d = (uint16_t)(to - jumps[k] + 0x7fff);
		j->c = (uint8_t)j->d;
		j->b = (uint8_t)(j->d >> 8);
	}
	for (int k = 0; k < ne; k++) { /* returns: past the body */
		struct bcins *j = &C->bc2[exits[k]];
		j->d = (uint16_t)(S->n - exits[k] + 0x7fff);
		j->c = (uint8_t)j->d;
		j->b = (uint8_t)(j->d >> 8);
	}
	scratch_pop(C, 3);
}

/* Is one copy of function fn and a call per copy smaller than a copy per
** call?  Bytecodes stand for instructions; a call costs its argument moves,
** the call and the result's move.  A short function is inlined whatever
** it saves, as clang inlines it: the verifier walks a subprogram's body at
** every call anyway, the call costs time, and a copy folds the constants
** its call passes (rol32(x, 14): shifts by an immediate). */
#define SUB_MIN_BYTECODES 40
static bool worth_a_subprogram(const struct splice *S, int fn)
{
	int c = S->copies[fn], len = S->len[fn], np = S->nparams[fn];
	if (np > MAX_SUB_ARGS || c < 1)
		return false;
	if (S->C->force_subs)
		return true;
	return c >= 2 && len >= SUB_MIN_BYTECODES && (c - 1) * len > c * (np + 2) + 4;
}

/* One splice of the program's bytecode (C->bc0) into C->bc2. */
static void splice_all(struct splice *S)
{
	struct ctx *C = S->C;
	S->n = 1;
	S->depth = 0;
	S->cur = -1;
	S->chain[0] = C->fn_ref[0];
	C->nfn = 1;
	C->nsubs = 0;
	C->nslots = C->nslots0;
	memset(C->inl_cont, 0, sizeof(C->inl_cont));
	memset(C->inl_why, 0, sizeof(C->inl_why));
	memset(C->sub_call, 0, sizeof(C->sub_call));
	copy_fn(S, C->bc0, C->nbc0, 0, 0, -1, 0);
	for (int k = 0; k < C->nsubs; k++) { /* each subprogram's body, once (more may come) */
		struct subprog *sp = &C->subs[k];
		k_push(C, sp->ref);
		bc_read(C);
		int top = lua_gettop(C->L);
		struct bcins *code = scratch(C, sizeof(*code) * MAX_BC);
		int n = bc_decode(C, top - 4, top - 3, code, MAX_BC);
		int nslots = (int)lua_tointeger(C->L, top - 2);
		lua_settop(C->L, top - 6);
		if (nslots + NTMP >= MAX_SLOTS)
			moved(C, nslots, 0); /* the error */
		if (nslots > C->nslots)
			C->nslots = nslots;
		for (int p = 1; p < n; p++)
			code[p].fn = (uint8_t)sp->fn;
		sp->start = S->n;
		S->cur = k;
		S->chain[0] = sp->ref;
		copy_fn(S, code, n, sp->fn, 0, -1, 0);
		sp->end = S->n;
		scratch_pop(C, 1);
	}
}

void bc_inline(struct ctx *C)
{
	struct splice S = {.C = C, .n = 1};
	scratch_pop(C, C->nscratch); /* what a compile that failed half-way left */
	C->nbc = C->nbc0;
	memcpy(C->bc, C->bc0, sizeof(C->bc[0]) * (size_t)C->nbc0);
	C->nslots = C->nslots0;
	C->nsubs = C->nsubs_spliced = 0;
	C->nfn = 1;
	lua_pushvalue(C->L, C->fn);
	C->fn_ref[0] = k_ref(C, -1);
	lua_pop(C->L, 1);
	lua_pushvalue(C->L, C->ktab);
	C->fn_ktab[0] = k_ref(C, -1);
	lua_pop(C->L, 1);
	S.chain[0] = C->fn_ref[0];
	bool any = false;
	for (int pc = 1; pc < C->nbc && !any; pc++)
		any = C->bc[pc].op == OP_CALL || C->bc[pc].op == OP_CALLT;
	if (!any)
		return;
	memset(C->sub_call, 0, sizeof(C->sub_call));
	S.counting = true;
	splice_all(&S);
	if (!C->no_subs)
		for (int fn = 1; fn < C->nfn && S.ncand < MAX_SUBS; fn++)
			if (worth_a_subprogram(&S, fn) && !sub_refused(C, C->fn_ref[fn]))
				S.cand[S.ncand++] = C->fn_ref[fn];
	if (S.ncand) {
		S.counting = false;
		S.chain[0] = C->fn_ref[0];
		splice_all(&S);
	}
	C->nsubs_spliced = C->nsubs;
	if (C->nfn == 1)
		return; /* nothing inlined: the bytecode stays as it is */
	memcpy(C->bc + 1, C->bc2 + 1, sizeof(C->bc[0]) * (size_t)(S.n - 1));
	C->nbc = S.n;
}
