/*
 * TDH.MEM.PAGE.DEMOTE (15): check order and outputs in
 * seam/leaf/tdh_mem_page_demote.c. RCX = GPA + level of a large leaf (1 =
 * 2M), RDX = TDR (bit 0 L2_SEPT_ADD_MODE), R8 = new S-EPT page. The leaf
 * becomes NL_MAPPED over 512 small leaves (unblocked); the PAMT splits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_PAGE_DEMOTE
#define ROW_PREFIX test_tdh_mem_page_demote
#define SEPT_MIN_LEVEL 1
#define SEPT_MAX_LEVEL 2
#define SEPT_WALK_FAILED
#define SEPT_PAGE_R8
/* Fixtures, and the common rows test_tdh_mem_page_demote__<row> that main()
 * registers: the TDR, the TD state, the GPA and level, the tree lock,
 * walk_failed and the new page (R8). */
#include "sept_fixtures.h"

/* ---- PAGE.DEMOTE ---- */

#define SZ_2M (2ULL << 20)

/* The 2M page AUGed at GPA by args(). */
static uint64_t big_page(struct fx *f)
{
	for (unsigned i = 0; i < f->td.n_pages; i++)
		if (f->td.page[i].gpa == GPA && f->td.page[i].level == 1)
			return f->td.page[i].pa;
	fail_msg("no 2M page");
	return 0;
}

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	if (setup)
		tsim_page_aug(&f->td, GPA, 1);
	*a = (struct tdx_module_args){ .rcx = GPA | 1, .rdx = f->td.tdr, .r8 = tsim_page(&f->e) };
}

static void rdmd(struct fx *f, uint64_t pa, unsigned type, uint64_t owner, unsigned ps, uint64_t bepoch)
{
	struct tdx_module_args m = { .rcx = pa };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_PHYMEM_PAGE_RDMD, &m));
	assert_int_equal(m.rcx, type);
	assert_int_equal(m.rdx, owner);
	assert_int_equal(m.r8, ps);
	assert_int_equal(m.r9, bepoch);
}

/* After a demote of the 2M page at GPA into new: check the result. */
static void expect_demoted(struct fx *f, uint64_t big, uint64_t new_pa, unsigned st, uint64_t e2m)
{
	uint64_t e, info;
	sept_rd(f, GPA | 1, &e, &info);
	assert_int_equal(e, 0x7);
	assert_int_equal(info, 1 | (SEPT_NL_MAPPED << 8));
	for (unsigned i = 0; i < 512; i += 73) {
		sept_rd(f, (GPA + i * 4096ULL) | 0, &e, &info);
		assert_int_equal(info, 0 | (st << 8));
		/* Same attributes as the 2M leaf, the i-th 4K of its HPA. */
		assert_int_equal(e, (e2m & ~SEPT_HPA_MASK & ~SEPT_RWX) | (e & SEPT_RWX) |
				    (big + i * 4096ULL));
		rdmd(f, big + i * 4096ULL, PT_REG, f->td.tdr, TDX_PS_4K, 0);
	}
	rdmd(f, new_pa, PT_EPT, f->td.tdr, TDX_PS_4K, 0);
	assert_int_equal(tdxsim_check_invariants(f->e.s, f->td.tdr), TDXSIM_OK);
}

static void test_tdh_mem_page_demote__success_pending(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e2m, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	uint64_t big = big_page(&f), new_pa = a.r8, before = chldcnt(&f);
	rdmd(&f, big, PT_REG, f.td.tdr, TDX_PS_2M, 0);
	sept_rd(&f, GPA | 1, &e2m, &info);
	a.r9 = 9, a.r10 = 10, a.r11 = 11;
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r9, 9);
	assert_int_equal(a.r10, 10);
	assert_int_equal(a.r11, 11);
	assert_int_equal(chldcnt(&f), before + 1);
	expect_demoted(&f, big, new_pa, SEPT_PENDING, e2m);
	fx_fini(&f);
}

/* RUNNABLE: block, track, demote; the small leaves come out unblocked. */
static void test_tdh_mem_page_demote__success_blocked_runnable(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e2m, info;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	sept_rd(&f, GPA | 1, &e2m, &info);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 1));
	track(&f);
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	expect_demoted(&f, big_page(&f), a.r8, SEPT_PENDING, e2m);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__rdx_reserved_bits(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rdx |= 1ULL << 5;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	a.rdx ^= (1ULL << 5) | (1ULL << 60);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	/* Bit 0 (L2_SEPT_ADD_MODE) is allowed. */
	a.rdx = f.td.tdr | 1;
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__entry_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	sept_rd(&f, GPA | 1, &e, &info);
	fail_lock(&f, 4);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), e, 1, SEPT_PENDING);
	fx_fini(&f);
}

/* Not a large leaf: a non-leaf entry, or FREE. */
static void test_tdh_mem_page_demote__entry_not_leaf(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, false);
	tsim_sept_map(&f.td, GPA, 0);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), 0x7, 1,
		   SEPT_NL_MAPPED);
	a.rcx = (GPA + SZ_2M) | 1;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), SVE, 1,
		   SEPT_FREE);
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__not_blocked(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	sept_rd(&f, GPA | 1, &e, &info);
	expect_ext(&f, &a, tdx_status_op(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX), e, 1,
		   SEPT_PENDING);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__tlb_tracking_not_done(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 1));
	expect_err(&f, &a, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX));
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

/* R8 is not a free page: a TDCS page, or a 4K piece of the very page. */
static void test_tdh_mem_page_demote__page_not_free(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.r8 = f.td.tdcs[1];
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8));
	a.r8 = big_page(&f) + 4096;
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

/* The 2M PAMT entry is locked: nothing changes. */
static void test_tdh_mem_page_demote__large_pamt_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 6);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	sept_rd(&f, GPA | 1, &e, &info);
	assert_int_equal(info, 1 | (SEPT_PENDING << 8));
	rdmd(&f, big_page(&f), PT_REG, f.td.tdr, TDX_PS_2M, 0);
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_page_demote__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_page_demote__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_page_demote__tdr_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_page_demote__td_fatal),
		cmocka_unit_test(test_tdh_mem_page_demote__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_page_demote__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_page_demote__op_state_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_page_demote__level_below_range),
		cmocka_unit_test(test_tdh_mem_page_demote__level_above_range),
		cmocka_unit_test(test_tdh_mem_page_demote__gpa_reserved_bits),
		cmocka_unit_test(test_tdh_mem_page_demote__gpa_misaligned),
		cmocka_unit_test(test_tdh_mem_page_demote__gpa_shared_bit),
		cmocka_unit_test(test_tdh_mem_page_demote__gpa_above_gpaw),
		cmocka_unit_test(test_tdh_mem_page_demote__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__success_pending),
		cmocka_unit_test(test_tdh_mem_page_demote__success_blocked_runnable),
		cmocka_unit_test(test_tdh_mem_page_demote__rdx_reserved_bits),
		cmocka_unit_test(test_tdh_mem_page_demote__walk_failed),
		cmocka_unit_test(test_tdh_mem_page_demote__entry_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__entry_not_leaf),
		cmocka_unit_test(test_tdh_mem_page_demote__not_blocked),
		cmocka_unit_test(test_tdh_mem_page_demote__tlb_tracking_not_done),
		cmocka_unit_test(test_tdh_mem_page_demote__page_invalid),
		cmocka_unit_test(test_tdh_mem_page_demote__page_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_page_demote__page_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__page_not_free),
		cmocka_unit_test(test_tdh_mem_page_demote__large_pamt_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
