/*
** One LuaJIT bytecode at a time to BPF: constants, moves, arithmetic,
** comparisons and jumps, returns.  Indexing and calls are in index.c and
** call.c; what they touch (maps, packets, memory) in their own files.
*/
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include "core.h"

/* The constant jit.util.funck(fn, idx) pushed on the stack (read once by
** the reader, bcread.c). */
static void push_k(struct ctx *C, int idx)
{
	if (C->bc[C->pc].fn) { /* a constant of a function inlined */
		k_push(C, C->fn_ktab[C->bc[C->pc].fn]);
		lua_rawgeti(C->L, -1, idx);
		lua_remove(C->L, -2);
	} else {
		lua_rawgeti(C->L, C->ktab, idx);
	}
}

static const char *kstr(struct ctx *C, int d)
{
	push_k(C, -d - 1);
	const char *s = lua_tostring(C->L, -1);
	k_ref(C, -1); /* keep it alive */
	lua_pop(C->L, 1);
	return s ? s : "?";
}

static int64_t knum(struct ctx *C, int idx)
{
	push_k(C, idx);
	double n = lua_tonumber(C->L, -1);
	lua_pop(C->L, 1);
	if (!(n >= -9223372036854775808.0 && n < 9223372036854775808.0) || n != (double)(int64_t)n)
		bpfc_fail(C, "the number %.17g is not an integer (BPF has no floating point: numbers are 64-bit integers)", n);
	return (int64_t)n;
}

/* ---- comparisons ---- */

/* Lua's truth of a value, when it is known at compile time: only nil and
** false are false, every number (0 included) and every pointer is true;
** what stays open is a boolean, or a pointer that may be NULL (nil). */
static bool truthy_const(struct ctx *C, int slot, bool *val)
{
	struct var *v = v_src(C, slot);
	switch (v->kind) {
	case VK_NIL: *val = false; return true;
	case VK_NUM: *val = !(v->flags & VF_BOOL) || v->num != 0; return true;
	case VK_LUA: case VK_PKT: case VK_STACK: *val = true; return true;
	case VK_RT: break;
	default: bpfc_fail(C, "variable is used before it has a value");
	}
	if (v->flags & (VF_TRUE | VF_FALSE)) {
		*val = (v->flags & VF_TRUE) != 0;
		return true;
	}
	if (v->flags & VF_MIXED)
		bpfc_fail(C, "this value is a number on one path and nil or false on another, so "
			     "its truth is not known; give it a value of one kind on every path");
	if (v->ptr == PK_MAPVAL)
		return (v->flags & VF_NULL) ? false : (*val = true, true);
	if (v->ptr == PK_SCALAR && (v->flags & VF_BOOL))
		return false;
	*val = true;
	return true;
}

static void cmp_set(struct ctx *C, uint8_t jop, int a, int b, int64_t imm)
{
	if (b < 0 && !fits_imm(imm)) { /* in a register now: the join's moves come before the jump */
		b = C->tmp + 1;
		v_numconst(C, b, imm, 0);
		v_reg(C, b);
	}
	C->cmp = (struct pcmp){.state = 1, .jop = jop, .a = a, .b = b, .imm = imm, .null_slot = -1, .truth_slot = -1,
			       .copy_dst = -1};
}

static void cmp_fold(struct ctx *C, bool taken)
{
	C->cmp = (struct pcmp){.state = taken ? CMP_ALWAYS : CMP_NEVER, .null_slot = -1, .truth_slot = -1,
			       .copy_dst = -1};
}


/* Truth test: Lua's (see truthy_const). */
static void cmp_truth(struct ctx *C, int slot, bool jump_if_true)
{
	bool val;
	if (truthy_const(C, slot, &val)) {
		cmp_fold(C, val == jump_if_true);
		return;
	}
	cmp_set(C, jump_if_true ? BPF_JNE : BPF_JEQ, slot, -1, 0);
	struct var *v = v_src(C, slot);
	if (v->kind == VK_RT && v->ptr == PK_MAPVAL) {
		C->cmp.null_slot = v_root(C, slot);
		C->cmp.nonnull_on_jump = jump_if_true;
	}
	if (v->kind == VK_RT && v->ptr == PK_SCALAR && (v->flags & VF_BOOL)) {
		C->cmp.truth_slot = v_root(C, slot);
		C->cmp.true_on_jump = jump_if_true;
	}
}

/* After a test of a boolean's truth, on the jump (on_jump) or past it: that
** truth is known there (`f(x) or y` joins a true value and y, never false). */
static void truth_known(struct ctx *C, const struct pcmp *cmp, bool on_jump)
{
	if (cmp->truth_slot < 0)
		return;
	struct var *v = &C->v[cmp->truth_slot];
	if (v->kind != VK_RT || !(v->flags & VF_BOOL))
		return;
	bool t = cmp->true_on_jump == on_jump;
	v->flags = (uint16_t)((v->flags & ~(VF_TRUE | VF_FALSE)) | (t ? VF_TRUE : VF_FALSE));
}

/* A string's bytes as the number a packet load of that width yields. */
static bool str_as_num(struct ctx *C, int a, const char *s, size_t len, int64_t *out)
{
	struct var *v = v_src(C, a);
	if (len > 8)
		return false;
	uint64_t n = 0;
	if (v->flags & VF_NETORD || (v->kind == VK_RT && v->ptr == PK_SCALAR && !(v->flags & VF_BOOL))) {
		for (size_t i = 0; i < len; i++)
			n = n << 8 | (uint8_t)s[i];
	} else {
		return false;
	}
	*out = (int64_t)n;
	return true;
}

/* Slot a compared with the string constant ref. */
static void cmp_string(struct ctx *C, int a, int ref, bool eq)
{
	const char *s;
	size_t len;
	int64_t y;
	k_isstring(C, ref, &s, &len);
	struct var *v = v_src(C, a);
	if (v->kind == VK_LUA) {
		const char *t;
		size_t tl;
		bool same = k_isstring(C, v->ref, &t, &tl) && tl == len && !memcmp(s, t, len);
		cmp_fold(C, same == eq);
		return;
	}
	if (v->kind == VK_NIL || v->kind == VK_NUM || v->kind == VK_PKT) {
		cmp_fold(C, !eq); /* a number is never equal to a string */
		return;
	}
	if (v->flags & VF_SLICE) { /* ffi.string(mem, n): a string of n bytes, never of another length */
		if ((int)len != fact_sizeof(C, v->ref)) {
			cmp_fold(C, !eq);
			return;
		}
	}
	if (v->kind == VK_STACK || (v->kind == VK_RT && v->ptr == PK_MAPVAL) ||
	    (v->kind == VK_RT && v->ptr == PK_CTX && v->ref && fact_elem(C, v->ref, &(int){0}))) {
		if (v->kind == VK_RT && v->ptr == PK_MAPVAL && (v->flags & VF_NULL))
			bpfc_fail(C, "comparing a map value with the string \"%s\": check it for nil first", s);
		cmp_set(C, eq ? BPF_JEQ : BPF_JNE, a, -1, 0);
		C->cmp.strref = ref;
		return;
	}
	if (!str_as_num(C, a, s, len, &y))
		bpfc_fail(C, "cannot compare this value with the string \"%s\" (a packet slice of "
			     "up to 8 bytes, or memory on the stack or in a map value, can be)", s);
	cmp_set(C, eq ? BPF_JEQ : BPF_JNE, a, -1, y);
}

