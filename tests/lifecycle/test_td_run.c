/*
 * TDH.VP.ENTER running a real guest (seam/td_run.c): a tiny hand-assembled
 * guest PAGE.ADDed at the reset vector boots from the VP.INIT state (32-bit
 * protected mode, paging off), builds one page of identity paging, enters
 * long mode and talks to the host with TDG.VP.VMCALL; the tests check the TD
 * exits the host sees (tdx-abi.md 2.3).
 *
 * Guest memory (private, all PAGE.ADDed, debug TD):
 *   0xFFFFF000 code (the reset vector 0xFFFFFFF0 jumps to its start):
 *              +0x000 32-bit boot, +0x050 64-bit prologue (IDT, stack),
 *              +0x200 the test's program, +0x400 #VE handler, +0x480 #PF
 *              handler, +0x500 #UD handler, +0x800 IDT
 *   0xFFFFE000 the page table: PML4[0] -> itself as PDPT, PDPT[3] -> itself
 *              as PD, PD[511] = 2 MiB page at 0xFFE00000 (covers all three)
 *   0xFFFFD000 data; the stack below 0xFFFFDF00
 *   0xFFFFC000 not mapped (EPT violation)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tsim.h"
#include "tsim_td.h"
#include "seam/vp_enter.h"
#include "seam/metadata_td.h"
#include "seam/td.h"

#define GPA_CODE   0xFFFFF000ULL
#define GPA_PT     0xFFFFE000ULL
#define GPA_DATA   0xFFFFD000ULL
#define GPA_HOLE   0xFFFFC000ULL
#define DATA_VALUE 0x1122334455667788ULL

#define EXIT_VMCALL (TDX_SUCCESS | 77)
#define EXIT_HLT    (TDX_SUCCESS | 12)
#define EXIT_EPT    (TDX_SUCCESS | 48)
#define EXIT_INTR   (TDX_SUCCESS | 1)
#define EXIT_FATAL  (TDX_NON_RECOVERABLE_VCPU | 2)

/* RCX of the guest's VMCALLs: R11, R12, R13. */
#define MASK_R11_R13 0x3800ULL

/* Offset 0 (32-bit): paging, GDT, long mode, far jump to 0x50 (64-bit). */
static const uint8_t boot32[] = {
	0xB8, 0x03, 0xE0, 0xFF, 0xFF,                   /* mov eax, 0xFFFFE003 */
	0xA3, 0x00, 0xE0, 0xFF, 0xFF,                   /* mov [0xFFFFE000], eax: PML4[0] */
	0xA3, 0x18, 0xE0, 0xFF, 0xFF,                   /* mov [0xFFFFE018], eax: PDPT[3] */
	0xC7, 0x05, 0xF8, 0xEF, 0xFF, 0xFF,             /* mov dword [0xFFFFEFF8], */
	0x83, 0x00, 0xE0, 0xFF,                         /*   0xFFE00083: PD[511], 2M */
	0xB8, 0x00, 0xE0, 0xFF, 0xFF,                   /* mov eax, 0xFFFFE000 */
	0x0F, 0x22, 0xD8,                               /* mov cr3, eax */
	0x0F, 0x20, 0xE0,                               /* mov eax, cr4 */
	0x83, 0xC8, 0x20,                               /* or eax, PAE */
	0x0F, 0x22, 0xE0,                               /* mov cr4, eax */
	0x0F, 0x01, 0x15, 0x00, 0xF1, 0xFF, 0xFF,       /* lgdt [0xFFFFF100] */
	0x0F, 0x20, 0xC0,                               /* mov eax, cr0 */
	0x0D, 0x00, 0x00, 0x00, 0x80,                   /* or eax, PG (EFER.LME is set) */
	0x0F, 0x22, 0xC0,                               /* mov cr0, eax */
	0xEA, 0x50, 0xF0, 0xFF, 0xFF, 0x08, 0x00,       /* jmp 0x08:0xFFFFF050 */
};

/* Offset 0x50 (64-bit): IDT, stack, jump to the program at 0x200. */
static const uint8_t prologue64[] = {
	0xB8, 0x10, 0xF1, 0xFF, 0xFF,                   /* mov eax, 0xFFFFF110 */
	0x0F, 0x01, 0x18,                               /* lidt [rax] */
	0xBC, 0x00, 0xDF, 0xFF, 0xFF,                   /* mov esp, 0xFFFFDF00 */
	0xE9, 0x9E, 0x01, 0x00, 0x00,                   /* jmp 0xFFFFF200 */
};

/* #VE handler (0x400): VEINFO.GET, report RCX (reason), R10 (length),
 * RAX (status) in R11-R13 by VMCALL, skip the instruction, IRETQ. */
