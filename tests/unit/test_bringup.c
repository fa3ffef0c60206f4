/* The whole Linux bring-up order (tdx-abi.md 6.1) on a 2-package machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

static void test_bringup__linux_order_two_packages(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	assert_int_equal(info.packages, 2);
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	assert_int_equal(tdxsim_global_keyid(s), info.first_tdx_keyid);
	/* PAMT pages of TDMR 0 are reserved in the TDMR that holds them. */
	unsigned type, size;
	uint64_t owner;
	assert_int_equal(tdxsim_pamt_lookup(s, t.pamt_pa[0], &type, &owner, &size), TDXSIM_OK);
	assert_int_equal(type, PT_RSVD);
	assert_int_equal(tdxsim_pamt_lookup(s, 0x100000, &type, &owner, &size), TDXSIM_OK);
	assert_int_equal(type, PT_NDA);
	assert_int_equal(owner, 0);
	assert_int_equal(size, TDX_PS_4K);
	/* The module wrote PAMT through the global KeyID: the host reads zeros. */
	uint8_t buf[64];
	assert_int_equal(tdxsim_mem_read(s, t.pamt_pa[0], 0, buf, sizeof(buf)), TDXSIM_OK);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	tdxsim_stats st = { .size = sizeof(st) };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_OK);
	assert_int_equal(st.per_leaf[TDH_SYS_INIT], 1);
	assert_int_equal(st.per_leaf[TDH_SYS_LP_INIT], info.n_lps);
	assert_int_equal(st.per_leaf[TDH_SYS_CONFIG], 1);
	assert_int_equal(st.per_leaf[TDH_SYS_KEY_CONFIG], 2);
	/* 2 TDMRs of 2 GiB: 512 TDMR.INIT calls each (4 MiB per call). */
	assert_int_equal(st.per_leaf[TDH_SYS_TDMR_INIT], 1024);
	assert_int_equal(st.seamcalls_failed, 0);
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bringup__linux_order_two_packages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
