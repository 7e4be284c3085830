/*
** Stores into the packet, in tc and XDP programs: pkt.ip.ttl = v,
** ip.udp.dst_port = v, eth.dst[0] = v; the checksums covering what is
** written follow it.
**
** A header field is written as the 16-bit words of its header that hold it
** (ttl shares one with proto, a bitfield with its neighbours; an 8-byte
** field is two pieces of 4 bytes):
**
**   old = those bytes, read like any packet read (a read past the packet's
**         end returns 0 from the program at once, so nothing is written)
**   new = old with the field's bits replaced by the value's low bits
**   new written, then each checksum that covers them:
**         c' = ~(~c + ~old + new)           in ones' complement (RFC 1624)
**
** tc writes with bpf_skb_store_bytes and updates with bpf_l3_csum_replace
** and bpf_l4_csum_replace, which also keep an skb right whose checksum the
** device is still to fill in (CHECKSUM_PARTIAL) or has summed
** (CHECKSUM_COMPLETE); a helper failing (no memory to make the skb
** writable) returns 0 from the program, as a read past the end does.  XDP
** leaves its stores to direct_packet (is_packet_store), which makes them
** stores through its data pointer, and does the same arithmetic inline on
** the bytes as they are (PK_RAW loads: a ones' complement sum of byte-swapped
** words is the byte-swapped sum, so nothing is swapped but the value); a
** byte field is stored alone and its word read again for the sum.
**
** Which checksum covers what (rules[]): the IPv4 header's covers its
** fields; UDP's, TCP's and ICMP's their header, and UDP's and TCP's (and
** ICMPv6's) the addresses of the IP header before them as well (the
** pseudo-header): an address written through ip.src or ip6.dst updates the
** checksum of the header after the IP one when the protocol field names
** TCP, UDP (or ICMPv6) and the packet is not a later IPv4 fragment.
** udp.length is in the pseudo-header too: it counts twice.  A UDP checksum
** of 0 means none and stays 0; one that comes out 0 is written 0xffff.
** A UDP or ICMP payload (udp.data[i] = v, ffi.copy(udp.data, 'abcd')) is
** covered by its header's checksum, a fixed distance before it; a TCP
** payload's lies before the TCP options, at a distance the payload does not
** tell, so writing one needs {csum = false}.  Writing a checksum field
** itself writes it and nothing else; bpf(fn, {csum = false}) leaves every
** checksum as it is.  Bytes written into a layer with no rule (eth: pkt[23]
** is a byte of the Ethernet layer's, whatever header it lies in) or through
** a pointer (ptr[0] = v) are those bytes alone.
*/
#include <stddef.h>
#include <string.h>
#include "core.h"

/* The checksum a layer's header carries and what else it covers. */
struct csum_rule {
	const char *layer;
	bool payload;		    /* the bytes after a header, which its checksum covers */
	int csum;		    /* the checksum's offset in the header (from a payload's start), -1 none */
	bool udp;		    /* 0 means none; a result of 0 is written 0xffff */
	int twice_from, twice_to;   /* bytes counted twice (udp.length: pseudo-header too) */
	int pseudo_from, pseudo_to; /* bytes in the pseudo-header of the header after it */
	int proto_at;		    /* ... which its protocol byte names */
	int frag_at;		    /* IPv4: the flags and fragment offset, -1 none */
};

static const struct csum_rule rules[] = {
	{"ip", false, 10, false, 0, 0, 12, 20, 9, 6},
	{"ip6", false, -1, false, 0, 0, 8, 40, 6, -1},
	{"udp", false, 6, true, 4, 6, 0, 0, -1, -1},
	{"tcp", false, 16, false, 0, 0, 0, 0, -1, -1},
	{"icmp", false, 2, false, 0, 0, 0, 0, -1, -1},
	{"udp_data", true, -2, true, 0, 0, 0, 0, -1, -1},  /* 8 bytes on from udp.crc */
	{"icmp_data", true, -6, false, 0, 0, 0, 0, -1, -1}, /* ... from icmp.checksum */
};

/* The headers whose checksum covers a pseudo-header, by protocol number. */
static const struct l4_rule {
	int proto;
	int csum;
	bool udp;
	bool ip6_only;
} l4_rules[] = {
	{6, 16, false, false},
	{17, 6, true, false},
	{58, 2, false, true}, /* ICMPv6 (ICMP over IPv4 has no pseudo-header) */
};

