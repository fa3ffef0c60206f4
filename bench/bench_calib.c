/*
 * Calibration of the timing model (models/cost_table.def) against every
 * published hardware number (../shared/reference/anchors.md): the model's
 * side comes from running the simulator (a TD guest measuring with RDTSC,
 * SEAMCALL events, the module-instruction counters), never from reading the
 * table back. Prints model, anchor and % error; writes
 * calibration.<anchor>.error_pct (signed: model above the anchor > 0).
 *
 * Anchors, the platform profile each runs on, and how the model is measured:
 *  cpuid_module      EMR  guest RDTSC pair around CPUID leaf 0 (the module
 *                         answers): 1,744-1,815 cycles, middle 1,780 [TUM]
 *  cpuid_host        EMR  same around CPUID 0x40000000: #VE, the guest
 *                         runtime's handler (VEINFO.GET, TDG.VP.VMCALL), KVM's
 *                         share (models/kvm_host.h), VP.ENTER, IRET: ~10,400
 *  faultin_4k        GNR  guest RDTSC pair around TDG.MEM.PAGE.ACCEPT of an
 *                         un-AUGed GPA + first write: ~8 us = 16,000 cycles
 *                         at GNR's 2.0 GHz TSC [Dstack]
 *  tdmr_init_call    SPR  cycles of one TDH.SYS.TDMR.INIT (SEAMCALL event):
 *                         ~7 us at 2.2 GHz = 15,400 cycles [TDMR]
 *  tdmr_init_64g     SPR  all TDMR.INIT calls of a 16 GiB machine x 4:
 *                         ~100 ms at 2.2 GHz = 220 M cycles [TDMR]
 *  insns_<leaf>      SPR  module instructions the model counts for one call
 *                         (SEAMCALL: per-LP counter around the event; VP.ENTER:
 *                         up to the TD entry; TDCALLs: the runner's per-leaf
 *                         count) vs TDXplorer Table 1 (module 1.5.01)
 * Then the model's own cost on the host: timing.overhead.{store_loop,vmcall}
 * .ratio, wall time with the model on / off (1.0: free).
 *
 *  stepping_4096     SPR  the TD-entry-to-interrupt distance from which the
 *                         model's stepping filter no longer flags the exit
 *                         (bisection over simulated-time interrupt deadlines
 *                         on a spinning guest: stepping_threshold) vs 4,096
 *                         [MOD td_exit_stepping.h]
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "tsim.h"
#include "tsim_td.h"
#include "tsim_guest.h"
#include "models/cost.h"
#include "models/kvm_host.h"
#include "sim/sim_int.h"

/* Module instructions per SEAMCALL leaf (the first successful call), and
 * per-call cycles of TDMR.INIT. */
struct insn_rec {
	tdxsim *s;
	uint64_t last[TDXSIM_MAX_LPS > 64 ? 64 : TDXSIM_MAX_LPS];
	uint64_t leaf_insns[TDX_SEAMCALL_LEAF_MAX];
	uint64_t vp_enter_entry;
	uint64_t tdmr_calls, tdmr_cycles, tdmr_first;
};

static void insn_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct insn_rec *r = user;
	if (ev->lp >= 64)
		return;
	struct sim_lp *lp = &r->s->lps[ev->lp];
	uint64_t now = atomic_load(&lp->module_insns);
	uint64_t d = now - r->last[ev->lp];
	r->last[ev->lp] = now;
	uint64_t leaf = ev->rax_in & TDX_LEAF_MASK;
	if ((ev->rax_in & TDX_SEAMLDR_BIT) || leaf >= TDX_SEAMCALL_LEAF_MAX ||
	    (ev->status & TDX_STATUS_ERROR_BIT))
		return;
	if (!r->leaf_insns[leaf])
		r->leaf_insns[leaf] = d;
	if (leaf == TDH_VP_ENTER && !r->vp_enter_entry)
		r->vp_enter_entry = atomic_load(&lp->entry_insns);
	if (leaf == TDH_SYS_TDMR_INIT) {
		if (!r->tdmr_calls)
			r->tdmr_first = ev->cycles;
		r->tdmr_calls++;
		r->tdmr_cycles += ev->cycles;
	}
}

static void insn_rec_add(struct insn_rec *r, tdxsim *s)
{
	unsigned id;
	memset(r, 0, sizeof(*r));
	r->s = s;
	for (unsigned i = 0; i < s->n_lps && i < 64; i++)
		r->last[i] = atomic_load(&s->lps[i].module_insns);
	tdxsim_hook_seamcall(s, insn_hook, r, &id);
}

