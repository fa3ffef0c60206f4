/*
 * TDH.MEM.RD (12) and, through tdh_mem_rd_wr(), TDH.MEM.WR (14): the host
 * debugger's 8-byte access to a debug TD's private memory, through the TD's
 * KeyID.
 *
 * In:  RCX = GPA (8-byte aligned), RDX = TDR; MEM.WR: R8 = value to write.
 * Out: R8 = the 8 bytes at GPA (MEM.WR: the value before the write);
 *      RCX = RDX = 0; R8 = 0 and ext outputs in RCX/RDX on the S-EPT errors.
 *
 * Checks in the module's order:
 *   TDR (RDX, shared)           OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                               OPERAND_BUSY / PAGE_METADATA_INCORRECT + RDX
 *   TD state, op-state lock shared (INITIALIZED or RUNNABLE)
 *                               TD_FATAL, TD_KEYS_NOT_CONFIGURED,
 *                               TDCS_NOT_ALLOCATED, OPERAND_BUSY + OP_STATE,
 *                               OP_STATE_INCORRECT
 *   ATTRIBUTES.DEBUG clear      TD_NON_DEBUG
 *   GPA not 8-byte aligned      OPERAND_INVALID + RCX
 *   GPA above GPAW or shared    OPERAND_INVALID + RCX
 *   S-EPT tree lock (shared)    OPERAND_BUSY + SEPT_TREE
 *   no present leaf maps the GPA (the walk ends at a FREE, PENDING or
 *   BLOCKED entry, or a blocked non-leaf)
 *                               EPT_ENTRY_NOT_PRESENT + RCX, ext of the
 *                               entry where the walk ended
 *   entry host lock             OPERAND_BUSY + RCX, ext
 *   entry state: MEM.RD MAPPED or BLOCKEDW; MEM.WR MAPPED
 *                               EPT_ENTRY_STATE_INCORRECT + RCX, ext
 * (The module checks GPA width/shared bit after taking the tree lock; here
 * it is checked just before, so a shared GPA with a contended tree lock
 * reports OPERAND_INVALID + RCX instead of OPERAND_BUSY + SEPT_TREE.)
 */
#include <stdbool.h>

#include "seam/sept.h"

uint64_t tdh_mem_rd_wr(struct seam_ctx *c, bool write);

uint64_t tdh_mem_rd_wr(struct seam_ctx *c, bool write)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa = r->rcx, tdr_pa = r->rdx, data = r->r8;
	struct seam_page tdr_p;
	struct seam_td *td;
	struct sept_walk w = { .tree_mode = -1 };
	uint64_t st;

	r->rcx = r->rdx = r->r8 = 0;
	st = seam_tdr_get(c, tdr_pa, TDX_OPERAND_ID_RDX, SEAM_LOCK_SHARED, &tdr_p, &td);
	if (st)
		return st;
	st = seam_td_check_state(c, td, SEAM_LOCK_SHARED);
	if (st)
		goto out_tdr;
	if (!(td->attributes & TDX_TD_ATTR_DEBUG)) {
		st = TDX_TD_NON_DEBUG;
		goto out;
	}
	if (gpa & 7) {
		st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
		goto out;
	}
	st = sept_lock_walk_gpa(c, td, gpa, 0, TDX_OPERAND_ID_RCX, SEAM_LOCK_SHARED,
				SEPT_LW_LEAF | SEPT_LW_ENTRY, &w);
	if (st == tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX))
		st = tdx_status_op(TDX_EPT_ENTRY_NOT_PRESENT, TDX_OPERAND_ID_RCX);
	if (st)
		goto out;
	unsigned es = sept_state(w.entry);
	if (es != SEPT_MAPPED && (write || es != SEPT_BLOCKEDW)) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}

	/* All checks passed. */
	uint64_t size = sept_level_size(w.level);
	uint64_t pa = (sept_hpa(w.entry) & ~(size - 1)) | (gpa & (size - 1));
	uint64_t old;
	seam_priv_read(c, pa, td->hkid, &old, sizeof(old));
	if (write)
		seam_priv_write(c, pa, td->hkid, &data, sizeof(data));
	r->r8 = old;
out:
	sept_unlock_walk(td, &w);
	seam_td_state_unlock(td, SEAM_LOCK_SHARED);
out_tdr:
	seam_page_unlock(&tdr_p);
	return st;
}

uint64_t seam_tdh_mem_rd(struct seam_ctx *c)
{
	return tdh_mem_rd_wr(c, false);
}
