/*
** Register allocation over the IR.  Translation names every value with a
** virtual register of its own (IR_VREG0 and up, as many as it likes) and
** uses BPF registers only where the ISA wants one (a call's arguments and
** result, r6 for a classic load, r0 at exit, r1 at entry).  This pass
** gives every value a BPF register, or a stack slot where none is left,
** so that no virtual register reaches encode.
**
** The invariants it lives by:
**
**  1. A web is the set of definitions and uses of one register that reach
**     each other (a use joins every definition that reaches it).  An
**     instruction that reads and writes one operand (`r1 += 2`: BPF is
**     two-address; an atomic fetch's src) keeps both in one web.  So a web
**     names one value, and any register may hold it as long as no web it
**     interferes with has the same.  Virtual registers are split into webs
**     like BPF ones, so one the translator writes afresh may get another
**     register; in a function too big for reaching sets over all of them
**     (split_webs) a virtual register is one web.  At a join only the
**     registers live there unite the definitions each way brings: what a
**     dead register holds is no value (names_live_in).
**  2. The ISA's implicit operands are fixed: a call reads r1-r5 and writes
**     r0-r5 (its clobbers are definitions nobody reads), LD_ABS/LD_IND read
**     r6 and write r0-r5, exit reads r0, the program starts with the context
**     in r1.  A web with such an operand keeps its register (precoloured)
**     and is never spilled; r10 is never renamed.  The fixed webs of one
**     register are one node (merge_fixed): they say the same to the others.
**  3. Two webs interfere when one is defined where the other is live, except
**     for a copy `rd = rs`, whose two sides may share a register (or a
**     stack slot).
**  4. The colouring is greedy.  First every web a coloured copy partner's
**     register is free for takes it (each is a copy less); then the rest in
**     order (virtual registers' webs first, as they live longer; a BPF
**     register's web then takes a partner's register) take one further
**     along their chains of copies, else their own
**     (a BPF register's web), else one no uncoloured neighbour wants for
**     its own copies, else any.
**  5. A web that finds no register is spilled: of it and its coloured
**     neighbours whose register only they hold, the one with the most
**     interferences per instruction that names it (a neighbour then leaves
**     the graph and the web tries again).  Never a fixed web, never one
**     that an earlier round made (a tmp below: spilling it again would only
**     make another).
**  6. A spilled web gets an 8-byte slot at fp - off (stack_alloc); spilled
**     webs that do not interfere share one, a copy partner's first.  Each
**     instruction naming the web gets a fresh virtual register tmp in its
**     place: `tmp = *(u64 *)(r10 - off)` right before it when it reads the
**     web (a conditional jump too), `*(u64 *)(r10 - off) = tmp` right after
**     it when it writes it (a jump writes nothing, so that is in its block);
**     one tmp for both in `r1 += 2`.  A copy from a spilled web becomes the
**     load itself, a copy to one the store, and a load right after the store
**     to its slot a copy.  8-byte aligned spills keep what the verifier
**     knows of a scalar or a pointer.  Inserted instructions take the
**     bytecode pc of the one they serve; labels are instructions, so no
**     jump needs fixing.  Then the blocks, webs and interferences are built
**     again and coloured again, for at most MAX_ROUNDS rounds: each spills a
**     web of the previous one, and a tmp lives only from its load or to its
**     store, so it ends unless too many values are live at one instruction
**     (a compile error).
**  7. BPFC_REGS=k (read at each compile; a debug knob to exercise spilling)
**     leaves the webs that are not fixed only the first k of r6, r7, r8, r9,
**     r0, r1, ..., r5.  BPFC_RA_DEBUG=1 prints the webs, their registers,
**     interferences and copies on stderr.
**
** Back edges are handled by iterating the reaching and liveness sets to a
** fixed point.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

#define NREG 10		  /* r0..r9: r10 is the frame pointer */
#define MAX_WEBS 8192	  /* values of one function: more is a compile error */
#define CALLER_SAVED 0x3f /* r0..r5: what a call or LD_ABS writes */
#define MAX_ROUNDS 16	  /* of spilling and colouring again */

