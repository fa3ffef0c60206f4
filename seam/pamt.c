#include <string.h>

#include "seam/pamt.h"
#include "sim/sim_int.h"

struct seam_tdmr *pamt_get_block(struct seam_module *m, uint64_t pa)
{
	for (uint32_t i = 0; i < m->n_tdmrs; i++) {
		struct seam_tdmr *t = &m->tdmr[i];
		if (pa < t->base || pa - t->base >= t->size)
			continue;
		/* Usable only once its whole 1 GB block has been initialised. */
		uint64_t done = atomic_load_explicit(&t->init_off, memory_order_acquire);
		if ((pa - t->base) >= (done & ~(TDX_1G - 1)))
			return NULL;
		return t;
	}
	return NULL;
}

struct tdx_pamt_entry *pamt_entry(struct tdxsim *s, const struct seam_tdmr *t,
				  uint64_t pa, unsigned ps)
{
	static const unsigned shift[3] = { 12, 21, 30 };
	uint64_t idx = (pa - t->base) >> shift[ps];
	return phys_mem_ptr(&s->mem, t->pamt_base[ps] + idx * PAMT_ENTRY_SIZE);
}

/* Bits 15:0 of w0: bit 0 exclusive, bit 1 host priority, 15:2 readers. */
static int entry_lock_sh(struct tdx_pamt_entry *e)
{
	uint64_t old = __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
	do {
		if (old & 1) {
			__atomic_fetch_or(&e->w0, 2, __ATOMIC_RELAXED);
			return 0;
		}
	} while (!__atomic_compare_exchange_n(&e->w0, &old, old + 4, 1,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return 1;
}

static void entry_unlock_sh(struct tdx_pamt_entry *e)
{
	__atomic_fetch_sub(&e->w0, 4, __ATOMIC_RELEASE);
}

uint64_t pamt_walk_read(struct tdxsim *s, const struct seam_tdmr *t, uint64_t pa,
			struct tdx_pamt_entry *leaf, unsigned *ps)
{
	struct tdx_pamt_entry *held[3];
	int n = 0;
	uint64_t status = TDX_SUCCESS;
	for (int lvl = TDX_PS_1G; lvl >= TDX_PS_4K; lvl--) {
		struct tdx_pamt_entry *e = pamt_entry(s, t, pa, (unsigned)lvl);
		if (!entry_lock_sh(e)) {
			status = TDX_OPERAND_BUSY;
			break;
		}
		held[n++] = e;
		if (lvl == TDX_PS_4K || pamt_type(e) == PT_REG) {
			leaf->w0 = __atomic_load_n(&e->w0, __ATOMIC_RELAXED) & ~PAMT_LOCK_MASK;
			/* RANGE.BLOCK stores BEPOCH without the PAMT lock. */
			leaf->bepoch = __atomic_load_n(&e->bepoch, __ATOMIC_RELAXED);
			*ps = (unsigned)lvl;
			break;
		}
	}
	while (n)
		entry_unlock_sh(held[--n]);
	return status;
}

static int in_reserved(const struct seam_tdmr *t, uint64_t off)
{
	for (uint32_t j = 0; j < t->n_rsvd; j++)
		if (off >= t->rsvd[j].offset && off - t->rsvd[j].offset < t->rsvd[j].size)
			return 1;
	return 0;
}

/* Lines of [pa, pa+len) written through a private KeyID, page by page under
 * each page's RMW stripe lock (as sim_priv_write updates them). */
static void set_owned(struct phys_mem *m, uint64_t pa, uint64_t len)
{
	while (len) {
		uint64_t n = TDX_PAGE_SIZE - (pa & (TDX_PAGE_SIZE - 1));
		if (n > len)
			n = len;
		phys_mem_rmw_lock(m, pa);
		phys_mem_set_owned(m, pa, n);
		phys_mem_rmw_unlock(m, pa);
		pa += n;
		len -= n;
	}
}

void pamt_init_chunk(struct tdxsim *s, const struct seam_tdmr *t, uint64_t off)
{
	uint64_t pa = t->base + off;
	struct tdx_pamt_entry *e4 = pamt_entry(s, t, pa, TDX_PS_4K);
	uint64_t n4 = PAMT_INIT_CHUNK_BYTES / TDX_PAGE_SIZE;
	for (uint64_t i = 0; i < n4; i++) {
		uint64_t type = in_reserved(t, off + i * TDX_PAGE_SIZE) ? PT_RSVD : PT_NDA;
		e4[i].w0 = type << PAMT_TYPE_SHIFT;
		e4[i].bepoch = 0;
	}
	/* The 2M entries covering this chunk. */
	struct tdx_pamt_entry *e2 = pamt_entry(s, t, pa, TDX_PS_2M);
	memset(e2, 0, (PAMT_INIT_CHUNK_BYTES / TDX_2M) * PAMT_ENTRY_SIZE);
	/* The 1G entry, by the chunk that completes its block. */
	if (((off + PAMT_INIT_CHUNK_BYTES) & (TDX_1G - 1)) == 0)
		memset(pamt_entry(s, t, pa, TDX_PS_1G), 0, PAMT_ENTRY_SIZE);
	/* The module writes PAMT through the global private KeyID. */
	set_owned(&s->mem, t->pamt_base[TDX_PS_4K] + ((off >> 12) * PAMT_ENTRY_SIZE),
		  n4 * PAMT_ENTRY_SIZE);
	set_owned(&s->mem, t->pamt_base[TDX_PS_2M] + ((off >> 21) * PAMT_ENTRY_SIZE),
		  (PAMT_INIT_CHUNK_BYTES / TDX_2M) * PAMT_ENTRY_SIZE);
}
