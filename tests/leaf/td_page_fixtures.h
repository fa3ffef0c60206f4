/*
 * Shared by the tests of the TD memory leaves that take a TDR and issue
 * against an INITIALIZED TD: PAGE.ADD, PAGE.AUG, PAGE.REMOVE, MEM.RD/WR
 * (through mem_rw_fixtures.h), MR.EXTEND and MR.FINALIZE. The fixtures of
 * td_fixtures.h, GPA constants, and the leaves' common rows for a TD short
 * of INITIALIZED (keys_not_configured, tdcs_not_allocated,
 * op_state_incorrect).
 *
 * The test file defines before including:
 *   ROW_PREFIX       the prefix of its test names: the rows are
 *                    <prefix>__keys_not_configured etc. (TSIM_ROW)
 *   OWN_OP_STATE_ROW (optional) the file has its own op_state_incorrect row
 *                    (checking more states; it calls expect_uninit_err())
 * and defines expect_early_err() afterwards (declared here).
 *
 * Include after <cmocka.h>.
 */
#ifndef TD_PAGE_FIXTURES_H
#define TD_PAGE_FIXTURES_H

#include "td_fixtures.h"
#include "seam/sept.h"

#define GPA     0x100000ULL
#define GPA_2M  0x400000ULL
#define SVE     (1ULL << 63)
/* The module's architectural view of leaves: PENDING = WB, ignore-PAT, PS
 * (part of its leaf-state encoding), SVE; MAPPED adds RWX. */
#define EXT_PENDING(pa) ((pa) | 0xF0ULL | SVE)
#define EXT_MAPPED(pa)  ((pa) | 0xF7ULL | SVE)

/* PHYMEM.PAGE.RDMD of pa. */
static inline void rdmd(struct tsim_env *e, uint64_t pa, struct tdx_module_args *m)
{
	*m = (struct tdx_module_args){ .rcx = pa };
	seamcall_ok(e->s, 0, TDH_PHYMEM_PAGE_RDMD, m);
}

/* The leaf under test on f's TD (operands otherwise valid, the TD not
 * INITIALIZED): status and the leaf's error outputs. */
static void expect_early_err(struct fx *f, uint64_t status);

static void TSIM_ROW(keys_not_configured)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_early(&f, FX_NOKEY);
	expect_early_err(&f, TDX_TD_KEYS_NOT_CONFIGURED);
	fx_fini(&f);
}

static void TSIM_ROW(tdcs_not_allocated)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_early(&f, FX_CREATED);
	expect_early_err(&f, TDX_TDCS_NOT_ALLOCATED);
	fx_fini(&f);
}

/* OP_STATE UNINITIALIZED (TDCS added, no MNG.INIT). */
static inline void expect_uninit_err(void)
{
	struct fx f;
	fx_init_early(&f, FX_UNINIT);
	expect_early_err(&f, TDX_OP_STATE_INCORRECT);
	fx_fini(&f);
}

#ifndef OWN_OP_STATE_ROW
static void TSIM_ROW(op_state_incorrect)(void **state)
{
	(void)state;
	expect_uninit_err();
}
#endif

#endif
