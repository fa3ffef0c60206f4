/*
 * TDH.MEM.SEPT.ADD (3): add a Secure-EPT page below a non-leaf entry.
 *
 * In:  RCX = GPA + level of the non-leaf entry that will point to the new
 *      page (1 .. EPT levels - 1), RDX = TDR PA (bit 0 ALLOW_EXISTING,
 *      bits 11:1 and 63:52 reserved), R8 = the new page.
 *      Version 1 also takes R9..R11 = S-EPT pages for L2 VMs 1..3 (0 =
 *      none), and lets R8 be 0 when the entry already points to a page.
 * Out: RCX = RDX = 0, or the ext outputs (entry, level | state << 8) on
 *      S-EPT errors. Version 1 (on every path past the version check):
 *      R8..R11 = the page operands (bit 63 cleared), where R8 = 0 if its
 *      page was added and has bit 63 set if the entry already had a page
 *      and ALLOW_EXISTING let it be.
 *
 * Checks in the module's order:
 *   RDX reserved bits                     OPERAND_INVALID + RDX
 *   TDR (shared)                          ... + RDX
 *   TD state (INITIALIZED or RUNNABLE), op-state lock shared
 *   RCX: level 1 .. EPT levels - 1, bits 11:3, alignment, GPA width,
 *   shared bit                            OPERAND_INVALID + RCX
 *   S-EPT tree lock (shared)              OPERAND_BUSY + SEPT_TREE
 *   walk to the level                     EPT_WALK_FAILED + RCX, ext
 *   entry host lock                       OPERAND_BUSY + RCX, ext
 *   entry not FREE or NL_MAPPED           EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   R8 = 0: version 0                     OPERAND_INVALID + R8
 *           entry not NL_MAPPED           EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   R8 != 0, entry FREE: the page (4K, exclusive, PT_NDA)
 *                                         OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                                         OPERAND_BUSY / PAGE_METADATA_INCORRECT + R8
 *   R8 != 0, entry NL_MAPPED, no ALLOW_EXISTING
 *                                         EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   version 1, R9..R11 != 0 for an L2 VM the TD does not have
 *                                         OPERAND_INVALID + R9..R11
 *
 * Effect: the page is initialised through the TD's KeyID with every entry
 * FREE, becomes PT_EPT owned by the TDR (BEPOCH 0), the TDR child count
 * grows by 1 and the entry becomes NL_MAPPED pointing at it.
 *
 * tdxsim has no L2 S-EPT: an L2 page for a VM the TD has is refused like
 * one for a VM it has not (the TD's L2 VM count is 0 in practice).
 */
#include "seam/sept.h"

#define RDX_RESERVED (0xFFEULL | (0xFFFULL << 52))
#define ALLOW_EXISTING 1ULL

uint64_t seam_tdh_mem_sept_add(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa_lvl = r->rcx, handle = r->rdx;
	uint64_t page[4] = { r->r8, 0, 0, 0 };
	bool v1 = c->version > 0;
	struct seam_page tdr_p, page_p = { 0 };
	struct seam_td *td;
	struct sept_walk w = { .tree_mode = -1 };
	uint64_t st;

	if (v1) {
		page[1] = r->r9;
		page[2] = r->r10;
		page[3] = r->r11;
	}
	for (unsigned i = 0; i < 4; i++)
		page[i] &= ~(1ULL << 63);
	/* What the version-1 outputs report: updated as pages are used. */
	uint64_t out[4] = { page[0], page[1], page[2], page[3] };
	r->rcx = r->rdx = 0;

	if (handle & RDX_RESERVED) {
		st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
		goto done;
	}
	st = sept_td_enter(c, handle & SEPT_HPA_MASK, TDX_OPERAND_ID_RDX, &tdr_p, &td);
	if (st)
		goto done;
	st = sept_lock_walk(c, td, gpa_lvl, 1, td->ept_levels - 1, TDX_OPERAND_ID_RCX,
			    SEAM_LOCK_SHARED, SEPT_LW_ENTRY, &w);
	if (st)
		goto out;
	unsigned es = sept_state(w.entry);
	bool bad_state = es != SEPT_FREE && es != SEPT_NL_MAPPED;
	if (!bad_state && !page[0]) {
		if (!v1) {
			st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);
			goto out;
		}
		bad_state = es != SEPT_NL_MAPPED;
	} else if (!bad_state && es == SEPT_NL_MAPPED) {
		if (handle & ALLOW_EXISTING)
			out[0] |= 1ULL << 63;
		else
			bad_state = true;
	}
	if (bad_state) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	bool add = page[0] && es == SEPT_FREE;
	if (add) {
		st = seam_page_get(c, page[0], TDX_OPERAND_ID_R8, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE,
				   PT_NDA, &page_p);
		if (st)
			goto out;
	}
	for (unsigned vm = 1; vm < 4; vm++) {
		/* No L2 S-EPT in tdxsim (see above). */
		if (page[vm]) {
			st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8 + vm);
			goto out;
		}
	}

	/* All checks passed. */
	if (add) {
		sept_init_page(c, td, page[0]);
		seam_page_set(c, &page_p, PT_EPT, td->tdr_pa);
		atomic_fetch_add(&td->chldcnt, 1);
		sept_walk_write(c, td, &w, sept_make(page[0], SEPT_NL_MAPPED, w.level));
		out[0] = 0;
	}
	seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
	seam_charge(c, PAMT_CHECK, 1);
	seam_charge(c, LINE_WRITE_ENC, 64);
out:
	seam_page_unlock(&page_p);
	sept_unlock_walk(td, &w);
	sept_td_exit(&tdr_p, td);
done:
	if (v1) {
		r->r8 = out[0];
		r->r9 = out[1];
		r->r10 = out[2];
		r->r11 = out[3];
	}
	return st;
}
