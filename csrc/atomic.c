/*
** Atomics: xadd, atomic_add/and/or/xor, atomic_fetch_add/and/or/xor, xchg
** and cmpxchg on a place in memory, as BPF_STX | BPF_ATOMIC instructions.
**
** The place is a map value of a number type (xadd(m[k], n)), a number
** field or array element of a map value (xadd(v.packets, n),
** xadd(v.counts[3], n)) or of a stack object (ffi.new).  Lua evaluates
** v.packets into a value before the call sees it, so the indexing that
** reads the first argument of an atomic called right after (atomic_place,
** asked by index.c) reads nothing: it leaves the base pointer in the slot
** and says in C->atom where the field lies and what it is, and the call
** (bi_atomic) takes it.  "Right after" is straight-line bytecode that only
** computes the other arguments, so that nothing but the call sees the slot.
**
** A missing map entry (a nil value) is never dereferenced: nothing is done
** and the forms that give a value back give 0, as reading a field of it
** does.  The values are the field's type: a fetch gives the old value as a
** read of the field gives it (sign-extended for int32_t, zero-extended for
** uint32_t, uint64 for uint64_t).  cmpxchg(place, old, new) exchanges when
** the field holds old: a 32-bit BPF_CMPXCHG compares the low 32 bits only,
** so an old the field's type cannot hold is compared at run time first and
** then never matches (the field is read, nothing written).
*/
#include <stdio.h>
#include <string.h>
#include "core.h"

enum aop { A_ADD, A_AND, A_OR, A_XOR, A_XCHG, A_CMPXCHG };

static const struct {
	uint8_t op;	/* enum aop */
	bool fetch;	/* gives the old value back */
} forms[H__MAX] = {
	[H_xadd] = {A_ADD, false},	      [H_atomic_add] = {A_ADD, false},
	[H_atomic_and] = {A_AND, false},      [H_atomic_or] = {A_OR, false},
	[H_atomic_xor] = {A_XOR, false},      [H_atomic_fetch_add] = {A_ADD, true},
	[H_atomic_fetch_and] = {A_AND, true}, [H_atomic_fetch_or] = {A_OR, true},
	[H_atomic_fetch_xor] = {A_XOR, true}, [H_xchg] = {A_XCHG, true},
	[H_cmpxchg] = {A_CMPXCHG, true},
};

static const int32_t alu_imm[] = {[A_ADD] = BPF_ADD, [A_AND] = BPF_AND, [A_OR] = BPF_OR,
				  [A_XOR] = BPF_XOR, [A_XCHG] = BPF_XCHG, [A_CMPXCHG] = BPF_CMPXCHG};

static bool is_atomic(const struct helper *h)
{
	return h && h->lower == bi_atomic;
}

/* The bytecode at pc writes slot s (or may: a call's frame from its base up). */
static bool bc_writes_slot(const struct bcins *i, int s)
{
	int ma = i->mode & 7;
	return (ma == BCM_DST && i->a == s) || (ma == BCM_BASE && i->a <= s);
}

/* Is the value the indexing at C->pc reads into dst the first argument of
** an atomic called right after?  Returns the CALL's pc, else -1.  Between
** them only straight-line code that computes the other arguments (values
** into slots above dst, helper calls whose frames lie above it), or the
** next step of the index into the same slot (v.counts then [3]). */
static int atomic_call_after(struct ctx *C, int dst)
{
	int pc = C->pc, fslot = dst - 1 - C->fr2;
	const struct bcins *at = &C->bc[pc];
	if (dst >= C->nslots || fslot < 0 || at->a != dst ||
	    (at->op != OP_TGETS && at->op != OP_TGETB && at->op != OP_TGETV))
		return -1;
	const struct var *f = v_src(C, fslot);
	const char *name = f->kind == VK_LUA ? fact_helper(C, f->ref) : NULL;
	if (!name || !is_atomic(helper_find(name)))
		return -1;
	for (int p = pc + 1; p < C->nbc && p <= pc + 64; p++) {
		const struct bcins *i = &C->bc[p];
		int md = (i->mode >> 7) & 15;
		if (C->target[p] || md == BCM_JUMP)
			return -1;
		if (i->op == OP_CALL && i->a == fslot)
			return C->bc[p].c >= 2 ? p : -1; /* (c - 1 arguments) */
		if ((i->op == OP_TGETS || i->op == OP_TGETB || i->op == OP_TGETV) && i->a == dst &&
		    i->b == dst)
			continue; /* the next step of the index */
		if (i->op == OP_CALL && i->a > dst)
			continue; /* a helper computing another argument */
		if ((i->mode & 7) != BCM_DST || bc_writes_slot(i, dst) || bc_writes_slot(i, fslot))
			return -1;
	}
	return -1;
}

