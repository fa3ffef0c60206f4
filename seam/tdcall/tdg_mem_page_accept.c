/*
 * TDG.MEM.PAGE.ACCEPT (6): the guest accepts a private page the host added
 * with TDH.MEM.PAGE.AUG: PENDING -> MAPPED, the page zeroed through the TD's
 * KeyID first (all 512 4 KiB pages of a 2 MiB page).
 * In: RCX = GPA + level (0 = 4K, 1 = 2M). No outputs but RAX.
 *
 * Order (module 1.5 tdg_mem_page_accept.c, through sept_lock_walk):
 *   RCX: level > 1 (module 1.5.01 accepts no 1G page) or >= the TD's EPT
 *   levels, bits 11:3, GPA not aligned to the level, above the GPA width,
 *   shared bit                          -> OPERAND_INVALID + RCX
 *   S-EPT tree lock (shared)            -> OPERAND_BUSY + SEPT_TREE
 *   the walk stops above the level at
 *     a MAPPED/BLOCKEDW leaf            -> PAGE_ALREADY_ACCEPTED + its level
 *     anything else (missing or blocked
 *     table, PENDING or blocked leaf)   -> EPT-violation TD exit
 *   entry host lock                     -> OPERAND_BUSY + RCX
 *   the entry is a page table           -> PAGE_SIZE_MISMATCH + level
 *   the entry is MAPPED or BLOCKEDW     -> PAGE_ALREADY_ACCEPTED + level
 *   the entry is not PENDING (FREE, REMOVED, BLOCKED, PENDING_BLOCKED)
 *                                       -> EPT-violation TD exit
 * PAGE_ALREADY_ACCEPTED is informational (bit 63 clear).
 *
 * The EPT-violation TD exit (tdx-abi.md 2.3): RAX = SUCCESS | 48, RCX = exit
 * qualification (data write, plus the entry's R/W/X in bits 3..5), RDX =
 * extended qualification type ACCEPT (1) with, in 63:32, the requested level
 * (2:0), the level of the failing entry (5:3), its S-EPT state (13:6) and
 * whether it is a leaf (14); R8 = the GPA.
 *
 * Deviations. The module's guest side takes no S-EPT tree lock (TLB tracking
 * keeps the tree stable under it); tdxsim takes it shared, so a host leaf
 * holding it exclusively makes ACCEPT answer OPERAND_BUSY + SEPT_TREE, which
 * Linux guests treat like any other busy status (retry). A 2 MiB accept is
 * done in one go (the module may stop between 4 KiB pages for a pending
 * interrupt and resume on the re-executed TDCALL).
 */
#include "seam/sept.h"
#include "seam/tdcall/tdcall_int.h"

static bool guest_accessible_leaf(unsigned st)
{
	return st == SEPT_MAPPED || st == SEPT_BLOCKEDW;
}

static uint64_t violation(struct tdcall_ctx *t, uint64_t gpa, unsigned req_lvl,
			  uint64_t entry, unsigned lvl)
{
	unsigned st = sept_state(entry);
	uint64_t info = (req_lvl & 7) | ((uint64_t)(lvl & 7) << 3) | ((uint64_t)st << 6) |
			((uint64_t)sept_is_leaf_state(st) << 14);
	uint64_t rwx = sept_arch(entry) & SEPT_RWX;
	return tdcall_exit_ept_violation(t, gpa, TDCALL_EQ_WRITE | (rwx << 3),
					 TDCALL_EEQ_ACCEPT | (info << 32));
}

uint64_t seam_tdg_mem_page_accept(struct tdcall_ctx *t)
{
	struct seam_ctx *c = t->c;
	struct seam_td *td = t->td;
	uint64_t gpa_lvl = t->gpr[GPR_RCX];
	unsigned req_lvl = gpa_lvl & 7;
	struct sept_walk w;

	uint64_t st = sept_lock_walk(c, td, gpa_lvl, 0, 1, TDX_OPERAND_ID_RCX, SEAM_LOCK_SHARED,
				     SEPT_LW_ENTRY, &w);
	if (st == tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX)) {
		/* Stopped above the requested level (nothing is held). */
		if (guest_accessible_leaf(sept_state(w.entry)))
			return tdx_status_op(TDX_PAGE_ALREADY_ACCEPTED, w.level);
		return violation(t, w.gpa, req_lvl, w.entry, w.level);
	}
	if (st)
		return st;

	unsigned es = sept_state(w.entry);
	if (es & 0x80) {
		st = tdx_status_op(TDX_PAGE_SIZE_MISMATCH, w.level);
	} else if (guest_accessible_leaf(es)) {
		st = tdx_status_op(TDX_PAGE_ALREADY_ACCEPTED, w.level);
	} else if (es != SEPT_PENDING) {
		uint64_t entry = w.entry;
		sept_unlock_walk(td, &w);
		return violation(t, w.gpa, req_lvl, entry, w.level);
	} else {
		uint64_t hpa = sept_hpa(w.entry), size = sept_level_size(w.level);
		seam_priv_zero(c, hpa, td->hkid, size);
		sept_walk_write(c, td, &w, sept_make(hpa, SEPT_MAPPED, w.level) |
					   (w.entry & SEPT_SVE));
		seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
		seam_charge(c, LINE_WRITE_ENC, size / 64);
	}
	sept_unlock_walk(td, &w);
	return st;
}
