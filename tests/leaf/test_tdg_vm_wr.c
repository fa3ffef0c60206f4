/*
 * TDG.VM.WR (8): tdx-abi.md 1.2, 4.6; seam/tdcall/tdg_vm_wr.c. R8 = old
 * value on success, 0 on error; nothing changes on error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tdcall_fixtures.h"
#include "seam/metadata_td.h"

/* Linux 6.12's NOTIFY_ENABLES write: value 0, mask all ones. */
static void test_tdg_vm_wr__notify_enables(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	f.t->notify_enables = 1;
	tfx_expect(&f, TDX_SUCCESS, TDG_VM_WR, 0, MD_TD_NOTIFY_ENABLES, 0, ~0ULL);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 1);
	assert_int_equal(f.t->notify_enables, 0);
	tfx_assert_untouched(&f, GPR_RCX, GPR_RDX);
	tfx_assert_untouched(&f, GPR_R9, GPR_R15);
	tfx_fini(&f);
}

/* TD_CTLS.PENDING_VE_DISABLE with CONFIG_FLAGS.FLEXIBLE_PENDING_VE set. */
static void test_tdg_vm_wr__td_ctls(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	f.t->config_flags |= TDX_CONFIG_FLAGS_FLEXIBLE_PENDING_VE;
	tfx_expect(&f, TDX_SUCCESS, TDG_VM_WR, 0, MD_TD_TD_CTLS, 1, 1);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(f.t->td_ctls, 1);
	tfx_expect(&f, TDX_SUCCESS, TDG_VM_WR, 0, MD_TD_TD_CTLS, 0, 1);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 1);
	assert_int_equal(f.t->td_ctls, 0);
	tfx_fini(&f);
}

static void test_tdg_vm_wr__vm_index(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	f.t->notify_enables = 1;
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
		   TDG_VM_WR, 1, MD_TD_NOTIFY_ENABLES, 0, ~0ULL);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(f.t->notify_enables, 1);
	tfx_fini(&f);
}

static void test_tdg_vm_wr__field_id_incorrect(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_METADATA_FIELD_ID_INCORRECT, TDG_VM_WR, 0, 0x1110000300007777ULL, 5, ~0ULL);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	tfx_fini(&f);
}

static void test_tdg_vm_wr__not_writable(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	uint64_t xfam = f.t->xfam;
	tfx_expect(&f, TDX_METADATA_FIELD_NOT_WRITABLE, TDG_VM_WR, 0, MD_TD_XFAM, 0, ~0ULL);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(f.t->xfam, xfam);
	tfx_fini(&f);
}

/* A bit outside the field's guest write mask asked to change. */
static void test_tdg_vm_wr__value_not_valid(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	f.t->config_flags |= TDX_CONFIG_FLAGS_FLEXIBLE_PENDING_VE;
	tfx_expect(&f, TDX_METADATA_FIELD_VALUE_NOT_VALID, TDG_VM_WR, 0, MD_TD_TD_CTLS, 3, 3);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(f.t->td_ctls, 0);
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_vm_wr__notify_enables),
		cmocka_unit_test(test_tdg_vm_wr__td_ctls),
		cmocka_unit_test(test_tdg_vm_wr__vm_index),
		cmocka_unit_test(test_tdg_vm_wr__field_id_incorrect),
		cmocka_unit_test(test_tdg_vm_wr__not_writable),
		cmocka_unit_test(test_tdg_vm_wr__value_not_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
