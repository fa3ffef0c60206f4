/*
 * TDH.MEM.PAGE.PROMOTE (23): check order and outputs in
 * seam/leaf/tdh_mem_page_promote.c. RCX = GPA + level of the non-leaf entry
 * (1 = merge 512 4K leaves into a 2M one), RDX = TDR. Out: RCX = the freed
 * S-EPT page (PT_NDA); version 1 zeroes R9..R11.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_PAGE_PROMOTE
#define LEAF_V1 (TDH_MEM_PAGE_PROMOTE | (1ULL << 16))
#define ROW_PREFIX test_tdh_mem_page_promote
#define SEPT_MIN_LEVEL 1
#define SEPT_MAX_LEVEL 2
#define SEPT_WALK_FAILED
#define SEPT_NL_BLOCK
/* Fixtures, and the common rows test_tdh_mem_page_promote__<row> that main()
 * registers: the TDR, the TD state, the GPA and level, the tree lock,
 * walk_failed and not_blocked. */
#include "sept_fixtures.h"

/* ---- PAGE.PROMOTE ---- */

#define SZ_2M (2ULL << 20)

/* The PT page below GPA's level-1 entry. */
static uint64_t pt_page(struct fx *f)
{
	for (unsigned i = 0; i < f->td.n_sept; i++)
		if (f->td.sept[i].level == 1 && f->td.sept[i].gpa == GPA)
			return f->td.sept[i].pa;
	fail_msg("no PT page");
	return 0;
}

/* Map 4K pages of the 2M-aligned range at big (or, with skip, all but
 * entry skip) at GPA: PAGE.AUG (PENDING) or PAGE.ADD (MAPPED). */
static void map_4k(struct fx *f, uint64_t big, bool add, int skip)
{
	tsim_sept_map(&f->td, GPA, 0);
	for (unsigned i = 0; i < 512; i++) {
		if ((int)i == skip)
			continue;
		struct tdx_module_args a = { .rcx = GPA + i * 4096ULL, .rdx = f->td.tdr,
					     .r8 = big + i * 4096ULL, .r9 = f->td.shared + 0x1000 };
		assert_tdx_status(TDX_SUCCESS, call(f, add ? TDH_MEM_PAGE_ADD : TDH_MEM_PAGE_AUG, &a));
	}
}

/* 512 PENDING 4K leaves over one 2M page. */
static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	if (setup)
		map_4k(f, tsim_page_2m(&f->e), false, -1);
	*a = (struct tdx_module_args){ .rcx = GPA | 1, .rdx = f->td.tdr };
}

static void rdmd(struct fx *f, uint64_t pa, unsigned type, uint64_t owner, unsigned ps)
{
	struct tdx_module_args m = { .rcx = pa };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_PHYMEM_PAGE_RDMD, &m));
	assert_int_equal(m.rcx, type);
	assert_int_equal(m.rdx, owner);
	assert_int_equal(m.r8, ps);
}

/* The first 4K leaf under GPA. */
static uint64_t first_leaf(struct fx *f)
{
	uint64_t e, info;
	sept_rd(f, GPA | 0, &e, &info);
	return e;
}

/* Promote GPA|1 with fn and check the 2M leaf that results: the first 4K
 * leaf e4k made large. */
static void promote_ok(struct fx *f, uint64_t fn, uint64_t big, unsigned st, uint64_t e4k)
{
	uint64_t info, e, pt = pt_page(f), before = chldcnt(f);
	struct tdx_module_args a = { .rcx = GPA | 1, .rdx = f->td.tdr, .r9 = 9, .r10 = 10, .r11 = 11 };
	assert_tdx_status(TDX_SUCCESS, call(f, fn, &a));
	assert_int_equal(a.rcx, pt);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r9, fn == LEAF ? 9 : 0);
	assert_int_equal(a.r10, fn == LEAF ? 10 : 0);
	assert_int_equal(a.r11, fn == LEAF ? 11 : 0);
	assert_int_equal(chldcnt(f), before - 1);
	/* The level-1 entry is the first 4K entry made large. */
	sept_rd(f, GPA | 1, &e, &info);
	assert_int_equal(info, 1 | (st << 8));
	assert_int_equal(e, e4k);
	assert_int_equal(e & SEPT_HPA_MASK, big);
	/* PAMT: one 2M PT_REG entry; the S-EPT page back to the host. */
	rdmd(f, big, PT_REG, f->td.tdr, TDX_PS_2M);
	rdmd(f, big + 77 * 4096, PT_REG, f->td.tdr, TDX_PS_2M);
	assert_int_equal(tsim_page_type(&f->e, pt), PT_NDA);
	assert_int_equal(tdxsim_check_invariants(f->e.s, f->td.tdr), TDXSIM_OK);
}

