/*
 * guest_report: TDG.MR.REPORT with REPORTDATA of the test's choosing; the
 * guest copies the TDREPORT to the shared transfer page and the host checks
 * it: type, REPORTDATA, MRTD (= TDH.MNG.RD), ATTRIBUTES, the TDINFO hash and
 * the MAC (HMAC-SHA-256 with the simulator's documented key, see
 * seam/tdcall/tdg_mr_report.c).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tg_fixture.h"

#define REPORT_SIZE          1024
#define OFF_REPORTDATA       128
#define OFF_MAC              224
#define OFF_TEE_INFO_HASH    80
#define OFF_TDINFO           512
#define OFF_TDINFO_MRTD      (OFF_TDINFO + 16)

static void run_report(struct tg_fx *f, uint64_t arg, uint8_t rep[REPORT_SIZE])
{
	struct ucall uc;
	vcpu_expect_sync(f->v, &uc, 1);
	assert_int_equal(uc.args[1], 0);
	vcpu_expect_sync(f->v, &uc, 2);
	assert_int_equal(uc.args[1] & ~f->vm->shared_bit, GUEST_XFER_OFFSET);
	assert_true(uc.args[1] & f->vm->shared_bit);
	assert_int_equal(uc.args[2], REPORT_SIZE);
	td_shared_read(f->vm, GUEST_XFER_OFFSET, rep, REPORT_SIZE);
	vcpu_expect_done(f->v);
	(void)arg;
}

static void test_guest_report__reportdata_and_measurements(void **state)
{
	(void)state;
	const uint64_t arg = 0x37;
	struct tg_fx f;
	tg_fx_init(&f, "guest_report", arg);
	uint8_t rep[REPORT_SIZE];
	run_report(&f, arg, rep);
	assert_int_equal(rep[0], 0x81);                /* REPORTTYPE.TYPE = TDX */
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(rep[OFF_REPORTDATA + i], (i + arg) & 0xFF);
	uint64_t mrtd[6];
	for (unsigned i = 0; i < 6; i++)
		mrtd[i] = td_rd(f.vm, MD_TD_MRTD + i);
	assert_memory_equal(rep + OFF_TDINFO_MRTD, mrtd, sizeof(mrtd));
	uint64_t attr;
	memcpy(&attr, rep + OFF_TDINFO, 8);
	assert_int_equal(attr, TDX_TD_ATTR_DEBUG);
	uint8_t h[48];
	unsigned hl = 0;
	assert_int_equal(EVP_Digest(rep + OFF_TDINFO, 512, h, &hl, EVP_sha384(), NULL), 1);
	assert_memory_equal(rep + OFF_TEE_INFO_HASH, h, 48);
	tg_fx_fini(&f);
}

static void test_guest_report__mac_verifies(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_report", 0);
	uint8_t rep[REPORT_SIZE];
	run_report(&f, 0, rep);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(f.e.s, &info), TDXSIM_OK);
	static const char label[] = "tdxsim TDREPORT MAC key";
	uint8_t msg[sizeof(label) - 1 + 8], key[32], mac[32];
	memcpy(msg, label, sizeof(label) - 1);
	for (unsigned i = 0; i < 8; i++)
		msg[sizeof(label) - 1 + i] = (uint8_t)(info.seed >> (8 * i));
	unsigned kl = 0, ml = 0;
	assert_int_equal(EVP_Digest(msg, sizeof(msg), key, &kl, EVP_sha256(), NULL), 1);
	assert_non_null(HMAC(EVP_sha256(), key, (int)sizeof(key), rep, OFF_MAC, mac, &ml));
	assert_int_equal(ml, 32);
	assert_memory_equal(rep + OFF_MAC, mac, 32);
	/* A flipped REPORTDATA bit no longer verifies. */
	rep[OFF_REPORTDATA] ^= 1;
	assert_non_null(HMAC(EVP_sha256(), key, (int)sizeof(key), rep, OFF_MAC, mac, &ml));
	assert_memory_not_equal(rep + OFF_MAC, mac, 32);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_report__reportdata_and_measurements),
		cmocka_unit_test(test_guest_report__mac_verifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
