/*
 * TDH.MEM.PAGE.AUG (6): tdx-abi.md 2.2, 6.3 "run" row; check order in
 * seam/leaf/tdh_mem_page_aug.c. RCX = GPA + level (0/1), RDX = TDR, R8 =
 * page. RCX/RDX are zeroed on every error except the S-EPT ones ("ext":
 * RCX = architectural entry, RDX = level | state << 8).
 * Operand locks in order (fault plan nth): TDR 1, OP_STATE 2, SEPT_TREE 3,
 * S-EPT entry 4, page 5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define ROW_PREFIX test_tdh_mem_page_aug
/* Fixtures, and the rows test_tdh_mem_page_aug__keys_not_configured,
 * __tdcs_not_allocated and __op_state_incorrect that main() registers. */
#include "td_page_fixtures.h"

static uint64_t aug(struct tsim_td *td, uint64_t gpa_lvl, uint64_t pa, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa_lvl, .rdx = td->tdr, .r8 = pa };
	return seamcall_raw(td->e->s, 0, TDH_MEM_PAGE_AUG, a);
}

static void expect_err(struct tsim_td *td, uint64_t gpa_lvl, uint64_t pa, uint64_t status)
{
	struct tdx_module_args a;
	uint64_t before = tsim_td_obj(td) ? chldcnt(td) : 0;
	assert_tdx_status(status, aug(td, gpa_lvl, pa, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	if (tsim_td_obj(td))
		assert_int_equal(chldcnt(td), before);
}

static void expect_early_err(struct fx *f, uint64_t status)
{
	expect_err(&f->td, GPA, tsim_page(&f->e), status);
}

static void expect_ext(struct tsim_td *td, uint64_t gpa_lvl, uint64_t pa, uint64_t status,
		       uint64_t rcx, uint64_t rdx)
{
	struct tdx_module_args a;
	uint64_t before = chldcnt(td);
	assert_tdx_status(status, aug(td, gpa_lvl, pa, &a));
	assert_int_equal(a.rcx, rcx);
	assert_int_equal(a.rdx, rdx);
	assert_int_equal(chldcnt(td), before);
}

static void test_tdh_mem_page_aug__success_4k(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e), before = chldcnt(&f.td);
	struct tdx_module_args a, m;
	assert_tdx_status(TDX_SUCCESS, aug(&f.td, GPA, pa, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(chldcnt(&f.td), before + 1);
	rdmd(&f.e, pa, &m);
	assert_int_equal(m.rcx, PT_REG);
	assert_int_equal(m.rdx, f.td.tdr);
	assert_int_equal(m.r8, TDX_PS_4K);
	assert_int_equal(m.r9, 0);
	/* The entry is PENDING, pointing at pa. */
	expect_ext(&f.td, GPA, tsim_page(&f.e),
		   tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
		   EXT_PENDING(pa), TDX_PS_4K | (2 << 8));
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__success_2m(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA_2M, 1);
	uint64_t pa = tsim_page_2m(&f.e), before = chldcnt(&f.td);
	struct tdx_module_args a, m;
	assert_tdx_status(TDX_SUCCESS, aug(&f.td, GPA_2M | 1, pa, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(chldcnt(&f.td), before + 512);
	rdmd(&f.e, pa, &m);
	assert_int_equal(m.rcx, PT_REG);
	assert_int_equal(m.rdx, f.td.tdr);
	assert_int_equal(m.r8, TDX_PS_2M);
	/* A 4K page inside reports the 2M leaf. */
	rdmd(&f.e, pa + 0x7000, &m);
	assert_int_equal(m.rcx, PT_REG);
	assert_int_equal(m.r8, TDX_PS_2M);
	expect_ext(&f.td, GPA_2M | 1, tsim_page_2m(&f.e),
		   tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
		   EXT_PENDING(pa), TDX_PS_2M | (2 << 8));
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__success_runnable(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_td_finalize(&f.td);
	uint64_t before = chldcnt(&f.td);
	uint64_t pa = tsim_page_aug(&f.td, GPA, 0);
	uint64_t pa2m = tsim_page_aug(&f.td, GPA_2M, 1);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_REG);
	assert_int_equal(tsim_page_type(&f.e, pa2m), PT_REG);
	/* S-EPT pages (3 tables) + 1 + 512. */
	assert_int_equal(chldcnt(&f.td), before + f.td.n_sept + 1 + 512);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e), tdr = f.td.tdr;
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	f.td.tdr = tdr + 0x10;
	expect_err(&f.td, GPA, pa, want);
	f.td.tdr = tsim_keyed_pa(&f.e, tdr, f.td.hkid);
	expect_err(&f.td, GPA, pa, want);
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__tdr_addr_range(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e);
	f.td.tdr = 1ULL << (f.e.keyid_shift - 1);
	expect_err(&f.td, GPA, pa, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_AUG, -1, 1, 1);
	expect_err(&f.td, GPA, pa, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, aug(&f.td, GPA, pa, &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__tdr_metadata(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e), tdr = f.td.tdr;
	f.td.tdr = f.td.vcpu[0].tdvpr;                          /* PT_TDVPR */
	expect_err(&f.td, GPA, pa, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 1);
	expect_err(&f.td, GPA, tsim_page(&f.e), TDX_TD_FATAL);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 0);
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__op_state_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_AUG, -1, 2, 1);
	expect_err(&f.td, GPA, pa, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, aug(&f.td, GPA, pa, &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__gpa_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, 0x40000000ULL | 2, pa, want);         /* level 2 (1G) */
	expect_err(&f.td, GPA | 1, pa, want);                   /* 2M level, 1M aligned */
	expect_err(&f.td, GPA | 0x100, pa, want);               /* bits 11:3 */
	expect_err(&f.td, GPA | (1ULL << 47), pa, want);        /* shared bit */
	expect_err(&f.td, GPA | (1ULL << 50), pa, want);        /* above GPAW */
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__sept_tree_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_AUG, -1, 3, 1);
	expect_err(&f.td, GPA, pa, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_SEPT_TREE));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, aug(&f.td, GPA, pa, &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__ept_walk_failed(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page(&f.e);
	/* Nothing below the root: stops at the FREE PML4E. */
	expect_ext(&f.td, GPA, pa, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), SVE, 3);
	/* PML4E and PDPTE present, no page table: a 4K AUG stops at the PDE. */
	tsim_sept_map(&f.td, GPA, 1);
	expect_ext(&f.td, GPA, pa, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), SVE, 1);
	/* A 4K AUG under a 2M leaf stops at the leaf. */
	uint64_t pa2m = tsim_page_aug(&f.td, GPA_2M, 1);
	expect_ext(&f.td, GPA_2M + 0x1000, pa, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX),
		   EXT_PENDING(pa2m), TDX_PS_2M | (2 << 8));
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__sept_entry_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_AUG, -1, 4, 1);
	expect_ext(&f.td, GPA, pa, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), SVE,
		   TDX_PS_4K | (0 << 8));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, aug(&f.td, GPA, pa, &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__ept_entry_state_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t want = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
	uint64_t pa = tsim_page(&f.e);
	/* MAPPED (PAGE.ADD). */
	uint64_t added = tsim_page_add(&f.td, GPA, NULL, false);
	expect_ext(&f.td, GPA, pa, want, EXT_MAPPED(added), TDX_PS_4K | (4 << 8));
	/* PENDING (an earlier AUG). */
	uint64_t augd = tsim_page_aug(&f.td, GPA + 0x1000, 0);
	expect_ext(&f.td, GPA + 0x1000, pa, want, EXT_PENDING(augd), TDX_PS_4K | (2 << 8));
	/* A 2M AUG where a page table is mapped: the PDE is NL_MAPPED. */
	expect_ext(&f.td, 0 | 1, tsim_page_2m(&f.e), want, 0x7, TDX_PS_2M | (0x84 << 8));
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__page_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	tsim_sept_map(&f.td, GPA_2M, 1);
	uint64_t pa = tsim_page(&f.e), pa2m = tsim_page_2m(&f.e);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);
	expect_err(&f.td, GPA, pa + 0x200, want);                        /* misaligned */
	expect_err(&f.td, GPA, tsim_keyed_pa(&f.e, pa, f.td.hkid), want); /* KeyID bits */
	expect_err(&f.td, GPA_2M | 1, pa2m + 0x1000, want);              /* 2M: 4K aligned only */
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__page_addr_range(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	expect_err(&f.td, GPA, 1ULL << (f.e.keyid_shift - 1),
		   tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__page_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	uint64_t pa = tsim_page(&f.e);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_AUG, -1, 5, 1);
	expect_err(&f.td, GPA, pa, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_R8));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	/* Every lock was released: the entry and the page are usable. */
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, aug(&f.td, GPA, pa, &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_aug__page_metadata(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_sept_map(&f.td, GPA, 0);
	tsim_sept_map(&f.td, GPA_2M, 1);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8);
	struct tsim_td other;
	tsim_td_create(&f.e, &other);
	expect_err(&f.td, GPA, other.tdr, want);                         /* PT_TDR */
	/* This TD's own TDR is held (shared) by the leaf: the exclusive PAMT
	 * lock on the page fails first, as on the module. */
	expect_err(&f.td, GPA, f.td.tdr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_R8));
	expect_err(&f.td, GPA, f.td.tdcs[1], want);                      /* PT_TDCX */
	uint64_t pa2m = tsim_page_aug(&f.td, 0x800000, 1);
	expect_err(&f.td, GPA, pa2m + 0x2000, want);                     /* inside a 2M page */
	expect_err(&f.td, GPA_2M | 1, pa2m, want);                       /* the 2M page itself */
	/* 2M range with one 4K page in use (a PAGE.ADD target). */
	uint64_t range = tsim_page_2m(&f.e);
	tsim_sept_map(&f.td, 0x200000, 0);
	struct tdx_module_args a = { .rcx = 0x200000, .rdx = f.td.tdr, .r8 = range + 0x3000,
				     .r9 = f.td.shared + 0x1000 };
	seamcall_ok(f.e.s, 0, TDH_MEM_PAGE_ADD, &a);
	expect_err(&f.td, GPA_2M | 1, range, want);
	assert_int_equal(tsim_page_type(&f.e, range), PT_NDA);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_page_aug__success_4k),
		cmocka_unit_test(test_tdh_mem_page_aug__success_2m),
		cmocka_unit_test(test_tdh_mem_page_aug__success_runnable),
		cmocka_unit_test(test_tdh_mem_page_aug__tdr_invalid),
		cmocka_unit_test(test_tdh_mem_page_aug__tdr_addr_range),
		cmocka_unit_test(test_tdh_mem_page_aug__tdr_busy),
		cmocka_unit_test(test_tdh_mem_page_aug__tdr_metadata),
		cmocka_unit_test(test_tdh_mem_page_aug__td_fatal),
		cmocka_unit_test(test_tdh_mem_page_aug__keys_not_configured),
		cmocka_unit_test(test_tdh_mem_page_aug__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_page_aug__op_state_busy),
		cmocka_unit_test(test_tdh_mem_page_aug__op_state_incorrect),
		cmocka_unit_test(test_tdh_mem_page_aug__gpa_invalid),
		cmocka_unit_test(test_tdh_mem_page_aug__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_page_aug__ept_walk_failed),
		cmocka_unit_test(test_tdh_mem_page_aug__sept_entry_busy),
		cmocka_unit_test(test_tdh_mem_page_aug__ept_entry_state_incorrect),
		cmocka_unit_test(test_tdh_mem_page_aug__page_invalid),
		cmocka_unit_test(test_tdh_mem_page_aug__page_addr_range),
		cmocka_unit_test(test_tdh_mem_page_aug__page_busy),
		cmocka_unit_test(test_tdh_mem_page_aug__page_metadata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
