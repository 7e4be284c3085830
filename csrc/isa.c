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
#define BPFC_ISA_ROW(id, cl, op, va, mf, mv, fmt, cn, mn, pt)                                      \
	[BPFC_I_##id] = {(cl), (op), (va), (mf), (mv), BPFC_F_##fmt, (cn), (mn), (pt)},
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
	if (r->fmt == BPFC_F_END && in->imm != 16 && in->imm != 32 && in->imm != 64)
		return fail(why, whysz, "%s: width must be 16, 32 or 64, is %d", name,
		            (int)in->imm);
	return 0;
}

static long match_value(const struct bpf_insn *in, int mfield)
{
	return mfield == M_OFF ? in->off : mfield == M_IMM ? in->imm : in->src_reg;
}

int bpfc_isa_decode(const struct bpf_insn *insns, size_t n, size_t pc, struct bpfc_isa_dec *d,
                    char *why, size_t whysz)
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
		if (!(r->classes & BPFC_C(cls)) || r->op != op || !(r->vars & (1u << var)))
			continue;
		seen = id;
		if (r->mfield == M_NONE || match_value(in, r->mfield) == r->mval)
			break;
	}
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
