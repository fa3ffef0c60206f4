/*
 * TDH.MEM.TRACK (38): tdx-abi.md 6.3; check order in
 * seam/leaf/tdh_mem_track.c. RCX = TDR. Advances the TD epoch under the
 * epoch lock (OPERAND_BUSY + TD_EPOCH) unless a vCPU still runs in the
 * previous epoch (PREVIOUS_TLB_EPOCH_BUSY). No outputs: registers are left
 * as they were.
 */
#define LEAF TDH_MEM_TRACK
#define ERR_RCX(in) ((in)->rcx)
#define ERR_RDX(in) ((in)->rdx)
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

/* ---- Common rows: TDR operand, TD state ---- */

static void test_tdh_mem_track__tdr_keyid_bits(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = tsim_keyed_pa(&f.e, f.td.tdr, f.td.hkid);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_track__tdr_outside_tdmrs(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = pa_outside(&f);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_track__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 1);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_track__tdr_not_a_tdr(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = f.td.tdcs[0];
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX));
	a.rcx = tsim_page(&f.e);
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

static void test_tdh_mem_track__td_fatal(void **state)
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

static void test_tdh_mem_track__td_keys_not_configured(void **state)
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

static void test_tdh_mem_track__tdcs_not_allocated(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_CREATED);
	args(&f, &a, false);
	expect_err(&f, &a, TDX_TDCS_NOT_ALLOCATED);
	fx_fini(&f);
}

static void test_tdh_mem_track__op_state_busy(void **state)
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

static void test_tdh_mem_track__op_state_uninitialized(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_UNINIT);
	args(&f, &a, false);
	expect_err(&f, &a, TDX_OP_STATE_INCORRECT);
	fx_fini(&f);
}

/* ---- MEM.TRACK ---- */

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	(void)setup;
	*a = (struct tdx_module_args){ .rcx = f->td.tdr, .rdx = 0x1234 };
}

static uint64_t epoch(struct fx *f)
{
	return atomic_load(&td_obj(f)->td_epoch);
}

static void track_ok(struct fx *f)
{
	struct tdx_module_args a;
	args(f, &a, true);
	assert_tdx_status(TDX_SUCCESS, call(f, LEAF, &a));
	assert_int_equal(a.rcx, f->td.tdr);
	assert_int_equal(a.rdx, 0x1234);
}

/* The epoch starts at 1 (MNG.INIT) and grows by one per TRACK, before and
 * after MR.FINALIZE. */
static void test_tdh_mem_track__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	assert_int_equal(epoch(&f), 1);
	track_ok(&f);
	assert_int_equal(epoch(&f), 2);
	tsim_td_finalize(&f.td);
	track_ok(&f);
	track_ok(&f);
	assert_int_equal(epoch(&f), 4);
	fx_fini(&f);
}

/* The epoch lock: a planned fault, and a real holder. */
static void test_tdh_mem_track__epoch_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	fail_lock(&f, 3);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH));
	assert_int_equal(epoch(&f), 1);
	struct seam_td *td = td_obj(&f);
	assert_true(seam_lock_try_sh(&td->epoch_lock));  /* as VP.ENTER holds it */
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH));
	seam_unlock_sh(&td->epoch_lock);
	assert_int_equal(epoch(&f), 1);
	track_ok(&f);
	fx_fini(&f);
}

/* A vCPU still counted in the previous epoch blocks the next one; vCPUs
 * in the current epoch do not. */
static void test_tdh_mem_track__previous_epoch_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	struct seam_td *td = td_obj(&f);
	atomic_fetch_add(&td->refcount[1], 1);          /* running in epoch 1 */
	track_ok(&f);                                   /* 1 -> 2: 1 is current */
	assert_int_equal(epoch(&f), 2);
	expect_err(&f, &a, TDX_PREVIOUS_TLB_EPOCH_BUSY);
	assert_int_equal(epoch(&f), 2);
	atomic_fetch_sub(&td->refcount[1], 1);          /* it exits */
	track_ok(&f);
	assert_int_equal(epoch(&f), 3);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_track__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_track__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_track__tdr_busy),
		cmocka_unit_test(test_tdh_mem_track__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_track__td_fatal),
		cmocka_unit_test(test_tdh_mem_track__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_track__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_track__op_state_busy),
		cmocka_unit_test(test_tdh_mem_track__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_track__success),
		cmocka_unit_test(test_tdh_mem_track__epoch_busy),
		cmocka_unit_test(test_tdh_mem_track__previous_epoch_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
