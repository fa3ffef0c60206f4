/*
 * The host-visible memory-protection model (tdxsim.h, "Memory integrity"):
 * each 64-byte line carries a TD-owner bit; through a private KeyID the host
 * reads and writes plaintext that lands encrypted in RAM; through a shared
 * KeyID a TD-owned line reads as zeros and a write poisons it; a later read
 * through the private KeyID reports the poisoned line (the TD would take a
 * machine check); MOVDIR64B page clears reset ownership and poison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "sim/sim_int.h"

#define PAGE 4096

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13 + (i >> 8));
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* No 64-byte line of the plaintext appears anywhere in raw memory of the page. */
static void assert_no_plain_line(const uint8_t *raw, const uint8_t *plain)
{
	for (unsigned l = 0; l < PAGE; l += 64)
		for (unsigned r = 0; r < PAGE; r += 64)
			assert_memory_not_equal(raw + r, plain + l, 64);
}

/* A second private KeyID with a key programmed (the first is the module's
 * global KeyID, programmed by TDH.SYS.KEY.CONFIG). */
static uint32_t other_keyid(struct tsim_env *e)
{
	uint32_t k = tsim_hkid(e);
	uint8_t key[SIM_KEY_BYTES];
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xC3 ^ (i * 29));
	sim_key_program(e->s, k, key);
	return k;
}

/* A fresh page holding pattern(seed), written through the global private
 * KeyID (TD-owned lines). */
static uint64_t private_page(struct tsim_env *e, uint8_t plain[PAGE], unsigned seed)
{
	uint64_t pa = tsim_page(e);
	pattern(plain, PAGE, seed);
	assert_int_equal(tdxsim_mem_write(e->s, pa, e->first_keyid, plain, PAGE), TDXSIM_OK);
	return pa;
}

static void test_mem_protect__private_write_stores_ciphertext(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint8_t plain[PAGE], back[PAGE];
	uint64_t pa = private_page(&e, plain, 1);
	/* Raw RAM holds ciphertext: no line of the plaintext, and not zeros. */
	const uint8_t *raw = tdxsim_pa_to_ptr(e.s, pa);
	assert_non_null(raw);
	assert_no_plain_line(raw, plain);
	assert_false(all_zero(raw, PAGE));
	/* The same KeyID reads the plaintext back, also in pieces. */
	assert_int_equal(tdxsim_mem_read(e.s, pa, e.first_keyid, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, plain, PAGE);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 100, e.first_keyid, back, 333), TDXSIM_OK);
	assert_memory_equal(back, plain + 100, 333);
	/* The lines are TD-owned and not poisoned. */
	for (unsigned l = 0; l < PAGE; l += 64)
		assert_int_equal(tdxsim_mem_poisoned(e.s, pa + l), 0);
	tsim_env_fini(&e);
}

static void test_mem_protect__partial_private_write(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint8_t plain[PAGE], part[200], back[PAGE];
	uint64_t pa = private_page(&e, plain, 2);
	pattern(part, sizeof(part), 99);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 1000, e.first_keyid, part, sizeof(part)),
			 TDXSIM_OK);
	memcpy(plain + 1000, part, sizeof(part));
	assert_int_equal(tdxsim_mem_read(e.s, pa, e.first_keyid, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, plain, PAGE);
	assert_no_plain_line(tdxsim_pa_to_ptr(e.s, pa), plain);
	tsim_env_fini(&e);
}

static void test_mem_protect__shared_read_of_private_is_zeros(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(e.s, &info), TDXSIM_OK);
	uint8_t plain[PAGE], back[PAGE];
	uint64_t pa = private_page(&e, plain, 3);
	memset(back, 0xEE, sizeof(back));
	assert_int_equal(tdxsim_mem_read(e.s, pa, 0, back, PAGE), TDXSIM_OK);
	assert_true(all_zero(back, PAGE));
	/* An MKTME (shared) KeyID sees the same. */
	assert_true(info.mktme_keyids > 0);
	memset(back, 0xEE, sizeof(back));
	assert_int_equal(tdxsim_mem_read(e.s, pa + 64, 1, back, 128), TDXSIM_OK);
	assert_true(all_zero(back, 128));
	/* Reading does not change the line's state. */
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa), 0);
	assert_int_equal(tdxsim_mem_read(e.s, pa, e.first_keyid, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, plain, PAGE);
	tsim_env_fini(&e);
}