/* index.c: dst = base[key], where key names f.  When dst is the place of an
** atomic called next, nothing is read: dst holds base's address (for the
** call to use) and C->atom where in it f lies.  Returns whether it did. */
bool atomic_place(struct ctx *C, int dst, int base, const struct cfield *f)
{
	bool chained = C->atom.call >= 0 && C->atom.pc == C->pc - 1 && C->atom.slot == base && base == dst;
	int call = atomic_call_after(C, dst);
	if (call < 0)
		return false;
	int off = (chained ? C->atom.off : 0) + f->off;
	struct var *b = v_src(C, base);
	if (b->kind == VK_STACK) {
		struct var keep = *b;
		v_def(C, dst);
		C->v[dst] = keep;
		C->v[dst].shadow = -1;
		C->v[dst].reg = NOREG;
	} else if (b->kind == VK_RT && b->ptr == PK_MAPVAL) {
		uint16_t flags = b->flags;
		alu_dst(C, dst, base);
		C->v[dst].ptr = PK_MAPVAL;
		C->v[dst].flags = flags;
	} else {
		return false;
	}
	C->v[dst].ref = f->isagg ? f->ctype : 0; /* (the next step's type) */
	C->atom = (struct atom_place){.slot = dst, .pc = C->pc, .call = call, .off = off, .f = *f,
				      .reg = C->v[dst].reg, .num = C->v[dst].num};
	return true;
}

/* The place p names: where (register, offset), how wide and of what sign;
** *nullable: a map value that may be missing. */
static void place_of(struct ctx *C, int p, const char *name, int *reg, int *off, int *size, bool *sg,
		     bool *nullable)
{
	struct var *v = v_src(C, p);
	const char *how = "a map value (m[k]), or a number field or array element of one "
			  "(v.packets, v.counts[3]) or of a stack object (ffi.new)";
	*nullable = false;
	if (C->atom.call == C->pc && C->atom.slot == p && v->reg == C->atom.reg && v->num == C->atom.num &&
	    (v->kind == VK_STACK || (v->kind == VK_RT && v->ptr == PK_MAPVAL))) {
		const struct cfield *f = &C->atom.f;
		C->atom.call = -1;
		if (f->isagg)
			bpfc_fail(C, "%s() updates a number: this member is a struct or an array; name one "
				     "of its numbers (v.counts[3])", name);
		if (f->bpos >= 0)
			bpfc_fail(C, "%s() cannot update a bitfield: BPF atomics work on whole 4- or 8-byte "
				     "numbers", name);
		if (f->isptr || f->isfloat)
			bpfc_fail(C, "%s() updates an integer field, not a %s", name,
				  f->isptr ? "pointer" : "floating-point number");
		*size = f->size;
		*sg = f->issigned;
		*off = C->atom.off;
		if (v->kind == VK_STACK) {
			*reg = BPF_REG_10;
			*off += (int)-v->num;
		} else {
			*nullable = true;
			*reg = -1; /* (after the NULL check) */
		}
	} else if (v->kind == VK_RT && v->ptr == PK_MAPVAL) {
		*size = 8;
		*sg = true;
		if (v->ref && !fact_scalar(C, v->ref, size, sg))
			bpfc_fail(C, "%s() updates a number, and this map's value is a struct or an array: "
				     "name a field of it (%s(v.packets, n) where v = m[k])", name, name);
		*off = 0;
		*nullable = true;
		*reg = -1;
	} else if (v->kind == VK_NUM && v->reg == NOREG) {
		bpfc_fail(C, "%s() updates memory in place, and its first argument is a constant "
			     "number: give it %s", name, how);
	} else if (v->kind == VK_NUM || (v->kind == VK_RT && v->ptr == PK_SCALAR)) {
		bpfc_fail(C, "%s() updates memory in place, and its first argument is a number already "
			     "read: name the place in the call itself (%s(v.packets, n), not a local "
			     "holding a copy), with the other arguments plain values (no and/or: "
			     "compute them into locals first)", name, name);
	} else {
		bpfc_fail(C, "%s() updates memory in place: its first argument must be %s", name, how);
	}
	if (*size != 4 && *size != 8)
		bpfc_fail(C, "%s() works on 4- and 8-byte numbers (BPF has atomics of 32 and 64 bits "
			     "only), and this one is %d byte%s: make the field uint32_t or wider",
			  name, *size, *size == 1 ? "" : "s");
}

/* Argument i as a number, in a slot (a map value read as its number). */
static int operand(struct ctx *C, int a, int i, const char *name)
{
	int s = as_number(C, a + 1 + C->fr2 + i, C->tmp + 5 + i);
	char what[64];
	snprintf(what, sizeof(what), "%s() argument %d", name, i + 1);
	check_scalar(C, s, what);
	struct var *v = v_src(C, s);
	if (!(v->kind == VK_NUM || (v->kind == VK_RT && v->ptr == PK_SCALAR)) || (v->flags & VF_BOOL))
		bpfc_fail(C, "%s takes a number", what);
	return s;
}

