/*
** Disassembler: decode with the ISA table, then print the format's
** template for the wanted syntax (see the template language in isa.h).
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "disasm.h"

struct out {
	char *buf;
	size_t size, len;
	int trunc;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->size ? o->size - o->len : 0;
	int k;
	va_start(ap, fmt);
	k = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= room)
		o->trunc = 1;
	o->len += k < 0 ? 0 : (size_t)k;
}

struct ctx {
	const struct bpf_insn *in;
	int32_t imm2;
	size_t pc;
	int syntax, dialect;
	struct bpfc_isa_dec d;
};

static void reg(struct out *o, const struct ctx *c, int r, int narrow)
{
	if (c->syntax == BPFC_SYNTAX_CLASSIC)
		put(o, "R%d", r);
	else
		put(o, "%c%d", narrow && c->syntax == BPFC_SYNTAX_PSEUDOC ? 'w' : 'r', r);
}

/* " + 8" / " - 8" in pseudo-C and mnemonic, "+8" in classic. */
static void disp(struct out *o, const struct ctx *c, long v, int zero)
{
	if (c->syntax == BPFC_SYNTAX_CLASSIC)
		put(o, "%+ld", v);
	else if (v || zero)
		put(o, " %c %ld", v < 0 ? '-' : '+', v < 0 ? -v : v);
}

static void target(struct out *o, const struct ctx *c, long rel, const char *pre)
{
	if (c->syntax == BPFC_SYNTAX_CLASSIC)
		put(o, "%04lld", (long long)c->pc + rel + 1);
	else
		put(o, "%s%+ld", pre, rel);
}

static void field(struct out *o, const struct ctx *c, char f)
{
	const struct bpf_insn *in = c->in;
	const struct bpfc_isa_row *r = &bpfc_isa_rows[c->d.id];
	int classic = c->syntax == BPFC_SYNTAX_CLASSIC;
	int w32 = BPFC_IS_32(c->d.cls), small = c->d.var != 3;
	char name[24];
	const char *h;
	switch (f) {
	case 'n':
		bpfc_isa_name(c->d.id, c->d.cls, c->d.var, c->syntax, 0, name, sizeof(name));
		put(o, "%s", name);
		break;
	case 'p': put(o, "%s", r->ptok); break;
	case 'b': put(o, "%d", bpfc_isa_size_bits(c->d.var)); break;
	case 'd': reg(o, c, in->dst_reg, w32); break;
	case 's': reg(o, c, in->src_reg, w32); break;
	case 'D': reg(o, c, in->dst_reg, 0); break;
	case 'S': reg(o, c, in->src_reg, 0); break;
	case 'X': reg(o, c, in->dst_reg, small); break;
	case 'W': reg(o, c, in->src_reg, small); break;
	case 'Z': reg(o, c, 0, small); break;
	case 'v':
		if (c->d.var & 1)
			reg(o, c, in->src_reg, w32);
		else
			put(o, classic ? "#%d" : "%d", (int)in->imm);
		break;
	case 'i':
	case 'h':
	case 'e': put(o, "%d", (int)in->imm); break;
	case 'I': disp(o, c, in->imm, 0); break;
	case 'j': put(o, "%d", (int)c->imm2); break;
	case 'q':
		put(o, "%lld",
		    (long long)((uint64_t)(uint32_t)in->imm | (uint64_t)(uint32_t)c->imm2 << 32));
		break;
	case 'o': put(o, "%d", in->off); break;
	case 'O': disp(o, c, in->off, 1); break;
	case 'A': put(o, "%u", (unsigned)((uint32_t)in->imm >> 16)); break;
	case 'a': put(o, "%u", (unsigned)((uint32_t)in->imm & 0xffff)); break;
	case 't': target(o, c, in->off, ""); break;
	case 'T': target(o, c, in->imm, ""); break;
	case 'L': target(o, c, in->imm, "pc"); break;
	case 'R': put(o, "r%d", (int)in->imm); break;
	case 'M': put(o, "map[%s:%d]", r->ptok, (int)in->imm); break;
	case 'c':
		if (c->dialect == BPFC_DIALECT_KERNEL && (h = bpfc_helper_name(in->imm)))
			put(o, classic ? "\t; %s" : " // %s", h);
		break;
	default: put(o, "%%%c", f); break;
	}
}

BPFC_API int bpfc_disasm_insn(const struct bpf_insn *insns, size_t n, size_t pc, int syntax,
                              char *buf, size_t size)
{
	return bpfc_disasm_dialect(insns, n, pc, syntax, BPFC_DIALECT_KERNEL, buf, size);
}

BPFC_API int bpfc_disasm_dialect(const struct bpf_insn *insns, size_t n, size_t pc, int syntax,
                                 int dialect, char *buf, size_t size)
{
	struct out o = {buf, size, 0, 0};
	struct ctx c;
	const char *t;
	int slots;
	if (size)
		buf[0] = '\0';
	if (syntax < 0 || syntax >= BPFC_SYNTAX__MAX) {
		put(&o, "unknown syntax %d", syntax);
		return -EINVAL;
	}
	if (dialect < 0 || dialect >= BPFC_DIALECT__MAX) {
		put(&o, "unknown dialect %d", dialect);
		return -EINVAL;
	}
	if (dialect != BPFC_DIALECT_KERNEL && syntax != BPFC_SYNTAX_MNEMONIC) {
		put(&o, "%s is written in the mnemonic syntax", bpfc_isa_dialect_name(dialect));
		return -EINVAL;
	}
	if ((slots = bpfc_isa_decode_dialect(insns, n, pc, dialect, &c.d, buf, size)) < 0)
		return slots;
	c.in = &insns[pc];
	c.imm2 = slots == 2 ? insns[pc + 1].imm : 0;
	c.pc = pc;
	c.syntax = syntax;
	c.dialect = dialect;
	for (t = bpfc_isa_fmts[bpfc_isa_rows[c.d.id].fmt].tmpl[syntax]; *t; t++) {
		if (*t == '%' && t[1])
			field(&o, &c, *++t);
		else
			put(&o, "%c", *t);
	}
	return o.trunc ? -ENOSPC : slots;
}
