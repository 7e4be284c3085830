/*
** Direct packet access for tc and XDP programs.  Translation reads the
** packet with the classic loads (LD_ABS, LD_IND: mem.c's pk_load), which
** every socket program type has and whose rule the semantics table takes:
** a read past the packet's end makes the program return 0.  The kernel runs
** each classic load as a helper call.  In a tc or XDP program this pass, run
** before register allocation on the program's own function, turns them into
** loads from the packet's data pointer, checked against data_end:
**
**   DATA = ctx->data; DATA_END = ctx->data_end      once, at entry
**   t = DATA + K; if t > DATA_END goto RET0          a check covering K bytes
**   r0 = *(u16 *)(DATA + 12); r0 = be16 r0           what LD_ABS [12] was
**
** Keeping the rule exact:
**
** - Coverage.  A check covers every later read below its K along every
**   path to it (the minimum over a block's predecessors; a loop header
**   starts at 0), so a read it covers needs no check of its own.
** - Widening.  A check covers as far as the reads of its block before
**   anything with an effect (a call, a store that is not to the stack) and,
**   when the block ends first, as far as every way on is sure to read before
**   an effect, a way that returns 0 first counting as sure (anticipate).  If
**   the wider check fails, the program on that packet would have failed a
**   read or returned 0, with nothing seen in between: 0 either way.
** - tc's data_end is the end of the skb's linear part, which can be shorter
**   than the packet.  The bytes the constant-offset reads reach (K) are
**   pulled into the linear part when they are not there (bpf_skb_pull_data,
**   only then): by the program's first check when it comes before any
**   effect and covers K (fused_check: should it fail on a packet shorter
**   than K, 0 is right), else by a prologue pulling min(len, K).  A check of
**   a constant offset then fails exactly when the packet is too short.
**   Should the kernel find no memory for a pull, the reads fail as if the
**   packet were that short.  XDP frames (without fragments) are linear.
** - A read at a run-time offset (LD_IND) gets a check of its own: the offset
**   must leave the read below 65536 (the verifier's bound; left out when the
**   code shows it is smaller, track_max) and the read inside data_end.  In
**   tc a failure runs the classic load itself, which sees the whole packet;
**   in XDP it returns 0.  In tc such a read inside a loop stays classic:
**   direct, the verifier would walk the turns' two ways apart.
** - A load made again along every way (the same offset, no store between)
**   takes the value a register kept (avail).
**
** A helper that changes the packet (changes_packet, the kernel's list:
** adjust_head, adjust_tail, skb_adjust_room, clone_redirect, ...) leaves
** every packet pointer void.  A tc program calling one keeps the classic
** loads, which read the skb as it is at each load.  XDP has no classic
** loads, so there (and in tc told linear) the program is rebuilt as above,
** and after each such call DATA and DATA_END are loaded again and what the
** checks so far covered is forgotten (the coverage, the loads held, the
** run-time offsets checked): a later read is checked again, against the new
** bounds, offset 0 being the new start of the data.  A call is an effect, so
** no check before it is widened past it (block_reads, anticipate), and the
** coverage a block passes on is what was checked after its last such call.
**
** XDP's packet stores (pktwrite.c) come here as STX in the classic modes
** (is_packet_store): [K] = v or [off + K] = v, v in network order.  Each is
** made a store through DATA, checked unless what is checked already covers
** it (the read of the bytes it replaces, made just before, usually does);
** a store is an effect, so no check is widened past it, and what loads
** held before it is forgotten.
*/
#include <string.h>
#include "core.h"

#define MAX_PKT_OFF 0xffff /* the verifier's bound on a packet offset */
#define NO_MAX UINT64_MAX  /* a register's value of unknown range */

static bool is_classic_load(const struct ir_ins *in)
{
	uint8_t mode = BPF_MODE(in->code);
	return in->kind == IR_OP && BPF_CLASS(in->code) == BPF_LD &&
	       (mode == BPF_ABS || mode == BPF_IND);
}

static int load_width(const struct ir_ins *in)
{
	switch (BPF_SIZE(in->code)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	default: return 4;
	}
}

/* The end of an LD_ABS read (offset + width), or -1 when direct access
** cannot reach it (an offset translation knew lies outside any packet). */
static int64_t abs_end(const struct ir_ins *in)
{
	int64_t end = in->imm + load_width(in);
	return in->imm >= 0 && end <= MAX_PKT_OFF ? end : -1;
}

/* A classic load direct access cannot reach (tc keeps it as it is). */
static bool stays_classic(const struct ir_ins *in)
{
	if (BPF_MODE(in->code) == BPF_ABS)
		return abs_end(in) < 0;
	return in->imm < 0 || in->imm + load_width(in) > MAX_PKT_OFF;
}

/* The helpers that change packet data (the kernel's
** bpf_helper_changes_pkt_data): after one, packet pointers are void. */
static bool changes_packet(int64_t func)
{
	switch (func) {
	case BPF_FUNC_skb_store_bytes: case BPF_FUNC_l3_csum_replace: case BPF_FUNC_l4_csum_replace:
	case BPF_FUNC_clone_redirect: case BPF_FUNC_skb_vlan_push: case BPF_FUNC_skb_vlan_pop:
	case BPF_FUNC_skb_change_proto: case BPF_FUNC_skb_change_type: case BPF_FUNC_skb_change_tail:
	case BPF_FUNC_skb_pull_data: case BPF_FUNC_skb_change_head: case BPF_FUNC_xdp_adjust_head:
	case BPF_FUNC_xdp_adjust_meta: case BPF_FUNC_xdp_adjust_tail: case BPF_FUNC_skb_adjust_room:
	case BPF_FUNC_msg_pull_data: case BPF_FUNC_msg_push_data: case BPF_FUNC_msg_pop_data:
	case BPF_FUNC_lwt_push_encap: case BPF_FUNC_lwt_seg6_store_bytes:
	case BPF_FUNC_lwt_seg6_adjust_srh: case BPF_FUNC_lwt_seg6_action:
		return true;
	default:
		return false;
	}
}

