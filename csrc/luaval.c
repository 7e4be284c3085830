/*
** Lua values the compiler meets as constants: anchoring them in the
** constants table and making variables of them (what a table or cdata is
** comes from facts.c).
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

/* Another ref of the same value: each use of a fact gets its own. */
int k_dup(struct ctx *C, int ref)
{
	k_push(C, ref);
	int r = k_ref(C, -1);
	lua_pop(C->L, 1);
	return r;
}

/* Do refs a and b hold the same value (0: none)?  Two refs of one ctype do. */
bool k_same(struct ctx *C, int a, int b)
{
	if (!a || !b)
		return a == b;
	k_push(C, a);
	k_push(C, b);
	bool same = lua_rawequal(C->L, -1, -2);
	lua_pop(C->L, 2);
	return same;
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
		if (fact_integer(C, idx, &n, &isu64)) {
			v_numconst(C, slot, n, isu64 ? VF_U64 : 0);
			v->width = 8;
			return;
		}
		break;
	}
	case LUA_TTABLE: {
		int ref = k_ref(C, idx);
		const struct kfact *k = fact_value(C, ref);
		if (!k || k->kind != KF_DISSECTOR) {
			v->kind = VK_LUA;
			v->ref = ref;
			return;
		}
		v->ref = k_dup(C, k->ctype);
		v->layer = k->layer;
		if (k->has_off) {
			v->kind = VK_PKT;
			v->num = k->off;
			return;
		}
		/* the program's context by name (skb in a function without
		** parameters): ctx_reg holds it from the first instruction on */
		if (k->context && C->ctx_pinned) {
			v->kind = VK_RT;
			v->ptr = PK_CTX;
			v->reg = (uint16_t)C->ctx_reg;
			v->width = 8;
			v->num = 0;
			v->layer = 0;
			return;
		}
		bpfc_fail(C, "a dissector needs a packet offset (or, for the context, a "
			     "parameter: function(skb) ... end)");
	}
	default:
		break;
	}
	v->kind = VK_LUA;
	v->ref = k_ref(C, idx);
}
