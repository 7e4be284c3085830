/*
** Disassembler: one instruction to text. The assembler (asm.h) reads back
** all of it; the layouts are the templates of BPFC_FMTDEF in isa.h.
**
** classic   The 2016 bpf.dump layout NAME DST SRC [=> target | ; helper],
**           tab-separated: "ADD R1 #2", "LDXW R0 [R1+0]", "JEQ R1 #0 => 0012"
**           (absolute pc), "CALL R0 #1 ; map_lookup_elem", "XADDDW [R0+0] R1",
**           "LDB R0 skb[23]". Names end in 32 for the 32-bit ALU/JMP class and
**           in B/H/W/DW for a memory size; lddw is one line with its 64-bit
**           value. Comments start with ';'.
** pseudo-C  As LLVM and GNU as print it: "w1 += w2", "r1 s/= r2",
**           "if r1 > 5 goto +2", "r0 = *(u16 *)skb[r1 + 4]",
**           "lock *(u32 *)(r1 + 0) += w2", "r0 = cmpxchg_64(r1 + 0, r0, r2)".
**           A helper call prints as "call 1 // map_lookup_elem" (llvm-mc reads
**           it back); a local call "call pc+3"; a kfunc "call kfunc[id,off]".
**           lddw's pseudo sources: "r1 = map[fd:5] ll", "map[fd:5]+16 ll" (map
**           value), "map[idx:2]", "map[idx:2]+16", "btf[id:77,fd:0]",
**           "func[pc+5]". Comments start with "//" ('#' and ';' also read).
** mnemonic  As ubpf and sBPF: "add64 r1, 2", "ldxdw r0, [r10 - 8]",
**           "jeq r1, 42, +3", "be16 r1", "lddw r1, 5", "call 1 // name".
**           Newer instructions are named in the same style: sdiv/smod,
**           movsx{b,h}{64,32}, movsxw64, bswap16, ja32 (gotol), may_goto,
**           ldxs{b,h,w}, xadd, aor, aand, axor, afadd..., axchg, acmpxchg,
**           ldacq, strel, ascast. Also read: "add" for add64 (ubpf), "return"
**           and "syscall N" (sBPF before v3), "[r1]" without offset.
** Jumps are relative ("+3", "pc+3") but in classic. callx keeps its register
** in dst_reg (GCC, LLVM 19); the kernel rejects callx.
**
** Dialects (bpfc_disasm_dialect): the kernel's eBPF, or sBPF v1, v2, v3 in
** their own encodings, in the mnemonic syntax only. sbpf-v1: the kernel's
** older subset (no JMP32, no cpu v4, no atomics, no packet loads, plain
** lddw only), "callx r3" with the register in imm. sbpf-v2: mul, div, mod,
** neg, le and lddw gone; the product/quotient class (class 6: lmul32/64,
** uhmul64, shmul64, udiv32/64, urem32/64, sdiv32/64, srem32/64) and hor64
** (0xf7) new; loads and stores moved into the ALU classes (ldxb 0x2c,
** stb 0x27, stxb 0x2f, ...); callx's register in src_reg. sbpf-v3: as v2,
** and "syscall N" takes exit's opcode 0x95, "return" is 0x9d, functions are
** called by offset ("call pc+3", src_reg 1), "call N" (src_reg 0) is gone.
** The table rows say which dialect has what (isa.h, D_*).
*/
#ifndef BPFC_DISASM_H
#define BPFC_DISASM_H

#include <linux/bpf.h>
#include <stddef.h>

#include "isa.h"

/* Format insns[pc] into buf. Returns the slots it takes (1, or 2 for lddw),
** -EINVAL with the reason in buf for an invalid instruction, -ENOSPC when
** buf is too small (buf then holds the truncated text). */
BPFC_API int bpfc_disasm_insn(const struct bpf_insn *insns, size_t n, size_t pc, int syntax,
                              char *buf, size_t size);

/* The same in a dialect (enum bpfc_dialect). */
BPFC_API int bpfc_disasm_dialect(const struct bpf_insn *insns, size_t n, size_t pc, int syntax,
                                 int dialect, char *buf, size_t size);

#endif