static void test_tdh_mem_page_promote__success_pending(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	uint64_t big = tsim_page_2m(&f.e);
	map_4k(&f, big, false, -1);
	promote_ok(&f, LEAF, big, SEPT_PENDING, first_leaf(&f));
	/* And back: DEMOTE splits it again. */
	struct tdx_module_args d = { .rcx = GPA | 1, .rdx = f.td.tdr, .r8 = tsim_page(&f.e) };
	assert_tdx_status(TDX_SUCCESS, call(&f, TDH_MEM_PAGE_DEMOTE, &d));
	rdmd(&f, big + 77 * 4096, PT_REG, f.td.tdr, TDX_PS_4K);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

/* MAPPED pages (PAGE.ADD), version 1. */
static void test_tdh_mem_page_promote__success_mapped_v1(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	uint64_t big = tsim_page_2m(&f.e);
	map_4k(&f, big, true, -1);
	promote_ok(&f, LEAF_V1, big, SEPT_MAPPED, first_leaf(&f));
	fx_fini(&f);
}

/* RUNNABLE: block the non-leaf entry, track, promote; the large leaf comes
 * out in the small leaves' state. */
static void test_tdh_mem_page_promote__success_runnable(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_RUNNABLE);
	uint64_t big = tsim_page_2m(&f.e);
	map_4k(&f, big, false, -1);
	uint64_t e4k = first_leaf(&f);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 1));
	track(&f);
	promote_ok(&f, LEAF, big, SEPT_PENDING, e4k);
	fx_fini(&f);
}

static void test_tdh_mem_page_promote__v1_outputs_on_error(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, false);
	a.rdx = f.td.tdcs[0];
	a.r9 = 9, a.r10 = 10, a.r11 = 11;
	assert_tdx_status(tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX),
			  call(&f, LEAF_V1, &a));
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10, 0);
	assert_int_equal(a.r11, 0);
	fx_fini(&f);
}

static void test_tdh_mem_page_promote__entry_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 4);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), 0x7, 1,
		   SEPT_NL_MAPPED);
	fx_fini(&f);
}

/* Not a non-leaf entry: FREE, or already a large leaf. */
static void test_tdh_mem_page_promote__entry_not_non_leaf(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, false);
	tsim_sept_map(&f.td, GPA, 1);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), SVE, 1,
		   SEPT_FREE);
	tsim_page_aug(&f.td, GPA, 1);
	sept_rd(&f, GPA | 1, &e, &info);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), e, 1,
		   SEPT_PENDING);
	fx_fini(&f);
}

/* The S-EPT page's PAMT entry is locked. */
static void test_tdh_mem_page_promote__sept_page_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 5);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_page_promote__tlb_tracking_not_done(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 1));
	expect_err(&f, &a, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

/* An entry of the S-EPT page is locked (by another leaf or the guest). */
static void test_tdh_mem_page_promote__entries_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 6);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), 0x7, 1,
		   SEPT_NL_MAPPED);
	/* A real holder: the host lock of entry 5 of the PT page. */
	struct seam_td *td = td_obj(&f);
	td->sept_locked[63] = pt_page(&f) + 5 * 8;
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), 0x7, 1,
		   SEPT_NL_MAPPED);
	td->sept_locked[63] = 0;
	fx_fini(&f);
}

/* The 512 leaves cannot be merged: a FREE entry, a mix of states, an HPA
 * out of stride, or a first HPA not 2M-aligned. */
