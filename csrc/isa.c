/*
** Tables generated from isa.h, the encoder, the decoder with the validity
** checks the kernel applies to each field, and the helper names.
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "isa.h"

/* Pin the encoding facts the table and the decoder rely on. */
_Static_assert(sizeof(struct bpf_insn) == 8, "struct bpf_insn is 8 bytes");
_Static_assert(BPF_ALU64 == 7 && BPF_JMP32 == 6 && BPF_STX == 3, "class numbers");
_Static_assert(BPF_X == 1 << 3 && BPF_TO_BE == BPF_X, "source bit is code bit 3");
_Static_assert(BPF_W == 0 << 3 && BPF_H == 1 << 3 && BPF_B == 2 << 3 && BPF_DW == 3 << 3,
               "size variants are code bits 3-4");
_Static_assert(BPF_XCHG == 0xe1 && BPF_CMPXCHG == 0xf1 && BPF_FETCH == 1, "atomic imm");
_Static_assert(BPF_PSEUDO_CALL == 1 && BPF_PSEUDO_KFUNC_CALL == 2, "call src_reg");
_Static_assert(BPF_PSEUDO_MAP_FD == 1 && BPF_PSEUDO_MAP_IDX_VALUE == 6, "lddw src_reg");

const struct bpfc_isa_row bpfc_isa_rows[BPFC_I__MAX] = {
#define BPFC_ISA_ROW(id, cl, op, va, mf, mv, fmt, cn, mn, pt, dm)                                  \
	[BPFC_I_##id] = {(cl), (op), (va), (mf), (mv), BPFC_F_##fmt, (dm), (cn), (mn), (pt)},
    BPFC_ISADEF(BPFC_ISA_ROW)
#undef BPFC_ISA_ROW
};

const struct bpfc_isa_fmtinfo bpfc_isa_fmts[BPFC_F__MAX] = {
#define BPFC_FMT_ROW(f, uses, c, p, m) [BPFC_F_##f] = {(uses), {(c), (p), (m)}},
    BPFC_FMTDEF(BPFC_FMT_ROW)
#undef BPFC_FMT_ROW
};

struct bpf_insn bpfc_isa_encode(enum bpfc_isa_id id, int cls, int var, int dst, int src, int off,
                                int32_t imm)
{
	const struct bpfc_isa_row *r = &bpfc_isa_rows[id];
	struct bpf_insn in;
	memset(&in, 0, sizeof(in));
	in.code = (uint8_t)(cls | r->op | (var << 3));
	in.dst_reg = dst & 15;
	in.src_reg = src & 15;
	in.off = (int16_t)off;
	in.imm = imm;
	if (r->mfield == M_OFF)
		in.off = (int16_t)r->mval;
	else if (r->mfield == M_IMM)
		in.imm = r->mval;
	else if (r->mfield == M_SRC)
		in.src_reg = r->mval & 15;
	return in;
}

int bpfc_isa_size_bits(int var)
{
	static const uint8_t bits[4] = {32, 16, 8, 64};
	return bits[var & 3];
}

int bpfc_isa_name(int id, int cls, int var, int syntax, int bare, char *buf, size_t size)
{
	static const char *const csize[4] = {"W", "H", "B", "DW"};
	static const char *const msize[4] = {"w", "h", "b", "dw"};
	const struct bpfc_isa_row *r = &bpfc_isa_rows[id];
	int classic = syntax == BPFC_SYNTAX_CLASSIC;
	const char *sfx = "";
	if (BPFC_IS_MEM(cls))
		sfx = classic ? csize[var & 3] : msize[var & 3];
	else if (r->classes == C_ALU2)
		sfx = BPFC_IS_32(cls) ? "32" : (classic || bare) ? "" : "64";
	else if (r->classes == C_JMP2)
		sfx = BPFC_IS_32(cls) ? "32" : "";
	return snprintf(buf, size, "%s%s", classic ? r->cname : r->mname, sfx);
}

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (why && whysz)
		vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A field the format does not use must be zero; a register must exist. */
static int check_fields(const struct bpf_insn *in, const struct bpfc_isa_row *r, int var,
                        const char *name, char *why, size_t whysz)
{
	unsigned uses = bpfc_isa_fmts[r->fmt].uses;
	if (uses & U_V)
		uses |= (var & 1) ? U_S : U_I;
	if (in->dst_reg > 10)
		return fail(why, whysz, "%s: invalid dst_reg r%d", name, in->dst_reg);
	if (in->src_reg > 10 && r->mfield != M_SRC)
		return fail(why, whysz, "%s: invalid src_reg r%d", name, in->src_reg);
	if (!(uses & U_D) && in->dst_reg)
		return fail(why, whysz, "%s: dst_reg must be 0, is %d", name, in->dst_reg);
	if (!(uses & U_S) && r->mfield != M_SRC && in->src_reg)
		return fail(why, whysz, "%s: src_reg must be 0, is %d", name, in->src_reg);
	if (!(uses & U_O) && r->mfield != M_OFF && in->off)
		return fail(why, whysz, "%s: off must be 0, is %d", name, in->off);
	if (!(uses & U_I) && r->mfield != M_IMM && in->imm)
		return fail(why, whysz, "%s: imm must be 0, is %d", name, (int)in->imm);
	if (r->fmt == BPFC_F_CALLXI && (in->imm < 0 || in->imm > 10))
		return fail(why, whysz, "%s: imm must name a register r0..r10, is %d", name,
		            (int)in->imm);
	if (r->fmt == BPFC_F_END && in->imm != 16 && in->imm != 32 && in->imm != 64)
		return fail(why, whysz, "%s: width must be 16, 32 or 64, is %d", name,
		            (int)in->imm);
	return 0;
}

static long match_value(const struct bpf_insn *in, int mfield)
{
	return mfield == M_OFF ? in->off : mfield == M_IMM ? in->imm : in->src_reg;
}

const char *bpfc_isa_dialect_name(int dialect)
{
	static const char *const names[BPFC_DIALECT__MAX] = {"kernel", "sbpf-v1", "sbpf-v2",
	                                                     "sbpf-v3"};
	return dialect >= 0 && dialect < BPFC_DIALECT__MAX ? names[dialect] : "?";
}

int bpfc_isa_in_dialect(int id, int cls, int dialect)
{
	const struct bpfc_isa_row *r = &bpfc_isa_rows[id];
	if (!(r->dialects & (1u << dialect)))
		return 0;
	/* sBPF's class 6 holds the product/quotient rows, not the kernel's JMP32 */
	return dialect == BPFC_DIALECT_KERNEL || cls != BPF_JMP32 || !(r->dialects & D_K);
}

/*
** sBPF v2 moved the loads and stores into the ALU classes, at the opcodes
** the multiplications, divisions and negations left: ldx is ALU32|X, st
** ALU64|K, stx ALU64|X, the size in the op bits (1, 2, 4, 8 bytes: 0x20,
** 0x30, 0x80, 0x90). Our table keeps the kernel's codes; these map them.
*/
static const uint8_t moved_size[4] = {0x80, 0x30, 0x20, 0x90}; /* by W, H, B, DW */

int bpfc_isa_to_canon(int dialect, int code)
{
	int cls = code & 7, op = code & 0xf0;
	if (dialect < BPFC_DIALECT_SBPF2)
		return code;
	if ((cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX) && (code & 0xe0) == BPF_MEM)
		return -1;
	for (int size = 0; size < 4; size++) {
		if (op != moved_size[size])
			continue;
		if (code == (BPF_ALU | BPF_X | op))
			return BPF_LDX | BPF_MEM | (size << 3);
		if (code == (BPF_ALU64 | BPF_K | op))
			return BPF_ST | BPF_MEM | (size << 3);
		if (code == (BPF_ALU64 | BPF_X | op))
			return BPF_STX | BPF_MEM | (size << 3);
	}
	return code;
}

int bpfc_isa_from_canon(int dialect, int code)
{
	int cls = code & 7, size = (code >> 3) & 3;
	if (dialect < BPFC_DIALECT_SBPF2 || (code & 0xe0) != BPF_MEM)
		return code;
	if (cls == BPF_LDX)
		return BPF_ALU | BPF_X | moved_size[size];
	if (cls == BPF_ST)
		return BPF_ALU64 | BPF_K | moved_size[size];
	if (cls == BPF_STX)
		return BPF_ALU64 | BPF_X | moved_size[size];
	return code;
}

/* What to write instead of a row a dialect lacks. */
static const char *instead(int id, int dialect)
{
	switch (id) {
	case BPFC_I_MUL: return "multiplication is lmul32/lmul64 in sbpf-v2's product/quotient class";
	case BPFC_I_DIV: return "division is udiv32/udiv64 (sdiv32/sdiv64 signed) in sbpf-v2";
	case BPFC_I_MOD: return "the remainder is urem32/urem64 (srem32/srem64 signed) in sbpf-v2";
	case BPFC_I_SDIV: return dialect >= BPFC_DIALECT_SBPF2 ? "signed division is sdiv32/sdiv64"
	                                                   : "signed division comes with sbpf-v2";
	case BPFC_I_SMOD: return dialect >= BPFC_DIALECT_SBPF2 ? "the signed remainder is srem32/srem64"
	                                                   : "the signed remainder comes with sbpf-v2";
	case BPFC_I_NEG: return "subtract from 0 instead (sbpf-v2's sub with an immediate computes imm - dst)";
	case BPFC_I_LE: return "on sBPF, a little-endian conversion is a mask (and32, mov32) or nothing";
	case BPFC_I_LDDW:
		return "load the low half with mov32 (zero-extended) or mov64, the high half with hor64";
	case BPFC_I_EXIT: return "sbpf-v3 ends a function with return (0x9d); exit's opcode is syscall";
	case BPFC_I_CALL:
		return dialect == BPFC_DIALECT_SBPF3
		           ? "sbpf-v3 calls runtime functions with syscall N, functions with call pc+N"
		           : "sBPF has no kernel helpers";
	case BPFC_I_CALLPC: return "sBPF before v3 calls functions by hash (call N), not by offset";
	case BPFC_I_CALLX: return "sBPF's callx names its register in imm (v1) or src_reg (v2, v3)";
	case BPFC_I_SCALLXI:
	case BPFC_I_SCALLXS: return "the kernel has no indirect call";
	case BPFC_I_LDMAPFD:
	case BPFC_I_LDMAPVAL:
	case BPFC_I_LDMAPIDX:
	case BPFC_I_LDMAPIDXVAL: return "sBPF has no maps";
	default: break;
	}
	if (bpfc_isa_rows[id].dialects == D_K)
		return "it is a kernel eBPF instruction sBPF does not have";
	if (dialect == BPFC_DIALECT_KERNEL)
		return "it is an sBPF instruction";
	return "it comes with a later sBPF version";
}

int bpfc_isa_lacks(int id, int cls, int var, int dialect, char *why, size_t whysz)
{
	char name[24];
	if (dialect != BPFC_DIALECT_KERNEL && cls == BPF_JMP32 && (bpfc_isa_rows[id].dialects & D_K))
		return fail(why, whysz, "%s has no 32-bit jumps (class 6 is the product/quotient class)",
		            bpfc_isa_dialect_name(dialect));
	bpfc_isa_name(id, cls, var, BPFC_SYNTAX_MNEMONIC, 0, name, sizeof(name));
	return fail(why, whysz, "%s has no %s: %s", bpfc_isa_dialect_name(dialect), name,
	            instead(id, dialect));
}

static int decode(const struct bpf_insn *insns, size_t n, size_t pc, int dialect,
                  struct bpfc_isa_dec *d, char *why, size_t whysz)
{
	static const char *const mname[] = {"", "off", "imm", "src_reg"};
	const struct bpf_insn *in;
	const struct bpfc_isa_row *r;
	char name[24];
	int cls, mem, op, var, id, seen = -1, ret;
	if (!insns || pc >= n)
		return fail(why, whysz, "pc %zu is past the end of the program", pc);
	in = &insns[pc];
	cls = in->code & 7;
	mem = BPFC_IS_MEM(cls);
	op = in->code & (mem ? 0xe0 : 0xf0);
	var = (in->code >> 3) & (mem ? 3 : 1);
	for (id = 0; id < BPFC_I__MAX; id++) {
		r = &bpfc_isa_rows[id];
		if (!(r->classes & BPFC_C(cls)) || r->op != op || !(r->vars & (1u << var)) ||
		    !bpfc_isa_in_dialect(id, cls, dialect))
			continue;
		seen = id;
		if (r->mfield == M_NONE || match_value(in, r->mfield) == r->mval)
			break;
	}
	if (id == BPFC_I__MAX && dialect != BPFC_DIALECT_KERNEL &&
	    decode(insns, n, pc, BPFC_DIALECT_KERNEL, d, NULL, 0) > 0)
		return bpfc_isa_lacks(d->id, d->cls, d->var, dialect, why, whysz);
	if (seen < 0)
		return fail(why, whysz, "invalid opcode 0x%02x", in->code);
	if (id == BPFC_I__MAX) {
		r = &bpfc_isa_rows[seen];
		return fail(why, whysz, "invalid %s %ld for opcode 0x%02x", mname[r->mfield],
		            match_value(in, r->mfield), in->code);
	}
	bpfc_isa_name(id, cls, var, BPFC_SYNTAX_MNEMONIC, 0, name, sizeof(name));
	if ((ret = check_fields(in, r, var, name, why, whysz)) < 0)
		return ret;
	d->id = id;
	d->cls = (uint8_t)cls;
	d->var = (uint8_t)var;
	d->slots = 1;
	if (cls == BPF_LD && op == BPF_IMM) {
		const struct bpf_insn *hi = in + 1;
		if (pc + 1 >= n)
			return fail(why, whysz, "%s: missing second slot", name);
		if (hi->code || hi->dst_reg || hi->src_reg || hi->off)
			return fail(why, whysz, "%s: second slot must be zero but imm", name);
		if (!(bpfc_isa_fmts[r->fmt].uses & U_J) && hi->imm)
			return fail(why, whysz, "%s: second slot imm must be 0, is %d", name,
			            (int)hi->imm);
		d->slots = 2;
	}
	return d->slots;
}

int bpfc_isa_decode(const struct bpf_insn *insns, size_t n, size_t pc, struct bpfc_isa_dec *d,
                    char *why, size_t whysz)
{
	return decode(insns, n, pc, BPFC_DIALECT_KERNEL, d, why, whysz);
}

int bpfc_isa_decode_canon(const struct bpf_insn *in, size_t n, int dialect, struct bpfc_isa_dec *d,
                          char *why, size_t whysz)
{
	if (dialect < 0 || dialect >= BPFC_DIALECT__MAX)
		return fail(why, whysz, "unknown dialect %d", dialect);
	return decode(in, n, 0, dialect, d, why, whysz);
}

int bpfc_isa_decode_dialect(const struct bpf_insn *insns, size_t n, size_t pc, int dialect,
                            struct bpfc_isa_dec *d, char *why, size_t whysz)
{
	struct bpf_insn in[2];
	int code;
	if (dialect == BPFC_DIALECT_KERNEL)
		return decode(insns, n, pc, dialect, d, why, whysz);
	if (dialect < 0 || dialect >= BPFC_DIALECT__MAX)
		return fail(why, whysz, "unknown dialect %d", dialect);
	if (!insns || pc >= n)
		return fail(why, whysz, "pc %zu is past the end of the program", pc);
	memset(in, 0, sizeof(in));
	in[0] = insns[pc];
	if (pc + 1 < n)
		in[1] = insns[pc + 1];
	if ((code = bpfc_isa_to_canon(dialect, in[0].code)) < 0) {
		char name[24];
		int cls = in[0].code & 7, var = (in[0].code >> 3) & 3;
		int id = cls == BPF_LDX ? BPFC_I_LDX : cls == BPF_ST ? BPFC_I_ST : BPFC_I_STX;
		bpfc_isa_name(id, cls, var, BPFC_SYNTAX_MNEMONIC, 0, name, sizeof(name));
		return fail(why, whysz, "%s has no opcode 0x%02x: its loads and stores moved (%s is 0x%02x)",
		            bpfc_isa_dialect_name(dialect), in[0].code, name,
		            bpfc_isa_from_canon(dialect, in[0].code));
	}
	in[0].code = (uint8_t)code;
	return decode(in, pc + 1 < n ? 2 : 1, 0, dialect, d, why, whysz);
}

/*
** Helper names come from the kernel's own list. Old headers separate the
** FN() entries with commas, new ones (which also pass the id) do not: each
** entry becomes "name\0", so a string here holds one name or all of them.
*/
#define BPFC_HELPER_STR_(x, ...) #x "\0"
#define BPFC_HELPER_STR(...) BPFC_HELPER_STR_(__VA_ARGS__, ~)
static const char *const helper_names[] = {__BPF_FUNC_MAPPER(BPFC_HELPER_STR)};
#undef BPFC_HELPER_STR
#undef BPFC_HELPER_STR_

BPFC_API const char *bpfc_helper_name(int id)
{
	int k = 0;
	for (size_t e = 0; id >= 0 && e < sizeof(helper_names) / sizeof(helper_names[0]); e++)
		for (const char *p = helper_names[e]; *p; p += strlen(p) + 1)
			if (k++ == id)
				return p;
	return NULL;
}

BPFC_API int bpfc_helper_id(const char *name, size_t len)
{
	int k = 0;
	if (len > 4 && !memcmp(name, "bpf_", 4))
		name += 4, len -= 4;
	for (size_t e = 0; e < sizeof(helper_names) / sizeof(helper_names[0]); e++)
		for (const char *p = helper_names[e]; *p; p += strlen(p) + 1, k++)
			if (strlen(p) == len && !memcmp(p, name, len))
				return k;
	return -ENOENT;
}
