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
#include <openssl/evp.h>
#include <pthread.h>

#include "tsim_td.h"
#include "seam/pamt.h"
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

/* ---- Lazy zeroing (sim/mktme.h) ----------------------------------------------
 * sim_priv_zero only marks pages; each test checks that every way of looking
 * at the page gives what the eagerly encrypted page would: the reference is
 * AES-128-XTS of the page (4 KiB data unit, tweak = PA, little endian),
 * computed here with EVP from the key in the KeyID's slot. RAM is read
 * through the module's view (phys_mem_ptr), which settles nothing. */

static void ref_xts_key(const uint8_t key[SIM_KEY_BYTES], uint64_t pa, const uint8_t *in,
			uint8_t *out, int enc)
{
	uint8_t iv[16] = { 0 };
	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(pa >> (8 * i));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	assert_non_null(c);
	int n = 0;
	assert_int_equal(EVP_CipherInit_ex(c, EVP_aes_128_xts(), NULL, key, iv, enc), 1);
	assert_int_equal(EVP_CipherUpdate(c, out, &n, in, PAGE), 1);
	assert_int_equal(n, PAGE);
	EVP_CIPHER_CTX_free(c);
}

/* Reference ciphertext (enc) or plaintext (!enc) of a page under keyid's key. */
static void ref_xts(tdxsim *s, uint32_t keyid, uint64_t pa, const uint8_t *in, uint8_t *out,
		    int enc)
{
	ref_xts_key(s->keys[keyid].key, pa, in, out, enc);
}

static const uint8_t zeros[PAGE];

static const uint8_t *raw_ram(tdxsim *s, uint64_t pa)
{
	return phys_mem_ptr(&s->mem, pa);
}

/* Raw RAM of the page after materialising it if lazy (what the host's
 * pointer would show). */
static const uint8_t *settled_ram(tdxsim *s, uint64_t pa)
{
	sim_mem_settle(s, NULL, pa, PAGE);
	assert_int_equal(phys_mem_lazy_raw(&s->mem, pa), 0);
	return phys_mem_ptr(&s->mem, pa);
}

static uint32_t lazy_mark(tdxsim *s, uint64_t pa)
{
	return phys_mem_lazy(&s->mem, pa);
}

static struct sim_crypt *lp_cc(struct tsim_env *e, unsigned lp)
{
	return &e->s->lps[lp].crypt;
}

/* A page whose RAM holds a pattern's ciphertext (stale bytes), then zeroed
 * through keyid on LP 0's context: marked, no AES run, RAM untouched. */
static uint64_t lazy_page(struct tsim_env *e, uint32_t keyid, unsigned seed)
{
	uint64_t pa = tsim_page(e);
	uint8_t plain[PAGE], ref[PAGE];
	pattern(plain, PAGE, seed);
	assert_int_equal(tdxsim_mem_write(e->s, pa, keyid, plain, PAGE), TDXSIM_OK);
	uint8_t before[PAGE];
	memcpy(before, raw_ram(e->s, pa), PAGE);
	struct sim_crypt *cc = lp_cc(e, 0);
	uint64_t enc0 = cc->stat_encrypts, lz0 = cc->stat_lazy_zeros;
	uint32_t ver = phys_mem_page_ver(&e->s->mem, pa);
	sim_priv_zero(e->s, cc, pa, keyid, PAGE);
	assert_int_equal(cc->stat_encrypts, enc0);
	assert_int_equal(cc->stat_lazy_zeros, lz0 + 1);
	assert_int_equal(lazy_mark(e->s, pa), keyid);
	assert_int_equal(phys_mem_page_ver(&e->s->mem, pa), ver + 1);
	assert_memory_equal(raw_ram(e->s, pa), before, PAGE);
	/* ... which is not what an eager zero would have stored. */
	ref_xts(e->s, keyid, pa, zeros, ref, 1);
	assert_memory_not_equal(raw_ram(e->s, pa), ref, PAGE);
	return pa;
}

/* Reads through the zeroing KeyID give zeros without AES (LP context, a
 * temporary one, u64 walks, pieces); a shared read gives zeros and leaves
 * the mark; tdxsim_pa_to_ptr shows exactly the eager ciphertext. */
static void test_mem_protect__lazy_zero_reads(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid;
	uint64_t pa = lazy_page(&e, k, 20);
	struct sim_crypt *cc = lp_cc(&e, 0);
	uint8_t back[PAGE], ref[PAGE];
	uint64_t dec0 = cc->stat_decrypts, enc0 = cc->stat_encrypts;
	memset(back, 0xEE, sizeof(back));
	assert_int_equal(sim_priv_read(e.s, cc, pa, k, back, PAGE), 0);
	assert_memory_equal(back, zeros, PAGE);
	memset(back, 0xEE, sizeof(back));
	assert_int_equal(sim_priv_read(e.s, cc, pa + 100, k, back, 333), 0);
	assert_memory_equal(back, zeros, 333);
	assert_int_equal(sim_priv_read64(e.s, cc, pa + 0x28, k), 0);
	assert_int_equal(cc->stat_decrypts, dec0);
	assert_int_equal(cc->stat_encrypts, enc0);
	memset(back, 0xEE, sizeof(back));
	assert_int_equal(tdxsim_mem_read(e.s, pa, k, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, zeros, PAGE);
	memset(back, 0xEE, sizeof(back));
	assert_int_equal(tdxsim_mem_read(e.s, pa + 4000, k, back, 96), TDXSIM_OK);
	assert_memory_equal(back, zeros, 96);
	/* Shared KeyIDs: TD-owned lines read as zeros; nothing to settle. */
	memset(back, 0xEE, sizeof(back));
	assert_int_equal(tdxsim_mem_read(e.s, pa, 0, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, zeros, PAGE);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 64, 1, back, 128), TDXSIM_OK);
	assert_memory_equal(back, zeros, 128);
	for (unsigned l = 0; l < PAGE; l += 64)
		assert_int_equal(tdxsim_mem_poisoned(e.s, pa + l), 0);
	assert_int_equal(lazy_mark(e.s, pa), k);
	/* Raw bytes through the host pointer: the eager ciphertext. */
	ref_xts(e.s, k, pa, zeros, ref, 1);
	const uint8_t *host = tdxsim_pa_to_ptr(e.s, pa);
	assert_int_equal(lazy_mark(e.s, pa), 0);
	assert_memory_equal(host, ref, PAGE);
	assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	/* Materialising is invisible through the KeyID. */
	assert_int_equal(sim_priv_read(e.s, cc, pa, k, back, PAGE), 0);
	assert_memory_equal(back, zeros, PAGE);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k, back, PAGE), 0);
	assert_memory_equal(back, zeros, PAGE);
	/* tdxsim_pa_to_ptr at an offset settles the page holding it. */
	uint64_t pa2 = lazy_page(&e, k, 21);
	ref_xts(e.s, k, pa2, zeros, ref, 1);
	assert_memory_equal((const uint8_t *)tdxsim_pa_to_ptr(e.s, pa2 + 0x7C0) - 0x7C0, ref, PAGE);
	tsim_env_fini(&e);
}

