/*
 * TDH.MNG.CREATE (9): start a TD. RCX = TDR page PA, RDX = HKID (bits 15:0;
 * 63:16 reserved). No outputs.
 *
 * Order (module 1.5): RDX reserved bits set or the KeyID not a TDX private
 * KeyID -> OPERAND_INVALID+RDX; the TDR page operand, exclusive, must be
 * PT_NDA (OPERAND_INVALID / ADDR_RANGE_ERROR / BUSY / PAGE_METADATA_INCORRECT
 * + RCX); the KOT, exclusive -> OPERAND_BUSY+KOT; the KeyID's KOT entry not
 * FREE (the global KeyID is RESERVED) -> HKID_NOT_FREE. The TDR page is then
 * zeroed through the global KeyID and the TD's random values drawn: no
 * entropy -> RND_NO_ENTROPY (the page stays PT_NDA, its contents zeroed).
 * Success: the page becomes PT_TDR (owner 0), lifecycle HKID_ASSIGNED, the
 * KOT entry ASSIGNED.
 */
#include <string.h>

#include "seam/seam_mem.h"
#include "seam/td.h"

uint64_t seam_tdh_mng_create(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	uint64_t tdr_pa = c->r->rcx, rdx = c->r->rdx;
	uint32_t hkid = (uint32_t)(rdx & 0xFFFF);
	struct seam_page p;
	uint64_t status;

	if ((rdx >> 16) || !seam_keyid_is_private(c->s, hkid))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	status = seam_page_get(c, tdr_pa, TDX_OPERAND_ID_RCX, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE,
			       PT_NDA, &p);
	if (status)
		return status;
	if (!seam_lock_mode(c, &m->kot_lock, SEAM_LOCK_EXCLUSIVE)) {
		status = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KOT);
		goto out_page;
	}
	if (seam_kot_state(m, hkid) != KOT_FREE) {
		status = TDX_HKID_NOT_FREE;
		goto out;
	}
	seam_priv_zero(c, tdr_pa, m->hkid, TDX_PAGE_SIZE);
	/* TD_UUID and the TD's key material come from the CPU's RNG. */
	status = seam_fault(c, TDX_LEAF_F_RND);
	if (status) {
		seam_priv_settle(c, tdr_pa, TDX_PAGE_SIZE);     /* zeroed, stays PT_NDA */
		goto out;
	}

	/* ALL CHECKS PASSED */
	struct seam_td *td = seam_td_alloc(m, tdr_pa, hkid);
	SIM_BUG_ON(!td);                        /* host out of memory */
	for (unsigned i = 0; i < sizeof(td->td_key); i += 8) {
		uint64_t r = sim_rng_next(&c->lp->rng);
		memcpy(td->td_key + i, &r, 8);
	}
	atomic_store_explicit(&td->lifecycle, TD_HKID_ASSIGNED, memory_order_release);
	atomic_store_explicit(&m->kot[hkid].state, KOT_ASSIGNED, memory_order_release);
	atomic_store_explicit(&m->kot[hkid].wbinvd_bitmap, 0, memory_order_release);
	seam_page_set(c, &p, PT_TDR, 0);
	seam_charge(c, PAMT_CHECK, 1);
	seam_charge(c, LINE_WRITE_ENC, 64);
	status = TDX_SUCCESS;
out:
	seam_unlock_mode(&m->kot_lock, SEAM_LOCK_EXCLUSIVE);
out_page:
	seam_page_unlock(&p);
	return status;
}
