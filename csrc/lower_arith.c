/*
** Arithmetic on run-time values: + - * / % ^ and unary minus, lowered to
** instruction sequences that compute what fold.c computes on constants.
**
** Numbers are int64 unless typed uint64 (VF_U64).  BPF's own / and % are
** unsigned, so int64 division is built from them: on magnitudes, with the
** sign put back and the quotient rounded towards minus infinity (Lua's
** floor division).  Values known to be non-negative (VF_NONNEG: zero-extended
** loads) and uint64 values use the plain instruction, which is then exact.
*/
#include "core.h"

bool is_num(struct ctx *C, int slot, int64_t *n)
{
	struct var *v = v_src(C, slot);
	if (v->kind == VK_NUM) {
		*n = v->num;
		return true;
	}
	return false;
}

bool fits_imm(int64_t n)
{
	return n >= INT32_MIN && n <= INT32_MAX;
}

static const uint8_t alu_op[] = {[AR_ADD] = BPF_ADD, [AR_SUB] = BPF_SUB, [AR_MUL] = BPF_MUL,
				 [AR_DIV] = BPF_DIV, [AR_MOD] = BPF_MOD};

/* A map value used as a number reads the value (0 when the key is absent),
** as the 2016 compiler did; returns the slot now holding the number. */
int as_number(struct ctx *C, int slot, int tmp)
{
	struct var *v = v_src(C, slot);
	if (!(v->kind == VK_RT && v->ptr == PK_MAPVAL))
		return slot;
	tr_index(C, tmp, slot, -1, 0, 0, 2);
	return tmp;
}

void check_scalar(struct ctx *C, int slot, const char *what)
{
	struct var *v = v_src(C, slot);
	if (v->kind == VK_LUA)
		bpfc_fail(C, "%s: operand is a Lua value, not a number", what);
	if (v->kind == VK_NIL)
		bpfc_fail(C, "%s on nil (Lua would raise an error here)", what);
	if (v->kind == VK_RT && v->ptr == PK_MAPVAL)
		bpfc_fail(C, "%s: operand is a map value pointer; index it first (v[0] or v.field)",
			  what);
	if (v->kind == VK_RT && v->ptr == PK_CTX)
		bpfc_fail(C, "%s: operand is the program's context or an array or struct member of "
			     "it, a pointer; read a field of it (skb.len, skb.cb[0])", what);
	if (v->flags & VF_MIXED)
		bpfc_fail(C, "%s on a value that is nil or false on some path", what);
}

/* A packet dissector moved by n bytes: still a dissector. */
static bool pkt_shift(struct ctx *C, int dst, int a, int bslot, int64_t n, bool sub)
{
	struct var *va = v_src(C, a);
	bool pkt = va->kind == VK_PKT || (va->kind == VK_RT && va->ptr == PK_PKTOFF);
	bool ptr = va->kind == VK_RT && va->ptr == PK_PKTPTR;
	if (!pkt && !ptr)
		return false;
	struct var keep = *va;
	if (bslot < 0 && va->kind == VK_PKT) {
		v_def(C, dst);
		C->v[dst] = keep;
		C->v[dst].reg = NOREG;
		C->v[dst].shadow = -1;
		C->v[dst].num = sub ? keep.num - n : keep.num + n;
		if (n)
			C->v[dst].flags |= VF_MOVED;
		return true;
	}
	int esize = ptr && keep.ref ? fact_sizeof(C, keep.ref) : 1; /* p + 1 moves one element */
	if (esize > 1) {
		if (bslot >= 0)
			bpfc_fail(C, "a run-time amount added to a packet pointer of %d-byte elements: "
				     "add it before ffi.cast", esize);
		n *= esize;
	}
	if (bslot < 0 && !fits_imm(n))
		bpfc_fail(C, "packet offset %lld is out of range", (long long)n);
	int rb = -1;
	if (bslot >= 0) {
		rb = v_reg(C, bslot);
	}
	int rd = alu_dst(C, dst, a);
	if (rb >= 0 && !(v_src(C, bslot)->bits && v_src(C, bslot)->bits <= 30)) {
		/* an amount of unknown range: clamped first, so the offset cannot wrap */
		int t = r_scratch(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, rb, 0, 0);
		rb = pk_clamp(C, t, v_src(C, bslot)->flags & VF_U64);
	}
	if (rb >= 0)
		emit(C, BPF_ALU64 | (sub ? BPF_SUB : BPF_ADD) | BPF_X, rd, rb, 0, 0);
	else
		emit(C, BPF_ALU64 | (sub ? BPF_SUB : BPF_ADD) | BPF_K, rd, 0, 0, (int32_t)n);
	struct var *d = &C->v[dst];
	d->ptr = ptr ? PK_PKTPTR : PK_PKTOFF;
	d->ref = keep.ref;
	d->layer = keep.layer;
	if (!ptr && (rb >= 0 || n))
		d->flags |= VF_MOVED;
	int ka = keep.kind == VK_PKT ? bits_of(keep.num) : keep.bits;
	d->bits = (uint8_t)(sub ? 0 : bits_add(ka, rb >= 0 ? v_src(C, bslot)->bits : bits_of(n)));
	return true;
}

