/*
** The last stage: IR to BPF instructions.  Labels become relative offsets
** (forward and backward alike), each map load an lddw whose imm the loader
** fills in, recorded as a relocation {instruction, map number}, and each
** call of a subprogram a pseudo call relative to that function's start.
*/
#include "core.h"

static int slots(const struct ir_ins *i)
{
	switch (i->kind) {
	case IR_LABEL:
	case IR_NOP:
		return 0;
	case IR_LD64:
	case IR_MAP:
		return 2;
	default:
		return 1;
	}
}

void encode(struct ctx *C)
{
	for (int l = 0; l < C->nlabels; l++)
		C->label_pos[l] = -1;
	int pos = 0, func_pos[IR_MAX_FUNCS] = {0};
	for (int i = 0, f = 0; i < C->nir; i++) {
		while (f < C->nfuncs && i == C->funcs[f].first)
			func_pos[f++] = pos;
		if (C->ir[i].kind == IR_LABEL)
			C->label_pos[C->ir[i].label] = pos;
		pos += slots(&C->ir[i]);
	}
	for (int f = 0; f < C->nfuncs; f++)
		C->funcs[f].insn = func_pos[f];
	if (pos > MAX_INSNS)
		bpfc_fail(C, "program is too long (%d instructions, at most %d)", pos, MAX_INSNS);
	C->ninsn = 0;
	C->nreloc = 0;
	C->ncorerel = 0;
	for (int i = 0; i < C->nir; i++) {
		const struct ir_ins *in = &C->ir[i];
		int n = slots(in);
		if (!n)
			continue;
		int k = C->ninsn;
		if (is_packet_store(in) || (in->kind == IR_OP && BPF_CLASS(in->code) == BPF_LD &&
					    BPF_MODE(in->code) != BPF_IMM && in->off == PK_RAW))
			bpfc_fail(C, "internal: a packet store or raw load direct_packet did not make direct");
		if (in->dst > BPF_REG_10 || in->src > BPF_REG_10)
			bpfc_fail(C, "internal: register %d was never given a BPF register",
				  in->dst > BPF_REG_10 ? in->dst : in->src);
		struct bpf_insn *e = &C->insn[k];
		*e = (struct bpf_insn){.code = in->code, .dst_reg = in->dst, .src_reg = in->src,
				       .off = in->off, .imm = (int32_t)in->imm};
		C->insn_bc[k] = in->pc;
		if (in->kind == IR_JMP) {
			int t = C->label_pos[in->label];
			if (t < 0)
				bpfc_fail(C, "internal: a jump to a label that was never placed");
			if (t - (k + 1) < INT16_MIN || t - (k + 1) > INT16_MAX)
				bpfc_fail(C, "a jump is too far (more than 32767 instructions)");
			e->off = (int16_t)(t - (k + 1));
		}
		if ((in->kind == IR_OP && in->label >= 0) || (in->kind == IR_CALL && in->helper == IR_KFUNC))
			btf_encoded(C, in, k);
		if (in->kind == IR_CALL && in->helper == IR_SUBPROG) { /* relative, like a jump */
			e->src_reg = BPF_PSEUDO_CALL;
			e->off = 0;
			e->imm = func_pos[C->subs[in->imm].func] - (k + 1);
		}
		if (n == 2) {
			C->insn[k + 1] = (struct bpf_insn){.imm = (int32_t)((uint64_t)in->imm >> 32)};
			C->insn_bc[k + 1] = in->pc;
		}
		if (in->kind == IR_LD64 && in->helper == IR_SUBPROG) { /* a callback's address */
			e->src_reg = BPF_PSEUDO_FUNC;
			e->imm = func_pos[C->subs[in->imm].func] - (k + 1);
			C->insn[k + 1].imm = 0;
		}
		if (in->kind == IR_MAP) {
			e->imm = 0;
			C->insn[k + 1].imm = 0;
			C->reloc[C->nreloc++] = (struct reloc){k, (int)in->imm};
		}
		C->ninsn += n;
	}
}
