/*
** Register allocation over the IR: every value gets a virtual register (a
** web), and the webs are coloured again with BPF's registers so that copies
** disappear where the two sides can share one.
**
** The invariants it lives by:
**
**  1. A web is the set of definitions and uses of one register that reach
**     each other (a use joins every definition that reaches it).  An
**     instruction that reads and writes its dst (`r1 += 2`: BPF is
**     two-address) keeps both in one web.  So a web names one value, and any
**     register may hold it as long as no web it interferes with has the same.
**  2. The ISA's implicit operands are fixed: a call reads r1-r5 and writes
**     r0-r5 (its clobbers are definitions nobody reads), LD_ABS/LD_IND read
**     r6 and write r0-r5, exit reads r0, the program starts with the context
**     in r1.  A web with such an operand keeps its register (precoloured);
**     r10 is never renamed.
**  3. Two webs interfere when one is defined where the other is live, except
**     for a copy `rd = rs`, whose two sides may share a register.
**  4. The translation's own assignment is a valid colouring (each web keeps
**     the register it had).  The new colouring is greedy and prefers a copy
**     partner's register, then the old one; when it finds no register for a
**     web it gives up and the program keeps the old assignment.  So the pass
**     can make a program shorter, never wrong.
**
** Back edges are handled by iterating the reaching and liveness sets to a
** fixed point; today's programs have none.
*/
#include <stdlib.h>
#include <string.h>
#include "core.h"

#define NREG 10		  /* r0..r9: r10 is the frame pointer */
#define MAX_WEBS 2048	  /* more and the pass leaves the program as it is */
#define CALLER_SAVED 0x3f /* r0..r5: what a call or LD_ABS writes */

/* How many of r1-r5 a helper reads (its kernel prototype); all five for
** one not listed. */
static int call_args(int func)
{
	switch (func) {
	case BPF_FUNC_ktime_get_ns:
	case BPF_FUNC_get_prandom_u32:
	case BPF_FUNC_get_smp_processor_id:
	case BPF_FUNC_get_current_pid_tgid:
	case BPF_FUNC_get_current_uid_gid:
		return 0;
	case BPF_FUNC_map_lookup_elem:
	case BPF_FUNC_map_delete_elem:
	case BPF_FUNC_get_current_comm:
	case BPF_FUNC_ringbuf_submit:
	case BPF_FUNC_ringbuf_discard:
		return 2;
	case BPF_FUNC_probe_read:
	case BPF_FUNC_get_stackid:
	case BPF_FUNC_ringbuf_reserve:
		return 3;
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_skb_load_bytes:
	case BPF_FUNC_ringbuf_output:
		return 4;
	default: /* trace_printk, perf_event_output, ... */
		return 5;
	}
}

/* The registers an instruction reads and writes, explicit or implicit. */
struct operands {
	uint16_t uses, defs;	/* register masks */
	bool use_dst, use_src;	/* explicit operands read */
	bool def_dst, def_src;	/* explicit operands written */
	bool rmw;		/* dst read and written: one web */
	bool copy;		/* rd = rs (64-bit, no sign extension) */
};

/* r10 is not one: it is never renamed. */
static bool is_reg(int r)
{
	return (r >= 0 && r < NREG) || r >= IR_VREG0;
}

static bool is_virtual(int r)
{
	return r >= IR_VREG0;
}

