/*
 * TDH.VP.CREATE (10): add a TDVPR page, the root of a new vCPU's TDVPS.
 * RCX = TDVPR page (PT_NDA), RDX = TDR. No outputs.
 *
 * Order (module 1.5): TDR explicit, shared (RDX); the TD state check with
 * the op-state lock shared (INITIALIZED only); the TDVPR page exclusive,
 * must be PT_NDA (RCX). Then the page is zeroed through the TD's KeyID,
 * becomes PT_TDVPR owned by the TDR, and counts as a TDR child. The vCPU
 * starts UNINITIALIZED and unbound. MAX_VCPUS is checked, and the TD's
 * NUM_VCPUS counted, at VP.INIT, not here (as the module does).
 */
#include <string.h>

#include "seam/td.h"
#include "sim/sim_int.h"

uint64_t seam_tdh_vp_create(struct seam_ctx *c)
{
	uint64_t tdvpr_pa = c->r->rcx, tdr_pa = c->r->rdx;
	struct seam_page tdr, vp;
	struct seam_td *td;
	uint64_t st;

	memset(&vp, 0, sizeof(vp));
	st = seam_tdr_get(c, tdr_pa, TDX_OPERAND_ID_RDX, SEAM_LOCK_SHARED, &tdr, &td);
	if (st)
		return st;
	st = seam_td_check_state(c, td, SEAM_LOCK_SHARED);
	if (st) {
		seam_page_unlock(&tdr);
		return st;
	}
	st = seam_page_get(c, tdvpr_pa, TDX_OPERAND_ID_RCX, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE, PT_NDA, &vp);
	if (st)
		goto out;
	struct seam_vcpu *v = seam_vcpu_alloc(c->m, td, tdvpr_pa);
	if (!v) {
		/* Host memory exhausted: nothing changed; the host may retry. */
		st = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
		goto out;
	}
	seam_priv_zero(c, tdvpr_pa, td->hkid, TDX_PAGE_SIZE);
	atomic_fetch_add(&td->chldcnt, 1);
	seam_page_set(c, &vp, PT_TDVPR, tdr_pa);
	seam_charge(c, PAMT_CHECK, 1);
	seam_charge(c, LINE_WRITE_ENC, TDX_PAGE_SIZE / 64);
out:
	seam_page_unlock(&vp);
	seam_td_state_unlock(td, SEAM_LOCK_SHARED);
	seam_page_unlock(&tdr);
	return st;
}
