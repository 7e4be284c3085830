/*
** a = b[k] and b[k] = a: on maps, packet dissectors, the context, map
** values, stack objects, probed pointers and compile-time Lua tables.
*/
#include <string.h>
#include "core.h"

static uint8_t size_code(struct ctx *C, int size)
{
	if (bpf_size(size) >= 0)
		return (uint8_t)bpf_size(size);
	bpfc_fail(C, "a load or store of %d bytes: only 1, 2, 4 and 8 can be done at once", size);
}

/* The key as a slot: constants get a temporary. */
static int key_slot(struct ctx *C, int keyslot, int keyref, int64_t keynum, int keykind)
{
	if (keykind == 0)
		return keyslot;
	int t = C->tmp + 2;
	if (keykind == 2)
		v_const(C, t, keynum);
	else {
		k_push(C, keyref);
		v_set_lua(C, t, -1);
		lua_pop(C->L, 1);
	}
	return t;
}

static bool is_map(struct ctx *C, const struct var *v)
{
	return v->kind == VK_LUA && fact_map(C, v->ref);
}

/* dst, in rd, holds f's bytes as loaded: make them its number (byte order,
** bitfield, sign) and say what is known of it. */
void scalar_read(struct ctx *C, int dst, int rd, const struct cfield *f, bool netorder)
{
	int flags = f->issigned ? 0 : f->size == 8 && f->bpos < 0 ? VF_U64 : VF_NONNEG;
	if (f->size > 1 && netorder) /* packet memory is big-endian: read it as a number */
		emit(C, BPF_ALU | BPF_END | BPF_TO_BE, rd, 0, 0, f->size * 8);
	if (f->bpos >= 0 && f->issigned) { /* a signed bitfield: its top bit is the sign */
		int low = netorder ? f->size * 8 - f->bpos - f->bsize : f->bpos;
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rd, 0, 0, 64 - low - f->bsize);
		emit(C, BPF_ALU64 | BPF_ARSH | BPF_K, rd, 0, 0, 64 - f->bsize);
	} else if (f->bpos >= 0) {
		int shift = netorder ? f->size * 8 - f->bpos - f->bsize : f->bpos;
		if (shift)
			emit(C, BPF_ALU64 | BPF_RSH | BPF_K, rd, 0, 0, shift);
		emit(C, BPF_ALU64 | BPF_AND | BPF_K, rd, 0, 0, (int32_t)((1u << f->bsize) - 1));
	} else if (f->issigned && f->size < 8) { /* sign-extend to 64 bits */
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rd, 0, 0, 64 - f->size * 8);
		emit(C, BPF_ALU64 | BPF_ARSH | BPF_K, rd, 0, 0, 64 - f->size * 8);
	}
	v_rt(C, dst, rd, PK_SCALAR, f->size, flags | (netorder ? VF_NETORD : 0));
	C->v[dst].reg = (uint16_t)rd;
	if (!f->issigned && f->size < 8)
		C->v[dst].bits = (uint8_t)(f->bpos >= 0 ? f->bsize : f->size * 8);
}

/* dst = <value at [reg + off]>, extracting a bitfield when asked. */
static void load_scalar(struct ctx *C, int dst, int reg, int off, const struct cfield *f,
			bool netorder)
{
	v_def(C, dst);
	int rd = v_newreg(C, dst);
	emit(C, BPF_LDX | BPF_MEM | size_code(C, f->size), rd, reg, (int16_t)off, 0);
	scalar_read(C, dst, rd, f, netorder);
}

/* A packet header member: bitfields count from the most significant bit. */
static void pk_member(struct ctx *C, int dst, int base, const struct cfield *f)
{
	pk_load(C, dst, base, f->off, f->size, -1);
	if (f->bpos < 0)
		return;
	int rd = C->v[dst].reg;
	int shift = f->size * 8 - f->bpos - f->bsize;
	if (shift)
		emit(C, BPF_ALU64 | BPF_RSH | BPF_K, rd, 0, 0, shift);
	emit(C, BPF_ALU64 | BPF_AND | BPF_K, rd, 0, 0, (int32_t)((1u << f->bsize) - 1));
}