/* A read through another private KeyID decrypts the eager ciphertext. */
static void test_mem_protect__lazy_zero_other_keyid_read(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid, k2 = other_keyid(&e);
	uint8_t back[PAGE], ref[PAGE], want[PAGE];
	/* On an LP (cached path) and with a temporary context. */
	for (int lp_ctx = 0; lp_ctx < 2; lp_ctx++) {
		uint64_t pa = lazy_page(&e, k, 22 + lp_ctx);
		ref_xts(e.s, k, pa, zeros, ref, 1);
		ref_xts(e.s, k2, pa, ref, want, 0);
		assert_int_equal(sim_priv_read(e.s, lp_ctx ? lp_cc(&e, 0) : NULL, pa, k2, back, PAGE), 0);
		assert_memory_equal(back, want, PAGE);
		assert_false(all_zero(back, PAGE));
		assert_int_equal(lazy_mark(e.s, pa), 0);
		assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	}
	/* A u64 page-walk read through another KeyID. */
	uint64_t pa = lazy_page(&e, k, 24);
	ref_xts(e.s, k, pa, zeros, ref, 1);
	ref_xts(e.s, k2, pa, ref, want, 0);
	uint64_t v;
	memcpy(&v, want + 0x208, 8);
	assert_int_equal(sim_priv_read64(e.s, lp_cc(&e, 0), pa + 0x208, k2), v);
	assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	/* A KeyID without a key reads zeros and settles nothing. */
	uint32_t k3 = tsim_hkid(&e);
	pa = lazy_page(&e, k, 25);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k3, back, PAGE), 0);
	assert_memory_equal(back, zeros, PAGE);
	assert_int_equal(lazy_mark(e.s, pa), k);
	tsim_env_fini(&e);
}

/* Partial writes through the zeroing KeyID start from zeros (no decrypt)
 * and leave RAM = the eager ciphertext of the new plaintext. */
static void test_mem_protect__lazy_zero_partial_write(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid;
	uint8_t part[200], plain[PAGE], back[PAGE], ref[PAGE];
	pattern(part, sizeof(part), 30);
	/* Temporary context. */
	uint64_t pa = lazy_page(&e, k, 31);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 1000, k, part, sizeof(part)), TDXSIM_OK);
	memset(plain, 0, PAGE);
	memcpy(plain + 1000, part, sizeof(part));
	ref_xts(e.s, k, pa, plain, ref, 1);
	/* Now lazy plaintext under k (no AES); materialised: the eager bytes. */
	assert_int_equal(lazy_mark(e.s, pa), k);
	assert_int_not_equal(phys_mem_lazy_raw(&e.s->mem, pa), k);
	assert_memory_equal(settled_ram(e.s, pa), ref, PAGE);
	assert_int_equal(tdxsim_mem_read(e.s, pa, k, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, plain, PAGE);
	/* An LP's context: no decryption, the cache then holds the page. */
	struct sim_crypt *cc = lp_cc(&e, 0);
	pa = lazy_page(&e, k, 32);
	uint64_t dec0 = cc->stat_decrypts;
	uint64_t q = 0x1122334455667788ULL;
	sim_priv_write(e.s, cc, pa + 0xFF8, k, &q, 8);
	assert_int_equal(cc->stat_decrypts, dec0);
	memset(plain, 0, PAGE);
	memcpy(plain + 0xFF8, &q, 8);
	ref_xts(e.s, k, pa, plain, ref, 1);
	assert_memory_equal(settled_ram(e.s, pa), ref, PAGE);
	assert_int_equal(sim_priv_read64(e.s, cc, pa + 0xFF8, k), q);
	assert_int_equal(sim_priv_read64(e.s, cc, pa + 0xFF0, k), 0);
	assert_int_equal(cc->stat_decrypts, dec0);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k, back, PAGE), 0);
	assert_memory_equal(back, plain, PAGE);
	/* Line states as for the eager page: all owned, none poisoned. */
	assert_int_equal(tdxsim_mem_read(e.s, pa, 0, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, zeros, PAGE);
	tsim_env_fini(&e);
}

/* A partial write through another KeyID works on the eager ciphertext: its
 * lines get that KeyID's encryption of (garbage + data), the rest stays. */
static void test_mem_protect__lazy_zero_other_keyid_write(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid, k2 = other_keyid(&e);
	uint8_t part[80], ref[PAGE], plain2[PAGE], c2[PAGE], want[PAGE], back[PAGE];
	pattern(part, sizeof(part), 40);
	uint64_t pa = lazy_page(&e, k, 41);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 70, k2, part, sizeof(part)), TDXSIM_OK);
	ref_xts(e.s, k, pa, zeros, ref, 1);
	ref_xts(e.s, k2, pa, ref, plain2, 0);
	memcpy(plain2 + 70, part, sizeof(part));
	ref_xts(e.s, k2, pa, plain2, c2, 1);
	memcpy(want, ref, PAGE);
	memcpy(want + 64, c2 + 64, 128);        /* lines 1 and 2 hold [70, 150) */
	/* k's zeros materialised; the page is now lazy plaintext under k2. */
	assert_int_equal(lazy_mark(e.s, pa), k2);
	assert_memory_equal(settled_ram(e.s, pa), want, PAGE);
	/* Through k: zeros where its ciphertext survives. */
	assert_int_equal(tdxsim_mem_read(e.s, pa, k, back, PAGE), TDXSIM_OK);
	ref_xts(e.s, k, pa, want, plain2, 0);
	assert_memory_equal(back, plain2, PAGE);
	assert_memory_equal(back, zeros, 64);
	assert_memory_equal(back + 192, zeros, PAGE - 192);
	/* Full-page writes replace everything: through k2 and through k. */
	pa = lazy_page(&e, k, 42);
	pattern(plain2, PAGE, 43);
	assert_int_equal(tdxsim_mem_write(e.s, pa, k2, plain2, PAGE), TDXSIM_OK);
	assert_int_equal(lazy_mark(e.s, pa), 0);
	ref_xts(e.s, k2, pa, plain2, want, 1);
	assert_memory_equal(raw_ram(e.s, pa), want, PAGE);
	pa = lazy_page(&e, k, 44);
	sim_priv_write(e.s, lp_cc(&e, 0), pa, k, plain2, PAGE);
	assert_int_equal(lazy_mark(e.s, pa), 0);
	ref_xts(e.s, k, pa, plain2, want, 1);
	assert_memory_equal(raw_ram(e.s, pa), want, PAGE);
	/* A KeyID without a key drops the write: the page stays lazily zero. */
	uint32_t k3 = tsim_hkid(&e);
	pa = lazy_page(&e, k, 45);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 8, k3, part, 8), TDXSIM_OK);
	assert_int_equal(lazy_mark(e.s, pa), k);
	tsim_env_fini(&e);
}

/* Shared-KeyID writes: partial ones poison over the eager ciphertext, a
 * whole-page one leaves nothing of it; MOVDIR64B likewise. */
