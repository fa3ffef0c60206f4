/*
 * Static fixtures shared by the S-EPT leaf tests (test_tdh_mem_{sept_add,
 * sept_rd,sept_remove,range_block,range_unblock,track,page_promote,
 * page_demote}.c), and the error rows they all have in common: the TDR
 * operand, the TD state check and, for the leaves with a GPA + level operand,
 * that operand and the S-EPT tree lock (operand locks nth 1 TDR, 2 OP_STATE,
 * 3 SEPT_TREE).
 *
 * The test file defines before including:
 *   LEAF             the SEAMCALL number under test
 *   ROW_PREFIX       the prefix of its test names (test_tdh_mem_sept_add):
 *                    the rows are <prefix>__tdr_keyid_bits etc. (TSIM_ROW)
 *   SEPT_TDR_RCX     (optional) the TDR is RCX and there is no GPA operand
 *                    (MEM.TRACK); otherwise the TDR is RDX, the GPA + level RCX
 *   SEPT_MIN_LEVEL   (default 0) the lowest level RCX may name; with 1 the
 *                    rows level_below_range and gpa_misaligned exist
 *   SEPT_MAX_LEVEL   (default 3) the highest one (level_above_range)
 *   SEPT_WALK_FAILED (optional) row walk_failed: args() without setup stops
 *                    the walk at a FREE level-3 entry
 *   SEPT_NL_BLOCK    (optional) args() names an NL_MAPPED entry that must be
 *                    blocked while RUNNABLE (PAGE.PROMOTE, SEPT.REMOVE): row
 *                    not_blocked
 *   SEPT_PAGE_R8     (optional) R8 is a new S-EPT page, locked 5th
 *                    (SEPT.ADD, PAGE.DEMOTE): rows page_invalid,
 *                    page_outside_tdmrs and page_busy
 *   ERR_RCX(in), ERR_RDX(in)  (default 0) RCX / RDX after an error without
 *                    ext outputs
 * and defines args() afterwards (declared here).
 *
 * Include after <cmocka.h>.
 */
#ifndef SEPT_FIXTURES_H
#define SEPT_FIXTURES_H

#include "tsim_td.h"
#include "seam/sept.h"
#include "sim/sim_int.h"

#ifndef ERR_RCX
#define ERR_RCX(in) 0
#endif
#ifndef ERR_RDX
#define ERR_RDX(in) 0
#endif
#ifndef SEPT_MIN_LEVEL
#define SEPT_MIN_LEVEL 0
#endif
#ifndef SEPT_MAX_LEVEL
#define SEPT_MAX_LEVEL 3
#endif
#ifdef SEPT_TDR_RCX
#define SEPT_TDR rcx
#define SEPT_TDR_OP TDX_OPERAND_ID_RCX
#else
#define SEPT_TDR rdx
#define SEPT_TDR_OP TDX_OPERAND_ID_RDX
#endif

#define SVE (1ULL << 63)
#define GPA (1ULL << 39)                /* 512 GiB: one PML4 entry of its own */

struct fx {
	struct tsim_env e;
	struct tsim_td td;
};

/* How far the fixture TD gets: MNG.CREATE only, + the TDCS pages
 * (UNINITIALIZED), + MNG.INIT and one vCPU (INITIALIZED), + MR.FINALIZE. */
enum fx_kind { FX_CREATED, FX_UNINIT, FX_INIT, FX_RUNNABLE };

static inline void fx_init(struct fx *f, enum fx_kind k)
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

static inline void fx_fini(struct fx *f)
{
	tsim_env_fini(&f->e);
}

static inline struct seam_td *td_obj(struct fx *f)
{
	return tsim_td_obj(&f->td);
}

static inline uint64_t chldcnt(struct fx *f)
{
	return atomic_load(&td_obj(f)->chldcnt);
}

static inline uint64_t call(struct fx *f, uint64_t fn, struct tdx_module_args *a)
{
	return seamcall_raw(f->e.s, 0, fn, a);
}

/* The next call of the leaf fails its nth operand lock. */
static inline void fail_lock(struct fx *f, uint64_t nth)
{
	tsim_fault(f->e.s, TDX_OPERAND_BUSY, LEAF, -1, nth, 1);
}

/* An error without ext outputs: exact status, the module's zeroed outputs,
 * nothing changed in the TD's page count. */
static inline void expect_err(struct fx *f, const struct tdx_module_args *in, uint64_t status)
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
static inline void expect_ext(struct fx *f, const struct tdx_module_args *in, uint64_t status,
			      uint64_t entry, unsigned level, unsigned st)
{
	struct tdx_module_args a = *in;
	uint64_t before = chldcnt(f);
	assert_tdx_status(status, call(f, LEAF, &a));
	assert_int_equal(a.rcx, entry);
	assert_int_equal(a.rdx, level | (st << 8));
	assert_int_equal(chldcnt(f), before);
}

/* fn with RCX = rcx and RDX = the TDR (RANGE.BLOCK, SEPT.REMOVE, ...):
 * the status only. */
static inline uint64_t simple(struct fx *f, uint64_t fn, uint64_t rcx)
{
	struct tdx_module_args a = { .rcx = rcx, .rdx = f->td.tdr };
	return call(f, fn, &a);
}

/* SEPT.RD of an entry: its ext view. */
static inline void sept_rd(struct fx *f, uint64_t gpa_lvl, uint64_t *entry, uint64_t *info)
{
	struct tdx_module_args a = { .rcx = gpa_lvl, .rdx = f->td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_MEM_SEPT_RD, &a));
	*entry = a.rcx;
	*info = a.rdx;
}

/* MEM.TRACK: the TD epoch advances. */
static inline void track(struct fx *f)
{
	struct tdx_module_args t = { .rcx = f->td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(f, TDH_MEM_TRACK, &t));
}

