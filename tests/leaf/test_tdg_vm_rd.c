/*
 * TDG.VM.RD (7): tdx-abi.md 1.2, 4.6; seam/tdcall/tdg_vm_rd.c. R8 = 0 on
 * error; version 1 also RDX = -1 on error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tdcall_fixtures.h"
#include "seam/metadata_td.h"

#define V1 (1ULL << 16)

static void test_tdg_vm_rd__success_v0(void **state)
{
	(void)state;
	struct tfx f;
	struct tfx_opts o = { .attrs = 1ULL << 28 };
	tfx_init_opts(&f, &o);
	tfx_expect(&f, TDX_SUCCESS, TDG_VM_RD, 0, MD_TD_ATTRIBUTES, 0, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 1ULL << 28);
	assert_int_equal(tfx_gpr(&f, GPR_RDX), MD_TD_ATTRIBUTES);     /* v0: RDX kept */
	tfx_expect(&f, TDX_SUCCESS, TDG_VM_RD, 0, MD_TD_CONFIG_FLAGS, 0, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), f.t->config_flags);
	tfx_expect(&f, TDX_SUCCESS, TDG_VM_RD, 0, MD_TD_MAX_VCPUS, 0, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 4);
	tfx_fini(&f);
}

static void test_tdg_vm_rd__success_v1_next(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_SUCCESS, TDG_VM_RD | V1, 0, MD_TD_XFAM, 0, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), f.t->xfam);
	uint64_t next = 0;
	uint64_t v;
	assert_tdx_status(TDX_SUCCESS, md_td_read(f.e.s, f.t, MD_TD_GUEST, MD_TD_XFAM, &v, &next));
	assert_int_equal(tfx_gpr(&f, GPR_RDX), next);
	assert_int_not_equal(next, MD_FIELD_ID_NULL);
	tfx_fini(&f);
}

static void test_tdg_vm_rd__first_field_id(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, TDG_VM_RD | V1, 0, MD_FIELD_ID_NULL, 0, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	uint64_t first = tfx_gpr(&f, GPR_RDX);
	assert_int_not_equal(first, MD_FIELD_ID_NULL);
	/* The first id is guest-readable. */
	tfx_expect(&f, TDX_SUCCESS, TDG_VM_RD | V1, 0, first, 0, 0);
	/* Version 0 has no "first field" form. */
	tfx_expect(&f, TDX_METADATA_FIELD_ID_INCORRECT, TDG_VM_RD, 0, MD_FIELD_ID_NULL, 0, 0);
	tfx_fini(&f);
}

static void test_tdg_vm_rd__version_2(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
		   TDG_VM_RD | (2ULL << 16), 0, MD_TD_ATTRIBUTES, 7, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(tfx_gpr(&f, GPR_RDX), MD_FIELD_ID_NULL);
	tfx_fini(&f);
}

static void test_tdg_vm_rd__vm_index(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
		   TDG_VM_RD | V1, 1, MD_TD_ATTRIBUTES, 7, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(tfx_gpr(&f, GPR_RDX), MD_FIELD_ID_NULL);
	tfx_fini(&f);
}

static void test_tdg_vm_rd__field_id_incorrect(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_METADATA_FIELD_ID_INCORRECT, TDG_VM_RD | V1, 0, 0x1110000300007777ULL, 7, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(tfx_gpr(&f, GPR_RDX), MD_FIELD_ID_NULL);
	tfx_fini(&f);
}

/* Host-only fields (HKID, EPTP) are not readable by the guest. */
static void test_tdg_vm_rd__not_readable(void **state)
{
	(void)state;
	struct tfx f;
	tfx_init(&f);
	tfx_expect(&f, TDX_METADATA_FIELD_NOT_READABLE, TDG_VM_RD, 0, MD_TD_HKID, 7, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	tfx_expect(&f, TDX_METADATA_FIELD_NOT_READABLE, TDG_VM_RD | V1, 0, MD_TD_EPTP, 7, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), 0);
	assert_int_equal(tfx_gpr(&f, GPR_RDX), MD_FIELD_ID_NULL);
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_vm_rd__success_v0),
		cmocka_unit_test(test_tdg_vm_rd__success_v1_next),
		cmocka_unit_test(test_tdg_vm_rd__first_field_id),
		cmocka_unit_test(test_tdg_vm_rd__version_2),
		cmocka_unit_test(test_tdg_vm_rd__vm_index),
		cmocka_unit_test(test_tdg_vm_rd__field_id_incorrect),
		cmocka_unit_test(test_tdg_vm_rd__not_readable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
