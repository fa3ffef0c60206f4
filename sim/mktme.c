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
static void lazy_range_add(struct sim_keyslot *k, uint64_t pfn);

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

/* ---- Lazy-plaintext slots (sim/phys_mem.h) ---------------------------------- */

static void lazy_lock(struct phys_mem *m)
{
	uint32_t z;
	do {
		z = 0;
	} while (!atomic_compare_exchange_weak_explicit(&m->lazy_lock, &z, 1, memory_order_acquire,
							memory_order_relaxed));
}

static void lazy_unlock(struct phys_mem *m)
{
	atomic_store_explicit(&m->lazy_lock, 0, memory_order_release);
}

static uint8_t *slot_buf(struct phys_mem *m, uint32_t slot)
{
	return m->lazy_buf + (uint64_t)slot * 4096;
}

/* Return a slot to the free list; the caller holds lazy_lock and the stripe
 * lock of the page that used it. */
static void slot_free_ll(struct phys_mem *m, uint32_t slot)
{
	__atomic_store_n(&m->lazy_slot[slot].page, ~0ULL, __ATOMIC_RELAXED);
	m->lazy_free[m->lazy_nfree++] = (uint16_t)slot;
	atomic_fetch_sub_explicit(&m->lazy_used, 1, memory_order_relaxed);
}

/*
 * Drop the page's mark, which is raw (phys_mem_lazy_raw), freeing its
 * lazy-plaintext slot if any. The caller holds the page's stripe lock, and
 * lazy_lock if ll.
 */
static void unmark_locked(struct phys_mem *m, uint64_t page, uint32_t raw, int ll)
{
	phys_mem_set_lazy(m, page, 0);
	if (!(raw & PHYS_LAZY_PLAIN))
		return;
	if (!ll)
		lazy_lock(m);
	slot_free_ll(m, raw & ~PHYS_LAZY_PLAIN);
	if (!ll)
		lazy_unlock(m);
}

/*
 * Make a lazy page real: the ciphertext of its plaintext (zeros, or the
 * lazy-plaintext buffer) under its KeyID's current key into RAM, the mark
 * dropped. raw is the page's raw mark; the caller holds the page's RMW
 * stripe lock, and lazy_lock if ll. No version bump: no access through any
 * KeyID can tell.
 */
static void materialise_raw(struct tdxsim *s, struct sim_crypt *cc, uint64_t page, uint32_t raw,
			    int ll)
{
	struct phys_mem *m = &s->mem;
	const uint8_t *plain = zero_page;
	uint32_t lz = raw;
	if (raw & PHYS_LAZY_PLAIN) {
		uint32_t slot = raw & ~PHYS_LAZY_PLAIN;
		lz = m->lazy_slot[slot].keyid;
		plain = slot_buf(m, slot);
	}
	uint32_t gen = atomic_load_explicit(&s->keys[lz].gen, memory_order_acquire);
	key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, lz, gen, 1);
	xts_page(cc->enc, page, phys_mem_ptr(m, page), plain);
	unmark_locked(m, page, raw, ll);
	cc->stat_encrypts++;
	cc->stat_materialised++;
}

static void materialise_locked(struct tdxsim *s, struct sim_crypt *cc, uint64_t page)
{
	materialise_raw(s, cc, page, phys_mem_lazy_raw(&s->mem, page), 0);
}

/*
 * A free lazy-plaintext slot for page (whose stripe lock the caller holds),
 * or -1. When all lazy_cap are in use, one is evicted (its page
 * materialised) if its page's stripe lock can be had without waiting (or is
 * the caller's): never waiting for a stripe while holding one keeps the
 * stripes deadlock-free.
 */
