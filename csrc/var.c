/*
** Variables and where they live: virtual registers, compile-time constants
** and copy-on-write shadows (a MOV costs nothing until one side changes).
** A run-time value lives in a virtual register of its own (vreg_new: there
** are as many as needed, and regalloc.c gives each a BPF register or a
** stack slot); BPF registers appear only for the moment an instruction
** needs one (a helper's arguments in r1-r5, its result in r0, the context
** in r6 for a classic packet load), so nothing here spills or keeps values
** out of a call's way.  At every basic-block join all incoming edges are
** made to agree on the layout the first edge recorded; when that is
** impossible (a constant on one edge, another value on the next) the
** compile restarts with a hint to materialize that variable on every edge.
** The context is the exception: the verifier refuses a context pointer that
** moved, so a context value (the context itself, or one of its array or
** struct members: the context register plus a constant offset, num) never
** gets a register of its own.  It stays on ctx_reg, which holds the context
** from the first instruction to the last and which no move writes; a join
** or a loop keeps it there when every edge brings the same member, and
** refuses the program when they bring different ones.  Other pointers (map
** values, probe_read pointers, packet pointers and dissector positions) are
** chosen at run time, but what they point to is read through the one C type
** (and packet layer) the join records: every edge must bring the same one,
** compared by type identity (fact_same_type), not by constants ref.
*/
#include <string.h>
#include <stdlib.h>
#include "core.h"

void v_init(struct ctx *C)
{
	for (int s = 0; s < V_TOP(C); s++) {
		C->v[s] = (struct var){.kind = VK_UNDEF, .reg = NOREG, .shadow = -1};
	}
	for (int r = 0; r < IR_VREG0; r++)
		C->owner[r] = -1;
	C->stack_top = 0;
	C->nobjects = 0;
	C->keep[0] = C->keep[1] = -1;
}

/* A number (or with booleans, a boolean too: 0 or 1) known at compile time
** or held in a register, of one kind on every path and not uint64: what a
** subprogram or a bpf_loop callback takes and gives back as 8 bytes. */
bool v_plain_number(const struct var *v, bool booleans)
{
	return (v->kind == VK_NUM || (v->kind == VK_RT && v->ptr == PK_SCALAR)) &&
	       !(v->flags & (VF_MIXED | VF_MAYBENIL | VF_U64 | (booleans ? 0 : VF_BOOL)));
}

/* The context or a member of it: ctx_reg + num (see the header). */
static bool is_ctx(const struct var *v)
{
	return v->kind == VK_RT && v->ptr == PK_CTX;
}

bool v_isconst(const struct var *v)
{
	return v->kind == VK_NUM || v->kind == VK_NIL || v->kind == VK_LUA || v->kind == VK_PKT ||
	       v->kind == VK_STACK;
}

int v_root(struct ctx *C, int slot)
{
	int n = 0;
	while (C->v[slot].shadow >= 0 && n++ < MAX_SLOTS)
		slot = C->v[slot].shadow;
	return slot;
}

struct var *v_src(struct ctx *C, int slot)
{
	return &C->v[v_root(C, slot)];
}

int stack_alloc(struct ctx *C, int size)
{
	int top = (C->stack_top + size + 7) & ~7;
	if (top > STACK_SIZE)
		bpfc_fail(C, "out of BPF stack: %d bytes needed, the limit is %d", top, STACK_SIZE);
	C->stack_top = top;
	return top; /* the object is at fp - top */
}

/* Forget that a register holds slot's value (the value itself stays). */
static void r_release(struct ctx *C, int slot)
{
	struct var *v = &C->v[slot];
	if (v->reg != NOREG && C->owner[v->reg] == slot)
		C->owner[v->reg] = -1;
	v->reg = NOREG;
}

/* slot is about to be overwritten: hand its location to a copy of it. */
void v_def(struct ctx *C, int slot)
{
	struct var *v = &C->v[slot];
	int heir = -1;
	for (int s = 0; s < V_TOP(C); s++) {
		if (s == slot || C->v[s].shadow != slot)
			continue;
		if (heir < 0) {
			heir = s;
			struct var *h = &C->v[s];
			*h = *v;
			h->shadow = -1;
			if (h->reg != NOREG)
				C->owner[h->reg] = (int16_t)s;
		} else {
			C->v[s].shadow = (int16_t)heir;
		}
	}
	if (heir < 0)
		r_release(C, slot);
	*v = (struct var){.kind = VK_UNDEF, .reg = NOREG, .shadow = -1};
}

void v_const(struct ctx *C, int slot, int64_t n)
{
	v_def(C, slot);
	C->v[slot].kind = VK_NUM;
	C->v[slot].num = n;
	C->v[slot].width = 8;
	C->v[slot].flags = n >= 0 ? VF_NONNEG : 0;
	C->v[slot].bits = (uint8_t)bits_of(n);
}

/* The bits a non-negative number needs (at least 1), 0 for a negative one. */
int bits_of(int64_t n)
{
	return n < 0 ? 0 : n == 0 ? 1 : 64 - __builtin_clzll((unsigned long long)n);
}

/* Bits of the sum of two values of a and b bits; 0 (unknown) past 62. */
int bits_add(int a, int b)
{
	int r = (a > b ? a : b) + 1;
	return a && b && r <= 62 ? r : 0;
}

/* A number known at compile time, typed by flags (VF_U64 for uint64). */
void v_numconst(struct ctx *C, int slot, int64_t n, int flags)
{
	v_const(C, slot, n);
	C->v[slot].flags |= (uint16_t)(flags & VF_U64);
}

