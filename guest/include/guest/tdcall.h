/*
 * TDCALL from guest code (tdx-abi.md 1.2, 1.3). Every wrapper returns the
 * TDCALL completion status (RAX) or, for TDG.VP.VMCALL sub-functions, the
 * status the host put in R10; outputs go through pointers that may be NULL.
 */
#ifndef GUEST_TDCALL_H
#define GUEST_TDCALL_H

#include <stdint.h>

/* TDCALL leaves (RAX). */
#define TDG_VP_VMCALL           0
#define TDG_VP_INFO             1
#define TDG_MR_RTMR_EXTEND      2
#define TDG_VP_VEINFO_GET       3
#define TDG_MR_REPORT           4
#define TDG_VP_CPUIDVE_SET      5
#define TDG_MEM_PAGE_ACCEPT     6
#define TDG_VM_RD               7
#define TDG_VM_WR               8
#define TDG_SYS_RD              11
#define TDG_SYS_RDALL           12

/* TDG.VP.VMCALL sub-functions (R11 with R10 = 0). */
#define TDVMCALL_CPUID          10
#define TDVMCALL_HLT            12
#define TDVMCALL_IO             30
#define TDVMCALL_RDMSR          31
#define TDVMCALL_WRMSR          32
#define TDVMCALL_MMIO           48
#define TDVMCALL_MAP_GPA        0x10001
#define TDVMCALL_REPORT_FATAL   0x10003

/* R10 statuses. */
#define TDVMCALL_SUCCESS        0
#define TDVMCALL_RETRY          1
#define TDVMCALL_INVALID_OPERAND 0x8000000000000000

/* RCX of every TDG.VP.VMCALL the runtime makes: R10-R15 exposed to the host. */
#define TDVMCALL_EXPOSE_MASK    0xFC00

#define TDX_IO_READ             0
#define TDX_IO_WRITE            1

/* Input and output registers of a TDCALL (RAX is the leaf in, the status out). */
struct tdcall_args {
	uint64_t rcx, rdx, r8, r9, r10, r11, r12, r13, r14, r15;
};

/* TDCALL with RAX = leaf; a's registers in, all of them written back. Returns RAX. */
uint64_t tdcall(uint64_t leaf, struct tdcall_args *a);

/*
 * TDG.VP.VMCALL sub-function subfn (R10 = 0, R11 = subfn) with R12-R15 and
 * RCX = TDVMCALL_EXPOSE_MASK. A non-zero TDCALL status is fatal (the guest
 * stops with ud2). Returns R10; *out (if not NULL) gets R10-R15 back.
 */
uint64_t tdvmcall(uint64_t subfn, uint64_t r12, uint64_t r13, uint64_t r14, uint64_t r15,
		  struct tdcall_args *out);

uint64_t tdvmcall_io(unsigned size, unsigned dir, uint16_t port, uint32_t data, uint32_t *in);
uint64_t tdvmcall_mmio(unsigned size, unsigned dir, uint64_t gpa, uint64_t data, uint64_t *in);
uint64_t tdvmcall_rdmsr(uint32_t msr, uint64_t *val);
uint64_t tdvmcall_wrmsr(uint32_t msr, uint64_t val);
uint64_t tdvmcall_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]); /* EAX, EBX, ECX, EDX */
uint64_t tdvmcall_hlt(int irqs_disabled);
/* start carries the shared bit for a private -> shared conversion; *resume (R11) on RETRY/error. */
uint64_t tdvmcall_mapgpa(uint64_t start, uint64_t size, uint64_t *resume);

struct tdg_vp_info {
	uint64_t gpaw;          /* RCX 5:0 */
	uint64_t attributes;    /* RDX */
	uint32_t num_vcpus;     /* R8 31:0 */
	uint32_t max_vcpus;     /* R8 63:32 */
	uint32_t vcpu_index;    /* R9 */
	uint64_t r10, r11;
};
uint64_t tdg_vp_info(struct tdg_vp_info *out);

struct tdg_ve_info {
	uint64_t exit_reason, exit_qual, gla, gpa;
	uint32_t instr_len, instr_info;
};
uint64_t tdg_vp_veinfo_get(struct tdg_ve_info *out);

/* level: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB. */
uint64_t tdg_mem_page_accept(uint64_t gpa, unsigned level);
/* report: 1024 B, 1024-aligned; reportdata: 64 B, 64-aligned (private GPAs). */
uint64_t tdg_mr_report(uint64_t report_gpa, uint64_t reportdata_gpa, uint64_t subtype);
/* data: 48 B, 64-aligned; index 0..3. */
uint64_t tdg_mr_rtmr_extend(uint64_t data_gpa, uint64_t index);
uint64_t tdg_vm_rd(uint64_t field, uint64_t *val);
uint64_t tdg_vm_wr(uint64_t field, uint64_t val, uint64_t mask, uint64_t *old);
uint64_t tdg_vp_cpuidve_set(uint64_t flags);

#endif