/* Is in a call of such a helper (not one of the program's functions)? */
static bool moves_packet(const struct ir_ins *in)
{
	return in->kind == IR_CALL && in->helper != IR_SUBPROG && in->helper != IR_KFUNC &&
	       changes_packet(in->imm);
}

/* A run-time read's slow path (tc): placed after the function. */
struct slow {
	int fail, cont;		/* its label, and where it goes back to */
	struct ir_ins load;	/* the classic load it runs */
};

/* Loads whose value a register still holds along every way to here: the
** same byte read again (tcp.flag_syn, then tcp.flag_ack) is a move. */
#define MAX_AVAIL 8
struct avail {
	int n;		/* -1: no way in seen yet */
	struct {
		uint8_t code;	/* LD_ABS or LD_IND and the width */
		int16_t off;	/* PK_RAW or 0 */
		uint16_t src;	/* LD_IND's offset register */
		int64_t imm;
		uint16_t reg;	/* the register holding the value */
		bool bounded;	/* the verifier knows its range (not a classic load's) */
	} a[MAX_AVAIL];
};

/* Linear packets: run-time offsets already checked, each with the packet
** pointer DATA + off that was checked and how far (off's register, or a
** copy of it, at a read inside that extent is a load from the pointer). */
#define MAX_BASES 8
struct bases {
	int n;		/* -1: no way in seen yet */
	struct {
		uint16_t off, p; /* registers: the offset, the pointer checked */
		int64_t end;	 /* bytes past p the check covers */
	} a[MAX_BASES];
};

/* The function being rebuilt, appended after the IR there is (emit.c),
** then moved in place of the old one. */
struct rebuild {
	struct ctx *C;
	bool xdp;		 /* the context is an xdp_md (else a __sk_buff) */
	bool linear;		 /* data_end is the packet's end: XDP, or tc told so */
	int data, data_end, ctx; /* registers */
	int ret0;		 /* label of the shared `return 0`, -1 not yet */
	int blk;		 /* the block being rebuilt */
	int64_t pull;		 /* tc: what the constant-offset reads reach (0 linear) */
	int fused_at;		 /* tc: the read whose check pulls when it fails, -1 none */
	bool in_loop;		 /* ... it lies in a loop */
	int64_t *ant_out;	 /* per block: what every way on reads (anticipate) */
	uint64_t *max;		 /* per register: a bound on its value in this block */
	int nmax;		 /* the registers max has (those before the pass) */
	struct slow *slow;	 /* tc's slow paths, one per run-time read at most */
	int nslow;
	struct avail cur;	 /* the loads held here */
	struct bases based;	 /* linear: the run-time offsets checked here */
	bool *again;		 /* per instruction of f: a classic load read again later */
	int first;		 /* f's first instruction */
};

static bool same_load(const struct avail *av, int k, const struct ir_ins *in)
{
	return av->a[k].code == in->code && av->a[k].off == in->off && av->a[k].imm == in->imm &&
	       (BPF_MODE(in->code) == BPF_ABS || av->a[k].src == in->src);
}

/* Can a later load reuse in's value?  One read again later, by LD_ABS or
** by LD_IND at a virtual register (avail_kill drops it when that changes). */
static bool reusable(const struct rebuild *R, const struct ir_ins *in)
{
	return R->again[in - R->C->ir - R->first] && (BPF_MODE(in->code) == BPF_ABS || in->src >= IR_VREG0);
}

/* in is translated: the loads at an offset it changes are held no more. */
static void avail_kill(struct avail *av, const struct ir_ins *in)
{
	struct operands o = ir_operands(in, false);
	int n = 0;
	for (int k = 0; k < av->n; k++)
		if (BPF_MODE(av->a[k].code) == BPF_ABS ||
		    !((o.def_dst && av->a[k].src == in->dst) || (o.def_src && av->a[k].src == in->src)))
			av->a[n++] = av->a[k];
	av->n = n;
}

/* Keep only what both hold. */
static void avail_meet(struct avail *into, const struct avail *from)
{
	if (into->n < 0) {
		*into = *from;
		return;
	}
	int n = 0;
	for (int k = 0; k < into->n; k++)
		for (int j = 0; j < from->n; j++)
			if (from->a[j].reg == into->a[k].reg) {
				into->a[n++] = into->a[k];
				break;
			}
	into->n = n;
}

/* in is translated: a checked offset whose register or pointer it
** changes is known no more; a copy of a checked offset is one too. */
static void bases_after(struct bases *b, const struct ir_ins *in)
{
	int n = 0;
	for (int k = 0; k < b->n; k++)
		if (!ir_writes(in, b->a[k].p) && !ir_writes(in, b->a[k].off))
			b->a[n++] = b->a[k];
	int had = n;
	if (ir_operands(in, false).copy && in->dst >= IR_VREG0)
		for (int k = 0; k < had && n < MAX_BASES; k++)
			if (b->a[k].off == in->src) {
				b->a[n] = b->a[k];
				b->a[n++].off = in->dst;
			}
	b->n = n;
}

/* Keep only what both know: the same offset and pointer, the shorter extent. */
static void bases_meet(struct bases *into, const struct bases *from)
{
	if (into->n < 0) {
		*into = *from;
		return;
	}
	int n = 0;
	for (int k = 0; k < into->n; k++)
		for (int j = 0; j < from->n; j++)
			if (from->a[j].off == into->a[k].off && from->a[j].p == into->a[k].p) {
				into->a[n] = into->a[k];
				if (from->a[j].end < into->a[n].end)
					into->a[n].end = from->a[j].end;
				n++;
				break;
			}
	into->n = n;
}