static void test_mem_protect__other_private_keyid_reads_garbage(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k2 = other_keyid(&e);
	uint8_t plain[PAGE], back[PAGE];
	uint64_t pa = private_page(&e, plain, 4);
	assert_int_equal(tdxsim_mem_read(e.s, pa, k2, back, PAGE), TDXSIM_OK);
	for (unsigned l = 0; l < PAGE; l += 64)
		assert_memory_not_equal(back + l, plain + l, 64);
	assert_false(all_zero(back, PAGE));
	/* And the other way round: k2's plaintext is not the global KeyID's. */
	assert_int_equal(tdxsim_mem_write(e.s, pa, k2, plain, PAGE), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(e.s, pa, k2, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, plain, PAGE);
	assert_int_equal(tdxsim_mem_read(e.s, pa, e.first_keyid, back, PAGE), TDXSIM_OK);
	assert_memory_not_equal(back, plain, PAGE);
	tsim_env_fini(&e);
}

static void test_mem_protect__shared_write_poisons_owned_line(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint8_t plain[PAGE], back[PAGE];
	uint64_t pa = private_page(&e, plain, 5);
	/* One byte in line 1 and two bytes straddling lines 5 and 6. */
	uint8_t b = 0x77, two[2] = { 0x11, 0x22 };
	assert_int_equal(tdxsim_mem_write(e.s, pa + 100, 0, &b, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 6 * 64 - 1, 0, two, 2), TDXSIM_OK);
	for (unsigned l = 0; l < 64; l++)
		assert_int_equal(tdxsim_mem_poisoned(e.s, pa + l * 64), l == 1 || l == 5 || l == 6);
	/* A private read reports the poisoned lines it touches. */
	assert_int_equal(sim_priv_read(e.s, NULL, pa, e.first_keyid, back, PAGE), 3);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, e.first_keyid, back, 64), 0);
	assert_int_equal(sim_priv_read(e.s, NULL, pa + 64, e.first_keyid, back, 64), 1);
	assert_int_equal(sim_priv_read(e.s, NULL, pa + 127, e.first_keyid, back, 2), 1);
	/* Untouched lines still decrypt (per-line integrity). */
	assert_int_equal(sim_priv_read(e.s, NULL, pa, e.first_keyid, back, PAGE), 3);
	assert_memory_equal(back, plain, 64);
	assert_memory_equal(back + 128, plain + 128, 5 * 64 - 128);
	assert_memory_equal(back + 7 * 64, plain + 7 * 64, PAGE - 7 * 64);
	/* The poisoned line is no longer TD-owned: a shared read shows what the
	 * host wrote (not zeros), while owned lines still read as zeros. */
	uint8_t line[64];
	assert_int_equal(tdxsim_mem_read(e.s, pa + 64, 0, line, 64), TDXSIM_OK);
	assert_int_equal(line[100 - 64], 0x77);
	assert_int_equal(tdxsim_mem_read(e.s, pa, 0, line, 64), TDXSIM_OK);
	assert_true(all_zero(line, 64));
	tsim_env_fini(&e);
}

static void test_mem_protect__shared_write_to_shared_line_no_poison(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	uint8_t buf[300], back[300];
	pattern(buf, sizeof(buf), 6);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 10, 0, buf, sizeof(buf)), TDXSIM_OK);
	for (unsigned l = 0; l < PAGE; l += 64)
		assert_int_equal(tdxsim_mem_poisoned(e.s, pa + l), 0);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 10, 0, back, sizeof(back)), TDXSIM_OK);
	assert_memory_equal(back, buf, sizeof(buf));
	assert_memory_equal((uint8_t *)tdxsim_pa_to_ptr(e.s, pa + 10), buf, sizeof(buf));
	tsim_env_fini(&e);
}

