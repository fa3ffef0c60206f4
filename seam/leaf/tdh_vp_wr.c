/*
 * TDH.VP.WR (43): write one vCPU-scope metadata element under a mask.
 * RCX = TDVPR, RDX = field id, R8 = value, R9 = write mask
 * -> R8 = the element's previous value (0 on error).
 *
 * Order (module 1.5): TDVPR explicit, shared (RCX); owner TDR implicit,
 * shared (operand TDR); the TD state check, op-state lock shared
 * (INITIALIZED or RUNNABLE); TDVPS incomplete -> TDCX_NUM_INCORRECT;
 * association (READY only; bound elsewhere -> VCPU_ASSOCIATED; an unbound
 * vCPU becomes bound to this LP); then the field and the write rule
 * (metadata_vp.h).
 */
#include "seam/metadata_vp.h"
#include "seam/vp.h"

uint64_t seam_tdh_vp_wr(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t field = r->rdx, value = r->r8, mask = r->r9;
	struct vp_ops o;
	uint64_t st, old;

	r->r8 = 0;
	st = vp_md_get(c, false, &o);
	if (st)
		return st;
	st = md_vp_write(c->s, o.v, MD_VP_HOST, field, value, mask, &old);
	if (st)
		goto out;
	r->r8 = old;
	seam_charge(c, METADATA_FIELD, 1);
out:
	vp_put(&o);
	return st;
}
