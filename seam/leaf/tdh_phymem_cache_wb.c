/*
 * TDH.PHYMEM.CACHE.WB (40): write back the caches of this LP's package so
 * that the KeyIDs reclaimed so far (KOT FLUSHED) leave no dirty lines behind.
 * RCX = 0 starts a write-back, RCX = 1 resumes an interrupted one; no outputs.
 *
 * Order (module 1.5): RCX > 1 -> OPERAND_INVALID+RCX; the package's WBT entry
 * lock -> OPERAND_BUSY+WBCACHE; the KOT shared -> OPERAND_BUSY+KOT. Start: no
 * private KeyID FLUSHED -> NO_HKID_READY_TO_WBCACHE (a success-class status),
 * else the FLUSHED KeyIDs are remembered in the WBT entry. Resume: no saved
 * interruption point -> WBCACHE_RESUME_ERROR. The work runs in chunks; after
 * each chunk but the last a pending interrupt stops it with
 * INTERRUPTED_RESUMABLE, the next chunk saved for RCX = 1. On completion the
 * package's bit is cleared in the WBINVD bitmap of every remembered KeyID.
 *
 * A pending interrupt is what the fault plan's TDX_INTERRUPTED_RESUMABLE
 * models (seam_fault with TDX_LEAF_F_RESUMABLE, asked between chunks).
 */
#include <string.h>

#include "seam/td.h"
#include "sim/sim_int.h"

/* Cache sub-blocks written back per full CACHE.WB (the module's
 * num_of_cached_sub_blocks; the value is the model's). */
#define WB_CHUNKS 16u

#define WB_START  0
#define WB_RESUME 1

uint64_t seam_tdh_phymem_cache_wb(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	struct tdxsim *s = c->s;
	uint64_t cmd = c->r->rcx;

	if (cmd > WB_RESUME)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);

	unsigned pkg = c->lp->pkg;
	struct seam_wbt *w = &m->wbt[pkg];
	if (!seam_op_lock_ex(c, &w->lock))
		return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_WBCACHE);
	if (!seam_lock_mode(c, &m->kot_lock, SEAM_LOCK_SHARED)) {
		seam_unlock_ex(&w->lock);
		return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KOT);
	}

	uint32_t first = s->cfg.mktme_keyids + 1;
	uint32_t last = s->cfg.mktme_keyids + s->cfg.tdx_keyids;
	uint64_t status = TDX_SUCCESS;
	uint32_t chunk;

	if (cmd == WB_START) {
		/* A new start drops any interrupted session. */
		w->in_progress = 0;
		w->next_chunk = 0;
		uint64_t snap[sizeof(w->hkid_flushed) / sizeof(w->hkid_flushed[0])] = { 0 };
		int any = 0;
		for (uint32_t k = first; k <= last; k++) {
			if (seam_kot_state(m, k) == KOT_FLUSHED) {
				snap[k / 64] |= 1ULL << (k % 64);
				any = 1;
			}
		}
		if (!any) {
			status = TDX_NO_HKID_READY_TO_WBCACHE;
			goto out;
		}
		memcpy(w->hkid_flushed, snap, sizeof(snap));
		chunk = 0;
	} else {
		if (!w->in_progress) {
			status = TDX_WBCACHE_RESUME_ERROR;
			goto out;
		}
		chunk = w->next_chunk;
	}

	for (;;) {
		seam_charge(c, WBINVD_CHUNK, 1);
		chunk++;
		if (chunk >= WB_CHUNKS)
			break;
		if (seam_fault(c, TDX_LEAF_F_RESUMABLE)) {
			w->next_chunk = chunk;
			w->in_progress = 1;
			status = TDX_INTERRUPTED_RESUMABLE;
			goto out;
		}
	}
	w->in_progress = 0;
	w->next_chunk = 0;

	/* Complete: the package's caches hold no line of the remembered KeyIDs. */
	atomic_fetch_add_explicit(&c->lp->wbinvd_count, 1, memory_order_relaxed);
	for (uint32_t k = first; k <= last; k++)
		if (w->hkid_flushed[k / 64] & (1ULL << (k % 64)))
			atomic_fetch_and_explicit(&m->kot[k].wbinvd_bitmap, ~(1u << pkg),
						  memory_order_acq_rel);
out:
	seam_unlock_sh(&m->kot_lock);
	seam_unlock_ex(&w->lock);
	return status;
}