static void test_mem_protect__lazy_zero_shared_write_poisons(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid;
	uint8_t ref[PAGE], want[PAGE], back[PAGE], plain[PAGE];
	uint64_t pa = lazy_page(&e, k, 50);
	uint8_t b = 0x5A;
	assert_int_equal(tdxsim_mem_write(e.s, pa + 512, 0, &b, 1), TDXSIM_OK);
	ref_xts(e.s, k, pa, zeros, ref, 1);
	memcpy(want, ref, PAGE);
	want[512] = b;
	assert_int_equal(lazy_mark(e.s, pa), 0);
	assert_memory_equal(raw_ram(e.s, pa), want, PAGE);
	for (unsigned l = 0; l < PAGE; l += 64)
		assert_int_equal(tdxsim_mem_poisoned(e.s, pa + l), l == 512);
	/* The TD's read: one poisoned line, the rest decrypts to zeros. */
	assert_int_equal(sim_priv_read(e.s, lp_cc(&e, 0), pa, k, back, PAGE), 1);
	ref_xts(e.s, k, pa, want, plain, 0);
	assert_memory_equal(back, plain, PAGE);
	assert_memory_equal(back, zeros, 512);
	assert_memory_equal(back + 576, zeros, PAGE - 576);
	/* The poisoned line is host memory now; the others still read zeros. */
	assert_int_equal(tdxsim_mem_read(e.s, pa + 512, 0, back, 64), TDXSIM_OK);
	memcpy(plain, ref + 512, 64);
	plain[0] = b;
	assert_memory_equal(back, plain, 64);

	/* A whole-page shared write: no ciphertext survives, every line poisoned. */
	pa = lazy_page(&e, k, 51);
	pattern(plain, PAGE, 52);
	assert_int_equal(tdxsim_mem_write(e.s, pa, 0, plain, PAGE), TDXSIM_OK);
	assert_int_equal(lazy_mark(e.s, pa), 0);
	assert_memory_equal(raw_ram(e.s, pa), plain, PAGE);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k, back, PAGE), 64);
	ref_xts(e.s, k, pa, plain, want, 0);
	assert_memory_equal(back, want, PAGE);

	/* MOVDIR64B through KeyID 0: the line becomes plain host memory. */
	pa = lazy_page(&e, k, 53);
	uint8_t src[64];
	pattern(src, sizeof(src), 54);
	assert_int_equal(tdxsim_mem_movdir64b(e.s, pa + 128, 0, src), TDXSIM_OK);
	ref_xts(e.s, k, pa, zeros, ref, 1);
	memcpy(want, ref, PAGE);
	memcpy(want + 128, src, 64);
	assert_memory_equal(raw_ram(e.s, pa), want, PAGE);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 128), 0);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 128, 0, back, 64), TDXSIM_OK);
	assert_memory_equal(back, src, 64);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k, back, PAGE), 0);
	ref_xts(e.s, k, pa, want, plain, 0);
	assert_memory_equal(back, plain, PAGE);
	/* MOVDIR64B through the KeyID: ciphertext of zeros + the line. */
	pa = lazy_page(&e, k, 55);
	assert_int_equal(tdxsim_mem_movdir64b(e.s, pa + 256, k, src), TDXSIM_OK);
	memset(plain, 0, PAGE);
	memcpy(plain + 256, src, 64);
	ref_xts(e.s, k, pa, plain, want, 1);
	assert_memory_equal(settled_ram(e.s, pa), want, PAGE);
	tsim_env_fini(&e);
}

/* Page clears after a lazy zero: through KeyID 0 plain zeros, owner bits
 * gone; through a private KeyID the eager ciphertext at once. */
static void test_mem_protect__lazy_zero_page_clear(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid, k2 = other_keyid(&e);
	uint8_t ref[PAGE], back[PAGE];
	uint64_t pa = lazy_page(&e, k, 60);
	assert_int_equal(tdxsim_page_clear(e.s, pa, 0), TDXSIM_OK);
	assert_int_equal(lazy_mark(e.s, pa), 0);
	assert_memory_equal(raw_ram(e.s, pa), zeros, PAGE);
	uint8_t b = 1;
	assert_int_equal(tdxsim_mem_write(e.s, pa + 64, 0, &b, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 64), 0);
	assert_int_equal(sim_priv_read(e.s, NULL, pa + 128, k, back, 64), 0);
	ref_xts(e.s, k, pa, zeros, ref, 0);     /* k's "plaintext" of raw zeros */
	assert_memory_equal(back, ref + 128, 64);

	pa = lazy_page(&e, k, 61);
	assert_int_equal(tdxsim_page_clear(e.s, pa, k2), TDXSIM_OK);
	assert_int_equal(lazy_mark(e.s, pa), 0);
	ref_xts(e.s, k2, pa, zeros, ref, 1);
	assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	assert_int_equal(tdxsim_mem_read(e.s, pa, k2, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, zeros, PAGE);
	/* Zeroing a lazy page again, under another KeyID, replaces the mark. */
	pa = lazy_page(&e, k, 62);
	sim_priv_zero(e.s, lp_cc(&e, 0), pa, k2, PAGE);
	assert_int_equal(lazy_mark(e.s, pa), k2);
	ref_xts(e.s, k2, pa, zeros, ref, 1);
	assert_memory_equal(tdxsim_pa_to_ptr(e.s, pa), ref, PAGE);
	tsim_env_fini(&e);
}

/* A new key for the KeyID: pages lazily zero under the old one get the old
 * key's ciphertext first (wherever they are); the same key again keeps them. */
static void test_mem_protect__lazy_zero_key_reprogram(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k2 = other_keyid(&e);
	uint8_t old_key[SIM_KEY_BYTES], key[SIM_KEY_BYTES], ref[PAGE], want[PAGE], back[PAGE];
	uint64_t pa = lazy_page(&e, k2, 70);
	uint64_t pa_far = tsim_page_2m(&e) + 0x3000;        /* another GiB */
	assert_int_equal(tdxsim_mem_write(e.s, pa_far, k2, ref, PAGE), TDXSIM_OK);
	sim_priv_zero(e.s, lp_cc(&e, 0), pa_far, k2, PAGE);
	memcpy(old_key, e.s->keys[k2].key, SIM_KEY_BYTES);
	/* The same key (each package programs it): still lazy. */
	sim_key_program(e.s, k2, old_key);
	assert_int_equal(lazy_mark(e.s, pa), k2);
	assert_int_equal(lazy_mark(e.s, pa_far), k2);
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x3C + i * 7);
	sim_key_program(e.s, k2, key);
	uint64_t pas[2] = { pa, pa_far };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(lazy_mark(e.s, pas[i]), 0);
		ref_xts_key(old_key, pas[i], zeros, ref, 1);
		assert_memory_equal(raw_ram(e.s, pas[i]), ref, PAGE);
		ref_xts(e.s, k2, pas[i], ref, want, 0);
		assert_int_equal(sim_priv_read(e.s, lp_cc(&e, 0), pas[i], k2, back, PAGE), 0);
		assert_memory_equal(back, want, PAGE);
		assert_false(all_zero(back, PAGE));
	}
	tsim_env_fini(&e);
}

struct lazy_page_ref {
	uint64_t pa;
	uint8_t key[SIM_KEY_BYTES];
};

