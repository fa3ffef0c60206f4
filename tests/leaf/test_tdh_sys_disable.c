/*
 * TDH.SYS.DISABLE (69): not in module 1.5.01 (tdx-abi.md section 0); tdxsim's
 * documented model (seam/leaf/tdh_sys_disable.c, docs/architecture.md):
 * accepted in every state (SYS_SHUTDOWN included, repeats too); exclusive
 * global lock (SYS_BUSY), another LP inside the module (SYS_BUSY); then the
 * module is back in SYSINIT_PENDING with every LP uninitialised, no TDMRs and
 * no global KeyID, until TDH.SYS.INIT starts a full reinitialisation.
 * No outputs.
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
		w[i] = 0x0202020202020202ULL * (i + 1);
	return a;
}

static inline uint64_t disable(tdxsim *s, unsigned lp)
{
	struct tdx_module_args a = pattern(), want = pattern();
	uint64_t st = seamcall_raw(s, lp, TDH_SYS_DISABLE, &a);
	assert_memory_equal(&a, &want, sizeof(a));
	return st;
}

static inline uint64_t sys_rd(tdxsim *s)
{
	struct tdx_module_args a = { .rdx = MD_SYS_MAX_TDMRS };
	return seamcall_raw(s, 0, TDH_SYS_RD, &a);
}

static void test_tdh_sys_disable__in_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	assert_int_equal(tdxsim_global_keyid(s), info.first_tdx_keyid);
	assert_tdx_status(TDX_SUCCESS, sys_rd(s));
	assert_tdx_status(TDX_SUCCESS, disable(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	assert_int_equal(tdxsim_global_keyid(s), 0);
	/* Every LP is uninitialised again; READY-only leaves are gated. */
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_rd(s));
	struct tdx_module_args a = { .rcx = 0 };
	assert_tdx_status(TDX_SYS_NOT_READY, seamcall_raw(s, 0, TDH_SYS_TDMR_INIT, &a));
	struct tdx_module_args b = { .rcx = 0x100000 };
	assert_tdx_status(TDX_SYS_NOT_READY, seamcall_raw(s, 0, TDH_PHYMEM_PAGE_RDMD, &b));
	struct tdx_module_args c = { 0 };
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_PENDING, seamcall_raw(s, 0, TDH_SYS_LP_INIT, &c));
	assert_tdx_status(TDX_SYS_KEY_CONFIG_NOT_PENDING, seamcall_raw(s, 0, TDH_SYS_KEY_CONFIG, &c));
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 3, TDH_SYS_LP_SHUTDOWN, &c));
	/* No PAMT any more. */
	unsigned type;
	assert_int_equal(tdxsim_pamt_lookup(s, 0x100000, &type, NULL, NULL), TDXSIM_ERR_NOENT);
	tdxsim_close(s);
}

static void test_tdh_sys_disable__full_reinitialisation(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	assert_tdx_status(TDX_SUCCESS, disable(s, 5));
	/* The whole bring-up runs again, TDMR.INIT from the start included. */
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	tsim_build_tdmrs(s, &t);
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, &t));
	tsim_key_config_all(s);
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	struct tdx_module_args a = { .rcx = t.info[0].base };
	seamcall_ok(s, 0, TDH_SYS_TDMR_INIT, &a);
	assert_int_equal(a.rdx, t.info[0].base);
	tsim_tdmr_init_all(s, &t);
	struct tdx_module_args b = { .rcx = 0x100000 };
	seamcall_ok(s, 0, TDH_PHYMEM_PAGE_RDMD, &b);
	assert_int_equal(b.rcx, PT_NDA);
	tdxsim_close(s);
}

static void test_tdh_sys_disable__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_tdx_status(TDX_SUCCESS, disable(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	tdxsim_close(s);
}

static void test_tdh_sys_disable__sysinit_done(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	assert_tdx_status(TDX_SUCCESS, sys_rd(s));
	assert_tdx_status(TDX_SUCCESS, disable(s, 1));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_rd(s));
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_PENDING, seamcall_raw(s, 1, TDH_SYS_LP_INIT, &a));
	tsim_sys_init(s);
	/* LP.INIT counts from zero again: SYS.CONFIG needs every LP anew. */
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 1, TDH_SYS_LP_INIT, &a));
	struct tsim_tdmrs t;
	tsim_build_tdmrs(s, &t);
	assert_tdx_status(TDX_SYS_CONFIG_NOT_PENDING, tsim_sys_config(s, &t));
	tdxsim_close(s);
}

static void test_tdh_sys_disable__twice(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	assert_tdx_status(TDX_SUCCESS, disable(s, 0));
	assert_tdx_status(TDX_SUCCESS, disable(s, 4));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void test_tdh_sys_disable__after_sys_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
	assert_tdx_status(TDX_SYS_SHUTDOWN, sys_rd(s));
	assert_tdx_status(TDX_SUCCESS, disable(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_rd(s));
	tdxsim_close(s);
}

static void test_tdh_sys_disable__sys_busy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_SYS_BUSY;
	f.leaf = TDH_SYS_DISABLE;
	f.nth = 1;
	f.count = 2;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	/* Linux 7.3 repeats while SYS_BUSY; nothing changes meanwhile. */
	assert_tdx_status(TDX_SYS_BUSY, disable(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	assert_tdx_status(TDX_SUCCESS, sys_rd(s));
	assert_tdx_status(TDX_SYS_BUSY, disable(s, 0));
	assert_tdx_status(TDX_SUCCESS, disable(s, 0));
	uint64_t n = 0;
	assert_int_equal(tdxsim_fault_fired(s, id, &n), TDXSIM_OK);
	assert_int_equal(n, 2);
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void test_tdh_sys_disable__version_1(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = { 0 };
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX),
			  seamcall_raw(s, 0, TDH_SYS_DISABLE | (1ULL << TDX_VERSION_SHIFT), &a));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void test_tdh_sys_disable__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	static const uint64_t st[] = { TDX_KEY_GENERATION_FAILED, TDX_RND_NO_ENTROPY, TDX_OPERAND_BUSY };
	for (unsigned i = 0; i < 3; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.leaf = TDH_SYS_DISABLE;
		f.nth = 1;
		f.status = st[i];
		assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	}
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_disable__in_ready),
		cmocka_unit_test(test_tdh_sys_disable__full_reinitialisation),
		cmocka_unit_test(test_tdh_sys_disable__before_sys_init),
		cmocka_unit_test(test_tdh_sys_disable__sysinit_done),
		cmocka_unit_test(test_tdh_sys_disable__twice),
		cmocka_unit_test(test_tdh_sys_disable__after_sys_shutdown),
		cmocka_unit_test(test_tdh_sys_disable__sys_busy),
		cmocka_unit_test(test_tdh_sys_disable__version_1),
		cmocka_unit_test(test_tdh_sys_disable__fault_refuses_unreachable_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
