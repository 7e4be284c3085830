/*
** The compiler's shared state: one context per compilation, passed around.
** Data flows one way: bytecode (bcread) -> translation over variables
** (translate, var, index, mem, call, atomic, lower_arith) appending IR (emit, ir.h)
** -> passes over the IR (passes, regalloc) -> instructions and relocations
** (encode) -> the caller.  What the Lua values met on the way are (maps,
** dissectors, ctypes, helpers) comes from facts.c alone.
*/
#ifndef BPFC_CORE_H
#define BPFC_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <setjmp.h>
#include <linux/bpf.h>
#include <lua.h>
#include "facts.h"

#include "ir.h"

#define BPFC_API __attribute__((visibility("default")))
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0 /* may_goto (older linux/bpf.h lack it) */
#endif

#define MAX_INSNS 4096	  /* program size limit for one compile */
#define MAX_IR (2 * MAX_INSNS) /* IR instructions: the program's, labels, deleted ones */
#define MAX_MAPS 64	  /* distinct maps one program uses */
#define MAX_SLOTS 256	  /* LuaJIT frame slots + our temporaries */
#define MAX_BC 8192	  /* bytecodes in one function */
#define MAX_HINTS 64	  /* join conflicts remembered across restarts */
#define STACK_SIZE 512	  /* BPF stack limit in bytes */
#define NOREG 0xffff
#define MAX_VREGS (IR_VREG0 + MAX_IR) /* virtual registers one compile may name */

#define NTMP 8		  /* temporaries after the LuaJIT slots */
#define V_TOP(C) ((C)->tmp + NTMP) /* slots in use: LuaJIT's, then the temporaries */

/* Our own names for the LuaJIT opcodes we know; numbers come from
** jit.vmdef.bcnames at run time, never from a hard-coded table. */
#define BCOPS(_)                                                                                   \
	_(ISLT) _(ISGE) _(ISLE) _(ISGT) _(ISEQV) _(ISNEV) _(ISEQS) _(ISNES) _(ISEQN) _(ISNEN)      \
	_(ISEQP) _(ISNEP) _(ISTC) _(ISFC) _(IST) _(ISF) _(ISTYPE) _(ISNUM) _(MOV) _(NOT) _(UNM)    \
	_(LEN) _(ADDVN) _(SUBVN) _(MULVN) _(DIVVN) _(MODVN) _(ADDNV) _(SUBNV) _(MULNV) _(DIVNV)    \
	_(MODNV) _(ADDVV) _(SUBVV) _(MULVV) _(DIVVV) _(MODVV) _(POW) _(CAT) _(KSTR) _(KCDATA)      \
	_(KSHORT) _(KNUM) _(KPRI) _(KNIL) _(UGET) _(USETV) _(USETS) _(USETN) _(USETP) _(UCLO)      \
	_(FNEW) _(TNEW) _(TDUP) _(GGET) _(GSET) _(TGETV) _(TGETS) _(TGETB) _(TGETR) _(TSETV)       \
	_(TSETS) _(TSETB) _(TSETM) _(TSETR) _(CALLM) _(CALL) _(CALLMT) _(CALLT) _(ITERC) _(ITERN)  \
	_(VARG) _(ISNEXT) _(RETM) _(RET) _(RET0) _(RET1) _(FORI) _(JFORI) _(FORL) _(IFORL)         \
	_(JFORL) _(ITERL) _(IITERL) _(JITERL) _(LOOP) _(ILOOP) _(JLOOP) _(JMP) _(FUNCF) _(IFUNCF)  \
	_(JFUNCF) _(FUNCV) _(IFUNCV) _(JFUNCV) _(FUNCC) _(FUNCCW)

enum bcop {
#define BCENUM(name) OP_##name,
	BCOPS(BCENUM)
#undef BCENUM
	OP__MAX,
	OP_UNKNOWN = OP__MAX
};

/* One decoded bytecode instruction. */
struct bcins {
	uint8_t op;	/* enum bcop */
	uint8_t a, b, c;
	uint16_t d;	/* (b << 8) | c */
	uint16_t mode;	/* operand modes, from jit.util.funcbc */
	uint8_t fn;	/* the function it comes from: 0 the program, else one inlined */
	uint16_t opc;	/* its pc there (for lines and errors) */
};

/* Operand modes, as lj_bc.h numbers them: mode & 7 is A's, (mode >> 3) & 15
** B's, (mode >> 7) & 15 C's or D's. */
enum bcmode {
	BCM_NONE, BCM_DST, BCM_BASE, BCM_VAR, BCM_RBASE, BCM_UV, BCM_LIT, BCM_LITS, BCM_PRI,
	BCM_NUM, BCM_STR, BCM_TAB, BCM_FUNC, BCM_JUMP, BCM_CDATA
};
#define BC_MODE(a, b, cd) ((uint16_t)((a) | (b) << 3 | (cd) << 7))
#define MAX_FNS 32	  /* functions one program inlines, itself included */
enum inl_why { WHY_NONE, WHY_RECURSION, WHY_DEPTH, WHY_VARARG, WHY_COUNT };
#define MAX_SUBS (IR_MAX_FUNCS - 1) /* BPF-to-BPF subprograms of one program */
#define MAX_SUB_ARGS 5	  /* r1-r5 */