static void compare(struct ctx *C, int op, int a, int d)
{
	static const struct {
		uint8_t s, u;
	} jops[] = {
		[OP_ISLT] = {BPF_JSLT, BPF_JLT}, [OP_ISGE] = {BPF_JSGE, BPF_JGE},
		[OP_ISLE] = {BPF_JSLE, BPF_JLE}, [OP_ISGT] = {BPF_JSGT, BPF_JGT},
		[OP_ISEQV] = {BPF_JEQ, BPF_JEQ}, [OP_ISNEV] = {BPF_JNE, BPF_JNE},
		[OP_ISEQS] = {BPF_JEQ, BPF_JEQ}, [OP_ISNES] = {BPF_JNE, BPF_JNE},
		[OP_ISEQN] = {BPF_JEQ, BPF_JEQ}, [OP_ISNEN] = {BPF_JNE, BPF_JNE},
		[OP_ISEQP] = {BPF_JEQ, BPF_JEQ}, [OP_ISNEP] = {BPF_JNE, BPF_JNE},
	};
	bool eq = op == OP_ISEQV || op == OP_ISEQS || op == OP_ISEQN || op == OP_ISEQP;
	int64_t x = 0, y = 0;
	int bslot = -1;
	if (op == OP_ISEQV || op == OP_ISNEV) { /* a string held in a variable */
		const char *str;
		size_t len;
		struct var *va = v_src(C, a), *vd = v_src(C, d);
		if (vd->kind == VK_LUA && k_isstring(C, vd->ref, &str, &len)) {
			cmp_string(C, a, vd->ref, eq);
			return;
		}
		if (va->kind == VK_LUA && k_isstring(C, va->ref, &str, &len)) {
			cmp_string(C, d, va->ref, eq);
			return;
		}
	}
	if (op == OP_ISEQS || op == OP_ISNES) {
		push_k(C, -d - 1);
		int ref = k_ref(C, -1);
		lua_pop(C->L, 1);
		cmp_string(C, a, ref, eq);
		return;
	} else if (op == OP_ISEQN || op == OP_ISNEN) {
		y = knum(C, d);
		struct var *v = v_src(C, a);
		if ((v->kind == VK_RT && (v->flags & VF_MIXED)) && !(v->flags & VF_TRUE))
			bpfc_fail(C, "comparing a value that is a number on one path and nil or false "
				     "on another");
		if (v->kind == VK_NIL || ((v->kind == VK_NUM || v->kind == VK_RT) &&
					  (v->flags & VF_BOOL) && !(v->flags & VF_MIXED))) {
			cmp_fold(C, !eq); /* nil and booleans are never equal to a number */
			return;
		}
	} else if (op == OP_ISEQP || op == OP_ISNEP) { /* with nil (d 0), false (1), true (2) */
		struct var *v = v_src(C, a);
		if (d == 0 && v->kind == VK_RT && v->ptr == PK_MAPVAL) { /* NULL check */
			cmp_set(C, eq ? BPF_JEQ : BPF_JNE, a, -1, 0);
			C->cmp.null_slot = v_root(C, a);
			C->cmp.nonnull_on_jump = !eq;
			return;
		}
		if (d == 0 && v->kind == VK_RT && v->ptr == PK_PROBE) { /* a NULL pointer == nil */
			cmp_set(C, eq ? BPF_JEQ : BPF_JNE, a, -1, 0);
			return;
		}
		if (v->kind == VK_NIL) {
			cmp_fold(C, (d == 0) == eq);
			return;
		}
		bool isbool = (v->kind == VK_NUM || v->kind == VK_RT) && (v->flags & VF_BOOL);
		if (v->kind == VK_NUM && isbool) {
			cmp_fold(C, (d != 0 && v->num == (d == 2)) == eq);
			return;
		}
		if (v->kind == VK_RT && (v->flags & VF_MIXED))
			bpfc_fail(C, "comparing a value that is a number on one path and nil or false "
				     "on another");
		if (!isbool || (d == 0 && !(v->flags & VF_BOOL))) { /* a number, pointer, ... */
			cmp_fold(C, !eq);
			return;
		}
		if (d == 0 && !(v->flags & VF_MAYBENIL)) { /* a boolean is never nil */
			cmp_fold(C, !eq);
			return;
		}
		if (v->flags & VF_MAYBENIL)
			bpfc_fail(C, "this value is nil on one path and a boolean on another, and both "
				     "are held as 0: test its truth instead of comparing it");
		cmp_set(C, eq ? BPF_JEQ : BPF_JNE, a, -1, d == 2);
		return;
	} else {
		bslot = d;
	}
	a = as_number(C, a, C->tmp + 6);
	if (bslot >= 0 && v_src(C, bslot)->kind != VK_NIL)
		bslot = as_number(C, bslot, C->tmp + 7);
	struct var *va = v_src(C, a), *vb = bslot >= 0 ? v_src(C, bslot) : NULL;
	bool ordered = !(op >= OP_ISEQV && op <= OP_ISNEP);
	if (ordered && (va->kind == VK_NIL || (vb && vb->kind == VK_NIL)))
		bpfc_fail(C, "comparison with nil (Lua would raise an error here)");
	int fa = va->flags, fb = vb ? vb->flags : 0;
	if ((fa | fb) & VF_MIXED)
		bpfc_fail(C, "comparing a value that is a number on one path and nil or false on "
			     "another");
	if (vb && ((fa ^ fb) & VF_BOOL)) { /* a boolean is never equal to a number */
		if (ordered)
			bpfc_fail(C, "comparing a boolean with a number (Lua would raise an error)");
		cmp_fold(C, !eq);
		return;
	}
	if (ordered && (fa & VF_BOOL))
		bpfc_fail(C, "ordering booleans (Lua would raise an error here)");
	if (vb && (va->kind == VK_NIL || vb->kind == VK_NIL)) { /* x == nil, nil == x */
		struct var *o = va->kind == VK_NIL ? vb : va;
		if (o->kind == VK_NIL) {
			cmp_fold(C, eq);
			return;
		}
		if (!(o->kind == VK_RT && o->ptr == PK_MAPVAL)) {
			cmp_fold(C, !eq);
			return;
		}
		int p = va->kind == VK_NIL ? bslot : a;
		cmp_set(C, eq ? BPF_JEQ : BPF_JNE, p, -1, 0);
		C->cmp.null_slot = v_root(C, p);
		C->cmp.nonnull_on_jump = !eq;
		return;
	}
	if (vb && va->kind == VK_RT && v_root(C, a) == v_root(C, bslot)) {
		/* a value compared with itself: i >= i always holds (and a branch on
		** it would cost the verifier what it knows of i) */
		cmp_fold(C, op == OP_ISGE || op == OP_ISLE || op == OP_ISEQV);
		return;
	}
	bool ak = is_num(C, a, &x) || va->kind == VK_PKT;
	if (va->kind == VK_PKT)
		x = va->num;
	if (bslot >= 0 && is_num(C, bslot, &y)) {
		bslot = -1;
	} else if (bslot >= 0 && vb->kind == VK_PKT) {
		y = vb->num;
		bslot = -1;
	}
	/* unsigned for uint64, and for packet pointers (the verifier reads those) */
	bool uns = ((fa | fb) & VF_U64) ||
		   (va->kind == VK_RT && (va->ptr == PK_PKTPTR || va->ptr == PK_PKTEND)) ||
		   (vb && vb->kind == VK_RT && (vb->ptr == PK_PKTPTR || vb->ptr == PK_PKTEND));
	if (bslot < 0 && ak && va->kind != VK_PKT) {
		static const uint8_t cmpops[] = {
			[OP_ISLT] = CMP_LT, [OP_ISGE] = CMP_GE, [OP_ISLE] = CMP_LE,
			[OP_ISGT] = CMP_GT, [OP_ISEQV] = CMP_EQ, [OP_ISNEV] = CMP_NE,
			[OP_ISEQN] = CMP_EQ, [OP_ISNEN] = CMP_NE};
		cmp_fold(C, fold_cmp((enum cmpop)cmpops[op], uns, x, y));
		return;
	}
	if (bslot >= 0)
		check_scalar(C, bslot, "comparison");
	check_scalar(C, a, "comparison");
	uint8_t jop = uns ? jops[op].u : jops[op].s;
	if (ak && bslot >= 0) { /* constant on the left: swap the operands */
		static const uint8_t swap[] = {[BPF_JEQ >> 4] = BPF_JEQ, [BPF_JNE >> 4] = BPF_JNE,
					       [BPF_JSGT >> 4] = BPF_JSLT, [BPF_JSGE >> 4] = BPF_JSLE,
					       [BPF_JSLT >> 4] = BPF_JSGT, [BPF_JSLE >> 4] = BPF_JSGE,
					       [BPF_JGT >> 4] = BPF_JLT, [BPF_JGE >> 4] = BPF_JLE,
					       [BPF_JLT >> 4] = BPF_JGT, [BPF_JLE >> 4] = BPF_JGE};
		cmp_set(C, swap[jop >> 4], bslot, -1, x);
		return;
	}
	cmp_set(C, jop, a, bslot, y);
}

