/*
** Memory the program reaches through helpers or the packet: map lookups and
** updates, NULL guards, classic packet loads and dissector layers, probe reads.
*/
#include <string.h>
#include "core.h"

static const struct mapfacts *map_facts(struct ctx *C, int mapref)
{
	const struct mapfacts *m = fact_map(C, mapref);
	if (!m)
		bpfc_fail(C, "internal: a map operation on a value that is not a map");
	return m;
}

static int key_size(struct ctx *C, int mapref)
{
	const struct mapfacts *m = map_facts(C, mapref);
	if (!m->has_key_size)
		bpfc_fail(C, "map object has no 'key_size'");
	return m->key_size;
}

static int val_size(struct ctx *C, int mapref)
{
	const struct mapfacts *m = map_facts(C, mapref);
	if (!m->has_val_size)
		bpfc_fail(C, "map object has no 'val_size'");
	return m->val_size;
}

/* The program's number for a map (0, 1, ... in order of first use). */
static int map_index(struct ctx *C, int mapref)
{
	k_push(C, mapref);
	for (int m = 0; m < C->nmaps; m++) {
		k_push(C, C->map_ref[m]);
		bool same = lua_rawequal(C->L, -1, -2);
		lua_pop(C->L, 1);
		if (same) {
			lua_pop(C->L, 1);
			return m;
		}
	}
	lua_pop(C->L, 1);
	if (C->nmaps == MAX_MAPS)
		bpfc_fail(C, "a program can use at most %d maps", MAX_MAPS);
	C->map_ref[C->nmaps] = mapref;
	return C->nmaps++;
}

/* The map's address: a relocation (encode makes it an lddw whose imm the
** loader fills in), so that compiling needs no kernel. */
void emit_map_fd(struct ctx *C, int reg, int mapref)
{
	emit_map(C, reg, map_index(C, mapref));
}

static uint8_t size_code(int size)
{
	return (uint8_t)bpf_size(size); /* (the callers' sizes are 1, 2, 4 or 8) */
}

/* Put a key or value on the stack; returns its frame offset (object at fp - off). */
static int stage(struct ctx *C, int slot, int size, const char *what)
{
	struct var *v = v_src(C, slot);
	if (v->kind == VK_STACK) {
		if (v->ref && fact_sizeof(C, v->ref) < size)
			bpfc_fail(C, "%s is smaller than the map's %s size (%d bytes)", what, what, size);
		return (int)v->num;
	}
	if (v->kind == VK_LUA)
		bpfc_fail(C, "a Lua value cannot be a map %s", what);
	if (v->kind == VK_RT && v->ptr == PK_MAPVAL)
		bpfc_fail(C, "a map value pointer cannot be a map %s; index it first", what);
	if (size != 1 && size != 2 && size != 4 && size != 8)
		bpfc_fail(C, "map %s of %d bytes needs a struct built with ffi.new", what, size);
	int off = stack_alloc(C, size);
	if (v->kind == VK_NUM && v->reg == NOREG && v->num >= INT32_MIN && v->num <= INT32_MAX)
		emit(C, BPF_ST | BPF_MEM | size_code(size), BPF_REG_10, 0, (int16_t)-off,
		     (int32_t)v->num);
	else {
		int r = v_peek(C, slot);
		emit(C, BPF_STX | BPF_MEM | size_code(size), BPF_REG_10, r, (int16_t)-off, 0);
	}
	return off;
}

/* R1 = the map, R2 = &key. */
static void map_args(struct ctx *C, int mapref, int koff)
{
	emit_map_fd(C, BPF_REG_1, mapref);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -koff);
}

void map_lookup(struct ctx *C, int dst, int mapslot, int keyslot)
{
	int mapref = v_src(C, mapslot)->ref;
	map_args(C, mapref, stage(C, keyslot, key_size(C, mapref), "key"));
	emit_call(C, BPF_FUNC_map_lookup_elem, -1);
	v_def(C, dst);
	v_rt(C, dst, BPF_REG_0, PK_MAPVAL, 8, VF_NULL);
	C->v[dst].ref = fact_val_type(C, map_facts(C, mapref));
}

