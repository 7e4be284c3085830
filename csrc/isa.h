/*
** The eBPF instruction set as one table.
**
** Every other view of the ISA (the encoder, the decoder and its validity
** checks, the names and operand layouts in each assembly syntax, the
** assembler's lookup) is generated from BPFC_ISADEF and BPFC_FMTDEF below.
** Do not retype an opcode list anywhere else.
*/
#ifndef BPFC_ISA_H
#define BPFC_ISA_H

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#define BPFC_API __attribute__((visibility("default")))

/* Encodings newer than the oldest <linux/bpf.h> we build against. */
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0
#endif
#ifndef BPF_LOAD_ACQ
#define BPF_LOAD_ACQ 0x100
#endif
#ifndef BPF_STORE_REL
#define BPF_STORE_REL 0x110
#endif
#ifndef BPF_ADDR_SPACE_CAST
#define BPF_ADDR_SPACE_CAST 1
#endif

enum bpfc_syntax { BPFC_SYNTAX_CLASSIC = 0, BPFC_SYNTAX_PSEUDOC = 1, BPFC_SYNTAX_MNEMONIC = 2 };
#define BPFC_SYNTAX__MAX 3
/* Assembler input only: GNU as's mix of pseudo-C and its normal syntax
** (mnemonic, registers also written %r1), tried line by line. */
#define BPFC_SYNTAX_GNU 3

/*
** Dialects: the kernel's eBPF, or a version of sBPF (Solana's VM), which
** share most of the table. A row lists the dialects it exists in. sBPF has
** no JMP32 class: its class 6 is the product/quotient/remainder class (the
** rows that exist in sBPF only). From sbpf-v2 on, loads and stores live in
** the ALU classes (bpfc_isa_to_canon maps their codes onto the kernel's).
*/
enum bpfc_dialect { BPFC_DIALECT_KERNEL = 0, BPFC_DIALECT_SBPF1 = 1, BPFC_DIALECT_SBPF2 = 2,
	            BPFC_DIALECT_SBPF3 = 3 };
#define BPFC_DIALECT__MAX 4
#define D_K 0x1u
#define D_S1 0x2u
#define D_S2 0x4u
#define D_S3 0x8u
#define D_ALL (D_K | D_S1 | D_S2 | D_S3)
#define D_K1 (D_K | D_S1)          /* gone from sbpf-v2 */
#define D_K12 (D_K | D_S1 | D_S2)  /* gone from sbpf-v3 */
#define D_K3 (D_K | D_S3)          /* kernel and sbpf-v3 */
#define D_S23 (D_S2 | D_S3)        /* new in sbpf-v2 */

/* Which classes a row exists in (bit per class). Pairs get a width suffix. */
#define BPFC_C(c) (1u << (c))
#define C_ALU2 (BPFC_C(BPF_ALU) | BPFC_C(BPF_ALU64))
#define C_JMP2 (BPFC_C(BPF_JMP) | BPFC_C(BPF_JMP32))
#define C_ALU32 BPFC_C(BPF_ALU)
#define C_ALU64 BPFC_C(BPF_ALU64)
#define C_JMP BPFC_C(BPF_JMP)
#define C_JMP32 BPFC_C(BPF_JMP32)
#define C_LD BPFC_C(BPF_LD)
#define C_LDX BPFC_C(BPF_LDX)
#define C_ST BPFC_C(BPF_ST)
#define C_STX BPFC_C(BPF_STX)

/*
** Variant: code bits 3-4, i.e. (code >> 3) & 3. For ALU/JMP that is the
** source (K=0, X=1; bit 4 belongs to the op), for memory the size
** (W=0, H=1, B=2, DW=3). A row lists its variants as a bit mask.
*/
#define V_K 0x1
#define V_X 0x2
#define V_KX 0x3
#define V_W 0x1
#define V_H 0x2
#define V_B 0x4
#define V_DW 0x8
#define V_WD (V_W | V_DW)
#define V_BHW (V_B | V_H | V_W)
#define V_ALL (V_BHW | V_DW)

/* The field (besides code) that tells rows sharing an opcode apart. */
enum { M_NONE, M_OFF, M_IMM, M_SRC };

