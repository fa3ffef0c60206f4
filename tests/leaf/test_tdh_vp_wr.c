/*
 * TDH.VP.WR (43): RCX = TDVPR, RDX = field id, R8 = value, R9 = mask
 * -> R8 = previous value (0 on error).
 * Order: TDVPR (RCX) page checks, shared; owner TDR (OPERAND_BUSY + TDR);
 * TD state (INITIALIZED or RUNNABLE); TDVPS incomplete ->
 * TDCX_NUM_INCORRECT; vCPU not READY -> VCPU_STATE_INCORRECT (DISABLED
 * included); bound elsewhere -> VCPU_ASSOCIATED; then the write rule:
 * unknown id -> FIELD_ID_INCORRECT; field mask AND request mask = 0 ->
 * NOT_WRITABLE; a requested bit outside the field mask that would change,
 * or a bad value -> VALUE_NOT_VALID; posted interrupts enabled before the
 * vector/descriptor -> TD_VMCS_FIELD_NOT_INITIALIZED + encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_VP_WR
#define ROW_PREFIX test_tdh_vp_wr
/* Fixtures, and the common rows test_tdh_vp_wr__tdvpr_operand_invalid ..
 * __vcpu_associated that main() registers. */
#include "vp_md_fixtures.h"

#define PI_VECTOR 0xF2

/* A failed write: R8 = 0, other registers untouched. */
static void expect_wr_error(struct vpt *t, unsigned lp, uint64_t tdvpr, uint64_t field,
			    uint64_t value, uint64_t mask, uint64_t status)
{
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = field, .r8 = value, .r9 = mask, .r10 = SENT };
	assert_tdx_status(status, seamcall_raw(t->s, lp, TDH_VP_WR, &a));
	assert_int_equal(a.r8, 0);
	assert_int_equal(a.rdx, field);
	assert_int_equal(a.r9, mask);
	assert_int_equal(a.r10, SENT);
}

static uint64_t vp_wr(struct vpt *t, unsigned lp, uint64_t tdvpr, uint64_t field, uint64_t value,
		      uint64_t mask)
{
	uint64_t old = SENT;
	assert_tdx_status(TDX_SUCCESS, vp_wr_raw(t, lp, tdvpr, field, value, mask, &old));
	return old;
}

/* The element of the common rows: PEND_NMI (0 in a fresh vCPU), set to 1. */
static void expect_md_err(struct vpt *t, unsigned lp, unsigned ver, uint64_t tdvpr,
			  uint64_t status)
{
	(void)ver;
	expect_wr_error(t, lp, tdvpr, MD_VP_PEND_NMI, 1, 0xFF, status);
}

static uint64_t md_ok(struct vpt *t, unsigned lp, uint64_t tdvpr)
{
	return vp_wr(t, lp, tdvpr, MD_VP_PEND_NMI, 1, 0xFF);
}

/* A shared (non-TD) 64-byte aligned PA for the posted-interrupt descriptor. */
static uint64_t pid_pa(struct vpt *t)
{
	return t->e.shared_pa + 0x3000;
}

