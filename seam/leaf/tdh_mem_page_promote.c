/*
 * TDH.MEM.PAGE.PROMOTE (23): merge the 512 leaves of an S-EPT page into one
 * large leaf (4K -> 2M at level 1, 2M -> 1G at level 2) and give the S-EPT
 * page back to the host.
 *
 * In:  RCX = GPA + level of the non-leaf entry (1 or 2), RDX = TDR PA.
 * Out: RCX = the freed S-EPT page's PA on success, RDX = 0; the ext outputs
 *      on S-EPT errors, else RCX = RDX = 0. Version 1: R9..R11 = the freed
 *      L2 S-EPT pages (always 0: no L2 VMs in tdxsim), zeroed on every path.
 *
 * Checks in the module's order:
 *   TDR (shared)                          ... + RDX
 *   TD state (INITIALIZED or RUNNABLE), op-state lock shared
 *   RCX: level 1..2, bits 11:3, alignment, GPA width, shared bit
 *                                         OPERAND_INVALID + RCX
 *   S-EPT tree lock (shared)              OPERAND_BUSY + SEPT_TREE
 *   walk to the level                     EPT_WALK_FAILED + RCX, ext
 *   entry host lock                       OPERAND_BUSY + RCX, ext
 *   entry not NL_MAPPED or NL_BLOCKED     EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   the S-EPT page's PAMT entry (exclusive)
 *                                         OPERAND_BUSY + RCX
 *   while the TD may run (RUNNABLE):
 *     entry not NL_BLOCKED                GPA_RANGE_NOT_BLOCKED + RCX, ext
 *     not TLB-tracked since blocked       TLB_TRACKING_NOT_DONE + RCX
 *   host locks of the 512 entries         OPERAND_BUSY + RCX, ext
 *   entry 0 not MAPPED or PENDING, or its HPA not aligned to the large
 *   size, or an entry i differing from entry 0 other than by HPA + i * the
 *   small size                            EPT_INVALID_PROMOTE_CONDITIONS + RCX, ext
 *   the large PAMT entry (exclusive)      OPERAND_BUSY + RCX
 *
 * Effect: the entry becomes the large leaf, in the state of the small ones
 * (so a blocked range comes back unblocked); the large PAMT entry takes the
 * type and owner of the small pages, which become PT_NDA in the PAMT; the
 * S-EPT page becomes PT_NDA and the TDR child count drops by 1.
 */
#include "seam/sept.h"

uint64_t seam_tdh_mem_page_promote(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa_lvl = r->rcx, tdr_pa = r->rdx;
	struct seam_page tdr_p, sept_p = { 0 };
	struct seam_td *td;
	struct sept_walk w = { .tree_mode = -1 };
	bool page_locked = false;
	uint64_t sept_pa = 0, st;

	r->rcx = r->rdx = 0;
	if (c->version > 0)
		r->r9 = r->r10 = r->r11 = 0;
	st = sept_td_enter(c, tdr_pa, TDX_OPERAND_ID_RDX, &tdr_p, &td);
	if (st)
		return st;
	st = sept_lock_walk(c, td, gpa_lvl, 1, 2, TDX_OPERAND_ID_RCX, SEAM_LOCK_SHARED,
			    SEPT_LW_ENTRY, &w);
	if (st)
		goto out;
	unsigned es = sept_state(w.entry);
	if (es != SEPT_NL_MAPPED && es != SEPT_NL_BLOCKED) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	sept_pa = sept_hpa(w.entry);
	if (seam_page_get(c, sept_pa, TDX_OPERAND_ID_RCX, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE, -1,
			  &sept_p)) {
		st = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (sept_tracking_required(td)) {
		if (es != SEPT_NL_BLOCKED) {
			sept_set_ext(c, w.entry, w.level);
			st = tdx_status_op(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX);
			goto out;
		}
		if (!sept_tlb_tracked(td, sept_p.e->bepoch) || seam_fault(c, SEAM_FAULT_TLB_TRACK)) {
			st = tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX);
			goto out;
		}
	}
	if (!sept_page_trylock(c, td, sept_pa)) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
		goto out;
	}
	page_locked = true;

	uint64_t ent[512];
	seam_priv_read(c, sept_pa, td->hkid, ent, sizeof(ent));
	uint64_t small = sept_level_size(w.level - 1);
	uint64_t big_pa = sept_hpa(ent[0]);
	unsigned s0 = sept_state(ent[0]);
	bool ok = (s0 == SEPT_MAPPED || s0 == SEPT_PENDING) &&
		  !(big_pa & (sept_level_size(w.level) - 1));
	for (unsigned i = 1; ok && i < 512; i++)
		ok = ent[i] == ent[0] + i * small;
	if (!ok) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_INVALID_PROMOTE_CONDITIONS, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (sept_pamt_promote(c, big_pa, w.level)) {
		st = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
		goto out;
	}

	/* All checks passed. */
	sept_walk_write(c, td, &w, ent[0]);
	atomic_fetch_sub(&td->chldcnt, 1);
	seam_page_set(c, &sept_p, PT_NDA, 0);
	r->rcx = sept_pa;
	seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
	seam_charge(c, LINE_READ, 64);
	seam_charge(c, PAMT_ENTRY_INIT, 512);
out:
	if (page_locked)
		sept_page_unlock(td, sept_pa);
	seam_page_unlock(&sept_p);
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
	return st;
}
