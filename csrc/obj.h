/*
** The object writer: compiled programs and the maps they use as a BPF ELF
** relocatable object in memory, the kind clang writes and libbpf and bpftool
** read.  Plain C API for the FFI, in libbpf's style:
**
**   obj = bpfc_obj_new(&opts)                  NULL and errno on failure
**   id  = bpfc_obj_add_int(obj, "__u32", 4, 0)  BTF types of keys and values
**   m   = bpfc_obj_add_map(obj, &map)           index of the map
**   err = bpfc_obj_add_prog(obj, &prog)         program, its relocations and lines
**   err = bpfc_obj_finish(obj, &data, &size)    the ELF bytes, owned by obj
**   bpfc_obj_errmsg(obj)                        the last failure, in words
**   bpfc_obj_free(obj)
**
** Every call that can fail returns a negative errno and leaves a message
** naming what failed in the object.  Types are added the way libbpf's BTF
** writer wants them: a struct's member types first, then the struct, then
** its fields, one bpfc_obj_add_field after another.
**
** A program with BPF-to-BPF subprograms lists them in funcs; the instructions
** are given as one array, calls relative as the kernel takes them, and so
** are loads of a subprogram's address (a bpf_loop callback: a lddw with
** src_reg BPF_PSEUDO_FUNC, imm such that the callee starts at the lddw's
** first slot + 1 + imm, as a call's).  Every call and every such load must
** land on a subprogram's first instruction and every jump stay in its
** function (bpfc_obj_add_prog checks); each function gets a line record
** at its first instruction when there are lines.  The program's section
** holds the instructions before the first subprogram; the subprograms of
** all programs go into one ".text", each a static function symbol and a
** static BTF FUNC, as clang writes static functions.  libbpf then appends
** to each program the subprograms it calls or loads the address of, in the
** order of the first such references (so the loaded layout can differ from
** the one given).  A subprogram's symbol is its name, suffixed _2, _3, ...
** when a map, a program or another subprogram has that name; its BTF FUNC,
** which the kernel and bpftool show, keeps the name as given.
*/
#ifndef BPFC_OBJ_H
#define BPFC_OBJ_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#define BPFC_OBJ_API __attribute__((visibility("default")))

struct bpfc_obj;

struct bpfc_obj_opts {
	size_t sz;		/* sizeof(struct bpfc_obj_opts) */
	const char *license;	/* the "license" section; NULL: "GPL" */
	uint32_t kern_version;	/* a "version" section when not 0 */
};

/* Encodings of bpfc_obj_add_int, as BTF has them. */
enum bpfc_obj_int_encoding {
	BPFC_OBJ_INT_SIGNED = 1,
	BPFC_OBJ_INT_CHAR = 2,
	BPFC_OBJ_INT_BOOL = 4,
};

/* One map of the ".maps" section, a BTF-defined map.  A key or value with a
** type id is written as __type(key, T); without one, a non-zero size is
** written as __uint(key_size, N); neither: left out (ringbuf). */
struct bpfc_obj_map {
	size_t sz;		/* sizeof(struct bpfc_obj_map) */
	const char *name;	/* C identifier: symbol, BTF variable, libbpf map name */
	uint32_t type;		/* enum bpf_map_type */
	uint32_t max_entries;
	uint32_t key_size;
	uint32_t value_size;
	int key_type_id;	/* from bpfc_obj_add_*; 0: none */
	int value_type_id;
	uint32_t map_flags;	/* written when not 0, like the fields below */
	uint32_t numa_node;
	uint64_t map_extra;
};

/* The map that the lddw at instruction `insn` loads (its fd is zeroed). */
struct bpfc_obj_reloc {
	uint32_t insn;
	uint32_t map;		/* what bpfc_obj_add_map returned */
};

/* The source of instruction `insn`; records sorted by insn.  A record is
** written to line_info where file or line changes. */
struct bpfc_obj_line {
	uint32_t insn;
	uint32_t line;
	const char *file;
	const char *text;	/* the source line; NULL: empty */
};