/*
** One row per instruction form. Columns:
**   id, classes, op (code bits 4-7, or mode bits 5-7 for memory classes),
**   variants, match field, match value, operand format,
**   classic name, mnemonic name (both get width/size suffixes, see
**   bpfc_isa_name: "ld" + "dw" is lddw), pseudo-C token (operator, cast
**   or keyword for the format's pseudo-C template), dialects (D_*).
*/
/* clang-format off */
#define BPFC_ISADEF(_) \
  /* ALU and ALU64 */ \
  _(ADD,     C_ALU2,  BPF_ADD,  V_KX, M_OFF, 0,  ALU,    "ADD",    "add",    "+=", D_ALL) \
  _(SUB,     C_ALU2,  BPF_SUB,  V_KX, M_OFF, 0,  ALU,    "SUB",    "sub",    "-=", D_ALL) \
  _(MUL,     C_ALU2,  BPF_MUL,  V_KX, M_OFF, 0,  ALU,    "MUL",    "mul",    "*=", D_K1) \
  _(DIV,     C_ALU2,  BPF_DIV,  V_KX, M_OFF, 0,  ALU,    "DIV",    "div",    "/=", D_K1) \
  _(SDIV,    C_ALU2,  BPF_DIV,  V_KX, M_OFF, 1,  ALU,    "SDIV",   "sdiv",   "s/=", D_K) \
  _(OR,      C_ALU2,  BPF_OR,   V_KX, M_OFF, 0,  ALU,    "OR",     "or",     "|=", D_ALL) \
  _(AND,     C_ALU2,  BPF_AND,  V_KX, M_OFF, 0,  ALU,    "AND",    "and",    "&=", D_ALL) \
  _(LSH,     C_ALU2,  BPF_LSH,  V_KX, M_OFF, 0,  ALU,    "LSH",    "lsh",    "<<=", D_ALL) \
  _(RSH,     C_ALU2,  BPF_RSH,  V_KX, M_OFF, 0,  ALU,    "RSH",    "rsh",    ">>=", D_ALL) \
  _(NEG,     C_ALU2,  BPF_NEG,  V_K,  M_OFF, 0,  NEG,    "NEG",    "neg",    "-", D_K1) \
  _(MOD,     C_ALU2,  BPF_MOD,  V_KX, M_OFF, 0,  ALU,    "MOD",    "mod",    "%=", D_K1) \
  _(SMOD,    C_ALU2,  BPF_MOD,  V_KX, M_OFF, 1,  ALU,    "SMOD",   "smod",   "s%=", D_K) \
  _(XOR,     C_ALU2,  BPF_XOR,  V_KX, M_OFF, 0,  ALU,    "XOR",    "xor",    "^=", D_ALL) \
  _(MOV,     C_ALU2,  BPF_MOV,  V_KX, M_OFF, 0,  ALU,    "MOV",    "mov",    "=", D_ALL) \
  _(MOVSXB,  C_ALU2,  BPF_MOV,  V_X,  M_OFF, 8,  MOVSX,  "MOVSXB", "movsxb", "s8", D_K) \
  _(MOVSXH,  C_ALU2,  BPF_MOV,  V_X,  M_OFF, 16, MOVSX,  "MOVSXH", "movsxh", "s16", D_K) \
  _(MOVSXW,  C_ALU64, BPF_MOV,  V_X,  M_OFF, 32, MOVSX,  "MOVSXW", "movsxw64", "s32", D_K) \
  _(ASCAST,  C_ALU64, BPF_MOV,  V_X,  M_OFF, BPF_ADDR_SPACE_CAST, ASCAST, "ASCAST", "ascast", "", D_K) \
  _(ARSH,    C_ALU2,  BPF_ARSH, V_KX, M_OFF, 0,  ALU,    "ARSH",   "arsh",   "s>>=", D_ALL) \
  _(LE,      C_ALU32, BPF_END,  V_K,  M_NONE, 0, END,    "LE",     "le",     "le", D_K1) \
  _(BE,      C_ALU32, BPF_END,  V_X,  M_NONE, 0, END,    "BE",     "be",     "be", D_ALL) \
  _(BSWAP,   C_ALU64, BPF_END,  V_K,  M_NONE, 0, END,    "BSWAP",  "bswap",  "bswap", D_K) \
  /* JMP and JMP32 */ \
  _(JA,      C_JMP,   BPF_JA,   V_K,  M_NONE, 0, JA,     "JA",     "ja",     "", D_ALL) \
  _(GOTOL,   C_JMP32, BPF_JA,   V_K,  M_NONE, 0, GOTOL,  "JA32",   "ja32",   "", D_K) \
  _(JEQ,     C_JMP2,  BPF_JEQ,  V_KX, M_NONE, 0, JCOND,  "JEQ",    "jeq",    "==", D_ALL) \
  _(JGT,     C_JMP2,  BPF_JGT,  V_KX, M_NONE, 0, JCOND,  "JGT",    "jgt",    ">", D_ALL) \
  _(JGE,     C_JMP2,  BPF_JGE,  V_KX, M_NONE, 0, JCOND,  "JGE",    "jge",    ">=", D_ALL) \
  _(JSET,    C_JMP2,  BPF_JSET, V_KX, M_NONE, 0, JCOND,  "JSET",   "jset",   "&", D_ALL) \
  _(JNE,     C_JMP2,  BPF_JNE,  V_KX, M_NONE, 0, JCOND,  "JNE",    "jne",    "!=", D_ALL) \
  _(JSGT,    C_JMP2,  BPF_JSGT, V_KX, M_NONE, 0, JCOND,  "JSGT",   "jsgt",   "s>", D_ALL) \
  _(JSGE,    C_JMP2,  BPF_JSGE, V_KX, M_NONE, 0, JCOND,  "JSGE",   "jsge",   "s>=", D_ALL) \
  _(CALL,    C_JMP,   BPF_CALL, V_K,  M_SRC, 0,  CALL,   "CALL",   "call",   "", D_K12) \
  _(CALLPC,  C_JMP,   BPF_CALL, V_K,  M_SRC, BPF_PSEUDO_CALL, CALLPC, "CALLPC", "call", "", D_K3) \
  _(CALLKF,  C_JMP,   BPF_CALL, V_K,  M_SRC, BPF_PSEUDO_KFUNC_CALL, KFUNC, "CALLKF", "call", "", D_K) \
  _(CALLX,   C_JMP,   BPF_CALL, V_X,  M_NONE, 0, CALLX,  "CALLX",  "callx",  "", D_K) \
  _(EXIT,    C_JMP,   BPF_EXIT, V_K,  M_NONE, 0, EXIT,   "EXIT",   "exit",   "", D_K12) \
  _(JLT,     C_JMP2,  BPF_JLT,  V_KX, M_NONE, 0, JCOND,  "JLT",    "jlt",    "<", D_ALL) \
  _(JLE,     C_JMP2,  BPF_JLE,  V_KX, M_NONE, 0, JCOND,  "JLE",    "jle",    "<=", D_ALL) \
  _(JSLT,    C_JMP2,  BPF_JSLT, V_KX, M_NONE, 0, JCOND,  "JSLT",   "jslt",   "s<", D_ALL) \
  _(JSLE,    C_JMP2,  BPF_JSLE, V_KX, M_NONE, 0, JCOND,  "JSLE",   "jsle",   "s<=", D_ALL) \
  _(MAYGOTO, C_JMP,   BPF_JCOND, V_K, M_SRC, 0,  MAYGOTO, "MAYGOTO", "may_goto", "", D_K) \
  /* LD: 64-bit immediate (two slots, src_reg says what imm is), packet loads */ \
  _(LDDW,    C_LD,    BPF_IMM,  V_DW, M_SRC, 0,  LDDW,   "LD",     "ld",     "", D_K1) \
  _(LDMAPFD, C_LD,    BPF_IMM,  V_DW, M_SRC, BPF_PSEUDO_MAP_FD, LDMAP, "LD", "ld", "fd", D_K) \
  _(LDMAPVAL, C_LD,   BPF_IMM,  V_DW, M_SRC, BPF_PSEUDO_MAP_VALUE, LDMAPV, "LD", "ld", "fd", D_K) \
  _(LDBTF,   C_LD,    BPF_IMM,  V_DW, M_SRC, BPF_PSEUDO_BTF_ID, LDBTF, "LD", "ld", "", D_K) \
  _(LDFUNC,  C_LD,    BPF_IMM,  V_DW, M_SRC, BPF_PSEUDO_FUNC, LDFUNC, "LD", "ld", "", D_K) \
  _(LDMAPIDX, C_LD,   BPF_IMM,  V_DW, M_SRC, BPF_PSEUDO_MAP_IDX, LDMAP, "LD", "ld", "idx", D_K) \
  _(LDMAPIDXVAL, C_LD, BPF_IMM, V_DW, M_SRC, BPF_PSEUDO_MAP_IDX_VALUE, LDMAPV, "LD", "ld", "idx", D_K) \
  _(LDABS,   C_LD,    BPF_ABS,  V_BHW, M_NONE, 0, LDABS, "LD",     "ldabs",  "", D_K) \
  _(LDIND,   C_LD,    BPF_IND,  V_BHW, M_NONE, 0, LDIND, "LD",     "ldind",  "", D_K) \
  /* LDX, ST, STX */ \
  _(LDX,     C_LDX,   BPF_MEM,  V_ALL, M_NONE, 0, LDX,   "LDX",    "ldx",    "u", D_ALL) \
  _(LDXSX,   C_LDX,   BPF_MEMSX, V_BHW, M_NONE, 0, LDX,  "LDXS",   "ldxs",   "s", D_K) \
  _(ST,      C_ST,    BPF_MEM,  V_ALL, M_NONE, 0, ST,    "ST",     "st",     "", D_ALL) \
  _(STX,     C_STX,   BPF_MEM,  V_ALL, M_NONE, 0, STX,   "STX",    "stx",    "", D_ALL) \
  /* STX|ATOMIC: the operation is in imm */ \
  _(XADD,    C_STX,   BPF_ATOMIC, V_WD, M_IMM, BPF_ADD, ATOMIC, "XADD", "xadd", "+=", D_K) \
  _(AOR,     C_STX,   BPF_ATOMIC, V_WD, M_IMM, BPF_OR,  ATOMIC, "AOR",  "aor",  "|=", D_K) \
  _(AAND,    C_STX,   BPF_ATOMIC, V_WD, M_IMM, BPF_AND, ATOMIC, "AAND", "aand", "&=", D_K) \
  _(AXOR,    C_STX,   BPF_ATOMIC, V_WD, M_IMM, BPF_XOR, ATOMIC, "AXOR", "axor", "^=", D_K) \
  _(AFADD,   C_STX,   BPF_ATOMIC, V_WD, M_IMM, BPF_ADD | BPF_FETCH, AFETCH, "AFADD", "afadd", "add", D_K) \
  _(AFOR,    C_STX,   BPF_ATOMIC, V_WD, M_IMM, BPF_OR | BPF_FETCH,  AFETCH, "AFOR",  "afor",  "or", D_K) \
  _(AFAND,   C_STX,   BPF_ATOMIC, V_WD, M_IMM, BPF_AND | BPF_FETCH, AFETCH, "AFAND", "afand", "and", D_K) \
  _(AFXOR,   C_STX,   BPF_ATOMIC, V_WD, M_IMM, BPF_XOR | BPF_FETCH, AFETCH, "AFXOR", "afxor", "xor", D_K) \
  _(AXCHG32, C_STX,   BPF_ATOMIC, V_W,  M_IMM, BPF_XCHG, AXCHG, "AXCHG", "axchg", "xchg32_32", D_K) \
  _(AXCHG,   C_STX,   BPF_ATOMIC, V_DW, M_IMM, BPF_XCHG, AXCHG, "AXCHG", "axchg", "xchg_64", D_K) \
  _(ACMPXCHG32, C_STX, BPF_ATOMIC, V_W, M_IMM, BPF_CMPXCHG, ACMPXCHG, "ACMPXCHG", "acmpxchg", "cmpxchg32_32", D_K) \
  _(ACMPXCHG, C_STX,  BPF_ATOMIC, V_DW, M_IMM, BPF_CMPXCHG, ACMPXCHG, "ACMPXCHG", "acmpxchg", "cmpxchg_64", D_K) \
  _(LDACQ,   C_STX,   BPF_ATOMIC, V_ALL, M_IMM, BPF_LOAD_ACQ, LDACQ, "LDACQ", "ldacq", "", D_K) \
  _(STREL,   C_STX,   BPF_ATOMIC, V_ALL, M_IMM, BPF_STORE_REL, STREL, "STREL", "strel", "", D_K) \
  /* sBPF only. callx: the register in imm (v1) or in src_reg (v2, v3); v3's \
     syscall takes exit's opcode and return is exit with the X bit */ \
  _(SCALLXI, C_JMP,   BPF_CALL, V_X,  M_NONE, 0, CALLXI, "CALLX",  "callx",  "", D_S1) \
  _(SCALLXS, C_JMP,   BPF_CALL, V_X,  M_NONE, 0, CALLXS, "CALLX",  "callx",  "", D_S23) \
  _(SYSCALL, C_JMP,   BPF_EXIT, V_K,  M_NONE, 0, SYSCALL, "SYSCALL", "syscall", "", D_S3) \
  _(RETURN,  C_JMP,   BPF_EXIT, V_X,  M_NONE, 0, EXIT,   "RETURN", "return", "", D_S3) \
  _(HOR64,   C_ALU64, 0xf0,     V_K,  M_OFF, 0,  ALU,    "HOR64",  "hor64",  "", D_S23) \
  /* sBPF v2 product/quotient/remainder class (class 6): op bit 4 is 64-bit */ \
  _(UHMUL64, C_JMP32, 0x30,     V_KX, M_OFF, 0,  ALU,    "UHMUL64", "uhmul64", "", D_S23) \
  _(UDIV32,  C_JMP32, 0x40,     V_KX, M_OFF, 0,  ALU,    "UDIV32", "udiv32", "", D_S23) \
  _(UDIV64,  C_JMP32, 0x50,     V_KX, M_OFF, 0,  ALU,    "UDIV64", "udiv64", "", D_S23) \
  _(UREM32,  C_JMP32, 0x60,     V_KX, M_OFF, 0,  ALU,    "UREM32", "urem32", "", D_S23) \
  _(UREM64,  C_JMP32, 0x70,     V_KX, M_OFF, 0,  ALU,    "UREM64", "urem64", "", D_S23) \
  _(LMUL32,  C_JMP32, 0x80,     V_KX, M_OFF, 0,  ALU,    "LMUL32", "lmul32", "", D_S23) \
  _(LMUL64,  C_JMP32, 0x90,     V_KX, M_OFF, 0,  ALU,    "LMUL64", "lmul64", "", D_S23) \
  _(SHMUL64, C_JMP32, 0xb0,     V_KX, M_OFF, 0,  ALU,    "SHMUL64", "shmul64", "", D_S23) \
  _(SDIV32,  C_JMP32, 0xc0,     V_KX, M_OFF, 0,  ALU,    "SDIV32", "sdiv32", "", D_S23) \
  _(SDIV64,  C_JMP32, 0xd0,     V_KX, M_OFF, 0,  ALU,    "SDIV64", "sdiv64", "", D_S23) \
  _(SREM32,  C_JMP32, 0xe0,     V_KX, M_OFF, 0,  ALU,    "SREM32", "srem32", "", D_S23) \
  _(SREM64,  C_JMP32, 0xf0,     V_KX, M_OFF, 0,  ALU,    "SREM64", "srem64", "", D_S23)