/* ---- instruction sequences ---- */

static void alu_k(struct ctx *C, uint8_t op, int r, int32_t k)
{
	emit(C, BPF_ALU64 | op | BPF_K, r, 0, 0, k);
}

static void alu_x(struct ctx *C, uint8_t op, int r, int s)
{
	emit(C, BPF_ALU64 | op | BPF_X, r, s, 0, 0);
}

static void jmp_k(struct ctx *C, uint8_t op, int r, int32_t k, int label)
{
	emit_jmp(C, BPF_JMP | op | BPF_K, r, 0, k, label);
}

/* r = -r when r < 0: its magnitude (INT64_MIN stays 2^63, right as unsigned). */
static void magnitude(struct ctx *C, int r)
{
	int done = label_new(C);
	jmp_k(C, BPF_JSGE, r, 0, done);
	emit(C, BPF_ALU64 | BPF_NEG, r, 0, 0, 0);
	emit_label(C, done);
}

/* rd = floor(rd / k) or rd mod k for a constant k > 0 on int64. */
static void sdiv_const(struct ctx *C, int rd, int64_t k, bool mod)
{
	if ((k & (k - 1)) == 0) { /* a power of two: shifts and masks are exact */
		int sh = __builtin_ctzll((unsigned long long)k);
		if (mod)
			alu_k(C, BPF_AND, rd, (int32_t)(k - 1));
		else if (sh)
			alu_k(C, BPF_ARSH, rd, sh);
		return;
	}
	int pos = label_new(C), done = label_new(C);
	jmp_k(C, BPF_JSGE, rd, 0, pos);
	emit(C, BPF_ALU64 | BPF_NEG, rd, 0, 0, 0);
	if (mod) { /* -a mod k, then k - that unless it is 0 */
		alu_k(C, BPF_MOD, rd, (int32_t)k);
		jmp_k(C, BPF_JEQ, rd, 0, done);
		emit(C, BPF_ALU64 | BPF_NEG, rd, 0, 0, 0);
		alu_k(C, BPF_ADD, rd, (int32_t)k);
	} else { /* -(ceil(|a| / k)) */
		alu_k(C, BPF_ADD, rd, (int32_t)(k - 1));
		alu_k(C, BPF_DIV, rd, (int32_t)k);
		emit(C, BPF_ALU64 | BPF_NEG, rd, 0, 0, 0);
	}
	emit_ja(C, done);
	emit_label(C, pos);
	alu_k(C, mod ? BPF_MOD : BPF_DIV, rd, (int32_t)k);
	emit_label(C, done);
}

