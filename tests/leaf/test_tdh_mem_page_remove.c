/*
 * TDH.MEM.PAGE.REMOVE (29): tdx-abi.md 2.2, 6.3 "run" row, 6.4 step 1;
 * check order in seam/leaf/tdh_mem_page_remove.c. RCX = GPA + level (0..2),
 * RDX = TDR; out RCX = removed page HPA. RCX/RDX are zeroed on every error
 * except the S-EPT ones ("ext": RCX = architectural entry, RDX = level |
 * state << 8). Operand locks in order (fault plan nth): TDR 1, OP_STATE 2,
 * SEPT_TREE 3, S-EPT entry 4, the page's PAMT entry 5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define ROW_PREFIX test_tdh_mem_page_remove
/* Fixtures, and the rows test_tdh_mem_page_remove__keys_not_configured,
 * __tdcs_not_allocated and __op_state_incorrect that main() registers. */
#include "td_page_fixtures.h"

static uint64_t rm(struct tsim_td *td, uint64_t gpa_lvl, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa_lvl, .rdx = td->tdr };
	return seamcall_raw(td->e->s, 0, TDH_MEM_PAGE_REMOVE, a);
}

static void expect_err(struct tsim_td *td, uint64_t gpa_lvl, uint64_t status)
{
	struct tdx_module_args a;
	uint64_t before = tsim_td_obj(td) ? chldcnt(td) : 0;
	assert_tdx_status(status, rm(td, gpa_lvl, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	if (tsim_td_obj(td))
		assert_int_equal(chldcnt(td), before);
}

static void expect_early_err(struct fx *f, uint64_t status)
{
	expect_err(&f->td, GPA, status);
}

static void expect_ext(struct tsim_td *td, uint64_t gpa_lvl, uint64_t status, uint64_t rcx,
		       uint64_t rdx)
{
	struct tdx_module_args a;
	uint64_t before = chldcnt(td);
	assert_tdx_status(status, rm(td, gpa_lvl, &a));
	assert_int_equal(a.rcx, rcx);
	assert_int_equal(a.rdx, rdx);
	assert_int_equal(chldcnt(td), before);
}

static void block(struct tsim_td *td, uint64_t gpa_lvl)
{
	struct tdx_module_args a = { .rcx = gpa_lvl, .rdx = td->tdr };
	seamcall_ok(td->e->s, 0, TDH_MEM_RANGE_BLOCK, &a);
}

static void track(struct tsim_td *td)
{
	struct tdx_module_args a = { .rcx = td->tdr };
	seamcall_ok(td->e->s, 0, TDH_MEM_TRACK, &a);
}

/* Drop the fixture's record of a page the test removed by hand. */
static void forget(struct tsim_td *td, uint64_t gpa)
{
	for (unsigned i = 0; i < td->n_pages; i++)
		if (td->page[i].gpa == gpa) {
			td->page[i] = td->page[--td->n_pages];
			return;
		}
}

/* Before MR.FINALIZE no blocking or tracking is needed. */
static void test_tdh_mem_page_remove__success_initialized(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false);
	uint64_t pend = tsim_page_aug(&f.td, GPA + 0x1000, 0);
	uint64_t before = chldcnt(&f.td);
	struct tdx_module_args a, m;
	assert_tdx_status(TDX_SUCCESS, rm(&f.td, GPA, &a));
	assert_int_equal(a.rcx, pa);
	assert_int_equal(a.rdx, 0);
	assert_tdx_status(TDX_SUCCESS, rm(&f.td, GPA + 0x1000, &a));       /* PENDING */
	assert_int_equal(a.rcx, pend);
	assert_int_equal(chldcnt(&f.td), before - 2);
	forget(&f.td, GPA);
	forget(&f.td, GPA + 0x1000);
	/* PAMT: free again; like the module only the type changes, the owner
	 * field still names the TDR. */
	rdmd(&f.e, pa, &m);
	assert_int_equal(m.rcx, PT_NDA);
	assert_int_equal(m.rdx, f.td.tdr);
	assert_int_equal(m.r8, TDX_PS_4K);
	assert_int_equal(tsim_page_type(&f.e, pend), PT_NDA);
	/* The entry is FREE: the GPA can be populated again. */
	uint64_t again = tsim_page_aug(&f.td, GPA, 0);
	assert_int_equal(tsim_page_type(&f.e, again), PT_REG);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	/* The page can be flushed and reused as any free page. */
	struct tdx_module_args w = { .rcx = tsim_keyed_pa(&f.e, pa, f.td.hkid) };
	seamcall_ok(f.e.s, 0, TDH_PHYMEM_PAGE_WBINVD, &w);
	fx_fini(&f);
}

/* KVM's runtime zap: BLOCK, TRACK, REMOVE, here of a 2M page. */
static void test_tdh_mem_page_remove__success_runnable_2m(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_td_finalize(&f.td);
	uint64_t pa = tsim_page_aug(&f.td, GPA_2M, 1);
	uint64_t before = chldcnt(&f.td);
	block(&f.td, GPA_2M | 1);
	track(&f.td);
	struct tdx_module_args a, m;
	assert_tdx_status(TDX_SUCCESS, rm(&f.td, GPA_2M | 1, &a));
	assert_int_equal(a.rcx, pa);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(chldcnt(&f.td), before - 512);
	forget(&f.td, GPA_2M);
	/* The 2M PAMT entry is free: RDMD sees the (never used) 4K entries. */
	rdmd(&f.e, pa, &m);
	assert_int_equal(m.rcx, PT_NDA);
	assert_int_equal(m.r8, TDX_PS_4K);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__success_runnable_4k(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false);
	tsim_td_finalize(&f.td);
	uint64_t before = chldcnt(&f.td);
	tsim_page_zap(&f.td, GPA, 0);                           /* BLOCK, TRACK, REMOVE, WBINVD */
	assert_int_equal(chldcnt(&f.td), before - 1);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)tsim_page_add(&f.td, GPA, NULL, false);
	uint64_t tdr = f.td.tdr;
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	f.td.tdr = tdr | 0x40;
	expect_err(&f.td, GPA, want);
	f.td.tdr = tsim_keyed_pa(&f.e, tdr, f.td.hkid);
	expect_err(&f.td, GPA, want);
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__tdr_addr_range(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.td.tdr = 1ULL << (f.e.keyid_shift - 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)tsim_page_add(&f.td, GPA, NULL, false);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_REMOVE, -1, 1, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__tdr_metadata(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false);
	uint64_t tdr = f.td.tdr;
	f.td.tdr = pa;                                          /* PT_REG */
	expect_err(&f.td, GPA, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)tsim_page_add(&f.td, GPA, NULL, false);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 1);
	expect_err(&f.td, GPA, TDX_TD_FATAL);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 0);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__op_state_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)tsim_page_add(&f.td, GPA, NULL, false);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_REMOVE, -1, 2, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__gpa_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)tsim_page_add(&f.td, GPA, NULL, false);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, 0 | 3, want);                         /* level 3 */
	expect_err(&f.td, GPA | 1, want);                       /* 2M level, misaligned */
	expect_err(&f.td, 0x200000ULL | 2, want);               /* 1G level, misaligned */
	expect_err(&f.td, GPA | 0x08, want);                    /* bits 11:3 */
	expect_err(&f.td, GPA | (1ULL << 47), want);            /* shared bit */
	expect_err(&f.td, GPA | (1ULL << 51), want);            /* above GPAW */
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__sept_tree_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)tsim_page_add(&f.td, GPA, NULL, false);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_REMOVE, -1, 3, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_SEPT_TREE));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, rm(&f.td, GPA, &a));
	forget(&f.td, GPA);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__ept_walk_failed(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t want = tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX);
	expect_ext(&f.td, GPA, want, SVE, 3);                   /* nothing mapped */
	uint64_t pa2m = tsim_page_aug(&f.td, GPA_2M, 1);
	expect_ext(&f.td, GPA_2M + 0x2000, want, EXT_PENDING(pa2m), TDX_PS_2M | (2 << 8));
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__sept_entry_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_REMOVE, -1, 4, 1);
	expect_ext(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
		   EXT_MAPPED(pa), TDX_PS_4K | (4 << 8));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_REG);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__ept_entry_state_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t want = tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
	(void)tsim_page_add(&f.td, GPA, NULL, false);
	/* A FREE 4K entry next to it. */
	expect_ext(&f.td, GPA + 0x1000, want, SVE, TDX_PS_4K);
	/* The PDE above it: a non-leaf (NL_MAPPED; only RWX reported). */
	expect_ext(&f.td, 0 | 1, want, 0x7, TDX_PS_2M | (0x84 << 8));
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__page_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_REMOVE, -1, 5, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_REG);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, rm(&f.td, GPA, &a));
	assert_int_equal(a.rcx, pa);
	forget(&f.td, GPA);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__gpa_range_not_blocked(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t added = tsim_page_add(&f.td, GPA, NULL, false);
	tsim_td_finalize(&f.td);
	uint64_t pa = tsim_page_aug(&f.td, GPA + 0x1000, 0);
	uint64_t want = tdx_status_op(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX);
	expect_ext(&f.td, GPA, want, EXT_MAPPED(added), TDX_PS_4K | (4 << 8));
	expect_ext(&f.td, GPA + 0x1000, want, EXT_PENDING(pa), TDX_PS_4K | (2 << 8));
	assert_int_equal(tsim_page_type(&f.e, pa), PT_REG);
	fx_fini(&f);
}