static int ret0(struct rebuild *R)
{
	if (R->ret0 < 0)
		R->ret0 = label_new(R->C);
	return R->ret0;
}

/* ctx->data and ctx->data_end into their registers. */
static void load_pointers(struct rebuild *R)
{
	int d = R->xdp ? (int)offsetof(struct xdp_md, data) : (int)offsetof(struct __sk_buff, data);
	int e = R->xdp ? (int)offsetof(struct xdp_md, data_end)
		       : (int)offsetof(struct __sk_buff, data_end);
	emit(R->C, BPF_LDX | BPF_MEM | BPF_W, R->data, R->ctx, (int16_t)d, 0);
	emit(R->C, BPF_LDX | BPF_MEM | BPF_W, R->data_end, R->ctx, (int16_t)e, 0);
}

/* tc: min(len, k) bytes pulled into the skb's linear part unless there.
** The path that pulls comes first in the layout, so that the verifier walks
** the program from the join first with the least it knows of the packet,
** and the other paths, knowing more, may be found safe at the join. */
static void pull_prologue(struct rebuild *R, int64_t k)
{
	struct ctx *C = R->C;
	int n = vreg_new(C), t = vreg_new(C), t2 = vreg_new(C);
	int small = label_new(C), there = label_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, R->data, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, t, 0, 0, (int32_t)k);
	emit_jmp(C, BPF_JMP | BPF_JLE | BPF_X, t, R->data_end, 0, there);
	/* shorter than k in the linear part: a short packet, or one in pieces */
	emit(C, BPF_LDX | BPF_MEM | BPF_W, n, R->ctx, offsetof(struct __sk_buff, len), 0);
	emit_jmp(C, BPF_JMP | BPF_JLE | BPF_K, n, 0, (int32_t)k, small);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, n, 0, 0, (int32_t)k);
	emit_label(C, small);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t2, R->data, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_X, t2, n, 0, 0);
	emit_jmp(C, BPF_JMP | BPF_JLE | BPF_X, t2, R->data_end, 0, there); /* all there */
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, R->ctx, 0, 0);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, n, 0, 0);
	emit_call(C, BPF_FUNC_skb_pull_data, -1);
	load_pointers(R); /* the call made every packet pointer void */
	emit_label(C, there);
}

/* `t = base + k; if t > DATA_END goto fail` */
static void check(struct rebuild *R, int base, int64_t k, int fail)
{
	int t = vreg_new(R->C);
	emit(R->C, BPF_ALU64 | BPF_MOV | BPF_X, t, base, 0, 0);
	emit(R->C, BPF_ALU64 | BPF_ADD | BPF_K, t, 0, 0, (int32_t)k);
	emit_jmp(R->C, BPF_JMP | BPF_JGT | BPF_X, t, R->data_end, 0, fail);
}

/* r0 = the packet's bytes at base + off in host order, as the classic load gave. */
static void direct_load(struct rebuild *R, int base, int64_t off, const struct ir_ins *classic)
{
	int width = load_width(classic);
	if (off > INT16_MAX) {
		int p = vreg_new(R->C);
		emit(R->C, BPF_ALU64 | BPF_MOV | BPF_X, p, base, 0, 0);
		emit(R->C, BPF_ALU64 | BPF_ADD | BPF_K, p, 0, 0, (int32_t)off);
		base = p, off = 0;
	}
	emit(R->C, BPF_LDX | BPF_MEM | BPF_SIZE(classic->code), BPF_REG_0, base, (int16_t)off, 0);
	if (width > 1 && classic->off != PK_RAW) /* (raw: the bytes as they are) */
		emit(R->C, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_0, 0, 0, 8 * width);
	R->max[0] = (1ull << (8 * width)) - 1;
}

/* Does in do something a caller could see (a call, a store that is not to
** the stack)?  Checking for a read past it could return 0 before it. */
static bool has_effect(const struct ir_ins *in)
{
	uint8_t cls = BPF_CLASS(in->code);
	return in->kind == IR_CALL ||
	       (in->kind == IR_OP && (cls == BPF_ST || cls == BPF_STX) && in->dst != BPF_REG_10);
}

/* The furthest LD_ABS read from instruction i to the first one with an
** effect; *to_end: the block's end came first. */
#define NO_READ INT64_MAX
static int64_t block_reads(const struct ctx *C, int i, const struct ir_block *blk, bool *to_end)
{
	int64_t k = 0;
	*to_end = false;
	for (; i <= blk->last; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (has_effect(in))
			return k;
		if (is_classic_load(in) && BPF_MODE(in->code) == BPF_ABS && abs_end(in) > k)
			k = abs_end(in);
	}
	*to_end = true;
	return k;
}

/* How far every way on from instruction i of blk is sure to read (NO_READ:
** every way returns 0 with nothing seen, whatever it reads). */
static int64_t sure_reads(const struct ctx *C, int i, const struct ir_block *blk, int64_t ant_out)
{
	bool to_end;
	int64_t k = block_reads(C, i, blk, &to_end);
	if (!to_end)
		return k;
	return ant_out == NO_READ ? NO_READ : ant_out > k ? ant_out : k;
}

/* Does block blk end in `return 0` (what a failed check returns)? */
static bool returns_zero(const struct ctx *C, const struct ir_block *blk)
{
	if (C->ir[blk->last].kind != IR_EXIT)
		return false;
	for (int i = blk->last - 1; i >= blk->first; i--) {
		const struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP || in->kind == IR_LABEL)
			continue;
		return in->kind == IR_OP && BPF_OP(in->code) == BPF_MOV && BPF_SRC(in->code) == BPF_K &&
		       in->dst == BPF_REG_0 && in->imm == 0;
	}
	return false;
}

