/*
 * TDH.VP.ENTER (0): the entry checks. RCX = TDVPR (51:12), bit 52 hint,
 * bit 53 resume-L1, other bits reserved.
 * Order: reserved RCX bits -> OPERAND_INVALID + RCX; TDVPR page checks
 * (RCX), shared; owner TDR (OPERAND_BUSY + TDR); TD state (RUNNABLE only);
 * TDVPS incomplete -> TDCX_NUM_INCORRECT; vCPU not READY ->
 * VCPU_STATE_INCORRECT; bound elsewhere -> VCPU_ASSOCIATED (unbound: bound
 * here, kept even if a later check fails); hint without a trap-like last
 * exit, resume-L1 without L2 -> OPERAND_INVALID + RCX; TD epoch lock busy
 * -> OPERAND_BUSY + TD_EPOCH. A refused entry changes no register.
 * The TDs here have no code: the guest's first fetch, at the reset vector,
 * is an EPT violation TD exit (reason 48) before any instruction retires.
 * Running real guests is tested in tests/lifecycle/test_td_run.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vp_fixtures.h"

#define INVALID_RCX tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX)
#define STUB_EXIT   (TDX_SUCCESS | 48)      /* EPT violation: no page at the reset vector */

/* A RUNNABLE TD with one vCPU initialised on lp; returns its TDVPR. */
static uint64_t runnable(struct vpt *t, uint64_t attributes, unsigned lp)
{
	vpt_init(t, attributes, 4);
	uint64_t tdvpr = vp_ready(t, lp, 0);
	vpt_finalize(t);
	return tdvpr;
}

/* A refused entry: the status, and every register as it was passed. */
static void expect_refused(struct vpt *t, unsigned lp, uint64_t rcx, uint64_t status)
{
	struct tdx_module_args a = {
		.rcx = rcx, .rdx = SENT + 1, .r8 = SENT + 2, .r9 = SENT + 3, .r10 = SENT + 4,
		.r11 = SENT + 5, .r12 = SENT + 6, .r13 = SENT + 7, .r14 = SENT + 8, .r15 = SENT + 9,
		.rbx = SENT + 10, .rdi = SENT + 11, .rsi = SENT + 12,
	};
	struct tdx_module_args in = a;
	assert_tdx_status(status, seamcall_raw(t->s, lp, TDH_VP_ENTER, &a));
	assert_memory_equal(&a, &in, sizeof(a));
}

static void expect_no_epoch_refs(struct vpt *t)
{
	struct seam_td *td = td_of(t);
	assert_int_equal(atomic_load(&td->refcount[0]), 0);
	assert_int_equal(atomic_load(&td->refcount[1]), 0);
}

static void test_tdh_vp_enter__rcx_reserved_bits(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	uint64_t want = INVALID_RCX;
	expect_refused(&t, 1, tdvpr | 0x1, want);
	expect_refused(&t, 1, tdvpr | 0x800, want);
	expect_refused(&t, 1, tdvpr | (1ULL << 54), want);
	expect_refused(&t, 1, tdvpr | (1ULL << 63), want);
	/* Before anything else: no association happened. */
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), -1);
	expect_refused(&t, 1, tsim_pa_outside(&t.e) | 0x1, want);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__tdvpr_operand_invalid(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	/* KeyID bits inside 51:12. */
	expect_refused(&t, 0, tsim_keyed_pa(&t.e, tdvpr, t.td.hkid),
		       INVALID_RCX);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__tdvpr_outside_tdmr(void **state)
{
	(void)state;
	struct vpt t;
	runnable(&t, 0, 0);
	expect_refused(&t, 0, tsim_pa_outside(&t.e),
		       tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	vpt_fini(&t);
}

static void test_tdh_vp_enter__tdvpr_busy(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_ENTER, -1, 1, 1);
	expect_refused(&t, 0, tdvpr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	expect_no_epoch_refs(&t);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__tdvpr_not_a_tdvpr(void **state)
{
	(void)state;
	struct vpt t;
	runnable(&t, 0, 0);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	expect_refused(&t, 0, t.td.tdr, want);
	expect_refused(&t, 0, tsim_page(&t.e), want);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__tdr_busy(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_ENTER, -1, 2, 1);
	expect_refused(&t, 0, tdvpr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TDR));
	vpt_fini(&t);
}

static void test_tdh_vp_enter__td_fatal(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	atomic_store(&td_of(&t)->fatal, 1);
	expect_refused(&t, 0, tdvpr, TDX_TD_FATAL);
	atomic_store(&td_of(&t)->fatal, 0);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__keys_not_configured(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	vpt_block(&t);
	expect_refused(&t, 0, tdvpr, TDX_TD_KEYS_NOT_CONFIGURED);
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), -1);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__op_state_busy(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_ENTER, -1, 3, 1);
	expect_refused(&t, 0, tdvpr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE));
	vpt_fini(&t);
}