void v_copy(struct ctx *C, int dst, int src)
{
	if (dst == src)
		return;
	int root = v_root(C, src);
	if (root == dst) { /* dst = copy of itself through a chain: nothing changes */
		return;
	}
	v_def(C, dst);
	struct var *d = &C->v[dst], *s = &C->v[root];
	*d = *s;
	d->reg = NOREG;
	if (s->kind == VK_RT || (s->kind != VK_NUM && s->reg != NOREG))
		d->shadow = (int16_t)root;
	else /* constants are copied outright, even one that sits in a register: a
	     ** shadow would tie the copy to a root whose value may change on one
	     ** path, and a join would then have to keep the copy in a register */
		d->shadow = -1;
}

/* A fresh virtual register: regalloc gives it a BPF register or a stack slot. */
int vreg_new(struct ctx *C)
{
	if (C->nvregs >= MAX_VREGS)
		bpfc_fail(C, "program is too long (more than %d instructions)", MAX_INSNS);
	C->owner[C->nvregs] = -1;
	return C->nvregs++;
}

void v_rt(struct ctx *C, int slot, int reg, int ptr, int width, int flags)
{
	struct var *v = &C->v[slot];
	if (v->kind != VK_UNDEF)
		v_def(C, slot);
	if (reg != NOREG && reg < IR_VREG0) {
		/* a BPF register (a call's r0) only passes the value on: a variable
		** lives in a virtual register, which no call clobbers */
		int to = vreg_new(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, to, reg, 0, 0);
		reg = to;
	}
	*v = (struct var){.kind = VK_RT, .ptr = (uint8_t)ptr, .reg = (uint16_t)reg,
			  .width = (uint8_t)width, .flags = (uint16_t)flags, .shadow = -1};
	if (reg != NOREG) {
		if (C->owner[reg] >= 0 && C->owner[reg] != slot)
			bpfc_fail(C, "internal: register r%d already holds slot %d", reg,
				  C->owner[reg]);
		C->owner[reg] = (int16_t)slot;
	}
}

/* The variables and who owns which register, kept to go back to after
** translating an edge block (translate.c jmp_edge_block). */
struct var_state {
	struct var v[MAX_SLOTS];
	int16_t owner[MAX_VREGS];
	int nvregs;
};

struct var_state *v_state_new(void)
{
	return malloc(sizeof(struct var_state));
}

void v_state_save(struct ctx *C, struct var_state *s)
{
	memcpy(s->v, C->v, sizeof(s->v[0]) * (size_t)V_TOP(C));
	memcpy(s->owner, C->owner, sizeof(s->owner[0]) * (size_t)C->nvregs);
	s->nvregs = C->nvregs;
}

/* Back to the saved variables; registers made since belong to no one (the
** code that names them stays). */
void v_state_restore(struct ctx *C, const struct var_state *s)
{
	memcpy(C->v, s->v, sizeof(s->v[0]) * (size_t)V_TOP(C));
	memcpy(C->owner, s->owner, sizeof(s->owner[0]) * (size_t)s->nvregs);
	for (int r = s->nvregs; r < C->nvregs; r++)
		C->owner[r] = -1;
}

int r_scratch(struct ctx *C)
{
	return vreg_new(C);
}

/* Slot s's value moves from register r to register to. */
static void r_move(struct ctx *C, int s, int r, int to)
{
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, to, r, 0, 0);
	C->owner[r] = -1;
	C->owner[to] = (int16_t)s;
	C->v[s].reg = (uint16_t)to;
}

int v_newreg(struct ctx *C, int slot)
{
	int r = vreg_new(C);
	C->owner[r] = (int16_t)slot;
	C->v[slot].reg = (uint16_t)r;
	return r;
}

/* Load a located value (register, constant, stack address) into register r. */
static void load_into(struct ctx *C, const struct var *v, int r)
{
	if (v->reg != NOREG) {
		if (v->reg != r)
			emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, v->reg, 0, 0);
	} else if (v->kind == VK_NUM) {
		emit_mov_imm(C, r, v->num);
	} else if (v->kind == VK_NIL) {
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, 0);
	} else if (v->kind == VK_STACK) {
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, BPF_REG_10, 0, 0);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, r, 0, 0, (int32_t)-v->num);
	} else if (v->kind == VK_PKT) {
		emit_mov_imm(C, r, v->num);
	} else if (v->kind == VK_LUA) {
		bpfc_fail(C, "a Lua value (table, string or function) cannot be used at run time here");
	} else {
		bpfc_fail(C, "variable is used before it has a value");
	}
}

/* Slot's value into BPF register reg (a helper's argument): the variable
** stays where it is. */
void v_load_arg(struct ctx *C, int slot, int reg)
{
	load_into(C, v_src(C, slot), reg);
}

/* The register holding slot's value, loading it when needed. */
int v_reg(struct ctx *C, int slot)
{
	int root = v_root(C, slot);
	struct var *v = &C->v[root];
	if (v->reg != NOREG)
		return v->reg;
	int r = vreg_new(C);
	load_into(C, v, r);
	C->owner[r] = (int16_t)root;
	v->reg = (uint16_t)r;
	if (v->kind == VK_PKT) { /* the offset now lives in a register */
		v->kind = VK_RT;
		v->ptr = PK_PKTOFF;
	}
	return r;
}

/* slot's value in some register without changing who owns what: a scratch
** register is used when it is not already in one. */
int v_peek(struct ctx *C, int slot)
{
	struct var *v = v_src(C, slot);
	if (v->reg != NOREG)
		return v->reg;
	int r = vreg_new(C);
	load_into(C, v, r);
	return r;
}