/*
** Operand formats: which fields an instruction uses (every other field
** must be zero, but the row's match field) and its layout in each syntax.
**
** Template language (literal text elsewhere; a blank matches any run of
** blanks, including none, when parsing):
**   %n name          %p pseudo-C token      %b size in bits
**   %d %s  dst/src register in the class width (w0..w10 for 32-bit
**          ALU/JMP classes in pseudo-C)
**   %D %S  dst/src register, 64-bit name (pseudo-C also parses wN)
**   %X %W  dst/src register in the access size (wN below u64, pseudo-C)
**   %Z     r0 in the access size
**   %v     src register or imm, by the K/X variant
**   %i imm   %I imm as " + 4" (nothing when 0)   %j imm of slot 2
**   %q imm64 %o off   %O off as " - 8"   %e byte-swap width (imm)
**   %A %a  addr_space_cast's destination and source spaces (imm halves)
**   %t jump target from off   %T from imm   %L from imm, as "pc+N"
**   %h helper id (parses a helper name too)   %c helper name comment
**   %M map operand: map[%p:%i], parsed also as the name of a map
**   %R imm as a register (sBPF v1 callx)
** Classic targets are absolute ("=> 0012"), the others relative ("+3").
*/
#define U_D 0x01 /* dst_reg */
#define U_S 0x02 /* src_reg */
#define U_O 0x04 /* off */
#define U_I 0x08 /* imm */
#define U_V 0x10 /* src_reg for X, imm for K */
#define U_J 0x20 /* imm of the second slot */

