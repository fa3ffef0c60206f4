/*
 * TDH.SYS.TDMR.INIT (36): initialise the PAMT of one TDMR, 1024 4K entries
 * (4 MiB of TDMR) per call. RCX = TDMR base -> RDX = next address to
 * initialise, rounded down to 1 GB (base + size on the last call).
 */
#include "seam/pamt.h"
#include "seam/seam_mem.h"

uint64_t seam_tdh_sys_tdmr_init(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	uint64_t base = c->r->rcx;
	struct seam_tdmr *t = NULL;

	c->r->rdx = 0;
	if (!seam_pa_private_ok(c->s, base, TDX_1G))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	for (uint32_t i = 0; i < m->n_tdmrs; i++)
		if (m->tdmr[i].base == base)
			t = &m->tdmr[i];
	if (!t)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	if (!seam_op_lock_ex(c, &t->lock))
		return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
	uint64_t off = atomic_load(&t->init_off);
	uint64_t status = TDX_SUCCESS;
	if (off >= t->size) {
		status = TDX_TDMR_ALREADY_INITIALIZED;
		goto out;
	}

	/* ALL CHECKS PASSED */
	pamt_init_chunk(c->s, t, off);
	off += PAMT_INIT_CHUNK_BYTES;
	atomic_store_explicit(&t->init_off, off, memory_order_release);
	seam_charge(c, PAMT_ENTRY_INIT, PAMT_INIT_CHUNK_BYTES / TDX_PAGE_SIZE);
	c->r->rdx = (t->base + off) & ~(TDX_1G - 1);
out:
	seam_unlock_ex(&t->lock);
	return status;
}
