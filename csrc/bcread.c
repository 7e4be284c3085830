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

/* The reader: one Lua call per compile hands the core the function's
** bytecode, operand modes and constants (jit.util, as jit/bc.lua reads
** them), so that translation never calls back into Lua per bytecode. */
const char bc_reader_src[] =
	"local util = require('jit.util')\n"
	"local funcbc, funck, funcinfo = util.funcbc, util.funck, util.funcinfo\n"
	"return function(fn)\n"
	"  local info = funcinfo(fn)\n"
	"  local bc, modes, k = {}, {}, {}\n"
	"  local pc = 1\n"
	"  while true do\n"
	"    local ins, m = funcbc(fn, pc)\n"
	"    if not ins then break end\n"
	"    bc[pc], modes[pc] = ins, m\n"
	"    pc = pc + 1\n"
	"  end\n"
	"  for i = 0, (info.nconsts or 0) - 1 do k[i] = funck(fn, i) end\n"
	"  for i = 1, (info.gcconsts or 0) do k[-i] = funck(fn, -i) end\n"
	"  return k, bc, modes, info.stackslots, info.params, info.isvararg\n"
	"end\n";

/* Run the reader on the function at the top of the stack (popped): pushes
** its constants, bytecode, modes, slots, params and whether it takes `...`. */
void bc_read(struct ctx *C)
{
	lua_rawgeti(C->L, LUA_REGISTRYINDEX, C->reader);
	lua_insert(C->L, -2);
	lua_call(C->L, 1, 6);
}

/* Decode the reader's bc and modes tables (at bctab, modetab) into out[1..];
** returns the count, pc 0 included (the function header, not decoded). */
int bc_decode(struct ctx *C, int bctab, int modetab, struct bcins *out, int max)
{
	lua_State *L = C->L;
	int pc = 1;
	for (; pc < max; pc++) {
		lua_rawgeti(L, bctab, pc);
		lua_rawgeti(L, modetab, pc);
		if (lua_isnil(L, -2)) {
			lua_pop(L, 2);
			break;
		}
		uint32_t ins = (uint32_t)lua_tonumber(L, -2);
		struct bcins *o = &out[pc];
		o->mode = (uint16_t)lua_tointeger(L, -1);
		lua_pop(L, 2);
		o->op = C->opmap[ins & 0xff];
		o->a = (ins >> 8) & 0xff;
		o->c = (ins >> 16) & 0xff;
		o->b = ins >> 24;
		o->d = ins >> 16;
		o->fn = 0;
		o->opc = (uint16_t)pc;
	}
	if (pc >= max)
		bpfc_fail(C, "function is too long (more than %d bytecodes)", max);
	return pc;
}

/* Decode what the reader returned: bc and modes tables at bctab, modetab. */
int bc_load(struct ctx *C, int bctab, int modetab, int nslots, int nparams)
{
	C->nslots = nslots;
	C->nparams = nparams;
	if (C->nslots + NTMP > MAX_SLOTS)
		bpfc_fail(C, "function uses %d stack slots, at most %d are supported", C->nslots,
			  MAX_SLOTS - NTMP);
	C->nbc = bc_decode(C, bctab, modetab, C->bc, MAX_BC);
	C->nfn = 1;
	memset(C->inl_cont, 0, sizeof(C->inl_cont[0]) * (size_t)C->nbc);
	memset(C->inl_why, 0, sizeof(C->inl_why[0]) * (size_t)C->nbc);
	return 0;
}