/* Pages of a TD zeroed by the module (TDR through the global KeyID, TDCS,
 * TDVPR, TDCX through the TD's) that are still lazily zero. */
static unsigned lazy_td_pages(struct tsim_env *e, struct tsim_td *td, struct lazy_page_ref *out)
{
	uint64_t cand[2 + TDX_TDCS_PAGES + TDX_TDVPS_PAGES];
	unsigned n = 0, m = 0;
	cand[n++] = td->tdr;
	for (unsigned i = 0; i < td->n_tdcs; i++)
		cand[n++] = td->tdcs[i];
	cand[n++] = td->vcpu[0].tdvpr;
	for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++)
		cand[n++] = td->vcpu[0].tdcx[i];
	for (unsigned i = 0; i < n; i++) {
		uint32_t lz = lazy_mark(e->s, cand[i]);
		if (!lz)
			continue;
		assert_true(lz == td->hkid || (lz == e->first_keyid && cand[i] == td->tdr));
		out[m].pa = cand[i];
		memcpy(out[m].key, e->s->keys[lz].key, SIM_KEY_BYTES);
		m++;
	}
	return m;
}

/* Reclaim flow: after teardown every page is PT_NDA, none lazy, and its raw
 * bytes are the eager ciphertext, also in the host's own view in checker
 * mode (the second mapping, unprotected again by reclaim). */
static void lazy_zero_reclaim(unsigned flags)
{
	struct tsim_env e;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = flags;
	tsim_env_init_cfg(&e, &cfg);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	tsim_vcpu_add(&td, 0);
	struct lazy_page_ref pages[2 + TDX_TDCS_PAGES + TDX_TDVPS_PAGES];
	unsigned n = lazy_td_pages(&e, &td, pages);
	assert_true(n >= 3);
	uint8_t ref[PAGE];
	tsim_td_teardown(&td);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(tsim_page_type(&e, pages[i].pa), PT_NDA);
		assert_int_equal(lazy_mark(e.s, pages[i].pa), 0);
		ref_xts_key(pages[i].key, pages[i].pa, zeros, ref, 1);
		assert_memory_equal(raw_ram(e.s, pages[i].pa), ref, PAGE);
		assert_memory_equal(phys_mem_host_ptr(&e.s->mem, pages[i].pa), ref, PAGE);
	}
	tsim_env_fini(&e);
}

static void test_mem_protect__lazy_zero_td_reclaim(void **state)
{
	(void)state;
	lazy_zero_reclaim(0);
}

static void test_mem_protect__lazy_zero_td_reclaim_checker(void **state)
{
	(void)state;
	lazy_zero_reclaim(TDXSIM_CFG_CHECKER);
}

/* A SEAMCALL that zeroes a page and then fails leaves it PT_NDA: settled. */
static void test_mem_protect__lazy_zero_failed_leaf(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint8_t plain[PAGE], ref[PAGE];
	/* MNG.CREATE: the TDR is zeroed through the global KeyID, then RNG fails. */
	uint64_t tdr = tsim_page(&e);
	pattern(plain, PAGE, 80);
	assert_int_equal(tdxsim_mem_write(e.s, tdr, e.first_keyid, plain, PAGE), TDXSIM_OK);
	unsigned f = tsim_fault(e.s, TDX_RND_NO_ENTROPY, TDH_MNG_CREATE, -1, 1, 1);
	struct tdx_module_args a = { .rcx = tdr, .rdx = tsim_hkid(&e) };
	assert_tdx_status(TDX_RND_NO_ENTROPY, seamcall_raw(e.s, 0, TDH_MNG_CREATE, &a));
	assert_int_equal(tsim_fault_fired(e.s, f), 1);
	assert_int_equal(tsim_page_type(&e, tdr), PT_NDA);
	assert_int_equal(lazy_mark(e.s, tdr), 0);
	ref_xts(e.s, e.first_keyid, tdr, zeros, ref, 1);
	assert_memory_equal(raw_ram(e.s, tdr), ref, PAGE);
	/* MNG.ADDCX of a 7th TDCS page after MNG.INIT: zeroed, then refused. */
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	uint64_t pa = tsim_page(&e);
	assert_int_equal(tdxsim_mem_write(e.s, pa, td.hkid, plain, PAGE), TDXSIM_OK);
	struct tdx_module_args c = { .rcx = pa, .rdx = td.tdr };
	assert_tdx_status(TDX_OP_STATE_INCORRECT, seamcall_raw(e.s, 0, TDH_MNG_ADDCX, &c));
	assert_int_equal(tsim_page_type(&e, pa), PT_NDA);
	assert_int_equal(lazy_mark(e.s, pa), 0);
	ref_xts(e.s, td.hkid, pa, zeros, ref, 1);
	assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	tsim_env_fini(&e);
}

/* Two LPs: one writes 8 bytes into each lazily zeroed page while the other
 * reads the pages whole; every read sees the page before or after the
 * write, and RAM ends as the eager ciphertext. */
#define RACE_PAGES 128
struct race {
	struct tsim_env *e;
	uint64_t pa[RACE_PAGES];
	int bad;
};

static void *race_writer(void *arg)
{
	struct race *r = arg;
	for (unsigned i = 0; i < RACE_PAGES; i++) {
		uint64_t v = 0xA5A5000000000000ULL | i;
		sim_priv_write(r->e->s, lp_cc(r->e, 1), r->pa[i] + 0x40, r->e->first_keyid, &v, 8);
	}
	return NULL;
}

static void test_mem_protect__lazy_zero_concurrent(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	assert_true(e.n_lps >= 2);
	struct race r = { .e = &e };
	for (unsigned i = 0; i < RACE_PAGES; i++) {
		r.pa[i] = tsim_page(&e);
		sim_priv_zero(e.s, lp_cc(&e, 0), r.pa[i], e.first_keyid, PAGE);
	}
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, race_writer, &r), 0);
	uint8_t back[PAGE];
	for (unsigned round = 0; round < 4; round++)
		for (unsigned i = 0; i < RACE_PAGES; i++) {
			sim_priv_read(e.s, lp_cc(&e, 0), r.pa[i], e.first_keyid, back, PAGE);
			uint64_t v;
			memcpy(&v, back + 0x40, 8);
			memset(back + 0x40, 0, 8);
			if (!all_zero(back, PAGE) || (v && v != (0xA5A5000000000000ULL | i)))
				r.bad++;
		}
	pthread_join(t, NULL);
	assert_int_equal(r.bad, 0);
	uint8_t plain[PAGE], ref[PAGE];
	for (unsigned i = 0; i < RACE_PAGES; i++) {
		memset(plain, 0, PAGE);
		uint64_t v = 0xA5A5000000000000ULL | i;
		memcpy(plain + 0x40, &v, 8);
		ref_xts(e.s, e.first_keyid, r.pa[i], plain, ref, 1);
		assert_int_equal(lazy_mark(e.s, r.pa[i]), e.first_keyid);
		assert_memory_equal(settled_ram(e.s, r.pa[i]), ref, PAGE);
	}
	tsim_env_fini(&e);
}

/* ---- Lazy plaintext: partial private writes kept as plaintext ------------ */