/* For each block, how far every way on from its end is sure to read at a
** constant offset before anything with an effect or a return other than
** `return 0` (NO_READ: every way returns 0 first).  A check at the end of
** a block may cover that far: should it fail, the program, on the short
** packet, would have failed a read or returned 0, with nothing seen.
** Back edges count as reading nothing. */
static void anticipate(const struct ctx *C, int64_t *ant_out)
{
	for (int b = C->nblk - 1; b >= 0; b--) {
		const struct ir_block *blk = &C->blk[b];
		int64_t out = NO_READ;
		bool succ = false;
		for (int k = 0; k < 2; k++) {
			int t = blk->succ[k];
			if (t < 0)
				continue;
			succ = true;
			int64_t in = blk->back[k] || t <= b ? 0 : sure_reads(C, C->blk[t].first, &C->blk[t], ant_out[t]);
			if (in < out)
				out = in;
		}
		if (!succ && !returns_zero(C, blk))
			out = 0;
		ant_out[b] = out;
	}
}

/* What the block tells of a register's range after in (the verifier, which
** follows the same instructions, knows at least as much). */
static void track_max(struct rebuild *R, const struct ir_ins *in)
{
	uint64_t *m = R->max;
	struct operands o = ir_operands(in, false);
	uint8_t cls = BPF_CLASS(in->code), alu = BPF_OP(in->code);
	bool k = BPF_SRC(in->code) == BPF_K;
	uint64_t before = o.use_dst ? m[in->dst] : NO_MAX, v = NO_MAX;
	if (in->kind == IR_OP && cls == BPF_ALU64) {
		uint64_t s = k ? (in->imm >= 0 ? (uint64_t)in->imm : NO_MAX) : m[in->src];
		if (alu == BPF_MOV)
			v = s;
		else if (alu == BPF_AND)
			v = before < s ? before : s;
		else if (alu == BPF_ADD && before <= UINT32_MAX && s <= UINT32_MAX)
			v = before + s;
		else if ((alu == BPF_LSH || alu == BPF_RSH) && k && in->imm < 32 && before <= UINT32_MAX)
			v = alu == BPF_LSH ? before << in->imm : before >> in->imm;
	} else if (in->kind == IR_OP && cls == BPF_LDX && BPF_SIZE(in->code) != BPF_DW) {
		v = (1ull << (8 * load_width(in))) - 1;
	}
	for (int r = 0; r < 16; r++)
		if (o.defs & (1u << r))
			m[r] = NO_MAX;
	if (o.def_dst)
		m[in->dst] = v;
	if (o.def_src)
		m[in->src] = NO_MAX;
}

/* The smallest constant some test of the function compares with that is
** at least v (and v - 1 for `<`), else unknown. */
static uint64_t widen(const struct ctx *C, uint64_t v)
{
	uint64_t best = NO_MAX;
	for (int b = 0; b < C->nblk; b++) {
		const struct ir_ins *j = &C->ir[C->blk[b].last];
		if (j->kind != IR_JMP || BPF_SRC(j->code) != BPF_K || j->imm < 0)
			continue;
		uint64_t k = (uint64_t)j->imm;
		if (k >= v && k < best)
			best = k;
		if (k > 0 && k - 1 >= v && k - 1 < best)
			best = k - 1;
	}
	return best;
}

/* What a conditional jump on a register and a constant tells of the
** register's bound on one of its edges (taken or not): v <= K, v < K,
** v == K, and their signed forms where v is known not negative. */
static uint64_t refine(const struct ir_ins *j, bool taken, uint64_t max)
{
	uint8_t op = BPF_OP(j->code);
	int64_t k = j->imm;
	uint64_t uk = (uint64_t)k, b = NO_MAX;
	bool nonneg = max <= INT64_MAX && k >= 0;
	if (!taken) { /* the opposite test holds */
		switch (op) {
		case BPF_JGT: op = BPF_JLE; break;
		case BPF_JGE: op = BPF_JLT; break;
		case BPF_JSGT: op = BPF_JSLE; break;
		case BPF_JSGE: op = BPF_JSLT; break;
		case BPF_JNE: op = BPF_JEQ; break;
		default: return max;
		}
	}
	switch (op) {
	case BPF_JLE: case BPF_JEQ: b = uk; break;
	case BPF_JLT: b = uk ? uk - 1 : 0; break;
	case BPF_JSLE: b = nonneg ? uk : NO_MAX; break;
	case BPF_JSLT: b = nonneg && k > 0 ? uk - 1 : NO_MAX; break;
	default: break;
	}
	return b < max ? b : max;
}

