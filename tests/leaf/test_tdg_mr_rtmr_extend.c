/*
 * TDG.MR.RTMR.EXTEND (2): tdx-abi.md 1.2; seam/tdcall/tdg_mr_rtmr_extend.c.
 * RTMR[i] = SHA-384(RTMR[i] || 48-byte value at the GPA in RCX).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "tdcall_fixtures.h"

#define VAL_GPA 0x100000ULL
#define INVALID_RCX tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX)

static void init(struct tfx *f, uint8_t val[48])
{
	struct tfx_opts o = { .add_gpa = { VAL_GPA } };
	tfx_init_opts(f, &o);
	for (int i = 0; i < 48; i++)
		val[i] = (uint8_t)(0x40 + i);
	tfx_priv_write(f, tfx_page_pa(f, VAL_GPA) + 0x40, val, 48);
}

static void extend(uint8_t rtmr[48], const uint8_t val[48])
{
	uint8_t buf[96];
	unsigned len;
	memcpy(buf, rtmr, 48);
	memcpy(buf + 48, val, 48);
	assert_int_equal(EVP_Digest(buf, 96, rtmr, &len, EVP_sha384(), NULL), 1);
}

static void test_tdg_mr_rtmr_extend__success(void **state)
{
	(void)state;
	struct tfx f;
	uint8_t val[48], want[48] = { 0 }, zero[48] = { 0 };
	init(&f, val);
	tfx_expect(&f, TDX_SUCCESS, TDG_MR_RTMR_EXTEND, VAL_GPA + 0x40, 2, 0, 0);
	extend(want, val);
	assert_memory_equal(f.t->rtmr[2], want, 48);
	tfx_expect(&f, TDX_SUCCESS, TDG_MR_RTMR_EXTEND, VAL_GPA + 0x40, 2, 0, 0);
	extend(want, val);
	assert_memory_equal(f.t->rtmr[2], want, 48);
	for (int i = 0; i < 4; i++)
		if (i != 2)
			assert_memory_equal(f.t->rtmr[i], zero, 48);
	tfx_assert_untouched(&f, GPR_RCX, GPR_R15);
	tfx_fini(&f);
}

static void test_tdg_mr_rtmr_extend__misaligned(void **state)
{
	(void)state;
	struct tfx f;
	uint8_t val[48], zero[48] = { 0 };
	init(&f, val);
	tfx_expect(&f, INVALID_RCX, TDG_MR_RTMR_EXTEND, VAL_GPA + 0x20, 0, 0, 0);
	assert_memory_equal(f.t->rtmr[0], zero, 48);
	tfx_fini(&f);
}

static void test_tdg_mr_rtmr_extend__shared_gpa(void **state)
{
	(void)state;
	struct tfx f;
	uint8_t val[48];
	init(&f, val);
	tfx_expect(&f, INVALID_RCX, TDG_MR_RTMR_EXTEND, VAL_GPA | (1ULL << 47), 0, 0, 0);
	tfx_fini(&f);
}

static void test_tdg_mr_rtmr_extend__above_gpaw(void **state)
{
	(void)state;
	struct tfx f;
	uint8_t val[48];
	init(&f, val);
	tfx_expect(&f, INVALID_RCX, TDG_MR_RTMR_EXTEND, VAL_GPA | (1ULL << 48), 0, 0, 0);
	tfx_fini(&f);
}

/* The value's page is not mapped: EPT-violation TD exit (data read). */
static void test_tdg_mr_rtmr_extend__unmapped_exit(void **state)
{
	(void)state;
	struct tfx f;
	uint8_t val[48];
	init(&f, val);
	assert_int_equal(tfx_call(&f, TDG_MR_RTMR_EXTEND, 0x300000, 9, 0, 0), SEAM_TDCALL_EXIT);
	tfx_assert_untouched(&f, GPR_RAX, GPR_R15);
	const struct seam_td_exit *x = &f.v[0]->tdcall_exit;
	assert_int_equal(x->status, TDX_SUCCESS | 48);
	assert_int_equal(x->exit_qual, 1);
	assert_int_equal(x->ext_exit_qual, 0);
	assert_int_equal(x->gpa, 0x300000);
	tfx_fini(&f);
}

/* A PENDING page with TD_CTLS.PENDING_VE_DISABLE: the PENDING extended
 * exit qualification type (6). */
static void test_tdg_mr_rtmr_extend__pending_exit(void **state)
{
	(void)state;
	struct tfx f;
	uint8_t val[48];
	init(&f, val);
	tsim_page_aug(&f.td, 0x300000, 0);
	f.t->td_ctls = 1;
	assert_int_equal(tfx_call(&f, TDG_MR_RTMR_EXTEND, 0x300040, 0, 0, 0), SEAM_TDCALL_EXIT);
	const struct seam_td_exit *x = &f.v[0]->tdcall_exit;
	assert_int_equal(x->status, TDX_SUCCESS | 48);
	assert_int_equal(x->exit_qual, 1);
	assert_int_equal(x->ext_exit_qual, 6);
	assert_int_equal(x->gpa, 0x300000);     /* GPA 0x300040, bits 11:0 cleared */
	tfx_fini(&f);
}

static void test_tdg_mr_rtmr_extend__index(void **state)
{
	(void)state;
	struct tfx f;
	uint8_t val[48];
	init(&f, val);
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX),
		   TDG_MR_RTMR_EXTEND, VAL_GPA + 0x40, 4, 0, 0);
	tfx_fini(&f);
}

static void test_tdg_mr_rtmr_extend__rtmr_busy(void **state)
{
	(void)state;
	struct tfx f;
	uint8_t val[48], zero[48] = { 0 };
	init(&f, val);
	assert_true(seam_lock_try_sh(&f.t->rtmr_lock));     /* a MR.REPORT in progress */
	tfx_expect(&f, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RTMR),
		   TDG_MR_RTMR_EXTEND, VAL_GPA + 0x40, 1, 0, 0);
	seam_unlock_sh(&f.t->rtmr_lock);
	assert_memory_equal(f.t->rtmr[1], zero, 48);
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_mr_rtmr_extend__success),
		cmocka_unit_test(test_tdg_mr_rtmr_extend__misaligned),
		cmocka_unit_test(test_tdg_mr_rtmr_extend__shared_gpa),
		cmocka_unit_test(test_tdg_mr_rtmr_extend__above_gpaw),
		cmocka_unit_test(test_tdg_mr_rtmr_extend__unmapped_exit),
		cmocka_unit_test(test_tdg_mr_rtmr_extend__pending_exit),
		cmocka_unit_test(test_tdg_mr_rtmr_extend__index),
		cmocka_unit_test(test_tdg_mr_rtmr_extend__rtmr_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
