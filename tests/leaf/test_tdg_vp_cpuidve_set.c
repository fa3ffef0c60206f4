/*
 * TDG.VP.CPUIDVE.SET (5): tdx-abi.md 1.2; seam/tdcall/tdg_vp_cpuidve_set.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tdcall_fixtures.h"

static void test_tdg_vp_cpuidve_set__success(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	static const uint64_t flags[] = { 3, 1, 2, 0 };
	for (unsigned i = 0; i < 4; i++) {
		tfx_expect(&f, TDX_SUCCESS, TDG_VP_CPUIDVE_SET, flags[i], 0, 0, 0);
		assert_int_equal(f.v[0]->cpuid_ve, flags[i]);
		tfx_assert_untouched(&f, GPR_RDX, GPR_R15);
		assert_int_equal(tfx_gpr(&f, GPR_RCX), flags[i]);
	}
	tfx_fini(&f);
}

static void test_tdg_vp_cpuidve_set__reserved_bits(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_SUCCESS, TDG_VP_CPUIDVE_SET, 1, 0, 0, 0);
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
		   TDG_VP_CPUIDVE_SET, 4 | 2, 0, 0, 0);
	assert_int_equal(f.v[0]->cpuid_ve, 1);
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
		   TDG_VP_CPUIDVE_SET, 1ULL << 63, 0, 0, 0);
	assert_int_equal(f.v[0]->cpuid_ve, 1);
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_vp_cpuidve_set__success),
		cmocka_unit_test(test_tdg_vp_cpuidve_set__reserved_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
