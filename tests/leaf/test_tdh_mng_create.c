/*
 * TDH.MNG.CREATE (9): tdx-abi.md 2.2, 6.3 step 1; check order in
 * seam/leaf/tdh_mng_create.c. RCX = TDR page, RDX = HKID; no outputs.
 * Operand locks in order (fault plan nth): TDR 1, KOT 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

static uint64_t create(struct tsim_env *e, uint64_t tdr, uint64_t rdx, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = tdr, .rdx = rdx, .r8 = 0x1111, .r9 = 0x2222 };
	return seamcall_raw(e->s, 0, TDH_MNG_CREATE, a);
}

/* Error: no output registers change, the page stays free, the KeyID's KOT
 * entry is untouched. */
static void expect_err(struct tsim_env *e, uint64_t tdr, uint64_t rdx, uint64_t status)
{
	struct tdx_module_args a;
	uint32_t hkid = (uint32_t)(rdx & 0xFFFF);
	unsigned kot = hkid < e->s->n_keyslots ? seam_kot_state(&e->s->mod, hkid) : 0;
	assert_tdx_status(status, create(e, tdr, rdx, &a));
	assert_int_equal(a.rcx, tdr);
	assert_int_equal(a.rdx, rdx);
	assert_int_equal(a.r8, 0x1111);
	assert_int_equal(a.r9, 0x2222);
	if (hkid < e->s->n_keyslots)
		assert_int_equal(seam_kot_state(&e->s->mod, hkid), kot);
}

static void rdmd(struct tsim_env *e, uint64_t pa, uint64_t *type, uint64_t *owner)
{
	struct tdx_module_args a = { .rcx = pa };
	seamcall_ok(e->s, 0, TDH_PHYMEM_PAGE_RDMD, &a);
	*type = a.rcx;
	*owner = a.rdx;
}

