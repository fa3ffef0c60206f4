#include <stddef.h>

#include "models/vmx_costs.h"

/*
 * Costs of the VMX and nested-VMX path models (vmx/vmx.c, vmx/nested.c), in
 * core cycles of a Sapphire/Emerald Rapids class Xeon.
 *
 * What is published (../shared/reference/anchors.md and below):
 *  [A] CPUID answered inside the TDX module: ~1,744-1,815 cycles on a 5th-gen
 *      Xeon (TUM-DSE/CVM_eval benchmarks/vmexit). The module is the VMM of the
 *      TD here: the number is one hardware VM exit + VM entry pair (TD <-> SEAM
 *      VMX root) around the module's own exit dispatch and CPUID lookup, i.e.
 *      the same work as a legacy VM's CPUID exit handled by KVM in the kernel.
 *  [B] Nested CPUID loop, KVM as L1 on Hyper-V: 18,890 cycles per L2 exit
 *      without Enlightened VMCS, 8,304 with it (Linux commit "x86/kvm: use
 *      Enlightened VMCS when running on Hyper-V", V. Kuznetsov, 2018).
 *  [C] Nested CPUID benchmark, KVM on KVM, 16 vCPUs: an L2->L1->L2 exit went
 *      from 42k to 26k cycles (Linux commit "x86/kvm/mmu: introduce
 *      guest_mmu", V. Kuznetsov, 2018/19).
 * Intel publishes no latency for VM exit, VM entry, VMREAD/VMWRITE,
 * VMPTRLD/VMCLEAR or shadow-VMCS accesses; those are estimates, chosen so
 * that the legacy path lands at about [A] (the same exit/entry pair around
 * a VMM's CPUID handler, with KVM as the VMM instead of the module) and
 * the nested paths stay under [B]/[C] (pKVM keeps no MMU or CPUID-model
 * work on the nested path, unlike KVM as L0 in [C]).
 */
static const struct vmx_costs xeon_vmx_costs = {
	/* Register-only ALU instructions and a predicted branch retire at
	 * about one per cycle or better; we charge 1 and model no overlap. */
	.guest_insn = 1,
	/* Estimate: a VM exit + VM entry pair of ~900 cycles leaves ~800 of
	 * software for KVM's CPUID exit, ~1,700 in all, about [A].
	 * The exit is the larger half: it saves the guest state into the VMCS,
	 * loads the host state and serialises; the entry adds the VM-entry
	 * checks but restores less MSR state. */
	.vmexit = 500,
	.vmentry = 400,
	/* Estimate: microcoded accesses to the VMCS cached on die; VMWRITE a
	 * little dearer (it marks the field dirty for the next entry). */
	.vmread = 30,
	.vmwrite = 35,
	/* Estimate: VMPTRLD loads a VMCS into the on-die cache, VMCLEAR writes
	 * it back to memory (~1-2 KiB of state each); VMCLEAR is dearer. */
	.vmptrld = 250,
	.vmclear = 350,
	/* Estimate: one EPT/VPID context's TLB entries invalidated. */
	.invept = 300,
	.invvpid = 200,
	/* Estimate: a shadowed VMREAD/VMWRITE in VMX non-root operation checks
	 * the VMREAD/VMWRITE bitmap and accesses the VMCS named by the VMCS
	 * link pointer: the root-mode cost plus ~10 cycles. Intel's VMCS
	 * shadowing documentation only says that it removes the VM exit. */
	.shadow_vmread = 40,
	.shadow_vmwrite = 45,
	/* Estimate: KVM's vmx_vcpu_run around VMRESUME: ~30 GPR moves,
	 * IA32_SPEC_CTRL read and write, RSB fill, exit bookkeeping. */
	.vmm_exit_sw = 300,
	/* Estimate: kvm_find_cpuid_entry's search of ~50 entries and the
	 * register loads of kvm_emulate_cpuid; the same function and the
	 * same number as the TD paths' HOST_CPUID (models/cost_table.def). */
	.cpuid_emul = 300,
	/* Estimate: pKVM's "does L1 want this exit" test (vmcs12 execution
	 * controls) and the switch of its per-vCPU state to L1. */
	.l0_reflect = 300,
	/* Estimate: decoding the VMX-instruction information field, reading
	 * the register operand, the field check, the RFLAGS result (KVM's
	 * handle_vmread is a few hundred instructions). */
	.l0_vmx_insn = 200,
	/* Estimate: the control and state checks on vmcs12 at L1's
	 * VMLAUNCH/VMRESUME (KVM's nested_vmx_check_* are thousands of
	 * instructions; pKVM checks far less and lets the hardware fail). */
	.l0_nested_entry = 400,
	/* A field copied between the cached vmcs12 (memory) and vmcs02: one
	 * VMWRITE or VMREAD plus a cached load or store. */
	.sync_field = 40,
};

const struct vmx_costs *vmx_costs_for(const char *platform)
{
	(void)platform;                 /* SPR, EMR, GNR: no per-generation source */
	return &xeon_vmx_costs;
}
