/*
** Assembler. Each line is read by trying the template of every (row,
** class, variant) of the ISA table in the wanted syntax; the first that
** matches the whole line and decodes back to the same row wins. So the
** assembler accepts exactly what the disassembler prints, plus blanks,
** comments, labels and a few spellings other tools use.
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}
static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}
static int is_id0(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '$';
}
static int is_id(int c)
{
	return is_id0(c) || is_digit(c);
}
static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

enum { R_NO, R_OK, R_ERR }; /* no match, match, matched but a value is bad */

/* One attempt to read a line as a given row, class and variant. */
struct
try {
	const char *s, *e; /* unread input */
	int id, cls, var, syntax;
	size_t pc;
	struct bpf_insn in[2];
	unsigned seen;   /* registers read, so a repeated operand must agree */
	const char *lab; /* label operand, resolved at the end */
	size_t lablen;
	char labkind; /* 'o': off, 'i': imm */
	char msg[96];
};

__attribute__((format(printf, 2, 3))) static int bad(struct try *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	return R_ERR;
}

static void skip_ws(struct try *t)
{
	while (t->s < t->e && is_ws(*t->s))
		t->s++;
}

/* A word; bound: it must not run on into more identifier characters. */
static int word(struct try *t, const char *w, int bound)
{
	const char *s = t->s;
	int fold = t->syntax == BPFC_SYNTAX_CLASSIC;
	for (; *w; w++, s++)
		if (s >= t->e || (fold ? lower(*s) != lower(*w) : *s != *w))
			return R_NO;
	if (bound && s < t->e && is_id(*s))
		return R_NO;
	t->s = s;
	return R_OK;
}

static int name(struct try *t, int bound)
{
	char nm[24];
	int mn = t->syntax == BPFC_SYNTAX_MNEMONIC;
	bpfc_isa_name(t->id, t->cls, t->var, t->syntax, 0, nm, sizeof(nm));
	if (word(t, nm, bound) == R_OK)
		return R_OK;
	if (mn && t->cls == BPF_ALU64 && bpfc_isa_rows[t->id].classes == C_ALU2) {
		bpfc_isa_name(t->id, t->cls, t->var, t->syntax, 1, nm, sizeof(nm));
		return word(t, nm, bound); /* ubpf: "add" is add64 */
	}
	if (mn && t->id == BPFC_I_EXIT)
		return word(t, "return", bound); /* sBPF */
	if (mn && t->id == BPFC_I_CALL)
		return word(t, "syscall", bound); /* sBPF before v3 */
	return R_NO;
}

/* Register: strict takes only the class-width prefix in pseudo-C. */
static int reg(struct try *t, int narrow, int strict, int *r)
{
	const char *s = t->s;
	int c = s < t->e ? *s : 0, v = 0, nd = 0, ok;
	if (t->syntax == BPFC_SYNTAX_CLASSIC)
		ok = c == 'R' || c == 'r';
	else if (t->syntax == BPFC_SYNTAX_PSEUDOC)
		ok = strict ? c == (narrow ? 'w' : 'r') : c == 'r' || c == 'w';
	else
		ok = c == 'r';
	if (!ok)
		return R_NO;
	for (s++; s < t->e && is_digit(*s) && nd < 3; s++, nd++)
		v = v * 10 + *s - '0';
	if (!nd || (s < t->e && is_id(*s)))
		return R_NO;
	t->s = s;
	if (v > 10)
		return bad(t, "no register %c%d", c, v);
	*r = v;
	return R_OK;
}

/* Read a register into dst (which = 1) or src (2); a repeat must agree. */
static int set_reg(struct try *t, int which, int narrow, int strict)
{
	int r = 0, ret = reg(t, narrow, strict, &r);
	int cur = which == 1 ? t->in[0].dst_reg : t->in[0].src_reg;
	if (ret != R_OK)
		return ret;
	if (t->seen & which)
		return cur == r ? R_OK : bad(t, "r%d and r%d must be the same register", cur, r);
	t->seen |= which;
	if (which == 1)
		t->in[0].dst_reg = r & 15;
	else
		t->in[0].src_reg = r & 15;
	return R_OK;
}

