/*
 * TDH.PHYMEM.PAGE.WBINVD (41): tdx-abi.md 2.2, 6.4 step 7; module 1.5
 * tdh_phymem_page_wbinvd.c. RCX = PA with the KeyID in its KeyID bits. The
 * KeyID bits are taken out, then the 4 KiB page operand checks, lock shared:
 * misaligned / >= 2^52 -> OPERAND_INVALID+RCX; outside initialised TDMRs ->
 * OPERAND_ADDR_RANGE_ERROR+RCX; PAMT busy -> OPERAND_BUSY+RCX; part of a
 * large page or not PT_NDA -> PAGE_METADATA_INCORRECT+RCX. No outputs; the
 * KeyID itself is not checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL

/* Issue the leaf with sentinels in every other register; they come back. */
static uint64_t wbinvd(tdxsim *s, uint64_t rcx)
{
	struct tdx_module_args a = { .rcx = rcx, .rdx = SENT, .r8 = SENT, .r9 = SENT,
				     .r10 = SENT, .r11 = SENT };
	uint64_t st = seamcall_raw(s, 0, TDH_PHYMEM_PAGE_WBINVD, &a);
	assert_int_equal(a.rcx, rcx);
	assert_int_equal(a.rdx, SENT);
	assert_int_equal(a.r8, SENT);
	assert_int_equal(a.r9, SENT);
	assert_int_equal(a.r10, SENT);
	assert_int_equal(a.r11, SENT);
	return st;
}

#define ST_RCX(x) tdx_status_op((x), TDX_OPERAND_ID_RCX)

static void test_tdh_phymem_page_wbinvd__free_page_td_keyid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	uint32_t k = tsim_hkid(&e);
	assert_tdx_status(TDX_SUCCESS, wbinvd(e.s, tsim_keyed_pa(&e, pa, k)));
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_wbinvd__global_keyid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	assert_tdx_status(TDX_SUCCESS, wbinvd(e.s, tsim_keyed_pa(&e, pa, e.first_keyid)));
	/* The last TD KeyID (all KeyID bits used). */
	assert_tdx_status(TDX_SUCCESS,
			  wbinvd(e.s, tsim_keyed_pa(&e, pa, e.first_keyid + e.n_keyids - 1)));
	tsim_env_fini(&e);
}

