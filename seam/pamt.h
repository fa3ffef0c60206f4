/*
 * PAMT: the module's physical-page metadata, kept in the memory the host
 * handed over in TDMR_INFO (three flat arrays per TDMR: 1G, 2M, 4K entries).
 */
#ifndef SEAM_PAMT_H
#define SEAM_PAMT_H

#include <stdint.h>
#include "seam/module.h"

struct tdxsim;

/* The TDMR containing pa whose 1 GB block is initialised, or NULL. */
struct seam_tdmr *pamt_get_block(struct seam_module *m, uint64_t pa);

/* Host pointer to the PAMT entry of pa at level ps (TDX_PS_*) in tdmr. */
struct tdx_pamt_entry *pamt_entry(struct tdxsim *s, const struct seam_tdmr *t,
				  uint64_t pa, unsigned ps);

/*
 * w0 holds the entry's lock bits next to its type and owner: other LPs take
 * and drop shared locks on it (atomic read-modify-writes) while a holder
 * reads the type, so every read of a live entry is an atomic load. Relaxed
 * is enough: the lock's acquire orders it after the last retype.
 */
static inline uint64_t pamt_w0(const struct tdx_pamt_entry *e)
{
	return __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
}
static inline unsigned pamt_type(const struct tdx_pamt_entry *e)
{
	return (pamt_w0(e) >> PAMT_TYPE_SHIFT) & PAMT_TYPE_MASK;
}
static inline uint64_t pamt_owner_pa(const struct tdx_pamt_entry *e)
{
	return (pamt_w0(e) >> PAMT_OWNER_SHIFT) << 12;
}

/*
 * Walk 1G -> 2M -> 4K to the leaf entry describing pa (only PT_REG pages have
 * 2M/1G leaves). Takes shared locks on the way and releases them; returns
 * TDX_OPERAND_BUSY if an entry is held exclusively, else TDX_SUCCESS with a
 * snapshot of the leaf entry and its size.
 */
uint64_t pamt_walk_read(struct tdxsim *s, const struct seam_tdmr *t, uint64_t pa,
			struct tdx_pamt_entry *leaf, unsigned *ps);

/* Initialise the PAMT for 4 MiB of a TDMR starting at offset off (TDMR.INIT chunk). */
void pamt_init_chunk(struct tdxsim *s, const struct seam_tdmr *t, uint64_t off);

#define PAMT_INIT_CHUNK_BYTES (4ULL << 20) /* 1024 4K entries per TDMR.INIT */

#endif