/* Bounds on the registers at each block's entry (in: per block, nmax of
** them), from the blocks' instructions (track_max) and what the tests on the
** way say (refine), over every way in: a loop's counter is bounded by its
** test.  Iterated from below; after a few rounds a bound that still grows
** jumps to the next constant a test compares with, or to unknown, so that
** it ends.  seen: the blocks some way reaches.  False when it did not
** settle (nothing is then known). */
static bool entry_bounds(struct rebuild *R, uint64_t *in, bool *seen)
{
	struct ctx *C = R->C;
	int nb = C->nblk, n = R->nmax;
	uint64_t *out = scratch(C, sizeof(uint64_t) * (size_t)n);
	for (int b = 0; b < nb; b++)
		seen[b] = b == 0;
	for (int r = 0; r < n; r++)
		in[r] = NO_MAX;
	bool changed = true;
	for (int round = 0; changed; round++) {
		if (round > 200) {
			scratch_pop(C, 1);
			return false;
		}
		changed = false;
		for (int b = 0; b < nb; b++) {
			if (!seen[b])
				continue;
			const struct ir_block *blk = &C->blk[b];
			memcpy(R->max, in + (size_t)b * (size_t)n, sizeof(uint64_t) * (size_t)n);
			for (int i = blk->first; i <= blk->last; i++) {
				const struct ir_ins *ins = &C->ir[i];
				track_max(R, ins);
				if (is_classic_load(ins) && !stays_classic(ins)) /* (linear: direct, then) */
					R->max[0] = (1ull << (8 * load_width(ins))) - 1;
			}
			const struct ir_ins *last = &C->ir[blk->last];
			for (int e = 0; e < 2; e++) {
				int t = blk->succ[e];
				if (t < 0)
					continue;
				memcpy(out, R->max, sizeof(uint64_t) * (size_t)n);
				if (last->kind == IR_JMP && BPF_CLASS(last->code) == BPF_JMP &&
				    BPF_SRC(last->code) == BPF_K && BPF_OP(last->code) != BPF_JA && last->dst < n)
					out[last->dst] = refine(last, e == 1, out[last->dst]);
				uint64_t *to = in + (size_t)t * (size_t)n;
				if (!seen[t]) {
					memcpy(to, out, sizeof(uint64_t) * (size_t)n);
					seen[t] = changed = true;
					continue;
				}
				for (int r = 0; r < n; r++) {
					if (out[r] <= to[r])
						continue;
					uint64_t v = out[r];
					if (round > 8) /* widen: to the next constant tested, else unknown */
						v = widen(C, v);
					to[r] = v;
					changed = true;
				}
			}
		}
	}
	scratch_pop(C, 1);
	return true;
}

/* Does the classic load in stay one?  In tc, one direct access cannot
** reach, or one at a run-time offset in a loop (the offset would become
** part of a pointer, and the verifier would walk every turn). */
static bool keeps_classic(const struct rebuild *R, const struct ir_ins *in)
{
	return stays_classic(in) || (R->in_loop && !R->linear && BPF_MODE(in->code) == BPF_IND);
}

static void load(struct rebuild *R, int i, int64_t *cov);

/* Linear packets: how far past the run-time offset in register off the
** reads of block b from instruction i read, through off or its copies,
** before anything with an effect (a check that far fails only where one
** of them would: 0, with nothing seen).  At least end. */
static int64_t ind_extent(const struct rebuild *R, int i, int off, int64_t end)
{
	const struct ctx *C = R->C;
	const struct ir_block *blk = &C->blk[R->blk];
	uint16_t regs[MAX_BASES] = {(uint16_t)off};
	int nregs = 1;
	for (int j = i + 1; j <= blk->last && nregs > 0; j++) {
		const struct ir_ins *in = &C->ir[j];
		if (has_effect(in))
			break;
		if (is_classic_load(in) && BPF_MODE(in->code) == BPF_IND && !keeps_classic(R, in))
			for (int k = 0; k < nregs; k++)
				if (regs[k] == in->src && in->imm + load_width(in) > end)
					end = in->imm + load_width(in);
		bool copy = ir_operands(in, false).copy && in->dst >= IR_VREG0;
		bool from = false;
		int n = 0;
		for (int k = 0; k < nregs; k++) {
			from |= copy && regs[k] == in->src;
			if (!ir_writes(in, regs[k]))
				regs[n++] = regs[k];
		}
		nregs = n;
		if (from && nregs < MAX_BASES)
			regs[nregs++] = in->dst;
	}
	return end;
}

/* How far a check at instruction i of block b covers: as far as every way
** on is sure to read, at least as far as the block's reads. */
static int64_t check_extent(const struct rebuild *R, int b, int i)
{
	bool to_end;
	int64_t own = block_reads(R->C, i, &R->C->blk[b], &to_end);
	int64_t after = R->ant_out[b];
	return to_end && after != NO_READ && after > own ? after : own;
}

/* tc: the program's first read, when its check comes before anything with
** an effect and covers every constant-offset read, else -1.  That check,
** failing, pulls them into the linear part (the packet is long enough) or
** returns 0 (it is not: every way on reads that far or returns 0): the
** prologue's work without a check of its own (fused_pull). */
static int fused_check(const struct rebuild *R)
{
	const struct ctx *C = R->C;
	const struct ir_block *b0 = &C->blk[0];
	for (int i = b0->first + 1; i <= b0->last; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (has_effect(in))
			return -1;
		if (is_classic_load(in))
			return BPF_MODE(in->code) == BPF_ABS && !stays_classic(in) &&
				       check_extent(R, 0, i) >= R->pull ? i : -1;
	}
	return -1;
}

/* The check of k bytes, its failure pulling them in place: forward jumps
** only, and the way that pulls first in the layout, so that the verifier
** walks on from the join first with it and finds the other way safe there. */
static void fused_pull(struct rebuild *R, int64_t k)
{
	struct ctx *C = R->C;
	int t = vreg_new(C), n = vreg_new(C), there = label_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, R->data, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, t, 0, 0, (int32_t)k);
	emit_jmp(C, BPF_JMP | BPF_JLE | BPF_X, t, R->data_end, 0, there);
	emit(C, BPF_LDX | BPF_MEM | BPF_W, n, R->ctx, offsetof(struct __sk_buff, len), 0);
	emit_jmp(C, BPF_JMP | BPF_JLT | BPF_K, n, 0, (int32_t)k, ret0(R)); /* too short */
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, R->ctx, 0, 0);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)k);
	emit_call(C, BPF_FUNC_skb_pull_data, -1);
	load_pointers(R); /* the call made every packet pointer void */
	check(R, R->data, k, ret0(R)); /* (fails only when the kernel had no memory) */
	emit_label(C, there);
}