static int is_lazy_plain(tdxsim *s, uint64_t pa)
{
	return (phys_mem_lazy_raw(&s->mem, pa) & PHYS_LAZY_PLAIN) != 0;
}

/* A fresh page holding pattern(seed) written eagerly (whole page) through
 * keyid: not lazy, RAM = its ciphertext. */
static uint64_t plain_page(struct tsim_env *e, uint32_t keyid, uint8_t plain[PAGE], unsigned seed)
{
	uint64_t pa = tsim_page(e);
	pattern(plain, PAGE, seed);
	assert_int_equal(tdxsim_mem_write(e->s, pa, keyid, plain, PAGE), TDXSIM_OK);
	assert_int_equal(phys_mem_lazy_raw(&e->s->mem, pa), 0);
	return pa;
}

/* Partial writes through k (LP context and temporary context) run no AES:
 * the page holds lazy plaintext, RAM is stale; reads through k (LP, temp,
 * u64 walks, pieces) see the new plaintext without AES; the host pointer
 * shows exactly the eager ciphertext (independent EVP AES-XTS). */
static void test_mem_protect__lazy_plain_partial_writes(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid;
	struct sim_crypt *cc = lp_cc(&e, 0);
	uint8_t plain[PAGE], back[PAGE], ref[PAGE], before[PAGE], part[300];
	uint64_t pa = plain_page(&e, k, plain, 100);
	memcpy(before, raw_ram(e.s, pa), PAGE);
	uint64_t enc0 = cc->stat_encrypts, lw0 = cc->stat_lazy_writes;
	uint64_t q = 0xDEADBEEFCAFEF00DULL;
	sim_priv_write(e.s, cc, pa + 0x100, k, &q, 8);
	memcpy(plain + 0x100, &q, 8);
	assert_int_equal(cc->stat_encrypts, enc0);
	assert_int_equal(cc->stat_lazy_writes, lw0 + 1);
	assert_true(is_lazy_plain(e.s, pa));
	assert_int_equal(lazy_mark(e.s, pa), k);
	assert_memory_equal(raw_ram(e.s, pa), before, PAGE);   /* stale */
	/* More writes: LP (cached), temporary context, across two pages. */
	pattern(part, sizeof(part), 101);
	sim_priv_write(e.s, cc, pa + 0x7F0, k, part, 40);
	memcpy(plain + 0x7F0, part, 40);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 3000, k, part, sizeof(part)), TDXSIM_OK);
	memcpy(plain + 3000, part, sizeof(part));
	assert_int_equal(cc->stat_encrypts, enc0);
	assert_memory_equal(raw_ram(e.s, pa), before, PAGE);
	/* Reads through k. */
	uint64_t dec0 = cc->stat_decrypts;
	assert_int_equal(sim_priv_read64(e.s, cc, pa + 0x100, k), q);
	assert_int_equal(sim_priv_read(e.s, cc, pa, k, back, PAGE), 0);
	assert_memory_equal(back, plain, PAGE);
	assert_int_equal(sim_priv_read(e.s, cc, pa + 2990, k, back, 333), 0);
	assert_memory_equal(back, plain + 2990, 333);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k, back, PAGE), 0);
	assert_memory_equal(back, plain, PAGE);
	assert_int_equal(tdxsim_mem_read(e.s, pa + 4000, k, back, 96), TDXSIM_OK);
	assert_memory_equal(back, plain + 4000, 96);
	assert_int_equal(cc->stat_decrypts, dec0);
	assert_int_equal(cc->stat_encrypts, enc0);
	/* Shared reads: every line TD-owned, zeros, nothing settled. */
	assert_int_equal(tdxsim_mem_read(e.s, pa, 0, back, PAGE), TDXSIM_OK);
	assert_memory_equal(back, zeros, PAGE);
	for (unsigned l = 0; l < PAGE; l += 64)
		assert_int_equal(tdxsim_mem_poisoned(e.s, pa + l), 0);
	assert_true(is_lazy_plain(e.s, pa));
	/* The host pointer: the eager ciphertext of the plaintext. */
	ref_xts(e.s, k, pa, plain, ref, 1);
	const uint8_t *host = tdxsim_pa_to_ptr(e.s, pa + 0x40);
	assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), 0);
	assert_memory_equal(host - 0x40, ref, PAGE);
	assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	/* Invisible through k afterwards; the LP's cache stays valid. */
	assert_int_equal(sim_priv_read(e.s, cc, pa, k, back, PAGE), 0);
	assert_memory_equal(back, plain, PAGE);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k, back, PAGE), 0);
	assert_memory_equal(back, plain, PAGE);
	/* A lazily zeroed page written partially becomes lazy plaintext. */
	pa = lazy_page(&e, k, 102);
	sim_priv_write(e.s, cc, pa + 8, k, &q, 8);
	assert_true(is_lazy_plain(e.s, pa));
	memset(plain, 0, PAGE);
	memcpy(plain + 8, &q, 8);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k, back, PAGE), 0);
	assert_memory_equal(back, plain, PAGE);
	ref_xts(e.s, k, pa, plain, ref, 1);
	assert_memory_equal(settled_ram(e.s, pa), ref, PAGE);
	/* A full-page write through k drops the plaintext: eager. */
	pa = plain_page(&e, k, plain, 103);
	sim_priv_write(e.s, cc, pa + 64, k, &q, 8);
	uint32_t used = atomic_load(&e.s->mem.lazy_used);
	pattern(plain, PAGE, 104);
	sim_priv_write(e.s, cc, pa, k, plain, PAGE);
	assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), 0);
	assert_int_equal(atomic_load(&e.s->mem.lazy_used), used - 1);
	ref_xts(e.s, k, pa, plain, ref, 1);
	assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	tsim_env_fini(&e);
}

/* Another private KeyID: a read materialises (k's ciphertext, then k2's
 * decryption of it); a partial write materialises and takes the page's
 * lazy plaintext over under k2 (its decryption of k's ciphertext + data),
 * which materialises to k's lines elsewhere and k2's lines written. */
