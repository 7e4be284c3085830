/*
** The native module `bpf.core`: compile(fn, env, opts) drives one
** compilation from bytecode to the finished instructions.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "core.h"

#define CTX_MT "bpf.core.ctx"

static bool no_subprograms(struct ctx *C);

void *scratch(struct ctx *C, size_t size)
{
	void *p = C->nscratch < (int)(sizeof(C->scratch) / sizeof(C->scratch[0])) ? malloc(size) : NULL;
	if (!p)
		bpfc_fail(C, "out of memory (%zu bytes of working memory)", size);
	C->scratch[C->nscratch++] = p;
	return p;
}

void scratch_pop(struct ctx *C, int n)
{
	while (n-- > 0 && C->nscratch > 0)
		free(C->scratch[--C->nscratch]);
}

/* Raise a compile error, unless another way of compiling the same program
** may not meet it.  In this order, each taken at most once per place (a
** hint or C->nosub remembers it, so the restarts end):
**   1. an inlined call of known arguments: run it in Lua (fold hint);
**   2. a for loop unrolled because that was shorter: keep it a loop
**      (no_unroll hint);
**   3. a for loop of a few constant turns: unroll it (unroll hint);
**   4. a bpf_loop callback: make its loop a BPF loop (no_bpf_loop hint);
**   5. a subprogram: inline that function (C->nosub, splice again);
**   6. anywhere, while there are subprograms: inline them all.
** Each of these computes the same as what it replaces; only the error of
** the last way tried is shown. */
void bpfc_fail(struct ctx *C, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(C->err, sizeof(C->err), fmt, ap);
	va_end(ap);
	/* Inside a function inlined at a call whose arguments are all known,
	** whatever fails (a table built, a string function) may run in Lua
	** instead: compile again, that call folded (once; then the error stands). */
	if (C->ninl_open > 0 && C->nhints < MAX_HINTS) {
		int pc = C->inl_open[0];
		if (!fold_hinted(C, pc)) {
			C->hints[C->nhints++] = (struct hint){.target_bc = pc, .slot = -1, .fold = true};
			C->ninl_open = 0;
			C->restart = true;
			longjmp(C->jb, 2);
		}
	}
	C->ninl_open = 0;
	/* Inside a for loop unrolled because that was shorter, whatever fails (a
	** divisor that is 0 in one turn only) may compile with it a loop again:
	** the innermost first. */
	if (C->nunroll_open > 0 && C->nhints < MAX_HINTS) {
		C->hints[C->nhints++] = (struct hint){.target_bc = C->unroll_open[C->nunroll_open - 1],
						      .slot = -1, .no_unroll = true};
		C->nunroll_open = 0;
		C->restart = true;
		longjmp(C->jb, 2);
	}
	/* Inside a for loop of a few constant turns, whatever fails (an index
	** that must be a constant) may compile with the loop unrolled, the
	** variable a constant in each copy: the innermost loop first. */
	for (int i = C->nfor_open - 1; i >= 0 && C->nhints < MAX_HINTS; i--)
		if (!unroll_hinted(C, C->for_open[i])) {
			C->hints[C->nhints++] = (struct hint){.target_bc = C->for_open[i], .slot = -1,
							      .unroll = true};
			C->nfor_open = 0;
			C->restart = true;
			longjmp(C->jb, 2);
		}
	C->nfor_open = 0;
	if (C->cur_loop >= 0 && C->nhints < MAX_HINTS) { /* the loop a plain BPF loop instead */
		C->hints[C->nhints++] = (struct hint){.target_bc = C->cbloop[C->cur_loop].fori,
						      .slot = -1, .no_bpf_loop = true};
		C->cur_loop = -1;
		C->restart = true;
		longjmp(C->jb, 2);
	}
	if (C->cur_sub >= 0) /* it may compile inlined where it is called */
		sub_inline_instead(C, C->cur_sub);
	if (C->nsubs_spliced > 0 && no_subprograms(C)) /* inlined, calls of constants fold */
		longjmp(C->jb, 3);
	longjmp(C->jb, 1);
}

/* Is function ref one never to make a subprogram (C->nosub)? */
bool sub_refused(struct ctx *C, int ref)
{
	k_push(C, ref);
	bool known = false;
	for (int i = 0; i < C->nnosub && !known; i++) {
		k_push(C, C->nosub[i]);
		known = lua_rawequal(C->L, -1, -2);
		lua_pop(C->L, 1);
	}
	lua_pop(C->L, 1);
	return known;
}

