/*
 * The checks TDH.MEM.RANGE.BLOCK and TDH.MEM.RANGE.UNBLOCK share, in the
 * module's order: RCX and RDX zeroed; the TDR (RDX, shared) and the TD state
 * (sept_td_enter); RCX as GPA + level (0 .. EPT levels - 1), the S-EPT tree
 * lock exclusive, the walk to that level and the entry's host lock
 * (sept_lock_walk, ext outputs on its S-EPT errors). On success the TDR, the
 * op-state lock, the tree lock and the entry lock are held until
 * sept_unlock_walk() and sept_td_exit(); on failure nothing is.
 */
#ifndef SEAM_LEAF_SEPT_RANGE_H
#define SEAM_LEAF_SEPT_RANGE_H

#include "seam/sept.h"

static inline uint64_t sept_range_enter(struct seam_ctx *c, struct seam_page *tdr_p,
					struct seam_td **td, struct sept_walk *w)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa_lvl = r->rcx, tdr_pa = r->rdx;
	uint64_t st;

	*w = (struct sept_walk){ .tree_mode = -1 };
	r->rcx = r->rdx = 0;
	st = sept_td_enter(c, tdr_pa, TDX_OPERAND_ID_RDX, tdr_p, td);
	if (st)
		return st;
	st = sept_lock_walk(c, *td, gpa_lvl, 0, (*td)->ept_levels - 1, TDX_OPERAND_ID_RCX,
			    SEAM_LOCK_EXCLUSIVE, SEPT_LW_ENTRY, w);
	if (st) {
		sept_unlock_walk(*td, w);
		sept_td_exit(tdr_p, *td);
	}
	return st;
}

#endif
