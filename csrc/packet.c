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
** - A check covers every later read below its K along every path to it
**   (coverage is the minimum over a block's predecessors; a loop header
**   starts at 0), so a read it covers needs no check of its own.  A check is
**   widened to the furthest read the rest of its block makes before anything
**   with an effect (a call, a store that is not to the stack, the block's
**   end): if the wider check fails, one of those reads would have failed
**   with nothing seen in between, and the program returns 0 either way.
** - tc's data_end is the end of the skb's linear part, which can be shorter
**   than the packet.  A tc program whose reads reach K bytes at constant
**   offsets starts by pulling min(len, K) bytes into the linear part when
**   they are not there (bpf_skb_pull_data, only then), so that a check of a
**   constant offset fails exactly when the packet is too short.  Should the
**   kernel find no memory for that pull, the reads fail as if the packet
**   were that short.  XDP frames (without fragments) are linear.
** - A read at a run-time offset (LD_IND) gets a check of its own: the offset
**   leave the read below 65536 (the verifier's bound for packet offsets; the
**   check is left out when the block shows it is smaller) and the read
**   inside data_end.  In tc a failure runs the classic load itself (what the read
**   was), which sees the whole packet; in XDP it returns 0.
**
** Programs calling a helper that changes the packet (none bpf.builtins
** names today) keep the classic loads: their pointers would need reloading.
*/
#include <stdlib.h>
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

/* The function being rebuilt: instructions appended to out, the slow
** paths of run-time reads to tail (laid out after the function). */
struct rebuild {
	struct ctx *C;
	struct ir_ins *out, *tail;
	int nout, ntail, cap;
	bool xdp;
	int data, data_end, ctx; /* registers */
	int ret0;		 /* label of the shared `return 0`, -1 not yet */
	bool in_loop;		 /* the block being rebuilt lies in a loop */
	uint64_t *max;		 /* per register: a bound on its value in this block */
	int nmax;		 /* the registers max has (those before the pass) */
};

static struct ir_ins *put(struct rebuild *R, bool to_tail, uint8_t kind, uint16_t pc)
{
	struct ir_ins *i = to_tail ? &R->tail[R->ntail++] : &R->out[R->nout++];
	*i = (struct ir_ins){.kind = kind, .helper = -1, .pc = pc, .label = -1};
	return i;
}

static void op(struct rebuild *R, bool to_tail, uint16_t pc, uint8_t code, int dst, int src, int off,
	       int64_t imm)
{
	struct ir_ins *i = put(R, to_tail, IR_OP, pc);
	i->code = code;
	i->dst = (uint16_t)dst;
	i->src = (uint16_t)src;
	i->off = (int16_t)off;
	i->imm = imm;
}

static void jmp(struct rebuild *R, bool to_tail, uint16_t pc, uint8_t code, int dst, int src,
		int64_t imm, int label)
{
	struct ir_ins *i = put(R, to_tail, IR_JMP, pc);
	i->code = code;
	i->dst = (uint16_t)dst;
	i->src = (uint16_t)src;
	i->imm = imm;
	i->label = label;
}

static void label(struct rebuild *R, bool to_tail, uint16_t pc, int id)
{
	put(R, to_tail, IR_LABEL, pc)->label = id;
}

static int ret0(struct rebuild *R)
{
	if (R->ret0 < 0)
		R->ret0 = label_new(R->C);
	return R->ret0;
}

/* ctx->data and ctx->data_end into their registers. */
static void load_pointers(struct rebuild *R, uint16_t pc)
{
	int d = R->xdp ? (int)offsetof(struct xdp_md, data) : (int)offsetof(struct __sk_buff, data);
	int e = R->xdp ? (int)offsetof(struct xdp_md, data_end)
		       : (int)offsetof(struct __sk_buff, data_end);
	op(R, false, pc, BPF_LDX | BPF_MEM | BPF_W, R->data, R->ctx, d, 0);
	op(R, false, pc, BPF_LDX | BPF_MEM | BPF_W, R->data_end, R->ctx, e, 0);
}

