/*
 * TDH.MR.FINALIZE (17): tdx-abi.md 2.2, 6.3 row 13; check order in
 * seam/leaf/tdh_mr_finalize.c. RCX = TDR; no output register is written
 * (on success or error). The only operand lock is the TDR's (fault nth 1).
 *
 * MRTD known answer: the expected SHA-384 is computed here with libcrypto
 * from the module's record layout (tdh_mem_page_add.c, tdh_mr_extend.c):
 * PAGE.ADD adds one 128-byte block {"MEM.PAGE.ADD", zero padded to 16 bytes;
 * GPA (LE u64); zeros}; MR.EXTEND adds {"MR.EXTEND" padded to 16; GPA;
 * zeros} followed by the 256 data bytes. MRTD is read back with
 * TDH.MNG.RD (field MRTD, elements 0..5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/evp.h>

#define ROW_PREFIX test_tdh_mr_finalize
#define OWN_OP_STATE_ROW
/* Fixtures, and the rows test_tdh_mr_finalize__keys_not_configured and
 * __tdcs_not_allocated that main() registers. */
#include "td_page_fixtures.h"
#include "seam/metadata_td.h"

#define SENT    0x5A5A5A5A5A5A5A5AULL

static uint64_t fin(struct tsim_td *td, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = td->tdr, .rdx = SENT, .r8 = SENT, .r9 = SENT,
				       .r10 = SENT, .r11 = SENT };
	return seamcall_raw(td->e->s, 0, TDH_MR_FINALIZE, a);
}

/* No register is touched. */
static void expect_regs_kept(const struct tdx_module_args *a, uint64_t rcx)
{
	assert_int_equal(a->rcx, rcx);
	assert_int_equal(a->rdx, SENT);
	assert_int_equal(a->r8, SENT);
	assert_int_equal(a->r9, SENT);
	assert_int_equal(a->r10, SENT);
	assert_int_equal(a->r11, SENT);
}

static void expect_err(struct tsim_td *td, uint64_t status)
{
	struct tdx_module_args a;
	assert_tdx_status(status, fin(td, &a));
	expect_regs_kept(&a, td->tdr);
}

static void expect_early_err(struct fx *f, uint64_t status)
{
	expect_err(&f->td, status);
}

/* MRTD as the host reads it back: TDH.MNG.RD of the six MRTD elements
 * (little-endian qwords of the 48 bytes); cross-checked with the TDCS value
 * itself (test-only route). */
static void read_mrtd(struct tsim_td *td, uint8_t out[48])
{
	for (unsigned e = 0; e < 6; e++) {
		struct tdx_module_args a = { .rcx = td->tdr, .rdx = MD_TD_MRTD + e };
		seamcall_ok(td->e->s, 0, TDH_MNG_RD, &a);
		memcpy(out + 8 * e, &a.r8, 8);
	}
	assert_memory_equal(out, tsim_td_obj(td)->mrtd, 48);
}

/* ---- The expected hash, built independently ---- */

static void record(EVP_MD_CTX *ctx, const char *tag, uint64_t gpa)
{
	uint8_t blk[128] = { 0 };
	memcpy(blk, tag, strlen(tag));
	for (unsigned i = 0; i < 8; i++)
		blk[16 + i] = (uint8_t)(gpa >> (8 * i));
	assert_int_equal(EVP_DigestUpdate(ctx, blk, sizeof(blk)), 1);
}

static void test_tdh_mr_finalize__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)tsim_page_add(&f.td, 0x100000, NULL, true);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, fin(&f.td, &a));
	expect_regs_kept(&a, f.td.tdr);
	f.td.finalized = true;
	assert_int_equal(atomic_load(&tsim_td_obj(&f.td)->op_state), OP_RUNNABLE);
	/* Build leaves are over; runtime ones work. */
	struct tdx_module_args p = { .rcx = 0x101000, .rdx = f.td.tdr, .r8 = tsim_page(&f.e),
				     .r9 = f.td.shared + 0x1000 };
	assert_tdx_status(TDX_OP_STATE_INCORRECT, seamcall_raw(f.e.s, 0, TDH_MEM_PAGE_ADD, &p));
	struct tdx_module_args x = { .rcx = 0x100000, .rdx = f.td.tdr };
	assert_tdx_status(TDX_OP_STATE_INCORRECT, seamcall_raw(f.e.s, 0, TDH_MR_EXTEND, &x));
	(void)tsim_page_aug(&f.td, 0x102000, 0);
	fx_fini(&f);
}

/* 2 PAGE.ADDs + 32 MR.EXTENDs, in KVM's order (each page added, then its
 * 16 chunks extended). */
static void test_tdh_mr_finalize__mrtd_known_answer(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	static const uint64_t gpa[2] = { 0x100000, 0x2345000 };
	uint8_t src[2][4096];
	for (unsigned p = 0; p < 2; p++)
		for (unsigned i = 0; i < 4096; i++)
			src[p][i] = (uint8_t)(i * (p + 3) + (i >> 8) + p);
	for (unsigned p = 0; p < 2; p++)
		(void)tsim_page_add(&f.td, gpa[p], src[p], true);
	tsim_td_finalize(&f.td);

	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha384(), NULL), 1);
	for (unsigned p = 0; p < 2; p++) {
		record(ctx, "MEM.PAGE.ADD", gpa[p]);
		for (unsigned i = 0; i < 16; i++) {
			record(ctx, "MR.EXTEND", gpa[p] + 256 * i);
			assert_int_equal(EVP_DigestUpdate(ctx, src[p] + 256 * i, 256), 1);
		}
	}
	uint8_t want[48], got[48];
	unsigned len = 0;
	assert_int_equal(EVP_DigestFinal_ex(ctx, want, &len), 1);
	assert_int_equal(len, 48);
	EVP_MD_CTX_free(ctx);
	read_mrtd(&f.td, got);
	assert_memory_equal(got, want, 48);
	fx_fini(&f);
}

