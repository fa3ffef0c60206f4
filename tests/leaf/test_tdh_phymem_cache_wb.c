/*
 * TDH.PHYMEM.CACHE.WB (40): tdx-abi.md 6.4 step 4; module 1.5
 * tdh_phymem_cache_wb.c. RCX = 0 start, 1 resume; one call per package.
 * Order: RCX > 1 -> OPERAND_INVALID+RCX; WBT entry of the package locked ->
 * OPERAND_BUSY+WBCACHE; KOT (shared) -> OPERAND_BUSY+KOT; start with no
 * private KeyID FLUSHED -> NO_HKID_READY_TO_WBCACHE; resume with no
 * interrupted WB on the package -> WBCACHE_RESUME_ERROR. Between chunks a
 * pending interrupt (fault plan: TDX_INTERRUPTED_RESUMABLE) stops it with
 * INTERRUPTED_RESUMABLE. Completion clears the package's pending bit of the
 * KeyIDs that were FLUSHED at the start (seen through TDH.MNG.KEY.FREEID:
 * WBCACHE_NOT_COMPLETE until every package did it) and counts a WBINVD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL
#define START  0
#define RESUME 1

static uint64_t wb(tdxsim *s, unsigned lp, uint64_t cmd)
{
	struct tdx_module_args a = { .rcx = cmd, .rdx = SENT, .r8 = SENT, .r9 = SENT };
	uint64_t st = seamcall_raw(s, lp, TDH_PHYMEM_CACHE_WB, &a);
	/* No outputs. */
	assert_int_equal(a.rcx, cmd);
	assert_int_equal(a.rdx, SENT);
	assert_int_equal(a.r8, SENT);
	assert_int_equal(a.r9, SENT);
	return st;
}

/* KVM's loop on one package: start, resume while interrupted. */
static void wb_package(struct tsim_env *e, unsigned pkg)
{
	unsigned lp = tsim_pkg_first_lp(e->s, pkg);
	uint64_t st = wb(e->s, lp, START);
	for (unsigned i = 0; st == TDX_INTERRUPTED_RESUMABLE && i < 10000; i++)
		st = wb(e->s, lp, RESUME);
	assert_tdx_status(TDX_SUCCESS, st);
}

/* A TD whose KeyID is FLUSHED (MNG.CREATE, KEY.CONFIG, VPFLUSHDONE). */
static void td_flushed(struct tsim_env *e, struct tsim_td *td)
{
	tsim_td_create(e, td);
	struct tdx_module_args a = { .rcx = td->tdr };
	seamcall_ok(e->s, 0, TDH_MNG_VPFLUSHDONE, &a);
}

static uint64_t freeid(struct tsim_env *e, struct tsim_td *td)
{
	struct tdx_module_args a = { .rcx = td->tdr };
	return seamcall_raw(e->s, 0, TDH_MNG_KEY_FREEID, &a);
}

static uint64_t wbinvds(struct tsim_env *e, unsigned lp)
{
	uint64_t n = 0;
	assert_int_equal(tdxsim_wbinvd_count(e->s, lp, &n), TDXSIM_OK);
	return n;
}

static void test_tdh_phymem_cache_wb__bad_command(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	const uint64_t op = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	assert_tdx_status(op, wb(e.s, 0, 2));
	assert_tdx_status(op, wb(e.s, 0, ~0ULL));
	assert_tdx_status(op, wb(e.s, 0, 1ULL << 32));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_cache_wb__wbt_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	td_flushed(&e, &td);
	unsigned id = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_PHYMEM_CACHE_WB, -1, 1, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_WBCACHE), wb(e.s, 0, START));
	assert_int_equal(tsim_fault_fired(e.s, id), 1);
	/* Nothing was done, nothing left locked. */
	assert_tdx_status(TDX_WBCACHE_RESUME_ERROR, wb(e.s, 0, RESUME));
	assert_tdx_status(TDX_SUCCESS, wb(e.s, 0, START));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_cache_wb__kot_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	td_flushed(&e, &td);
	/* The second lock the leaf takes. */
	unsigned id = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_PHYMEM_CACHE_WB, -1, 2, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KOT), wb(e.s, 0, START));
	assert_int_equal(tsim_fault_fired(e.s, id), 1);
	/* The WBT lock was released with it. */
	assert_tdx_status(TDX_SUCCESS, wb(e.s, 0, START));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_cache_wb__no_hkid_ready(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t before = wbinvds(&e, 0);
	assert_tdx_status(TDX_NO_HKID_READY_TO_WBCACHE, wb(e.s, 0, START));
	assert_false(TDX_NO_HKID_READY_TO_WBCACHE >> 63);     /* not an error */
	/* A TD whose KeyID is still assigned changes nothing. */
	struct tsim_td td;
	tsim_td_create(&e, &td);
	assert_tdx_status(TDX_NO_HKID_READY_TO_WBCACHE, wb(e.s, 0, START));
	assert_tdx_status(TDX_NO_HKID_READY_TO_WBCACHE, wb(e.s, 4, START));
	assert_int_equal(wbinvds(&e, 0), before);
	tsim_env_fini(&e);
}