/* Memory (stack or map value) == string: XOR the chunks together into one register. */
static int cmp_memstr(struct ctx *C, const struct pcmp *cmp)
{
	const char *s;
	size_t len;
	k_isstring(C, cmp->strref, &s, &len);
	struct var *v = v_src(C, cmp->a);
	int base, off0;
	int size = v->ref ? fact_sizeof(C, v->ref) : (int)len;
	bool ctx = v->kind == VK_RT && v->ptr == PK_CTX;
	if (v->kind == VK_STACK) {
		base = BPF_REG_10;
		off0 = (int)-v->num;
	} else if (ctx) { /* an array of the context (arg.comm): read in place, each load aligned */
		base = C->ctx_reg;
		off0 = (int)v->num;
	} else {
		base = v_peek(C, cmp->a);
		off0 = 0;
	}
	size_t n = len < (size_t)size ? len + 1 : len; /* include the terminating NUL */
	if (n > (size_t)size)
		bpfc_fail(C, "string \"%s\" is longer than the memory it is compared with", s);
	int acc = r_scratch(C);
	int tmp = r_scratch(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, acc, 0, 0, 0);
	for (size_t i = 0; i < n;) {
		int w = n - i >= 4 ? 4 : n - i >= 2 ? 2 : 1;
		while (ctx && (off0 + (int)i) % w)
			w /= 2;
		uint32_t chunk = 0;
		for (int k = 0; k < w; k++) {
			uint8_t c = i + k < len ? (uint8_t)s[i + k] : 0;
			chunk |= (uint32_t)c << (8 * k);
		}
		uint8_t sz = w == 4 ? BPF_W : w == 2 ? BPF_H : BPF_B;
		emit(C, BPF_LDX | BPF_MEM | sz, tmp, base, (int16_t)(off0 + (int)i), 0);
		emit(C, BPF_ALU | BPF_XOR | BPF_K, tmp, 0, 0, (int32_t)chunk);
		emit(C, BPF_ALU64 | BPF_OR | BPF_X, acc, tmp, 0, 0);
		i += (size_t)w;
	}
	return acc;
}

/* The conditional branch of a pending compare to label (inverted: taken
** when it fails), its operands read where they are now. */
static void emit_branch(struct ctx *C, const struct pcmp *cmp, bool invert,
			int label)
{
	static const uint8_t inverse[16] = {
		[BPF_JEQ >> 4] = BPF_JNE, [BPF_JNE >> 4] = BPF_JEQ, [BPF_JGT >> 4] = BPF_JLE,
		[BPF_JLE >> 4] = BPF_JGT, [BPF_JGE >> 4] = BPF_JLT, [BPF_JLT >> 4] = BPF_JGE,
		[BPF_JSGT >> 4] = BPF_JSLE, [BPF_JSLE >> 4] = BPF_JSGT, [BPF_JSGE >> 4] = BPF_JSLT,
		[BPF_JSLT >> 4] = BPF_JSGE};
	uint8_t jop = invert ? inverse[cmp->jop >> 4] : cmp->jop;
	if (cmp->strref) { /* (C->cmp, cleared by the jump, stays so: it is not pending again) */
		int acc = cmp_memstr(C, cmp);
		emit_jmp(C, BPF_JMP | jop | BPF_K, acc, 0, 0, label);
		return;
	}
	int ra = v_peek(C, cmp->a);
	if (cmp->b >= 0) {
		int rb = v_peek(C, cmp->b);
		emit_jmp(C, BPF_JMP | jop | BPF_X, ra, rb, 0, label);
	} else if (fits_imm(cmp->imm)) {
		emit_jmp(C, BPF_JMP | jop | BPF_K, ra, 0, (int32_t)cmp->imm, label);
	} else {
		int rb = r_scratch(C);
		emit_mov_imm(C, rb, cmp->imm);
		emit_jmp(C, BPF_JMP | jop | BPF_X, ra, rb, 0, label);
	}
}

/* On a for loop's jump back, its variable (and index) lies in the range
** FORI found: at least 0, below 2^copy_bits. */
static void for_range(struct ctx *C, const struct pcmp *cmp)
{
	struct var *v = v_src(C, cmp->copy_dst);
	if (!cmp->copy_bits || v->kind != VK_RT || v->ptr != PK_SCALAR)
		return;
	if (!v->bits || v->bits > cmp->copy_bits)
		v->bits = cmp->copy_bits;
	v->flags |= VF_NONNEG;
}

