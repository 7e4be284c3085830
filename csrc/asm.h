/*
** Assembler: text in the classic, pseudo-C or mnemonic syntax to
** instructions, matching each line against the ISA table's templates.
*/
#ifndef BPFC_ASM_H
#define BPFC_ASM_H

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#include "isa.h"

/* A map an lddw names (by opts.maps[map]) at slot insn. */
struct bpfc_asm_reloc {
	uint32_t insn, map;
};
/* A label: the slot it names, its name at text + off. */
struct bpfc_asm_label {
	uint32_t pc, off, len;
};

struct bpfc_asm_opts {
	size_t sz;          /* sizeof(struct bpfc_asm_opts) */
	int syntax;         /* enum bpfc_syntax, or BPFC_SYNTAX_GNU */
	int dialect;        /* enum bpfc_dialect (not the kernel's: mnemonic only) */
	const char *const *maps; /* names an lddw may load as a map */
	size_t nmaps;
	struct bpfc_asm_reloc *relocs; /* out, up to reloc_cap; nrelocs counts all */
	size_t reloc_cap, nrelocs;
	struct bpfc_asm_label *labels; /* out, up to label_cap; nlabels counts all */
	size_t label_cap, nlabels;
	int32_t *lines; /* out: the source line of each slot (cap entries), or NULL */
};

/* Assemble text (one instruction a line; blank lines, comments, a leading
** pc counter; labels "name:" and jumps to them in pseudo-C and mnemonic)
** into out[0..cap). Returns the slot count, or a negative errno with
** "LINE:COLUMN: why" in err. With out == NULL it only counts. */
BPFC_API int bpfc_asm_text(const char *text, struct bpfc_asm_opts *opts, struct bpf_insn *out,
                           size_t cap, char *err, size_t errsz);
/* The same in one syntax, the kernel's dialect, no maps. */
BPFC_API int bpfc_asm(const char *text, int syntax, struct bpf_insn *out, size_t cap, char *err,
                      size_t errsz);

#endif
