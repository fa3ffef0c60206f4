/*
 * TDH.MEM.PAGE.DEMOTE (15): check order and outputs in
 * seam/leaf/tdh_mem_page_demote.c. RCX = GPA + level of a large leaf (1 =
 * 2M), RDX = TDR (bit 0 L2_SEPT_ADD_MODE), R8 = new S-EPT page. The leaf
 * becomes NL_MAPPED over 512 small leaves (unblocked); the PAMT splits.
 */
#define LEAF TDH_MEM_PAGE_DEMOTE
#define ERR_RCX(in) 0
#define ERR_RDX(in) 0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/sept.h"
#include "sim/sim_int.h"

#define SVE (1ULL << 63)

struct fx {
	struct tsim_env e;
	struct tsim_td td;
};

/* How far the fixture TD gets: MNG.CREATE only, + the TDCS pages
 * (UNINITIALIZED), + MNG.INIT and one vCPU (INITIALIZED), + MR.FINALIZE. */
enum fx_kind { FX_CREATED, FX_UNINIT, FX_INIT, FX_RUNNABLE };

static void fx_init(struct fx *f, enum fx_kind k)
{
	tsim_env_init(&f->e);
	tsim_td_create(&f->e, &f->td);
	if (k == FX_CREATED)
		return;
	tsim_td_addcx(&f->td);
	if (k == FX_UNINIT)
		return;
	struct tdx_td_params p;
	tsim_td_params(&f->e, &p, 0, 4);
	assert_tdx_status(TDX_SUCCESS, tsim_td_init_raw(&f->td, &p, NULL));
	tsim_vcpu_add(&f->td, 0);
	if (k == FX_RUNNABLE)
		tsim_td_finalize(&f->td);
}

static void fx_fini(struct fx *f)
{
	tsim_env_fini(&f->e);
}

static struct seam_td *td_obj(struct fx *f)
{
	return seam_obj_get(&f->e.s->mod, f->td.tdr);
}

static inline uint64_t chldcnt(struct fx *f)
{
	return atomic_load(&td_obj(f)->chldcnt);
}

static uint64_t call(struct fx *f, uint64_t fn, struct tdx_module_args *a)
{
	return seamcall_raw(f->e.s, 0, fn, a);
}

/* The next call of the leaf fails its nth operand lock. */
static void fail_lock(struct fx *f, uint64_t nth)
{
	tsim_fault(f->e.s, TDX_OPERAND_BUSY, LEAF, -1, nth, 1);
}

/* A page-aligned PA outside every TDMR (and without KeyID bits). */
static uint64_t pa_outside(struct fx *f)
{
	const struct tsim_tdmrs *t = &f->e.t;
	uint64_t pa = t->info[t->n - 1].base + t->info[t->n - 1].size;
	assert_true(pa < (1ULL << f->e.keyid_shift));
	return pa;
}

/* An error without ext outputs: exact status, the module's zeroed outputs,
 * nothing changed in the TD's page count. */
static void expect_err(struct fx *f, const struct tdx_module_args *in, uint64_t status)
{
	struct tdx_module_args a = *in;
	struct seam_td *td = td_obj(f);
	uint64_t before = td ? atomic_load(&td->chldcnt) : 0;
	assert_tdx_status(status, call(f, LEAF, &a));
	assert_int_equal(a.rcx, ERR_RCX(in));
	assert_int_equal(a.rdx, ERR_RDX(in));
	if (td)
		assert_int_equal(atomic_load(&td->chldcnt), before);
}

/* Arguments of a call that passes every check (setup: prepare the TD for
 * it; false with the FX_CREATED / FX_UNINIT fixtures). */
static void args(struct fx *f, struct tdx_module_args *a, bool setup);

/* An S-EPT error: exact status and the ext outputs (RCX = architectural
 * entry, RDX = level | state << 8). */
static void expect_ext(struct fx *f, const struct tdx_module_args *in, uint64_t status,
		       uint64_t entry, unsigned level, unsigned st)
{
	struct tdx_module_args a = *in;
	uint64_t before = chldcnt(f);
	assert_tdx_status(status, call(f, LEAF, &a));
	assert_int_equal(a.rcx, entry);
	assert_int_equal(a.rdx, level | (st << 8));
	assert_int_equal(chldcnt(f), before);
}

/* ---- Common rows: TDR operand, TD state, GPA operand, tree lock ---- */

