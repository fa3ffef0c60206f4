/*
 * TDG.VP.CPUIDVE.SET (5): whether CPUID executed by the guest raises #VE
 * unconditionally. In: RCX bit 0 = in supervisor mode (CPL 0), bit 1 = in
 * user mode; bits 63:2 reserved -> OPERAND_INVALID + RCX.
 * The flags are kept per vCPU (v->cpuid_ve) for the runner's CPUID handling.
 */
#include "seam/tdcall/tdcall_int.h"

#define CPUIDVE_FLAGS 0x3ULL

uint64_t seam_tdg_vp_cpuidve_set(struct tdcall_ctx *t)
{
	uint64_t flags = t->gpr[GPR_RCX];
	if (flags & ~CPUIDVE_FLAGS)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	t->v->cpuid_ve = (uint8_t)flags;
	return TDX_SUCCESS;
}