/* A jump whose edge needs work of its own: ISTC/ISFC's `A = D` (on the jump
** only), or a map value read because the join holds a number there.  The
** jump goes through an edge block that does that and the join's moves, and
** the fallthrough goes on with the state it had:
**     if not <cond> goto fall;  <edge work>; <moves>; goto target;  fall: */
static void jmp_edge_block(struct ctx *C, const struct pcmp *cmp, int target, bool back)
{
	int fall = label_new(C);
	emit_branch(C, cmp, true, fall);
	v_state_save(C, C->snap);
	truth_known(C, cmp, true);
	if (cmp->null_slot >= 0 && cmp->nonnull_on_jump)
		C->v[cmp->null_slot].flags &= ~VF_NULL;
	if (cmp->copy_dst >= 0) {
		v_copy(C, cmp->copy_dst, cmp->copy_src);
		for_range(C, cmp);
		/* a boolean tested on the way here: on this edge it is that constant */
		struct var *cv = v_src(C, cmp->copy_dst);
		if (cv->kind == VK_RT && cv->ptr == PK_SCALAR && (cv->flags & VF_BOOL) &&
		    !(cv->flags & (VF_MAYBENIL | VF_MIXED)) && cmp->b < 0 && cmp->imm == 0 &&
		    (cmp->jop == BPF_JNE || cmp->jop == BPF_JEQ)) {
			v_const(C, cmp->copy_dst, cmp->jop == BPF_JNE);
			C->v[cmp->copy_dst].flags = VF_BOOL;
		}
	}
	if (cmp->null_slot >= 0 && !cmp->nonnull_on_jump) { /* NULL on this edge: it is nil */
		int root = cmp->null_slot, same[MAX_SLOTS], n = 0;
		for (int s = 0; s < V_TOP(C); s++)
			if (C->v[s].kind != VK_UNDEF && v_root(C, s) == root)
				same[n++] = s;
		for (int i = 0; i < n; i++) {
			v_def(C, same[i]);
			C->v[same[i]].kind = VK_NIL;
		}
	}
	if (back) {
		v_loop_edge(C, target);
		emit_ja(C, C->looplabel[target]);
	} else {
		v_join_edge(C, target);
		emit_ja(C, target);
	}
	v_state_restore(C, C->snap);
	emit_label(C, fall);
}

/* The pending compare's operands in registers before a join's moves, which
** must leave them somewhere (keep): the compare reads them after the moves.
** The caller clears keep once the edge is made. */
static void keep_operands(struct ctx *C, const struct pcmp *cmp)
{
	if (!cmp->strref) {
		v_reg(C, cmp->a);
		if (cmp->b >= 0)
			v_reg(C, cmp->b);
	}
	C->keep[0] = v_root(C, cmp->a);
	C->keep[1] = cmp->b >= 0 ? v_root(C, cmp->b) : -1;
}

/* JMP: the pending compare (if any) becomes a conditional branch. */
static void tr_jmp(struct ctx *C, int pc, int target)
{
	struct pcmp cmp = C->cmp;
	C->cmp.state = 0;
	if (cmp.state == CMP_NEVER)
		return;
	if (cmp.state == 0 || cmp.state == CMP_ALWAYS) {
		if (target == pc + 1)
			return;
		v_join_edge(C, target);
		emit_ja(C, target);
		C->reachable = false;
		return;
	}
	/* the NULL check holds on the jump: the target sees a checked pointer */
	struct var *nv = cmp.null_slot >= 0 ? &C->v[cmp.null_slot] : NULL;
	uint16_t saved = nv ? nv->flags : 0;
	if (nv && cmp.nonnull_on_jump)
		nv->flags &= ~VF_NULL;
	bool block = cmp.copy_dst >= 0 || v_join_needs_deref(C, target);
	if (nv)
		nv->flags = saved;
	if (block) {
		jmp_edge_block(C, &cmp, target, false);
		if (nv && !cmp.nonnull_on_jump)
			nv->flags &= ~VF_NULL;
		truth_known(C, &cmp, false);
		return;
	}
	if (nv && cmp.nonnull_on_jump)
		nv->flags &= ~VF_NULL;
	keep_operands(C, &cmp);
	/* the truth the jump knows is for the jump only: the values that are
	** the tested one (the join may have given a copy a register of its own,
	** flags and all) forget it again for the fallthrough */
	bool tested[MAX_SLOTS];
	uint16_t tkeep = 0;
	if (cmp.truth_slot >= 0) { /* (only then: this runs at every conditional jump) */
		tkeep = C->v[cmp.truth_slot].flags & (VF_TRUE | VF_FALSE);
		for (int s = 0; s < V_TOP(C); s++)
			tested[s] = C->v[s].kind != VK_UNDEF && v_root(C, s) == cmp.truth_slot;
	}
	truth_known(C, &cmp, true);
	v_join_edge(C, target);
	for (int s = 0; s < V_TOP(C) && cmp.truth_slot >= 0; s++)
		if (tested[s] && C->v[s].kind == VK_RT && (C->v[s].flags & VF_BOOL))
			C->v[s].flags = (uint16_t)((C->v[s].flags & ~(VF_TRUE | VF_FALSE)) | tkeep);
	C->keep[0] = C->keep[1] = -1;
	if (nv)
		nv->flags = cmp.nonnull_on_jump ? saved : (uint16_t)(saved & ~VF_NULL);
	emit_branch(C, &cmp, false, target);
	if (nv && !cmp.nonnull_on_jump)
		nv->flags &= ~VF_NULL;
	truth_known(C, &cmp, false);
}

/* With opts.loops = 'may_goto' a turn ends in `may_goto exit` first: the
** kernel leaves the loop there once its budget of turns is spent (so the
** verifier need not see a bound), with the values of the turn just done. */
static void may_goto_exit(struct ctx *C, const struct pcmp *cmp, int header)
{
	int exit = C->loopend[header] + 1;
	if (exit >= C->nbc)
		return;
	if (cmp->state == 1)
		keep_operands(C, cmp);
	v_join_edge(C, exit);
	C->keep[0] = C->keep[1] = -1;
	emit_jmp(C, BPF_JMP | BPF_JCOND | BPF_K, 0, 0, 0, exit);
}

/* JMP back to a loop header: the end of a turn, taken always or when the
** pending compare holds (repeat ... until, a backward goto). */
static void tr_jmp_back(struct ctx *C, int header)
{
	struct pcmp cmp = C->cmp;
	C->cmp.state = 0;
	if (cmp.state == CMP_NEVER)
		return;
	if (C->facts.may_goto)
		may_goto_exit(C, &cmp, header);
	if (cmp.state == 0 || cmp.state == CMP_ALWAYS) {
		if (cmp.state == CMP_ALWAYS && cmp.copy_dst >= 0) {
			v_copy(C, cmp.copy_dst, cmp.copy_src);
			for_range(C, &cmp);
		}
		v_loop_edge(C, header);
		emit_ja(C, C->looplabel[header]);
		C->reachable = false;
		return;
	}
	struct var *nv = cmp.null_slot >= 0 ? &C->v[cmp.null_slot] : NULL;
	jmp_edge_block(C, &cmp, header, true);
	if (nv && !cmp.nonnull_on_jump)
		nv->flags &= ~VF_NULL;
	truth_known(C, &cmp, false);
}

/* A numeric for: slot a the index, a + 1 the limit, a + 2 the step, a + 3
** the loop variable.  The step is a constant, so the direction is known. */
static int for_direction(struct ctx *C, int a)
{
	int64_t step;
	if (!is_num(C, a + 2, &step))
		bpfc_fail(C, "a for loop's step must be a constant (for i = a, b, 2)");
	if (step == 0)
		bpfc_fail(C, "a for loop whose step is 0 never ends");
	return step > 0 ? 1 : -1;
}