/* Every subprogram to be inlined next time; false when all were already. */
static bool no_subprograms(struct ctx *C)
{
	bool more = false;
	for (int k = 0; k < C->nsubs_spliced && C->nnosub < MAX_FNS; k++)
		if (!sub_refused(C, C->subs[k].ref)) {
			C->nosub[C->nnosub++] = C->subs[k].ref;
			more = true;
		}
	return more;
}

/* Subprogram k cannot be one (what it is passed, what it does): splice again
** with that function inlined (compile_protected), once per function. */
void sub_inline_instead(struct ctx *C, int k)
{
	C->cur_sub = -1;
	if (sub_refused(C, C->subs[k].ref) || C->nnosub >= MAX_FNS)
		longjmp(C->jb, 1);
	C->nosub[C->nnosub++] = C->subs[k].ref;
	longjmp(C->jb, 3);
}

/* Is the inlined call at pc one to run in Lua instead (a fold hint)? */
bool fold_hinted(const struct ctx *C, int pc)
{
	for (int i = 0; i < C->nhints; i++)
		if (C->hints[i].fold && C->hints[i].target_bc == pc)
			return true;
	return false;
}

/* Is the FORI at pc one to keep a BPF loop, never a bpf_loop (a hint)? */
bool no_bpf_loop_hinted(const struct ctx *C, int pc)
{
	for (int i = 0; i < C->nhints; i++)
		if (C->hints[i].no_bpf_loop && C->hints[i].target_bc == pc)
			return true;
	return false;
}

/* Is the FORI at pc one to keep a loop, unless it must be unrolled (a hint)? */
bool no_unroll_hinted(const struct ctx *C, int pc)
{
	for (int i = 0; i < C->nhints; i++)
		if (C->hints[i].no_unroll && C->hints[i].target_bc == pc)
			return true;
	return false;
}

/* Is the FORI at pc one to unroll (a hint)? */
bool unroll_hinted(const struct ctx *C, int pc)
{
	for (int i = 0; i < C->nhints; i++)
		if (C->hints[i].unroll && C->hints[i].target_bc == pc)
			return true;
	return false;
}

static const char *const break_names[] = {
#define BRKNAME(name) #name,
	BREAKS(BRKNAME)
#undef BRKNAME
};

/* BPFC_BREAK=name[,name...]: read at each compile, so a test can set it. */
unsigned bpfc_breaks(void)
{
	const char *env = getenv("BPFC_BREAK");
	unsigned mask = 0;
	if (!env || !*env)
		return 0;
	for (int i = 0; i < BRK__MAX; i++) {
		size_t n = strlen(break_names[i]);
		for (const char *p = strstr(env, break_names[i]); p; p = strstr(p + 1, break_names[i]))
			if ((p == env || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
				mask |= 1u << i;
	}
	return mask;
}

struct module {
	int reader;	/* registry ref of the bytecode reader (bcread.c) */
	uint8_t opmap[256];
	int fr2;
	bool busy;
	struct ctx *C;
};

/* Push "file.lua:12: why" for bytecode pc of the function at stack index fn. */
static void push_located(lua_State *L, int fn, int pc, const char *why)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "jit.util");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "funcinfo");
	lua_pushvalue(L, fn);
	lua_pushinteger(L, pc > 0 ? pc : 0);
	lua_call(L, 2, 1);
	lua_getfield(L, -1, "source");
	const char *src = lua_tostring(L, -1);
	lua_getfield(L, -2, "currentline");
	int line = (int)lua_tointeger(L, -1);
	if (src && (*src == '@' || *src == '='))
		src++;
	char chunk[96];
	if (!src || !*src) {
		snprintf(chunk, sizeof(chunk), "?");
	} else if (src[-1] != '@' && src[-1] != '=') { /* a string chunk: show its start */
		size_t n = strcspn(src, "\n");
		snprintf(chunk, sizeof(chunk), "[string \"%.*s%s\"]", (int)(n > 40 ? 40 : n), src,
			 n > 40 ? "..." : "");
	} else {
		snprintf(chunk, sizeof(chunk), "%s", src);
	}
	lua_pushfstring(L, "%s:%d: %s", chunk, line, why);
	lua_replace(L, -5); /* leave only the message */
	lua_pop(L, 3);
}

