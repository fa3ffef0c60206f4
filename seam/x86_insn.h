/*
 * A small x86 instruction decoder for the guest runner (seam/td_run.c): the
 * length of any general-purpose instruction (legacy prefixes, REX, the
 * one-byte, 0F, 0F38 and 0F3A maps, VEX and EVEX), and the operands of the
 * instructions a TD cannot execute natively (the ones the TDX module or the
 * CPU turns into a #VE, a #GP or an emulation): IN/OUT/INS/OUTS, RDMSR,
 * WRMSR, CPUID, HLT, RDPMC, INVD, WBINVD, VMCALL, MONITOR, MWAIT, PCONFIG,
 * and RDTSC/RDTSCP (the TD's TSC comes from the timing model).
 *
 * The runner scans every translated block with it before the block runs and
 * stops the engine at those instructions, so that they never execute in
 * Unicorn (which would run them itself: RDMSR/WRMSR without any hook, IN/OUT
 * with hooks that do not stop at the instruction).
 */
#ifndef SEAM_X86_INSN_H
#define SEAM_X86_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_op {
	X86_OP_OTHER = 0,
	X86_OP_IN, X86_OP_OUT, X86_OP_INS, X86_OP_OUTS,
	X86_OP_RDMSR, X86_OP_WRMSR, X86_OP_CPUID, X86_OP_HLT, X86_OP_RDPMC,
	X86_OP_INVD, X86_OP_WBINVD, X86_OP_VMCALL, X86_OP_MONITOR, X86_OP_MWAIT,
	X86_OP_PCONFIG,
	X86_OP_RDTSC, X86_OP_RDTSCP,    /* the TD's virtual TSC (the timing model's clock) */
};

#define X86_SEG_NONE 0xFF               /* no segment override */

struct x86_insn {
	uint8_t len;            /* bytes, prefixes included (1..15) */
	uint8_t op;             /* enum x86_op */
	uint8_t io_size;        /* IN/OUT/INS/OUTS: access size 1, 2 or 4 */
	uint8_t addr_size;      /* effective address size: 2, 4 or 8 */
	uint8_t seg;            /* segment override (0 ES .. 5 GS) or X86_SEG_NONE */
	bool rep;               /* F3 or F2 prefix */
	bool io_imm;            /* IN/OUT: the port is the imm8 (else DX) */
	bool branch;            /* may transfer control elsewhere than the next instruction */
	uint8_t imm8;           /* IN/OUT imm8 form: the port */
};

/*
 * Decode the instruction at code[0..n) in a code segment of `bits` (16, 32
 * or 64) default size. Returns 0 with *out filled, -1 if the bytes are not
 * a complete instruction (truncated, longer than 15 bytes).
 */
int x86_decode(const uint8_t *code, size_t n, unsigned bits, struct x86_insn *out);

/* The instruction stops the runner (out->op != X86_OP_OTHER). */
static inline bool x86_insn_special(const struct x86_insn *i)
{
	return i->op != X86_OP_OTHER;
}

/*
 * VMX exit qualification of an I/O instruction (SDM Vol. 3C, "Exit
 * Qualification for I/O Instructions"): bits 2:0 size - 1, bit 3 direction
 * (1 = IN), bit 4 string, bit 5 REP, bit 6 operand encoding (1 =
 * immediate), bits 31:16 the port.
 */
uint64_t x86_io_exit_qual(const struct x86_insn *i, uint16_t port);

/*
 * VMX VM-exit instruction information of INS/OUTS (SDM Vol. 3C, "VM-Exit
 * Instruction-Information Field" for INS and OUTS): bits 9:7 address size
 * (0 16-bit, 1 32-bit, 2 64-bit), bits 17:15 the segment register (OUTS:
 * the override or DS; INS always uses ES). 0 for other instructions.
 */
uint32_t x86_io_instr_info(const struct x86_insn *i);

/*
 * Instruction classes for the timing model (models/cost.h, enum
 * tdxsim_insn_class): a translated block is decoded once with Capstone and
 * its cost is the sum of its instructions' class costs (1/16 cycle), which
 * the runner charges every time the block runs. One classifier per engine
 * (a Capstone handle; not shared between threads).
 */
struct x86_classifier;
struct x86_classifier *x86_classifier_new(void);
void x86_classifier_free(struct x86_classifier *c);
/* Cost in 1/16 cycle (TDXSIM_ICLASS_SHIFT) of the block code[0..n) at
 * address addr in a `bits` code segment, from the per-class costs iclass[]
 * (models/cost.h); bytes Capstone cannot decode count as OTHER, one per
 * byte. If counts is not NULL it gets the instructions per class added
 * (ICLASS_N entries). */
uint32_t x86_block_cost(struct x86_classifier *c, const uint8_t *code, size_t n, unsigned bits,
			uint64_t addr, const uint16_t *iclass, uint32_t *counts);
/* The class of one decoded instruction (the same rules), for tests. */
unsigned x86_classify_one(struct x86_classifier *c, const uint8_t *code, size_t n, unsigned bits);

#endif
