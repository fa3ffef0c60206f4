/* tdh_mng_addcx: not implemented yet (being written). */
#include "seam/td.h"

uint64_t tdh_mng_addcx(struct seam_ctx *c)
{
	(void)c;
	return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
}
