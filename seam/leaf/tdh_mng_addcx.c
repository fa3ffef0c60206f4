/*
 * TDH.MNG.ADDCX (1): add the next TDCS page. RCX = page PA, RDX = TDR.
 * No outputs.
 *
 * Order (module 1.5): the TDR (RDX), exclusive (errors + RDX); TD fatal ->
 * TD_FATAL; lifecycle not KEYS_CONFIGURED -> TD_KEYS_NOT_CONFIGURED; already
 * MAX_NUM_TDCS_PAGES (9: 6 + one S-EPT root per L2 VM) -> TDCX_NUM_INCORRECT;
 * the new page (RCX), exclusive, must be PT_NDA (errors + RCX). The page is
 * then initialised through the TD's KeyID (the S-EPT root, page 3, with every
 * entry FREE; the others zeroed). The 6th page completes the TDCS: the module
 * draws the migration key there (no entropy -> RND_NO_ENTROPY, the page not
 * added); pages 7-9 are accepted only while OP_STATE is UNINITIALIZED
 * (-> OP_STATE_INCORRECT). Success: PT_TDCX owned by the TDR, CHLDCNT + 1.
 */
#include "seam/sept.h"
#include "seam/td.h"

uint64_t seam_tdh_mng_addcx(struct seam_ctx *c)
{
	uint64_t page_pa = c->r->rcx;
	struct seam_page tp, p;
	struct seam_td *td;
	uint64_t status;

	status = seam_tdr_get(c, c->r->rdx, TDX_OPERAND_ID_RDX, SEAM_LOCK_EXCLUSIVE, &tp, &td);
	if (status)
		return status;
	if (atomic_load_explicit(&td->fatal, memory_order_acquire)) {
		status = TDX_TD_FATAL;
		goto out_tdr;
	}
	if (atomic_load_explicit(&td->lifecycle, memory_order_acquire) != TD_KEYS_CONFIGURED) {
		status = TDX_TD_KEYS_NOT_CONFIGURED;
		goto out_tdr;
	}
	unsigned idx = td->num_tdcx;
	if (idx >= TD_TDCS_MAX_PAGES) {
		status = TDX_TDCX_NUM_INCORRECT;
		goto out_tdr;
	}
	status = seam_page_get(c, page_pa, TDX_OPERAND_ID_RCX, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE,
			       PT_NDA, &p);
	if (status)
		goto out_tdr;

	if (idx == TD_TDCS_SEPT_ROOT)
		sept_init_page(c, td, page_pa);
	else
		seam_priv_zero(c, page_pa, td->hkid, TDX_PAGE_SIZE);
	if (idx + 1 == TD_TDCS_PAGES) {
		/* The TDCS is complete: the module generates the migration key. */
		status = seam_fault(c, TDX_LEAF_F_RND);
		if (status)
			goto out;
	} else if (idx + 1 > TD_TDCS_PAGES &&
		   !seam_op_state_allowed(c->leaf, atomic_load_explicit(&td->op_state,
									memory_order_acquire))) {
		status = TDX_OP_STATE_INCORRECT;
		goto out;
	}

	/* ALL CHECKS PASSED */
	td->tdcx_pa[idx] = page_pa;
	td->num_tdcx = idx + 1;
	atomic_fetch_add_explicit(&td->chldcnt, 1, memory_order_acq_rel);
	seam_page_set(c, &p, PT_TDCX, td->tdr_pa);
	seam_charge(c, PAMT_CHECK, 1);
	seam_charge(c, LINE_WRITE_ENC, 64);
	status = TDX_SUCCESS;
out:
	if (status)
		seam_priv_settle(c, page_pa, TDX_PAGE_SIZE);    /* zeroed, stays PT_NDA */
	seam_page_unlock(&p);
out_tdr:
	seam_page_unlock(&tp);
	return status;
}