/* rd = floor(rd / rb) or the floored rd mod rb on int64, rb any value:
** x / 0 == 0 and x % 0 == x, as the kernel's own division. */
static void sdiv_reg(struct ctx *C, int rd, int rb, bool mod)
{
	/* No test for b == 0 is needed: the kernel's |a| / 0 == 0 and |a| % 0 == |a|
	** make both sequences come out at 0 and a (spec/semantics_spec.lua). */
	int ta = r_scratch(C);
	int tb = r_scratch(C);
	alu_x(C, BPF_MOV, ta, rd); /* ta < 0 when the signs differ */
	alu_x(C, BPF_XOR, ta, rb);
	alu_x(C, BPF_MOV, tb, rb);
	magnitude(C, tb);
	magnitude(C, rd);
	if (mod) {
		alu_x(C, BPF_MOD, rd, tb);
		int z = label_new(C), same = label_new(C);
		jmp_k(C, BPF_JEQ, rd, 0, z);
		jmp_k(C, BPF_JSGE, ta, 0, same); /* signs differ: |b| - t */
		emit(C, BPF_ALU64 | BPF_NEG, rd, 0, 0, 0);
		alu_x(C, BPF_ADD, rd, tb);
		emit_label(C, same);
		jmp_k(C, BPF_JSGE, rb, 0, z); /* the result has the divisor's sign */
		emit(C, BPF_ALU64 | BPF_NEG, rd, 0, 0, 0);
		emit_label(C, z);
		return;
	}
	int pos = label_new(C), end = label_new(C);
	jmp_k(C, BPF_JSGE, ta, 0, pos);
	alu_x(C, BPF_ADD, rd, tb); /* a negative quotient: -(ceil(|a| / |b|)) */
	alu_k(C, BPF_SUB, rd, 1);
	alu_x(C, BPF_DIV, rd, tb);
	emit(C, BPF_ALU64 | BPF_NEG, rd, 0, 0, 0);
	emit_ja(C, end);
	emit_label(C, pos);
	alu_x(C, BPF_DIV, rd, tb);
	emit_label(C, end);
}

/* rd = rd ^ y for a constant y >= 2, by squaring. */
static void pow_const(struct ctx *C, int rd, uint64_t y)
{
	int base = r_scratch(C);
	alu_x(C, BPF_MOV, base, rd);
	int top = 63 - __builtin_clzll((unsigned long long)y);
	for (int b = top - 1; b >= 0; b--) {
		alu_x(C, BPF_MUL, rd, rd);
		if (y >> b & 1)
			alu_x(C, BPF_MUL, rd, base);
	}
}

static const char *opname(enum arop op)
{
	static const char *const names[] = {"addition", "subtraction", "multiplication",
					    "division", "modulo", "'^'"};
	return op <= AR_POW ? names[op] : "arithmetic";
}

/* How many bits the result of a op b needs, from those of a and b (0: unknown). */
static int arith_bits(enum arop op, int ba, int bb)
{
	if (!ba || !bb)
		return 0;
	switch (op) {
	case AR_ADD: return bits_add(ba, bb);
	case AR_MUL: return ba + bb <= 62 ? ba + bb : 0;
	case AR_DIV: return ba;
	case AR_MOD: return ba; /* below b, but x % 0 is x */
	default: return 0;
	}
}

/* The memory an address in slot s lies in: VF_USER, VF_KERNEL or 0 (a plain number). */
static int space_of(struct ctx *C, int s)
{
	const struct var *v = v_src(C, s);
	if (v->kind == VK_RT && v->ptr == PK_PROBE)
		return v->flags & VF_USER ? VF_USER : VF_KERNEL;
	return v->flags & VF_SPACE;
}

/* What a + b or a - b is an address in: a pointer moved by a number stays in
** its memory (so that a cast of it reads there); a difference of two is a number. */
static int addr_space(struct ctx *C, int a, int bslot, enum arop op)
{
	int sa = space_of(C, a), sb = bslot >= 0 ? space_of(C, bslot) : 0;
	if (op == AR_ADD)
		return sa && sb ? 0 : sa | sb;
	if (op == AR_SUB)
		return sb ? 0 : sa;
	return 0;
}

