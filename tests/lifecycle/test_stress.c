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

/*
 * Two threads on two LPs run a DEBUG TD's vCPUs and touch the same memory:
 * each enters its own vCPU, MEM.WRs its own 8 bytes of a shared private
 * page and MEM.RDs the other thread's (the page's line state and cipher
 * text change under the reader), and reads the other half of the work:
 * thread 1 AUGs and RANGE.BLOCKs pages (BLOCK records BEPOCH in their PAMT
 * entries) and MEM.TRACKs, while thread 0 RDMDs the same pages and looks
 * them up through the API. Every answer is SUCCESS (a TD exit for VP.ENTER)
 * or a contention status the module gives for that leaf.
 */
#define MEM_ROUNDS 512

struct mem_worker {
	pthread_barrier_t *start;
	struct tsim_td *td;
	unsigned lp, id;
	uint64_t tdvpr, shared_gpa;
	uint64_t *aug_pages;            /* thread 1's AUG pages, read by thread 0 */
	_Atomic unsigned *n_aug;        /* how many of them are mapped */
	uint64_t last_written;
	uint64_t bad, bad_status, bad_leaf;
};

static int mem_status_ok(uint64_t leaf, uint64_t st)
{
	if (st == TDX_SUCCESS || busy_ok(st))
		return 1;
	switch (leaf) {
	case TDH_VP_ENTER:              /* a TD exit: SUCCESS class, exit reason below */
		return (st >> 32) == 0 ||
		       st == tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH);
	case TDH_MEM_TRACK:
		return st == TDX_PREVIOUS_TLB_EPOCH_BUSY ||
		       st == tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH);
	}
	return 0;
}

static uint64_t mem_call(struct mem_worker *w, uint64_t leaf, struct tdx_module_args *a)
{
	struct tdx_module_args in = *a;
	for (;;) {
		*a = in;
		uint64_t st = seamcall_raw(w->td->e->s, w->lp, leaf, a);
		if (!mem_status_ok(leaf, st)) {
			if (!w->bad++) {
				w->bad_status = st;
				w->bad_leaf = leaf;
			}
			return st;
		}
		if (!busy_ok(st))
			return st;
	}
}

static void *mem_run(void *arg)
{
	struct mem_worker *w = arg;
	struct tsim_env *e = w->td->e;
	tsim_worker_thread = 1;
	pthread_barrier_wait(w->start);
	for (unsigned i = 0; i < MEM_ROUNDS; i++) {
		struct tdx_module_args a = { .rcx = w->tdvpr };
		mem_call(w, TDH_VP_ENTER, &a);
		uint64_t val = ((uint64_t)w->id << 32) | i;
		a = (struct tdx_module_args){ .rcx = w->shared_gpa + 8 * w->id, .rdx = w->td->tdr,
					      .r8 = val };
		if (mem_call(w, TDH_MEM_WR, &a) == TDX_SUCCESS)
			w->last_written = val;
		a = (struct tdx_module_args){ .rcx = w->shared_gpa + 8 * (1 - w->id),
					      .rdx = w->td->tdr };
		mem_call(w, TDH_MEM_RD, &a);
		if (w->id) {
			uint64_t gpa = 3 * GIB + i * 4096ULL;
			a = (struct tdx_module_args){ .rcx = gpa, .rdx = w->td->tdr,
						      .r8 = w->aug_pages[i] };
			if (mem_call(w, TDH_MEM_PAGE_AUG, &a) == TDX_SUCCESS)
				atomic_store(w->n_aug, i + 1);
			a = (struct tdx_module_args){ .rcx = gpa, .rdx = w->td->tdr };
			mem_call(w, TDH_MEM_RANGE_BLOCK, &a);
			a = (struct tdx_module_args){ .rcx = w->td->tdr };
			mem_call(w, TDH_MEM_TRACK, &a);
		} else {
			unsigned n = atomic_load(w->n_aug);
			uint64_t pa = w->aug_pages[n ? n - 1 : 0];
			a = (struct tdx_module_args){ .rcx = pa };
			uint64_t st = seamcall_raw(e->s, w->lp, TDH_PHYMEM_PAGE_RDMD, &a);
			if (st != TDX_SUCCESS && st != tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX) &&
			    !w->bad++) {
				w->bad_status = st;
				w->bad_leaf = TDH_PHYMEM_PAGE_RDMD;
			}
			unsigned type;
			uint64_t owner;
			tdxsim_err err = tdxsim_pamt_lookup(e->s, pa, &type, &owner, NULL);
			if (err != TDXSIM_OK && err != TDXSIM_ERR_STATE && !w->bad++) {
				w->bad_status = (uint64_t)err;
				w->bad_leaf = ~0ULL;
			}
		}
	}
	return NULL;
}

