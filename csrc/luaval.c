/*
** Lua values the compiler meets as constants: anchoring them, telling maps,
** dissectors and helpers apart, and asking the ffi about ctypes (through
** lua/bpf/ctype.lua, passed in as opts.ctype).
*/
#include <math.h>
#include <string.h>
#include "core.h"

int k_ref(struct ctx *C, int idx)
{
	lua_State *L = C->L;
	if (idx < 0)
		idx = lua_gettop(L) + idx + 1;
	lua_pushvalue(L, idx);
	lua_rawseti(L, C->consts, ++C->nconsts);
	return C->nconsts;
}

void k_push(struct ctx *C, int ref)
{
	lua_rawgeti(C->L, C->consts, ref);
}

/* consts[ref][name] as a new ref, 0 when nil. */
int k_field(struct ctx *C, int ref, const char *name)
{
	lua_State *L = C->L;
	k_push(C, ref);
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	lua_getfield(L, -1, name);
	int r = lua_isnil(L, -1) ? 0 : k_ref(C, -1);
	lua_pop(L, 2);
	return r;
}

/* consts[ref][name] as an integer; false when it is not a number. */
bool k_intfield(struct ctx *C, int ref, const char *name, int64_t *out)
{
	lua_State *L = C->L;
	k_push(C, ref);
	bool ok = false;
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, name);
		if ((ok = lua_type(L, -1) == LUA_TNUMBER))
			*out = (int64_t)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return ok;
}

/* Is consts[ref] a map object (a table with a true __map)? */
bool k_ismap(struct ctx *C, int ref)
{
	lua_State *L = C->L;
	k_push(C, ref);
	bool yes = false;
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "__map");
		yes = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return yes;
}

bool k_isstring(struct ctx *C, int ref, const char **s, size_t *len)
{
	k_push(C, ref);
	bool ok = lua_type(C->L, -1) == LUA_TSTRING;
	if (ok)
		*s = lua_tolstring(C->L, -1, len); /* anchored in consts */
	lua_pop(C->L, 1);
	return ok;
}

/* Name of the helper a Lua value stands for (opts.builtins[value]), or NULL. */
const char *k_builtin(struct ctx *C, int ref)
{
	lua_State *L = C->L;
	lua_getfield(L, C->opts, "builtins");
	k_push(C, ref);
	lua_rawget(L, -2);
	const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	lua_pop(L, 2); /* the name stays alive in opts.builtins */
	return name;
}

/* Call opts.ctype[fn](args...) with nret results left on the stack. */
static void ct_call(struct ctx *C, const char *fn, int nargs, int nret)
{
	lua_State *L = C->L;
	lua_getfield(L, C->opts, "ctype");
	lua_getfield(L, -1, fn);
	lua_remove(L, -2);
	lua_insert(L, -1 - nargs);
	if (lua_pcall(L, nargs, nret, 0))
		bpfc_fail(C, "%s", lua_tostring(L, -1));
}

/* Classify a cdata: integers become numbers, the rest stays a Lua value. */
static bool cdata_int(struct ctx *C, int idx, int64_t *out, bool *isu64)
{
	lua_State *L = C->L;
	lua_pushvalue(L, idx);
	ct_call(C, "tointeger", 1, 2);
	bool ok = false;
	*isu64 = lua_toboolean(L, -1);
	if (lua_type(L, -2) == 10) { /* a boxed int64: its 8 bytes are the payload */
		const int64_t *p = lua_topointer(L, -2);
		if (p) {
			*out = *p;
			ok = true;
		}
	} else if (lua_type(L, -2) == LUA_TNUMBER) {
		double n = lua_tonumber(L, -2);
		if (n >= -9.2e18 && n <= 9.2e18) {
			*out = (int64_t)n;
			ok = true;
		}
	}
	lua_pop(L, 2);
	return ok;
}

