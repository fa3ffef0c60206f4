/*
 * TDG.VP.INFO (1): tdx-abi.md 1.2; seam/tdcall/tdg_vp_info.c. Never fails:
 * the tests check every output register.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tdcall_fixtures.h"

static void test_tdg_vp_info__outputs(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_SUCCESS, TDG_VP_INFO, 0, 0, 0, 0);
	assert_int_equal(tfx_gpr(&f, GPR_RCX), 48);
	assert_int_equal(tfx_gpr(&f, GPR_RDX), 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 1 | (4ULL << 32));
	assert_int_equal(tfx_gpr(&f, GPR_R9), 0);
	assert_int_equal(tfx_gpr(&f, GPR_R10), 1);
	assert_int_equal(tfx_gpr(&f, GPR_R11), 0);
	tfx_assert_untouched(&f, GPR_RBX, GPR_RDI);
	tfx_assert_untouched(&f, GPR_R12, GPR_R15);
	tfx_fini(&f);
}

/* ATTRIBUTES as MNG.INIT set them (SEPT_VE_DISABLE, bit 28); the vCPU
 * index of the calling vCPU and the count of initialised vCPUs. */
static void test_tdg_vp_info__attributes_and_vcpus(void **state)
{
	(void)state;
	struct tfx f;
	struct tfx_opts o = { .attrs = 1ULL << 28, .n_vcpus = 3 };
	tfx_init_opts(&f, &o);
	assert_int_equal(tfx_call_on(&f, 2, TDG_VP_INFO, 0, 0, 0, 0), SEAM_TDCALL_RESUME);
	uint64_t *g = f.v[2]->g.gpr;
	assert_tdx_status(TDX_SUCCESS, g[GPR_RAX]);
	assert_int_equal(g[GPR_RDX], 1ULL << 28);
	assert_int_equal(g[GPR_R8], 3 | (4ULL << 32));
	assert_int_equal(g[GPR_R9], 2);
	assert_int_equal(g[GPR_R10], 1);
	assert_int_equal(g[GPR_R11], 0);
	tfx_fini(&f);
}

/* A TD with a 52-bit GPA width reports 52 (GPAW forced in the TD, as a
 * 5-level-EPT TD would have it). */
static void test_tdg_vp_info__gpaw_52(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	f.t->gpaw = true;
	tfx_expect(&f, TDX_SUCCESS, TDG_VP_INFO, 0, 0, 0, 0);
	assert_int_equal(tfx_gpr(&f, GPR_RCX), 52);
	f.t->gpaw = false;
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_vp_info__outputs),
		cmocka_unit_test(test_tdg_vp_info__attributes_and_vcpus),
		cmocka_unit_test(test_tdg_vp_info__gpaw_52),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