/* The message why, located at bytecode pc of the program as spliced: the
** line of the function (the program or one inlined) it came from. */
static void push_located_pc(struct ctx *C, int pc, const char *why)
{
	lua_State *L = C->L;
	if (pc <= 0 || pc >= C->nbc || !C->bc[pc].fn) {
		push_located(L, C->fn, pc > 0 && pc < C->nbc ? C->bc[pc].opc : pc, why);
		return;
	}
	k_push(C, C->fn_ref[C->bc[pc].fn]);
	push_located(L, lua_gettop(L), C->bc[pc].opc, why);
	lua_remove(L, -2);
}

static void push_error(struct ctx *C)
{
	push_located_pc(C, C->pc, C->err);
}

static void compile_once(struct ctx *C)
{
	C->tmp = C->nslots;
	for (int pc = 0; pc < C->nbc; pc++) {
		C->joinidx[pc] = C->loopidx[pc] = -1;
		C->for_bits[pc] = 0;
	}
	C->njoin = 0;
	C->nir = 0;
	C->nlabels = C->nbc; /* labels below nbc are bytecode pcs */
	C->nvregs = IR_VREG0;
	for (int pc = 0; pc < C->nbc; pc++) {
		C->jumped[pc] = false;
		C->pclabel[pc] = pc;
	}
	C->resume = 0;
	C->atom.call = -1;
	C->nmaps = 0;
	C->default_space = false;
	C->ctx_writes = false; /* (the context is kept from compile to compile) */
	C->ncore = 0;
	C->restart = false;
	C->pc = 0;
	C->nsubs = C->nsubs_spliced; /* the bpf_loop callbacks are made again */
	C->ncbloop = 0;
	C->cur_loop = -1;
	C->not_a_header = 0; /* (a compile that failed in one left it set) */
	tr_subprograms(C); /* funcs[1..]: first, so that their calls know what they return */

	C->tmp = C->nslots;
	v_init(C);
	C->reachable = true;
	C->cmp.state = 0;
	C->cur_sub = -1;
	C->pc = 0;
	C->funcs[0] = (struct ir_func){.name = "main", .first = C->nir, .nbc = C->nbc};
	/* a register keeps the context: classic packet loads (which read it
	** from r6) and some helpers need it */
	C->ctx_reg = vreg_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, C->ctx_reg, 1, 0, 0);
	C->ctx_pinned = true;
	if (C->nparams > 0) {
		v_rt(C, 0, C->ctx_reg, PK_CTX, 8, 0);
		C->v[0].ref = C->facts.ctx_ctype ? k_dup(C, C->facts.ctx_ctype) : 0;
		for (int s = 1; s < C->nparams; s++)
			C->v[s].kind = VK_NIL;
	}
	C->ninl_open = C->nfor_open = C->nunroll_open = 0;
	tr_range(C, 1, (C->nsubs_spliced ? C->subs[0].start : C->nbc) - 1, false);
	C->ninl_open = 0;
	C->funcs[0].n = C->nir - C->funcs[0].first;
	C->funcs[0].stack = C->stack_top;
	C->nfuncs = tr_loop_callbacks(C, C->nfuncs);
	passes_run(C);
	encode(C);
}