static void test_tdh_vp_wr__vcpu_state_incorrect(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t uninit = vp_build(&t, 0);
	expect_wr_error(&t, 0, uninit, MD_VP_PEND_NMI, 1, 0xFF, TDX_VCPU_STATE_INCORRECT);
	/* Unlike VP.RD, VP.WR refuses a disabled vCPU. */
	uint64_t dis = vp_ready(&t, 0, 0);
	atomic_store(&vcpu_of(&t, dis)->state, VCPU_DISABLED);
	expect_wr_error(&t, 0, dis, MD_VP_PEND_NMI, 1, 0xFF, TDX_VCPU_STATE_INCORRECT);
	assert_int_equal(vp_rd(&t, 0, dis, MD_VP_PEND_NMI), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_wr__field_id_incorrect(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	expect_wr_error(&t, 0, tdvpr, 0xA020000000000001ULL, 0, ~0ULL, TDX_METADATA_FIELD_ID_INCORRECT);
	expect_wr_error(&t, 0, tdvpr, MD_VP_VMCS_ID(3, 0x2017), 0, ~0ULL, TDX_METADATA_FIELD_ID_INCORRECT);
	expect_wr_error(&t, 0, tdvpr, MD_VP_PEND_NMI | (1ULL << 30), 1, 0xFF,
			TDX_METADATA_FIELD_ID_INCORRECT);
	expect_wr_error(&t, 0, tdvpr, MD_VP_PEND_NMI | (2ULL << 38), 1, 0xFF,
			TDX_METADATA_FIELD_ID_INCORRECT);
	vpt_fini(&t);
}

static void test_tdh_vp_wr__field_not_writable(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	uint64_t want = TDX_METADATA_FIELD_NOT_WRITABLE;
	expect_wr_error(&t, 0, tdvpr, MD_VP_VCPU_INDEX, 3, ~0ULL, want);        /* read-only */
	expect_wr_error(&t, 0, tdvpr, MD_VP_GPR(0), 3, ~0ULL, want);            /* debug only */
	expect_wr_error(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS, 1, 0x1, want);      /* mask misses bit 7 */
	expect_wr_error(&t, 0, tdvpr, MD_VP_PEND_NMI, 1, 0, want);              /* empty mask */
	vpt_fini(&t);

	/* Debug TD: XFAM has debug write bits but is refused (module 1.5.01). */
	vpt_init(&t, TDX_TD_ATTR_DEBUG, 4);
	tdvpr = vp_ready(&t, 0, 0);
	expect_wr_error(&t, 0, tdvpr, MD_VP_XFAM, 3, ~0ULL, want);
	assert_int_equal(vp_wr(&t, 0, tdvpr, MD_VP_GPR(0), 0x1234, ~0ULL), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_GPR(0)), 0x1234);
	vpt_fini(&t);
}

static void test_tdh_vp_wr__value_not_valid(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	uint64_t want = TDX_METADATA_FIELD_VALUE_NOT_VALID;
	/* Changing a bit outside the write mask (pin-based bit 0 is 1). */
	expect_wr_error(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS, 0x80, 0x81, want);
	/* 16-bit vector field written with bits above 15. */
	expect_wr_error(&t, 0, tdvpr, MD_VP_POSTED_INTR_NV, 0x100F2, ~0ULL, want);
	/* Vector out of 0..255. */
	expect_wr_error(&t, 0, tdvpr, MD_VP_POSTED_INTR_NV, 0x100, 0xFFFF, want);
	/* Descriptor: not 64-byte aligned; private KeyID; beyond MAX_PA. */
	expect_wr_error(&t, 0, tdvpr, MD_VP_POSTED_INTR_DESC, pid_pa(&t) + 8, ~0ULL, want);
	expect_wr_error(&t, 0, tdvpr, MD_VP_POSTED_INTR_DESC,
			tsim_keyed_pa(&t.e, pid_pa(&t), t.td.hkid), ~0ULL, want);
	/* Shared EPTP: a private KeyID. */
	expect_wr_error(&t, 0, tdvpr, MD_VP_SHARED_EPTP, tsim_keyed_pa(&t.e, pid_pa(&t) & ~0xFFFULL,
			t.td.hkid), ~0ULL, want);
	/* Nothing changed. */
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_POSTED_INTR_NV), 0xFFFF);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_POSTED_INTR_DESC), ~0ULL);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS), 0);
	vpt_fini(&t);

	/* Debug TD: enabling PML needs a PML log address (never valid here). */
	vpt_init(&t, TDX_TD_ATTR_DEBUG, 4);
	tdvpr = vp_ready(&t, 0, 0);
	expect_wr_error(&t, 0, tdvpr, MD_VP_SECONDARY_CTLS, 1u << 17, 1u << 17, want);
	vpt_fini(&t);
}