static const uint8_t ve_handler[] = {
	0xB8, 0x03, 0x00, 0x00, 0x00,                   /* mov eax, 3: VP.VEINFO.GET */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall */
	0x49, 0x89, 0xCB,                               /* mov r11, rcx */
	0x4D, 0x89, 0xD4,                               /* mov r12, r10 */
	0x49, 0x89, 0xC5,                               /* mov r13, rax */
	0x31, 0xC0,                                     /* xor eax, eax */
	0xB9, 0x00, 0x38, 0x00, 0x00,                   /* mov ecx, 0x3800 */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall (VMCALL) */
	0x45, 0x89, 0xD2,                               /* mov r10d, r10d */
	0x4C, 0x01, 0x14, 0x24,                         /* add [rsp], r10 */
	0x48, 0xCF,                                     /* iretq */
};

/* #PF handler (0x480): report CR2, the error code and 14, skip the
 * 10-byte faulting instruction. */
static const uint8_t pf_handler[] = {
	0x41, 0x0F, 0x20, 0xD3,                         /* mov r11, cr2 */
	0x4C, 0x8B, 0x24, 0x24,                         /* mov r12, [rsp] */
	0x49, 0xC7, 0xC5, 0x0E, 0x00, 0x00, 0x00,       /* mov r13, 14 */
	0x31, 0xC0,                                     /* xor eax, eax */
	0xB9, 0x00, 0x38, 0x00, 0x00,                   /* mov ecx, 0x3800 */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall (VMCALL) */
	0x48, 0x83, 0xC4, 0x08,                         /* add rsp, 8 */
	0x48, 0x83, 0x04, 0x24, 0x0A,                   /* add qword [rsp], 10 */
	0x48, 0xCF,                                     /* iretq */
};

/* #UD handler (0x500): report the saved RIP and 6, skip a 2-byte UD2. */
static const uint8_t ud_handler[] = {
	0x4C, 0x8B, 0x1C, 0x24,                         /* mov r11, [rsp] */
	0x49, 0xC7, 0xC5, 0x06, 0x00, 0x00, 0x00,       /* mov r13, 6 */
	0x31, 0xC0,                                     /* xor eax, eax */
	0xB9, 0x00, 0x38, 0x00, 0x00,                   /* mov ecx, 0x3800 */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall (VMCALL) */
	0x48, 0x83, 0x04, 0x24, 0x02,                   /* add qword [rsp], 2 */
	0x48, 0xCF,                                     /* iretq */
};

/* #DE handler (0x580): report the saved RIP and 0, skip a 2-byte DIV. */
static const uint8_t de_handler[] = {
	0x4C, 0x8B, 0x1C, 0x24,                         /* mov r11, [rsp] */
	0x49, 0xC7, 0xC5, 0x00, 0x00, 0x00, 0x00,       /* mov r13, 0 */
	0x31, 0xC0,                                     /* xor eax, eax */
	0xB9, 0x00, 0x38, 0x00, 0x00,                   /* mov ecx, 0x3800 */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall (VMCALL) */
	0x48, 0x83, 0x04, 0x24, 0x02,                   /* add qword [rsp], 2 */
	0x48, 0xCF,                                     /* iretq */
};

#define PROG_OFF 0x200
#define VMCALL_R11_R13 0x31, 0xC0, 0xB9, 0x00, 0x38, 0x00, 0x00, 0x66, 0x0F, 0x01, 0xCC

/* Program: VMCALLs, a store, HLT (a #VE), a read of an unmapped GPA. */
static const uint8_t main64[] = {
	0x49, 0xC7, 0xC3, 0x34, 0x12, 0x00, 0x00,       /* mov r11, 0x1234 */
	0x49, 0xC7, 0xC4, 0x78, 0x56, 0x00, 0x00,       /* mov r12, 0x5678 */
	0x49, 0xC7, 0xC5, 0xBC, 0x9A, 0x00, 0x00,       /* mov r13, 0x9ABC */
	0x49, 0xC7, 0xC6, 0xAD, 0xDE, 0x00, 0x00,       /* mov r14, 0xDEAD (not exposed) */
	0x31, 0xC0,                                     /* xor eax, eax: VP.VMCALL */
	0xB9, 0x00, 0x38, 0x00, 0x00,                   /* mov ecx, 0x3800 */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall (exit 1) */
	0x4D, 0x89, 0xDC,                               /* mov r12, r11: echo the host's R11 */
	0x49, 0xC7, 0xC3, 0x22, 0x22, 0x00, 0x00,       /* mov r11, 0x2222 */
	0x31, 0xC0,                                     /* xor eax, eax */
	0xB9, 0x11, 0x00, 0x00, 0x00,                   /* mov ecx, 0x11: RAX, RSP bits */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall: refused, no exit */
	0x49, 0x89, 0xC5,                               /* mov r13, rax */
	0x31, 0xC0,                                     /* xor eax, eax */
	0xB9, 0x00, 0x38, 0x00, 0x00,                   /* mov ecx, 0x3800 */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall (exit 2) */
	0x48, 0xB8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* mov rax, DATA_VALUE */
	0x48, 0xA3, 0x00, 0xD0, 0xFF, 0xFF, 0, 0, 0, 0, /* mov [0xFFFFD000], rax */
	0xF4,                                           /* hlt (#VE: exit 3) */
	0x48, 0xA1, 0x00, 0xC0, 0xFF, 0xFF, 0, 0, 0, 0, /* mov rax, [0xFFFFC000] (exit 4) */
	0xEB, 0xFE,                                     /* jmp $ */
};