static struct operands operands_of(const struct ir_ins *in, bool broken_clobbers)
{
	struct operands o = {0};
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code), mode = BPF_MODE(in->code);
	bool x = BPF_SRC(in->code) == BPF_X;
	switch (in->kind) {
	case IR_OP:
		if (cls == BPF_ALU || cls == BPF_ALU64) {
			o.def_dst = true;
			o.use_dst = op != BPF_MOV;
			o.rmw = o.use_dst;
			o.use_src = x && op != BPF_NEG && op != BPF_END;
			o.copy = cls == BPF_ALU64 && op == BPF_MOV && x && in->off == 0;
		} else if (cls == BPF_LDX) {
			o.def_dst = o.use_src = true;
		} else if (cls == BPF_ST) {
			o.use_dst = true;
		} else if (cls == BPF_STX) {
			o.use_dst = o.use_src = true;
			if (mode == BPF_ATOMIC) {
				o.def_src = (in->imm & BPF_FETCH) != 0;
				if (in->imm == BPF_CMPXCHG) {
					o.uses |= 1u;
					o.defs |= 1u;
				}
			}
		} else if (cls == BPF_LD && (mode == BPF_ABS || mode == BPF_IND)) {
			o.uses |= 1u << 6;
			o.use_src = mode == BPF_IND;
			o.defs |= CALLER_SAVED;
		}
		break;
	case IR_JMP:
		if (op != BPF_JA) {
			o.use_dst = true;
			o.use_src = x;
		}
		break;
	case IR_LD64:
	case IR_MAP:
		o.def_dst = true;
		break;
	case IR_CALL:
		o.uses = (uint16_t)(((1u << call_args((int)in->imm)) - 1) << 1); /* r1.. */
		o.defs = broken_clobbers ? 1u : CALLER_SAVED;
		break;
	case IR_EXIT:
		o.uses = 1u;
		break;
	default:
		break;
	}
	if (!is_reg(in->dst))
		o.use_dst = o.def_dst = o.rmw = o.copy = false;
	if (!is_reg(in->src))
		o.use_src = o.def_src = o.copy = false;
	return o;
}

/* Working memory: one buffer kept from compile to compile (C->ra_mem),
** grown before the pass starts to what the program can need, and handed
** out in pieces; nothing is freed on the way. */
static void *take(struct ctx *C, size_t size, bool zero)
{
	size = (size + 15) & ~(size_t)15;
	if (C->ra_used + size > C->ra_cap)
		return NULL; /* cannot happen: ra_reserve counted it */
	void *p = C->ra_mem + C->ra_used;
	C->ra_used += size;
	if (zero)
		memset(p, 0, size);
	return p;
}

/* Reaching sets over every virtual register: nb x (NREG + nv) ints. */
static bool split_webs(int nb, int nv)
{
	return (size_t)nb * (size_t)(NREG + nv) <= (1u << 20);
}

static bool ra_reserve(struct ctx *C, int n, int nb, int nv)
{
	size_t maxdefs = 1 + (size_t)nv + (size_t)n * (2 + NREG), words = (MAX_WEBS + 63) / 64;
	size_t names = NREG + (split_webs(nb, nv) ? (size_t)nv : 0);
	size_t need = 64 * 16 + (size_t)n * (sizeof(struct operands) + 6 * sizeof(int) + NREG * sizeof(int) +
					      2 * sizeof(int)) +
		      maxdefs * (2 * sizeof(int) + 2) + (size_t)(nb + 1) * (names * sizeof(int) + 1 + 4 * sizeof(int) + 16) +
		      5 * (size_t)MAX_WEBS + MAX_WEBS * words * 8 + ((size_t)nb + 1) * words * 8 + MAX_WEBS;
	C->ra_used = 0;
	if (need <= C->ra_cap)
		return true;
	char *p = realloc(C->ra_mem, need);
	if (!p)
		return false;
	C->ra_mem = p;
	C->ra_cap = need;
	return true;
}

struct ra {
	int nins;
	struct operands *ops;	/* per IR instruction */
	int *def_dst, *def_src;	/* definition ids of the explicit defs, -1 none */
	int *use_dst, *use_src;	/* definition (web) each explicit use reads, -1 none */
	int *def_first;		/* first implicit definition id of instruction i */
	int *imp;		/* [k * NREG + r]: definition an implicit read of r reads, -1 */
	int ndefs;
	int nv;			/* virtual registers: IR_VREG0 .. IR_VREG0 + nv - 1 */
	bool split;		/* virtual registers are split into webs (by_web) */
	int nnames;		/* registers the reaching sets follow */
	int *parent;		/* union-find over definition ids */
	uint16_t *def_reg;
	bool *def_fixed;	/* an implicit operand: the register stays */
	int *web;		/* definition id -> web */
	int nwebs;
	uint16_t *orig;		/* the register (or virtual register) a web was written with */
	uint8_t *color;
	bool *fixed;
	uint64_t *adj;		/* nwebs x nwebs interference bits */
	int words;		/* uint64 words of one web set */
	int (*copies)[2];	/* the webs of each copy rd = rs */
	int ncopies;
};