/* [+-](0x<hex>|<decimal>) as sign and magnitude. */
static int number(struct try *t, int *neg, uint64_t *mag)
{
	const char *s = t->s;
	uint64_t v = 0;
	int base = 10, nd = 0, ovf = 0;
	*neg = 0, *mag = 0;
	if (s < t->e && (*s == '-' || *s == '+'))
		*neg = *s++ == '-';
	if (t->e - s > 2 && s[0] == '0' && lower(s[1]) == 'x')
		base = 16, s += 2;
	for (; s < t->e; s++, nd++) {
		int c = lower(*s), d = is_digit(c)            ? c - '0'
		                       : c >= 'a' && c <= 'f' ? c - 'a' + 10
		                                              : 99;
		if (d >= base)
			break;
		if (v > (UINT64_MAX - (unsigned)d) / (unsigned)base)
			ovf = 1;
		v = v * (unsigned)base + (unsigned)d;
	}
	if (!nd || (s < t->e && is_id(*s)))
		return R_NO;
	if (ovf)
		return bad(t, "number '%.*s' out of range", (int)(s - t->s), t->s);
	t->s = s;
	*mag = v;
	return R_OK;
}

/* Fit sign and magnitude into bits: 16 (off), 32 (imm, also read as
** unsigned), 64 (lddw, also unsigned), -16 (unsigned 16). */
static int fit(struct try *t, int neg, uint64_t mag, int bits, const char *what, int64_t *v)
{
	uint64_t lim = bits == 16    ? (neg ? 0x8000u : 0x7fffu)
	               : bits == -16 ? (neg ? 0 : 0xffffu)
	               : bits == 32  ? (neg ? 0x80000000u : 0xffffffffu)
	                             : (neg ? UINT64_C(1) << 63 : UINT64_MAX);
	if (mag > lim)
		return bad(t, "%s %s%llu out of range", what, neg ? "-" : "",
		           (unsigned long long)mag);
	*v = (int64_t)(neg ? 0 - mag : mag);
	return R_OK;
}

static int value(struct try *t, int bits, const char *what, int64_t *v)
{
	int neg, ret;
	uint64_t mag;
	*v = 0;
	if ((ret = number(t, &neg, &mag)) != R_OK)
		return ret;
	return fit(t, neg, mag, bits, what, v);
}

/* " + 8", " - 8", or nothing for 0. */
static int disp(struct try *t, int bits, const char *what, int64_t *v)
{
	int neg, inner, ret;
	uint64_t mag;
	skip_ws(t);
	*v = 0;
	if (t->s >= t->e || (*t->s != '+' && *t->s != '-'))
		return R_OK;
	neg = *t->s++ == '-';
	skip_ws(t);
	if ((ret = number(t, &inner, &mag)) != R_OK)
		return ret;
	return fit(t, neg ^ inner, mag, bits, what, v);
}

/* Jump or call target: absolute pc in classic, else +N, -N (pc+N for
** pcpre) or a label. kind 'o' stores it in off, 'i' in imm. */
static int target(struct try *t, char kind, int pcpre)
{
	int64_t v = 0, rel = 0;
	int ret;
	const char *s = t->s;
	if (t->syntax == BPFC_SYNTAX_CLASSIC) {
		if ((ret = value(t, 64, "target", &v)) != R_OK)
			return ret;
		rel = v - (int64_t)t->pc - 1;
	} else if (pcpre && t->e - s > 2 && s[0] == 'p' && s[1] == 'c' &&
	           (s[2] == '+' || s[2] == '-')) {
		t->s += 2;
		if ((ret = value(t, 64, "target", &rel)) != R_OK)
			return ret;
	} else if (!pcpre && s < t->e && (*s == '+' || *s == '-')) {
		if ((ret = value(t, 64, "target", &rel)) != R_OK)
			return ret;
	} else if (s < t->e && is_id0(*s)) {
		while (t->s < t->e && is_id(*t->s))
			t->s++;
		t->lab = s, t->lablen = (size_t)(t->s - s), t->labkind = kind;
		return R_OK;
	} else {
		return R_NO;
	}
	if (kind == 'o' ? rel < INT16_MIN || rel > INT16_MAX : rel < INT32_MIN || rel > INT32_MAX)
		return bad(t, "jump offset %lld out of range", (long long)rel);
	if (kind == 'o')
		t->in[0].off = (int16_t)rel;
	else
		t->in[0].imm = (int32_t)rel;
	return R_OK;
}

