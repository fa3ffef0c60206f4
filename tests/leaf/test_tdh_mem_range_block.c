/*
 * TDH.MEM.RANGE.BLOCK (7): tdx-abi.md 6.3; check order and outputs in
 * seam/leaf/tdh_mem_range_block.c. RCX = GPA + level, RDX = TDR. Blocks a
 * leaf (MAPPED -> BLOCKED, PENDING -> PENDING_BLOCKED) or a non-leaf entry
 * (NL_MAPPED -> NL_BLOCKED) and records the TD epoch as BEPOCH in the PAMT
 * entry of the blocked page (RDMD R9).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_RANGE_BLOCK
#define ROW_PREFIX test_tdh_mem_range_block
#define SEPT_WALK_FAILED
/* Fixtures, and the common rows test_tdh_mem_range_block__<row> that main()
 * registers: the TDR, the TD state, the GPA and level, the tree lock and
 * walk_failed. */
#include "sept_fixtures.h"

/* ---- RANGE.BLOCK ---- */

#define WB_IPAT_PS (0x30ULL | 0x40ULL | 0x80ULL)

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	if (setup)
		tsim_page_add(&f->td, GPA, NULL, false);
	*a = (struct tdx_module_args){ .rcx = GPA | 0, .rdx = f->td.tdr };
}

static uint64_t block(struct fx *f, uint64_t gpa_lvl, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa_lvl, .rdx = f->td.tdr };
	return call(f, LEAF, a);
}

static void block_ok(struct fx *f, uint64_t gpa_lvl)
{
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, block(f, gpa_lvl, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
}

/* RDMD of pa: expect type, size and BEPOCH. */
static void expect_pamt(struct fx *f, uint64_t pa, unsigned type, unsigned ps, uint64_t bepoch)
{
	struct tdx_module_args m = { .rcx = pa };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_PHYMEM_PAGE_RDMD, &m));
	assert_int_equal(m.rcx, type);
	assert_int_equal(m.rdx, f->td.tdr);
	assert_int_equal(m.r8, ps);
	assert_int_equal(m.r9, bepoch);
}

static void test_tdh_mem_range_block__success_mapped_4k(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false), e, info;
	expect_pamt(&f, pa, PT_REG, TDX_PS_4K, 0);
	block_ok(&f, GPA | 0);
	sept_rd(&f, GPA | 0, &e, &info);
	assert_int_equal(e, pa | WB_IPAT_PS | SVE);     /* no permissions left */
	assert_int_equal(info, 0 | (SEPT_BLOCKED << 8));
	expect_pamt(&f, pa, PT_REG, TDX_PS_4K, epoch(&f));
	assert_int_equal(epoch(&f), 1);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

/* A 2M PENDING page: PENDING_BLOCKED, BEPOCH in its 2M PAMT entry. */
static void test_tdh_mem_range_block__success_pending_2m(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	uint64_t pa = tsim_page_aug(&f.td, GPA, 1), e, info, e0;
	sept_rd(&f, GPA | 1, &e0, &info);
	block_ok(&f, GPA | 1);
	sept_rd(&f, GPA | 1, &e, &info);
	assert_int_equal(e, e0);
	assert_int_equal(info, 1 | (SEPT_PENDING_BLOCKED << 8));
	expect_pamt(&f, pa, PT_REG, TDX_PS_2M, epoch(&f));
	fx_fini(&f);
}

/* A non-leaf entry: NL_BLOCKED, BEPOCH in the child S-EPT page's entry;
 * the epoch recorded is the TD's current one. */
static void test_tdh_mem_range_block__success_non_leaf(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_RUNNABLE);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pt = 0, e, info;
	for (unsigned i = 0; i < f.td.n_sept; i++)
		if (f.td.sept[i].level == 1)
			pt = f.td.sept[i].pa;
	struct tdx_module_args t = { .rcx = f.td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(&f, TDH_MEM_TRACK, &t));
	assert_tdx_status(TDX_SUCCESS, call(&f, TDH_MEM_TRACK, &t));
	assert_int_equal(epoch(&f), 3);
	block_ok(&f, GPA | 1);
	sept_rd(&f, GPA | 1, &e, &info);
	assert_int_equal(e, 0);
	assert_int_equal(info, 1 | (SEPT_NL_BLOCKED << 8));
	struct tdx_module_args m = { .rcx = pt };
	assert_tdx_status(TDX_SUCCESS, call(&f, TDH_PHYMEM_PAGE_RDMD, &m));
	assert_int_equal(m.rcx, PT_EPT);
	assert_int_equal(m.r9, 3);
	/* Nothing below a blocked non-leaf entry can be walked to. */
	struct tdx_module_args a;
	assert_tdx_status(tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), block(&f, GPA | 0, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 1 | (SEPT_NL_BLOCKED << 8));
	fx_fini(&f);
}