/* Bits below which a value is known to lie, when it is known to be >= 0 (else 0). */
static int nonneg_bits(struct ctx *C, int slot)
{
	int64_t n;
	if (is_num(C, slot, &n))
		return bits_of(n);
	struct var *v = v_src(C, slot);
	return v->kind == VK_RT && v->ptr == PK_SCALAR && (v->flags & VF_NONNEG) && !(v->flags & VF_U64)
		       ? v->bits : 0;
}

/* FORI: leave for the exit when the index is already past the limit.  A
** loop counting up from at least 0 to a limit below 2^b (or down from below
** 2^b to at least 0) has its variable in [0, 2^b) on every turn, with no
** overflow on the way (b <= 62, the step below 2^32): FORL says so. */
static void tr_for_unrolled(struct ctx *C, int pc, int a, int exit, int64_t from, int64_t step,
			    int turns);

/* How many turns a for loop of constant start, limit and step makes; 0
** when more than MAX_FOR_UNROLLED (or none). */
#define MAX_FOR_UNROLLED 64
static int constant_turns(struct ctx *C, int a, int64_t *from, int64_t *step)
{
	int64_t to;
	if (!is_num(C, a, from) || !is_num(C, a + 1, &to) || !is_num(C, a + 2, step) || !*step)
		return 0;
	for (int k = 0; k < 3; k++)
		if (v_src(C, a + k)->flags & (VF_U64 | VF_BOOL))
			return 0;
	if (*step > 0 ? *from > to : *from < to)
		return 0;
	__int128 span = (__int128)to - *from, n = span / *step + 1;
	return n <= MAX_FOR_UNROLLED ? (int)n : 0;
}

/* A loop of a few constant turns around a short body with no loop inside
** is unrolled, as clang -O2 unrolls it: the variable is a constant in each
** copy (a packet read at a constant offset, which one check covers; a
** constant index), and the verifier walks straight code instead of a loop
** turn by turn.  The bound keeps the copies within what a loop costs the
** verifier anyway; a body with a way out (break, return) stays a loop, as
** clang keeps it. */
#define UNROLL_TURNS 32
#define UNROLL_BYTECODES 192 /* turns times the body's bytecodes */
static bool worth_unrolling(const struct ctx *C, int pc, int exit, int turns)
{
	int body = exit - pc - 2;
	if (turns > UNROLL_TURNS || turns * body > UNROLL_BYTECODES)
		return false;
	for (int i = pc + 1; i < exit - 1; i++) {
		const struct bcins *b = &C->bc[i];
		if (b->op == OP_LOOP || b->op == OP_ILOOP || b->op == OP_FORI || b->op == OP_ITERC ||
		    b->op == OP_ITERN || b->op == OP_ISNEXT || (b->op == OP_JMP && b->d < 0x8000))
			return false; /* a loop inside: unrolled it would multiply */
		if ((b->op == OP_JMP && i + 1 + b->d - 0x8000 >= exit) || b->op == OP_RET ||
		    b->op == OP_RET0 || b->op == OP_RET1 || b->op == OP_RETM || b->op == OP_CALLT)
			return false; /* a way out (break, return): each copy would have its own */
	}
	return true;
}

static void tr_fori(struct ctx *C, int pc, int a, int exit)
{
	int64_t kfrom, kstep;
	int turns = constant_turns(C, a, &kfrom, &kstep);
	if (turns && unroll_hinted(C, pc)) {
		tr_for_unrolled(C, pc, a, exit, kfrom, kstep, turns);
		return;
	}
	if (turns && !no_unroll_hinted(C, pc) && C->nunroll_open < 16 && worth_unrolling(C, pc, exit, turns)) {
		C->unroll_open[C->nunroll_open++] = (int16_t)pc;
		tr_for_unrolled(C, pc, a, exit, kfrom, kstep, turns);
		C->nunroll_open--;
		return;
	}
	if (turns && C->nfor_open < 16)
		C->for_open[C->nfor_open++] = (int16_t)pc;
	if (!turns && for_bpf_loop(C, pc, a, exit))
		return;
	int dir = for_direction(C, a);
	check_scalar(C, a, "a for loop's start");
	check_scalar(C, a + 1, "a for loop's limit");
	int64_t step = 0;
	is_num(C, a + 2, &step);
	int sb = nonneg_bits(C, a), lb = nonneg_bits(C, a + 1);
	int range = dir > 0 ? (sb ? lb : 0) : (lb ? sb : 0);
	if (exit - 1 > pc && exit - 1 < C->nbc)
		C->for_bits[exit - 1] = (uint8_t)(range <= 62 && step < (1ll << 32) && step > -(1ll << 32)
						  ? range : 0);
	if (dir > 0)
		compare(C, OP_ISLT, a + 1, a); /* limit < index */
	else
		compare(C, OP_ISLT, a, a + 1);
	tr_jmp(C, pc, exit);
	v_copy(C, a + 3, a);
}

/* FORL: the next index; back to the body, the loop variable set, while it
** has not passed the limit. */
static void tr_forl(struct ctx *C, int pc, int a, int body)
{
	int dir = for_direction(C, a);
	int range = C->for_bits[pc];
	tr_arith(C, a, a, a + 2, 0, AR_ADD, false);
	if (dir > 0)
		compare(C, OP_ISLE, a, a + 1);
	else
		compare(C, OP_ISLE, a + 1, a);
	C->cmp.copy_dst = a + 3;
	C->cmp.copy_src = a;
	C->cmp.copy_bits = (uint8_t)range;
	tr_jmp_back(C, body);
}

/* ---- returns ---- */

static void sub_ret(struct ctx *C, int slot);

static void tr_ret(struct ctx *C, int slot)
{
	if (C->cur_sub >= 0) {
		sub_ret(C, slot);
		return;
	}
	if (slot < 0) {
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	} else {
		struct var *v = v_src(C, slot);
		if (v->kind == VK_LUA)
			bpfc_fail(C, "cannot return a Lua value (table, string or function)");
		if (v->kind == VK_RT && v->ptr == PK_MAPVAL) { /* return the value, not the pointer */
			int r = v_peek(C, slot);
			if (r)
				emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 0, r, 0, 0);
			int size = 4;
			bool sg;
			if (v->ref)
				fact_scalar(C, v->ref, &size, &sg);
			uint8_t sz = size == 8 ? BPF_DW : size == 2 ? BPF_H : size == 1 ? BPF_B : BPF_W;
			int null = label_new(C);
			if (v->flags & VF_NULL) /* NULL returns 0 */
				emit_jmp(C, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0, null);
			emit(C, BPF_LDX | BPF_MEM | sz, 0, 0, 0, 0);
			emit_label(C, null);
		} else if (v->reg != NOREG) {
			emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 0, v->reg, 0, 0);
		} else {
			int64_t n = 0;
			if (v->kind == VK_NUM || v->kind == VK_PKT)
				n = v->num;
			emit_mov_imm(C, 0, n);
		}
	}
	emit(C, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	C->reachable = false;
}

/* ---- subprograms ----
**
** A subprogram (chosen by inline.c) is translated on its own, before the
** program: its parameters are numbers arriving in r1..r5, its stack frame
** is its own, it has no context (what needs one makes it be inlined
** instead), and every return gives r0 one kind of value: a number, a
** boolean (0 or 1) or nothing.  The kind is what its calls then hold. */

