/* Sparse simulated physical memory: one reserved host mapping, committed on touch. */
#ifndef SIM_PHYS_MEM_H
#define SIM_PHYS_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

/*
 * Memory-integrity state (TDX "TD-owner" bit per 64-byte line, and poison)
 * is kept in two levels so that whole pages cost one byte:
 *   page_meta[pa >> 12]: PAGE_SHARED (no line owned), PAGE_OWNED (every line
 *   owned, none poisoned) or PAGE_MIXED (line_meta is authoritative);
 *   line_meta[pa >> 6]: PHYS_LINE_* bits, only meaningful for MIXED pages.
 * Both arrays are reserved like RAM and committed when first written.
 *
 * Concurrency: a page's state (its RAM, page_meta byte, line_meta bytes and
 * version) is changed only under the page's RMW stripe lock
 * (phys_mem_rmw_lock), so updates of one page never interleave (the
 * embedder's own stores through tdxsim_pa_to_ptr are outside this); the bytes
 * are read and written with atomics, so a reader that does not take the
 * lock (a poison check, the invariant checker) sees a state that was
 * current at some point, never a torn one.
 *
 * Lazily zeroed pages: page_lazy[pa >> 12] != 0 says that the page's RAM
 * logically holds the ciphertext of a zero page under that private KeyID
 * (sim_priv_zero), which has not been computed: the RAM bytes are stale.
 * Such a page is always PAGE_OWNED (every line TD-owned, none poisoned).
 * Whoever looks at or changes the RAM bytes first makes it real
 * (sim/mktme.h: sim_mem_raw_locked, sim_mem_settle). Changed only under the
 * page's RMW stripe lock, together with the RAM.
 *
 * Lazy plaintext: page_lazy[pa >> 12] == PHYS_LAZY_PLAIN | slot says that
 * the page's plaintext through the slot's KeyID is held in lazy_buf[slot]
 * (the result of partial writes through that KeyID, sim_priv_write) and its
 * ciphertext has not been computed: RAM lines written since are stale (they
 * are all TD-owned and unpoisoned), the others are current. Materialised on
 * the same triggers as a lazily zeroed page. At most lazy_cap pages are
 * lazy plaintext at a time. A slot's fields change only under the stripe
 * lock of the page using it and lazy_lock (allocation, eviction, freeing).
 */
#define PHYS_RMW_STRIPES 256
#define PHYS_LAZY_PLAIN 0x8000          /* page_lazy: slot index in the low 15 bits */
#define PHYS_LAZY_PLAIN_MAX 4096        /* lazy-plaintext pages per simulator */

struct phys_lazy_slot {
	uint64_t page;                  /* PA of the page using it (atomic access) */
	uint32_t keyid;                 /* private KeyID of the plaintext (atomic access) */
};

struct phys_mem {
	uint8_t *base;          /* host address of PA 0: the module's view, always RW */
	/* The host's view (tdxsim_pa_to_ptr). == base, except with two views
	 * (checker mode): a second mapping of the same memfd, whose TD-private
	 * pages are made inaccessible. */
	uint8_t *host_base;
	int memfd;              /* backing memfd with two views, else -1 */
	uint64_t size;          /* bytes of PA space mapped (a multiple of 1 GiB) */
	uint8_t *page_meta;
	uint8_t *line_meta;
	/* Per-page write version, bumped by every write through the memory
	 * model: lets decrypted-page caches know when they are stale. */
	uint32_t *page_ver;
	/* Per-page private KeyID of a lazily zeroed page, 0 if none (above):
	 * 2 bytes per page, reserved like RAM, committed when first written. */
	uint16_t *page_lazy;
	/* Lazy-plaintext slots (above): PHYS_LAZY_PLAIN_MAX of them, buffers
	 * reserved and committed on first use; slots [0, lazy_fresh) have been
	 * used, lazy_free[0, lazy_nfree) are free again; lazy_used are in use. */
	struct phys_lazy_slot *lazy_slot;
	uint8_t *lazy_buf;
	uint16_t *lazy_free;
	uint32_t lazy_cap;              /* <= PHYS_LAZY_PLAIN_MAX (tests lower it) */
	uint32_t lazy_fresh, lazy_nfree, lazy_hand;
	_Atomic uint32_t lazy_used;
	_Atomic uint32_t lazy_lock;
	/* Striped locks serialising read-modify-write of encrypted pages (a
	 * partial write re-encrypts its page): an implementation detail, never
	 * visible as a status. */
	_Atomic uint32_t rmw_lock[PHYS_RMW_STRIPES];
};

#define PAGE_SHARED 0
#define PAGE_OWNED  1
#define PAGE_MIXED  2

#define PHYS_LINE_TD_OWNER 0x1  /* last written through a TDX private KeyID */
#define PHYS_LINE_POISON   0x2  /* integrity failure pending: a TD read is a #MC */

/* two_views: back memory with a memfd mapped twice (base, host_base). */
int phys_mem_init(struct phys_mem *m, uint64_t size, int two_views);
void phys_mem_fini(struct phys_mem *m);