static int find(struct ra *a, int d)
{
	while (a->parent[d] != d) {
		a->parent[d] = a->parent[a->parent[d]];
		d = a->parent[d];
	}
	return d;
}

/* Returns true when something changed. */
static bool unite(struct ra *a, int x, int y)
{
	x = find(a, x);
	y = find(a, y);
	if (x == y)
		return false;
	a->parent[y] = x;
	return true;
}


/* Registers as indexes of the reaching sets: r0..r9, then the virtual ones. */
static int name_of(int r)
{
	return r < NREG ? r : NREG + (r - IR_VREG0);
}

/* A virtual register is one web when the program is too big for reaching
** sets over all of them (split false): all its definitions are the one id
** 1 + (v - IR_VREG0), read by every use.  Otherwise it is split into webs
** like a BPF register, so that one the translator writes again afresh
** (`rx = rr` at the end of a sequence that used rx) may get another. */
static int vdef(const struct ra *a, int v)
{
	(void)a;
	return 1 + (v - IR_VREG0);
}

static bool by_web(const struct ra *a, int r)
{
	return is_virtual(r) && !a->split;
}

/* Number every definition: the entry's r1 is 0, the virtual registers
** 1 .. nv, then each instruction's explicit ones (of BPF registers) and
** implicit ones in order. */
static bool number_defs(struct ctx *C, const struct ir_func *f, struct ra *a)
{
	int n = a->nins = f->n;
	a->ops = take(C, sizeof(*a->ops) * (size_t)n, false);
	a->def_dst = take(C, sizeof(int) * (size_t)n, false);
	a->def_src = take(C, sizeof(int) * (size_t)n, false);
	a->use_dst = take(C, sizeof(int) * (size_t)n, false);
	a->use_src = take(C, sizeof(int) * (size_t)n, false);
	a->def_first = take(C, sizeof(int) * (size_t)n, false);
	a->imp = take(C, sizeof(int) * (size_t)n * NREG, false);
	int maxdefs = 1 + a->nv + n * (2 + NREG);
	a->parent = take(C, sizeof(int) * (size_t)maxdefs, false);
	a->def_reg = take(C, sizeof(uint16_t) * (size_t)maxdefs, false);
	a->def_fixed = take(C, (size_t)maxdefs, true);
	if (!a->ops || !a->def_dst || !a->def_src || !a->use_dst || !a->use_src || !a->def_first ||
	    !a->imp || !a->parent || !a->def_reg || !a->def_fixed)
		return false;
	int d = 0;
	a->def_reg[d] = 1;
	a->def_fixed[d++] = true;
	for (int v = 0; v < a->nv && !a->split; v++)
		a->def_reg[d++] = (uint16_t)(IR_VREG0 + v);
	for (int k = 0; k < n; k++) {
		const struct ir_ins *in = &C->ir[f->first + k];
		struct operands o = a->ops[k] = operands_of(in, BROKEN(C, call_clobbers));
		a->def_dst[k] = a->def_src[k] = a->use_dst[k] = a->use_src[k] = -1;
		for (unsigned m = o.uses; m; m &= m - 1) /* instructions no block holds read nothing */
			a->imp[k * NREG + __builtin_ctz(m)] = -1;
		if (o.def_dst && by_web(a, in->dst)) {
			a->def_dst[k] = vdef(a, in->dst);
		} else if (o.def_dst) {
			a->def_reg[d] = in->dst;
			a->def_dst[k] = d++;
		}
		if (o.def_src && by_web(a, in->src)) {
			a->def_src[k] = vdef(a, in->src);
		} else if (o.def_src) {
			a->def_reg[d] = in->src;
			a->def_src[k] = d++;
		}
		a->def_first[k] = d;
		for (unsigned m = o.defs; m; m &= m - 1) {
			a->def_reg[d] = (uint8_t)__builtin_ctz(m);
			a->def_fixed[d++] = true;
		}
	}
	a->ndefs = d;
	for (int i = 0; i < d; i++)
		a->parent[i] = i;
	return true;
}

