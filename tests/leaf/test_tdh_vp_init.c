/*
 * TDH.VP.INIT (22): RCX = TDVPR, RDX = initial guest RCX; version 1:
 * R8 = x2APIC id. No outputs.
 * Order: TDVPR (RCX) page checks; owner TDR, implicit (shared for version
 * 0, exclusive for version 1; OPERAND_BUSY + TDR); TD state (INITIALIZED
 * only); TDVPS incomplete -> TDCX_NUM_INCORRECT; repeat ->
 * VCPU_STATE_INCORRECT; index >= MAX_VCPUS -> MAX_VCPUS_EXCEEDED; version
 * 1: R8 above 32 bits -> OPERAND_INVALID + R8, x2APIC id taken ->
 * X2APIC_ID_NOT_UNIQUE + id (newer modules). A failed call gives its index
 * back.
 * Success: reset state (tdx-abi.md 7), posted-interrupt fields invalid,
 * READY, index = init order, bound to the calling LP, NUM_VCPUS + 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vp_fixtures.h"

static void test_tdh_vp_init__tdvpr_operand_invalid(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	assert_tdx_status(want, vp_init_raw(&t, 0, 0, tdvpr + 0x100, 0, 0));
	assert_tdx_status(want, vp_init_raw(&t, 0, 1, tsim_keyed_pa(&t.e, tdvpr, t.td.hkid), 0, 0));
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->state), VCPU_UNINITIALIZED);
	vpt_fini(&t);
}

static void test_tdh_vp_init__tdvpr_outside_tdmr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX),
			  vp_init_raw(&t, 0, 0, tsim_pa_outside(&t.e), 0, 0));
	vpt_fini(&t);
}

static void test_tdh_vp_init__tdvpr_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_INIT, -1, 1, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
			  vp_init_raw(&t, 0, 0, tdvpr, 0, 0));
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 0, tdvpr, 0, 0));
	vpt_fini(&t);
}

static void test_tdh_vp_init__tdvpr_not_a_tdvpr(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	assert_tdx_status(want, vp_init_raw(&t, 0, 0, t.td.tdr, 0, 0));
	assert_tdx_status(want, vp_init_raw(&t, 0, 1, tsim_page(&t.e), 0, 0));
	vpt_fini(&t);
}

static void test_tdh_vp_init__tdr_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	/* Second lock: the TDR (shared for version 0, exclusive for 1). */
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_INIT, -1, 2, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TDR),
			  vp_init_raw(&t, 0, 0, tdvpr, 0, 0));
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_INIT, -1, 2, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TDR),
			  vp_init_raw(&t, 0, 1, tdvpr, 0, 0));
	assert_int_equal(atomic_load(&td_of(&t)->num_init_vcpus), 0);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 1, tdvpr, 0, 0));
	vpt_fini(&t);
}

static void test_tdh_vp_init__td_fatal(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	atomic_store(&td_of(&t)->fatal, 1);
	assert_tdx_status(TDX_TD_FATAL, vp_init_raw(&t, 0, 0, tdvpr, 0, 0));
	atomic_store(&td_of(&t)->fatal, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_init__op_state_busy(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_INIT, -1, 3, 1);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE),
			  vp_init_raw(&t, 0, 0, tdvpr, 0, 0));
	vpt_fini(&t);
}

static void test_tdh_vp_init__op_state_incorrect(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t spare = vp_build(&t, 0);
	vp_ready(&t, 0, 0);
	vpt_finalize(&t);
	assert_tdx_status(TDX_OP_STATE_INCORRECT, vp_init_raw(&t, 0, 1, spare, 0, 1));
	assert_int_equal(atomic_load(&vcpu_of(&t, spare)->state), VCPU_UNINITIALIZED);
	vpt_fini(&t);
}

static void test_tdh_vp_init__tdcx_missing(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	assert_tdx_status(TDX_TDCX_NUM_INCORRECT, vp_init_raw(&t, 0, 0, tdvpr, 0, 0));
	vp_addcx(&t, 0, tdvpr, TDCX_PER_VCPU - 1);
	assert_tdx_status(TDX_TDCX_NUM_INCORRECT, vp_init_raw(&t, 0, 1, tdvpr, 0, 0));
	assert_int_equal(atomic_load(&td_of(&t)->num_init_vcpus), 0);
	vp_addcx(&t, 0, tdvpr, 1);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 1, tdvpr, 0, 0));
	vpt_fini(&t);
}

