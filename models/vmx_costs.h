/*
 * Cycle costs of the legacy-VMX and nested-VMX path models (vmx/), kept as
 * data next to the TDX cost tables (models/costs.c). Every number and its
 * source or reasoning is in models/vmx_costs.c.
 */
#ifndef MODELS_VMX_COSTS_H
#define MODELS_VMX_COSTS_H

#include <stdint.h>

struct vmx_costs {
	/* Guest. */
	uint32_t guest_insn;            /* per simple guest instruction */
	/* Hardware transitions. */
	uint32_t vmexit;                /* VM exit: guest state save, host state load */
	uint32_t vmentry;               /* VMLAUNCH/VMRESUME: checks, guest state load */
	/* VMX instructions in VMX root operation. */
	uint32_t vmread;
	uint32_t vmwrite;
	uint32_t vmptrld;
	uint32_t vmclear;
	uint32_t invept;
	uint32_t invvpid;
	/* VMREAD/VMWRITE in VMX non-root operation served by the shadow VMCS. */
	uint32_t shadow_vmread;
	uint32_t shadow_vmwrite;
	/* Software: a KVM-style VMM. */
	uint32_t vmm_exit_sw;           /* exit/entry assembly, GPR save/restore, speculation controls */
	uint32_t cpuid_emul;            /* look up the vCPU's CPUID table, load RAX..RDX */
	/* Software: the L0 of a nested setup (pKVM). */
	uint32_t l0_reflect;            /* decide an L2 exit belongs to L1, set up the L1 entry */
	uint32_t l0_vmx_insn;           /* decode an L1 VMX instruction exit, operands, RFLAGS result */
	uint32_t l0_nested_entry;       /* L1's VMLAUNCH/VMRESUME: checks on vmcs12 before the sync */
	uint32_t sync_field;            /* copy one field between vmcs12 and vmcs02 (cached memory side) */
};
/* The host VMM's share of the TD paths is the timing model's
 * (models/cost_table.def HOST_TD_EXIT, HOST_CPUID; models/kvm_host.h). */

/* The table for a platform profile name (NULL: the default); every
 * profile shares one table until a source gives them different numbers. */
const struct vmx_costs *vmx_costs_for(const char *platform);

#endif