static inline uint64_t epoch(struct fx *f)
{
	return atomic_load(&td_obj(f)->td_epoch);
}

/* ---- Common rows: TDR operand, TD state, GPA operand, tree lock ---- */


/* One common row: the fixture at kind, args() (with setup unless the TD is
 * too young for it), the change that breaks the call, the expected error. */
#define SEPT_ERR_ROW(row, kind, change, status)                        \
	static void TSIM_ROW(row)(void **state)                        \
	{                                                              \
		(void)state;                                           \
		struct fx f;                                           \
		struct tdx_module_args a;                              \
		fx_init(&f, kind);                                     \
		args(&f, &a, (kind) >= FX_INIT);                       \
		change;                                                \
		expect_err(&f, &a, status);                            \
		fx_fini(&f);                                           \
	}

SEPT_ERR_ROW(tdr_keyid_bits, FX_INIT, a.SEPT_TDR = tsim_keyed_pa(&f.e, f.td.tdr, f.td.hkid),
	     tdx_status_op(TDX_OPERAND_INVALID, SEPT_TDR_OP))
SEPT_ERR_ROW(tdr_outside_tdmrs, FX_INIT, a.SEPT_TDR = tsim_pa_outside(&f.e),
	     tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, SEPT_TDR_OP))
SEPT_ERR_ROW(tdr_busy, FX_INIT, fail_lock(&f, 1), tdx_status_op(TDX_OPERAND_BUSY, SEPT_TDR_OP))

/* A TDCS page, then a free page, as the TDR. */
static void TSIM_ROW(tdr_not_a_tdr)(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.SEPT_TDR = f.td.tdcs[0];
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, SEPT_TDR_OP));
	a.SEPT_TDR = tsim_page(&f.e);
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, SEPT_TDR_OP));
	fx_fini(&f);
}

SEPT_ERR_ROW(td_fatal, FX_INIT, atomic_store(&td_obj(&f)->fatal, 1), TDX_TD_FATAL)
SEPT_ERR_ROW(td_keys_not_configured, FX_INIT,
	     atomic_store(&td_obj(&f)->lifecycle, TD_HKID_ASSIGNED), TDX_TD_KEYS_NOT_CONFIGURED)
SEPT_ERR_ROW(tdcs_not_allocated, FX_CREATED, (void)0, TDX_TDCS_NOT_ALLOCATED)
SEPT_ERR_ROW(op_state_busy, FX_INIT, fail_lock(&f, 2),
	     tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE))
SEPT_ERR_ROW(op_state_uninitialized, FX_UNINIT, (void)0, TDX_OP_STATE_INCORRECT)

#ifndef SEPT_TDR_RCX

#define SEPT_GPA_INVALID tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX)
/* RCX with the GPA aligned to a level and that level. */
#define SEPT_AT_LEVEL(rcx, lvl) (((rcx) & ~7ULL & ~((4096ULL << (9 * (lvl))) - 1)) | (lvl))

#if SEPT_MIN_LEVEL > 0
SEPT_ERR_ROW(level_below_range, FX_INIT, a.rcx = SEPT_AT_LEVEL(a.rcx, SEPT_MIN_LEVEL - 1),
	     SEPT_GPA_INVALID)
#endif
SEPT_ERR_ROW(level_above_range, FX_INIT, a.rcx = SEPT_AT_LEVEL(a.rcx, SEPT_MAX_LEVEL + 1),
	     SEPT_GPA_INVALID)

/* Bits 11:3, then bit 52 (above every GPA width). */
static void TSIM_ROW(gpa_reserved_bits)(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx |= 1ULL << 3;
	expect_err(&f, &a, SEPT_GPA_INVALID);
	a.rcx ^= (1ULL << 3) | (1ULL << 52);
	expect_err(&f, &a, SEPT_GPA_INVALID);
	fx_fini(&f);
}

#if SEPT_MIN_LEVEL > 0
SEPT_ERR_ROW(gpa_misaligned, FX_INIT, a.rcx += 4096, SEPT_GPA_INVALID)
#endif
SEPT_ERR_ROW(gpa_shared_bit, FX_INIT, a.rcx |= 1ULL << 47, SEPT_GPA_INVALID)
SEPT_ERR_ROW(gpa_above_gpaw, FX_INIT, a.rcx |= 1ULL << 48, SEPT_GPA_INVALID)
SEPT_ERR_ROW(sept_tree_busy, FX_INIT, fail_lock(&f, 3),
	     tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_SEPT_TREE))

#ifdef SEPT_WALK_FAILED
static void TSIM_ROW(walk_failed)(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, false);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), SVE, 3, 0);
	fx_fini(&f);
}
#endif

#ifdef SEPT_NL_BLOCK
static void TSIM_ROW(not_blocked)(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_RUNNABLE);
	args(&f, &a, true);
	expect_ext(&f, &a, tdx_status_op(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX), 0x7,
		   (unsigned)(a.rcx & 7), SEPT_NL_MAPPED);
	fx_fini(&f);
}
#endif

#endif /* !SEPT_TDR_RCX */

#ifdef SEPT_PAGE_R8

/* Misaligned, then with KeyID bits. */
static void TSIM_ROW(page_invalid)(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	uint64_t pa = a.r8;
	a.r8 = pa + 0x800;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8));
	a.r8 = tsim_keyed_pa(&f.e, pa, f.td.hkid);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

SEPT_ERR_ROW(page_outside_tdmrs, FX_INIT, a.r8 = tsim_pa_outside(&f.e),
	     tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_R8))

/* The page's PAMT entry is locked: it stays free. */
static void TSIM_ROW(page_busy)(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 5);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_R8));
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

#endif /* SEPT_PAGE_R8 */

#endif
