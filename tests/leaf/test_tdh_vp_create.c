/*
 * TDH.VP.CREATE (10): RCX = new TDVPR page, RDX = TDR. No outputs.
 * Order: TDR (RDX) page checks; TD state (TD_FATAL, KEYS, TDCS, op-state
 * lock, OP_STATE INITIALIZED only); TDVPR (RCX) page checks, must be NDA.
 * Success: PT_TDVPR owned by the TDR, zeroed through the TD KeyID, vCPU
 * UNINITIALIZED and unbound, TDR child count + 1; NUM_VCPUS and MAX_VCPUS
 * are VP.INIT's business.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vp_fixtures.h"

/* A 4 KiB-aligned PA past every TDMR. */
static void test_tdh_vp_create__tdr_operand_invalid(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = tsim_page(&t.e);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	assert_tdx_status(want, vp_create_raw(&t, 0, tdvpr, t.td.tdr + 0x800));
	assert_tdx_status(want, vp_create_raw(&t, 0, tdvpr, tsim_keyed_pa(&t.e, t.td.tdr, t.td.hkid)));
	assert_tdx_status(want, vp_create_raw(&t, 0, tdvpr, 1ULL << 52));
	expect_pamt(&t, tdvpr, PT_NDA, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_create__tdr_outside_tdmr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX),
			  vp_create_raw(&t, 0, tsim_page(&t.e), tsim_pa_outside(&t.e)));
	vpt_fini(&t);
}

static void test_tdh_vp_create__tdr_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	unsigned f = tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_CREATE, -1, 1, 1);
	uint64_t tdvpr = tsim_page(&t.e);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX),
			  vp_create_raw(&t, 0, tdvpr, t.td.tdr));
	assert_int_equal(tsim_fault_fired(t.s, f), 1);
	expect_pamt(&t, tdvpr, PT_NDA, 0);
	/* Nothing stayed locked: the retry succeeds. */
	assert_tdx_status(TDX_SUCCESS, vp_create_raw(&t, 0, tdvpr, t.td.tdr));
	vpt_fini(&t);
}

static void test_tdh_vp_create__tdr_not_a_tdr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX);
	assert_tdx_status(want, vp_create_raw(&t, 0, tsim_page(&t.e), t.td.tdcs[0]));
	assert_tdx_status(want, vp_create_raw(&t, 0, tsim_page(&t.e), tsim_page(&t.e)));
	vpt_fini(&t);
}

static void test_tdh_vp_create__td_fatal(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	atomic_store(&td_of(&t)->fatal, 1);
	uint64_t tdvpr = tsim_page(&t.e);
	assert_tdx_status(TDX_TD_FATAL, vp_create_raw(&t, 0, tdvpr, t.td.tdr));
	expect_pamt(&t, tdvpr, PT_NDA, 0);
	atomic_store(&td_of(&t)->fatal, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_create__keys_not_configured(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdr = tdr_unconfigured(&t);
	assert_tdx_status(TDX_TD_KEYS_NOT_CONFIGURED, vp_create_raw(&t, 0, tsim_page(&t.e), tdr));
	vpt_fini(&t);
}

static void test_tdh_vp_create__tdcs_not_allocated(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	struct tsim_td td2;
	tsim_td_create(&t.e, &td2);             /* keys configured, no TDCS pages */
	assert_tdx_status(TDX_TDCS_NOT_ALLOCATED, vp_create_raw(&t, 0, tsim_page(&t.e), td2.tdr));
	vpt_fini(&t);
}

static void test_tdh_vp_create__op_state_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	/* Second lock the leaf takes: the op-state lock. */
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_CREATE, -1, 2, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE),
			  vp_create_raw(&t, 0, tsim_page(&t.e), t.td.tdr));
	vpt_fini(&t);
}

static void test_tdh_vp_create__op_state_incorrect(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	/* UNINITIALIZED: TDCS added, MNG.INIT not done. */
	struct tsim_td td2;
	tsim_td_create(&t.e, &td2);
	tsim_td_addcx(&td2);
	assert_tdx_status(TDX_OP_STATE_INCORRECT, vp_create_raw(&t, 0, tsim_page(&t.e), td2.tdr));
	/* RUNNABLE: after MR.FINALIZE. */
	vp_ready(&t, 0, 0);
	vpt_finalize(&t);
	uint64_t tdvpr = tsim_page(&t.e);
	assert_tdx_status(TDX_OP_STATE_INCORRECT, vp_create_raw(&t, 0, tdvpr, t.td.tdr));
	expect_pamt(&t, tdvpr, PT_NDA, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_create__tdvpr_operand_invalid(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t pa = tsim_page(&t.e);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	assert_tdx_status(want, vp_create_raw(&t, 0, pa + 8, t.td.tdr));
	assert_tdx_status(want, vp_create_raw(&t, 0, tsim_keyed_pa(&t.e, pa, t.td.hkid), t.td.tdr));
	expect_pamt(&t, pa, PT_NDA, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_create__tdvpr_outside_tdmr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX),
			  vp_create_raw(&t, 0, tsim_pa_outside(&t.e), t.td.tdr));
	vpt_fini(&t);
}

static void test_tdh_vp_create__tdvpr_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	/* Third lock: the TDVPR page. */
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_CREATE, -1, 3, 1);
	uint64_t tdvpr = tsim_page(&t.e);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
			  vp_create_raw(&t, 0, tdvpr, t.td.tdr));
	expect_pamt(&t, tdvpr, PT_NDA, 0);
	assert_tdx_status(TDX_SUCCESS, vp_create_raw(&t, 0, tdvpr, t.td.tdr));
	vpt_fini(&t);
}