void map_update(struct ctx *C, int mapslot, int keyslot, int valslot)
{
	int mapref = v_src(C, mapslot)->ref;
	int koff = stage(C, keyslot, key_size(C, mapref), "key");
	int voff = stage(C, valslot, val_size(C, mapref), "value");
	map_args(C, mapref, koff);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -voff);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_ANY);
	emit_call(C, BPF_FUNC_map_update_elem, -1);
}

void map_delete(struct ctx *C, int mapslot, int keyslot)
{
	int mapref = v_src(C, mapslot)->ref;
	map_args(C, mapref, stage(C, keyslot, key_size(C, mapref), "key"));
	emit_call(C, BPF_FUNC_map_delete_elem, -1);
}

/* A map value not yet checked for NULL gets a jump over the access; returns
** its label, for the caller to place once the access is out (-1: no jump). */
int null_guard(struct ctx *C, int slot)
{
	struct var *v = v_src(C, slot);
	if (!(v->kind == VK_RT && v->ptr == PK_MAPVAL && (v->flags & VF_NULL)) || BROKEN(C, null_guard))
		return -1;
	int r = v_reg(C, slot);
	int skip = label_new(C);
	emit_jmp(C, BPF_JMP | BPF_JEQ | BPF_K, r, 0, 0, skip);
	return skip;
}

/* ---- packet ---- */

/* A run-time packet offset (or index) in register r, of unknown range, made
** safe to add to: kept when it lies in [-2^31, 2^31) (uint64: [0, 2^31)), else
** replaced by 2^31 - 1, which is past the end of any packet, so that a sum
** cannot wrap around into the packet.  Returns the register that holds it. */
int pk_clamp(struct ctx *C, int r, bool u64)
{
	if (BROKEN(C, pkt_bounds))
		return r;
	int t = r_scratch(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, r, 0, 0);
	if (!u64)
		emit(C, BPF_ALU64 | BPF_SUB | BPF_K, t, 0, 0, INT32_MIN);
	emit(C, BPF_ALU64 | BPF_RSH | BPF_K, t, 0, 0, u64 ? 31 : 32);
	int in_range = label_new(C);
	emit_jmp(C, BPF_JMP | BPF_JEQ | BPF_K, t, 0, 0, in_range);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, INT32_MAX);
	emit_label(C, in_range);
	return r;
}

/* A classic packet load reads the context from r6. */
static void ctx_in_r6(struct ctx *C)
{
	if (!BROKEN(C, ctx_pinning))
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, C->ctx_reg, 0, 0);
}

