/*
 * TDH.SYS.INIT (33): /tmp/research/sys-leaves.md section 1, tdx-abi.md 6.1.
 * Order: outputs zeroed; global lock (SYS_BUSY); RCX != 0 (OPERAND_INVALID+RCX);
 * state != SYSINIT_PENDING (SYS_INIT_NOT_PENDING); RDRAND (RND_NO_ENTROPY).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL

static inline uint64_t sys_init(tdxsim *s, uint64_t rcx)
{
	struct tdx_module_args a = { .rcx = rcx };
	return seamcall_raw(s, 0, TDH_SYS_INIT, &a);
}

static void test_tdh_sys_init__success(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	struct tdx_module_args a = { .rcx = 0, .rdx = SENT, .r8 = SENT, .r9 = SENT, .r10 = SENT,
				     .r11 = SENT, .r12 = SENT };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	/* The leaf zeroes RCX, RDX, R8, R9, R10 on entry and leaves the rest. */
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10, 0);
	assert_int_equal(a.r11, SENT);
	assert_int_equal(a.r12, SENT);
	/* SYSINIT_DONE is what LP.INIT needs. */
	struct tdx_module_args b = { 0 };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 1, TDH_SYS_LP_INIT, &b));
	tdxsim_close(s);
}

static void test_tdh_sys_init__any_lp(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 5, TDH_SYS_INIT, &a));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_init__rcx_nonzero(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = { .rcx = 1, .rdx = SENT };
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
			  seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
			  sys_init(s, 1ULL << 63));
	/* The state stays PENDING: a retry with RCX = 0 succeeds. */
	assert_tdx_status(TDX_SUCCESS, sys_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_init__rcx_checked_before_state(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_tdx_status(TDX_SUCCESS, sys_init(s, 0));
	/* RCX is checked before the state: a repeat with RCX != 0 is OPERAND_INVALID+RCX. */
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), sys_init(s, 2));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_init__twice(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_tdx_status(TDX_SUCCESS, sys_init(s, 0));
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, sys_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	/* The repeat must not have reset the LP bookkeeping. */
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_LP_INIT, &a));
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, sys_init(s, 0));
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, seamcall_raw(s, 0, TDH_SYS_LP_INIT, &a));
	tdxsim_close(s);
}

static void test_tdh_sys_init__after_sys_config(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, sys_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_init__after_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_ready(s, &t);
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, sys_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	tdxsim_close(s);
}

static void test_tdh_sys_init__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_ready(s, &t);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
	assert_tdx_status(TDX_SYS_SHUTDOWN, sys_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_SHUTDOWN_STATE);
	tdxsim_close(s);
}

static void test_tdh_sys_init__sys_busy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	unsigned id = tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_INIT, -1, 1, 1);
	struct tdx_module_args a = { .rdx = SENT };
	assert_tdx_status(TDX_SYS_BUSY, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	assert_int_equal(a.rdx, 0);            /* zeroed before the lock */
	assert_int_equal(tsim_fault_fired(s, id), 1);
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	assert_tdx_status(TDX_SUCCESS, sys_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_init__sys_busy_before_rcx_check(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_fault(s, TDX_SYS_BUSY, TDH_SYS_INIT, -1, 1, 1);
	assert_tdx_status(TDX_SYS_BUSY, sys_init(s, 1));
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), sys_init(s, 1));
	tdxsim_close(s);
}

static void test_tdh_sys_init__rnd_no_entropy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	unsigned id = tsim_fault(s, TDX_RND_NO_ENTROPY, TDH_SYS_INIT, -1, 1, 1);
	assert_tdx_status(TDX_RND_NO_ENTROPY, sys_init(s, 0));
	assert_int_equal(tsim_fault_fired(s, id), 1);
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	assert_tdx_status(TDX_SUCCESS, sys_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_init__rnd_after_state_check(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_tdx_status(TDX_SUCCESS, sys_init(s, 0));
	unsigned id = tsim_fault(s, TDX_RND_NO_ENTROPY, TDH_SYS_INIT, -1, 1, 0);
	/* RDRAND comes after the state check: a repeat never reaches it. */
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, sys_init(s, 0));
	assert_int_equal(tsim_fault_fired(s, id), 0);
	tdxsim_close(s);
}

static void test_tdh_sys_init__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.leaf = TDH_SYS_INIT;
	f.nth = 1;
	f.status = TDX_KEY_GENERATION_FAILED;   /* SYS.INIT programs no key */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.status = TDX_OPERAND_BUSY;            /* SYS.INIT locks no operand */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	assert_tdx_status(TDX_SUCCESS, sys_init(s, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_init__version_1(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = { 0 };
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
			  seamcall_raw(s, 0, TDH_SYS_INIT | (1ULL << TDX_VERSION_SHIFT), &a));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void test_tdh_sys_init__without_vmxon(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	assert_tdx_status(TDX_SEAMCALL_UD, sys_init(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_init__success),
		cmocka_unit_test(test_tdh_sys_init__any_lp),
		cmocka_unit_test(test_tdh_sys_init__rcx_nonzero),
		cmocka_unit_test(test_tdh_sys_init__rcx_checked_before_state),
		cmocka_unit_test(test_tdh_sys_init__twice),
		cmocka_unit_test(test_tdh_sys_init__after_sys_config),
		cmocka_unit_test(test_tdh_sys_init__after_ready),
		cmocka_unit_test(test_tdh_sys_init__after_shutdown),
		cmocka_unit_test(test_tdh_sys_init__sys_busy),
		cmocka_unit_test(test_tdh_sys_init__sys_busy_before_rcx_check),
		cmocka_unit_test(test_tdh_sys_init__rnd_no_entropy),
		cmocka_unit_test(test_tdh_sys_init__rnd_after_state_check),
		cmocka_unit_test(test_tdh_sys_init__fault_refuses_unreachable_status),
		cmocka_unit_test(test_tdh_sys_init__version_1),
		cmocka_unit_test(test_tdh_sys_init__without_vmxon),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
