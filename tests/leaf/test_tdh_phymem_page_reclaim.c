/*
 * TDH.PHYMEM.PAGE.RECLAIM (28): tdx-abi.md 6.4 step 6; module 1.5
 * tdh_phymem_page_reclaim.c. RCX = PA -> RCX type, RDX owner, R8 size;
 * R9-R11 zeroed. Order: outputs zeroed; misaligned / KeyID bits / >= 2^52
 * -> OPERAND_INVALID+RCX; outside initialised TDMRs -> ADDR_RANGE+RCX; PAMT
 * leaf (4K or a 2M/1G PT_REG) exclusive -> OPERAND_BUSY+RCX; NDA or RSVD ->
 * PAGE_METADATA_INCORRECT+RCX; then the outputs are set, also for the errors
 * after: inside a large page -> OPERAND_INVALID+RCX; child page: TDR shared
 * -> OPERAND_BUSY+TDR, not TEARDOWN -> LIFECYCLE_STATE_INCORRECT; TDR: not
 * TEARDOWN -> LIFECYCLE_STATE_INCORRECT, child count -> TD_ASSOCIATED_PAGES_EXIST.
 * Success: PT_NDA, TDR child count minus the page's 4 KiB units; TDVPR and
 * TDR structures freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL
#define ST_RCX(x) tdx_status_op((x), TDX_OPERAND_ID_RCX)

struct out {
	uint64_t status, rcx, rdx, r8;
};

/* RECLAIM with sentinels: R9-R11 always come back zero, R12 untouched. */
static struct out reclaim(tdxsim *s, uint64_t pa)
{
	struct tdx_module_args a = { .rcx = pa, .rdx = SENT, .r8 = SENT, .r9 = SENT,
				     .r10 = SENT, .r11 = SENT, .r12 = SENT };
	struct out o = { .status = seamcall_raw(s, 0, TDH_PHYMEM_PAGE_RECLAIM, &a) };
	o.rcx = a.rcx;
	o.rdx = a.rdx;
	o.r8 = a.r8;
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10, 0);
	assert_int_equal(a.r11, 0);
	assert_int_equal(a.r12, SENT);
	return o;
}

/* An error before the page is known: every output zero. */
static void expect_early_error(tdxsim *s, uint64_t pa, uint64_t status)
{
	struct out o = reclaim(s, pa);
	assert_tdx_status(status, o.status);
	assert_int_equal(o.rcx, 0);
	assert_int_equal(o.rdx, 0);
	assert_int_equal(o.r8, 0);
}

/* An error after the page is known: its type, owner and size in the outputs. */
static void expect_late_error(tdxsim *s, uint64_t pa, uint64_t status, unsigned type,
			      uint64_t owner, unsigned size)
{
	struct out o = reclaim(s, pa);
	assert_tdx_status(status, o.status);
	assert_int_equal(o.rcx, type);
	assert_int_equal(o.rdx, owner);
	assert_int_equal(o.r8, size);
}

static void expect_reclaimed(struct tsim_env *e, uint64_t pa, unsigned type, uint64_t owner,
			     unsigned size)
{
	struct out o = reclaim(e->s, pa);
	assert_tdx_status(TDX_SUCCESS, o.status);
	assert_int_equal(o.rcx, type);
	assert_int_equal(o.rdx, owner);
	assert_int_equal(o.r8, size);
	assert_int_equal(tsim_page_type(e, pa), PT_NDA);
}

static uint64_t owner_of(struct tsim_env *e, uint64_t pa)
{
	uint64_t owner = ~0ULL;
	assert_int_equal(tdxsim_pamt_lookup(e->s, pa, NULL, &owner, NULL), TDXSIM_OK);
	return owner;
}

static uint64_t chldcnt(struct tsim_env *e, uint64_t tdr)
{
	struct seam_td *td = seam_obj_get(&e->s->mod, tdr);
	assert_non_null(td);
	return atomic_load(&td->chldcnt);
}

/* KVM's teardown up to KEY.FREEID: the TD is in TEARDOWN, nothing reclaimed. */
static void to_teardown(struct tsim_td *td)
{
	tdxsim *s = td->e->s;
	for (unsigned i = 0; i < td->n_vcpus; i++) {
		struct tdx_module_args a = { .rcx = td->vcpu[i].tdvpr };
		seamcall_ok(s, td->vcpu[i].lp, TDH_VP_FLUSH, &a);
	}
	struct tdx_module_args d = { .rcx = td->tdr };
	seamcall_ok(s, 0, TDH_MNG_VPFLUSHDONE, &d);
	for (unsigned pkg = 0; pkg < td->e->n_pkgs; pkg++) {
		struct tdx_module_args w = { .rcx = 0 };
		seamcall_ok(s, tsim_pkg_first_lp(s, pkg), TDH_PHYMEM_CACHE_WB, &w);
	}
	struct tdx_module_args f = { .rcx = td->tdr };
	seamcall_ok(s, 0, TDH_MNG_KEY_FREEID, &f);
}