#define BPFC_FMTDEF(_) \
  /* name     uses                 classic                     pseudo-C                                    mnemonic */ \
  _(ALU,      U_D|U_V,             "%n\t%d\t%v",               "%d %p %v",                                 "%n %d, %v") \
  _(NEG,      U_D,                 "%n\t%d\t#%i",              "%d = -%d",                                 "%n %d") \
  _(END,      U_D|U_I,             "%n\t%D\t#%e",              "%D = %p%e %D",                             "%n%e %D") \
  _(MOVSX,    U_D|U_S,             "%n\t%d\t%s",               "%d = (%p)%s",                              "%n %d, %s") \
  _(ASCAST,   U_D|U_S|U_I,         "%n\t%D\t%S\t#%i",          "%D = addr_space_cast(%S, %A, %a)",         "%n %D, %S, %A, %a") \
  _(JCOND,    U_D|U_V|U_O,         "%n\t%d\t%v\t=> %t",        "if %d %p %v goto %t",                      "%n %d, %v, %t") \
  _(JA,       U_O,                 "%n\t%D\t#%i\t=> %t",       "goto %t",                                  "%n %t") \
  _(GOTOL,    U_I,                 "%n\t%D\t#%o\t=> %T",       "gotol %T",                                 "%n %T") \
  _(MAYGOTO,  U_O,                 "%n\t%D\t#%i\t=> %t",       "may_goto %t",                              "%n %t") \
  _(CALL,     U_I,                 "%n\t%D\t#%h%c",            "call %h%c",                                "%n %h%c") \
  _(CALLPC,   U_I,                 "%n\t%D\t%S\t=> %L",        "call %L",                                  "%n %L") \
  _(KFUNC,    U_I|U_O,             "%n\t%D\t#%i\t#%o",         "call kfunc[%i,%o]",                        "%n kfunc[%i,%o]") \
  _(CALLX,    U_D,                 "%n\t%D\t#%i",              "callx %D",                                 "%n %D") \
  _(EXIT,     0,                   "%n\t%D\t#%i",              "exit",                                     "%n") \
  _(LDDW,     U_D|U_I|U_J,         "%n\t%D\t#%q",              "%D = %q ll",                               "%n %D, %q") \
  _(LDMAP,    U_D|U_I,             "%n\t%D\t%M",               "%D = %M ll",                               "%n %D, %M") \
  _(LDMAPV,   U_D|U_I|U_J,         "%n\t%D\tmap[%p:%i]+%j",    "%D = map[%p:%i]+%j ll",                    "%n %D, map[%p:%i]+%j") \
  _(LDBTF,    U_D|U_I|U_J,         "%n\t%D\tbtf[id:%i,fd:%j]", "%D = btf[id:%i,fd:%j] ll",                 "%n %D, btf[id:%i,fd:%j]") \
  _(LDFUNC,   U_D|U_I,             "%n\t%D\tfunc\t=> %L",      "%D = func[%L] ll",                         "%n %D, func[%L]") \
  _(LDABS,    U_I,                 "%n\t%D\tskb[%i]",          "%D = *(u%b *)skb[%i]",                     "%n %i") \
  _(LDIND,    U_S|U_I,             "%n\t%D\tskb[%S%I]",        "%D = *(u%b *)skb[%S%I]",                   "%n %S, %i") \
  _(LDX,      U_D|U_S|U_O,         "%n\t%D\t[%S%O]",           "%D = *(%p%b *)(%S%O)",                     "%n %D, [%S%O]") \
  _(ST,       U_D|U_O|U_I,         "%n\t[%D%O]\t#%i",          "*(u%b *)(%D%O) = %i",                      "%n [%D%O], %i") \
  _(STX,      U_D|U_S|U_O,         "%n\t[%D%O]\t%S",           "*(u%b *)(%D%O) = %S",                      "%n [%D%O], %S") \
  _(ATOMIC,   U_D|U_S|U_O,         "%n\t[%D%O]\t%S",           "lock *(u%b *)(%D%O) %p %W",                "%n [%D%O], %S") \
  _(AFETCH,   U_D|U_S|U_O,         "%n\t[%D%O]\t%S",           "%W = atomic_fetch_%p((u%b *)(%D%O), %W)",  "%n [%D%O], %S") \
  _(AXCHG,    U_D|U_S|U_O,         "%n\t[%D%O]\t%S",           "%W = %p(%D%O, %W)",                        "%n [%D%O], %S") \
  _(ACMPXCHG, U_D|U_S|U_O,         "%n\t[%D%O]\t%S",           "%Z = %p(%D%O, %Z, %W)",                    "%n [%D%O], %S") \
  _(LDACQ,    U_D|U_S|U_O,         "%n\t%D\t[%S%O]",           "%X = load_acquire((u%b *)(%S%O))",         "%n %D, [%S%O]") \
  _(STREL,    U_D|U_S|U_O,         "%n\t[%D%O]\t%S",           "store_release((u%b *)(%D%O), %W)",         "%n [%D%O], %S") \
  /* sBPF (mnemonic syntax only; the other columns are never used) */ \
  _(CALLXI,   U_I,                 "%n %R",                    "%n %R",                                    "%n %R") \
  _(CALLXS,   U_S,                 "%n %S",                    "%n %S",                                    "%n %S") \
  _(SYSCALL,  U_I,                 "%n %i",                    "%n %i",                                    "%n %i")
