/*
 * TDH.MNG.VPFLUSHDONE (19): end the TD's use of its KeyID once every vCPU has
 * been flushed. RCX = TDR. No outputs.
 *
 * Order (module 1.5): the TDR, exclusive (errors + RCX); the KOT, exclusive
 * -> OPERAND_BUSY+KOT; lifecycle neither KEYS_CONFIGURED nor HKID_ASSIGNED
 * -> LIFECYCLE_STATE_INCORRECT; with the TDCS allocated and OP_STATE past
 * UNINITIALIZED, a vCPU still associated with an LP -> FLUSHVP_NOT_DONE.
 * No fatal-TD check. Success: lifecycle BLOCKED, KOT entry FLUSHED, and the
 * entry's WBINVD bitmap set to every package (each must run
 * TDH.PHYMEM.CACHE.WB before TDH.MNG.KEY.FREEID).
 */
#include "seam/td.h"
#include "sim/sim_int.h"

uint64_t seam_tdh_mng_vpflushdone(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	struct seam_page tp;
	struct seam_td *td;
	uint64_t status;

	status = seam_tdr_get(c, c->r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_EXCLUSIVE, &tp, &td);
	if (status)
		return status;
	if (!seam_lock_mode(c, &m->kot_lock, SEAM_LOCK_EXCLUSIVE)) {
		status = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KOT);
		goto out_tdr;
	}
	unsigned life = atomic_load_explicit(&td->lifecycle, memory_order_acquire);
	if (life != TD_KEYS_CONFIGURED && life != TD_HKID_ASSIGNED) {
		status = TDX_LIFECYCLE_STATE_INCORRECT;
		goto out;
	}
	if (td->num_tdcx >= TD_TDCS_PAGES &&
	    atomic_load_explicit(&td->op_state, memory_order_acquire) != OP_UNINITIALIZED &&
	    (atomic_load_explicit(&td->num_assoc_vcpus, memory_order_acquire) ||
	     seam_fault(c, SEAM_FAULT_FLUSHVP))) {
		status = TDX_FLUSHVP_NOT_DONE;
		goto out;
	}

	/* ALL CHECKS PASSED */
	uint32_t all = c->s->n_pkgs >= 32 ? ~0u : (1u << c->s->n_pkgs) - 1;
	atomic_store_explicit(&m->kot[td->hkid].wbinvd_bitmap, all, memory_order_release);
	atomic_store_explicit(&td->lifecycle, TD_BLOCKED, memory_order_release);
	atomic_store_explicit(&m->kot[td->hkid].state, KOT_FLUSHED, memory_order_release);
	seam_charge(c, METADATA_FIELD, 4);
	status = TDX_SUCCESS;
out:
	seam_unlock_mode(&m->kot_lock, SEAM_LOCK_EXCLUSIVE);
out_tdr:
	seam_page_unlock(&tp);
	return status;
}
