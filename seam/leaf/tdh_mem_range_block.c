/*
 * TDH.MEM.RANGE.BLOCK (7): block a GPA range (a leaf page, or everything
 * below a non-leaf entry) so that no new TLB translation of it is made.
 *
 * In:  RCX = GPA + level (0 .. EPT levels - 1), RDX = TDR PA.
 * Out: RCX = RDX = 0, or the ext outputs on S-EPT errors (and on
 *      GPA_RANGE_ALREADY_BLOCKED).
 *
 * Checks in the module's order:
 *   TDR (shared)                          ... + RDX
 *   TD state (INITIALIZED or RUNNABLE), op-state lock shared
 *   RCX: level, bits 11:3, alignment, GPA width, shared bit
 *                                         OPERAND_INVALID + RCX
 *   S-EPT tree lock (exclusive)           OPERAND_BUSY + SEPT_TREE
 *   walk to the level                     EPT_WALK_FAILED + RCX, ext
 *   entry host lock                       OPERAND_BUSY + RCX, ext
 *   entry NL_BLOCKED, BLOCKED or PENDING_BLOCKED
 *                                         GPA_RANGE_ALREADY_BLOCKED + RCX
 *                                         (informational), ext
 *   entry FREE or REMOVED                 EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *
 * Effect: NL_MAPPED -> NL_BLOCKED, MAPPED/BLOCKEDW -> BLOCKED (no
 * permissions), PENDING -> PENDING_BLOCKED; the TD's current epoch is
 * recorded as BEPOCH in the PAMT entry of the blocked page (the private page
 * at its size, or the child S-EPT page), where TLB tracking checks it.
 */
#include "seam/sept.h"

uint64_t seam_tdh_mem_range_block(struct seam_ctx *c)
{
	struct seam_page tdr_p;
	struct seam_td *td;
	struct sept_walk w;
	uint64_t st;

	st = sept_gpa_leaf_enter(c, 4, SEAM_LOCK_EXCLUSIVE, &tdr_p, &td, &w);
	if (st)
		return st;
	unsigned es = sept_state(w.entry);
	if (es != SEPT_NL_MAPPED && es != SEPT_MAPPED && es != SEPT_BLOCKEDW &&
	    es != SEPT_PENDING) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(sept_is_blocked_state(es) ? TDX_GPA_RANGE_ALREADY_BLOCKED
							     : TDX_EPT_ENTRY_STATE_INCORRECT,
				   TDX_OPERAND_ID_RCX);
		goto out;
	}

	/* All checks passed. */
	sept_walk_write(c, td, &w, sept_block_entry(w.entry));
	unsigned ps = sept_is_leaf_state(es) ? w.level : TDX_PS_4K;
	/* Atomic: RDMD reads BEPOCH under the PAMT entry lock, not this one. */
	__atomic_store_n(&sept_pamt_entry(c, sept_hpa(w.entry), ps)->bepoch,
			 atomic_load_explicit(&td->td_epoch, memory_order_acquire),
			 __ATOMIC_RELAXED);
	seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
	seam_charge(c, PAMT_CHECK, 1);
out:
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
	return st;
}