struct anchor {
	const char *name, *unit, *what;
	double anchor, model;
};

#define MAX_ANCHORS 24

static void add(struct anchor *a, unsigned *n, const char *name, const char *what, double anchor,
		double model, const char *unit)
{
	if (*n < MAX_ANCHORS)
		a[(*n)++] = (struct anchor){ name, unit, what, anchor, model };
}

/* A TD with one vCPU on LP 0 running `image` (arg) on env e. */
static struct tg_vm *td_with(struct tsim_env *e, const char *image, uint64_t arg, struct tg_vcpu **v)
{
	struct tg_vm *vm = td_create(e, 1);
	*v = td_vcpu_add(vm, 0);
	td_load_image(vm, image, arg);
	td_finalize(vm);
	return vm;
}

static void expect(struct tg_vcpu *v, struct ucall *uc, uint64_t stage)
{
	vcpu_expect_sync(v, uc, stage);
}

static void run_to_done(struct tg_vcpu *v)
{
	struct ucall uc;
	while (vcpu_run(v, &uc) == UCALL_SYNC)
		;
	if (uc.cmd != UCALL_DONE) {
		fprintf(stderr, "tdxsim-bench: calibration guest ended with ucall %llu\n",
			(unsigned long long)uc.cmd);
		exit(1);
	}
}

/* guest_timing on a platform: stage 1-3 results (cycles). */
static void guest_paths(const char *platform, uint64_t out[4], struct insn_rec *rec,
			uint64_t *accept_insns)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = platform;
	struct tsim_env e;
	tsim_env_init_cfg(&e, &cfg);
	struct kvm_host_model host;
	if (rec)
		insn_rec_add(rec, e.s);
	kvm_host_model_add(&host, e.s, platform);
	struct tg_vcpu *v;
	struct tg_vm *vm = td_with(&e, "guest_timing", 1000, &v);
	struct ucall uc;
	for (uint64_t s = 1; s <= 3; s++) {
		expect(v, &uc, s);
		out[s] = uc.args[1];
	}
	if (accept_insns)
		*accept_insns = atomic_load(&e.s->lps[0].tdcall_insns[TDG_MEM_PAGE_ACCEPT]);
	run_to_done(v);
	td_destroy(vm);
	tsim_env_fini(&e);
}

/* A module-handled TDCALL's module instructions, from a guest that makes it. */
static uint64_t tdcall_insns(const char *image, unsigned leaf)
{
	struct tsim_env e;
	tsim_env_init(&e);
	struct tg_vcpu *v;
	struct tg_vm *vm = td_with(&e, image, 0, &v);
	run_to_done(v);
	uint64_t n = atomic_load(&e.s->lps[0].tdcall_insns[leaf]);
	td_destroy(vm);
	tsim_env_fini(&e);
	return n;
}

/*
 * The stepping filter's threshold, found by running: a guest spinning
 * (guest_spin), entered with an interrupt deadline D simulated cycles after
 * its TD entry (tdxsim_lp_interrupt_at); bisection for the smallest D whose
 * exit the model no longer flags as stepping (the exit happens at the
 * first block at or after the deadline).
 */
static bool step_probe(tdxsim *s, struct tg_vcpu *v, struct tdx_module_args *first, int64_t d,
		       uint64_t overhead)
{
	struct sim_lp *lp = &s->lps[0];
	struct tdx_module_args a = { .rcx = v->tv->tdvpr };
	if (first) {
		a = *first;
		a.rcx = v->tv->tdvpr;
	}
	uint64_t clock, before = atomic_load(&lp->stat_stepping);
	tdxsim_lp_cycles(s, 0, &clock);
	if (d < 0)
		tdxsim_lp_interrupt(s, 0, 0xEC);
	else
		tdxsim_lp_interrupt_at(s, 0, 0xEC, clock + overhead + (uint64_t)d);
	uint64_t st = tdxsim_seamcall(s, 0, TDH_VP_ENTER, &a);
	if (st != (TDX_SUCCESS | 1)) {
		fprintf(stderr, "tdxsim-bench: stepping probe: VP.ENTER exit 0x%llx\n",
			(unsigned long long)st);
		exit(1);
	}
	return atomic_load(&lp->stat_stepping) != before;
}

