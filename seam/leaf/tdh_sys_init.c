/* TDH.SYS.INIT (33): global module initialisation, once per boot. */
#include "seam/seam_mem.h"

uint64_t seam_tdh_sys_init(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	uint64_t attributes = c->r->rcx;
	uint64_t status;

	/* Outputs are zeroed on entry. */
	c->r->rcx = c->r->rdx = c->r->r8 = c->r->r9 = c->r->r10 = 0;

	if (!seam_global_lock_ex(c))
		return TDX_SYS_BUSY;
	if (attributes) {
		/* Every SYS attribute bit is reserved. */
		status = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (seam_state(m) != TDX_SYSINIT_PENDING) {
		status = TDX_SYS_INIT_NOT_PENDING;
		goto out;
	}
	/* Platform checks (MSRs, CPUID, VMX capabilities, KeyID partition, CMRs,
	 * SMRRs) hold by construction: tdxsim_open() validated the config. */
	/* RDRAND for the module's stack canary. */
	status = seam_fault(c, TDX_LEAF_F_RND);
	if (status)
		goto out;

	/* ALL CHECKS PASSED */
	atomic_store(&m->lps_initialized, 0);
	m->pkgs_configured = 0;
	seam_set_state(m, TDX_SYSINIT_DONE);
	status = TDX_SUCCESS;
out:
	seam_unlock_ex(&m->global_lock);
	return status;
}