static void test_tdh_mem_page_promote__invalid_conditions(void **state)
{
	(void)state;
	const uint64_t st = tdx_status_op(TDX_EPT_INVALID_PROMOTE_CONDITIONS, TDX_OPERAND_ID_RCX);
	assert_int_equal(st, 0xC0000B0900000001ULL);
	for (int c = 0; c < 4; c++) {
		struct fx f;
		struct tdx_module_args a;
		fx_init(&f, FX_INIT);
		args(&f, &a, false);
		uint64_t big = tsim_page_2m(&f.e), big2 = tsim_page_2m(&f.e);
		assert_int_equal(big2, big + SZ_2M);
		tsim_sept_map(&f.td, GPA, 0);
		for (unsigned i = 0; i < 512; i++) {
			uint64_t pa = big + i * 4096ULL;
			uint64_t fn = TDH_MEM_PAGE_AUG;
			if (c == 0 && i == 300)
				continue;                       /* FREE entry */
			if (c == 1 && i == 7)
				fn = TDH_MEM_PAGE_ADD;          /* MAPPED among PENDING */
			if (c == 2 && (i == 10 || i == 11))
				pa = big + (21 - i) * 4096ULL;  /* swapped */
			if (c == 3)
				pa += 4096;                     /* starts at 2M + 4K */
			struct tdx_module_args m = { .rcx = GPA + i * 4096ULL, .rdx = f.td.tdr, .r8 = pa,
						     .r9 = f.td.shared + 0x1000 };
			assert_tdx_status(TDX_SUCCESS, call(&f, fn, &m));
		}
		expect_ext(&f, &a, st, 0x7, 1, SEPT_NL_MAPPED);
		assert_int_equal(tsim_page_type(&f.e, pt_page(&f)), PT_EPT);
		assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
		fx_fini(&f);
	}
}

/* The 2M PAMT entry is locked: nothing changes. */
static void test_tdh_mem_page_promote__large_pamt_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 7);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	sept_rd(&f, GPA | 1, &e, &info);
	assert_int_equal(info, 1 | (SEPT_NL_MAPPED << 8));
	assert_int_equal(tsim_page_type(&f.e, pt_page(&f)), PT_EPT);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_page_promote__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_page_promote__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_page_promote__tdr_busy),
		cmocka_unit_test(test_tdh_mem_page_promote__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_page_promote__td_fatal),
		cmocka_unit_test(test_tdh_mem_page_promote__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_page_promote__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_page_promote__op_state_busy),
		cmocka_unit_test(test_tdh_mem_page_promote__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_page_promote__level_below_range),
		cmocka_unit_test(test_tdh_mem_page_promote__level_above_range),
		cmocka_unit_test(test_tdh_mem_page_promote__gpa_reserved_bits),
		cmocka_unit_test(test_tdh_mem_page_promote__gpa_misaligned),
		cmocka_unit_test(test_tdh_mem_page_promote__gpa_shared_bit),
		cmocka_unit_test(test_tdh_mem_page_promote__gpa_above_gpaw),
		cmocka_unit_test(test_tdh_mem_page_promote__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_page_promote__success_pending),
		cmocka_unit_test(test_tdh_mem_page_promote__success_mapped_v1),
		cmocka_unit_test(test_tdh_mem_page_promote__success_runnable),
		cmocka_unit_test(test_tdh_mem_page_promote__v1_outputs_on_error),
		cmocka_unit_test(test_tdh_mem_page_promote__walk_failed),
		cmocka_unit_test(test_tdh_mem_page_promote__entry_busy),
		cmocka_unit_test(test_tdh_mem_page_promote__entry_not_non_leaf),
		cmocka_unit_test(test_tdh_mem_page_promote__sept_page_busy),
		cmocka_unit_test(test_tdh_mem_page_promote__not_blocked),
		cmocka_unit_test(test_tdh_mem_page_promote__tlb_tracking_not_done),
		cmocka_unit_test(test_tdh_mem_page_promote__entries_busy),
		cmocka_unit_test(test_tdh_mem_page_promote__invalid_conditions),
		cmocka_unit_test(test_tdh_mem_page_promote__large_pamt_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
