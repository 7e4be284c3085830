/*
** What the core knows about Lua values: ctype layouts, maps, dissector
** layers, helper names, the program's context and type.  facts.c is the one
** file that asks Lua, through lua/bpf/facts.lua (its header comment is the
** written interface); everything else reads the C structs below.  Answers
** are kept for the compile: the program and its layers before translation,
** a constant's facts when it first appears, a ctype's when first asked.
*/
#ifndef BPFC_FACTS_H
#define BPFC_FACTS_H

#include <stdbool.h>
#include <stdint.h>

struct ctx;

#define MAX_LAYERS 32	  /* dissector layers read at the start of a compile */
#define MAX_STEPS 128	  /* ... and the steps between them */
#define MAX_KFACTS 128	  /* tables and functions remembered per compile; more are asked again */
#define MAX_CTFACTS 128	  /* ctypes, likewise */
#define MAX_MEMBERS 256	  /* (ctype, member) pairs, likewise */

/* A member of a ctype (F:member). */
struct cfield {
	int off, size, bpos, bsize; /* bpos < 0: not a bitfield */
	bool isptr, issigned, isfloat, isagg; /* isagg: struct, union or array */
	bool isuser;   /* a pointer to user memory (a syscall's argument) */
	bool isdataloc; /* a tracepoint's __data_loc u32: (length << 16) | offset in the record */
	int ctype;			      /* ref: member ctype (pointee for pointers) */
	bool kernel;	/* a member of a kernel type (bpf.btf): read with btf_load */
	bool btfptr;	/* a pointer to a kernel struct: the verifier's PTR_TO_BTF_ID */
	bool ctxarg;	/* an argument of a tracing context (bpf.btf's args) */
	int core;	/* its CO-RE spec (bpf.btf.core_spec), 0 none */
};

/* One step from a dissector layer to the next (pkt.ip, ip.udp, tcp.data). */
struct layer_step {
	const char *name; /* the field that takes it */
	int to;		  /* the layer it leads to, 0 none */
	int ctype;	  /* fact_layer_next: a ref of that layer's ctype, 0 none */
	bool fixed;	  /* the next header is skip bytes on; else its length is read */
	int64_t skip;
	int hdr_off, mask, shift; /* length = (byte at hdr_off & mask) << shift (>> -shift) */
};

struct layer {
	const char *name;
	bool has_ctype;	  /* its ctype, list[i].ctype of the answer, is not false */
	int ctype;	  /* ... its anchor ref in this compile's constants, 0 not yet */
	int step, nsteps; /* its steps in facts.step */
};

/* A map constant (F:constant, kind 'map'). */
struct mapfacts {
	bool has_key_size, has_val_size;
	int key_size, val_size;
	int val_type; /* anchor ref of the value ctype, 0 none; fact_val_type hands out refs */
};

enum kfkind { KF_PLAIN, KF_MAP, KF_DISSECTOR, KF_HELPER };

/* What a table or function met as a constant is (F:constant). */
struct kfact {
	const void *p;	  /* its identity: the value is anchored in the constants */
	uint8_t kind;	  /* enum kfkind */
	bool context;	  /* dissector: it is the program's context */
	bool has_off;	  /* dissector: at a packet offset */
	int64_t off;
	int ctype;	  /* dissector: anchor ref of its ctype */
	int layer;	  /* dissector: its layer, 0 none */
	const char *helper; /* helper: the name the core dispatches on */
	struct mapfacts map;
};

/* What a ctype is and which members it has are kept from compile to
** compile: a ctype never changes, and the anchors table (F->anchors) keeps
** each one we remember alive, so that its address, our key, is not reused. */
struct ctfact {
	const void *p;
	uint8_t asked; /* CT_* bits: the answers below that are known */
	int size;
	bool scalar, issigned;
	int scalar_size;
	int elem, esize; /* elem: index in the anchors table, 0 none */
	int id;		 /* F:typeid, 0: not a ctype */
	bool elem_ptr;	 /* the type is a pointer (elem its target), not an array */
};

#define MAX_MEMBER_NAME 48
struct memberfact {
	const void *ct;
	char name[MAX_MEMBER_NAME];
	bool found;
	struct cfield f;  /* f.ctype an index in the anchors table */
};

