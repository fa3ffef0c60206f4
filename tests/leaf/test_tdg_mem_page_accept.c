/*
 * TDG.MEM.PAGE.ACCEPT (6): tdx-abi.md 1.2, 6.3; check order in
 * seam/tdcall/tdg_mem_page_accept.c. RCX = GPA + level; RAX only. The
 * EPT-violation TD exit leaves every guest GPR as it was (the TDCALL runs
 * again after the host's fix) and fills v->tdcall_exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tdcall_fixtures.h"

#define GPA      0x200000ULL        /* 2 MiB aligned */
#define GPA_FAR  (1ULL << 39)       /* PML4 slot 1: no S-EPT below the root */
#define ACCEPT_INVALID tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX)

static void fill_pattern(struct tfx *f, uint64_t pa)
{
	uint8_t buf[4096];
	memset(buf, 0xA5, sizeof(buf));
	tfx_priv_write(f, pa, buf, sizeof(buf));
}

static void assert_zero_page(struct tfx *f, uint64_t pa)
{
	uint8_t buf[4096], zero[4096] = { 0 };
	tfx_priv_read(f, pa, buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
}

/* The EPT-violation exit of a failed ACCEPT. */
static void expect_violation(struct tfx *f, uint64_t gpa_lvl, uint64_t gpa, unsigned err_lvl,
			     unsigned state, bool leaf)
{
	assert_int_equal(tfx_call(f, TDG_MEM_PAGE_ACCEPT, gpa_lvl, 0, 0, 0), SEAM_TDCALL_EXIT);
	assert_int_equal(tfx_gpr(f, GPR_RAX), TDG_MEM_PAGE_ACCEPT);
	assert_int_equal(tfx_gpr(f, GPR_RCX), gpa_lvl);
	tfx_assert_untouched(f, GPR_RDX, GPR_R15);
	const struct seam_td_exit *x = &f->v[0]->tdcall_exit;
	uint64_t info = (gpa_lvl & 7) | (err_lvl << 3) | ((uint64_t)state << 6) |
			((uint64_t)leaf << 14);
	assert_int_equal(x->status, TDX_SUCCESS | 48);
	assert_int_equal(x->exit_qual, 2);              /* data write; entry not present */
	assert_int_equal(x->ext_exit_qual, 1 | (info << 32));
	assert_int_equal(x->gpa, gpa);
	assert_int_equal(x->intr_info, 0);
}

static void test_tdg_mem_page_accept__success_4k(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	uint64_t pa = tsim_page_aug(&f.td, GPA, 0);
	fill_pattern(&f, pa);
	assert_int_equal(tfx_sept_state(&f, GPA, 0), SEPT_PENDING);
	tfx_expect(&f, TDX_SUCCESS, TDG_MEM_PAGE_ACCEPT, GPA, 0, 0, 0);
	tfx_assert_untouched(&f, GPR_RCX + 1, GPR_R15);
	assert_int_equal(tfx_gpr(&f, GPR_RCX), GPA);
	assert_int_equal(tfx_sept_state(&f, GPA, 0), SEPT_MAPPED);
	assert_zero_page(&f, pa);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_REG);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	tfx_fini(&f);
}

static void test_tdg_mem_page_accept__success_2m(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	uint64_t pa = tsim_page_aug(&f.td, GPA, 1);
	fill_pattern(&f, pa);
	fill_pattern(&f, pa + 511 * 4096ULL);
	tfx_expect(&f, TDX_SUCCESS, TDG_MEM_PAGE_ACCEPT, GPA | 1, 0, 0, 0);
	assert_int_equal(tfx_sept_state(&f, GPA, 1), SEPT_MAPPED);
	assert_zero_page(&f, pa);
	assert_zero_page(&f, pa + 511 * 4096ULL);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	tfx_fini(&f);
}

/* Accepted twice: the second answers PAGE_ALREADY_ACCEPTED + level (an
 * informational status) and does not zero the page again. */