/* An LD_ABS or LD_IND rewritten (or kept), or its value taken from an
** earlier one; cov is what the checks so far cover. */
static void rewrite_load(struct rebuild *R, int i, int64_t *cov)
{
	struct ctx *C = R->C;
	const struct ir_ins *in = &C->ir[i];
	for (int k = 0; k < R->cur.n; k++)
		if (same_load(&R->cur, k, in)) { /* read before on every way here */
			emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, R->cur.a[k].reg, 0, 0);
			R->max[0] = R->cur.a[k].bounded ? (1ull << (8 * load_width(in))) - 1 : NO_MAX;
			return;
		}
	load(R, i, cov);
	if (reusable(R, in) && R->cur.n < MAX_AVAIL) {
		int reg = vreg_new(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, reg, BPF_REG_0, 0, 0);
		R->cur.a[R->cur.n].code = in->code;
		R->cur.a[R->cur.n].off = in->off;
		R->cur.a[R->cur.n].src = in->src;
		R->cur.a[R->cur.n].imm = in->imm;
		R->cur.a[R->cur.n].bounded = !keeps_classic(R, in);
		R->cur.a[R->cur.n++].reg = (uint16_t)reg;
	}
}

/* Linear packets: the pointer DATA + off (off a register) checked for
** need bytes: one a check made before covers, else one checked here for ext
** bytes (at least need), which later accesses through off may use. */
static int checked_at(struct rebuild *R, int off, int64_t need, int64_t ext)
{
	struct ctx *C = R->C;
	struct bases *b = &R->based;
	int k = 0;
	while (k < b->n && b->a[k].off != off)
		k++;
	if (k < b->n && b->a[k].end >= need)
		return b->a[k].p;
	/* the verifier bounds a checked pointer's offset and the bytes past it together */
	if (R->max[off] > (uint64_t)(MAX_PKT_OFF - ext))
		emit_jmp(C, BPF_JMP | BPF_JGT | BPF_K, off, 0, (int32_t)(MAX_PKT_OFF - ext), ret0(R));
	int p;
	if (k < b->n) {
		p = b->a[k].p;
	} else {
		p = vreg_new(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, p, R->data, 0, 0);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_X, p, off, 0, 0);
	}
	check(R, p, ext, ret0(R));
	if (k == b->n) {
		if (b->n == MAX_BASES)
			return p;
		b->n++;
	}
	b->a[k].off = (uint16_t)off;
	b->a[k].p = (uint16_t)p;
	b->a[k].end = ext;
	return p;
}

/* Linear packets: a read at a run-time offset through the pointer a
** check of that offset made, or a check made for it and the reads after
** it (ind_extent), failing to the shared `return 0`. */
static void linear_ind_load(struct rebuild *R, int i, int off, int64_t end)
{
	const struct ir_ins *in = &R->C->ir[i];
	int p = checked_at(R, off, end, ind_extent(R, i, off, end));
	direct_load(R, p, in->imm, in);
}

/* A packet store pktwrite.c left (XDP): through the data pointer, checked
** unless a check so far covers it (the read of the bytes it replaces, just
** before, usually does). */
static void store(struct rebuild *R, int i, int64_t *cov)
{
	struct ctx *C = R->C;
	const struct ir_ins *in = &C->ir[i];
	uint8_t st = (uint8_t)(BPF_STX | BPF_MEM | BPF_SIZE(in->code));
	int width = BPF_SIZE(in->code) == BPF_DW ? 8 : load_width(in);
	int64_t end = in->imm + width;
	if (in->imm < 0 || end > MAX_PKT_OFF || !R->linear)
		bpfc_fail(C, "internal: a packet store at %lld%s", (long long)in->imm,
			  R->linear ? "" : " in a tc program");
	if (BPF_MODE(in->code) == BPF_IND) {
		emit(C, st, checked_at(R, in->dst, end, end), in->src, (int16_t)in->imm, 0);
		return;
	}
	if (end > *cov) {
		check(R, R->data, end, ret0(R));
		*cov = end;
	}
	int base = R->data;
	int64_t off = in->imm;
	if (off > INT16_MAX) {
		base = vreg_new(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, base, R->data, 0, 0);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, base, 0, 0, (int32_t)off);
		off = 0;
	}
	emit(C, st, base, in->src, (int16_t)off, 0);
}

/* The load itself. */
static void load(struct rebuild *R, int i, int64_t *cov)
{
	struct ctx *C = R->C;
	const struct ir_ins *in = &C->ir[i];
	if (keeps_classic(R, in)) {
		ir_append(C, in);
		track_max(R, in); /* (the verifier knows nothing of its result) */
		return;
	}
	if (BPF_MODE(in->code) == BPF_ABS) {
		if (abs_end(in) > *cov) {
			*cov = check_extent(R, R->blk, i);
			if (i == R->fused_at) { /* the program's first check, failing to the pull */
				fused_pull(R, *cov);
			} else {
				check(R, R->data, *cov, ret0(R));
			}
		}
		direct_load(R, R->data, in->imm, in);
		return;
	}
	int64_t end = in->imm + load_width(in);
	int off = in->src;
	if (R->linear && off >= IR_VREG0) {
		linear_ind_load(R, i, off, end);
		return;
	}
	int fail = R->linear ? ret0(R) : label_new(C), cont = label_new(C);
	/* the verifier bounds a checked pointer's offset and the bytes past it together */
	if (R->max[off] > (uint64_t)(MAX_PKT_OFF - end))
		emit_jmp(C, BPF_JMP | BPF_JGT | BPF_K, off, 0, (int32_t)(MAX_PKT_OFF - end), fail);
	int p = vreg_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, p, R->data, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_X, p, off, 0, 0);
	check(R, p, end, fail);
	direct_load(R, p, in->imm, in);
	emit_label(C, cont);
	if (!R->linear)
		R->slow[R->nslow++] = (struct slow){.fail = fail, .cont = cont, .load = *in};
}

