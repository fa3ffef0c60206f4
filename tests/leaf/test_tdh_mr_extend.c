/*
 * TDH.MR.EXTEND (16): tdx-abi.md 2.2, 6.3 row 12; check order in
 * seam/leaf/tdh_mr_extend.c. RCX = GPA (256-byte aligned), RDX = TDR.
 * RCX/RDX are zeroed on every error except EPT_ENTRY_NOT_PRESENT + RCX
 * (walk found no present leaf: "ext" RCX = architectural entry, RDX =
 * level | state << 8). The only operand lock is the TDR's (fault nth 1).
 * The MRTD value itself is checked by test_tdh_mr_finalize (known answer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define ROW_PREFIX test_tdh_mr_extend
#define OWN_OP_STATE_ROW
/* Fixtures, and the rows test_tdh_mr_extend__keys_not_configured and
 * __tdcs_not_allocated that main() registers. */
#include "td_page_fixtures.h"

/* An INITIALIZED TD with a page at GPA (PAGE.ADD, not extended). */
static void fx_init_page(struct fx *f)
{
	fx_init(f);
	f->pa = tsim_page_add(&f->td, GPA, NULL, false);
}

static uint64_t ext(struct tsim_td *td, uint64_t gpa, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa, .rdx = td->tdr };
	return seamcall_raw(td->e->s, 0, TDH_MR_EXTEND, a);
}

static void expect_err(struct tsim_td *td, uint64_t gpa, uint64_t status)
{
	struct tdx_module_args a;
	assert_tdx_status(status, ext(td, gpa, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
}

static void expect_early_err(struct fx *f, uint64_t status)
{
	expect_err(&f->td, GPA, status);
}

static void expect_ext(struct tsim_td *td, uint64_t gpa, uint64_t status, uint64_t rcx,
		       uint64_t rdx)
{
	struct tdx_module_args a;
	assert_tdx_status(status, ext(td, gpa, &a));
	assert_int_equal(a.rcx, rcx);
	assert_int_equal(a.rdx, rdx);
}

static void test_tdh_mr_extend__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	struct tdx_module_args a;
	for (unsigned i = 0; i < 16; i++) {
		assert_tdx_status(TDX_SUCCESS, ext(&f.td, GPA + 256 * i, &a));
		assert_int_equal(a.rcx, 0);
		assert_int_equal(a.rdx, 0);
	}
	/* Extending twice is allowed (the module does not track it). */
	assert_tdx_status(TDX_SUCCESS, ext(&f.td, GPA, &a));
	/* The page is untouched. */
	assert_int_equal(tsim_page_type(&f.e, f.pa), PT_REG);
	fx_fini(&f);
}

static void test_tdh_mr_extend__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	uint64_t tdr = f.td.tdr;
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	f.td.tdr = tdr + 0x100;
	expect_err(&f.td, GPA, want);
	f.td.tdr = tsim_keyed_pa(&f.e, tdr, f.td.hkid);
	expect_err(&f.td, GPA, want);
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mr_extend__tdr_addr_range(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	f.td.tdr = 1ULL << (f.e.keyid_shift - 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mr_extend__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MR_EXTEND, -1, 1, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, ext(&f.td, GPA, &a));
	fx_fini(&f);
}

static void test_tdh_mr_extend__tdr_metadata(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	uint64_t tdr = f.td.tdr;
	f.td.tdr = f.td.sept[0].pa;                             /* PT_EPT */
	expect_err(&f.td, GPA, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mr_extend__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 1);
	expect_err(&f.td, GPA, TDX_TD_FATAL);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 0);
	fx_fini(&f);
}

static void test_tdh_mr_extend__op_state_incorrect(void **state)
{
	(void)state;
	expect_uninit_err();
	struct fx f;                                            /* RUNNABLE */
	fx_init_page(&f);
	tsim_td_finalize(&f.td);
	expect_err(&f.td, GPA, TDX_OP_STATE_INCORRECT);
	fx_fini(&f);
}

static void test_tdh_mr_extend__gpa_misaligned(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, GPA + 0x80, want);
	expect_err(&f.td, GPA + 8, want);
	fx_fini(&f);
}

static void test_tdh_mr_extend__gpa_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, GPA | (1ULL << 47), want);            /* shared */
	expect_err(&f.td, GPA | (1ULL << 48), want);            /* above GPAW 48 */
	fx_fini(&f);
}

static void test_tdh_mr_extend__ept_entry_not_present(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	uint64_t want = tdx_status_op(TDX_EPT_ENTRY_NOT_PRESENT, TDX_OPERAND_ID_RCX);
	expect_ext(&f.td, 0x8000000000ULL, want, SVE, 3);       /* FREE PML4E */
	expect_ext(&f.td, GPA + 0x1000, want, SVE, TDX_PS_4K);  /* FREE PTE */
	uint64_t pend = tsim_page_aug(&f.td, GPA + 0x3000, 0);  /* PENDING */
	expect_ext(&f.td, GPA + 0x3100, want, EXT_PENDING(pend), TDX_PS_4K | (2 << 8));
	fx_fini(&f);
}

/* A present leaf that is not MAPPED (BLOCKEDW, live export only): the
 * module answers EPT_ENTRY_NOT_PRESENT without operand id or ext. */
static void test_tdh_mr_extend__leaf_not_mapped(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f);
	tsim_sept_force_state(&f.td, GPA, SEPT_BLOCKEDW, SEPT_W);
	expect_err(&f.td, GPA + 0x200, TDX_EPT_ENTRY_NOT_PRESENT);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mr_extend__success),
		cmocka_unit_test(test_tdh_mr_extend__tdr_invalid),
		cmocka_unit_test(test_tdh_mr_extend__tdr_addr_range),
		cmocka_unit_test(test_tdh_mr_extend__tdr_busy),
		cmocka_unit_test(test_tdh_mr_extend__tdr_metadata),
		cmocka_unit_test(test_tdh_mr_extend__td_fatal),
		cmocka_unit_test(test_tdh_mr_extend__keys_not_configured),
		cmocka_unit_test(test_tdh_mr_extend__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mr_extend__op_state_incorrect),
		cmocka_unit_test(test_tdh_mr_extend__gpa_misaligned),
		cmocka_unit_test(test_tdh_mr_extend__gpa_invalid),
		cmocka_unit_test(test_tdh_mr_extend__ept_entry_not_present),
		cmocka_unit_test(test_tdh_mr_extend__leaf_not_mapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
