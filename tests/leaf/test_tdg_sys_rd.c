/*
 * TDG.SYS.RD (11): tdx-abi.md 1.2, 4.5; seam/tdcall/tdg_sys_rd.c. The guest
 * reads what TDH.SYS.RD reads (tdxsim's guest-readable set is the host's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tdcall_fixtures.h"

static void test_tdg_sys_rd__matches_host(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, TDG_SYS_RD, 0, MD_FIELD_ID_NULL, 0, 0);
	uint64_t id = tfx_gpr(&f, GPR_RDX);
	assert_int_not_equal(id, MD_FIELD_ID_NULL);
	/* Walk the first fields, comparing with TDH.SYS.RD. */
	for (int i = 0; i < 8 && id != MD_FIELD_ID_NULL; i++) {
		struct tdx_module_args a = { .rdx = id };
		assert_tdx_status(TDX_SUCCESS, seamcall_raw(f.e.s, 0, TDH_SYS_RD, &a));
		tfx_expect(&f, TDX_SUCCESS, TDG_SYS_RD, 0, id, 0, 0);
		assert_int_equal(tfx_gpr(&f, GPR_R8), a.r8);
		assert_int_equal(tfx_gpr(&f, GPR_RDX), a.rdx);
		id = a.rdx;
	}
	tfx_fini(&f);
}

static void test_tdg_sys_rd__field_id_incorrect(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_METADATA_FIELD_ID_INCORRECT, TDG_SYS_RD, 0, 0x0A00000300007777ULL, 5, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(tfx_gpr(&f, GPR_RDX), MD_FIELD_ID_NULL);
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_sys_rd__matches_host),
		cmocka_unit_test(test_tdg_sys_rd__field_id_incorrect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
