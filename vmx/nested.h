/*
 * Nested VMX in pKVM's design (intel-staging/pKVM-IA, arch/x86/kvm/vmx/pkvm/
 * hyp/nested.c): L0 (pKVM) runs L1 (a KVM) with vmcs01 and L2 with vmcs02;
 * L1 keeps its vmcs12 in its own memory, and L0 works on a cached copy.
 *
 *  - Shadowing (NESTED_SHADOW_PKVM): vmcs02 is the shadow VMCS of vmcs01
 *    (VMCS link pointer, shadow-VMCS indicator set while L1 runs) with
 *    VMREAD/VMWRITE bitmaps: L1's VMREAD/VMWRITE of a shadowed field reads
 *    or writes vmcs02 in hardware, without a VM exit. Shadowed: the guest
 *    state (read-write) and the exit information (read-only).
 *  - Emulated: every other field exits to L0 and is served from the cached
 *    vmcs12. Security-relevant controls (execution, entry and exit
 *    controls, VPID, EPT pointer, every physical-address field, MSR
 *    load/store counts, VMCS link pointer) are sanitised on their way to
 *    vmcs02: L2 always runs under L0's EPT, its own VPID and MSR bitmap,
 *    with interrupt and NMI exiting, never with VMCS shadowing or VM
 *    functions. Host-state fields stay in vmcs12: L0 loads them into
 *    vmcs01 when it reflects an exit to L1.
 *  - Dirty fields of the cached vmcs12 go to vmcs02 at L1's
 *    VMLAUNCH/VMRESUME; VMCLEAR copies the shadowed fields back into the
 *    cached vmcs12 and writes it to L1's memory; VMPTRLD reads it.
 *  - INVEPT/INVVPID from L1 are emulated: L0 checks the type, drops its
 *    shadow EPT for L2 and invalidates vmcs02's EPT and VPID contexts.
 *  - NESTED_SHADOW_NONE runs the same without VMCS shadowing: every L1
 *    VMREAD/VMWRITE exits, and the exit information and guest state that
 *    an L2 exit changes are copied from vmcs02 to the cached vmcs12.
 *
 * L1's VMX instructions are the l1_* calls: each models the instruction
 * executed in VMX non-root operation under vmcs01, so a shadowed access
 * completes in "hardware" and everything else is a VM exit handled by L0.
 */
#ifndef VMX_NESTED_H
#define VMX_NESTED_H

#include "vmx/vmx.h"

enum nested_shadow { NESTED_SHADOW_PKVM, NESTED_SHADOW_NONE };

#define NESTED_MAX_FIELDS 256
#define NESTED_MEM        (256ull << 10)
#define NESTED_L1_BASE    0x20000ull      /* L1's guest-physical 0 in L0's memory */
#define NESTED_L1_SIZE    0x10000ull
#define NESTED_L1_VMXON   0x1000ull       /* L1's VMXON region (L1 GPA) */
#define NESTED_L1_VMCS12  0x2000ull       /* L1's vmcs12 (L1 GPA) */

struct nested_vm {
	struct vmx_mem mem;
	struct vmx_clock clk;
	struct vmx_cpu cpu;             /* the physical LP, driven by L0 */
	const struct vmx_costs *k;
	enum nested_shadow mode;
	struct vmx_guest *g;            /* L2 */
	/* L0's pages. */
	uint64_t vmxon_pa, vmcs01_pa, vmcs02_pa, cached12_pa;
	uint64_t vmread_bm_pa, vmwrite_bm_pa, msr_bm02_pa, io_bm02_pa, ept02_pa;
	uint16_t vpid02;
	/* Field classes, by vmcs_field_index(). */
	bool shadow_rw[NESTED_MAX_FIELDS], shadow_ro[NESTED_MAX_FIELDS];
	bool emulated[NESTED_MAX_FIELDS];
	bool dirty[NESTED_MAX_FIELDS];  /* cached vmcs12 fields not yet in vmcs02 */
	/* L1's VMX state as L0 emulates it. */
	bool l1_vmxon;
	uint64_t l1_vmxon_gpa;
	uint64_t l1_current;            /* L1's current-VMCS pointer (GPA) */
	uint64_t l1_rflags;             /* arithmetic flags after L1's last VMX instruction */
	uint64_t l1_regs[R_N];          /* L2's GPRs as L1 holds them */
	bool l2_halted;
	uint64_t max_l2_exits;          /* iterations + 1 HLT: more is a bug */
	/* Counters. */
	uint64_t l2_exits;              /* VM exits from L2 (all reflected to L1) */
	uint64_t l1_exits[64];          /* VM exits from L1, by basic reason */
	uint64_t shadow_reads, shadow_writes;
	uint64_t synced_fields;         /* fields copied vmcs12 <-> vmcs02 */
	uint64_t ept02_flushes, vpid02_flushes;
};

int nested_init(struct nested_vm *n, enum nested_shadow mode, uint32_t iterations,
		const struct vmx_costs *k, char *err, size_t errlen);
void nested_fini(struct nested_vm *n);

/* L1's VMX instructions (VMX non-root operation). VMLAUNCH/VMRESUME
 * return VMX_SUCCEED once L2 has run to its next VM exit and L0 has
 * reflected it to L1. */
enum vmx_result l1_vmxon(struct nested_vm *n, uint64_t gpa);
enum vmx_result l1_vmptrld(struct nested_vm *n, uint64_t gpa);
enum vmx_result l1_vmclear(struct nested_vm *n, uint64_t gpa);
enum vmx_result l1_vmread(struct nested_vm *n, uint32_t field, uint64_t *value);
enum vmx_result l1_vmwrite(struct nested_vm *n, uint32_t field, uint64_t value);
enum vmx_result l1_vmlaunch(struct nested_vm *n);
enum vmx_result l1_vmresume(struct nested_vm *n);
enum vmx_result l1_invept(struct nested_vm *n, uint64_t type, uint64_t eptp);
enum vmx_result l1_invvpid(struct nested_vm *n, uint64_t type, uint16_t vpid);
/* VM-instruction error as L1 reads it from its current vmcs12. */
uint32_t l1_insn_error(struct nested_vm *n);

/* L1 as a KVM: VMXON, VMCLEAR + VMPTRLD of vmcs12, its VMCS setup with
 * VMWRITEs. The clock and counters are zeroed afterwards. */
int nested_l1_setup(struct nested_vm *n, char *err, size_t errlen);
/* VMLAUNCH, then L1 handles each reflected exit with kvm_handle_exit() and
 * VMRESUMEs until L2 halts. */
int nested_run(struct nested_vm *n, char *err, size_t errlen);

/* L1 memory (GPA) access, for tests. */
uint8_t *nested_l1_mem(struct nested_vm *n, uint64_t gpa);
/* Test hook: take a field out of (or put it into) the VMREAD/VMWRITE
 * bitmaps without changing where L0 keeps it. */
void nested_bitmap_set(struct nested_vm *n, uint32_t field, bool exit_read, bool exit_write);

#endif
