/*
 * TDH.PHYMEM.PAGE.RECLAIM (28): give a page of a torn-down TD back to the
 * host. RCX = PA (no KeyID bits) -> RCX = page type, RDX = owner (TDR PA),
 * R8 = page size (0 4K, 1 2M, 2 1G); R9-R11 = 0.
 *
 * Order (module 1.5): outputs zeroed; RCX misaligned, KeyID bits or >= 2^52
 * -> OPERAND_INVALID+RCX; outside an initialised TDMR block ->
 * OPERAND_ADDR_RANGE_ERROR+RCX; PAMT walk to the page's leaf (4K, or a
 * 2M/1G PT_REG entry), leaf exclusive -> OPERAND_BUSY+RCX; PT_NDA or PT_RSVD
 * -> PAGE_METADATA_INCORRECT+RCX. From here the outputs carry the page's
 * type, owner and size, also on the errors that follow: RCX not aligned to
 * a large leaf -> OPERAND_INVALID+RCX. A child page then takes its TDR
 * (implicit, shared) -> OPERAND_BUSY+TDR; TD not TEARDOWN ->
 * LIFECYCLE_STATE_INCORRECT; else the TDR child count drops by the page's
 * 4 KiB units. The TDR itself (already held exclusive): not TEARDOWN ->
 * LIFECYCLE_STATE_INCORRECT; child count not 0 -> TD_ASSOCIATED_PAGES_EXIST.
 * Success: the page becomes PT_NDA (its owner field is left as it was, as the
 * module only rewrites the type). Reclaiming a TDVPR frees the vCPU
 * structure, reclaiming the TDR frees the TD structure.
 */
#include "seam/pamt.h"
#include "seam/seam_mem.h"
#include "seam/td.h"

/* Attempts to lock the leaf when a concurrent promote/demote changed the
 * page's size between the read walk and the locking walk. */
#define RECLAIM_TRIES 8

/* Lock the PAMT leaf describing pa exclusively, whatever its size. */
static uint64_t lock_leaf(struct seam_ctx *c, struct seam_tdmr *t, uint64_t pa,
			  struct seam_page *p)
{
	for (int i = 0; i < RECLAIM_TRIES; i++) {
		struct tdx_pamt_entry snap;
		unsigned ps;
		if (pamt_walk_read(c->s, t, pa, &snap, &ps))
			return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
		uint64_t base = pa & ~((TDX_PAGE_SIZE << (9 * ps)) - 1);
		uint64_t st = seam_page_get(c, base, TDX_OPERAND_ID_RCX, ps, SEAM_LOCK_EXCLUSIVE,
					    -1, p);
		if (st == tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX))
			continue;               /* became part of a larger page */
		if (st)
			return st;
		if (ps != TDX_PS_4K && seam_page_type(p) != PT_REG) {
			seam_page_unlock(p);    /* split meanwhile */
			continue;
		}
		return TDX_SUCCESS;
	}
	return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
}

static void forget_vcpu(struct seam_module *m, struct seam_td *td, uint64_t tdvpr_pa)
{
	struct seam_vcpu *v = seam_obj_get(m, tdvpr_pa);
	if (!v || v->obj_type != SEAM_OBJ_VCPU)
		return;
	/* Atomic: RECLAIMs of other TDVPRs (TDR shared) clear their slots meanwhile. */
	if (td->vcpus)
		for (uint32_t i = 0; i < td->max_vcpus; i++)
			if (__atomic_load_n(&td->vcpus[i], __ATOMIC_RELAXED) == v)
				__atomic_store_n(&td->vcpus[i], NULL, __ATOMIC_RELAXED);
	seam_vcpu_free(m, v);
}

uint64_t seam_tdh_phymem_page_reclaim(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	struct seam_module *m = c->m;
	uint64_t pa = r->rcx;
	struct seam_page p;
	uint64_t status;

	r->rcx = r->rdx = r->r8 = r->r9 = r->r10 = r->r11 = 0;
	if (!seam_pa_private_ok(c->s, pa, TDX_PAGE_SIZE))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	struct seam_tdmr *t = pamt_get_block(m, pa);
	if (!t)
		return tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX);
	status = lock_leaf(c, t, pa, &p);
	if (status)
		return status;

	unsigned type = seam_page_type(&p);
	uint64_t owner = seam_page_owner(&p);
	if (type == PT_NDA || type == PT_RSVD) {
		status = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	r->rcx = type;
	r->rdx = owner;
	r->r8 = p.ps;
	if (p.pa != pa) {
		/* Inside a large page but not at its start. */
		status = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
		goto out;
	}

	if (type != PT_TDR) {
		struct seam_page tp;
		struct seam_td *td;
		status = seam_tdr_get(c, owner, TDX_OPERAND_ID_TDR, SEAM_LOCK_SHARED, &tp, &td);
		if (status)
			goto out;
		if (atomic_load_explicit(&td->lifecycle, memory_order_acquire) != TD_TEARDOWN) {
			status = TDX_LIFECYCLE_STATE_INCORRECT;
			seam_page_unlock(&tp);
			goto out;
		}
		atomic_fetch_sub_explicit(&td->chldcnt, 1ULL << (9 * p.ps), memory_order_acq_rel);
		if (type == PT_TDVPR)
			forget_vcpu(m, td, pa);
		seam_page_set(c, &p, PT_NDA, owner);
		seam_page_unlock(&tp);
	} else {
		struct seam_td *td = seam_obj_get(m, pa);
		SIM_BUG_ON(!td || td->obj_type != SEAM_OBJ_TD);
		if (atomic_load_explicit(&td->lifecycle, memory_order_acquire) != TD_TEARDOWN) {
			status = TDX_LIFECYCLE_STATE_INCORRECT;
			goto out;
		}
		if (atomic_load_explicit(&td->chldcnt, memory_order_acquire)) {
			status = TDX_TD_ASSOCIATED_PAGES_EXIST;
			goto out;
		}
		seam_page_set(c, &p, PT_NDA, owner);
		seam_td_free(m, td);
	}
	seam_charge(c, PAMT_CHECK, 2);
	status = TDX_SUCCESS;
out:
	seam_page_unlock(&p);
	return status;
}