static void test_mem_protect__lazy_plain_other_keyid(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid, k2 = other_keyid(&e);
	uint8_t plain[PAGE], back[PAGE], ref[PAGE], want[PAGE], plain2[PAGE], c2[PAGE], part[80];
	uint64_t q = 0x0102030405060708ULL;
	for (int lp_ctx = 0; lp_ctx < 2; lp_ctx++) {
		uint64_t pa = plain_page(&e, k, plain, 110 + lp_ctx);
		sim_priv_write(e.s, lp_cc(&e, 0), pa + 0x200, k, &q, 8);
		memcpy(plain + 0x200, &q, 8);
		ref_xts(e.s, k, pa, plain, ref, 1);
		ref_xts(e.s, k2, pa, ref, want, 0);
		assert_int_equal(sim_priv_read(e.s, lp_ctx ? lp_cc(&e, 1) : NULL, pa, k2, back, PAGE), 0);
		assert_memory_equal(back, want, PAGE);
		assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), 0);
		assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	}
	/* u64 walk read through k2. */
	uint64_t pa = plain_page(&e, k, plain, 112);
	sim_priv_write(e.s, lp_cc(&e, 0), pa + 0x200, k, &q, 8);
	memcpy(plain + 0x200, &q, 8);
	ref_xts(e.s, k, pa, plain, ref, 1);
	ref_xts(e.s, k2, pa, ref, want, 0);
	uint64_t v;
	memcpy(&v, want + 0x208, 8);
	assert_int_equal(sim_priv_read64(e.s, lp_cc(&e, 1), pa + 0x208, k2), v);
	assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	/* Partial write through k2 on k's lazy plaintext. */
	pa = plain_page(&e, k, plain, 113);
	sim_priv_write(e.s, lp_cc(&e, 0), pa + 0x200, k, &q, 8);
	memcpy(plain + 0x200, &q, 8);
	pattern(part, sizeof(part), 114);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 70, k2, part, sizeof(part)), TDXSIM_OK);
	assert_int_equal(lazy_mark(e.s, pa), k2);
	assert_true(is_lazy_plain(e.s, pa));
	ref_xts(e.s, k, pa, plain, ref, 1);
	ref_xts(e.s, k2, pa, ref, plain2, 0);
	memcpy(plain2 + 70, part, sizeof(part));
	ref_xts(e.s, k2, pa, plain2, c2, 1);
	memcpy(want, ref, PAGE);
	memcpy(want + 64, c2 + 64, 128);
	/* Through k: its plaintext where its ciphertext survives. */
	assert_int_equal(sim_priv_read(e.s, lp_cc(&e, 0), pa, k, back, PAGE), 0);
	assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), 0);
	assert_memory_equal(raw_ram(e.s, pa), want, PAGE);
	assert_memory_equal(back, plain, 64);
	assert_memory_equal(back + 192, plain + 192, PAGE - 192);
	/* A KeyID without a key drops the write: the lazy page stays. */
	uint32_t k3 = tsim_hkid(&e);
	pa = plain_page(&e, k, plain, 115);
	sim_priv_write(e.s, lp_cc(&e, 0), pa + 0x200, k, &q, 8);
	assert_int_equal(tdxsim_mem_write(e.s, pa + 8, k3, part, 8), TDXSIM_OK);
	assert_true(is_lazy_plain(e.s, pa));
	assert_int_equal(lazy_mark(e.s, pa), k);
	tsim_env_fini(&e);
}

/* Shared-KeyID accesses: a partial write poisons over the eager
 * ciphertext; a whole-page write leaves nothing of it (slot freed); on a
 * page with host-owned lines a shared read gets their bytes and the
 * written lines' eager ciphertext keeps the others intact. */
static void test_mem_protect__lazy_plain_shared_write_poisons(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid;
	struct sim_crypt *cc = lp_cc(&e, 0);
	uint8_t plain[PAGE], back[PAGE], ref[PAGE], want[PAGE], dec[PAGE];
	uint64_t q = 0x1111222233334444ULL;
	uint64_t pa = plain_page(&e, k, plain, 120);
	sim_priv_write(e.s, cc, pa + 0x300, k, &q, 8);
	memcpy(plain + 0x300, &q, 8);
	uint8_t b = 0x5A;
	assert_int_equal(tdxsim_mem_write(e.s, pa + 512, 0, &b, 1), TDXSIM_OK);
	assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), 0);
	ref_xts(e.s, k, pa, plain, ref, 1);
	memcpy(want, ref, PAGE);
	want[512] = b;
	assert_memory_equal(raw_ram(e.s, pa), want, PAGE);
	for (unsigned l = 0; l < PAGE; l += 64)
		assert_int_equal(tdxsim_mem_poisoned(e.s, pa + l), l == 512);
	assert_int_equal(sim_priv_read(e.s, cc, pa, k, back, PAGE), 1);
	ref_xts(e.s, k, pa, want, dec, 0);
	assert_memory_equal(back, dec, PAGE);
	assert_memory_equal(back + 0x300, &q, 8);
	/* Whole-page shared write. */
	pa = plain_page(&e, k, plain, 121);
	sim_priv_write(e.s, cc, pa + 0x300, k, &q, 8);
	uint32_t used = atomic_load(&e.s->mem.lazy_used);
	pattern(want, PAGE, 122);
	assert_int_equal(tdxsim_mem_write(e.s, pa, 0, want, PAGE), TDXSIM_OK);
	assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), 0);
	assert_int_equal(atomic_load(&e.s->mem.lazy_used), used - 1);
	assert_memory_equal(raw_ram(e.s, pa), want, PAGE);
	assert_int_equal(sim_priv_read(e.s, NULL, pa, k, back, PAGE), 64);
	/* MOVDIR64B through KeyID 0 on a lazy plaintext page. */
	pa = plain_page(&e, k, plain, 123);
	sim_priv_write(e.s, cc, pa + 0x300, k, &q, 8);
	memcpy(plain + 0x300, &q, 8);
	uint8_t src[64];
	pattern(src, sizeof(src), 124);
	assert_int_equal(tdxsim_mem_movdir64b(e.s, pa + 128, 0, src), TDXSIM_OK);
	ref_xts(e.s, k, pa, plain, ref, 1);
	memcpy(want, ref, PAGE);
	memcpy(want + 128, src, 64);
	assert_memory_equal(raw_ram(e.s, pa), want, PAGE);
	assert_int_equal(tdxsim_mem_poisoned(e.s, pa + 128), 0);
	/* A mixed page: host memory with one line written through k. */
	pa = tsim_page(&e);
	pattern(want, PAGE, 125);
	assert_int_equal(tdxsim_mem_write(e.s, pa, 0, want, PAGE), TDXSIM_OK);
	sim_priv_write(e.s, cc, pa + 0x400, k, &q, 8);
	assert_true(is_lazy_plain(e.s, pa));
	assert_int_equal(tdxsim_mem_read(e.s, pa + 0x380, 0, back, 256), TDXSIM_OK);
	memcpy(dec, want + 0x380, 256);
	memset(dec + 0x80, 0, 64);              /* the TD-owned line reads zeros */
	assert_memory_equal(back, dec, 256);
	ref_xts(e.s, k, pa, want, plain, 0);    /* k's view of host bytes */
	memcpy(plain + 0x400, &q, 8);
	ref_xts(e.s, k, pa, plain, ref, 1);
	memcpy(dec, want, PAGE);
	memcpy(dec + 0x400, ref + 0x400, 64);
	assert_memory_equal(settled_ram(e.s, pa), dec, PAGE);
	assert_memory_equal(settled_ram(e.s, pa), want, 0x400);
	tsim_env_fini(&e);
}

/* Page clears and zeroing replace lazy plaintext (slot freed): through
 * KeyID 0 plain zeros; through k2 its ciphertext of zeros; sim_priv_zero
 * makes it lazily zero. */
