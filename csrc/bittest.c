/*
** Tests of bits of one value, one after the other, that fail to the same
** place become one masked compare.  `tcp.flag_syn == 1 and tcp.flag_ack == 0`
** reads the flags byte once and tests two bits of it:
**
**   vA = S; vA >>= 1; vA &= 1; if vA != 1 goto L    (block b1)
**   vB = S; vB >>= 4; vB &= 1; if vB != 0 goto L    (block b2: b1 falls into it)
**
** is `vA = S; vA &= 0x12; if vA != 0x02 goto L`: both hold exactly when the
** masked bits are what both tests want.  A test here is `((S >> k) & m) op c`
** with a logical shift (or none), op != (or ==, the bit tested the other way
** for m = 1); two tests combine when their masks do not overlap.  It runs
** before dead_definitions, on virtual registers, and applies when:
**
** - b2 has no other way in, and holds nothing but its test and copies (it
**   goes whole), whose registers nothing outside b2 reads, and r0 (which
**   the packet loads leave values in) is written before it is read where
**   b2 leads;
** - vA is read nowhere but by its test (its value changes);
** - S is one register both copies read, or a copy of it (the copies in a
**   block are followed), not written between them.
*/
#include "core.h"

static bool is_copy(const struct ir_ins *in)
{
	return in->kind == IR_OP && in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && in->off == 0;
}

/* A block's test: copy, shift (-1 none), mask, jump; what passes it. */
struct test {
	int copy, shift, mask, jump;
	uint64_t m, want; /* ((S) & m) == want passes (the shift folded into m) */
};

static int prev_real(const struct ctx *C, int from, int i)
{
	for (i--; i >= from; i--)
		if (C->ir[i].kind != IR_NOP && C->ir[i].kind != IR_LABEL)
			return i;
	return -1;
}

static bool parse(const struct ctx *C, const struct ir_block *b, struct test *t)
{
	const struct ir_ins *j = &C->ir[b->last];
	if (j->kind != IR_JMP || (j->code != (BPF_JMP | BPF_JNE | BPF_K) && j->code != (BPF_JMP | BPF_JEQ | BPF_K)))
		return false;
	int v = j->dst;
	if (v < IR_VREG0)
		return false;
	int a = prev_real(C, b->first, b->last);
	if (a < 0 || C->ir[a].code != (BPF_ALU64 | BPF_AND | BPF_K) || C->ir[a].dst != v || C->ir[a].imm <= 0)
		return false;
	uint64_t m = (uint64_t)C->ir[a].imm, c = (uint64_t)j->imm;
	int p = prev_real(C, b->first, a), sh = -1, k = 0;
	if (p >= 0 && C->ir[p].code == (BPF_ALU64 | BPF_RSH | BPF_K) && C->ir[p].dst == v) {
		sh = p;
		k = (int)C->ir[p].imm;
		p = prev_real(C, b->first, p);
	}
	if (p < 0 || !is_copy(&C->ir[p]) || C->ir[p].dst != v || C->ir[p].src == v || k < 0 || k > 31)
		return false;
	if (j->code == (BPF_JMP | BPF_JEQ | BPF_K)) { /* fails when equal: a bit, the other way */
		if (m != 1 || c > 1)
			return false;
		c ^= 1;
	}
	if ((c & ~m) || (m << k) > INT32_MAX)
		return false;
	*t = (struct test){.copy = p, .shift = sh, .mask = a, .jump = b->last, .m = m << k, .want = c << k};
	return true;
}

static bool same_at(const struct ctx *C, const struct ir_block *b, int at, int src, int other)
{
	/* does `other` hold src's value at `at`?  Walk from the block start,
	** keeping which of the two were last made copies of each other. */
	bool same = src == other;
	for (int i = b->first; i < at; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP || in->kind == IR_LABEL)
			continue;
		bool ws = ir_writes(in, src), wo = ir_writes(in, other);
		if (is_copy(in) && ((in->dst == src && in->src == other) || (in->dst == other && in->src == src)))
			same = true;
		else if (ws || wo)
			same = false;
	}
	return same;
}

/* Does anything outside block b read register r? */
static bool read_outside(const struct ctx *C, const struct ir_func *f, const struct ir_block *b, int r)
{
	for (int i = f->first; i < f->first + f->n; i++)
		if ((i < b->first || i > b->last) && C->ir[i].kind != IR_NOP && ir_reads(&C->ir[i], r))
			return true;
	return false;
}

