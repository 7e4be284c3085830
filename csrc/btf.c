/*
** Kernel types (lua/bpf/btf.lua answers their members from the kernel's
** BTF): loads through pointers to them, the arguments of tracing contexts,
** current_task(), kfunc calls, and the CO-RE tags that let a saved object
** be relocated to another kernel's layout.
**
** A pointer to a kernel struct is a PK_PROBE value.  Where the value is
** one of the verifier's BTF pointers (VF_BTF: from bpf_get_current_task_btf
** and the arguments of tracing and LSM programs, from a kfunc, or a pointer
** member loaded directly from one), its members are loaded directly, and the kernel turns a load that faults
** into 0; else each member is read with bpf_probe_read_kernel into the
** stack, which gives 0 when the read fails.  So a chain through a NULL
** pointer (task.mm.exe_file of a kernel thread) reads 0 either way.
**
** CO-RE: every instruction that holds a field's offset (a load's off, or
** the imm of the add that makes a probe read's address) is tagged with
** the access it makes (its IR label, an index in C->core); encode lists
** the tagged instructions (corerel), which the object writer turns into
** .BTF.ext bpf_core_relo records.  Bitfields are read as libbpf reads
** them, load, shift left, shift right, each of the three relocated.
*/
#include <string.h>
#include "core.h"

static int arg(struct ctx *C, int a, int i)
{
	return a + 1 + C->fr2 + i;
}

/* CO-RE relocation kinds (enum bpf_core_relo_kind). */
enum { CORE_BYTE_OFFSET = 0, CORE_LSHIFT_U64 = 4, CORE_RSHIFT_U64 = 5 };

/* Does this program type give the verifier's BTF pointers (loads from them
** direct)?  Tracing programs and LSM programs. */
static bool btf_pointers(struct ctx *C)
{
	const char *name = NULL;
	int t = helper_progtype(C, &name);
	return t == BPF_PROG_TYPE_TRACING || t == BPF_PROG_TYPE_LSM;
}

/* The last instruction emitted holds value for CO-RE spec `spec`. */
static void tag(struct ctx *C, int spec, int kind, int64_t value)
{
	if (!spec)
		return;
	if (C->ncore >= (int)(sizeof(C->core) / sizeof(C->core[0])))
		bpfc_fail(C, "more than %d kernel field accesses", C->ncore);
	C->core[C->ncore].spec = spec;
	C->core[C->ncore].kind = kind;
	C->core[C->ncore].value = value;
	C->ir[C->nir - 1].label = C->ncore++;
}

static uint8_t size_code(struct ctx *C, int size)
{
	if (bpf_size(size) >= 0)
		return (uint8_t)bpf_size(size);
	bpfc_fail(C, "a kernel field of %d bytes cannot be read as a number", size);
}

/* rd holds f's bytes as loaded (zero-extended): make them its number. */
static void field_number(struct ctx *C, int dst, int rd, const struct cfield *f, bool relocated)
{
	int flags = f->issigned ? 0 : f->size == 8 && f->bsize < 0 ? VF_U64 : VF_NONNEG;
	if (f->bsize > 0) { /* libbpf's way: << (64 - bpos - bsize), >> (64 - bsize) */
		int lsh = 64 - f->bpos - f->bsize, rsh = 64 - f->bsize;
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rd, 0, 0, lsh);
		if (relocated)
			tag(C, f->core, CORE_LSHIFT_U64, lsh);
		emit(C, BPF_ALU64 | (f->issigned ? BPF_ARSH : BPF_RSH) | BPF_K, rd, 0, 0, rsh);
		if (relocated)
			tag(C, f->core, CORE_RSHIFT_U64, rsh);
	} else if (f->issigned && f->size < 8) {
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rd, 0, 0, 64 - f->size * 8);
		emit(C, BPF_ALU64 | BPF_ARSH | BPF_K, rd, 0, 0, 64 - f->size * 8);
	}
	v_rt(C, dst, rd, PK_SCALAR, f->size, flags);
	C->v[dst].reg = (uint16_t)rd;
	if (!f->issigned && f->size < 8)
		C->v[dst].bits = (uint8_t)(f->bsize > 0 ? f->bsize : f->size * 8);
}