static void test_mem_protect__lazy_plain_page_clear(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid, k2 = other_keyid(&e);
	struct sim_crypt *cc = lp_cc(&e, 0);
	uint8_t plain[PAGE], back[PAGE], ref[PAGE];
	uint64_t q = 0x99;
	uint64_t pa = plain_page(&e, k, plain, 130);
	sim_priv_write(e.s, cc, pa + 0x10, k, &q, 8);
	uint32_t used = atomic_load(&e.s->mem.lazy_used);
	assert_int_equal(tdxsim_page_clear(e.s, pa, 0), TDXSIM_OK);
	assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), 0);
	assert_int_equal(atomic_load(&e.s->mem.lazy_used), used - 1);
	assert_memory_equal(raw_ram(e.s, pa), zeros, PAGE);
	assert_int_equal(sim_priv_read(e.s, cc, pa, k, back, PAGE), 0);
	ref_xts(e.s, k, pa, zeros, ref, 0);
	assert_memory_equal(back, ref, PAGE);

	pa = plain_page(&e, k, plain, 131);
	sim_priv_write(e.s, cc, pa + 0x10, k, &q, 8);
	assert_int_equal(tdxsim_page_clear(e.s, pa, k2), TDXSIM_OK);
	assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), 0);
	ref_xts(e.s, k2, pa, zeros, ref, 1);
	assert_memory_equal(raw_ram(e.s, pa), ref, PAGE);
	assert_int_equal(sim_priv_read(e.s, cc, pa, k2, back, PAGE), 0);
	assert_memory_equal(back, zeros, PAGE);

	pa = plain_page(&e, k, plain, 132);
	sim_priv_write(e.s, cc, pa + 0x10, k, &q, 8);
	used = atomic_load(&e.s->mem.lazy_used);
	sim_priv_zero(e.s, cc, pa, k2, PAGE);
	assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pa), k2);
	assert_int_equal(atomic_load(&e.s->mem.lazy_used), used - 1);
	assert_int_equal(sim_priv_read(e.s, cc, pa, k2, back, PAGE), 0);
	assert_memory_equal(back, zeros, PAGE);
	ref_xts(e.s, k2, pa, zeros, ref, 1);
	assert_memory_equal(tdxsim_pa_to_ptr(e.s, pa), ref, PAGE);
	tsim_env_fini(&e);
}

/* A new key: lazy plaintext under the old one is encrypted with it first
 * (wherever the page is); the same key again keeps it lazy. */
static void test_mem_protect__lazy_plain_key_reprogram(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k2 = other_keyid(&e);
	uint8_t old_key[SIM_KEY_BYTES], key[SIM_KEY_BYTES], ref[PAGE], want[PAGE], back[PAGE];
	uint8_t plain[2][PAGE];
	uint64_t pas[2] = { tsim_page(&e), tsim_page_2m(&e) + 0x5000 };
	uint64_t q = 0xABCDEF;
	for (int i = 0; i < 2; i++) {
		pattern(plain[i], PAGE, 140 + i);
		assert_int_equal(tdxsim_mem_write(e.s, pas[i], k2, plain[i], PAGE), TDXSIM_OK);
		sim_priv_write(e.s, lp_cc(&e, 0), pas[i] + 0xF00, k2, &q, 8);
		memcpy(plain[i] + 0xF00, &q, 8);
		assert_true(is_lazy_plain(e.s, pas[i]));
	}
	memcpy(old_key, e.s->keys[k2].key, SIM_KEY_BYTES);
	sim_key_program(e.s, k2, old_key);
	for (int i = 0; i < 2; i++)
		assert_true(is_lazy_plain(e.s, pas[i]));
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x4D + i * 11);
	sim_key_program(e.s, k2, key);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(phys_mem_lazy_raw(&e.s->mem, pas[i]), 0);
		ref_xts_key(old_key, pas[i], plain[i], ref, 1);
		assert_memory_equal(raw_ram(e.s, pas[i]), ref, PAGE);
		ref_xts(e.s, k2, pas[i], ref, want, 0);
		assert_int_equal(sim_priv_read(e.s, lp_cc(&e, 0), pas[i], k2, back, PAGE), 0);
		assert_memory_equal(back, want, PAGE);
	}
	tsim_env_fini(&e);
}

/* Reclaim flow: a TD whose S-EPT pages (PAGE.AUG / SEPT.ADD entries) and
 * control pages hold lazy plaintext; after teardown every one of them is
 * PT_NDA, not lazy, its raw bytes (module's and host's views) the eager
 * ciphertext of the plaintext it held. */
#define RECLAIM_MAX 64
static void lazy_plain_reclaim(unsigned flags)
{
	struct tsim_env e;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = flags;
	tsim_env_init_cfg(&e, &cfg);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	tsim_vcpu_add(&td, 0);
	for (unsigned i = 0; i < 4; i++)
		tsim_page_aug(&td, 0x100000ULL + 0x1000ULL * i, 0);
	static struct { uint64_t pa; uint8_t key[SIM_KEY_BYTES]; uint8_t plain[PAGE]; } pg[RECLAIM_MAX];
	unsigned n = 0;
	struct phys_mem *m = &e.s->mem;
	for (uint32_t i = 0; i < m->lazy_fresh && n < RECLAIM_MAX; i++) {
		uint64_t pa = m->lazy_slot[i].page;
		if (pa == ~0ULL || phys_mem_lazy_raw(m, pa) != (PHYS_LAZY_PLAIN | i))
			continue;
		pg[n].pa = pa;
		memcpy(pg[n].key, e.s->keys[m->lazy_slot[i].keyid].key, SIM_KEY_BYTES);
		memcpy(pg[n].plain, m->lazy_buf + (uint64_t)i * PAGE, PAGE);
		n++;
	}
	assert_true(n >= 2);
	unsigned sept = 0;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < td.n_sept; j++)
			sept += pg[i].pa == td.sept[j].pa;
	assert_true(sept >= 1);
	tsim_td_teardown(&td);
	uint8_t ref[PAGE];
	for (unsigned i = 0; i < n; i++) {
		if (tsim_page_type(&e, pg[i].pa) != PT_NDA)
			continue;
		assert_int_equal(phys_mem_lazy_raw(m, pg[i].pa), 0);
		ref_xts_key(pg[i].key, pg[i].pa, pg[i].plain, ref, 1);
		assert_memory_equal(raw_ram(e.s, pg[i].pa), ref, PAGE);
		assert_memory_equal(phys_mem_host_ptr(m, pg[i].pa), ref, PAGE);
	}
	tsim_env_fini(&e);
}

static void test_mem_protect__lazy_plain_td_reclaim(void **state)
{
	(void)state;
	lazy_plain_reclaim(0);
}

static void test_mem_protect__lazy_plain_td_reclaim_checker(void **state)
{
	(void)state;
	lazy_plain_reclaim(TDXSIM_CFG_CHECKER);
}

/* At most lazy_cap pages hold lazy plaintext: more are made room for by
 * materialising others, invisibly. */
