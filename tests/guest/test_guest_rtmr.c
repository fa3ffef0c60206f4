/*
 * guest_rtmr: TDG.MR.RTMR.EXTEND of RTMR[2] from the guest; RTMR[4] is
 * refused with OPERAND_INVALID + RDX; the TDREPORT the guest hands over
 * carries RTMR[2] = SHA-384(48 zero bytes || data), computed by the host.
 */
#include <openssl/evp.h>

#include "tg_fixture.h"

#define OFF_TDINFO_RTMR (512 + 208)

static void test_guest_rtmr__extend_rtmr2(void **state)
{
	(void)state;
	const uint64_t arg = 5;
	struct tg_fx f;
	tg_fx_init(&f, "guest_rtmr", arg);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(uc.args[1], 0);
	vcpu_expect_sync(f.v, &uc, 2);
	assert_int_equal(uc.args[1], tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	vcpu_expect_sync(f.v, &uc, 3);
	assert_int_equal(uc.args[1], 0);
	assert_int_equal(uc.args[2] & ~f.vm->shared_bit, GUEST_XFER_OFFSET);
	assert_int_equal(uc.args[3], 1024);
	uint8_t rep[1024];
	td_shared_read(f.vm, GUEST_XFER_OFFSET, rep, sizeof(rep));
	vcpu_expect_done(f.v);

	uint8_t buf[96] = { 0 }, want[48], zero[48] = { 0 };
	for (unsigned i = 0; i < 48; i++)
		buf[48 + i] = (uint8_t)((i * 3 + arg) & 0xFF);
	unsigned l = 0;
	assert_int_equal(EVP_Digest(buf, sizeof(buf), want, &l, EVP_sha384(), NULL), 1);
	assert_memory_equal(rep + OFF_TDINFO_RTMR + 2 * 48, want, 48);
	/* The other RTMRs are untouched. */
	assert_memory_equal(rep + OFF_TDINFO_RTMR + 0 * 48, zero, 48);
	assert_memory_equal(rep + OFF_TDINFO_RTMR + 1 * 48, zero, 48);
	assert_memory_equal(rep + OFF_TDINFO_RTMR + 3 * 48, zero, 48);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_rtmr__extend_rtmr2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