/* The compile itself, run under lua_pcall by l_compile: a Lua error raised
** by anything the compiler calls (the bytecode reader; the facts queries
** catch their own) then ends this compile only, and the next one starts
** afresh.  Arguments: fn, env, the facts object, the module (light userdata). */
static int compile_protected(lua_State *L)
{
	struct module *M = lua_touserdata(L, 4);
	struct ctx *C = M->C;
	lua_settop(L, 3);
	luaL_checkstack(L, 64, "bpf: compiling");
	lua_rawgeti(L, LUA_REGISTRYINDEX, M->reader);
	lua_pushvalue(L, 1);
	lua_call(L, 1, 5); /* 4: constants, 5: bytecode, 6: modes, 7: slots, 8: params */
	C->L = L;
	C->fn = 1;
	C->env = 2;
	C->opts = 3;
	C->ktab = 4;
	C->opmap = M->opmap;
	C->fr2 = M->fr2;
	C->reader = M->reader;
	int nslots = (int)lua_tointeger(L, 7), nparams = (int)lua_tointeger(L, 8);
	int rc = setjmp(C->jb);
	if (rc == 0) {
		bc_load(C, 5, 6, nslots, nparams);
		memcpy(C->bc0, C->bc, sizeof(C->bc[0]) * (size_t)C->nbc);
		C->nbc0 = C->nbc;
		C->nslots0 = C->nslots;
	}
	lua_settop(L, 4);
	lua_newtable(L); /* 5: consts */
	lua_newtable(L); /* 6: a spare, so the stack stays at 6 during translation */
	C->consts = 5;
	C->nconsts = 0;
	C->broken = bpfc_breaks();
	C->nhints = 0;
	C->nnosub = 0;
	C->cur_sub = C->cur_loop = -1;
	C->pc = 0;
	if (rc == 0) {
		rc = setjmp(C->jb);
		if (rc == 0) {
			fact_begin(C); /* what the translation will need, read up front */
			bc_inline(C);
			bc_liveness(C);
		}
	}
	while (rc != 1) {
		lua_settop(L, 6);
		scratch_pop(C, C->nscratch); /* what a failed try left */
		if (rc == 3) { /* a subprogram to inline instead: the bytecode changes */
			rc = setjmp(C->jb);
			if (rc != 0)
				continue;
			C->nhints = 0;
			C->pc = 0;
			bc_inline(C);
			bc_liveness(C);
		}
		rc = setjmp(C->jb);
		if (rc == 0) {
			compile_once(C);
			break;
		}
	}
	if (rc == 1) {
		lua_settop(L, 6);
		lua_pushnil(L);
		push_error(C);
		return 2;
	}
	lua_settop(L, 6);
	lua_createtable(L, 0, 6);
	lua_pushlstring(L, (const char *)C->insn, (size_t)C->ninsn * sizeof(struct bpf_insn));
	lua_setfield(L, -2, "insns");
	lua_pushinteger(L, C->ninsn);
	lua_setfield(L, -2, "n");
	lua_createtable(L, C->ninsn, 0); /* each instruction's bytecode pc in its function */
	for (int i = 0; i < C->ninsn; i++) {
		lua_pushinteger(L, C->bc[C->insn_bc[i]].opc);
		lua_rawseti(L, -2, i);
	}
	lua_setfield(L, -2, "bcpos");
	if (C->nfn > 1) { /* ... and that function, where it is one inlined */
		lua_newtable(L);
		for (int i = 0; i < C->ninsn; i++)
			if (C->bc[C->insn_bc[i]].fn) {
				k_push(C, C->fn_ref[C->bc[C->insn_bc[i]].fn]);
				lua_rawseti(L, -2, i);
			}
		lua_setfield(L, -2, "fns");
	}
	lua_createtable(L, C->nreloc, 0); /* { insn =, map = (the object), index = } */
	for (int r = 0; r < C->nreloc; r++) {
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, C->reloc[r].insn);
		lua_setfield(L, -2, "insn");
		lua_pushinteger(L, C->reloc[r].map);
		lua_setfield(L, -2, "index");
		k_push(C, C->map_ref[C->reloc[r].map]);
		lua_setfield(L, -2, "map");
		lua_rawseti(L, -2, r + 1);
	}
	lua_setfield(L, -2, "maps");
	if (C->ncorerel) { /* CO-RE: { insn =, spec = (bpf.btf.core_spec), kind = } */
		lua_createtable(L, C->ncorerel, 0);
		for (int r = 0; r < C->ncorerel; r++) {
			lua_createtable(L, 0, 3);
			lua_pushinteger(L, C->corerel[r].insn);
			lua_setfield(L, -2, "insn");
			lua_pushinteger(L, C->corerel[r].spec);
			lua_setfield(L, -2, "spec");
			lua_pushinteger(L, C->corerel[r].kind);
			lua_setfield(L, -2, "kind");
			lua_rawseti(L, -2, r + 1);
		}
		lua_setfield(L, -2, "core");
	}
	lua_getfield(L, 3, "keep_ir"); /* the IR too, as the passes left it (bpf.dump) */
	bool want_ir = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (want_ir) {
		ir_push(C);
		lua_setfield(L, -2, "ir");
	}
	lua_pushinteger(L, C->stack_top);
	lua_setfield(L, -2, "stack");
	if (C->default_space) { /* a pointer cast from a number: uprobes want it in user memory */
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "default_space");
	}
	if (C->ctx_writes) { /* the program type decides which fields it may write */
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "ctx_writes");
	}
	if (C->packet != PACKET_NONE) { /* how it reads the packet: 'direct' (tc, XDP) or 'classic' */
		lua_pushstring(L, C->packet == PACKET_DIRECT ? "direct" : "classic");
		lua_setfield(L, -2, "packet");
	}
	if (C->nfuncs > 1) { /* { { name =, insn =, stack =, fn = }, ... }: the program first */
		lua_createtable(L, C->nfuncs, 0);
		for (int f = 0; f < C->nfuncs; f++) {
			const struct ir_func *fn = &C->funcs[f];
			lua_createtable(L, 0, 4);
			if (fn->name_ref) {
				k_push(C, fn->name_ref);
				lua_setfield(L, -2, "name");
			}
			lua_pushinteger(L, fn->insn);
			lua_setfield(L, -2, "insn");
			lua_pushinteger(L, fn->stack);
			lua_setfield(L, -2, "stack");
			for (int k = 0; k < C->nsubs && f; k++)
				if (C->subs[k].func == f && C->subs[k].ref) {
					k_push(C, C->subs[k].ref);
					lua_setfield(L, -2, "fn");
				}
			lua_rawseti(L, -2, f + 1);
		}
		lua_setfield(L, -2, "funcs");
	}
	lua_pushinteger(L, C->nhints);
	lua_setfield(L, -2, "restarts");
	return 1;
}

