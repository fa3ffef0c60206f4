/*
 * The TDCALL dispatcher (seam/tdcall.c): 64-bit mode, RAX reserved bits,
 * versions, unknown and unmodelled leaves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../leaf/tdcall_fixtures.h"

static void test_tdcall__not_64bit_injects_gp(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	f.v[0]->g.efer = 0x100;         /* LME without LMA: not in long mode */
	assert_int_equal(tfx_call(&f, TDG_VP_INFO, 0, 0, 0, 0), SEAM_TDCALL_INJECT_GP);
	assert_int_equal(tfx_gpr(&f, GPR_RAX), TDG_VP_INFO);
	assert_int_equal(tfx_gpr(&f, GPR_RCX), 0);
	tfx_fini(&f);
}

static void test_tdcall__rax_reserved_bits(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
		   TDG_VP_INFO | (1ULL << 24), 0, 0, 0, 0);
	tfx_assert_untouched(&f, GPR_RBX, GPR_R15);
	tfx_fini(&f);
}

static void test_tdcall__version_on_other_leaf(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
		   TDG_VP_INFO | (1ULL << 16), 0, 0, 0, 0);
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
		   TDG_VM_WR | (1ULL << 16), 0, 0, 0, 0);
	tfx_fini(&f);
}

static void test_tdcall__unknown_and_unmodelled_leaves(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	static const uint64_t leaves[] = { 13, 28, 0xFFFF, TDG_VP_RD, TDG_SERVTD_RD, TDG_VP_VMCALL };
	for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
			   leaves[i], 0, 0, 0, 0);
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdcall__not_64bit_injects_gp),
		cmocka_unit_test(test_tdcall__rax_reserved_bits),
		cmocka_unit_test(test_tdcall__version_on_other_leaf),
		cmocka_unit_test(test_tdcall__unknown_and_unmodelled_leaves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
