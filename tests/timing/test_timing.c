/*
 * The timing model (models/cost.h): per-LP clocks, guest-visible TSC,
 * determinism, and that the cycles follow the model (scaled work, the
 * guest's instruction classes, the platform's table, the model off).
 * The guest is guest/programs/guest_timing.c; the host's KVM share is
 * models/kvm_host.h, as in bench/bench_calib.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tsim.h"
#include "tsim_td.h"
#include "tsim_guest.h"
#include "models/cost.h"
#include "models/kvm_host.h"
#include "seam/x86_insn.h"
#include "sim/sim_int.h"

#define MAX_EV 8192
#define LOOP_N 1000

struct rec {
	uint64_t n;
	uint64_t leaf[MAX_EV], start[MAX_EV], cycles[MAX_EV], status[MAX_EV], lp[MAX_EV];
};

static void rec_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct rec *r = user;
	if (r->n < MAX_EV) {
		r->leaf[r->n] = ev->rax_in;
		r->start[r->n] = ev->cycles_start;
		r->cycles[r->n] = ev->cycles;
		r->status[r->n] = ev->status;
		r->lp[r->n] = ev->lp;
	}
	r->n++;
}

struct result {
	uint64_t sync[8][3];                /* stage 1..7: args[1..2] */
	uint64_t lp_cycles[64];
	unsigned n_lps;
	struct rec rec;
	struct kvm_host_model host;
};

/* Bring-up, a TD running guest_timing with LOOP_N, teardown. */
static void scenario(struct result *out, uint32_t flags, const char *platform)
{
	memset(out, 0, sizeof(*out));
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = flags;
	cfg.platform = platform;
	struct tsim_env e;
	tsim_env_init_cfg(&e, &cfg);
	unsigned id;
	assert_int_equal(tdxsim_hook_seamcall(e.s, rec_hook, &out->rec, &id), TDXSIM_OK);
	if (!(flags & TDXSIM_CFG_NO_TIMING))
		kvm_host_model_add(&out->host, e.s, platform);
	struct tg_vm *vm = td_create(&e, 1);
	struct tg_vcpu *v = td_vcpu_add(vm, 0);
	td_load_image(vm, "guest_timing", LOOP_N);
	td_finalize(vm);
	struct ucall uc;
	for (uint64_t stage = 1; stage <= 7; stage++) {
		vcpu_expect_sync(v, &uc, stage);
		out->sync[stage][1] = uc.args[1];
		out->sync[stage][2] = uc.args[2];
	}
	vcpu_expect_done(v);
	td_destroy(vm);
	out->n_lps = e.n_lps < 64 ? e.n_lps : 64;
	for (unsigned i = 0; i < out->n_lps; i++)
		assert_int_equal(tdxsim_lp_cycles(e.s, i, &out->lp_cycles[i]), TDXSIM_OK);
	tsim_env_fini(&e);
}

/* Same inputs, same cycles: LP clocks, every SEAMCALL's start and cost,
 * and what the guest measured with RDTSC. */
static void test_timing__deterministic(void **state)
{
	(void)state;
	struct result *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	scenario(a, 0, "spr");
	scenario(b, 0, "spr");
	assert_true(a->rec.n > 50 && a->rec.n <= MAX_EV);
	assert_int_equal(a->rec.n, b->rec.n);
	assert_memory_equal(a->rec.leaf, b->rec.leaf, a->rec.n * sizeof(uint64_t));
	assert_memory_equal(a->rec.start, b->rec.start, a->rec.n * sizeof(uint64_t));
	assert_memory_equal(a->rec.cycles, b->rec.cycles, a->rec.n * sizeof(uint64_t));
	assert_memory_equal(a->sync, b->sync, sizeof(a->sync));
	assert_int_equal(a->n_lps, b->n_lps);
	assert_memory_equal(a->lp_cycles, b->lp_cycles, sizeof(a->lp_cycles));
	/* The clock moved, events are charged, the guest saw time pass. */
	assert_true(a->lp_cycles[0] > 0);
	for (unsigned i = 1; i < a->rec.n; i++)
		assert_true(a->rec.cycles[i] > 0);
	for (unsigned s = 1; s <= 7; s++)
		if (s != 5)
			assert_true(a->sync[s][1] > 0);
	/* The VMCALL loop: each round trip several module CPUIDs. */
	assert_true(a->sync[7][1] / a->sync[7][2] > a->sync[1][1] * 3);
	assert_int_equal(a->sync[5][1], 0);     /* RDTSCP: IA32_TSC_AUX at reset */
	assert_int_equal(a->sync[5][2], 1);     /* TSC monotonic */
	/* Events on LP 0 follow each other on its clock. */
	uint64_t last_end = 0;
	for (unsigned i = 0; i < a->rec.n; i++) {
		if (a->rec.lp[i])
			continue;
		assert_true(a->rec.start[i] >= last_end);
		last_end = a->rec.start[i] + a->rec.cycles[i];
	}
	assert_true(a->host.exits > 0 && a->host.cpuids >= 2 && a->host.augs >= 2);

	/* The guest's paths against the model: module CPUID is the exit, the
	 * handler and the entry plus the guest's own RDTSC and a few
	 * instructions; the host path costs several times more. */
	const struct tdxsim_costs *k = tdxsim_costs_for("spr");
	uint64_t cpuid = k->cycles[COST_TD_EXIT] + k->cycles[COST_CPUID_MODULE] +
			 k->cycles[COST_TD_ENTRY] + k->cycles[COST_RDTSC];
	assert_in_range(a->sync[1][1], cpuid, cpuid + 40);
	assert_true(a->sync[2][1] > 4 * a->sync[1][1]);
	assert_true(a->sync[3][1] > a->sync[2][1]);
	free(a);
	free(b);
}