/* tc: min(len, k) bytes pulled into the skb's linear part unless there.
** The path that pulls comes first in the layout, so that the verifier walks
** the program from the join first with the least it knows of the packet,
** and the other paths, knowing more, are found safe at the join. */
static void pull_prologue(struct rebuild *R, uint16_t pc, int64_t k)
{
	struct ctx *C = R->C;
	int n = vreg_new(C), t = vreg_new(C), t2 = vreg_new(C);
	int small = label_new(C), there = label_new(C);
	op(R, false, pc, BPF_ALU64 | BPF_MOV | BPF_X, t, R->data, 0, 0);
	op(R, false, pc, BPF_ALU64 | BPF_ADD | BPF_K, t, 0, 0, k);
	jmp(R, false, pc, BPF_JMP | BPF_JLE | BPF_X, t, R->data_end, 0, there);
	/* shorter than k in the linear part: a short packet, or one in pieces */
	op(R, false, pc, BPF_LDX | BPF_MEM | BPF_W, n, R->ctx, offsetof(struct __sk_buff, len), 0);
	jmp(R, false, pc, BPF_JMP | BPF_JLE | BPF_K, n, 0, k, small);
	op(R, false, pc, BPF_ALU64 | BPF_MOV | BPF_K, n, 0, 0, k);
	label(R, false, pc, small);
	op(R, false, pc, BPF_ALU64 | BPF_MOV | BPF_X, t2, R->data, 0, 0);
	op(R, false, pc, BPF_ALU64 | BPF_ADD | BPF_X, t2, n, 0, 0);
	jmp(R, false, pc, BPF_JMP | BPF_JLE | BPF_X, t2, R->data_end, 0, there); /* all there */
	op(R, false, pc, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, R->ctx, 0, 0);
	op(R, false, pc, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, n, 0, 0);
	struct ir_ins *call = put(R, false, IR_CALL, pc);
	call->code = BPF_JMP | BPF_CALL;
	call->imm = BPF_FUNC_skb_pull_data;
	load_pointers(R, pc); /* the call made every packet pointer void */
	label(R, false, pc, there);
}

/* `t = base + k; if t > DATA_END goto fail` */
static void check(struct rebuild *R, uint16_t pc, int base, int64_t k, int fail)
{
	int t = vreg_new(R->C);
	op(R, false, pc, BPF_ALU64 | BPF_MOV | BPF_X, t, base, 0, 0);
	op(R, false, pc, BPF_ALU64 | BPF_ADD | BPF_K, t, 0, 0, k);
	jmp(R, false, pc, BPF_JMP | BPF_JGT | BPF_X, t, R->data_end, 0, fail);
}

/* r0 = the packet's bytes at base + off in host order, as the classic load gave. */
static void direct_load(struct rebuild *R, uint16_t pc, int base, int64_t off, int width, uint8_t size)
{
	if (off > INT16_MAX) {
		int p = vreg_new(R->C);
		op(R, false, pc, BPF_ALU64 | BPF_MOV | BPF_X, p, base, 0, 0);
		op(R, false, pc, BPF_ALU64 | BPF_ADD | BPF_K, p, 0, 0, off);
		base = p, off = 0;
	}
	op(R, false, pc, BPF_LDX | BPF_MEM | size, BPF_REG_0, base, (int)off, 0);
	if (width > 1)
		op(R, false, pc, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_0, 0, 0, 8 * width);
}

