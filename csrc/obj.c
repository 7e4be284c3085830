/*
** The object writer: programs and maps as a BPF ELF relocatable object, the
** way clang lays one out, so that libbpf, bpftool and llvm-objdump read it.
**
**   .strtab       section and symbol names
**   <section>     one per program (SHF_EXECINSTR), its function symbol; the
**                 instructions before its first subprogram
**   .text         the subprograms of all programs, each a local function
**                 symbol (libbpf takes static functions from .text only)
**   .rel<section> R_BPF_64_64 against the map symbols, lddw imm zeroed;
**                 R_BPF_64_32 against a subprogram's symbol for each call
**                 into .text (imm -1: libbpf calls sym_off / 8 + imm + 1);
**                 R_BPF_64_64 against the .text section symbol for each
**                 lddw of a subprogram's address (a bpf_loop callback): imm
**                 the callee's byte offset in .text, src_reg 0 (libbpf sets
**                 BPF_PSEUDO_FUNC and makes imm relative again)
**   .rel.text     the map and address relocations of the subprograms; their
**                 calls to one another stay relative (one section, no
**                 relocation)
**   license       "GPL\0"; version (only with a kern_version)
**   .maps         zeroed storage of the BTF-defined map variables
**   .BTF          types, map definitions, functions, strings (libbpf's writer)
**   .BTF.ext      func_info and line_info (Lua file, line and text), a block
**                 per program section and one for .text; core_relo likewise
**                 (CO-RE field relocations of kernel types' accesses)
**   .symtab
**
** The ELF is written by hand: a handful of sections with fixed roles is less
** code than driving libelf, and needs no file descriptor.
*/
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/btf.h>
#include <bpf/btf.h>
#include "obj.h"

#define MAX_MAP_FIELDS 8
#define MAX_FUNC_ARGS 5 /* r1..r5 */
#define BTF_EXT_MAGIC 0xeB9F

/* A growing byte buffer; a failed allocation sticks until checked. */
struct buf {
	char *data;
	size_t len, cap;
	bool oom;
};

static size_t buf_put(struct buf *b, const void *data, size_t n)
{
	size_t at = b->len;
	if (b->oom || !n)
		return at; /* nothing to copy, and an empty buffer has no storage yet */
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->oom = true;
			return at;
		}
		b->data = p;
		b->cap = cap;
	}
	if (data)
		memcpy(b->data + b->len, data, n);
	else
		memset(b->data + b->len, 0, n);
	b->len += n;
	return at;
}

static void buf_align(struct buf *b, size_t align)
{
	if (align > 1 && b->len % align)
		buf_put(b, NULL, align - b->len % align);
}

static void buf_u32(struct buf *b, uint32_t v)
{
	buf_put(b, &v, sizeof(v));
}

struct obj_map {
	char *name;
	int var_id;
	uint32_t size; /* of the definition struct in .maps */
};

struct obj_line {
	uint32_t insn, file_off, text_off, line;
};

struct obj_func {
	uint32_t insn; /* its first instruction, in the program's numbering */
	char *name;    /* of its BTF FUNC, as given */
	char *sym;     /* of its symbol, unique in the object: chosen when written */
	int func_id;
	int sym_idx;   /* set when written */
};

/* A call from the program's section to subprogram `func` of the program,
** or (in addrs) a lddw of its address from anywhere in the program. */
struct obj_call {
	uint32_t insn, func;
};

struct obj_core {
	uint32_t insn, type_id, access_off, kind;
};

struct obj_prog {
	char *name, *section;
	struct bpf_insn *insns;
	size_t insn_cnt;
	struct bpfc_obj_reloc *relocs;
	size_t reloc_cnt;
	struct obj_line *lines; /* in the program's numbering, split when written */
	size_t line_cnt;
	struct obj_func *funcs;
	size_t func_cnt;
	struct obj_call *calls;
	size_t call_cnt;
	struct obj_call *addrs; /* pseudo-func lddws, by instruction */
	size_t addr_cnt;
	struct obj_core *cores; /* CO-RE relocations, in the program's numbering */
	size_t core_cnt;
	uint32_t text_insn; /* where its subprograms start in .text */
	int func_id;
	int sec_name_off; /* the section name among the BTF strings, for .BTF.ext */
};

/* The instructions that go into the program's own section. */
static uint32_t main_cnt(const struct obj_prog *p)
{
	return p->func_cnt ? p->funcs[0].insn : (uint32_t)p->insn_cnt;
}

/* A subprogram's end, in the program's numbering. */
static uint32_t func_end(const struct obj_prog *p, size_t k)
{
	return k + 1 < p->func_cnt ? p->funcs[k + 1].insn : (uint32_t)p->insn_cnt;
}

/* Where instruction `insn` of p lies in its ELF section. */
static uint32_t sec_insn(const struct obj_prog *p, uint32_t insn)
{
	uint32_t m = main_cnt(p);
	return insn < m ? insn : p->text_insn + (insn - m);
}

struct bpfc_obj {
	struct btf *btf;
	char *license;
	uint32_t kern_version;
	int int_id, index_id; /* "int" and "__ARRAY_SIZE_TYPE__" of __uint() arrays */
	int proto_id;	      /* int (void *ctx), shared by the programs */
	int s64_id;	      /* __s64, the subprograms' arguments and result */
	int text_name_off;    /* ".text" among the BTF strings */
	size_t text_cnt;      /* instructions in .text */
	struct obj_map *maps;
	size_t map_cnt;
	struct obj_prog *progs;
	size_t prog_cnt;
	bool finished;
	int finish_err; /* the BTF has its DATASEC by then: no second try */
	struct buf out;
	char errmsg[512];
};

