/*
 * TDH.MEM.PAGE.ADD (2): add a measured private 4 KiB page to a TD that is
 * being built (OP_STATE INITIALIZED).
 *
 * In:  RCX = GPA with level 0 in bits 2:0, RDX = TDR, R8 = target page
 *      (free TDMR page), R9 = source page (shared HPA, 4 KiB aligned).
 * Out: RCX = RDX = 0; on the S-EPT errors RCX/RDX carry the "ext" outputs
 *      (architectural entry; level | state << 8).
 *
 * Checks in the module's order:
 *   TDR (RDX, exclusive)        OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                               OPERAND_BUSY / PAGE_METADATA_INCORRECT + RDX
 *   TD state (no op-state lock: the exclusive TDR lock keeps every other
 *   leaf of this TD out)        TD_FATAL, TD_KEYS_NOT_CONFIGURED,
 *                               TDCS_NOT_ALLOCATED, OP_STATE_INCORRECT
 *   RCX level != 0, bits 11:3, GPA above GPAW, shared bit
 *                               OPERAND_INVALID + RCX
 *   S-EPT walk to level 0 (no tree lock, for the same reason)
 *                               EPT_WALK_FAILED + RCX, ext
 *   entry not FREE              EPT_ENTRY_STATE_INCORRECT + RCX, ext
 *   source misaligned, >= 2^52, private KeyID
 *                               OPERAND_INVALID + R9
 *   target page                 OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                               OPERAND_BUSY / PAGE_METADATA_INCORRECT + R8
 *
 * Effect: the source is copied into the target through the TD's KeyID
 * (direct stores: the lines become TD-owned ciphertext), the entry becomes
 * MAPPED (RWX, WB, ignore-PAT, suppress-#VE), MRTD is extended with one
 * 128-byte block, the TDR child count grows by one and the target's PAMT
 * entry becomes PT_REG owned by the TDR with BEPOCH 0.
 *
 * MRTD block of PAGE.ADD (one SHA-384 block, 128 bytes):
 *   bytes   0..15  ASCII "MEM.PAGE.ADD", zero padded
 *   bytes  16..23  the page GPA, little-endian
 *   bytes 24..127  zero
 */
#include <string.h>

#include "seam/sept.h"
#include "seam/seam_mem.h"

static void mrtd_add_page(struct seam_td *td, uint64_t gpa)
{
	uint8_t blk[128] = { 0 };
	memcpy(blk, "MEM.PAGE.ADD", 12);
	for (unsigned i = 0; i < 8; i++)
		blk[16 + i] = (uint8_t)(gpa >> (8 * i));
	seam_mrtd_update(td, blk, sizeof(blk));
}

uint64_t seam_tdh_mem_page_add(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa_lvl = r->rcx, tdr_pa = r->rdx, page_pa = r->r8, src_pa = r->r9;
	struct seam_page tdr_p, page_p = { 0 };
	struct seam_td *td;
	uint64_t st;

	r->rcx = r->rdx = 0;
	st = seam_tdr_get(c, tdr_pa, TDX_OPERAND_ID_RDX, SEAM_LOCK_EXCLUSIVE, &tdr_p, &td);
	if (st)
		return st;
	st = seam_td_check_state(c, td, SEAM_LOCK_NONE);
	if (st)
		goto out;

	uint64_t gpa;
	unsigned lvl;
	st = sept_check_gpa(c, td, gpa_lvl, 0, 0, TDX_OPERAND_ID_RCX, &gpa, &lvl);
	if (st)
		goto out;
	struct sept_walk w;
	if (!sept_walk(c, td, gpa, 0, &w)) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (sept_state(w.entry) != SEPT_FREE) {
		sept_set_ext(c, w.entry, w.level);
		st = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (!seam_pa_shared_ok(c->s, src_pa, TDX_PAGE_SIZE)) {
		st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R9);
		goto out;
	}
	st = seam_page_get(c, page_pa, TDX_OPERAND_ID_R8, TDX_PS_4K, SEAM_LOCK_EXCLUSIVE, PT_NDA,
			   &page_p);
	if (st)
		goto out;

	/* All checks passed. */
	uint8_t buf[TDX_PAGE_SIZE];
	seam_read_pa(c->s, src_pa, buf, sizeof(buf));
	seam_priv_write(c, page_pa, td->hkid, buf, sizeof(buf));
	sept_write(c, td, w.entry_pa, sept_make(page_pa, SEPT_MAPPED, 0) | SEPT_SVE);
	mrtd_add_page(td, gpa);
	atomic_fetch_add(&td->chldcnt, 1);
	seam_page_set(c, &page_p, PT_REG, tdr_pa);
	seam_charge(c, SEPT_LEVEL, td->ept_levels - w.level);
	seam_charge(c, PAMT_CHECK, 2);
	seam_charge(c, LINE_READ, 64);
	seam_charge(c, LINE_WRITE_ENC, 64);
	seam_page_unlock(&page_p);
out:
	seam_page_unlock(&tdr_p);
	return st;
}
