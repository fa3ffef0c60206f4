/*
 * TDH.MR.EXTEND (16): extend MRTD with 256 bytes of a page added by
 * PAGE.ADD (KVM issues it 16 times per measured page), while the TD is
 * being built (OP_STATE INITIALIZED).
 *
 * In:  RCX = GPA (256-byte aligned), RDX = TDR.
 * Out: RCX = RDX = 0; ext outputs when no present leaf maps the GPA.
 *
 * Checks in the module's order:
 *   TDR (RDX, exclusive)        OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                               OPERAND_BUSY / PAGE_METADATA_INCORRECT + RDX
 *   TD state (no op-state lock: the exclusive TDR lock keeps every other
 *   leaf of this TD out)        TD_FATAL, TD_KEYS_NOT_CONFIGURED,
 *                               TDCS_NOT_ALLOCATED, OP_STATE_INCORRECT
 *   GPA not 256-byte aligned    OPERAND_INVALID + RCX
 *   GPA above GPAW or shared    OPERAND_INVALID + RCX
 *   walk to the leaf (no tree lock, same reason) ends at a FREE, PENDING or
 *   BLOCKED entry, or a blocked non-leaf
 *                               EPT_ENTRY_NOT_PRESENT + RCX, ext of the
 *                               entry where the walk ended
 *   present leaf not MAPPED (BLOCKEDW, live export only)
 *                               EPT_ENTRY_NOT_PRESENT, no operand id, no ext
 *
 * Effect: MRTD (running SHA-384) += one 128-byte header block, then the 256
 * bytes at GPA as the TD sees them (read through the TD's KeyID):
 *   bytes   0..15  ASCII "MR.EXTEND", zero padded
 *   bytes  16..23  the GPA (as given, 256-byte aligned), little-endian
 *   bytes 24..127  zero
 *   bytes 128..383 the data
 */
#include <string.h>

#include "seam/sept.h"

/* As tdh_mem_page_add.c: the check of the leaves holding the TDR exclusively. */
uint64_t seam_tdh_mr_extend(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa = r->rcx, tdr_pa = r->rdx;
	struct seam_page tdr_p;
	struct seam_td *td;
	uint64_t st;

	r->rcx = r->rdx = 0;
	st = seam_tdr_get(c, tdr_pa, TDX_OPERAND_ID_RDX, SEAM_LOCK_EXCLUSIVE, &tdr_p, &td);
	if (st)
		return st;
	st = seam_td_check_state(c, td, SEAM_LOCK_NONE);
	if (st)
		goto out;
	unsigned gpa_width = td->gpaw ? 52 : 48;
	if ((gpa & 0xFF) || (gpa >> gpa_width) || (gpa & seam_td_shared_bit(td))) {
		st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
		goto out;
	}
	struct sept_walk w;
	sept_walk(c, td, gpa & ~(TDX_PAGE_SIZE - 1), 0, &w);
	unsigned es = sept_state(w.entry);
	if (!sept_is_leaf_state(es) || !(sept_arch(w.entry) & SEPT_RWX)) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_NOT_PRESENT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (es != SEPT_MAPPED) {
		st = TDX_EPT_ENTRY_NOT_PRESENT;
		goto out;
	}

	/* All checks passed. */
	uint64_t size = sept_level_size(w.level);
	uint64_t pa = (sept_hpa(w.entry) & ~(size - 1)) | (gpa & (size - 1));
	uint8_t blk[128 + 256] = { 0 };
	memcpy(blk, "MR.EXTEND", 9);
	for (unsigned i = 0; i < 8; i++)
		blk[16 + i] = (uint8_t)(gpa >> (8 * i));
	seam_priv_read(c, pa, td->hkid, blk + 128, 256);
	seam_mrtd_update(td, blk, sizeof(blk));
	seam_charge(c, LINE_READ, 4);
	seam_charge(c, SHA384_BLOCK, 3);
out:
	seam_page_unlock(&tdr_p);
	return st;
}