static inline int phys_mem_contains(const struct phys_mem *m, uint64_t pa, uint64_t len)
{
	return pa < m->size && len <= m->size - pa;
}

static inline void *phys_mem_ptr(const struct phys_mem *m, uint64_t pa)
{
	return m->base + pa;
}

static inline void *phys_mem_host_ptr(const struct phys_mem *m, uint64_t pa)
{
	return m->host_base + pa;
}

/* PHYS_LINE_* bits of the line holding pa (no lock needed). */
static inline unsigned phys_mem_line_state(const struct phys_mem *m, uint64_t pa)
{
	/* Acquire: a page made MIXED has its line bytes filled in first. */
	uint8_t p = __atomic_load_n(&m->page_meta[pa >> 12], __ATOMIC_ACQUIRE);
	if (p == PAGE_SHARED)
		return 0;
	if (p == PAGE_OWNED)
		return PHYS_LINE_TD_OWNER;
	return __atomic_load_n(&m->line_meta[pa >> 6], __ATOMIC_RELAXED);
}

/* Line-state updates of [pa, pa+len), which lies within one page whose RMW
 * stripe lock the caller holds. */
/* [pa, pa+len) written through a private KeyID: lines become TD-owned, unpoisoned. */
void phys_mem_set_owned(struct phys_mem *m, uint64_t pa, uint64_t len);
/* [pa, pa+len) written through a shared KeyID: owned lines lose ownership and are poisoned. */
void phys_mem_write_shared(struct phys_mem *m, uint64_t pa, uint64_t len);
/* [pa, pa+len) cleared with MOVDIR64B through a shared KeyID: no owner, no poison. */
void phys_mem_clear_state(struct phys_mem *m, uint64_t pa, uint64_t len);

static inline uint32_t phys_mem_page_ver(const struct phys_mem *m, uint64_t pa)
{
	return __atomic_load_n(&m->page_ver[pa >> 12], __ATOMIC_ACQUIRE);
}
/* Every page of [pa, pa+len) changed. */
void phys_mem_bump(struct phys_mem *m, uint64_t pa, uint64_t len);

/* The private KeyID under which the page of pa is lazily zero or lazy
 * plaintext, or 0. Stable only under the page's RMW stripe lock; a
 * lock-free load is a hint. */
static inline uint32_t phys_mem_lazy(const struct phys_mem *m, uint64_t pa)
{
	uint32_t v = __atomic_load_n(&m->page_lazy[pa >> 12], __ATOMIC_ACQUIRE);
	if (v & PHYS_LAZY_PLAIN)
		return __atomic_load_n(&m->lazy_slot[v & ~PHYS_LAZY_PLAIN].keyid, __ATOMIC_ACQUIRE);
	return v;
}
/* The raw mark: 0, a KeyID (lazily zero) or PHYS_LAZY_PLAIN | slot. */
static inline uint32_t phys_mem_lazy_raw(const struct phys_mem *m, uint64_t pa)
{
	return __atomic_load_n(&m->page_lazy[pa >> 12], __ATOMIC_ACQUIRE);
}
/* Set the raw mark of the page of pa (a KeyID, PHYS_LAZY_PLAIN | slot, or 0);
 * the caller holds its lock, and frees a lazy-plaintext slot it drops. */
static inline void phys_mem_set_lazy(struct phys_mem *m, uint64_t pa, uint32_t keyid)
{
	__atomic_store_n(&m->page_lazy[pa >> 12], (uint16_t)keyid, __ATOMIC_RELEASE);
}
/* The page of pa is PAGE_OWNED (every line TD-owned, none poisoned). */
static inline int phys_mem_page_owned(const struct phys_mem *m, uint64_t pa)
{
	return __atomic_load_n(&m->page_meta[pa >> 12], __ATOMIC_ACQUIRE) == PAGE_OWNED;
}

static inline void phys_mem_rmw_lock(struct phys_mem *m, uint64_t pa)
{
	_Atomic uint32_t *l = &m->rmw_lock[(pa >> 12) % PHYS_RMW_STRIPES];
	uint32_t z;
	do {
		z = 0;
	} while (!atomic_compare_exchange_weak_explicit(l, &z, 1, memory_order_acquire,
							memory_order_relaxed));
}
static inline int phys_mem_rmw_trylock(struct phys_mem *m, uint64_t pa)
{
	uint32_t z = 0;
	return atomic_compare_exchange_strong_explicit(&m->rmw_lock[(pa >> 12) % PHYS_RMW_STRIPES],
						       &z, 1, memory_order_acquire,
						       memory_order_relaxed);
}
static inline int phys_mem_same_stripe(uint64_t a, uint64_t b)
{
	return (a >> 12) % PHYS_RMW_STRIPES == (b >> 12) % PHYS_RMW_STRIPES;
}
static inline void phys_mem_rmw_unlock(struct phys_mem *m, uint64_t pa)
{
	atomic_store_explicit(&m->rmw_lock[(pa >> 12) % PHYS_RMW_STRIPES], 0, memory_order_release);
}

#endif