/* What a subprogram returns in r0 (all its returns agree). */
enum subret { SR_UNSET, SR_NONE, SR_NUM, SR_BOOL };

/* A local function compiled once, as a BPF-to-BPF subprogram (inline.c
** chooses them, call.c calls them, translate.c translates each one). */
struct subprog {
	int ref;	/* the function (constants ref) */
	int fn;		/* its number among the functions in the bytecode (bcins.fn) */
	int start, end;	/* its bytecode: [start, end) of the spliced bytecode */
	int nparams;
	int name;	/* constants ref of its name (a string), 0 none */
	uint8_t calls;	/* bit k: it calls subprogram k */
	uint8_t ret;	/* enum subret, found while translating it */
	int func;	/* its number in funcs[] (translation order) */
	int loop;	/* a bpf_loop callback: its index in C->cbloop, else -1 */
};


/* What a variable holds. */
enum vkind {
	VK_UNDEF,  /* never written (or dead) */
	VK_NIL,	   /* nil */
	VK_NUM,	   /* integer known at compile time (may also sit in a register) */
	VK_LUA,	   /* any other compile-time Lua value: string, table, function, map */
	VK_PKT,	   /* packet dissector at a compile-time offset (num), no register */
	VK_STACK,  /* object on the BPF stack at fp - num, no register */
	VK_RT,	   /* value known only at run time, in a (virtual) register */
};

/* What a run-time value points to (VK_RT only). */
enum ptrkind {
	PK_SCALAR,   /* plain number */
	PK_CTX,	     /* the program context (R1 at entry) */
	PK_MAPVAL,   /* value in a map (maybe NULL until checked) */
	PK_PKTOFF,   /* packet dissector whose offset is in the register */
	PK_PROBE,    /* kernel or user pointer, read through probe_read */
	PK_PKTPTR,   /* direct packet pointer (skb->data) */
	PK_PKTEND,   /* skb->data_end */
};

enum vflag {
	VF_U64 = 1,	  /* uint64: unsigned comparisons and division (else int64) */
	VF_NULL = 2,	  /* pointer may be NULL */
	VF_BOOL = 4,	  /* value is a boolean (0 false, 1 true), or nil as 0 */
	VF_NETORD = 8,	  /* bitfields count from the most significant bit */
	VF_NONNEG = 16,	  /* known >= 0 (zero-extended loads): unsigned ops are exact */
	VF_MIXED = 32,	  /* a number on one path, nil or false on another */
	VF_MAYBENIL = 64, /* with VF_BOOL: nil (held as 0) on some path */
	VF_TRUE = 128,	  /* never nil or false (true, or a number): its truth is known */
	VF_FALSE = 256,	  /* only ever nil or false: its truth is known */
	VF_MOVED = 512,	  /* a dissector moved off its layer's start (dissector + n) */
	VF_USER = 1024,	  /* PK_PROBE: points to user memory (else kernel); a number: an
			  ** address in user memory (computed from a user pointer, bpf.user) */
	VF_KERNEL = 2048, /* a number: an address in kernel memory (from a kernel pointer,
			  ** bpf.kernel); a number with neither is cast to the default space */
	VF_DATALOC = 4096, /* a tracepoint's __data_loc word: (length << 16) | offset in the record */
	VF_SLICE = 8192,  /* ffi.string(mem, n): exactly n bytes, compared as a Lua string */
	VF_BTF = 16384, /* PK_PROBE: a pointer the verifier knows as PTR_TO_BTF_ID (btf.c) */
};
#define VF_SPACE (VF_USER | VF_KERNEL)

struct var {
	uint8_t kind;	/* enum vkind */
	uint8_t ptr;	/* enum ptrkind */
	uint16_t reg;	/* virtual register (IR_VREG0 and up) or NOREG */
	uint8_t width;	/* scalar width in bytes (1, 2, 4, 8) */
	uint16_t flags;	/* enum vflag */
	uint8_t bits;	/* 0 <= value < 2^bits (a range the packet loads rely on), 0 unknown */
	int16_t shadow;	/* slot this one is a copy of, or -1 */
	int64_t num;	/* VK_NUM value, VK_PKT offset, VK_STACK frame offset */
	int ref;	/* index in the constants table: Lua value or ctype, 0 if none */
	int layer;	/* the dissector's layer in facts.layer, 0 if none */
};