/* buf[i] = src (dst < 0) or dst = buf[i] with a run-time i, on a stack
** array of numbers: i is checked against the array's length first (an index
** outside it reads 0 and writes nothing, as README says), so the verifier
** sees an access inside the array. */
static void stack_at(struct ctx *C, int base, int keyslot, int dst, int src)
{
	struct var *b = v_src(C, base);
	int esize = 0, size = 0;
	bool sg = false;
	int elem = b->ref ? fact_elem(C, b->ref, &esize) : 0;
	if (!elem || !fact_scalar(C, elem, &size, &sg) || size != esize ||
	    (esize != 1 && esize != 2 && esize != 4 && esize != 8))
		bpfc_fail(C, "a run-time index works on a stack array of numbers "
			     "(ffi.new('uint8_t[16]')); index anything else with a constant");
	int total = fact_sizeof(C, b->ref);
	if (total < esize)
		bpfc_fail(C, "a run-time index into an array of unknown length");
	int frame = (int)b->num; /* the array is at fp - frame */
	check_scalar(C, keyslot, "an array index");
	int rk = v_reg(C, keyslot);
	int rs = -1;
	if (dst < 0) {
		rs = v_reg(C, src);
	}
	int t = r_scratch(C);
	int rd = -1;
	if (dst >= 0) {
		v_def(C, dst);
		rd = v_newreg(C, dst);
	}
	int done = label_new(C);
	if (rd >= 0)
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, rd, 0, 0, 0);
	/* unsigned: a negative index is a huge one */
	emit_jmp(C, BPF_JMP | BPF_JGE | BPF_K, rk, 0, total / esize, done);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, rk, 0, 0);
	if (esize > 1)
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, t, 0, 0, __builtin_ctz((unsigned)esize));
	emit(C, BPF_ALU64 | BPF_ADD | BPF_X, t, BPF_REG_10, 0, 0);
	if (rd < 0) {
		emit(C, BPF_STX | BPF_MEM | size_code(C, size), t, rs, (int16_t)-frame, 0);
		emit_label(C, done);
		return;
	}
	emit(C, BPF_LDX | BPF_MEM | size_code(C, size), rd, t, (int16_t)-frame, 0);
	struct cfield f = {.size = size, .issigned = sg, .bpos = -1}; /* 0 outside: the same facts */
	scalar_read(C, dst, rd, &f, false);
	emit_label(C, done);
}

/* How an index into memory is checked (member()). */
enum memkind {
	MEM_PACKET,  /* a dissector: an index outside the packet reads 0 at run time */
	MEM_BOUNDED, /* the stack, a map value, the context: inside the object or an error */
	MEM_POINTER, /* memory behind a pointer: any offset the instruction can hold */
};

