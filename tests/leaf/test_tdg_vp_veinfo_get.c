/*
 * TDG.VP.VEINFO.GET (3): tdx-abi.md 1.2; seam/tdcall/tdg_vp_veinfo_get.c.
 * RCX, RDX, R8, R9, R10 are zeroed on error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tdcall_fixtures.h"

static void assert_outputs_zero(struct tfx *f)
{
	assert_int_equal(tfx_gpr(f, GPR_RCX), 0);
	assert_int_equal(tfx_gpr(f, GPR_RDX), 0);
	assert_int_equal(tfx_gpr(f, GPR_R8), 0);
	assert_int_equal(tfx_gpr(f, GPR_R9), 0);
	assert_int_equal(tfx_gpr(f, GPR_R10), 0);
}

static void test_tdg_vp_veinfo_get__no_valid_ve_info(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_NO_VALID_VE_INFO, TDG_VP_VEINFO_GET, 1, 2, 3, 4);
	assert_outputs_zero(&f);
	tfx_assert_untouched(&f, GPR_R11, GPR_R15);
	tfx_fini(&f);
}

static void test_tdg_vp_veinfo_get__success_releases(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	f.v[0]->ve = (struct seam_ve_info){
		.exit_reason = 48, .ve_category = 7, .exit_qual = 0x181, .gla = 0x7FFF1234,
		.gpa = 0x801000, .instr_len = 3, .instr_info = 0x55,
	};
	f.v[0]->ve_valid = true;
	tfx_expect(&f, TDX_SUCCESS, TDG_VP_VEINFO_GET, 0, 0, 0, 0);
	assert_int_equal(tfx_gpr(&f, GPR_RCX), 48);     /* no category in version 0 */
	assert_int_equal(tfx_gpr(&f, GPR_RDX), 0x181);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0x7FFF1234);
	assert_int_equal(tfx_gpr(&f, GPR_R9), 0x801000);
	assert_int_equal(tfx_gpr(&f, GPR_R10), 3 | (0x55ULL << 32));
	tfx_assert_untouched(&f, GPR_R11, GPR_R15);
	assert_false(f.v[0]->ve_valid);
	/* Released: a second read finds nothing. */
	tfx_expect(&f, TDX_NO_VALID_VE_INFO, TDG_VP_VEINFO_GET, 0, 0, 0, 0);
	assert_outputs_zero(&f);
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_vp_veinfo_get__no_valid_ve_info),
		cmocka_unit_test(test_tdg_vp_veinfo_get__success_releases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