/* Nothing measured: MRTD = SHA-384 of the empty message. */
static void test_tdh_mr_finalize__mrtd_empty(void **state)
{
	(void)state;
	static const uint8_t sha384_empty[48] = {
		0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38, 0x4c, 0xd9, 0x32, 0x7e,
		0xb1, 0xb1, 0xe3, 0x6a, 0x21, 0xfd, 0xb7, 0x11, 0x14, 0xbe, 0x07, 0x43,
		0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6, 0xe1, 0xda, 0x27, 0x4e, 0xde, 0xbf,
		0xe7, 0x6f, 0x65, 0xfb, 0xd5, 0x1a, 0xd2, 0xf1, 0x48, 0x98, 0xb9, 0x5b,
	};
	struct fx f;
	fx_init(&f);
	tsim_td_finalize(&f.td);
	uint8_t got[48];
	read_mrtd(&f.td, got);
	assert_memory_equal(got, sha384_empty, 48);
	fx_fini(&f);
}

/* The module counts vCPUs from VP.INIT (which assigns the vCPU index), not
 * VP.CREATE: a created but uninitialised vCPU does not count. */
static void test_tdh_mr_finalize__no_vcpus_initialized(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td;
	tsim_env_init(&e);
	tsim_td_build(&e, &td, 0, 4);
	struct tdx_module_args c = { .rcx = tsim_page(&e), .rdx = td.tdr };
	seamcall_ok(e.s, 0, TDH_VP_CREATE, &c);
	expect_err(&td, TDX_NO_VCPUS);
	assert_int_equal(atomic_load(&tsim_td_obj(&td)->op_state), OP_INITIALIZED);
	tsim_env_fini(&e);
}

static void test_tdh_mr_finalize__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t tdr = f.td.tdr;
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	f.td.tdr = tdr + 0x10;
	expect_err(&f.td, want);
	f.td.tdr = tsim_keyed_pa(&f.e, tdr, f.td.hkid);
	expect_err(&f.td, want);
	f.td.tdr = tdr;
	assert_int_equal(atomic_load(&tsim_td_obj(&f.td)->op_state), OP_INITIALIZED);
	fx_fini(&f);
}

static void test_tdh_mr_finalize__tdr_addr_range(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.td.tdr = 1ULL << (f.e.keyid_shift - 1);
	expect_err(&f.td, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mr_finalize__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MR_FINALIZE, -1, 1, 1);
	expect_err(&f.td, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	assert_int_equal(atomic_load(&tsim_td_obj(&f.td)->op_state), OP_INITIALIZED);
	tsim_td_finalize(&f.td);
	fx_fini(&f);
}

static void test_tdh_mr_finalize__tdr_metadata(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t tdr = f.td.tdr;
	f.td.tdr = f.td.tdcs[0];
	expect_err(&f.td, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX));
	f.td.tdr = tsim_page(&f.e);
	expect_err(&f.td, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX));
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mr_finalize__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 1);
	expect_err(&f.td, TDX_TD_FATAL);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 0);
	assert_int_equal(atomic_load(&tsim_td_obj(&f.td)->op_state), OP_INITIALIZED);
	fx_fini(&f);
}

static void test_tdh_mr_finalize__op_state_incorrect(void **state)
{
	(void)state;
	expect_uninit_err();
	struct fx f;                                            /* a repeat */
	fx_init(&f);
	tsim_td_finalize(&f.td);
	uint8_t mrtd[48];
	read_mrtd(&f.td, mrtd);
	expect_err(&f.td, TDX_OP_STATE_INCORRECT);
	assert_memory_equal(tsim_td_obj(&f.td)->mrtd, mrtd, 48);
	fx_fini(&f);
}

static void test_tdh_mr_finalize__no_vcpus(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td;
	tsim_env_init(&e);
	tsim_td_build(&e, &td, 0, 4);
	expect_err(&td, TDX_NO_VCPUS);
	assert_int_equal(atomic_load(&tsim_td_obj(&td)->op_state), OP_INITIALIZED);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mr_finalize__success),
		cmocka_unit_test(test_tdh_mr_finalize__mrtd_known_answer),
		cmocka_unit_test(test_tdh_mr_finalize__mrtd_empty),
		cmocka_unit_test(test_tdh_mr_finalize__no_vcpus_initialized),
		cmocka_unit_test(test_tdh_mr_finalize__tdr_invalid),
		cmocka_unit_test(test_tdh_mr_finalize__tdr_addr_range),
		cmocka_unit_test(test_tdh_mr_finalize__tdr_busy),
		cmocka_unit_test(test_tdh_mr_finalize__tdr_metadata),
		cmocka_unit_test(test_tdh_mr_finalize__td_fatal),
		cmocka_unit_test(test_tdh_mr_finalize__keys_not_configured),
		cmocka_unit_test(test_tdh_mr_finalize__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mr_finalize__op_state_incorrect),
		cmocka_unit_test(test_tdh_mr_finalize__no_vcpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
