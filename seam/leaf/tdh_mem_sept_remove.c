/*
 * TDH.MEM.SEPT.REMOVE (30): remove an empty Secure-EPT page and give it back
 * to the host.
 *
 * In:  RCX = GPA + level of the non-leaf entry pointing to the page
 *      (1 .. EPT levels - 1), RDX = TDR PA.
 * Out: RCX = the removed page's PA on success, RDX = 0; the ext outputs on
 *      S-EPT errors, else RCX = RDX = 0. Version 1: R9..R11 = the removed
 *      L2 S-EPT pages (always 0 in tdxsim, which has no L2 VMs), zeroed on
 *      every path.
 *
 * Checks in the module's order:
 *   TDR (shared)                          ... + RDX
 *   TD state (INITIALIZED or RUNNABLE), op-state lock shared
 *   RCX: level 1 .. EPT levels - 1, ...   OPERAND_INVALID + RCX
 *   S-EPT tree lock (exclusive)           OPERAND_BUSY + SEPT_TREE
 *   walk to the level                     EPT_WALK_FAILED + RCX, ext
 *   entry host lock                       OPERAND_BUSY + RCX, ext
 *   entry not NL_MAPPED or NL_BLOCKED     EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   the page's PAMT entry (exclusive)     OPERAND_BUSY + RCX
 *   while the TD may run (RUNNABLE):
 *     entry not NL_BLOCKED                GPA_RANGE_NOT_BLOCKED + RCX, ext
 *     not TLB-tracked since blocked       TLB_TRACKING_NOT_DONE + RCX
 *   an entry of the page is not FREE      EPT_PAGE_NOT_FREE + RCX, ext
 *
 * Effect: the entry becomes FREE, the page PT_NDA (the host reclaims it
 * without TDH.PHYMEM.PAGE.RECLAIM), the TDR child count drops by 1.
 */
#include "seam/sept.h"

uint64_t seam_tdh_mem_sept_remove(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa_lvl = r->rcx, tdr_pa = r->rdx;
	struct seam_page tdr_p, page_p = { 0 };
	struct seam_td *td;
	struct sept_walk w = { .tree_mode = -1 };
	uint64_t st;

	r->rcx = r->rdx = 0;
	if (c->version > 0)
		r->r9 = r->r10 = r->r11 = 0;
	st = sept_td_enter(c, tdr_pa, TDX_OPERAND_ID_RDX, &tdr_p, &td);
	if (st)
		return st;
	st = sept_lock_walk(c, td, gpa_lvl, 1, td->ept_levels - 1, TDX_OPERAND_ID_RCX,
			    SEAM_LOCK_EXCLUSIVE, SEPT_LW_ENTRY, &w);
	if (st)
		goto out;
	unsigned es = sept_state(w.entry);
	if (es != SEPT_NL_MAPPED && es != SEPT_NL_BLOCKED) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	uint64_t page_pa = sept_hpa(w.entry);
	if (seam_page_get(c, page_pa, TDX_OPERAND_ID_RCX, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE, -1,
			  &page_p)) {
		st = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (sept_tracking_required(td)) {
		if (es != SEPT_NL_BLOCKED) {
			sept_set_ext(c, w.entry, w.level);
			st = tdx_status_op(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX);
			goto out;
		}
		if (!sept_tlb_tracked(td, page_p.e->bepoch) || seam_fault(c, SEAM_FAULT_TLB_TRACK)) {
			st = tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX);
			goto out;
		}
	}
	uint64_t ent[512];
	seam_priv_read(c, page_pa, td->hkid, ent, sizeof(ent));
	for (unsigned i = 0; i < 512; i++) {
		if (sept_state(ent[i]) != SEPT_FREE) {
			sept_set_ext(c, w.entry, w.level);
			st = tdx_status_op(TDX_EPT_PAGE_NOT_FREE, TDX_OPERAND_ID_RCX);
			goto out;
		}
	}

	/* All checks passed. */
	sept_walk_write(c, td, &w, SEPT_ENTRY_FREE);
	atomic_fetch_sub(&td->chldcnt, 1);
	seam_page_set(c, &page_p, PT_NDA, 0);
	r->rcx = page_pa;
	seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
	seam_charge(c, PAMT_CHECK, 1);
	seam_charge(c, LINE_READ, 64);
out:
	seam_page_unlock(&page_p);
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
	return st;
}