static int helper(struct try *t)
{
	const char *s = t->s;
	int64_t v = 0;
	int id;
	if (s < t->e && is_id0(*s)) {
		while (s < t->e && is_id(*s))
			s++;
		if ((id = bpfc_helper_id(t->s, (size_t)(s - t->s))) < 0)
			return R_NO;
		t->s = s;
		t->in[0].imm = id;
		return R_OK;
	}
	if ((id = value(t, 32, "helper", &v)) == R_OK)
		t->in[0].imm = (int32_t)v;
	return id;
}

static int field(struct try *t, char f, int bound)
{
	struct bpf_insn *in = &t->in[0];
	int w32 = BPFC_IS_32(t->cls), small = t->var != 3, ret, r = 0;
	int64_t v = 0;
	switch (f) {
	case 'n': return name(t, bound);
	case 'p': return word(t, bpfc_isa_rows[t->id].ptok, 0);
	case 'b':
		if ((ret = value(t, 32, "size", &v)) != R_OK)
			return ret;
		return v == bpfc_isa_size_bits(t->var) ? R_OK : R_NO;
	case 'd': return set_reg(t, 1, w32, 1);
	case 's': return set_reg(t, 2, w32, 1);
	case 'D':
	case 'X': return set_reg(t, 1, 0, 0);
	case 'S':
	case 'W': return set_reg(t, 2, 0, 0);
	case 'Z':
		if ((ret = reg(t, small, 0, &r)) != R_OK)
			return ret;
		return r == 0 ? R_OK : bad(t, "r%d must be r0 here", r);
	case 'v':
		if (t->var & 1)
			return set_reg(t, 2, w32, 1);
		if (t->syntax == BPFC_SYNTAX_CLASSIC && word(t, "#", 0) != R_OK)
			return R_NO;
		/* fall through */
	case 'i':
	case 'e':
		if ((ret = value(t, 32, "imm", &v)) == R_OK)
			in->imm = (int32_t)v;
		return ret;
	case 'h': return helper(t);
	case 'c': return R_OK; /* a comment, already stripped */
	case 'I':
		if ((ret = disp(t, 32, "imm", &v)) == R_OK)
			in->imm = (int32_t)v;
		return ret;
	case 'o':
	case 'O':
		if ((ret = f == 'o' ? value(t, 16, "off", &v) : disp(t, 16, "off", &v)) == R_OK)
			in->off = (int16_t)v;
		return ret;
	case 'j':
		if ((ret = value(t, 32, "imm", &v)) == R_OK)
			t->in[1].imm = (int32_t)v;
		return ret;
	case 'q':
		if ((ret = value(t, 64, "imm64", &v)) == R_OK) {
			in->imm = (int32_t)(uint32_t)(uint64_t)v;
			t->in[1].imm = (int32_t)(uint32_t)((uint64_t)v >> 32);
		}
		return ret;
	case 'A':
	case 'a':
		if ((ret = value(t, -16, "address space", &v)) != R_OK)
			return ret;
		in->imm = (int32_t)(f == 'A' ? ((uint32_t)in->imm & 0xffff) | (uint32_t)v << 16
		                             : ((uint32_t)in->imm & 0xffff0000u) | (uint32_t)v);
		return R_OK;
	case 't': return target(t, 'o', 0);
	case 'T': return target(t, 'i', 0);
	case 'L': return target(t, 'i', 1);
	default: return R_NO;
	}
}

static int match(struct try *t, const char *tm)
{
	int fold = t->syntax == BPFC_SYNTAX_CLASSIC, ret;
	for (; *tm; tm++) {
		if (*tm == '%' && tm[1]) {
			tm++;
			if ((ret = field(t, *tm, tm[1] != '%')) != R_OK)
				return ret;
		} else if (is_ws(*tm)) {
			skip_ws(t);
		} else if (t->s < t->e && (fold ? lower(*t->s) == lower(*tm) : *t->s == *tm)) {
			t->s++;
		} else {
			return R_NO;
		}
	}
	skip_ws(t);
	return t->s == t->e ? R_OK : R_NO;
}