/* The furthest LD_ABS read from instruction i to the first one with an
** effect (or the block's end, last). */
static int64_t furthest_read(const struct ctx *C, int i, int last)
{
	int64_t k = 0;
	for (; i <= last; i++) {
		const struct ir_ins *in = &C->ir[i];
		uint8_t cls = BPF_CLASS(in->code);
		if (in->kind == IR_CALL || in->kind == IR_EXIT || in->kind == IR_JMP)
			break;
		if (in->kind == IR_OP && (cls == BPF_ST || cls == BPF_STX) && in->dst != BPF_REG_10)
			break;
		if (is_classic_load(in) && BPF_MODE(in->code) == BPF_ABS && abs_end(in) > k)
			k = abs_end(in);
	}
	return k;
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

/* An LD_ABS or LD_IND rewritten (or, when direct access cannot reach it,
** kept); cov is what the checks so far cover. */
static void rewrite_load(struct rebuild *R, int i, int last, int64_t *cov)
{
	struct ctx *C = R->C;
	const struct ir_ins *in = &C->ir[i];
	int width = load_width(in);
	uint8_t size = BPF_SIZE(in->code);
	uint16_t pc = in->pc;
	if (BPF_MODE(in->code) == BPF_ABS) {
		int64_t end = abs_end(in);
		if (end < 0) {
			R->out[R->nout++] = *in; /* tc: the classic load says what it should */
			track_max(R, in); /* (the verifier knows nothing of its result) */
			return;
		}
		if (end > *cov) {
			*cov = furthest_read(C, i, last);
			check(R, pc, R->data, *cov, ret0(R));
		}
		direct_load(R, pc, R->data, in->imm, width, size);
		R->max[0] = (1ull << (8 * width)) - 1;
		return;
	}
	int64_t end = in->imm + width;
	if (stays_classic(in) || (R->in_loop && !R->xdp)) {
		R->out[R->nout++] = *in;
		track_max(R, in);
		return;
	}
	int off = in->src, fail = R->xdp ? ret0(R) : label_new(C), cont = label_new(C);
	/* the verifier bounds a checked pointer's offset and the bytes past it together */
	if (R->max[off] > (uint64_t)(MAX_PKT_OFF - end))
		jmp(R, false, pc, BPF_JMP | BPF_JGT | BPF_K, off, 0, MAX_PKT_OFF - end, fail);
	int p = vreg_new(C);
	op(R, false, pc, BPF_ALU64 | BPF_MOV | BPF_X, p, R->data, 0, 0);
	op(R, false, pc, BPF_ALU64 | BPF_ADD | BPF_X, p, off, 0, 0);
	check(R, pc, p, end, fail);
	direct_load(R, pc, p, in->imm, width, size);
	label(R, false, pc, cont);
	if (!R->xdp) {
		/* the slow path: the classic load itself, its result given the
		** range the direct one has, so that the verifier, at the join,
		** finds what follows already walked */
		label(R, true, pc, fail);
		op(R, true, pc, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, R->ctx, 0, 0);
		R->tail[R->ntail++] = *in;
		if (width < 4)
			op(R, true, pc, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, width == 1 ? 0xff : 0xffff);
		else
			op(R, true, pc, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_0, 0, 0);
		jmp(R, true, pc, BPF_JMP | BPF_JA, 0, 0, 0, cont);
	}
	R->max[0] = (1ull << (8 * width)) - 1;
}

/* Is in the `r6 = ctx` translation puts before a classic load? */
static bool ctx_to_r6(const struct ctx *C, const struct ir_ins *in)
{
	return in->kind == IR_OP && in->code == (BPF_ALU64 | BPF_MOV | BPF_X) &&
	       in->dst == BPF_REG_6 && in->src == C->ctx_reg;
}

/* f's instructions replaced by n others; the functions after it move. */
static bool replace_function(struct ctx *C, struct ir_func *f, const struct ir_ins *ins, int n)
{
	int grow = n - f->n, end = f->first + f->n;
	if (C->nir + grow > MAX_IR)
		return false;
	memmove(&C->ir[end + grow], &C->ir[end], sizeof(C->ir[0]) * (size_t)(C->nir - end));
	memcpy(&C->ir[f->first], ins, sizeof(C->ir[0]) * (size_t)n);
	for (struct ir_func *g = C->funcs; g < C->funcs + C->nfuncs; g++)
		if (g->first > f->first)
			g->first += grow;
	f->n = n;
	C->nir += grow;
	return true;
}

void direct_packet(struct ctx *C, const struct ir_func *cf)
{
	struct ir_func *f = &C->funcs[cf - C->funcs];
	if (f != C->funcs)
		return; /* only the program has the context: functions read no packet */
	for (int i = f->first; i < f->first + f->n && !C->packet; i++)
		if (is_classic_load(&C->ir[i]))
			C->packet = PACKET_CLASSIC;
	const char *tname = NULL;
	int type = helper_progtype(C, &tname);
	if ((type != BPF_PROG_TYPE_SCHED_CLS && type != BPF_PROG_TYPE_SCHED_ACT && type != BPF_PROG_TYPE_XDP) ||
	    C->facts.classic_packet)
		return;
	const struct ir_ins *first = &C->ir[f->first];
	if (f->n == 0 || first->kind != IR_OP || first->code != (BPF_ALU64 | BPF_MOV | BPF_X) ||
	    first->dst != C->ctx_reg || first->src != BPF_REG_1)
		return; /* not the program's prologue: nothing to build on */
	int nloads = 0;
	int64_t pull = 0;
	bool changes = false;
	for (int i = f->first; i < f->first + f->n; i++) {
		const struct ir_ins *in = &C->ir[i];
		changes |= in->kind == IR_CALL && in->helper != IR_SUBPROG && changes_packet(in->imm);
		if (is_classic_load(in)) {
			if (type == BPF_PROG_TYPE_XDP && stays_classic(in)) {
				C->pc = in->pc; /* where the message points */
				bpfc_fail(C, "a packet read at offset %lld%s: an XDP program reads the "
					     "first %d bytes of the frame", (long long)in->imm,
					  BPF_MODE(in->code) == BPF_IND ? " past a run-time one" : "", MAX_PKT_OFF);
			}
			nloads++;
			if (BPF_MODE(in->code) == BPF_ABS && abs_end(in) > pull)
				pull = abs_end(in);
		}
	}
	if (!nloads || changes)
		return;

	struct rebuild R = {.C = C, .xdp = type == BPF_PROG_TYPE_XDP, .ctx = C->ctx_reg, .ret0 = -1};
	R.cap = f->n + 16 * nloads + 32;
	R.out = malloc(sizeof(struct ir_ins) * (size_t)R.cap);
	R.tail = malloc(sizeof(struct ir_ins) * (size_t)(5 * nloads + 2));
	R.nmax = C->nvregs;
	R.max = malloc(sizeof(uint64_t) * (size_t)R.nmax);
	int64_t *cov_in = malloc(sizeof(int64_t) * (size_t)(MAX_IR));
	if (!R.out || !R.tail || !R.max || !cov_in) {
		free(R.out), free(R.tail), free(R.max), free(cov_in);
		return; /* without memory the classic loads stay: they are right too */
	}
	R.data = vreg_new(C);
	R.data_end = vreg_new(C);

	ir_cfg(C, f);
	for (int b = 0; b < C->nblk; b++)
		cov_in[b] = b ? INT64_MAX : 0; /* INT64_MAX: no predecessor seen yet */
	bool *in_loop = calloc((size_t)(C->nblk > 0 ? C->nblk : 1), 1);
	for (int b = 0; b < C->nblk; b++)
		for (int s = 0; s < 2; s++)
			if (C->blk[b].succ[s] >= 0 && C->blk[b].back[s]) {
				int h = C->blk[b].succ[s];
				cov_in[h] = 0; /* a loop header: nothing known */
				for (int l = h; l <= b && in_loop; l++)
					in_loop[l] = true;
			}

	R.out[R.nout++] = *first;
	load_pointers(&R, first->pc);
	if (!R.xdp && pull > 0 && !BROKEN(C, pkt_pull))
		pull_prologue(&R, first->pc, pull);
	for (int b = 0; b < C->nblk; b++) {
		const struct ir_block *blk = &C->blk[b];
		int64_t cov = cov_in[b] == INT64_MAX ? 0 : cov_in[b];
		R.in_loop = in_loop && in_loop[b];
		for (int r = 0; r < R.nmax; r++)
			R.max[r] = NO_MAX;
		for (int i = blk->first; i <= blk->last; i++) {
			const struct ir_ins *in = &C->ir[i];
			if (i == f->first)
				continue; /* the prologue, already out */
			if (ctx_to_r6(C, in)) {
				int n = i + 1;
				while (n <= blk->last && C->ir[n].kind == IR_NOP)
					n++;
				const struct ir_ins *ld = &C->ir[n];
				bool kept = stays_classic(ld) || (R.in_loop && !R.xdp && BPF_MODE(ld->code) == BPF_IND);
				if (n <= blk->last && is_classic_load(ld) && !kept)
					continue; /* the rewritten load does not read r6 */
			}
			if (is_classic_load(in)) {
				rewrite_load(&R, i, blk->last, &cov);
			} else {
				R.out[R.nout++] = *in;
				track_max(&R, in);
			}
		}
		for (int s = 0; s < 2; s++) {
			int t = blk->succ[s];
			if (t >= 0 && !blk->back[s] && cov < cov_in[t])
				cov_in[t] = cov;
		}
	}
	memcpy(&R.out[R.nout], R.tail, sizeof(struct ir_ins) * (size_t)R.ntail);
	R.nout += R.ntail;
	if (R.ret0 >= 0) {
		uint16_t pc = C->ir[f->first + f->n - 1].pc;
		label(&R, false, pc, R.ret0);
		op(&R, false, pc, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
		put(&R, false, IR_EXIT, pc)->code = BPF_JMP | BPF_EXIT;
	}
	bool fits = replace_function(C, f, R.out, R.nout);
	free(R.out), free(R.tail), free(R.max), free(cov_in), free(in_loop);
	if (!fits)
		bpfc_fail(C, "program is too long (more than %d instructions)", MAX_INSNS);
	C->packet = PACKET_DIRECT;
}