/* clang-format on */

enum bpfc_isa_id {
#define BPFC_ISA_ENUM(id, ...) BPFC_I_##id,
	BPFC_ISADEF(BPFC_ISA_ENUM)
#undef BPFC_ISA_ENUM
	    BPFC_I__MAX
};

enum bpfc_isa_fmt {
#define BPFC_FMT_ENUM(f, ...) BPFC_F_##f,
	BPFC_FMTDEF(BPFC_FMT_ENUM)
#undef BPFC_FMT_ENUM
	    BPFC_F__MAX
};

struct bpfc_isa_row {
	uint8_t classes, op, vars, mfield;
	int32_t mval;
	uint8_t fmt, dialects;
	const char *cname, *mname, *ptok;
};

struct bpfc_isa_fmtinfo {
	uint8_t uses;
	const char *tmpl[BPFC_SYNTAX__MAX];
};

extern const struct bpfc_isa_row bpfc_isa_rows[BPFC_I__MAX];
extern const struct bpfc_isa_fmtinfo bpfc_isa_fmts[BPFC_F__MAX];

/* A decoded instruction: its row, class and variant. */
struct bpfc_isa_dec {
	int id;
	uint8_t cls, var, slots;
};

#define BPFC_IS_MEM(cls) ((cls) < BPF_ALU)
#define BPFC_IS_32(cls) ((cls) == BPF_ALU || (cls) == BPF_JMP32)

