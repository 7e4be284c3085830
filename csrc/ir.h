/*
** The IR: what translation produces, what the passes rewrite and what emit
** encodes.  A program is a list of functions; a function is a list of IR
** instructions in layout order, cut into blocks by its labels and jumps.
**
** Instructions name their operands symbolically, so that a pass can insert,
** delete or move code without counting instructions:
**
**   IR_OP     one BPF instruction that is not a jump, a call or an lddw:
**             code, dst, src, off, imm as the ISA has them.
**   IR_JMP    a jump (ja or conditional) to a label: code, dst, src, imm.
**   IR_LABEL  a position jumps name; label ids below the function's
**             bytecode count are the bytecode pcs they stand for.
**   IR_LD64   dst = a 64-bit constant (imm).
**   IR_MAP    dst = the address of map number imm of the program (a
**             relocation: the loader fills it in, compiling needs no kernel).
**   IR_CALL   a helper call: imm is the BPF_FUNC id, helper its row in
**             helpers.def (-1 for the map helpers mem.c calls directly);
**             or, with helper IR_SUBPROG, a call of the program's function
**             number imm (a BPF-to-BPF call) passing off arguments in r1..
**   IR_EXIT   return r0.
**   IR_NOP    deleted by a pass, dropped by ir_compact.
**
** Every instruction keeps the bytecode pc it came from (for the line table
** and the dumps).  A register operand is BPF's r0..r10 or a virtual
** register (IR_VREG0 and up, any number of them): regalloc gives every
** virtual register a BPF register or a stack slot, so none reaches encode.
**
** Blocks (ir_cfg) start at a label or after a jump or exit; an edge goes to
** the jump's target and, unless the block ends in ja or exit, to the next
** block.  An edge to a block at or before its source is a back edge.
*/
#ifndef BPFC_IR_H
#define BPFC_IR_H

#include <stdbool.h>
#include <stdint.h>

enum ir_kind { IR_OP, IR_JMP, IR_LABEL, IR_LD64, IR_MAP, IR_CALL, IR_EXIT, IR_NOP };

struct ir_ins {
	uint8_t kind;	/* enum ir_kind */
	uint8_t code;	/* BPF opcode (IR_OP, IR_JMP) */
	uint16_t dst, src; /* r0..r10, or a virtual register (IR_VREG0 and up) */
	int16_t off;	/* memory offset (IR_OP) */
	int16_t helper; /* IR_CALL: index in helpers[], -1 none */
	uint16_t pc;	/* bytecode pc it came from */
	int32_t label;	/* IR_LABEL: its id; IR_JMP: the target's */
	int64_t imm;
};

#define IR_MAX_FUNCS 8
#define IR_SUBPROG (-2) /* ir_ins.helper of a call of one of the program's functions */
#define IR_VREG0 16 /* the first virtual register */

/* One function of the program: instructions [first, first + n). */
struct ir_func {
	const char *name;
	int first, n;
	int nbc;	/* labels below this are bytecode pcs */
	int stack;	/* bytes of its own stack frame */
	int name_ref;	/* constants ref of its Lua name, 0 none (the program's) */
	int insn;	/* its first instruction, once encoded */
	int nargs;	/* registers r1.. holding a value at entry (the program: r1, the context) */
};

/* A block of the control-flow graph ir_cfg builds. */
struct ir_block {
	int first, last; /* instruction indexes, inclusive */
	int label;	 /* the label it starts at, -1 none */
	int succ[2];	 /* block indexes, -1 none: [0] fallthrough, [1] jump */
	int npred;
	bool back[2];	 /* succ[k] is a back edge */
};

#endif