/* A join point's agreed variable layout, recorded by the first edge. */
struct joinstate {
	struct var v[MAX_SLOTS];
	uint64_t written[MAX_SLOTS / 64]; /* a loop header's: the slots its loop writes */
};

/* A numeric for loop run by bpf_loop (bpfloop.c): its
** body becomes a callback subprogram, called with the turn's index in r1 and
** in r2 a block on the caller's stack holding the values the body reads or
** changes, 8 bytes each. */
#define MAX_CARRIED 32
struct cbloop {
	int fori, a, body, forl, exit; /* FORI's pc and base; the body [body, forl) */
	int64_t step;
	bool start_known;	/* the start is a constant (start), else carried */
	int64_t start;
	int ncarried;
	int16_t carried[MAX_CARRIED]; /* the slots in the block, in order */
	uint64_t written[MAX_SLOTS / 64]; /* the slots the body writes */
	struct var vars[MAX_SLOTS];   /* the variables at FORI: constants stay */
	bool done;		/* translated */
};

/* A map relocation of the encoded program: instruction insn loads map number map. */
struct reloc {
	int insn, map;
};

/* A comparison waiting for its JMP: emitted only after the join's moves. */
struct pcmp {
	int state;	/* 0 none, 1 pending, CMP_ALWAYS, CMP_NEVER */
	uint8_t jop;	/* BPF_JEQ, BPF_JSGT, ... */
	int a;		/* left slot */
	int b;		/* right slot, or -1 for an immediate */
	int64_t imm;
	int strref;	/* compare memory of slot a with this string constant */
	int null_slot;	/* pointer tested against NULL, -1 none */
	bool nonnull_on_jump;
	int truth_slot;	/* boolean whose truth is tested, -1 none */
	bool true_on_jump;
	int copy_dst;	/* ISTC/ISFC: slot copy_dst = copy_src on the jump only, -1 none */
	int copy_src;
	uint8_t copy_bits; /* FORL: on the jump the loop variable is >= 0 and below 2^copy_bits */
};

struct hint {
	int target_bc; /* join point */
	int slot;      /* variable that must be in a register there */
	bool deref;    /* ... holding the number its map value holds */
	bool fold;     /* target_bc is an inlined call (of known arguments) to run in Lua */
	bool loop;     /* a loop header: what the value may be on every turn */
	bool unroll;   /* target_bc is a FORI of constant bounds to unroll */
	bool no_unroll; /* target_bc is a FORI not to unroll unless it must be */
	bool no_bpf_loop; /* target_bc is a FORI whose body cannot be a bpf_loop callback */
	uint16_t flags; /* loop: the flags to assume at the header */
	uint8_t width;	/* loop: the width to assume */
	uint8_t bits;	/* loop: the value range to assume (0: none) */
};

/* Where the first argument of an atomic lies (atomic.c): set by the
** indexing that names it, taken by the call right after. */
struct atom_place {
	int slot, pc;	/* the slot holding the base, the bytecode pc that set it */
	int call;	/* the CALL's pc that takes it, -1 none */
	int off;	/* bytes from the base */
	struct cfield f; /* what lies there */
	uint16_t reg;	/* the slot's register (map value) or frame offset (stack), to check */
	int64_t num;
};

struct ctx {
	lua_State *L;
	int fn;			/* stack index of the function being compiled */
	int env;		/* stack index: compile-time environment table */
	int opts;		/* stack index: the facts object (lua/bpf/facts.lua) */
	int consts;		/* stack index: our constants table (refs) */
	int nconsts;
	int ktab;		/* stack index: the function's constants, by funck index */
	const uint8_t *opmap;	/* LuaJIT opcode number -> enum bcop */
	int fr2;		/* 1 when a call frame takes two slots (GC64) */

