/*
 * TDH.MNG.KEY.FREEID (20): release the TD's KeyID. RCX = TDR. No outputs.
 *
 * Order (module 1.5): the TDR, exclusive (errors + RCX); lifecycle not
 * BLOCKED -> LIFECYCLE_STATE_INCORRECT; the KOT, exclusive ->
 * OPERAND_BUSY+KOT; a package that has not run TDH.PHYMEM.CACHE.WB since
 * TDH.MNG.VPFLUSHDONE (WBINVD bitmap not 0) -> WBCACHE_NOT_COMPLETE.
 * Success: KOT entry FREE (the KeyID may be given to a new TD), lifecycle
 * TEARDOWN (the TD's pages may be reclaimed).
 */
#include "seam/td.h"

uint64_t seam_tdh_mng_key_freeid(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	struct seam_page tp;
	struct seam_td *td;
	uint64_t status;

	status = seam_tdr_get(c, c->r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_EXCLUSIVE, &tp, &td);
	if (status)
		return status;
	if (atomic_load_explicit(&td->lifecycle, memory_order_acquire) != TD_BLOCKED) {
		status = TDX_LIFECYCLE_STATE_INCORRECT;
		goto out_tdr;
	}
	if (!seam_lock_mode(c, &m->kot_lock, SEAM_LOCK_EXCLUSIVE)) {
		status = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KOT);
		goto out_tdr;
	}
	if (atomic_load_explicit(&m->kot[td->hkid].wbinvd_bitmap, memory_order_acquire) ||
	    seam_fault(c, SEAM_FAULT_WBCACHE)) {
		status = TDX_WBCACHE_NOT_COMPLETE;
		goto out;
	}

	/* ALL CHECKS PASSED */
	atomic_store_explicit(&m->kot[td->hkid].state, KOT_FREE, memory_order_release);
	atomic_store_explicit(&td->lifecycle, TD_TEARDOWN, memory_order_release);
	seam_charge(c, METADATA_FIELD, 2);
	status = TDX_SUCCESS;
out:
	seam_unlock_mode(&m->kot_lock, SEAM_LOCK_EXCLUSIVE);
out_tdr:
	seam_page_unlock(&tp);
	return status;
}
