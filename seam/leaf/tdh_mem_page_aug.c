/*
 * TDH.MEM.PAGE.AUG (6): add an unmeasured private page (4 KiB or 2 MiB) to a
 * TD, in the PENDING state until the guest accepts it (TDG.MEM.PAGE.ACCEPT).
 * KVM uses it for private faults after MR.FINALIZE.
 *
 * In:  RCX = GPA + level (0 = 4K, 1 = 2M), RDX = TDR, R8 = the page (free,
 *      aligned to its size).
 * Out: RCX = RDX = 0; ext outputs on the S-EPT errors.
 *
 * Checks in the module's order:
 *   TDR (RDX, shared)           OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                               OPERAND_BUSY / PAGE_METADATA_INCORRECT + RDX
 *   TD state, op-state lock shared (INITIALIZED or RUNNABLE)
 *                               TD_FATAL, TD_KEYS_NOT_CONFIGURED,
 *                               TDCS_NOT_ALLOCATED, OPERAND_BUSY + OP_STATE,
 *                               OP_STATE_INCORRECT
 *   RCX: level > 1, bits 11:3, GPA not aligned to the level, above GPAW,
 *   shared bit                  OPERAND_INVALID + RCX
 *   S-EPT tree lock (shared)    OPERAND_BUSY + SEPT_TREE
 *   walk to the level           EPT_WALK_FAILED + RCX, ext
 *   entry host lock             OPERAND_BUSY + RCX, ext
 *   entry not FREE or REMOVED   EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   page R8: alignment to the page size, KeyID bits, >= 2^52
 *                               OPERAND_INVALID + R8
 *     outside the TDMRs         OPERAND_ADDR_RANGE_ERROR + R8
 *     PAMT entry locked         OPERAND_BUSY + R8
 *     not PT_NDA (or part of a larger page; for 2M: any of its 512 4K
 *     PAMT entries not PT_NDA)  PAGE_METADATA_INCORRECT + R8
 *
 * Effect: entry PENDING (no permissions, suppress-#VE), TDR child count +=
 * 512^level, the page's PAMT entry (at its size) PT_REG owned by the TDR,
 * BEPOCH 0. The page's contents are not touched (the guest's ACCEPT clears
 * it).
 */
#include "seam/sept.h"
#include "seam/pamt.h"

/* For a 2 MiB page: every 4 KiB PAMT entry under it must be free too. */
static bool range_2m_free(struct seam_ctx *c, const struct seam_page *p)
{
	for (uint64_t off = 0; off < TDX_2M; off += TDX_PAGE_SIZE) {
		const struct tdx_pamt_entry *e = pamt_entry(c->s, p->tdmr, p->pa + off, TDX_PS_4K);
		struct tdx_pamt_entry snap = { .w0 = __atomic_load_n(&e->w0, __ATOMIC_ACQUIRE) };
		if (pamt_type(&snap) != PT_NDA)
			return false;
	}
	return true;
}

uint64_t seam_tdh_mem_page_aug(struct seam_ctx *c)
{
	uint64_t tdr_pa = c->r->rdx, page_pa = c->r->r8;
	struct seam_page tdr_p, page_p = { 0 };
	struct seam_td *td;
	struct sept_walk w;
	uint64_t st;

	st = sept_gpa_leaf_enter(c, 1, SEAM_LOCK_SHARED, &tdr_p, &td, &w);
	if (st)
		return st;
	unsigned es = sept_state(w.entry);
	if (es != SEPT_FREE && es != SEPT_REMOVED) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	st = seam_page_get(c, page_pa, TDX_OPERAND_ID_R8, w.level, SEAM_LOCK_EXCLUSIVE, PT_NDA,
			   &page_p);
	if (st)
		goto out;
	if (w.level == TDX_PS_2M && !range_2m_free(c, &page_p)) {
		seam_page_unlock(&page_p);
		st = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8);
		goto out;
	}

	/* All checks passed. */
	sept_walk_write(c, td, &w, sept_make(page_pa, SEPT_PENDING, w.level) | SEPT_SVE);
	atomic_fetch_add(&td->chldcnt, 1ULL << (9 * w.level));
	seam_page_set(c, &page_p, PT_REG, tdr_pa);
	seam_page_unlock(&page_p);
out:
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
	return st;
}