	/* bytecode */
	int nbc, nslots, nparams;
	struct bcins bc[MAX_BC];
	struct bcins bc2[MAX_BC];	/* inline.c builds the spliced bytecode here */
	int16_t inl_cont[MAX_BC];	/* a CALL whose function follows inlined: the pc after it */
	uint8_t inl_why[MAX_BC];	/* a CALL of a Lua function not inlined: why (enum inl_why) */
	int16_t inl_open[MAX_BC];	/* inlined calls of known arguments being translated */
	int ninl_open;			/* (their pcs; translation leaves each at its inl_cont) */
	int16_t for_open[16];		/* FORIs of small constant bounds being translated as */
	int nfor_open;			/* BPF loops: what fails in one unrolls it (bpfc_fail) */
	int16_t unroll_open[16];	/* FORIs unrolled because that was shorter, being */
	int nunroll_open;		/* translated: what fails in one keeps it a loop */
	int nfn;			/* functions in the bytecode: 0 the program, 1.. inlined */
	int fn_ref[MAX_FNS], fn_ktab[MAX_FNS]; /* each one's value and constants (refs) */
	int reader;			/* registry ref of the bytecode reader (bc_reader_src) */
	struct subprog subs[MAX_SUBS];	/* the subprograms, by number */
	int nsubs, nsubs_spliced;	/* the last bpf_loop callbacks (subs[nsubs_spliced..]) */
	struct cbloop *cbloop;		/* MAX_SUBS of them, made on first use */
	int ncbloop;
	int8_t sub_call[MAX_BC];	/* a CALL of subprogram k: k + 1, else 0 */
	int cur_sub;			/* the subprogram being translated, -1 the program */
	int cur_loop;			/* the bpf_loop callback being translated (cbloop), -1 */
	int nosub[MAX_FNS];		/* functions to inline, never make subprograms (refs) */
	int nnosub;
	bool force_subs;		/* facts.functions == 'subprog': every candidate one */
	bool no_subs;			/* facts.functions == 'inline' */
	struct bcins *bc0;		/* the program's own bytecode, before inlining */
	int nbc0, nslots0;
	void *scratch[64];		/* working memory of the passes (scratch), last made first freed */
	int nscratch;
	uint64_t live[MAX_BC][MAX_SLOTS / 64]; /* slots live after bc[pc] */
	uint64_t livein[MAX_BC][MAX_SLOTS / 64];
	bool target[MAX_BC];	/* bc pc is a jump target */
	int16_t loopend[MAX_BC]; /* a loop header: the last pc that jumps back to it, else 0 */
	int not_a_header;	/* a loop header translated as straight code (its loop
				** unrolled, or a bpf_loop callback), 0 none */
	uint8_t for_bits[MAX_BC]; /* FORL pc: its variable's range, found at its FORI (0 none) */
	int pc;			/* bytecode pc being translated */

	/* variables: LuaJIT slots, then our temporaries */
	struct var v[MAX_SLOTS];
	int tmp;		/* first temporary slot */
	int stack_top;		/* bytes of stack in use */
	int nobjects;		/* objects made on the stack (ffi.new) so far */
	int16_t owner[MAX_VREGS]; /* register -> slot that owns it, -1 none (up to nvregs) */
	int ctx_reg;		/* the virtual register that keeps the context */
	int16_t joinidx[MAX_BC]; /* bytecode pc -> index in jpool, -1 none */
	int16_t loopidx[MAX_BC]; /* loop header pc -> its layout in jpool, -1 none */
	int looplabel[MAX_BC];	/* loop header pc -> the label its back edges jump to */
	struct joinstate *jpool; /* grown on demand, kept across compiles */
	int njoin, capjoin;
	bool reachable;
	bool ctx_pinned;	/* R6 holds the context */
	uint8_t packet;		/* how the program reads the packet (enum packet_access) */
	bool ctx_writes;	/* it writes context fields (which the program type allows or not) */
	bool default_space;	/* a pointer cast from a number took the default address space
				** (facts.user_memory): uprobes compile it again for user memory */

	/* the IR (ir.h): what translation appends, passes rewrite, encode reads */
	struct ir_ins ir[MAX_IR];
	int nir;
	int nlabels;		/* the next label id (below nbc: bytecode pcs) */
	int nvregs;		/* the next virtual register (IR_VREG0 and up) */
	bool jumped[MAX_BC];	/* some jump goes to this bytecode pc */
	int pclabel[MAX_BC];	/* the label bytecode pc stands for: itself, or in an
				** unrolled copy of a loop body a fresh one (-1: not yet) */
	int resume;		/* set by an instruction that translated those after it:
				** the pc translation goes on from (0: the next) */
	struct ir_func funcs[IR_MAX_FUNCS];
	int nfuncs;
	struct ir_block blk[MAX_IR];	/* the last ir_cfg */
	int nblk;
	int lab2blk[MAX_IR];
	char *ra_mem;		/* regalloc's working memory, kept across compiles */
	size_t ra_cap, ra_used;
	struct pcmp cmp;
	int map_ref[MAX_MAPS];	/* the program's maps by map number (constants refs) */
	int nmaps;

	/* encoded (encode.c) */
	struct bpf_insn insn[MAX_INSNS];
	uint16_t insn_bc[MAX_INSNS];	/* bytecode pc each instruction came from */
	int ninsn;
	int label_pos[MAX_IR];		/* label id -> instruction index */
	struct reloc reloc[MAX_INSNS / 2]; /* an lddw takes two slots */
	int nreloc;
	/* CO-RE (btf.c): an IR_OP whose label is k >= 0 holds core[k].value, the
	** field offset (or shift) of kernel access spec core[k].spec; encode
	** lists each such instruction in corerel */
	struct { int spec, kind; int64_t value; } core[MAX_INSNS / 2];
	int ncore;
	struct { int insn, spec, kind; } corerel[MAX_INSNS / 2];
	int ncorerel;
	struct facts facts;	/* what Lua told us, for this compile (facts.c) */