/* GDT at 0xE0: null, 64-bit code (selector 8), data; GDTR at 0x100. */
static const uint64_t gdt[3] = { 0, 0x00AF9A000000FFFFULL, 0x00CF92000000FFFFULL };

/* Program: a write to an unmapped VA (#PF), then a VMCALL with R11 = 0x77. */
static const uint8_t prog_pf[] = {
	0x48, 0xA3, 0x08, 0x00, 0x00, 0x40, 0, 0, 0, 0, /* mov [0x40000008], rax */
	0x49, 0xC7, 0xC3, 0x77, 0x00, 0x00, 0x00,       /* mov r11, 0x77 */
	VMCALL_R11_R13,
	0xEB, 0xFE,                                     /* jmp $ */
};

/* Program: CPUID(0) reported (EAX, EBX, EDX), CPUID(0x40000000) (#VE),
 * then a VMCALL with R11 = 0x99. */
static const uint8_t prog_cpuid[] = {
	0x31, 0xC0,                                     /* xor eax, eax */
	0x31, 0xC9,                                     /* xor ecx, ecx */
	0x0F, 0xA2,                                     /* cpuid */
	0x49, 0x89, 0xC3,                               /* mov r11, rax */
	0x49, 0x89, 0xDC,                               /* mov r12, rbx */
	0x49, 0x89, 0xD5,                               /* mov r13, rdx */
	VMCALL_R11_R13,
	0xB8, 0x00, 0x00, 0x00, 0x40,                   /* mov eax, 0x40000000 */
	0x31, 0xC9,                                     /* xor ecx, ecx */
	0x0F, 0xA2,                                     /* cpuid (#VE) */
	0x49, 0xC7, 0xC3, 0x99, 0x00, 0x00, 0x00,       /* mov r11, 0x99 */
	VMCALL_R11_R13,
	0xEB, 0xFE,                                     /* jmp $ */
};

/* Program: PD[510] = 2 MiB page at shared GPA 1 << 47 (VA 0xFFC00000),
 * read the qword at offset 8, report it. */
static const uint8_t prog_shared[] = {
	0x48, 0xB8, 0x83, 0, 0, 0, 0, 0x80, 0, 0,       /* mov rax, 0x800000000083 */
	0x48, 0xA3, 0xF0, 0xEF, 0xFF, 0xFF, 0, 0, 0, 0, /* mov [0xFFFFEFF0], rax */
	0x48, 0xA1, 0x08, 0x00, 0xC0, 0xFF, 0, 0, 0, 0, /* mov rax, [0xFFC00008] */
	0x49, 0x89, 0xC3,                               /* mov r11, rax */
	VMCALL_R11_R13,
	0xEB, 0xFE,                                     /* jmp $ */
};

/* Program: three divisions by zero (#DE each), then a VMCALL with
 * R11 = 0x55. */
static const uint8_t prog_de[] = {
	0x31, 0xC9,                                     /* xor ecx, ecx */
	0xF7, 0xF1,                                     /* div ecx */
	0xF7, 0xF1,                                     /* div ecx */
	0xF7, 0xF1,                                     /* div ecx */
	0x49, 0xC7, 0xC3, 0x55, 0x00, 0x00, 0x00,       /* mov r11, 0x55 */
	VMCALL_R11_R13,
	0xEB, 0xFE,                                     /* jmp $ */
};

/* Program: UD2 (#UD through the IDT), then a VMCALL with R11 = 0x66. */
static const uint8_t prog_ud[] = {
	0x0F, 0x0B,                                     /* ud2 */
	0x49, 0xC7, 0xC3, 0x66, 0x00, 0x00, 0x00,       /* mov r11, 0x66 */
	VMCALL_R11_R13,
	0xEB, 0xFE,                                     /* jmp $ */
};

