/*
 * TD lifecycles end to end (ctest label lifecycle): two TDs with four vCPUs
 * each built, populated, run-ready, zapped and torn down in KVM's order, with
 * the module's invariants checked after every step and every page back to
 * PT_NDA at the end; KeyIDs reusable afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define GIB (1ULL << 30)

static void check(struct tsim_env *e)
{
	tdxsim_err err = tdxsim_check_invariants(e->s, 0);
	if (err)
		fail_msg("%s", tdxsim_errmsg(e->s));
}

static void fill(uint8_t *p, unsigned seed)
{
	for (unsigned i = 0; i < 4096; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* Build a TD with 4 vCPUs on lps[0..3], 8 measured pages, finalize, AUG 4 more. */
static void build_td(struct tsim_env *e, struct tsim_td *td, const unsigned *lps)
{
	tsim_td_build(e, td, 0, 8);
	check(e);
	for (unsigned i = 0; i < 4; i++) {
		tsim_vcpu_add(td, lps[i]);
		check(e);
	}
	uint8_t page[4096];
	for (unsigned i = 0; i < 8; i++) {
		fill(page, i);
		tsim_page_add(td, GIB + i * 4096ULL, page, true);
		check(e);
	}
	tsim_td_finalize(td);
	check(e);
	for (unsigned i = 0; i < 4; i++) {
		tsim_page_aug(td, 2 * GIB + i * 4096ULL, 0);
		check(e);
	}
}

static unsigned count_pages(struct tsim_td *td)
{
	return 1 + td->n_tdcs + td->n_vcpus * TDX_TDVPS_PAGES + td->n_sept + td->n_pages;
}

static void two_tds_four_vcpus_each(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	static struct tsim_td a, b;
	const unsigned lps_a[4] = { 0, 1, 4, 5 }, lps_b[4] = { 2, 3, 6, 7 };
	build_td(&e, &a, lps_a);
	build_td(&e, &b, lps_b);
	assert_int_not_equal(a.hkid, b.hkid);

	/* Every page of both TDs is owned as the module says. */
	uint64_t owner;
	unsigned type, size;
	assert_int_equal(tdxsim_pamt_lookup(e.s, a.page[0].pa, &type, &owner, &size), TDXSIM_OK);
	assert_int_equal(type, PT_REG);
	assert_int_equal(owner, a.tdr);
	assert_int_equal(tdxsim_pamt_lookup(e.s, b.vcpu[3].tdvpr, &type, &owner, &size), TDXSIM_OK);
	assert_int_equal(type, PT_TDVPR);
	assert_int_equal(owner, b.tdr);

	/* Runtime zap of one added and one augmented page of TD a. */
	tsim_page_zap(&a, GIB, 0);
	check(&e);
	tsim_page_zap(&a, 2 * GIB + 4096, 0);
	check(&e);

	/* Collect every page, tear down, and find them all free. */
	uint64_t pages[2][256];
	unsigned n[2] = { 0, 0 };
	struct tsim_td *tds[2] = { &a, &b };
	for (unsigned t = 0; t < 2; t++) {
		struct tsim_td *td = tds[t];
		assert_true(count_pages(td) <= 256);
		pages[t][n[t]++] = td->tdr;
		for (unsigned i = 0; i < td->n_tdcs; i++)
			pages[t][n[t]++] = td->tdcs[i];
		for (unsigned v = 0; v < td->n_vcpus; v++) {
			pages[t][n[t]++] = td->vcpu[v].tdvpr;
			for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++)
				pages[t][n[t]++] = td->vcpu[v].tdcx[i];
		}
		for (unsigned i = 0; i < td->n_sept; i++)
			pages[t][n[t]++] = td->sept[i].pa;
		for (unsigned i = 0; i < td->n_pages; i++)
			pages[t][n[t]++] = td->page[i].pa;
	}
	tsim_td_teardown(&b);
	check(&e);
	tsim_td_teardown(&a);
	check(&e);
	for (unsigned t = 0; t < 2; t++)
		for (unsigned i = 0; i < n[t]; i++)
			assert_int_equal(tsim_page_type(&e, pages[t][i]), PT_NDA);

	/* Both KeyIDs are free again: a new TD can take a's KeyID. */
	uint64_t tdr = tsim_page(&e);
	struct tdx_module_args c = { .rcx = tdr, .rdx = a.hkid };
	seamcall_ok(e.s, 0, TDH_MNG_CREATE, &c);
	tsim_env_fini(&e);
}

/* The checker is not vacuous: a wrong child count and a wrong PAMT owner are found. */
static void invariants_catch_corruption(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	tsim_vcpu_add(&td, 0);
	tsim_page_add(&td, GIB, NULL, false);
	check(&e);
	struct seam_td *t = seam_obj_get(&e.s->mod, td.tdr);
	assert_non_null(t);
	atomic_fetch_add(&t->chldcnt, 1);
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdr), TDXSIM_ERR_STATE);
	assert_non_null(strstr(tdxsim_errmsg(e.s), "child count"));
	atomic_fetch_sub(&t->chldcnt, 1);
	check(&e);
	/* A private page whose PAMT owner is another TDR. */
	struct seam_tdmr *tm = pamt_get_block(&e.s->mod, td.page[0].pa);
	struct tdx_pamt_entry *pe = pamt_entry(e.s, tm, td.page[0].pa, TDX_PS_4K);
	uint64_t saved = pe->w0;
	pe->w0 = (saved & ((1ULL << PAMT_OWNER_SHIFT) - 1)) | ((td.tdcs[0] >> 12) << PAMT_OWNER_SHIFT);
	assert_int_equal(tdxsim_check_invariants(e.s, 0), TDXSIM_ERR_STATE);
	assert_non_null(strstr(tdxsim_errmsg(e.s), "private page"));
	pe->w0 = saved;
	check(&e);
	assert_int_equal(tdxsim_check_invariants(e.s, td.tdcs[0]), TDXSIM_ERR_NOENT);
	tsim_td_teardown(&td);
	tsim_env_fini(&e);
}

/* KeyIDs cycle: more TDs built and destroyed than there are KeyIDs. */
static void keyids_are_recycled(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint32_t first = e.next_hkid;
	unsigned rounds = e.n_keyids + 2;
	for (unsigned i = 0; i < rounds; i++) {
		struct tsim_td td;
		e.next_hkid = first;            /* reuse the same KeyID every time */
		tsim_td_build(&e, &td, 0, 1);
		tsim_vcpu_add(&td, i % e.n_lps);
		tsim_page_add(&td, GIB, NULL, true);
		tsim_td_finalize(&td);
		check(&e);
		tsim_td_teardown(&td);
		check(&e);
	}
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_tds_four_vcpus_each),
		cmocka_unit_test(invariants_catch_corruption),
		cmocka_unit_test(keyids_are_recycled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
