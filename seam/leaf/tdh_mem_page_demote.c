/*
 * TDH.MEM.PAGE.DEMOTE (15): split a large leaf (2M at level 1, 1G at level
 * 2) into 512 smaller leaves held by a new Secure-EPT page.
 *
 * In:  RCX = GPA + level of the large leaf (1 or 2), RDX = TDR PA (bit 0
 *      L2_SEPT_ADD_MODE, bits 11:1 and 63:52 reserved), R8 = the new S-EPT
 *      page, R9..R11 = new L2 S-EPT pages (looked at only for the TD's L2
 *      VMs: none in tdxsim).
 * Out: RCX = RDX = 0, or the ext outputs on S-EPT errors. R9..R11 are
 *      returned unchanged.
 *
 * Checks in the module's order:
 *   RDX reserved bits                     OPERAND_INVALID + RDX
 *   TDR (shared)                          ... + RDX
 *   TD state (INITIALIZED or RUNNABLE), op-state lock shared
 *   RCX: level 1..2, bits 11:3, alignment, GPA width, shared bit
 *                                         OPERAND_INVALID + RCX
 *   S-EPT tree lock (shared)              OPERAND_BUSY + SEPT_TREE
 *   walk to the level                     EPT_WALK_FAILED + RCX, ext
 *   entry host lock                       OPERAND_BUSY + RCX, ext
 *   entry not MAPPED, BLOCKED, PENDING or PENDING_BLOCKED
 *                                         EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   while the TD may run (RUNNABLE):
 *     leaf not blocked                    GPA_RANGE_NOT_BLOCKED + RCX, ext
 *     not TLB-tracked since blocked (BEPOCH of the large page)
 *                                         TLB_TRACKING_NOT_DONE + RCX
 *   R8 (4K, exclusive, PT_NDA)            OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                                         OPERAND_BUSY / PAGE_METADATA_INCORRECT + R8
 *   the large PAMT entry (exclusive)      OPERAND_BUSY + RCX
 *
 * Effect: the new page holds 512 leaves in the large leaf's state, unblocked
 * (BLOCKED -> MAPPED, PENDING_BLOCKED -> PENDING), mapping the consecutive
 * small pages of the large one; the large PAMT entry's type and owner go to
 * its 512 children (BEPOCH 0) and it becomes PT_NDA; the new page becomes
 * PT_EPT owned by the TDR, the TDR child count grows by 1 and the entry
 * becomes NL_MAPPED pointing at it.
 */
#include "seam/sept.h"

#define RDX_RESERVED (0xFFEULL | (0xFFFULL << 52))

uint64_t seam_tdh_mem_page_demote(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa_lvl = r->rcx, handle = r->rdx, new_pa = r->r8;
	struct seam_page tdr_p, new_p = { 0 };
	struct seam_td *td;
	struct sept_walk w = { .tree_mode = -1 };
	uint64_t st;

	r->rcx = r->rdx = 0;
	if (handle & RDX_RESERVED)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	st = sept_td_enter(c, handle & SEPT_HPA_MASK, TDX_OPERAND_ID_RDX, &tdr_p, &td);
	if (st)
		return st;
	st = sept_lock_walk(c, td, gpa_lvl, 1, 2, TDX_OPERAND_ID_RCX, SEAM_LOCK_SHARED,
			    SEPT_LW_ENTRY, &w);
	if (st)
		goto out;
	unsigned es = sept_state(w.entry);
	if (es != SEPT_MAPPED && es != SEPT_BLOCKED && es != SEPT_PENDING &&
	    es != SEPT_PENDING_BLOCKED) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	uint64_t big_pa = sept_hpa(w.entry);
	if (sept_tracking_required(td)) {
		if (!sept_is_blocked_state(es)) {
			sept_set_ext(c, w.entry, w.level);
			st = tdx_status_op(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX);
			goto out;
		}
		if (!sept_tlb_tracked(td, sept_pamt_entry(c, big_pa, w.level)->bepoch) ||
		    seam_fault(c, SEAM_FAULT_TLB_TRACK)) {
			st = tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX);
			goto out;
		}
	}
	st = seam_page_get(c, new_pa, TDX_OPERAND_ID_R8, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE, PT_NDA,
			   &new_p);
	if (st)
		goto out;
	if (sept_pamt_demote(c, big_pa, w.level)) {
		st = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
		goto out;
	}

	/* All checks passed. */
	uint64_t small = sept_level_size(w.level - 1);
	uint64_t leaf = sept_unblock_entry(w.entry) & ~SEPT_HPA_MASK;
	uint64_t ent[512];
	for (unsigned i = 0; i < 512; i++)
		ent[i] = leaf | (big_pa + i * small);
	seam_priv_write(c, new_pa, td->hkid, ent, sizeof(ent));
	seam_page_set(c, &new_p, PT_EPT, td->tdr_pa);
	atomic_fetch_add(&td->chldcnt, 1);
	sept_walk_write(c, td, &w, sept_make(new_pa, SEPT_NL_MAPPED, w.level));
	seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
	seam_charge(c, LINE_WRITE_ENC, 64);
	seam_charge(c, PAMT_ENTRY_INIT, 512);
out:
	seam_page_unlock(&new_p);
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
	return st;
}