#define MAX_PIECES 2

/* One piece written: bytes [off, off + width) of the header, 2 or 4 wide
** (1 for a byte with no checksum to mind), its value before and after in
** virtual registers: as numbers (host order) in tc, as the bytes are (network
** order) in XDP, where the sums are made that way. */
struct piece {
	int off, width;
	int old, new;
};

struct write {
	struct ctx *C;
	bool xdp;
	int base;		  /* the slot of the header written */
	struct piece p[MAX_PIECES];
	int n;
};

static int rule_of(struct ctx *C, int layer)
{
	if (layer <= 0 || C->facts.no_csum)
		return -1;
	const char *name = C->facts.layer[layer].name;
	for (int i = 0; name && i < (int)(sizeof(rules) / sizeof(rules[0])); i++)
		if (!strcmp(rules[i].layer, name))
			return i;
	return -1;
}

/* return 0 when register r is not 0 (a helper failed). */
static void fail_unless_zero(struct ctx *C, int r)
{
	int ok = label_new(C);
	emit_jmp(C, BPF_JMP | BPF_JEQ | BPF_K, r, 0, 0, ok);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	emit(C, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	emit_label(C, ok);
}

/* A new register holding the packet offset of byte off of header base. */
static int packet_offset(struct ctx *C, int base, int64_t off)
{
	int r = vreg_new(C);
	struct var *b = v_src(C, base);
	if (b->kind == VK_PKT) {
		emit_mov_imm(C, r, b->num + off);
		return r;
	}
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, v_reg(C, base), 0, 0);
	if (off)
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, r, 0, 0, (int32_t)off);
	return r;
}

/* A new register holding width bytes at off of header base, read as the
** classic loads read (direct_packet makes them direct in tc and XDP); raw:
** in network order, the bytes as they are (XDP: made direct without the
** byte swap). */
static int read_packet(struct ctx *C, int base, int64_t off, int width, bool raw)
{
	int t = C->tmp + 6;
	if (raw)
		pk_load_raw(C, t, base, off, width);
	else
		pk_load(C, t, base, off, width, -1);
	int r = C->v[t].reg; /* the register is ours now */
	C->owner[r] = -1;
	C->v[t].reg = NOREG;
	v_def(C, t);
	return r;
}

static int read_bytes(struct ctx *C, int base, int64_t off, int width)
{
	return read_packet(C, base, off, width, false);
}

static int read_raw(struct ctx *C, int base, int64_t off, int width)
{
	return read_packet(C, base, off, width, true);
}

/* A register holding r's value in network byte order (the bytes as they
** are in the packet, as the helpers and stores want them). */
static int wire_order(struct ctx *C, int r, int width)
{
	int w = vreg_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, w, r, 0, 0);
	if (width > 1)
		emit(C, BPF_ALU | BPF_END | BPF_TO_BE, w, 0, 0, width * 8);
	return w;
}

static uint8_t size_code(int size)
{
	return (uint8_t)bpf_size(size); /* (the callers' sizes are 1, 2, 4 or 8) */
}

/* Bytes [off, off + width) of header base = val: a number (tc), the bytes
** as they are to be (XDP). */
static void store_piece(struct write *W, int base, int64_t off, int width, int val)
{
	struct ctx *C = W->C;
	int w = W->xdp ? val : wire_order(C, val, width);
	if (!W->xdp) {
		int slot = stack_alloc(C, 8);
		emit(C, BPF_STX | BPF_MEM | size_code(width), BPF_REG_10, w, (int16_t)-slot, 0);
		int at = packet_offset(C, base, off);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, C->ctx_reg, 0, 0);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, at, 0, 0);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -slot);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, width);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, 0);
		emit_call(C, BPF_FUNC_skb_store_bytes, -1);
		fail_unless_zero(C, BPF_REG_0);
		return;
	}
	/* left for direct_packet, which stores through its data pointer */
	struct var *b = v_src(C, base); /* (direct_packet runs for a store when nothing is read) */
	if (b->kind == VK_PKT) {
		int64_t k = b->num + off;
		if (k < 0 || k + width > 0xffff)
			bpfc_fail(C, "a packet write at offset %lld: an XDP program writes the first 65535 "
				     "bytes of the frame", (long long)k);
		emit(C, BPF_STX | BPF_ABS | size_code(width), PKT_STORE_NOREG, w, 0, (int32_t)k);
		return;
	}
	int rb = v_reg(C, base);
	if (off < 0) { /* a payload's checksum, before the base: in the offset */
		int t = vreg_new(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, rb, 0, 0);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, t, 0, 0, (int32_t)off);
		rb = t, off = 0;
	}
	emit(C, BPF_STX | BPF_IND | size_code(width), rb, w, 0, (int32_t)off);
}

