/*
 * Fault injection in the TD teardown and page-removal leaves: the reclaim and
 * flush failures a real module returns (FLUSHVP_NOT_DONE from VPFLUSHDONE,
 * PREVIOUS_TLB_EPOCH_BUSY from TRACK, TLB_TRACKING_NOT_DONE from REMOVE and
 * UNBLOCK, WBCACHE_NOT_COMPLETE from KEY.FREEID, OPERAND_BUSY with the page's
 * or the TDR's operand id from RECLAIM), INTERRUPTED_RESUMABLE from CACHE.WB
 * (resumed chunk by chunk) and SYS.DISABLE. Each injected status leaves the
 * module's state untouched, is marked on its event, and the retried call
 * then succeeds; the TD still tears down to PT_NDA pages and a free KeyID.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"
#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define GPA_ADD 0x100000ULL
#define GPA_AUG 0x200000ULL
#define GPA_AUG2 0x201000ULL
#define WB_CHUNKS 16u                   /* seam/leaf/tdh_phymem_cache_wb.c */
#define WB_CHUNK_CYCLES 20000u

/* Events seen, by hook. */
struct evlog {
	unsigned n;
	tdxsim_seamcall_event ev[64];
};

static void hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct evlog *l = user;
	l->ev[l->n % 64] = *ev;
	l->n++;
}

static const tdxsim_seamcall_event *last(struct evlog *l)
{
	assert_true(l->n > 0);
	return &l->ev[(l->n - 1) % 64];
}

static uint64_t call(struct tsim_td *td, unsigned lp, uint64_t fn, uint64_t rcx, uint64_t rdx)
{
	struct tdx_module_args a = { .rcx = rcx, .rdx = rdx };
	return seamcall_raw(td->e->s, lp, fn, &a);
}

/* A single fault on leaf, nth 1, count 1. */
static unsigned plan1(tdxsim *s, uint64_t status, int leaf, uint64_t nth)
{
	return tsim_fault(s, status, leaf, -1, nth, 1);
}

/* The injected status of the last call: exact, marked with the fault
 * point it fired at (point: the call's point of that kind), fired once. */
static void expect_injected_at(struct evlog *l, tdxsim *s, unsigned id, unsigned point,
			       uint64_t status, uint64_t got)
{
	assert_tdx_status(status, got);
	assert_int_equal(last(l)->status, status);
	assert_int_equal(last(l)->injected, point);
	assert_int_equal(tsim_fault_fired(s, id), 1);
	assert_int_equal(tdxsim_fault_clear(s), TDXSIM_OK);
}

/* The same, at the call's first point of the kind. */
static void expect_injected(struct evlog *l, tdxsim *s, unsigned id, uint64_t status, uint64_t got)
{
	expect_injected_at(l, s, id, 1, status, got);
}

static void expect_clean(struct evlog *l, uint64_t got)
{
	assert_tdx_status(TDX_SUCCESS, got);
	assert_int_equal(last(l)->injected, 0);
}

/* A RUNNABLE TD with one vCPU (associated with LP 0), one added and two
 * augmented pages. */
static void build(struct tsim_env *e, struct tsim_td *td, struct evlog *l)
{
	tsim_env_init(e);
	tsim_td_build(e, td, 0, 2);
	tsim_vcpu_add(td, 0);
	tsim_page_add(td, GPA_ADD, NULL, false);
	tsim_td_finalize(td);
	tsim_page_aug(td, GPA_AUG, 0);
	tsim_page_aug(td, GPA_AUG2, 0);
	assert_int_equal(tdxsim_hook_seamcall(e->s, hook, l, NULL), TDXSIM_OK);
}

static void reclaim_ok(struct tsim_td *td, uint64_t pa)
{
	assert_tdx_status(TDX_SUCCESS, call(td, td->lp, TDH_PHYMEM_PAGE_RECLAIM, pa, 0));
	assert_int_equal(tsim_page_type(td->e, pa), PT_NDA);
}

/* After KEY.FREEID: every page back, every page PT_NDA, invariants hold. */
static void reclaim_rest(struct tsim_td *td)
{
	for (unsigned i = 0; i < td->n_pages; i++)
		reclaim_ok(td, td->page[i].pa);
	for (unsigned i = td->n_sept; i-- > 0;)
		reclaim_ok(td, td->sept[i].pa);
	for (unsigned i = 0; i < td->n_vcpus; i++) {
		for (unsigned j = 0; j < TDX_TDVPS_PAGES - 1; j++)
			reclaim_ok(td, td->vcpu[i].tdcx[j]);
		reclaim_ok(td, td->vcpu[i].tdvpr);
	}
	for (unsigned i = 0; i < td->n_tdcs; i++)
		reclaim_ok(td, td->tdcs[i]);
	reclaim_ok(td, td->tdr);
	assert_int_equal(tdxsim_check_invariants(td->e->s, 0), TDXSIM_OK);
}