/* A return from the subprogram being translated. */
static void sub_ret(struct ctx *C, int slot)
{
	struct subprog *sp = &C->subs[C->cur_sub];
	int kind = SR_NONE;
	const struct var *v = slot >= 0 ? v_src(C, slot) : NULL;
	if (v && v->kind != VK_NIL) {
		if (!v_plain_number(v, true))
			bpfc_fail(C, "a function compiled once for all its calls returns a number or "
				     "a boolean");
		kind = v->flags & VF_BOOL ? SR_BOOL : SR_NUM;
	}
	if (sp->ret == SR_UNSET)
		sp->ret = (uint8_t)kind;
	else if (sp->ret != kind)
		bpfc_fail(C, "a function compiled once for all its calls returns one kind of value");
	if (kind == SR_NONE)
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	else if (v->kind == VK_NUM)
		emit_mov_imm(C, 0, v->num);
	else
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, 0, v_reg(C, slot), 0, 0);
	emit(C, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	C->reachable = false;
}

/* The translation state at the start of a function of the program's own
** (a subprogram, sub >= 0, or a bpf_loop callback, loop >= 0), its
** bytecode from pc: no variables, no context. */
void function_begin(struct ctx *C, int sub, int loop, int pc)
{
	C->tmp = C->nslots;
	v_init(C);
	C->reachable = true;
	C->cmp.state = 0;
	C->ninl_open = C->nfor_open = C->nunroll_open = 0;
	C->cur_sub = sub;
	C->cur_loop = loop;
	C->pc = pc;
	C->ctx_reg = vreg_new(C); /* never written: without ctx_pinned nothing reads it */
	C->ctx_pinned = false;
}

static void tr_subprogram(struct ctx *C, int k, int func)
{
	struct subprog *sp = &C->subs[k];
	int first = C->nir;
	function_begin(C, k, -1, sp->start);
	sp->ret = SR_UNSET;
	sp->func = func;
	for (int p = 0; p < sp->nparams; p++) {
		int r = vreg_new(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, 1 + p, 0, 0);
		v_rt(C, p, r, PK_SCALAR, 8, 0);
	}
	tr_range(C, sp->start, sp->end - 1, false);
	C->cur_sub = -1;
	const char *name = NULL;
	if (sp->name) {
		k_push(C, sp->name);
		name = lua_tostring(C->L, -1); /* kept alive by the constants */
		lua_pop(C->L, 1);
	}
	C->funcs[func] = (struct ir_func){.name = name ? name : "function", .first = first,
					  .n = C->nir - first, .nbc = C->nbc, .stack = C->stack_top,
					  .name_ref = sp->name, .nargs = sp->nparams};
}

/* Every subprogram, callees before their callers, as funcs[1..]. */
void tr_subprograms(struct ctx *C)
{
	uint8_t done = 0;
	int func = 1, n = C->nsubs_spliced;
	for (int i = 0; i < n; i++) {
		int k = 0;
		while (k < n && ((done >> k & 1) || (C->subs[k].calls & ~done)))
			k++;
		if (k == n)
			bpfc_fail(C, "internal: subprograms calling each other in a circle");
		tr_subprogram(C, k, func++);
		done |= (uint8_t)(1u << k);
		func = tr_loop_callbacks(C, func); /* the bpf_loop callbacks it made */
	}
	C->nfuncs = func;
}

/* ---- for ... in: run at compile time, the body unrolled ----
**
** `for k, v in pairs(t)` compiles to an iterator call (pairs(t), folded at
** compile time like any call of constants: next, t, nil in slots A-3..A-1),
** a jump (JMP or ISNEXT at pc J) to the iterator step (ITERC or ITERN at T,
** with A its base) and ITERL at T + 1 jumping back to the body at J + 1.
** When the iterator, its state and its control are all known at compile
** time, the loop runs then (F:steps) and the body [J + 1, T) is translated
** once per step with the loop variables constants: each copy names its own
** labels (pclabel) and records its own joins; a jump to T (the end of a
** turn) joins at the copy's end, and a break jumps to T + 2 as any jump out
** of a loop does. */

#define MAX_STEPS_UNROLLED 256

static bool known_now(const struct var *v)
{
	return v->kind == VK_LUA || v->kind == VK_NUM || v->kind == VK_NIL;
}

static void push_known(struct ctx *C, const struct var *v)
{
	if (v->kind == VK_LUA)
		k_push(C, v->ref);
	else if (v->kind == VK_NUM && (v->flags & VF_BOOL))
		lua_pushboolean(C->L, v->num != 0);
	else if (v->kind == VK_NUM)
		lua_pushnumber(C->L, (lua_Number)v->num);
	else
		lua_pushnil(C->L);
}

/* Is the jump at pc j, to t, the start of a for ... in loop? */
static bool forin_at(const struct ctx *C, int j, int t)
{
	return t + 1 < C->nbc && (C->bc[t].op == OP_ITERC || C->bc[t].op == OP_ITERN) &&
	       (C->bc[t + 1].op == OP_ITERL || C->bc[t + 1].op == OP_IITERL) &&
	       t + 1 + C->bc[t + 1].d - 0x7fff == j + 1;
}

/* Unrolled loops: each turn's copy of the body [from, to] translated with
** its own labels and joins (to is only joined: the end of the turn).  Each
** copy may use the stack above the loop's again, for what lives only as
** long as an instruction (map keys, probe reads), until a copy makes an
** object (ffi.new) a later one might still reach. */
struct unrolling {
	int top0, objects0, most;
};

static struct unrolling unrolling_begin(struct ctx *C)
{
	return (struct unrolling){C->stack_top, C->nobjects, C->stack_top};
}

static void unrolled_turn(struct ctx *C, struct unrolling *u, int from, int to)
{
	if (C->stack_top > u->most)
		u->most = C->stack_top;
	if (C->nobjects == u->objects0)
		C->stack_top = u->top0;
	for (int pc = from; pc <= to; pc++) { /* a copy of its own */
		C->joinidx[pc] = C->loopidx[pc] = -1;
		C->jumped[pc] = false;
		C->pclabel[pc] = -1;
	}
	C->pc = from;
	tr_range(C, from, to, true);
}

static void unrolling_end(struct ctx *C, const struct unrolling *u)
{
	if (C->stack_top < u->most) /* what any turn used stays taken: the spills go above */
		C->stack_top = u->most;
}

