/*
** The IR's control-flow graph, compaction after passes, and its printed
** form (bpf.dump(prog, {stage = 'ir'})).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "disasm.h"

static bool ends_block(const struct ir_ins *i)
{
	return i->kind == IR_JMP || i->kind == IR_EXIT;
}

/* Cut f into blocks: C->blk[0 .. C->nblk), C->lab2blk maps each label to
** its block.  Consecutive labels open one block. */
void ir_cfg(struct ctx *C, const struct ir_func *f)
{
	struct ir_block *b = C->blk;
	int *lab2blk = C->lab2blk;
	int nb = 0;
	bool open = false, body = false;
	for (int i = f->first; i < f->first + f->n; i++) {
		const struct ir_ins *in = &C->ir[i];
		if (in->kind == IR_NOP)
			continue;
		if (!open || (in->kind == IR_LABEL && body)) {
			b[nb++] = (struct ir_block){.first = i, .label = -1, .succ = {-1, -1}};
			open = true;
			body = false;
		}
		struct ir_block *cur = &b[nb - 1];
		cur->last = i;
		if (in->kind == IR_LABEL) {
			lab2blk[in->label] = nb - 1;
			if (cur->label < 0)
				cur->label = in->label;
			continue;
		}
		body = true;
		if (ends_block(in))
			open = false;
	}
	for (int k = 0; k < nb; k++) {
		const struct ir_ins *last = &C->ir[b[k].last];
		bool falls = last->kind != IR_EXIT &&
			     !(last->kind == IR_JMP && last->code == (BPF_JMP | BPF_JA));
		if (falls && k + 1 < nb)
			b[k].succ[0] = k + 1;
		if (last->kind == IR_JMP)
			b[k].succ[1] = lab2blk[last->label];
		for (int e = 0; e < 2; e++) {
			if (b[k].succ[e] < 0)
				continue;
			b[k].back[e] = b[k].succ[e] <= k;
			b[b[k].succ[e]].npred++;
		}
	}
	C->nblk = nb;
}

/* Translation made the subprograms first (a call needs to know what its
** callee returns): move the program's own code, funcs[0], to the front,
** where execution starts; the callbacks made after it stay after it. */
void ir_main_first(struct ctx *C)
{
	int s = C->funcs[0].first, m = C->funcs[0].n;
	if (s == 0)
		return;
	struct ir_ins *subs = malloc(sizeof(*subs) * (size_t)s);
	if (!subs)
		bpfc_fail(C, "out of memory (laying out subprograms)");
	memcpy(subs, C->ir, sizeof(*subs) * (size_t)s);
	memmove(C->ir, C->ir + s, sizeof(*subs) * (size_t)m);
	memcpy(C->ir + m, subs, sizeof(*subs) * (size_t)s);
	free(subs);
	C->funcs[0].first = 0;
	for (int f = 1; f < C->nfuncs; f++) /* those after it (its callbacks) stay */
		if (C->funcs[f].first < s)
			C->funcs[f].first += m;
}

/* For a pass that rebuilds a function: in appended after the IR there is
** (as emit.c appends), and the function's code then replaced by what was
** appended from start on (the old code is still in place until then, so
** the new always fits). */
void ir_append(struct ctx *C, const struct ir_ins *in)
{
	if (C->nir >= MAX_IR)
		bpfc_fail(C, "program is too long (more than %d instructions)", MAX_INSNS);
	C->ir[C->nir++] = *in;
}

void ir_rebuilt(struct ctx *C, struct ir_func *f, int start)
{
	int n = C->nir - start, grow = n - f->n, end = f->first + f->n;
	struct ir_ins *code = scratch(C, sizeof(*code) * (size_t)n);
	memcpy(code, &C->ir[start], sizeof(*code) * (size_t)n);
	C->nir = start;
	memmove(&C->ir[end + grow], &C->ir[end], sizeof(C->ir[0]) * (size_t)(C->nir - end));
	memcpy(&C->ir[f->first], code, sizeof(*code) * (size_t)n);
	for (struct ir_func *g = C->funcs; g < C->funcs + C->nfuncs; g++)
		if (g->first > f->first)
			g->first += grow;
	f->n = n;
	C->nir += grow;
	scratch_pop(C, 1);
}