static void test_mem_protect__lazy_plain_cap_eviction(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t k = e.first_keyid;
	struct sim_crypt *cc = lp_cc(&e, 0);
	sim_mem_settle(e.s, NULL, 0, e.s->pa_top);
	assert_int_equal(atomic_load(&e.s->mem.lazy_used), 0);
	e.s->mem.lazy_cap = 4;
	enum { N = 12 };
	static uint8_t plain[N][PAGE];
	uint8_t back[PAGE], ref[PAGE];
	uint64_t pa[N];
	uint64_t ev0 = cc->stat_lazy_evictions;
	for (unsigned i = 0; i < N; i++) {
		pa[i] = plain_page(&e, k, plain[i], 150 + i);
		for (unsigned j = 0; j < 3; j++) {
			uint64_t v = 0x7700 + i * 16 + j;
			sim_priv_write(e.s, cc, pa[i] + 0x100 * (j + 1), k, &v, 8);
			memcpy(plain[i] + 0x100 * (j + 1), &v, 8);
		}
		assert_true(atomic_load(&e.s->mem.lazy_used) <= 4);
	}
	assert_int_equal(cc->stat_lazy_evictions - ev0, N - 4);
	unsigned lazy = 0;
	for (unsigned i = 0; i < N; i++)
		lazy += is_lazy_plain(e.s, pa[i]);
	assert_int_equal(lazy, 4);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(sim_priv_read(e.s, NULL, pa[i], k, back, PAGE), 0);
		assert_memory_equal(back, plain[i], PAGE);
		ref_xts(e.s, k, pa[i], plain[i], ref, 1);
		assert_memory_equal(settled_ram(e.s, pa[i]), ref, PAGE);
	}
	assert_int_equal(atomic_load(&e.s->mem.lazy_used), 0);
	tsim_env_fini(&e);
}

/* Two LPs write qwords into pages (cap small, so pages are evicted under
 * them) while LP 0 reads them whole and a host thread settles them: every
 * read sees each qword before or after its write; at the end the plaintext
 * and RAM are the eager ones. */
#define PRACE_PAGES 64
#define PRACE_ROUNDS 6
struct prace {
	struct tsim_env *e;
	uint64_t pa[PRACE_PAGES];
	_Atomic int stop;
	int bad;
};

static uint64_t prace_val(unsigned w, unsigned i, unsigned r)
{
	return 0xA5A5000000000000ULL | ((uint64_t)w << 32) | (i << 8) | r;
}

static void prace_write(struct prace *r, unsigned w)
{
	for (unsigned round = 0; round < PRACE_ROUNDS; round++)
		for (unsigned i = 0; i < PRACE_PAGES; i++) {
			uint64_t v = prace_val(w, i, round);
			sim_priv_write(r->e->s, lp_cc(r->e, 1 + w), r->pa[i] + 0x40 + 0x800 * w + 8 * round,
				       r->e->first_keyid, &v, 8);
		}
}

static void *prace_writer0(void *arg)
{
	prace_write(arg, 0);
	return NULL;
}

static void *prace_writer1(void *arg)
{
	prace_write(arg, 1);
	return NULL;
}

static void *prace_settler(void *arg)
{
	struct prace *r = arg;
	while (!atomic_load(&r->stop))
		for (unsigned i = 0; i < PRACE_PAGES; i += 3)
			sim_mem_settle(r->e->s, NULL, r->pa[i], PAGE);
	return NULL;
}

static void test_mem_protect__lazy_plain_concurrent(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	assert_true(e.n_lps >= 3);
	e.s->mem.lazy_cap = 16;
	static struct prace r;
	memset(&r, 0, sizeof(r));
	r.e = &e;
	for (unsigned i = 0; i < PRACE_PAGES; i++) {
		r.pa[i] = tsim_page(&e);
		sim_priv_zero(e.s, lp_cc(&e, 0), r.pa[i], e.first_keyid, PAGE);
	}
	pthread_t t[3];
	assert_int_equal(pthread_create(&t[0], NULL, prace_writer0, &r), 0);
	assert_int_equal(pthread_create(&t[1], NULL, prace_writer1, &r), 0);
	assert_int_equal(pthread_create(&t[2], NULL, prace_settler, &r), 0);
	uint8_t back[PAGE];
	for (unsigned round = 0; round < 6; round++)
		for (unsigned i = 0; i < PRACE_PAGES; i++) {
			sim_priv_read(e.s, lp_cc(&e, 0), r.pa[i], e.first_keyid, back, PAGE);
			for (unsigned w = 0; w < 2; w++)
				for (unsigned j = 0; j < PRACE_ROUNDS; j++) {
					uint64_t v;
					uint8_t *p = back + 0x40 + 0x800 * w + 8 * j;
					memcpy(&v, p, 8);
					if (v && v != prace_val(w, i, j))
						r.bad++;
					memset(p, 0, 8);
				}
			if (!all_zero(back, PAGE))
				r.bad++;
		}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	atomic_store(&r.stop, 1);
	pthread_join(t[2], NULL);
	assert_int_equal(r.bad, 0);
	assert_true(atomic_load(&e.s->mem.lazy_used) <= 16);
	uint8_t plain[PAGE], ref[PAGE];
	for (unsigned i = 0; i < PRACE_PAGES; i++) {
		memset(plain, 0, PAGE);
		for (unsigned w = 0; w < 2; w++)
			for (unsigned j = 0; j < PRACE_ROUNDS; j++) {
				uint64_t v = prace_val(w, i, j);
				memcpy(plain + 0x40 + 0x800 * w + 8 * j, &v, 8);
			}
		assert_int_equal(sim_priv_read(e.s, NULL, r.pa[i], e.first_keyid, back, PAGE), 0);
		assert_memory_equal(back, plain, PAGE);
		ref_xts(e.s, e.first_keyid, r.pa[i], plain, ref, 1);
		assert_memory_equal(settled_ram(e.s, r.pa[i]), ref, PAGE);
	}
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
		cmocka_unit_test(test_mem_protect__lazy_zero_reads),
		cmocka_unit_test(test_mem_protect__lazy_zero_other_keyid_read),
		cmocka_unit_test(test_mem_protect__lazy_zero_partial_write),
		cmocka_unit_test(test_mem_protect__lazy_zero_other_keyid_write),
		cmocka_unit_test(test_mem_protect__lazy_zero_shared_write_poisons),
		cmocka_unit_test(test_mem_protect__lazy_zero_page_clear),
		cmocka_unit_test(test_mem_protect__lazy_zero_key_reprogram),
		cmocka_unit_test(test_mem_protect__lazy_zero_td_reclaim),
		cmocka_unit_test(test_mem_protect__lazy_zero_td_reclaim_checker),
		cmocka_unit_test(test_mem_protect__lazy_zero_failed_leaf),
		cmocka_unit_test(test_mem_protect__lazy_zero_concurrent),
		cmocka_unit_test(test_mem_protect__lazy_plain_partial_writes),
		cmocka_unit_test(test_mem_protect__lazy_plain_other_keyid),
		cmocka_unit_test(test_mem_protect__lazy_plain_shared_write_poisons),
		cmocka_unit_test(test_mem_protect__lazy_plain_page_clear),
		cmocka_unit_test(test_mem_protect__lazy_plain_key_reprogram),
		cmocka_unit_test(test_mem_protect__lazy_plain_td_reclaim),
		cmocka_unit_test(test_mem_protect__lazy_plain_td_reclaim_checker),
		cmocka_unit_test(test_mem_protect__lazy_plain_cap_eviction),
		cmocka_unit_test(test_mem_protect__lazy_plain_concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