/* After to_teardown: every page of the TD back, the TDR last. */
static void reclaim_all(struct tsim_td *td)
{
	struct tsim_env *e = td->e;
	for (unsigned i = 0; i < td->n_pages; i++)
		expect_reclaimed(e, td->page[i].pa, PT_REG, td->tdr, td->page[i].level);
	for (unsigned i = td->n_sept; i-- > 0;)
		expect_reclaimed(e, td->sept[i].pa, PT_EPT, td->tdr, TDX_PS_4K);
	for (unsigned i = 0; i < td->n_vcpus; i++) {
		for (unsigned j = 0; j < TDX_TDVPS_PAGES - 1; j++)
			expect_reclaimed(e, td->vcpu[i].tdcx[j], PT_TDCX, td->tdr, TDX_PS_4K);
		expect_reclaimed(e, td->vcpu[i].tdvpr, PT_TDVPR, td->tdr, TDX_PS_4K);
	}
	for (unsigned i = 0; i < td->n_tdcs; i++)
		expect_reclaimed(e, td->tdcs[i], PT_TDCX, td->tdr, TDX_PS_4K);
	assert_int_equal(chldcnt(e, td->tdr), 0);
	expect_reclaimed(e, td->tdr, PT_TDR, owner_of(e, td->tdr), TDX_PS_4K);
	assert_int_equal(tdxsim_check_invariants(e->s, 0), TDXSIM_OK);
}

/* A TD with a vCPU, one 4 KiB page and S-EPT, in TEARDOWN. */
static void torn_down_td(struct tsim_env *e, struct tsim_td *td)
{
	tsim_td_build(e, td, 0, 1);
	tsim_vcpu_add(td, 0);
	tsim_page_add(td, 0x100000, NULL, false);
	to_teardown(td);
}