/* dst = a op b, where b is a slot (bslot >= 0) or the constant bn; rev: b op a. */
/* p + n and p - n on a pointer read through probe_read move it by n
** elements, as LuaJIT moves a pointer: n is scaled by the element's size
** (into slot tmp when it is a run-time value).  Returns the element's size
** (0: p is no such pointer). */
static int elements(struct ctx *C, int p, int *bslot, int64_t *bn, int tmp)
{
	const struct var *v = v_src(C, p);
	if (!(v->kind == VK_RT && v->ptr == PK_PROBE))
		return 0;
	int esize = v->ref ? fact_sizeof(C, v->ref) : 1;
	if (esize <= 1)
		return 1;
	if (*bslot < 0) {
		if (*bn > INT64_MAX / esize || *bn < INT64_MIN / esize)
			bpfc_fail(C, "pointer + %lld elements of %d bytes is out of range", (long long)*bn, esize);
		*bn *= esize;
		return esize;
	}
	const struct var *b = v_src(C, *bslot);
	if (b->kind == VK_RT && b->ptr == PK_PROBE) /* LuaJIT's p - q counts elements */
		bpfc_fail(C, "arithmetic on two pointers to %d-byte elements: cast them to numbers "
			     "(ffi.cast('uintptr_t', p)) and count the bytes", esize);
	tr_arith(C, tmp, *bslot, -1, esize, AR_MUL, false);
	*bslot = tmp;
	return esize;
}

