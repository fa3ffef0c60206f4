/*
 * TDH.MNG.KEY.CONFIG (8): tdx-abi.md 6.3 step 2; check order in
 * seam/leaf/tdh_mng_key_config.c. RCX = TDR; no outputs; once per package.
 * Operand locks in order (fault plan nth): TDR 1, KET (PCONFIG) 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

static uint64_t key_config(struct tsim_env *e, unsigned pkg, uint64_t tdr)
{
	struct tdx_module_args a = { .rcx = tdr, .rdx = 0x1234, .r8 = 0x5678 };
	uint64_t st = seamcall_raw(e->s, tsim_pkg_first_lp(e->s, pkg), TDH_MNG_KEY_CONFIG, &a);
	assert_int_equal(a.rcx, tdr);                   /* no outputs */
	assert_int_equal(a.rdx, 0x1234);
	assert_int_equal(a.r8, 0x5678);
	return st;
}

static struct seam_td *td_obj(struct tsim_env *e, uint64_t tdr)
{
	return seam_obj_get(&e->s->mod, tdr);
}

static unsigned lifecycle(struct tsim_env *e, uint64_t tdr)
{
	return atomic_load(&td_obj(e, tdr)->lifecycle);
}

static void test_tdh_mng_key_config__all_packages(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	assert_true(e.n_pkgs >= 2);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	assert_tdx_status(TDX_SUCCESS, key_config(&e, 0, td.tdr));
	/* One package: the key is programmed, the TD still waits for the rest. */
	assert_true(sim_key_valid(e.s, td.hkid));
	assert_int_equal(lifecycle(&e, td.tdr), TD_HKID_ASSIGNED);
	assert_int_equal(td_obj(&e, td.tdr)->pkg_config_bitmap, 1);
	for (unsigned p = 1; p < e.n_pkgs; p++)
		assert_tdx_status(TDX_SUCCESS, key_config(&e, p, td.tdr));
	assert_int_equal(lifecycle(&e, td.tdr), TD_KEYS_CONFIGURED);
	assert_int_equal(td_obj(&e, td.tdr)->pkg_config_bitmap, (1u << e.n_pkgs) - 1);
	/* Memory through the TD's KeyID now round-trips; the host sees ciphertext. */
	uint64_t pa = tsim_page(&e);
	uint8_t in[64], out[64], raw[64];
	memset(in, 0x5C, sizeof(in));
	assert_int_equal(tdxsim_mem_write(e.s, pa, td.hkid, in, sizeof(in)), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(e.s, pa, td.hkid, out, sizeof(out)), TDXSIM_OK);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(tdxsim_mem_read(e.s, pa, e.first_keyid, raw, sizeof(raw)), TDXSIM_OK);
	assert_memory_not_equal(in, raw, sizeof(in));
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_OK);
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__any_lp_of_package(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	/* The last LP of each package instead of the first. */
	for (unsigned p = 0; p < e.n_pkgs; p++) {
		unsigned lp = tsim_pkg_first_lp(e.s, p) + e.n_lps / e.n_pkgs - 1;
		struct tdx_module_args a = { .rcx = td.tdr };
		seamcall_ok(e.s, lp, TDH_MNG_KEY_CONFIG, &a);
	}
	assert_int_equal(lifecycle(&e, td.tdr), TD_KEYS_CONFIGURED);
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__key_configured(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	assert_tdx_status(TDX_SUCCESS, key_config(&e, 0, td.tdr));
	/* Same package again (another LP of it too): success-class KEY_CONFIGURED. */
	assert_tdx_status(TDX_KEY_CONFIGURED, key_config(&e, 0, td.tdr));
	struct tdx_module_args a = { .rcx = td.tdr };
	assert_tdx_status(TDX_KEY_CONFIGURED, seamcall_raw(e.s, 1, TDH_MNG_KEY_CONFIG, &a));
	assert_int_equal(lifecycle(&e, td.tdr), TD_HKID_ASSIGNED);
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__lifecycle_incorrect(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	/* KEYS_CONFIGURED: the lifecycle check comes before the package check. */
	assert_tdx_status(TDX_LIFECYCLE_STATE_INCORRECT, key_config(&e, 0, td.tdr));
	/* BLOCKED. */
	struct tdx_module_args d = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	assert_tdx_status(TDX_LIFECYCLE_STATE_INCORRECT, key_config(&e, 1, td.tdr));
	assert_int_equal(lifecycle(&e, td.tdr), TD_BLOCKED);
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__td_fatal(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	atomic_store(&td_obj(&e, td.tdr)->fatal, 1);
	assert_tdx_status(TDX_TD_FATAL, key_config(&e, 0, td.tdr));
	assert_false(sim_key_valid(e.s, td.hkid));
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__tdr_invalid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	uint64_t inv = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	assert_tdx_status(inv, key_config(&e, 0, td.tdr + 8));
	assert_tdx_status(inv, key_config(&e, 0, tsim_keyed_pa(&e, td.tdr, td.hkid)));
	assert_tdx_status(tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX),
			  key_config(&e, 0, 3ULL << 30));
	assert_int_equal(td_obj(&e, td.tdr)->pkg_config_bitmap, 0);
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__not_a_tdr(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	tsim_td_addcx(&td);
	uint64_t pmi = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	assert_tdx_status(pmi, key_config(&e, 0, tsim_page(&e)));      /* free page */
	assert_tdx_status(pmi, key_config(&e, 0, td.tdcs[0]));         /* TDCS page */
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__tdr_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	unsigned f = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_MNG_KEY_CONFIG, -1, 1, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
			  key_config(&e, 0, td.tdr));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_int_equal(td_obj(&e, td.tdr)->pkg_config_bitmap, 0);
	assert_tdx_status(TDX_SUCCESS, key_config(&e, 0, td.tdr));
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__ket_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	unsigned f = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_MNG_KEY_CONFIG, -1, 2, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KET),
			  key_config(&e, 0, td.tdr));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_int_equal(td_obj(&e, td.tdr)->pkg_config_bitmap, 0);
	assert_false(sim_key_valid(e.s, td.hkid));
	/* The TDR lock was released: the retry succeeds. */
	assert_tdx_status(TDX_SUCCESS, key_config(&e, 0, td.tdr));
	tsim_env_fini(&e);
}