static void test_tdh_phymem_cache_wb__resume_without_interruption(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	assert_tdx_status(TDX_WBCACHE_RESUME_ERROR, wb(e.s, 0, RESUME));
	struct tsim_td td;
	td_flushed(&e, &td);
	assert_tdx_status(TDX_WBCACHE_RESUME_ERROR, wb(e.s, 0, RESUME));
	/* Nor after a WB that completed. */
	assert_tdx_status(TDX_SUCCESS, wb(e.s, 0, START));
	assert_tdx_status(TDX_WBCACHE_RESUME_ERROR, wb(e.s, 0, RESUME));
	tsim_env_fini(&e);
}

/* KVM's order: FREEID needs the WB on every package. */
static void test_tdh_phymem_cache_wb__every_package(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	assert_int_equal(e.n_pkgs, 2);
	struct tsim_td td;
	td_flushed(&e, &td);
	unsigned lp0 = tsim_pkg_first_lp(e.s, 0), lp1 = tsim_pkg_first_lp(e.s, 1);
	uint64_t w0 = wbinvds(&e, lp0), w1 = wbinvds(&e, lp1);
	assert_tdx_status(TDX_WBCACHE_NOT_COMPLETE, freeid(&e, &td));
	assert_tdx_status(TDX_SUCCESS, wb(e.s, lp0, START));
	assert_int_equal(wbinvds(&e, lp0), w0 + 1);
	assert_int_equal(wbinvds(&e, lp1), w1);
	assert_tdx_status(TDX_WBCACHE_NOT_COMPLETE, freeid(&e, &td));
	/* Another LP of the same package does not stand in for package 1. */
	assert_tdx_status(TDX_SUCCESS, wb(e.s, lp0 + 1, START));
	assert_tdx_status(TDX_WBCACHE_NOT_COMPLETE, freeid(&e, &td));
	uint64_t w6 = wbinvds(&e, lp1 + 2);
	assert_tdx_status(TDX_SUCCESS, wb(e.s, lp1 + 2, START));
	assert_int_equal(wbinvds(&e, lp1 + 2), w6 + 1);
	assert_int_equal(wbinvds(&e, lp1), w1);
	assert_tdx_status(TDX_SUCCESS, freeid(&e, &td));
	/* FREE now: nothing left to write back. */
	assert_tdx_status(TDX_NO_HKID_READY_TO_WBCACHE, wb(e.s, lp0, START));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_cache_wb__interrupted_resumable(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	td_flushed(&e, &td);
	unsigned lp = tsim_pkg_first_lp(e.s, 1);
	unsigned id = tsim_fault(e.s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, (int)lp, 1, 3);
	uint64_t w = wbinvds(&e, lp);
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, wb(e.s, lp, START));
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, wb(e.s, lp, RESUME));
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, wb(e.s, lp, RESUME));
	assert_int_equal(tsim_fault_fired(e.s, id), 3);
	/* Not done yet: no WBINVD, the package still pending. */
	assert_int_equal(wbinvds(&e, lp), w);
	wb_package(&e, 0);
	assert_tdx_status(TDX_WBCACHE_NOT_COMPLETE, freeid(&e, &td));
	assert_tdx_status(TDX_SUCCESS, wb(e.s, lp, RESUME));
	assert_int_equal(wbinvds(&e, lp), w + 1);
	assert_tdx_status(TDX_SUCCESS, freeid(&e, &td));
	tsim_env_fini(&e);
}

/* Each call does at least one chunk: an interrupt always pending still ends. */
static void test_tdh_phymem_cache_wb__always_interrupted_progresses(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	td_flushed(&e, &td);
	tsim_fault(e.s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, -1, 1, 0);
	unsigned calls = 1;
	uint64_t st = wb(e.s, 0, START);
	while (st == TDX_INTERRUPTED_RESUMABLE && calls < 1000) {
		st = wb(e.s, 0, RESUME);
		calls++;
	}
	assert_tdx_status(TDX_SUCCESS, st);
	assert_true(calls > 2);
	assert_true(calls <= 64);
	tsim_env_fini(&e);
}

/* A new start drops the interrupted one; resume afterwards has nothing. */
static void test_tdh_phymem_cache_wb__start_restarts(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	td_flushed(&e, &td);
	tsim_fault(e.s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, -1, 1, 1);
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, wb(e.s, 0, START));
	assert_tdx_status(TDX_SUCCESS, wb(e.s, 0, START));
	assert_tdx_status(TDX_WBCACHE_RESUME_ERROR, wb(e.s, 0, RESUME));
	tsim_env_fini(&e);
}