/* The block cost follows the instruction classes: twice the iterations of
 * a 3-ALU + 1-branch loop cost LOOP_N x (3 ALU + BRANCH) more (1/16-cycle
 * accounting, +-1 cycle of carry). Another platform's table gives other
 * numbers; with the model off nothing is charged and the guest runs the
 * same. */
static void test_timing__follows_model(void **state)
{
	(void)state;
	struct result *a = calloc(1, sizeof(*a)), *g = calloc(1, sizeof(*g)), *off = calloc(1, sizeof(*off));
	assert_non_null(a);
	assert_non_null(g);
	assert_non_null(off);
	scenario(a, 0, "emr");
	const struct tdxsim_costs *k = tdxsim_costs_for("emr");
	uint64_t per16 = 3ULL * k->iclass[ICLASS_ALU] + k->iclass[ICLASS_BRANCH];
	uint64_t want = (LOOP_N * per16) >> TDXSIM_ICLASS_SHIFT;
	uint64_t diff = a->sync[4][2] - a->sync[4][1];
	assert_in_range(diff, want - 1, want + 1);

	scenario(g, 0, "gnr");
	assert_true(g->sync[1][1] < a->sync[1][1]);      /* GNR's table is cheaper */
	assert_true(g->sync[2][1] < a->sync[2][1]);

	scenario(off, TDXSIM_CFG_NO_TIMING, "emr");
	for (unsigned i = 0; i < off->n_lps; i++)
		assert_int_equal(off->lp_cycles[i], 0);
	for (unsigned i = 0; i < off->rec.n && i < MAX_EV; i++)
		assert_int_equal(off->rec.cycles[i], 0);
	for (unsigned s = 1; s <= 7; s++)
		if (s != 5)
			assert_int_equal(off->sync[s][1], 0);
	assert_int_equal(off->sync[6][2], LOOP_N);      /* the guest ran the same */
	assert_int_equal(off->sync[5][2], 0);   /* the TSC does not move */
	free(a);
	free(g);
	free(off);
}

/* TDH.SYS.TDMR.INIT: each call costs the transitions, its fixed work and
 * 1,024 PAMT entries; twice the memory, twice the calls. */
struct tdmr_rec {
	uint64_t calls, cycles, first;
};

static void tdmr_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct tdmr_rec *t = user;
	if ((ev->rax_in & TDX_LEAF_MASK) == TDH_SYS_TDMR_INIT && !(ev->status & TDX_STATUS_ERROR_BIT)) {
		if (!t->calls)
			t->first = ev->cycles;
		t->calls++;
		t->cycles += ev->cycles;
	}
}

static void tdmr_run(uint64_t gib, uint32_t flags, struct tdmr_rec *t)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = flags;
	cfg.mem_bytes = gib << 30;
	memset(t, 0, sizeof(*t));
	tdxsim *s = tsim_create(&cfg);
	unsigned id;
	assert_int_equal(tdxsim_hook_seamcall(s, tdmr_hook, t, &id), TDXSIM_OK);
	struct tsim_tdmrs tt;
	tsim_bringup(s, &tt);
	tdxsim_close(s);
}

static void test_timing__tdmr_init_scales(void **state)
{
	(void)state;
	struct tdmr_rec a, b, off;
	tdmr_run(4, 0, &a);
	tdmr_run(8, 0, &b);
	tdmr_run(4, TDXSIM_CFG_NO_TIMING, &off);
	const struct tdxsim_costs *k = tdxsim_costs_for("spr");
	uint64_t per = k->cycles[COST_SEAMCALL_ENTRY] + k->cycles[COST_SEAMRET] +
		       tdxsim_leaf_cycles(k, tdxsim_leaf_insns(k, TDH_SYS_TDMR_INIT)) +
		       1024ULL * k->cycles[COST_PAMT_ENTRY_INIT];
	assert_true(a.calls > 0);
	assert_int_equal(a.first, per);
	assert_int_equal(a.cycles, a.calls * per);
	assert_true(b.calls > a.calls);
	assert_true(b.cycles > a.cycles);
	assert_int_equal(off.calls, a.calls);
	assert_int_equal(off.cycles, 0);
}

