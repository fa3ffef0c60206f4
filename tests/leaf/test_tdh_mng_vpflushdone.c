/*
 * TDH.MNG.VPFLUSHDONE (19): tdx-abi.md 6.4 step 3; check order in
 * seam/leaf/tdh_mng_vpflushdone.c. RCX = TDR; no outputs.
 * Operand locks in order (fault plan nth): TDR 1, KOT 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

static uint64_t flushdone(struct tsim_td *td, uint64_t tdr)
{
	struct tdx_module_args a = { .rcx = tdr, .rdx = 0x22, .r8 = 0x33 };
	uint64_t st = seamcall_raw(td->e->s, 0, TDH_MNG_VPFLUSHDONE, &a);
	assert_int_equal(a.rcx, tdr);                   /* no outputs */
	assert_int_equal(a.rdx, 0x22);
	assert_int_equal(a.r8, 0x33);
	return st;
}

static uint32_t wbinvd_bitmap(struct tsim_td *td)
{
	return atomic_load(&td->e->s->mod.kot[td->hkid].wbinvd_bitmap);
}

/* Error: the lifecycle and KOT entry are untouched. */
static void expect_err(struct tsim_td *td, uint64_t tdr, uint64_t status)
{
	struct seam_td *t = tsim_td_obj(td);
	unsigned life = atomic_load(&t->lifecycle);
	unsigned kot = seam_kot_state(&td->e->s->mod, td->hkid);
	assert_tdx_status(status, flushdone(td, tdr));
	assert_int_equal(atomic_load(&t->lifecycle), life);
	assert_int_equal(seam_kot_state(&td->e->s->mod, td->hkid), kot);
}

static void expect_blocked(struct tsim_td *td)
{
	assert_tdx_status(TDX_SUCCESS, flushdone(td, td->tdr));
	assert_int_equal(atomic_load(&tsim_td_obj(td)->lifecycle), TD_BLOCKED);
	assert_int_equal(seam_kot_state(&td->e->s->mod, td->hkid), KOT_FLUSHED);
	/* Every package must write back its caches. */
	assert_int_equal(wbinvd_bitmap(td), (1u << td->e->n_pkgs) - 1);
	assert_int_equal(tdxsim_check_invariants(td->e->s, td->tdr), TDXSIM_OK);
}

static void test_tdh_mng_vpflushdone__after_vp_flush(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 4);
	tsim_vcpu_add(&td, 0);
	tsim_vcpu_add(&td, 5);                  /* another package */
	for (unsigned i = 0; i < td.n_vcpus; i++) {
		struct tdx_module_args a = { .rcx = td.vcpu[i].tdvpr };
		seamcall_ok(e.s, td.vcpu[i].lp, TDH_VP_FLUSH, &a);
	}
	expect_blocked(&td);
	tsim_env_fini(&e);
}

static void test_tdh_mng_vpflushdone__no_vcpus(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	expect_blocked(&td);
	tsim_env_fini(&e);
}

/* KVM tears down TDs whose build failed early: no TDCS, or keys on only
 * some packages (HKID_ASSIGNED). */
static void test_tdh_mng_vpflushdone__early_teardown(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td a, b;
	tsim_td_create(&e, &a);
	expect_blocked(&a);
	tsim_td_create_nokey(&e, &b);
	struct tdx_module_args k = { .rcx = b.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_KEY_CONFIG, &k);
	expect_blocked(&b);
	tsim_env_fini(&e);
}

/* A TD in fatal state can still be torn down. */
static void test_tdh_mng_vpflushdone__fatal_td(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	atomic_store(&tsim_td_obj(&td)->fatal, 1);
	expect_blocked(&td);
	tsim_env_fini(&e);
}

static void test_tdh_mng_vpflushdone__flushvp_not_done(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 4);
	tsim_vcpu_add(&td, 0);
	tsim_vcpu_add(&td, 1);
	expect_err(&td, td.tdr, TDX_FLUSHVP_NOT_DONE);
	struct tdx_module_args a = { .rcx = td.vcpu[0].tdvpr };
	seamcall_ok(e.s, 0, TDH_VP_FLUSH, &a);
	/* One vCPU still associated. */
	expect_err(&td, td.tdr, TDX_FLUSHVP_NOT_DONE);
	assert_int_equal(wbinvd_bitmap(&td), 0);
	a = (struct tdx_module_args){ .rcx = td.vcpu[1].tdvpr };
	seamcall_ok(e.s, 1, TDH_VP_FLUSH, &a);
	expect_blocked(&td);
	tsim_env_fini(&e);
}

static void test_tdh_mng_vpflushdone__lifecycle_incorrect(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	expect_blocked(&td);
	expect_err(&td, td.tdr, TDX_LIFECYCLE_STATE_INCORRECT);        /* BLOCKED */
	/* TEARDOWN. */
	for (unsigned p = 0; p < e.n_pkgs; p++) {
		struct tdx_module_args w = { .rcx = 0 };
		seamcall_ok(e.s, tsim_pkg_first_lp(e.s, p), TDH_PHYMEM_CACHE_WB, &w);
	}
	struct tdx_module_args f = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_KEY_FREEID, &f);
	expect_err(&td, td.tdr, TDX_LIFECYCLE_STATE_INCORRECT);
	assert_int_equal(seam_kot_state(&e.s->mod, td.hkid), KOT_FREE);
	tsim_env_fini(&e);
}

/* The nth operand lock is busy: OPERAND_BUSY + op, nothing changed or
 * left locked. */
static void expect_busy(unsigned nth, unsigned op)
{
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	unsigned f = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_MNG_VPFLUSHDONE, -1, nth, 1);
	expect_err(&td, td.tdr, tdx_status_op(TDX_OPERAND_BUSY, op));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	expect_blocked(&td);
	tsim_env_fini(&e);
}

static void test_tdh_mng_vpflushdone__kot_busy(void **state)
{
	(void)state;
	expect_busy(2, TDX_OPERAND_ID_KOT);
}

static void test_tdh_mng_vpflushdone__tdr_busy(void **state)
{
	(void)state;
	expect_busy(1, TDX_OPERAND_ID_RCX);
}

static void test_tdh_mng_vpflushdone__tdr_invalid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	expect_err(&td, td.tdr + 0x20, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_err(&td, tsim_keyed_pa(&e, td.tdr, e.first_keyid),
		   tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_err(&td, 3ULL << 30, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	expect_err(&td, td.tdcs[0], tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX));
	expect_err(&td, tsim_page(&e), tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX));
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_vpflushdone__after_vp_flush),
		cmocka_unit_test(test_tdh_mng_vpflushdone__no_vcpus),
		cmocka_unit_test(test_tdh_mng_vpflushdone__early_teardown),
		cmocka_unit_test(test_tdh_mng_vpflushdone__fatal_td),
		cmocka_unit_test(test_tdh_mng_vpflushdone__flushvp_not_done),
		cmocka_unit_test(test_tdh_mng_vpflushdone__lifecycle_incorrect),
		cmocka_unit_test(test_tdh_mng_vpflushdone__kot_busy),
		cmocka_unit_test(test_tdh_mng_vpflushdone__tdr_busy),
		cmocka_unit_test(test_tdh_mng_vpflushdone__tdr_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