static void test_tdh_mem_page_demote__tdr_keyid_bits(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rdx = tsim_keyed_pa(&f.e, f.td.tdr, f.td.hkid);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__tdr_outside_tdmrs(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rdx = pa_outside(&f);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 1);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__tdr_not_a_tdr(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rdx = f.td.tdcs[0];
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	a.rdx = tsim_page(&f.e);
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	atomic_store(&td_obj(&f)->fatal, 1);
	expect_err(&f, &a, TDX_TD_FATAL);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__td_keys_not_configured(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	atomic_store(&td_obj(&f)->lifecycle, TD_HKID_ASSIGNED);
	expect_err(&f, &a, TDX_TD_KEYS_NOT_CONFIGURED);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__tdcs_not_allocated(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_CREATED);
	args(&f, &a, false);
	expect_err(&f, &a, TDX_TDCS_NOT_ALLOCATED);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__op_state_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 2);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__op_state_uninitialized(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_UNINIT);
	args(&f, &a, false);
	expect_err(&f, &a, TDX_OP_STATE_INCORRECT);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__level_below_range(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = (a.rcx & ~7ULL & ~(0xfffULL)) | 0;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__level_above_range(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = (a.rcx & ~7ULL & ~(0x7fffffffffULL)) | 3;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__gpa_reserved_bits(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx |= 1ULL << 3;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	a.rcx ^= (1ULL << 3) | (1ULL << 52);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__gpa_misaligned(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx += 4096;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__gpa_shared_bit(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx |= 1ULL << 47;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__gpa_above_gpaw(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx |= 1ULL << 48;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__sept_tree_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 3);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_SEPT_TREE));
	fx_fini(&f);
}

/* ---- PAGE.DEMOTE ---- */

#define GPA (1ULL << 39)
#define SZ_2M (2ULL << 20)

static uint64_t simple(struct fx *f, uint64_t fn, uint64_t rcx)
{
	struct tdx_module_args a = { .rcx = rcx, .rdx = f->td.tdr };
	return call(f, fn, &a);
}

/* The 2M page AUGed at GPA by args(). */
static uint64_t big_page(struct fx *f)
{
	for (unsigned i = 0; i < f->td.n_pages; i++)
		if (f->td.page[i].gpa == GPA && f->td.page[i].level == 1)
			return f->td.page[i].pa;
	fail_msg("no 2M page");
	return 0;
}

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	if (setup)
		tsim_page_aug(&f->td, GPA, 1);
	*a = (struct tdx_module_args){ .rcx = GPA | 1, .rdx = f->td.tdr, .r8 = tsim_page(&f->e) };
}

static void sept_rd(struct fx *f, uint64_t gpa_lvl, uint64_t *entry, uint64_t *info)
{
	struct tdx_module_args a = { .rcx = gpa_lvl, .rdx = f->td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_MEM_SEPT_RD, &a));
	*entry = a.rcx;
	*info = a.rdx;
}

static void rdmd(struct fx *f, uint64_t pa, unsigned type, uint64_t owner, unsigned ps, uint64_t bepoch)
{
	struct tdx_module_args m = { .rcx = pa };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_PHYMEM_PAGE_RDMD, &m));
	assert_int_equal(m.rcx, type);
	assert_int_equal(m.rdx, owner);
	assert_int_equal(m.r8, ps);
	assert_int_equal(m.r9, bepoch);
}

static void track(struct fx *f)
{
	struct tdx_module_args t = { .rcx = f->td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_MEM_TRACK, &t));
}

/* After a demote of the 2M page at GPA into new: check the result. */
static void expect_demoted(struct fx *f, uint64_t big, uint64_t new_pa, unsigned st, uint64_t e2m)
{
	uint64_t e, info;
	sept_rd(f, GPA | 1, &e, &info);
	assert_int_equal(e, 0x7);
	assert_int_equal(info, 1 | (SEPT_NL_MAPPED << 8));
	for (unsigned i = 0; i < 512; i += 73) {
		sept_rd(f, (GPA + i * 4096ULL) | 0, &e, &info);
		assert_int_equal(info, 0 | (st << 8));
		/* Same attributes as the 2M leaf, the i-th 4K of its HPA. */
		assert_int_equal(e, (e2m & ~SEPT_HPA_MASK & ~SEPT_RWX) | (e & SEPT_RWX) |
				    (big + i * 4096ULL));
		rdmd(f, big + i * 4096ULL, PT_REG, f->td.tdr, TDX_PS_4K, 0);
	}
	rdmd(f, new_pa, PT_EPT, f->td.tdr, TDX_PS_4K, 0);
	assert_int_equal(tdxsim_check_invariants(f->e.s, f->td.tdr), TDXSIM_OK);
}