/* A register for dst holding a's value, updated in place when a is not
** needed afterwards (and is not the context, which classic packet loads
** read until the end). */
int alu_dst(struct ctx *C, int dst, int a)
{
	if (is_ctx(v_src(C, a))) /* the verifier refuses a changed context pointer */
		bpfc_fail(C, "the program's context (or an array or struct member of it) is a "
			     "pointer: it cannot be computed with; read a field of it");
	int ra = v_reg(C, a);
	int root = v_root(C, a);
	bool shared = ra == C->ctx_reg;
	for (int s = 0; s < V_TOP(C); s++)
		if (s != dst && s != root && C->v[s].shadow == root && C->v[s].kind != VK_UNDEF)
			shared = true;
	bool root_needed = root != dst && root < C->nslots && bc_live(C, C->pc, root);
	struct var keep = C->v[root];
	if (!shared && !root_needed) {
		C->owner[ra] = -1;
		C->v[root].reg = NOREG;
		if (root != dst)
			C->v[root] = (struct var){.kind = VK_UNDEF, .reg = NOREG, .shadow = -1};
		v_def(C, dst);
		v_rt(C, dst, ra, keep.ptr, keep.width, keep.flags);
		if (keep.kind != VK_RT)
			C->v[dst].ptr = PK_SCALAR;
		return ra;
	}
	v_def(C, dst);
	int rd = vreg_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rd, ra, 0, 0);
	v_rt(C, dst, rd, keep.kind == VK_RT ? keep.ptr : PK_SCALAR, keep.width, keep.flags);
	return rd;
}

/* Is slot s one the current instruction still reads? */
bool v_kept(const struct ctx *C, int s)
{
	return s >= 0 && (s == C->keep[0] || s == C->keep[1]);
}

/* Drop variables that are dead after bytecode pc, and all temporaries. */
void v_drop_dead(struct ctx *C, int pc)
{
	for (int s = 0; s < V_TOP(C); s++) {
		if (C->v[s].kind == VK_UNDEF)
			continue;
		if (s < C->nslots && bc_live(C, pc, s))
			continue;
		v_def(C, s);
	}
}

/* ---- parallel moves ---- */

/* Emit dst[i] = src[i] for all i as if at once: a move waits while its
** destination is still another's source, and a cycle goes through a fresh
** register. */
void pmove(struct ctx *C, const uint16_t *dst, const uint16_t *src, int n)
{
	uint16_t d[MAX_SLOTS], s[MAX_SLOTS];
	int m = 0;
	for (int i = 0; i < n; i++)
		if (dst[i] != src[i]) {
			d[m] = dst[i];
			s[m++] = src[i];
		}
	while (m > 0) {
		bool progress = false;
		for (int i = 0; i < m; i++) {
			bool blocked = false;
			for (int j = 0; j < m; j++)
				if (j != i && s[j] == d[i])
					blocked = true;
			if (blocked)
				continue;
			emit(C, BPF_ALU64 | BPF_MOV | BPF_X, d[i], s[i], 0, 0);
			d[i] = d[m - 1];
			s[i] = s[m - 1];
			m--;
			progress = true;
			break;
		}
		if (progress)
			continue;
		int t = vreg_new(C), from = s[0];
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, from, 0, 0);
		for (int j = 0; j < m; j++)
			if (s[j] == from)
				s[j] = (uint16_t)t;
	}
}

/* ---- joins ---- */

static struct joinstate *join_get(struct ctx *C, int pc)
{
	return C->joinidx[pc] >= 0 ? &C->jpool[C->joinidx[pc]] : NULL;
}

static struct joinstate *join_new(struct ctx *C, int pc)
{
	if (C->njoin >= C->capjoin) {
		int cap = C->capjoin ? C->capjoin * 2 : 16;
		struct joinstate *p = realloc(C->jpool, (size_t)cap * sizeof(*p));
		if (!p)
			bpfc_fail(C, "out of memory");
		C->jpool = p;
		C->capjoin = cap;
	}
	C->joinidx[pc] = (int16_t)C->njoin;
	return &C->jpool[C->njoin++];
}

static bool hinted_as(struct ctx *C, int target, int slot, bool deref)
{
	for (int i = 0; i < C->nhints; i++)
		if (C->hints[i].target_bc == target && C->hints[i].slot == slot &&
		    C->hints[i].deref == deref && !C->hints[i].loop)
			return true;
	return false;
}

static bool hinted(struct ctx *C, int target, int slot)
{
	return hinted_as(C, target, slot, false);
}

static struct hint *loop_hint(struct ctx *C, int header, int slot)
{
	for (int i = 0; i < C->nhints; i++)
		if (C->hints[i].loop && C->hints[i].target_bc == header && C->hints[i].slot == slot)
			return &C->hints[i];
	return NULL;
}

/* The edges into target cannot agree on slot: compile again, this time
** putting it in a register (or reading its map value: deref) on every edge. */
__attribute__((noreturn)) static void conflict_as(struct ctx *C, int target, int slot, bool deref)
{
	if (C->nhints >= MAX_HINTS || hinted_as(C, target, slot, deref))
		bpfc_fail(C, "cannot agree on where variable %d lives where control flow joins", slot);
	C->hints[C->nhints++] = (struct hint){.target_bc = target, .slot = slot, .deref = deref};
	C->restart = true;
	longjmp(C->jb, 2);
}

__attribute__((noreturn)) static void conflict(struct ctx *C, int target, int slot)
{
	conflict_as(C, target, slot, false);
}

/* Slot s holds a context value: make it ctx_reg + its offset, no copy of
** another slot and no register of its own (ctx_reg's owner stays). */
static void ctx_flatten(struct ctx *C, int s)
{
	struct var *v = &C->v[s];
	if (v->shadow >= 0) {
		*v = *v_src(C, s);
		v->shadow = -1;
	} else if (v->reg != NOREG && v->reg != C->ctx_reg && C->owner[v->reg] == s) {
		C->owner[v->reg] = -1;
	}
	v->reg = (uint16_t)C->ctx_reg;
}

