/*
 * TDH.MNG.KEY.RECLAIMID (27): tdx-abi.md 1.1 - kept for backward
 * compatibility; the module checks nothing and answers SUCCESS. No outputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

static void expect_success(tdxsim *s, uint64_t rcx)
{
	struct tdx_module_args a = { .rcx = rcx, .rdx = 2, .r8 = 3, .r9 = 4, .r10 = 5, .r11 = 6 };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_MNG_KEY_RECLAIMID, &a));
	assert_int_equal(a.rcx, rcx);
	assert_int_equal(a.rdx, 2);
	assert_int_equal(a.r8, 3);
	assert_int_equal(a.r9, 4);
	assert_int_equal(a.r10, 5);
	assert_int_equal(a.r11, 6);
}

/* Any RCX: not a page, misaligned, beyond MAX_PA, with KeyID bits. */
static void test_tdh_mng_key_reclaimid__any_input(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	expect_success(e.s, 0);
	expect_success(e.s, 0x123);
	expect_success(e.s, ~0ULL);
	expect_success(e.s, tsim_page(&e));
	expect_success(e.s, tsim_keyed_pa(&e, tsim_page(&e), e.first_keyid));
	tsim_env_fini(&e);
}

/* A real TDR in any lifecycle state: nothing changes. */
static void test_tdh_mng_key_reclaimid__td_untouched(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	struct seam_td *t = seam_obj_get(&e.s->mod, td.tdr);
	expect_success(e.s, td.tdr);
	assert_int_equal(atomic_load(&t->lifecycle), TD_KEYS_CONFIGURED);
	struct tdx_module_args d = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	expect_success(e.s, td.tdr);
	assert_int_equal(atomic_load(&t->lifecycle), TD_BLOCKED);
	assert_int_equal(seam_kot_state(&e.s->mod, td.hkid), KOT_FLUSHED);
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_OK);
	tsim_env_fini(&e);
}

/* No lock is taken: the fault plan has nothing to inject here. */
static void test_tdh_mng_key_reclaimid__no_operand_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_OPERAND_BUSY;
	f.leaf = TDH_MNG_KEY_RECLAIMID;
	f.nth = 1;
	assert_int_equal(tdxsim_fault_add(e.s, &f, NULL), TDXSIM_ERR_ARG);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_key_reclaimid__any_input),
		cmocka_unit_test(test_tdh_mng_key_reclaimid__td_untouched),
		cmocka_unit_test(test_tdh_mng_key_reclaimid__no_operand_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