/* The reset vector, 0xFFFFFFF0: jmp 0xFFFFF000. */
static const uint8_t reset_jmp[] = { 0xE9, 0x0B, 0xF0, 0xFF, 0xFF };

struct fx {
	struct tsim_env e;
	struct tsim_td td;
	struct tsim_vcpu *vc;
	uint64_t data_pa;
};

/* A 64-bit interrupt gate to code offset off, selector 8. */
static void idt_gate(uint8_t *page, unsigned vec, unsigned off)
{
	uint64_t target = GPA_CODE + off;
	uint64_t lo = (target & 0xFFFF) | (8ULL << 16) | (0x8EULL << 40) |
		      ((target >> 16 & 0xFFFF) << 48);
	uint64_t hi = target >> 32;
	memcpy(page + 0x800 + 16 * vec, &lo, 8);
	memcpy(page + 0x800 + 16 * vec + 8, &hi, 8);
}

static void build_code(uint8_t *page, const uint8_t *prog, size_t prog_len,
		       const uint8_t *reset, size_t reset_len)
{
	memset(page, 0xF4, 4096);                       /* stray jumps halt */
	memcpy(page, boot32, sizeof(boot32));
	memcpy(page + 0x50, prologue64, sizeof(prologue64));
	memcpy(page + PROG_OFF, prog, prog_len);
	memcpy(page + 0x400, ve_handler, sizeof(ve_handler));
	memcpy(page + 0x480, pf_handler, sizeof(pf_handler));
	memcpy(page + 0x500, ud_handler, sizeof(ud_handler));
	memcpy(page + 0x580, de_handler, sizeof(de_handler));
	memset(page + 0x800, 0, 16 * 21);
	idt_gate(page, 0, 0x580);
	idt_gate(page, 6, 0x500);
	idt_gate(page, 14, 0x480);
	idt_gate(page, 20, 0x400);
	memcpy(page + 0xE0, gdt, sizeof(gdt));
	uint16_t limit = sizeof(gdt) - 1;
	uint32_t base = (uint32_t)(GPA_CODE + 0xE0);
	memcpy(page + 0x100, &limit, 2);
	memcpy(page + 0x102, &base, 4);
	limit = 16 * 21 - 1;
	uint64_t idt_base = GPA_CODE + 0x800;         /* 64-bit LIDT: 8-byte base */
	memcpy(page + 0x110, &limit, 2);
	memcpy(page + 0x112, &idt_base, 8);
	memcpy(page + 0xFF0, reset, reset_len);
}

/* A debug TD with the guest (program and reset code given), finalized,
 * one vCPU. */
static void fx_init_attr(struct fx *f, uint64_t attr, const uint8_t *prog, size_t prog_len,
			 const uint8_t *reset, size_t reset_len)
{
	static uint8_t code[4096];
	memset(f, 0, sizeof(*f));
	tsim_env_init(&f->e);
	tsim_td_build(&f->e, &f->td, attr, 4);
	f->vc = tsim_vcpu_add(&f->td, 0);
	build_code(code, prog, prog_len, reset, reset_len);
	tsim_page_add(&f->td, GPA_CODE, code, true);
	tsim_page_add(&f->td, GPA_PT, NULL, true);
	f->data_pa = tsim_page_add(&f->td, GPA_DATA, NULL, true);
	tsim_td_finalize(&f->td);
}

static void fx_init_prog(struct fx *f, const uint8_t *prog, size_t prog_len,
			 const uint8_t *reset, size_t reset_len)
{
	fx_init_attr(f, TDX_TD_ATTR_DEBUG, prog, prog_len, reset, reset_len);
}

static void fx_init_with(struct fx *f, const uint8_t *reset, size_t reset_len)
{
	fx_init_prog(f, main64, sizeof(main64), reset, reset_len);
}

static void fx_init(struct fx *f)
{
	fx_init_with(f, reset_jmp, sizeof(reset_jmp));
}

static void fx_fini(struct fx *f)
{
	tsim_td_teardown(&f->td);
	tsim_env_fini(&f->e);
}

static uint64_t enter(struct fx *f, struct tdx_module_args *a)
{
	a->rcx = f->vc->tdvpr;
	return seamcall_raw(f->e.s, f->vc->lp, TDH_VP_ENTER, a);
}

static uint64_t enter_clean(struct fx *f, struct tdx_module_args *a)
{
	memset(a, 0, sizeof(*a));
	return enter(f, a);
}

/* First entry: the guest boots to long mode and exits with its first
 * VMCALL; only the GPRs in the mask reach the host. */
