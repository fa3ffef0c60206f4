/*
 * VM-entry path models next to the TD (issue 7, parts 3 and 4):
 *
 *  - a guest run on Unicorn (vmx.c): a tiny loop with one CPUID, hence one
 *    VM exit, per iteration, entered and left through a VMCS;
 *  - a legacy VMX VM (vmx.c): L0 is a KVM-style VMM whose CPUID exit
 *    handler does the VMREADs/VMWRITEs KVM's does;
 *  - nested VMX in pKVM's design (nested.c): L1 runs the same handler
 *    against its vmcs12, L0 uses vmcs02 as the shadow VMCS of vmcs01 with
 *    VMREAD/VMWRITE bitmaps, emulates the rest from a cached vmcs12;
 *  - the two TD paths (td_path.c), through the simulator's public API.
 *
 * Every path charges a struct vmx_clock by category (vmcs.h); the TD paths
 * take their cycles from the simulator's per-LP clock (tdxsim_lp_cycles).
 * Nothing here has global mutable state.
 */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmx/vmcs.h"

enum { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15, R_N };

/* ---- The guest: a CPUID loop on Unicorn. ---- */
#define VMX_GUEST_CODE      0x1000ull       /* code page (guest physical = linear) */
#define VMX_GUEST_LOOP      0x1005ull       /* loop head */
#define VMX_GUEST_CPUID     0x1009ull       /* the CPUID instruction */
#define VMX_GUEST_HLT       0x100Full       /* HLT after the loop */
#define VMX_GUEST_LOOP_INSNS 4              /* retired per iteration besides the CPUID */

struct vmx_guest;
/* The loop: mov esi, iterations; L: xor eax,eax; xor ecx,ecx; cpuid;
 * dec esi; jnz L; hlt. Returns NULL (and err filled) on failure. */
struct vmx_guest *vmx_guest_create(uint32_t iterations, struct vmx_clock *clk,
				   const struct vmx_costs *k, char *err, size_t errlen);
void vmx_guest_destroy(struct vmx_guest *g);
/* GPRs as the VMM keeps them between exits. */
uint64_t *vmx_guest_regs(struct vmx_guest *g);
uint64_t vmx_guest_insns(const struct vmx_guest *g);
/*
 * Run from the state in the VMCS at vmcs (GUEST_RIP, GUEST_RSP,
 * GUEST_RFLAGS) and the GPRs until the next VM exit: CPUID (reason 10,
 * length 2) or HLT (reason 12, length 1, HLT exiting assumed on). Stores
 * the exit information and the guest state into the VMCS as the processor
 * does, charges the guest instructions (a block hook with per-block counts
 * from one Capstone decode) and the hardware exit. Returns the basic exit
 * reason, or 0 on an emulator error. The caller charges the entry.
 */
uint32_t vmx_guest_run(struct vmx_guest *g, struct vmx_mem *m, uint64_t vmcs);

/* ---- A KVM-style exit handler. ---- */
/* How the handler's VMREAD/VMWRITE execute: natively in VMX root (L0), or
 * as L1 in VMX non-root operation (nested.c). */
struct vmx_ops {
	enum vmx_result (*vmread)(void *ctx, uint32_t field, uint64_t *value);
	enum vmx_result (*vmwrite)(void *ctx, uint32_t field, uint64_t value);
	void *ctx;
	struct vmx_clock *clk;
	const struct vmx_costs *k;
	enum vmx_cat cat;               /* where its software is charged */
};
enum { KVM_EXIT_RESUME = 1, KVM_EXIT_HALT = 0, KVM_EXIT_ERROR = -1 };
/*
 * Handle one exit as KVM does for CPUID: VMREAD the exit reason, IDT-
 * vectoring information and exit qualification; for CPUID emulate it on
 * regs (leaf 0: max leaf 0x1F, "GenuineIntel"; others 0) and skip the
 * instruction: VMREAD the instruction length, GUEST_RIP, interruptibility,
 * VMWRITE GUEST_RIP + length. HLT ends the run. *reason gets the reason.
 */
int kvm_handle_exit(const struct vmx_ops *o, uint64_t regs[R_N], uint32_t *reason);
/* The CPUID values the handler answers. */
void kvm_cpuid_values(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* ---- The legacy VMX VM. ---- */
struct vmx_vm {
	struct vmx_mem mem;
	struct vmx_clock clk;
	struct vmx_cpu cpu;
	struct vmx_guest *g;
	uint64_t vmxon_pa, vmcs_pa;
	uint64_t exits, cpuid_exits, entries;
	uint64_t max_exits;             /* iterations + 1 HLT: more is a VMM bug */
};
#define VMX_VM_MEM (64ull << 10)
/* VMXON, VMCLEAR + VMPTRLD of the VMCS, controls (HLT exiting, EPT, VPID),
 * host and guest state. The clock is zeroed afterwards. */
int vmx_vm_init(struct vmx_vm *vm, uint32_t iterations, const struct vmx_costs *k,
		char *err, size_t errlen);
/* VMLAUNCH, then exit/handle/VMRESUME until the guest halts. */
int vmx_vm_run(struct vmx_vm *vm, char *err, size_t errlen);
void vmx_vm_fini(struct vmx_vm *vm);

/* Sets up guest, host and control state every model's VMCS starts with. */
void vmx_vmcs_setup(struct vmx_cpu *c, uint64_t host_rip);

#endif