/* Capstone's classes for the instructions the table distinguishes. */
static void test_timing__classes(void **state)
{
	(void)state;
	struct x86_classifier *c = x86_classifier_new();
	assert_non_null(c);
	static const struct { uint8_t b[8]; uint8_t n; unsigned cls; } t[] = {
		{ { 0x48, 0x01, 0xD8 }, 3, ICLASS_ALU },                /* add rax, rbx */
		{ { 0x48, 0x8B, 0x03 }, 3, ICLASS_LOAD },               /* mov rax, [rbx] */
		{ { 0x48, 0x89, 0x03 }, 3, ICLASS_STORE },              /* mov [rbx], rax */
		{ { 0x48, 0x01, 0x03 }, 3, ICLASS_RMW },                /* add [rbx], rax */
		{ { 0xF0, 0x48, 0x01, 0x03 }, 4, ICLASS_LOCKED },       /* lock add [rbx], rax */
		{ { 0x75, 0xFE }, 2, ICLASS_BRANCH },                   /* jnz */
		{ { 0xE8, 0, 0, 0, 0 }, 5, ICLASS_BRANCH },             /* call */
		{ { 0x48, 0xF7, 0xF3 }, 3, ICLASS_DIV },                /* div rbx */
		{ { 0x48, 0x0F, 0xAF, 0xC3 }, 4, ICLASS_MUL },          /* imul rax, rbx */
		{ { 0xF3, 0xA4 }, 2, ICLASS_STRING_REP },               /* rep movsb */
		{ { 0xAA }, 1, ICLASS_STRING },                         /* stosb */
		{ { 0xF3, 0x90 }, 2, ICLASS_PAUSE },                    /* pause */
		{ { 0x90 }, 1, ICLASS_NOP },
		{ { 0x0F, 0x22, 0xD8 }, 3, ICLASS_SERIAL },             /* mov cr3, rax */
		{ { 0x48, 0xCF }, 2, ICLASS_SERIAL },                   /* iretq */
		{ { 0x66, 0x0F, 0x01, 0xCC }, 4, ICLASS_SERIAL },       /* tdcall */
		{ { 0x66, 0x0F, 0xEF, 0xC0 }, 4, ICLASS_SIMD },         /* pxor xmm0, xmm0 */
		{ { 0x48, 0x8D, 0x04, 0x18 }, 4, ICLASS_ALU },          /* lea rax, [rax+rbx] */
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned got = x86_classify_one(c, t[i].b, t[i].n, 64);
		if (got != t[i].cls)
			fail_msg("case %u: class %s, want %s", i, tdxsim_iclass_name(got),
				 tdxsim_iclass_name(t[i].cls));
	}
	/* A block's cost is the sum of its classes (1/16 cycle). */
	const uint8_t blk[] = { 0x48, 0x01, 0xD8, 0x48, 0x89, 0x03, 0x75, 0xF8 };
	const struct tdxsim_costs *k = tdxsim_costs_for("spr");
	uint32_t counts[ICLASS_N] = { 0 };
	assert_int_equal(x86_block_cost(c, blk, sizeof(blk), 64, 0x1000, k->iclass, counts),
			 k->iclass[ICLASS_ALU] + k->iclass[ICLASS_STORE] + k->iclass[ICLASS_BRANCH]);
	assert_int_equal(counts[ICLASS_ALU], 1);
	assert_int_equal(counts[ICLASS_STORE], 1);
	assert_int_equal(counts[ICLASS_BRANCH], 1);
	x86_classifier_free(c);
}

/* Every cost item has a name and a source; the tables differ where the
 * platforms do. */
static void test_timing__tables(void **state)
{
	(void)state;
	const struct tdxsim_costs *s = tdxsim_costs_for("spr"), *g = tdxsim_costs_for("gnr");
	const struct tdxsim_costs *n = tdxsim_costs_none();
	for (unsigned i = 0; i < COST_N; i++) {
		assert_true(strlen(tdxsim_cost_name(i)) > 0);
		assert_true(strlen(tdxsim_cost_source(i)) > 10);
		assert_true(s->cycles[i] > 0);
		assert_int_equal(n->cycles[i], 0);
	}
	assert_true(g->cycles[COST_TD_EXIT] < s->cycles[COST_TD_EXIT]);
	assert_int_equal(s->stepping_threshold, 4096);
	assert_int_equal(tdxsim_leaf_insns(n, TDH_SYS_TDMR_INIT), 0);
	assert_true(tdxsim_leaf_insns(s, TDH_SYS_TDMR_INIT) > 0);
	assert_true(tdxsim_leaf_insns(s, TDH_SYS_SHUTDOWN) > 0);        /* the default */
	assert_string_equal(tdxsim_costs_for("nosuch")->platform, "spr");
}