	/* restarts on join conflicts */
	struct hint hints[MAX_HINTS];
	int nhints;
	bool restart;
	int keep[2];		/* slots the current instruction still reads (after a call
				** or a join's moves), -1 none */
	struct atom_place atom;	/* an atomic's place, between its indexing and its call */

	unsigned broken;	/* mutation switches on for this compile (BROKEN) */
	struct var_state *snap;	/* the variables before an edge block (var.c) */

	/* errors */
	jmp_buf jb;
	char err[512];
};

#define CMP_ALWAYS (-2)
#define CMP_NEVER (-3)

/* Mutation switches: BPFC_BREAK=name turns one safeguard off, so that
** `make mutants` can show a spec fails without it (tools/mutants.sh). */
#define BREAKS(_)                                                                                  \
	_(null_guard)	   /* the NULL check before a map value is read or written */           \
	_(pkt_bounds)	   /* packet offsets must lie in the packet's range */                   \
	_(spill_reload)	   /* a spilled value is read back from its stack slot */                \
	_(join_compensation) /* every edge into a join moves values where the join wants them */ \
	_(zero_divisor)	   /* a divisor known to be 0 is a compile error */                      \
	_(ctx_pinning)	   /* r6 keeps the context for classic packet loads and helpers */  \
	_(call_clobbers)   /* register allocation knows a call overwrites r0-r5 */         \
	_(loop_facts)	   /* a back edge brings no less than the loop header assumed */          \
	_(pkt_pull)	   /* tc pulls what direct reads need into the skb's linear part */ \
	_(pkt_csum)	   /* a packet write updates the checksums that cover it */            \
	_(pkt_reload)	   /* after a helper that moves the packet, its pointers are reloaded */

enum brk {
#define BRKENUM(name) BRK_##name,
	BREAKS(BRKENUM)
#undef BRKENUM
	BRK__MAX
};
#define BROKEN(C, name) (((C)->broken >> BRK_##name) & 1)
unsigned bpfc_breaks(void); /* the switches BPFC_BREAK names (module.c) */
bool fold_hinted(const struct ctx *C, int pc); /* module.c */
bool unroll_hinted(const struct ctx *C, int pc); /* module.c */
bool no_unroll_hinted(const struct ctx *C, int pc); /* module.c */
bool no_bpf_loop_hinted(const struct ctx *C, int pc); /* module.c */
__attribute__((noreturn)) void sub_inline_instead(struct ctx *C, int k); /* module.c */
bool sub_refused(struct ctx *C, int ref); /* module.c */

/* Raise a compile error naming the construct; never returns. */
__attribute__((noreturn, format(printf, 2, 3))) void bpfc_fail(struct ctx *C, const char *fmt, ...);

/* bcread.c */
extern const char bc_reader_src[];
int bc_load(struct ctx *C, int bctab, int modetab, int nslots, int nparams);
int bc_decode(struct ctx *C, int bctab, int modetab, struct bcins *out, int max);
void bc_read(struct ctx *C);
int bc_jump_target(const struct bcins *i, int pc);
const char *bc_opname(int op);
int bc_probe_fr2(lua_State *L, int jitutil, const uint8_t *opmap);
int bc_opmap_init(lua_State *L, uint8_t *opmap, int max);
void bc_liveness(struct ctx *C);
bool bc_live(const struct ctx *C, int pc, int slot);
bool bc_livein(const struct ctx *C, int pc, int slot);
void bc_writes(const struct ctx *C, int from, int to, uint64_t *out);

/* inline.c: calls of local Lua functions replaced by their bytecode */
void bc_inline(struct ctx *C);
/* Working memory kept in the context, so that a compile error (a longjmp)
** leaves nothing behind: the next try, or the module's end, frees it. */
void *scratch(struct ctx *C, size_t size);
void scratch_pop(struct ctx *C, int n); /* the last n made */

/* luaval.c: constants and Lua values */
int k_ref(struct ctx *C, int idx);
void k_push(struct ctx *C, int ref);
int k_dup(struct ctx *C, int ref);
bool k_same(struct ctx *C, int a, int b);
void v_set_lua(struct ctx *C, int slot, int idx);
bool k_isstring(struct ctx *C, int ref, const char **s, size_t *len);

