/*
 * TDH.SYS.DISABLE (69): disable the module before kexec or reboot (newer
 * modules; Linux 7.3 issues it from its syscore shutdown hook and repeats it
 * while it returns INTERRUPTED_RESUMABLE or SYS_BUSY). No public module
 * source defines it; tdxsim's model: the global lock is taken exclusively
 * (SYS_BUSY if held or if another LP is inside the module), then the module
 * stops serving SEAMCALLs (SYS_SHUTDOWN for all leaves but LP.SHUTDOWN and
 * DISABLE, which succeeds again). Accepted in every state.
 */
#include "seam/seam_mem.h"

uint64_t tdh_sys_disable(struct seam_ctx *c)
{
	struct seam_module *m = c->m;

	if (!seam_global_lock_ex(c))
		return TDX_SYS_BUSY;
	if (seam_other_lps_busy(c)) {
		seam_unlock_ex(&m->global_lock);
		return TDX_SYS_BUSY;
	}
	m->disabled = 1;
	seam_set_state(m, TDX_SYS_SHUTDOWN_STATE);
	seam_unlock_ex(&m->global_lock);
	return TDX_SUCCESS;
}
