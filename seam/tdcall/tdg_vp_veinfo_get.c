/*
 * TDG.VP.VEINFO.GET (3): read, and release, the #VE information of the
 * virtualization exception the guest is handling (TDVPS VE_INFO).
 * Out: RCX = exit reason, RDX = exit qualification, R8 = GLA, R9 = GPA,
 *      R10 = instruction length (31:0) | instruction info (63:32); all
 *      zero on error.
 * Errors: nothing valid in VE_INFO -> NO_VALID_VE_INFO.
 * Success marks VE_INFO free again (the next #VE may be delivered).
 */
#include "seam/tdcall/tdcall_int.h"

uint64_t seam_tdg_vp_veinfo_get(struct tdcall_ctx *t)
{
	struct seam_vcpu *v = t->v;
	uint64_t *g = t->gpr;

	g[GPR_RCX] = g[GPR_RDX] = g[GPR_R8] = g[GPR_R9] = g[GPR_R10] = 0;
	if (!v->ve_valid)
		return TDX_NO_VALID_VE_INFO;
	/* ve_category (RCX 63:32) is reported from version 1 on; module
	 * 1.5.01 accepts version 0 only. */
	g[GPR_RCX] = v->ve.exit_reason;
	g[GPR_RDX] = v->ve.exit_qual;
	g[GPR_R8] = v->ve.gla;
	g[GPR_R9] = v->ve.gpa;
	g[GPR_R10] = v->ve.instr_len | ((uint64_t)v->ve.instr_info << 32);
	v->ve_valid = false;
	return TDX_SUCCESS;
}