static void test_tdg_mem_page_accept__already_accepted(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	uint64_t pa = tsim_page_aug(&f.td, GPA, 0);
	tfx_expect(&f, TDX_SUCCESS, TDG_MEM_PAGE_ACCEPT, GPA, 0, 0, 0);
	fill_pattern(&f, pa);
	tfx_expect(&f, tdx_status_op(TDX_PAGE_ALREADY_ACCEPTED, 0), TDG_MEM_PAGE_ACCEPT, GPA, 0, 0, 0);
	uint8_t b;
	tfx_priv_read(&f, pa + 100, &b, 1);
	assert_int_equal(b, 0xA5);
	tfx_fini(&f);
}

/* A page the host added (PAGE.ADD: MAPPED) is already accepted. */
static void test_tdg_mem_page_accept__already_accepted_added(void **state)
{
	(void)state;
	struct tfx f;
	struct tfx_opts o = { .add_gpa = { GPA } };
	tfx_init_opts(&f, &o);
	tfx_expect(&f, tdx_status_op(TDX_PAGE_ALREADY_ACCEPTED, 0), TDG_MEM_PAGE_ACCEPT, GPA, 0, 0, 0);
	tfx_fini(&f);
}

/* 4K accept inside an accepted 2M page: the walk ends at the 2M leaf. */
static void test_tdg_mem_page_accept__already_accepted_larger(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tsim_page_aug(&f.td, GPA, 1);
	tfx_expect(&f, TDX_SUCCESS, TDG_MEM_PAGE_ACCEPT, GPA | 1, 0, 0, 0);
	tfx_expect(&f, tdx_status_op(TDX_PAGE_ALREADY_ACCEPTED, 1), TDG_MEM_PAGE_ACCEPT,
		   GPA + 0x5000, 0, 0, 0);
	tfx_fini(&f);
}

/* 2M accept where the 2M range is mapped with 4K pages (a page table). */
static void test_tdg_mem_page_accept__size_mismatch(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tsim_page_aug(&f.td, GPA + 0x3000, 0);
	tfx_expect(&f, tdx_status_op(TDX_PAGE_SIZE_MISMATCH, 1), TDG_MEM_PAGE_ACCEPT, GPA | 1, 0, 0, 0);
	assert_int_equal(tfx_sept_state(&f, GPA + 0x3000, 0), SEPT_PENDING);
	tfx_fini(&f);
}

/* 4K accept inside a PENDING 2M page: TD exit (the host must demote). */
static void test_tdg_mem_page_accept__pending_larger_exit(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tsim_page_aug(&f.td, GPA, 1);
	expect_violation(&f, GPA + 0x5000, GPA + 0x5000, 1, SEPT_PENDING, true);
	assert_int_equal(tfx_sept_state(&f, GPA, 1), SEPT_PENDING);
	tfx_fini(&f);
}

/* The 4K entry is FREE (tables present, no page): TD exit at level 0. */
static void test_tdg_mem_page_accept__free_entry_exit(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	expect_violation(&f, GPA, GPA, 0, SEPT_FREE, false);
	tfx_fini(&f);
}

/* No S-EPT table on the way: the walk stops at the PML4 entry (level 3). */
static void test_tdg_mem_page_accept__walk_failed_exit(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	expect_violation(&f, GPA_FAR, GPA_FAR, 3, SEPT_FREE, false);
	tfx_fini(&f);
}

/* A blocked PENDING page (RANGE.BLOCK): not acceptable, TD exit. */
static void test_tdg_mem_page_accept__pending_blocked_exit(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tsim_page_aug(&f.td, GPA, 0);
	struct tdx_module_args a = { .rcx = GPA, .rdx = f.td.tdr };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(f.e.s, 0, TDH_MEM_RANGE_BLOCK, &a));
	expect_violation(&f, GPA, GPA, 0, SEPT_PENDING_BLOCKED, true);
	tfx_fini(&f);
}

static void test_tdg_mem_page_accept__level_1g(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, ACCEPT_INVALID, TDG_MEM_PAGE_ACCEPT, 0x40000000ULL | 2, 0, 0, 0);
	tfx_expect(&f, ACCEPT_INVALID, TDG_MEM_PAGE_ACCEPT, GPA | 3, 0, 0, 0);
	tfx_fini(&f);
}