static void test_tdh_vp_enter__op_state_incorrect(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);    /* INITIALIZED: not finalised yet */
	expect_refused(&t, 0, tdvpr, TDX_OP_STATE_INCORRECT);
	expect_no_epoch_refs(&t);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__tdcx_missing(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t partial = vp_create(&t, 0);
	vp_addcx(&t, 0, partial, 3);
	vp_ready(&t, 0, 0);
	vpt_finalize(&t);
	expect_refused(&t, 0, partial, TDX_TDCX_NUM_INCORRECT);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__vcpu_state_incorrect(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t uninit = vp_build(&t, 0);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	vpt_finalize(&t);
	expect_refused(&t, 0, uninit, TDX_VCPU_STATE_INCORRECT);
	assert_int_equal(atomic_load(&vcpu_of(&t, uninit)->assoc_lp), -1);
	/* A disabled vCPU cannot be entered (VP.RD may still read it). */
	atomic_store(&vcpu_of(&t, tdvpr)->state, VCPU_DISABLED);
	expect_refused(&t, 0, tdvpr, TDX_VCPU_STATE_INCORRECT);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_INDEX), 0);
	expect_no_epoch_refs(&t);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__vcpu_associated(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 1);    /* bound to LP 1 */
	expect_refused(&t, 0, tdvpr, TDX_VCPU_ASSOCIATED);
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), 1);
	expect_no_epoch_refs(&t);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__hint_without_trap_exit(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	/* After VP.INIT (and after asynchronous exits) the last TD exit is
	 * fault-like: the host-recoverability hint is refused... */
	expect_refused(&t, 2, tdvpr | (1ULL << 52), INVALID_RCX);
	/* ...after the association, which stays. */
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), 2);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 1);
	expect_no_epoch_refs(&t);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__resume_l1_without_l2(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	expect_refused(&t, 0, tdvpr | (1ULL << 53), INVALID_RCX);
	expect_no_epoch_refs(&t);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__td_epoch_busy(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	/* Planned: the fourth lock is the TD epoch. */
	tsim_fault(t.s, TDX_OPERAND_BUSY, TDH_VP_ENTER, -1, 4, 1);
	expect_refused(&t, 0, tdvpr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH));
	expect_no_epoch_refs(&t);
	/* Real: MEM.TRACK holding the epoch lock exclusively. */
	struct seam_td *td = td_of(&t);
	assert_true(seam_lock_try_ex(&td->epoch_lock));
	expect_refused(&t, 0, tdvpr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH));
	seam_unlock_ex(&td->epoch_lock);
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->state), VCPU_READY);
	expect_no_epoch_refs(&t);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__check_order(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t uninit = vp_build(&t, 1);
	/* OP_STATE before vCPU state; reserved bits before everything. */
	expect_refused(&t, 0, uninit, TDX_OP_STATE_INCORRECT);
	expect_refused(&t, 0, uninit | (1ULL << 60), INVALID_RCX);
	uint64_t bound = vp_ready(&t, 1, 0);
	vpt_finalize(&t);
	/* vCPU state before association; association before the RCX flags. */
	expect_refused(&t, 0, uninit, TDX_VCPU_STATE_INCORRECT);
	expect_refused(&t, 0, bound | (1ULL << 53), TDX_VCPU_ASSOCIATED);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__empty_td_exit(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, TDX_TD_ATTR_DEBUG, 0);
	struct tdx_module_args a = {
		.rcx = tdvpr, .rdx = SENT, .r8 = SENT, .r9 = SENT, .r10 = SENT, .r11 = SENT,
		.r12 = SENT, .r13 = SENT, .r14 = SENT, .r15 = SENT, .rbx = SENT, .rdi = SENT, .rsi = SENT,
	};
	uint64_t st = seamcall_raw(t.s, 0, TDH_VP_ENTER, &a);
	/* Asynchronous TD exit, status SUCCESS, reason EPT violation on the
	 * instruction fetch at the reset vector (qualification bit 2). */
	assert_int_equal(st, STUB_EXIT);
	assert_int_equal(a.rcx, 4);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0xFFFFF000);    /* GPA bits 11:0 cleared */
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10 | a.r11 | a.r12 | a.r13 | a.r14 | a.r15, 0);
	assert_int_equal(a.rbx | a.rsi | a.rdi, 0);
	struct seam_vcpu *v = vcpu_of(&t, tdvpr);
	assert_int_equal(atomic_load(&v->state), VCPU_READY);
	assert_true(v->launched);
	expect_no_epoch_refs(&t);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_EPOCH), atomic_load(&td_of(&t)->td_epoch));
	/* No guest instruction ran: the reset state is intact. */
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_GUEST_RIP), 0xFFFFFFF0);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_GPR(3)), 48);
	/* And the vCPU can be entered again. */
	st = seamcall_raw(t.s, 0, TDH_VP_ENTER, &(struct tdx_module_args){ .rcx = tdvpr });
	assert_int_equal(st, STUB_EXIT);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__first_entry_associates(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 0);
	struct tdx_module_args a = { .rcx = tdvpr };
	assert_int_equal(seamcall_raw(t.s, 3, TDH_VP_ENTER, &a), STUB_EXIT);
	assert_int_equal(atomic_load(&vcpu_of(&t, tdvpr)->assoc_lp), 3);
	assert_int_equal(atomic_load(&td_of(&t)->num_assoc_vcpus), 1);
	expect_refused(&t, 0, tdvpr, TDX_VCPU_ASSOCIATED);
	vpt_fini(&t);
}