/* dst = packet bytes at base's offset + off (+ the run-time index in
** idxslot); raw: the bytes as they are (PK_RAW), not swapped to a number. */
static void load_packet(struct ctx *C, int dst, int base, int64_t off, int width, int idxslot, bool raw)
{
	struct var *b = v_src(C, base);
	int sz = width == 1 ? BPF_B : width == 2 ? BPF_H : width == 4 ? BPF_W : -1;
	if (width == 8) {
		/* two 32-bit loads: the classic loads have no 64-bit form */
		load_packet(C, C->tmp + 3, base, off, 4, idxslot, raw);
		int hi = C->v[C->tmp + 3].reg;
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, hi, 0, 0, 32);
		load_packet(C, dst, base, off + 4, 4, idxslot, raw);
		hi = v_reg(C, C->tmp + 3);
		emit(C, BPF_ALU64 | BPF_OR | BPF_X, C->v[dst].reg, hi, 0, 0);
		C->v[dst].width = 8;
		C->v[dst].flags = VF_NETORD | VF_U64;
		v_def(C, C->tmp + 3);
		return;
	}
	if (sz < 0)
		bpfc_fail(C, "a packet load of %d bytes: 1, 2, 4 or 8 can be read at once", width);
	int ri = -1;
	bool ind = b->kind != VK_PKT || idxslot >= 0;
	if (ind) {
		if (idxslot >= 0) {
			/* offset register = dissector offset + index */
			int t = C->tmp + 4;
			int ridx = v_reg(C, idxslot);
			bool known = v_src(C, idxslot)->bits && v_src(C, idxslot)->bits <= 30;
			if (b->kind == VK_PKT) {
				v_def(C, t);
				int rt = v_newreg(C, t);
				emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rt, ridx, 0, 0);
				if (!known)
					pk_clamp(C, rt, v_src(C, idxslot)->flags & VF_U64);
				if (b->num)
					emit(C, BPF_ALU64 | BPF_ADD | BPF_K, rt, 0, 0, (int32_t)b->num);
				int ib = v_src(C, idxslot)->bits;
				v_rt(C, t, rt, PK_SCALAR, 8, 0);
				C->v[t].bits = (uint8_t)bits_add(ib, bits_of(b->num));
			} else {
				int rb = v_reg(C, base);
				v_def(C, t);
				int rt = v_newreg(C, t);
				if (!known) {
					emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rt, ridx, 0, 0);
					pk_clamp(C, rt, v_src(C, idxslot)->flags & VF_U64);
					emit(C, BPF_ALU64 | BPF_ADD | BPF_X, rt, rb, 0, 0);
				} else {
					emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rt, rb, 0, 0);
					emit(C, BPF_ALU64 | BPF_ADD | BPF_X, rt, ridx, 0, 0);
				}
				int ib = bits_add(v_src(C, idxslot)->bits, v_src(C, base)->bits);
				v_rt(C, t, rt, PK_SCALAR, 8, 0);
				C->v[t].bits = (uint8_t)ib;
			}
			base = t;
		}
		ri = v_reg(C, base);
	}
	if (!C->ctx_pinned)
		bpfc_fail(C, "packet access needs the program context (socket filter or tc)");
	int64_t absoff = ind ? off : b->num + off;
	if (!ind && (absoff < 0 || absoff > INT32_MAX))
		absoff = INT32_MAX; /* outside any packet: the load fails, the program returns 0 */
	int obits = ind ? v_src(C, base)->bits : 0;
	v_def(C, dst);
	if (ind) {
		/* The kernel adds the offset register to the immediate as a 32-bit int and
		** reads negative sums relative to other headers (SKF_NET_OFF, SKF_LL_OFF):
		** unless the sum is known to lie in [0, 2^31), it is computed and checked
		** first, so that an offset outside the packet returns 0 as it should. */
		bool small = obits && obits <= 30 && absoff >= 0 && absoff < (1 << 30);
		if (!small && !BROKEN(C, pkt_bounds)) {
			int t = r_scratch(C);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, ri, 0, 0);
			if (absoff > INT32_MAX || absoff < INT32_MIN)
				absoff = INT32_MAX; /* the sum is outside whatever the index is */
			if (absoff)
				emit(C, BPF_ALU64 | BPF_ADD | BPF_K, t, 0, 0, (int32_t)absoff);
			int in_range = label_new(C);
			emit_jmp(C, BPF_JMP | BPF_JLE | BPF_K, t, 0, INT32_MAX, in_range);
			emit(C, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
			emit(C, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
			emit_label(C, in_range);
			ri = t;
			absoff = 0;
		}
		ctx_in_r6(C);
		emit(C, BPF_LD | BPF_IND | (uint8_t)sz, 0, ri, raw ? PK_RAW : 0, (int32_t)absoff);
	} else {
		ctx_in_r6(C);
		emit(C, BPF_LD | BPF_ABS | (uint8_t)sz, 0, 0, raw ? PK_RAW : 0, (int32_t)absoff);
	}
	v_rt(C, dst, 0, PK_SCALAR, width, VF_NETORD | VF_NONNEG);
	C->v[dst].bits = (uint8_t)(8 * width);
}

void pk_load(struct ctx *C, int dst, int base, int64_t off, int width, int idxslot)
{
	load_packet(C, dst, base, off, width, idxslot, false);
}

void pk_load_raw(struct ctx *C, int dst, int base, int64_t off, int width)
{
	load_packet(C, dst, base, off, width, -1, true);
}

