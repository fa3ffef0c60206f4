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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(four_threads_build_and_destroy_tds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
