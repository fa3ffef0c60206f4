/*
 * TDH.MNG.ADDCX (1): tdx-abi.md 6.3 step 3; check order in
 * seam/leaf/tdh_mng_addcx.c. RCX = new TDCS page, RDX = TDR; no outputs.
 * Operand locks in order (fault plan nth): TDR 1, page 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define SEPT_FREE_ENTRY (1ULL << 63)

static uint64_t addcx(struct tsim_td *td, uint64_t page, uint64_t tdr)
{
	struct tdx_module_args a = { .rcx = page, .rdx = tdr, .r8 = 0x77 };
	uint64_t st = seamcall_raw(td->e->s, 0, TDH_MNG_ADDCX, &a);
	assert_int_equal(a.rcx, page);                  /* no outputs */
	assert_int_equal(a.rdx, tdr);
	assert_int_equal(a.r8, 0x77);
	return st;
}

/* Error: nothing changes in the TD, the page stays free. */
static void expect_err(struct tsim_td *td, uint64_t page, uint64_t tdr, uint64_t status)
{
	struct seam_td *t = tsim_td_obj(td);
	unsigned n = t->num_tdcx;
	uint64_t cc = atomic_load(&t->chldcnt);
	assert_tdx_status(status, addcx(td, page, tdr));
	assert_int_equal(t->num_tdcx, n);
	assert_int_equal(atomic_load(&t->chldcnt), cc);
}

/* Add n more TDCS pages. */
static void add_pages(struct tsim_td *td, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t pa = tsim_page(td->e);
		assert_tdx_status(TDX_SUCCESS, addcx(td, pa, td->tdr));
		if (td->n_tdcs < TDX_TDCS_PAGES)
			td->tdcs[td->n_tdcs++] = pa;
	}
}

static void test_tdh_mng_addcx__success(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	uint8_t junk[4096];
	memset(junk, 0xEE, sizeof(junk));
	for (unsigned i = 0; i < TDX_TDCS_PAGES; i++) {
		uint64_t pa = tsim_page(&e);
		assert_int_equal(tdxsim_mem_write(e.s, pa, 0, junk, sizeof(junk)), TDXSIM_OK);
		assert_tdx_status(TDX_SUCCESS, addcx(&td, pa, td.tdr));
		td.tdcs[td.n_tdcs++] = pa;
		assert_int_equal(tsim_td_obj(&td)->num_tdcx, i + 1);
		assert_int_equal(atomic_load(&tsim_td_obj(&td)->chldcnt), i + 1);
		assert_int_equal(tsim_td_obj(&td)->tdcx_pa[i], pa);
		struct tdx_module_args r = { .rcx = pa };
		seamcall_ok(e.s, 0, TDH_PHYMEM_PAGE_RDMD, &r);
		assert_int_equal(r.rcx, PT_TDCX);
		assert_int_equal(r.rdx, td.tdr);
		assert_int_equal(r.r8, TDX_PS_4K);
	}
	/* Page 3 is the S-EPT root: every entry FREE; the others zero, all
	 * through the TD's KeyID. */
	uint64_t page[512];
	assert_int_equal(tdxsim_mem_read(e.s, td.tdcs[3], td.hkid, page, sizeof(page)), TDXSIM_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(page[i], SEPT_FREE_ENTRY);
	assert_int_equal(tdxsim_mem_read(e.s, td.tdcs[0], td.hkid, page, sizeof(page)), TDXSIM_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(page[i], 0);
	assert_int_equal(atomic_load(&tsim_td_obj(&td)->op_state), OP_UNINITIALIZED);
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_OK);
	tsim_env_fini(&e);
}

/* Pages 7-9 (one S-EPT root per L2 VM) are accepted while UNINITIALIZED. */
static void test_tdh_mng_addcx__l2_pages(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	add_pages(&td, 9);
	assert_int_equal(tsim_td_obj(&td)->num_tdcx, 9);
	assert_int_equal(atomic_load(&tsim_td_obj(&td)->chldcnt), 9);
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_OK);
	tsim_env_fini(&e);
}

static void test_tdh_mng_addcx__tdcx_num_incorrect(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	add_pages(&td, 9);
	uint64_t pa = tsim_page(&e);
	expect_err(&td, pa, td.tdr, TDX_TDCX_NUM_INCORRECT);
	/* The count check precedes the page checks. */
	expect_err(&td, pa + 1, td.tdr, TDX_TDCX_NUM_INCORRECT);
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	tsim_env_fini(&e);
}

static void test_tdh_mng_addcx__op_state_incorrect(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	uint64_t pa = tsim_page(&e);
	expect_err(&td, pa, td.tdr, TDX_OP_STATE_INCORRECT);
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	tsim_env_fini(&e);
}

