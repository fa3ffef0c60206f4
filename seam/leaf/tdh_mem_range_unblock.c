/*
 * TDH.MEM.RANGE.UNBLOCK (39): undo RANGE.BLOCK of a GPA range.
 *
 * In:  RCX = GPA + level (0 .. EPT levels - 1), RDX = TDR PA.
 * Out: RCX = RDX = 0, or the ext outputs on S-EPT errors.
 *
 * Checks in the module's order:
 *   TDR (shared)                          ... + RDX
 *   TD state (INITIALIZED or RUNNABLE), op-state lock shared
 *   RCX: level, bits 11:3, alignment, GPA width, shared bit
 *                                         OPERAND_INVALID + RCX
 *   S-EPT tree lock (exclusive)           OPERAND_BUSY + SEPT_TREE
 *   walk to the level                     EPT_WALK_FAILED + RCX, ext
 *   entry host lock                       OPERAND_BUSY + RCX, ext
 *   entry not NL_BLOCKED, BLOCKED or PENDING_BLOCKED
 *                                         EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   while the TD may run (RUNNABLE): not TLB-tracked since the block
 *   (BEPOCH of the blocked page)          TLB_TRACKING_NOT_DONE + SEPT_TREE
 *                                         (the module's operand id here)
 *
 * Effect: NL_BLOCKED -> NL_MAPPED, BLOCKED -> MAPPED (RWX), PENDING_BLOCKED
 * -> PENDING.
 */
#include "seam/sept.h"

uint64_t seam_tdh_mem_range_unblock(struct seam_ctx *c)
{
	struct seam_page tdr_p;
	struct seam_td *td;
	struct sept_walk w;
	uint64_t st;

	st = sept_gpa_leaf_enter(c, 4, SEAM_LOCK_EXCLUSIVE, &tdr_p, &td, &w);
	if (st)
		return st;
	unsigned es = sept_state(w.entry);
	if (!sept_is_blocked_state(es)) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (sept_tracking_required(td)) {
		unsigned ps = sept_is_leaf_state(es) ? w.level : TDX_PS_4K;
		uint64_t bepoch = sept_pamt_entry(c, sept_hpa(w.entry), ps)->bepoch;
		if (!sept_tlb_tracked(td, bepoch) || seam_fault(c, SEAM_FAULT_TLB_TRACK)) {
			st = tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_SEPT_TREE);
			goto out;
		}
	}

	/* All checks passed. */
	sept_walk_write(c, td, &w, sept_unblock_entry(w.entry));
	seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
out:
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
	return st;
}