/* One walk of block b from the definitions reaching its entry (cur):
** record what each use reads, join the webs, leave cur as what leaves b.
** Returns false for an explicit use nothing defines. */
static bool walk_block(struct ctx *C, const struct ir_func *f, struct ra *a,
		       const struct ir_block *b, int *cur, bool *changed)
{
	for (int i = b->first; i <= b->last; i++) {
		int k = i - f->first;
		const struct ir_ins *in = &C->ir[i];
		const struct operands *o = &a->ops[k];
		if (o->use_dst &&
		    (a->use_dst[k] = by_web(a, in->dst) ? vdef(a, in->dst) : cur[name_of(in->dst)]) < 0)
			return false;
		if (o->use_src &&
		    (a->use_src[k] = by_web(a, in->src) ? vdef(a, in->src) : cur[name_of(in->src)]) < 0)
			return false;
		for (unsigned m = o->uses; m; m &= m - 1) { /* implicit reads */
			int r = __builtin_ctz(m);
			a->imp[k * NREG + r] = cur[r];
		}
		if (o->rmw)
			*changed |= unite(a, a->use_dst[k], a->def_dst[k]);
		if (o->def_dst && !by_web(a, in->dst))
			cur[name_of(in->dst)] = a->def_dst[k];
		if (o->def_src && !by_web(a, in->src))
			cur[name_of(in->src)] = a->def_src[k];
		int d = a->def_first[k];
		for (unsigned m = o->defs; m; m &= m - 1)
			cur[__builtin_ctz(m)] = d++;
	}
	return true;
}

/* With no back edge the blocks' layout order visits every predecessor
** before its successors: one walk forward (webs) and one backward
** (liveness) are exact, and no fixed point is needed. */
static bool has_back_edge(const struct ctx *C)
{
	for (int k = 0; k < C->nblk; k++)
		if (C->blk[k].back[0] || C->blk[k].back[1])
			return true;
	return false;
}

/* Webs: definitions joined through the uses they reach, to a fixed point. */
static bool build_webs(struct ctx *C, const struct ir_func *f, struct ra *a)
{
	int nb = C->nblk, nn = a->nnames;
	int *out = take(C, sizeof(int) * (size_t)nb * (size_t)nn, false);
	int *cur = take(C, sizeof(int) * (size_t)nn, false);
	bool *done = take(C, (size_t)nb, true);
	int *pstart = take(C, sizeof(int) * ((size_t)nb + 1), true);
	int *pred = take(C, sizeof(int) * 2 * (size_t)nb, false);
	int *fill = take(C, sizeof(int) * (size_t)nb, false);
	if (!out || !cur || !done || !pstart || !pred || !fill)
		return false;
	for (int p = 0; p < nb; p++) /* predecessors: pred[pstart[k] .. pstart[k + 1]) */
		for (int e = 0; e < 2; e++)
			if (C->blk[p].succ[e] >= 0)
				pstart[C->blk[p].succ[e] + 1]++;
	for (int k = 0; k < nb; k++)
		pstart[k + 1] += pstart[k];
	memcpy(fill, pstart, sizeof(int) * (size_t)nb);
	for (int p = 0; p < nb; p++)
		for (int e = 0; e < 2; e++)
			if (C->blk[p].succ[e] >= 0)
				pred[fill[C->blk[p].succ[e]]++] = p;
	bool changed = true, ok = true, loops = has_back_edge(C);
	for (int round = 0; changed && ok; round++) {
		changed = false;
		for (int k = 0; k < nb && ok; k++) {
			for (int r = 0; r < nn; r++)
				cur[r] = -1;
			if (k == 0)
				cur[1] = 0; /* the context */
			for (int q = pstart[k]; q < pstart[k + 1]; q++) { /* what each predecessor leaves */
				int p = pred[q];
				if (!done[p])
					continue;
				const int *po = out + (size_t)p * (size_t)nn;
				for (int r = 0; r < nn; r++) {
					int u = po[r];
					if (u < 0)
						continue;
					if (cur[r] < 0)
						cur[r] = u;
					else
						changed |= unite(a, cur[r], u);
				}
			}
			ok = walk_block(C, f, a, &C->blk[k], cur, &changed);
			int *ko = out + (size_t)k * (size_t)nn;
			bool same = done[k] && !memcmp(ko, cur, sizeof(int) * (size_t)nn);
			memcpy(ko, cur, sizeof(int) * (size_t)nn);
			changed |= !same;
			done[k] = true;
		}
		if (!loops)
			break;
		if (round > 2 * nb + 4)
			ok = false; /* cannot happen: unions only merge */
	}
	return ok;
}

