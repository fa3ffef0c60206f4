/*
 * TDH.MEM.SEPT.RD (25): read a Secure-EPT entry.
 *
 * In:  RCX = GPA + level (0 .. EPT levels - 1), RDX = TDR PA; RDX bit 0
 *      asks for the L2 attributes too (debug TDs only).
 * Out: RCX = the architectural entry, RDX = level | state << 8 (the "ext"
 *      format), also on EPT_WALK_FAILED (the entry where the walk stopped)
 *      and on a busy entry; 0 on the other errors. With RDX bit 0: R8 = the
 *      L2 attributes of each L2 VM (0: tdxsim has no L2 VMs).
 *
 * Checks in the module's order:
 *   TDR (RDX without bit 0, shared)       ... + RDX
 *   TD state (any but UNINITIALIZED), op-state lock shared
 *   RDX bit 0 and the TD is not DEBUG     OPERAND_INVALID + RDX
 *   RCX: level, bits 11:3, alignment, GPA width, shared bit
 *                                         OPERAND_INVALID + RCX
 *   S-EPT tree lock (shared)              OPERAND_BUSY + SEPT_TREE
 *   walk to the level                     EPT_WALK_FAILED + RCX, ext
 *   entry host lock                       OPERAND_BUSY + RCX, ext
 */
#include "seam/sept.h"

#define READ_L2_ATTRIBUTES 1ULL

uint64_t seam_tdh_mem_sept_rd(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa_lvl = r->rcx, handle = r->rdx;
	struct seam_page tdr_p;
	struct seam_td *td;
	struct sept_walk w = { .tree_mode = -1 };
	uint64_t st;

	r->rcx = r->rdx = 0;
	st = sept_td_enter(c, handle & ~READ_L2_ATTRIBUTES, TDX_OPERAND_ID_RDX, &tdr_p, &td);
	if (st)
		return st;
	if ((handle & READ_L2_ATTRIBUTES) && !(td->attributes & TDX_TD_ATTR_DEBUG)) {
		st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
		goto out;
	}
	st = sept_lock_walk(c, td, gpa_lvl, 0, td->ept_levels - 1, TDX_OPERAND_ID_RCX,
			    SEAM_LOCK_SHARED, SEPT_LW_ENTRY, &w);
	if (st)
		goto out;
	if (handle & READ_L2_ATTRIBUTES)
		r->r8 = 0;
	sept_set_ext(c, w.entry, w.level);
	seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
out:
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
	return st;
}
