/*
 * TDH.PHYMEM.PAGE.RDMD (24): read a page's PAMT metadata.
 * RCX = PA -> RCX = page type, RDX = owner (TDR PA), R8 = page size,
 * R9 = BEPOCH (PT_REG and PT_EPT only), R10 = R11 = 0.
 */
#include "seam/pamt.h"
#include "seam/seam_mem.h"

uint64_t seam_tdh_phymem_page_rdmd(struct seam_ctx *c)
{
	uint64_t pa = c->r->rcx;
	struct tdx_module_args *r = c->r;

	r->rcx = r->rdx = r->r8 = r->r9 = r->r10 = r->r11 = 0;
	if (!seam_pa_private_ok(c->s, pa, TDX_PAGE_SIZE))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	struct seam_tdmr *t = pamt_get_block(c->m, pa);
	if (!t)
		return tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX);
	struct tdx_pamt_entry e;
	unsigned ps;
	uint64_t status = seam_fault(c, TDX_LEAF_F_OPLOCK);
	if (!status)
		status = pamt_walk_read(c->s, t, pa, &e, &ps);
	if (status)
		return tdx_status_op(status, TDX_OPERAND_ID_RCX);
	unsigned type = pamt_type(&e);
	r->rcx = type;
	r->rdx = pamt_owner_pa(&e);
	r->r8 = ps;
	r->r9 = (type == PT_REG || type == PT_EPT) ? e.bepoch : 0;
	return TDX_SUCCESS;
}
