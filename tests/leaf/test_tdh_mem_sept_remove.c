/*
 * TDH.MEM.SEPT.REMOVE (30): check order and outputs in
 * seam/leaf/tdh_mem_sept_remove.c. RCX = GPA + level of the non-leaf entry,
 * RDX = TDR. Out: RCX = the removed page (PT_NDA), RDX = 0; version 1 also
 * zeroes R9..R11. While RUNNABLE the entry must be blocked and TLB-tracked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_SEPT_REMOVE
#define LEAF_V1 (TDH_MEM_SEPT_REMOVE | (1ULL << 16))
#define ROW_PREFIX test_tdh_mem_sept_remove
#define SEPT_MIN_LEVEL 1
#define SEPT_WALK_FAILED
#define SEPT_NL_BLOCK
/* Fixtures, and the common rows test_tdh_mem_sept_remove__<row> that main()
 * registers: the TDR, the TD state, the GPA and level, the tree lock,
 * walk_failed and not_blocked. */
#include "sept_fixtures.h"

/* ---- SEPT.REMOVE ---- */

/* The PD page below GPA's level-2 entry: added, empty. */
static uint64_t pd_page(struct fx *f)
{
	for (unsigned i = 0; i < f->td.n_sept; i++)
		if (f->td.sept[i].level == 2 && f->td.sept[i].gpa == GPA)
			return f->td.sept[i].pa;
	fail_msg("no PD page");
	return 0;
}

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	if (setup)
		tsim_sept_map(&f->td, GPA, 1);
	*a = (struct tdx_module_args){ .rcx = GPA | 2, .rdx = f->td.tdr };
}

static void remove_ok(struct fx *f, uint64_t fn, uint64_t page)
{
	uint64_t before = chldcnt(f);
	struct tdx_module_args a = { .rcx = GPA | 2, .rdx = f->td.tdr, .r9 = 9, .r10 = 10, .r11 = 11 };
	assert_tdx_status(TDX_SUCCESS, call(f, fn, &a));
	assert_int_equal(a.rcx, page);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(chldcnt(f), before - 1);
	assert_int_equal(tsim_page_type(&f->e, page), PT_NDA);
	if (fn == LEAF_V1) {
		assert_int_equal(a.r9, 0);
		assert_int_equal(a.r10, 0);
		assert_int_equal(a.r11, 0);
	} else {
		assert_int_equal(a.r9, 9);
	}
	/* The entry is FREE again. */
	struct tdx_module_args r = { .rcx = GPA | 2, .rdx = f->td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_MEM_SEPT_RD, &r));
	assert_int_equal(r.rcx, SVE);
	assert_int_equal(r.rdx, 2);
}

/* Before MR.FINALIZE no blocking or tracking is needed. */
static void test_tdh_mem_sept_remove__success_initialized(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	uint64_t pd = pd_page(&f);
	remove_ok(&f, LEAF, pd);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	/* The page can be added again (here or elsewhere). */
	struct tdx_module_args s = { .rcx = GPA | 2, .rdx = f.td.tdr, .r8 = pd };
	assert_tdx_status(TDX_SUCCESS, call(&f, TDH_MEM_SEPT_ADD, &s));
	/* A blocked entry goes as well. */
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 2));
	remove_ok(&f, LEAF, pd);
	fx_fini(&f);
}

/* RUNNABLE: block, track, remove. */
static void test_tdh_mem_sept_remove__success_runnable(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 2));
	track(&f);
	remove_ok(&f, LEAF, pd_page(&f));
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

/* Version 1 zeroes R9..R11 (no L2 pages), on success and on errors. */
static void test_tdh_mem_sept_remove__v1_outputs(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.r9 = 9, a.r10 = 10, a.r11 = 11;
	a.rdx = f.td.tdcs[0];
	assert_tdx_status(tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX),
			  call(&f, LEAF_V1, &a));
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10, 0);
	assert_int_equal(a.r11, 0);
	remove_ok(&f, LEAF_V1, pd_page(&f));
	/* Version 0 leaves them alone. */
	a = (struct tdx_module_args){ .rcx = GPA | 2, .rdx = f.td.tdr, .r9 = 9 };
	assert_tdx_status(tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
			  call(&f, LEAF, &a));
	assert_int_equal(a.r9, 9);
	fx_fini(&f);
}