/* var.c: variables, virtual registers, joins */
void v_init(struct ctx *C);
void v_const(struct ctx *C, int slot, int64_t n);
void v_def(struct ctx *C, int slot);
void v_copy(struct ctx *C, int dst, int src);
struct var *v_src(struct ctx *C, int slot);
int v_reg(struct ctx *C, int slot);
void v_load_arg(struct ctx *C, int slot, int reg);
int vreg_new(struct ctx *C);
int v_newreg(struct ctx *C, int slot);
int r_scratch(struct ctx *C);
void v_drop_dead(struct ctx *C, int pc);
void v_join_edge(struct ctx *C, int target);
void v_loop_edge(struct ctx *C, int header);
bool v_join_needs_deref(struct ctx *C, int target);
struct var_state;
struct var_state *v_state_new(void);
void v_state_save(struct ctx *C, struct var_state *s);
void v_state_restore(struct ctx *C, const struct var_state *s);
int v_peek(struct ctx *C, int slot);
void pmove(struct ctx *C, const uint16_t *dst, const uint16_t *src, int n);
int v_root(struct ctx *C, int slot);
bool v_kept(const struct ctx *C, int s);
int alu_dst(struct ctx *C, int dst, int a);
void v_join_enter(struct ctx *C, int pc);
void v_rt(struct ctx *C, int slot, int reg, int ptr, int width, int flags);
bool v_isconst(const struct var *v);
bool v_plain_number(const struct var *v, bool booleans);
int stack_alloc(struct ctx *C, int size);

/* emit.c: appending IR */
void emit(struct ctx *C, uint8_t code, int dst, int src, int16_t off, int32_t imm);
void emit_jmp(struct ctx *C, uint8_t code, int dst, int src, int32_t imm, int label);
void emit_ja(struct ctx *C, int label);
int label_new(struct ctx *C);
void emit_label(struct ctx *C, int label);
void emit_call(struct ctx *C, int func, int helper);
void emit_subcall(struct ctx *C, int sub, int nargs);
void emit_func_addr(struct ctx *C, int dst, int sub);
void emit_map(struct ctx *C, int dst, int index);
void emit_ld64(struct ctx *C, int dst, int64_t imm);
void emit_mov_imm(struct ctx *C, int dst, int64_t imm);

/* ir.c: the control-flow graph, and printing */
void ir_cfg(struct ctx *C, const struct ir_func *f);
void ir_append(struct ctx *C, const struct ir_ins *in);
void ir_rebuilt(struct ctx *C, struct ir_func *f, int start);
void ir_compact(struct ctx *C);
bool ir_insert_label(struct ctx *C, struct ir_func *f, int at, int label);
void ir_push(struct ctx *C);
void ir_print(struct ctx *C, const struct ir_func *f, const char *pass);
void ir_main_first(struct ctx *C);

/* encode.c: IR to instructions and relocations */
void encode(struct ctx *C);

/* btf.c: kernel types (lua/bpf/btf.lua): loads through kernel pointers,
** tracing arguments, CO-RE tags, kfunc calls */
#define IR_KFUNC (-3) /* ir_ins.helper of a kfunc call: imm its BTF id, off its arguments */
void btf_load(struct ctx *C, int dst, int base, const struct cfield *f);
void btf_ctx_arg(struct ctx *C, int dst, const struct cfield *f);
void btf_encoded(struct ctx *C, const struct ir_ins *in, int insn);

/* translate.c, builtins.c, dissect.c */
void tr_ins(struct ctx *C, int pc);
void tr_range(struct ctx *C, int from, int to, bool stop_at_to);
void tr_call(struct ctx *C, int a, int nres, int nargs);
void tr_call_inlined(struct ctx *C, int pc, int a, int nres, int nargs);
void tr_call_sub(struct ctx *C, int pc, int a, int nres, int nargs);
void tr_subprograms(struct ctx *C);
void function_begin(struct ctx *C, int sub, int loop, int pc);
bool for_bpf_loop(struct ctx *C, int pc, int a, int exit); /* bpfloop.c */
int tr_loop_callbacks(struct ctx *C, int func);
void tr_index(struct ctx *C, int dst, int base, int keyslot, int keyref, int64_t keynum, int keykind);
void tr_newindex(struct ctx *C, int base, int keyslot, int keyref, int64_t keynum, int keykind,
		 int src);
bool bi_call(struct ctx *C, const char *name, int a, int nargs);
void pk_field(struct ctx *C, int dst, int base, const char *name);
int pk_clamp(struct ctx *C, int r, bool u64);
void pk_load(struct ctx *C, int dst, int base, int64_t off, int width, int idxslot);
void pk_load_raw(struct ctx *C, int dst, int base, int64_t off, int width); /* (PK_RAW) */
void mem_load(struct ctx *C, int dst, int base, const struct cfield *f);
void scalar_read(struct ctx *C, int dst, int rd, const struct cfield *f, bool netorder); /* index.c */
int probe_func(const struct var *p, bool str); /* mem.c: probe_read_{user,kernel}[_str] */
void mem_store(struct ctx *C, int base, const struct cfield *f, int src);
void ctx_store(struct ctx *C, int base, const struct cfield *f, int src); /* ctxfield.c */
int ctx_wire(struct ctx *C, int off, int size);
void pk_store(struct ctx *C, int base, const struct cfield *f, int src); /* pktwrite.c */
void pk_copy(struct ctx *C, int base, int tmp, const char *s, int len);
int pk_write_type(struct ctx *C);
void pk_pointer_store(struct ctx *C, int base, const struct cfield *f, int src);
void map_lookup(struct ctx *C, int dst, int mapslot, int keyslot);
void map_update(struct ctx *C, int mapslot, int keyslot, int valslot);
void map_delete(struct ctx *C, int mapslot, int keyslot);
int null_guard(struct ctx *C, int slot);
bool atomic_place(struct ctx *C, int dst, int base, const struct cfield *f); /* atomic.c */
void emit_map_fd(struct ctx *C, int reg, int mapref);