static void web_sets(struct ctx *C, struct ra *a)
{
	a->web = take(C, sizeof(int) * (size_t)a->ndefs, false);
	a->orig = take(C, sizeof(uint16_t) * MAX_WEBS, false);
	a->color = take(C, MAX_WEBS, false);
	a->fixed = take(C, MAX_WEBS, false);
	a->nwebs = 0;
	if (!a->web || !a->orig || !a->color || !a->fixed) {
		a->nwebs = MAX_WEBS + 1;
		return;
	}
	for (int d = 0; d < a->ndefs; d++)
		a->web[d] = -1;
	for (int d = 0; d < a->ndefs; d++) {
		int root = find(a, d);
		if (a->web[root] < 0) {
			if (a->nwebs == MAX_WEBS) {
				a->nwebs = MAX_WEBS + 1;
				return;
			}
			a->web[root] = a->nwebs;
			a->orig[a->nwebs] = a->def_reg[root];
			a->fixed[a->nwebs] = false;
			a->nwebs++;
		}
		int w = a->web[d] = a->web[root];
		if (a->def_fixed[d])
			a->fixed[w] = true;
	}
	for (int k = 0; k < a->nins; k++) /* what an implicit read reads stays */
		for (unsigned m = a->ops[k].uses; m; m &= m - 1) {
			int u = a->imp[k * NREG + __builtin_ctz(m)];
			if (u >= 0)
				a->fixed[a->web[u]] = true;
		}
	a->copies = take(C, sizeof(*a->copies) * (size_t)a->nins, false);
	a->ncopies = 0;
	if (!a->copies) {
		a->nwebs = MAX_WEBS + 1;
		return;
	}
	for (int k = 0; k < a->nins; k++)
		if (a->ops[k].copy && a->use_src[k] >= 0) {
			a->copies[a->ncopies][0] = a->web[a->def_dst[k]];
			a->copies[a->ncopies++][1] = a->web[a->use_src[k]];
		}
}

#define SET_HAS(s, w) ((s)[(w) >> 6] >> ((w) & 63) & 1)
#define SET_ADD(s, w) ((s)[(w) >> 6] |= 1ull << ((w) & 63))
#define SET_DEL(s, w) ((s)[(w) >> 6] &= ~(1ull << ((w) & 63)))

static void interfere(struct ra *a, int x, int y)
{
	if (x == y)
		return;
	SET_ADD(a->adj + (size_t)x * (size_t)a->words, y);
	SET_ADD(a->adj + (size_t)y * (size_t)a->words, x);
}

/* The webs an instruction defines and reads, into defs[] and uses[]. */
static void webs_at(const struct ra *a, int k, int *defs, int *nd, int *uses, int *nu)
{
	const struct operands *o = &a->ops[k];
	*nd = *nu = 0;
	if (a->def_dst[k] >= 0)
		defs[(*nd)++] = a->web[a->def_dst[k]];
	if (a->def_src[k] >= 0)
		defs[(*nd)++] = a->web[a->def_src[k]];
	int d = a->def_first[k];
	for (unsigned m = o->defs; m; m &= m - 1)
		defs[(*nd)++] = a->web[d++];
	if (a->use_dst[k] >= 0)
		uses[(*nu)++] = a->web[a->use_dst[k]];
	if (a->use_src[k] >= 0)
		uses[(*nu)++] = a->web[a->use_src[k]];
	for (unsigned m = o->uses; m; m &= m - 1) {
		int u = a->imp[k * NREG + __builtin_ctz(m)];
		if (u >= 0)
			uses[(*nu)++] = a->web[u];
	}
}

