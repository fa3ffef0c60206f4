/*
 * guest_sha256: the guest hashes the 1 MiB of private memory the host
 * PAGE.ADDed at GUEST_DATA_GPA; the digest it reports matches libcrypto's
 * SHA-256 of the same bytes.
 */
#include <openssl/evp.h>
#include <stdlib.h>

#include "tg_fixture.h"

static uint8_t *make_data(void)
{
	uint8_t *d = malloc(GUEST_DATA_SIZE);
	assert_non_null(d);
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (size_t i = 0; i < GUEST_DATA_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[i] = (uint8_t)x;
	}
	return d;
}

static void check_digest(uint64_t arg, size_t len)
{
	uint8_t *d = make_data();
	struct tg_fx f;
	tg_fx_begin(&f, 1);
	f.v = td_vcpu_add(f.vm, 0);
	td_load_image(f.vm, "guest_sha256", arg);
	td_add_private(f.vm, GUEST_DATA_GPA, d, GUEST_DATA_SIZE, false);
	td_finalize(f.vm);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	uint8_t want[32];
	unsigned l = 0;
	assert_int_equal(EVP_Digest(d, len, want, &l, EVP_sha256(), NULL), 1);
	assert_memory_equal(&uc.args[1], want, 32);
	assert_int_equal(uc.args[5], len);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
	free(d);
}

static void test_guest_sha256__one_mib(void **state)
{
	(void)state;
	check_digest(0, GUEST_DATA_SIZE);
}

/* A length that is not a multiple of the block size (padding path). */
static void test_guest_sha256__odd_length(void **state)
{
	(void)state;
	check_digest(1000003 % GUEST_DATA_SIZE, 1000003 % GUEST_DATA_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_sha256__one_mib),
		cmocka_unit_test(test_guest_sha256__odd_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
