/*
 * TDH.SYS.SHUTDOWN (52): stop the module for a runtime update. RCX = handoff
 * version, within [MIN_UPDATE_HV, MODULE_HV]. Every LP but the caller must be
 * outside the module. Afterwards every leaf but TDH.SYS.LP.SHUTDOWN returns
 * SYS_SHUTDOWN.
 */
#include "seam/seam_mem.h"

uint64_t seam_tdh_sys_shutdown(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	uint64_t hv = c->r->rcx;
	int no_downgrade = 0;

	if (hv < m->min_update_hv || hv > m->module_hv || (no_downgrade && hv != m->module_hv))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	if (!seam_global_lock_ex(c))
		return TDX_SYS_BUSY;
	seam_set_state(m, TDX_SYS_SHUTDOWN_STATE);
	if (seam_other_lps_busy(c)) {
		seam_set_state(m, TDX_SYS_READY);
		seam_unlock_ex(&m->global_lock);
		return TDX_SYS_BUSY;
	}
	m->shutdown_hv = hv;
	seam_unlock_ex(&m->global_lock);
	return TDX_SUCCESS;
}