/* A context value arrives as cv where the layout (or the loop header) has jv,
** also a context value: the same member on every path, or no program. */
static void ctx_agree(struct ctx *C, const struct var *jv, const struct var *cv, int s, bool loop)
{
	if (!is_ctx(cv))
		bpfc_fail(C, "variable %d holds the context (or a member of it) on one %s and "
			     "another value on another", s, loop ? "turn of the loop" : "path");
	if (cv->num != jv->num || !fact_same_type(C, cv->ref, jv->ref))
		bpfc_fail(C, "variable %d holds one member of the context on one %s and another "
			     "on another: a pointer into the context cannot be chosen at run time; "
			     "index the context on each", s, loop ? "turn of the loop" : "path");
	if (cv->reg != C->ctx_reg || jv->reg != C->ctx_reg)
		bpfc_fail(C, "internal: a context value (variable %d) is not on the context register", s);
}

static bool is_mapval(const struct var *v)
{
	return v->kind == VK_RT && v->ptr == PK_MAPVAL;
}

/* A position in the packet: a dissector at a constant offset or at a run-time one. */
static bool is_pkt(const struct var *v)
{
	return v->kind == VK_PKT || (v->kind == VK_RT && v->ptr == PK_PKTOFF);
}

/* Is memory of C type b (a ref) read and written as memory of C type a is?
** The same type (two ffi.typeof('uint64_t'), two ctype objects, are one
** type), or two integers of one size and signedness (uint64_t, const
** uint64_t): no member, bound or load of one differs from the other's. */
static bool same_layout(struct ctx *C, int a, int b)
{
	if (fact_same_type(C, a, b))
		return true;
	int sa, sb;
	bool ga, gb;
	return a && b && fact_scalar(C, a, &sa, &ga) && fact_scalar(C, b, &sb, &gb) && sa == sb &&
	       ga == gb;
}

/* Two payloads (tcp.data, udp.data: layers of bytes with no steps on) read
** alike. */
static bool bytes_alike(struct ctx *C, const struct var *a, const struct var *b)
{
	return a->layer > 0 && b->layer > 0 && !C->facts.layer[a->layer].nsteps &&
	       !C->facts.layer[b->layer].nsteps && same_layout(C, a->ref, b->ref);
}

/* ... and met at a join, the join holds the plain `data` layer, whose writes
** mind no one checksum (pktwrite.c refuses them unless told to). */
static void bytes_join(struct ctx *C, struct var *jv, const struct var *cv)
{
	if (!is_pkt(jv) || !is_pkt(cv) || jv->layer == cv->layer || !bytes_alike(C, jv, cv))
		return;
	int data = fact_layer(C, "data");
	if (data > 0 && !C->facts.layer[data].nsteps)
		jv->layer = data;
}

/* A pointer arrives as cv where the layout (or the loop header) has jv, a
** pointer of the same kind: what it points to is read through the type
** (and the packet layer) jv records, on every path, so the two must agree.
** A map value (or a ringbuf record), a pointer read through probe_read, a
** direct packet pointer or a dissector's packet position: the code after
** the join indexes it one way whichever edge brought it. */
static void pointee_agree(struct ctx *C, const struct var *jv, const struct var *cv, int s, bool loop)
{
	const char *on = loop ? "turn of the loop" : "path";
	if (is_pkt(jv) && is_pkt(cv)) {
		if ((jv->layer != cv->layer && (loop || !bytes_alike(C, jv, cv))) ||
		    !same_layout(C, jv->ref, cv->ref))
			bpfc_fail(C, "variable %d holds one packet header (dissector) on one %s and "
				     "another on another: which header's fields it has must be known "
				     "at compile time; index each on its own %s",
				  s, on, on);
		return;
	}
	if (jv->kind != VK_RT || cv->kind != VK_RT || jv->ptr != cv->ptr || same_layout(C, jv->ref, cv->ref))
		return;
	if (jv->ptr == PK_MAPVAL)
		bpfc_fail(C, "variable %d holds values of one map on one %s and of another (a "
			     "different value type) on another: the type a map value is read as "
			     "must be known at compile time; read the value (v[0], v.field) on "
			     "each %s", s, on, on);
	if (jv->ptr == PK_PROBE || jv->ptr == PK_PKTPTR)
		bpfc_fail(C, "variable %d holds a pointer to one C type on one %s and to another "
			     "on another: the type it is read as must be known at compile time; "
			     "read through it on each %s", s, on, on);
}

/* A pointer read through probe_read (or an address computed from one)
** arrives as cv where the layout has jv: both in user memory or both in
** kernel memory, since the helper that reads through it is chosen at
** compile time; a user and a kernel pointer are never guessed between. */
static const char *space_words(const struct var *v)
{
	if (v->kind == VK_RT && v->ptr == PK_PROBE)
		return v->flags & VF_USER ? "a user pointer" : "a kernel pointer";
	return v->flags & VF_USER ? "an address in user memory" : v->flags & VF_KERNEL ? "an address in kernel memory" : "a number";
}

static void space_agree(struct ctx *C, const struct var *jv, const struct var *cv, int s, bool loop)
{
	bool jp = jv->kind == VK_RT && jv->ptr == PK_PROBE, cp = cv->kind == VK_RT && cv->ptr == PK_PROBE;
	bool differ;
	if (jp && cp)
		differ = (jv->flags ^ cv->flags) & VF_USER;
	else if (jv->kind == VK_RT && jv->ptr == PK_SCALAR && cv->kind == VK_RT && cv->ptr == PK_SCALAR)
		differ = (jv->flags ^ cv->flags) & VF_SPACE;
	else if (jv->kind == VK_RT && jv->ptr == PK_SCALAR && cv->kind == VK_NUM)
		differ = (jv->flags & VF_SPACE) && cv->num != 0; /* (NULL is NULL in both) */
	else
		return;
	if (differ)
		bpfc_fail(C, "variable %d holds %s on one %s and %s on another: which helper reads "
			     "through it (probe_read_user or probe_read_kernel) must be known at compile "
			     "time; read through it on each %s, or say which with bpf.user() or "
			     "bpf.kernel()",
			  s, space_words(jv), loop ? "turn of the loop" : "path", space_words(cv), loop ? "turn" : "path");
}