struct lab {
	const char *name;
	size_t len, pc;
};

struct fix {
	const char *name;
	size_t len, slot;
	int line;
	char kind;
};

struct as {
	int syntax, line;
	struct bpf_insn *out;
	size_t cap, pc;
	struct lab *lab;
	size_t nlab, alab;
	struct fix *fix;
	size_t nfix, afix;
	char *err;
	size_t errsz;
};

__attribute__((format(printf, 3, 4))) static int fail(struct as *a, int code, const char *fmt, ...)
{
	va_list ap;
	int k = 0;
	if (a->err && a->errsz) {
		k = snprintf(a->err, a->errsz, "line %d: ", a->line);
		va_start(ap, fmt);
		if (k >= 0 && (size_t)k < a->errsz)
			vsnprintf(a->err + k, a->errsz - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int grow(void **p, size_t *alloc, size_t need, size_t elem)
{
	size_t n = *alloc ? *alloc : 16;
	void *q;
	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	if (!(q = realloc(*p, n * elem)))
		return -ENOMEM;
	*p = q, *alloc = n;
	return 0;
}

static struct lab *find_label(struct as *a, const char *name, size_t len)
{
	for (size_t i = 0; i < a->nlab; i++)
		if (a->lab[i].len == len && !memcmp(a->lab[i].name, name, len))
			return &a->lab[i];
	return NULL;
}

static int add_label(struct as *a, const char *name, size_t len)
{
	if (find_label(a, name, len))
		return fail(a, -EINVAL, "label '%.*s' defined twice", (int)len, name);
	if (grow((void **)&a->lab, &a->alab, a->nlab + 1, sizeof(*a->lab)))
		return fail(a, -ENOMEM, "out of memory");
	a->lab[a->nlab++] = (struct lab){name, len, a->pc};
	return 0;
}

static int emit(struct as *a, const struct try *t, int slots)
{
	if (a->out && a->pc + (size_t)slots > a->cap)
		return fail(a, -ENOSPC, "program needs more than %zu slots", a->cap);
	if (t->lab) {
		if (grow((void **)&a->fix, &a->afix, a->nfix + 1, sizeof(*a->fix)))
			return fail(a, -ENOMEM, "out of memory");
		a->fix[a->nfix++] = (struct fix){t->lab, t->lablen, a->pc, a->line, t->labkind};
	}
	if (a->out)
		memcpy(&a->out[a->pc], t->in, (size_t)slots * sizeof(t->in[0]));
	a->pc += (size_t)slots;
	return 0;
}

/* Read one instruction from [s, e), already without comment and label. */
static int insn(struct as *a, const char *s, const char *e)
{
	char msg[sizeof(((struct try *)0)->msg)] = "";
	const char *far = s;
	struct try t;
	struct bpfc_isa_dec d;
	for (int id = 0; id < BPFC_I__MAX; id++) {
		const struct bpfc_isa_row *r = &bpfc_isa_rows[id];
		const char *tm = bpfc_isa_fmts[r->fmt].tmpl[a->syntax];
		for (int cls = 0; cls < 8; cls++) {
			if (!(r->classes & BPFC_C(cls)))
				continue;
			for (int var = 0; var < 4; var++) {
				int ret, slots;
				if (!(r->vars & (1u << var)))
					continue;
				memset(&t, 0, sizeof(t));
				t.s = s, t.e = e, t.id = id, t.cls = cls, t.var = var;
				t.syntax = a->syntax, t.pc = a->pc;
				t.in[0] = bpfc_isa_encode(id, cls, var, 0, 0, 0, 0);
				ret = match(&t, tm);
				if (ret == R_OK) {
					slots =
					    bpfc_isa_decode(t.in, 2, 0, &d, t.msg, sizeof(t.msg));
					if (slots > 0 && d.id == id)
						return emit(a, &t, slots);
					ret = slots < 0 ? R_ERR : R_NO;
				}
				/* Report the attempt that read furthest, an error first. */
				if (t.s > far || (t.s == far && ret == R_ERR && !msg[0])) {
					far = t.s;
					if (ret == R_ERR)
						memcpy(msg, t.msg, sizeof(msg));
					else
						msg[0] = '\0';
				}
			}
		}
	}
	if (msg[0])
		return fail(a, -EINVAL, "%s", msg);
	if (far == e)
		return fail(a, -EINVAL, "unexpected end of '%.*s'", (int)(e - s), s);
	if (far == s)
		return fail(a, -EINVAL, "cannot read '%.*s'", (int)(e - s), s);
	return fail(a, -EINVAL, "unexpected '%.*s' in '%.*s'", (int)(e - far), far, (int)(e - s),
	            s);
}

static const char *comment(const struct as *a, const char *s, const char *e)
{
	for (const char *p = s; p < e; p++)
		if (*p == ';' || (a->syntax != BPFC_SYNTAX_CLASSIC &&
		                  (*p == '#' || (*p == '/' && p + 1 < e && p[1] == '/'))))
			return p;
	return e;
}

static int line(struct as *a, const char *s, const char *e)
{
	const char *p;
	int ret;
	e = comment(a, s, e);
	while (s < e && is_ws(*s))
		s++;
	while (e > s && is_ws(e[-1]))
		e--;
	for (p = s; p < e && is_digit(*p); p++) /* a dump's pc counter */
		;
	if (p > s && (p == e || is_ws(*p) || *p == ':')) {
		s = p + (p < e && *p == ':');
		while (s < e && is_ws(*s))
			s++;
	}
	while (a->syntax != BPFC_SYNTAX_CLASSIC && s < e && is_id0(*s)) {
		for (p = s; p < e && is_id(*p); p++)
			;
		const char *q = p;
		while (q < e && is_ws(*q))
			q++;
		if (q >= e || *q != ':')
			break;
		if ((ret = add_label(a, s, (size_t)(p - s))) < 0)
			return ret;
		for (s = q + 1; s < e && is_ws(*s); s++)
			;
	}
	return s < e ? insn(a, s, e) : 0;
}

static int resolve(struct as *a)
{
	for (size_t i = 0; i < a->nfix; i++) {
		const struct fix *f = &a->fix[i];
		const struct lab *l = find_label(a, f->name, f->len);
		int64_t rel;
		a->line = f->line;
		if (!l)
			return fail(a, -EINVAL, "unknown label '%.*s'", (int)f->len, f->name);
		rel = (int64_t)l->pc - (int64_t)f->slot - 1;
		if (f->kind == 'o' && (rel < INT16_MIN || rel > INT16_MAX))
			return fail(a, -EINVAL, "label '%.*s' too far for a 16-bit offset (%lld)",
			            (int)f->len, f->name, (long long)rel);
		if (!a->out)
			continue;
		if (f->kind == 'o')
			a->out[f->slot].off = (int16_t)rel;
		else
			a->out[f->slot].imm = (int32_t)rel;
	}
	return 0;
}

BPFC_API int bpfc_asm(const char *text, int syntax, struct bpf_insn *out, size_t cap, char *err,
                      size_t errsz)
{
	struct as a;
	int ret = 0;
	memset(&a, 0, sizeof(a));
	a.syntax = syntax, a.out = out, a.cap = cap, a.err = err, a.errsz = errsz;
	if (err && errsz)
		err[0] = '\0';
	if (!text || syntax < 0 || syntax >= BPFC_SYNTAX__MAX)
		return fail(&a, -EINVAL, "no text, or unknown syntax %d", syntax);
	for (const char *s = text; *s && ret >= 0;) {
		const char *e = strchr(s, '\n');
		if (!e)
			e = s + strlen(s);
		a.line++;
		ret = line(&a, s, e);
		s = *e ? e + 1 : e;
	}
	if (ret >= 0)
		ret = resolve(&a);
	if (ret >= 0 && a.pc > INT32_MAX)
		ret = fail(&a, -E2BIG, "program too large");
	free(a.lab);
	free(a.fix);
	return ret < 0 ? ret : (int)a.pc;
}