static void test_td_run__vmcall_exposes_selected_gprs(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct tdx_module_args a;
	memset(&a, 0x5A, sizeof(a));
	assert_int_equal(enter(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.rcx, MASK_R11_R13);
	assert_int_equal(a.r11, 0x1234);
	assert_int_equal(a.r12, 0x5678);
	assert_int_equal(a.r13, 0x9ABC);
	/* R14 held 0xDEAD in the guest but was not selected. */
	assert_int_equal(a.r14, 0);
	assert_int_equal(a.r15, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10, 0);
	assert_int_equal(a.rbx, 0);
	assert_int_equal(a.rsi, 0);
	assert_int_equal(a.rdi, 0);
	/* The guest runs in long mode with paging now (TDVPS state). */
	struct seam_td *std = tsim_td_obj(&f.td);
	assert_non_null(std);
	seam_vp_state_sync(std->vcpus[0]);     /* saved from the engine on demand */
	assert_true(std->vcpus[0]->g.efer & (1ULL << 10));
	assert_true(std->vcpus[0]->g.cr0 & (1ULL << 31));
	assert_int_equal(std->vcpus[0]->g.cr3, GPA_PT);
	fx_fini(&f);
}

/* The next entry gives the guest the host's selected GPRs (and RAX = 0):
 * the guest echoes R11 back in R12 at its next VMCALL. In between, a
 * refused VMCALL mask (RAX, RSP bits) returned OPERAND_INVALID + RCX to the
 * guest without an exit. A MEM.TRACK between the entries (a new TD epoch)
 * drops the runner's private copies: the guest's page walk refaults. */
static void test_td_run__vmcall_returns_host_gprs(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	struct tdx_module_args t = { .rcx = f.td.tdr };
	seamcall_ok(f.e.s, f.td.lp, TDH_MEM_TRACK, &t);
	memset(&a, 0, sizeof(a));
	a.r11 = 0xCAFEF00DULL;
	a.r12 = 0x1111;
	a.r14 = 0x4444;                 /* not selected: not delivered */
	assert_int_equal(enter(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.rcx, MASK_R11_R13);
	assert_int_equal(a.r11, 0x2222);
	assert_int_equal(a.r12, 0xCAFEF00DULL);
	assert_int_equal(a.r13, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	assert_int_equal(a.r14, 0);
	struct seam_td *std = tsim_td_obj(&f.td);
	assert_int_equal(std->vcpus[0]->g.gpr[14], 0xDEAD);
	fx_fini(&f);
}

/* HLT is a #VE (exit reason 12, length 1), not a TD exit: the guest's
 * #VE handler reads VE_INFO with TDG.VP.VEINFO.GET and reports it by
 * VMCALL, then resumes after the HLT (its next access is the EPT
 * violation of the hole). */
static void test_td_run__hlt_ve(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 12);    /* exit reason HLT */
	assert_int_equal(a.r12, 1);     /* instruction length */
	assert_int_equal(a.r13, TDX_SUCCESS);
	struct seam_td *std = tsim_td_obj(&f.td);
	assert_false(std->vcpus[0]->ve_valid);
	assert_int_equal(enter_clean(&f, &a), EXIT_EPT);
	assert_int_equal(std->vcpus[0]->g.rip, GPA_CODE + PROG_OFF + sizeof(main64) - 12);
	fx_fini(&f);
}

/* The page the guest wrote is ciphertext in RAM and reads back through
 * TDH.MEM.RD (debug TD) with the value the guest stored. */
static void test_td_run__guest_write_encrypted(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);  /* #VE of the HLT */
	uint64_t raw;
	memcpy(&raw, tdxsim_pa_to_ptr(f.e.s, f.data_pa), 8);
	assert_int_not_equal(raw, DATA_VALUE);
	struct tdx_module_args r = { .rcx = GPA_DATA, .rdx = f.td.tdr };
	seamcall_ok(f.e.s, f.td.lp, TDH_MEM_RD, &r);
	assert_int_equal(r.r8, DATA_VALUE);
	fx_fini(&f);
}

/* A read of an unmapped private GPA: EPT violation, R8 = GPA, RCX = read;
 * after PAGE.AUG the page is PENDING: with SEPT_VE_DISABLE a TD exit with
 * extended qualification type 6. */
static void test_td_run__ept_violation(void **state)
{
	(void)state;
	struct fx f;
	fx_init_attr(&f, TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE, main64, sizeof(main64),
		     reset_jmp, sizeof(reset_jmp));
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);  /* #VE of the HLT */
	memset(&a, 0x5A, sizeof(a));
	assert_int_equal(enter(&f, &a), EXIT_EPT);
	assert_int_equal(a.r8, GPA_HOLE);
	assert_int_equal(a.rcx, 1);     /* data read, nothing allowed */
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r11, 0);
	tsim_page_aug(&f.td, GPA_HOLE, 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(enter(&f, &a), EXIT_EPT);
	assert_int_equal(a.r8, GPA_HOLE);
	assert_int_equal(a.rcx, 1);
	assert_int_equal(a.rdx, 6);     /* PENDING_EPT_VIOLATION (SEPT_VE_DISABLE) */
	fx_fini(&f);
}