/* Where a jump (D in jump mode) at pc goes. */
int bc_jump_target(const struct bcins *i, int pc)
{
	return pc + i->d - 0x7fff;
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


static bool is_cond(int op)
{
	return op <= OP_ISF && op != OP_MOV;
}


/* Slots an instruction reads (use) and writes (def): from its operand modes
** (a `var` operand is read, a `dst` one written), with the few opcodes whose
** base operands stand for a range of slots said one by one. */
static void usedef(const struct ctx *C, int pc, uint64_t *use, uint64_t *def)
{
	const struct bcins *i = &C->bc[pc];
	int a = i->a, b = i->b, c = i->c, d = i->d;
	int ma = i->mode & 7, mb = (i->mode >> 3) & 15, mc = (i->mode >> 7) & 15;
	size_t wbytes = (size_t)((C->nslots + 63) / 64) * sizeof(uint64_t);
	memset(use, 0, wbytes);
	memset(def, 0, wbytes);
	if (mb == BCM_VAR)
		set_add(use, b);
	if (mc == BCM_VAR)
		set_add(use, mb != BCM_NONE ? c : d);
	if (ma == BCM_VAR)
		set_add(use, a);
	if (ma == BCM_DST && i->op != OP_ISTC && i->op != OP_ISFC) /* those write A on the jump only */
		set_add(def, a);
	switch (i->op) {
	case OP_CAT:
		for (int s = b; s <= c; s++)
			set_add(use, s);
		break;
	case OP_KNIL:
		for (int s = a; s <= d; s++)
			set_add(def, s);
		break;
	case OP_RET1:
		set_add(use, a);
		break;
	case OP_FORI: case OP_JFORI: /* A index, A+1 limit, A+2 step; A+3 the loop variable */
		for (int k = 0; k < 3; k++)
			set_add(use, a + k);
		set_add(def, a + 3);
		break;
	case OP_FORL: case OP_IFORL: case OP_JFORL:
		for (int k = 0; k < 3; k++)
			set_add(use, a + k);
		set_add(def, a);
		set_add(def, a + 3);
		break;
	case OP_CALL: case OP_CALLT: case OP_CALLM: case OP_CALLMT: {
		/* CALLM's last arguments are the results of the call before it
		** (MULTRES): they are read from its base up */
		int nargs = (i->op == OP_CALL || i->op == OP_CALLT) ? c - 1 : C->nslots - a;
		set_add(use, a);
		for (int s = a + 1 + C->fr2; s < a + 1 + C->fr2 + nargs && s < C->nslots; s++)
			set_add(use, s);
		/* B results from A on; B == 0: all of them (MULTRES), from A up */
		if (i->op == OP_CALL || i->op == OP_CALLM)
			for (int s = a; s < (b ? a + b - 1 : C->nslots); s++)
				set_add(def, s);
		break;
	}
	case OP_RET: case OP_RETM:
		for (int s = a; s < C->nslots; s++)
			set_add(use, s);
		break;
	case OP_ITERC: case OP_ITERN: /* A-3 the iterator, A-2 its state, A-1 the control;
				       ** its B - 1 results from A on */
		for (int s = a - 3; s < a; s++)
			set_add(use, s);
		for (int s = a; s < a + b - 1; s++)
			set_add(def, s);
		break;
	case OP_ITERL: case OP_IITERL: case OP_JITERL: /* on the jump: A-1 = A */
		set_add(use, a);
		set_add(def, a - 1);
		break;
	case OP_ISNEXT: /* checks A-3..A-1 */
		for (int s = a - 3; s < a; s++)
			set_add(use, s);
		break;
	default:
		break;
	}
}

/* Backward dataflow to a fixed point (a loop takes a pass more per level). */
void bc_liveness(struct ctx *C)
{
	int n = C->nbc;
	int words = (C->nslots + 63) / 64; /* the slots in use: the rest stay 0 */
	size_t wbytes = (size_t)words * sizeof(uint64_t);
	for (int pc = 0; pc < n; pc++) {
		memset(C->live[pc], 0, sizeof(slotset));
		memset(C->livein[pc], 0, sizeof(slotset));
		C->target[pc] = false;
		C->loopend[pc] = 0;
	}
	for (int pc = 1; pc < n; pc++) {
		int op = C->bc[pc].op;
		if (op == OP_JMP || op == OP_FORI || op == OP_FORL || op == OP_IFORL || op == OP_ITERL ||
		    op == OP_LOOP || op == OP_ISNEXT) {
			int t = bc_jump_target(&C->bc[pc], pc);
			if (t > 0 && t < n)
				C->target[t] = true;
			if (t > 0 && t <= pc && (op == OP_JMP || op == OP_FORL || op == OP_IFORL))
				C->loopend[t] = (int16_t)pc; /* a back edge: t heads a loop */
		}
	}
	/* A loop's turn is every pc from its header to its last back edge, and
	** the turns of a loop whose back edge jumps into it from further on */
	for (bool grew = true; grew;) {
		grew = false;
		for (int h = 1; h < n; h++) {
			if (!C->loopend[h])
				continue;
			for (int pc = C->loopend[h] + 1; pc < n; pc++) {
				int op = C->bc[pc].op;
				if (op != OP_JMP && op != OP_FORL && op != OP_IFORL)
					continue;
				int t = bc_jump_target(&C->bc[pc], pc);
				if (t >= h && t <= C->loopend[h]) {
					C->loopend[h] = (int16_t)pc;
					grew = true;
				}
			}
		}
	}
	bool changed = true;
	int round;
	for (round = 0; changed && round < 4 * n + 8; round++) {
		changed = false;
		for (int pc = n - 1; pc >= 1; pc--) {
			const struct bcins *i = &C->bc[pc];
			slotset out = {0}, in, use, def;
			bool ends = i->op == OP_RET0 || i->op == OP_RET1 || i->op == OP_RET ||
				    i->op == OP_RETM || i->op == OP_CALLT || i->op == OP_CALLMT;
			if (!ends && i->op != OP_JMP && i->op != OP_ISNEXT && pc + 1 < n)
				memcpy(out, C->livein[pc + 1], wbytes);
			/* A comparison goes on to its JMP when true, past it when false. */
			if (is_cond(i->op) && pc + 2 < n) {
				if (i->op == OP_ISTC || i->op == OP_ISFC)
					set_del(out, i->a);
				for (int w = 0; w < words; w++)
					out[w] |= C->livein[pc + 2][w];
			}
			if (i->op == OP_CALL && C->inl_cont[pc]) /* the body, or past it when it folds */
				for (int w = 0; w < words; w++)
					out[w] |= C->livein[C->inl_cont[pc]][w];
			if (i->op == OP_FORI || i->op == OP_FORL || i->op == OP_IFORL || i->op == OP_ITERL ||
			    i->op == OP_IITERL) {
				int t = bc_jump_target(i, pc); /* the exit, or the body again */
				if (t > 0 && t < n)
					for (int w = 0; w < words; w++)
						out[w] |= C->livein[t][w];
			}
			if (i->op == OP_JMP || i->op == OP_ISNEXT) {
				int t = bc_jump_target(i, pc);
				if (t > 0 && t < n)
					memcpy(out, C->livein[t], wbytes);
				/* after a comparison the JMP is taken only when it holds */
				if (pc > 1 && is_cond(C->bc[pc - 1].op) && pc + 1 < n)
					for (int w = 0; w < words; w++)
						out[w] |= C->livein[pc + 1][w];
			}
			usedef(C, pc, use, def);
			for (int w = 0; w < words; w++)
				in[w] = (out[w] & ~def[w]) | use[w];
			if (memcmp(in, C->livein[pc], wbytes) ||
			    memcmp(out, C->live[pc], wbytes)) {
				memcpy(C->livein[pc], in, wbytes);
				memcpy(C->live[pc], out, wbytes);
				changed = true;
			}
		}
	}
	if (changed) /* cannot happen: the sets only grow */
		bpfc_fail(C, "internal: liveness did not settle");
}

/* The slots some bytecode in [from, to] writes, into out. */
void bc_writes(const struct ctx *C, int from, int to, uint64_t *out)
{
	slotset use, def;
	memset(out, 0, sizeof(slotset));
	for (int pc = from; pc <= to; pc++) {
		usedef(C, pc, use, def);
		for (int w = 0; w < MAX_SLOTS / 64; w++)
			out[w] |= def[w];
		if (C->bc[pc].op == OP_ISTC || C->bc[pc].op == OP_ISFC) /* A, on the jump only */
			set_add(out, C->bc[pc].a);
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
