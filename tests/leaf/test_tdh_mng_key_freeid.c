/*
 * TDH.MNG.KEY.FREEID (20): tdx-abi.md 6.4 step 5; check order in
 * seam/leaf/tdh_mng_key_freeid.c. RCX = TDR; no outputs.
 * Operand locks in order (fault plan nth): TDR 1, KOT 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

static uint64_t freeid(struct tsim_td *td, uint64_t tdr)
{
	struct tdx_module_args a = { .rcx = tdr, .rdx = 0x44 };
	uint64_t st = seamcall_raw(td->e->s, 0, TDH_MNG_KEY_FREEID, &a);
	assert_int_equal(a.rcx, tdr);
	assert_int_equal(a.rdx, 0x44);
	return st;
}

static void expect_err(struct tsim_td *td, uint64_t tdr, uint64_t status)
{
	struct seam_td *t = tsim_td_obj(td);
	unsigned life = atomic_load(&t->lifecycle);
	unsigned kot = seam_kot_state(&td->e->s->mod, td->hkid);
	assert_tdx_status(status, freeid(td, tdr));
	assert_int_equal(atomic_load(&t->lifecycle), life);
	assert_int_equal(seam_kot_state(&td->e->s->mod, td->hkid), kot);
}

static void flushdone(struct tsim_td *td)
{
	struct tdx_module_args d = { .rcx = td->tdr };
	seamcall_ok(td->e->s, 0, TDH_MNG_VPFLUSHDONE, &d);
}

static void cache_wb(struct tsim_env *e, unsigned pkg)
{
	struct tdx_module_args w = { .rcx = 0 };
	uint64_t st;
	for (unsigned i = 0; i < 1000; i++) {
		st = seamcall_raw(e->s, tsim_pkg_first_lp(e->s, pkg), TDH_PHYMEM_CACHE_WB, &w);
		if (st != TDX_INTERRUPTED_RESUMABLE)
			break;
		w = (struct tdx_module_args){ .rcx = 1 };
	}
	assert_tdx_status(TDX_SUCCESS, st);
}

/* A TD ready for FREEID: built, flushed, caches written back everywhere. */
static void ready(struct tsim_env *e, struct tsim_td *td)
{
	tsim_td_build(e, td, 0, 1);
	flushdone(td);
	for (unsigned p = 0; p < e->n_pkgs; p++)
		cache_wb(e, p);
}

static void test_tdh_mng_key_freeid__success(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	ready(&e, &td);
	assert_tdx_status(TDX_SUCCESS, freeid(&td, td.tdr));
	assert_int_equal(atomic_load(&tsim_td_obj(&td)->lifecycle), TD_TEARDOWN);
	assert_int_equal(seam_kot_state(&e.s->mod, td.hkid), KOT_FREE);
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_OK);
	/* TEARDOWN lets the pages go: TDCS pages, then the TDR. */
	for (unsigned i = 0; i < td.n_tdcs; i++) {
		struct tdx_module_args r = { .rcx = td.tdcs[i] };
		seamcall_ok(e.s, 0, TDH_PHYMEM_PAGE_RECLAIM, &r);
	}
	struct tdx_module_args r = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_PHYMEM_PAGE_RECLAIM, &r);
	/* The KeyID can serve a new TD. */
	struct tdx_module_args c = { .rcx = tsim_page(&e), .rdx = td.hkid };
	seamcall_ok(e.s, 0, TDH_MNG_CREATE, &c);
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_freeid__wbcache_not_complete(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	flushdone(&td);
	expect_err(&td, td.tdr, TDX_WBCACHE_NOT_COMPLETE);
	/* One package of two is not enough. */
	cache_wb(&e, 0);
	expect_err(&td, td.tdr, TDX_WBCACHE_NOT_COMPLETE);
	cache_wb(&e, 1);
	assert_tdx_status(TDX_SUCCESS, freeid(&td, td.tdr));
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_freeid__lifecycle_incorrect(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td, partial;
	tsim_td_build(&e, &td, 0, 1);
	expect_err(&td, td.tdr, TDX_LIFECYCLE_STATE_INCORRECT);        /* KEYS_CONFIGURED */
	tsim_td_create_nokey(&e, &partial);
	expect_err(&partial, partial.tdr, TDX_LIFECYCLE_STATE_INCORRECT); /* HKID_ASSIGNED */
	flushdone(&td);
	for (unsigned p = 0; p < e.n_pkgs; p++)
		cache_wb(&e, p);
	assert_tdx_status(TDX_SUCCESS, freeid(&td, td.tdr));
	expect_err(&td, td.tdr, TDX_LIFECYCLE_STATE_INCORRECT);        /* TEARDOWN */
	tsim_env_fini(&e);
}

/* The nth operand lock is busy: OPERAND_BUSY + op, nothing changed or
 * left locked. */
static void expect_busy(unsigned nth, unsigned op)
{
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	ready(&e, &td);
	unsigned f = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_MNG_KEY_FREEID, -1, nth, 1);
	expect_err(&td, td.tdr, tdx_status_op(TDX_OPERAND_BUSY, op));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_tdx_status(TDX_SUCCESS, freeid(&td, td.tdr));
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_freeid__kot_busy(void **state)
{
	(void)state;
	expect_busy(2, TDX_OPERAND_ID_KOT);
}

static void test_tdh_mng_key_freeid__tdr_busy(void **state)
{
	(void)state;
	expect_busy(1, TDX_OPERAND_ID_RCX);
}

static void test_tdh_mng_key_freeid__tdr_invalid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	ready(&e, &td);
	expect_err(&td, td.tdr | 1, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_err(&td, tsim_keyed_pa(&e, td.tdr, td.hkid),
		   tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_err(&td, 3ULL << 30, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	expect_err(&td, td.tdcs[5], tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX));
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_key_freeid__success),
		cmocka_unit_test(test_tdh_mng_key_freeid__wbcache_not_complete),
		cmocka_unit_test(test_tdh_mng_key_freeid__lifecycle_incorrect),
		cmocka_unit_test(test_tdh_mng_key_freeid__kot_busy),
		cmocka_unit_test(test_tdh_mng_key_freeid__tdr_busy),
		cmocka_unit_test(test_tdh_mng_key_freeid__tdr_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
