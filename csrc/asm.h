/*
** Assembler: text in the classic, pseudo-C or mnemonic syntax to
** instructions, matching each line against the ISA table's templates.
*/
#ifndef BPFC_ASM_H
#define BPFC_ASM_H

#include <linux/bpf.h>
#include <stddef.h>

#include "isa.h"

/* Assemble text (one instruction a line; blank lines, comments, a leading
** pc counter; labels "name:" and jumps to them in pseudo-C and mnemonic)
** into out[0..cap). Returns the slot count, or a negative errno with
** "line N: why" in err. With out == NULL it only counts. */
BPFC_API int bpfc_asm(const char *text, int syntax, struct bpf_insn *out, size_t cap, char *err,
                      size_t errsz);

#endif