static bool is_number(const struct var *v)
{
	return !(v->flags & VF_BOOL) &&
	       (v->kind == VK_NUM || (v->kind == VK_RT && v->ptr == PK_SCALAR));
}

/* Must slot s, a map value here, be read into a number on this edge into
** target?  When the join holds a number there (a map value on one path and
** a number on another: `m[k] or 0`). */
static bool deref_wanted(struct ctx *C, int target, int s)
{
	if (!is_mapval(v_src(C, s)) || !bc_livein(C, target, s))
		return false;
	struct joinstate *j = join_get(C, target);
	if (j)
		return j->v[s].kind != VK_UNDEF && !is_mapval(&j->v[s]);
	return hinted_as(C, target, s, true);
}

bool v_join_needs_deref(struct ctx *C, int target)
{
	for (int s = 0; s < C->nslots; s++)
		if (deref_wanted(C, target, s))
			return true;
	return false;
}

/* Read those map values: the slot then holds the number (0 if it is NULL). */
static void join_deref(struct ctx *C, int target)
{
	for (int s = 0; s < C->nslots; s++) {
		if (!deref_wanted(C, target, s))
			continue;
		if (v_src(C, s)->flags & VF_NULL)
			bpfc_fail(C, "this value is a map value that may be nil on one path and a "
				     "number on another; test it (if v then ... end) or read it (v[0])");
		int t = C->tmp + 5;
		as_number(C, s, t);
		v_copy(C, s, t);
	}
}

static bool same_const(const struct var *a, const struct var *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case VK_NUM: /* false is not 0, a uint64 not an int64 */
		return a->num == b->num && !((a->flags ^ b->flags) & (VF_BOOL | VF_U64));
	case VK_PKT: case VK_STACK:
		return a->num == b->num && a->ref == b->ref;
	case VK_LUA:
		return a->ref == b->ref;
	default:
		return true;
	}
}

/* Slot's value into a register of its own (a copy stops being a shadow). */
static void own_register(struct ctx *C, int s)
{
	struct var *v = &C->v[s];
	int r = vreg_new(C);
	load_into(C, v_src(C, s), r);
	if (v->shadow < 0 && v->reg != NOREG && C->owner[v->reg] == s)
		C->owner[v->reg] = -1;
	if (v->shadow >= 0) {
		*v = *v_src(C, s);
		v->shadow = -1;
	}
	v->reg = (uint16_t)r;
	C->owner[r] = (int16_t)s;
}

/* First edge into target: record the layout, each live slot owning its value. */
static void join_record(struct ctx *C, int target)
{
	for (int s = 0; s < C->nslots; s++)
		if (bc_livein(C, target, s) && C->v[s].kind != VK_UNDEF && is_ctx(v_src(C, s)))
			ctx_flatten(C, s); /* it stays on ctx_reg, whatever the hints say */
	for (int s = 0; s < C->nslots; s++) {
		if (!bc_livein(C, target, s) || !hinted(C, target, s))
			continue;
		struct var *v = &C->v[s];
		if (is_ctx(v))
			continue;
		if (v->kind == VK_UNDEF)
			continue;
		if (v->shadow >= 0 || v->reg == NOREG || v->kind != VK_RT || v->reg == C->ctx_reg) {
			/* a register of its own (the context's must keep the context) */
			if (v->shadow >= 0 || v->reg == NOREG || v->reg == C->ctx_reg)
				own_register(C, s);
			/* a constant already in a register stays there, now as a run-time value
			** (it could otherwise lose the register to the next one) */
			if (v->kind != VK_RT) {
				if (v->kind == VK_NIL) /* nil is held as 0, false */
					v->flags = VF_BOOL | VF_MAYBENIL | VF_FALSE;
				else if (v->kind == VK_NUM && (v->flags & VF_BOOL))
					v->flags |= v->num ? VF_TRUE : VF_FALSE;
				v->ptr = v->kind == VK_PKT ? PK_PKTOFF : PK_SCALAR;
				v->kind = VK_RT;
			}
		}
	}
	struct joinstate *j = join_new(C, target);
	for (int s = 0; s < V_TOP(C); s++)
		j->v[s] = (struct var){.kind = VK_UNDEF, .reg = NOREG, .shadow = -1};
	for (int s = 0; s < C->nslots; s++) {
		if (!bc_livein(C, target, s) || C->v[s].kind == VK_UNDEF)
			continue;
		int root = v_root(C, s);
		if (root != s && (!bc_livein(C, target, root) || root >= C->nslots)) {
			/* the owner is not live there: the first live copy owns it */
			int heir = s;
			for (int t = 0; t < s; t++)
				if (bc_livein(C, target, t) && v_root(C, t) == root) {
					heir = t;
					break;
				}
			if (heir == s) {
				j->v[s] = C->v[root];
				j->v[s].shadow = -1;
			} else {
				j->v[s] = C->v[s];
				j->v[s].shadow = (int16_t)heir;
			}
		} else {
			j->v[s] = C->v[s];
		}
	}
}

/* Is register r where the recorded layout j keeps some value? */
static bool join_wants(const struct ctx *C, const struct joinstate *j, int r)
{
	for (int t = 0; t < C->nslots; t++)
		if (j->v[t].kind != VK_UNDEF && j->v[t].shadow < 0 && j->v[t].reg == r)
			return true;
	return false;
}