static double stepping_threshold(void)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = "spr";
	struct tsim_env e;
	tsim_env_init_cfg(&e, &cfg);
	struct tg_vcpu *v;
	struct tg_vm *vm = td_with(&e, "guest_spin", 0, &v);
	struct ucall uc;
	vcpu_expect_sync(v, &uc, 1);
	/* An interrupt already posted: the exit comes right at the TD entry
	 * (flagged); that entry also gives the entry overhead. */
	uint64_t clock;
	tdxsim_lp_cycles(e.s, 0, &clock);
	if (!step_probe(e.s, v, &v->next, -1, 0)) {
		fprintf(stderr, "tdxsim-bench: stepping probe: an immediate exit was not flagged\n");
		exit(1);
	}
	uint64_t overhead = atomic_load(&e.s->lps[0].entry_cycles) - clock;
	int64_t lo = 0, hi = 65536;             /* flagged at lo, not at hi */
	if (!step_probe(e.s, v, NULL, lo, overhead) || step_probe(e.s, v, NULL, hi, overhead)) {
		fprintf(stderr, "tdxsim-bench: stepping probe: no threshold in [0, 65536]\n");
		exit(1);
	}
	while (hi - lo > 1) {
		int64_t mid = (lo + hi) / 2;
		if (step_probe(e.s, v, NULL, mid, overhead))
			lo = mid;
		else
			hi = mid;
	}
	memset(&v->next, 0, sizeof(v->next));
	td_destroy(vm);
	tsim_env_fini(&e);
	return (double)hi;
}

/*
 * What the timing model costs the host: guest_timing's store loop (stage 6)
 * and VMCALL loop (stage 7) with the model on and off in the same process
 * (TDXSIM_CFG_NO_TIMING), CPU time of the vcpu_run() reaching each SYNC;
 * the median of OVERHEAD_PAIRS alternating on/off pairs' ratios.
 */
#define OVERHEAD_N 4000000ULL

/* CPU time of this thread (the vCPU runs on it): less disturbed by other
 * processes on a shared host than wall time. */
static double thread_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void overhead_run(uint32_t flags, double ns[2])
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = flags;
	struct tsim_env e;
	tsim_env_init_cfg(&e, &cfg);
	struct tg_vcpu *v;
	struct tg_vm *vm = td_with(&e, "guest_timing", OVERHEAD_N, &v);
	struct ucall uc;
	for (uint64_t s = 1; s <= 5; s++)
		expect(v, &uc, s);
	double t0 = thread_ns();
	expect(v, &uc, 6);
	double t1 = thread_ns();
	expect(v, &uc, 7);
	double t2 = thread_ns();
	ns[0] = t1 - t0;
	ns[1] = (t2 - t1) / (double)uc.args[2];
	run_to_done(v);
	td_destroy(vm);
	tsim_env_fini(&e);
}

#define OVERHEAD_PAIRS 7

static void timing_overhead(struct bench_metrics *m)
{
	/* On and off alternate; the ratio of each pair, median over the pairs
	 * (a shared host's load changes over seconds). */
	double r[2][OVERHEAD_PAIRS], on[2][OVERHEAD_PAIRS], ns_on[2], ns_off[2];
	for (int i = 0; i < OVERHEAD_PAIRS; i++) {
		overhead_run(0, ns_on);
		overhead_run(TDXSIM_CFG_NO_TIMING, ns_off);
		for (int k = 0; k < 2; k++) {
			r[k][i] = ns_on[k] / ns_off[k];
			on[k][i] = ns_on[k];
		}
	}
	for (int k = 0; k < 2; k++) {
		qsort(r[k], OVERHEAD_PAIRS, sizeof(double), bench_cmp_double);
		qsort(on[k], OVERHEAD_PAIRS, sizeof(double), bench_cmp_double);
	}
	double store = r[0][OVERHEAD_PAIRS / 2], vmcall = r[1][OVERHEAD_PAIRS / 2];
	/* The loop body is 5 instructions (mov, and, store, add, cmp/jne pair). */
	double insns = OVERHEAD_N * 5.0;
	printf("\ntiming.overhead.store_loop.ratio = %.3f (median of %d on/off pairs; on: ~%.0f M guest insns/s)\n",
	       store, OVERHEAD_PAIRS, insns / on[0][OVERHEAD_PAIRS / 2] * 1e3);
	printf("timing.overhead.vmcall.ratio = %.3f (on: %.0f ns per TDG.VP.VMCALL round trip)\n",
	       vmcall, on[1][OVERHEAD_PAIRS / 2]);
	bench_metric(m, "timing.overhead.store_loop.ratio", store, "ratio");
	bench_metric(m, "timing.overhead.vmcall.ratio", vmcall, "ratio");
}

