/*
 * Bounded multi-threaded stress (ctest label lifecycle): four host threads,
 * each on its own LPs (one per package), build, populate, finalize, grow,
 * zap and tear down their own TDs concurrently for a fixed number of rounds.
 * A SEAMCALL hook checks the module invariants of the calling thread's TD
 * after every SEAMCALL it makes. Contention on module-wide operands (KOT,
 * WBCACHE) is retried as KVM retries it. Afterwards every page is PT_NDA.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "tsim_td.h"

#define THREADS 4
#define ROUNDS 6
#define GIB (1ULL << 30)

static _Thread_local uint64_t cur_tdr;  /* the TD this thread is driving */

struct shared {
	struct tsim_env e;
	_Atomic uint64_t checks, calls;
};

static void hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct shared *sh = user;
	(void)ev;
	if (!cur_tdr)
		return;
	atomic_fetch_add(&sh->calls, 1);
	tdxsim_err err = tdxsim_check_invariants(sh->e.s, cur_tdr);
	if (err == TDXSIM_ERR_NOENT)
		return;                 /* before MNG.CREATE / after the TDR's reclaim */
	if (err) {
		fprintf(stderr, "after %s on LP %u: %s\n", tdx_seamcall_leaf_name(ev->rax_in),
			ev->lp, tdxsim_errmsg(sh->e.s));
		abort();
	}
	atomic_fetch_add(&sh->checks, 1);
}

struct worker {
	struct shared *sh;
	unsigned id;
	uint64_t pages_seen[ROUNDS][64];
	unsigned n_seen[ROUNDS];
};

static void *run(void *arg)
{
	struct worker *w = arg;
	struct tsim_env *e = &w->sh->e;
	tsim_worker_thread = 1;
	unsigned lp0 = w->id, lp1 = e->n_lps / 2 + w->id;   /* one LP per package */
	unsigned pkg_lp[2] = { lp0, lp1 };
	for (unsigned r = 0; r < ROUNDS; r++) {
		struct tsim_td td;
		cur_tdr = 0;
		tsim_td_create_on(e, &td, lp0, pkg_lp);
		cur_tdr = td.tdr;
		tsim_td_addcx(&td);
		struct tdx_td_params p;
		tsim_td_params(e, &p, 0, 2);
		tsim_expect_status(__FILE__, __LINE__, TDX_SUCCESS, tsim_td_init_raw(&td, &p, NULL), ~0ULL);
		tsim_vcpu_add(&td, lp0);
		tsim_vcpu_add(&td, lp1);
		uint8_t page[4096];
		for (unsigned i = 0; i < 4; i++) {
			memset(page, (int)(w->id * 16 + r + i), sizeof(page));
			tsim_page_add(&td, GIB + i * 4096ULL, page, true);
		}
		tsim_td_finalize(&td);
		for (unsigned i = 0; i < 8; i++)
			tsim_page_aug(&td, 2 * GIB + i * 4096ULL, 0);
		for (unsigned i = 0; i < 4; i++)
			tsim_page_zap(&td, 2 * GIB + i * 4096ULL, 0);
		unsigned n = 0;
		w->pages_seen[r][n++] = td.tdr;
		for (unsigned i = 0; i < td.n_tdcs; i++)
			w->pages_seen[r][n++] = td.tdcs[i];
		for (unsigned i = 0; i < td.n_sept; i++)
			w->pages_seen[r][n++] = td.sept[i].pa;
		for (unsigned i = 0; i < td.n_pages; i++)
			w->pages_seen[r][n++] = td.page[i].pa;
		w->n_seen[r] = n;
		tsim_td_teardown(&td);
		cur_tdr = 0;
	}
	return NULL;
}

static void four_threads_build_and_destroy_tds(void **state)
{
	(void)state;
	static struct shared sh;
	tsim_env_init(&sh.e);
	assert_true(sh.e.n_pkgs == 2 && sh.e.n_lps / 2 >= THREADS);
	assert_int_equal(tdxsim_hook_seamcall(sh.e.s, hook, &sh, NULL), TDXSIM_OK);
	static struct worker w[THREADS];
	pthread_t th[THREADS];
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .sh = &sh, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	print_message("stress: %llu SEAMCALLs with %llu invariant checks\n",
		      (unsigned long long)sh.calls, (unsigned long long)sh.checks);
	assert_true(sh.checks > THREADS * ROUNDS * 50);
	for (unsigned i = 0; i < THREADS; i++)
		for (unsigned r = 0; r < ROUNDS; r++)
			for (unsigned j = 0; j < w[i].n_seen[r]; j++)
				assert_int_equal(tsim_page_type(&sh.e, w[i].pages_seen[r][j]), PT_NDA);
	assert_int_equal(tdxsim_check_invariants(sh.e.s, 0), TDXSIM_OK);
	tsim_env_fini(&sh.e);
}

/*
 * Two threads on two LPs drive the SAME TD: PAGE.AUG into the same page
 * tables (one thread also RANGE.BLOCKs what it added, which takes the S-EPT
 * tree exclusively), MNG.RD of the TD and VP.RD of their own vCPU. Every answer is
 * SUCCESS or OPERAND_BUSY naming an operand the module locks for that leaf
 * (the TDR, the S-EPT tree, the GPA operand for an S-EPT entry, the TDVPR,
 * the op-state); busy calls are retried. Afterwards every page is mapped and
 * the invariants hold.
 */