/* A member of a struct held somewhere: what it is and where. */
static void member(struct ctx *C, int ctype, int keyref, int64_t keynum, int keykind,
		   struct cfield *f, enum memkind kind)
{
	if (keykind == 1) {
		const char *name;
		size_t len;
		k_isstring(C, keyref, &name, &len);
		if (!ctype || !fact_member(C, ctype, name, f))
			bpfc_fail(C, "no field '%s' in this type", name);
		return;
	}
	if (keykind != 2)
		bpfc_fail(C, "indexing memory needs a constant index");
	int esize = 1;
	int elem = ctype ? fact_elem(C, ctype, &esize) : 0;
	if (!elem)
		esize = 1; /* a struct indexed by byte, like a dissector: pkt[23] */
	memset(f, 0, sizeof(*f));
	f->bpos = -1;
	if (elem && fact_is_pointer(C, ctype)) {
		/* the object is itself a pointer (p of `char **`): p[i] is the
		** i-th pointer, never a byte of what the first one points to */
		int64_t poff = keynum * 8;
		if (poff < INT16_MIN || poff > INT16_MAX)
			bpfc_fail(C, "index %lld is too far for a pointer array", (long long)keynum);
		if (kind != MEM_POINTER)
			bpfc_fail(C, "indexing a pointer held here: cast it first (ffi.cast)");
		*f = (struct cfield){.off = (int)poff, .size = 8, .bpos = -1, .isptr = true,
				     .ctype = elem};
		return;
	}
	int size = esize;
	bool sg = false;
	if (elem && fact_scalar(C, elem, &size, &sg)) {
		f->size = size;
		f->issigned = sg;
	} else if (!elem && ctype && fact_scalar(C, ctype, &size, &sg)) {
		f->size = size; /* v[0] on a scalar value */
		f->issigned = sg;
		esize = size;
	} else if (elem) {
		f->isagg = true;
		f->size = esize;
	} else {
		f->size = 1;
	}
	f->ctype = elem;
	bool fits = keynum >= -(1 << 24) && keynum <= (1 << 24); /* so that off fits an int */
	int64_t off = fits ? keynum * esize : 0;
	if (kind == MEM_PACKET) {
		f->off = fits && off >= INT32_MIN && off <= INT32_MAX ? (int)off : INT32_MAX;
		return;
	}
	int total = kind == MEM_BOUNDED && ctype ? fact_sizeof(C, ctype) : -1;
	if (!fits || (total >= 0 && (off < 0 || off + f->size > total)) ||
	    off < INT16_MIN || off > INT16_MAX)
		bpfc_fail(C, "index %lld is outside this %s", (long long)keynum,
			  total >= 0 ? "object" : "memory the program can reach at once");
	f->off = (int)off;
}

/* skb.data and skb.data_end are pointers in a u32's clothing. */
static bool ctx_packet_ptr(struct ctx *C, int dst, int base, int keyref, int keykind)
{
	if (keykind != 1)
		return false;
	const char *name;
	size_t len;
	k_isstring(C, keyref, &name, &len);
	bool end = !strcmp(name, "data_end");
	if (strcmp(name, "data") && !end)
		return false;
	struct cfield f;
	if (!fact_member(C, v_src(C, base)->ref, name, &f))
		return false;
	int rb = v_reg(C, base);
	v_def(C, dst);
	int rd = v_newreg(C, dst);
	emit(C, BPF_LDX | BPF_MEM | BPF_W, rd, rb, (int16_t)f.off, 0);
	v_rt(C, dst, rd, end ? PK_PKTEND : PK_PKTPTR, 8, 0);
	return true;
}

/* dissector.field, dissector.layer, dissector[i]: a member is read from the
** packet; a struct or array member of a constant-offset dissector is itself a
** dissector there. */
static void pk_index(struct ctx *C, int dst, int base, int keyslot, int keyref, int64_t keynum,
		     int keykind)
{
	struct var *b = v_src(C, base);
	struct cfield f;
	if (keykind == 0) { /* a byte at a run-time index */
		pk_load(C, dst, base, 0, 1, keyslot);
		return;
	}
	if (keykind == 1) {
		const char *name;
		size_t len;
		k_isstring(C, keyref, &name, &len);
		if (!b->ref || !fact_member(C, b->ref, name, &f)) {
			pk_field(C, dst, base, name);
			return;
		}
	} else {
		member(C, b->ref, keyref, keynum, keykind, &f, MEM_PACKET);
	}
	if (f.isagg) {
		if (b->kind != VK_PKT)
			bpfc_fail(C, "a struct or array member of a dissector at a run-time offset");
		struct var keep = *b;
		v_def(C, dst);
		C->v[dst] = keep;
		C->v[dst].shadow = -1;
		C->v[dst].reg = NOREG;
		C->v[dst].num += f.off;
		C->v[dst].ref = f.ctype;
		C->v[dst].layer = 0;
		return;
	}
	pk_member(C, dst, base, &f);
}