/* Make the current layout match the one recorded at target. */
static void join_match(struct ctx *C, struct joinstate *j, int target)
{
	uint16_t md[MAX_SLOTS], ms[MAX_SLOTS];
	int nm = 0;
	/* values that must stay but sit in a register the target wants for another */
	for (int s = 0; s < V_TOP(C); s++) {
		int r = C->v[s].reg;
		if (C->v[s].kind == VK_UNDEF || C->v[s].shadow >= 0 || r == NOREG || C->owner[r] != s ||
		    r == C->ctx_reg || !join_wants(C, j, r))
			continue; /* (ctx_reg keeps the context: the target wants it for a context value) */
		bool goes_there = false;
		for (int t = 0; t < C->nslots; t++)
			if (j->v[t].kind != VK_UNDEF && j->v[t].shadow < 0 && j->v[t].reg == r &&
			    v_root(C, t) == s)
				goes_there = true;
		if (goes_there)
			continue;
		bool needed_here = v_kept(C, s) ||
				   (s < C->nslots && (bc_live(C, C->pc, s) || bc_livein(C, target, s)));
		for (int t = 0; t < C->nslots && !needed_here; t++)
			if (C->v[t].shadow == s && (bc_live(C, C->pc, t) || bc_livein(C, target, t)))
				needed_here = true;
		if (!needed_here)
			continue;
		/* needed elsewhere in the target (a pmove source) or on the fallthrough */
		bool is_src = false;
		for (int t = 0; t < C->nslots; t++)
			if (j->v[t].kind != VK_UNDEF && j->v[t].shadow < 0 && j->v[t].reg != NOREG &&
			    v_root(C, t) == s && j->v[t].reg != r)
				is_src = true;
		if (is_src)
			continue;
		r_move(C, s, r, vreg_new(C));
	}
	/* register moves, as one parallel move */
	for (int s = 0; s < C->nslots; s++) {
		struct var *jv = &j->v[s];
		if (jv->kind == VK_UNDEF || jv->shadow >= 0 || jv->reg == NOREG)
			continue;
		struct var *cv = v_src(C, s);
		if (cv->reg != NOREG) {
			md[nm] = jv->reg;
			ms[nm++] = cv->reg;
		}
	}
	if (BROKEN(C, join_compensation))
		return;
	pmove(C, md, ms, nm);
	/* constants */
	for (int s = 0; s < C->nslots; s++) {
		struct var *jv = &j->v[s];
		if (jv->kind == VK_UNDEF || jv->shadow >= 0 || jv->reg == NOREG)
			continue;
		struct var *cv = v_src(C, s);
		if (cv->reg == NOREG)
			load_into(C, cv, jv->reg);
	}
	(void)target;
}

/* Flags of a value that arrives with flags a on one edge and b on another.
** A boolean (or nil, held as 0) on one edge and a number on the other cannot
** be told apart at run time: VF_MIXED makes a truth test of it an error. */
static bool always_true(uint16_t f)
{
	return (f & VF_TRUE) || !(f & (VF_BOOL | VF_MIXED));
}

/* The flags an edge brings for a value: nil and a boolean constant say what
** their truth is. */
static uint16_t edge_flags(const struct var *cv)
{
	return cv->kind == VK_NIL ? VF_BOOL | VF_MAYBENIL | VF_FALSE
	       : cv->kind == VK_NUM && (cv->flags & VF_BOOL) ? cv->flags | (cv->num ? VF_TRUE : VF_FALSE)
	       : cv->flags;
}

static uint16_t merge_flags(uint16_t a, uint16_t b)
{
	uint16_t r = (a | b) & (VF_NULL | VF_U64 | VF_MIXED | VF_MAYBENIL | VF_MOVED | VF_SPACE);
	r |= a & b & (VF_NONNEG | VF_NETORD | VF_BOOL | VF_FALSE | VF_DATALOC); /* false and nil: false */
	if ((a ^ b) & VF_BOOL)
		r |= VF_MIXED;
	if ((r & (VF_BOOL | VF_MIXED)) && always_true(a) && always_true(b))
		r |= VF_TRUE; /* true on one path, a number on another: true all the same */
	return r;
}

/* Check an edge against the recorded layout; conflicts restart the compile. */
static void join_check(struct ctx *C, struct joinstate *j, int target)
{
	for (int s = 0; s < C->nslots; s++) {
		struct var *jv = &j->v[s];
		if (jv->kind == VK_UNDEF)
			continue;
		struct var *cv = v_src(C, s);
		if (C->v[s].kind == VK_UNDEF)
			bpfc_fail(C, "variable %d may be used before it has a value", s);
		if (is_ctx(jv)) {
			ctx_agree(C, jv, cv, s, false);
			continue;
		}
		if (is_ctx(cv) && jv->reg != NOREG)
			bpfc_fail(C, "variable %d holds the context (or a member of it) on one path and "
				     "another value on another", s);
		if (jv->shadow < 0 && jv->reg == C->ctx_reg && cv->reg != C->ctx_reg)
			conflict(C, target, s); /* no move may overwrite the context */
		if (jv->shadow >= 0) {
			if (v_root(C, s) != v_root(C, jv->shadow))
				conflict(C, target, s);
			continue;
		}
		if (jv->reg == NOREG) {
			if (!same_const(jv, cv))
				conflict(C, target, s);
			continue;
		}
		/* both sides carry a run-time value now: merge what we know */
		if (cv->kind == VK_LUA)
			conflict(C, target, s);
		if (is_mapval(jv) && is_number(cv)) /* the first edge must read its map value */
			conflict_as(C, target, s, true);
		/* the code after the join reads a pointer through jv's type (and layer):
		** the same for what this edge brings, or no program */
		bytes_join(C, jv, cv);
		pointee_agree(C, jv, cv, s, false);
		space_agree(C, jv, cv, s, false);
		if (!same_const(jv, cv)) { /* the same constant on both edges stays one */
			if (jv->kind == VK_PKT || cv->kind == VK_PKT ||
			    (jv->kind == VK_RT && jv->ptr == PK_PKTOFF)) {
				if (!is_pkt(jv)) { /* what it points into is cv's */
					jv->ref = cv->ref;
					jv->layer = cv->layer;
				}
				jv->kind = VK_RT;
				jv->ptr = PK_PKTOFF;
			} else if (jv->kind != VK_RT || jv->ptr != cv->ptr || cv->kind != VK_RT) {
				if (jv->kind == VK_RT && cv->kind == VK_RT && jv->ptr != cv->ptr)
					bpfc_fail(C, "variable %d holds different kinds of pointers on "
						     "different paths", s);
				jv->kind = VK_RT;
				if (cv->kind == VK_RT && jv->ptr != cv->ptr) { /* what it points to: cv's */
					jv->ptr = cv->ptr;
					jv->ref = cv->ref;
					jv->layer = cv->layer;
				}
			}
		}
		/* what a test of its truth or a signed operation may assume: only what holds
		** on every edge */
		jv->flags = merge_flags(jv->flags, edge_flags(cv));
		jv->bits = jv->bits && cv->bits ? (jv->bits > cv->bits ? jv->bits : cv->bits) : 0;
		if (cv->width > jv->width)
			jv->width = cv->width;
	}
}