static void test_tdg_mem_page_accept__reserved_bits(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tsim_page_aug(&f.td, GPA, 0);
	tfx_expect(&f, ACCEPT_INVALID, TDG_MEM_PAGE_ACCEPT, GPA | 0x8, 0, 0, 0);
	tfx_expect(&f, ACCEPT_INVALID, TDG_MEM_PAGE_ACCEPT, GPA | 0x800, 0, 0, 0);
	assert_int_equal(tfx_sept_state(&f, GPA, 0), SEPT_PENDING);
	tfx_fini(&f);
}

static void test_tdg_mem_page_accept__misaligned_2m(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, ACCEPT_INVALID, TDG_MEM_PAGE_ACCEPT, (GPA + 0x1000) | 1, 0, 0, 0);
	tfx_fini(&f);
}

static void test_tdg_mem_page_accept__shared_gpa(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, ACCEPT_INVALID, TDG_MEM_PAGE_ACCEPT, GPA | (1ULL << 47), 0, 0, 0);
	tfx_fini(&f);
}

static void test_tdg_mem_page_accept__above_gpaw(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, ACCEPT_INVALID, TDG_MEM_PAGE_ACCEPT, GPA | (1ULL << 48), 0, 0, 0);
	tfx_fini(&f);
}

/* The S-EPT entry's host lock is held (a concurrent host leaf). */
static void test_tdg_mem_page_accept__entry_busy(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tsim_page_aug(&f.td, GPA, 0);
	struct tdx_module_args scratch;
	struct seam_ctx hc = f.c;
	hc.r = &scratch;
	struct sept_walk w;
	assert_tdx_status(TDX_SUCCESS, sept_lock_walk(&hc, f.t, GPA, 0, 0, TDX_OPERAND_ID_RCX,
						      SEAM_LOCK_SHARED, SEPT_LW_ENTRY, &w));
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), TDG_MEM_PAGE_ACCEPT,
		   GPA, 0, 0, 0);
	sept_unlock_walk(f.t, &w);
	assert_int_equal(tfx_sept_state(&f, GPA, 0), SEPT_PENDING);
	tfx_expect(&f, TDX_SUCCESS, TDG_MEM_PAGE_ACCEPT, GPA, 0, 0, 0);
	tfx_fini(&f);
}

/* The S-EPT tree lock is held exclusively by a host leaf (tdxsim's guest
 * side takes it shared; see the leaf's deviations). */
static void test_tdg_mem_page_accept__tree_busy(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tsim_page_aug(&f.td, GPA, 0);
	assert_true(seam_lock_try_ex(&f.t->sept_lock));
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_SEPT_TREE),
		   TDG_MEM_PAGE_ACCEPT, GPA, 0, 0, 0);
	seam_unlock_ex(&f.t->sept_lock);
	assert_int_equal(tfx_sept_state(&f, GPA, 0), SEPT_PENDING);
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_mem_page_accept__success_4k),
		cmocka_unit_test(test_tdg_mem_page_accept__success_2m),
		cmocka_unit_test(test_tdg_mem_page_accept__already_accepted),
		cmocka_unit_test(test_tdg_mem_page_accept__already_accepted_added),
		cmocka_unit_test(test_tdg_mem_page_accept__already_accepted_larger),
		cmocka_unit_test(test_tdg_mem_page_accept__size_mismatch),
		cmocka_unit_test(test_tdg_mem_page_accept__pending_larger_exit),
		cmocka_unit_test(test_tdg_mem_page_accept__free_entry_exit),
		cmocka_unit_test(test_tdg_mem_page_accept__walk_failed_exit),
		cmocka_unit_test(test_tdg_mem_page_accept__pending_blocked_exit),
		cmocka_unit_test(test_tdg_mem_page_accept__level_1g),
		cmocka_unit_test(test_tdg_mem_page_accept__reserved_bits),
		cmocka_unit_test(test_tdg_mem_page_accept__misaligned_2m),
		cmocka_unit_test(test_tdg_mem_page_accept__shared_gpa),
		cmocka_unit_test(test_tdg_mem_page_accept__above_gpaw),
		cmocka_unit_test(test_tdg_mem_page_accept__entry_busy),
		cmocka_unit_test(test_tdg_mem_page_accept__tree_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
