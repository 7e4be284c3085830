/*
** Reading a Lua function's bytecode through jit.util (as jit/bc.lua does),
** naming opcodes from jit.vmdef.bcnames, and slot liveness over it.
*/
#include <string.h>
#include <lauxlib.h>
#include "core.h"

static const char *const opnames[] = {
#define BCNAME(name) #name,
	BCOPS(BCNAME)
#undef BCNAME
};

const char *bc_opname(int op)
{
	return op >= 0 && op < OP__MAX ? opnames[op] : "?";
}

/* Map LuaJIT's opcode numbers to ours by name. Returns the count. */
int bc_opmap_init(lua_State *L, uint8_t *opmap, int max)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "jit.vmdef");
	if (lua_pcall(L, 1, 1, 0))
		return -1;
	lua_getfield(L, -1, "bcnames");
	size_t len;
	const char *names = lua_tolstring(L, -1, &len);
	int n = names ? (int)(len / 6) : 0;
	for (int i = 0; i < max; i++)
		opmap[i] = OP_UNKNOWN;
	for (int i = 0; i < n && i < max; i++) {
		char nm[7];
		memcpy(nm, names + 6 * i, 6);
		nm[6] = 0;
		for (int k = 5; k >= 0 && nm[k] == ' '; k--)
			nm[k] = 0;
		for (int op = 0; op < OP__MAX; op++)
			if (!strcmp(nm, opnames[op]))
				opmap[i] = (uint8_t)op;
	}
	lua_pop(L, 2);
	return n;
}

/* Decode bytecode pc of the function at stack index fn. Returns false past the end. */
static bool fetch(lua_State *L, int jitutil, int fn, int pc, const uint8_t *opmap,
		  struct bcins *out)
{
	lua_getfield(L, jitutil, "funcbc");
	lua_pushvalue(L, fn);
	lua_pushinteger(L, pc);
	lua_call(L, 2, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return false;
	}
	uint32_t ins = (uint32_t)lua_tonumber(L, -1);
	lua_pop(L, 1);
	out->op = opmap[ins & 0xff];
	out->a = (ins >> 8) & 0xff;
	out->c = (ins >> 16) & 0xff;
	out->b = ins >> 24;
	out->d = ins >> 16;
	return true;
}

/* Does a call frame take two slots? Compile `f(x)` and see where x goes. */
int bc_probe_fr2(lua_State *L, int jitutil, const uint8_t *opmap)
{
	if (luaL_loadstring(L, "local f, x = ...; f(x)"))
		return -1;
	int fn = lua_gettop(L);
	struct bcins ins, mov = {0};
	int fr2 = -1;
	for (int pc = 1; fetch(L, jitutil, fn, pc, opmap, &ins); pc++) {
		if (ins.op == OP_MOV)
			mov = ins;
		else if (ins.op == OP_CALL) {
			fr2 = mov.a - ins.a - 1;
			break;
		}
	}
	lua_pop(L, 1);
	return fr2 == 0 || fr2 == 1 ? fr2 : -1;
}

int bc_load(struct ctx *C)
{
	lua_State *L = C->L;
	lua_getfield(L, C->jitutil, "funcinfo");
	lua_pushvalue(L, C->fn);
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "stackslots");
	C->nslots = (int)lua_tointeger(L, -1);
	lua_getfield(L, -2, "params");
	C->nparams = (int)lua_tointeger(L, -1);
	lua_pop(L, 3);
	if (C->nslots + NTMP > MAX_SLOTS)
		bpfc_fail(C, "function uses %d stack slots, at most %d are supported", C->nslots,
			  MAX_SLOTS - NTMP);
	int pc = 1;
	while (pc < MAX_BC && fetch(L, C->jitutil, C->fn, pc, C->opmap, &C->bc[pc]))
		pc++;
	if (pc >= MAX_BC)
		bpfc_fail(C, "function is too long (more than %d bytecodes)", MAX_BC);
	C->nbc = pc;
	return 0;
}

/* ---- liveness: which slots are read later, per bytecode ---- */

typedef uint64_t slotset[MAX_SLOTS / 64];

static void set_add(uint64_t *s, int slot)
{
	if (slot >= 0 && slot < MAX_SLOTS)
		s[slot >> 6] |= 1ull << (slot & 63);
}

static void set_del(uint64_t *s, int slot)
{
	if (slot >= 0 && slot < MAX_SLOTS)
		s[slot >> 6] &= ~(1ull << (slot & 63));
}

static int jump_target(int pc, uint16_t d)
{
	return pc + d - 0x7fff;
}

static bool is_cond(int op)
{
	return op <= OP_ISF && op != OP_MOV;
}