/* Without SEPT_VE_DISABLE an access to a PENDING page is a #VE (exit
 * reason 48) with the GPA, the GLA and the qualification in VE_INFO. */
static void test_td_run__pending_ve(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);  /* #VE of the HLT */
	tsim_page_aug(&f.td, GPA_HOLE, 0);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 48);
	assert_int_equal(a.r13, TDX_SUCCESS);
	struct seam_td *std = tsim_td_obj(&f.td);
	const struct seam_ve_info *ve = &std->vcpus[0]->ve;
	assert_int_equal(ve->gpa, GPA_HOLE);
	assert_int_equal(ve->gla, GPA_HOLE);
	assert_int_equal(ve->exit_qual & 7, 1);         /* data read */
	assert_true(ve->exit_qual & (1ULL << 7));       /* GLA valid */
	fx_fini(&f);
}

/* A write to a VA the guest's page tables do not map: a #PF delivered
 * through the guest's IDT with CR2 the exact address and error code W;
 * the handler skips the instruction and the program goes on. */
static void test_td_run__guest_page_fault(void **state)
{
	(void)state;
	struct fx f;
	fx_init_prog(&f, prog_pf, sizeof(prog_pf), reset_jmp, sizeof(reset_jmp));
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 0x40000008ULL);        /* CR2 */
	assert_int_equal(a.r12, 2);                     /* not present, write, supervisor */
	assert_int_equal(a.r13, 14);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 0x77);
	struct seam_td *std = tsim_td_obj(&f.td);
	seam_vp_state_sync(std->vcpus[0]);
	assert_int_equal(std->vcpus[0]->g.cr2, 0x40000008ULL);
	fx_fini(&f);
}

/* UD2 is a #UD delivered through the guest's IDT (RIP of the UD2 saved);
 * the handler skips it. */
static void test_td_run__guest_ud_delivered(void **state)
{
	(void)state;
	struct fx f;
	fx_init_prog(&f, prog_ud, sizeof(prog_ud), reset_jmp, sizeof(reset_jmp));
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, GPA_CODE + PROG_OFF);
	assert_int_equal(a.r13, 6);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 0x66);
	fx_fini(&f);
}

/* Repeated #DE (a contributory exception Unicorn raises) are each
 * delivered as #DE, not turned into #DF / triple fault by Unicorn's own
 * double-fault tracking. */
static void test_td_run__repeated_exceptions(void **state)
{
	(void)state;
	struct fx f;
	fx_init_prog(&f, prog_de, sizeof(prog_de), reset_jmp, sizeof(reset_jmp));
	struct tdx_module_args a;
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
		assert_int_equal(a.r11, GPA_CODE + PROG_OFF + 2 + 2 * i);
		assert_int_equal(a.r13, 0);
	}
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 0x55);
	fx_fini(&f);
}

/* CPUID of a leaf the module virtualises returns the TD's values in the
 * guest without an exit; a leaf it leaves to the VMM is a #VE with exit
 * reason 10 and length 2, after which the guest goes on. */
static void test_td_run__cpuid(void **state)
{
	(void)state;
	struct fx f;
	fx_init_prog(&f, prog_cpuid, sizeof(prog_cpuid), reset_jmp, sizeof(reset_jmp));
	struct seam_td *std = tsim_td_obj(&f.td);
	uint32_t want[4], none[4];
	assert_true(md_td_cpuid(f.e.s, std, 0, 0, want));
	assert_false(md_td_cpuid(f.e.s, std, 0x40000000u, 0, none));
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, want[0]);
	assert_int_equal(a.r12, want[1]);
	assert_int_equal(a.r13, want[3]);
	assert_int_equal(a.r12, 0x756E6547);            /* "Genu" */
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 10);                    /* exit reason CPUID */
	assert_int_equal(a.r12, 2);
	assert_int_equal(a.r13, TDX_SUCCESS);
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 0x99);
	fx_fini(&f);
}

/* The guest maps shared GPA 1 << 47 through its own page tables (a PTE
 * with the shared bit) and reads the host's bytes there, through the
 * shared EPT the host built (indexed by the whole GPA, shared bit
 * included). */