static void two_lps_one_td_memory(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	static struct tsim_td td;
	tsim_td_build(&e, &td, TDX_TD_ATTR_DEBUG, 2);
	tsim_vcpu_add(&td, 1);
	tsim_vcpu_add(&td, 5);
	tsim_page_add(&td, GIB, NULL, true);
	tsim_td_finalize(&td);
	for (uint64_t off = 0; off < MEM_ROUNDS * 4096ULL; off += 2ULL << 20)
		tsim_sept_map(&td, 3 * GIB + off, 0);
	static uint64_t aug_pages[MEM_ROUNDS];
	for (unsigned i = 0; i < MEM_ROUNDS; i++)
		aug_pages[i] = tsim_page(&e);
	_Atomic unsigned n_aug = 0;
	static struct mem_worker w[2];
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	pthread_t th[2];
	for (unsigned t = 0; t < 2; t++)
		w[t] = (struct mem_worker){ .start = &start, .td = &td, .lp = t ? 5 : 1, .id = t,
					    .tdvpr = td.vcpu[t].tdvpr, .shared_gpa = GIB + 64,
					    .aug_pages = aug_pages, .n_aug = &n_aug };
	for (unsigned t = 0; t < 2; t++)
		assert_int_equal(pthread_create(&th[t], NULL, mem_run, &w[t]), 0);
	for (unsigned t = 0; t < 2; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	pthread_barrier_destroy(&start);
	for (unsigned t = 0; t < 2; t++) {
		char buf[96];
		if (w[t].bad)
			fail_msg("thread %u: %llu unexpected answers, first %s to leaf %llu", t,
				 (unsigned long long)w[t].bad,
				 tdx_status_str(w[t].bad_status, buf, sizeof(buf)),
				 (unsigned long long)w[t].bad_leaf);
	}
	/* Each thread's last write is what its 8 bytes hold. */
	for (unsigned t = 0; t < 2; t++) {
		struct tdx_module_args a = { .rcx = GIB + 64 + 8 * t, .rdx = td.tdr };
		assert_int_equal(seamcall_raw(e.s, 1, TDH_MEM_RD, &a), TDX_SUCCESS);
		assert_int_equal(a.r8, w[t].last_written);
		assert_int_equal(w[t].last_written, ((uint64_t)t << 32) | (MEM_ROUNDS - 1));
	}
	assert_int_equal(atomic_load(&n_aug), MEM_ROUNDS);
	for (unsigned i = 0; i < MEM_ROUNDS; i++)
		assert_int_equal(tsim_page_type(&e, aug_pages[i]), PT_REG);
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_OK);
	tsim_env_fini(&e);
}

/*
 * A host thread writes and reads, through a shared KeyID, one line of a TD
 * page while an LP MEM.WRs and MEM.RDs another line of the same page (the
 * memory engine re-encrypts the page around the host's line). Both also
 * make API calls that fail, each recording an error message on the handle.
 * The lines stay independent: the host reads back what it wrote, its line
 * is poisoned and the TD's is not, and MEM.RD returns the last MEM.WR.
 */
#define LINE_ROUNDS 2000

struct line_worker {
	pthread_barrier_t *start;
	struct tsim_env *e;
	uint64_t tdr, page_pa;
	uint64_t bad;
};