/* Drop the instructions passes deleted (IR_NOP). */
void ir_compact(struct ctx *C)
{
	for (int f = 0; f < C->nfuncs; f++) {
		struct ir_func *fn = &C->funcs[f];
		int out = f ? C->funcs[f - 1].first + C->funcs[f - 1].n : 0;
		int first = out;
		for (int i = fn->first; i < fn->first + fn->n; i++)
			if (C->ir[i].kind != IR_NOP)
				C->ir[out++] = C->ir[i];
		fn->first = first;
		fn->n = out - first;
	}
	struct ir_func *last = &C->funcs[C->nfuncs - 1];
	C->nir = last->first + last->n;
}

/* Put a label before instruction at of f; false when the IR is full. */
bool ir_insert_label(struct ctx *C, struct ir_func *f, int at, int label)
{
	if (C->nir + 1 > MAX_IR)
		return false;
	memmove(&C->ir[at + 1], &C->ir[at], sizeof(C->ir[0]) * (size_t)(C->nir - at));
	C->ir[at] = (struct ir_ins){.kind = IR_LABEL, .helper = -1, .pc = C->ir[at + 1].pc,
				    .label = label};
	f->n++;
	C->nir++;
	for (struct ir_func *g = f + 1; g < C->funcs + C->nfuncs; g++)
		g->first++;
	return true;
}

/* One instruction as pseudo-C, jumps naming their target block. */
static void ins_text(const struct ir_ins *in, int target_blk, char *buf, size_t size)
{
	struct bpf_insn e[2] = {{0}};
	e[0].code = in->code;
	e[0].dst_reg = in->dst;
	e[0].src_reg = in->src;
	e[0].off = in->off;
	e[0].imm = (int32_t)in->imm;
	e[1].imm = (int32_t)((uint64_t)in->imm >> 32);
	if (in->kind == IR_MAP) {
		e[0].src_reg = BPF_PSEUDO_MAP_IDX;
		e[1].imm = 0;
	}
	if (in->kind == IR_CALL && in->helper >= 0) {
		snprintf(buf, size, "call %s", helpers[in->helper].name);
		return;
	}
	if (in->kind == IR_CALL && in->helper == IR_KFUNC) {
		snprintf(buf, size, "call kfunc %d", (int)in->imm);
		return;
	}
	if (in->kind == IR_CALL && in->helper == IR_SUBPROG) {
		snprintf(buf, size, "call function %d", (int)in->imm + 1);
		return;
	}
	if (in->kind == IR_LD64 && in->helper == IR_SUBPROG) {
		snprintf(buf, size, "r%d = &function %d", in->dst, (int)in->imm + 1);
		return;
	}
	if (bpfc_disasm_insn(e, 2, 0, BPFC_SYNTAX_PSEUDOC, buf, size) < 0)
		return;
	if (in->kind == IR_JMP) { /* "... goto +0" */
		size_t n = strlen(buf);
		if (n >= 2 && !strcmp(buf + n - 2, "+0"))
			snprintf(buf + n - 2, size - (n - 2), "b%d", target_blk);
	}
}

/* f's IR after pass, on stderr (BPFC_IR_AFTER=pass: a look while working on the passes). */
void ir_print(struct ctx *C, const struct ir_func *f, const char *pass)
{
	ir_cfg(C, f);
	fprintf(stderr, "-- %s, after %s\n", f->name, pass);
	for (int k = 0; k < C->nblk; k++) {
		fprintf(stderr, "b%d: preds %d -> %d %d\n", k, C->blk[k].npred, C->blk[k].succ[0], C->blk[k].succ[1]);
		for (int i = C->blk[k].first; i <= C->blk[k].last; i++) {
			const struct ir_ins *in = &C->ir[i];
			if (in->kind == IR_LABEL || in->kind == IR_NOP)
				continue;
			/* virtual registers printed as r8 (dst) and r9 (src), named after */
			struct ir_ins t = *in;
			char buf[160], out[200];
			if (t.dst >= IR_VREG0)
				t.dst = 8;
			if (t.src >= IR_VREG0)
				t.src = 9;
			ins_text(&t, in->kind == IR_JMP ? C->lab2blk[in->label] : -1, buf, sizeof(buf));
			size_t o = 0;
			for (const char *p = buf; *p && o + 12 < sizeof(out); p++) {
				bool reg = (*p == 'r' || *p == 'w') && (p[1] == '8' || p[1] == '9') &&
					   !(p[2] >= '0' && p[2] <= '9') && (p == buf || !(p[-1] >= 'a' && p[-1] <= 'z'));
				int v = !reg ? -1 : p[1] == '8' ? (in->dst >= IR_VREG0 ? in->dst : -1)
								 : (in->src >= IR_VREG0 ? in->src : -1);
				if (v >= 0) {
					o += (size_t)snprintf(out + o, sizeof(out) - o, "%c%d", *p == 'w' ? 'u' : 'v', v);
					p++;
				} else {
					out[o++] = *p;
				}
			}
			out[o] = 0;
			fprintf(stderr, "    %s\n", out);
		}
	}
}