static void test_tdh_vp_wr__posted_intr_not_initialized(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	expect_wr_error(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS, 0x80, 0x80,
			tdx_status_op(TDX_TD_VMCS_FIELD_NOT_INITIALIZED, 0x0002));
	assert_int_equal(vp_wr(&t, 0, tdvpr, MD_VP_POSTED_INTR_NV, PI_VECTOR, 0xFFFF), 0xFFFF);
	expect_wr_error(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS, 0x80, 0x80,
			tdx_status_op(TDX_TD_VMCS_FIELD_NOT_INITIALIZED, 0x2016));
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_wr__kvm_vcpu_init(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	/* KVM's tdx_vcpu_init sequence with its short ids and masks. */
	assert_int_equal(vp_wr(&t, 0, tdvpr, 0x0002, PI_VECTOR, 0xFFFF), 0xFFFF);
	/* The descriptor starts all ones: only its writable bits are compared. */
	assert_int_equal(vp_wr(&t, 0, tdvpr, 0x2016, pid_pa(&t), ~0ULL), ~0ULL);
	assert_int_equal(vp_wr(&t, 0, tdvpr, 0x4000, 0x80, 0x80), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x4000), 0x80);
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x0002), PI_VECTOR);
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x2016), pid_pa(&t));
	/* 7.3: notify VM exits and bus-lock detection, then the window. */
	assert_int_equal(vp_wr(&t, 0, tdvpr, 0x401E, 0x80000000, 0x80000000), 0);
	assert_int_equal(vp_wr(&t, 0, tdvpr, 0x401E, 0x40000000, 0x40000000), 0x80000000);
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x401E), 0xC0000000);
	assert_int_equal(vp_wr(&t, 0, tdvpr, 0x4024, 0x1000, 0xFFFFFFFF), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x4024), 0x1000);
	/* NMI injection, root change. */
	assert_int_equal(vp_wr(&t, 0, tdvpr, 0x200000000000000BULL, 1, 0xFF), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_PEND_NMI), 1);
	uint64_t root = t.e.shared_pa + 0x4000;
	uint64_t zp = t.td.tdcs[TD_TDCS_ZERO_PAGE] | ((uint64_t)t.td.hkid << t.e.keyid_shift);
	assert_int_equal(vp_wr(&t, 0, tdvpr, 0x203C, root, ~0ULL), zp & 0xFFFFFFFFFF000ULL);
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x203C), root);
	/* In debug the full controls show the other (read-only) bits too. */
	struct seam_vcpu *v = vcpu_of(&t, tdvpr);
	assert_int_equal(v->vmcs.pin_based_ctls & 0x80, 0x80);
	assert_int_not_equal(v->vmcs.pin_based_ctls & ~0x80u, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_wr__mask_merges(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, TDX_TD_ATTR_DEBUG, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	/* Only masked bits change; R8 returns the previous value. */
	assert_int_equal(vp_wr(&t, 0, tdvpr, MD_VP_GPR(9), 0xAAAA, ~0ULL), 0);
	assert_int_equal(vp_wr(&t, 0, tdvpr, MD_VP_GPR(9), 0x5555, 0x0F0F), 0xAAAA);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_GPR(9)), 0xA5A5);
	/* DR6: debug write mask is the low 32 bits; the upper bits are 0 now,
	 * so writing them as 0 under an all-ones mask is allowed... */
	assert_int_equal(vp_wr(&t, 0, tdvpr, MD_VP_DR6, 0xFFFF0FF1, ~0ULL), 0xFFFF0FF0);
	/* ...and changing them is not. */
	expect_wr_error(&t, 0, tdvpr, MD_VP_DR6, 1ULL << 40, ~0ULL, TDX_METADATA_FIELD_VALUE_NOT_VALID);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_DR6), 0xFFFF0FF1);
	/* Debug rd of the full pin-based controls; only bit 7 is writable. */
	uint64_t pin = vp_rd(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS);
	assert_int_equal(pin & 0x80, 0);
	expect_wr_error(&t, 0, tdvpr, MD_VP_PIN_BASED_CTLS, 0, 0xFFFFFFFF,
			TDX_METADATA_FIELD_VALUE_NOT_VALID);
	vpt_fini(&t);
}

static void test_tdh_vp_wr__associates_and_runnable(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	vpt_finalize(&t);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	/* RUNNABLE is allowed; an unbound vCPU gets bound to the writer's LP. */
	assert_int_equal(vp_wr(&t, 2, tdvpr, MD_VP_PEND_NMI, 1, 0xFF), 0);
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), 2);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 1);
	vpt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_vp_wr__tdvpr_operand_invalid),
		cmocka_unit_test(test_tdh_vp_wr__tdvpr_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_wr__tdvpr_busy),
		cmocka_unit_test(test_tdh_vp_wr__tdvpr_not_a_tdvpr),
		cmocka_unit_test(test_tdh_vp_wr__tdr_busy),
		cmocka_unit_test(test_tdh_vp_wr__td_fatal),
		cmocka_unit_test(test_tdh_vp_wr__keys_not_configured),
		cmocka_unit_test(test_tdh_vp_wr__op_state_busy),
		cmocka_unit_test(test_tdh_vp_wr__tdcx_missing),
		cmocka_unit_test(test_tdh_vp_wr__vcpu_state_incorrect),
		cmocka_unit_test(test_tdh_vp_wr__vcpu_associated),
		cmocka_unit_test(test_tdh_vp_wr__field_id_incorrect),
		cmocka_unit_test(test_tdh_vp_wr__field_not_writable),
		cmocka_unit_test(test_tdh_vp_wr__value_not_valid),
		cmocka_unit_test(test_tdh_vp_wr__posted_intr_not_initialized),
		cmocka_unit_test(test_tdh_vp_wr__kvm_vcpu_init),
		cmocka_unit_test(test_tdh_vp_wr__mask_merges),
		cmocka_unit_test(test_tdh_vp_wr__associates_and_runnable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
