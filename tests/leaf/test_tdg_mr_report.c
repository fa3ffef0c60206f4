/*
 * TDG.MR.REPORT (4): tdx-abi.md 1.2; layout, check order and the MAC model
 * in seam/tdcall/tdg_mr_report.c. The test rebuilds the report's hashes and
 * its MAC independently (libcrypto) from the TD's measurements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tdcall_fixtures.h"

#define PAGE_GPA   0x100000ULL
#define REP_GPA    PAGE_GPA              /* 1024-aligned */
#define DATA_GPA   (PAGE_GPA + 0x400)    /* 64-aligned */
#define UNMAPPED   0x300000ULL
#define SHARED_BIT (1ULL << 47)

static uint8_t reportdata[64];

static void init(struct tfx *f)
{
	struct tfx_opts o = { .add_gpa = { PAGE_GPA } };
	tfx_init_opts(f, &o);
	for (int i = 0; i < 64; i++)
		reportdata[i] = (uint8_t)(0xC0 ^ i);
	tfx_priv_write(f, tfx_page_pa(f, PAGE_GPA) + 0x400, reportdata, 64);
}

static void read_report(struct tfx *f, uint8_t rep[1024])
{
	tfx_priv_read(f, tfx_page_pa(f, REP_GPA), rep, 1024);
}

static void sha384(const void *d, size_t n, uint8_t out[48])
{
	unsigned len;
	assert_int_equal(EVP_Digest(d, n, out, &len, EVP_sha384(), NULL), 1);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void test_tdg_mr_report__success(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	memset(f.t->rtmr[1], 0x11, 48);                 /* some RTMR content */
	tfx_expect(&f, TDX_SUCCESS, TDG_MR_REPORT, REP_GPA, DATA_GPA, 0, 0);
	tfx_assert_untouched(&f, GPR_RCX, GPR_R15);
	uint8_t rep[1024], h[48], zero[64] = { 0 };
	read_report(&f, rep);

	/* REPORTMACSTRUCT */
	assert_int_equal(rep[0], 0x81);                 /* TDX */
	assert_int_equal(rep[1], 0);                    /* subtype */
	assert_int_equal(rep[2], 0);                    /* version: no service TDs */
	assert_memory_equal(rep + 128, reportdata, 64);
	sha384(rep + 256, 239, h);
	assert_memory_equal(rep + 32, h, 48);           /* TEE_TCB_INFO_HASH */
	sha384(rep + 512, 512, h);
	assert_memory_equal(rep + 80, h, 48);           /* TEE_INFO_HASH */
	assert_memory_equal(rep + 192, zero, 32);       /* reserved */

	/* TDINFO */
	const uint8_t *ti = rep + 512;
	assert_int_equal(get64(ti + 0), f.t->attributes);
	assert_int_equal(get64(ti + 8), f.t->xfam);
	assert_memory_equal(ti + 16, f.t->mrtd, 48);
	assert_memory_equal(ti + 64, f.t->mrconfigid, 48);
	assert_memory_equal(ti + 112, f.t->mrowner, 48);
	assert_memory_equal(ti + 160, f.t->mrownerconfig, 48);
	assert_memory_equal(ti + 208, f.t->rtmr, 4 * 48);
	assert_memory_equal(ti + 400, zero, 48);        /* SERVTD_HASH */

	/* TEE_TCB_INFO: VALID and MRSEAM of the model. */
	assert_int_equal(get64(rep + 256), 0xFFFF);
	sha384("tdxsim TDX module", 17, h);
	assert_memory_equal(rep + 256 + 24, h, 48);

	/* MAC: HMAC-SHA-256 over bytes 0..223 with the per-seed key. */
	uint8_t msg[23 + 8], key[32], mac[32];
	unsigned len;
	memcpy(msg, "tdxsim TDREPORT MAC key", 23);
	for (int i = 0; i < 8; i++)
		msg[23 + i] = (uint8_t)(f.e.s->cfg.seed >> (8 * i));
	assert_int_equal(EVP_Digest(msg, sizeof(msg), key, &len, EVP_sha256(), NULL), 1);
	assert_non_null(HMAC(EVP_sha256(), key, 32, rep, 224, mac, &len));
	assert_memory_equal(rep + 224, mac, 32);

	/* A different REPORTDATA changes the MAC; RTMR changes show up. */
	reportdata[0] ^= 1;
	tfx_priv_write(&f, tfx_page_pa(&f, PAGE_GPA) + 0x400, reportdata, 64);
	tfx_expect(&f, TDX_SUCCESS, TDG_MR_REPORT, REP_GPA, DATA_GPA, 0, 0);
	uint8_t rep2[1024];
	read_report(&f, rep2);
	assert_memory_not_equal(rep2 + 224, rep + 224, 32);
	tfx_fini(&f);
}

/* Errors leave the report page untouched. */
static void expect_err(struct tfx *f, uint64_t status, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
	uint8_t before[1024], after[1024];
	read_report(f, before);
	tfx_expect(f, status, TDG_MR_REPORT, rcx, rdx, r8, 0);
	tfx_assert_untouched(f, GPR_RCX, GPR_R15);
	read_report(f, after);
	assert_memory_equal(before, after, 1024);
}

static void test_tdg_mr_report__report_misaligned(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	expect_err(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), REP_GPA + 0x200,
		   DATA_GPA + 1, 1);
	tfx_fini(&f);
}

