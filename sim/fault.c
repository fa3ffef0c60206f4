/*
 * Seeded, deterministic fault injection: the module answers a chosen status
 * instead of running a leaf, as it does when RDRAND/RDSEED or PCONFIG fail.
 * TDX_INTERRUPTED_RESUMABLE stands for an interrupt pending on the LP: an
 * interruptible leaf asks at each point between chunks of its work.
 */
#include <string.h>

#include "sim/sim_int.h"

static uint32_t fault_flag(uint64_t status)
{
	if (status == TDX_RND_NO_ENTROPY)
		return TDX_LEAF_F_RND;
	if (status == TDX_KEY_GENERATION_FAILED)
		return TDX_LEAF_F_KEYGEN;
	if (status == TDX_SYS_BUSY)
		return TDX_LEAF_F_SYSLOCK;
	if (status == TDX_OPERAND_BUSY)
		return TDX_LEAF_F_OPLOCK;
	if (status == TDX_INTERRUPTED_RESUMABLE)
		return TDX_LEAF_F_RESUMABLE;
	return 0;
}

/* The flags of a leaf from the leaf list. */
static uint32_t leaf_flags(unsigned leaf, int *defined)
{
	switch (leaf) {
#define CASE(e, n, s, fn, v, f, impl) case n: *defined = 1; return f;
	TDX_SEAMCALL_LEAVES(CASE)
#undef CASE
	}
	*defined = 0;
	return 0;
}

tdxsim_err tdxsim_fault_add(tdxsim *s, const tdxsim_fault *f, unsigned *id)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!f || f->size < sizeof(*f))
		return sim_error(s, TDXSIM_ERR_VERSION, "tdxsim_fault.size must be sizeof(tdxsim_fault)");
	uint32_t need = fault_flag(f->status);
	if (!need)
		return sim_error(s, TDXSIM_ERR_ARG, "cannot inject status 0x%016llx: injectable "
				 "statuses are TDX_RND_NO_ENTROPY, TDX_KEY_GENERATION_FAILED, "
				 "TDX_SYS_BUSY, TDX_OPERAND_BUSY (operand id added by the leaf) "
				 "and TDX_INTERRUPTED_RESUMABLE (a pending interrupt)",
				 (unsigned long long)f->status);
	if (f->leaf >= 0) {
		int defined;
		uint32_t fl = leaf_flags((unsigned)f->leaf, &defined);
		if (!defined)
			return sim_error(s, TDXSIM_ERR_ARG, "fault on leaf %d: no such SEAMCALL leaf", f->leaf);
		if (!(fl & need))
			return sim_error(s, TDXSIM_ERR_ARG, "%s never returns %s on a real module",
					 tdx_seamcall_leaf_name((uint64_t)f->leaf),
					 tdx_status_name(f->status));
	} else if (f->leaf != -1) {
		return sim_error(s, TDXSIM_ERR_ARG, "fault leaf %d: use a leaf number or -1", f->leaf);
	}
	if (f->lp < -1 || (f->lp >= 0 && (unsigned)f->lp >= s->n_lps))
		return sim_error(s, TDXSIM_ERR_ARG, "fault LP %d out of range (%u LPs)", f->lp, s->n_lps);
	if (!f->nth && !(f->probability > 0.0 && f->probability <= 1.0))
		return sim_error(s, TDXSIM_ERR_ARG, "fault needs nth >= 1 or a probability in (0, 1]");
	int n = atomic_load(&s->n_faults);
	if (n >= TDXSIM_MAX_FAULTS)
		return sim_error(s, TDXSIM_ERR_NOMEM, "at most %d faults", TDXSIM_MAX_FAULTS);
	struct sim_fault *sf = &s->faults[n];
	memset(sf, 0, sizeof(*sf));
	sf->f = *f;
	sf->used = 1;
	atomic_store(&s->n_faults, n + 1);
	if (id)
		*id = (unsigned)n;
	return TDXSIM_OK;
}

tdxsim_err tdxsim_fault_clear(tdxsim *s)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	atomic_store(&s->n_faults, 0);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_fault_fired(tdxsim *s, unsigned id, uint64_t *count)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (id >= (unsigned)atomic_load(&s->n_faults) || !count)
		return sim_error(s, TDXSIM_ERR_NOENT, "no fault %u", id);
	*count = atomic_load(&s->faults[id].fired);
	return TDXSIM_OK;
}

uint64_t sim_fault_check(tdxsim *s, struct sim_lp *lp, unsigned leaf, uint32_t kind)
{
	int n = atomic_load_explicit(&s->n_faults, memory_order_acquire);
	for (int i = 0; i < n; i++) {
		struct sim_fault *sf = &s->faults[i];
		const tdxsim_fault *f = &sf->f;
		if (fault_flag(f->status) != kind)
			continue;
		if (f->leaf >= 0 && (unsigned)f->leaf != leaf)
			continue;
		if (f->lp >= 0 && (unsigned)f->lp != lp->id)
			continue;
		uint64_t k = atomic_fetch_add(&sf->matched, 1) + 1;
		int fire;
		if (f->nth)
			fire = k >= f->nth && (!f->count || k < f->nth + f->count);
		else
			fire = (sim_rng_next(&lp->rng) >> 11) * 0x1.0p-53 < f->probability;
		if (fire) {
			atomic_fetch_add(&sf->fired, 1);
			return f->status;
		}
	}
	return 0;
}