static void test_tdh_vp_create__tdvpr_not_free(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	uint64_t tdvpr = vp_create(&t, 0);
	assert_tdx_status(want, vp_create_raw(&t, 0, tdvpr, t.td.tdr));         /* a TDVPR */
	/* The TDR itself is held shared as RDX: the exclusive try fails first. */
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
			  vp_create_raw(&t, 0, t.td.tdr, t.td.tdr));
	assert_tdx_status(want, vp_create_raw(&t, 0, t.td.tdcs[2], t.td.tdr));  /* a TDCS page */
	expect_pamt(&t, tdvpr, PT_TDVPR, t.td.tdr);
	vpt_fini(&t);
}

static void test_tdh_vp_create__check_order(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	/* TDR before TDVPR; TD state before TDVPR. */
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX),
			  vp_create_raw(&t, 0, 1, 3));
	struct tsim_td td2;
	tsim_td_create(&t.e, &td2);
	tsim_td_addcx(&td2);
	assert_tdx_status(TDX_OP_STATE_INCORRECT, vp_create_raw(&t, 0, 1, td2.tdr));
	vpt_fini(&t);
}

static void test_tdh_vp_create__success(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = tsim_page(&t.e);
	uint8_t junk[TDX_PAGE_SIZE], buf[TDX_PAGE_SIZE], zero[TDX_PAGE_SIZE] = { 0 };
	memset(junk, 0xA5, sizeof(junk));
	assert_int_equal(tdxsim_mem_write(t.s, tdvpr, 0, junk, sizeof(junk)), TDXSIM_OK);
	uint64_t chld = atomic_load(&td_of(&t)->chldcnt);

	struct tdx_module_args a = { .rcx = tdvpr, .rdx = t.td.tdr, .r8 = SENT, .r9 = SENT };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(t.s, 1, TDH_VP_CREATE, &a));
	assert_int_equal(a.rcx, tdvpr);         /* no outputs */
	assert_int_equal(a.rdx, t.td.tdr);
	assert_int_equal(a.r8, SENT);
	assert_int_equal(a.r9, SENT);

	expect_pamt(&t, tdvpr, PT_TDVPR, t.td.tdr);
	priv_read(&t, tdvpr, buf);
	assert_memory_equal(buf, zero, sizeof(buf));
	struct seam_vcpu *v = vcpu_of(&t, tdvpr);
	assert_ptr_equal(v->td, td_of(&t));
	assert_int_equal(atomic_load(&v->state), VCPU_UNINITIALIZED);
	assert_int_equal(atomic_load(&v->assoc_lp), -1);
	assert_int_equal(v->num_tdcx, 0);
	assert_int_equal(atomic_load(&td_of(&t)->chldcnt), chld + 1);
	assert_int_equal(atomic_load(&td_of(&t)->num_vcpus), 0);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_create__beyond_max_vcpus(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 1);
	/* MAX_VCPUS limits VP.INIT, not VP.CREATE. */
	uint64_t a = vp_create(&t, 0), b = vp_create(&t, 0), c = vp_create(&t, 0);
	expect_pamt(&t, a, PT_TDVPR, t.td.tdr);
	expect_pamt(&t, b, PT_TDVPR, t.td.tdr);
	expect_pamt(&t, c, PT_TDVPR, t.td.tdr);
	vpt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_vp_create__tdr_operand_invalid),
		cmocka_unit_test(test_tdh_vp_create__tdr_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_create__tdr_busy),
		cmocka_unit_test(test_tdh_vp_create__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_vp_create__td_fatal),
		cmocka_unit_test(test_tdh_vp_create__keys_not_configured),
		cmocka_unit_test(test_tdh_vp_create__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_vp_create__op_state_busy),
		cmocka_unit_test(test_tdh_vp_create__op_state_incorrect),
		cmocka_unit_test(test_tdh_vp_create__tdvpr_operand_invalid),
		cmocka_unit_test(test_tdh_vp_create__tdvpr_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_create__tdvpr_busy),
		cmocka_unit_test(test_tdh_vp_create__tdvpr_not_free),
		cmocka_unit_test(test_tdh_vp_create__check_order),
		cmocka_unit_test(test_tdh_vp_create__success),
		cmocka_unit_test(test_tdh_vp_create__beyond_max_vcpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