/* A shared write must invalidate an LP's cached plaintext of the page. */
static void test_mem_protect__shared_write_invalidates_lp_cache(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	uint8_t plain[PAGE], back[PAGE];
	pattern(plain, PAGE, 7);
	struct sim_crypt *cc = &e.s->lps[0].crypt;
	sim_priv_write(e.s, cc, pa, e.first_keyid, plain, PAGE);
	assert_int_equal(sim_priv_read(e.s, cc, pa, e.first_keyid, back, 64), 0);
	assert_memory_equal(back, plain, 64);
	/* Host overwrites line 0 through KeyID 0, then MOVDIR64B on line 1. */
	uint8_t junk[64];
	memset(junk, 0x5C, sizeof(junk));
	assert_int_equal(tdxsim_mem_write(e.s, pa, 0, junk, 64), TDXSIM_OK);
	assert_int_equal(sim_priv_read(e.s, cc, pa, e.first_keyid, back, 64), 1);
	assert_memory_not_equal(back, plain, 64);
	assert_int_equal(sim_priv_read(e.s, cc, pa + 64, e.first_keyid, back, 64), 0);
	assert_memory_equal(back, plain + 64, 64);
	assert_int_equal(tdxsim_mem_movdir64b(e.s, pa + 64, 0, junk), TDXSIM_OK);
	assert_int_equal(sim_priv_read(e.s, cc, pa + 64, e.first_keyid, back, 64), 0);
	assert_memory_not_equal(back, plain + 64, 64);
	tsim_env_fini(&e);
}

static void test_mem_protect__movdir64b_private_encrypts(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	uint8_t src[64], back[64];
	pattern(src, sizeof(src), 8);
	/* Poison the line first: a private MOVDIR64B clears it. */
	assert_int_equal(tdxsim_mem_write(e.s, pa + 128, e.first_keyid, src, 64), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 130, 0, src, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 128), 1);
	pattern(src, sizeof(src), 9);
	assert_int_equal(tdxsim_mem_movdir64b(e.s, pa + 128, e.first_keyid, src), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 128), 0);
	assert_memory_not_equal(tdxsim_pa_to_ptr(e.s, pa + 128), src, 64);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 128, e.first_keyid, back, 64), TDXSIM_OK);
	assert_memory_equal(back, src, 64);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 128, 0, back, 64), TDXSIM_OK);
	assert_true(all_zero(back, 64));
	/* Through KeyID 0 it stores plaintext and drops ownership. */
	assert_int_equal(tdxsim_mem_movdir64b(e.s, pa + 128, 0, src), TDXSIM_OK);
	assert_memory_equal(tdxsim_pa_to_ptr(e.s, pa + 128), src, 64);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 128, 0, back, 64), TDXSIM_OK);
	assert_memory_equal(back, src, 64);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 128), 0);
	/* Misaligned. */
	assert_int_equal(tdxsim_mem_movdir64b(e.s, pa + 8, e.first_keyid, src), TDXSIM_ERR_ARG);
	tsim_env_fini(&e);
}

static void test_mem_protect__page_clear_shared(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint8_t plain[PAGE], back[PAGE];
	uint64_t pa = private_page(&e, plain, 10);
	uint8_t b = 1;
	assert_int_equal(tdxsim_mem_write(e.s, pa + 4000, 0, &b, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 4000), 1);

	assert_int_equal(tdxsim_page_clear(e.s, pa, 0), TDXSIM_OK);
	for (unsigned l = 0; l < PAGE; l += 64)
		assert_int_equal(tdxsim_mem_poisoned(e.s, pa + l), 0);
	assert_true(all_zero(tdxsim_pa_to_ptr(e.s, pa), PAGE));
	assert_int_equal(sim_priv_read(e.s, NULL, pa, e.first_keyid, back, PAGE), 0);
	/* No line is TD-owned any more: a shared write does not poison. */
	assert_int_equal(tdxsim_mem_write(e.s, pa + 64, 0, &b, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 64), 0);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 64, 0, back, 1), TDXSIM_OK);
	assert_int_equal(back[0], 1);
	tsim_env_fini(&e);
}

static void test_mem_protect__page_clear_private(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint8_t plain[PAGE], back[PAGE];
	uint64_t pa = private_page(&e, plain, 11);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 64, 0, plain, 64), TDXSIM_OK);
	assert_int_equal(tdxsim_page_clear(e.s, pa, e.first_keyid), TDXSIM_OK);
	/* Zeros through the KeyID, ciphertext in RAM, owned, unpoisoned. */
	assert_int_equal(sim_priv_read(e.s, NULL, pa, e.first_keyid, back, PAGE), 0);
	assert_true(all_zero(back, PAGE));
	assert_false(all_zero(tdxsim_pa_to_ptr(e.s, pa), PAGE));
	uint8_t b = 1;
	assert_int_equal(tdxsim_mem_write(e.s, pa + 64, 0, &b, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 64), 1);
	tsim_env_fini(&e);
}