/* BPFC_REGS=k: the registers webs that are not fixed may have, in order
** (0: all of r0..r9, in that order). */
static int regs_knob(void)
{
	const char *env = getenv("BPFC_REGS");
	int k = env ? atoi(env) : 0;
	return k > 0 && k <= NREG ? k : 0;
}

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
	case BPF_FUNC_skb_pull_data:
	case BPF_FUNC_redirect:
	case BPF_FUNC_xdp_adjust_head:
	case BPF_FUNC_xdp_adjust_tail:
		return 2;
	case BPF_FUNC_probe_read:
	case BPF_FUNC_probe_read_user:
	case BPF_FUNC_probe_read_kernel:
	case BPF_FUNC_probe_read_user_str:
	case BPF_FUNC_probe_read_kernel_str:
	case BPF_FUNC_get_stackid:
	case BPF_FUNC_ringbuf_reserve:
	case BPF_FUNC_clone_redirect:
	case BPF_FUNC_tail_call:
	case BPF_FUNC_redirect_map:
		return 3;
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_skb_load_bytes:
	case BPF_FUNC_ringbuf_output:
	case BPF_FUNC_loop:
	case BPF_FUNC_skb_adjust_room:
		return 4;
	default: /* trace_printk, perf_event_output, ... */
		return 5;
	}
}



static bool is_virtual(int r)
{
	return r >= IR_VREG0;
}