struct facts {
	int ctx_ctype;		/* anchor ref of the context's ctype, 0 none */
	const char *ctx_name;	/* its C name ("struct bpf_sock"), NULL none (anchored) */
	int attach;		/* the expected attach type (opts.attach), -1 none */
	int type_kind;		/* Lua type of opts.type (LUA_TNIL: none given) */
	bool may_goto;		/* each loop's turn ends in may_goto (opts.loops) */
	bool bpf_loop;		/* for loops of run-time bounds call bpf_loop (opts.loops) */
	bool classic_packet;	/* the packet read with the classic loads in every type (opts.packet) */
	bool no_csum;		/* packet writes leave the checksums as they are (opts.csum = false) */
	bool linear_packet;	/* tc reads only the skb's linear part, as XDP does (opts.packet) */
	bool user_memory;	/* a pointer cast from a number points to user memory (opts.memory) */
	bool ctx_memory;	/* the context is a tracepoint's record: kernel memory helpers may read */
	const char *type_name;	/* ... a string: its text (anchored) */
	int64_t type_num;	/* ... a number */
	int nlayers, nsteps;	/* the layers: kept while F:layers() answers the same list */
	int layers_list;	/* registry ref of that list (it keeps the names alive), 0 none */
	struct layer layer[MAX_LAYERS + 1]; /* from 1: layer 0 is none */
	struct layer_step step[MAX_STEPS];
	int nk, nct, nmember;
	struct kfact k[MAX_KFACTS];
	struct kfact kspare; /* the answer when k is full */
	struct ctfact ct[MAX_CTFACTS];	/* kept across compiles, with member[] */
	struct memberfact member[MAX_MEMBERS];
	int anchors;		/* registry ref of the table keeping their ctypes alive */
	int nanchors;
};

/* Once per compile, before translation: the program and the layer table. */
void fact_begin(struct ctx *C);
/* The facts of the table or function at consts[ref]; NULL for other values. */
const struct kfact *fact_value(struct ctx *C, int ref);
const struct mapfacts *fact_map(struct ctx *C, int ref); /* NULL: not a map */
const char *fact_helper(struct ctx *C, int ref);	  /* NULL: not a helper */
int fact_val_type(struct ctx *C, const struct mapfacts *m); /* a ref, 0 none */
/* The layer a dissector's layer name names, 0 none. */
int fact_layer(struct ctx *C, const char *name);
bool fact_layer_next(struct ctx *C, int layer, const char *name, struct layer_step *out);
bool fact_integer(struct ctx *C, int idx, int64_t *out, bool *isu64);
bool fact_member(struct ctx *C, int ctype, const char *name, struct cfield *f);
int fact_sizeof(struct ctx *C, int ctype); /* -1: no size */
bool fact_scalar(struct ctx *C, int ctype, int *size, bool *issigned);
int fact_elem(struct ctx *C, int ctype, int *esize); /* a ref, 0: neither array nor pointer */
bool fact_is_pointer(struct ctx *C, int ctype);
int fact_typeof(struct ctx *C, int tref, bool has_n, int64_t n, const char *who);
/* Do refs a and b name the same C type (0: none)?  Two ctype objects of one
** type do: each ffi.typeof('uint64_t') is a ctype object of its own. */
bool fact_same_type(struct ctx *C, int a, int b);
int64_t fact_length(struct ctx *C, int ref);
/* Compile-time evaluation: t and k on the stack become t[k]; fn and its
** nargs arguments become its first nres results.  what says what failed. */
void fact_index(struct ctx *C, const char *what);
void fact_call(struct ctx *C, int nargs, int nres);
/* fn, state, control and a count on the stack become the list of what the
** generic for `for ... in fn, state, control` steps through ({k, v, ...}
** per step), or an error past count steps. */
void fact_steps(struct ctx *C);
double fact_log(struct ctx *C, double x);

/* Kernel types (F:kernel_type, F:kfunc): the ctype of a kernel type by its C
** name, as a ref; a kernel function's BTF prototype, false when none. */
struct kfuncfact {
	int id, nargs;
	unsigned ptrargs;	/* bit i: argument i is a pointer */
	char ret;		/* 'v' void, 'i' a number, 'p' a pointer */
	int ret_size;
	bool ret_signed;
	int ret_ctype;		/* a pointer's: the kernel struct (a ref), 0 none */
};
int fact_kernel_type(struct ctx *C, const char *name);
bool fact_kfunc(struct ctx *C, const char *name, struct kfuncfact *k);

#endif