/* How many folds (s = (s & 0xffff) + (s >> 16)) bring any sum up to max
** to 16 bits: the most a fold can leave of a sum up to b is the larger of
** (b >> 16) - 1 + 0xffff and (b >> 16) + (b & 0xffff). */
static int folds(uint64_t max)
{
	int n = 0;
	for (; max > 0xffff; n++) {
		uint64_t hi = max >> 16, a = hi - 1 + 0xffff, b = hi + (max & 0xffff);
		max = a > b ? a : b;
	}
	return n;
}

/* XDP: the checksum at off of header base read before anything is written
** (so that the check of the reads before it covers it too), else -1. */
static int csum_before(struct write *W, int base, int64_t off)
{
	return W->xdp ? read_raw(W->C, base, off, 2) : -1;
}

/* The checksum at off of header base updated for the pieces (each counted
** times[i] times; l4: a TCP, UDP or ICMP one, pseudo: the pieces are
** pseudo-header bytes of it; c: XDP's read of it made before, or -1). */
static void update_csum(struct write *W, int base, int64_t off, bool udp, bool l4, bool pseudo,
			const int *times, int c)
{
	struct ctx *C = W->C;
	if (!W->xdp) {
		for (int i = 0; i < W->n; i++)
			for (int k = 0; k < times[i]; k++) {
				int from = wire_order(C, W->p[i].old, W->p[i].width);
				int to = wire_order(C, W->p[i].new, W->p[i].width);
				int at = packet_offset(C, base, off);
				int flags = W->p[i].width | (pseudo ? BPF_F_PSEUDO_HDR : 0) |
					    (udp ? BPF_F_MARK_MANGLED_0 : 0);
				emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, C->ctx_reg, 0, 0);
				emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, at, 0, 0);
				emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, from, 0, 0);
				emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, to, 0, 0);
				emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, l4 ? flags : W->p[i].width);
				emit_call(C, l4 ? BPF_FUNC_l4_csum_replace : BPF_FUNC_l3_csum_replace, -1);
				fail_unless_zero(C, BPF_REG_0);
			}
		return;
	}
	/* s = ~c + sum of (~old + new), folded to 16 bits, complemented: in
	** network order, the bytes as they are (a ones' complement sum of
	** byte-swapped words is the byte-swapped sum), so nothing is swapped */
	if (c < 0)
		c = read_raw(C, base, off, 2);
	int skip = label_new(C);
	if (udp) /* no checksum: it stays so */
		emit_jmp(C, BPF_JMP | BPF_JEQ | BPF_K, c, 0, 0, skip);
	int s = vreg_new(C), t = vreg_new(C);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, s, c, 0, 0);
	emit(C, BPF_ALU64 | BPF_XOR | BPF_K, s, 0, 0, 0xffff);
	uint64_t max = 0xffff;
	for (int i = 0; i < W->n; i++)
		for (int k = 0; k < times[i]; k++) {
			const struct piece *p = &W->p[i];
			max += 2 * ((1ull << (8 * p->width)) - 1);
			if (p->width == 4) { /* ~old in 32 bits (the 32-bit ALU zero-extends) */
				emit(C, BPF_ALU | BPF_MOV | BPF_X, t, p->old, 0, 0);
				emit(C, BPF_ALU | BPF_XOR | BPF_K, t, 0, 0, -1);
			} else {
				emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, p->old, 0, 0);
				emit(C, BPF_ALU64 | BPF_XOR | BPF_K, t, 0, 0, 0xffff);
			}
			emit(C, BPF_ALU64 | BPF_ADD | BPF_X, s, t, 0, 0);
			emit(C, BPF_ALU64 | BPF_ADD | BPF_X, s, p->new, 0, 0);
		}
	for (int k = folds(max); k > 0; k--) {
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, s, 0, 0);
		emit(C, BPF_ALU64 | BPF_RSH | BPF_K, t, 0, 0, 16);
		emit(C, BPF_ALU64 | BPF_AND | BPF_K, s, 0, 0, 0xffff);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_X, s, t, 0, 0);
	}
	emit(C, BPF_ALU64 | BPF_XOR | BPF_K, s, 0, 0, 0xffff);
	if (udp) { /* 0 would say "no checksum" */
		int nonzero = label_new(C);
		emit_jmp(C, BPF_JMP | BPF_JNE | BPF_K, s, 0, 0, nonzero);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_K, s, 0, 0, 0xffff);
		emit_label(C, nonzero);
	}
	store_piece(W, base, off, 2, s);
	emit_label(C, skip);
}