static void *line_lp_run(void *arg)
{
	struct line_worker *w = arg;
	tsim_worker_thread = 1;
	pthread_barrier_wait(w->start);
	for (unsigned i = 1; i <= LINE_ROUNDS; i++) {
		struct tdx_module_args a = { .rcx = GIB + 64, .rdx = w->tdr, .r8 = i };
		if (seamcall_raw(w->e->s, 1, TDH_MEM_WR, &a) != TDX_SUCCESS || a.r8 != i - 1)
			w->bad++;
		a = (struct tdx_module_args){ .rcx = GIB + 64, .rdx = w->tdr };
		if (seamcall_raw(w->e->s, 1, TDH_MEM_RD, &a) != TDX_SUCCESS || a.r8 != i)
			w->bad++;
		if (tdxsim_pamt_lookup(w->e->s, 1ULL << 45, NULL, NULL, NULL) != TDXSIM_ERR_NOENT)
			w->bad++;
	}
	return NULL;
}

static void *line_host_run(void *arg)
{
	struct line_worker *w = arg;
	tsim_worker_thread = 1;
	pthread_barrier_wait(w->start);
	for (uint64_t i = 1; i <= LINE_ROUNDS; i++) {
		uint64_t v = i * 0x0101010101010101ULL, r = 0;
		if (tdxsim_mem_write(w->e->s, w->page_pa + 640, 0, &v, sizeof(v)) ||
		    tdxsim_mem_read(w->e->s, w->page_pa + 640, 0, &r, sizeof(r)) || r != v)
			w->bad++;
		if (tdxsim_pamt_lookup(w->e->s, 1ULL << 45, NULL, NULL, NULL) != TDXSIM_ERR_NOENT)
			w->bad++;
	}
	return NULL;
}

static void host_line_beside_td_line(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	static struct tsim_td td;
	tsim_td_build(&e, &td, TDX_TD_ATTR_DEBUG, 1);
	tsim_vcpu_add(&td, 1);
	uint64_t page_pa = tsim_page_add(&td, GIB, NULL, false);
	tsim_td_finalize(&td);
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	struct line_worker w[2];
	for (unsigned t = 0; t < 2; t++)
		w[t] = (struct line_worker){ .start = &start, .e = &e, .tdr = td.tdr, .page_pa = page_pa };
	pthread_t th[2];
	assert_int_equal(pthread_create(&th[0], NULL, line_lp_run, &w[0]), 0);
	assert_int_equal(pthread_create(&th[1], NULL, line_host_run, &w[1]), 0);
	for (unsigned t = 0; t < 2; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	pthread_barrier_destroy(&start);
	assert_int_equal(w[0].bad, 0);
	assert_int_equal(w[1].bad, 0);
	assert_true(tdxsim_mem_poisoned(e.s, page_pa + 640));
	assert_false(tdxsim_mem_poisoned(e.s, page_pa + 64));
	struct tdx_module_args a = { .rcx = GIB + 64, .rdx = td.tdr };
	assert_int_equal(seamcall_raw(e.s, 1, TDH_MEM_RD, &a), TDX_SUCCESS);
	assert_int_equal(a.r8, LINE_ROUNDS);
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_OK);
	tsim_env_fini(&e);
}

/*
 * Teardown with the vCPUs reclaimed in parallel: after VP.FLUSH,
 * VPFLUSHDONE, CACHE.WB and KEY.FREEID, two threads on two LPs reclaim the
 * TDCX and TDVPR pages of different vCPUs of the same TD (each RECLAIM of a
 * TDVPR drops that vCPU from the TD's vCPU table), then the TDCS and the TDR
 * go. Every page ends PT_NDA.
 */
#define RECLAIM_VCPUS 8

struct reclaim_worker {
	pthread_barrier_t *start;
	struct tsim_td *td;
	unsigned lp, first;
	uint64_t bad;
};