/* Adopt the recorded layout as the current one. */
static void join_adopt(struct ctx *C, struct joinstate *j)
{
	for (int s = 0; s < V_TOP(C); s++)
		C->v[s] = (struct var){.kind = VK_UNDEF, .reg = NOREG, .shadow = -1};
	for (int r = 0; r < C->nvregs; r++)
		C->owner[r] = -1;
	for (int s = 0; s < C->nslots; s++) {
		C->v[s] = j->v[s];
		if (j->v[s].kind != VK_UNDEF && j->v[s].shadow < 0 && j->v[s].reg != NOREG)
			C->owner[j->v[s].reg] = (int16_t)s;
	}
}

/* An edge from here to bytecode target (the branch is emitted by the caller). */
void v_join_edge(struct ctx *C, int target)
{
	join_deref(C, target);
	struct joinstate *j = join_get(C, target);
	if (!j) {
		join_record(C, target);
		return;
	}
	join_check(C, j, target);
	join_match(C, j, target);
	/* the fallthrough keeps its own extra values; the target's are now in place */
	for (int s = 0; s < C->nslots; s++) {
		struct var *jv = &j->v[s];
		if (jv->kind == VK_UNDEF || jv->shadow >= 0 || jv->reg == NOREG)
			continue;
		int root = v_root(C, s);
		struct var *cv = &C->v[root];
		if (cv->reg != jv->reg) {
			if (cv->reg != NOREG && C->owner[cv->reg] == root)
				C->owner[cv->reg] = -1;
			if (C->owner[jv->reg] >= 0 && C->owner[jv->reg] != root) {
				int o = C->owner[jv->reg];
				C->v[o].reg = NOREG;
			}
			cv->reg = jv->reg;
			C->owner[jv->reg] = (int16_t)root;
		}
	}
}

/* ---- loops ----
**
** A loop header is translated once, before the body, so what it assumes
** must hold on every turn.  Entering it, each live variable the loop
** writes goes to a register of its own, a run-time value that keeps what
** the entry knew of it (its flags, value range and width): the body is
** translated assuming those hold at the start of every turn.  A back edge
** checks that they still do, merged with what it brings: when the merge
** knows less (a value that may be NULL now, a wider range, a number where
** the entry had false), the compile starts again with the header assuming
** the merge (a loop hint), until the turns agree.  So the facts only
** weaken and the restarts end; by induction over the turns, what the body
** assumed holds on every one.  Variables the loop does not write stay as
** they are (a constant stays a constant).  The back edge moves its values
** where the header has them and jumps to the header's loop label, placed
** after the entry's own moves. */

static bool in_set(const uint64_t *set, int s)
{
	return (set[s >> 6] >> (s & 63)) & 1;
}

/* The value range a value is known to have (0: none): bits for a number. */
static int known_bits(const struct var *v)
{
	if (v->kind == VK_NUM || v->kind == VK_PKT)
		return v->num >= 0 ? bits_of(v->num) : 0;
	return v->kind == VK_RT ? v->bits : 0;
}