static void test_tdh_mng_create__success(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t tdr = tsim_page(&e);
	uint32_t hkid = tsim_hkid(&e);
	/* Host garbage in the page beforehand. */
	uint8_t buf[4096];
	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(tdxsim_mem_write(e.s, tdr, 0, buf, sizeof(buf)), TDXSIM_OK);

	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, create(&e, tdr, hkid, &a));
	assert_int_equal(a.rcx, tdr);                   /* no outputs */
	assert_int_equal(a.rdx, hkid);
	assert_int_equal(a.r8, 0x1111);
	uint64_t type, owner;
	rdmd(&e, tdr, &type, &owner);
	assert_int_equal(type, PT_TDR);
	assert_int_equal(owner, 0);
	assert_int_equal(seam_kot_state(&e.s->mod, hkid), KOT_ASSIGNED);
	struct seam_td *td = seam_obj_get(&e.s->mod, tdr);
	assert_non_null(td);
	assert_int_equal(atomic_load(&td->lifecycle), TD_HKID_ASSIGNED);
	assert_int_equal(td->hkid, hkid);
	assert_int_equal(td->num_tdcx, 0);
	assert_int_equal(atomic_load(&td->chldcnt), 0);
	/* A key was drawn (not all zero), not yet programmed. */
	uint8_t zero[32] = { 0 };
	assert_memory_not_equal(td->td_key, zero, sizeof(zero));
	assert_false(sim_key_valid(e.s, hkid));
	/* The page was zeroed through the global KeyID. */
	assert_int_equal(tdxsim_mem_read(e.s, tdr, e.first_keyid, buf, sizeof(buf)), TDXSIM_OK);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(tdxsim_check_invariants(e.s, tdr), TDXSIM_OK);
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__two_tds_distinct_keys(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t t1 = tsim_page(&e), t2 = tsim_page(&e);
	uint32_t k1 = tsim_hkid(&e), k2 = tsim_hkid(&e);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, create(&e, t1, k1, &a));
	assert_tdx_status(TDX_SUCCESS, create(&e, t2, k2, &a));
	struct seam_td *d1 = seam_obj_get(&e.s->mod, t1), *d2 = seam_obj_get(&e.s->mod, t2);
	assert_memory_not_equal(d1->td_key, d2->td_key, sizeof(d1->td_key));
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__rdx_reserved_bits(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t tdr = tsim_page(&e);
	uint32_t hkid = tsim_hkid(&e);
	expect_err(&e, tdr, hkid | (1ULL << 16), tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	expect_err(&e, tdr, hkid | (1ULL << 63), tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	assert_int_equal(tsim_page_type(&e, tdr), PT_NDA);
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__hkid_not_private(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t tdr = tsim_page(&e);
	uint64_t inv = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	expect_err(&e, tdr, 0, inv);                                /* no encryption */
	expect_err(&e, tdr, e.first_keyid - 1, inv);                /* MKTME KeyID */
	expect_err(&e, tdr, e.first_keyid + e.n_keyids, inv);       /* beyond the range */
	expect_err(&e, tdr, 0xFFFF, inv);
	/* The RDX check precedes the TDR checks. */
	expect_err(&e, tdr | 0x800, 0, inv);
	assert_int_equal(tsim_page_type(&e, tdr), PT_NDA);
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__tdr_invalid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t tdr = tsim_page(&e);
	uint32_t hkid = tsim_hkid(&e);
	uint64_t inv = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&e, tdr + 0x800, hkid, inv);                     /* misaligned */
	expect_err(&e, tsim_keyed_pa(&e, tdr, 1), hkid, inv);       /* KeyID bits */
	expect_err(&e, 1ULL << 52, hkid, inv);                      /* beyond MAX_PA */
	assert_int_equal(seam_kot_state(&e.s->mod, hkid), KOT_FREE);
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__tdr_outside_tdmrs(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t hkid = tsim_hkid(&e);
	expect_err(&e, 3ULL << 30, hkid,
		   tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__tdr_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t tdr = tsim_page(&e);
	uint32_t hkid = tsim_hkid(&e);
	unsigned f = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_MNG_CREATE, -1, 1, 1);
	expect_err(&e, tdr, hkid, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_int_equal(tsim_page_type(&e, tdr), PT_NDA);
	/* Nothing stays locked: the retry succeeds. */
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, create(&e, tdr, hkid, &a));
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__tdr_not_free(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	tsim_td_addcx(&td);
	uint32_t hkid = tsim_hkid(&e);
	uint64_t pmi = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	expect_err(&e, td.tdr, hkid, pmi);              /* already a TDR */
	expect_err(&e, td.tdcs[0], hkid, pmi);          /* a TDCS page */
	/* A PAMT page (reserved area). */
	expect_err(&e, e.t.pamt_pa[0], hkid, pmi);
	assert_int_equal(seam_kot_state(&e.s->mod, hkid), KOT_FREE);
	assert_int_equal(tsim_page_type(&e, td.tdr), PT_TDR);
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__kot_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t tdr = tsim_page(&e);
	uint32_t hkid = tsim_hkid(&e);
	unsigned f = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_MNG_CREATE, -1, 2, 1);
	expect_err(&e, tdr, hkid, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KOT));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_int_equal(tsim_page_type(&e, tdr), PT_NDA);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, create(&e, tdr, hkid, &a));
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__hkid_not_free(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	uint64_t tdr = tsim_page(&e);
	expect_err(&e, tdr, td.hkid, TDX_HKID_NOT_FREE);        /* assigned to a TD */
	expect_err(&e, tdr, e.first_keyid, TDX_HKID_NOT_FREE);  /* the module's global KeyID */
	assert_int_equal(tsim_page_type(&e, tdr), PT_NDA);
	assert_int_equal(seam_kot_state(&e.s->mod, e.first_keyid), KOT_RESERVED);
	tsim_env_fini(&e);
}

static void test_tdh_mng_create__rnd_no_entropy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t tdr = tsim_page(&e);
	uint32_t hkid = tsim_hkid(&e);
	unsigned f = tsim_fault(e.s, TDX_RND_NO_ENTROPY, TDH_MNG_CREATE, -1, 1, 1);
	expect_err(&e, tdr, hkid, TDX_RND_NO_ENTROPY);
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_int_equal(tsim_page_type(&e, tdr), PT_NDA);
	assert_int_equal(seam_kot_state(&e.s->mod, hkid), KOT_FREE);
	assert_null(seam_obj_get(&e.s->mod, tdr));
	/* Linux retries RND_NO_ENTROPY: the same call then succeeds. */
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, create(&e, tdr, hkid, &a));
	tsim_env_fini(&e);
}

/* After a full teardown the KeyID and the pages may be used again. */
static void test_tdh_mng_create__hkid_reuse_after_teardown(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	uint32_t hkid = td.hkid;
	uint64_t tdr = td.tdr;
	tsim_td_teardown(&td);
	assert_int_equal(seam_kot_state(&e.s->mod, hkid), KOT_FREE);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, create(&e, tdr, hkid, &a));
	assert_int_equal(tsim_page_type(&e, tdr), PT_TDR);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_create__success),
		cmocka_unit_test(test_tdh_mng_create__two_tds_distinct_keys),
		cmocka_unit_test(test_tdh_mng_create__rdx_reserved_bits),
		cmocka_unit_test(test_tdh_mng_create__hkid_not_private),
		cmocka_unit_test(test_tdh_mng_create__tdr_invalid),
		cmocka_unit_test(test_tdh_mng_create__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mng_create__tdr_busy),
		cmocka_unit_test(test_tdh_mng_create__tdr_not_free),
		cmocka_unit_test(test_tdh_mng_create__kot_busy),
		cmocka_unit_test(test_tdh_mng_create__hkid_not_free),
		cmocka_unit_test(test_tdh_mng_create__rnd_no_entropy),
		cmocka_unit_test(test_tdh_mng_create__hkid_reuse_after_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
