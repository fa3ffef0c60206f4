/*
 * Logical processors: VMX operation, WBINVD, hot-plug, the per-thread LP
 * binding, and the SEAMCALL instruction itself (what the CPU checks before
 * the TDX module runs: VMX root operation, a loaded module, P-SEAMLDR
 * routing).
 */
#include <stdio.h>
#include <string.h>

#include "seam/vp_enter.h"
#include "sim/sim_int.h"
#include "sim/trace.h"

static struct sim_lp *get_lp(tdxsim *s, unsigned lp, tdxsim_err *err)
{
	if (!sim_ok(s)) {
		*err = TDXSIM_ERR_HANDLE;
		return NULL;
	}
	if (lp >= s->n_lps) {
		*err = sim_error(s, TDXSIM_ERR_ARG, "LP %u out of range (%u LPs)", lp, s->n_lps);
		return NULL;
	}
	*err = TDXSIM_OK;
	return &s->lps[lp];
}

tdxsim_err tdxsim_vmx_get(tdxsim *s, unsigned lpid)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	if (!atomic_load(&lp->online))
		return sim_error(s, TDXSIM_ERR_STATE, "VMXON on offline LP %u", lpid);
	atomic_fetch_add(&lp->vmx_refs, 1);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_vmx_put(tdxsim *s, unsigned lpid)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	uint32_t old = atomic_load(&lp->vmx_refs);
	do {
		if (!old)
			return sim_error(s, TDXSIM_ERR_STATE,
					 "VMX reference put on LP %u, which is not in VMX operation", lpid);
	} while (!atomic_compare_exchange_weak(&lp->vmx_refs, &old, old - 1));
	return TDXSIM_OK;
}

tdxsim_err tdxsim_vmx_refcount(tdxsim *s, unsigned lpid, unsigned *count)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	if (!count)
		return sim_error(s, TDXSIM_ERR_ARG, "count is NULL");
	*count = atomic_load(&lp->vmx_refs);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_wbinvd(tdxsim *s, unsigned lpid)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	atomic_fetch_add(&lp->wbinvd_count, 1);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_wbinvd_count(tdxsim *s, unsigned lpid, uint64_t *count)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	if (!count)
		return sim_error(s, TDXSIM_ERR_ARG, "count is NULL");
	*count = atomic_load(&lp->wbinvd_count);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_lp_offline(tdxsim *s, unsigned lpid)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	if (!atomic_exchange(&lp->online, 0))
		return sim_error(s, TDXSIM_ERR_STATE, "LP %u is already offline", lpid);
	/* A CPU going down leaves VMX operation; the module's per-LP state
	 * survives (the LP keeps its TDH.SYS.LP.INIT as on hardware, where
	 * offlining does not reset SEAM state). */
	atomic_store(&lp->vmx_refs, 0);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_lp_online(tdxsim *s, unsigned lpid)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	if (atomic_exchange(&lp->online, 1))
		return sim_error(s, TDXSIM_ERR_STATE, "LP %u is already online", lpid);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_lp_interrupt(tdxsim *s, unsigned lpid, unsigned vector)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	if (vector < 16 || vector > 255)
		return sim_error(s, TDXSIM_ERR_ARG, "interrupt vector %u: not 16..255", vector);
	seam_lp_interrupt(lp, (uint8_t)vector);
	return TDXSIM_OK;
}

int tdxsim_lp_is_online(tdxsim *s, unsigned lpid)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	return lp ? atomic_load(&lp->online) : 0;
}

tdxsim_err tdxsim_lp_cycles(tdxsim *s, unsigned lpid, uint64_t *cycles)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	if (!cycles)
		return sim_error(s, TDXSIM_ERR_ARG, "cycles is NULL");
	*cycles = atomic_load(&lp->cycles);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_lp_charge(tdxsim *s, unsigned lpid, uint64_t cycles)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	atomic_fetch_add_explicit(&lp->cycles, cycles, memory_order_relaxed);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_lp_interrupt_at(tdxsim *s, unsigned lpid, unsigned vector, uint64_t cycles)
{
	tdxsim_err err;
	struct sim_lp *lp = get_lp(s, lpid, &err);
	if (!lp)
		return err;
	if (cycles && (vector < 16 || vector > 255))
		return sim_error(s, TDXSIM_ERR_ARG, "interrupt vector %u: not 16..255", vector);
	lp->intr_at_vec = vector;
	lp->intr_at = cycles;
	return TDXSIM_OK;
}

/* ---- The SEAMCALL instruction ------------------------------------------- */

/* n: hook slots in use when the SEAMCALL started (its registers were saved
 * only if n > 0). */
static void emit_event(tdxsim *s, struct sim_lp *lp, int n, uint64_t rax,
		       const struct tdx_module_args *in, const struct tdx_module_args *out,
		       uint64_t status, uint64_t start, uint64_t cycles, int injected,
		       struct sim_trace_capture *tcap)
{
	uint64_t seq = atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);
	if (!n && !tcap)
		return;
	tdxsim_seamcall_event ev = {
		.seq = seq, .lp = lp->id, .injected = (uint32_t)injected, .rax_in = rax,
		.in = *in, .out = *out, .status = status,
		.cycles_start = start, .cycles = cycles,
	};
	for (int i = 0; i < n; i++)
		if (s->hooks[i].fn)
			s->hooks[i].fn(s->hooks[i].user, &ev);
	if (tcap)
		sim_trace_call_end(s, tcap, &ev);
}