/* A call's operands (ir_operands, core.h, has the rest inline): the
** arguments its helper reads, the registers it clobbers. */
struct operands ir_call_operands(const struct ir_ins *in, bool broken_clobbers)
{
	struct operands o = {0};
	bool counted = in->helper == IR_SUBPROG || in->helper == IR_KFUNC; /* off: how many */
	o.uses = (uint16_t)(((1u << (counted ? in->off : call_args((int)in->imm))) - 1) << 1);
	o.defs = broken_clobbers ? 1u : 0x3fu; /* r0..r5 */
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
	size_t maxdefs = MAX_SUB_ARGS + (size_t)nv + (size_t)n * (2 + NREG);
	size_t mw = maxdefs < MAX_WEBS ? maxdefs : MAX_WEBS, words = (mw + 63) / 64;
	size_t names = NREG + (split_webs(nb, nv) ? (size_t)nv : 0);
	size_t need = 64 * 16 + (size_t)n * (sizeof(struct operands) + 6 * sizeof(int) + NREG * sizeof(int) +
					      2 * sizeof(int)) +
		      maxdefs * (2 * sizeof(int) + 2) + (size_t)(nb + 1) * (names * sizeof(int) + 1 + 4 * sizeof(int) + 16) +
		      5 * mw + mw * words * 8 + ((size_t)nb + 1) * words * 8 + mw +
		      mw * (2 + 6 * sizeof(int)) /* spilling */ + maxdefs /* merge_fixed */;
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
	int nentry;		/* r1 .. r(nentry) hold a value at entry: definitions 0 .. nentry - 1 */
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
	/* colouring and spilling */
	const uint8_t *order;	/* the registers a web that is not fixed may have */
	int nallowed;		/* ... the first nallowed of order */
	int first_tmp;		/* virtual registers from here on are tmps of spills */
	bool *spilled;
	int nspilled;
	int *deg, *occ;		/* interferences; instructions naming the web */
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


#define SET_HAS(s, w) ((s)[(w) >> 6] >> ((w) & 63) & 1)
#define SET_ADD(s, w) ((s)[(w) >> 6] |= 1ull << ((w) & 63))
#define SET_DEL(s, w) ((s)[(w) >> 6] &= ~(1ull << ((w) & 63)))

/* Registers as indexes of the reaching sets: r0..r9, then the virtual ones. */
static int name_of(int r)
{
	return r < NREG ? r : NREG + (r - IR_VREG0);
}

/* A virtual register is one web when the program is too big for reaching
** sets over all of them (split false): all its definitions are the one id
** nentry + (v - IR_VREG0), read by every use.  Otherwise it is split into webs
** like a BPF register, so that one the translator writes again afresh
** (`rx = rr` at the end of a sequence that used rx) may get another. */
static int vdef(const struct ra *a, int v)
{
	return a->nentry + (v - IR_VREG0);
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
	int maxdefs = MAX_SUB_ARGS + a->nv + n * (2 + NREG);
	a->parent = take(C, sizeof(int) * (size_t)maxdefs, false);
	a->def_reg = take(C, sizeof(uint16_t) * (size_t)maxdefs, false);
	a->def_fixed = take(C, (size_t)maxdefs, true);
	if (!a->ops || !a->def_dst || !a->def_src || !a->use_dst || !a->use_src || !a->def_first ||
	    !a->imp || !a->parent || !a->def_reg || !a->def_fixed)
		return false;
	int d = 0;
	for (; d < a->nentry; d++) { /* the context, or a subprogram's arguments */
		a->def_reg[d] = (uint16_t)(1 + d);
		a->def_fixed[d] = true;
	}
	for (int v = 0; v < a->nv && !a->split; v++)
		a->def_reg[d++] = (uint16_t)(IR_VREG0 + v);
	for (int k = 0; k < n; k++) {
		const struct ir_ins *in = &C->ir[f->first + k];
		struct operands o = a->ops[k] = ir_operands(in, BROKEN(C, call_clobbers));
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
		if (o->rmw_src)
			*changed |= unite(a, a->use_src[k], a->def_src[k]);
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

/* Which names (name_of) are live at each block's entry: words per block in
** live_in.  A join unites the definitions of only these: a register dead
** there (each way into `r0 = 65535; exit` left some value in r0) is not one
** value, and uniting would make the two ways' values interfere needlessly. */
static uint64_t *names_live_in(struct ctx *C, const struct ir_func *f, struct ra *a, int words)
{
	int nb = C->nblk;
	uint64_t *in = take(C, sizeof(uint64_t) * (size_t)nb * (size_t)words, true);
	uint64_t *live = take(C, sizeof(uint64_t) * (size_t)words, false);
	if (!in || !live)
		return NULL;
	for (bool changed = true; changed;) {
		changed = false;
		for (int k = nb - 1; k >= 0; k--) {
			memset(live, 0, sizeof(uint64_t) * (size_t)words);
			for (int e = 0; e < 2; e++) {
				int t = C->blk[k].succ[e];
				if (t >= 0)
					for (int w = 0; w < words; w++)
						live[w] |= in[(size_t)t * (size_t)words + (size_t)w];
			}
			for (int i = C->blk[k].last; i >= C->blk[k].first; i--) {
				const struct ir_ins *in_ = &C->ir[i];
				const struct operands *o = &a->ops[i - f->first];
				int n;
				if (o->def_dst && (n = name_of(in_->dst)) < a->nnames)
					SET_DEL(live, n);
				if (o->def_src && (n = name_of(in_->src)) < a->nnames)
					SET_DEL(live, n);
				for (unsigned m = o->defs; m; m &= m - 1)
					SET_DEL(live, __builtin_ctz(m));
				if (o->use_dst && (n = name_of(in_->dst)) < a->nnames)
					SET_ADD(live, n);
				if (o->use_src && (n = name_of(in_->src)) < a->nnames)
					SET_ADD(live, n);
				for (unsigned m = o->uses; m; m &= m - 1)
					SET_ADD(live, __builtin_ctz(m));
			}
			uint64_t *mine = in + (size_t)k * (size_t)words;
			if (memcmp(mine, live, sizeof(uint64_t) * (size_t)words)) {
				memcpy(mine, live, sizeof(uint64_t) * (size_t)words);
				changed = true;
			}
		}
	}
	return in;
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
	int words = (nn + 63) / 64;
	const uint64_t *live_in = names_live_in(C, f, a, words);
	if (!live_in)
		return false;
	bool changed = true, ok = true, loops = has_back_edge(C);
	for (int round = 0; changed && ok; round++) {
		changed = false;
		for (int k = 0; k < nb && ok; k++) {
			for (int r = 0; r < nn; r++)
				cur[r] = -1;
			for (int r = 0; k == 0 && r < a->nentry; r++)
				cur[1 + r] = r; /* the context, or the arguments */
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
					else if (SET_HAS(live_in + (size_t)k * (size_t)words, r))
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

/* All the fixed webs of one BPF register become one: they all keep that
** register, and a web that interferes with any of them cannot have it, so
** one node says as much as many (a program with a call or a classic load
** every few instructions has six clobbers each time). */
static bool merge_fixed(struct ctx *C, struct ra *a)
{
	bool *fixed = take(C, (size_t)a->ndefs, true);
	if (!fixed)
		return false;
	for (int d = 0; d < a->ndefs; d++)
		if (a->def_fixed[d])
			fixed[find(a, d)] = true;
	for (int k = 0; k < a->nins; k++)
		for (unsigned m = a->ops[k].uses; m; m &= m - 1) {
			int u = a->imp[k * NREG + __builtin_ctz(m)];
			if (u >= 0)
				fixed[find(a, u)] = true;
		}
	int canon[NREG];
	for (int r = 0; r < NREG; r++)
		canon[r] = -1;
	for (int d = 0; d < a->ndefs; d++) {
		int root = find(a, d);
		if (root != d || !fixed[d] || a->def_reg[d] >= NREG)
			continue;
		int r = a->def_reg[d];
		if (canon[r] < 0)
			canon[r] = d;
		else
			unite(a, canon[r], d);
	}
	return true;
}

static void web_sets(struct ctx *C, struct ra *a)
{
	if (!merge_fixed(C, a)) {
		a->nwebs = MAX_WEBS + 1;
		return;
	}
	a->web = take(C, sizeof(int) * (size_t)a->ndefs, false);
	int mw = a->ndefs < MAX_WEBS ? a->ndefs : MAX_WEBS; /* a web has a definition */
	a->orig = take(C, sizeof(uint16_t) * (size_t)mw, false);
	a->color = take(C, (size_t)mw, false);
	a->fixed = take(C, (size_t)mw, false);
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
			if (a->nwebs == mw) {
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

/* The web of instruction k's dst or src operand (read, written or both:
** one web, invariant 1), -1 none. */
static int field_web(const struct ra *a, const int *def, const int *use, int k)
{
	int d = def[k] >= 0 ? def[k] : use[k];
	return d >= 0 ? a->web[d] : -1;
}

/* What spilling weighs: interferences, and the instructions naming each
** web (each would get a load or a store). */
static bool spill_costs(struct ctx *C, struct ra *a)
{
	a->spilled = take(C, (size_t)a->nwebs, true);
	a->deg = take(C, sizeof(int) * (size_t)a->nwebs, true);
	a->occ = take(C, sizeof(int) * (size_t)a->nwebs, true);
	if (!a->spilled || !a->deg || !a->occ)
		return false;
	for (int w = 0; w < a->nwebs; w++)
		for (int word = 0; word < a->words; word++)
			a->deg[w] += __builtin_popcountll(a->adj[(size_t)w * (size_t)a->words + (size_t)word]);
	for (int k = 0; k < a->nins; k++) {
		int wd = field_web(a, a->def_dst, a->use_dst, k), ws = field_web(a, a->def_src, a->use_src, k);
		if (wd >= 0)
			a->occ[wd]++;
		if (ws >= 0 && ws != wd)
			a->occ[ws]++;
	}
	return true;
}

static bool spillable(const struct ra *a, int w)
{
	return !a->fixed[w] && a->orig[w] < a->first_tmp && !a->spilled[w];
}

/* Is x the better one to spill than y (-1 none): more interferences per
** instruction that names it (each costs a load or a store)? */
static bool better(const struct ra *a, int x, int y)
{
	return y < 0 || (int64_t)a->deg[x] * a->occ[y] > (int64_t)a->deg[y] * a->occ[x];
}

/* Web w found no register: the web to spill, w or a coloured neighbour. A
** neighbour whose register no other neighbour has frees it for w; failing
** that, any spillable neighbour (w then tries again).  -1: none. */
static int pick_spill(const struct ra *a, int w, const bool *done)
{
	const uint64_t *row = a->adj + (size_t)w * (size_t)a->words;
	int holders[NREG] = {0};
	for (int word = 0; word < a->words; word++)
		for (uint64_t bits = row[word]; bits; bits &= bits - 1) {
			int v = word * 64 + __builtin_ctzll(bits);
			if (done[v])
				holders[a->color[v]]++;
		}
	int best = spillable(a, w) ? w : -1, any = -1;
	for (int word = 0; word < a->words; word++)
		for (uint64_t bits = row[word]; bits; bits &= bits - 1) {
			int v = word * 64 + __builtin_ctzll(bits);
			if (!done[v] || !spillable(a, v))
				continue;
			if (holders[a->color[v]] == 1 && better(a, v, best))
				best = v;
			if (better(a, v, any))
				any = v;
		}
	return best >= 0 ? best : any;
}

/* No web is left to spill where web w is live: say where. */
__attribute__((noreturn)) static void too_many_live(struct ctx *C, const struct ir_func *f,
						    const struct ra *a, int w)
{
	for (int k = 0; k < a->nins; k++)
		if (field_web(a, a->def_dst, a->use_dst, k) == w || field_web(a, a->def_src, a->use_src, k) == w) {
			C->pc = C->ir[f->first + k].pc;
			break;
		}
	bpfc_fail(C, "too many values are live at once: %d register%s cannot hold them, even with the "
		     "others spilled to the stack", a->nallowed, a->nallowed == 1 ? "" : "s");
}

/* The register for web w, -1 none: a coloured copy partner's (partner_only:
** that or none), else one further along its chain of copies, else the web's
** own (a BPF register's web), else one no uncoloured neighbour wants (so
** that it can share its partner's later: a value computed early does not
** take the r0 the result is copied to), else any allowed one. */
static int pick_color(const struct ra *a, int w, const bool *done, const uint16_t *want,
		      uint16_t allowed, bool partner_only)
{
	uint16_t taken = (uint16_t)~allowed, avoid = 0;
	const uint64_t *row = a->adj + (size_t)w * (size_t)a->words;
	for (int word = 0; word < a->words; word++)
		for (uint64_t bits = row[word]; bits; bits &= bits - 1) {
			int v = word * 64 + __builtin_ctzll(bits);
			if (done[v])
				taken |= (uint16_t)(1u << a->color[v]);
			else
				avoid |= want[v];
		}
	for (int c = 0; c < a->ncopies; c++) {
		int d = a->copies[c][0], s = a->copies[c][1];
		int other = d == w ? s : s == w ? d : -1;
		if (other >= 0 && done[other] && !(taken >> a->color[other] & 1))
			return a->color[other];
	}
	if (partner_only)
		return -1;
	for (int i = 0; i < a->nallowed; i++)
		if ((want[w] >> a->order[i] & 1) && !(taken >> a->order[i] & 1))
			return a->order[i];
	if (a->orig[w] < NREG && !(taken >> a->orig[w] & 1))
		return a->orig[w];
	for (int i = 0; i < a->nallowed; i++)
		if (!((taken | avoid) >> a->order[i] & 1))
			return a->order[i];
	for (int i = 0; i < a->nallowed; i++)
		if (!(taken >> a->order[i] & 1))
			return a->order[i];
	return -1;
}

static void set_color(struct ra *a, int w, int c, bool *done, uint16_t *want)
{
	a->color[w] = (uint8_t)c;
	done[w] = true;
	for (int k = 0; k < a->ncopies; k++) {
		int d = a->copies[k][0], s = a->copies[k][1];
		int other = d == w ? s : s == w ? d : -1;
		if (other >= 0)
			want[other] |= (uint16_t)(1u << c);
	}
}

static void ra_debug(const struct ra *a);

/* Greedy colouring (invariant 4): fixed webs keep their register; then the
** webs a coloured copy partner's register is free for, as long as that makes
** more of them (each is one copy less); then the rest in order, by
** pick_color, spilling (invariant 5) where none is left. */
static bool color_webs(struct ctx *C, const struct ir_func *f, struct ra *a)
{
	bool *done = take(C, (size_t)a->nwebs, true);
	uint16_t *want = take(C, sizeof(uint16_t) * (size_t)a->nwebs, true); /* partners' registers */
	if (!done || !want)
		return false;
	uint16_t allowed = 0;
	for (int i = 0; i < a->nallowed; i++)
		allowed |= (uint16_t)(1u << a->order[i]);
	for (int w = 0; w < a->nwebs; w++)
		if (a->fixed[w]) {
			a->color[w] = (uint8_t)a->orig[w];
			done[w] = true;
			want[w] = (uint16_t)(1u << a->orig[w]);
		}
	/* along chains of copies (r0 = rx; rx = rr: rr wants r0 too), a few links deep */
	for (int round = 0; round < 4; round++)
		for (int c = 0; c < a->ncopies; c++)
			for (int e = 0; e < 2; e++) {
				int x = a->copies[c][e], y = a->copies[c][!e];
				if (!done[y])
					want[y] |= want[x];
			}
	for (bool more = true; more;) {
		more = false;
		for (int w = 0; w < a->nwebs; w++) {
			int c = done[w] || a->spilled[w] ? -1 : pick_color(a, w, done, want, allowed, true);
			if (c >= 0) {
				set_color(a, w, c, done, want);
				more = true;
			}
		}
	}
	for (int k = 0; k < 2 * a->nwebs; k++) {
		/* the values of virtual registers first (they live longer than a
		** BPF register's, which then takes a partner's register) */
		int w = k % a->nwebs;
		if ((k < a->nwebs) != (a->orig[w] >= NREG))
			continue;
		while (!done[w] && !a->spilled[w]) {
			int pick = pick_color(a, w, done, want, allowed, false);
			if (pick >= 0) {
				set_color(a, w, pick, done, want);
				continue;
			}
			int v = pick_spill(a, w, done);
			if (v < 0)
				too_many_live(C, f, a, w);
			a->spilled[v] = true;
			a->nspilled++;
			done[v] = false; /* a neighbour's register is free again */
		}
	}
	if (getenv("BPFC_RA_DEBUG"))
		ra_debug(a);
	return true;
}

static void ra_debug(const struct ra *a)
{
	for (int w = 0; w < a->nwebs; w++) {
		fprintf(stderr, "web %d orig %d fixed %d color %d adj:", w, a->orig[w], a->fixed[w], a->color[w]);
		const uint64_t *row = a->adj + (size_t)w * (size_t)a->words;
		for (int v = 0; v < a->nwebs; v++)
			if (row[v >> 6] >> (v & 63) & 1)
				fprintf(stderr, " %d", v);
		fprintf(stderr, "\n");
	}
	for (int c = 0; c < a->ncopies; c++)
		fprintf(stderr, "copy %d <- %d\n", a->copies[c][0], a->copies[c][1]);
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

/* Slots for the spilled webs: one a copy partner has, else the first one
** no interfering web has, else a new one.  slot[w]: the offset below fp. */
static bool assign_slots(struct ctx *C, struct ra *a, int *slot)
{
	int *offs = take(C, sizeof(int) * (size_t)a->nspilled, false);
	int *busy = take(C, sizeof(int) * (size_t)a->nspilled, true);
	if (!offs || !busy)
		return false;
	int nslots = 0;
	for (int w = 0; w < a->nwebs; w++) {
		slot[w] = -1; /* slot index first, offset at the end */
		if (!a->spilled[w])
			continue;
		const uint64_t *row = a->adj + (size_t)w * (size_t)a->words;
		for (int v = 0; v < w; v++) /* the slots of interfering webs, stamped w + 1 */
			if (slot[v] >= 0 && SET_HAS(row, v))
				busy[slot[v]] = w + 1;
		int s = -1;
		for (int c = 0; c < a->ncopies && s < 0; c++) {
			int d = a->copies[c][0], r = a->copies[c][1];
			int other = d == w ? r : r == w ? d : -1;
			if (other >= 0 && other < w && slot[other] >= 0 && busy[slot[other]] != w + 1)
				s = slot[other];
		}
		for (int i = 0; i < nslots && s < 0; i++)
			if (busy[i] != w + 1)
				s = i;
		if (s < 0) {
			s = nslots++;
			offs[s] = stack_alloc(C, 8);
		}
		slot[w] = s;
	}
	for (int w = 0; w < a->nwebs; w++)
		if (slot[w] >= 0)
			slot[w] = offs[slot[w]];
	return true;
}

static struct ir_ins spill_ins(uint8_t code, int dst, int src, int off, uint16_t pc)
{
	return (struct ir_ins){.kind = IR_OP, .code = code, .dst = (uint16_t)dst, .src = (uint16_t)src,
			       .off = (int16_t)-off, .helper = -1, .pc = pc, .label = -1};
}

static int new_tmp(struct ctx *C)
{
	if (C->nvregs >= UINT16_MAX)
		bpfc_fail(C, "program is too long: too many values for register allocation");
	return C->nvregs++;
}

#define LOAD_DW (BPF_LDX | BPF_MEM | BPF_DW)
#define STORE_DW (BPF_STX | BPF_MEM | BPF_DW)

/* What instruction k becomes with the spilled webs' slots (slot[w] > 0),
** into out[] (at least 1, for insert_spills' backward fill: a copy that
** goes is an IR_NOP; at most 5); returns how many.  count: only count, no
** tmps.  Under BROKEN(spill_reload) a reload reads the slot next to its
** own (8 bytes up: another value's, or none). */
static int spill_one(struct ctx *C, const struct ra *a, const int *slot, int k, const struct ir_ins *in,
		     struct ir_ins *out, bool count)
{
	int wd = field_web(a, a->def_dst, a->use_dst, k), ws = field_web(a, a->def_src, a->use_src, k);
	int sd = wd >= 0 ? slot[wd] : -1, ss = ws >= 0 ? slot[ws] : -1;
	int wrong = BROKEN(C, spill_reload) ? 8 : 0;
	int n = 0;
	out[0] = *in;
	if (sd < 0 && ss < 0)
		return 1;
	if (a->ops[k].copy && a->use_src[k] >= 0) { /* rd = rs: the load or the store is the copy */
		out[0].kind = IR_NOP; /* the two sides share the slot */
		if (sd > 0 && ss > 0 && sd == ss)
			return 1;
		int t = sd > 0 && ss > 0 ? (count ? 0 : new_tmp(C)) : ss > 0 ? in->dst : in->src;
		if (ss > 0)
			out[n++] = spill_ins(LOAD_DW, t, BPF_REG_10, ss - wrong, in->pc);
		if (sd > 0)
			out[n++] = spill_ins(STORE_DW, BPF_REG_10, t, sd, in->pc);
		return n;
	}
	/* one tmp per spilled web: dst's, and src's unless it is the same web */
	int td = sd > 0 ? (count ? 0 : new_tmp(C)) : -1;
	int ts = ss > 0 ? (ws == wd ? td : count ? 0 : new_tmp(C)) : -1;
	bool load_d = sd > 0 && (a->use_dst[k] >= 0 || (ws == wd && a->use_src[k] >= 0));
	bool store_d = sd > 0 && (a->def_dst[k] >= 0 || (ws == wd && a->def_src[k] >= 0));
	bool load_s = ss > 0 && ws != wd && a->use_src[k] >= 0;
	bool store_s = ss > 0 && ws != wd && a->def_src[k] >= 0;
	if (load_d)
		out[n++] = spill_ins(LOAD_DW, td, BPF_REG_10, sd - wrong, in->pc);
	if (load_s)
		out[n++] = spill_ins(LOAD_DW, ts, BPF_REG_10, ss - wrong, in->pc);
	struct ir_ins *self = &out[n++];
	*self = *in;
	if (sd > 0)
		self->dst = (uint16_t)td;
	if (ss > 0)
		self->src = (uint16_t)ts;
	if (store_d)
		out[n++] = spill_ins(STORE_DW, BPF_REG_10, td, sd, in->pc);
	if (store_s)
		out[n++] = spill_ins(STORE_DW, BPF_REG_10, ts, ss, in->pc);
	return n;
}

/* Rewrite f with the spilled webs' loads and stores (invariant 6): the
** instructions after f move up, f grows. */
static void insert_spills(struct ctx *C, struct ir_func *f, const struct ra *a, const int *slot)
{
	struct ir_ins buf[5];
	int grow = 0;
	for (int k = 0; k < a->nins; k++)
		grow += spill_one(C, a, slot, k, &C->ir[f->first + k], buf, true) - 1;
	if (C->nir + grow > MAX_IR)
		bpfc_fail(C, "program is too long (more than %d instructions with its spills)", MAX_INSNS);
	int end = f->first + f->n;
	memmove(&C->ir[end + grow], &C->ir[end], sizeof(C->ir[0]) * (size_t)(C->nir - end));
	int out = end + grow; /* filled backwards: it never passes the instruction being read */
	for (int k = a->nins - 1; k >= 0; k--) {
		struct ir_ins in = C->ir[f->first + k];
		int n = spill_one(C, a, slot, k, &in, buf, false);
		while (n > 0)
			C->ir[--out] = buf[--n];
	}
	if (out != f->first)
		bpfc_fail(C, "internal: spill code miscounted");
	/* a reload right after the store to the same slot copies the register
	** stored instead (a copy the next colouring can make disappear) */
	for (int i = f->first; i + 1 < end + grow; i++) {
		struct ir_ins *st = &C->ir[i], *ld = &C->ir[i + 1];
		if (st->kind == IR_OP && st->code == STORE_DW && st->dst == BPF_REG_10 && ld->kind == IR_OP &&
		    ld->code == LOAD_DW && ld->src == BPF_REG_10 && ld->off == st->off) {
			ld->code = BPF_ALU64 | BPF_MOV | BPF_X;
			ld->src = st->src;
			ld->off = 0;
		}
	}
	f->n += grow;
	C->nir += grow;
	for (struct ir_func *g = f + 1; g < C->funcs + C->nfuncs; g++)
		g->first += grow;
}

void regalloc(struct ctx *C, const struct ir_func *cf)
{
	static const uint8_t all[NREG] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	static const uint8_t knob_order[NREG] = {6, 7, 8, 9, 0, 1, 2, 3, 4, 5};
	struct ir_func *f = &C->funcs[cf - C->funcs];
	if (f->n == 0)
		return;
	int knob = regs_knob(), first_tmp = C->nvregs;
	for (int round = 0;; round++) {
		ir_cfg(C, f);
		struct ra a = {.nv = C->nvregs - IR_VREG0, .nentry = f->nargs > 1 ? f->nargs : 1,
			       .order = knob ? knob_order : all,
			       .nallowed = knob ? knob : NREG, .first_tmp = first_tmp};
		a.split = split_webs(C->nblk, a.nv);
		a.nnames = NREG + (a.split ? a.nv : 0);
		bool ok = ra_reserve(C, f->n, C->nblk, a.nv) && number_defs(C, f, &a) && build_webs(C, f, &a);
		if (ok) {
			web_sets(C, &a);
			ok = a.nwebs <= MAX_WEBS && build_interference(C, f, &a) && spill_costs(C, &a) &&
			     color_webs(C, f, &a);
		}
		if (!ok && a.nwebs > MAX_WEBS)
			bpfc_fail(C, "program is too long: more than %d values for register allocation", MAX_WEBS);
		if (!ok)
			bpfc_fail(C, "internal: register allocation found no register for a value");
		if (a.nspilled == 0) {
			rewrite(C, f, &a);
			return;
		}
		if (round == MAX_ROUNDS)
			bpfc_fail(C, "too many values are live at once: no registers for them after %d rounds "
				     "of spilling", MAX_ROUNDS);
		int *slot = take(C, sizeof(int) * (size_t)a.nwebs, false);
		if (!slot || !assign_slots(C, &a, slot))
			bpfc_fail(C, "internal: register allocation ran out of memory");
		insert_spills(C, f, &a, slot);
	}
}
