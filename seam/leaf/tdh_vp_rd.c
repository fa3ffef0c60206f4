/*
 * TDH.VP.RD (26): read one vCPU-scope metadata element.
 * RCX = TDVPR, RDX = field id -> R8 = value;
 * version 1: RDX = id of the next readable element (all ones at the end);
 * a null field id asks for the first one (status
 * METADATA_FIRST_FIELD_ID_IN_CONTEXT, R8 = 0).
 * R8 = 0 (and with version 1 RDX = all ones) unless the read succeeds.
 *
 * Order (module 1.5): TDVPR explicit, shared (RCX); owner TDR implicit,
 * shared (operand TDR); the TD state check, op-state lock shared (any
 * OP_STATE but UNINITIALIZED); TDVPS incomplete -> TDCX_NUM_INCORRECT;
 * association (READY or DISABLED; bound elsewhere -> VCPU_ASSOCIATED; an
 * unbound vCPU becomes bound to this LP); then the field (metadata_vp.h).
 */
#include "seam/metadata_vp.h"
#include "seam/vp.h"

uint64_t seam_tdh_vp_rd(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t field = r->rdx;
	bool v1 = c->version == 1;
	struct vp_ops o;
	uint64_t st, val;

	if (v1)
		r->rdx = MD_FIELD_ID_NULL;
	r->r8 = 0;
	st = vp_md_get(c, true, &o);
	if (st)
		return st;
	if (v1 && md_vp_is_null_id(field)) {
		r->rdx = md_vp_next(o.v, MD_VP_HOST, false, field);
		st = TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
		goto out;
	}
	st = md_vp_read(c->s, o.v, MD_VP_HOST, field, &val);
	if (st)
		goto out;
	if (v1)
		r->rdx = md_vp_next(o.v, MD_VP_HOST, false, field);
	r->r8 = val;
	seam_charge(c, METADATA_FIELD, 1);
out:
	vp_put(&o);
	return st;
}
