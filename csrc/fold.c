/*
** The one semantics of arithmetic, in C: what every operation computes on
** 64-bit integers (README, "What a program computes").  Folding calls these
** functions directly; lowering emits the instruction sequences in
** lower_arith.c, and spec/semantics_spec.lua runs both on the same edge
** values in the kernel so that the two cannot drift apart.
**
** Everything is computed on uint64_t and converted back, so that no
** operation is undefined behaviour in C: wrapping is the rule, and the two
** cases C leaves undefined (INT64_MIN / -1 and a zero divisor) have the
** answers the kernel gives.
*/
#include "core.h"

static int64_t wrap(uint64_t u)
{
	int64_t r;
	__builtin_memcpy(&r, &u, sizeof(r));
	return r;
}

/* Lua's floor division on int64; the kernel's x / 0 == 0. */
static int64_t floor_div(int64_t x, int64_t y)
{
	if (y == 0)
		return 0;
	if (y == -1)
		return wrap(0 - (uint64_t)x); /* INT64_MIN / -1 wraps to INT64_MIN */
	int64_t q = x / y;
	if (x % y != 0 && ((x < 0) != (y < 0)))
		q--;
	return q;
}

/* Lua's floored modulo (the sign of the divisor); the kernel's x % 0 == x. */
static int64_t floor_mod(int64_t x, int64_t y)
{
	if (y == 0)
		return x;
	if (y == -1)
		return 0;
	int64_t r = x % y;
	if (r != 0 && ((r < 0) != (y < 0)))
		r += y;
	return r;
}

/* x ^ y by squaring: at most 64 rounds, whatever y is. */
static uint64_t ipow(uint64_t x, uint64_t y)
{
	uint64_t r = 1;
	while (y) {
		if (y & 1)
			r *= x;
		x *= x;
		y >>= 1;
	}
	return r;
}

int fold_arith(enum arop op, bool u64, int64_t x, int64_t y, int64_t *out)
{
	uint64_t a = (uint64_t)x, b = (uint64_t)y;
	switch (op) {
	case AR_ADD: *out = wrap(a + b); return 0;
	case AR_SUB: *out = wrap(a - b); return 0;
	case AR_MUL: *out = wrap(a * b); return 0;
	case AR_DIV: /* a zero divisor: the kernel's answer in *out, and FOLD_DIV0 */
		*out = y == 0 ? 0 : u64 ? wrap(a / b) : floor_div(x, y);
		return y == 0 ? FOLD_DIV0 : 0;
	case AR_MOD:
		*out = y == 0 ? x : u64 ? wrap(a % b) : floor_mod(x, y);
		return y == 0 ? FOLD_DIV0 : 0;
	case AR_POW:
		if (!u64 && y < 0)
			return FOLD_NEGPOW;
		*out = wrap(ipow(a, b));
		return 0;
	case AR_NEG: *out = wrap(0 - a); return 0;
	case AR_BAND: *out = wrap(a & b); return 0;
	case AR_BOR: *out = wrap(a | b); return 0;
	case AR_BXOR: *out = wrap(a ^ b); return 0;
	case AR_SHL: *out = wrap(a << (b & 63)); return 0;
	case AR_SHR: *out = wrap(a >> (b & 63)); return 0;
	case AR_SAR: /* arithmetic shift without relying on C's >> of negatives */
		*out = wrap((a >> (b & 63)) | ((x < 0 && (b & 63)) ? ~(~0ull >> (b & 63)) : 0));
		return 0;
	case AR_BNOT: *out = wrap(~a); return 0;
	case AR_TOBIT: *out = (int64_t)(int32_t)(uint32_t)a; return 0;
	}
	return FOLD_UNKNOWN;
}

bool fold_cmp(enum cmpop op, bool u64, int64_t x, int64_t y)
{
	uint64_t a = (uint64_t)x, b = (uint64_t)y;
	switch (op) {
	case CMP_EQ: return x == y;
	case CMP_NE: return x != y;
	case CMP_LT: return u64 ? a < b : x < y;
	case CMP_LE: return u64 ? a <= b : x <= y;
	case CMP_GT: return u64 ? a > b : x > y;
	case CMP_GE: return u64 ? a >= b : x >= y;
	}
	return false;
}

/* Byte swap of the low `width` bytes (ntoh/hton of a field that wide). */
int64_t fold_bswap(int64_t x, int width)
{
	uint64_t r = 0, u = (uint64_t)x;
	for (int i = 0; i < width; i++)
		r = r << 8 | ((u >> (8 * i)) & 0xff);
	return wrap(r);
}
