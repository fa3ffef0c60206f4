/*
 * TDH.SYS.LP.INIT (35): per-LP initialisation. Module 1.5 accepts it only in
 * SYSINIT_DONE; newer modules also accept it after READY for an LP brought
 * online later (Linux 7.3's CPU-online callback relies on it), so tdxsim
 * accepts both.
 */
#include "seam/seam_mem.h"

uint64_t seam_tdh_sys_lp_init(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	uint64_t status;

	c->r->rcx = c->r->rdx = c->r->r8 = 0;

	if (!seam_global_lock_sh(c))
		return TDX_SYS_BUSY;
	uint32_t st = seam_state(m);
	if (st != TDX_SYSINIT_DONE && st != TDX_SYS_READY) {
		status = TDX_SYS_LP_INIT_NOT_PENDING;
		goto out;
	}
	if (c->lp->seam.lp_init_done) {
		status = TDX_SYS_LP_INIT_DONE;
		goto out;
	}
	/* RDRAND seeds the LP's LFSR. */
	status = seam_fault(c, TDX_LEAF_F_RND);
	if (status)
		goto out;
	/* Consistency checks against SYS.INIT's CPU sampling pass: all LPs of
	 * a simulated platform are identical. */

	/* ALL CHECKS PASSED */
	c->lp->seam.lp_init_done = 1;
	atomic_fetch_add(&m->lps_initialized, 1);
	status = TDX_SUCCESS;
out:
	seam_unlock_sh(&m->global_lock);
	return status;
}
