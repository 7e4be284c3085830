/*
** Passes over the finished program: drop what turned out to be useless
** (the context copy when nothing reads R6, jumps to the next instruction).
*/
#include <string.h>
#include "core.h"

static bool is_jump(const struct bpf_insn *i)
{
	uint8_t cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

static bool is_ld64(const struct bpf_insn *i)
{
	return i->code == (BPF_LD | BPF_DW | BPF_IMM);
}

/* Remove instruction k, re-aiming every jump across it. */
static void delete_insn(struct ctx *C, int k)
{
	for (int i = 0; i < C->ninsn; i++) {
		struct bpf_insn *j = &C->insn[i];
		if (!is_jump(j) || i == k)
			continue;
		int t = i + j->off + 1;
		if (i < k && t > k)
			j->off--;
		else if (i > k && t <= k)
			j->off++;
	}
	memmove(&C->insn[k], &C->insn[k + 1], (size_t)(C->ninsn - k - 1) * sizeof(C->insn[0]));
	memmove(&C->insn_bc[k], &C->insn_bc[k + 1],
		(size_t)(C->ninsn - k - 1) * sizeof(C->insn_bc[0]));
	C->ninsn--;
	/* map relocations point at instruction indexes too */
	for (int m = 0; m < C->nmaps; m++)
		if (C->reloc[m].insn > k)
			C->reloc[m].insn--;
}

static bool reads_r6(const struct bpf_insn *i)
{
	uint8_t cls = BPF_CLASS(i->code), mode = BPF_MODE(i->code);
	if (cls == BPF_LD && (mode == BPF_ABS || mode == BPF_IND))
		return true;
	return i->src_reg == 6 || i->dst_reg == 6;
}

static bool is_target(const struct ctx *C, int k)
{
	for (int i = 0; i < C->ninsn; i++) {
		const struct bpf_insn *j = &C->insn[i];
		if (is_jump(j) && i + j->off + 1 == k)
			return true;
		if (is_ld64(j))
			i++;
	}
	return false;
}

/* Does insn write its dst register without reading it first? */
static bool writes_fresh(const struct bpf_insn *i)
{
	uint8_t cls = BPF_CLASS(i->code);
	if (cls == BPF_LDX)
		return true;
	if ((cls == BPF_ALU64 || cls == BPF_ALU) && BPF_OP(i->code) == BPF_MOV)
		return BPF_SRC(i->code) == BPF_K || i->src_reg != i->dst_reg;
	return false;
}

/* `rX = <value>; r0 = rX; exit` becomes `r0 = <value>; exit`. */
static void return_in_r0(struct ctx *C)
{
	for (int i = 1; i + 1 < C->ninsn; i++) {
		struct bpf_insn *mov = &C->insn[i], *def = &C->insn[i - 1];
		if (mov->code != (BPF_ALU64 | BPF_MOV | BPF_X) || mov->dst_reg != 0 ||
		    C->insn[i + 1].code != (BPF_JMP | BPF_EXIT))
			continue;
		if (i >= 2 && is_ld64(&C->insn[i - 2]))
			continue; /* def is the second half of an lddw */
		if (def->dst_reg != mov->src_reg || !writes_fresh(def) || is_target(C, i))
			continue;
		def->dst_reg = 0;
		delete_insn(C, i);
	}
}

void pass_run(struct ctx *C)
{
	/* jumps to the very next instruction do nothing */
	for (int i = 0; i < C->ninsn; i++) {
		if (is_ld64(&C->insn[i])) {
			i++;
			continue;
		}
		if (is_jump(&C->insn[i]) && C->insn[i].off == 0) {
			delete_insn(C, i);
			i--;
		}
	}
	return_in_r0(C);
	/* the prologue's `r6 = r1` when nothing uses r6 */
	if (C->ninsn > 0 && C->insn[0].code == (BPF_ALU64 | BPF_MOV | BPF_X) &&
	    C->insn[0].dst_reg == 6 && C->insn[0].src_reg == 1) {
		bool used = false;
		for (int i = 1; i < C->ninsn && !used; i++) {
			if (is_ld64(&C->insn[i])) {
				i++;
				continue;
			}
			used = reads_r6(&C->insn[i]);
		}
		if (!used)
			delete_insn(C, 0);
	}
}
