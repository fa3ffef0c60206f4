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

/* Below, with the other lazy-zeroing code. */
static void settle_keyid(struct tdxsim *s, uint32_t keyid);

void sim_key_program(struct tdxsim *s, uint32_t keyid, const uint8_t key[SIM_KEY_BYTES])
{
	SIM_BUG_ON(keyid >= s->n_keyslots);
	struct sim_keyslot *k = &s->keys[keyid];
	uint8_t nk[SIM_KEY_BYTES];
	memcpy(nk, key, SIM_KEY_BYTES);
	/* XTS refuses identical halves: make the tweak key differ. */
	if (!memcmp(nk, nk + 16, 16))
		nk[16] ^= 1;
	/* Pages lazily zero under the old key get its ciphertext first (the
	 * same key again, as each package programs it, changes nothing). */
	if (atomic_load_explicit(&k->gen, memory_order_acquire) && memcmp(k->key, nk, SIM_KEY_BYTES))
		settle_keyid(s, keyid);
	memcpy(k->key, nk, SIM_KEY_BYTES);
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

/* The plaintext of a lazily zeroed page. */
static const uint8_t zero_page[4096];

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

/*
 * Make a lazily zeroed page real: the ciphertext of zeros under lz (its
 * current key) into RAM, the mark dropped. The caller holds the page's RMW
 * stripe lock. No version bump: no access through any KeyID can tell.
 */
static void materialise_locked(struct tdxsim *s, struct sim_crypt *cc, uint64_t page, uint32_t lz)
{
	uint32_t gen = atomic_load_explicit(&s->keys[lz].gen, memory_order_acquire);
	key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, lz, gen, 1);
	xts_page(cc->enc, page, phys_mem_ptr(&s->mem, page), zero_page);
	phys_mem_set_lazy(&s->mem, page, 0);
	cc->stat_encrypts++;
	cc->stat_materialised++;
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
 * partial write is never seen half done), or zero_page (not cached) if the
 * page is lazily zero under keyid. Returns a pointer valid until the next
 * call on cc (into the cache, or into scratch, or zero_page).
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
	uint32_t lz = phys_mem_lazy(m, page);
	if (lz == keyid) {
		/* Lazily zero under this KeyID: zeros, nothing to cache. */
		phys_mem_rmw_unlock(m, page);
		cc->stat_lazy_reads++;
		return zero_page;
	}
	if (lz)
		materialise_locked(s, cc, page, lz);
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
			uint32_t lz = phys_mem_lazy(m, page);
			if (lz == keyid) {
				memset(dst, 0, 4096);
				cc->stat_lazy_reads++;
			} else {
				if (lz)
					materialise_locked(s, cc, page, lz);
				xts_page(cc->dec, page, dst, phys_mem_ptr(m, page));
			}
			phys_mem_rmw_unlock(m, page);
		} else {
			const uint8_t *plain = page_plain(s, cc, page, keyid, gen, scratch);
			if (plain == zero_page)
				memset(dst, 0, n);
			else
				memcpy(dst, plain + off, n);
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
	while (len) {
		uint64_t page = pa & ~4095ULL, off = pa & 4095, n = 4096 - off;
		if (n > len)
			n = len;
		uint8_t *ram = phys_mem_ptr(m, page);
		phys_mem_rmw_lock(m, page);
		uint32_t ver = phys_mem_page_ver(m, page);
		uint32_t lz = phys_mem_lazy(m, page);
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
			/* No byte of the old page survives, lazily zero or not. */
			memcpy(plain, src, 4096);
			key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, keyid, gen, 1);
			xts_page(cc->enc, page, ram, plain);
			if (lz)
				phys_mem_set_lazy(m, page, 0);
		} else if (lz == keyid) {
			/* Lazily zero under this KeyID: the old plaintext is zeros;
			 * the whole page is encrypted, which materialises it. */
			if (!valid)
				memset(plain, 0, 4096);
			else
				cc->stat_hits++;
			memcpy(plain + off, src, n);
			key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, keyid, gen, 1);
			xts_page(cc->enc, page, ram, plain);
			phys_mem_set_lazy(m, page, 0);
			cc->stat_materialised++;
		} else {
			if (lz)
				materialise_locked(s, cc, page, lz);
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
			key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, keyid, gen, 1);
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