static void *reclaim_run(void *arg)
{
	struct reclaim_worker *w = arg;
	tsim_worker_thread = 1;
	pthread_barrier_wait(w->start);
	for (unsigned i = w->first; i < w->td->n_vcpus; i += 2) {
		uint64_t pages[TDX_TDVPS_PAGES];
		for (unsigned j = 0; j < TDX_TDVPS_PAGES - 1; j++)
			pages[j] = w->td->vcpu[i].tdcx[j];
		pages[TDX_TDVPS_PAGES - 1] = w->td->vcpu[i].tdvpr;
		for (unsigned j = 0; j < TDX_TDVPS_PAGES; j++) {
			struct tdx_module_args a = { .rcx = pages[j] };
			if (tsim_seamcall_retry(w->td->e->s, w->lp, TDH_PHYMEM_PAGE_RECLAIM, &a) != TDX_SUCCESS)
				w->bad++;
		}
	}
	return NULL;
}

static void parallel_vcpu_reclaim(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	static struct tsim_td td;
	tsim_td_build(&e, &td, 0, RECLAIM_VCPUS);
	static const unsigned lps[RECLAIM_VCPUS] = { 1, 2, 3, 5, 6, 7, 1, 5 };
	for (unsigned i = 0; i < RECLAIM_VCPUS; i++)
		tsim_vcpu_add(&td, lps[i]);
	tdxsim *s = e.s;
	for (unsigned i = 0; i < td.n_vcpus; i++) {
		struct tdx_module_args a = { .rcx = td.vcpu[i].tdvpr };
		assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, td.vcpu[i].lp, TDH_VP_FLUSH, &a));
	}
	struct tdx_module_args a = { .rcx = td.tdr };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, td.lp, TDH_MNG_VPFLUSHDONE, &a));
	for (unsigned pkg = 0; pkg < e.n_pkgs; pkg++) {
		uint64_t st;
		a = (struct tdx_module_args){ .rcx = 0 };
		while ((st = tsim_seamcall_retry(s, td.pkg_lp[pkg], TDH_PHYMEM_CACHE_WB, &a)) ==
		       TDX_INTERRUPTED_RESUMABLE)
			a = (struct tdx_module_args){ .rcx = 1 };
		if (st != TDX_NO_HKID_READY_TO_WBCACHE)
			assert_tdx_status(TDX_SUCCESS, st);
	}
	a = (struct tdx_module_args){ .rcx = td.tdr };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, td.lp, TDH_MNG_KEY_FREEID, &a));

	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	struct reclaim_worker w[2] = {
		{ .start = &start, .td = &td, .lp = 1, .first = 0 },
		{ .start = &start, .td = &td, .lp = 5, .first = 1 },
	};
	pthread_t th[2];
	for (unsigned t = 0; t < 2; t++)
		assert_int_equal(pthread_create(&th[t], NULL, reclaim_run, &w[t]), 0);
	for (unsigned t = 0; t < 2; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	pthread_barrier_destroy(&start);
	assert_int_equal(w[0].bad, 0);
	assert_int_equal(w[1].bad, 0);
	for (unsigned i = 0; i < td.n_vcpus; i++) {
		assert_int_equal(tsim_page_type(&e, td.vcpu[i].tdvpr), PT_NDA);
		for (unsigned j = 0; j < TDX_TDVPS_PAGES - 1; j++)
			assert_int_equal(tsim_page_type(&e, td.vcpu[i].tdcx[j]), PT_NDA);
	}
	for (unsigned i = 0; i < td.n_tdcs; i++) {
		a = (struct tdx_module_args){ .rcx = td.tdcs[i] };
		assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, td.lp, TDH_PHYMEM_PAGE_RECLAIM, &a));
	}
	a = (struct tdx_module_args){ .rcx = td.tdr };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, td.lp, TDH_PHYMEM_PAGE_RECLAIM, &a));
	assert_int_equal(tsim_page_type(&e, td.tdr), PT_NDA);
	assert_int_equal(tdxsim_check_invariants(s, 0), TDXSIM_OK);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(four_threads_build_and_destroy_tds),
		cmocka_unit_test(two_lps_one_td),
		cmocka_unit_test(two_lps_one_td_memory),
		cmocka_unit_test(host_line_beside_td_line),
		cmocka_unit_test(parallel_vcpu_reclaim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