/* Slots an instruction reads (use) and writes (def). */
static void usedef(const struct ctx *C, int pc, uint64_t *use, uint64_t *def)
{
	const struct bcins *i = &C->bc[pc];
	int a = i->a, b = i->b, c = i->c, d = i->d;
	memset(use, 0, sizeof(slotset));
	memset(def, 0, sizeof(slotset));
	switch (i->op) {
	case OP_ISLT: case OP_ISGE: case OP_ISLE: case OP_ISGT: case OP_ISEQV: case OP_ISNEV:
		set_add(use, a);
		set_add(use, d);
		break;
	case OP_ISEQS: case OP_ISNES: case OP_ISEQN: case OP_ISNEN: case OP_ISEQP: case OP_ISNEP:
	case OP_RET1: case OP_USETV: case OP_USETS: case OP_USETN: case OP_USETP: case OP_GSET:
		set_add(use, a);
		break;
	case OP_ISTC: case OP_ISFC:
		set_add(use, d); /* A is written only on the jump: not a kill */
		break;
	case OP_IST: case OP_ISF:
		set_add(use, d);
		break;
	case OP_MOV: case OP_NOT: case OP_UNM: case OP_LEN:
		set_add(use, d);
		set_add(def, a);
		break;
	case OP_ADDVN: case OP_SUBVN: case OP_MULVN: case OP_DIVVN: case OP_MODVN: case OP_ADDNV:
	case OP_SUBNV: case OP_MULNV: case OP_DIVNV: case OP_MODNV: case OP_TGETS: case OP_TGETB:
		set_add(use, b);
		set_add(def, a);
		break;
	case OP_ADDVV: case OP_SUBVV: case OP_MULVV: case OP_DIVVV: case OP_MODVV: case OP_POW:
	case OP_TGETV: case OP_TGETR:
		set_add(use, b);
		set_add(use, c);
		set_add(def, a);
		break;
	case OP_CAT:
		for (int s = b; s <= c; s++)
			set_add(use, s);
		set_add(def, a);
		break;
	case OP_KSTR: case OP_KCDATA: case OP_KSHORT: case OP_KNUM: case OP_KPRI: case OP_UGET:
	case OP_GGET: case OP_TNEW: case OP_TDUP: case OP_FNEW:
		set_add(def, a);
		break;
	case OP_KNIL:
		for (int s = a; s <= d; s++)
			set_add(def, s);
		break;
	case OP_TSETV: case OP_TSETR:
		set_add(use, a);
		set_add(use, b);
		set_add(use, c);
		break;
	case OP_TSETS: case OP_TSETB:
		set_add(use, a);
		set_add(use, b);
		break;
	case OP_CALL: case OP_CALLT: case OP_CALLM: case OP_CALLMT: {
		int nargs = (i->op == OP_CALL || i->op == OP_CALLT) ? c - 1 : C->nslots - a;
		set_add(use, a);
		for (int s = a + 1 + C->fr2; s < a + 1 + C->fr2 + nargs && s < C->nslots; s++)
			set_add(use, s);
		if (i->op == OP_CALL || i->op == OP_CALLM)
			for (int s = a; s < a + b - 1; s++)
				set_add(def, s);
		break;
	}
	case OP_RET: case OP_RETM:
		for (int s = a; s < C->nslots; s++)
			set_add(use, s);
		break;
	default:
		break;
	}
}

/* Backward dataflow to a fixed point; jumps are forward, so one pass almost always does. */
void bc_liveness(struct ctx *C)
{
	int n = C->nbc;
	for (int pc = 0; pc < n; pc++) {
		memset(C->live[pc], 0, sizeof(slotset));
		memset(C->livein[pc], 0, sizeof(slotset));
		C->target[pc] = false;
	}
	for (int pc = 1; pc < n; pc++) {
		int op = C->bc[pc].op;
		if (op == OP_JMP || op == OP_FORI || op == OP_FORL || op == OP_ITERL || op == OP_LOOP ||
		    op == OP_ISNEXT) {
			int t = jump_target(pc, C->bc[pc].d);
			if (t > 0 && t < n)
				C->target[t] = true;
		}
	}
	bool changed = true;
	for (int round = 0; changed && round < 64; round++) {
		changed = false;
		for (int pc = n - 1; pc >= 1; pc--) {
			const struct bcins *i = &C->bc[pc];
			slotset out = {0}, in, use, def;
			bool ends = i->op == OP_RET0 || i->op == OP_RET1 || i->op == OP_RET ||
				    i->op == OP_RETM || i->op == OP_CALLT || i->op == OP_CALLMT;
			if (!ends && i->op != OP_JMP && pc + 1 < n)
				memcpy(out, C->livein[pc + 1], sizeof(slotset));
			/* A comparison goes on to its JMP when true, past it when false. */
			if (is_cond(i->op) && pc + 2 < n) {
				if (i->op == OP_ISTC || i->op == OP_ISFC)
					set_del(out, i->a);
				for (int w = 0; w < MAX_SLOTS / 64; w++)
					out[w] |= C->livein[pc + 2][w];
			}
			if (i->op == OP_JMP) {
				int t = jump_target(pc, i->d);
				if (t > 0 && t < n)
					memcpy(out, C->livein[t], sizeof(slotset));
				/* after a comparison the JMP is taken only when it holds */
				if (pc > 1 && is_cond(C->bc[pc - 1].op) && pc + 1 < n)
					for (int w = 0; w < MAX_SLOTS / 64; w++)
						out[w] |= C->livein[pc + 1][w];
			}
			usedef(C, pc, use, def);
			for (int w = 0; w < MAX_SLOTS / 64; w++)
				in[w] = (out[w] & ~def[w]) | use[w];
			if (memcmp(in, C->livein[pc], sizeof(slotset)) ||
			    memcmp(out, C->live[pc], sizeof(slotset))) {
				memcpy(C->livein[pc], in, sizeof(slotset));
				memcpy(C->live[pc], out, sizeof(slotset));
				changed = true;
			}
		}
	}
}

bool bc_live(const struct ctx *C, int pc, int slot)
{
	if (slot < 0 || slot >= C->nslots)
		return false;
	return (C->live[pc][slot >> 6] >> (slot & 63)) & 1;
}

bool bc_livein(const struct ctx *C, int pc, int slot)
{
	if (slot < 0 || slot >= C->nslots)
		return false;
	return (C->livein[pc][slot >> 6] >> (slot & 63)) & 1;
}