/* Push the IR as a list of { text =, pc = } rows: a header per block
** (its number, label, predecessors count and successors), then its
** instructions. */
void ir_push(struct ctx *C)
{
	lua_State *L = C->L;
	const struct ir_block *b = C->blk;
	lua_newtable(L);
	int row = 0;
	for (int f = 0; f < C->nfuncs; f++) {
		const struct ir_func *fn = &C->funcs[f];
		ir_cfg(C, fn);
		int nb = C->nblk;
		char buf[160];
		snprintf(buf, sizeof(buf), "function %s", fn->name);
		lua_createtable(L, 0, 2);
		lua_pushstring(L, buf);
		lua_setfield(L, -2, "text");
		lua_rawseti(L, -2, ++row);
		for (int k = 0; k < nb; k++) {
			int n = snprintf(buf, sizeof(buf), "b%d:", k);
			if (b[k].label >= 0 && b[k].label < fn->nbc)
				n += snprintf(buf + n, sizeof(buf) - (size_t)n, " (bytecode %d)", b[k].label);
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " preds %d ->", b[k].npred);
			for (int e = 0; e < 2; e++)
				if (b[k].succ[e] >= 0)
					n += snprintf(buf + n, sizeof(buf) - (size_t)n, " b%d%s", b[k].succ[e],
						      b[k].back[e] ? " (back)" : "");
			if (b[k].succ[0] < 0 && b[k].succ[1] < 0)
				snprintf(buf + n, sizeof(buf) - (size_t)n, " exit");
			lua_createtable(L, 0, 2);
			lua_pushstring(L, buf);
			lua_setfield(L, -2, "text");
			lua_rawseti(L, -2, ++row);
			for (int i = b[k].first; i <= b[k].last; i++) {
				const struct ir_ins *in = &C->ir[i];
				if (in->kind == IR_LABEL || in->kind == IR_NOP)
					continue;
				ins_text(in, in->kind == IR_JMP ? C->lab2blk[in->label] : -1, buf, sizeof(buf));
				lua_createtable(L, 0, 2);
				lua_pushstring(L, buf);
				lua_setfield(L, -2, "text");
				lua_pushinteger(L, C->bc[in->pc].opc);
				lua_setfield(L, -2, "pc");
				if (C->bc[in->pc].fn) { /* from a function inlined */
					k_push(C, C->fn_ref[C->bc[in->pc].fn]);
					lua_setfield(L, -2, "fn");
				}
				lua_rawseti(L, -2, ++row);
			}
		}
	}
}

/* Does in read / write register r (explicitly or as the ISA's implicit
** operand)?  Most instructions name their registers in dst and src only:
** those are answered without working out their operands. */
static bool names_only(const struct ir_ins *in)
{
	uint8_t cls = BPF_CLASS(in->code);
	if (in->kind == IR_JMP)
		return true;
	/* (a classic load reads r6 and writes r0-r5; an atomic cmpxchg reads and writes r0) */
	return in->kind == IR_OP && cls != BPF_LD && !(cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC);
}

bool ir_reads(const struct ir_ins *in, int r)
{
	if (in->kind == IR_NOP || in->kind == IR_LABEL || (names_only(in) && in->dst != r && in->src != r))
		return false;
	struct operands o = ir_operands(in, false);
	return (o.use_dst && in->dst == r) || (o.use_src && in->src == r) || (r < 16 && ((o.uses >> r) & 1));
}

bool ir_writes(const struct ir_ins *in, int r)
{
	if (in->kind == IR_NOP || in->kind == IR_LABEL || (names_only(in) && in->dst != r && in->src != r))
		return false;
	struct operands o = ir_operands(in, false);
	return (o.def_dst && in->dst == r) || (o.def_src && in->src == r) || (r < 16 && ((o.defs >> r) & 1));
}
