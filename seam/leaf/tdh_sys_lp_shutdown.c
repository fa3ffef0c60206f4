/* TDH.SYS.LP.SHUTDOWN (44): deprecated; succeeds and does nothing, in every state. */
#include "seam/module.h"

uint64_t seam_tdh_sys_lp_shutdown(struct seam_ctx *c)
{
	(void)c;
	return TDX_SUCCESS;
}
