/*
 * Instruction classes for the timing model (seam/x86_insn.h:
 * x86_block_cost), decoded with Capstone 4. Its own file: Capstone's
 * x86.h names an enum x86_insn, which x86_insn.c uses as a struct.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <capstone/capstone.h>

#include "models/cost.h"

struct x86_classifier;
struct x86_classifier *x86_classifier_new(void);
void x86_classifier_free(struct x86_classifier *c);
uint32_t x86_block_cost(struct x86_classifier *c, const uint8_t *code, size_t n, unsigned bits,
			uint64_t addr, const uint16_t *iclass, uint32_t *counts);
unsigned x86_classify_one(struct x86_classifier *c, const uint8_t *code, size_t n, unsigned bits);

struct x86_classifier {
	csh cs;
	cs_insn *insn;
	unsigned bits;                  /* the mode cs is in */
};

/*
 * Capstone 4.0.2 sorts one of its own tables lazily, without a lock, the
 * first time any handle prints an x86 instruction (X86_insn_reg_intel):
 * two threads' first cs_disasm at the same time race on it (found by the
 * ThreadSanitizer stage, test_soak). Disassemble once per process first.
 */
static pthread_once_t cs_warm_once = PTHREAD_ONCE_INIT;

static void cs_warm(void)
{
	static const uint8_t add_rax_rbx[] = { 0x48, 0x01, 0xd8 };
	csh h;
	cs_insn *insn;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return;
	size_t n = cs_disasm(h, add_rax_rbx, sizeof(add_rax_rbx), 0, 1, &insn);
	if (n)
		cs_free(insn, n);
	cs_close(&h);
}

struct x86_classifier *x86_classifier_new(void)
{
	pthread_once(&cs_warm_once, cs_warm);
	struct x86_classifier *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &c->cs) != CS_ERR_OK) {
		free(c);
		return NULL;
	}
	cs_option(c->cs, CS_OPT_DETAIL, CS_OPT_ON);
	c->insn = cs_malloc(c->cs);
	if (!c->insn) {
		cs_close(&c->cs);
		free(c);
		return NULL;
	}
	c->bits = 64;
	return c;
}

void x86_classifier_free(struct x86_classifier *c)
{
	if (!c)
		return;
	cs_free(c->insn, 1);
	cs_close(&c->cs);
	free(c);
}

static void set_mode(struct x86_classifier *c, unsigned bits)
{
	if (c->bits == bits)
		return;
	cs_option(c->cs, CS_OPT_MODE, bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16);
	c->bits = bits;
}

static bool is_string(unsigned id)
{
	switch (id) {
	case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
	case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
	case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
	case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
	case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD: case X86_INS_CMPSQ:
		return true;
	default:
		return false;
	}
}

/* Serialising or system instructions (and the ones the runner stops at,
 * which a block ends before: listed for completeness). */
static bool is_serial(unsigned id)
{
	switch (id) {
	case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
	case X86_INS_LGDT: case X86_INS_LIDT: case X86_INS_LLDT: case X86_INS_LTR:
	case X86_INS_INVLPG: case X86_INS_INVPCID: case X86_INS_MFENCE: case X86_INS_LFENCE:
	case X86_INS_SFENCE: case X86_INS_XSETBV: case X86_INS_WRMSR: case X86_INS_RDMSR:
	case X86_INS_CPUID: case X86_INS_WBINVD: case X86_INS_INVD: case X86_INS_CLI:
	case X86_INS_STI: case X86_INS_POPF: case X86_INS_POPFD: case X86_INS_POPFQ:
	case X86_INS_XSAVE: case X86_INS_XSAVEC: case X86_INS_XSAVEOPT: case X86_INS_XSAVES:
	case X86_INS_XRSTOR: case X86_INS_XRSTORS: case X86_INS_SWAPGS: case X86_INS_SYSCALL:
	case X86_INS_SYSRET: case X86_INS_INT: case X86_INS_INT3: case X86_INS_INTO:
	case X86_INS_UD2: case X86_INS_HLT: case X86_INS_RDTSC: case X86_INS_RDTSCP:
	case X86_INS_RDPMC: case X86_INS_CLFLUSH: case X86_INS_CLFLUSHOPT: case X86_INS_LMSW:
	case X86_INS_CLTS: case X86_INS_FXSAVE: case X86_INS_FXRSTOR: case X86_INS_FXSAVE64:
	case X86_INS_FXRSTOR64: case X86_INS_LSL: case X86_INS_LAR: case X86_INS_VERR:
	case X86_INS_VERW: case X86_INS_RSM: case X86_INS_VMCALL: case X86_INS_MONITOR:
	case X86_INS_MWAIT:
		return true;
	default:
		return false;
	}
}