static void test_td_run__shared_read(void **state)
{
	(void)state;
	struct fx f;
	fx_init_prog(&f, prog_shared, sizeof(prog_shared), reset_jmp, sizeof(reset_jmp));
	uint64_t pml4 = tsim_page(&f.e), pdpt = tsim_page(&f.e), pd = tsim_page(&f.e);
	uint64_t pt = tsim_page(&f.e), data = tsim_page(&f.e);
	uint64_t e;
	e = pdpt | 7;                   /* PML4[256]: the shared bit indexes the EPT too */
	memcpy((uint8_t *)tdxsim_pa_to_ptr(f.e.s, pml4) + 8 * 256, &e, 8);
	e = pd | 7;
	memcpy(tdxsim_pa_to_ptr(f.e.s, pdpt), &e, 8);
	e = pt | 7;
	memcpy(tdxsim_pa_to_ptr(f.e.s, pd), &e, 8);
	e = data | 7;
	memcpy(tdxsim_pa_to_ptr(f.e.s, pt), &e, 8);
	e = 0x5EEDF00DCAFEBEEFULL;
	memcpy((uint8_t *)tdxsim_pa_to_ptr(f.e.s, data) + 8, &e, 8);
	struct seam_td *std = tsim_td_obj(&f.td);
	std->vcpus[0]->vmcs.shared_eptp = pml4 | (3 << 3);
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_VMCALL);
	assert_int_equal(a.r11, 0x5EEDF00DCAFEBEEFULL);
	fx_fini(&f);
}

/* A guest that spins returns to the host after its run budget with an
 * external-interrupt exit, and continues at the next entry. */
static void test_td_run__spin_budget_exit(void **state)
{
	(void)state;
	static const uint8_t spin[] = { 0xEB, 0xFE };  /* jmp $ at the reset vector */
	struct fx f;
	fx_init_with(&f, spin, sizeof(spin));
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_INTR);
	assert_int_equal(a.r9, 0x800000ECULL);
	assert_int_equal(a.r8, 0);
	assert_int_equal(enter_clean(&f, &a), EXIT_INTR);
	struct seam_td *std = tsim_td_obj(&f.td);
	assert_int_equal(std->vcpus[0]->g.rip, 0xFFFFFFF0ULL);
	fx_fini(&f);
}

/* An exception the guest cannot handle (UD2 at the reset vector): triple
 * fault, NON_RECOVERABLE_VCPU, and the vCPU cannot be entered again. */
static void test_td_run__guest_exception_fatal(void **state)
{
	(void)state;
	static const uint8_t ud2[] = { 0x0F, 0x0B };
	struct fx f;
	fx_init_with(&f, ud2, sizeof(ud2));
	struct tdx_module_args a;
	assert_int_equal(enter_clean(&f, &a), EXIT_FATAL);
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.r8, 0);
	assert_int_equal(enter_clean(&f, &a), TDX_VCPU_STATE_INCORRECT);
	fx_fini(&f);
}

/* Program: PD[495..510] = 2 MiB pages identity-mapping 0xFDE00000..0xFFDFFFFF
 * (16 AUGed 2 MiB pages: 8,192 4 KiB pages), ACCEPT them, store i in 4 KiB
 * page i, then sum them all and report the sum in R11. */
#define MANY_BASE  0xFDE00000ULL
#define MANY_PAGES 8192u
static const uint8_t prog_many[] = {
	0xBF, 0x78, 0xEF, 0xFF, 0xFF,                   /* mov edi, 0xFFFFEF78: PD[495] */
	0xB8, 0x83, 0x00, 0xE0, 0xFD,                   /* mov eax, 0xFDE00083 */
	0xB9, 0x10, 0x00, 0x00, 0x00,                   /* mov ecx, 16 */
	0x48, 0x89, 0x07,                               /* 1: mov [rdi], rax */
	0x48, 0x83, 0xC7, 0x08,                         /* add rdi, 8 */
	0x48, 0x05, 0x00, 0x00, 0x20, 0x00,             /* add rax, 2 MiB */
	0xFF, 0xC9,                                     /* dec ecx */
	0x75, 0xEF,                                     /* jnz 1b */
	0xBB, 0x01, 0x00, 0xE0, 0xFD,                   /* mov ebx, 0xFDE00000 | 2M level */
	0xBE, 0x10, 0x00, 0x00, 0x00,                   /* mov esi, 16 */
	0x48, 0x89, 0xD9,                               /* 4: mov rcx, rbx */
	0xB8, 0x06, 0x00, 0x00, 0x00,                   /* mov eax, 6: MEM.PAGE.ACCEPT */
	0x66, 0x0F, 0x01, 0xCC,                         /* tdcall */
	0x48, 0x81, 0xC3, 0x00, 0x00, 0x20, 0x00,       /* add rbx, 2 MiB */
	0xFF, 0xCE,                                     /* dec esi */
	0x75, 0xE9,                                     /* jnz 4b */
	0xBF, 0x00, 0x00, 0xE0, 0xFD,                   /* mov edi, 0xFDE00000 */
	0x31, 0xC0,                                     /* xor eax, eax */
	0x48, 0x89, 0x07,                               /* 2: mov [rdi], rax */
	0x48, 0x81, 0xC7, 0x00, 0x10, 0x00, 0x00,       /* add rdi, 4096 */
	0xFF, 0xC0,                                     /* inc eax */
	0x3D, 0x00, 0x20, 0x00, 0x00,                   /* cmp eax, 8192 */
	0x75, 0xED,                                     /* jne 2b */
	0xBF, 0x00, 0x00, 0xE0, 0xFD,                   /* mov edi, 0xFDE00000 */
	0x31, 0xC9,                                     /* xor ecx, ecx */
	0x45, 0x31, 0xDB,                               /* xor r11d, r11d */
	0x4C, 0x03, 0x1F,                               /* 3: add r11, [rdi] */
	0x48, 0x81, 0xC7, 0x00, 0x10, 0x00, 0x00,       /* add rdi, 4096 */
	0xFF, 0xC1,                                     /* inc ecx */
	0x81, 0xF9, 0x00, 0x20, 0x00, 0x00,             /* cmp ecx, 8192 */
	0x75, 0xEC,                                     /* jne 3b */
	VMCALL_R11_R13,
	0xEB, 0xFE,                                     /* jmp $ */
};