/* What a loaded pointer member is: a kernel pointer, a BTF one when it was
** loaded directly and points to a struct (the verifier's rule). */
static void as_pointer(struct ctx *C, int dst, int rd, const struct cfield *f, bool direct)
{
	v_rt(C, dst, rd, PK_PROBE, 8, direct && f->btfptr ? VF_BTF : 0);
	C->v[dst].reg = (uint16_t)rd;
	C->v[dst].ref = f->ctype;
}

void btf_load(struct ctx *C, int dst, int base, const struct cfield *f)
{
	struct var *b = v_src(C, base);
	bool direct = (b->flags & VF_BTF) != 0; /* only real BTF pointers have the flag */
	if (f->isfloat)
		bpfc_fail(C, "a floating-point kernel field cannot be read");
	if (f->isagg) { /* an embedded struct or array: a pointer to it, inside the same object */
		int flags = direct ? VF_BTF : 0;
		int rd = alu_dst(C, dst, base);
		emit(C, BPF_ALU64 | BPF_ADD | BPF_K, rd, 0, 0, f->off);
		tag(C, f->core, CORE_BYTE_OFFSET, f->off);
		C->v[dst].ptr = PK_PROBE;
		C->v[dst].flags = (uint16_t)flags;
		C->v[dst].ref = f->ctype;
		return;
	}
	int size = f->isptr ? 8 : f->size;
	uint8_t sz = size_code(C, size);
	if (direct) {
		int rb = v_reg(C, base);
		v_def(C, dst);
		int rd = v_newreg(C, dst);
		emit(C, BPF_LDX | BPF_MEM | sz, rd, rb, (int16_t)f->off, 0);
		tag(C, f->core, CORE_BYTE_OFFSET, f->off);
		if (f->isptr)
			as_pointer(C, dst, rd, f, true);
		else
			field_number(C, dst, rd, f, true);
		return;
	}
	/* bpf_probe_read_kernel(fp - off, size, base + f->off): 0 when it fails */
	int off = stack_alloc(C, 8);
	int rb = v_reg(C, base);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, rb, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, f->off);
	tag(C, f->core, CORE_BYTE_OFFSET, f->off);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, size);
	emit(C, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	emit(C, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -off);
	emit_call(C, BPF_FUNC_probe_read_kernel, -1);
	v_def(C, dst);
	int rd = v_newreg(C, dst);
	emit(C, BPF_LDX | BPF_MEM | sz, rd, BPF_REG_10, (int16_t)-off, 0);
	if (f->isptr)
		as_pointer(C, dst, rd, f, false);
	else
		field_number(C, dst, rd, f, true);
}

/* A tracing argument was loaded from the context (index.c): a pointer to a
** kernel struct is a BTF pointer to the verifier. */
void btf_ctx_arg(struct ctx *C, int dst, const struct cfield *f)
{
	if (f->btfptr && btf_pointers(C))
		C->v[dst].flags |= VF_BTF;
}

/* current_task(): the task running, a struct task_struct * of the kernel's
** (bpf.btf); bpf_get_current_task_btf where the program type has BTF
** pointers, else bpf_get_current_task (a plain address, read through
** probe reads). */
void bi_current_task(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)nargs;
	bool btf = btf_pointers(C);
	int ct = fact_kernel_type(C, "struct task_struct");
	emit_call(C, btf ? BPF_FUNC_get_current_task_btf : BPF_FUNC_get_current_task, (int)(h - helpers));
	v_def(C, a);
	v_rt(C, a, 0, PK_PROBE, 8, btf ? VF_BTF : 0);
	C->v[a].ref = ct;
}

