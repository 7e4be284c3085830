/*
** Assembler. Each line is read by trying the template of every (row,
** class, variant) of the ISA table in the wanted syntax (in GNU mode: the
** pseudo-C one, then the mnemonic one); the first that matches the whole
** line, decodes back to the same row and exists in the dialect wins. So the
** assembler accepts exactly what the disassembler prints, plus blanks,
** comments, labels and a few spellings other tools use. When nothing
** matches, the message names the column the attempt that read furthest
** stopped at and what the templates expected there; a line that is an
** instruction of another dialect says what this one has instead.
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

struct as;

/* One attempt to read a line as a given row, class and variant. */
struct
try {
	const char *s, *e; /* unread input */
	int id, cls, var, syntax;
	size_t pc;
	struct bpf_insn in[2];
	unsigned seen;   /* registers read, so a repeated operand must agree */
	const char *lab; /* label operand, resolved at the end */
	const char *labat;
	size_t lablen;
	char labkind; /* 'o': off, 'i': imm */
	int mapidx;   /* a map named by the lddw, or -1 */
	const struct as *a;
	const char *errat; /* where a bad value starts */
	const char *want;  /* what the template wanted where it stopped */
	char lit[24];      /* a literal it wanted, quoted */
	char msg[160];
};

__attribute__((format(printf, 2, 3))) static int bad(struct try *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->errat = t->s;
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
	if (mn && t->id == BPFC_I_RETURN)
		return word(t, "exit", bound); /* sbpf-v3's exit is return */
	if (mn && t->id == BPFC_I_CALL)
		return word(t, "syscall", bound); /* sBPF before v3 */
	return R_NO;
}

/* Register: strict takes only the class-width prefix in pseudo-C. */
static int reg(struct try *t, int narrow, int strict, int *r)
{
	const char *s = t->s;
	int c, v = 0, nd = 0, ok;
	if (t->syntax == BPFC_SYNTAX_MNEMONIC && s < t->e && *s == '%')
		s++; /* GNU as: %r1 */
	c = s < t->e ? *s : 0;
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
	if (!nd || (s < t->e && is_id(*s)) || v > 10)
		return R_NO;
	t->s = s;
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
	const char *st = t->s;
	*v = 0;
	if ((ret = number(t, &neg, &mag)) != R_OK)
		return ret;
	if ((ret = fit(t, neg, mag, bits, what, v)) == R_ERR)
		t->errat = st;
	return ret;
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
	const char *st = t->s;
	if ((ret = number(t, &inner, &mag)) != R_OK)
		return ret;
	if ((ret = fit(t, neg ^ inner, mag, bits, what, v)) == R_ERR)
		t->errat = st;
	return ret;
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
		t->lab = s, t->labat = s, t->lablen = (size_t)(t->s - s), t->labkind = kind;
		return R_OK;
	} else {
		return R_NO;
	}
	if (kind == 'o' ? rel < INT16_MIN || rel > INT16_MAX : rel < INT32_MIN || rel > INT32_MAX) {
		bad(t, "jump offset %lld out of range", (long long)rel);
		t->errat = s;
		return R_ERR;
	}
	if (kind == 'o')
		t->in[0].off = (int16_t)rel;
	else
		t->in[0].imm = (int32_t)rel;
	return R_OK;
}

static int dialect_of(const struct try *t);
static int map_operand(struct try *t);