void tr_arith(struct ctx *C, int dst, int a, int bslot, int64_t bn, enum arop op, bool rev)
{
	int64_t x = 0, y = 0;
	if (op == AR_ADD && bslot >= 0 && v_src(C, bslot)->kind == VK_RT && v_src(C, bslot)->ptr == PK_PROBE &&
	    !(v_src(C, a)->kind == VK_RT && v_src(C, a)->ptr == PK_PROBE)) { /* n + p is p + n */
		int t = a;
		a = bslot;
		bslot = t;
		rev = false;
	}
	int moved = 0; /* p + n: the pointer's pointee, to keep (LuaJIT's p + n is a pointer) */
	if ((op == AR_ADD || (op == AR_SUB && !rev)) && elements(C, a, &bslot, &bn, C->tmp + 5) &&
	    !(bslot >= 0 && v_src(C, bslot)->kind == VK_RT && v_src(C, bslot)->ptr == PK_PROBE))
		moved = v_src(C, a)->ref;
	a = as_number(C, a, C->tmp + 6);
	if (bslot >= 0)
		bslot = as_number(C, bslot, C->tmp + 7);
	bool ak = is_num(C, a, &x), bk = bslot < 0 ? (y = bn, true) : is_num(C, bslot, &y);
	int fa = v_src(C, a)->flags, fb = bslot >= 0 ? v_src(C, bslot)->flags : 0;
	if (bslot < 0 && bn >= 0)
		fb |= VF_NONNEG;
	bool u64 = ((fa | fb) & VF_U64) != 0;
	int space = addr_space(C, a, bslot, op);
	if (ak && bk) {
		int64_t r;
		int rc = rev ? fold_arith(op, u64, y, x, &r) : fold_arith(op, u64, x, y, &r);
		if (rc == FOLD_DIV0 && !BROKEN(C, zero_divisor))
			bpfc_fail(C, "%s by zero: the divisor is 0 here", opname(op));
		if (rc == FOLD_NEGPOW)
			bpfc_fail(C, "'^' with a negative exponent: BPF has no floating point");
		v_numconst(C, dst, r, u64 ? VF_U64 : 0);
		return;
	}
	if (!rev && (op == AR_ADD || op == AR_SUB) && pkt_shift(C, dst, a, bk ? -1 : bslot, y,
								  op == AR_SUB))
		return;
	if (rev && op == AR_ADD && bslot < 0 && pkt_shift(C, dst, a, -1, y, false))
		return;
	check_scalar(C, a, opname(op));
	if (bslot >= 0)
		check_scalar(C, bslot, opname(op));
	/* a constant on the left of a non-commutative op: materialize it */
	if (rev && op != AR_ADD && op != AR_MUL) {
		int t = C->tmp;
		v_numconst(C, t, bn, bn >= 0 ? VF_NONNEG : 0);
		tr_arith(C, dst, t, a, 0, op, false);
		return;
	}
	if (ak && !bk && (op == AR_ADD || op == AR_MUL)) { /* commutative: constant second */
		int t = a;
		a = bslot;
		bslot = t;
		y = x;
		bk = true;
	}
	if (op == AR_POW && (!bk || (!u64 && y < 0)))
		bpfc_fail(C, bk ? "'^' with a negative exponent: BPF has no floating point"
			       : "the exponent of '^' must be known at compile time");
	if (op == AR_POW && y == 0) { /* x ^ 0 is 1 whatever x is */
		v_numconst(C, dst, 1, u64 ? VF_U64 : 0);
		return;
	}
	if (bk && (op == AR_DIV || op == AR_MOD) && y == 0 && !BROKEN(C, zero_divisor))
		bpfc_fail(C, "%s by zero: the divisor is 0 here", opname(op));
	bool signed_div = (op == AR_DIV || op == AR_MOD) && !u64 &&
			  !((fa & VF_NONNEG) && (bk ? y > 0 : (fb & VF_NONNEG)));
	if (bk && op != AR_POW && (!fits_imm(y) || (signed_div && y < 0))) {
		int t = C->tmp + 1; /* in a register: too wide for an immediate */
		v_numconst(C, t, y, u64 ? VF_U64 : 0);
		v_reg(C, t);
		bslot = t;
		bk = false;
	}
	int ba = v_src(C, a)->bits, bb = bk ? bits_of(y) : v_src(C, bslot)->bits;
	int rb = -1;
	if (!bk) {
		rb = v_reg(C, bslot);
	}
	int rd = alu_dst(C, dst, a);
	if (rb == rd) { /* x op x: the divisor must outlive the dividend's changes */
		int t = r_scratch(C);
		alu_x(C, BPF_MOV, t, rb);
		rb = t;
	}
	if (op == AR_POW) {
		if (y > 1)
			pow_const(C, rd, (uint64_t)y);
	} else if (signed_div && bk) {
		sdiv_const(C, rd, y, op == AR_MOD);
	} else if (signed_div) {
		sdiv_reg(C, rd, rb, op == AR_MOD);
	} else if (bk) {
		/* x + 0, x - 0, x * 1, x / 1 (unsigned): nothing to compute; x / 2^k and
		** x % 2^k (unsigned): a shift and a mask, which the JIT does at once */
		bool same = y == 0 ? op == AR_ADD || op == AR_SUB : y == 1 && (op == AR_MUL || op == AR_DIV);
		bool pow2 = (op == AR_DIV || op == AR_MOD) && y > 1 && (y & (y - 1)) == 0;
		if (pow2)
			alu_k(C, op == AR_DIV ? BPF_RSH : BPF_AND, rd,
			      op == AR_DIV ? __builtin_ctzll((unsigned long long)y) : (int32_t)(y - 1));
		else if (!same)
			alu_k(C, alu_op[op], rd, (int32_t)y);
	} else {
		alu_x(C, alu_op[op], rd, rb);
	}
	struct var *d = &C->v[dst];
	d->ptr = PK_SCALAR;
	d->width = 0; /* computed, not read from a field: ntoh swaps 4 bytes */
	d->flags = (uint16_t)((u64 ? VF_U64 : 0) | space);
	if ((op == AR_DIV || op == AR_MOD) && (fa & VF_NONNEG) && (fb & VF_NONNEG))
		d->flags |= VF_NONNEG;
	d->bits = (uint8_t)arith_bits(op, ba, bk ? bits_of(y) : bb);
	if (d->bits)
		d->flags |= VF_NONNEG;
	if (moved) { /* still a pointer to what p points to, in p's memory */
		d->ptr = PK_PROBE;
		d->ref = moved;
		d->flags = (uint16_t)(space & VF_USER);
		d->bits = 0;
	}
}

void tr_unm(struct ctx *C, int dst, int d)
{
	int64_t n;
	int flags = v_src(C, d)->flags & VF_U64;
	if (is_num(C, d, &n)) {
		int64_t r;
		fold_arith(AR_NEG, false, n, 0, &r);
		v_numconst(C, dst, r, flags);
		return;
	}
	check_scalar(C, d, "unary minus");
	emit(C, BPF_ALU64 | BPF_NEG, alu_dst(C, dst, d), 0, 0, 0);
	C->v[dst].flags = (uint16_t)flags;
	C->v[dst].ptr = PK_SCALAR;
}
