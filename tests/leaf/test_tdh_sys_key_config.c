/*
 * TDH.SYS.KEY.CONFIG (31): /tmp/research/sys-leaves.md section 7, tdx-abi.md 6.1.
 * Order: exclusive global lock (SYS_BUSY); state != SYSCONFIG_DONE
 * (SYS_KEY_CONFIG_NOT_PENDING); package already configured (KEY_CONFIGURED, ok);
 * PCONFIG: entropy (KEY_GENERATION_FAILED) or engine busy (OPERAND_BUSY+KET),
 * the package bit cleared again. The last package makes the module READY.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL

static inline uint64_t key_config(tdxsim *s, unsigned lp)
{
	struct tdx_module_args a = { 0 };
	return seamcall_raw(s, lp, TDH_SYS_KEY_CONFIG, &a);
}

/* Default topology: 2 packages of 4 LPs; LPs 0-3 are package 0, 4-7 package 1. */
#define PKG0_LP 0
#define PKG0_LP_B 2
#define PKG1_LP 4

static void test_tdh_sys_key_config__success(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	unsigned pkg = 9;
	assert_int_equal(tdxsim_lp_package(s, PKG1_LP, &pkg), TDXSIM_OK);
	assert_int_equal(pkg, 1);
	struct tdx_module_args a = { .rcx = SENT, .rdx = SENT, .r8 = SENT };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, PKG0_LP, TDH_SYS_KEY_CONFIG, &a));
	/* No outputs. */
	assert_int_equal(a.rcx, SENT);
	assert_int_equal(a.rdx, SENT);
	assert_int_equal(a.r8, SENT);
	/* One package of two: not READY yet. */
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__last_package_makes_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG1_LP));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG0_LP_B));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__single_package(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.packages = 1;
	tdxsim *s = tsim_create(&cfg);
	tsim_vmxon_all(s);
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	assert_tdx_status(TDX_SUCCESS, key_config(s, 1));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	/* On one package the second call always finds the module READY. */
	assert_tdx_status(TDX_SYS_KEY_CONFIG_NOT_PENDING, key_config(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_tdx_status(TDX_SYS_KEY_CONFIG_NOT_PENDING, key_config(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__before_sys_config(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	assert_tdx_status(TDX_SYS_KEY_CONFIG_NOT_PENDING, key_config(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__twice_while_other_pending(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG0_LP));
	assert_tdx_status(TDX_KEY_CONFIGURED, key_config(s, PKG0_LP));
	/* Any LP of the package: the package is what counts. */
	assert_tdx_status(TDX_KEY_CONFIGURED, key_config(s, PKG0_LP_B));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	/* The repeats did not count as the second package. */
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG1_LP));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__after_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	tsim_key_config_all(s);
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	assert_tdx_status(TDX_SYS_KEY_CONFIG_NOT_PENDING, key_config(s, PKG0_LP));
	assert_tdx_status(TDX_SYS_KEY_CONFIG_NOT_PENDING, key_config(s, PKG1_LP));
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	tsim_key_config_all(s);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
	assert_tdx_status(TDX_SYS_SHUTDOWN, key_config(s, PKG0_LP));
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__sys_busy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	unsigned id = tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_KEY_CONFIG, -1, 1, 1);
	assert_tdx_status(TDX_SYS_BUSY, key_config(s, PKG0_LP));
	assert_int_equal(tsim_fault_fired(s, id), 1);
	/* The package was not configured: the retry programs it. */
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG0_LP));
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__sys_busy_before_state_check(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_KEY_CONFIG, -1, 1, 1);
	assert_tdx_status(TDX_SYS_BUSY, key_config(s, 0));
	assert_tdx_status(TDX_SYS_KEY_CONFIG_NOT_PENDING, key_config(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__key_generation_failed(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG0_LP));
	unsigned id = tsim_fault(s, TDX_KEY_GENERATION_FAILED, TDH_SYS_KEY_CONFIG, -1, 1, 1);
	assert_tdx_status(TDX_KEY_GENERATION_FAILED, key_config(s, PKG1_LP));
	assert_int_equal(tsim_fault_fired(s, id), 1);
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	/* The package bit was cleared: a retry succeeds (not KEY_CONFIGURED). */
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG1_LP));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__operand_busy_ket(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	unsigned id = tsim_fault(s, TDX_OPERAND_BUSY, TDH_SYS_KEY_CONFIG, -1, 1, 1);
	assert_tdx_status(0x80000200000000BBULL, key_config(s, PKG0_LP));
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KET), 0x80000200000000BBULL);
	assert_int_equal(tsim_fault_fired(s, id), 1);
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG0_LP));
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG1_LP));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__configured_before_pconfig(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	assert_tdx_status(TDX_SUCCESS, key_config(s, PKG0_LP));
	unsigned k = tsim_fault(s, TDX_KEY_GENERATION_FAILED, TDH_SYS_KEY_CONFIG, -1, 1, 0);
	unsigned b = tsim_fault(s, TDX_OPERAND_BUSY, TDH_SYS_KEY_CONFIG, -1, 1, 0);
	/* The package check comes before PCONFIG: no key is generated. */
	assert_tdx_status(TDX_KEY_CONFIGURED, key_config(s, PKG0_LP));
	assert_int_equal(tsim_fault_fired(s, k), 0);
	assert_int_equal(tsim_fault_fired(s, b), 0);
	tdxsim_close(s);
}

static void test_tdh_sys_key_config__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.leaf = TDH_SYS_KEY_CONFIG;
	f.nth = 1;
	f.status = TDX_RND_NO_ENTROPY;
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.status = TDX_KEY_CONFIGURED;          /* not an injectable status */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_key_config__success),
		cmocka_unit_test(test_tdh_sys_key_config__last_package_makes_ready),
		cmocka_unit_test(test_tdh_sys_key_config__single_package),
		cmocka_unit_test(test_tdh_sys_key_config__before_sys_init),
		cmocka_unit_test(test_tdh_sys_key_config__before_sys_config),
		cmocka_unit_test(test_tdh_sys_key_config__twice_while_other_pending),
		cmocka_unit_test(test_tdh_sys_key_config__after_ready),
		cmocka_unit_test(test_tdh_sys_key_config__after_shutdown),
		cmocka_unit_test(test_tdh_sys_key_config__sys_busy),
		cmocka_unit_test(test_tdh_sys_key_config__sys_busy_before_state_check),
		cmocka_unit_test(test_tdh_sys_key_config__key_generation_failed),
		cmocka_unit_test(test_tdh_sys_key_config__operand_busy_ket),
		cmocka_unit_test(test_tdh_sys_key_config__configured_before_pconfig),
		cmocka_unit_test(test_tdh_sys_key_config__fault_refuses_unreachable_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
