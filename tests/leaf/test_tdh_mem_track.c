/*
 * TDH.MEM.TRACK (38): tdx-abi.md 6.3; check order in
 * seam/leaf/tdh_mem_track.c. RCX = TDR. Advances the TD epoch under the
 * epoch lock (OPERAND_BUSY + TD_EPOCH) unless a vCPU still runs in the
 * previous epoch (PREVIOUS_TLB_EPOCH_BUSY). No outputs: registers are left
 * as they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_TRACK
#define ROW_PREFIX test_tdh_mem_track
#define SEPT_TDR_RCX
#define ERR_RCX(in) ((in)->rcx)  /* no outputs: registers stay as they were */
#define ERR_RDX(in) ((in)->rdx)
/* Fixtures, and the common rows test_tdh_mem_track__<row> that main()
 * registers: the TDR and the TD state. */
#include "sept_fixtures.h"

/* ---- MEM.TRACK ---- */

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	(void)setup;
	*a = (struct tdx_module_args){ .rcx = f->td.tdr, .rdx = 0x1234 };
}

static void track_ok(struct fx *f)
{
	struct tdx_module_args a;
	args(f, &a, true);
	assert_tdx_status(TDX_SUCCESS, call(f, LEAF, &a));
	assert_int_equal(a.rcx, f->td.tdr);
	assert_int_equal(a.rdx, 0x1234);
}

/* The epoch starts at 1 (MNG.INIT) and grows by one per TRACK, before and
 * after MR.FINALIZE. */
static void test_tdh_mem_track__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	assert_int_equal(epoch(&f), 1);
	track_ok(&f);
	assert_int_equal(epoch(&f), 2);
	tsim_td_finalize(&f.td);
	track_ok(&f);
	track_ok(&f);
	assert_int_equal(epoch(&f), 4);
	fx_fini(&f);
}

/* The epoch lock: a planned fault, and a real holder. */
static void test_tdh_mem_track__epoch_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	fail_lock(&f, 3);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH));
	assert_int_equal(epoch(&f), 1);
	struct seam_td *td = td_obj(&f);
	assert_true(seam_lock_try_sh(&td->epoch_lock));  /* as VP.ENTER holds it */
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH));
	seam_unlock_sh(&td->epoch_lock);
	assert_int_equal(epoch(&f), 1);
	track_ok(&f);
	fx_fini(&f);
}

/* A vCPU still counted in the previous epoch blocks the next one; vCPUs
 * in the current epoch do not. */
static void test_tdh_mem_track__previous_epoch_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	struct seam_td *td = td_obj(&f);
	atomic_fetch_add(&td->refcount[1], 1);          /* running in epoch 1 */
	track_ok(&f);                                   /* 1 -> 2: 1 is current */
	assert_int_equal(epoch(&f), 2);
	expect_err(&f, &a, TDX_PREVIOUS_TLB_EPOCH_BUSY);
	assert_int_equal(epoch(&f), 2);
	atomic_fetch_sub(&td->refcount[1], 1);          /* it exits */
	track_ok(&f);
	assert_int_equal(epoch(&f), 3);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_track__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_track__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_track__tdr_busy),
		cmocka_unit_test(test_tdh_mem_track__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_track__td_fatal),
		cmocka_unit_test(test_tdh_mem_track__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_track__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_track__op_state_busy),
		cmocka_unit_test(test_tdh_mem_track__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_track__success),
		cmocka_unit_test(test_tdh_mem_track__epoch_busy),
		cmocka_unit_test(test_tdh_mem_track__previous_epoch_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
