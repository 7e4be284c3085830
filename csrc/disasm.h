/*
** Disassembler: one instruction to text in the classic (2016 bpf.dump),
** pseudo-C (LLVM, GNU as) or mnemonic (ubpf, sBPF) syntax.
*/
#ifndef BPFC_DISASM_H
#define BPFC_DISASM_H

#include <stddef.h>
#include <linux/bpf.h>

#include "isa.h"

/* Format insns[pc] into buf. Returns the slots it takes (1, or 2 for lddw),
** -EINVAL with the reason in buf for an invalid instruction, -ENOSPC when
** buf is too small (buf then holds the truncated text). */
BPFC_API int bpfc_disasm_insn(const struct bpf_insn *insns, size_t n, size_t pc, int syntax,
			      char *buf, size_t size);

#endif
