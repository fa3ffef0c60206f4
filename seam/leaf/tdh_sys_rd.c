/* TDH.SYS.RD (34): read one global metadata field. RDX = id -> R8 = value, RDX = next id. */
#include "seam/metadata_sys.h"
#include "seam/seam_mem.h"

uint64_t seam_tdh_sys_rd(struct seam_ctx *c)
{
	uint64_t id = c->r->rdx, val, next;

	c->r->rdx = MD_FIELD_ID_NULL;
	c->r->r8 = 0;
	if (!c->lp->seam.lp_init_done)
		return TDX_SYS_LP_INIT_NOT_DONE;
	uint64_t status = md_sys_read(c->s, id, &val, &next);
	seam_charge(c, METADATA_FIELD, 1);
	if (status == TDX_SUCCESS || status == TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT) {
		c->r->r8 = val;
		c->r->rdx = next;
	}
	return status;
}
