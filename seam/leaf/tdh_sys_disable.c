/*
 * TDH.SYS.DISABLE (69): disable the module before kexec or reboot. Newer
 * modules only; no public module source defines it. What Linux 7.3 says of
 * it (arch/x86/virt/vmx/tdx/tdx.c, tdx_sys_disable): it is destructive, no
 * other SEAMCALL can run after it until a full reinitialisation is done; it
 * may return INTERRUPTED_RESUMABLE (progress between calls) or SYS_BUSY
 * (contention with other TDH.SYS.* leaves), and Linux repeats it on both.
 *
 * tdxsim's model: the global lock is taken exclusively (SYS_BUSY if held, or
 * if another LP is inside the module); then the module returns to
 * SYSINIT_PENDING with every LP uninitialised, no TDMRs and no global KeyID,
 * so every leaf fails until TDH.SYS.INIT starts a full reinitialisation.
 * Accepted in every state (also repeated).
 */
#include <string.h>

#include "seam/seam_mem.h"
#include "seam/td.h"

uint64_t seam_tdh_sys_disable(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	struct tdxsim *s = c->s;

	if (!seam_global_lock_ex(c))
		return TDX_SYS_BUSY;
	if (seam_other_lps_busy(c)) {
		seam_unlock_ex(&m->global_lock);
		return TDX_SYS_BUSY;
	}
	/* A pending interrupt (fault plan) stops it before any work: Linux
	 * calls it again, which starts over (the model's disable is one step). */
	if (seam_fault(c, TDX_LEAF_F_RESUMABLE)) {
		seam_unlock_ex(&m->global_lock);
		return TDX_INTERRUPTED_RESUMABLE;
	}

	/* ALL CHECKS PASSED */
	for (uint32_t i = 0; i < s->n_lps; i++)
		s->lps[i].seam.lp_init_done = 0;
	atomic_store(&m->lps_initialized, 0);
	for (uint32_t i = 0; i < m->n_tdmrs; i++)
		atomic_store(&m->tdmr[i].init_off, 0);
	m->n_tdmrs = 0;
	m->hkid = 0;
	/* Every TD is gone with the module's state. */
	seam_td_free_all(m);
	for (uint32_t k = 0; k < s->n_keyslots; k++)
		atomic_store(&m->kot[k].state, KOT_FREE);
	m->pkgs_configured = 0;
	memset(m->pkg_key_configured, 0, s->n_pkgs);
	seam_set_state(m, TDX_SYSINIT_PENDING);
	seam_unlock_ex(&m->global_lock);
	return TDX_SUCCESS;
}