/* TRACK, REMOVE and UNBLOCK on a running TD. */
static void test_fault_teardown__tlb_tracking(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td;
	struct evlog l = { 0 };
	build(&e, &td, &l);
	tdxsim *s = e.s;
	struct seam_td *t = tsim_td_obj(&td);
	uint64_t aug_pa = td.page[1].pa;
	assert_int_equal(td.page[1].gpa, GPA_AUG);

	/* BLOCK; TRACK answers PREVIOUS_TLB_EPOCH_BUSY, the epoch stays. */
	expect_clean(&l, call(&td, 0, TDH_MEM_RANGE_BLOCK, GPA_AUG, td.tdr));
	uint64_t ep = atomic_load(&t->td_epoch);
	unsigned id = plan1(s, TDX_PREVIOUS_TLB_EPOCH_BUSY, TDH_MEM_TRACK, 1);
	expect_injected(&l, s, id, TDX_PREVIOUS_TLB_EPOCH_BUSY, call(&td, 0, TDH_MEM_TRACK, td.tdr, 0));
	assert_int_equal(atomic_load(&t->td_epoch), ep);
	expect_clean(&l, call(&td, 0, TDH_MEM_TRACK, td.tdr, 0));
	assert_int_equal(atomic_load(&t->td_epoch), ep + 1);

	/* REMOVE answers TLB_TRACKING_NOT_DONE + RCX: the page stays mapped. */
	id = plan1(s, TDX_TLB_TRACKING_NOT_DONE, TDH_MEM_PAGE_REMOVE, 1);
	expect_injected(&l, s, id, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX),
			call(&td, 0, TDH_MEM_PAGE_REMOVE, GPA_AUG, td.tdr));
	assert_int_equal(tsim_page_type(&e, aug_pa), PT_REG);
	assert_int_equal(tdxsim_check_invariants(s, td.tdr), TDXSIM_OK);
	expect_clean(&l, call(&td, 0, TDH_MEM_PAGE_REMOVE, GPA_AUG, td.tdr));
	assert_int_equal(tsim_page_type(&e, aug_pa), PT_NDA);
	td.page[1] = td.page[--td.n_pages];

	/* UNBLOCK answers TLB_TRACKING_NOT_DONE + SEPT_TREE: still blocked. */
	expect_clean(&l, call(&td, 0, TDH_MEM_RANGE_BLOCK, GPA_AUG2, td.tdr));
	expect_clean(&l, call(&td, 0, TDH_MEM_TRACK, td.tdr, 0));
	id = plan1(s, TDX_TLB_TRACKING_NOT_DONE, TDH_MEM_RANGE_UNBLOCK, 1);
	expect_injected(&l, s, id, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_SEPT_TREE),
			call(&td, 0, TDH_MEM_RANGE_UNBLOCK, GPA_AUG2, td.tdr));
	/* Blocked still: a second BLOCK finds it so. */
	uint64_t st = call(&td, 0, TDH_MEM_RANGE_BLOCK, GPA_AUG2, td.tdr);
	assert_int_equal(st & ~0xFFFFFFFFULL, TDX_GPA_RANGE_ALREADY_BLOCKED);
	expect_clean(&l, call(&td, 0, TDH_MEM_RANGE_UNBLOCK, GPA_AUG2, td.tdr));
	assert_int_equal(tdxsim_check_invariants(s, td.tdr), TDXSIM_OK);
	tsim_td_teardown(&td);
	tsim_env_fini(&e);
}