/* A map indexed from the program: [key] only, the key as a slot. */
static int map_key(struct ctx *C, int keyslot, int keyref, int64_t keynum, int keykind)
{
	if (keykind == 1)
		bpfc_fail(C, "a map is indexed with [key], not .name");
	return key_slot(C, keyslot, keyref, keynum, keykind);
}

/* A key held in a slot but known at compile time is a constant key. */
static void const_key(struct ctx *C, int keyslot, int64_t *keynum, int *keykind)
{
	struct var *k = *keykind == 0 ? v_src(C, keyslot) : NULL;
	if (k && k->kind == VK_NUM) {
		/* a uint64 past 2^63 is a huge index, not a negative one */
		*keynum = (k->flags & VF_U64) && k->num < 0 ? INT64_MAX : k->num;
		*keykind = 2;
	}
}

void tr_index(struct ctx *C, int dst, int base, int keyslot, int keyref, int64_t keynum,
	      int keykind)
{
	struct var *b = v_src(C, base);
	struct cfield f;
	if (!is_map(C, b) && b->kind != VK_LUA) /* memory: a constant index is an offset */
		const_key(C, keyslot, &keynum, &keykind);
	if (is_map(C, b)) {
		map_lookup(C, dst, base, map_key(C, keyslot, keyref, keynum, keykind));
		return;
	}
	switch (b->kind) {
	case VK_LUA: {
		lua_State *L = C->L;
		int ks = key_slot(C, keyslot, keyref, keynum, keykind);
		struct var *kv = v_src(C, ks);
		k_push(C, b->ref);
		if (kv->kind == VK_NUM)
			lua_pushnumber(L, (lua_Number)kv->num);
		else if (kv->kind == VK_LUA)
			k_push(C, kv->ref);
		else
			bpfc_fail(C, "a Lua table (or other Lua value) is indexed with a run-time "
				     "key; use a map instead");
		fact_index(C, "indexing a Lua value at compile time"); /* with its metamethods */
		v_set_lua(C, dst, -1);
		lua_pop(L, 1);
		return;
	}
	case VK_PKT:
		pk_index(C, dst, base, keyslot, keyref, keynum, keykind);
		return;
	case VK_STACK:
		if (keykind == 0) {
			stack_at(C, base, keyslot, dst, -1);
			return;
		}
		member(C, b->ref, keyref, keynum, keykind, &f, MEM_BOUNDED);
		if (atomic_place(C, dst, base, &f)) /* the place an atomic updates */
			return;
		if (f.isptr)
			bpfc_fail(C, "pointer members of stack objects are not supported");
		if (f.isagg) {
			struct var keep = *b;
			v_def(C, dst);
			C->v[dst] = keep;
			C->v[dst].shadow = -1;
			C->v[dst].num -= f.off;
			C->v[dst].ref = f.ctype;
			return;
		}
		load_scalar(C, dst, BPF_REG_10, (int)-b->num + f.off, &f, false);
		return;
	case VK_RT:
		break;
	default:
		bpfc_fail(C, "cannot index this value (nil or a number)");
	}
	switch (b->ptr) {
	case PK_PKTOFF:
		pk_index(C, dst, base, keyslot, keyref, keynum, keykind);
		return;
	case PK_CTX:
		if (ctx_packet_ptr(C, dst, base, keyref, keykind))
			return;
		member(C, b->ref, keyref, keynum, keykind, &f, MEM_BOUNDED);
		f.off += (int)b->num; /* inside an array or struct member of the context */
		if (f.isagg) {
			/* the verifier refuses moved context pointers: keep ctx_reg, add the offset
			** later (var.c keeps every context value on ctx_reg, through joins too) */
			if (b->reg != C->ctx_reg || !C->ctx_pinned)
				bpfc_fail(C, "internal: a context value off the context register");
			v_def(C, dst);
			C->v[dst] = (struct var){.kind = VK_RT, .ptr = PK_CTX, .reg = (uint16_t)C->ctx_reg, .shadow = -1,
						 .width = 8, .num = f.off, .ref = f.ctype};
			return;
		}
		{
			int rb = v_reg(C, base);
			if (f.isptr) {
				int pointee = f.ctype;
				struct cfield g = f;
				g.size = 8;
				g.bpos = -1;
				load_scalar(C, dst, rb, f.off, &g, false);
				C->v[dst].ptr = PK_PROBE;
				C->v[dst].ref = pointee;
				C->v[dst].flags = f.isuser ? VF_USER : 0; /* a syscall's argument: user memory */
				if (f.ctxarg)
					btf_ctx_arg(C, dst, &f); /* a tracing argument: maybe a BTF pointer */
				return;
			}
			int wire = f.bpos < 0 ? ctx_wire(C, f.off, f.size) : 0;
			if (wire && wire < f.size) { /* sock_addr.user_port: a be16 in a u32 */
				v_def(C, dst);
				int rd = v_newreg(C, dst);
				emit(C, BPF_LDX | BPF_MEM | size_code(C, f.size), rd, rb, (int16_t)f.off, 0);
				struct cfield g = f;
				g.size = wire;
				scalar_read(C, dst, rd, &g, true);
				return;
			}
			load_scalar(C, dst, rb, f.off, &f, wire > 0);
			if (f.isdataloc && f.size == 4) /* ffi.copy(buf, arg.filename) reads its string */
				C->v[dst].flags |= VF_DATALOC;
		}
		return;
	case PK_MAPVAL: {
		member(C, b->ref, keyref, keynum, keykind, &f, MEM_BOUNDED);
		if (atomic_place(C, dst, base, &f)) /* the place an atomic updates */
			return;
		if (f.isagg) { /* a pointer to the member, inside the same value */
			if (b->flags & VF_NULL)
				bpfc_fail(C, "check the map value for nil before taking a member of it");
			int flags = b->flags;
			int rd = alu_dst(C, dst, base);
			if (f.off)
				emit(C, BPF_ALU64 | BPF_ADD | BPF_K, rd, 0, 0, f.off);
			C->v[dst].ptr = PK_MAPVAL;
			C->v[dst].flags = (uint16_t)flags;
			C->v[dst].ref = f.ctype;
			return;
		}
		int skip = null_guard(C, base);
		int rb = v_reg(C, base);
		load_scalar(C, dst, rb, f.off, &f, false);
		if (skip >= 0) { /* when NULL the result is 0 */
			int done = label_new(C);
			emit_ja(C, done);
			emit_label(C, skip);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_K, C->v[dst].reg, 0, 0, 0);
			emit_label(C, done);
		}
		return;
	}
	case PK_PROBE:
		member(C, b->ref, keyref, keynum, keykind, &f, MEM_POINTER);
		if (f.kernel) { /* a kernel type's member (bpf.btf) */
			btf_load(C, dst, base, &f);
			return;
		}
		mem_load(C, dst, base, &f);
		return;
	case PK_PKTPTR:
		member(C, b->ref, keyref, keynum, keykind, &f, MEM_POINTER);
		load_scalar(C, dst, v_reg(C, base), f.off, &f, true);
		return;
	default:
		bpfc_fail(C, "cannot index this run-time value (it is a number, not a pointer)");
	}
}

