/*
 * TDH.VP.ADDCX (4): add a TDCX page to a vCPU's TDVPS.
 * RCX = TDCX page (PT_NDA), RDX = TDVPR. No outputs.
 *
 * Order (module 1.5): TDVPR explicit, exclusive (RDX); its owner TDR,
 * implicit, shared (operand TDR); the TD state check, op-state lock shared
 * (INITIALIZED only); vCPU not UNINITIALIZED -> VCPU_STATE_INCORRECT; TDVPS
 * already at its maximum of 15 pages (TDVPR + 14 TDCX, room for 3 L2 VMs)
 * -> TDCX_NUM_INCORRECT; the TDCX page exclusive, must be PT_NDA (RCX).
 * Then the page is cleared through the TD's KeyID (L2 MSR-bitmap pages,
 * TDVPS indices 7, 8, 10, 11, 13, 14, are set to all ones), becomes PT_TDCX
 * owned by the TDR and counts as a TDR child.
 */
#include "seam/vp.h"

static bool l2_msr_bitmap_index(unsigned idx)
{
	return idx >= TD_TDVPS_PAGES && idx < TD_TDVPS_MAX_PAGES &&
	       (idx - TD_TDVPS_PAGES) % TD_TDVPS_PAGES_PER_L2 != 0;
}

uint64_t seam_tdh_vp_addcx(struct seam_ctx *c)
{
	uint64_t tdcx_pa = c->r->rcx;
	struct vp_ops o;
	struct seam_page cx;
	uint64_t st;

	memset(&cx, 0, sizeof(cx));
	st = vp_get(c, c->r->rdx, TDX_OPERAND_ID_RDX, SEAM_LOCK_EXCLUSIVE, SEAM_LOCK_SHARED, &o);
	if (st)
		return st;
	if ((st = vp_check_state(c, &o)))
		goto out;
	struct seam_vcpu *v = o.v;
	if (atomic_load(&v->state) != VCPU_UNINITIALIZED) {
		st = TDX_VCPU_STATE_INCORRECT;
		goto out;
	}
	unsigned idx = 1 + v->num_tdcx;        /* TDVPS page index of the new page */
	if (idx >= TD_TDVPS_MAX_PAGES) {
		st = TDX_TDCX_NUM_INCORRECT;
		goto out;
	}
	st = seam_page_get(c, tdcx_pa, TDX_OPERAND_ID_RCX, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE, PT_NDA, &cx);
	if (st)
		goto out;
	if (l2_msr_bitmap_index(idx)) {
		uint8_t ones[TDX_PAGE_SIZE];
		memset(ones, 0xFF, sizeof(ones));
		seam_priv_write(c, tdcx_pa, o.td->hkid, ones, TDX_PAGE_SIZE);
	} else {
		seam_priv_zero(c, tdcx_pa, o.td->hkid, TDX_PAGE_SIZE);
	}
	v->tdcx_pa[v->num_tdcx++] = tdcx_pa;
	atomic_fetch_add(&o.td->chldcnt, 1);
	seam_page_set(c, &cx, PT_TDCX, o.td->tdr_pa);
	seam_charge(c, PAMT_CHECK, 1);
	seam_charge(c, LINE_WRITE_ENC, TDX_PAGE_SIZE / 64);
out:
	seam_page_unlock(&cx);
	vp_put(&o);
	return st;
}