/* The interruption point is per package. */
static void test_tdh_phymem_cache_wb__per_package_session(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	td_flushed(&e, &td);
	unsigned lp0 = tsim_pkg_first_lp(e.s, 0), lp1 = tsim_pkg_first_lp(e.s, 1);
	tsim_fault(e.s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, (int)lp0, 1, 1);
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, wb(e.s, lp0, START));
	assert_tdx_status(TDX_WBCACHE_RESUME_ERROR, wb(e.s, lp1, RESUME));
	/* Any LP of package 0 may resume it. */
	assert_tdx_status(TDX_SUCCESS, wb(e.s, lp0 + 3, RESUME));
	assert_tdx_status(TDX_SUCCESS, wb(e.s, lp1, START));
	assert_tdx_status(TDX_SUCCESS, freeid(&e, &td));
	tsim_env_fini(&e);
}

/* Only the KeyIDs FLUSHED when the WB started are done by it: one flushed
 * while it was interrupted still needs another WB on that package. */
static void test_tdh_phymem_cache_wb__keyids_of_the_start(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td a, b;
	td_flushed(&e, &a);
	tsim_td_create(&e, &b);
	tsim_fault(e.s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, 0, 1, 1);
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, wb(e.s, 0, START));
	struct tdx_module_args d = { .rcx = b.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	assert_tdx_status(TDX_SUCCESS, wb(e.s, 0, RESUME));
	wb_package(&e, 1);
	assert_tdx_status(TDX_SUCCESS, freeid(&e, &a));
	assert_tdx_status(TDX_WBCACHE_NOT_COMPLETE, freeid(&e, &b));
	wb_package(&e, 0);
	assert_tdx_status(TDX_SUCCESS, freeid(&e, &b));
	tsim_env_fini(&e);
}

/* The fault plan accepts INTERRUPTED_RESUMABLE only where it can happen. */
static void test_tdh_phymem_cache_wb__fault_plan(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_INTERRUPTED_RESUMABLE;
	f.nth = 1;
	f.leaf = TDH_PHYMEM_PAGE_RDMD;
	assert_int_equal(tdxsim_fault_add(e.s, &f, NULL), TDXSIM_ERR_ARG);
	f.leaf = TDH_PHYMEM_PAGE_RECLAIM;
	assert_int_equal(tdxsim_fault_add(e.s, &f, NULL), TDXSIM_ERR_ARG);
	f.leaf = TDH_PHYMEM_CACHE_WB;
	assert_int_equal(tdxsim_fault_add(e.s, &f, NULL), TDXSIM_OK);
	f.leaf = -1;
	assert_int_equal(tdxsim_fault_add(e.s, &f, NULL), TDXSIM_OK);
	/* With operand bits it is not the status. */
	f.status = TDX_INTERRUPTED_RESUMABLE | 1;
	assert_int_equal(tdxsim_fault_add(e.s, &f, NULL), TDXSIM_ERR_ARG);
	tsim_env_fini(&e);
}

/* The whole teardown, as the fixture (KVM) does it, with interrupts. */
static void test_tdh_phymem_cache_wb__teardown(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 2);
	tsim_vcpu_add(&td, 1);
	tsim_page_add(&td, 0x100000, NULL, true);
	tsim_td_finalize(&td);
	tsim_fault(e.s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, -1, 2, 5);
	tsim_td_teardown(&td);
	assert_int_equal(tdxsim_check_invariants(e.s, 0), TDXSIM_OK);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_phymem_cache_wb__bad_command),
		cmocka_unit_test(test_tdh_phymem_cache_wb__wbt_busy),
		cmocka_unit_test(test_tdh_phymem_cache_wb__kot_busy),
		cmocka_unit_test(test_tdh_phymem_cache_wb__no_hkid_ready),
		cmocka_unit_test(test_tdh_phymem_cache_wb__resume_without_interruption),
		cmocka_unit_test(test_tdh_phymem_cache_wb__every_package),
		cmocka_unit_test(test_tdh_phymem_cache_wb__interrupted_resumable),
		cmocka_unit_test(test_tdh_phymem_cache_wb__always_interrupted_progresses),
		cmocka_unit_test(test_tdh_phymem_cache_wb__start_restarts),
		cmocka_unit_test(test_tdh_phymem_cache_wb__per_package_session),
		cmocka_unit_test(test_tdh_phymem_cache_wb__keyids_of_the_start),
		cmocka_unit_test(test_tdh_phymem_cache_wb__fault_plan),
		cmocka_unit_test(test_tdh_phymem_cache_wb__teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