static void test_tdh_mem_sept_remove__entry_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 4);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), 0x7, 2,
		   SEPT_NL_MAPPED);
	assert_int_equal(tsim_page_type(&f.e, pd_page(&f)), PT_EPT);
	fx_fini(&f);
}

/* The entry has no S-EPT page: FREE, or a leaf. */
static void test_tdh_mem_sept_remove__entry_not_non_leaf(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = GPA | 1;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), SVE, 1,
		   SEPT_FREE);
	tsim_page_aug(&f.td, GPA, 1);
	struct tdx_module_args r = { .rcx = GPA | 1, .rdx = f.td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(&f, TDH_MEM_SEPT_RD, &r));
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), r.rcx, 1,
		   SEPT_PENDING);
	fx_fini(&f);
}

/* The S-EPT page's PAMT entry is locked. */
static void test_tdh_mem_sept_remove__page_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 5);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	assert_int_equal(tsim_page_type(&f.e, pd_page(&f)), PT_EPT);
	fx_fini(&f);
}

static void test_tdh_mem_sept_remove__tlb_tracking_not_done(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 2));
	expect_err(&f, &a, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX));
	/* One TRACK while a vCPU still runs in the blocking epoch is not
	 * enough; once it has left (or after a second TRACK) it is. */
	struct seam_td *td = td_obj(&f);
	uint64_t bepoch = atomic_load(&td->td_epoch);
	track(&f);
	atomic_fetch_add(&td->refcount[bepoch & 1], 1);
	expect_err(&f, &a, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX));
	atomic_fetch_sub(&td->refcount[bepoch & 1], 1);
	remove_ok(&f, LEAF, pd_page(&f));
	fx_fini(&f);
}

/* The S-EPT page still maps something. */
static void test_tdh_mem_sept_remove__page_not_free(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	tsim_sept_map(&f.td, GPA + (511ULL << 21), 0);       /* last PD entry -> a PT */
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_PAGE_NOT_FREE, TDX_OPERAND_ID_RCX), 0x7, 2,
		   SEPT_NL_MAPPED);
	assert_int_equal(tsim_page_type(&f.e, pd_page(&f)), PT_EPT);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_sept_remove__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_sept_remove__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_sept_remove__tdr_busy),
		cmocka_unit_test(test_tdh_mem_sept_remove__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_sept_remove__td_fatal),
		cmocka_unit_test(test_tdh_mem_sept_remove__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_sept_remove__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_sept_remove__op_state_busy),
		cmocka_unit_test(test_tdh_mem_sept_remove__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_sept_remove__level_below_range),
		cmocka_unit_test(test_tdh_mem_sept_remove__level_above_range),
		cmocka_unit_test(test_tdh_mem_sept_remove__gpa_reserved_bits),
		cmocka_unit_test(test_tdh_mem_sept_remove__gpa_misaligned),
		cmocka_unit_test(test_tdh_mem_sept_remove__gpa_shared_bit),
		cmocka_unit_test(test_tdh_mem_sept_remove__gpa_above_gpaw),
		cmocka_unit_test(test_tdh_mem_sept_remove__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_sept_remove__success_initialized),
		cmocka_unit_test(test_tdh_mem_sept_remove__success_runnable),
		cmocka_unit_test(test_tdh_mem_sept_remove__v1_outputs),
		cmocka_unit_test(test_tdh_mem_sept_remove__walk_failed),
		cmocka_unit_test(test_tdh_mem_sept_remove__entry_busy),
		cmocka_unit_test(test_tdh_mem_sept_remove__entry_not_non_leaf),
		cmocka_unit_test(test_tdh_mem_sept_remove__page_busy),
		cmocka_unit_test(test_tdh_mem_sept_remove__not_blocked),
		cmocka_unit_test(test_tdh_mem_sept_remove__tlb_tracking_not_done),
		cmocka_unit_test(test_tdh_mem_sept_remove__page_not_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