/* A guest touching 8,192 private pages (more than Unicorn can hold as
 * regions of their own) runs to its VMCALL, and what it stored in each
 * page reads back: the sum of 0..8191. */
static void test_td_run__many_private_pages(void **state)
{
	(void)state;
	static uint8_t code[4096];
	struct fx f;
	memset(&f, 0, sizeof(f));
	tsim_env_init(&f.e);
	tsim_td_build(&f.e, &f.td, TDX_TD_ATTR_DEBUG, 4);
	f.vc = tsim_vcpu_add(&f.td, 0);
	build_code(code, prog_many, sizeof(prog_many), reset_jmp, sizeof(reset_jmp));
	tsim_page_add(&f.td, GPA_CODE, code, true);
	tsim_page_add(&f.td, GPA_PT, NULL, true);
	f.data_pa = tsim_page_add(&f.td, GPA_DATA, NULL, true);
	tsim_td_finalize(&f.td);
	for (uint64_t i = 0; i < MANY_PAGES / 512; i++)
		tsim_page_aug(&f.td, MANY_BASE + TDX_2M * i, 1);
	struct tdx_module_args a;
	uint64_t rc;
	do
		rc = enter_clean(&f, &a);
	while (rc == EXIT_INTR);
	assert_int_equal(rc, EXIT_VMCALL);
	assert_int_equal(a.r11, (uint64_t)MANY_PAGES * (MANY_PAGES - 1) / 2);
	fx_fini(&f);
}

/* No code at the reset vector: the first fetch is an EPT violation. */
static void test_td_run__empty_td_fetch_violation(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td;
	tsim_env_init(&e);
	tsim_td_build(&e, &td, 0, 1);
	struct tsim_vcpu *vc = tsim_vcpu_add(&td, 0);
	tsim_td_finalize(&td);
	struct tdx_module_args a = { .rcx = vc->tdvpr };
	assert_int_equal(seamcall_raw(e.s, vc->lp, TDH_VP_ENTER, &a), EXIT_EPT);
	assert_int_equal(a.r8, 0xFFFFF000ULL);  /* the module clears bits 11:0 */
	assert_int_equal(a.rcx, 4);     /* instruction fetch */
	tsim_td_teardown(&td);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_td_run__vmcall_exposes_selected_gprs),
		cmocka_unit_test(test_td_run__vmcall_returns_host_gprs),
		cmocka_unit_test(test_td_run__hlt_ve),
		cmocka_unit_test(test_td_run__guest_page_fault),
		cmocka_unit_test(test_td_run__guest_ud_delivered),
		cmocka_unit_test(test_td_run__repeated_exceptions),
		cmocka_unit_test(test_td_run__cpuid),
		cmocka_unit_test(test_td_run__shared_read),
		cmocka_unit_test(test_td_run__guest_write_encrypted),
		cmocka_unit_test(test_td_run__ept_violation),
		cmocka_unit_test(test_td_run__pending_ve),
		cmocka_unit_test(test_td_run__spin_budget_exit),
		cmocka_unit_test(test_td_run__guest_exception_fatal),
		cmocka_unit_test(test_td_run__empty_td_fetch_violation),
		cmocka_unit_test(test_td_run__many_private_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