/* Walk b backwards from live (what is live at its end), adding the
** interferences when add is set; leaves live as what is live at its start. */
static void live_block(const struct ir_func *f, struct ra *a, const struct ir_block *b,
		       uint64_t *live, bool add)
{
	for (int i = b->last; i >= b->first; i--) {
		int k = i - f->first;
		int defs[2 + NREG], uses[2 + NREG], nd, nu;
		webs_at(a, k, defs, &nd, uses, &nu);
		int copy_src = a->ops[k].copy ? a->web[a->use_src[k]] : -1;
		for (int j = 0; j < nd; j++) {
			if (add)
				for (int word = 0; word < a->words; word++)
					for (uint64_t bits = live[word]; bits; bits &= bits - 1) {
						int w = word * 64 + __builtin_ctzll(bits);
						if (w != copy_src)
							interfere(a, defs[j], w);
					}
			SET_DEL(live, defs[j]);
		}
		for (int j = 0; j < nu; j++)
			SET_ADD(live, uses[j]);
	}
}

/* Liveness to a fixed point, then the interference graph. */
static bool build_interference(struct ctx *C, const struct ir_func *f, struct ra *a)
{
	int nb = C->nblk, W = a->words = (a->nwebs + 63) / 64;
	uint64_t *in = take(C, sizeof(uint64_t) * (size_t)nb * (size_t)W, true);
	uint64_t *live = take(C, sizeof(uint64_t) * (size_t)W, true);
	a->adj = take(C, sizeof(uint64_t) * (size_t)a->nwebs * (size_t)W, true);
	if (!in || !live || !a->adj)
		return false;
	bool loops = has_back_edge(C);
	for (int pass = loops ? 0 : 1; pass < 2; pass++) {
		bool changed = true;
		while (changed) {
			changed = false;
			for (int k = nb - 1; k >= 0; k--) {
				memset(live, 0, sizeof(uint64_t) * (size_t)W);
				for (int e = 0; e < 2; e++) {
					int s = C->blk[k].succ[e];
					if (s >= 0)
						for (int j = 0; j < W; j++)
							live[j] |= in[(size_t)s * (size_t)W + (size_t)j];
				}
				live_block(f, a, &C->blk[k], live, pass == 1);
				uint64_t *mine = in + (size_t)k * (size_t)W;
				if (memcmp(mine, live, sizeof(uint64_t) * (size_t)W)) {
					memcpy(mine, live, sizeof(uint64_t) * (size_t)W);
					changed = pass == 0;
				}
			}
		}
	}
	return true;
}

/* Colour web w, or (partner_only) only when a copy partner's register is
** free for it.  Returns whether it got one. */
static bool color_one(struct ra *a, int w, bool *done, uint16_t *want, bool partner_only)
{
	uint16_t taken = 0, avoid = 0;
	const uint64_t *row = a->adj + (size_t)w * (size_t)a->words;
	for (int word = 0; word < a->words; word++)
		for (uint64_t bits = row[word]; bits; bits &= bits - 1) {
			int v = word * 64 + __builtin_ctzll(bits);
			if (done[v])
				taken |= (uint16_t)(1u << a->color[v]);
			else
				avoid |= want[v];
		}
	int pick = -1;
	for (int c = 0; c < a->ncopies && pick < 0; c++) { /* a copy partner's */
		int d = a->copies[c][0], s = a->copies[c][1];
		int other = d == w ? s : s == w ? d : -1;
		if (other >= 0 && done[other] && !(taken >> a->color[other] & 1))
			pick = a->color[other];
	}
	if (partner_only && pick < 0)
		return false;
	for (int r = 0; r < NREG && pick < 0; r++) /* one further along its copies */
		if ((want[w] >> r & 1) && !(taken >> r & 1))
			pick = r;
	if (pick < 0 && a->orig[w] < NREG && !(taken >> a->orig[w] & 1))
		pick = a->orig[w];
	for (int r = 0; r < NREG && pick < 0; r++)
		if (!((taken | avoid) >> r & 1))
			pick = r;
	for (int r = 0; r < NREG && pick < 0; r++)
		if (!(taken >> r & 1))
			pick = r;
	if (pick < 0)
		return false;
	a->color[w] = (uint8_t)pick;
	done[w] = true;
	for (int c = 0; c < a->ncopies; c++) {
		int d = a->copies[c][0], s = a->copies[c][1];
		int other = d == w ? s : s == w ? d : -1;
		if (other >= 0)
			want[other] |= (uint16_t)(1u << pick);
	}
	return true;
}