/* Record page number pfn in the KeyID's range of possibly lazy pages. */
static void lazy_range_add(struct sim_keyslot *k, uint64_t pfn)
{
	uint64_t hi = atomic_load_explicit(&k->lazy_hi, memory_order_relaxed);
	while (hi <= pfn && !atomic_compare_exchange_weak_explicit(&k->lazy_hi, &hi, pfn + 1,
								   memory_order_relaxed,
								   memory_order_relaxed))
		;
	uint64_t lo_inv = atomic_load_explicit(&k->lazy_lo_inv, memory_order_relaxed);
	while (lo_inv < ~pfn && !atomic_compare_exchange_weak_explicit(&k->lazy_lo_inv, &lo_inv, ~pfn,
									memory_order_relaxed,
									memory_order_relaxed))
		;
}

/*
 * MOVDIR64B of zeros through keyid, lazily: each page is marked zero under
 * keyid and changes as a full-page write would (lines TD-owned, unpoisoned;
 * version bumped, so every LP's cached plaintext is stale), without AES.
 */
void sim_priv_zero(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid,
		   uint64_t len)
{
	struct phys_mem *m = &s->mem;
	SIM_BUG_ON((pa | len) & 4095);
	uint32_t gen = keyid < s->n_keyslots ?
		       atomic_load_explicit(&s->keys[keyid].gen, memory_order_acquire) : 0;
	if (!gen || !len)
		return;                 /* no key: the write is dropped (model) */
	lazy_range_add(&s->keys[keyid], pa >> 12);
	lazy_range_add(&s->keys[keyid], (pa + len - 1) >> 12);
	for (uint64_t page = pa; page < pa + len; page += 4096) {
		phys_mem_rmw_lock(m, page);
		phys_mem_set_lazy(m, page, keyid);
		phys_mem_set_owned(m, page, 4096);
		phys_mem_bump(m, page, 4096);
		phys_mem_rmw_unlock(m, page);
		if (cc)
			cc->stat_lazy_zeros++;
	}
}

/* ---- Raw access to lazily zeroed pages ---------------------------------------- */

void sim_mem_raw_locked(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint64_t len,
			int how)
{
	struct phys_mem *m = &s->mem;
	uint64_t page = pa & ~4095ULL;
	uint32_t lz = phys_mem_lazy(m, page);
	if (!lz)
		return;
	if (how == SIM_RAW_READ_MASKED && phys_mem_page_owned(m, page))
		return;                 /* every line reads as zeros whatever RAM holds */
	if (how == SIM_RAW_WRITE && !(pa & 4095) && len >= 4096) {
		phys_mem_set_lazy(m, page, 0);  /* overwritten whole */
		return;
	}
	struct tmp_crypt t;
	struct sim_crypt *c = tmp_get(cc, &t);
	materialise_locked(s, c, page, lz);
	tmp_put(c, &t);
}

void sim_mem_settle(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint64_t len)
{
	struct phys_mem *m = &s->mem;
	struct tmp_crypt t;
	struct sim_crypt *c = NULL;
	if (!len)
		return;
	for (uint64_t page = pa & ~4095ULL; page < pa + len; page += 4096) {
		if (!phys_mem_lazy(m, page))
			continue;
		phys_mem_rmw_lock(m, page);
		uint32_t lz = phys_mem_lazy(m, page);
		if (lz) {
			if (!c)
				c = tmp_get(cc, &t);
			materialise_locked(s, c, page, lz);
		}
		phys_mem_rmw_unlock(m, page);
	}
	if (c)
		tmp_put(c, &t);
}

void *sim_mem_host_ptr(struct tdxsim *s, uint64_t pa)
{
	if (phys_mem_lazy(&s->mem, pa))
		sim_mem_settle(s, NULL, pa, 1);
	return phys_mem_host_ptr(&s->mem, pa);
}

/* Before keyid's key changes: every page still lazily zero under it gets
 * the old key's ciphertext (the range bounds where they can be). */
static void settle_keyid(struct tdxsim *s, uint32_t keyid)
{
	struct phys_mem *m = &s->mem;
	struct sim_keyslot *k = &s->keys[keyid];
	uint64_t hi = atomic_exchange_explicit(&k->lazy_hi, 0, memory_order_relaxed);
	uint64_t lo = ~atomic_exchange_explicit(&k->lazy_lo_inv, 0, memory_order_relaxed);
	struct tmp_crypt t;
	struct sim_crypt *c = NULL;
	for (uint64_t pfn = lo; pfn < hi; pfn++) {
		uint64_t page = pfn << 12;
		if (phys_mem_lazy(m, page) != keyid)
			continue;
		phys_mem_rmw_lock(m, page);
		if (phys_mem_lazy(m, page) == keyid) {
			if (!c)
				c = tmp_get(NULL, &t);
			materialise_locked(s, c, page, keyid);
		}
		phys_mem_rmw_unlock(m, page);
	}
	if (c)
		tmp_put(c, &t);
}