/* The teardown sequence with a failure at each step, each retried. */
static void test_fault_teardown__flush_reclaim(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td;
	struct evlog l = { 0 };
	build(&e, &td, &l);
	tdxsim *s = e.s;
	struct seam_td *t = tsim_td_obj(&td);
	uint32_t hkid = td.hkid;

	expect_clean(&l, call(&td, 0, TDH_VP_FLUSH, td.vcpu[0].tdvpr, 0));
	/* VPFLUSHDONE: FLUSHVP_NOT_DONE, lifecycle and KOT unchanged. */
	unsigned id = plan1(s, TDX_FLUSHVP_NOT_DONE, TDH_MNG_VPFLUSHDONE, 1);
	expect_injected(&l, s, id, TDX_FLUSHVP_NOT_DONE, call(&td, 0, TDH_MNG_VPFLUSHDONE, td.tdr, 0));
	assert_int_equal(atomic_load(&t->lifecycle), TD_KEYS_CONFIGURED);
	assert_int_equal(atomic_load(&s->mod.kot[hkid].state), KOT_ASSIGNED);
	expect_clean(&l, call(&td, 0, TDH_MNG_VPFLUSHDONE, td.tdr, 0));
	assert_int_equal(atomic_load(&t->lifecycle), TD_BLOCKED);

	/* KEY.FREEID before any CACHE.WB: the real WBCACHE_NOT_COMPLETE. */
	assert_tdx_status(TDX_WBCACHE_NOT_COMPLETE, call(&td, 0, TDH_MNG_KEY_FREEID, td.tdr, 0));
	assert_int_equal(last(&l)->injected, 0);
	for (unsigned p = 0; p < e.n_pkgs; p++)
		expect_clean(&l, call(&td, td.pkg_lp[p], TDH_PHYMEM_CACHE_WB, 0, 0));
	/* Then an injected one; the KeyID stays FLUSHED, the TD BLOCKED. */
	id = plan1(s, TDX_WBCACHE_NOT_COMPLETE, TDH_MNG_KEY_FREEID, 1);
	expect_injected(&l, s, id, TDX_WBCACHE_NOT_COMPLETE, call(&td, 0, TDH_MNG_KEY_FREEID, td.tdr, 0));
	assert_int_equal(atomic_load(&t->lifecycle), TD_BLOCKED);
	assert_int_equal(atomic_load(&s->mod.kot[hkid].state), KOT_FLUSHED);
	expect_clean(&l, call(&td, 0, TDH_MNG_KEY_FREEID, td.tdr, 0));
	assert_int_equal(atomic_load(&s->mod.kot[hkid].state), KOT_FREE);

	/* RECLAIM: the page's lock is point 1 (+RCX), the TDR's point 2 (+TDR). */
	uint64_t pa = td.page[0].pa;
	id = plan1(s, TDX_OPERAND_BUSY, TDH_PHYMEM_PAGE_RECLAIM, 1);
	expect_injected(&l, s, id, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
			call(&td, 0, TDH_PHYMEM_PAGE_RECLAIM, pa, 0));
	assert_int_equal(tsim_page_type(&e, pa), PT_REG);
	id = plan1(s, TDX_OPERAND_BUSY, TDH_PHYMEM_PAGE_RECLAIM, 2);
	expect_injected_at(&l, s, id, 2, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TDR),
			call(&td, 0, TDH_PHYMEM_PAGE_RECLAIM, pa, 0));
	assert_int_equal(tsim_page_type(&e, pa), PT_REG);
	assert_int_equal(tdxsim_check_invariants(s, td.tdr), TDXSIM_OK);
	reclaim_rest(&td);
	tsim_env_fini(&e);
}

/* Cycles of the last event. */
static uint64_t wb(struct tsim_td *td, struct evlog *l, unsigned lp, uint64_t cmd, uint64_t *cycles)
{
	uint64_t st = call(td, lp, TDH_PHYMEM_CACHE_WB, cmd, 0);
	*cycles = last(l)->cycles;
	return st;
}

/* CACHE.WB interrupted after k chunks resumes with the remaining ones: a
 * resume costs the full write-back less k chunks, the package's bit in the
 * KeyID's WBINVD bitmap is cleared only when it completes, and a START
 * after an interruption starts over. */
