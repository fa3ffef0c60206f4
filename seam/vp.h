/*
 * Helpers the vCPU leaves share (TDH.VP.*): the TDVPR operand with its
 * implicit owner TDR, the TDVPS completeness check, and vCPU association
 * (tdx-abi.md 7 "Association").
 */
#ifndef SEAM_VP_H
#define SEAM_VP_H

#include <stdbool.h>
#include <string.h>

#include "seam/td.h"
#include "sim/sim_int.h"


/* TDVPS pages per L2 VM, on top of TD_TDVPS_PAGES. */
#define TD_TDVPS_PAGES_PER_L2 3

/* What a vCPU leaf holds. */
struct vp_ops {
	struct seam_page vp;            /* the TDVPR, explicit operand */
	struct seam_page tdr;           /* its owner TDR, implicit (operand TDR) */
	struct seam_td *td;
	struct seam_vcpu *v;
	int state_mode;                 /* op-state lock mode, -1 when not held */
};

/*
 * Check and lock the TDVPR operand (type PT_TDVPR, operand op, mode vp_mode),
 * then lock its owner TDR, reached through the TDVPR's PAMT owner (operand
 * TDR: only OPERAND_BUSY can fail there). On success o holds both.
 */
static inline uint64_t vp_get(struct seam_ctx *c, uint64_t tdvpr_pa, unsigned op, int vp_mode,
			      int tdr_mode, struct vp_ops *o)
{
	memset(o, 0, sizeof(*o));
	o->state_mode = -1;
	uint64_t st = seam_page_get(c, tdvpr_pa, op, TDX_PS_4K, vp_mode, PT_TDVPR, &o->vp);
	if (st)
		return st;
	uint64_t tdr_pa = seam_page_owner(&o->vp);
	st = seam_page_get(c, tdr_pa, TDX_OPERAND_ID_TDR, TDX_PS_4K, tdr_mode, PT_TDR, &o->tdr);
	if (st) {
		seam_page_unlock(&o->vp);
		return st;
	}
	o->v = seam_obj_get(c->m, tdvpr_pa);
	o->td = seam_obj_get(c->m, tdr_pa);
	SIM_BUG_ON(!o->v || o->v->obj_type != SEAM_OBJ_VCPU || !o->td ||
		   o->td->obj_type != SEAM_OBJ_TD || o->v->td != o->td);
	return TDX_SUCCESS;
}

/* The common TD state check, op-state lock taken shared and remembered. */
static inline uint64_t vp_check_state(struct seam_ctx *c, struct vp_ops *o)
{
	uint64_t st = seam_td_check_state(c, o->td, SEAM_LOCK_SHARED);
	if (!st)
		o->state_mode = SEAM_LOCK_SHARED;
	return st;
}

/* Release everything vp_get / vp_check_state took (safe on partial state). */
static inline void vp_put(struct vp_ops *o)
{
	if (o->state_mode >= 0)
		seam_td_state_unlock(o->td, o->state_mode);
	o->state_mode = -1;
	seam_page_unlock(&o->tdr);
	seam_page_unlock(&o->vp);
}

/* The TDVPS has all its pages (the module maps it only then; else the
 * leaf fails with TDCX_NUM_INCORRECT). */
static inline bool vp_tdvps_complete(const struct seam_vcpu *v)
{
	return 1 + v->num_tdcx >= TD_TDVPS_PAGES + TD_TDVPS_PAGES_PER_L2 * (unsigned)v->td->num_l2_vms;
}

/*
 * The module's check-and-associate: the vCPU must be READY (or DISABLED when
 * allow_disabled) -> else VCPU_STATE_INCORRECT; it must be unbound or bound
 * to this LP -> else VCPU_ASSOCIATED. An unbound vCPU becomes bound to the
 * calling LP and counted in the TD (*new_assoc set).
 */
static inline uint64_t vp_associate(struct seam_ctx *c, struct seam_vcpu *v, bool allow_disabled,
				    bool *new_assoc)
{
	unsigned state = atomic_load_explicit(&v->state, memory_order_acquire);
	*new_assoc = false;
	if (state != VCPU_READY && !(state == VCPU_DISABLED && allow_disabled))
		return TDX_VCPU_STATE_INCORRECT;
	int32_t prev = -1;
	if (atomic_compare_exchange_strong(&v->assoc_lp, &prev, (int32_t)c->lp_id)) {
		atomic_fetch_add(&v->td->num_assoc_vcpus, 1);
		*new_assoc = true;
		return TDX_SUCCESS;
	}
	return prev == (int32_t)c->lp_id ? TDX_SUCCESS : TDX_VCPU_ASSOCIATED;
}

/*
 * The checks TDH.VP.RD and TDH.VP.WR share, in the module's order: the
 * TDVPR (RCX, shared) and its owner TDR (shared); the TD state (op-state
 * lock shared); the TDVPS complete -> else TDCX_NUM_INCORRECT; the vCPU
 * READY (or DISABLED when allow_disabled) and associated with this LP
 * (vp_associate). On success o holds everything until vp_put(); on failure
 * nothing is held.
 */
static inline uint64_t vp_md_get(struct seam_ctx *c, bool allow_disabled, struct vp_ops *o)
{
	bool new_assoc;
	uint64_t st = vp_get(c, c->r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_SHARED, SEAM_LOCK_SHARED, o);
	if (st)
		return st;
	st = vp_check_state(c, o);
	if (!st && !vp_tdvps_complete(o->v))
		st = TDX_TDCX_NUM_INCORRECT;
	if (!st)
		st = vp_associate(c, o->v, allow_disabled, &new_assoc);
	if (st)
		vp_put(o);
	return st;
}

#endif