/* Records why the call failed; returns err (a negative errno). */
__attribute__((format(printf, 3, 4))) static int fail(struct bpfc_obj *obj, int err,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(obj->errmsg, sizeof(obj->errmsg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(obj->errmsg))
		snprintf(obj->errmsg + n, sizeof(obj->errmsg) - (size_t)n, ": %s", strerror(-err));
	return err;
}

static bool is_identifier(const char *s)
{
	if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/* Map variables and program functions share the symbol table. */
static bool symbol_taken(const struct bpfc_obj *obj, const char *name)
{
	for (size_t i = 0; i < obj->map_cnt; i++)
		if (!strcmp(obj->maps[i].name, name))
			return true;
	for (size_t i = 0; i < obj->prog_cnt; i++)
		if (!strcmp(obj->progs[i].name, name))
			return true;
	return !strcmp(name, "LICENSE") || !strcmp(name, "_version");
}

static int check_open(struct bpfc_obj *obj, const char *what)
{
	if (!obj)
		return -EINVAL;
	if (obj->finished)
		return fail(obj, -EBUSY, "bpf.object: cannot add %s: the object is written already",
			    what);
	return 0;
}

static bool is_type_id(const struct bpfc_obj *obj, int id)
{
	return id > 0 && (uint32_t)id < btf__type_cnt(obj->btf);
}

static void free_prog(struct obj_prog *op)
{
	free(op->name);
	free(op->section);
	free(op->insns);
	free(op->relocs);
	free(op->lines);
	for (size_t k = 0; op->funcs && k < op->func_cnt; k++) {
		free(op->funcs[k].name);
		free(op->funcs[k].sym);
	}
	free(op->funcs);
	free(op->calls);
	free(op->addrs);
	free(op->cores);
}

struct bpfc_obj *bpfc_obj_new(const struct bpfc_obj_opts *opts)
{
	if (opts && opts->sz < sizeof(size_t)) {
		errno = EINVAL;
		return NULL;
	}
	struct bpfc_obj *obj = calloc(1, sizeof(*obj));
	if (!obj) {
		errno = ENOMEM;
		return NULL;
	}
	/* fields an older, shorter opts struct does not have stay at their defaults */
	const char *license = NULL;
	if (opts && opts->sz >= offsetof(struct bpfc_obj_opts, license) + sizeof(char *))
		license = opts->license;
	if (opts && opts->sz >= offsetof(struct bpfc_obj_opts, kern_version) + sizeof(uint32_t))
		obj->kern_version = opts->kern_version;
	obj->license = strdup(license ? license : "GPL");
	obj->btf = btf__new_empty();
	if (!obj->license || !obj->btf) {
		bpfc_obj_free(obj);
		errno = ENOMEM;
		return NULL;
	}
	obj->int_id = btf__add_int(obj->btf, "int", 4, BTF_INT_SIGNED);
	obj->index_id = btf__add_int(obj->btf, "__ARRAY_SIZE_TYPE__", 4, 0);
	if (obj->int_id < 0 || obj->index_id < 0) {
		bpfc_obj_free(obj);
		errno = ENOMEM;
		return NULL;
	}
	return obj;
}

void bpfc_obj_free(struct bpfc_obj *obj)
{
	if (!obj)
		return;
	for (size_t i = 0; i < obj->map_cnt; i++)
		free(obj->maps[i].name);
	for (size_t i = 0; i < obj->prog_cnt; i++)
		free_prog(&obj->progs[i]);
	free(obj->maps);
	free(obj->progs);
	free(obj->license);
	free(obj->out.data);
	btf__free(obj->btf);
	free(obj);
}

const char *bpfc_obj_errmsg(const struct bpfc_obj *obj)
{
	return obj ? obj->errmsg : "bpf.object: no object";
}

/* ---- BTF types of keys and values ---- */

int bpfc_obj_add_int(struct bpfc_obj *obj, const char *name, uint32_t size, int encoding)
{
	int err = check_open(obj, "a type");
	if (err)
		return err;
	int id = btf__add_int(obj->btf, name, size, encoding);
	if (id < 0)
		return fail(obj, id, "bpf.object: BTF int '%s' of %u bytes", name ? name : "",
			    size);
	return id;
}

int bpfc_obj_add_float(struct bpfc_obj *obj, const char *name, uint32_t size)
{
	int err = check_open(obj, "a type");
	if (err)
		return err;
	int id = btf__add_float(obj->btf, name, size);
	if (id < 0)
		return fail(obj, id, "bpf.object: BTF float '%s' of %u bytes", name ? name : "",
			    size);
	return id;
}

int bpfc_obj_add_array(struct bpfc_obj *obj, int elem_type_id, uint32_t nelems)
{
	int err = check_open(obj, "a type");
	if (err)
		return err;
	if (!is_type_id(obj, elem_type_id))
		return fail(obj, -EINVAL, "bpf.object: BTF array of unknown type %d", elem_type_id);
	int id = btf__add_array(obj->btf, obj->index_id, elem_type_id, nelems);
	if (id < 0)
		return fail(obj, id, "bpf.object: BTF array of %u", nelems);
	return id;
}

int bpfc_obj_add_struct(struct bpfc_obj *obj, const char *name, uint32_t size, int is_union)
{
	int err = check_open(obj, "a type");
	if (err)
		return err;
	if (name && *name && !is_identifier(name))
		return fail(obj, -EINVAL, "bpf.object: BTF %s name '%s' is not a C identifier",
			    is_union ? "union" : "struct", name);
	int id = is_union ? btf__add_union(obj->btf, name, size)
			  : btf__add_struct(obj->btf, name, size);
	if (id < 0)
		return fail(obj, id, "bpf.object: BTF %s '%s'", is_union ? "union" : "struct",
			    name ? name : "");
	return id;
}

int bpfc_obj_add_ptr(struct bpfc_obj *obj, int type_id)
{
	int err = check_open(obj, "a type");
	if (err)
		return err;
	if (type_id && !is_type_id(obj, type_id))
		return fail(obj, -EINVAL, "bpf.object: BTF pointer to unknown type %d", type_id);
	int id = btf__add_ptr(obj->btf, type_id);
	if (id < 0)
		return fail(obj, id, "bpf.object: BTF pointer");
	return id;
}

int bpfc_obj_add_enum(struct bpfc_obj *obj, const char *name, uint32_t size)
{
	int err = check_open(obj, "a type");
	if (err)
		return err;
	if (name && *name && !is_identifier(name))
		return fail(obj, -EINVAL, "bpf.object: BTF enum name '%s' is not a C identifier", name);
	int id = btf__add_enum(obj->btf, name, size);
	if (id < 0)
		return fail(obj, id, "bpf.object: BTF enum '%s'", name ? name : "");
	return id;
}

/* The CO-RE relocations of p, checked: each on an instruction of p, its
** type a struct or union of the object's BTF, its access a C string. */
static int collect_cores(struct bpfc_obj *obj, const struct bpfc_obj_prog *p, struct obj_prog *op)
{
	if (p->sz < offsetof(struct bpfc_obj_prog, core_relo_cnt) + sizeof(p->core_relo_cnt) ||
	    !p->core_relos || !p->core_relo_cnt)
		return 0;
	op->cores = calloc(p->core_relo_cnt, sizeof(*op->cores));
	if (!op->cores)
		return fail(obj, -ENOMEM, "bpf.object: program '%s'", p->name);
	for (size_t i = 0; i < p->core_relo_cnt; i++) {
		const struct bpfc_obj_core_relo *r = &p->core_relos[i];
		if (r->insn >= p->insn_cnt || !is_type_id(obj, r->type_id) || !r->access || !*r->access)
			return fail(obj, -EINVAL, "bpf.object: program '%s': CO-RE relocation %zu "
				    "(instruction %u, type %d)", p->name, i, r->insn, r->type_id);
		int off = btf__add_str(obj->btf, r->access);
		if (off < 0)
			return fail(obj, off, "bpf.object: program '%s': BTF strings", p->name);
		op->cores[op->core_cnt++] = (struct obj_core){r->insn, (uint32_t)r->type_id, (uint32_t)off,
							      r->kind};
	}
	return 0;
}

int bpfc_obj_add_field(struct bpfc_obj *obj, const char *name, int type_id, uint32_t bit_offset,
		       uint32_t bit_size)
{
	int err = check_open(obj, "a field");
	if (err)
		return err;
	if (!is_type_id(obj, type_id))
		return fail(obj, -EINVAL, "bpf.object: BTF field '%s' of unknown type %d",
			    name ? name : "", type_id);
	if (name && *name && !is_identifier(name))
		return fail(obj, -EINVAL, "bpf.object: BTF field name '%s' is not a C identifier",
			    name);
	/* libbpf checks that the last type added is a struct or union */
	err = btf__add_field(obj->btf, name, type_id, bit_offset, bit_size);
	if (err < 0)
		return fail(obj, err, "bpf.object: BTF field '%s' (after a struct or union?)",
			    name ? name : "");
	return 0;
}

/* ---- maps ---- */

struct map_field {
	const char *name;
	int ptr_id; /* of the pointer type that the member has */
};

/* __uint(name, value): a pointer to an array of `value` ints. */
static int uint_field(struct bpfc_obj *obj, const char *map, struct map_field *f,
		      const char *name, uint32_t value)
{
	int arr = btf__add_array(obj->btf, obj->index_id, obj->int_id, value);
	f->name = name;
	f->ptr_id = arr < 0 ? arr : btf__add_ptr(obj->btf, arr);
	if (f->ptr_id < 0)
		return fail(obj, f->ptr_id, "bpf.object: map '%s': BTF of %s", map, name);
	return 0;
}

/* The key or the value: __type(key, T) when there is a type, else
** __uint(key_size, N) when there is a size, else nothing. */
static int kv_field(struct bpfc_obj *obj, const struct bpfc_obj_map *m, struct map_field *fields,
		    int *n, const char *what, int type_id, uint32_t size)
{
	if (!type_id) {
		if (!size)
			return 0;
		const char *name = what[0] == 'k' ? "key_size" : "value_size";
		return uint_field(obj, m->name, &fields[(*n)++], name, size);
	}
	if (!is_type_id(obj, type_id))
		return fail(obj, -EINVAL, "bpf.object: map '%s': unknown %s type %d", m->name, what,
			    type_id);
	int64_t tsize = btf__resolve_size(obj->btf, (uint32_t)type_id);
	if (size && tsize != (int64_t)size)
		return fail(obj, -EINVAL, "bpf.object: map '%s': the %s type is %lld bytes, not %u",
			    m->name, what, (long long)tsize, size);
	struct map_field *f = &fields[(*n)++];
	f->name = what;
	f->ptr_id = btf__add_ptr(obj->btf, type_id);
	if (f->ptr_id < 0)
		return fail(obj, f->ptr_id, "bpf.object: map '%s': BTF of %s", m->name, what);
	return 0;
}

int bpfc_obj_add_map(struct bpfc_obj *obj, const struct bpfc_obj_map *m)
{
	int err = check_open(obj, "a map");
	if (err)
		return err;
	if (!m || m->sz < offsetof(struct bpfc_obj_map, map_flags))
		return fail(obj, -EINVAL, "bpf.object: map description missing or too short");
	if (!is_identifier(m->name))
		return fail(obj, -EINVAL, "bpf.object: map name '%s' is not a C identifier",
			    m->name ? m->name : "(null)");
	if (symbol_taken(obj, m->name))
		return fail(obj, -EEXIST, "bpf.object: map '%s': the name is taken", m->name);
	bool has_rest = m->sz >= sizeof(struct bpfc_obj_map);
	if (has_rest && m->map_extra > UINT32_MAX)
		/* an array's length is 32 bits: libbpf reads map_extra the same way */
		return fail(obj, -ERANGE, "bpf.object: map '%s': map_extra %llu", m->name,
			    (unsigned long long)m->map_extra);

	struct map_field fields[MAX_MAP_FIELDS];
	int n = 0;
	err = uint_field(obj, m->name, &fields[n++], "type", m->type);
	if (!err && m->max_entries)
		err = uint_field(obj, m->name, &fields[n++], "max_entries", m->max_entries);
	if (!err)
		err = kv_field(obj, m, fields, &n, "key", m->key_type_id, m->key_size);
	if (!err)
		err = kv_field(obj, m, fields, &n, "value", m->value_type_id, m->value_size);
	if (!err && has_rest && m->map_flags)
		err = uint_field(obj, m->name, &fields[n++], "map_flags", m->map_flags);
	if (!err && has_rest && m->numa_node)
		err = uint_field(obj, m->name, &fields[n++], "numa_node", m->numa_node);
	if (!err && has_rest && m->map_extra)
		err = uint_field(obj, m->name, &fields[n++], "map_extra", (uint32_t)m->map_extra);
	if (err)
		return err;

	uint32_t size = (uint32_t)(n * sizeof(uint64_t));
	int st = btf__add_struct(obj->btf, NULL, size);
	for (int i = 0; st > 0 && !err && i < n; i++)
		err = btf__add_field(obj->btf, fields[i].name, fields[i].ptr_id,
				     (uint32_t)(i * 64), 0);
	if (st < 0 || err < 0)
		return fail(obj, st < 0 ? st : err, "bpf.object: map '%s': BTF definition",
			    m->name);
	int var = btf__add_var(obj->btf, m->name, BTF_VAR_GLOBAL_ALLOCATED, st);
	if (var < 0)
		return fail(obj, var, "bpf.object: map '%s': BTF variable", m->name);

	struct obj_map *maps = realloc(obj->maps, (obj->map_cnt + 1) * sizeof(*maps));
	if (!maps)
		return fail(obj, -ENOMEM, "bpf.object: map '%s'", m->name);
	obj->maps = maps;
	struct obj_map *om = &maps[obj->map_cnt];
	om->name = strdup(m->name);
	if (!om->name)
		return fail(obj, -ENOMEM, "bpf.object: map '%s'", m->name);
	om->var_id = var;
	om->size = size;
	return (int)obj->map_cnt++;
}

/* ---- programs ---- */

static bool is_lddw(const struct bpf_insn *i)
{
	return i->code == (BPF_LD | BPF_DW | BPF_IMM);
}

static bool is_func_addr(const struct bpf_insn *i)
{
	return is_lddw(i) && i->src_reg == BPF_PSEUDO_FUNC;
}

static bool reserved_section(const char *s)
{
	static const char *const names[] = {".maps", "license", "version", ".BTF", ".BTF.ext",
					    ".symtab", ".strtab", ".text", ".text.unlikely", "maps"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return true;
	/* relocation sections and data sections have meanings of their own */
	return !strncmp(s, ".rel", 4) || !strncmp(s, ".data", 5) || !strncmp(s, ".rodata", 7) ||
	       !strncmp(s, ".bss", 4) || !strncmp(s, ".debug", 6);
}

/* The subprograms, which a caller's shorter struct (from before funcs) has none of. */
static const struct bpfc_obj_func *prog_funcs(const struct bpfc_obj_prog *p, size_t *cnt)
{
	bool has = p->sz >= offsetof(struct bpfc_obj_prog, func_cnt) + sizeof(p->func_cnt);
	*cnt = has ? p->func_cnt : 0;
	return has ? p->funcs : NULL;
}

static int check_funcs(struct bpfc_obj *obj, const struct bpfc_obj_prog *p)
{
	size_t cnt;
	const struct bpfc_obj_func *funcs = prog_funcs(p, &cnt);
	if (cnt && !funcs)
		return fail(obj, -EINVAL, "bpf.object: program '%s': subprograms missing", p->name);
	uint32_t prev = 0;
	for (size_t k = 0; k < cnt; k++) {
		const struct bpfc_obj_func *f = &funcs[k];
		if (f->insn <= prev || f->insn >= p->insn_cnt)
			return fail(obj, -EINVAL,
				    "bpf.object: program '%s': subprogram %zu starts at %u: not after "
				    "the one before, or past the end (%zu instructions)",
				    p->name, k, f->insn, p->insn_cnt);
		prev = f->insn;
		if (!is_identifier(f->name))
			return fail(obj, -EINVAL,
				    "bpf.object: program '%s': subprogram name '%s' is not a C identifier",
				    p->name, f->name ? f->name : "(null)");
		if (f->arg_cnt > MAX_FUNC_ARGS)
			return fail(obj, -EINVAL,
				    "bpf.object: program '%s': subprogram '%s' takes %u arguments, "
				    "registers carry %d", p->name, f->name, f->arg_cnt, MAX_FUNC_ARGS);
		for (uint32_t a = 0; f->arg_names && a < f->arg_cnt; a++) {
			const char *n = f->arg_names[a];
			if (n && *n && !is_identifier(n))
				return fail(obj, -EINVAL,
					    "bpf.object: program '%s': argument name '%s' of '%s' is not "
					    "a C identifier", p->name, n, f->name);
		}
	}
	return 0;
}

static int check_prog(struct bpfc_obj *obj, const struct bpfc_obj_prog *p)
{
	if (!p || p->sz < offsetof(struct bpfc_obj_prog, funcs))
		return fail(obj, -EINVAL, "bpf.object: program description missing or too short");
	if (!is_identifier(p->name))
		return fail(obj, -EINVAL, "bpf.object: program name '%s' is not a C identifier",
			    p->name ? p->name : "(null)");
	if (symbol_taken(obj, p->name))
		return fail(obj, -EEXIST, "bpf.object: program '%s': the name is taken", p->name);
	if (!p->section || !*p->section || reserved_section(p->section))
		return fail(obj, -EINVAL, "bpf.object: program '%s': section name '%s' is not free",
			    p->name, p->section ? p->section : "(null)");
	for (size_t i = 0; i < obj->prog_cnt; i++)
		if (!strcmp(obj->progs[i].section, p->section))
			return fail(obj, -EEXIST,
				    "bpf.object: program '%s': section '%s' holds '%s' already",
				    p->name, p->section, obj->progs[i].name);
	if (!p->insns || !p->insn_cnt || p->insn_cnt > UINT32_MAX / sizeof(struct bpf_insn))
		return fail(obj, -EINVAL, "bpf.object: program '%s' has no instructions", p->name);
	if ((p->reloc_cnt && !p->relocs) || (p->line_cnt && !p->lines))
		return fail(obj, -EINVAL, "bpf.object: program '%s': relocations or lines missing",
			    p->name);
	return check_funcs(obj, p);
}

/* The subprogram that starts at instruction `insn`, or -1. */
static long func_at(const struct obj_prog *op, int64_t insn)
{
	size_t lo = 0, hi = op->func_cnt;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (op->funcs[mid].insn < insn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < op->func_cnt && op->funcs[lo].insn == insn ? (long)lo : -1;
}

/* Each function goes to a section of its own (the program's or .text), so
** the code must keep to its functions: a call lands on a subprogram's first
** instruction, a jump stays inside its function, no lddw is cut in two.  A
** call out of the program's section gets a relocation and imm -1, the way
** clang writes a call to a function symbol.  A lddw of a subprogram's
** address (BPF_PSEUDO_FUNC, imm relative as a call's) must land on one too;
** it gets a relocation against .text wherever it is, and the callee's byte
** offset in .text as imm, the way clang writes a static function's address.
** op->text_insn must be set. */
static int split_code(struct bpfc_obj *obj, struct obj_prog *op)
{
	uint32_t start = 0, end = main_cnt(op), m = end;
	size_t next = 0; /* the next subprogram to start */
	op->calls = malloc((op->insn_cnt + 1) * sizeof(*op->calls));
	op->addrs = malloc((op->insn_cnt / 2 + 1) * sizeof(*op->addrs));
	if (!op->calls || !op->addrs)
		return fail(obj, -ENOMEM, "bpf.object: program '%s': calls", op->name);
	for (size_t i = 0; i < op->insn_cnt; i++) {
		if (next < op->func_cnt && i == op->funcs[next].insn) {
			start = (uint32_t)i;
			end = func_end(op, next++);
		}
		struct bpf_insn *in = &op->insns[i];
		uint8_t cls = BPF_CLASS(in->code), jop = BPF_OP(in->code);
		if (is_lddw(in)) {
			if (i + 1 >= end)
				return fail(obj, -EINVAL,
					    "bpf.object: program '%s': the lddw at %zu is cut by the end "
					    "of its function", op->name, i);
			if (in->src_reg == BPF_PSEUDO_FUNC) {
				int64_t to = (int64_t)i + 1 + in->imm;
				long k = func_at(op, to);
				if (k < 0)
					return fail(obj, -EINVAL,
						    "bpf.object: program '%s': the lddw at %zu loads the "
						    "address of %lld, where no subprogram starts",
						    op->name, i, (long long)to);
				uint64_t at = (uint64_t)sec_insn(op, (uint32_t)to) * sizeof(struct bpf_insn);
				if (at > INT32_MAX)
					return fail(obj, -E2BIG,
						    "bpf.object: program '%s': .text is too long for the "
						    "lddw at %zu", op->name, i);
				op->addrs[op->addr_cnt++] = (struct obj_call){(uint32_t)i, (uint32_t)k};
				in->src_reg = 0;
				in->imm = (int32_t)at;
			}
			i++;
			continue;
		}
		if ((cls != BPF_JMP && cls != BPF_JMP32) || jop == BPF_EXIT)
			continue;
		if (jop == BPF_CALL) {
			if (cls != BPF_JMP || in->src_reg != BPF_PSEUDO_CALL)
				continue; /* a helper (or kfunc) call */
			int64_t to = (int64_t)i + 1 + in->imm;
			long k = func_at(op, to);
			if (k < 0)
				return fail(obj, -EINVAL,
					    "bpf.object: program '%s': instruction %zu calls %lld, where "
					    "no subprogram starts", op->name, i, (long long)to);
			if (i < m) {
				op->calls[op->call_cnt++] = (struct obj_call){(uint32_t)i, (uint32_t)k};
				in->imm = -1;
			}
			continue;
		}
		/* gotol (JMP32 JA) jumps by imm, every other jump by off */
		int64_t to = (int64_t)i + 1 + (cls == BPF_JMP32 && jop == BPF_JA ? in->imm : in->off);
		if (op->func_cnt && (to < start || to >= end))
			return fail(obj, -EINVAL,
				    "bpf.object: program '%s': instruction %zu jumps to %lld, out of "
				    "its function [%u, %u)", op->name, i, (long long)to, start, end);
	}
	return 0;
}

/* Zero each map lddw's fd and check that no raw fd is left behind (a
** subprogram's address is split_code's). */
static int relocate(struct bpfc_obj *obj, const struct bpfc_obj_prog *p, struct bpf_insn *insns)
{
	bool *done = calloc(p->insn_cnt, sizeof(*done));
	if (!done)
		return fail(obj, -ENOMEM, "bpf.object: program '%s': relocations", p->name);
	int err = 0;
	for (size_t r = 0; r < p->reloc_cnt; r++) {
		uint32_t at = p->relocs[r].insn;
		if (at + 1 >= p->insn_cnt || !is_lddw(&insns[at]) || done[at])
			err = fail(obj, -EINVAL,
				   "bpf.object: program '%s': relocation at %u is not on a lddw, "
				   "or not the first there", p->name, at);
		else if (p->relocs[r].map >= obj->map_cnt)
			err = fail(obj, -EINVAL,
				   "bpf.object: program '%s': instruction %u loads map %u, the "
				   "object has %zu", p->name, at, p->relocs[r].map, obj->map_cnt);
		if (err)
			break;
		done[at] = true;
		/* libbpf writes the pseudo source and the fd back at load time */
		insns[at].src_reg = 0;
		insns[at].imm = 0;
		insns[at + 1].imm = 0;
	}
	free(done);
	if (err)
		return err;
	for (size_t i = 0; i < p->insn_cnt; i++) {
		if (!is_lddw(&insns[i]))
			continue;
		if (insns[i].src_reg != 0 && !is_func_addr(&insns[i]))
			return fail(obj, -EINVAL,
				    "bpf.object: program '%s': instruction %zu loads a map or "
				    "pseudo value (src %u) that has no relocation",
				    p->name, i, insns[i].src_reg);
		i++; /* the second half of the lddw */
	}
	return 0;
}

static int add_line(struct bpfc_obj *obj, struct obj_prog *op, uint32_t insn,
		    const struct bpfc_obj_line *l)
{
	int file_off = btf__add_str(obj->btf, l->file ? l->file : "");
	int text_off = btf__add_str(obj->btf, l->text ? l->text : "");
	if (file_off < 0 || text_off < 0)
		return fail(obj, file_off < 0 ? file_off : text_off,
			    "bpf.object: program '%s': line strings", op->name);
	op->lines[op->line_cnt++] =
		(struct obj_line){insn, (uint32_t)file_off, (uint32_t)text_off, l->line};
	return 0;
}

/* line_info records where the source line changes, never on a lddw's second
** half (the kernel rejects those), and one at the first instruction of every
** function: the kernel wants each covered ("missing bpf_line_info for
** func#N") and libbpf drops the lines of all when one function has none. */
static int collect_lines(struct bpfc_obj *obj, const struct bpfc_obj_prog *p,
			 struct obj_prog *op)
{
	if (!p->line_cnt)
		return 0;
	for (size_t i = 0; i < p->line_cnt; i++)
		if (p->lines[i].insn >= p->insn_cnt || (i && p->lines[i].insn < p->lines[i - 1].insn))
			return fail(obj, -EINVAL,
				    "bpf.object: program '%s': line record %zu (instruction %u) "
				    "out of order or range", p->name, i, p->lines[i].insn);
	op->lines = calloc(p->line_cnt + 2 * op->func_cnt + 1, sizeof(*op->lines));
	if (!op->lines)
		return fail(obj, -ENOMEM, "bpf.object: program '%s': lines", p->name);
	size_t next = 0;
	for (size_t f = 0; f <= op->func_cnt; f++) {
		uint32_t start = f ? op->funcs[f - 1].insn : 0;
		uint32_t end = f < op->func_cnt ? op->funcs[f].insn : (uint32_t)p->insn_cnt;
		size_t first = op->line_cnt;
		const struct bpfc_obj_line *last = NULL;
		for (; next < p->line_cnt && p->lines[next].insn < end; next++) {
			const struct bpfc_obj_line *l = &p->lines[next];
			if (l->insn > start && is_lddw(&op->insns[l->insn - 1]))
				continue;
			if (last && (op->lines[op->line_cnt - 1].insn == l->insn ||
				     (l->line == last->line &&
				      !strcmp(l->file ? l->file : "", last->file ? last->file : ""))))
				continue;
			int err = 0;
			if (!last && l->insn != start)
				err = add_line(obj, op, start, l); /* its first instruction */
			if (!err)
				err = add_line(obj, op, l->insn, l);
			if (err)
				return err;
			last = l;
		}
		if (op->line_cnt > first)
			continue;
		/* none inside: the line of the one before it, else of the first after */
		if (op->line_cnt) {
			struct obj_line l = op->lines[op->line_cnt - 1];
			l.insn = start;
			op->lines[op->line_cnt++] = l;
		} else {
			int err = add_line(obj, op, start, &p->lines[next]);
			if (err)
				return err;
		}
	}
	return 0;
}

static int func_proto(struct bpfc_obj *obj)
{
	if (obj->proto_id > 0)
		return obj->proto_id;
	int void_ptr = btf__add_ptr(obj->btf, 0);
	if (void_ptr < 0)
		return void_ptr;
	int proto = btf__add_func_proto(obj->btf, obj->int_id);
	if (proto < 0)
		return proto;
	int err = btf__add_func_param(obj->btf, "ctx", void_ptr);
	if (err < 0)
		return err;
	obj->proto_id = proto;
	return proto;
}

/* A subprogram's BTF: __s64 name(__s64 arg, ...), static as clang writes a
** static function: the kernel verifies it in each caller's context and
** takes a prototype that does not match the call as a hint only. */
static int subprog_btf(struct bpfc_obj *obj, const struct bpfc_obj_func *f)
{
	if (obj->s64_id <= 0)
		obj->s64_id = btf__add_int(obj->btf, "__s64", 8, BTF_INT_SIGNED);
	if (obj->s64_id < 0)
		return obj->s64_id;
	int proto = btf__add_func_proto(obj->btf, obj->s64_id);
	if (proto < 0)
		return proto;
	for (uint32_t a = 0; a < f->arg_cnt; a++) {
		/* the kernel refuses a FUNC with an unnamed parameter (and libbpf
		** then loads without any BTF): argN for those that have none */
		char dflt[16];
		const char *name = f->arg_names ? f->arg_names[a] : NULL;
		if (!name || !*name) {
			snprintf(dflt, sizeof(dflt), "arg%u", a + 1);
			name = dflt;
		}
		int err = btf__add_func_param(obj->btf, name, obj->s64_id);
		if (err < 0)
			return err;
	}
	return btf__add_func(obj->btf, f->name, BTF_FUNC_STATIC, proto);
}

int bpfc_obj_add_prog(struct bpfc_obj *obj, const struct bpfc_obj_prog *p)
{
	int err = check_open(obj, "a program");
	if (!err)
		err = check_prog(obj, p);
	if (err)
		return err;
	struct obj_prog op = {0};
	op.insn_cnt = p->insn_cnt;
	op.reloc_cnt = p->reloc_cnt;
	op.name = strdup(p->name);
	op.section = strdup(p->section);
	op.insns = malloc(p->insn_cnt * sizeof(*op.insns));
	op.relocs = malloc((p->reloc_cnt + 1) * sizeof(*op.relocs));
	size_t func_cnt;
	const struct bpfc_obj_func *funcs = prog_funcs(p, &func_cnt);
	op.funcs = calloc(func_cnt + 1, sizeof(*op.funcs));
	if (!op.name || !op.section || !op.insns || !op.relocs || !op.funcs) {
		free_prog(&op);
		return fail(obj, -ENOMEM, "bpf.object: program '%s'", p->name);
	}
	for (; op.func_cnt < func_cnt; op.func_cnt++) {
		struct obj_func *f = &op.funcs[op.func_cnt];
		f->insn = funcs[op.func_cnt].insn;
		if (!(f->name = strdup(funcs[op.func_cnt].name))) {
			free_prog(&op);
			return fail(obj, -ENOMEM, "bpf.object: program '%s'", p->name);
		}
	}
	memcpy(op.insns, p->insns, p->insn_cnt * sizeof(*op.insns));
	if (p->reloc_cnt)
		memcpy(op.relocs, p->relocs, p->reloc_cnt * sizeof(*op.relocs));
	op.text_insn = (uint32_t)obj->text_cnt;
	err = relocate(obj, p, op.insns);
	if (!err)
		err = split_code(obj, &op);
	if (!err)
		err = collect_lines(obj, p, &op);
	if (!err)
		err = collect_cores(obj, p, &op);
	if (err) {
		free_prog(&op);
		return err;
	}
	int proto = func_proto(obj);
	op.func_id = proto < 0 ? proto : btf__add_func(obj->btf, p->name, BTF_FUNC_GLOBAL, proto);
	op.sec_name_off = btf__add_str(obj->btf, p->section);
	if (op.func_id < 0 || op.sec_name_off < 0) {
		free_prog(&op);
		return fail(obj, op.func_id < 0 ? op.func_id : op.sec_name_off,
			    "bpf.object: program '%s': BTF function", p->name);
	}
	for (size_t k = 0; k < op.func_cnt; k++) {
		op.funcs[k].func_id = subprog_btf(obj, &funcs[k]);
		if (op.funcs[k].func_id < 0) {
			free_prog(&op);
			return fail(obj, op.funcs[k].func_id,
				    "bpf.object: program '%s': BTF of subprogram '%s'", p->name,
				    funcs[k].name);
		}
	}
	if (op.func_cnt && obj->text_name_off <= 0)
		obj->text_name_off = btf__add_str(obj->btf, ".text");
	if (obj->text_name_off < 0) {
		free_prog(&op);
		return fail(obj, obj->text_name_off, "bpf.object: program '%s': BTF strings",
			    p->name);
	}
	struct obj_prog *progs = realloc(obj->progs, (obj->prog_cnt + 1) * sizeof(*progs));
	if (!progs) {
		free_prog(&op);
		return fail(obj, -ENOMEM, "bpf.object: program '%s'", p->name);
	}
	obj->progs = progs;
	progs[obj->prog_cnt++] = op;
	obj->text_cnt += op.insn_cnt - main_cnt(&op);
	return 0;
}

/* ---- the file ---- */

static void put_line(struct buf *b, const struct obj_prog *p, const struct obj_line *l)
{
	buf_u32(b, sec_insn(p, l->insn) * (uint32_t)sizeof(struct bpf_insn));
	buf_u32(b, l->file_off);
	buf_u32(b, l->text_off);
	buf_u32(b, l->line << 10); /* column 0 */
}

/* The line records of p that lie in its own section (the first ones). */
static size_t main_lines(const struct obj_prog *p)
{
	size_t n = 0;
	while (n < p->line_cnt && p->lines[n].insn < main_cnt(p))
		n++;
	return n;
}

/* .BTF.ext: the header, then func_info and line_info, each a record size
** followed by one block per section (name offset, count, records; offsets
** in bytes).  The subprograms of all programs share one .text block: libbpf
** reads the first block that names a section and no other. */
static void put_core(struct buf *b, const struct obj_prog *p, const struct obj_core *c)
{
	buf_u32(b, sec_insn(p, c->insn) * (uint32_t)sizeof(struct bpf_insn));
	buf_u32(b, c->type_id);
	buf_u32(b, c->access_off);
	buf_u32(b, c->kind);
}

/* core_relo: a block per section with relocations, the record size first. */
static void write_cores(const struct bpfc_obj *obj, struct buf *core)
{
	size_t text = 0;
	buf_u32(core, 16);
	for (size_t i = 0; i < obj->prog_cnt; i++) {
		const struct obj_prog *p = &obj->progs[i];
		size_t m = 0;
		for (size_t k = 0; k < p->core_cnt; k++)
			m += p->cores[k].insn < main_cnt(p);
		text += p->core_cnt - m;
		if (!m)
			continue;
		buf_u32(core, (uint32_t)p->sec_name_off);
		buf_u32(core, (uint32_t)m);
		for (size_t k = 0; k < p->core_cnt; k++)
			if (p->cores[k].insn < main_cnt(p))
				put_core(core, p, &p->cores[k]);
	}
	if (text) {
		buf_u32(core, (uint32_t)obj->text_name_off);
		buf_u32(core, (uint32_t)text);
		for (size_t i = 0; i < obj->prog_cnt; i++)
			for (size_t k = 0; k < obj->progs[i].core_cnt; k++)
				if (obj->progs[i].cores[k].insn >= main_cnt(&obj->progs[i]))
					put_core(core, &obj->progs[i], &obj->progs[i].cores[k]);
	}
	if (core->len <= 4)
		core->len = 0;
}

static void write_btf_ext(const struct bpfc_obj *obj, struct buf *b)
{
	struct buf func = {0}, line = {0}, core = {0};
	buf_u32(&func, 8);
	buf_u32(&line, 16);
	write_cores(obj, &core);
	size_t text_funcs = 0, text_lines = 0;
	for (size_t i = 0; i < obj->prog_cnt; i++) {
		const struct obj_prog *p = &obj->progs[i];
		buf_u32(&func, (uint32_t)p->sec_name_off);
		buf_u32(&func, 1);
		buf_u32(&func, 0); /* insn_off */
		buf_u32(&func, (uint32_t)p->func_id);
		size_t m = main_lines(p);
		text_funcs += p->func_cnt;
		text_lines += p->line_cnt - m;
		if (!m)
			continue;
		buf_u32(&line, (uint32_t)p->sec_name_off);
		buf_u32(&line, (uint32_t)m);
		for (size_t k = 0; k < m; k++)
			put_line(&line, p, &p->lines[k]);
	}
	if (text_funcs) {
		buf_u32(&func, (uint32_t)obj->text_name_off);
		buf_u32(&func, (uint32_t)text_funcs);
		for (size_t i = 0; i < obj->prog_cnt; i++)
			for (size_t k = 0; k < obj->progs[i].func_cnt; k++) {
				const struct obj_prog *p = &obj->progs[i];
				buf_u32(&func, sec_insn(p, p->funcs[k].insn) *
						       (uint32_t)sizeof(struct bpf_insn));
				buf_u32(&func, (uint32_t)p->funcs[k].func_id);
			}
	}
	if (text_lines) {
		buf_u32(&line, (uint32_t)obj->text_name_off);
		buf_u32(&line, (uint32_t)text_lines);
		for (size_t i = 0; i < obj->prog_cnt; i++)
			for (size_t k = main_lines(&obj->progs[i]); k < obj->progs[i].line_cnt; k++)
				put_line(&line, &obj->progs[i], &obj->progs[i].lines[k]);
	}
	/* a line_info block without records would make libbpf drop all of .BTF.ext */
	uint32_t line_len = line.len > 4 ? (uint32_t)line.len : 0;
	struct {
		uint16_t magic;
		uint8_t version, flags;
		uint32_t hdr_len, func_off, func_len, line_off, line_len, core_off, core_len;
	} hdr = {BTF_EXT_MAGIC, 1, 0, 32, 0, (uint32_t)func.len, (uint32_t)func.len, line_len,
		 (uint32_t)(func.len + line_len), (uint32_t)core.len};
	_Static_assert(sizeof(hdr) == 32, "btf_ext_header with core_relo");
	buf_put(b, &hdr, sizeof(hdr));
	buf_put(b, func.data, func.len);
	buf_put(b, line.data, line_len);
	buf_put(b, core.data, core.len);
	b->oom |= func.oom || line.oom || core.oom;
	free(func.data);
	free(line.data);
	free(core.data);
}

struct section {
	const char *prefix, *name; /* the name is prefix .. name */
	uint32_t type, link, info;
	uint64_t flags, align, entsize;
	const void *data;
	size_t size;
	uint32_t name_off;
	uint64_t offset;
};

/* null, .strtab, .text, .rel.text, license, version, .maps, .BTF, .BTF.ext, .symtab */
#define MAX_FIXED_SECTIONS 10

static int add_symbol(struct buf *syms, struct buf *strs, const char *name, unsigned char info,
		      uint16_t shndx, uint64_t value, uint64_t size)
{
	Elf64_Sym s = {0};
	s.st_name = name ? (uint32_t)buf_put(strs, name, strlen(name) + 1) : 0;
	s.st_info = info;
	s.st_shndx = shndx;
	s.st_value = value;
	s.st_size = size;
	buf_put(syms, &s, sizeof(s));
	return (int)(syms->len / sizeof(s)) - 1;
}

/* Whether a subprogram symbol would clash with one taken before it. */
static bool subprog_taken(const struct bpfc_obj *obj, const char *name)
{
	if (symbol_taken(obj, name))
		return true;
	for (size_t i = 0; i < obj->prog_cnt; i++)
		for (size_t k = 0; k < obj->progs[i].func_cnt; k++)
			if (obj->progs[i].funcs[k].sym && !strcmp(obj->progs[i].funcs[k].sym, name))
				return true;
	return false;
}

/* The subprograms' symbols, chosen once every map and program is known:
** those names are looked up by libbpf, a subprogram's is not. */
static int name_subprogs(struct bpfc_obj *obj)
{
	for (size_t i = 0; i < obj->prog_cnt; i++)
		for (size_t k = 0; k < obj->progs[i].func_cnt; k++) {
			struct obj_func *f = &obj->progs[i].funcs[k];
			size_t len = strlen(f->name) + 16;
			char *sym = malloc(len);
			if (!sym)
				return -ENOMEM;
			snprintf(sym, len, "%s", f->name);
			for (unsigned n = 2; subprog_taken(obj, sym); n++)
				snprintf(sym, len, "%s_%u", f->name, n);
			f->sym = sym;
		}
	return 0;
}

/* The map relocations of p inside its own section, or inside .text. */
static size_t map_relocs(const struct obj_prog *p, bool text)
{
	size_t n = 0;
	for (size_t r = 0; r < p->reloc_cnt; r++)
		n += (p->relocs[r].insn >= main_cnt(p)) == text;
	return n;
}

/* The subprogram address loads of p inside its own section, or inside .text. */
static size_t addr_relocs(const struct obj_prog *p, bool text)
{
	size_t n = 0;
	for (size_t a = 0; a < p->addr_cnt; a++)
		n += (p->addrs[a].insn >= main_cnt(p)) == text;
	return n;
}

static int rel_cmp(const void *a, const void *b)
{
	const Elf64_Rel *x = a, *y = b;
	return x->r_offset < y->r_offset ? -1 : x->r_offset > y->r_offset;
}

static void put_rel(struct buf *b, uint64_t insn, uint32_t sym, uint32_t type)
{
	Elf64_Rel rel = {insn * sizeof(struct bpf_insn), ELF64_R_INFO(sym, type)};
	buf_put(b, &rel, sizeof(rel));
}

static int write_elf(struct bpfc_obj *obj)
{
	size_t nsec_max = MAX_FIXED_SECTIONS + 2 * obj->prog_cnt;
	struct section *sec = calloc(nsec_max, sizeof(*sec));
	int *map_sym = calloc(obj->map_cnt + 1, sizeof(*map_sym));
	struct buf strs = {0}, syms = {0}, btf_ext = {0}, rel_bufs = {0}, text = {0};
	char *maps_data = calloc(1, 8 * MAX_MAP_FIELDS * (obj->map_cnt + 1));
	/* where each program's relocations start in rel_bufs, and how many; .text's last */
	size_t *rel_at = calloc(obj->prog_cnt + 1, sizeof(*rel_at));
	size_t *rel_cnt = calloc(obj->prog_cnt + 1, sizeof(*rel_cnt));
	int err = 0;
	if (!sec || !map_sym || !maps_data || !rel_at || !rel_cnt) {
		err = -ENOMEM;
		goto out;
	}
	err = name_subprogs(obj);
	if (err)
		goto out;
	size_t addr_cnt = 0;
	for (size_t i = 0; i < obj->prog_cnt; i++) {
		const struct obj_prog *p = &obj->progs[i];
		rel_cnt[i] = map_relocs(p, false) + p->call_cnt + addr_relocs(p, false);
		rel_cnt[obj->prog_cnt] += map_relocs(p, true) + addr_relocs(p, true);
		addr_cnt += p->addr_cnt;
	}

	/* the section table, in file order */
	size_t n = 1, strtab_idx = n++;
	size_t prog_idx0 = n;
	n += obj->prog_cnt;
	size_t text_idx = obj->text_cnt ? n++ : 0;
	size_t rel_idx0 = n;
	for (size_t i = 0; i < obj->prog_cnt; i++)
		if (rel_cnt[i])
			n++;
	size_t rel_text_idx = rel_cnt[obj->prog_cnt] ? n++ : 0;
	size_t license_idx = n++;
	size_t version_idx = obj->kern_version ? n++ : 0;
	size_t maps_idx = obj->map_cnt ? n++ : 0;
	size_t btf_idx = n++;
	size_t btf_ext_idx = obj->prog_cnt ? n++ : 0;
	size_t symtab_idx = n++;

	/* symbols: null, section symbols (local), then functions and variables */
	buf_put(&strs, "", 1);
	add_symbol(&syms, &strs, NULL, 0, 0, 0, 0);
	for (size_t i = 0; i < obj->prog_cnt; i++)
		add_symbol(&syms, &strs, NULL, ELF64_ST_INFO(STB_LOCAL, STT_SECTION),
			   (uint16_t)(prog_idx0 + i), 0, 0);
	/* libbpf takes a lddw as a subprogram's address only against .text's
	** section symbol (or a global function): one when there are such lddws */
	int text_sym = addr_cnt ? add_symbol(&syms, &strs, NULL,
					     ELF64_ST_INFO(STB_LOCAL, STT_SECTION),
					     (uint16_t)text_idx, 0, 0)
				: 0;
	for (size_t i = 0; i < obj->prog_cnt; i++) {
		struct obj_prog *p = &obj->progs[i];
		for (size_t k = 0; k < p->func_cnt; k++)
			p->funcs[k].sym_idx = add_symbol(
				&syms, &strs, p->funcs[k].sym, ELF64_ST_INFO(STB_LOCAL, STT_FUNC),
				(uint16_t)text_idx, sec_insn(p, p->funcs[k].insn) * sizeof(struct bpf_insn),
				(func_end(p, k) - p->funcs[k].insn) * sizeof(struct bpf_insn));
		buf_put(&text, p->insns + main_cnt(p),
			(p->insn_cnt - main_cnt(p)) * sizeof(struct bpf_insn));
	}
	uint32_t first_global = (uint32_t)(syms.len / sizeof(Elf64_Sym));
	for (size_t i = 0; i < obj->prog_cnt; i++)
		add_symbol(&syms, &strs, obj->progs[i].name, ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
			   (uint16_t)(prog_idx0 + i), 0,
			   main_cnt(&obj->progs[i]) * sizeof(struct bpf_insn));
	uint32_t maps_size = 0;
	for (size_t i = 0; i < obj->map_cnt; i++) {
		map_sym[i] = add_symbol(&syms, &strs, obj->maps[i].name,
					ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), (uint16_t)maps_idx,
					maps_size, obj->maps[i].size);
		maps_size += obj->maps[i].size;
	}
	add_symbol(&syms, &strs, "LICENSE", ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
		   (uint16_t)license_idx, 0, strlen(obj->license) + 1);
	if (version_idx)
		add_symbol(&syms, &strs, "_version", ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
			   (uint16_t)version_idx, 0, sizeof(uint32_t));

	/* .maps in BTF: a DATASEC over the map variables, at their symbols' offsets */
	if (obj->map_cnt) {
		int ds = btf__add_datasec(obj->btf, ".maps", maps_size);
		uint32_t off = 0;
		for (size_t i = 0; ds > 0 && i < obj->map_cnt; i++) {
			err = btf__add_datasec_var_info(obj->btf, obj->maps[i].var_id, off,
							obj->maps[i].size);
			if (err < 0)
				break;
			off += obj->maps[i].size;
		}
		if (ds < 0 || err < 0) {
			err = ds < 0 ? ds : err;
			goto out;
		}
	}
	uint32_t btf_size = 0;
	const void *btf_data = btf__raw_data(obj->btf, &btf_size);
	if (!btf_data) {
		err = -ENOMEM;
		goto out;
	}
	if (obj->prog_cnt)
		write_btf_ext(obj, &btf_ext);

	/* relocations: one buffer, sliced per section, each slice by offset */
	for (size_t i = 0; i <= obj->prog_cnt; i++) {
		bool in_text = i == obj->prog_cnt;
		rel_at[i] = rel_bufs.len;
		for (size_t j = in_text ? 0 : i; j < (in_text ? obj->prog_cnt : i + 1); j++) {
			const struct obj_prog *p = &obj->progs[j];
			for (size_t r = 0; r < p->reloc_cnt; r++)
				if ((p->relocs[r].insn >= main_cnt(p)) == in_text)
					put_rel(&rel_bufs, sec_insn(p, p->relocs[r].insn),
						(uint32_t)map_sym[p->relocs[r].map], R_BPF_64_64);
			for (size_t c = 0; !in_text && c < p->call_cnt; c++)
				put_rel(&rel_bufs, p->calls[c].insn,
					(uint32_t)p->funcs[p->calls[c].func].sym_idx, R_BPF_64_32);
			for (size_t a = 0; a < p->addr_cnt; a++)
				if ((p->addrs[a].insn >= main_cnt(p)) == in_text)
					put_rel(&rel_bufs, sec_insn(p, p->addrs[a].insn),
						(uint32_t)text_sym, R_BPF_64_64);
		}
		if (!rel_bufs.oom && rel_cnt[i])
			qsort(rel_bufs.data + rel_at[i], rel_cnt[i], sizeof(Elf64_Rel), rel_cmp);
	}

	sec[strtab_idx] = (struct section){.name = ".strtab", .type = SHT_STRTAB, .align = 1};
	size_t rel_i = rel_idx0;
	for (size_t i = 0; i <= obj->prog_cnt; i++) {
		bool in_text = i == obj->prog_cnt;
		const struct obj_prog *p = in_text ? NULL : &obj->progs[i];
		size_t idx = in_text ? text_idx : prog_idx0 + i;
		if (!idx)
			continue;
		sec[idx] = (struct section){
			.name = in_text ? ".text" : p->section, .type = SHT_PROGBITS,
			.flags = SHF_ALLOC | SHF_EXECINSTR, .align = 8,
			.data = in_text ? (const void *)text.data : p->insns,
			.size = (in_text ? obj->text_cnt : main_cnt(p)) * sizeof(struct bpf_insn)};
		if (rel_cnt[i])
			sec[in_text ? rel_text_idx : rel_i++] = (struct section){
				.prefix = ".rel", .name = sec[idx].name,
				.type = SHT_REL, .flags = SHF_INFO_LINK, .link = (uint32_t)symtab_idx,
				.info = (uint32_t)idx, .align = 8,
				.entsize = sizeof(Elf64_Rel), .size = rel_cnt[i] * sizeof(Elf64_Rel),
				.offset = rel_at[i] /* into rel_bufs until laid out */};
	}
	sec[license_idx] = (struct section){.name = "license", .type = SHT_PROGBITS,
					    .flags = SHF_ALLOC | SHF_WRITE, .align = 1,
					    .data = obj->license, .size = strlen(obj->license) + 1};
	if (version_idx)
		sec[version_idx] = (struct section){.name = "version", .type = SHT_PROGBITS,
						    .flags = SHF_ALLOC | SHF_WRITE, .align = 4,
						    .data = &obj->kern_version, .size = 4};
	if (maps_idx)
		sec[maps_idx] = (struct section){.name = ".maps", .type = SHT_PROGBITS,
						 .flags = SHF_ALLOC | SHF_WRITE, .align = 8,
						 .data = maps_data, .size = maps_size};
	sec[btf_idx] = (struct section){.name = ".BTF", .type = SHT_PROGBITS, .align = 4,
					.data = btf_data, .size = btf_size};
	if (btf_ext_idx)
		sec[btf_ext_idx] = (struct section){.name = ".BTF.ext", .type = SHT_PROGBITS,
						    .align = 4, .data = btf_ext.data,
						    .size = btf_ext.len};
	sec[symtab_idx] = (struct section){.name = ".symtab", .type = SHT_SYMTAB,
					   .link = (uint32_t)strtab_idx, .info = first_global,
					   .align = 8, .entsize = sizeof(Elf64_Sym),
					   .data = syms.data, .size = syms.len};
	/* section names go into .strtab too (as clang does) */
	for (size_t i = 1; i < n; i++) {
		const char *prefix = sec[i].prefix ? sec[i].prefix : "";
		sec[i].name_off = (uint32_t)buf_put(&strs, prefix, strlen(prefix));
		buf_put(&strs, sec[i].name, strlen(sec[i].name) + 1);
	}
	sec[strtab_idx].data = strs.data;
	sec[strtab_idx].size = strs.len;
	if (strs.oom || syms.oom || btf_ext.oom || rel_bufs.oom || text.oom) {
		err = -ENOMEM;
		goto out;
	}

	struct buf *o = &obj->out;
	Elf64_Ehdr eh = {0};
	buf_put(o, NULL, sizeof(eh));
	for (size_t i = 1; i < n; i++) {
		buf_align(o, sec[i].align);
		const void *data = sec[i].type == SHT_REL ? rel_bufs.data + sec[i].offset : sec[i].data;
		sec[i].offset = buf_put(o, data, sec[i].size);
	}
	buf_align(o, 8);
	size_t shoff = o->len;
	for (size_t i = 0; i < n; i++) {
		Elf64_Shdr sh = {0};
		if (i) {
			sh.sh_name = sec[i].name_off;
			sh.sh_type = sec[i].type;
			sh.sh_flags = sec[i].flags;
			sh.sh_offset = sec[i].offset;
			sh.sh_size = sec[i].size;
			sh.sh_link = sec[i].link;
			sh.sh_info = sec[i].info;
			sh.sh_addralign = sec[i].align;
			sh.sh_entsize = sec[i].entsize;
		}
		buf_put(o, &sh, sizeof(sh));
	}
	if (o->oom) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	eh.e_ident[EI_DATA] = ELFDATA2MSB;
#else
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
#endif
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_REL;
	eh.e_machine = EM_BPF;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = shoff;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = (uint16_t)n;
	eh.e_shstrndx = (uint16_t)strtab_idx;
	memcpy(o->data, &eh, sizeof(eh));
out:
	free(sec);
	free(rel_at);
	free(rel_cnt);
	free(text.data);
	free(map_sym);
	free(maps_data);
	free(strs.data);
	free(syms.data);
	free(btf_ext.data);
	free(rel_bufs.data);
	return err;
}

int bpfc_obj_finish(struct bpfc_obj *obj, const void **data, size_t *size)
{
	if (!obj)
		return -EINVAL;
	if (!data || !size)
		return fail(obj, -EINVAL, "bpf.object: finish needs somewhere to put the bytes");
	if (!obj->finished) {
		obj->finished = true;
		obj->finish_err = write_elf(obj);
		if (obj->finish_err)
			fail(obj, obj->finish_err, "bpf.object: writing the ELF object");
	}
	if (obj->finish_err)
		return obj->finish_err;
	*data = obj->out.data;
	*size = obj->out.len;
	return 0;
}