/* Greedy colouring: fixed webs keep their register; the others, in order,
** take a copy partner's register, else one that no neighbour's copy partner
** holds (so that neighbour can share its partner's register later: a value
** computed early does not take the r0 the return value is copied to), else
** any free one.  A web of a BPF register tries its own register first. */
static bool color_webs(struct ctx *C, struct ra *a)
{
	bool *done = take(C, (size_t)a->nwebs, true);
	uint16_t *want = take(C, sizeof(uint16_t) * (size_t)a->nwebs, true); /* partners' colours */
	if (!done || !want)
		return false;
	for (int w = 0; w < a->nwebs; w++)
		if (a->fixed[w]) {
			a->color[w] = (uint8_t)a->orig[w];
			done[w] = true;
		}
	for (int w = 0; w < a->nwebs; w++)
		if (done[w])
			want[w] = (uint16_t)(1u << a->color[w]);
	/* along chains of copies (r0 = rx; rx = rr: rr wants r0 too), a few links deep */
	for (int round = 0; round < 4; round++)
		for (int c = 0; c < a->ncopies; c++)
			for (int e = 0; e < 2; e++) {
				int x = a->copies[c][e], y = a->copies[c][!e];
				if (!done[y])
					want[y] |= want[x];
			}
	/* first the webs a coloured copy partner can share with, as long as that
	** makes more of them: each is one copy less */
	for (bool more = true; more;) {
		more = false;
		for (int w = 0; w < a->nwebs; w++)
			if (!done[w] && color_one(a, w, done, want, true))
				more = true;
	}
	for (int w = 0; w < a->nwebs; w++)
		if (!done[w] && !color_one(a, w, done, want, false))
			return false;
	return true;
}

/* Rename every explicit operand; a copy into its own register goes. */
static void rewrite(struct ctx *C, const struct ir_func *f, struct ra *a)
{
	for (int k = 0; k < a->nins; k++) {
		struct ir_ins *in = &C->ir[f->first + k];
		if (a->def_dst[k] >= 0)
			in->dst = a->color[a->web[a->def_dst[k]]];
		else if (a->use_dst[k] >= 0)
			in->dst = a->color[a->web[a->use_dst[k]]];
		if (a->def_src[k] >= 0)
			in->src = a->color[a->web[a->def_src[k]]];
		else if (a->use_src[k] >= 0)
			in->src = a->color[a->web[a->use_src[k]]];
		if (a->ops[k].copy && in->dst == in->src)
			in->kind = IR_NOP;
	}
}

void regalloc(struct ctx *C, const struct ir_func *f)
{
	if (f->n == 0)
		return;
	ir_cfg(C, f);
	struct ra a = {.nv = C->nvregs - IR_VREG0};
	a.split = split_webs(C->nblk, a.nv);
	a.nnames = NREG + (a.split ? a.nv : 0);
	bool ok = ra_reserve(C, f->n, C->nblk, a.nv) && number_defs(C, f, &a) && build_webs(C, f, &a);
	if (ok) {
		web_sets(C, &a);
		ok = a.nwebs <= MAX_WEBS && build_interference(C, f, &a) && color_webs(C, &a);
	}
	if (ok)
		rewrite(C, f, &a);
	else if (a.nv > 0) /* virtual registers have no assignment to fall back on */
		bpfc_fail(C, "internal: register allocation found no register for a value");
}