static void test_mem_protect__page_clear_args(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(e.s, &info), TDXSIM_OK);
	uint64_t pa = tsim_page(&e);
	assert_int_equal(tdxsim_page_clear(NULL, pa, 0), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_page_clear(e.s, pa + 64, 0), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_page_clear(e.s, info.pa_space_bytes, 0), TDXSIM_ERR_RANGE);
	assert_int_equal(tdxsim_page_clear(e.s, info.pa_space_bytes - 2048, 0), TDXSIM_ERR_RANGE);
	assert_int_equal(tdxsim_page_clear(e.s, pa, info.mktme_keyids + info.tdx_keyids + 1),
			 TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_mem_poisoned(NULL, pa), 0);
	assert_int_equal(tdxsim_mem_poisoned(e.s, info.pa_space_bytes), 0);
	tsim_env_fini(&e);
}

/* The same on a real TD page: PAGE.ADD copies the source in through the TD's
 * KeyID; the host sees ciphertext raw, zeros through KeyID 0, plaintext only
 * through the TD's KeyID; a shared write poisons what the TD would read; after
 * teardown, RECLAIM and a MOVDIR64B clear the page is plain host memory. */
static void test_mem_protect__td_page(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	tsim_vcpu_add(&td, 0);
	uint8_t src[PAGE], back[PAGE];
	pattern(src, PAGE, 12);
	uint64_t pa = tsim_page_add(&td, 0x100000, src, true);
	assert_int_equal(tsim_page_type(&e, pa), PT_REG);

	assert_no_plain_line(tdxsim_pa_to_ptr(e.s, pa), src);
	assert_int_equal(tdxsim_mem_read(e.s, pa, 0, back, PAGE), TDXSIM_OK);
	assert_true(all_zero(back, PAGE));
	assert_int_equal(tdxsim_mem_read(e.s, pa, td.hkid, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, src, PAGE);
	assert_int_equal(tdxsim_mem_read(e.s, pa, e.first_keyid, back, PAGE), TDXSIM_OK);
	assert_memory_not_equal(back, src, PAGE);
	/* The TDR is written through the global KeyID: zeros through KeyID 0. */
	assert_int_equal(tdxsim_mem_read(e.s, td.tdr, 0, back, PAGE), TDXSIM_OK);
	assert_true(all_zero(back, PAGE));

	uint8_t b = 0xAB;
	assert_int_equal(tdxsim_mem_write(e.s, pa + 512, 0, &b, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 512), 1);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, td.hkid, back, PAGE), 1);

	tsim_td_teardown(&td);
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	/* Reclaim does not clean memory: the poison stays until the host clears it. */
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 512), 1);
	assert_int_equal(tdxsim_page_clear(e.s, pa, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 512), 0);
	assert_int_equal(tdxsim_mem_read(e.s, pa, 0, back, PAGE), TDXSIM_OK);
	assert_true(all_zero(back, PAGE));
	assert_int_equal(tdxsim_mem_write(e.s, pa, 0, src, PAGE), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa), 0);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_protect__private_write_stores_ciphertext),
		cmocka_unit_test(test_mem_protect__partial_private_write),
		cmocka_unit_test(test_mem_protect__shared_read_of_private_is_zeros),
		cmocka_unit_test(test_mem_protect__other_private_keyid_reads_garbage),
		cmocka_unit_test(test_mem_protect__shared_write_poisons_owned_line),
		cmocka_unit_test(test_mem_protect__shared_write_to_shared_line_no_poison),
		cmocka_unit_test(test_mem_protect__shared_write_invalidates_lp_cache),
		cmocka_unit_test(test_mem_protect__movdir64b_private_encrypts),
		cmocka_unit_test(test_mem_protect__page_clear_shared),
		cmocka_unit_test(test_mem_protect__page_clear_private),
		cmocka_unit_test(test_mem_protect__page_clear_args),
		cmocka_unit_test(test_mem_protect__td_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