/* tc's slow paths: the classic load itself, its result given the range the
** direct one has, so that the verifier, at the join, finds what follows
** already walked. */
static void slow_paths(struct rebuild *R)
{
	struct ctx *C = R->C;
	for (int k = 0; k < R->nslow; k++) {
		const struct slow *s = &R->slow[k];
		int width = load_width(&s->load);
		C->pc = s->load.pc;
		emit_label(C, s->fail);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, R->ctx, 0, 0);
		ir_append(C, &s->load);
		if (width < 4)
			emit(C, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, width == 1 ? 0xff : 0xffff);
		else
			emit(C, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_0, 0, 0);
		emit_ja(C, s->cont);
	}
}

/* Is in the `r6 = ctx` translation puts before a classic load that is
** rewritten (and so reads r6 no more)? */
static bool ctx_for_rewritten(const struct rebuild *R, const struct ir_block *blk, int i)
{
	const struct ctx *C = R->C;
	const struct ir_ins *in = &C->ir[i];
	if (in->kind != IR_OP || in->code != (BPF_ALU64 | BPF_MOV | BPF_X) || in->dst != BPF_REG_6 ||
	    in->src != C->ctx_reg)
		return false;
	int n = i + 1;
	while (n <= blk->last && C->ir[n].kind == IR_NOP)
		n++;
	return n <= blk->last && is_classic_load(&C->ir[n]) && !keeps_classic(R, &C->ir[n]);
}

/* Which classic loads of f are read again later (the same load). */
static void loads_read_again(const struct ctx *C, const struct ir_func *f, struct rebuild *R)
{
	memset(R->again, 0, (size_t)f->n);
	for (int i = f->first; i < f->first + f->n; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (!is_classic_load(in) || R->again[i - f->first])
			continue;
		for (int j = i + 1; j < f->first + f->n; j++) {
			const struct ir_ins *l = &C->ir[j];
			if (is_classic_load(l) && l->code == in->code && l->off == in->off && l->imm == in->imm &&
			    (BPF_MODE(in->code) == BPF_ABS || l->src == in->src)) {
				R->again[i - f->first] = true;
				break;
			}
		}
	}
}

