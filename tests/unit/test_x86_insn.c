/*
 * The guest runner's instruction decoder (seam/x86_insn.h) and the MSR
 * handling table (seam/td_msr.h): instruction lengths and operands of the
 * instructions the runner stops at, the I/O exit qualification and
 * instruction information, and the module's action per MSR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "seam/td.h"
#include "seam/td_msr.h"
#include "seam/x86_insn.h"
#include "tdx/arch.h"

struct dcase {
	uint8_t bytes[15];
	unsigned n;             /* bytes given */
	unsigned bits;
	unsigned len;           /* 0: -1 expected */
	unsigned op;
};

static void test_x86_insn__lengths(void **state)
{
	(void)state;
	static const struct dcase c[] = {
		{ { 0x90 }, 1, 64, 1, X86_OP_OTHER },
		{ { 0x48, 0x89, 0x04, 0x25, 0, 0x20, 0, 0 }, 8, 64, 8, X86_OP_OTHER },  /* mov [abs32], rax */
		{ { 0x48, 0x8B, 0x05, 1, 2, 3, 4 }, 7, 64, 7, X86_OP_OTHER },           /* mov rax, [rip+d32] */
		{ { 0x48, 0xB8, 1, 2, 3, 4, 5, 6, 7, 8 }, 10, 64, 10, X86_OP_OTHER },   /* movabs */
		{ { 0xB8, 1, 2, 3, 4 }, 5, 32, 5, X86_OP_OTHER },
		{ { 0x66, 0xB8, 1, 2 }, 4, 64, 4, X86_OP_OTHER },
		{ { 0xA1, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, 64, 9, X86_OP_OTHER },           /* mov eax, moffs64 */
		{ { 0xA1, 1, 2, 3, 4 }, 5, 32, 5, X86_OP_OTHER },                       /* mov eax, moffs32 */
		{ { 0x67, 0x8B, 0x46, 0x10 }, 4, 32, 4, X86_OP_OTHER },                 /* 16-bit [bp+d8] */
		{ { 0x67, 0x8B, 0x06, 1, 2 }, 5, 32, 5, X86_OP_OTHER },                 /* 16-bit [d16] */
		{ { 0xF7, 0x00, 1, 2, 3, 4 }, 6, 64, 6, X86_OP_OTHER },                 /* test [rax], imm32 */
		{ { 0xF7, 0x10 }, 2, 64, 2, X86_OP_OTHER },                             /* not [rax] */
		{ { 0xC8, 1, 2, 3 }, 4, 64, 4, X86_OP_OTHER },                          /* enter */
		{ { 0xE9, 1, 2, 3, 4 }, 5, 64, 5, X86_OP_OTHER },
		{ { 0x0F, 0x84, 1, 2, 3, 4 }, 6, 64, 6, X86_OP_OTHER },
		{ { 0x0F, 0x20, 0xC0 }, 3, 64, 3, X86_OP_OTHER },                       /* mov rax, cr0 */
		{ { 0x0F, 0x38, 0xF1, 0xC1 }, 4, 64, 4, X86_OP_OTHER },                 /* crc32 */
		{ { 0x66, 0x0F, 0x3A, 0x0F, 0xC1, 8 }, 6, 64, 6, X86_OP_OTHER },        /* palignr */
		{ { 0xC5, 0xF8, 0x77 }, 3, 64, 3, X86_OP_OTHER },                       /* vzeroupper */
		{ { 0xC4, 0xE3, 0x79, 0x0F, 0xC1, 8 }, 6, 64, 6, X86_OP_OTHER },        /* vpalignr */
		{ { 0x62, 0xF1, 0x7C, 0x48, 0x10, 0x40, 1 }, 7, 64, 7, X86_OP_OTHER },  /* vmovups zmm0, [rax+64] */
		{ { 0x66, 0x0F, 0x01, 0xCC }, 4, 64, 4, X86_OP_OTHER },                 /* TDCALL */
		{ { 0x0F, 0x32 }, 2, 64, 2, X86_OP_RDMSR },
		{ { 0x0F, 0x30 }, 2, 32, 2, X86_OP_WRMSR },
		{ { 0x0F, 0xA2 }, 2, 64, 2, X86_OP_CPUID },
		{ { 0xF4 }, 1, 64, 1, X86_OP_HLT },
		{ { 0x0F, 0x33 }, 2, 64, 2, X86_OP_RDPMC },
		{ { 0x0F, 0x08 }, 2, 64, 2, X86_OP_INVD },
		{ { 0x0F, 0x09 }, 2, 64, 2, X86_OP_WBINVD },
		{ { 0x0F, 0x01, 0xC1 }, 3, 64, 3, X86_OP_VMCALL },
		{ { 0x0F, 0x01, 0xC8 }, 3, 64, 3, X86_OP_MONITOR },
		{ { 0x0F, 0x01, 0xC9 }, 3, 64, 3, X86_OP_MWAIT },
		{ { 0x0F, 0x01, 0xC5 }, 3, 64, 3, X86_OP_PCONFIG },
		{ { 0x48, 0x8B }, 2, 64, 0, 0 },                                        /* truncated */
		{ { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90 },
		  15, 64, 15, X86_OP_OTHER },
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct x86_insn in;
		int rc = x86_decode(c[i].bytes, c[i].n, c[i].bits, &in);
		if (!c[i].len) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(in.len, c[i].len);
		assert_int_equal(in.op, c[i].op);
	}
}

static void test_x86_insn__io_qualification(void **state)
{
	(void)state;
	static const struct {
		uint8_t bytes[4];
		unsigned n, bits;
		uint16_t dx;
		uint64_t qual;
		uint32_t info;
		unsigned len;
	} c[] = {
		{ { 0xE4, 0x71 }, 2, 64, 0, 0x00710048, 0, 2 },                 /* in al, 71h */
		{ { 0x66, 0xE5, 0x80 }, 3, 64, 0, 0x00800049, 0, 3 },           /* in ax, 80h */
		{ { 0x48, 0xE5, 0x80 }, 3, 64, 0, 0x0080004B, 0, 3 },           /* REX.W: still 4 bytes */
		{ { 0xE7, 0x20 }, 2, 32, 0, 0x00200043, 0, 2 },                 /* out 20h, eax */
		{ { 0xEE }, 1, 64, 0x3F8, 0x03F80000, 0, 1 },                   /* out dx, al */
		{ { 0xED }, 1, 64, 0xCF8, 0x0CF8000B, 0, 1 },                   /* in eax, dx */
		{ { 0xF3, 0x6E }, 2, 64, 0x510, 0x05100030, (2u << 7) | (3u << 15), 2 },
		{ { 0x2E, 0xF3, 0x6F }, 3, 64, 0x510, 0x05100033, (2u << 7) | (1u << 15), 3 },
		{ { 0x67, 0x66, 0x6D }, 3, 64, 0x510, 0x05100019, 1u << 7, 3 },  /* insw, 32-bit addresses */
		{ { 0xF2, 0x6C }, 2, 32, 0x510, 0x05100038, 1u << 7, 2 },       /* repne insb counts as REP */
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct x86_insn in;
		assert_int_equal(x86_decode(c[i].bytes, c[i].n, c[i].bits, &in), 0);
		assert_true(in.op >= X86_OP_IN && in.op <= X86_OP_OUTS);
		assert_int_equal(in.len, c[i].len);
		uint16_t port = in.io_imm ? in.imm8 : c[i].dx;
		assert_int_equal(x86_io_exit_qual(&in, port), c[i].qual);
		assert_int_equal(x86_io_instr_info(&in), c[i].info);
	}
}

static void test_x86_insn__msr_actions(void **state)
{
	(void)state;
	static struct seam_td td;
	static struct seam_vcpu v;
	memset(&td, 0, sizeof(td));
	memset(&v, 0, sizeof(v));
	v.td = &td;
	/* Outside the bitmap ranges, or in them but not listed: #VE. */
	assert_int_equal(td_msr_action(NULL, &td, 0x40000100, false), TD_MSR_VE);
	assert_int_equal(td_msr_action(NULL, &td, 0x40000100, true), TD_MSR_VE);
	assert_int_equal(td_msr_action(NULL, &td, 0x1, false), TD_MSR_VE);
	assert_int_equal(td_msr_action(NULL, &td, 0x802, false), TD_MSR_VE);           /* x2APIC ID */
	assert_int_equal(td_msr_action(NULL, &td, 0x830, true), TD_MSR_VE);            /* x2APIC ICR */
	assert_int_equal(td_msr_action(NULL, &td, 0xC0000083, false), TD_MSR_VE);      /* CSTAR */
	/* Per direction. */
	assert_int_equal(td_msr_action(NULL, &td, 0x10, false), TD_MSR_NATIVE);        /* TSC */
	assert_int_equal(td_msr_action(NULL, &td, 0x10, true), TD_MSR_VE);
	assert_int_equal(td_msr_action(NULL, &td, 0xC0000080, false), TD_MSR_NATIVE);  /* EFER */
	assert_int_equal(td_msr_action(NULL, &td, 0xC0000080, true), TD_MSR_EMULATE);
	assert_int_equal(td_msr_action(NULL, &td, 0xC0000102, true), TD_MSR_NATIVE);   /* KERNEL_GS_BASE */
	assert_int_equal(td_msr_action(NULL, &td, 0x808, true), TD_MSR_NATIVE);        /* x2APIC TPR */
	assert_int_equal(td_msr_action(NULL, &td, 0xBD, false), TD_MSR_EMULATE);
	assert_int_equal(td_msr_action(NULL, &td, 0x1A0, true), TD_MSR_VE);            /* MISC_ENABLE */
	assert_int_equal(td_msr_action(NULL, &td, 0x481, false), TD_MSR_VE);           /* VMX_PINBASED */
	assert_int_equal(td_msr_action(NULL, &td, 0x481, true), TD_MSR_GP);
	/* #GP. */
	assert_int_equal(td_msr_action(NULL, &td, 0x8C, false), TD_MSR_GP);
	assert_int_equal(td_msr_action(NULL, &td, 0x800, false), TD_MSR_GP);
	assert_int_equal(td_msr_action(NULL, &td, 0x6E0, false), TD_MSR_GP);           /* no TSC deadline */
	/* Dynamic: by ATTRIBUTES / XFAM. */
	assert_int_equal(td_msr_action(NULL, &td, 0xC1, false), TD_MSR_GP);            /* PMC0 */
	assert_int_equal(td_msr_action(NULL, &td, 0x1A0, false), TD_MSR_EMULATE);
	assert_int_equal(td_msr_action(NULL, &td, 0x6A0, false), TD_MSR_GP);           /* U_CET */
	td.attributes = TDX_TD_ATTR_PERFMON;
	td.xfam = (1ULL << 11) | (1ULL << 12);
	assert_int_equal(td_msr_action(NULL, &td, 0xC1, false), TD_MSR_NATIVE);
	assert_int_equal(td_msr_action(NULL, &td, 0x1A0, false), TD_MSR_NATIVE);
	assert_int_equal(td_msr_action(NULL, &td, 0x6A0, true), TD_MSR_NATIVE);

	/* Emulation. */
	uint64_t val = 0;
	assert_int_equal(td_msr_emulate(NULL, &v, 0xBD, false, 0, &val), TD_MSR_EMULATE);
	assert_int_equal(val, 1);
	val = 0x901 ^ 1;                                /* EFER: SCE only */
	assert_int_equal(td_msr_emulate(NULL, &v, 0xC0000080, true, 0xD01, &val), TD_MSR_NATIVE);
	assert_int_equal(val, 0xD00);                   /* LMA kept */
	val = 0x101;                                    /* NXE cleared */
	assert_int_equal(td_msr_emulate(NULL, &v, 0xC0000080, true, 0xD01, &val), TD_MSR_VE);
	val = 1ULL << 40;
	assert_int_equal(td_msr_emulate(NULL, &v, 0x1D9, true, 0, &val), TD_MSR_GP);
	val = 1ULL << 6;                                /* TR without BTS */
	assert_int_equal(td_msr_emulate(NULL, &v, 0x1D9, true, 0, &val), TD_MSR_VE);
	val = (1ULL << 13) | 1;                         /* uncore PMI is not taken */
	assert_int_equal(td_msr_emulate(NULL, &v, 0x1D9, true, 0, &val), TD_MSR_EMULATE);
	assert_int_equal(td_msr_emulate(NULL, &v, 0x1D9, false, 0, &val), TD_MSR_EMULATE);
	assert_int_equal(val, 1);
	val = 1ULL << 8;                                /* XSS: PT not in XFAM */
	assert_int_equal(td_msr_emulate(NULL, &v, 0xDA0, true, 0, &val), TD_MSR_GP);
	val = 1ULL << 11;
	assert_int_equal(td_msr_emulate(NULL, &v, 0xDA0, true, 0, &val), TD_MSR_NATIVE);
	assert_int_equal(v.g.xss, 1ULL << 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_insn__lengths),
		cmocka_unit_test(test_x86_insn__io_qualification),
		cmocka_unit_test(test_x86_insn__msr_actions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
