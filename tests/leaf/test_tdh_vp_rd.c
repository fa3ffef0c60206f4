/*
 * TDH.VP.RD (26): RCX = TDVPR, RDX = field id -> R8 = value; version 1 also
 * RDX = next readable field id (null id in: first id, status
 * METADATA_FIRST_FIELD_ID_IN_CONTEXT). R8 = 0 and (version 1) RDX = -1
 * unless the read succeeds.
 * Order: TDVPR (RCX) page checks, shared; owner TDR (OPERAND_BUSY + TDR);
 * TD state (any OP_STATE but UNINITIALIZED; no vCPU exists before
 * INITIALIZED, so OP_STATE_INCORRECT cannot be reached); TDVPS incomplete ->
 * TDCX_NUM_INCORRECT; vCPU not READY/DISABLED -> VCPU_STATE_INCORRECT; bound
 * elsewhere -> VCPU_ASSOCIATED (unbound: bound here); field id
 * (METADATA_FIELD_ID_INCORRECT), read mask (METADATA_FIELD_NOT_READABLE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_VP_RD
#define ROW_PREFIX test_tdh_vp_rd
/* Fixtures, and the common rows test_tdh_vp_rd__tdvpr_operand_invalid ..
 * __vcpu_associated that main() registers. */
#include "vp_md_fixtures.h"

/* A failed read: R8 = 0, RDX untouched (version 0) or all ones (version 1). */
static void expect_rd_error(struct vpt *t, unsigned lp, unsigned ver, uint64_t tdvpr,
			    uint64_t field, uint64_t status)
{
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = field, .r8 = SENT, .r9 = SENT };
	assert_tdx_status(status, seamcall_raw(t->s, lp, VP_RD_V(ver), &a));
	assert_int_equal(a.r8, 0);
	assert_int_equal(a.rdx, ver ? ~0ULL : field);
	assert_int_equal(a.r9, SENT);
}

static void expect_md_err(struct vpt *t, unsigned lp, unsigned ver, uint64_t tdvpr,
			  uint64_t status)
{
	expect_rd_error(t, lp, ver, tdvpr, MD_VP_VCPU_INDEX, status);
}

static uint64_t md_ok(struct vpt *t, unsigned lp, uint64_t tdvpr)
{
	return vp_rd(t, lp, tdvpr, MD_VP_VCPU_INDEX);
}

static void test_tdh_vp_rd__vcpu_uninitialized(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_build(&t, 0);
	expect_rd_error(&t, 0, 0, tdvpr, MD_VP_VCPU_INDEX, TDX_VCPU_STATE_INCORRECT);
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), -1);
	vpt_fini(&t);
}

static void test_tdh_vp_rd__disabled_vcpu_readable(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	atomic_store(&vcpu_of(&t, tdvpr)->state, VCPU_DISABLED);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_INDEX), 0);
	vpt_fini(&t);
}

static void test_tdh_vp_rd__field_id_incorrect(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	const uint64_t bad[] = {
		0xA020000200000001ULL,                  /* no such management field */
		0x2020000300000000ULL | 0x7777,         /* unknown code */
		0x3F20000300000000ULL,                  /* unknown class */
		MD_VP_VMCS_ID(3, 0x2017),               /* high half of a 64-bit VMCS field */
		MD_VP_VMCS_ID(2, 0x4400),               /* VMCS field outside the table */
		MD_VP_VCPU_INDEX | (1ULL << 24),        /* reserved 31:24 */
		MD_VP_VCPU_INDEX | (1ULL << 47),        /* reserved 49:47 */
		MD_VP_VCPU_INDEX | (1ULL << 55),        /* reserved 55 */
		MD_VP_VCPU_INDEX | (1ULL << 62),        /* reserved 62 */
		MD_VP_VCPU_INDEX | (1ULL << 34),        /* LAST_ELEMENT */
		MD_VP_VCPU_INDEX | (1ULL << 38),        /* LAST_FIELD */
		MD_VP_TDVPS_PAGE_PA(15),                /* past the array */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_rd_error(&t, 0, i & 1, tdvpr, bad[i], TDX_METADATA_FIELD_ID_INCORRECT);
	vpt_fini(&t);
}

static void test_tdh_vp_rd__field_not_readable(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t prod = vp_ready(&t, 0, 0);
	/* Production TD: guest state and debug-only fields. */
	expect_rd_error(&t, 0, 0, prod, MD_VP_GPR(0), TDX_METADATA_FIELD_NOT_READABLE);
	expect_rd_error(&t, 0, 1, prod, MD_VP_GUEST_CR0, TDX_METADATA_FIELD_NOT_READABLE);
	expect_rd_error(&t, 0, 0, prod, MD_VP_VCPU_STATE, TDX_METADATA_FIELD_NOT_READABLE);
	vpt_fini(&t);

	/* Debug TD: the RSP slot of the GPR class is never readable. */
	vpt_init(&t, TDX_TD_ATTR_DEBUG, 4);
	uint64_t dbg = vp_ready(&t, 0, 0);
	expect_rd_error(&t, 0, 0, dbg, MD_VP_GPR(4), TDX_METADATA_FIELD_NOT_READABLE);
	assert_int_equal(vp_rd(&t, 0, dbg, MD_VP_GPR(3)), 48);
	vpt_fini(&t);
}

static void test_tdh_vp_rd__kvm_fields(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = 0x9100000000000100ULL, .r8 = SENT, .r9 = SENT };
	/* KVM's short ids (no size or context bits) reach the same fields. */
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(t.s, 0, TDH_VP_RD, &a));
	assert_int_equal(a.r8, 0);                          /* VCPU_STATE_DETAILS */
	assert_int_equal(a.rdx, 0x9100000000000100ULL);     /* version 0: RDX untouched */
	assert_int_equal(a.r9, SENT);
	vcpu_of(&t, tdvpr)->vcpu_state_details = 1;         /* virtual interrupt pending */
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x9100000000000100ULL), 1);
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x0002), 0xFFFF);            /* POSTED_INTR_NV */
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x2016), ~0ULL);             /* descriptor */
	assert_int_equal(vp_rd(&t, 0, tdvpr, 0x200000000000000BULL), 0);  /* PEND_NMI */
	/* Context and size bits are ignored. */
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_INDEX & ~(7ULL << 52)), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, (MD_VP_VCPU_INDEX & ~(7ULL << 52)) | (1ULL << 52)), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_INDEX | (3ULL << 32) | (1ULL << 50)), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_NUM_TDVPS_PAGES), TDX_TDVPS_PAGES);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_ASSOC_LPID), 0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_XFAM), 0x3);
	vpt_fini(&t);
}

