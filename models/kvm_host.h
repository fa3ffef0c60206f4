/*
 * The host VMM's share of TD round trips, as a SEAMCALL hook: what KVM
 * spends between a TD exit and the next TDH.VP.ENTER, charged to the LP's
 * clock (tdxsim_lp_charge) from the cost table's HOST_* items. The
 * simulator does not run KVM, so an embedder that wants the published
 * round-trip numbers (bench/bench_calib.c, tests/timing) adds this:
 *  - every TD exit of TDH.VP.ENTER: HOST_TD_EXIT (exit dispatch, re-entry);
 *  - TDG.VP.VMCALL<Instruction.CPUID> (R10 = 0, R11 = 10): HOST_CPUID;
 *  - every TDH.MEM.PAGE.AUG (KVM's private-GPA fault path): HOST_EPT_FAULT.
 * Header-only; needs the library's internal models/cost.h (static library).
 */
#ifndef MODELS_KVM_HOST_H
#define MODELS_KVM_HOST_H

#include <tdxsim/tdxsim.h>

#include "models/cost.h"

struct kvm_host_model {
	tdxsim *s;
	const struct tdxsim_costs *k;
	uint64_t exits, cpuids, augs;       /* what was charged */
};

static inline void kvm_host_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct kvm_host_model *h = user;
	uint64_t leaf = ev->rax_in & TDX_LEAF_MASK;
	uint64_t c = 0;
	if ((ev->rax_in & TDX_SEAMLDR_BIT) || (ev->status & TDX_STATUS_ERROR_BIT))
		return;
	if (leaf == TDH_VP_ENTER) {
		c += h->k->cycles[COST_HOST_TD_EXIT];
		h->exits++;
		if ((ev->status & 0xFFFF) == 77 && ev->out.r10 == 0 && ev->out.r11 == 10) {
			c += h->k->cycles[COST_HOST_CPUID];
			h->cpuids++;
		}
	} else if (leaf == TDH_MEM_PAGE_AUG) {
		c += h->k->cycles[COST_HOST_EPT_FAULT];
		h->augs++;
	}
	if (c)
		tdxsim_lp_charge(h->s, ev->lp, c);
}

/* Install on s (platform profile name for the table; NULL = the default). */
static inline unsigned kvm_host_model_add(struct kvm_host_model *h, tdxsim *s, const char *platform)
{
	unsigned id = 0;
	h->s = s;
	h->k = tdxsim_costs_for(platform ? platform : TDXSIM_DEFAULT_PLATFORM);
	h->exits = h->cpuids = h->augs = 0;
	tdxsim_hook_seamcall(s, kvm_host_hook, h, &id);
	return id;
}

#endif
