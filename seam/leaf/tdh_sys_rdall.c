/* TDH.SYS.RDALL (37): dump global metadata as a list into a 4 KiB page.
 * RDX = page HPA, R8 = first field id (-1 = from the start) -> R8 = next id. */
#include "seam/metadata_sys.h"
#include "seam/seam_mem.h"

uint64_t seam_tdh_sys_rdall(struct seam_ctx *c)
{
	uint64_t page_pa = c->r->rdx, id = c->r->r8, next;
	uint8_t page[4096];

	c->r->r8 = MD_FIELD_ID_NULL;
	if (!c->lp->seam.lp_init_done)
		return TDX_SYS_LP_INIT_NOT_DONE;
	if (!seam_pa_shared_ok(c->s, page_pa, 4096))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	uint64_t status = md_sys_dump(c->s, id, page, &next);
	if (status == TDX_METADATA_FIELD_ID_INCORRECT)
		return status;
	unsigned used = ((uint16_t *)page)[0];
	seam_write_pa(c->s, page_pa, page, used);
	seam_charge(c, METADATA_LIST_ELEM, used / 8);
	c->r->r8 = next;
	return status;
}