static void test_tdh_mng_addcx__rnd_no_entropy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	add_pages(&td, 5);
	/* The 6th page draws the migration key. */
	unsigned f = tsim_fault(e.s, TDX_RND_NO_ENTROPY, TDH_MNG_ADDCX, -1, 1, 1);
	uint64_t pa = tsim_page(&e);
	expect_err(&td, pa, td.tdr, TDX_RND_NO_ENTROPY);
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	assert_tdx_status(TDX_SUCCESS, addcx(&td, pa, td.tdr));
	assert_int_equal(tsim_td_obj(&td)->num_tdcx, 6);
	tsim_env_fini(&e);
}

static void test_tdh_mng_addcx__td_keys_not_configured(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	uint64_t pa = tsim_page(&e);
	expect_err(&td, pa, td.tdr, TDX_TD_KEYS_NOT_CONFIGURED);
	/* One package of two is not enough. */
	struct tdx_module_args k = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_KEY_CONFIG, &k);
	expect_err(&td, pa, td.tdr, TDX_TD_KEYS_NOT_CONFIGURED);
	/* BLOCKED. */
	struct tdx_module_args d = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	expect_err(&td, pa, td.tdr, TDX_TD_KEYS_NOT_CONFIGURED);
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	tsim_env_fini(&e);
}

static void test_tdh_mng_addcx__td_fatal(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	atomic_store(&tsim_td_obj(&td)->fatal, 1);
	expect_err(&td, tsim_page(&e), td.tdr, TDX_TD_FATAL);
	tsim_env_fini(&e);
}

static void test_tdh_mng_addcx__tdr_invalid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	uint64_t pa = tsim_page(&e);
	uint64_t inv = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	expect_err(&td, pa, td.tdr | 0x10, inv);
	expect_err(&td, pa, tsim_keyed_pa(&e, td.tdr, td.hkid), inv);
	expect_err(&td, pa, 3ULL << 30, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX));
	/* Not a TDR; the TDR operand is checked before the page. */
	uint64_t pmi = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX);
	expect_err(&td, pa, tsim_page(&e), pmi);
	expect_err(&td, pa + 1, tsim_page(&e), pmi);
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	tsim_env_fini(&e);
}

/* The nth operand lock (1 TDR, 2 the page) is busy: OPERAND_BUSY + op, and
 * nothing is left locked (the retry succeeds). */
static void expect_busy(unsigned nth, unsigned op)
{
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	unsigned f = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_MNG_ADDCX, -1, nth, 1);
	uint64_t pa = tsim_page(&e);
	expect_err(&td, pa, td.tdr, tdx_status_op(TDX_OPERAND_BUSY, op));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_tdx_status(TDX_SUCCESS, addcx(&td, pa, td.tdr));
	tsim_env_fini(&e);
}

static void test_tdh_mng_addcx__tdr_busy(void **state)
{
	(void)state;
	expect_busy(1, TDX_OPERAND_ID_RDX);
}

static void test_tdh_mng_addcx__page_invalid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	uint64_t pa = tsim_page(&e);
	uint64_t inv = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&td, pa + 0x800, td.tdr, inv);
	expect_err(&td, tsim_keyed_pa(&e, pa, td.hkid), td.tdr, inv);
	expect_err(&td, 1ULL << 52, td.tdr, inv);
	expect_err(&td, 3ULL << 30, td.tdr,
		   tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	tsim_env_fini(&e);
}

/* The TDR is released too. */
static void test_tdh_mng_addcx__page_busy(void **state)
{
	(void)state;
	expect_busy(2, TDX_OPERAND_ID_RCX);
}

static void test_tdh_mng_addcx__page_not_free(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td, other;
	tsim_td_create(&e, &td);
	tsim_td_create(&e, &other);
	add_pages(&td, 1);
	uint64_t pmi = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	expect_err(&td, td.tdcs[0], td.tdr, pmi);       /* already a TDCS page */
	/* Its own TDR: the leaf holds that PAMT entry already, as on hardware. */
	expect_err(&td, td.tdr, td.tdr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	expect_err(&td, other.tdr, td.tdr, pmi);        /* another TD's TDR */
	expect_err(&td, e.t.pamt_pa[0], td.tdr, pmi);   /* PAMT (reserved) */
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_addcx__success),
		cmocka_unit_test(test_tdh_mng_addcx__l2_pages),
		cmocka_unit_test(test_tdh_mng_addcx__tdcx_num_incorrect),
		cmocka_unit_test(test_tdh_mng_addcx__op_state_incorrect),
		cmocka_unit_test(test_tdh_mng_addcx__rnd_no_entropy),
		cmocka_unit_test(test_tdh_mng_addcx__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mng_addcx__td_fatal),
		cmocka_unit_test(test_tdh_mng_addcx__tdr_invalid),
		cmocka_unit_test(test_tdh_mng_addcx__tdr_busy),
		cmocka_unit_test(test_tdh_mng_addcx__page_invalid),
		cmocka_unit_test(test_tdh_mng_addcx__page_busy),
		cmocka_unit_test(test_tdh_mng_addcx__page_not_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
