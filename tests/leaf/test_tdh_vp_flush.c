/*
 * TDH.VP.FLUSH (18): RCX = TDVPR, on the vCPU's LP. No outputs.
 * Order: TDVPR (RCX) page checks; owner TDR, implicit (OPERAND_BUSY + TDR);
 * lifecycle not KEYS_CONFIGURED -> TD_KEYS_NOT_CONFIGURED; TDVPS incomplete
 * -> TDCX_NUM_INCORRECT; not bound to this LP -> VCPU_NOT_ASSOCIATED.
 * No op-state lock or OP_STATE check (any state), no TD_FATAL check.
 * Success: vCPU unbound, TD associated-vCPU count - 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vp_fixtures.h"

static void test_tdh_vp_flush__tdvpr_operand_invalid(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	assert_tdx_status(want, vp_flush_raw(&t, 0, tdvpr | 0x8));
	assert_tdx_status(want, vp_flush_raw(&t, 0, tsim_keyed_pa(&t.e, tdvpr, t.td.hkid)));
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_flush__tdvpr_outside_tdmr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX),
			  vp_flush_raw(&t, 0, tsim_pa_outside(&t.e)));
	vpt_fini(&t);
}

static void test_tdh_vp_flush__tdvpr_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_FLUSH, -1, 1, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), vp_flush_raw(&t, 0, tdvpr));
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), 0);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_flush__tdvpr_not_a_tdvpr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	assert_tdx_status(want, vp_flush_raw(&t, 0, t.td.tdr));
	assert_tdx_status(want, vp_flush_raw(&t, 0, tsim_page(&t.e)));
	vpt_fini(&t);
}

static void test_tdh_vp_flush__tdr_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_FLUSH, -1, 2, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TDR), vp_flush_raw(&t, 0, tdvpr));
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 1);
	vpt_fini(&t);
}

static void test_tdh_vp_flush__keys_not_configured(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	uint64_t partial = vp_create(&t, 0);    /* no TDCX pages */
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	vpt_block(&t);                          /* lifecycle BLOCKED */
	assert_tdx_status(TDX_TD_KEYS_NOT_CONFIGURED, vp_flush_raw(&t, 0, tdvpr));
	/* Checked before the TDVPS. */
	assert_tdx_status(TDX_TD_KEYS_NOT_CONFIGURED, vp_flush_raw(&t, 0, partial));
	vpt_fini(&t);
}

static void test_tdh_vp_flush__tdcx_missing(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	assert_tdx_status(TDX_TDCX_NUM_INCORRECT, vp_flush_raw(&t, 0, tdvpr));
	vp_addcx(&t, 0, tdvpr, TDCX_PER_VCPU - 1);
	assert_tdx_status(TDX_TDCX_NUM_INCORRECT, vp_flush_raw(&t, 0, tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_flush__not_associated(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	/* Bound to LP 1: LP 0 may not flush it. */
	uint64_t tdvpr = vp_ready(&t, 1, 0);
	assert_tdx_status(TDX_VCPU_NOT_ASSOCIATED, vp_flush_raw(&t, 0, tdvpr));
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), 1);
	/* Never bound (not initialised). */
	uint64_t uninit = vp_build(&t, 0);
	assert_tdx_status(TDX_VCPU_NOT_ASSOCIATED, vp_flush_raw(&t, 0, uninit));
	/* Already flushed. */
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 1, tdvpr));
	assert_tdx_status(TDX_VCPU_NOT_ASSOCIATED, vp_flush_raw(&t, 1, tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_flush__success(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t a = vp_ready(&t, 1, 0), b = vp_ready(&t, 2, 1);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 2);
	struct tdx_module_args r = { .rcx = a, .rdx = SENT, .r8 = SENT };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(t.s, 1, TDH_VP_FLUSH, &r));
	assert_int_equal(r.rcx, a);             /* no outputs */
	assert_int_equal(r.rdx, SENT);
	assert_int_equal(r.r8, SENT);
	assert_int_equal(atomic_load(&vcpu_of(&t, a)->assoc_lp), -1);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 1);
	assert_int_equal(atomic_load(&vcpu_of(&t, a)->state), VCPU_READY);
	/* Now any LP may bind it again (VP.RD associates). */
	assert_int_equal(vp_rd(&t, 3, a, MD_VP_ASSOC_LPID), 3);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 2);
	/* VPFLUSHDONE needs every vCPU flushed. */
	struct tdx_module_args d = { .rcx = t.td.tdr };
	assert_tdx_status(TDX_FLUSHVP_NOT_DONE, seamcall_raw(t.s, 0, TDH_MNG_VPFLUSHDONE, &d));
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 3, a));
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 2, b));
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 0);
	vpt_block(&t);
	vpt_fini(&t);
}

static void test_tdh_vp_flush__any_op_state(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t a = vp_ready(&t, 0, 0);
	/* INITIALIZED */
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, a));
	/* RUNNABLE (the op-state lock is not taken: a planned busy fault on
	 * the third lock never fires). */
	assert_int_equal(vp_rd(&t, 0, a, MD_VP_ASSOC_LPID), 0);
	vpt_finalize(&t);
	unsigned f = tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_FLUSH, -1, 3, 1);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, a));
	assert_int_equal(tsim_fault_fired(t.s, f), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_flush__td_fatal(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t a = vp_ready(&t, 0, 0);
	/* A fatal TD can still be torn down. */
	atomic_store(&td_of(&t)->fatal, 1);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, a));
	atomic_store(&td_of(&t)->fatal, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_flush__disabled_vcpu(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t a = vp_ready(&t, 0, 0);
	atomic_store(&vcpu_of(&t, a)->state, VCPU_DISABLED);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, a));
	assert_int_equal(atomic_load(&vcpu_of(&t, a)->assoc_lp), -1);
	vpt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_vp_flush__tdvpr_operand_invalid),
		cmocka_unit_test(test_tdh_vp_flush__tdvpr_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_flush__tdvpr_busy),
		cmocka_unit_test(test_tdh_vp_flush__tdvpr_not_a_tdvpr),
		cmocka_unit_test(test_tdh_vp_flush__tdr_busy),
		cmocka_unit_test(test_tdh_vp_flush__keys_not_configured),
		cmocka_unit_test(test_tdh_vp_flush__tdcx_missing),
		cmocka_unit_test(test_tdh_vp_flush__not_associated),
		cmocka_unit_test(test_tdh_vp_flush__success),
		cmocka_unit_test(test_tdh_vp_flush__any_op_state),
		cmocka_unit_test(test_tdh_vp_flush__td_fatal),
		cmocka_unit_test(test_tdh_vp_flush__disabled_vcpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