/* Store slot src's value (or constant) at [reg + off] of the given size. */
static void store(struct ctx *C, int reg, int off, int size, int src)
{
	struct var *s = v_src(C, src);
	if (s->kind == VK_NUM && s->num >= INT32_MIN && s->num <= INT32_MAX && s->reg == NOREG) {
		emit(C, BPF_ST | BPF_MEM | size_code(C, size), reg, 0, (int16_t)off, (int32_t)s->num);
		return;
	}
	if (s->kind == VK_NIL) {
		emit(C, BPF_ST | BPF_MEM | size_code(C, size), reg, 0, (int16_t)off, 0);
		return;
	}
	if (s->kind == VK_RT && s->ptr == PK_MAPVAL)
		bpfc_fail(C, "storing a map value pointer; index it first (v[0] or v.field)");
	int rs = v_peek(C, src);
	emit(C, BPF_STX | BPF_MEM | size_code(C, size), reg, rs, (int16_t)off, 0);
}

/* dissector.field = v, dissector[i] = v: a store into the packet (pktwrite.c). */
static void packet_store(struct ctx *C, int base, int keyref, int64_t keynum, int keykind, int src)
{
	struct var *b = v_src(C, base);
	struct cfield f;
	if (keykind == 0)
		bpfc_fail(C, "a packet write at a run-time index: write a field, or a byte at a constant index");
	if (keykind == 1) {
		const char *name;
		size_t len;
		k_isstring(C, keyref, &name, &len);
		if (!b->ref || !fact_member(C, b->ref, name, &f))
			bpfc_fail(C, "cannot assign '%s': it is no field of this header", name);
	} else {
		member(C, b->ref, keyref, keynum, keykind, &f, MEM_PACKET);
		if (f.off == INT32_MAX)
			bpfc_fail(C, "a packet write at index %lld: outside any packet", (long long)keynum);
	}
	pk_store(C, base, &f, src);
}