static int slot_alloc(struct tdxsim *s, struct sim_crypt *cc, uint64_t page)
{
	struct phys_mem *m = &s->mem;
	int slot = -1;
	lazy_lock(m);
	uint32_t used = atomic_load_explicit(&m->lazy_used, memory_order_relaxed);
	if (used < m->lazy_cap && used < PHYS_LAZY_PLAIN_MAX) {
		/* used == lazy_fresh - lazy_nfree */
		slot = m->lazy_nfree ? m->lazy_free[--m->lazy_nfree] : (int)m->lazy_fresh++;
	} else {
		uint32_t cap = m->lazy_fresh;
		for (uint32_t tries = 0; tries < 16 && cap; tries++) {
			uint32_t v = m->lazy_hand++ % cap;
			uint64_t q = __atomic_load_n(&m->lazy_slot[v].page, __ATOMIC_RELAXED);
			if (q == ~0ULL || q == page)
				continue;
			int held = phys_mem_same_stripe(q, page);
			if (!held && !phys_mem_rmw_trylock(m, q))
				continue;
			/* In use and its page's lock held: the mark is this slot. */
			SIM_BUG_ON(phys_mem_lazy_raw(m, q) != (PHYS_LAZY_PLAIN | v));
			materialise_raw(s, cc, q, PHYS_LAZY_PLAIN | v, 1);
			if (!held)
				phys_mem_rmw_unlock(m, q);
			cc->stat_lazy_evictions++;
			slot = m->lazy_free[--m->lazy_nfree];
			break;
		}
	}
	if (slot >= 0) {
		atomic_fetch_add_explicit(&m->lazy_used, 1, memory_order_relaxed);
		__atomic_store_n(&m->lazy_slot[slot].page, page, __ATOMIC_RELAXED);
	}
	lazy_unlock(m);
	return slot;
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
	phys_mem_rmw_lock(m, page);
	uint32_t raw = phys_mem_lazy_raw(m, page);
	uint32_t lz = phys_mem_lazy(m, page);
	if (lz == keyid && !(raw & PHYS_LAZY_PLAIN)) {
		/* Lazily zero under this KeyID: zeros, nothing to cache. */
		phys_mem_rmw_unlock(m, page);
		cc->stat_lazy_reads++;
		return zero_page;
	}
	ver = phys_mem_page_ver(m, page);
	if (lz == keyid) {
		/* Lazy plaintext under this KeyID: a copy, no AES. */
		memcpy(out, slot_buf(m, raw & ~PHYS_LAZY_PLAIN), 4096);
		phys_mem_rmw_unlock(m, page);
		cc->stat_lazy_reads++;
	} else {
		if (lz)
			materialise_locked(s, cc, page);
		key_ctx(s, cc->dec, &cc->dec_keyid, &cc->dec_gen, keyid, gen, 0);
		xts_page(cc->dec, page, out, phys_mem_ptr(m, page));
		phys_mem_rmw_unlock(m, page);
		cc->stat_decrypts++;
	}
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
			uint32_t raw = phys_mem_lazy_raw(m, page);
			uint32_t lz = phys_mem_lazy(m, page);
			if (lz == keyid) {
				if (raw & PHYS_LAZY_PLAIN)
					memcpy(dst, slot_buf(m, raw & ~PHYS_LAZY_PLAIN), 4096);
				else
					memset(dst, 0, 4096);
				cc->stat_lazy_reads++;
			} else {
				if (lz)
					materialise_locked(s, cc, page);
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
		uint32_t raw = phys_mem_lazy_raw(m, page);
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
			/* No byte of the old page survives, lazy or not. */
			memcpy(plain, src, 4096);
			key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, keyid, gen, 1);
			xts_page(cc->enc, page, ram, plain);
			if (raw)
				unmark_locked(m, page, raw, 0);
			cc->stat_encrypts++;
		} else if (lz == keyid && (raw & PHYS_LAZY_PLAIN)) {
			/* Lazy plaintext under this KeyID: update it, no AES. The
			 * LP's entry follows only if it was current. */
			memcpy(slot_buf(m, raw & ~PHYS_LAZY_PLAIN) + off, src, n);
			if (valid) {
				memcpy(plain + off, src, n);
				cc->stat_hits++;
			} else {
				e = NULL;
			}
			cc->stat_lazy_writes++;
		} else {
			/* The page's whole plaintext through keyid before the write:
			 * zeros if lazily zero under it, else decrypted. */
			int zero = lz == keyid;
			if (lz && !zero)
				materialise_locked(s, cc, page);
			if (valid) {
				cc->stat_hits++;
			} else if (zero) {
				memset(plain, 0, 4096);
			} else {
				key_ctx(s, cc->dec, &cc->dec_keyid, &cc->dec_gen, keyid, gen, 0);
				xts_page(cc->dec, page, plain, ram);
				cc->stat_decrypts++;
			}
			memcpy(plain + off, src, n);
			/* Keep it as lazy plaintext if there is room. */
			int slot = slot_alloc(s, cc, page);
			if (slot >= 0) {
				__atomic_store_n(&m->lazy_slot[slot].keyid, keyid, __ATOMIC_RELAXED);
				memcpy(slot_buf(m, (uint32_t)slot), plain, 4096);
				lazy_range_add(&s->keys[keyid], page >> 12);
				phys_mem_set_lazy(m, page, PHYS_LAZY_PLAIN | (uint32_t)slot);
				cc->stat_lazy_writes++;
			} else if (zero) {
				/* The whole page is encrypted, which materialises it. */
				key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, keyid, gen, 1);
				xts_page(cc->enc, page, ram, plain);
				phys_mem_set_lazy(m, page, 0);
				cc->stat_materialised++;
				cc->stat_encrypts++;
			} else {
				/* XTS blocks do not depend on the data that follows
				 * them: encrypting the prefix up to the last line
				 * written gives those lines' ciphertext at a fraction
				 * of the page's cost; store back only those lines. */
				uint64_t l0 = off & ~63ULL, l1 = (off + n + 63) & ~63ULL;
				key_ctx(s, cc->enc, &cc->enc_keyid, &cc->enc_gen, keyid, gen, 1);
				xts_prefix(cc->enc, page, cipher, plain, l1);
				memcpy(ram + l0, cipher + l0, l1 - l0);
				cc->stat_encrypts++;
			}
		}
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
		uint32_t raw = phys_mem_lazy_raw(m, page);
		if (raw & PHYS_LAZY_PLAIN)
			unmark_locked(m, page, raw, 0);         /* nothing of it survives */
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
	/* Stale RAM lines of a lazy page are TD-owned (a lazily zeroed page is
	 * PAGE_OWNED; lazy plaintext makes the lines it writes owned, and
	 * anything taking ownership away comes here with SIM_RAW_WRITE first):
	 * they read as zeros whatever RAM holds, the other lines are current. */
	if (how == SIM_RAW_READ_MASKED)
		return;
	if (how == SIM_RAW_WRITE && !(pa & 4095) && len >= 4096) {
		unmark_locked(m, page, phys_mem_lazy_raw(m, page), 0);  /* overwritten whole */
		return;
	}
	struct tmp_crypt t;
	struct sim_crypt *c = tmp_get(cc, &t);
	materialise_locked(s, c, page);
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
		if (!phys_mem_lazy_raw(m, page))
			continue;
		phys_mem_rmw_lock(m, page);
		if (phys_mem_lazy_raw(m, page)) {
			if (!c)
				c = tmp_get(cc, &t);
			materialise_locked(s, c, page);
		}
		phys_mem_rmw_unlock(m, page);
	}
	if (c)
		tmp_put(c, &t);
}

void *sim_mem_host_ptr(struct tdxsim *s, uint64_t pa)
{
	if (phys_mem_lazy_raw(&s->mem, pa))
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
			materialise_locked(s, c, page);
		}
		phys_mem_rmw_unlock(m, page);
	}
	if (c)
		tmp_put(c, &t);
}