void bench_calib(struct bench_metrics *m)
{
	struct anchor a[MAX_ANCHORS];
	unsigned n = 0;
	uint64_t p[4];

	/* CPUID paths on EMR (the Dell R760 numbers); VP.ENTER and the
	 * TD-building leaves' instruction counts from the same run. */
	struct insn_rec *rec = calloc(1, sizeof(*rec));
	if (!rec)
		exit(1);
	guest_paths("emr", p, rec, NULL);
	add(a, &n, "cpuid_module", "CPUID in the module (EMR, guest RDTSC)", 1780, (double)p[1], "cycles");
	add(a, &n, "cpuid_host", "CPUID via #VE + TDVMCALL + KVM (EMR)", 10400, (double)p[2], "cycles");
	uint64_t vp_enter = rec->vp_enter_entry, create = rec->leaf_insns[TDH_MNG_CREATE];
	uint64_t vp_init = rec->leaf_insns[TDH_VP_INIT], sept_add = rec->leaf_insns[TDH_MEM_SEPT_ADD];

	/* Private fault-in on GNR. */
	uint64_t accept = 0;
	guest_paths("gnr", p, NULL, &accept);
	const tdxsim_platform *gnr = tdxsim_platform_find("gnr");
	add(a, &n, "faultin_4k", "4 KiB private fault-in (GNR, guest RDTSC)", 8.0 * gnr->tsc_mhz,
	    (double)p[3], "cycles");

	/* TDMR.INIT and SYS.KEY.CONFIG: a 16 GiB SPR machine brought up. */
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = "spr";
	cfg.mem_bytes = 16ULL << 30;
	tdxsim *s = tsim_create(&cfg);
	insn_rec_add(rec, s);
	struct tsim_tdmrs tt;
	tsim_bringup(s, &tt);
	tdxsim_close(s);
	add(a, &n, "tdmr_init_call", "TDH.SYS.TDMR.INIT per call (2.2 GHz)", 7.0 * 2200,
	    (double)rec->tdmr_first, "cycles");
	add(a, &n, "tdmr_init_64g", "TDH.SYS.TDMR.INIT per 64 GB (16 GiB x 4)", 100e-3 * 2.2e9,
	    (double)rec->tdmr_cycles * 4, "cycles");
	uint64_t key_config = rec->leaf_insns[TDH_SYS_KEY_CONFIG];
	uint64_t tdmr_init = rec->leaf_insns[TDH_SYS_TDMR_INIT];
	free(rec);

	/* Module instructions per leaf (TDXplorer Table 1). */
	add(a, &n, "insns_sys_key_config", "module insns TDH.SYS.KEY.CONFIG", 731, (double)key_config, "insns");
	add(a, &n, "insns_vp_enter", "module insns TDH.VP.ENTER (to TD entry)", 3357, (double)vp_enter, "insns");
	add(a, &n, "insns_mng_create", "module insns TDH.MNG.CREATE", 3518, (double)create, "insns");
	uint64_t acc = 0;
	guest_paths("spr", p, NULL, &acc);
	add(a, &n, "insns_mem_page_accept", "module insns TDG.MEM.PAGE.ACCEPT", 3767, (double)acc, "insns");
	add(a, &n, "insns_vp_init", "module insns TDH.VP.INIT", 4695, (double)vp_init, "insns");
	add(a, &n, "insns_mr_report", "module insns TDG.MR.REPORT", 5874,
	    (double)tdcall_insns("guest_report", TDG_MR_REPORT), "insns");
	add(a, &n, "insns_mem_sept_add", "module insns TDH.MEM.SEPT.ADD", 6314, (double)sept_add, "insns");
	add(a, &n, "insns_sys_tdmr_init", "module insns TDH.SYS.TDMR.INIT", 33465, (double)tdmr_init, "insns");
	add(a, &n, "insns_sys_rdall", "module insns TDG.SYS.RDALL", 43919,
	    (double)tdcall_insns("guest_rdall", TDG_SYS_RDALL), "insns");

	add(a, &n, "stepping_4096", "stepping filter: first unflagged async exit", 4096,
	    stepping_threshold(), "cycles");

	printf("\nTiming model calibration (model vs published; error = model / anchor - 1)\n");
	printf("  %-22s %-44s %14s %14s %8s\n", "anchor", "what", "model", "published", "error");
	for (unsigned i = 0; i < n; i++) {
		double err = a[i].anchor ? (a[i].model / a[i].anchor - 1) * 100 : 0;
		printf("  %-22s %-44s %14.0f %14.0f %+7.1f%% %s\n", a[i].name, a[i].what, a[i].model,
		       a[i].anchor, err, fabs(err) <= 15 ? "" : "(outside +-15%)");
		char *key = malloc(64);
		if (!key)
			exit(1);
		snprintf(key, 64, "calibration.%s.error_pct", a[i].name);
		bench_metric(m, key, err, "%");
	}
	timing_overhead(m);
}