/* A layer change: pkt.ip, ip.udp, tcp.data, ... as the layer table says
** (read at the start of the compile, facts.c). */
void pk_field(struct ctx *C, int dst, int base, const char *name)
{
	struct var *b = v_src(C, base);
	struct layer_step st;
	if (!b->layer || !fact_layer_next(C, b->layer, name, &st))
		bpfc_fail(C, "the dissector has no field or layer '%s'", name);
	int newlayer = st.to, ctype = st.ctype;
	bool fixed = st.fixed;
	int64_t skip = st.skip;
	int hdr_off = st.hdr_off, mask = st.mask, shift = st.shift;
	struct var keep = *b;
	if (fixed) {
		if (keep.kind == VK_PKT) {
			v_def(C, dst);
			C->v[dst] = keep;
			C->v[dst].shadow = -1;
			C->v[dst].num += skip;
			C->v[dst].flags &= (uint16_t)~VF_MOVED; /* at the start of the next layer */
		} else {
			int rd = alu_dst(C, dst, base);
			emit(C, BPF_ALU64 | BPF_ADD | BPF_K, rd, 0, 0, (int32_t)skip);
			C->v[dst].ptr = PK_PKTOFF;
			C->v[dst].flags &= (uint16_t)~VF_MOVED;
			C->v[dst].bits = (uint8_t)bits_add(keep.bits, bits_of(skip));
		}
		C->v[dst].ref = ctype;
		C->v[dst].layer = newlayer;
		return;
	}
	/* the header length comes from the packet: offset += (byte & mask) << shift */
	int hl = C->tmp + 5;
	C->keep[0] = v_root(C, base); /* base is read again below, after the load */
	pk_load(C, hl, base, hdr_off, 1, -1);
	C->keep[0] = -1;
	int rh = C->v[hl].reg;
	if (mask)
		emit(C, BPF_ALU64 | BPF_AND | BPF_K, rh, 0, 0, mask);
	if (shift > 0)
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rh, 0, 0, shift);
	else if (shift < 0)
		emit(C, BPF_ALU64 | BPF_RSH | BPF_K, rh, 0, 0, -shift);
	b = v_src(C, base);
	if (b->kind == VK_PKT) {
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, rh, 0, 0, (int32_t)b->num);
	} else {
		int rb = v_reg(C, base);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_X, rh, rb, 0, 0);
	}
	/* hand hl's register to dst */
	int hbits = (mask ? bits_of(mask) : 8) + (shift > 0 ? shift : 0);
	int obits = bits_add(hbits, b->kind == VK_PKT ? bits_of(b->num) : b->bits);
	C->owner[rh] = -1;
	C->v[hl].reg = NOREG; /* hl's register is dst's now */
	v_def(C, hl);
	v_def(C, dst);
	v_rt(C, dst, rh, PK_PKTOFF, 8, 0);
	C->v[dst].bits = (uint8_t)obits;
	C->v[dst].ref = ctype;
	C->v[dst].layer = newlayer;
}

/* The helper that reads memory pointer p points into: user memory (a
** syscall's argument, a uprobe's register, bpf.user) or kernel memory. */
int probe_func(const struct var *p, bool str)
{
	if (p->flags & VF_USER)
		return str ? BPF_FUNC_probe_read_user_str : BPF_FUNC_probe_read_user;
	return str ? BPF_FUNC_probe_read_kernel_str : BPF_FUNC_probe_read_kernel;
}

/* dst = *(ptr + f->off) read with probe_read_user or _kernel into a stack
** scratch; a pointer read there points into the same memory. */
void mem_load(struct ctx *C, int dst, int base, const struct cfield *f)
{
	int func = probe_func(v_src(C, base), false);
	int space = v_src(C, base)->flags & VF_USER;
	if (f->isagg || (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8))
		bpfc_fail(C, "probe reads of aggregates are not supported; read a number member");
	int off = stack_alloc(C, 8);
	int rb = v_reg(C, base);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, rb, 0, 0);
	if (f->off)
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, f->off);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, f->size);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -off);
	emit_call(C, func, -1);
	v_def(C, dst);
	int rd = v_newreg(C, dst);
	emit(C, BPF_LDX | BPF_MEM | size_code(f->size), rd, BPF_REG_10, (int16_t)-off, 0);
	if (!f->isptr) { /* a number: its sign, its bitfield, as any read of memory */
		scalar_read(C, dst, rd, f, false);
		return;
	}
	v_rt(C, dst, rd, f->isptr ? PK_PROBE : PK_SCALAR, f->size,
	     f->isptr ? space : f->issigned ? 0 : f->size == 8 ? VF_U64 : VF_NONNEG);
	C->v[dst].reg = (uint16_t)rd;
	if (f->isptr)
		C->v[dst].ref = f->ctype;
}
