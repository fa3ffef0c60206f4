/*
 * TDH.MEM.SEPT.RD (25): tdx-abi.md 2.2, 6.3; check order and outputs in
 * seam/leaf/tdh_mem_sept_rd.c. RCX = GPA + level, RDX = TDR (bit 0: read
 * the L2 attributes, debug TDs only). Out: RCX = architectural entry, RDX =
 * level | state << 8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_SEPT_RD
#define ROW_PREFIX test_tdh_mem_sept_rd
/* Fixtures, and the common rows test_tdh_mem_sept_rd__<row> that main()
 * registers: the TDR, the TD state, the GPA and level and the tree lock. */
#include "sept_fixtures.h"

/* ---- SEPT.RD ---- */

#define WB_IPAT_PS (0x30ULL | 0x40ULL | 0x80ULL)

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	(void)setup;
	*a = (struct tdx_module_args){ .rcx = GPA | 3, .rdx = f->td.tdr };
}

static void rd_ok(struct fx *f, uint64_t gpa_lvl, uint64_t entry, unsigned st)
{
	struct tdx_module_args a = { .rcx = gpa_lvl, .rdx = f->td.tdr, .r8 = 0x77 };
	assert_tdx_status(TDX_SUCCESS, call(f, LEAF, &a));
	assert_int_equal(a.rcx, entry);
	assert_int_equal(a.rdx, (gpa_lvl & 7) | (st << 8));
	assert_int_equal(a.r8, 0x77);           /* only with RDX bit 0 */
}

static uint64_t block(struct fx *f, uint64_t gpa_lvl)
{
	struct tdx_module_args b = { .rcx = gpa_lvl, .rdx = f->td.tdr };
	return call(f, TDH_MEM_RANGE_BLOCK, &b);
}

/* Every kind of entry, as the module reports it. */
static void test_tdh_mem_sept_rd__entry_states(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	rd_ok(&f, GPA | 3, SVE, SEPT_FREE);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false);
	rd_ok(&f, GPA | 3, 0x7, SEPT_NL_MAPPED);
	rd_ok(&f, GPA | 2, 0x7, SEPT_NL_MAPPED);
	rd_ok(&f, GPA | 1, 0x7, SEPT_NL_MAPPED);
	rd_ok(&f, GPA | 0, pa | 0x7 | WB_IPAT_PS | SVE, SEPT_MAPPED);
	rd_ok(&f, (GPA + 4096) | 0, SVE, SEPT_FREE);
	/* A 2M PENDING page (PAGE.AUG): no permissions. */
	uint64_t pa2 = tsim_page_aug(&f.td, GPA + (2ULL << 20), 1);
	struct tdx_module_args a = { .rcx = (GPA + (2ULL << 20)) | 1, .rdx = f.td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	assert_int_equal(a.rcx & ~SVE, pa2 | WB_IPAT_PS);
	assert_int_equal(a.rdx, 1 | (SEPT_PENDING << 8));
	/* Blocked: BLOCKED leaf keeps HPA and attributes, loses RWX;
	 * NL_BLOCKED shows nothing but its (clear) permissions. */
	assert_tdx_status(TDX_SUCCESS, block(&f, GPA | 0));
	rd_ok(&f, GPA | 0, pa | WB_IPAT_PS | SVE, SEPT_BLOCKED);
	assert_tdx_status(TDX_SUCCESS, block(&f, (GPA + (2ULL << 20)) | 1));
	a = (struct tdx_module_args){ .rcx = (GPA + (2ULL << 20)) | 1, .rdx = f.td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	assert_int_equal(a.rcx & ~SVE, pa2 | WB_IPAT_PS);
	assert_int_equal(a.rdx, 1 | (SEPT_PENDING_BLOCKED << 8));
	assert_tdx_status(TDX_SUCCESS, block(&f, GPA | 2));
	rd_ok(&f, GPA | 2, 0, SEPT_NL_BLOCKED);
	fx_fini(&f);
}

/* Allowed in every OP_STATE but UNINITIALIZED: also after MR.FINALIZE. */
static void test_tdh_mem_sept_rd__runnable(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_RUNNABLE);
	tsim_sept_map(&f.td, GPA, 2);
	rd_ok(&f, GPA | 3, 0x7, SEPT_NL_MAPPED);
	rd_ok(&f, GPA | 2, SVE, SEPT_FREE);
	fx_fini(&f);
}

/* RDX bit 0 on a debug TD: R8 = the L2 attributes (no L2 VMs: 0). */
static void test_tdh_mem_sept_rd__l2_attributes_debug(void **state)
{
	(void)state;
	struct fx f;
	tsim_env_init(&f.e);
	tsim_td_build(&f.e, &f.td, TDX_TD_ATTR_DEBUG, 4);
	struct tdx_module_args a = { .rcx = GPA | 3, .rdx = f.td.tdr | 1, .r8 = 0x77 };
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	assert_int_equal(a.rcx, SVE);
	assert_int_equal(a.rdx, 3);
	assert_int_equal(a.r8, 0);
	fx_fini(&f);
}

static void test_tdh_mem_sept_rd__l2_attributes_not_debug(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rdx |= 1;
	a.r8 = 0x77;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

/* The walk stops above the level: the entry where it stopped. */
static void test_tdh_mem_sept_rd__walk_failed(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = GPA | 0;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), SVE, 3, 0);
	/* A leaf above the level ends the walk as well. */
	uint64_t pa2 = tsim_page_aug(&f.td, GPA, 1);
	struct tdx_module_args r = { .rcx = GPA | 1, .rdx = f.td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &r));
	assert_int_equal(r.rcx & SEPT_HPA_MASK, pa2);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), r.rcx, 1,
		   SEPT_PENDING);
	/* So does a blocked non-leaf entry (not present). */
	tsim_sept_map(&f.td, GPA + (1ULL << 30), 0);
	assert_tdx_status(TDX_SUCCESS, block(&f, (GPA + (1ULL << 30)) | 2));
	a.rcx = (GPA + (1ULL << 30)) | 0;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), 0, 2,
		   SEPT_NL_BLOCKED);
	fx_fini(&f);
}

static void test_tdh_mem_sept_rd__entry_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	tsim_sept_map(&f.td, GPA, 2);
	args(&f, &a, true);
	fail_lock(&f, 4);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), 0x7, 3,
		   SEPT_NL_MAPPED);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_sept_rd__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_sept_rd__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_sept_rd__tdr_busy),
		cmocka_unit_test(test_tdh_mem_sept_rd__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_sept_rd__td_fatal),
		cmocka_unit_test(test_tdh_mem_sept_rd__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_sept_rd__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_sept_rd__op_state_busy),
		cmocka_unit_test(test_tdh_mem_sept_rd__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_sept_rd__level_above_range),
		cmocka_unit_test(test_tdh_mem_sept_rd__gpa_reserved_bits),
		cmocka_unit_test(test_tdh_mem_sept_rd__gpa_shared_bit),
		cmocka_unit_test(test_tdh_mem_sept_rd__gpa_above_gpaw),
		cmocka_unit_test(test_tdh_mem_sept_rd__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_sept_rd__entry_states),
		cmocka_unit_test(test_tdh_mem_sept_rd__runnable),
		cmocka_unit_test(test_tdh_mem_sept_rd__l2_attributes_debug),
		cmocka_unit_test(test_tdh_mem_sept_rd__l2_attributes_not_debug),
		cmocka_unit_test(test_tdh_mem_sept_rd__walk_failed),
		cmocka_unit_test(test_tdh_mem_sept_rd__entry_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
