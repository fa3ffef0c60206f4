/*
 * TDH.SYS.LP.INIT (35): /tmp/research/sys-leaves.md section 2, tdx-abi.md 6.1.
 * Order: RCX/RDX/R8 zeroed; shared global lock (SYS_BUSY); state
 * (SYS_LP_INIT_NOT_PENDING); LP done (SYS_LP_INIT_DONE); RDRAND (RND_NO_ENTROPY).
 * Intentional tdxsim difference (seam/leaf/tdh_sys_lp_init.c): also accepted
 * in SYS_READY, for LPs brought online later.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL

static inline uint64_t lp_init(tdxsim *s, unsigned lp)
{
	struct tdx_module_args a = { 0 };
	return seamcall_raw(s, lp, TDH_SYS_LP_INIT, &a);
}

/* SYS.RD succeeds on an LP exactly when LP.INIT has run there. */
static inline uint64_t sys_rd_status(tdxsim *s, unsigned lp)
{
	struct tdx_module_args a = { .rdx = MD_SYS_MAX_TDMRS };
	return seamcall_raw(s, lp, TDH_SYS_RD, &a);
}

static void test_tdh_sys_lp_init__success(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_rd_status(s, 2));
	struct tdx_module_args a = { .rcx = SENT, .rdx = SENT, .r8 = SENT, .r9 = SENT, .r10 = SENT };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 2, TDH_SYS_LP_INIT, &a));
	/* RCX, RDX, R8 are zeroed; nothing else is written. */
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	assert_int_equal(a.r9, SENT);
	assert_int_equal(a.r10, SENT);
	assert_tdx_status(TDX_SUCCESS, sys_rd_status(s, 2));
	/* Only that LP is initialised. */
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_rd_status(s, 3));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__all_lps_enable_sys_config(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	struct tsim_tdmrs t;
	tsim_build_tdmrs(s, &t);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	for (unsigned i = 0; i + 1 < info.n_lps; i++)
		assert_tdx_status(TDX_SUCCESS, lp_init(s, i));
	/* One LP missing: SYS.CONFIG refuses. */
	assert_tdx_status(TDX_SYS_CONFIG_NOT_PENDING, tsim_sys_config(s, &t));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, info.n_lps - 1));
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, &t));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = { .rcx = SENT, .rdx = SENT, .r8 = SENT };
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_PENDING, seamcall_raw(s, 0, TDH_SYS_LP_INIT, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	/* The LP was not marked initialised. */
	tsim_sys_init(s);
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__twice(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 1));
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, 1));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__twice_does_not_count_twice(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	struct tsim_tdmrs t;
	tsim_build_tdmrs(s, &t);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	/* n_lps - 1 distinct LPs plus repeats: still not every LP. */
	for (unsigned i = 0; i + 1 < info.n_lps; i++) {
		assert_tdx_status(TDX_SUCCESS, lp_init(s, i));
		assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, i));
	}
	assert_tdx_status(TDX_SYS_CONFIG_NOT_PENDING, tsim_sys_config(s, &t));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__after_sys_config(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	struct tsim_tdmrs t;
	tsim_build_tdmrs(s, &t);
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, &t));
	/* The state check comes before the per-LP check. */
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_PENDING, lp_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__after_ready_accepted(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_ready(s, &t);
	/* tdxsim accepts LP.INIT in READY (intentional; module 1.5.01 answers
	 * SYS_LP_INIT_NOT_PENDING). Every LP is initialised already. */
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, 3));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_ready(s, &t);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
	assert_tdx_status(TDX_SYS_SHUTDOWN, lp_init(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__sys_busy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	unsigned id = tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_LP_INIT, 4, 1, 1);
	struct tdx_module_args a = { .rcx = SENT };
	assert_tdx_status(TDX_SYS_BUSY, seamcall_raw(s, 4, TDH_SYS_LP_INIT, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(tsim_fault_fired(s, id), 1);
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_rd_status(s, 4));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 4));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__sys_busy_before_state_check(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_LP_INIT, -1, 1, 1);
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 0));
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_PENDING, lp_init(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__fault_only_on_its_lp(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	unsigned id = tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_LP_INIT, 6, 1, 0);
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 5));
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 6));
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 6));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 7));
	assert_int_equal(tsim_fault_fired(s, id), 2);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__rnd_no_entropy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	unsigned id = tsim_fault(s, TDX_RND_NO_ENTROPY, TDH_SYS_LP_INIT, -1, 1, 1);
	assert_tdx_status(TDX_RND_NO_ENTROPY, lp_init(s, 0));
	assert_int_equal(tsim_fault_fired(s, id), 1);
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_rd_status(s, 0));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));
	assert_tdx_status(TDX_SUCCESS, sys_rd_status(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__rnd_after_lp_done_check(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));
	unsigned id = tsim_fault(s, TDX_RND_NO_ENTROPY, TDH_SYS_LP_INIT, -1, 1, 0);
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, 0));
	assert_int_equal(tsim_fault_fired(s, id), 0);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.leaf = TDH_SYS_LP_INIT;
	f.nth = 1;
	f.status = TDX_KEY_GENERATION_FAILED;
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.status = TDX_OPERAND_BUSY;
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	tsim_sys_init(s);
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_init__without_vmxon(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	assert_int_equal(tdxsim_vmx_put(s, 3), TDXSIM_OK);
	assert_tdx_status(TDX_SEAMCALL_UD, lp_init(s, 3));
	assert_int_equal(tdxsim_vmx_get(s, 3), TDXSIM_OK);
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 3));
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_lp_init__success),
		cmocka_unit_test(test_tdh_sys_lp_init__all_lps_enable_sys_config),
		cmocka_unit_test(test_tdh_sys_lp_init__before_sys_init),
		cmocka_unit_test(test_tdh_sys_lp_init__twice),
		cmocka_unit_test(test_tdh_sys_lp_init__twice_does_not_count_twice),
		cmocka_unit_test(test_tdh_sys_lp_init__after_sys_config),
		cmocka_unit_test(test_tdh_sys_lp_init__after_ready_accepted),
		cmocka_unit_test(test_tdh_sys_lp_init__after_shutdown),
		cmocka_unit_test(test_tdh_sys_lp_init__sys_busy),
		cmocka_unit_test(test_tdh_sys_lp_init__sys_busy_before_state_check),
		cmocka_unit_test(test_tdh_sys_lp_init__fault_only_on_its_lp),
		cmocka_unit_test(test_tdh_sys_lp_init__rnd_no_entropy),
		cmocka_unit_test(test_tdh_sys_lp_init__rnd_after_lp_done_check),
		cmocka_unit_test(test_tdh_sys_lp_init__fault_refuses_unreachable_status),
		cmocka_unit_test(test_tdh_sys_lp_init__without_vmxon),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