static void test_tdh_mem_page_remove__tlb_tracking_not_done(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	tsim_td_finalize(&f.td);
	uint64_t pa = tsim_page_aug(&f.td, GPA, 0);
	block(&f.td, GPA);
	expect_err(&f.td, GPA, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX));
	assert_int_equal(tsim_page_type(&f.e, pa), PT_REG);
	/* Tracked: now it goes. */
	track(&f.td);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, rm(&f.td, GPA, &a));
	assert_int_equal(a.rcx, pa);
	forget(&f.td, GPA);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_page_remove__success_initialized),
		cmocka_unit_test(test_tdh_mem_page_remove__success_runnable_2m),
		cmocka_unit_test(test_tdh_mem_page_remove__success_runnable_4k),
		cmocka_unit_test(test_tdh_mem_page_remove__tdr_invalid),
		cmocka_unit_test(test_tdh_mem_page_remove__tdr_addr_range),
		cmocka_unit_test(test_tdh_mem_page_remove__tdr_busy),
		cmocka_unit_test(test_tdh_mem_page_remove__tdr_metadata),
		cmocka_unit_test(test_tdh_mem_page_remove__td_fatal),
		cmocka_unit_test(test_tdh_mem_page_remove__keys_not_configured),
		cmocka_unit_test(test_tdh_mem_page_remove__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_page_remove__op_state_busy),
		cmocka_unit_test(test_tdh_mem_page_remove__op_state_incorrect),
		cmocka_unit_test(test_tdh_mem_page_remove__gpa_invalid),
		cmocka_unit_test(test_tdh_mem_page_remove__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_page_remove__ept_walk_failed),
		cmocka_unit_test(test_tdh_mem_page_remove__sept_entry_busy),
		cmocka_unit_test(test_tdh_mem_page_remove__ept_entry_state_incorrect),
		cmocka_unit_test(test_tdh_mem_page_remove__page_busy),
		cmocka_unit_test(test_tdh_mem_page_remove__gpa_range_not_blocked),
		cmocka_unit_test(test_tdh_mem_page_remove__tlb_tracking_not_done),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
