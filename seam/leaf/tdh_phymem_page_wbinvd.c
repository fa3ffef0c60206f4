/*
 * TDH.PHYMEM.PAGE.WBINVD (41): write back and invalidate the cache lines of
 * one reclaimed page, through the KeyID it was used with. RCX = PA with that
 * KeyID in its KeyID bits (Linux's mk_keyed_paddr); no outputs.
 *
 * Order (module 1.5): the KeyID bits are taken out of RCX, then the 4 KiB
 * page operand checks on what remains, lock shared: misaligned or >= 2^52
 * -> OPERAND_INVALID+RCX; outside an initialised TDMR block ->
 * OPERAND_ADDR_RANGE_ERROR+RCX; PAMT busy -> OPERAND_BUSY+RCX; part of a
 * larger page, or not PT_NDA -> PAGE_METADATA_INCORRECT+RCX. The module does
 * not check which KeyID it is given (any KeyID, even 0, is accepted).
 *
 * The simulated caches never hold dirty lines (every write reaches memory and
 * bumps the page version), so the flush itself has nothing to write back.
 */
#include "seam/seam_mem.h"
#include "seam/td.h"

uint64_t seam_tdh_phymem_page_wbinvd(struct seam_ctx *c)
{
	struct tdxsim *s = c->s;
	/* KeyID bits: [keyid_shift, 52). Bits from 52 up stay, and fail. */
	uint64_t keyid_mask = ((1ULL << SEAM_MAX_PA) - 1) & ~((1ULL << s->keyid_shift) - 1);
	uint64_t pa = c->r->rcx & ~keyid_mask;
	struct seam_page p;

	uint64_t status = seam_page_get(c, pa, TDX_OPERAND_ID_RCX, TDX_PS_4K, SEAM_LOCK_SHARED,
					PT_NDA, &p);
	if (status)
		return status;
	seam_charge(c, LINE_FLUSH, TDX_PAGE_SIZE / 64);
	seam_page_unlock(&p);
	return TDX_SUCCESS;
}
