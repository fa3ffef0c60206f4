/*
 * TDG.VP.INFO (1): the TD's execution environment, for the guest.
 * Out: RCX = GPA width (52 with GPAW, else 48); RDX = TD ATTRIBUTES;
 *      R8 = vCPUs initialised (31:0) | MAX_VCPUS (63:32); R9 = this vCPU's
 *      index; R10 = the TDCALLs available (bit 0: TDG.SYS.RD/RDALL);
 *      R11 = 0 (reserved). Never fails.
 */
#include <stdatomic.h>

#include "seam/tdcall/tdcall_int.h"

uint64_t seam_tdg_vp_info(struct tdcall_ctx *t)
{
	const struct seam_td *td = t->td;
	uint64_t *g = t->gpr;

	g[GPR_RCX] = td->gpaw ? 52 : 48;
	g[GPR_RDX] = td->attributes;
	g[GPR_R8] = (uint64_t)atomic_load_explicit(&td->num_vcpus, memory_order_acquire) |
		    ((uint64_t)td->max_vcpus << 32);
	g[GPR_R9] = t->v->vcpu_index;
	g[GPR_R10] = 1;
	g[GPR_R11] = 0;
	return TDX_SUCCESS;
}