void tr_newindex(struct ctx *C, int base, int keyslot, int keyref, int64_t keynum, int keykind,
		 int src)
{
	struct var *b = v_src(C, base);
	struct cfield f;
	if (!is_map(C, b) && b->kind != VK_LUA) /* memory: a constant index is an offset */
		const_key(C, keyslot, &keynum, &keykind);
	if (is_map(C, b)) {
		int ks = map_key(C, keyslot, keyref, keynum, keykind);
		if (v_src(C, src)->kind == VK_NIL)
			map_delete(C, base, ks);
		else
			map_update(C, base, ks, src);
		return;
	}
	switch (b->kind) {
	case VK_PKT:
		packet_store(C, base, keyref, keynum, keykind, src);
		return;
	case VK_STACK:
		if (keykind == 0) {
			stack_at(C, base, keyslot, -1, src);
			return;
		}
		member(C, b->ref, keyref, keynum, keykind, &f, MEM_BOUNDED);
		if (f.isagg || f.bpos >= 0)
			bpfc_fail(C, "cannot assign an aggregate or bitfield member");
		store(C, BPF_REG_10, (int)-b->num + f.off, f.size, src);
		return;
	case VK_RT:
		if (b->ptr == PK_CTX) {
			member(C, b->ref, keyref, keynum, keykind, &f, MEM_BOUNDED);
			ctx_store(C, base, &f, src);
			return;
		}
		if (b->ptr == PK_PKTOFF) {
			packet_store(C, base, keyref, keynum, keykind, src);
			return;
		}
		if (b->ptr == PK_PKTPTR) {
			member(C, b->ref, keyref, keynum, keykind, &f, MEM_POINTER);
			pk_pointer_store(C, base, &f, src);
			return;
		}
		if (b->ptr == PK_MAPVAL) {
			member(C, b->ref, keyref, keynum, keykind, &f, MEM_BOUNDED);
			if (f.isagg || f.bpos >= 0)
				bpfc_fail(C, "cannot assign an aggregate or bitfield member");
			int skip = null_guard(C, base);
			store(C, v_reg(C, base), f.off, f.size, src);
			if (skip >= 0)
				emit_label(C, skip);
			return;
		}
		break;
	case VK_LUA:
		bpfc_fail(C, "cannot change a Lua table from a BPF program; use a map");
	default:
		break;
	}
	bpfc_fail(C, "cannot assign into this value (only maps, map values, stack objects, the context and the packet)");
}
