/*
 * TDH.MEM.PAGE.REMOVE (29): remove a private page (4 KiB, 2 MiB or 1 GiB
 * leaf) from a TD. While the TD may run (OP_STATE RUNNABLE) the range must
 * have been blocked (RANGE.BLOCK) and the TLB tracked (MEM.TRACK, all vCPUs
 * out of the blocking epoch) first.
 *
 * In:  RCX = GPA + level (0..2), RDX = TDR.
 * Out: RCX = HPA of the removed page, RDX = 0; ext outputs on the S-EPT
 *      errors (RCX = RDX = 0 on the others).
 *
 * Checks in the module's order:
 *   TDR (RDX, shared)           OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                               OPERAND_BUSY / PAGE_METADATA_INCORRECT + RDX
 *   TD state, op-state lock shared (INITIALIZED or RUNNABLE)
 *                               TD_FATAL, TD_KEYS_NOT_CONFIGURED,
 *                               TDCS_NOT_ALLOCATED, OPERAND_BUSY + OP_STATE,
 *                               OP_STATE_INCORRECT
 *   RCX: level > 2, bits 11:3, misaligned, above GPAW, shared bit
 *                               OPERAND_INVALID + RCX
 *   S-EPT tree lock (shared)    OPERAND_BUSY + SEPT_TREE
 *   walk to the level           EPT_WALK_FAILED + RCX, ext
 *   entry host lock             OPERAND_BUSY + RCX, ext
 *   entry not a leaf in MAPPED, BLOCKED, BLOCKEDW, PENDING or
 *   PENDING_BLOCKED             EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   page's PAMT entry (implicit, exclusive)
 *                               OPERAND_BUSY + RCX
 *   OP_STATE needs TLB tracking (RUNNABLE):
 *     entry not BLOCKED / PENDING_BLOCKED
 *                               GPA_RANGE_NOT_BLOCKED + RCX, ext
 *     BEPOCH not tracked        TLB_TRACKING_NOT_DONE + RCX
 *
 * Effect: entry FREE, TDR child count -= 512^level, the page's PAMT entry
 * type PT_NDA. Like the module, only the type changes: the owner field
 * keeps the TDR (RDMD reports it) until the page is used again. The host
 * then flushes the page with PHYMEM.PAGE.WBINVD through the TD's KeyID.
 */
#include "seam/sept.h"
#include "sim/sim_int.h"

uint64_t seam_tdh_mem_page_remove(struct seam_ctx *c)
{
	struct seam_page tdr_p, page_p = { 0 };
	struct seam_td *td;
	struct sept_walk w;
	uint64_t st;

	st = sept_gpa_leaf_enter(c, 2, SEAM_LOCK_SHARED, &tdr_p, &td, &w);
	if (st)
		return st;
	unsigned es = sept_state(w.entry);
	if (es != SEPT_MAPPED && es != SEPT_BLOCKED && es != SEPT_BLOCKEDW &&
	    es != SEPT_PENDING && es != SEPT_PENDING_BLOCKED) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	uint64_t page_pa = sept_hpa(w.entry) & ~(sept_level_size(w.level) - 1);
	/* The page is reached through the S-EPT (implicit operand): only the
	 * lock can fail. */
	st = seam_page_get(c, page_pa, TDX_OPERAND_ID_RCX, w.level, SEAM_LOCK_EXCLUSIVE, -1,
			   &page_p);
	if (st)
		goto out;
	if (sept_tracking_required(td)) {
		if (es != SEPT_BLOCKED && es != SEPT_PENDING_BLOCKED) {
			sept_set_ext(c, w.entry, w.level);
			st = tdx_status_op(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX);
			goto out_page;
		}
		if (!sept_tlb_tracked(td, page_p.e->bepoch) || seam_fault(c, SEAM_FAULT_TLB_TRACK)) {
			st = tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX);
			goto out_page;
		}
	}

	/* All checks passed. */
	sept_walk_write(c, td, &w, SEPT_ENTRY_FREE);
	atomic_fetch_sub(&td->chldcnt, 1ULL << (9 * w.level));
	/* The module rewrites only the type: the owner stays (RDMD shows it). */
	seam_page_set(c, &page_p, PT_NDA, seam_page_owner(&page_p));
	c->r->rcx = page_pa;
out_page:
	seam_page_unlock(&page_p);
out:
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
	return st;
}
