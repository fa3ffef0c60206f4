#include "sim/mktme.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

int sim_crypt_init(struct sim_crypt *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->enc = EVP_CIPHER_CTX_new();
	cc->dec = EVP_CIPHER_CTX_new();
	cc->cache_data = aligned_alloc(64, SIM_CRYPT_CACHE * 4096);
	if (!cc->enc || !cc->dec || !cc->cache_data) {
		sim_crypt_fini(cc);
		return -1;
	}
	cc->cache = cc->tags;
	for (unsigned i = 0; i < SIM_CRYPT_CACHE; i++) {
		cc->tags[i].pa = ~0ULL;
		cc->tags[i].data = cc->cache_data + i * 4096;
	}
	return 0;
}

void sim_crypt_fini(struct sim_crypt *cc)
{
	EVP_CIPHER_CTX_free(cc->enc);
	EVP_CIPHER_CTX_free(cc->dec);
	free(cc->cache_data);
	memset(cc, 0, sizeof(*cc));
}

void sim_key_program(struct tdxsim *s, uint32_t keyid, const uint8_t key[SIM_KEY_BYTES])
{
	SIM_BUG_ON(keyid >= s->n_keyslots);
	struct sim_keyslot *k = &s->keys[keyid];
	memcpy(k->key, key, SIM_KEY_BYTES);
	/* XTS refuses identical halves: make the tweak key differ. */
	if (!memcmp(k->key, k->key + 16, 16))
		k->key[16] ^= 1;
	atomic_fetch_add_explicit(&k->gen, 1, memory_order_release);
}

bool sim_key_valid(const struct tdxsim *s, uint32_t keyid)
{
	return keyid < s->n_keyslots &&
	       atomic_load_explicit(&s->keys[keyid].gen, memory_order_acquire) != 0;
}

/* Key the context for (keyid, gen) if it is not already. */
static void key_ctx(struct tdxsim *s, EVP_CIPHER_CTX *ctx, uint32_t *cur_id, uint32_t *cur_gen,
		    uint32_t keyid, uint32_t gen, int enc)
{
	if (*cur_id == keyid && *cur_gen == gen)
		return;
	SIM_BUG_ON(EVP_CipherInit_ex(ctx, EVP_aes_128_xts(), NULL, s->keys[keyid].key, NULL, enc) != 1);
	*cur_id = keyid;
	*cur_gen = gen;
}

static void xts_prefix(EVP_CIPHER_CTX *ctx, uint64_t page_pa, uint8_t *out, const uint8_t *in,
		       uint64_t len)
{
	uint8_t iv[16] = { 0 };
	int n;
	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(page_pa >> (8 * i));
	SIM_BUG_ON(EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, -1) != 1);
	SIM_BUG_ON(EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 || n != (int)len);
}

static void xts_page(EVP_CIPHER_CTX *ctx, uint64_t page_pa, uint8_t *out, const uint8_t *in)
{
	uint8_t iv[16] = { 0 };
	int n;
	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(page_pa >> (8 * i));
	SIM_BUG_ON(EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, -1) != 1);
	SIM_BUG_ON(EVP_CipherUpdate(ctx, out, &n, in, 4096) != 1 || n != 4096);
}

/* A temporary context standing in for an LP's. */
struct tmp_crypt {
	struct sim_crypt cc;
};

static struct sim_crypt *tmp_get(struct sim_crypt *cc, struct tmp_crypt *t)
{
	if (cc)
		return cc;
	memset(t, 0, sizeof(*t));
	t->cc.enc = EVP_CIPHER_CTX_new();
	t->cc.dec = EVP_CIPHER_CTX_new();
	SIM_BUG_ON(!t->cc.enc || !t->cc.dec);
	return &t->cc;
}

static void tmp_put(struct sim_crypt *cc, struct tmp_crypt *t)
{
	if (cc == &t->cc) {
		EVP_CIPHER_CTX_free(t->cc.enc);
		EVP_CIPHER_CTX_free(t->cc.dec);
	}
}

/* The cache entry to hold page's plaintext: a valid one if present (*valid
 * set), else the least recently used. */
static struct sim_crypt_page *cache_slot(struct sim_crypt *cc, uint64_t page, uint32_t keyid,
					 uint32_t gen, uint32_t ver, int *valid)
{
	struct sim_crypt_page *victim = NULL;
	for (unsigned i = 0; i < SIM_CRYPT_CACHE; i++) {
		struct sim_crypt_page *e = &cc->cache[i];
		if (e->pa == page && e->keyid == keyid && e->gen == gen) {
			*valid = e->ver == ver;
			return e;
		}
		if (!victim || e->lru < victim->lru)
			victim = e;
	}
	*valid = 0;
	return victim;
}

/*
 * Plaintext of a whole page through keyid: from the LP cache when valid,
 * else decrypted from RAM (under the page's RMW stripe, so a concurrent
 * partial write is never seen half done). Returns a pointer valid until the
 * next call on cc (into the cache, or into scratch).
 */
static const uint8_t *page_plain(struct tdxsim *s, struct sim_crypt *cc, uint64_t page,
				 uint32_t keyid, uint32_t gen, uint8_t *scratch)
{
	struct phys_mem *m = &s->mem;
	uint32_t ver = phys_mem_page_ver(m, page);
	struct sim_crypt_page *e = NULL;
	uint8_t *out = scratch;
	if (cc->cache) {
		int valid;
		e = cache_slot(cc, page, keyid, gen, ver, &valid);
		if (valid) {
			e->lru = ++cc->tick;
			cc->stat_hits++;
			return e->data;
		}
		out = e->data;
	}
	key_ctx(s, cc->dec, &cc->dec_keyid, &cc->dec_gen, keyid, gen, 0);
	phys_mem_rmw_lock(m, page);
	ver = phys_mem_page_ver(m, page);
	xts_page(cc->dec, page, out, phys_mem_ptr(m, page));
	phys_mem_rmw_unlock(m, page);
	cc->stat_decrypts++;
	if (e) {
		e->pa = page;
		e->keyid = keyid;
		e->gen = gen;
		e->ver = ver;
		e->lru = ++cc->tick;
	}
	return out;
}

