/*
 * TDH.VP.ADDCX (4): RCX = new TDCX page, RDX = TDVPR. No outputs.
 * Order: TDVPR (RDX) page checks; owner TDR, implicit (OPERAND_BUSY + TDR);
 * TD state (INITIALIZED only); vCPU initialised -> VCPU_STATE_INCORRECT;
 * 15 TDVPS pages already -> TDCX_NUM_INCORRECT; TDCX (RCX) page checks.
 * Success: PT_TDCX owned by the TDR, cleared through the TD KeyID (L2 MSR
 * bitmap slots set to all ones), TDR child count + 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vp_fixtures.h"

static void test_tdh_vp_addcx__tdvpr_operand_invalid(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0), cx = tsim_page(&t.e);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	assert_tdx_status(want, vp_addcx_raw(&t, 0, cx, tdvpr + 0x10));
	assert_tdx_status(want, vp_addcx_raw(&t, 0, cx, tsim_keyed_pa(&t.e, tdvpr, t.td.hkid)));
	expect_pamt(&t, cx, PT_NDA, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdvpr_outside_tdmr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX),
			  vp_addcx_raw(&t, 0, tsim_page(&t.e), tsim_pa_outside(&t.e)));
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdvpr_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0), cx = tsim_page(&t.e);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_ADDCX, -1, 1, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX),
			  vp_addcx_raw(&t, 0, cx, tdvpr));
	assert_tdx_status(TDX_SUCCESS, vp_addcx_raw(&t, 0, cx, tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdvpr_not_a_tdvpr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX);
	assert_tdx_status(want, vp_addcx_raw(&t, 0, tsim_page(&t.e), t.td.tdr));
	assert_tdx_status(want, vp_addcx_raw(&t, 0, tsim_page(&t.e), tsim_page(&t.e)));
	uint64_t tdvpr = vp_create(&t, 0), cx = tsim_page(&t.e);
	assert_tdx_status(TDX_SUCCESS, vp_addcx_raw(&t, 0, cx, tdvpr));
	assert_tdx_status(want, vp_addcx_raw(&t, 0, tsim_page(&t.e), cx));      /* a TDCX */
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdr_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	/* Second lock: the TDR reached through the TDVPR's owner. */
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_ADDCX, -1, 2, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TDR),
			  vp_addcx_raw(&t, 0, tsim_page(&t.e), tdvpr));
	assert_int_equal(vcpu_of(&t, tdvpr)->num_tdcx, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__td_fatal(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	atomic_store(&td_of(&t)->fatal, 1);
	assert_tdx_status(TDX_TD_FATAL, vp_addcx_raw(&t, 0, tsim_page(&t.e), tdvpr));
	atomic_store(&td_of(&t)->fatal, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__keys_not_configured(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	vpt_block(&t);                          /* VPFLUSHDONE: lifecycle BLOCKED */
	assert_tdx_status(TDX_TD_KEYS_NOT_CONFIGURED, vp_addcx_raw(&t, 0, tsim_page(&t.e), tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__op_state_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_ADDCX, -1, 3, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE),
			  vp_addcx_raw(&t, 0, tsim_page(&t.e), tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__op_state_incorrect(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t spare = vp_create(&t, 0);      /* created before the TD is finalised */
	vp_ready(&t, 0, 0);
	vpt_finalize(&t);
	uint64_t cx = tsim_page(&t.e);
	assert_tdx_status(TDX_OP_STATE_INCORRECT, vp_addcx_raw(&t, 0, cx, spare));
	expect_pamt(&t, cx, PT_NDA, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__vcpu_initialized(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	uint64_t cx = tsim_page(&t.e);
	assert_tdx_status(TDX_VCPU_STATE_INCORRECT, vp_addcx_raw(&t, 0, cx, tdvpr));
	expect_pamt(&t, cx, PT_NDA, 0);
	/* Checked before the TDCX operand. */
	assert_tdx_status(TDX_VCPU_STATE_INCORRECT, vp_addcx_raw(&t, 0, cx | 1, tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdcx_full(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	/* The TDVPS holds up to 15 pages (room for 3 L2 VMs): 14 TDCX. */
	vp_addcx(&t, 0, tdvpr, TD_TDVPS_MAX_PAGES - 1);
	uint64_t cx = tsim_page(&t.e);
	assert_tdx_status(TDX_TDCX_NUM_INCORRECT, vp_addcx_raw(&t, 0, cx, tdvpr));
	expect_pamt(&t, cx, PT_NDA, 0);
	assert_tdx_status(TDX_TDCX_NUM_INCORRECT, vp_addcx_raw(&t, 0, 7, tdvpr));    /* before RCX */
	assert_int_equal(vcpu_of(&t, tdvpr)->num_tdcx, TD_TDVPS_MAX_PAGES - 1);
	/* Extra pages do not get in VP.INIT's way. */
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 0, tdvpr, 0, 0));
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_NUM_TDVPS_PAGES), TD_TDVPS_MAX_PAGES);
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdcx_operand_invalid(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0), cx = tsim_page(&t.e);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	assert_tdx_status(want, vp_addcx_raw(&t, 0, cx + 0x40, tdvpr));
	assert_tdx_status(want, vp_addcx_raw(&t, 0, tsim_keyed_pa(&t.e, cx, 1), tdvpr));
	assert_int_equal(vcpu_of(&t, tdvpr)->num_tdcx, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdcx_outside_tdmr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX),
			  vp_addcx_raw(&t, 0, tsim_pa_outside(&t.e), tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdcx_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0), cx = tsim_page(&t.e);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_ADDCX, -1, 4, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
			  vp_addcx_raw(&t, 0, cx, tdvpr));
	expect_pamt(&t, cx, PT_NDA, 0);
	assert_tdx_status(TDX_SUCCESS, vp_addcx_raw(&t, 0, cx, tdvpr));
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__tdcx_not_free(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0), other = vp_create(&t, 0), cx = tsim_page(&t.e);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	assert_tdx_status(TDX_SUCCESS, vp_addcx_raw(&t, 0, cx, tdvpr));
	assert_tdx_status(want, vp_addcx_raw(&t, 0, cx, tdvpr));               /* already a TDCX */
	assert_tdx_status(want, vp_addcx_raw(&t, 0, other, tdvpr));            /* a TDVPR */
	assert_tdx_status(want, vp_addcx_raw(&t, 0, t.td.tdcs[1], tdvpr));     /* a TDCS page */
	/* The TDVPR itself is held exclusive as RDX. */
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
			  vp_addcx_raw(&t, 0, tdvpr, tdvpr));
	assert_int_equal(vcpu_of(&t, tdvpr)->num_tdcx, 1);
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__success(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0), cx = tsim_page(&t.e);
	uint8_t junk[TDX_PAGE_SIZE], buf[TDX_PAGE_SIZE], zero[TDX_PAGE_SIZE] = { 0 };
	memset(junk, 0x3C, sizeof(junk));
	assert_int_equal(tdxsim_mem_write(t.s, cx, 0, junk, sizeof(junk)), TDXSIM_OK);
	uint64_t chld = atomic_load(&td_of(&t)->chldcnt);

	struct tdx_module_args a = { .rcx = cx, .rdx = tdvpr, .r8 = SENT };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(t.s, 1, TDH_VP_ADDCX, &a));
	assert_int_equal(a.rcx, cx);
	assert_int_equal(a.rdx, tdvpr);
	assert_int_equal(a.r8, SENT);
	expect_pamt(&t, cx, PT_TDCX, t.td.tdr);
	priv_read(&t, cx, buf);
	assert_memory_equal(buf, zero, sizeof(buf));
	struct seam_vcpu *v = vcpu_of(&t, tdvpr);
	assert_int_equal(v->num_tdcx, 1);
	assert_int_equal(v->tdcx_pa[0], cx);
	assert_int_equal(atomic_load(&v->state), VCPU_UNINITIALIZED);
	assert_int_equal(atomic_load(&td_of(&t)->chldcnt), chld + 1);

	/* The rest of the TDVPS, then VP.INIT: the TDVPS page list. */
	vp_addcx(&t, 0, tdvpr, TDCX_PER_VCPU - 1);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 0, tdvpr, 0, 0));
	uint64_t shift = (uint64_t)t.td.hkid << t.e.keyid_shift;
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_TDVPS_PAGE_PA(0)), tdvpr | shift);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_TDVPS_PAGE_PA(1)), cx | shift);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_TDVPS_PAGE_PA(6)), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_addcx__l2_msr_bitmap_pages(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	vp_addcx(&t, 0, tdvpr, TD_TDVPS_MAX_PAGES - 1);
	struct seam_vcpu *v = vcpu_of(&t, tdvpr);
	uint8_t buf[TDX_PAGE_SIZE], ones[TDX_PAGE_SIZE], zero[TDX_PAGE_SIZE] = { 0 };
	memset(ones, 0xFF, sizeof(ones));
	/* TDVPS page i is tdcx_pa[i - 1]: MSR bitmap / MSR request pages of the
	 * three L2 VMs are 7, 8, 10, 11, 13, 14; the others are cleared. */
	for (unsigned i = 1; i < TD_TDVPS_MAX_PAGES; i++) {
		bool l2_bitmap = i == 7 || i == 8 || i == 10 || i == 11 || i == 13 || i == 14;
		priv_read(&t, v->tdcx_pa[i - 1], buf);
		assert_memory_equal(buf, l2_bitmap ? ones : zero, sizeof(buf));
	}
	vpt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_vp_addcx__tdvpr_operand_invalid),
		cmocka_unit_test(test_tdh_vp_addcx__tdvpr_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_addcx__tdvpr_busy),
		cmocka_unit_test(test_tdh_vp_addcx__tdvpr_not_a_tdvpr),
		cmocka_unit_test(test_tdh_vp_addcx__tdr_busy),
		cmocka_unit_test(test_tdh_vp_addcx__td_fatal),
		cmocka_unit_test(test_tdh_vp_addcx__keys_not_configured),
		cmocka_unit_test(test_tdh_vp_addcx__op_state_busy),
		cmocka_unit_test(test_tdh_vp_addcx__op_state_incorrect),
		cmocka_unit_test(test_tdh_vp_addcx__vcpu_initialized),
		cmocka_unit_test(test_tdh_vp_addcx__tdcx_full),
		cmocka_unit_test(test_tdh_vp_addcx__tdcx_operand_invalid),
		cmocka_unit_test(test_tdh_vp_addcx__tdcx_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_addcx__tdcx_busy),
		cmocka_unit_test(test_tdh_vp_addcx__tdcx_not_free),
		cmocka_unit_test(test_tdh_vp_addcx__success),
		cmocka_unit_test(test_tdh_vp_addcx__l2_msr_bitmap_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