uint64_t tdxsim_seamcall(tdxsim *s, unsigned lpid, uint64_t rax, struct tdx_module_args *regs)
{
	if (!sim_ok(s))
		return TDXSIM_SW_BAD_HANDLE;
	if (lpid >= s->n_lps) {
		sim_error(s, TDXSIM_ERR_ARG, "SEAMCALL on LP %u: out of range (%u LPs)", lpid, s->n_lps);
		return TDXSIM_SW_BAD_LP;
	}
	if (!regs) {
		sim_error(s, TDXSIM_ERR_ARG, "SEAMCALL with NULL registers");
		return TDXSIM_SW_BAD_HANDLE;
	}
	struct sim_lp *lp = &s->lps[lpid];
	if (!atomic_load_explicit(&lp->online, memory_order_relaxed)) {
		sim_error(s, TDXSIM_ERR_STATE, "SEAMCALL on offline LP %u", lpid);
		return TDXSIM_SW_LP_OFFLINE;
	}
	/* The entry registers are kept only for hooks: off the hot path otherwise. */
	int hooks = atomic_load_explicit(&s->n_hooks, memory_order_acquire);
	struct sim_trace_capture tcap;
	int tracing = atomic_load_explicit(&s->trace, memory_order_acquire) != NULL;
	struct tdx_module_args in;
	if (hooks || tracing)
		in = *regs;
	if (tracing)
		sim_trace_call_begin(s, &tcap);
	uint64_t start = atomic_load_explicit(&lp->cycles, memory_order_relaxed);
	uint64_t status, cycles;
	int injected = 0;

	if (!atomic_load_explicit(&lp->vmx_refs, memory_order_relaxed)) {
		/* SEAMCALL outside VMX operation: #UD. */
		status = TDX_SEAMCALL_UD;
		cycles = 50;
	} else if (s->cfg.flags & TDXSIM_CFG_NO_MODULE) {
		/* No SEAM range loaded: VMfailInvalid. */
		status = TDX_SEAMCALL_VMFAILINVALID;
		cycles = 100;
	} else if (rax & TDX_SEAMLDR_BIT) {
		status = seamldr_dispatch(s, lp, rax, regs, &cycles);
	} else {
		status = seam_dispatch(s, lp, rax, regs, &injected, &cycles);
	}
	atomic_store_explicit(&lp->cycles, start + cycles, memory_order_relaxed);

	sim_count(&lp->stat_calls);
	if (status & TDX_STATUS_ERROR_BIT)
		sim_count(&lp->stat_failed);
	if (injected)
		sim_count(&lp->stat_injected);
	uint64_t leaf = rax & TDX_LEAF_MASK;
	if (!(rax & TDX_SEAMLDR_BIT) && leaf < TDX_SEAMCALL_LEAF_MAX)
		sim_count(&lp->stat_leaf[leaf]);
	emit_event(s, lp, hooks, rax, &in, regs, status, start, cycles, injected,
		   tracing ? &tcap : NULL);
	return status;
}

/* ---- Linux's entry points ------------------------------------------------ */

static _Thread_local struct {
	tdxsim *s;
	unsigned lp;
} bound;

tdxsim_err tdxsim_thread_bind(tdxsim *s, unsigned lp)
{
	if (!s) {
		bound.s = NULL;
		return TDXSIM_OK;
	}
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (lp >= s->n_lps)
		return sim_error(s, TDXSIM_ERR_ARG, "bind to LP %u: out of range (%u LPs)", lp, s->n_lps);
	bound.s = s;
	bound.lp = lp;
	return TDXSIM_OK;
}

tdxsim_err tdxsim_thread_binding(tdxsim **s, unsigned *lp)
{
	if (!bound.s)
		return TDXSIM_ERR_STATE;
	if (s)
		*s = bound.s;
	if (lp)
		*lp = bound.lp;
	return TDXSIM_OK;
}

static uint64_t bound_call(uint64_t fn, struct tdx_module_args *r)
{
	if (!bound.s) {
		fprintf(stderr, "tdxsim: SEAMCALL %s from a thread not bound to a simulator "
			"(call tdxsim_thread_bind first)\n",
			tdx_seamcall_leaf_name(fn) ? tdx_seamcall_leaf_name(fn) : "?");
		return TDXSIM_SW_NO_BINDING;
	}
	return tdxsim_seamcall(bound.s, bound.lp, fn, r);
}

uint64_t __seamcall(uint64_t fn, struct tdx_module_args *args)
{
	struct tdx_module_args r = {
		.rcx = args->rcx, .rdx = args->rdx, .r8 = args->r8,
		.r9 = args->r9, .r10 = args->r10, .r11 = args->r11,
	};
	return bound_call(fn, &r);
}

uint64_t __seamcall_ret(uint64_t fn, struct tdx_module_args *args)
{
	struct tdx_module_args r = {
		.rcx = args->rcx, .rdx = args->rdx, .r8 = args->r8,
		.r9 = args->r9, .r10 = args->r10, .r11 = args->r11,
	};
	uint64_t ret = bound_call(fn, &r);
	args->rcx = r.rcx;
	args->rdx = r.rdx;
	args->r8 = r.r8;
	args->r9 = r.r9;
	args->r10 = r.r10;
	args->r11 = r.r11;
	return ret;
}

uint64_t __seamcall_saved_ret(uint64_t fn, struct tdx_module_args *args)
{
	struct tdx_module_args r = *args;
	uint64_t ret = bound_call(fn, &r);
	*args = r;
	return ret;
}