static void test_tdh_vp_init__repeat(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 5);
	assert_tdx_status(TDX_VCPU_STATE_INCORRECT, vp_init_raw(&t, 0, 1, tdvpr, 0, 6));
	assert_tdx_status(TDX_VCPU_STATE_INCORRECT, vp_init_raw(&t, 1, 0, tdvpr, 0, 0));
	assert_int_equal(atomic_load(&td_of(&t)->num_vcpus), 1);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_INDEX), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_init__max_vcpus_exceeded(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 2);
	vp_ready(&t, 0, 0);
	vp_ready(&t, 0, 1);
	uint64_t third = vp_build(&t, 0);
	assert_tdx_status(TDX_MAX_VCPUS_EXCEEDED, vp_init_raw(&t, 0, 0, third, 0, 0));
	/* Checked before the x2APIC id: a duplicate id still gets this status. */
	assert_tdx_status(TDX_MAX_VCPUS_EXCEEDED, vp_init_raw(&t, 0, 1, third, 0, 1));
	assert_tdx_status(TDX_MAX_VCPUS_EXCEEDED, vp_init_raw(&t, 0, 1, third, 0, 1ULL << 32));
	assert_int_equal(atomic_load(&td_of(&t)->num_vcpus), 2);
	assert_int_equal(atomic_load(&td_of(&t)->num_init_vcpus), 2);
	assert_int_equal(atomic_load(&vcpu_of(&t, third)->state), VCPU_UNINITIALIZED);
	vpt_fini(&t);
}

static void test_tdh_vp_init__x2apic_id_too_wide(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8),
			  vp_init_raw(&t, 0, 1, tdvpr, 0, 1ULL << 32));
	/* Version 0 ignores R8. */
	uint64_t other = vp_build(&t, 0);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 0, other, 0, ~0ULL));
	/* The failed call gave its index back: the other vCPU got index 0. */
	assert_int_equal(vp_rd(&t, 0, other, MD_VP_VCPU_INDEX), 0);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 1, tdvpr, 0, 0xFFFFFFFF));
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_INDEX), 1);
	vpt_fini(&t);
}

static void test_tdh_vp_init__x2apic_id_not_unique(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	vp_ready(&t, 0, 7);
	uint64_t b = vp_build(&t, 1);
	assert_tdx_status(tdx_status_op(TDX_X2APIC_ID_NOT_UNIQUE, 7), vp_init_raw(&t, 1, 1, b, 0, 7));
	assert_int_equal(atomic_load(&vcpu_of(&t, b)->state), VCPU_UNINITIALIZED);
	assert_int_equal(atomic_load(&vcpu_of(&t, b)->assoc_lp), -1);
	assert_int_equal(atomic_load(&td_of(&t)->num_init_vcpus), 1);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 1, 1, b, 0, 8));
	assert_int_equal(vp_rd(&t, 1, b, MD_VP_VCPU_INDEX), 1);
	assert_int_equal(vcpu_of(&t, b)->x2apic_id, 8);
	vpt_fini(&t);
}

static void test_tdh_vp_init__version_2(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
			  vp_init_raw(&t, 0, 2, tdvpr, 0, 0));
	vpt_fini(&t);
}

static void test_tdh_vp_init__reset_state(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, TDX_TD_ATTR_DEBUG, 4);
	vp_ready(&t, 0, 0);                     /* index 0 */
	uint64_t tdvpr = vp_build(&t, 2);
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = 0x1122334455667788ULL, .r8 = 9, .r9 = SENT };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(t.s, 2, VP_INIT_V(1), &a));
	assert_int_equal(a.rcx, tdvpr);         /* no outputs */
	assert_int_equal(a.rdx, 0x1122334455667788ULL);
	assert_int_equal(a.r8, 9);
	assert_int_equal(a.r9, SENT);

	const tdxsim_platform *p = t.s->plat;
	uint64_t sig = p->cpu_stepping | ((p->cpu_model & 0xF) << 4) | (p->cpu_family << 8) |
		       ((uint64_t)(p->cpu_model >> 4) << 16);
	uint64_t want_gpr[16] = { 0 };
	want_gpr[1] = 0x1122334455667788ULL;    /* RCX */
	want_gpr[2] = sig;                      /* RDX = CPUID(1).EAX */
	want_gpr[3] = 48;                       /* RBX = GPAW */
	want_gpr[6] = 1;                        /* RSI = vCPU index */
	want_gpr[8] = 0x1122334455667788ULL;    /* R8 */
	for (unsigned i = 0; i < 16; i++) {
		if (i == 4)
			continue;               /* RSP: the TD-VMCS field */
		assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_GPR(i)), want_gpr[i]);
	}
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_VMCS_ID(3, 0x681C)), 0);     /* RSP */
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_GUEST_RIP), 0xFFFFFFF0);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_GUEST_RFLAGS), 0x2);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_GUEST_CR0), 0x21);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_VMCS_ID(3, 0x6802)), 0);     /* CR3 */
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_GUEST_CR4), 0x2040);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_GUEST_EFER), 0x901);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_GUEST_PAT), 0x0007040600070406ULL);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_GUEST_DR7), 0x400);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_DR6), 0xFFFF0FF0);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_XCR0), 1);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_VCPU_STATE), VCPU_READY);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_VCPU_INDEX), 1);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_VMCS_ID(1, 0x0000)), 2);     /* VPID = index + 1 */
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_PEND_NMI), 0);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_VCPU_EPOCH), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_init__gpaw(void **state)
{
	(void)state;
	struct vpt t;
	tsim_env_init(&t.e);
	t.s = t.e.s;
	struct tdx_td_params p;
	tsim_td_create(&t.e, &t.td);
	tsim_td_addcx(&t.td);
	tsim_td_params(&t.e, &p, TDX_TD_ATTR_DEBUG, 4);
	p.eptp_controls = TDX_EPTP_WB_5LVL;
	p.config_flags |= TDX_CONFIG_FLAGS_GPAW;
	assert_tdx_status(TDX_SUCCESS, tsim_td_init_raw(&t.td, &p, NULL));
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_GPR(3)), 52);
	vpt_fini(&t);
}