/* Encode a row in class cls with variant var; fills the match field. */
struct bpf_insn bpfc_isa_encode(enum bpfc_isa_id id, int cls, int var, int dst, int src, int off,
                                int32_t imm);
/* Decode and check insns[pc]: slots used (1 or 2), or -EINVAL and why. */
int bpfc_isa_decode(const struct bpf_insn *insns, size_t n, size_t pc, struct bpfc_isa_dec *d,
                    char *why, size_t whysz);
/* The same with a dialect: insns[pc] in that dialect's encoding, d in the
** kernel's (canonical) one; why names what the dialect lacks. */
int bpfc_isa_decode_dialect(const struct bpf_insn *insns, size_t n, size_t pc, int dialect,
                            struct bpfc_isa_dec *d, char *why, size_t whysz);
/* Decode a canonical instruction, checked against a dialect. */
int bpfc_isa_decode_canon(const struct bpf_insn *in, size_t n, int dialect, struct bpfc_isa_dec *d,
                          char *why, size_t whysz);
/* Does the row exist in class cls of the dialect? */
int bpfc_isa_in_dialect(int id, int cls, int dialect);
/* Why a dialect lacks row id in class cls (what to use instead). */
int bpfc_isa_lacks(int id, int cls, int var, int dialect, char *why, size_t whysz);
/* An opcode between the dialect's encoding and the kernel's: the canonical
** code, or -1 for a kernel code the dialect moved elsewhere. */
int bpfc_isa_to_canon(int dialect, int code);
int bpfc_isa_from_canon(int dialect, int code);
/* "sbpf-v2" */
const char *bpfc_isa_dialect_name(int dialect);
/* Name of a row in class cls, variant var, for the classic or mnemonic
** syntax ("ADD32", "ldxdw"); bare = mnemonic without the 64 suffix. */
int bpfc_isa_name(int id, int cls, int var, int syntax, int bare, char *buf, size_t size);
/* Bits of a memory access size variant. */
int bpfc_isa_size_bits(int var);

/* Kernel helper names, generated from __BPF_FUNC_MAPPER. */
BPFC_API const char *bpfc_helper_name(int id);
BPFC_API int bpfc_helper_id(const char *name, size_t len);

#endif
