/*
 * How the module checks and touches host-supplied physical addresses.
 * MAX_PA is 52 for the module; KeyID bits sit at [52 - keyid_bits, 51].
 */
#ifndef SEAM_MEM_H
#define SEAM_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/sim_int.h"

#define SEAM_MAX_PA 52

static inline uint32_t seam_pa_keyid(const struct tdxsim *s, uint64_t pa)
{
	return (uint32_t)((pa & ((1ULL << SEAM_MAX_PA) - 1)) >> s->keyid_shift);
}

/* Private / TDMR address: aligned, below 2^52, no KeyID bits. */
static inline bool seam_pa_private_ok(const struct tdxsim *s, uint64_t pa, uint64_t align)
{
	return !(pa & (align - 1)) && pa < (1ULL << SEAM_MAX_PA) && !seam_pa_keyid(s, pa);
}

/* Shared HPA: aligned, below 2^52, KeyID not a TDX private KeyID (MKTME ok). */
static inline bool seam_pa_shared_ok(const struct tdxsim *s, uint64_t pa, uint64_t align)
{
	return !(pa & (align - 1)) && pa < (1ULL << SEAM_MAX_PA) &&
	       seam_pa_keyid(s, pa) <= s->cfg.mktme_keyids;
}

static inline bool seam_keyid_is_private(const struct tdxsim *s, uint64_t keyid)
{
	return keyid > s->cfg.mktme_keyids && keyid <= s->cfg.mktme_keyids + s->cfg.tdx_keyids;
}

static inline uint64_t seam_pa_strip(const struct tdxsim *s, uint64_t pa)
{
	return pa & ((1ULL << s->keyid_shift) - 1);
}

/*
 * Read host memory at a (shared) PA. Addresses with no DRAM behind them read
 * as all ones, as an unbacked physical address does on hardware.
 */
void seam_read_pa(struct tdxsim *s, uint64_t pa, void *buf, uint64_t len);
/* Write host memory at a PA; writes to unbacked addresses are dropped. */
void seam_write_pa(struct tdxsim *s, uint64_t pa, const void *buf, uint64_t len);

#endif