static int l_compile(lua_State *L)
{
	struct module *M = lua_touserdata(L, lua_upvalueindex(1));
	luaL_checktype(L, 1, LUA_TFUNCTION);
	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_checktype(L, 3, LUA_TTABLE);
	if (M->busy)
		return luaL_error(L, "bpf: a program cannot be compiled while another one is "
				     "(bpf() was called from inside a compile)");
	if (!M->C) {
		M->C = calloc(1, sizeof(struct ctx));
		if (M->C)
			M->C->snap = v_state_new();
		if (!M->C || !M->C->snap)
			return luaL_error(L, "bpf: out of memory");
	}
	if (!M->C->bc0 && !(M->C->bc0 = malloc(sizeof(struct bcins) * MAX_BC)))
		return luaL_error(L, "bpf: out of memory");
	lua_settop(L, 3);
	lua_pushvalue(L, 1); /* 4: fn again, to say where a Lua error happened */
	lua_pushcfunction(L, compile_protected);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_pushlightuserdata(L, M);
	M->C->pc = 0;
	M->busy = true;
	int rc = lua_pcall(L, 4, LUA_MULTRET, 0);
	M->busy = false;
	if (rc != 0) { /* a Lua error inside the compile: say where it was */
		const char *msg = lua_tostring(L, -1);
		lua_pushnil(L);
		push_located(L, 4, M->C->pc, msg ? msg : "error while compiling");
		return 2;
	}
	return lua_gettop(L) - 4;
}

static int l_gc(lua_State *L)
{
	struct module *M = luaL_checkudata(L, 1, CTX_MT);
	if (M->C) {
		scratch_pop(M->C, M->C->nscratch);
		free(M->C->snap);
		free(M->C->bc0);
		free(M->C->cbloop);
		free(M->C->jpool);
		free(M->C->ra_mem);
		free(M->C);
		M->C = NULL;
	}
	return 0;
}