/* Entering loop header pc: the layout every turn starts from. */
static void loop_enter(struct ctx *C, int pc)
{
	int end = C->loopend[pc];
	uint64_t writes[MAX_SLOTS / 64];
	bc_writes(C, pc, end, writes);
	int64_t kval[MAX_SLOTS]; /* the constant a slot held before it got its register */
	bool kheld[MAX_SLOTS] = {false};
	for (int s = 0; s < C->nslots; s++) {
		if (!bc_livein(C, pc, s) || C->v[s].kind == VK_UNDEF)
			continue;
		int root = v_root(C, s);
		bool written = in_set(writes, s) || (root != s && root < C->nslots && in_set(writes, root));
		struct var *v = &C->v[s];
		if (!written && v->shadow < 0)
			continue;
		if (v->kind == VK_LUA || v->kind == VK_STACK)
			bpfc_fail(C, "a loop changes variable %d, which holds a Lua value or a stack "
				     "object: only numbers and pointers can change from turn to turn", s);
		if (is_ctx(v_src(C, s))) {
			ctx_flatten(C, s); /* every turn has it on ctx_reg (ctx_agree) */
		} else if (v->shadow >= 0 || v->reg == NOREG || v->reg == C->ctx_reg) {
			/* a for loop's variable starts as its index: a copy of the index's
			** register, so that the allocator can make the two one */
			int same = -1, t = s - 3;
			int op = C->bc[end].op;
			if ((op == OP_FORL || op == OP_IFORL) && C->bc[end].a == t && v->kind == VK_NUM &&
			    v->shadow < 0 && kheld[t] && kval[t] == v->num && C->v[t].reg != NOREG &&
			    !((C->v[t].flags ^ v->flags) & (VF_BOOL | VF_U64)))
				same = t;
			if (v->kind == VK_NUM && v->shadow < 0) {
				kheld[s] = true;
				kval[s] = v->num;
			}
			if (same >= 0) {
				int from = C->v[same].reg;
				int r = vreg_new(C); /* from stays where it is */
				emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, from, 0, 0);
				v->reg = (uint16_t)r;
				C->owner[r] = (int16_t)s;
			} else {
				own_register(C, s);
			}
		}
		if (!written)
			continue; /* a copy the loop leaves alone: its own register is enough */
		uint16_t f = edge_flags(v);
		int bits = known_bits(v);
		if (v->kind != VK_RT) {
			v->ptr = v->kind == VK_PKT ? PK_PKTOFF : PK_SCALAR;
			v->kind = VK_RT;
			v->num = 0;
		}
		struct hint *h = loop_hint(C, pc, s);
		v->flags = h ? h->flags : f;
		v->bits = (uint8_t)(h ? h->bits : bits);
		if (h && h->width > v->width)
			v->width = h->width;
	}
	/* what the header does not keep is gone: a later turn does not have it,
	** so the body must not read it */
	for (int s = 0; s < V_TOP(C); s++)
		if (C->v[s].kind != VK_UNDEF && (s >= C->nslots || !bc_livein(C, pc, s)))
			v_def(C, s);
	struct joinstate *j = join_new(C, pc);
	C->loopidx[pc] = C->joinidx[pc];
	C->joinidx[pc] = -1; /* the forward join, if any, is done with */
	for (int s = 0; s < V_TOP(C); s++)
		j->v[s] = (struct var){.kind = VK_UNDEF, .reg = NOREG, .shadow = -1};
	for (int s = 0; s < C->nslots; s++)
		if (bc_livein(C, pc, s) && C->v[s].kind != VK_UNDEF)
			j->v[s] = C->v[s];
	memcpy(j->written, writes, sizeof(writes));
	C->looplabel[pc] = label_new(C);
	emit_label(C, C->looplabel[pc]);
}

/* A turn of the loop brings less than its header assumed about slot:
** compile again, the header assuming flags (and width). */
__attribute__((noreturn)) static void loop_conflict(struct ctx *C, int header, int slot,
						    uint16_t flags, uint8_t width, uint8_t bits)
{
	struct hint *h = loop_hint(C, header, slot);
	if (!h) {
		if (C->nhints >= MAX_HINTS)
			bpfc_fail(C, "the turns of this loop cannot agree on variable %d", slot);
		h = &C->hints[C->nhints++];
		*h = (struct hint){.target_bc = header, .slot = slot, .loop = true};
	} else if (h->flags == flags && h->width >= width && h->bits == bits) {
		bpfc_fail(C, "internal: a loop hint that changes nothing (variable %d)", slot);
	} else if (h->bits && bits != h->bits) {
		bits = 0; /* a range that grew twice grows every turn: no range (widening) */
	}
	h->flags = flags;
	h->bits = bits;
	if (width > h->width)
		h->width = width;
	C->restart = true;
	longjmp(C->jb, 2);
}

/* A back edge to loop header (the jump is emitted by the caller, to
** C->looplabel[header]): check what it brings, then move it in place. */
void v_loop_edge(struct ctx *C, int header)
{
	if (C->loopidx[header] < 0)
		bpfc_fail(C, "internal: a back edge to a loop header never entered");
	struct joinstate *j = &C->jpool[C->loopidx[header]];
	for (int s = 0; s < C->nslots; s++) {
		struct var *jv = &j->v[s];
		if (jv->kind == VK_UNDEF)
			continue;
		if (C->v[s].kind == VK_UNDEF)
			bpfc_fail(C, "variable %d may be used before it has a value", s);
		struct var *cv = v_src(C, s);
		if (!in_set(j->written, s))
			continue; /* its value is the one the header saw; join_match puts it back */
		if (jv->kind != VK_RT)
			bpfc_fail(C, "internal: loop variable %d has no register at the header", s);
		if (is_ctx(jv)) {
			ctx_agree(C, jv, cv, s, true);
			continue;
		}
		int ptr = cv->kind == VK_RT ? cv->ptr
			  : cv->kind == VK_PKT ? PK_PKTOFF
			  : cv->kind == VK_NUM || cv->kind == VK_NIL ? PK_SCALAR : -1;
		if (ptr != jv->ptr)
			bpfc_fail(C, "variable %d holds different kinds of values on different turns "
				     "of the loop (a number, a packet position, a map value): keep it "
				     "one kind", s);
		/* the body was translated reading it through the header's type: each
		** lookup, each dissector, has a ref of its own, so the types are compared */
		pointee_agree(C, jv, cv, s, true);
		space_agree(C, jv, cv, s, true);
		uint16_t merged = merge_flags(jv->flags, edge_flags(cv));
		int cb = known_bits(cv);
		int bits = jv->bits && cb ? (jv->bits > cb ? jv->bits : cb) : 0;
		if ((merged != jv->flags || cv->width > jv->width || bits != jv->bits) &&
		    !BROKEN(C, loop_facts))
			loop_conflict(C, header, s, merged, cv->width > jv->width ? cv->width : jv->width,
				      (uint8_t)bits);
	}
	join_match(C, j, header);
}

/* Arriving at bytecode pc: settle the layout and resolve pending jumps. */
void v_join_enter(struct ctx *C, int pc)
{
	struct joinstate *j = join_get(C, pc);
	if (j) {
		if (C->reachable) {
			join_deref(C, pc);
			join_check(C, j, pc);
			join_match(C, j, pc);
		}
		join_adopt(C, j);
	}
	bool any = C->jumped[pc]; /* forward jumps to pc: all are emitted by now */
	if (any)
		emit_label(C, pc);
	if (C->loopend[pc] && pc != C->not_a_header && (any || j || C->reachable)) {
		C->reachable = true;
		loop_enter(C, pc);
	}
	if (any || j)
		C->reachable = true;
}