/* kfunc('name', args...): a call of the kernel function `name` (a kfunc),
** checked against the kernel's BTF: its BTF id, its arguments (numbers, or
** kernel pointers the program holds) and what it returns (a pointer may be
** NULL: the verifier wants it compared with nil before it is read). */
void bi_kfunc(struct ctx *C, int a, int nargs, const struct helper *h)
{
	(void)h;
	struct var *nv = v_src(C, arg(C, a, 0));
	const char *name;
	size_t len;
	if (nv->kind != VK_LUA || !k_isstring(C, nv->ref, &name, &len))
		bpfc_fail(C, "kfunc() names the kernel function with a constant string: "
			     "kfunc('bpf_task_from_pid', pid)");
	struct kfuncfact k;
	if (!fact_kfunc(C, name, &k))
		bpfc_fail(C, "kfunc(): the kernel has no function '%s' in its BTF", name);
	if (nargs - 1 != k.nargs)
		bpfc_fail(C, "kfunc %s takes %d arguments (its BTF prototype), got %d", name, k.nargs, nargs - 1);
	if (k.nargs > 5)
		bpfc_fail(C, "kfunc %s takes %d arguments, more than the 5 a call passes", name, k.nargs);
	for (int i = 0; i < k.nargs; i++) {
		int s = arg(C, a, 1 + i);
		struct var *v = v_src(C, s);
		if (k.ptrargs & (1u << i)) {
			if (v->kind != VK_NIL && !(v->kind == VK_RT && v->ptr == PK_PROBE && (v->flags & VF_BTF)))
				bpfc_fail(C, "argument %d of kfunc %s is a pointer: pass a kernel object as the "
					     "verifier knows it (a tracing argument, current_task() in a tracing "
					     "program, a kfunc's result)", i + 1, name);
		} else {
			check_scalar(C, s, name);
		}
		v_load_arg(C, s, 1 + i);
	}
	emit_call(C, k.id, -1);
	C->ir[C->nir - 1].helper = IR_KFUNC;
	C->ir[C->nir - 1].off = (int16_t)k.nargs;
	v_def(C, a);
	if (k.ret == 'v') {
		C->v[a].kind = VK_NIL;
		return;
	}
	if (k.ret == 'p') {
		v_rt(C, a, 0, PK_PROBE, 8, k.ret_ctype ? VF_BTF : 0);
		C->v[a].ref = k.ret_ctype;
		return;
	}
	if (k.ret_size >= 8) {
		v_rt(C, a, 0, PK_SCALAR, 8, k.ret_signed ? 0 : VF_U64);
		return;
	}
	/* a narrower number: the upper bits of r0 are the callee's */
	int rd = v_newreg(C, a);
	int bits = 64 - k.ret_size * 8;
	if (!k.ret_signed && k.ret_size == 4) {
		emit(C, BPF_ALU | BPF_MOV | BPF_X, rd, 0, 0, 0);
	} else {
		emit(C, BPF_ALU64 | BPF_MOV | BPF_X, rd, 0, 0, 0);
		emit(C, BPF_ALU64 | BPF_LSH | BPF_K, rd, 0, 0, bits);
		emit(C, BPF_ALU64 | (k.ret_signed ? BPF_ARSH : BPF_RSH) | BPF_K, rd, 0, 0, bits);
	}
	v_rt(C, a, rd, PK_SCALAR, k.ret_size, k.ret_signed ? 0 : VF_NONNEG);
	C->v[a].reg = (uint16_t)rd;
}

/* Instruction insn was encoded from in: a CO-RE tagged one is listed, as
** long as it still holds the value it was tagged with; a kfunc call gets
** its pseudo call. */
void btf_encoded(struct ctx *C, const struct ir_ins *in, int insn)
{
	struct bpf_insn *e = &C->insn[insn];
	if (in->kind == IR_CALL) {
		e->src_reg = BPF_PSEUDO_KFUNC_CALL;
		e->off = 0; /* vmlinux's BTF */
		return;
	}
	if (in->label >= C->ncore)
		bpfc_fail(C, "internal: a CO-RE tag out of range");
	const __typeof__(C->core[0]) *t = &C->core[in->label];
	uint8_t cls = BPF_CLASS(e->code);
	bool ldx = cls == BPF_LDX && t->kind == CORE_BYTE_OFFSET && e->off == t->value;
	bool alu = (cls == BPF_ALU64 || cls == BPF_ALU) && BPF_SRC(e->code) == BPF_K && e->imm == t->value;
	if (!ldx && !alu)
		bpfc_fail(C, "internal: an instruction holding a kernel field's offset was changed by a pass");
	if (C->ncorerel >= (int)(sizeof(C->corerel) / sizeof(C->corerel[0])))
		bpfc_fail(C, "too many kernel field accesses");
	C->corerel[C->ncorerel].insn = insn;
	C->corerel[C->ncorerel].spec = t->spec;
	C->corerel[C->ncorerel].kind = t->kind;
	C->ncorerel++;
}