/* The decode stage as data, for bpf.dump(prog, {stage = 'bytecode'}):
** core.decode(fn) is a list of { pc =, op =, a =, b =, c =, d =, live = {slots} },
** what the translation starts from (the live slots are those read later). */
static int decode_protected(lua_State *L)
{
	struct module *M = lua_touserdata(L, 2);
	struct ctx *C = M->C;
	lua_settop(L, 1);
	lua_rawgeti(L, LUA_REGISTRYINDEX, M->reader);
	lua_pushvalue(L, 1);
	lua_call(L, 1, 5); /* 2: constants, 3: bytecode, 4: modes, 5: slots, 6: params */
	C->L = L;
	C->fn = 1;
	C->opmap = M->opmap;
	C->fr2 = M->fr2;
	C->pc = 0;
	if (setjmp(C->jb)) {
		lua_pushnil(L);
		lua_pushstring(L, C->err);
		return 2;
	}
	bc_load(C, 3, 4, (int)lua_tointeger(L, 5), (int)lua_tointeger(L, 6));
	bc_liveness(C);
	lua_createtable(L, C->nbc, 0);
	for (int pc = 1; pc < C->nbc; pc++) {
		const struct bcins *i = &C->bc[pc];
		lua_createtable(L, 0, 7);
		lua_pushinteger(L, pc);
		lua_setfield(L, -2, "pc");
		lua_pushstring(L, bc_opname(i->op));
		lua_setfield(L, -2, "op");
		lua_pushinteger(L, i->a);
		lua_setfield(L, -2, "a");
		lua_pushinteger(L, i->b);
		lua_setfield(L, -2, "b");
		lua_pushinteger(L, i->c);
		lua_setfield(L, -2, "c");
		lua_pushinteger(L, i->d);
		lua_setfield(L, -2, "d");
		lua_newtable(L);
		for (int s = 0, n = 0; s < C->nslots; s++)
			if (bc_live(C, pc, s)) {
				lua_pushinteger(L, s);
				lua_rawseti(L, -2, ++n);
			}
		lua_setfield(L, -2, "live");
		lua_rawseti(L, -2, pc);
	}
	return 1;
}

static int l_decode(lua_State *L)
{
	struct module *M = lua_touserdata(L, lua_upvalueindex(1));
	luaL_checktype(L, 1, LUA_TFUNCTION);
	if (M->busy)
		return luaL_error(L, "bpf: cannot decode while a program is being compiled");
	if (!M->C && !(M->C = calloc(1, sizeof(struct ctx))))
		return luaL_error(L, "bpf: out of memory");
	if (!M->C->snap && !(M->C->snap = v_state_new()))
		return luaL_error(L, "bpf: out of memory");
	lua_settop(L, 1);
	lua_pushcfunction(L, decode_protected);
	lua_insert(L, 1);
	lua_pushlightuserdata(L, M);
	M->busy = true;
	int rc = lua_pcall(L, 2, 2, 0);
	M->busy = false;
	if (rc != 0) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	return 2;
}

/* What the module learnt about this LuaJIT: opcode numbering and frame layout. */
static int l_info(lua_State *L)
{
	struct module *M = lua_touserdata(L, lua_upvalueindex(1));
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, M->fr2);
	lua_setfield(L, -2, "fr2");
	int known = 0;
	for (int i = 0; i < 256; i++)
		known += M->opmap[i] != OP_UNKNOWN;
	lua_pushinteger(L, known);
	lua_setfield(L, -2, "opcodes");
	lua_createtable(L, BRK__MAX, 0); /* the mutation switches, for tools/mutants.sh */
	for (int i = 0; i < BRK__MAX; i++) {
		lua_pushstring(L, break_names[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "breaks");
	return 1;
}

BPFC_API int luaopen_bpf_core(lua_State *L)
{
	struct module *M = lua_newuserdata(L, sizeof(*M));
	memset(M, 0, sizeof(*M));
	int ud = lua_gettop(L);
	if (luaL_newmetatable(L, CTX_MT)) {
		lua_pushcfunction(L, l_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, ud);
	if (bc_opmap_init(L, M->opmap, 256) <= 0)
		return luaL_error(L, "bpf: cannot read jit.vmdef (is this LuaJIT?)");
	if (luaL_loadstring(L, bc_reader_src))
		return lua_error(L);
	lua_call(L, 0, 1);
	M->reader = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "jit.util");
	lua_call(L, 1, 1);
	M->fr2 = bc_probe_fr2(L, lua_gettop(L), M->opmap);
	lua_pop(L, 1);
	if (M->fr2 < 0)
		return luaL_error(L, "bpf: cannot tell this LuaJIT's call frame layout");
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, ud);
	lua_pushcclosure(L, l_compile, 1);
	lua_setfield(L, -2, "compile");
	lua_pushvalue(L, ud);
	lua_pushcclosure(L, l_info, 1);
	lua_setfield(L, -2, "info");
	lua_pushvalue(L, ud);
	lua_pushcclosure(L, l_decode, 1);
	lua_setfield(L, -2, "decode");
	lua_pushcfunction(L, helpers_lua);
	lua_setfield(L, -2, "helpers");
	return 1;
}