/* Is r0 written before it is read from the start of block t on (in t)? */
static bool r0_dead_at(const struct ctx *C, const struct ir_block *t)
{
	for (int i = t->first; i <= t->last; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP || in->kind == IR_LABEL)
			continue;
		if (ir_reads(in, BPF_REG_0))
			return false;
		if (ir_writes(in, BPF_REG_0))
			return true;
	}
	return false;
}

static bool combine_at(struct ctx *C, const struct ir_func *f, int b1)
{
	const struct ir_block *x = &C->blk[b1], *y;
	struct test t1, t2;
	if (!parse(C, x, &t1) || x->succ[0] < 0 || x->succ[1] < 0)
		return false;
	y = &C->blk[x->succ[0]];
	if (y->npred != 1 || !parse(C, y, &t2) || y->succ[1] != x->succ[1] || (t1.m & t2.m))
		return false;
	int va = C->ir[t1.jump].dst;
	if (read_outside(C, f, x, va))
		return false;
	/* b2 holds its test and copies only; what it writes nobody else reads */
	for (int i = y->first; i <= y->last; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP || in->kind == IR_LABEL || i == t2.shift || i == t2.mask || i == t2.jump)
			continue;
		if (!is_copy(in))
			return false;
		if (in->dst >= IR_VREG0 ? read_outside(C, f, y, in->dst) : in->dst != BPF_REG_0)
			return false;
	}
	for (int e = 0; e < 2; e++)
		if (y->succ[e] < 0 || !r0_dead_at(C, &C->blk[y->succ[e]]))
			return false;
	/* one S: t1's copy source, or a register holding it there, is what t2's
	** copy reads (or holds it at t2's copy), written nowhere between */
	int s1 = C->ir[t1.copy].src, s2 = C->ir[t2.copy].src, s = -1;
	/* the candidates: s1, and what a copy in b1 before t1's names */
	int cand[16], nc = 0;
	cand[nc++] = s1;
	for (int i = x->first; i < t1.copy && nc < 16; i++)
		if (C->ir[i].kind != IR_NOP && is_copy(&C->ir[i])) {
			cand[nc++] = C->ir[i].dst;
			if (nc < 16)
				cand[nc++] = C->ir[i].src;
		}
	for (int c = 0; c < nc && s < 0; c++) {
		int r = cand[c];
		if (r == va || r == BPF_REG_10 || !same_at(C, x, t1.copy, s1, r) || !same_at(C, y, t2.copy, s2, r))
			continue;
		bool kept = true;
		for (int i = t1.copy + 1; i <= x->last && kept; i++)
			kept = C->ir[i].kind == IR_NOP || !ir_writes(&C->ir[i], r);
		for (int i = y->first; i < t2.copy && kept; i++)
			kept = C->ir[i].kind == IR_NOP || !ir_writes(&C->ir[i], r);
		if (kept)
			s = r;
	}
	if (s < 0)
		return false;
	C->ir[t1.copy].src = (uint16_t)s;
	if (t1.shift >= 0)
		C->ir[t1.shift].kind = IR_NOP;
	C->ir[t1.mask].imm = (int64_t)(t1.m | t2.m);
	C->ir[t1.jump].code = BPF_JMP | BPF_JNE | BPF_K;
	C->ir[t1.jump].imm = (int64_t)(t1.want | t2.want);
	for (int i = y->first; i <= y->last; i++)
		if (C->ir[i].kind != IR_LABEL)
			C->ir[i].kind = IR_NOP;
	return true;
}

void bit_tests(struct ctx *C, const struct ir_func *f)
{
	int tests = 0; /* (no blocks built for a function with fewer than two) */
	for (int i = f->first + 1; i < f->first + f->n && tests < 2; i++) {
		const struct ir_ins *j = &C->ir[i], *a = &C->ir[i - 1];
		tests += j->kind == IR_JMP && BPF_SRC(j->code) == BPF_K &&
			 (BPF_OP(j->code) == BPF_JNE || BPF_OP(j->code) == BPF_JEQ) &&
			 a->kind == IR_OP && a->code == (BPF_ALU64 | BPF_AND | BPF_K);
	}
	for (bool again = tests >= 2; again;) {
		again = false;
		ir_cfg(C, f);
		for (int b = 0; b < C->nblk && !again; b++)
			again = combine_at(C, f, b);
	}
}