static void test_tdh_phymem_page_reclaim__misaligned(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	torn_down_td(&e, &td);
	expect_early_error(e.s, td.tdcs[1] + 0x800, ST_RCX(TDX_OPERAND_INVALID));
	expect_early_error(e.s, td.tdcs[1] + 8, ST_RCX(TDX_OPERAND_INVALID));
	assert_int_equal(tsim_page_type(&e, td.tdcs[1]), PT_TDCX);
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__keyid_bits(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	torn_down_td(&e, &td);
	expect_early_error(e.s, tsim_keyed_pa(&e, td.tdcs[1], td.hkid), ST_RCX(TDX_OPERAND_INVALID));
	expect_early_error(e.s, tsim_keyed_pa(&e, td.tdr, e.first_keyid), ST_RCX(TDX_OPERAND_INVALID));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__above_max_pa(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	torn_down_td(&e, &td);
	expect_early_error(e.s, td.tdr | (1ULL << 52), ST_RCX(TDX_OPERAND_INVALID));
	expect_early_error(e.s, ~0xFFFULL, ST_RCX(TDX_OPERAND_INVALID));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__outside_tdmrs(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	expect_early_error(e.s, 3ULL << 30, ST_RCX(TDX_OPERAND_ADDR_RANGE_ERROR));
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(e.s, &info), TDXSIM_OK);
	expect_early_error(e.s, info.pa_space_bytes + (1ULL << 30), ST_RCX(TDX_OPERAND_ADDR_RANGE_ERROR));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__page_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	torn_down_td(&e, &td);
	unsigned id = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_PHYMEM_PAGE_RECLAIM, -1, 1, 1);
	expect_early_error(e.s, td.tdcs[1], ST_RCX(TDX_OPERAND_BUSY));
	assert_int_equal(tsim_fault_fired(e.s, id), 1);
	assert_int_equal(tsim_page_type(&e, td.tdcs[1]), PT_TDCX);
	expect_reclaimed(&e, td.tdcs[1], PT_TDCX, td.tdr, TDX_PS_4K);
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__free_page(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	expect_early_error(e.s, tsim_page(&e), ST_RCX(TDX_PAGE_METADATA_INCORRECT));
	/* Twice: the second finds it NDA. */
	struct tsim_td td;
	torn_down_td(&e, &td);
	expect_reclaimed(&e, td.tdcs[2], PT_TDCX, td.tdr, TDX_PS_4K);
	expect_early_error(e.s, td.tdcs[2], ST_RCX(TDX_PAGE_METADATA_INCORRECT));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__reserved_page(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	assert_int_equal(tsim_page_type(&e, e.t.pamt_pa[0]), PT_RSVD);
	expect_early_error(e.s, e.t.pamt_pa[0], ST_RCX(TDX_PAGE_METADATA_INCORRECT));
	tsim_env_fini(&e);
}

/* A child page of a TD not in TEARDOWN (keys configured, then blocked). */
static void test_tdh_phymem_page_reclaim__child_not_teardown(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	struct tsim_vcpu *v = tsim_vcpu_add(&td, 0);
	uint64_t n = chldcnt(&e, td.tdr);
	expect_late_error(e.s, td.tdcs[0], TDX_LIFECYCLE_STATE_INCORRECT, PT_TDCX, td.tdr, TDX_PS_4K);
	expect_late_error(e.s, v->tdvpr, TDX_LIFECYCLE_STATE_INCORRECT, PT_TDVPR, td.tdr, TDX_PS_4K);
	struct tdx_module_args a = { .rcx = v->tdvpr };
	seamcall_ok(e.s, 0, TDH_VP_FLUSH, &a);
	struct tdx_module_args d = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	expect_late_error(e.s, v->tdcx[0], TDX_LIFECYCLE_STATE_INCORRECT, PT_TDCX, td.tdr, TDX_PS_4K);
	/* Nothing changed, no lock left: the TD still tears down. */
	assert_int_equal(tsim_page_type(&e, td.tdcs[0]), PT_TDCX);
	assert_int_equal(chldcnt(&e, td.tdr), n);
	assert_non_null(seam_obj_get(&e.s->mod, v->tdvpr));
	for (unsigned pkg = 0; pkg < e.n_pkgs; pkg++) {
		struct tdx_module_args w = { .rcx = 0 };
		seamcall_ok(e.s, tsim_pkg_first_lp(e.s, pkg), TDH_PHYMEM_CACHE_WB, &w);
	}
	struct tdx_module_args f = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_KEY_FREEID, &f);
	reclaim_all(&td);
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__tdr_not_teardown(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	uint64_t owner = owner_of(&e, td.tdr);
	expect_late_error(e.s, td.tdr, TDX_LIFECYCLE_STATE_INCORRECT, PT_TDR, owner, TDX_PS_4K);
	struct tdx_module_args d = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	expect_late_error(e.s, td.tdr, TDX_LIFECYCLE_STATE_INCORRECT, PT_TDR, owner, TDX_PS_4K);
	assert_int_equal(tsim_page_type(&e, td.tdr), PT_TDR);
	assert_non_null(seam_obj_get(&e.s->mod, td.tdr));
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__tdr_busy(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	torn_down_td(&e, &td);
	uint64_t n = chldcnt(&e, td.tdr);
	/* The second lock: the owner TDR, shared. */
	unsigned id = tsim_fault(e.s, TDX_OPERAND_BUSY, TDH_PHYMEM_PAGE_RECLAIM, -1, 2, 1);
	expect_late_error(e.s, td.tdcs[3], tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TDR),
			  PT_TDCX, td.tdr, TDX_PS_4K);
	assert_int_equal(tsim_fault_fired(e.s, id), 1);
	assert_int_equal(tsim_page_type(&e, td.tdcs[3]), PT_TDCX);
	assert_int_equal(chldcnt(&e, td.tdr), n);
	expect_reclaimed(&e, td.tdcs[3], PT_TDCX, td.tdr, TDX_PS_4K);
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__tdr_with_children(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	torn_down_td(&e, &td);
	uint64_t owner = owner_of(&e, td.tdr);
	expect_late_error(e.s, td.tdr, TDX_TD_ASSOCIATED_PAGES_EXIST, PT_TDR, owner, TDX_PS_4K);
	/* Down to the last child: still refused. */
	expect_reclaimed(&e, td.page[0].pa, PT_REG, td.tdr, TDX_PS_4K);
	for (unsigned i = 0; i < td.n_sept; i++)
		expect_reclaimed(&e, td.sept[i].pa, PT_EPT, td.tdr, TDX_PS_4K);
	for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++)
		expect_reclaimed(&e, td.vcpu[0].tdcx[i], PT_TDCX, td.tdr, TDX_PS_4K);
	expect_reclaimed(&e, td.vcpu[0].tdvpr, PT_TDVPR, td.tdr, TDX_PS_4K);
	for (unsigned i = 1; i < td.n_tdcs; i++)
		expect_reclaimed(&e, td.tdcs[i], PT_TDCX, td.tdr, TDX_PS_4K);
	assert_int_equal(chldcnt(&e, td.tdr), 1);
	expect_late_error(e.s, td.tdr, TDX_TD_ASSOCIATED_PAGES_EXIST, PT_TDR, owner, TDX_PS_4K);
	expect_reclaimed(&e, td.tdcs[0], PT_TDCX, td.tdr, TDX_PS_4K);
	assert_int_equal(chldcnt(&e, td.tdr), 0);
	expect_reclaimed(&e, td.tdr, PT_TDR, owner, TDX_PS_4K);
	assert_null(seam_obj_get(&e.s->mod, td.tdr));
	tsim_env_fini(&e);
}

/* A 2 MiB TD page: reclaimed whole (R8 = 1, 512 units off the child count);
 * a 4 KiB address inside it is OPERAND_INVALID with the page's outputs. */
static void test_tdh_phymem_page_reclaim__large_page(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 1);
	tsim_vcpu_add(&td, 0);
	uint64_t pa = tsim_page_aug(&td, 0x400000, 1);
	to_teardown(&td);
	expect_late_error(e.s, pa + 0x1000, ST_RCX(TDX_OPERAND_INVALID), PT_REG, td.tdr, TDX_PS_2M);
	expect_late_error(e.s, pa + 0x1FF000, ST_RCX(TDX_OPERAND_INVALID), PT_REG, td.tdr, TDX_PS_2M);
	uint64_t n = chldcnt(&e, td.tdr);
	expect_reclaimed(&e, pa, PT_REG, td.tdr, TDX_PS_2M);
	assert_int_equal(chldcnt(&e, td.tdr), n - 512);
	unsigned type, size;
	assert_int_equal(tdxsim_pamt_lookup(e.s, pa + 0x1000, &type, NULL, &size), TDXSIM_OK);
	assert_int_equal(type, PT_NDA);
	assert_int_equal(size, TDX_PS_4K);
	/* Each 4 KiB inside is a free page now. */
	expect_early_error(e.s, pa + 0x1000, ST_RCX(TDX_PAGE_METADATA_INCORRECT));
	td.n_pages = 0;
	reclaim_all(&td);
	tsim_env_fini(&e);
}

static void test_tdh_phymem_page_reclaim__child_pages(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	torn_down_td(&e, &td);
	uint64_t n = chldcnt(&e, td.tdr);
	expect_reclaimed(&e, td.page[0].pa, PT_REG, td.tdr, TDX_PS_4K);
	expect_reclaimed(&e, td.sept[td.n_sept - 1].pa, PT_EPT, td.tdr, TDX_PS_4K);
	expect_reclaimed(&e, td.vcpu[0].tdcx[4], PT_TDCX, td.tdr, TDX_PS_4K);
	assert_int_equal(chldcnt(&e, td.tdr), n - 3);
	/* The TDVPR: its vCPU structure goes with it. */
	assert_non_null(seam_obj_get(&e.s->mod, td.vcpu[0].tdvpr));
	expect_reclaimed(&e, td.vcpu[0].tdvpr, PT_TDVPR, td.tdr, TDX_PS_4K);
	assert_null(seam_obj_get(&e.s->mod, td.vcpu[0].tdvpr));
	assert_int_equal(chldcnt(&e, td.tdr), n - 4);
	tsim_env_fini(&e);
}

/* KVM's whole teardown (the fixture), the TDR last; every page NDA, the
 * TD structure gone, the KeyID and the pages usable for a new TD. */
static void test_tdh_phymem_page_reclaim__teardown(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_build(&e, &td, 0, 2);
	tsim_vcpu_add(&td, 0);
	tsim_vcpu_add(&td, 5);
	for (unsigned i = 0; i < 4; i++)
		tsim_page_add(&td, 0x100000 + i * 0x1000, NULL, true);
	tsim_td_finalize(&td);
	tsim_page_aug(&td, 0x800000, 0);
	uint64_t tdr = td.tdr, tdcs0 = td.tdcs[0];
	uint32_t hkid = td.hkid;
	tsim_td_teardown(&td);
	assert_null(seam_obj_get(&e.s->mod, tdr));
	assert_int_equal(tsim_page_type(&e, tdcs0), PT_NDA);
	assert_int_equal(tdxsim_check_invariants(e.s, 0), TDXSIM_OK);
	/* The TDR page and KeyID make a new TD. */
	struct tdx_module_args a = { .rcx = tdr, .rdx = hkid };
	seamcall_ok(e.s, 0, TDH_MNG_CREATE, &a);
	assert_int_equal(tsim_page_type(&e, tdr), PT_TDR);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_phymem_page_reclaim__misaligned),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__keyid_bits),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__above_max_pa),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__outside_tdmrs),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__page_busy),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__free_page),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__reserved_page),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__child_not_teardown),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__tdr_not_teardown),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__tdr_busy),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__tdr_with_children),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__large_page),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__child_pages),
		cmocka_unit_test(test_tdh_phymem_page_reclaim__teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
