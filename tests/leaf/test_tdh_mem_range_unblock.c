/*
 * TDH.MEM.RANGE.UNBLOCK (39): check order and outputs in
 * seam/leaf/tdh_mem_range_unblock.c. RCX = GPA + level, RDX = TDR. Undoes
 * RANGE.BLOCK; while RUNNABLE only once the block has been TLB-tracked
 * (TLB_TRACKING_NOT_DONE + SEPT_TREE otherwise: the module's operand id).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_RANGE_UNBLOCK
#define ROW_PREFIX test_tdh_mem_range_unblock
#define SEPT_WALK_FAILED
/* Fixtures, and the common rows test_tdh_mem_range_unblock__<row> that
 * main() registers: the TDR, the TD state, the GPA and level, the tree lock
 * and walk_failed. */
#include "sept_fixtures.h"

/* ---- RANGE.UNBLOCK ---- */

#define WB_IPAT_PS (0x30ULL | 0x40ULL | 0x80ULL)

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	if (setup) {
		tsim_page_add(&f->td, GPA, NULL, false);
		assert_tdx_status(TDX_SUCCESS, simple(f, TDH_MEM_RANGE_BLOCK, GPA | 0));
	}
	*a = (struct tdx_module_args){ .rcx = GPA | 0, .rdx = f->td.tdr };
}

static void unblock_ok(struct fx *f, uint64_t gpa_lvl)
{
	struct tdx_module_args a = { .rcx = gpa_lvl, .rdx = f->td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(f, LEAF, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
}

/* Each blocked state returns to its unblocked one. */
static void test_tdh_mem_range_unblock__success_initialized(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info, e0, i0;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	unblock_ok(&f, GPA | 0);
	sept_rd(&f, GPA | 0, &e, &info);
	assert_int_equal(e & 7, 7);
	assert_int_equal(e & ~7ULL & ~SEPT_HPA_MASK, WB_IPAT_PS | SVE);
	assert_int_equal(info, 0 | (SEPT_MAPPED << 8));
	/* PENDING_BLOCKED -> PENDING. */
	tsim_page_aug(&f.td, GPA + (2ULL << 20), 1);
	sept_rd(&f, (GPA + (2ULL << 20)) | 1, &e0, &i0);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, (GPA + (2ULL << 20)) | 1));
	unblock_ok(&f, (GPA + (2ULL << 20)) | 1);
	sept_rd(&f, (GPA + (2ULL << 20)) | 1, &e, &info);
	assert_int_equal(e, e0);
	assert_int_equal(info, i0);
	/* NL_BLOCKED -> NL_MAPPED: the range below is reachable again. */
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 1));
	unblock_ok(&f, GPA | 1);
	sept_rd(&f, GPA | 1, &e, &info);
	assert_int_equal(e, 0x7);
	assert_int_equal(info, 1 | (SEPT_NL_MAPPED << 8));
	sept_rd(&f, GPA | 0, &e, &info);
	assert_int_equal(info >> 8, SEPT_MAPPED);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

/* RUNNABLE: block, track, unblock. */
static void test_tdh_mem_range_unblock__success_runnable(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_RUNNABLE);
	tsim_page_aug(&f.td, GPA, 0);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 0));
	track(&f);
	args(&f, &a, false);
	unblock_ok(&f, GPA | 0);
	sept_rd(&f, GPA | 0, &e, &info);
	assert_int_equal(info >> 8, SEPT_PENDING);
	fx_fini(&f);
}

static void test_tdh_mem_range_unblock__tlb_tracking_not_done(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_RUNNABLE);
	tsim_page_aug(&f.td, GPA, 0);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 0));
	args(&f, &a, false);
	expect_err(&f, &a, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_SEPT_TREE));
	sept_rd(&f, GPA | 0, &e, &info);
	assert_int_equal(info >> 8, SEPT_PENDING_BLOCKED);
	fx_fini(&f);
}

/* Not blocked: MAPPED, NL_MAPPED, FREE. */
static void test_tdh_mem_range_unblock__entry_not_blocked(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, false);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false);
	sept_rd(&f, GPA | 0, &e, &info);
	assert_int_equal(e & SEPT_HPA_MASK, pa);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), e, 0,
		   SEPT_MAPPED);
	a.rcx = GPA | 1;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), 0x7, 1,
		   SEPT_NL_MAPPED);
	a.rcx = (GPA + 4096) | 0;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), SVE, 0,
		   SEPT_FREE);
	fx_fini(&f);
}

static void test_tdh_mem_range_unblock__entry_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	sept_rd(&f, GPA | 0, &e, &info);
	fail_lock(&f, 4);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), e, 0, SEPT_BLOCKED);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_range_unblock__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_range_unblock__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_range_unblock__tdr_busy),
		cmocka_unit_test(test_tdh_mem_range_unblock__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_range_unblock__td_fatal),
		cmocka_unit_test(test_tdh_mem_range_unblock__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_range_unblock__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_range_unblock__op_state_busy),
		cmocka_unit_test(test_tdh_mem_range_unblock__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_range_unblock__level_above_range),
		cmocka_unit_test(test_tdh_mem_range_unblock__gpa_reserved_bits),
		cmocka_unit_test(test_tdh_mem_range_unblock__gpa_shared_bit),
		cmocka_unit_test(test_tdh_mem_range_unblock__gpa_above_gpaw),
		cmocka_unit_test(test_tdh_mem_range_unblock__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_range_unblock__success_initialized),
		cmocka_unit_test(test_tdh_mem_range_unblock__success_runnable),
		cmocka_unit_test(test_tdh_mem_range_unblock__tlb_tracking_not_done),
		cmocka_unit_test(test_tdh_mem_range_unblock__entry_not_blocked),
		cmocka_unit_test(test_tdh_mem_range_unblock__walk_failed),
		cmocka_unit_test(test_tdh_mem_range_unblock__entry_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