static void test_tdh_mem_page_demote__success_pending(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e2m, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	uint64_t big = big_page(&f), new_pa = a.r8, before = chldcnt(&f);
	rdmd(&f, big, PT_REG, f.td.tdr, TDX_PS_2M, 0);
	sept_rd(&f, GPA | 1, &e2m, &info);
	a.r9 = 9, a.r10 = 10, a.r11 = 11;
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r9, 9);
	assert_int_equal(a.r10, 10);
	assert_int_equal(a.r11, 11);
	assert_int_equal(chldcnt(&f), before + 1);
	expect_demoted(&f, big, new_pa, SEPT_PENDING, e2m);
	fx_fini(&f);
}

/* RUNNABLE: block, track, demote; the small leaves come out unblocked. */
static void test_tdh_mem_page_demote__success_blocked_runnable(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e2m, info;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	sept_rd(&f, GPA | 1, &e2m, &info);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 1));
	track(&f);
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	expect_demoted(&f, big_page(&f), a.r8, SEPT_PENDING, e2m);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__rdx_reserved_bits(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rdx |= 1ULL << 5;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	a.rdx ^= (1ULL << 5) | (1ULL << 60);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	/* Bit 0 (L2_SEPT_ADD_MODE) is allowed. */
	a.rdx = f.td.tdr | 1;
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF, &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__walk_failed(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, false);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), SVE, 3, 0);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__entry_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	sept_rd(&f, GPA | 1, &e, &info);
	fail_lock(&f, 4);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), e, 1, SEPT_PENDING);
	fx_fini(&f);
}

/* Not a large leaf: a non-leaf entry, or FREE. */
static void test_tdh_mem_page_demote__entry_not_leaf(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, false);
	tsim_sept_map(&f.td, GPA, 0);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), 0x7, 1,
		   SEPT_NL_MAPPED);
	a.rcx = (GPA + SZ_2M) | 1;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX), SVE, 1,
		   SEPT_FREE);
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__not_blocked(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	sept_rd(&f, GPA | 1, &e, &info);
	expect_ext(&f, &a, tdx_status_op(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX), e, 1,
		   SEPT_PENDING);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__tlb_tracking_not_done(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	assert_tdx_status(TDX_SUCCESS, simple(&f, TDH_MEM_RANGE_BLOCK, GPA | 1));
	expect_err(&f, &a, tdx_status_op(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX));
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__page_invalid(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	uint64_t pa = a.r8;
	a.r8 = pa | 0x100;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8));
	a.r8 = tsim_keyed_pa(&f.e, pa, f.td.hkid);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__page_outside_tdmrs(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.r8 = pa_outside(&f);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

static void test_tdh_mem_page_demote__page_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 5);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

/* R8 is not a free page: a TDCS page, or a 4K piece of the very page. */
static void test_tdh_mem_page_demote__page_not_free(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.r8 = f.td.tdcs[1];
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8));
	a.r8 = big_page(&f) + 4096;
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

/* The 2M PAMT entry is locked: nothing changes. */
static void test_tdh_mem_page_demote__large_pamt_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	uint64_t e, info;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 6);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	sept_rd(&f, GPA | 1, &e, &info);
	assert_int_equal(info, 1 | (SEPT_PENDING << 8));
	rdmd(&f, big_page(&f), PT_REG, f.td.tdr, TDX_PS_2M, 0);
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_page_demote__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_page_demote__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_page_demote__tdr_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_page_demote__td_fatal),
		cmocka_unit_test(test_tdh_mem_page_demote__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_page_demote__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_page_demote__op_state_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_page_demote__level_below_range),
		cmocka_unit_test(test_tdh_mem_page_demote__level_above_range),
		cmocka_unit_test(test_tdh_mem_page_demote__gpa_reserved_bits),
		cmocka_unit_test(test_tdh_mem_page_demote__gpa_misaligned),
		cmocka_unit_test(test_tdh_mem_page_demote__gpa_shared_bit),
		cmocka_unit_test(test_tdh_mem_page_demote__gpa_above_gpaw),
		cmocka_unit_test(test_tdh_mem_page_demote__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__success_pending),
		cmocka_unit_test(test_tdh_mem_page_demote__success_blocked_runnable),
		cmocka_unit_test(test_tdh_mem_page_demote__rdx_reserved_bits),
		cmocka_unit_test(test_tdh_mem_page_demote__walk_failed),
		cmocka_unit_test(test_tdh_mem_page_demote__entry_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__entry_not_leaf),
		cmocka_unit_test(test_tdh_mem_page_demote__not_blocked),
		cmocka_unit_test(test_tdh_mem_page_demote__tlb_tracking_not_done),
		cmocka_unit_test(test_tdh_mem_page_demote__page_invalid),
		cmocka_unit_test(test_tdh_mem_page_demote__page_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_page_demote__page_busy),
		cmocka_unit_test(test_tdh_mem_page_demote__page_not_free),
		cmocka_unit_test(test_tdh_mem_page_demote__large_pamt_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