#define SAME_TD_PAGES 2048

struct same {
	pthread_barrier_t *start;
	struct tsim_td *td;
	unsigned lp, id;
	uint64_t tdvpr;
	uint64_t pages[SAME_TD_PAGES];
	_Atomic uint64_t busy, bad;
	uint64_t bad_status;
};

static int busy_ok(uint64_t st)
{
	if ((st & 0xFFFFFFFF00000000ULL) != TDX_OPERAND_BUSY)
		return 0;
	switch (st & 0xFFFFFFFFu) {
	case TDX_OPERAND_ID_RCX: case TDX_OPERAND_ID_RDX: case TDX_OPERAND_ID_R8:
	case TDX_OPERAND_ID_TDR: case TDX_OPERAND_ID_SEPT_TREE: case TDX_OPERAND_ID_OP_STATE:
	case TDX_OPERAND_ID_TDVPR: case TDX_OPERAND_ID_TDVPS: case TDX_OPERAND_ID_METADATA_FIELD:
		return 1;
	}
	return 0;
}

static uint64_t call_counting(struct same *w, uint64_t fn, struct tdx_module_args *a)
{
	struct tdx_module_args in = *a;
	for (;;) {
		*a = in;
		uint64_t st = seamcall_raw(w->td->e->s, w->lp, fn, a);
		if (st == TDX_SUCCESS)
			return st;
		if (!busy_ok(st)) {
			if (!w->bad++)
				w->bad_status = st;
			return st;
		}
		w->busy++;
	}
}

static void *same_td_run(void *arg)
{
	struct same *w = arg;
	tsim_worker_thread = 1;
	pthread_barrier_wait(w->start);
	for (unsigned i = 0; i < SAME_TD_PAGES; i++) {
		/* Interleaved GPAs: both threads fill the same page tables. */
		uint64_t gpa = 3 * GIB + (2ULL * i + w->id) * 4096;
		struct tdx_module_args a = { .rcx = gpa, .rdx = w->td->tdr, .r8 = w->pages[i] };
		call_counting(w, TDH_MEM_PAGE_AUG, &a);
		if (w->id) {
			/* RANGE.BLOCK takes the S-EPT tree exclusively. */
			struct tdx_module_args b = { .rcx = gpa, .rdx = w->td->tdr };
			call_counting(w, TDH_MEM_RANGE_BLOCK, &b);
		}
		struct tdx_module_args r = { .rcx = w->td->tdr, .rdx = 0x1110000300000000ULL };
		call_counting(w, TDH_MNG_RD, &r);
		struct tdx_module_args v = { .rcx = w->tdvpr, .rdx = 0x9120000300000100ULL };
		call_counting(w, TDH_VP_RD, &v);
	}
	return NULL;
}

static void two_lps_one_td(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	static struct tsim_td td;
	tsim_td_build(&e, &td, 0, 2);
	tsim_vcpu_add(&td, 1);
	tsim_vcpu_add(&td, 5);
	tsim_page_add(&td, GIB, NULL, true);
	tsim_td_finalize(&td);
	/* Page tables for the AUG range, so both threads share them. */
	for (uint64_t off = 0; off < 2ULL * SAME_TD_PAGES * 4096; off += 2ULL << 20)
		tsim_sept_map(&td, 3 * GIB + off, 0);
	static struct same w[2];
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	pthread_t th[2];
	for (unsigned t = 0; t < 2; t++) {
		w[t] = (struct same){ .start = &start, .td = &td, .lp = t ? 5 : 1, .id = t, .tdvpr = td.vcpu[t].tdvpr };
		for (unsigned i = 0; i < SAME_TD_PAGES; i++)
			w[t].pages[i] = tsim_page(&e);
	}
	for (unsigned t = 0; t < 2; t++)
		assert_int_equal(pthread_create(&th[t], NULL, same_td_run, &w[t]), 0);
	for (unsigned t = 0; t < 2; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	pthread_barrier_destroy(&start);
	for (unsigned t = 0; t < 2; t++) {
		char buf[96];
		if (w[t].bad)
			fail_msg("thread %u: unexpected status %s", t,
				 tdx_status_str(w[t].bad_status, buf, sizeof(buf)));
	}
	print_message("same TD: %llu + %llu OPERAND_BUSY answers retried\n",
		      (unsigned long long)w[0].busy, (unsigned long long)w[1].busy);
	for (unsigned t = 0; t < 2; t++)
		for (unsigned i = 0; i < SAME_TD_PAGES; i++) {
			uint64_t owner;
			unsigned type;
			assert_int_equal(tdxsim_pamt_lookup(e.s, w[t].pages[i], &type, &owner, NULL), TDXSIM_OK);
			assert_int_equal(type, PT_REG);
			assert_int_equal(owner, td.tdr);
		}
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_OK);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(four_threads_build_and_destroy_tds),
		cmocka_unit_test(two_lps_one_td),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