/* A subprogram: instructions funcs[k].insn up to the next one's (the last to
** insn_cnt) of its program.  It takes arg_cnt 64-bit integers (r1..r5) and
** returns one; its BTF is __s64 name(__s64 arg, ...).  The kernel does not
** hold a static function to its BTF prototype, so a count that is not known
** can be given as 0. */
struct bpfc_obj_func {
	uint32_t insn;		/* its first instruction: > 0, ascending */
	const char *name;	/* C identifier */
	uint32_t arg_cnt;	/* 0..5 */
	const char *const *arg_names;	/* arg_cnt C identifiers or NULL; NULL or "": argN */
};

/* A CO-RE relocation (.BTF.ext core_relo, struct bpf_core_relo): the
** instruction insn holds, for the access `access` ("0:3", member indices
** from the struct type_id, one of this object's BTF types), the value
** libbpf computes of kind (enum bpf_core_relo_kind: 0 the field's byte
** offset, 4 and 5 a bitfield's shifts) against the kernel it loads on. */
struct bpfc_obj_core_relo {
	uint32_t insn;
	int type_id;
	const char *access;
	uint32_t kind;
};

struct bpfc_obj_prog {
	size_t sz;		/* sizeof(struct bpfc_obj_prog); shorter without funcs, core_relos */
	const char *name;	/* C identifier: function symbol and BTF func */
	const char *section;	/* "socket", "kprobe/do_sys_open", "xdp", ... */
	const struct bpf_insn *insns;
	size_t insn_cnt;
	const struct bpfc_obj_reloc *relocs;
	size_t reloc_cnt;
	const struct bpfc_obj_line *lines;	/* may be NULL */
	size_t line_cnt;
	const struct bpfc_obj_func *funcs;	/* subprograms; NULL: none */
	size_t func_cnt;
	const struct bpfc_obj_core_relo *core_relos;	/* NULL: none */
	size_t core_relo_cnt;
};

BPFC_OBJ_API struct bpfc_obj *bpfc_obj_new(const struct bpfc_obj_opts *opts);
BPFC_OBJ_API void bpfc_obj_free(struct bpfc_obj *obj);
BPFC_OBJ_API const char *bpfc_obj_errmsg(const struct bpfc_obj *obj);

/* BTF types; each returns the new type id (> 0) or a negative errno.  A name
** may be NULL or "" for an anonymous struct or union. */
BPFC_OBJ_API int bpfc_obj_add_int(struct bpfc_obj *obj, const char *name, uint32_t size,
				  int encoding);
BPFC_OBJ_API int bpfc_obj_add_float(struct bpfc_obj *obj, const char *name, uint32_t size);
BPFC_OBJ_API int bpfc_obj_add_array(struct bpfc_obj *obj, int elem_type_id, uint32_t nelems);
BPFC_OBJ_API int bpfc_obj_add_struct(struct bpfc_obj *obj, const char *name, uint32_t size,
				     int is_union);
/* A pointer to type_id (0: void *); an enum of size bytes with no values
** (the local types of CO-RE relocations). */
BPFC_OBJ_API int bpfc_obj_add_ptr(struct bpfc_obj *obj, int type_id);
BPFC_OBJ_API int bpfc_obj_add_enum(struct bpfc_obj *obj, const char *name, uint32_t size);
/* A field of the struct or union added last; 0 on success. */
BPFC_OBJ_API int bpfc_obj_add_field(struct bpfc_obj *obj, const char *name, int type_id,
				    uint32_t bit_offset, uint32_t bit_size);

BPFC_OBJ_API int bpfc_obj_add_map(struct bpfc_obj *obj, const struct bpfc_obj_map *map);
BPFC_OBJ_API int bpfc_obj_add_prog(struct bpfc_obj *obj, const struct bpfc_obj_prog *prog);

/* Writes the object; *data stays valid until bpfc_obj_free.  Nothing can be
** added afterwards; calling it again returns the same bytes. */
BPFC_OBJ_API int bpfc_obj_finish(struct bpfc_obj *obj, const void **data, size_t *size);

#endif
