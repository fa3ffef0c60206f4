/*
 * TDH.SYS.SHUTDOWN (52): /tmp/research/sys-leaves.md section 10, tdx-abi.md 6.1.
 * Needs SYS_READY (dispatcher). Order: RCX outside [MIN_UPDATE_HV, MODULE_HV]
 * (OPERAND_INVALID+RCX); exclusive global lock (SYS_BUSY); another LP inside
 * the module (SYS_BUSY, state back to READY). Success: SYS_SHUTDOWN state;
 * afterwards every leaf but 44 answers SYS_SHUTDOWN (tdxsim also accepts 69
 * SYS.DISABLE then, a documented addition, see test_tdh_sys_disable.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

static inline uint64_t module_hv(tdxsim *s)
{
	struct tdx_module_args a = { .rdx = MD_SYS_MODULE_HV };
	seamcall_ok(s, 0, TDH_SYS_RD, &a);
	return a.r8;
}

static inline uint64_t shutdown(tdxsim *s, unsigned lp, uint64_t hv)
{
	struct tdx_module_args a = { .rcx = hv };
	return seamcall_raw(s, lp, TDH_SYS_SHUTDOWN, &a);
}

static inline struct tdx_module_args pattern(void)
{
	struct tdx_module_args a;
	uint64_t *w = (uint64_t *)&a;
	for (unsigned i = 0; i < sizeof(a) / 8; i++)
		w[i] = 0x0101010101010101ULL * (i + 1);
	return a;
}

static void test_tdh_sys_shutdown__success(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	uint64_t hv = module_hv(s);          /* what Linux 7.3 passes */
	struct tdx_module_args a = pattern(), want = pattern();
	a.rcx = want.rcx = hv;
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 2, TDH_SYS_SHUTDOWN, &a));
	/* No outputs. */
	assert_memory_equal(&a, &want, sizeof(a));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_SHUTDOWN_STATE);
	tdxsim_close(s);
}

static void test_tdh_sys_shutdown__rcx_above_module_hv(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	uint64_t hv = module_hv(s);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), shutdown(s, 0, hv + 1));
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), shutdown(s, 0, ~0ULL));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	/* Still serving. */
	struct tdx_module_args a = { .rdx = MD_SYS_MAX_TDMRS };
	seamcall_ok(s, 0, TDH_SYS_RD, &a);
	tdxsim_close(s);
}

static void test_tdh_sys_shutdown__rcx_checked_before_lock(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	unsigned id = tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_SHUTDOWN, -1, 1, 0);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
			  shutdown(s, 0, module_hv(s) + 1));
	assert_int_equal(tsim_fault_fired(s, id), 0);
	tdxsim_close(s);
}

static void test_tdh_sys_shutdown__sys_busy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	unsigned id = tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_SHUTDOWN, -1, 1, 1);
	assert_tdx_status(TDX_SYS_BUSY, shutdown(s, 0, module_hv(s)));
	assert_int_equal(tsim_fault_fired(s, id), 1);
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	assert_tdx_status(TDX_SUCCESS, shutdown(s, 0, module_hv(s)));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_SHUTDOWN_STATE);
	tdxsim_close(s);
}

static void test_tdh_sys_shutdown__every_leaf_but_44_refused(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	assert_tdx_status(TDX_SUCCESS, shutdown(s, 0, 0));
	for (uint64_t leaf = 0; leaf <= 0x100; leaf++) {
		if (leaf == TDH_SYS_LP_SHUTDOWN || leaf == TDH_SYS_DISABLE)
			continue;
		struct tdx_module_args a = pattern(), want = pattern();
		uint64_t st = seamcall_raw(s, (unsigned)(leaf % 8), leaf, &a);
		if (st != TDX_SYS_SHUTDOWN)
			fail_msg("leaf %llu after SYS.SHUTDOWN: 0x%016llx", (unsigned long long)leaf,
				 (unsigned long long)st);
		assert_memory_equal(&a, &want, sizeof(a));
	}
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SYS_SHUTDOWN, seamcall_raw(s, 0, 0xFFFF, &a));
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_LP_SHUTDOWN, &a));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_SHUTDOWN_STATE);
	tdxsim_close(s);
}

static void test_tdh_sys_shutdown__twice(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	assert_tdx_status(TDX_SUCCESS, shutdown(s, 0, 0));
	assert_tdx_status(TDX_SYS_SHUTDOWN, shutdown(s, 1, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_shutdown__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_tdx_status(TDX_SYS_NOT_READY, shutdown(s, 0, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void test_tdh_sys_shutdown__before_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	assert_tdx_status(TDX_SYS_NOT_READY, shutdown(s, 0, 0));
	tsim_build_tdmrs(s, &t);
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, &t));
	/* Dispatcher gate before the RCX check. */
	assert_tdx_status(TDX_SYS_NOT_READY, shutdown(s, 0, 1));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_shutdown__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	static const uint64_t st[] = { TDX_KEY_GENERATION_FAILED, TDX_RND_NO_ENTROPY, TDX_OPERAND_BUSY };
	for (unsigned i = 0; i < 3; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.leaf = TDH_SYS_SHUTDOWN;
		f.nth = 1;
		f.status = st[i];
		assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	}
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_shutdown__success),
		cmocka_unit_test(test_tdh_sys_shutdown__rcx_above_module_hv),
		cmocka_unit_test(test_tdh_sys_shutdown__rcx_checked_before_lock),
		cmocka_unit_test(test_tdh_sys_shutdown__sys_busy),
		cmocka_unit_test(test_tdh_sys_shutdown__every_leaf_but_44_refused),
		cmocka_unit_test(test_tdh_sys_shutdown__twice),
		cmocka_unit_test(test_tdh_sys_shutdown__before_sys_init),
		cmocka_unit_test(test_tdh_sys_shutdown__before_ready),
		cmocka_unit_test(test_tdh_sys_shutdown__fault_refuses_unreachable_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