void direct_packet(struct ctx *C, const struct ir_func *cf)
{
	struct ir_func *f = &C->funcs[cf - C->funcs];
	if (f != C->funcs)
		return; /* only the program has the context: functions read no packet */
	bool stores = false;
	for (int i = f->first; i < f->first + f->n; i++) {
		if (is_classic_load(&C->ir[i]) && !C->packet)
			C->packet = PACKET_CLASSIC;
		stores |= is_packet_store(&C->ir[i]);
	}
	const char *tname = NULL;
	int type = helper_progtype(C, &tname);
	if (type == BPF_PROG_TYPE_CGROUP_SKB)
		for (int i = f->first; i < f->first + f->n; i++)
			if (is_classic_load(&C->ir[i])) {
				C->pc = C->ir[i].pc; /* where the message points */
				bpfc_fail(C, "a cgroup_skb program sees the packet from its IP header, and has no "
					     "classic loads: packet reads are not compiled for it yet (its skb "
					     "fields are: skb.len, skb.protocol, ...)");
			}
	if (stores && C->facts.classic_packet)
		bpfc_fail(C, "an XDP program writes the packet directly: it has no classic loads for "
			     "{packet = 'classic'}");
	if ((type != BPF_PROG_TYPE_SCHED_CLS && type != BPF_PROG_TYPE_SCHED_ACT && type != BPF_PROG_TYPE_XDP) ||
	    C->facts.classic_packet || (C->packet == PACKET_NONE && !stores))
		return;
	const struct ir_ins *first = &C->ir[f->first];
	if (first->kind != IR_OP || first->code != (BPF_ALU64 | BPF_MOV | BPF_X) || first->dst != C->ctx_reg ||
	    first->src != BPF_REG_1)
		return; /* not the program's prologue: nothing to build on (encode refuses a store left) */
	int nloads = 0;
	int64_t pull = 0;
	bool linear = type == BPF_PROG_TYPE_XDP || C->facts.linear_packet;
	for (int i = f->first; i < f->first + f->n; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (moves_packet(in) && !linear)
			return; /* tc: the classic loads see the packet as the call left it */
		if (!is_classic_load(in))
			continue;
		if (type == BPF_PROG_TYPE_XDP && stays_classic(in)) {
			C->pc = in->pc; /* where the message points */
			bpfc_fail(C, "a packet read at offset %lld%s: an XDP program reads the first %d bytes "
				     "of the frame", (long long)in->imm,
				  BPF_MODE(in->code) == BPF_IND ? " past a run-time one" : "", MAX_PKT_OFF);
		}
		nloads++;
		if (BPF_MODE(in->code) == BPF_ABS && abs_end(in) > pull)
			pull = abs_end(in);
	}

	struct rebuild R = {.C = C, .xdp = type == BPF_PROG_TYPE_XDP, .ctx = C->ctx_reg, .ret0 = -1,
			    .nmax = C->nvregs};
	R.linear = linear;
	ir_cfg(C, f);
	R.max = scratch(C, sizeof(uint64_t) * (size_t)R.nmax);
	/* A virtual register whose definitions all lie in one block holds, in
	** every other block, a value that block finished: the bound it had at
	** that block's end holds there too (wide: what no block bounds). */
	uint64_t *wide = scratch(C, sizeof(uint64_t) * (size_t)R.nmax);
	int *defblk = scratch(C, sizeof(int) * (size_t)R.nmax);
	for (int r = 0; r < R.nmax; r++)
		wide[r] = NO_MAX, defblk[r] = -1;
	for (int b = 0; b < C->nblk; b++)
		for (int i = C->blk[b].first; i <= C->blk[b].last; i++) {
			struct operands o = ir_operands(&C->ir[i], false);
			int d[2] = {o.def_dst ? C->ir[i].dst : -1, o.def_src ? C->ir[i].src : -1};
			for (int k = 0; k < 2; k++)
				if (d[k] >= IR_VREG0 && d[k] < R.nmax)
					defblk[d[k]] = defblk[d[k]] == -1 || defblk[d[k]] == b ? b : -2;
		}
	R.slow = scratch(C, sizeof(struct slow) * (size_t)nloads);
	int64_t *cov_in = scratch(C, sizeof(int64_t) * (size_t)MAX_IR);
	bool *in_loop = scratch(C, (size_t)MAX_IR);
	R.ant_out = scratch(C, sizeof(int64_t) * (size_t)MAX_IR);
	struct avail *avail_in = scratch(C, sizeof(struct avail) * (size_t)(C->nblk > 0 ? C->nblk : 1));
	struct bases *bases_in = scratch(C, sizeof(struct bases) * (size_t)(C->nblk > 0 ? C->nblk : 1));
	R.again = scratch(C, (size_t)f->n);
	R.first = f->first;
	loads_read_again(C, f, &R);
	R.data = vreg_new(C);
	R.data_end = vreg_new(C);

	for (int b = 0; b < C->nblk; b++) {
		cov_in[b] = b ? INT64_MAX : 0; /* INT64_MAX: no predecessor seen yet */
		in_loop[b] = false;
		avail_in[b].n = b ? -1 : 0;
		bases_in[b].n = b ? -1 : 0;
	}
	for (int b = 0; b < C->nblk; b++)
		for (int s = 0; s < 2; s++)
			if (C->blk[b].succ[s] >= 0 && C->blk[b].back[s]) {
				int h = C->blk[b].succ[s];
				cov_in[h] = 0; /* a loop header: nothing known */
				avail_in[h].n = 0;
				bases_in[h].n = 0;
				for (int l = h; l <= b; l++)
					in_loop[l] = true;
			}

	anticipate(C, R.ant_out);
	/* (only where direct reads at run-time offsets are made: the bounds
	** spare their checks) */
	bool *seen = scratch(C, (size_t)C->nblk + 1);
	uint64_t *bounds = NULL;
	bool bounded = false;
	if (R.linear && (size_t)C->nblk * (size_t)R.nmax <= (1u << 20)) {
		bounds = scratch(C, sizeof(uint64_t) * (size_t)C->nblk * (size_t)R.nmax + 1);
		bounded = entry_bounds(&R, bounds, seen);
	} else {
		bounds = scratch(C, 1);
	}
	int start = C->nir, pc = C->pc; /* (emit tags what it appends with C->pc) */
	C->pc = first->pc;
	ir_append(C, first);
	load_pointers(&R);
	R.pull = R.linear ? 0 : pull;
	R.fused_at = -1;
	if (!R.linear && pull > 0 && !BROKEN(C, pkt_pull)) {
		R.fused_at = fused_check(&R);
		if (R.fused_at < 0)
			pull_prologue(&R, pull);
	}
	for (int b = 0; b < C->nblk; b++) {
		const struct ir_block *blk = &C->blk[b];
		int64_t cov = cov_in[b] == INT64_MAX ? 0 : cov_in[b];
		R.blk = b;
		R.in_loop = in_loop[b];
		R.cur = avail_in[b];
		if (R.cur.n < 0)
			R.cur.n = 0; /* nothing reaches it */
		R.based = bases_in[b];
		if (R.based.n < 0)
			R.based.n = 0;
		for (int r = 0; r < R.nmax; r++) {
			uint64_t e = bounded && seen[b] ? bounds[(size_t)b * (size_t)R.nmax + (size_t)r] : NO_MAX;
			R.max[r] = e < wide[r] ? e : wide[r];
		}
		for (int i = blk->first; i <= blk->last; i++) {
			const struct ir_ins *in = &C->ir[i];
			C->pc = in->pc;
			if (i == f->first || ctx_for_rewritten(&R, blk, i))
				continue; /* the prologue, already out; r6 = ctx, read no more */
			if (is_classic_load(in)) {
				rewrite_load(&R, i, &cov);
			} else if (is_packet_store(in)) {
				store(&R, i, &cov);
				R.cur.n = 0; /* the bytes read so far may have changed */
			} else {
				ir_append(C, in);
				track_max(&R, in);
				avail_kill(&R.cur, in);
				bases_after(&R.based, in);
				if (has_effect(in) && in->kind != IR_CALL)
					R.cur.n = 0; /* a store may write the packet */
				if (moves_packet(in) && !BROKEN(C, pkt_reload)) { /* (linear) a new packet */
					load_pointers(&R);
					cov = 0;
					R.cur.n = 0;
					R.based.n = 0;
				}
			}
		}
		for (int i = blk->first; i <= blk->last; i++) {
			struct operands o = ir_operands(&C->ir[i], false);
			int d = o.def_dst ? C->ir[i].dst : -1;
			if (d >= IR_VREG0 && d < R.nmax && defblk[d] == b)
				wide[d] = R.max[d];
		}
		for (int s = 0; s < 2; s++) {
			int t = blk->succ[s];
			if (t < 0 || blk->back[s])
				continue;
			if (cov < cov_in[t])
				cov_in[t] = cov;
			avail_meet(&avail_in[t], &R.cur);
			bases_meet(&bases_in[t], &R.based);
		}
	}
	slow_paths(&R);
	if (R.ret0 >= 0) {
		C->pc = C->ir[f->first + f->n - 1].pc;
		emit_label(C, R.ret0);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
		emit(C, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	ir_rebuilt(C, f, start);
	scratch_pop(C, 12);
	C->pc = pc;
	C->packet = PACKET_DIRECT;
}