static unsigned classify(struct x86_classifier *c, const cs_insn *in)
{
	const cs_detail *d = in->detail;
	const cs_x86 *x = &d->x86;
	unsigned id = in->id;

	if (id == X86_INS_PAUSE)
		return ICLASS_PAUSE;
	if (id == X86_INS_NOP || id == X86_INS_ENDBR64 || id == X86_INS_ENDBR32 || id == X86_INS_FNOP)
		return ICLASS_NOP;
	if (is_string(id))
		return x->prefix[0] == X86_PREFIX_REP || x->prefix[0] == X86_PREFIX_REPNE ?
		       ICLASS_STRING_REP : ICLASS_STRING;
	/* MOV to/from control and debug registers: serialising. */
	if (id == X86_INS_MOV) {
		for (unsigned i = 0; i < x->op_count; i++)
			if (x->operands[i].type == X86_OP_REG &&
			    ((x->operands[i].reg >= X86_REG_CR0 && x->operands[i].reg <= X86_REG_CR15) ||
			     (x->operands[i].reg >= X86_REG_DR0 && x->operands[i].reg <= X86_REG_DR15)))
				return ICLASS_SERIAL;
	}
	if (is_serial(id))
		return ICLASS_SERIAL;
	bool mem = false, mem_write = false, mem_read = false;
	for (unsigned i = 0; i < x->op_count; i++) {
		if (x->operands[i].type != X86_OP_MEM)
			continue;
		mem = true;
		if (x->operands[i].access & CS_AC_WRITE)
			mem_write = true;
		if (x->operands[i].access & CS_AC_READ)
			mem_read = true;
	}
	if (id == X86_INS_LEA || id == X86_INS_NOP)
		mem = mem_write = mem_read = false;
	if (x->prefix[0] == X86_PREFIX_LOCK || (id == X86_INS_XCHG && mem))
		return ICLASS_LOCKED;
	if (cs_insn_group(c->cs, in, CS_GRP_JUMP) || cs_insn_group(c->cs, in, CS_GRP_CALL) ||
	    cs_insn_group(c->cs, in, CS_GRP_RET))
		return ICLASS_BRANCH;
	if (cs_insn_group(c->cs, in, CS_GRP_IRET) || cs_insn_group(c->cs, in, CS_GRP_INT))
		return ICLASS_SERIAL;
	switch (id) {
	case X86_INS_DIV: case X86_INS_IDIV:
		return ICLASS_DIV;
	case X86_INS_MUL: case X86_INS_IMUL: case X86_INS_MULX:
		return ICLASS_MUL;
	default:
		break;
	}
	for (unsigned i = 0; i < d->groups_count; i++) {
		unsigned g = d->groups[i];
		if ((g >= X86_GRP_3DNOW && g <= X86_GRP_XOP) || g == X86_GRP_FPU)
			return mem_write ? ICLASS_STORE : ICLASS_SIMD;
	}
	if (mem_write)
		return mem_read ? ICLASS_RMW : ICLASS_STORE;
	if (mem_read || mem)
		return ICLASS_LOAD;
	return ICLASS_ALU;
}

uint32_t x86_block_cost(struct x86_classifier *c, const uint8_t *code, size_t n, unsigned bits,
			uint64_t addr, const uint16_t *iclass, uint32_t *counts)
{
	if (!c || !n)
		return 0;
	set_mode(c, bits);
	uint64_t sum = 0;
	const uint8_t *p = code;
	size_t left = n;
	uint64_t a = addr;
	while (left) {
		unsigned cls;
		size_t len;
		const uint8_t *q = p;
		size_t l = left;
		uint64_t qa = a;
		if (l >= 4 && q[0] == 0x66 && q[1] == 0x0F && q[2] == 0x01 &&
		    (q[3] == 0xCC || q[3] == 0xCF)) {
			/* TDCALL / SEAMCALL: Capstone 4 does not know them. */
			cls = ICLASS_SERIAL;
			len = 4;
		} else if (cs_disasm_iter(c->cs, &q, &l, &qa, c->insn)) {
			cls = classify(c, c->insn);
			len = c->insn->size;
		} else {
			/* Not decodable: one byte of OTHER, then go on. */
			cls = ICLASS_OTHER;
			len = 1;
		}
		sum += iclass[cls];
		if (counts)
			counts[cls]++;
		p += len;
		a += len;
		left -= len;
	}
	return sum > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)sum;
}

unsigned x86_classify_one(struct x86_classifier *c, const uint8_t *code, size_t n, unsigned bits)
{
	set_mode(c, bits);
	const uint8_t *q = code;
	size_t l = n;
	uint64_t a = 0;
	if (n >= 4 && code[0] == 0x66 && code[1] == 0x0F && code[2] == 0x01 &&
	    (code[3] == 0xCC || code[3] == 0xCF))
		return ICLASS_SERIAL;
	if (!cs_disasm_iter(c->cs, &q, &l, &a, c->insn))
		return ICLASS_OTHER;
	return classify(c, c->insn);
}