uint64_t sim_priv_read64(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid)
{
	uint32_t gen = keyid < s->n_keyslots ?
		       atomic_load_explicit(&s->keys[keyid].gen, memory_order_acquire) : 0;
	SIM_BUG_ON(!cc || !cc->cache || (pa & 7));
	if (!gen)
		return 0;
	uint64_t v;
	memcpy(&v, page_plain(s, cc, pa & ~4095ULL, keyid, gen, NULL) + (pa & 4095), 8);
	return v;
}

unsigned sim_priv_read(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid,
		       void *buf, uint64_t len)
{
	struct phys_mem *m = &s->mem;
	uint8_t *dst = buf;
	unsigned poisoned = 0;
	uint32_t gen = keyid < s->n_keyslots ?
		       atomic_load_explicit(&s->keys[keyid].gen, memory_order_acquire) : 0;
	if (!gen) {
		/* No key programmed: the line reads back as zeros (model). */
		memset(buf, 0, len);
		return 0;
	}
	struct tmp_crypt t;
	cc = tmp_get(cc, &t);
	uint8_t *scratch = NULL;
	while (len) {
		uint64_t page = pa & ~4095ULL, off = pa & 4095, n = 4096 - off;
		if (n > len)
			n = len;
		for (uint64_t l = pa & ~63ULL; l < pa + n; l += 64)
			if (phys_mem_line_state(m, l) & PHYS_LINE_POISON)
				poisoned++;
		if (!cc->cache && !scratch)
			SIM_BUG_ON(!(scratch = malloc(4096)));
		if (!cc->cache && n == 4096) {
			key_ctx(s, cc->dec, &cc->dec_keyid, &cc->dec_gen, keyid, gen, 0);
			phys_mem_rmw_lock(m, page);
			xts_page(cc->dec, page, dst, phys_mem_ptr(m, page));
			phys_mem_rmw_unlock(m, page);
		} else {
			memcpy(dst, page_plain(s, cc, page, keyid, gen, scratch) + off, n);
		}
		dst += n;
		pa += n;
		len -= n;
	}
	free(scratch);
	tmp_put(cc, &t);
	return poisoned;
}

void sim_priv_write(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid,
		    const void *buf, uint64_t len)
{
	struct phys_mem *m = &s->mem;
	const uint8_t *src = buf;
	uint32_t gen = keyid < s->n_keyslots ?
		       atomic_load_explicit(&s->keys[keyid].gen, memory_order_acquire) : 0;
	if (!gen)
		return;                 /* no key: the write is dropped (model) */
	struct tmp_crypt t;
	cc = tmp_get(cc, &t);
	uint8_t scratch[4096], cipher[4096];
	key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, keyid, gen, 1);
	while (len) {
		uint64_t page = pa & ~4095ULL, off = pa & 4095, n = 4096 - off;
		if (n > len)
			n = len;
		uint8_t *ram = phys_mem_ptr(m, page);
		phys_mem_rmw_lock(m, page);
		uint32_t ver = phys_mem_page_ver(m, page);
		/* Plaintext of the page after this write, kept in the LP's cache
		 * (write-through) so the next access does not decrypt. */
		struct sim_crypt_page *e = NULL;
		uint8_t *plain = scratch;
		int valid = 0;
		if (cc->cache) {
			e = cache_slot(cc, page, keyid, gen, ver, &valid);
			plain = e->data;
		}
		if (n == 4096) {
			memcpy(plain, src, 4096);
			xts_page(cc->enc, page, ram, plain);
		} else {
			/* Read-modify-write; store back only the lines written. */
			if (!valid) {
				key_ctx(s, cc->dec, &cc->dec_keyid, &cc->dec_gen, keyid, gen, 0);
				xts_page(cc->dec, page, plain, ram);
				cc->stat_decrypts++;
			} else {
				cc->stat_hits++;
			}
			memcpy(plain + off, src, n);
			/* XTS blocks do not depend on the data that follows them:
			 * encrypting the prefix up to the last line written gives
			 * those lines' ciphertext at a fraction of the page's cost. */
			uint64_t l0 = off & ~63ULL, l1 = (off + n + 63) & ~63ULL;
			xts_prefix(cc->enc, page, cipher, plain, l1);
			memcpy(ram + l0, cipher + l0, l1 - l0);
		}
		cc->stat_encrypts++;
		uint64_t l0 = pa & ~63ULL, l1 = (pa + n + 63) & ~63ULL;
		phys_mem_set_owned(m, l0, l1 - l0);
		phys_mem_bump(m, page, 4096);
		if (e) {
			/* Under the stripe lock the version moved by exactly one. */
			e->pa = page;
			e->keyid = keyid;
			e->gen = gen;
			e->ver = ver + 1;
			e->lru = ++cc->tick;
		}
		phys_mem_rmw_unlock(m, page);
		src += n;
		pa += n;
		len -= n;
	}
	tmp_put(cc, &t);
}

void sim_priv_zero(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid,
		   uint64_t len)
{
	static const uint8_t zero[4096];
	SIM_BUG_ON((pa | len) & 4095);
	for (uint64_t off = 0; off < len; off += 4096)
		sim_priv_write(s, cc, pa + off, keyid, zero, 4096);
}