/* The pieces are pseudo-header bytes: the TCP, UDP or ICMPv6 checksum after
** the IP header follows them, as its protocol byte says. */
static void update_pseudo(struct write *W, const struct csum_rule *r, bool ip6)
{
	struct ctx *C = W->C;
	int ones[MAX_PIECES] = {1, 1};
	int proto = read_bytes(C, W->base, r->proto_at, 1);
	int frag = r->frag_at >= 0 ? read_bytes(C, W->base, r->frag_at, 2) : -1;
	struct var *b = v_src(C, W->base);
	struct layer_step st;
	if (!fact_layer_next(C, b->layer, "tcp", &st))
		bpfc_fail(C, "internal: the layer '%s' has no step to tcp", r->layer);
	int l4 = C->tmp + 7; /* the header after this one (the same place for each protocol) */
	pk_field(C, l4, W->base, "tcp");
	int done = label_new(C);
	if (frag >= 0) { /* a later fragment has no L4 header */
		emit(C, BPF_ALU64 | BPF_AND | BPF_K, frag, 0, 0, 0x1fff);
		emit_jmp(C, BPF_JMP | BPF_JNE | BPF_K, frag, 0, 0, done);
	}
	for (int i = 0; i < (int)(sizeof(l4_rules) / sizeof(l4_rules[0])); i++) {
		const struct l4_rule *l = &l4_rules[i];
		if (l->ip6_only && !ip6)
			continue;
		int next = label_new(C);
		emit_jmp(C, BPF_JMP | BPF_JNE | BPF_K, proto, 0, l->proto, next);
		update_csum(W, l4, l->csum, l->udp, true, true, ones, -1);
		emit_ja(C, done);
		emit_label(C, next);
	}
	emit_label(C, done);
	v_def(C, l4);
}

/* The value as the piece's new number: the field's bits of the value in
** place of the old ones (shift, bits: where the field lies in the piece). */
static int merged(struct ctx *C, int old, int src, int width, int shift, int bits, int rsh)
{
	int r = vreg_new(C);
	struct var *s = v_src(C, src);
	uint64_t fmask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	bool whole = bits == width * 8;
	if (s->kind == VK_NUM && s->reg == NOREG) {
		uint64_t v = (((uint64_t)s->num >> rsh) & fmask) << shift;
		emit_mov_imm(C, r, (int64_t)v);
	} else {
		int rs = v_reg(C, src);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, r, rs, 0, 0);
		if (rsh)
			emit(C, BPF_ALU64 | BPF_RSH | BPF_K, r, 0, 0, rsh);
		if (bits == 32)
			emit(C, BPF_ALU | BPF_MOV | BPF_X, r, r, 0, 0); /* zero-extends */
		else
			emit(C, BPF_ALU64 | BPF_AND | BPF_K, r, 0, 0, (int32_t)fmask);
		if (shift)
			emit(C, BPF_ALU64 | BPF_LSH | BPF_K, r, 0, 0, shift);
	}
	if (!whole) { /* the piece's other bits as they were */
		uint64_t wmask = width == 4 ? 0xffffffffull : width == 2 ? 0xffff : 0xff;
		int t = vreg_new(C);
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, t, old, 0, 0);
		emit(C, BPF_ALU64 | BPF_AND | BPF_K, t, 0, 0, (int32_t)(wmask & ~(fmask << shift)));
		emit(C, BPF_ALU64 | BPF_OR | BPF_X, r, t, 0, 0);
	}
	return r;
}