/* fold.c: the one semantics of each operation */
enum arop {
	AR_ADD, AR_SUB, AR_MUL, AR_DIV, AR_MOD, AR_POW, AR_NEG, AR_BAND, AR_BOR, AR_BXOR,
	AR_SHL, AR_SHR, AR_SAR, AR_BNOT, AR_TOBIT
};
enum cmpop { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum { FOLD_DIV0 = 1, FOLD_NEGPOW, FOLD_UNKNOWN };
int fold_arith(enum arop op, bool u64, int64_t x, int64_t y, int64_t *out);
bool fold_cmp(enum cmpop op, bool u64, int64_t x, int64_t y);
int64_t fold_bswap(int64_t x, int width);

/* lower_arith.c: arithmetic on run-time values */
void tr_arith(struct ctx *C, int dst, int a, int bslot, int64_t bn, enum arop op, bool rev);
void tr_unm(struct ctx *C, int dst, int d);
int as_number(struct ctx *C, int slot, int tmp);
void check_scalar(struct ctx *C, int slot, const char *what);
bool is_num(struct ctx *C, int slot, int64_t *n);
bool fits_imm(int64_t n);
void v_numconst(struct ctx *C, int slot, int64_t n, int flags);
int bits_of(int64_t n);
int bits_add(int a, int b);

/* passes.c: the passes over the IR, in order */
void passes_run(struct ctx *C);

/* regalloc.c: webs of each register's values coloured again */
void regalloc(struct ctx *C, const struct ir_func *f);
/* The registers an IR instruction reads and writes, explicit or implicit. */
struct operands {
	uint16_t uses, defs;	/* register masks */
	bool use_dst, use_src;	/* explicit operands read */
	bool def_dst, def_src;	/* explicit operands written */
	bool rmw;		/* dst read and written: one web */
	bool rmw_src;		/* src read and written (atomic fetch): one web */
	bool copy;		/* rd = rs (64-bit, no sign extension) */
};
struct operands ir_call_operands(const struct ir_ins *in, bool broken_clobbers);
/* (inline: every pass asks it about every instruction) */
static inline struct operands ir_operands(const struct ir_ins *in, bool broken_clobbers)
{
	struct operands o = {0};
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code), mode = BPF_MODE(in->code);
	bool x = BPF_SRC(in->code) == BPF_X;
	switch (in->kind) {
	case IR_OP:
		if (cls == BPF_ALU || cls == BPF_ALU64) {
			o.def_dst = true;
			o.use_dst = op != BPF_MOV;
			o.rmw = o.use_dst;
			o.use_src = x && op != BPF_NEG && op != BPF_END;
			o.copy = cls == BPF_ALU64 && op == BPF_MOV && x && in->off == 0;
		} else if (cls == BPF_LDX) {
			o.def_dst = o.use_src = true;
		} else if (cls == BPF_ST) {
			o.use_dst = true;
		} else if (cls == BPF_STX) {
			o.use_dst = o.use_src = true;
			if (mode == BPF_ATOMIC) {
				o.rmw_src = o.def_src = (in->imm & BPF_FETCH) != 0;
				if (in->imm == BPF_CMPXCHG) {
					o.uses |= 1u;
					o.defs |= 1u;
				}
			}
		} else if (cls == BPF_LD && (mode == BPF_ABS || mode == BPF_IND)) {
			o.uses |= 1u << 6;
			o.use_src = mode == BPF_IND;
			o.defs |= 0x3fu /* r0..r5 */;
		}
		break;
	case IR_JMP:
		if (op != BPF_JA && op != BPF_JCOND) { /* may_goto reads no register */
			o.use_dst = true;
			o.use_src = x;
		}
		break;
	case IR_LD64:
	case IR_MAP:
		o.def_dst = true;
		break;
	case IR_CALL:
		return ir_call_operands(in, broken_clobbers);
	case IR_EXIT:
		o.uses = 1u;
		break;
	default:
		break;
	}
	/* (r10 is not one: it is never renamed) */
	if (!((in->dst < 10) || in->dst >= IR_VREG0))
		o.use_dst = o.def_dst = o.rmw = o.copy = false;
	if (!((in->src < 10) || in->src >= IR_VREG0))
		o.use_src = o.def_src = o.rmw_src = o.copy = false;
	return o;
}