static void tr_forin(struct ctx *C, int j, int t)
{
	int a = C->bc[t].a, nvars = C->bc[t].b - 1;
	if (C->cmp.state != 0)
		bpfc_fail(C, "internal: a for ... in loop after a comparison");
	for (int s = a - 3; s < a; s++)
		if (!known_now(v_src(C, s)))
			bpfc_fail(C, "a 'for ... in' loop runs at compile time, so its iterator must be "
				     "known then: pairs(t) or ipairs(t) of a table the program captures "
				     "(for a run-time count, use a numeric for: for i = 1, n do ... end)");
	if (v_src(C, a - 3)->kind != VK_LUA)
		bpfc_fail(C, "a 'for ... in' loop needs an iterator function (pairs(t), ipairs(t))");
	const struct var *st = v_src(C, a - 2);
	const struct kfact *k = st->kind == VK_LUA ? fact_value(C, st->ref) : NULL;
	if (k && k->kind == KF_MAP)
		bpfc_fail(C, "a map is read at run time: a 'for ... in' loop, which runs at compile "
			     "time, would see it as it is now; look its keys up one by one (m[k])");
	if (k && k->kind == KF_DISSECTOR)
		bpfc_fail(C, "a 'for ... in' loop cannot walk a dissector");
	for (int s = a - 3; s < a; s++)
		push_known(C, v_src(C, s));
	lua_pushinteger(C->L, MAX_STEPS_UNROLLED);
	fact_steps(C);
	int list = k_ref(C, -1); /* kept in the constants: the stack stays as tr_ins wants it */
	int n = (int)lua_objlen(C->L, -1);
	lua_pop(C->L, 1);
	struct unrolling u = unrolling_begin(C);
	for (int step = 1; step <= n; step++) {
		k_push(C, list);
		lua_rawgeti(C->L, -1, step);
		for (int i = 0; i < nvars; i++) { /* the loop variables, as ITERC sets them */
			lua_rawgeti(C->L, -1, i + 1);
			v_set_lua(C, a + i, -1);
			lua_pop(C->L, 1);
		}
		lua_pop(C->L, 2);
		unrolled_turn(C, &u, j + 1, t);
	}
	unrolling_end(C, &u);
	C->pc = j;
	C->resume = t + 2; /* past ITERL: the loop is done */
}

/* A numeric for of a few constant turns, unrolled (a hint: something in its
** body needs its variable a constant): FORI at pc, the body [pc + 1, L),
** FORL at L = exit - 1, whose jump back never happens; a break goes to
** exit, where translation goes on. */
static void tr_for_unrolled(struct ctx *C, int pc, int a, int exit, int64_t from, int64_t step,
			    int turns)
{
	int body = pc + 1, forl = exit - 1;
	int header = C->not_a_header;
	C->not_a_header = body; /* no loop: no registers for what it changes */
	struct unrolling u = unrolling_begin(C);
	for (int k = 0; k < turns; k++) {
		int64_t v = from + (int64_t)k * step;
		v_numconst(C, a, v, 0);
		v_numconst(C, a + 3, v, 0);
		unrolled_turn(C, &u, body, forl);
	}
	unrolling_end(C, &u);
	C->not_a_header = header;
	C->pc = pc;
	C->resume = exit;
}

/* Translate bytecode pcs from .. to (stop_at_to: to is only joined, the end
** of an unrolled loop body's turn). */
void tr_range(struct ctx *C, int from, int to, bool stop_at_to)
{
	for (int pc = from, next; pc <= to; pc = next) {
		next = pc + 1;
		C->pc = pc;
		while (C->ninl_open > 0 && pc >= C->inl_cont[C->inl_open[C->ninl_open - 1]])
			C->ninl_open--; /* out of that inlined body */
		while (C->nfor_open > 0 &&
		       pc >= bc_jump_target(&C->bc[C->for_open[C->nfor_open - 1]], C->for_open[C->nfor_open - 1]))
			C->nfor_open--; /* out of that loop */
		if (C->target[pc] || C->joinidx[pc] >= 0)
			v_join_enter(C, pc);
		if (pc == to && stop_at_to)
			break;
		if (!C->reachable)
			continue;
		tr_ins(C, pc);
		if (lua_gettop(C->L) != 6)
			bpfc_fail(C, "internal: Lua stack unbalanced after %s (%d)", bc_opname(C->bc[pc].op),
				  lua_gettop(C->L));
		if (C->resume) {
			next = C->resume;
			C->resume = 0;
		}
		if (C->cmp.state == 0)
			v_drop_dead(C, next - 1);
	}
}

/* ---- the dispatcher ---- */