/* Simulated-time interrupts and the stepping filter: a spinning guest
 * entered with a deadline D cycles after its TD entry exits with that
 * vector once the LP clock passed the deadline; the exit is flagged as
 * possible stepping when D is within the module's 4,096-cycle threshold,
 * not when it is far beyond it. tdxsim_lp_charge moves the clock. */
static uint64_t spin_enter(tdxsim *s, struct tg_vcpu *v, struct tdx_module_args *first,
			   uint64_t deadline_after_entry, uint64_t *exit_clock, uint64_t *flagged)
{
	struct sim_lp *lp = &s->lps[0];
	struct tdx_module_args a = { .rcx = v->tv->tdvpr };
	if (first) {
		a = *first;
		a.rcx = v->tv->tdvpr;
	}
	uint64_t clock, before = atomic_load(&lp->stat_stepping);
	assert_int_equal(tdxsim_lp_cycles(s, 0, &clock), TDXSIM_OK);
	/* The entry's own cost before the guest runs (SEAMCALL, VP.ENTER,
	 * VM entry) is the same every time: measured by the first entry. */
	static uint64_t overhead;
	if (!first)
		assert_int_equal(tdxsim_lp_interrupt_at(s, 0, 0xEC, clock + overhead + deadline_after_entry),
				 TDXSIM_OK);
	else
		tdxsim_lp_interrupt(s, 0, 0xEC);
	uint64_t st = tdxsim_seamcall(s, 0, TDH_VP_ENTER, &a);
	if (first)
		overhead = atomic_load(&lp->entry_cycles) - clock;
	*exit_clock = atomic_load(&lp->cycles);
	*flagged = atomic_load(&lp->stat_stepping) - before;
	assert_int_equal(a.r9, 0x800000ECu);
	return st;
}

static void test_timing__interrupt_at_and_stepping(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	assert_int_equal(tdxsim_lp_interrupt_at(e.s, 0, 3, 1000), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_lp_interrupt_at(e.s, e.n_lps, 0xEC, 1000), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_lp_charge(e.s, e.n_lps, 1), TDXSIM_ERR_ARG);
	uint64_t c0, c1;
	tdxsim_lp_cycles(e.s, 1, &c0);
	assert_int_equal(tdxsim_lp_charge(e.s, 1, 12345), TDXSIM_OK);
	tdxsim_lp_cycles(e.s, 1, &c1);
	assert_int_equal(c1 - c0, 12345);

	struct tg_vm *vm = td_create(&e, 1);
	struct tg_vcpu *v = td_vcpu_add(vm, 0);
	td_load_image(vm, "guest_spin", 0);
	td_finalize(vm);
	struct ucall uc;
	vcpu_expect_sync(v, &uc, 1);
	uint64_t clk, flagged, st;
	/* Posted before the entry: the exit comes at once, flagged. */
	st = spin_enter(e.s, v, &v->next, 0, &clk, &flagged);
	assert_int_equal(st, TDX_SUCCESS | 1);
	assert_int_equal(flagged, 1);
	/* Far beyond the threshold: not flagged; the guest gets back from its
	 * ucall into the spin loop (RIP far from where it entered). */
	st = spin_enter(e.s, v, NULL, 100000, &clk, &flagged);
	assert_int_equal(flagged, 0);
	/* Well inside the threshold, RIP within the loop: flagged; the clock
	 * passed the deadline. */
	uint64_t before;
	tdxsim_lp_cycles(e.s, 0, &before);
	st = spin_enter(e.s, v, NULL, 1000, &clk, &flagged);
	assert_int_equal(st, TDX_SUCCESS | 1);
	assert_int_equal(flagged, 1);
	assert_true(clk > before + 1000);
	/* Far beyond it: not flagged, and the guest ran that long. */
	tdxsim_lp_cycles(e.s, 0, &before);
	st = spin_enter(e.s, v, NULL, 100000, &clk, &flagged);
	assert_int_equal(st, TDX_SUCCESS | 1);
	assert_int_equal(flagged, 0);
	assert_true(clk > before + 100000);
	memset(&v->next, 0, sizeof(v->next));
	td_destroy(vm);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timing__tables),
		cmocka_unit_test(test_timing__classes),
		cmocka_unit_test(test_timing__tdmr_init_scales),
		cmocka_unit_test(test_timing__deterministic),
		cmocka_unit_test(test_timing__follows_model),
		cmocka_unit_test(test_timing__interrupt_at_and_stepping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