static void test_tdg_mr_report__data_misaligned(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	expect_err(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX), REP_GPA,
		   DATA_GPA + 0x20, 1);
	tfx_fini(&f);
}

static void test_tdg_mr_report__data_above_gpaw(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	expect_err(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX), REP_GPA,
		   DATA_GPA | (1ULL << 48), 1);
	tfx_fini(&f);
}

/* REPORTDATA not mapped: EPT-violation TD exit (data read), before the
 * subtype is looked at. */
static void test_tdg_mr_report__data_unmapped_exit(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	assert_int_equal(tfx_call(&f, TDG_MR_REPORT, REP_GPA, UNMAPPED, 1, 0), SEAM_TDCALL_EXIT);
	tfx_assert_untouched(&f, GPR_RAX, GPR_R15);
	const struct seam_td_exit *x = &f.v[0]->tdcall_exit;
	assert_int_equal(x->status, TDX_SUCCESS | 48);
	assert_int_equal(x->exit_qual, 1);
	assert_int_equal(x->ext_exit_qual, 0);
	assert_int_equal(x->gpa, UNMAPPED);
	tfx_fini(&f);
}

static void test_tdg_mr_report__subtype(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	expect_err(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8), REP_GPA, DATA_GPA, 1);
	tfx_fini(&f);
}

static void test_tdg_mr_report__rtmr_busy(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	assert_true(seam_lock_try_ex(&f.t->rtmr_lock));     /* an RTMR.EXTEND in progress */
	expect_err(&f, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RTMR), REP_GPA, DATA_GPA, 0);
	seam_unlock_ex(&f.t->rtmr_lock);
	tfx_fini(&f);
}

static void test_tdg_mr_report__report_above_gpaw(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	expect_err(&f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
		   REP_GPA | (1ULL << 48), DATA_GPA, 0);
	tfx_fini(&f);
}

/* The TDREPORT page is not mapped: EPT-violation TD exit (data write). */
static void test_tdg_mr_report__report_unmapped_exit(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	assert_int_equal(tfx_call(&f, TDG_MR_REPORT, UNMAPPED, DATA_GPA, 0, 0), SEAM_TDCALL_EXIT);
	tfx_assert_untouched(&f, GPR_RAX, GPR_R15);
	const struct seam_td_exit *x = &f.v[0]->tdcall_exit;
	assert_int_equal(x->status, TDX_SUCCESS | 48);
	assert_int_equal(x->exit_qual, 3);
	assert_int_equal(x->gpa, UNMAPPED);
	tfx_fini(&f);
}

/* A shared REPORTDATA GPA whose shared EPT is not set up: TD exit for the
 * shared GPA (private-or-shared operand, not OPERAND_INVALID). */
static void test_tdg_mr_report__shared_data_unmapped_exit(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	assert_int_equal(tfx_call(&f, TDG_MR_REPORT, REP_GPA, DATA_GPA | SHARED_BIT, 0, 0),
			 SEAM_TDCALL_EXIT);
	const struct seam_td_exit *x = &f.v[0]->tdcall_exit;
	assert_int_equal(x->status, TDX_SUCCESS | 48);
	assert_int_equal(x->exit_qual, 1);
	assert_int_equal(x->gpa, (DATA_GPA | SHARED_BIT) & ~0xFFFULL);   /* bits 11:0 cleared */
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_mr_report__success),
		cmocka_unit_test(test_tdg_mr_report__report_misaligned),
		cmocka_unit_test(test_tdg_mr_report__data_misaligned),
		cmocka_unit_test(test_tdg_mr_report__data_above_gpaw),
		cmocka_unit_test(test_tdg_mr_report__data_unmapped_exit),
		cmocka_unit_test(test_tdg_mr_report__subtype),
		cmocka_unit_test(test_tdg_mr_report__rtmr_busy),
		cmocka_unit_test(test_tdg_mr_report__report_above_gpaw),
		cmocka_unit_test(test_tdg_mr_report__report_unmapped_exit),
		cmocka_unit_test(test_tdg_mr_report__shared_data_unmapped_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