void v_set_lua(struct ctx *C, int slot, int idx)
{
	lua_State *L = C->L;
	if (idx < 0)
		idx = lua_gettop(L) + idx + 1;
	v_def(C, slot);
	struct var *v = &C->v[slot];
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		v->kind = VK_NIL;
		return;
	case LUA_TBOOLEAN:
		v_const(C, slot, lua_toboolean(L, idx));
		v->flags |= VF_BOOL;
		return;
	case LUA_TNUMBER: {
		double n = lua_tonumber(L, idx);
		if (n != floor(n) || fabs(n) > 9.2e18)
			bpfc_fail(C, "the number %g is not an integer: BPF has no floating point", n);
		v_const(C, slot, (int64_t)n);
		return;
	}
	case 10: { /* cdata */
		int64_t n;
		bool isu64;
		if (cdata_int(C, idx, &n, &isu64)) {
			v_numconst(C, slot, n, isu64 ? VF_U64 : 0);
			v->width = 8;
			return;
		}
		break;
	}
	case LUA_TTABLE:
		lua_getfield(L, idx, "__dissector");
		if (!lua_isnil(L, -1)) {
			v->ref = k_ref(C, -1);
			lua_getfield(L, idx, "layer");
			v->layer = lua_isnil(L, -1) ? 0 : k_ref(C, -1);
			lua_getfield(L, idx, "off");
			if (lua_isnumber(L, -1)) {
				v->kind = VK_PKT;
				v->num = (int64_t)lua_tonumber(L, -1);
				lua_pop(L, 3);
				return;
			}
			lua_pop(L, 3);
			/* the program's context by name (skb in a function without
			** parameters): r6 holds it from the first instruction on */
			lua_getfield(L, C->opts, "ctx");
			bool is_ctx = lua_rawequal(L, -1, idx);
			lua_pop(L, 1);
			if (is_ctx && C->ctx_pinned) {
				v->kind = VK_RT;
				v->ptr = PK_CTX;
				v->reg = 6;
				v->width = 8;
				v->num = 0;
				v->layer = 0;
				return;
			}
			bpfc_fail(C, "a dissector needs a packet offset (or, for the context, a "
				     "parameter: function(skb) ... end)");
		}
		lua_pop(L, 1);
		break;
	default:
		break;
	}
	v->kind = VK_LUA;
	v->ref = k_ref(C, idx);
}

/* A member of a ctype, from one call of ctype.member (offset, size, bit
** position and size, flags, member ctype). */
bool ct_field(struct ctx *C, int ctype, const char *name, struct cfield *f)
{
	lua_State *L = C->L;
	k_push(C, ctype);
	lua_pushstring(L, name);
	ct_call(C, "member", 2, 6);
	if (!lua_isnumber(L, -6)) {
		lua_pop(L, 6);
		return false;
	}
	f->off = (int)lua_tointeger(L, -6);
	f->size = (int)lua_tointeger(L, -5);
	f->bpos = lua_isnumber(L, -4) ? (int)lua_tointeger(L, -4) : -1;
	f->bsize = lua_isnumber(L, -3) ? (int)lua_tointeger(L, -3) : -1;
	int bits = (int)lua_tointeger(L, -2);
	f->isptr = bits & 1;
	f->issigned = bits & 2;
	f->isfloat = bits & 4;
	f->isagg = bits & 8;
	f->ctype = lua_isnil(L, -1) ? 0 : k_ref(C, -1);
	lua_pop(L, 6);
	return true;
}

int ct_sizeof(struct ctx *C, int ctype)
{
	k_push(C, ctype);
	ct_call(C, "sizeof", 1, 1);
	int n = lua_isnumber(C->L, -1) ? (int)lua_tointeger(C->L, -1) : -1;
	lua_pop(C->L, 1);
	return n;
}

bool ct_scalar(struct ctx *C, int ctype, int *size, bool *issigned)
{
	k_push(C, ctype);
	ct_call(C, "scalar", 1, 2);
	bool ok = lua_isnumber(C->L, -2);
	if (ok) {
		*size = (int)lua_tointeger(C->L, -2);
		*issigned = lua_toboolean(C->L, -1);
	}
	lua_pop(C->L, 2);
	return ok;
}

/* Element ctype of an array or pointer ctype (0 if neither); *esize its size. */
int ct_elem(struct ctx *C, int ctype, int *esize)
{
	k_push(C, ctype);
	ct_call(C, "elem", 1, 2);
	int r = lua_isnil(C->L, -2) ? 0 : k_ref(C, -2);
	*esize = lua_isnumber(C->L, -1) ? (int)lua_tointeger(C->L, -1) : 0;
	lua_pop(C->L, 2);
	return r;
}
