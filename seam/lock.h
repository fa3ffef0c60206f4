/*
 * The module's shared/exclusive try-locks. The TDX module never waits: a
 * contended lock makes the leaf fail with TDX_OPERAND_BUSY (+ operand id) or
 * TDX_SYS_BUSY, and the host retries. Lock word: bit 0 = exclusive holder,
 * bits 31:1 = number of shared holders.
 */
#ifndef SEAM_LOCK_H
#define SEAM_LOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct { _Atomic uint32_t v; } seam_lock_t;

#define SEAM_LOCK_EX 1u
#define SEAM_LOCK_SH 2u

static inline bool seam_lock_try_ex(seam_lock_t *l)
{
	uint32_t zero = 0;
	return atomic_compare_exchange_strong_explicit(&l->v, &zero, SEAM_LOCK_EX,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static inline bool seam_lock_try_sh(seam_lock_t *l)
{
	uint32_t old = atomic_load_explicit(&l->v, memory_order_relaxed);
	do {
		if (old & SEAM_LOCK_EX)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&l->v, &old, old + SEAM_LOCK_SH,
							memory_order_acquire,
							memory_order_relaxed));
	return true;
}

static inline void seam_unlock_ex(seam_lock_t *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_release);
}

static inline void seam_unlock_sh(seam_lock_t *l)
{
	atomic_fetch_sub_explicit(&l->v, SEAM_LOCK_SH, memory_order_release);
}

#endif