/* r, a value the fetch left (zero-extended when 32-bit), as the field reads. */
static void as_field(struct ctx *C, int r, int size, bool sg)
{
	if (size == 4 && sg) {
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, r, 0, 0, 32);
		emit(C, BPF_ALU64 | BPF_ARSH | BPF_K, r, 0, 0, 32);
	}
}

/* A copy of slot s's number in a fresh register (the fetch forms write it). */
static int fresh_copy(struct ctx *C, int s)
{
	int r = vreg_new(C);
	int64_t n;
	if (is_num(C, s, &n))
		emit_mov_imm(C, r, n);
	else
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, v_peek(C, s), 0, 0);
	return r;
}

/* Does old, a 64-bit number, fit the field's type (size 4)?  1 yes, 0 no,
** -1 known only at run time. */
static int old_fits(struct ctx *C, int s, bool sg)
{
	int64_t n;
	if (is_num(C, s, &n))
		return sg ? n >= INT32_MIN && n <= INT32_MAX : n >= 0 && n <= UINT32_MAX;
	const struct var *v = v_src(C, s);
	return v->bits && v->bits <= 31 ? 1 : -1;
}

void bi_atomic(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	const char *name = h->name;
	int op = forms[h - helpers].op;
	bool fetch = forms[h - helpers].fetch;
	int p = a + 1 + C->fr2, reg, off, size;
	bool sg, nullable;
	place_of(C, p, name, &reg, &off, &size, &sg, &nullable);
	int val = operand(C, a, 1, name);
	int nval = op == A_CMPXCHG ? operand(C, a, 2, name) : -1;
	if (off < INT16_MIN || off > INT16_MAX)
		bpfc_fail(C, "%s(): the field is too far into the object", name);
	int skip = nullable ? null_guard(C, p) : -1;
	if (reg < 0)
		reg = v_reg(C, p);
	uint8_t code = (uint8_t)(BPF_STX | BPF_ATOMIC | (size == 8 ? BPF_DW : BPF_W));
	int rd = -1, done = -1;
	if (op == A_CMPXCHG) {
		int fits = size == 8 ? 1 : old_fits(C, val, sg);
		int rnew = v_peek(C, nval);
		rd = vreg_new(C);
		int nomatch = fits < 0 ? label_new(C) : -1;
		if (fits < 0) { /* the field holds no such number: never equal */
			int t = fresh_copy(C, val);
			if (sg) {
				emit(C, BPF_ALU64 | BPF_LSH | BPF_K, t, 0, 0, 32);
				emit(C, BPF_ALU64 | BPF_ARSH | BPF_K, t, 0, 0, 32);
			} else {
				emit(C, BPF_ALU | BPF_MOV | BPF_X, t, t, 0, 0);
			}
			emit_jmp(C, BPF_JMP | BPF_JNE | BPF_X, t, v_peek(C, val), 0, nomatch);
		}
		if (fits != 0) {
			v_load_arg(C, val, BPF_REG_0);
			emit(C, code, reg, rnew, (int16_t)off, BPF_CMPXCHG);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rd, BPF_REG_0, 0, 0);
		}
		if (fits < 0) {
			done = label_new(C);
			emit_ja(C, done);
			emit_label(C, nomatch);
		}
		if (fits <= 0) /* a read: the value there, nothing written */
			emit(C, BPF_LDX | BPF_MEM | (size == 8 ? BPF_DW : BPF_W), rd, reg, (int16_t)off, 0);
		if (done >= 0)
			emit_label(C, done);
	} else if (fetch) {
		rd = fresh_copy(C, val);
		emit(C, code, reg, rd, (int16_t)off, alu_imm[op] | (op == A_XCHG ? 0 : BPF_FETCH));
	} else {
		emit(C, code, reg, v_peek(C, val), (int16_t)off, alu_imm[op]);
	}
	if (rd >= 0)
		as_field(C, rd, size, sg);
	if (skip >= 0) {
		if (rd >= 0) { /* a missing entry: 0 */
			int end = label_new(C);
			emit_ja(C, end);
			emit_label(C, skip);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_K, rd, 0, 0, 0);
			emit_label(C, end);
		} else {
			emit_label(C, skip);
		}
	}
	v_def(C, a);
	if (rd < 0) {
		C->v[a].kind = VK_NIL;
		return;
	}
	v_rt(C, a, rd, PK_SCALAR, size, sg ? 0 : size == 8 ? VF_U64 : VF_NONNEG);
	if (!sg && size < 8)
		C->v[a].bits = (uint8_t)(8 * size);
}