static void test_tdh_vp_init__vmcs_defaults(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);                     /* production TD: host masks */
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_POSTED_INTR_NV), 0xFFFF);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_POSTED_INTR_DESC), ~0ULL);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS), 0);         /* bit 7 off */
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_SECONDARY_CTLS), 0);         /* bits 31:30 off */
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_NOTIFY_WINDOW), 0);
	/* Shared EPTP points at the TDCS zero page (with the TD's KeyID). */
	uint64_t zp = t.td.tdcs[TD_TDCS_ZERO_PAGE] | ((uint64_t)t.td.hkid << t.e.keyid_shift);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_SHARED_EPTP), zp & 0xFFFFFFFFFF000ULL);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_STATE_DETAILS), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_XFAM), 0x3);
	/* The guest state is the debugger's only. */
	uint64_t v;
	assert_tdx_status(TDX_METADATA_FIELD_NOT_READABLE, vp_rd_raw(&t, 0, tdvpr, MD_VP_GUEST_RIP, &v));
	assert_tdx_status(TDX_METADATA_FIELD_NOT_READABLE, vp_rd_raw(&t, 0, tdvpr, MD_VP_VCPU_STATE, &v));
	vpt_fini(&t);
}

static void test_tdh_vp_init__index_is_init_order(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t a = vp_build(&t, 0), b = vp_build(&t, 0), c = vp_build(&t, 0);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 0, c, 0, 0));
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 1, a, 0, 1));
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 0, 1, b, 0, 2));
	assert_int_equal(vp_rd(&t, 0, c, MD_VP_VCPU_INDEX), 0);
	assert_int_equal(vp_rd(&t, 0, a, MD_VP_VCPU_INDEX), 1);
	assert_int_equal(vp_rd(&t, 0, b, MD_VP_VCPU_INDEX), 2);
	struct seam_td *td = td_of(&t);
	assert_int_equal(atomic_load(&td->num_vcpus), 3);
	assert_ptr_equal(td->vcpus[0], vcpu_of(&t, c));
	assert_ptr_equal(td->vcpus[1], vcpu_of(&t, a));
	assert_ptr_equal(td->vcpus[2], vcpu_of(&t, b));
	vpt_fini(&t);
}

static void test_tdh_vp_init__binds_to_calling_lp(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 0);
	assert_tdx_status(TDX_SUCCESS, vp_init_raw(&t, 1, 0, tdvpr, 0, 0));
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 1);
	assert_int_equal(vp_rd(&t, 1, tdvpr, MD_VP_ASSOC_LPID), 1);
	uint64_t v;
	assert_tdx_status(TDX_VCPU_ASSOCIATED, vp_rd_raw(&t, 0, tdvpr, MD_VP_ASSOC_LPID, &v));
	/* VPFLUSHDONE refuses while it is bound. */
	struct tdx_module_args d = { .rcx = t.td.tdr };
	assert_tdx_status(TDX_FLUSHVP_NOT_DONE, seamcall_raw(t.s, 0, TDH_MNG_VPFLUSHDONE, &d));
	vpt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_vp_init__tdvpr_operand_invalid),
		cmocka_unit_test(test_tdh_vp_init__tdvpr_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_init__tdvpr_busy),
		cmocka_unit_test(test_tdh_vp_init__tdvpr_not_a_tdvpr),
		cmocka_unit_test(test_tdh_vp_init__tdr_busy),
		cmocka_unit_test(test_tdh_vp_init__td_fatal),
		cmocka_unit_test(test_tdh_vp_init__op_state_busy),
		cmocka_unit_test(test_tdh_vp_init__op_state_incorrect),
		cmocka_unit_test(test_tdh_vp_init__tdcx_missing),
		cmocka_unit_test(test_tdh_vp_init__repeat),
		cmocka_unit_test(test_tdh_vp_init__max_vcpus_exceeded),
		cmocka_unit_test(test_tdh_vp_init__x2apic_id_too_wide),
		cmocka_unit_test(test_tdh_vp_init__x2apic_id_not_unique),
		cmocka_unit_test(test_tdh_vp_init__version_2),
		cmocka_unit_test(test_tdh_vp_init__reset_state),
		cmocka_unit_test(test_tdh_vp_init__gpaw),
		cmocka_unit_test(test_tdh_vp_init__vmcs_defaults),
		cmocka_unit_test(test_tdh_vp_init__index_is_init_order),
		cmocka_unit_test(test_tdh_vp_init__binds_to_calling_lp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