/* XDP: a whole piece's new bytes, the value's low bits (after rsh) in
** network order; a constant swapped at compile time. */
static int wire_value(struct ctx *C, int src, int width, int rsh)
{
	struct var *s = v_src(C, src);
	if (s->kind == VK_NUM && s->reg == NOREG) {
		int r = vreg_new(C);
		uint64_t v = (uint64_t)s->num >> rsh;
		emit_mov_imm(C, r, (int64_t)(uint64_t)fold_bswap((int64_t)v, width) & ((1ll << (8 * width)) - 1));
		return r;
	}
	return wire_order(C, merged(C, -1, src, width, 0, width * 8, rsh), width);
}

static bool within(int off, int width, int from, int to)
{
	return off < to && off + width > from;
}

/* The program type, when it is one that may write the packet (-1: none
** given yet); a compile error for another. */
int pk_write_type(struct ctx *C)
{
	const char *tname = NULL;
	int type = helper_progtype(C, &tname);
	if (type >= 0 && type != BPF_PROG_TYPE_SCHED_CLS && type != BPF_PROG_TYPE_SCHED_ACT &&
	    type != BPF_PROG_TYPE_XDP)
		bpfc_fail(C, "a %s program cannot change the packet: packet writes are for tc (sched_cls, "
			     "sched_act) and XDP programs", tname);
	return type;
}

void pk_store(struct ctx *C, int base, const struct cfield *f, int src)
{
	int type = pk_write_type(C);
	if (f->isagg)
		bpfc_fail(C, "cannot assign a struct or array member of a packet header: write its "
			     "elements (eth.dst[0] = v) or its fields");
	struct var *s = v_src(C, src);
	if (!(s->kind == VK_NUM || (s->kind == VK_RT && s->ptr == PK_SCALAR)))
		bpfc_fail(C, "a packet field takes a number");
	if (f->off < 0 || f->off > 0xffff - 8)
		bpfc_fail(C, "a packet write at offset %d of its header: outside any packet", f->off);
	C->ctx_writes = true; /* how the packet is written is the program type's to say */
	struct write W = {.C = C, .xdp = type == BPF_PROG_TYPE_XDP, .base = base};
	struct var *b = v_src(C, base);
	int ri = rule_of(C, b->layer);
	const struct csum_rule *r = ri >= 0 ? &rules[ri] : NULL;
	const char *lname = b->layer > 0 ? C->facts.layer[b->layer].name : NULL;
	if (!C->facts.no_csum && lname && !strcmp(lname, "tcp_data"))
		bpfc_fail(C, "a write to a TCP payload: where its checksum lies (before the TCP header's "
			     "options) is not known from the payload; compile with {csum = false} and "
			     "update tcp.cksum yourself");
	if (!C->facts.no_csum && lname && !strcmp(lname, "data"))
		bpfc_fail(C, "a write to the bytes of a layer with no checksum rule (data): compile with "
			     "{csum = false} and mind the checksum yourself");
	if (r && (b->flags & VF_MOVED))
		bpfc_fail(C, "a write through a moved dissector (dissector + n): its %s checksum cannot be "
			     "found; write through the layer (pkt.ip.ttl = v) or compile with {csum = false}",
			  r->layer);
	if (r && !r->payload && b->ref && f->off + f->size > fact_sizeof(C, b->ref))
		bpfc_fail(C, "a write past the fields of the %s header (index %d): write through the next "
			     "layer, or compile with {csum = false}", r->layer, f->off);

	/* the pieces: the 16-bit words holding the field, an 8-byte field in two */
	int fbits = f->bpos >= 0 ? f->bsize : f->size * 8;
	int inner = f->bpos >= 0 ? f->size * 8 - f->bpos - f->bsize : 0; /* netorder: from the top */
	if (f->size == 8) {
		if (f->bpos >= 0)
			bpfc_fail(C, "a bitfield of a 64-bit packet field cannot be written");
		W.p[0] = (struct piece){.off = f->off, .width = 4};
		W.p[1] = (struct piece){.off = f->off + 4, .width = 4};
		W.n = 2;
	} else {
		int from = f->off & ~1, to = (f->off + f->size + 1) & ~1;
		if (!r && f->bpos < 0) /* no checksum to mind: the field's own bytes */
			from = f->off, to = f->off + f->size;
		if (to - from == 3 || to - from > 4)
			bpfc_fail(C, "a %d-byte packet field at an odd offset cannot be written", f->size);
		W.p[0] = (struct piece){.off = from, .width = to - from};
		W.n = 1;
	}
	bool own_csum = r && (r->payload || (r->csum >= 0 && !within(f->off, f->size, r->csum, r->csum + 2)));
	bool pseudo = r && r->proto_at >= 0 && within(f->off, f->size, r->pseudo_from, r->pseudo_to);
	bool reads = own_csum || pseudo || fbits != W.p[0].width * 8 || W.n > 1;
	for (int i = 0; i < W.n; i++) {
		struct piece *p = &W.p[i];
		int shift, bits, rsh = 0;
		if (W.n > 1) { /* the high half first */
			bits = 32, shift = 0, rsh = i ? 0 : 32;
		} else {
			bits = fbits;
			shift = (p->off + p->width - (f->off + f->size)) * 8 + inner;
		}
		if (!W.xdp) { /* numbers, as the classic loads read them */
			p->old = reads ? read_bytes(C, base, p->off, p->width) : -1;
			p->new = merged(C, p->old, src, p->width, shift, bits, rsh);
			continue;
		}
		/* XDP: the bytes as they are, as the checksum is summed */
		p->old = reads ? read_raw(C, base, p->off, p->width) : -1;
		if (bits == p->width * 8) {
			p->new = wire_value(C, src, p->width, rsh);
		} else if (f->bpos < 0 && f->size == 1) {
			p->new = -1; /* the byte stored alone, the word read again after */
		} else {
			int host = p->old >= 0 ? wire_order(C, p->old, p->width) : -1;
			p->new = wire_order(C, merged(C, host, src, p->width, shift, bits, rsh), p->width);
		}
	}
	int c = own_csum ? csum_before(&W, base, r->csum) : -1;
	for (int i = 0; i < W.n; i++) {
		struct piece *p = &W.p[i];
		if (p->new >= 0) {
			store_piece(&W, base, p->off, p->width, p->new);
			continue;
		}
		store_piece(&W, base, f->off, 1, merged(C, -1, src, 1, 0, 8, 0));
		p->new = read_raw(C, base, p->off, p->width);
	}
	if (own_csum && !BROKEN(C, pkt_csum)) {
		int times[MAX_PIECES];
		for (int i = 0; i < W.n; i++)
			times[i] = 1 + within(W.p[i].off, W.p[i].width, r->twice_from, r->twice_to);
		update_csum(&W, base, r->csum, r->udp, strcmp(r->layer, "ip") != 0, false, times, c);
	}
	if (pseudo && !BROKEN(C, pkt_csum))
		update_pseudo(&W, r, !strcmp(r->layer, "ip6"));
}

