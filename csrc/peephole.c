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
	lua_State *L = C->L;
	for (int m = 1; m <= C->nmaps; m++) {
		lua_rawgeti(L, C->maps_ref, m);
		lua_getfield(L, -1, "insn");
		int at = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
		if (at > k) {
			lua_pushinteger(L, at - 1);
			lua_setfield(L, -2, "insn");
		}
		lua_pop(L, 1);
	}
}

static bool reads_r6(const struct bpf_insn *i)
{
	uint8_t cls = BPF_CLASS(i->code), mode = BPF_MODE(i->code);
	if (cls == BPF_LD && (mode == BPF_ABS || mode == BPF_IND))
		return true;
	return i->src_reg == 6 || i->dst_reg == 6;
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
