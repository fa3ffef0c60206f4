/*
 * TDH.VP.FLUSH (18): flush a vCPU's cached state on its LP and unbind it.
 * RCX = TDVPR. No outputs. Issued on the LP the vCPU is associated with.
 *
 * Order (module 1.5): TDVPR explicit, exclusive (RCX); owner TDR implicit,
 * shared (operand TDR); TD lifecycle not KEYS_CONFIGURED ->
 * TD_KEYS_NOT_CONFIGURED; TDVPS incomplete -> TDCX_NUM_INCORRECT; vCPU not
 * associated with this LP -> VCPU_NOT_ASSOCIATED. No op-state lock and no
 * TD_FATAL check: teardown must be able to flush any TD. Success: the vCPU
 * is unbound and the TD's count of associated vCPUs drops by one.
 */
#include "seam/vp.h"

uint64_t seam_tdh_vp_flush(struct seam_ctx *c)
{
	struct vp_ops o;
	uint64_t st;

	st = vp_get(c, c->r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_EXCLUSIVE, SEAM_LOCK_SHARED, &o);
	if (st)
		return st;
	if (atomic_load_explicit(&o.td->lifecycle, memory_order_acquire) != TD_KEYS_CONFIGURED)
		st = TDX_TD_KEYS_NOT_CONFIGURED;
	else if (!vp_tdvps_complete(o.v))
		st = TDX_TDCX_NUM_INCORRECT;
	else if (atomic_load(&o.v->assoc_lp) != (int32_t)c->lp_id)
		st = TDX_VCPU_NOT_ASSOCIATED;
	if (!st) {
		/* INVEPT / VMCLEAR have nothing to flush in the model. */
		atomic_store(&o.v->assoc_lp, -1);
		atomic_fetch_sub(&o.td->num_assoc_vcpus, 1);
		seam_charge(c, TLB_FLUSH, 1);
	}
	vp_put(&o);
	return st;
}