bool ir_reads(const struct ir_ins *in, int r);  /* ir.c */
bool ir_writes(const struct ir_ins *in, int r);

/* BPF's size code for a load or store of size bytes (1, 2, 4, 8), else -1. */
static inline int bpf_size(int size)
{
	switch (size) {
	case 1: return BPF_B;
	case 2: return BPF_H;
	case 4: return BPF_W;
	case 8: return BPF_DW;
	}
	return -1;
}

/* A packet store pktwrite.c leaves for direct_packet (XDP): STX in the
** classic loads' modes, which no BPF instruction has: [imm] = src (BPF_ABS,
** dst PKT_STORE_NOREG) or [dst + imm] = src (BPF_IND), src in network order. */
#define PKT_STORE_NOREG 11 /* no register (ir_operands reads none there) */
/* A classic load's off when it reads the bytes as they are (no byte swap):
** XDP's packet writes sum checksums in network order (pk_load with
** pk_load_raw; direct_packet, which makes every XDP load direct, honours it). */
#define PK_RAW 1
static inline bool is_packet_store(const struct ir_ins *in)
{
	uint8_t mode = BPF_MODE(in->code);
	return in->kind == IR_OP && BPF_CLASS(in->code) == BPF_STX && (mode == BPF_ABS || mode == BPF_IND);
}

/* packet.c: classic packet loads turned into direct access (tc, XDP) */
enum packet_access { PACKET_NONE, PACKET_CLASSIC, PACKET_DIRECT };
void direct_packet(struct ctx *C, const struct ir_func *f);

/* cse.c: an ALU operation computed again in a block becomes a copy */
void common_subexpressions(struct ctx *C, const struct ir_func *f);

/* combine.c: two packet bytes read as one halfword */
void combine_loads(struct ctx *C, const struct ir_func *f);

/* tailmerge.c: two ways into a label that end alike share one copy */
void tail_merge(struct ctx *C, const struct ir_func *f);

/* copyprop.c: reads of a copy read its source (registers written once) */
void copy_propagation(struct ctx *C, const struct ir_func *f);

/* bittest.c: tests of bits of one value as one masked compare */
void bit_tests(struct ctx *C, const struct ir_func *f);

/* csum.c: the Internet checksum summed in network order, swapped once */
void csum_order(struct ctx *C, const struct ir_func *f);

/* narrow.c: `rD op= S; wD = wD` as one 32-bit operation */
void narrow_to_32(struct ctx *C, const struct ir_func *f);

/* dce.c: definitions of virtual registers nothing reads */
void dead_definitions(struct ctx *C, const struct ir_func *f);

/* stack.c: stores to the stack nothing reads before they are written again */
void dead_stack_stores(struct ctx *C, const struct ir_func *f);

/* constants.c: a 64-bit constant loaded once per block */
void constants_once(struct ctx *C, const struct ir_func *f);

/* helpers.c: the helpers a program calls by name, one row each of helpers.def */
enum harg { /* what an argument is */
	HA_NONE, HA_NUM, HA_CONST, HA_MAP, HA_MAPVAL, HA_BUF, HA_CTYPE, HA_STR, HA_NUMBUF,
	HA_STRPTR, HA_NUMPTR
};
enum hres { HR_NONE, HR_NUM, HR_MAPVAL, HR_BUF, HR_NUMPTR }; /* what the call yields */
enum { HF_SOMETIMES = 1 }; /* the BPF_FUNC is called for some arguments only */
struct helper {
	const char *name;	/* what bpf.builtins.names gives and the core looks up */
	const char *from;	/* where a program reaches it: "xadd", "bit.band", "ffi.new" */
	int func;		/* BPF_FUNC_* it calls, 0 for none */
	int min, max;		/* argument count */
	uint8_t args[4];	/* enum harg per argument, the last one repeating up to max */
	uint8_t result;		/* enum hres */
	uint8_t flags;		/* HF_* */
	uint64_t types;		/* program types that allow it: bit 1 << BPF_PROG_TYPE_* */
	void (*lower)(struct ctx *C, int a, int nargs, const struct helper *h);
};
enum helper_id {
#define HELPER(name, ...) H_##name,
#include "helpers.def"
#undef HELPER
	H__MAX
};
#define HELPER(name, from, func, min, max, args, result, flags, types, lower)                    \
	void lower(struct ctx *C, int a, int nargs, const struct helper *h);
#include "helpers.def"
#undef HELPER
extern const struct helper helpers[H__MAX];
const struct helper *helper_find(const char *name);
const char *helper_shown(const struct helper *h);
const char *helper_func_name(const struct helper *h);
int helper_progtype(struct ctx *C, const char **name);
void progtype_list(uint64_t mask, char *buf, size_t size);
int helpers_lua(lua_State *L);

#endif