static void test_tdh_vp_rd__version1_next(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	/* Null id: the first readable element, status FIRST_FIELD_ID, R8 = 0. */
	struct tdx_module_args a = { .rcx = tdvpr, .rdx = ~0ULL, .r8 = SENT };
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, seamcall_raw(t.s, 0, VP_RD_V(1), &a));
	assert_int_equal(a.rdx, MD_VP_POSTED_INTR_NV);      /* VPID is debug-only */
	assert_int_equal(a.r8, 0);
	/* Walk the whole context: each id reads, RDX names the next. */
	uint64_t id = a.rdx, prev = 0;
	unsigned n = 0;
	int saw_index = 0, saw_details = 0;
	while (id != ~0ULL) {
		struct tdx_module_args r = { .rcx = tdvpr, .rdx = id, .r8 = SENT };
		assert_tdx_status(TDX_SUCCESS, seamcall_raw(t.s, 0, VP_RD_V(1), &r));
		assert_true(n == 0 || (id & 0x3F00000000FFFFFFULL) > (prev & 0x3F00000000FFFFFFULL));
		saw_index |= id == MD_VP_VCPU_INDEX;
		saw_details |= id == MD_VP_VCPU_STATE_DETAILS;
		prev = id;
		id = r.rdx;
		assert_true(++n < 100);
	}
	assert_true(saw_index && saw_details);
	/* Production reads: NV, descriptor, TSC offset, EPTP, TSC multiplier,
	 * shared EPTP, pin, secondary, notify window, HKID, state details,
	 * index, pages, LP, epoch, PEND_NMI, XFAM, 15 page PAs. */
	assert_int_equal(n, 32);
	/* The null id with the context bits set is still null. */
	a = (struct tdx_module_args){ .rcx = tdvpr, .rdx = ~0ULL & ~(7ULL << 52), .r8 = SENT };
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, seamcall_raw(t.s, 0, VP_RD_V(1), &a));
	/* Version 0 with a null id: just an unknown field. */
	expect_rd_error(&t, 0, 0, tdvpr, ~0ULL, TDX_METADATA_FIELD_ID_INCORRECT);
	vpt_fini(&t);
}

static void test_tdh_vp_rd__associates_unbound(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 0);
	assert_int_equal(vp_rd(&t, 2, tdvpr, MD_VP_ASSOC_LPID), 2);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 1);
	/* A failed read still binds (the field is checked after association). */
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 2, tdvpr));
	expect_rd_error(&t, 3, 0, tdvpr, MD_VP_GPR(0), TDX_METADATA_FIELD_NOT_READABLE);
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), 3);
	vpt_fini(&t);
}

static void test_tdh_vp_rd__runnable(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	vpt_finalize(&t);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_INDEX), 0);
	vpt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_vp_rd__tdvpr_operand_invalid),
		cmocka_unit_test(test_tdh_vp_rd__tdvpr_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_rd__tdvpr_busy),
		cmocka_unit_test(test_tdh_vp_rd__tdvpr_not_a_tdvpr),
		cmocka_unit_test(test_tdh_vp_rd__tdr_busy),
		cmocka_unit_test(test_tdh_vp_rd__td_fatal),
		cmocka_unit_test(test_tdh_vp_rd__keys_not_configured),
		cmocka_unit_test(test_tdh_vp_rd__op_state_busy),
		cmocka_unit_test(test_tdh_vp_rd__tdcx_missing),
		cmocka_unit_test(test_tdh_vp_rd__vcpu_uninitialized),
		cmocka_unit_test(test_tdh_vp_rd__vcpu_associated),
		cmocka_unit_test(test_tdh_vp_rd__disabled_vcpu_readable),
		cmocka_unit_test(test_tdh_vp_rd__field_id_incorrect),
		cmocka_unit_test(test_tdh_vp_rd__field_not_readable),
		cmocka_unit_test(test_tdh_vp_rd__kvm_fields),
		cmocka_unit_test(test_tdh_vp_rd__version1_next),
		cmocka_unit_test(test_tdh_vp_rd__associates_unbound),
		cmocka_unit_test(test_tdh_vp_rd__runnable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