static void test_tdh_vp_enter__epoch_follows_mem_track(void **state)
{
	(void)state;
	struct vpt t;
	uint64_t tdvpr = runnable(&t, 0, 0);
	struct tdx_module_args a = { .rcx = tdvpr };
	assert_int_equal(seamcall_raw(t.s, 0, TDH_VP_ENTER, &a), STUB_EXIT);
	uint64_t e0 = vp_rd(&t, 0, tdvpr, MD_VP_VCPU_EPOCH);
	/* No vCPU holds an epoch reference between entries: MEM.TRACK goes on. */
	struct tdx_module_args tr = { .rcx = t.td.tdr };
	seamcall_ok(t.s, 0, TDH_MEM_TRACK, &tr);
	a = (struct tdx_module_args){ .rcx = tdvpr };
	assert_int_equal(seamcall_raw(t.s, 0, TDH_VP_ENTER, &a), STUB_EXIT);
	assert_int_equal(vp_rd(&t, 0, tdvpr, MD_VP_VCPU_EPOCH), e0 + 1);
	expect_no_epoch_refs(&t);
	vpt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_vp_enter__rcx_reserved_bits),
		cmocka_unit_test(test_tdh_vp_enter__tdvpr_operand_invalid),
		cmocka_unit_test(test_tdh_vp_enter__tdvpr_outside_tdmr),
		cmocka_unit_test(test_tdh_vp_enter__tdvpr_busy),
		cmocka_unit_test(test_tdh_vp_enter__tdvpr_not_a_tdvpr),
		cmocka_unit_test(test_tdh_vp_enter__tdr_busy),
		cmocka_unit_test(test_tdh_vp_enter__td_fatal),
		cmocka_unit_test(test_tdh_vp_enter__keys_not_configured),
		cmocka_unit_test(test_tdh_vp_enter__op_state_busy),
		cmocka_unit_test(test_tdh_vp_enter__op_state_incorrect),
		cmocka_unit_test(test_tdh_vp_enter__tdcx_missing),
		cmocka_unit_test(test_tdh_vp_enter__vcpu_state_incorrect),
		cmocka_unit_test(test_tdh_vp_enter__vcpu_associated),
		cmocka_unit_test(test_tdh_vp_enter__hint_without_trap_exit),
		cmocka_unit_test(test_tdh_vp_enter__resume_l1_without_l2),
		cmocka_unit_test(test_tdh_vp_enter__td_epoch_busy),
		cmocka_unit_test(test_tdh_vp_enter__check_order),
		cmocka_unit_test(test_tdh_vp_enter__empty_td_exit),
		cmocka_unit_test(test_tdh_vp_enter__first_entry_associates),
		cmocka_unit_test(test_tdh_vp_enter__epoch_follows_mem_track),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
