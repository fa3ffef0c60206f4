/*
 * The module's SEAMCALL dispatcher: generic gating in one place, then the
 * leaf table generated from abi/tdx/leaf.h, then cost accounting (the
 * timing model: models/cost.h).
 *
 * Gating order (module 1.5 tdx_vmm_dispatcher.c):
 *  1. RAX bits 63:24 set                        -> OPERAND_INVALID + RAX
 *  2. a version the leaf does not accept        -> OPERAND_INVALID + RAX
 *  3. module shut down, leaf not allowed after  -> SYS_SHUTDOWN
 *  4. module not READY, leaf not allowed before -> SYS_NOT_READY
 *  5. no such leaf (or not modelled)            -> OPERAND_INVALID + RAX
 * The dispatcher itself writes only RAX: other registers go back as they
 * came unless the leaf writes them.
 */
#include <stdatomic.h>
#include <stddef.h>

#include "seam/vp_enter.h"
#include "sim/sim_int.h"

struct seam_leaf {
	const char *name;
	seam_leaf_fn fn;
	uint8_t versions;
	uint8_t flags;
	uint8_t defined;
};

#define SEAM_PTR_IMPL(fn) seam_##fn
#define SEAM_PTR_NOIMPL(fn) NULL
#define SEAM_ROW(e, n, str, handler, v, f, impl) \
	[n] = { .name = str, .fn = SEAM_PTR_##impl(handler), .versions = v, .flags = f, .defined = 1 },
static const struct seam_leaf leaves[TDX_SEAMCALL_LEAF_MAX] = {
	TDX_SEAMCALL_LEAVES(SEAM_ROW)
};
#undef SEAM_ROW

static const char *const tdcall_names[TDX_TDCALL_LEAF_MAX] = {
#define TDCALL_NAME(e, n, s, fn, v, f, impl) [n] = s,
	TDX_TDCALL_LEAVES(TDCALL_NAME)
#undef TDCALL_NAME
};

const char *tdx_seamcall_leaf_name(uint64_t rax)
{
	if (rax & TDX_SEAMLDR_BIT) {
#define SEAMLDR_NAME(e, n, s, fn) if (rax == n) return s;
		TDX_SEAMLDR_LEAVES(SEAMLDR_NAME)
#undef SEAMLDR_NAME
		return NULL;
	}
	uint64_t leaf = rax & TDX_LEAF_MASK;
	return leaf < TDX_SEAMCALL_LEAF_MAX ? leaves[leaf].name : NULL;
}

const char *tdx_tdcall_leaf_name(uint64_t rax)
{
	uint64_t leaf = rax & TDX_LEAF_MASK;
	return leaf < TDX_TDCALL_LEAF_MAX ? tdcall_names[leaf] : NULL;
}

static uint64_t gate(struct seam_module *m, uint64_t rax, const struct seam_leaf **out)
{
	*out = NULL;
	if (rax & TDX_LEAF_RESERVED)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
	unsigned leaf = rax & TDX_LEAF_MASK;
	unsigned ver = (rax >> TDX_VERSION_SHIFT) & TDX_VERSION_MASK;
	const struct seam_leaf *l = leaf < TDX_SEAMCALL_LEAF_MAX && leaves[leaf].defined ?
				    &leaves[leaf] : NULL;
	if (ver && (!l || ver >= 8 || !(l->versions & (1u << ver))))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
	uint32_t st = seam_state(m);
	uint8_t flags = l ? l->flags : 0;
	if (st == TDX_SYS_SHUTDOWN_STATE && !(flags & TDX_LEAF_F_POST_SHUTDOWN))
		return TDX_SYS_SHUTDOWN;
	if (st != TDX_SYS_READY && !(flags & TDX_LEAF_F_PRE_READY))
		return TDX_SYS_NOT_READY;
	if (!l || !l->fn)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
	*out = l;
	return TDX_SUCCESS;
}

void seam_charge_item(struct seam_ctx *c, unsigned item, uint64_t n)
{
	const struct tdxsim_costs *k = c->s->costs;
	c->cycles += (uint64_t)k->cycles[item] * n;
	c->insns += (uint64_t)k->insns[item] * n;
}

uint64_t seam_dispatch(struct tdxsim *s, struct sim_lp *lp, uint64_t rax,
		       struct tdx_module_args *regs, int *injected, uint64_t *cycles)
{
	struct seam_module *m = &s->mod;
	const struct tdxsim_costs *k = s->costs;
	const struct seam_leaf *l;
	uint64_t status;

	/* Timing (models/cost.h): the transition in, the leaf's fixed work and
	 * what it charges for what it touched, the transition out. The
	 * context's clock runs during the leaf (a guest's TSC reads
	 * lp->cycles + c.cycles). A call the gate refuses costs the two
	 * transitions only. */
	struct seam_ctx c = {
		.s = s, .m = m, .lp = lp, .lp_id = lp->id, .r = regs,
		.cycles = k->cycles[COST_SEAMCALL_ENTRY],
		.insns = k->insns[COST_SEAMCALL_ENTRY],
	};
	*injected = 0;
	atomic_store_explicit(&lp->seam.busy, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);

	status = gate(m, rax, &l);
	if (!l)
		goto out;

	unsigned leaf = rax & TDX_LEAF_MASK;
	c.leaf = leaf;
	c.version = (rax >> TDX_VERSION_SHIFT) & TDX_VERSION_MASK;
	uint32_t fixed = tdxsim_leaf_insns(k, leaf);
	c.cycles += tdxsim_leaf_cycles(k, fixed);
	c.insns += fixed;
	struct seam_run_hold hold;
	seam_run_hold(s, &lp->crypt, (int)leaf, &hold);
	status = l->fn(&c);
	seam_run_release(&hold);
	*injected = c.injected;
out:
	seam_charge(&c, SEAMRET, 1);
	*cycles = c.cycles;
	atomic_store_explicit(&lp->module_insns,
			      atomic_load_explicit(&lp->module_insns, memory_order_relaxed) + c.insns,
			      memory_order_relaxed);
	atomic_store_explicit(&lp->seam.busy, 0, memory_order_release);
	return status;
}