/* Blocking again is an informational status (with the ext outputs). */
static void test_tdh_mem_range_block__already_blocked(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	block_ok(&f, GPA | 0);
	uint64_t e, info;
	sept_rd(&f, GPA | 0, &e, &info);
	expect_ext(&f, &a, tdx_status_op(TDX_GPA_RANGE_ALREADY_BLOCKED, TDX_OPERAND_ID_RCX), e, 0,
		   SEPT_BLOCKED);
	assert_int_equal(tdx_status_op(TDX_GPA_RANGE_ALREADY_BLOCKED, TDX_OPERAND_ID_RCX),
			 0x00000B0700000001ULL);
	/* The same for PENDING_BLOCKED and NL_BLOCKED. */
	tsim_page_aug(&f.td, GPA + (2ULL << 20), 1);
	block_ok(&f, (GPA + (2ULL << 20)) | 1);
	sept_rd(&f, (GPA + (2ULL << 20)) | 1, &e, &info);
	a.rcx = (GPA + (2ULL << 20)) | 1;
	expect_ext(&f, &a, tdx_status_op(TDX_GPA_RANGE_ALREADY_BLOCKED, TDX_OPERAND_ID_RCX), e, 1,
		   SEPT_PENDING_BLOCKED);
	block_ok(&f, GPA | 2);
	a.rcx = GPA | 2;
	expect_ext(&f, &a, tdx_status_op(TDX_GPA_RANGE_ALREADY_BLOCKED, TDX_OPERAND_ID_RCX), 0, 2,
		   SEPT_NL_BLOCKED);
	fx_fini(&f);
}

static void test_tdh_mem_range_block__entry_free(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = (GPA + 4096) | 0;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), SVE, 0,
		   SEPT_FREE);
	fx_fini(&f);
}

static void test_tdh_mem_range_block__entry_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	uint64_t e, info;
	sept_rd(&f, GPA | 0, &e, &info);
	fail_lock(&f, 4);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), e, 0, SEPT_MAPPED);
	sept_rd(&f, GPA | 0, &e, &info);
	assert_int_equal(info >> 8, SEPT_MAPPED);
	fx_fini(&f);
}

/* A GPA not aligned to its level. */
static void test_tdh_mem_range_block__gpa_misaligned(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = (GPA + 4096) | 1;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_range_block__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_range_block__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_range_block__tdr_busy),
		cmocka_unit_test(test_tdh_mem_range_block__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_range_block__td_fatal),
		cmocka_unit_test(test_tdh_mem_range_block__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_range_block__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_range_block__op_state_busy),
		cmocka_unit_test(test_tdh_mem_range_block__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_range_block__level_above_range),
		cmocka_unit_test(test_tdh_mem_range_block__gpa_reserved_bits),
		cmocka_unit_test(test_tdh_mem_range_block__gpa_shared_bit),
		cmocka_unit_test(test_tdh_mem_range_block__gpa_above_gpaw),
		cmocka_unit_test(test_tdh_mem_range_block__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_range_block__success_mapped_4k),
		cmocka_unit_test(test_tdh_mem_range_block__success_pending_2m),
		cmocka_unit_test(test_tdh_mem_range_block__success_non_leaf),
		cmocka_unit_test(test_tdh_mem_range_block__already_blocked),
		cmocka_unit_test(test_tdh_mem_range_block__entry_free),
		cmocka_unit_test(test_tdh_mem_range_block__walk_failed),
		cmocka_unit_test(test_tdh_mem_range_block__entry_busy),
		cmocka_unit_test(test_tdh_mem_range_block__gpa_misaligned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