static void test_tdh_mng_key_config__key_generation_failed(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	unsigned f = tsim_fault(e.s, TDX_KEY_GENERATION_FAILED, TDH_MNG_KEY_CONFIG, -1, 1, 1);
	assert_tdx_status(TDX_KEY_GENERATION_FAILED, key_config(&e, 0, td.tdr));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_int_equal(td_obj(&e, td.tdr)->pkg_config_bitmap, 0);
	assert_false(sim_key_valid(e.s, td.hkid));
	assert_int_equal(lifecycle(&e, td.tdr), TD_HKID_ASSIGNED);
	assert_tdx_status(TDX_SUCCESS, key_config(&e, 0, td.tdr));
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_key_config__all_packages),
		cmocka_unit_test(test_tdh_mng_key_config__any_lp_of_package),
		cmocka_unit_test(test_tdh_mng_key_config__key_configured),
		cmocka_unit_test(test_tdh_mng_key_config__lifecycle_incorrect),
		cmocka_unit_test(test_tdh_mng_key_config__td_fatal),
		cmocka_unit_test(test_tdh_mng_key_config__tdr_invalid),
		cmocka_unit_test(test_tdh_mng_key_config__not_a_tdr),
		cmocka_unit_test(test_tdh_mng_key_config__tdr_busy),
		cmocka_unit_test(test_tdh_mng_key_config__ket_busy),
		cmocka_unit_test(test_tdh_mng_key_config__key_generation_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