/* The module does not look at the KeyID: 0 and MKTME KeyIDs pass too. */
static void test_tdh_phymem_page_wbinvd__keyid_not_checked(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	assert_tdx_status(TDX_SUCCESS, wbinvd(e.s, pa));
	assert_tdx_status(TDX_SUCCESS, wbinvd(e.s, tsim_keyed_pa(&e, pa, 1)));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_wbinvd__misaligned(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	assert_tdx_status(ST_RCX(TDX_OPERAND_INVALID), wbinvd(e.s, pa + 64));
	assert_tdx_status(ST_RCX(TDX_OPERAND_INVALID),
			  wbinvd(e.s, tsim_keyed_pa(&e, pa + 0x800, e.first_keyid)));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_wbinvd__above_max_pa(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	assert_tdx_status(ST_RCX(TDX_OPERAND_INVALID), wbinvd(e.s, pa | (1ULL << 52)));
	assert_tdx_status(ST_RCX(TDX_OPERAND_INVALID),
			  wbinvd(e.s, tsim_keyed_pa(&e, pa, e.first_keyid) | (1ULL << 63)));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_wbinvd__outside_tdmrs(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	/* The hole between the CMRs [0, 2 GiB) and [4 GiB, 6 GiB). */
	uint64_t hole = 3ULL << 30;
	assert_tdx_status(ST_RCX(TDX_OPERAND_ADDR_RANGE_ERROR), wbinvd(e.s, hole));
	assert_tdx_status(ST_RCX(TDX_OPERAND_ADDR_RANGE_ERROR),
			  wbinvd(e.s, tsim_keyed_pa(&e, hole, e.first_keyid)));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_wbinvd__pamt_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	unsigned id = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_PHYMEM_PAGE_WBINVD, -1, 1, 1);
	assert_tdx_status(ST_RCX(TDX_OPERAND_BUSY), wbinvd(e.s, tsim_keyed_pa(&e, pa, e.first_keyid)));
	assert_int_equal(tsim_fault_fired(e.s, id), 1);
	/* The lock was not left held. */
	assert_tdx_status(TDX_SUCCESS, wbinvd(e.s, tsim_keyed_pa(&e, pa, e.first_keyid)));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_wbinvd__not_nda(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	assert_int_equal(tsim_page_type(&e, td.tdr), PT_TDR);
	assert_tdx_status(ST_RCX(TDX_PAGE_METADATA_INCORRECT),
			  wbinvd(e.s, tsim_keyed_pa(&e, td.tdr, e.first_keyid)));
	tsim_td_addcx(&td);
	assert_tdx_status(ST_RCX(TDX_PAGE_METADATA_INCORRECT),
			  wbinvd(e.s, tsim_keyed_pa(&e, td.tdcs[0], td.hkid)));
	/* The PAMT lock was released: the TD goes on. */
	struct tdx_td_params p;
	tsim_td_params(&e, &p, 0, 1);
	assert_tdx_status(TDX_SUCCESS, tsim_td_init_raw(&td, &p, NULL));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_wbinvd__reserved(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	assert_int_equal(tsim_page_type(&e, e.t.pamt_pa[0]), PT_RSVD);
	assert_tdx_status(ST_RCX(TDX_PAGE_METADATA_INCORRECT),
			  wbinvd(e.s, tsim_keyed_pa(&e, e.t.pamt_pa[0], e.first_keyid)));
	tsim_env_fini(&e);
}

/* A 4 KiB page inside a 2 MiB TD page: the page is not a 4 KiB leaf. */
static void test_tdh_phymem_page_wbinvd__inside_large_page(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	uint64_t pa = tsim_page_aug(&td, 0x200000, 1);
	unsigned type, size;
	assert_int_equal(tdxsim_pamt_lookup(e.s, pa + 0x5000, &type, NULL, &size), TDXSIM_OK);
	assert_int_equal(type, PT_REG);
	assert_int_equal(size, TDX_PS_2M);
	assert_tdx_status(ST_RCX(TDX_PAGE_METADATA_INCORRECT),
			  wbinvd(e.s, tsim_keyed_pa(&e, pa + 0x5000, td.hkid)));
	assert_tdx_status(ST_RCX(TDX_PAGE_METADATA_INCORRECT),
			  wbinvd(e.s, tsim_keyed_pa(&e, pa, td.hkid)));
	tsim_env_fini(&e);
}

/* KVM's use: every removed private page through the TD's KeyID, then, after
 * RECLAIM, the TDR through the global KeyID (tsim_page_zap, tsim_td_teardown). */
static void test_tdh_phymem_page_wbinvd__zap_and_teardown(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	tsim_vcpu_add(&td, 0);
	tsim_page_add(&td, 0x100000, NULL, false);
	uint64_t pa = td.page[0].pa;
	tsim_td_finalize(&td);
	tsim_page_zap(&td, 0x100000, 0);
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	uint64_t tdr = td.tdr;
	/* Before RECLAIM the TDR is not NDA. */
	assert_tdx_status(ST_RCX(TDX_PAGE_METADATA_INCORRECT),
			  wbinvd(e.s, tsim_keyed_pa(&e, tdr, e.first_keyid)));
	tsim_td_teardown(&td);
	assert_tdx_status(TDX_SUCCESS, wbinvd(e.s, tsim_keyed_pa(&e, tdr, e.first_keyid)));
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__free_page_td_keyid),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__global_keyid),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__keyid_not_checked),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__misaligned),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__above_max_pa),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__outside_tdmrs),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__pamt_busy),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__not_nda),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__reserved),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__inside_large_page),
		cmocka_unit_test(test_tdh_phymem_page_wbinvd__zap_and_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
