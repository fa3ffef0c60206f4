/*
 * Static helpers shared by the TDH.VP.* leaf tests (test_tdh_vp_*.c): a TD
 * built up to INITIALIZED, vCPU steps one SEAMCALL at a time, raw VP.RD/WR,
 * and reach-ins to the module's vCPU/TD structures for states no SEAMCALL
 * sequence reaches yet (TD fatal, vCPU disabled).
 *
 * Include after <cmocka.h>.
 */
#ifndef VP_FIXTURES_H
#define VP_FIXTURES_H

#include "tsim_td.h"
#include "seam/metadata_vp.h"
#include "seam/td.h"
#include "seam/vp.h"
#include "seam/vp_enter.h"
#include "sim/sim_int.h"

#define VP_INIT_V(ver) (TDH_VP_INIT | ((uint64_t)(ver) << 16))
#define VP_RD_V(ver)   (TDH_VP_RD | ((uint64_t)(ver) << 16))
#define SENT 0x5A5A5A5A5A5A5A5AULL
#define TDCX_PER_VCPU (TDX_TDVPS_PAGES - 1)

struct vpt {
	struct tsim_env e;
	struct tsim_td td;
	tdxsim *s;
};

/* Environment and a TD up to MNG.INIT (OP_STATE INITIALIZED). */
static inline void vpt_init(struct vpt *t, uint64_t attributes, uint16_t max_vcpus)
{
	tsim_env_init(&t->e);
	t->s = t->e.s;
	tsim_td_build(&t->e, &t->td, attributes, max_vcpus);
}

static inline void vpt_fini(struct vpt *t)
{
	assert_int_equal(tdxsim_check_invariants(t->s, 0), TDXSIM_OK);
	tsim_env_fini(&t->e);
}

static inline struct seam_td *td_of(struct vpt *t)
{
	struct seam_td *td = seam_obj_get(&t->s->mod, t->td.tdr);
	assert_non_null(td);
	return td;
}

static inline struct seam_vcpu *vcpu_of(struct vpt *t, uint64_t tdvpr)
{
	struct seam_vcpu *v = seam_obj_get(&t->s->mod, tdvpr);
	assert_non_null(v);
	assert_int_equal(v->obj_type, SEAM_OBJ_VCPU);
	return v;
}

static inline uint64_t vp_create_raw(struct vpt *t, unsigned lp, uint64_t tdvpr, uint64_t tdr)
{
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = tdr };
	return seamcall_raw(t->s, lp, TDH_VP_CREATE, &a);
}

static inline uint64_t vp_addcx_raw(struct vpt *t, unsigned lp, uint64_t tdcx, uint64_t tdvpr)
{
	struct tdx_module_args a = { .rcx = tdcx, .rdx = tdvpr };
	return seamcall_raw(t->s, lp, TDH_VP_ADDCX, &a);
}

static inline uint64_t vp_init_raw(struct vpt *t, unsigned lp, unsigned ver, uint64_t tdvpr,
				   uint64_t rdx, uint64_t r8)
{
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = rdx, .r8 = r8 };
	return seamcall_raw(t->s, lp, VP_INIT_V(ver), &a);
}

/* VP.CREATE of a fresh page; returns the TDVPR. */
static inline uint64_t vp_create(struct vpt *t, unsigned lp)
{
	uint64_t tdvpr = tsim_page(&t->e);
	assert_tdx_status(TDX_SUCCESS, vp_create_raw(t, lp, tdvpr, t->td.tdr));
	return tdvpr;
}

/* n x VP.ADDCX of fresh pages. */
static inline void vp_addcx(struct vpt *t, unsigned lp, uint64_t tdvpr, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_tdx_status(TDX_SUCCESS, vp_addcx_raw(t, lp, tsim_page(&t->e), tdvpr));
}

/* VP.CREATE + all TDCX pages, not initialised. */
static inline uint64_t vp_build(struct vpt *t, unsigned lp)
{
	uint64_t tdvpr = vp_create(t, lp);
	vp_addcx(t, lp, tdvpr, TDCX_PER_VCPU);
	return tdvpr;
}

/* VP.CREATE + TDCX + VP.INIT version 1 on lp with the given x2APIC id. */
static inline uint64_t vp_ready(struct vpt *t, unsigned lp, uint32_t x2apic)
{
	uint64_t tdvpr = vp_build(t, lp);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(t, lp, 1, tdvpr, 0, x2apic));
	return tdvpr;
}

static inline uint64_t vp_rd_raw(struct vpt *t, unsigned lp, uint64_t tdvpr, uint64_t field,
				 uint64_t *val)
{
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = field, .r8 = SENT };
	uint64_t st = seamcall_raw(t->s, lp, TDH_VP_RD, &a);
	if (val)
		*val = a.r8;
	return st;
}

static inline uint64_t vp_rd(struct vpt *t, unsigned lp, uint64_t tdvpr, uint64_t field)
{
	uint64_t v;
	assert_tdx_status(TDX_SUCCESS, vp_rd_raw(t, lp, tdvpr, field, &v));
	return v;
}

static inline uint64_t vp_wr_raw(struct vpt *t, unsigned lp, uint64_t tdvpr, uint64_t field,
				 uint64_t value, uint64_t mask, uint64_t *old)
{
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = field, .r8 = value, .r9 = mask };
	uint64_t st = seamcall_raw(t->s, lp, TDH_VP_WR, &a);
	if (old)
		*old = a.r8;
	return st;
}

static inline uint64_t vp_flush_raw(struct vpt *t, unsigned lp, uint64_t tdvpr)
{
	struct tdx_module_args a = { .rcx = tdvpr };
	return seamcall_raw(t->s, lp, TDH_VP_FLUSH, &a);
}

/* Page type and owner from the PAMT (no SEAMCALL). */
static inline void expect_pamt(struct vpt *t, uint64_t pa, unsigned type, uint64_t owner)
{
	unsigned ty = ~0u, size = ~0u;
	uint64_t ow = ~0ULL;
	assert_int_equal(tdxsim_pamt_lookup(t->s, pa, &ty, &ow, &size), TDXSIM_OK);
	assert_int_equal(ty, type);
	assert_int_equal(ow, owner);
	assert_int_equal(size, TDX_PS_4K);
}

/* A page of the TD read through its KeyID (as the module sees it). */
static inline void priv_read(struct vpt *t, uint64_t pa, void *buf)
{
	sim_priv_read(t->s, NULL, pa, t->td.hkid, buf, TDX_PAGE_SIZE);
}

/* A TDR in HKID_ASSIGNED (MNG.CREATE only, no KEY.CONFIG). */
static inline uint64_t tdr_unconfigured(struct vpt *t)
{
	uint64_t tdr = tsim_page(&t->e);
	struct tdx_module_args a = { .rcx = tdr, .rdx = tsim_hkid(&t->e) };
	seamcall_ok(t->s, 0, TDH_MNG_CREATE, &a);
	return tdr;
}

/* MR.FINALIZE of t->td (needs one initialised vCPU): OP_STATE RUNNABLE. */
static inline void vpt_finalize(struct vpt *t)
{
	struct tdx_module_args a = { .rcx = t->td.tdr };
	seamcall_ok(t->s, 0, TDH_MR_FINALIZE, &a);
}

/* VPFLUSHDONE after flushing the given vCPUs: lifecycle BLOCKED. */
static inline void vpt_block(struct vpt *t)
{
	struct tdx_module_args a = { .rcx = t->td.tdr };
	seamcall_ok(t->s, 0, TDH_MNG_VPFLUSHDONE, &a);
}

#endif