static int helper(struct try *t)
{
	const char *s = t->s;
	int64_t v = 0;
	int id;
	if (s < t->e && is_id0(*s) && dialect_of(t) == BPFC_DIALECT_KERNEL) {
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
	case 'R':
		if ((ret = reg(t, 0, 0, &r)) == R_OK)
			in->imm = r;
		return ret;
	case 'M': return map_operand(t);
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

/* What a template field reads, for "expected ..." */
static const char *field_want(const struct try *t, char f)
{
	switch (f) {
	case 'n': return "an instruction";
	case 'b': return "a size in bits";
	case 'd':
	case 's':
		if (t->syntax == BPFC_SYNTAX_PSEUDOC)
			return BPFC_IS_32(t->cls) ? "a 32-bit register (wN)" : "a 64-bit register (rN)";
		return "a register";
	case 'D':
	case 'S':
	case 'X':
	case 'W':
	case 'Z':
	case 'R': return "a register";
	case 'v':
		if (t->var & 1)
			return field_want(t, 's');
		return "a number";
	case 't':
	case 'T': return "a jump target (+N, -N or a label)";
	case 'L': return "a call target (pc+N or a label)";
	case 'h':
		return dialect_of(t) == BPFC_DIALECT_KERNEL ? "a helper name or number" : "a number";
	case 'M': return "a map (map[fd:N] or the name of a map)";
	default: return "a number";
	}
}

static int match(struct try *t, const char *tm)
{
	int fold = t->syntax == BPFC_SYNTAX_CLASSIC, ret;
	const char *run = NULL, *at = t->s; /* a literal word: where it starts, in both */
	for (; *tm; tm++) {
		if (*tm == '%' && tm[1]) {
			tm++;
			run = NULL;
			if ((ret = field(t, *tm, tm[1] != '%')) != R_OK) {
				if (ret == R_NO)
					t->want = field_want(t, *tm);
				return ret;
			}
		} else if (is_ws(*tm)) {
			run = NULL;
			skip_ws(t);
		} else {
			if (!run || !is_id(*tm) || !is_id(tm[-1]))
				run = tm, at = t->s;
			if (t->s < t->e && (fold ? lower(*t->s) == lower(*tm) : *t->s == *tm)) {
				t->s++;
				continue;
			}
			/* the literal word from its start to the next field or blank, quoted */
			char *l = t->lit;
			size_t k = 0;
			if (is_id(*tm))
				t->s = at;
			else
				run = tm;
			l[k++] = '\'';
			for (tm = run; *tm && *tm != '%' && !is_ws(*tm) && k < sizeof(t->lit) - 2; tm++) {
				if (tm > run && is_id(*tm) != is_id(tm[-1]))
					break;
				l[k++] = *tm;
			}
			l[k++] = '\'';
			l[k] = '\0';
			t->want = l;
			return R_NO;
		}
	}
	skip_ws(t);
	if (t->s == t->e)
		return R_OK;
	t->want = "the end of the instruction";
	return R_NO;
}

struct lab {
	const char *name;
	size_t len, pc;
};

struct fix {
	const char *name, *at;
	size_t len, slot;
	int line;
	const char *lstart;
	char kind;
};

struct as {
	int syntax, dialect, line;
	const char *text, *lstart; /* the text, the start of the current line */
	struct bpf_insn *out;
	size_t cap, pc;
	struct lab *lab;
	size_t nlab, alab;
	struct fix *fix;
	size_t nfix, afix;
	struct bpfc_asm_opts *o;
	char *err;
	size_t errsz;
};

static int dialect_of(const struct try *t)
{
	return t->a->dialect;
}

/* map[fd:N] (map[idx:N]), or for the fd form the name of a map the caller
** passed: an lddw of src_reg 1 with imm 0 and a relocation for that map. */
static int map_operand(struct try *t)
{
	const struct bpfc_asm_opts *o = t->a->o;
	const char *s = t->s;
	int64_t v = 0;
	int ret;
	if (s < t->e && is_id0(*s) && !(t->e - s > 3 && !memcmp(s, "map[", 4))) {
		if (t->id != BPFC_I_LDMAPFD || !o || !o->maps)
			return R_NO;
		while (s < t->e && is_id(*s))
			s++;
		for (size_t i = 0; i < o->nmaps; i++)
			if (o->maps[i] && strlen(o->maps[i]) == (size_t)(s - t->s) &&
			    !memcmp(o->maps[i], t->s, (size_t)(s - t->s))) {
				t->s = s;
				t->mapidx = (int)i;
				t->in[0].imm = 0;
				return R_OK;
			}
		return R_NO;
	}
	if (word(t, "map[", 0) != R_OK || word(t, bpfc_isa_rows[t->id].ptok, 0) != R_OK ||
	    word(t, ":", 0) != R_OK)
		return R_NO;
	if ((ret = value(t, 32, "imm", &v)) != R_OK)
		return ret;
	t->in[0].imm = (int32_t)v;
	return word(t, "]", 0);
}

__attribute__((format(printf, 4, 5))) static int fail_at(struct as *a, const char *at, int code,
                                                         const char *fmt, ...)
{
	va_list ap;
	int k = 0;
	if (a->err && a->errsz) {
		if (a->line) /* else about the options, not the text */
			k = snprintf(a->err, a->errsz, "%d:%d: ", a->line,
			             at && a->lstart && at >= a->lstart ? (int)(at - a->lstart) + 1 : 1);
		va_start(ap, fmt);
		if (k >= 0 && (size_t)k < a->errsz)
			vsnprintf(a->err + k, a->errsz - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return code;
}
#define fail(a, code, ...) fail_at((a), NULL, (code), __VA_ARGS__)

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
	struct bpfc_asm_opts *o = a->o;
	if (find_label(a, name, len))
		return fail_at(a, name, -EINVAL, "label '%.*s' defined twice", (int)len, name);
	if (grow((void **)&a->lab, &a->alab, a->nlab + 1, sizeof(*a->lab)))
		return fail(a, -ENOMEM, "out of memory");
	a->lab[a->nlab++] = (struct lab){name, len, a->pc};
	if (o) {
		if (o->labels && o->nlabels < o->label_cap)
			o->labels[o->nlabels] = (struct bpfc_asm_label){
			    (uint32_t)a->pc, (uint32_t)(name - a->text), (uint32_t)len};
		o->nlabels++;
	}
	return 0;
}

static int emit(struct as *a, const struct try *t, int slots)
{
	struct bpfc_asm_opts *o = a->o;
	if (a->out && a->pc + (size_t)slots > a->cap)
		return fail(a, -ENOSPC, "program needs more than %zu slots", a->cap);
	if (t->lab) {
		if (grow((void **)&a->fix, &a->afix, a->nfix + 1, sizeof(*a->fix)))
			return fail(a, -ENOMEM, "out of memory");
		a->fix[a->nfix++] =
		    (struct fix){t->lab, t->labat, t->lablen, a->pc, a->line, a->lstart, t->labkind};
	}
	if (o && t->mapidx >= 0) {
		if (o->relocs && o->nrelocs < o->reloc_cap)
			o->relocs[o->nrelocs] =
			    (struct bpfc_asm_reloc){(uint32_t)a->pc, (uint32_t)t->mapidx};
		o->nrelocs++;
	}
	if (a->out) {
		memcpy(&a->out[a->pc], t->in, (size_t)slots * sizeof(t->in[0]));
		a->out[a->pc].code = (uint8_t)bpfc_isa_from_canon(a->dialect, t->in[0].code);
		if (o && o->lines)
			for (int k = 0; k < slots; k++)
				o->lines[a->pc + (size_t)k] = a->line;
	}
	a->pc += (size_t)slots;
	return 0;
}

/* GNU as's normal syntax spells a few instructions its own way. */
static const struct {
	int id;
	const char *tmpl;
} gnu_spellings[] = {
    {BPFC_I_LE, "endle %D, %e"},
    {BPFC_I_BE, "endbe %D, %e"},
    {BPFC_I_BSWAP, "bswap %D, %e"},
    {BPFC_I_GOTOL, "jal %T"},
};

/* The furthest any attempt read, and what was wanted there. */
struct best {
	const char *far;
	char wants[6][48];
	int nwants, err;
	char msg[sizeof(((struct try *)0)->msg)];
	char refusal[sizeof(((struct try *)0)->msg)]; /* another dialect's instruction */
};

static void note(struct best *b, const struct try *t, int ret)
{
	const char *at = ret == R_ERR ? t->errat : t->s;
	if (at > b->far || (at == b->far && ret == R_ERR && !b->err)) {
		b->far = at, b->nwants = 0, b->err = ret == R_ERR;
		if (ret == R_ERR)
			memcpy(b->msg, t->msg, sizeof(b->msg));
	}
	if (at == b->far && ret == R_NO && !b->err && t->want) {
		for (int i = 0; i < b->nwants; i++)
			if (!strcmp(b->wants[i], t->want))
				return;
		if (b->nwants < 6)
			snprintf(b->wants[b->nwants++], sizeof(b->wants[0]), "%s", t->want);
	}
}

/* One template tried on [s, e) as row id, class cls, variant var. */
static int attempt(struct as *a, struct best *b, const char *s, const char *e, int syntax, int id,
                   int cls, int var, const char *tm)
{
	struct try t;
	struct bpfc_isa_dec d;
	int ret, slots;
	memset(&t, 0, sizeof(t));
	t.s = s, t.e = e, t.id = id, t.cls = cls, t.var = var, t.a = a, t.mapidx = -1;
	t.syntax = syntax, t.pc = a->pc;
	t.in[0] = bpfc_isa_encode(id, cls, var, 0, 0, 0, 0);
	ret = match(&t, tm);
	if (ret == R_OK) {
		if (!bpfc_isa_in_dialect(id, cls, a->dialect)) {
			int home = 0; /* a dialect that has the row */
			while (home < BPFC_DIALECT__MAX && !bpfc_isa_in_dialect(id, cls, home))
				home++;
			if (!b->refusal[0] && home < BPFC_DIALECT__MAX &&
			    bpfc_isa_decode_canon(t.in, 2, home, &d, NULL, 0) > 0 && d.id == id)
				bpfc_isa_lacks(id, cls, var, a->dialect, b->refusal, sizeof(b->refusal));
			return 0;
		}
		slots = bpfc_isa_decode_canon(t.in, 2, a->dialect, &d, t.msg, sizeof(t.msg));
		if (slots > 0 && d.id == id)
			return emit(a, &t, slots) < 0 ? -1 : 1;
		t.errat = s;
		ret = slots < 0 ? R_ERR : R_NO;
	}
	note(b, &t, ret);
	return 0;
}

/* The token at p, for "got '...'" */
static int token_len(const char *p, const char *e)
{
	const char *q = p;
	if (q < e && (*q == '%' || *q == '+' || *q == '-'))
		q++;
	while (q < e && is_id(*q))
		q++;
	return q > p ? (int)(q - p) : (p < e ? 1 : 0);
}

/* Read one instruction from [s, e), already without comment and label. */
static int insn(struct as *a, const char *s, const char *e)
{
	static const int gnu[] = {BPFC_SYNTAX_PSEUDOC, BPFC_SYNTAX_MNEMONIC};
	struct best b;
	const int *syn = a->syntax == BPFC_SYNTAX_GNU ? gnu : &a->syntax;
	int nsyn = a->syntax == BPFC_SYNTAX_GNU ? 2 : 1, ret;
	memset(&b, 0, sizeof(b));
	b.far = s;
	for (int k = 0; k < nsyn; k++) {
		for (int id = 0; id < BPFC_I__MAX; id++) {
			const struct bpfc_isa_row *r = &bpfc_isa_rows[id];
			const char *tm = bpfc_isa_fmts[r->fmt].tmpl[syn[k]], *alt = NULL;
			if (syn[k] == BPFC_SYNTAX_MNEMONIC)
				for (size_t g = 0; g < sizeof(gnu_spellings) / sizeof(gnu_spellings[0]); g++)
					if (gnu_spellings[g].id == id)
						alt = gnu_spellings[g].tmpl;
			for (int cls = 0; cls < 8; cls++) {
				if (!(r->classes & BPFC_C(cls)))
					continue;
				for (int var = 0; var < 4; var++) {
					if (!(r->vars & (1u << var)))
						continue;
					if ((ret = attempt(a, &b, s, e, syn[k], id, cls, var, tm)) ||
					    (alt && (ret = attempt(a, &b, s, e, syn[k], id, cls, var, alt))))
						return ret < 0 ? -ENOSPC : 0;
				}
			}
		}
	}
	if (b.refusal[0])
		return fail_at(a, s, -EINVAL, "%s", b.refusal);
	if (b.err)
		return fail_at(a, b.far, -EINVAL, "%s", b.msg);
	{
		char wants[200] = "";
		/* a register name past r10 is no register at all */
		int tl = token_len(b.far, e), i0 = tl > 0 && *b.far == '%', v = 0, reglike;
		reglike = tl > i0 + 1 && (b.far[i0] == 'r' || b.far[i0] == 'w' || b.far[i0] == 'R');
		for (int i = i0 + 1; reglike && i < tl; i++)
			reglike = is_digit(b.far[i]) && (v = v * 10 + b.far[i] - '0') < 1000;
		reglike = reglike && v > 10;
		if (b.far == s)
			snprintf(wants, sizeof(wants), "%s", reglike ? "a register" : "an instruction");
		else if (reglike)
			snprintf(wants, sizeof(wants), "a register");
		for (int i = 0; b.far != s && !reglike && i < b.nwants; i++) {
			size_t n = strlen(wants);
			snprintf(wants + n, sizeof(wants) - n, "%s%s",
			         i == 0 ? "" : i == b.nwants - 1 ? " or " : ", ", b.wants[i]);
		}
		if (!wants[0])
			snprintf(wants, sizeof(wants), "something else");
		if (b.far >= e)
			return fail_at(a, b.far, -EINVAL, "expected %s after '%.*s'", wants, (int)(e - s),
			               s);
		return fail_at(a, b.far, -EINVAL, "expected %s, got '%.*s'", wants, tl, b.far);
	}
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
	a->lstart = s;
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
		a->lstart = f->lstart;
		if (!l)
			return fail_at(a, f->at, -EINVAL, "unknown label '%.*s'", (int)f->len, f->name);
		rel = (int64_t)l->pc - (int64_t)f->slot - 1;
		if (f->kind == 'o' && (rel < INT16_MIN || rel > INT16_MAX))
			return fail_at(a, f->at, -EINVAL,
			               "label '%.*s' too far for a 16-bit offset (%lld)", (int)f->len,
			               f->name, (long long)rel);
		if (!a->out)
			continue;
		if (f->kind == 'o')
			a->out[f->slot].off = (int16_t)rel;
		else
			a->out[f->slot].imm = (int32_t)rel;
	}
	return 0;
}

BPFC_API int bpfc_asm_text(const char *text, struct bpfc_asm_opts *o, struct bpf_insn *out,
                           size_t cap, char *err, size_t errsz)
{
	struct as a;
	int ret = 0;
	memset(&a, 0, sizeof(a));
	a.out = out, a.cap = cap, a.err = err, a.errsz = errsz, a.o = o, a.text = text;
	if (err && errsz)
		err[0] = '\0';
	if (!o || o->sz < sizeof(*o))
		return fail(&a, -EINVAL, "no options, or options of an older size");
	a.syntax = o->syntax, a.dialect = o->dialect;
	o->nrelocs = o->nlabels = 0;
	if (!text || a.syntax < 0 || a.syntax > BPFC_SYNTAX_GNU)
		return fail(&a, -EINVAL, "no text, or unknown syntax %d", a.syntax);
	if (a.dialect < 0 || a.dialect >= BPFC_DIALECT__MAX)
		return fail(&a, -EINVAL, "unknown dialect %d", a.dialect);
	if (a.dialect != BPFC_DIALECT_KERNEL && a.syntax != BPFC_SYNTAX_MNEMONIC)
		return fail(&a, -EINVAL, "%s is written in the mnemonic syntax",
		            bpfc_isa_dialect_name(a.dialect));
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

BPFC_API int bpfc_asm(const char *text, int syntax, struct bpf_insn *out, size_t cap, char *err,
                      size_t errsz)
{
	struct bpfc_asm_opts o;
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.syntax = syntax;
	return bpfc_asm_text(text, &o, out, cap, err, errsz);
}