void tr_ins(struct ctx *C, int pc)
{
	const struct bcins *i = &C->bc[pc];
	int a = i->a, b = i->b, c = i->c, d = i->d;
	switch (i->op) {
	case OP_KSTR: case OP_KCDATA:
		push_k(C, -d - 1);
		v_set_lua(C, a, -1);
		lua_pop(C->L, 1);
		break;
	case OP_KSHORT:
		v_const(C, a, (int16_t)d);
		break;
	case OP_KNUM:
		v_const(C, a, knum(C, d));
		break;
	case OP_KPRI:
		v_def(C, a);
		if (d == 0) {
			C->v[a].kind = VK_NIL;
		} else {
			v_const(C, a, d == 2);
			C->v[a].flags = VF_BOOL;
		}
		break;
	case OP_KNIL:
		for (int s = a; s <= d; s++) {
			v_def(C, s);
			C->v[s].kind = VK_NIL;
		}
		break;
	case OP_MOV:
		v_copy(C, a, d);
		break;
	case OP_NOT: {
		bool val;
		if (truthy_const(C, d, &val)) {
			v_const(C, a, !val);
			C->v[a].flags = VF_BOOL;
			break;
		}
		bool isbool = !(v_src(C, d)->kind == VK_RT && v_src(C, d)->ptr == PK_MAPVAL);
		int r = alu_dst(C, a, d);
		if (isbool) { /* a boolean: 0 <-> 1 */
			emit(C, BPF_ALU64 | BPF_XOR | BPF_K, r, 0, 0, 1);
		} else { /* a pointer that may be NULL: nil is false */
			int set = label_new(C), done = label_new(C);
			emit_jmp(C, BPF_JMP | BPF_JNE | BPF_K, r, 0, 0, set);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, 1);
			emit_ja(C, done);
			emit_label(C, set);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, 0);
			emit_label(C, done);
		}
		C->v[a].ptr = PK_SCALAR;
		C->v[a].flags = VF_BOOL;
		break;
	}
	case OP_UNM:
		tr_unm(C, a, d);
		break;
	case OP_LEN: {
		struct var *v = v_src(C, d);
		if (v->kind != VK_LUA)
			bpfc_fail(C, "'#' works on compile-time strings, tables and maps only");
		k_push(C, v->ref);
		int t = lua_type(C->L, -1);
		lua_pop(C->L, 1);
		if (t != LUA_TSTRING && t != LUA_TTABLE)
			bpfc_fail(C, "'#' of a %s", lua_typename(C->L, t));
		v_const(C, a, fact_length(C, v->ref)); /* a map's is its max_entries */
		break;
	}
	case OP_ADDVN: tr_arith(C, a, b, -1, knum(C, c), AR_ADD, false); break;
	case OP_SUBVN: tr_arith(C, a, b, -1, knum(C, c), AR_SUB, false); break;
	case OP_MULVN: tr_arith(C, a, b, -1, knum(C, c), AR_MUL, false); break;
	case OP_DIVVN: tr_arith(C, a, b, -1, knum(C, c), AR_DIV, false); break;
	case OP_MODVN: tr_arith(C, a, b, -1, knum(C, c), AR_MOD, false); break;
	case OP_ADDNV: tr_arith(C, a, b, -1, knum(C, c), AR_ADD, true); break;
	case OP_SUBNV: tr_arith(C, a, b, -1, knum(C, c), AR_SUB, true); break;
	case OP_MULNV: tr_arith(C, a, b, -1, knum(C, c), AR_MUL, true); break;
	case OP_DIVNV: tr_arith(C, a, b, -1, knum(C, c), AR_DIV, true); break;
	case OP_MODNV: tr_arith(C, a, b, -1, knum(C, c), AR_MOD, true); break;
	case OP_ADDVV: tr_arith(C, a, b, c, 0, AR_ADD, false); break;
	case OP_SUBVV: tr_arith(C, a, b, c, 0, AR_SUB, false); break;
	case OP_MULVV: tr_arith(C, a, b, c, 0, AR_MUL, false); break;
	case OP_DIVVV: tr_arith(C, a, b, c, 0, AR_DIV, false); break;
	case OP_MODVV: tr_arith(C, a, b, c, 0, AR_MOD, false); break;
	case OP_POW: tr_arith(C, a, b, c, 0, AR_POW, false); break;
	case OP_CAT: {
		lua_State *L = C->L;
		for (int s = b; s <= c; s++) {
			struct var *v = v_src(C, s);
			if (v->kind == VK_NUM)
				lua_pushnumber(L, (lua_Number)v->num);
			else if (v->kind == VK_LUA && (k_push(C, v->ref), lua_isstring(L, -1)))
				;
			else
				bpfc_fail(C, "'..' joins compile-time strings and numbers only");
		}
		lua_concat(L, c - b + 1);
		v_set_lua(C, a, -1);
		lua_pop(L, 1);
		break;
	}
	case OP_ISLT: case OP_ISGE: case OP_ISLE: case OP_ISGT: case OP_ISEQV: case OP_ISNEV:
	case OP_ISEQS: case OP_ISNES: case OP_ISEQN: case OP_ISNEN: case OP_ISEQP: case OP_ISNEP:
		compare(C, i->op, a, d);
		break;
	case OP_IST: cmp_truth(C, d, true); break;
	case OP_ISF: cmp_truth(C, d, false); break;
	case OP_ISTC: case OP_ISFC: { /* if D is true (ISTC) or false: A = D and jump */
		bool val, when = i->op == OP_ISTC;
		if (truthy_const(C, d, &val)) {
			if (val == when)
				v_copy(C, a, d);
			cmp_fold(C, val == when);
			break;
		}
		cmp_truth(C, d, when);
		C->cmp.copy_dst = a;
		C->cmp.copy_src = d;
		break;
	}
	case OP_JMP:
		if (forin_at(C, pc, pc + d - 0x7fff))
			tr_forin(C, pc, pc + d - 0x7fff);
		else if (pc + d - 0x7fff <= pc)
			tr_jmp_back(C, pc + d - 0x7fff);
		else
			tr_jmp(C, pc, pc + d - 0x7fff);
		break;
	case OP_LOOP: case OP_ILOOP: /* marks a loop for LuaJIT's own compiler: nothing to do */
		break;
	case OP_GGET: {
		const char *name = kstr(C, d);
		char what[96];
		snprintf(what, sizeof(what), "reading the global '%.40s'", name);
		lua_pushvalue(C->L, C->env);
		lua_pushstring(C->L, name);
		fact_index(C, what); /* the environment may have an __index */
		if (lua_isnil(C->L, -1))
			bpfc_fail(C, "unknown global '%s' (not a helper, dissector, map or "
				     "variable in scope)", name);
		v_set_lua(C, a, -1);
		lua_pop(C->L, 1);
		break;
	}
	case OP_UGET: {
		k_push(C, C->fn_ref[C->bc[pc].fn]); /* the program, or a function inlined */
		const char *name = lua_getupvalue(C->L, -1, d + 1);
		if (!name)
			bpfc_fail(C, "upvalue %d not found", d);
		v_set_lua(C, a, -1);
		lua_pop(C->L, 2);
		break;
	}
	case OP_GSET: bpfc_fail(C, "cannot assign the global '%s' in a BPF program", kstr(C, d));
	case OP_USETV: case OP_USETS: case OP_USETN: case OP_USETP:
		bpfc_fail(C, "cannot assign an upvalue in a BPF program (it was folded as a "
			     "constant)");
	case OP_TGETS: tr_index(C, a, b, -1, k_ref(C, (push_k(C, -c - 1), -1)), 0, 1);
		lua_pop(C->L, 1);
		break;
	case OP_TGETB: tr_index(C, a, b, -1, 0, c, 2); break;
	case OP_TGETV: tr_index(C, a, b, c, 0, 0, 0); break;
	case OP_TSETS: tr_newindex(C, b, -1, k_ref(C, (push_k(C, -c - 1), -1)), 0, 1, a);
		lua_pop(C->L, 1);
		break;
	case OP_TSETB: tr_newindex(C, b, -1, 0, c, 2, a); break;
	case OP_TSETV: tr_newindex(C, b, c, 0, 0, 0, a); break;
	case OP_CALL:
		if (C->sub_call[pc])
			tr_call_sub(C, pc, a, b - 1, c - 1);
		else if (C->inl_cont[pc])
			tr_call_inlined(C, pc, a, b - 1, c - 1);
		else
			tr_call(C, a, b - 1, c - 1);
		break;
	case OP_CALLM: tr_call(C, a, b - 1, c + 1); break; /* the multiple results: one */
	case OP_CALLT:
		tr_call(C, a, 1, d - 1);
		tr_ret(C, a);
		break;
	case OP_CALLMT:
		tr_call(C, a, 1, d + 1);
		tr_ret(C, a);
		break;
	case OP_RET0: tr_ret(C, -1); break;
	case OP_RET1: tr_ret(C, a); break;
	case OP_RET:
		if (d <= 1)
			tr_ret(C, -1);
		else if (d == 2)
			tr_ret(C, a);
		else
			bpfc_fail(C, "a BPF program returns one value");
		break;
	case OP_FNEW: bpfc_fail(C, "closures (functions defined inside the program) are not supported");
	case OP_TNEW: case OP_TDUP:
		bpfc_fail(C, "tables cannot be built at run time; use a map, or ffi.new for a struct");
	case OP_FORI: tr_fori(C, pc, a, pc + d - 0x7fff); break;
	case OP_FORL: case OP_IFORL: tr_forl(C, pc, a, pc + d - 0x7fff); break;
	case OP_JFORI: case OP_JFORL: case OP_JLOOP:
		bpfc_fail(C, "this loop was compiled by LuaJIT's JIT already (the function ran in "
			     "Lua first): give bpf() the function before running it, or jit.off(fn)");
	case OP_ISNEXT:
		if (forin_at(C, pc, pc + d - 0x7fff)) {
			tr_forin(C, pc, pc + d - 0x7fff);
			break;
		}
		/* fall through */
	case OP_ITERC: case OP_ITERN: case OP_ITERL: case OP_IITERL: case OP_JITERL:
		bpfc_fail(C, "this 'for ... in' loop has a shape the compiler does not know");
	case OP_VARG: bpfc_fail(C, "'...' is not supported in a BPF program");
	case OP_UCLO: bpfc_fail(C, "closures are not supported");
	case OP_TSETM: case OP_TSETR: case OP_TGETR:
		bpfc_fail(C, "table construct %s is not supported", bc_opname(i->op));
	case OP_ISTYPE: case OP_ISNUM: break;
	case OP_UNKNOWN: bpfc_fail(C, "this LuaJIT bytecode is unknown to the compiler");
	default: bpfc_fail(C, "bytecode %s is not supported", bc_opname(i->op));
	}
}
