/*
 * TDH.MNG.KEY.RECLAIMID (27): kept for backward compatibility. The module
 * checks nothing (not even RCX) and answers TDX_SUCCESS.
 */
#include "seam/td.h"

uint64_t seam_tdh_mng_key_reclaimid(struct seam_ctx *c)
{
	(void)c;
	return TDX_SUCCESS;
}