/* ptr[i] = v, ptr.field = v through a direct packet pointer (skb.data + n,
** checked against data_end by the program): the bytes alone, in network
** order like every packet field. */
void pk_pointer_store(struct ctx *C, int base, const struct cfield *f, int src)
{
	if (f->isagg || f->bpos >= 0 || f->isptr || bpf_size(f->size) < 0)
		bpfc_fail(C, "cannot assign an aggregate or bitfield member through a packet pointer");
	pk_write_type(C);
	check_scalar(C, src, "a packet write");
	int w = wire_order(C, v_reg(C, src), f->size);
	emit(C, BPF_STX | BPF_MEM | size_code(f->size), v_reg(C, base), w, (int16_t)f->off, 0);
}

/* ffi.copy(dissector, 'bytes'): the string's bytes written from the
** dissector's start on, as fields: in 16-bit words where they are aligned
** (4 bytes at once when they can), a byte at either end where they are not,
** so that the checksum covering them follows (tmp: a slot for the values). */
void pk_copy(struct ctx *C, int base, int tmp, const char *s, int len)
{
	for (int at = 0; at < len;) {
		int left = len - at;
		int w = at & 1 ? 1 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
		int64_t v = 0;
		for (int k = 0; k < w; k++)
			v = v << 8 | (uint8_t)s[at + k];
		v_const(C, tmp, v);
		struct cfield f = {.off = at, .size = w, .bpos = -1};
		pk_store(C, base, &f, tmp);
		at += w;
	}
}
