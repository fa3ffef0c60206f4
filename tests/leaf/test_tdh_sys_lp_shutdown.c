/*
 * TDH.SYS.LP.SHUTDOWN (44): /tmp/research/sys-leaves.md section 10.
 * Deprecated: SUCCESS in every state (SYS_SHUTDOWN included), no checks, no
 * outputs, no effect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

static inline struct tdx_module_args pattern(void)
{
	struct tdx_module_args a;
	uint64_t *w = (uint64_t *)&a;
	for (unsigned i = 0; i < sizeof(a) / 8; i++)
		w[i] = 0x1111111111111111ULL * (i + 1);
	return a;
}

/* SUCCESS, every register back as it went in, the state unchanged. */
static inline void expect_noop(tdxsim *s, unsigned lp)
{
	enum tdx_sys_state st = tdxsim_module_state(s);
	struct tdx_module_args a = pattern(), want = pattern();
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, lp, TDH_SYS_LP_SHUTDOWN, &a));
	assert_memory_equal(&a, &want, sizeof(a));
	assert_int_equal(tdxsim_module_state(s), st);
}

static void test_tdh_sys_lp_shutdown__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	expect_noop(s, 0);
	/* No effect: SYS.INIT still runs. */
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_INIT, &a);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_shutdown__sysinit_done(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	expect_noop(s, 3);
	/* The LP can still be initialised, and LP.SHUTDOWN does not undo it. */
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 3, TDH_SYS_LP_INIT, &a);
	expect_noop(s, 3);
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, seamcall_raw(s, 3, TDH_SYS_LP_INIT, &a));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_shutdown__ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	expect_noop(s, 0);
	expect_noop(s, 7);
	/* The module keeps serving. */
	struct tdx_module_args a = { .rdx = MD_SYS_MAX_TDMRS };
	seamcall_ok(s, 7, TDH_SYS_RD, &a);
	assert_int_equal(a.r8, 64);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_shutdown__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_SHUTDOWN_STATE);
	/* The one leaf the module still answers. */
	expect_noop(s, 0);
	expect_noop(s, 5);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_shutdown__after_disable(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_DISABLE, &a);
	expect_noop(s, 1);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_shutdown__lp_not_initialised(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_LP_INIT, &a);
	/* No LP-init check. */
	expect_noop(s, 6);
	tdxsim_close(s);
}

static void test_tdh_sys_lp_shutdown__version_1(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = { 0 };
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
			  seamcall_raw(s, 0, TDH_SYS_LP_SHUTDOWN | (1ULL << TDX_VERSION_SHIFT), &a));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_shutdown__without_vmxon(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SEAMCALL_UD, seamcall_raw(s, 0, TDH_SYS_LP_SHUTDOWN, &a));
	tdxsim_close(s);
}

static void test_tdh_sys_lp_shutdown__fault_refuses_every_status(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	static const uint64_t st[] = { TDX_KEY_GENERATION_FAILED, TDX_RND_NO_ENTROPY,
				       TDX_SYS_BUSY, TDX_OPERAND_BUSY };
	for (unsigned i = 0; i < 4; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.leaf = TDH_SYS_LP_SHUTDOWN;
		f.nth = 1;
		f.status = st[i];
		assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	}
	expect_noop(s, 0);
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_lp_shutdown__before_sys_init),
		cmocka_unit_test(test_tdh_sys_lp_shutdown__sysinit_done),
		cmocka_unit_test(test_tdh_sys_lp_shutdown__ready),
		cmocka_unit_test(test_tdh_sys_lp_shutdown__after_shutdown),
		cmocka_unit_test(test_tdh_sys_lp_shutdown__after_disable),
		cmocka_unit_test(test_tdh_sys_lp_shutdown__lp_not_initialised),
		cmocka_unit_test(test_tdh_sys_lp_shutdown__version_1),
		cmocka_unit_test(test_tdh_sys_lp_shutdown__without_vmxon),
		cmocka_unit_test(test_tdh_sys_lp_shutdown__fault_refuses_every_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