static void test_fault_teardown__cache_wb_resume(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td;
	struct evlog l = { 0 };
	build(&e, &td, &l);
	tdxsim *s = e.s;
	uint32_t hkid = td.hkid;
	unsigned lp = td.pkg_lp[0];
	expect_clean(&l, call(&td, 0, TDH_VP_FLUSH, td.vcpu[0].tdvpr, 0));
	expect_clean(&l, call(&td, 0, TDH_MNG_VPFLUSHDONE, td.tdr, 0));
	uint32_t all = atomic_load(&s->mod.kot[hkid].wbinvd_bitmap);
	assert_true(all & 1u);

	uint64_t c_int, c_res, c_full = 0;
	for (unsigned k = 1; k < WB_CHUNKS; k++) {
		unsigned id = plan1(s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, k);
		assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, wb(&td, &l, lp, 0, &c_int));
		assert_int_equal(last(&l)->injected, k);       /* the k-th point of the call */
		assert_int_equal(tsim_fault_fired(s, id), 1);
		if (k == 1)
			assert_int_equal(atomic_load(&s->mod.kot[hkid].wbinvd_bitmap), all);
		assert_tdx_status(TDX_SUCCESS, wb(&td, &l, lp, 1, &c_res));
		assert_int_equal(last(&l)->injected, 0);
		assert_int_equal(atomic_load(&s->mod.kot[hkid].wbinvd_bitmap), all & ~1u);
		assert_int_equal(tdxsim_fault_clear(s), TDXSIM_OK);
		if (!c_full)
			assert_tdx_status(TDX_SUCCESS, wb(&td, &l, lp, 0, &c_full));
		assert_int_equal(c_res, c_full - (uint64_t)k * WB_CHUNK_CYCLES);
		assert_int_equal(c_int, c_full - (uint64_t)(WB_CHUNKS - k) * WB_CHUNK_CYCLES);
		/* Nothing left to resume. */
		assert_tdx_status(TDX_WBCACHE_RESUME_ERROR, wb(&td, &l, lp, 1, &c_res));
	}
	/* Interrupted at every point: one chunk per call, 16 calls in all. */
	unsigned id = tsim_fault(s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, lp, 1, 0);
	uint64_t st = wb(&td, &l, lp, 0, &c_int), calls = 1;
	while (st == TDX_INTERRUPTED_RESUMABLE && calls < 100) {
		st = wb(&td, &l, lp, 1, &c_res);
		calls++;
	}
	assert_tdx_status(TDX_SUCCESS, st);
	assert_int_equal(calls, WB_CHUNKS);
	assert_int_equal(tsim_fault_fired(s, id), WB_CHUNKS - 1);
	/* A START after an interruption starts over: a full write-back. */
	assert_int_equal(tdxsim_fault_clear(s), TDXSIM_OK);
	plan1(s, TDX_INTERRUPTED_RESUMABLE, TDH_PHYMEM_CACHE_WB, 3);
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, wb(&td, &l, lp, 0, &c_int));
	assert_tdx_status(TDX_SUCCESS, wb(&td, &l, lp, 0, &c_res));
	assert_int_equal(c_res, c_full);
	assert_int_equal(tdxsim_fault_clear(s), TDXSIM_OK);
	for (unsigned p = 1; p < e.n_pkgs; p++)
		expect_clean(&l, call(&td, td.pkg_lp[p], TDH_PHYMEM_CACHE_WB, 0, 0));
	assert_int_equal(atomic_load(&s->mod.kot[hkid].wbinvd_bitmap), 0);
	expect_clean(&l, call(&td, 0, TDH_MNG_KEY_FREEID, td.tdr, 0));
	reclaim_rest(&td);
	tsim_env_fini(&e);
}

/* TDH.SYS.DISABLE interrupted: nothing done, the module still READY; Linux
 * calls it again. */
static void test_fault_teardown__sys_disable_interrupted(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	unsigned id = tsim_fault(e.s, TDX_INTERRUPTED_RESUMABLE, TDH_SYS_DISABLE, -1, 1, 2);
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, seamcall_raw(e.s, 0, TDH_SYS_DISABLE, &a));
	assert_int_equal(tdxsim_module_state(e.s), TDX_SYS_READY);
	assert_tdx_status(TDX_INTERRUPTED_RESUMABLE, seamcall_raw(e.s, 0, TDH_SYS_DISABLE, &a));
	assert_int_equal(tdxsim_module_state(e.s), TDX_SYS_READY);
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(e.s, 0, TDH_SYS_DISABLE, &a));
	assert_int_equal(tdxsim_module_state(e.s), TDX_SYSINIT_PENDING);
	assert_int_equal(tsim_fault_fired(e.s, id), 2);
	tsim_env_fini(&e);
}

/* A fault has no point where the leaf does not test the condition: no
 * FLUSHVP_NOT_DONE for a TD whose TDCS is not initialised. */
static void test_fault_teardown__no_point_no_fault(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	unsigned id = tsim_fault(e.s, TDX_FLUSHVP_NOT_DONE, -1, -1, 1, 0);
	struct tdx_module_args a = { .rcx = td.tdr };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(e.s, 0, TDH_MNG_VPFLUSHDONE, &a));
	assert_int_equal(tsim_fault_fired(e.s, id), 0);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_teardown__tlb_tracking),
		cmocka_unit_test(test_fault_teardown__flush_reclaim),
		cmocka_unit_test(test_fault_teardown__cache_wb_resume),
		cmocka_unit_test(test_fault_teardown__sys_disable_interrupted),
		cmocka_unit_test(test_fault_teardown__no_point_no_fault),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
