/*
 * The error rows TDH.VP.RD and TDH.VP.WR have in common (test_tdh_vp_rd.c,
 * test_tdh_vp_wr.c): both check, in order, the TDVPR (RCX, explicit,
 * shared; lock nth 1), its owner TDR (OPERAND_BUSY + TDR; nth 2), the TD
 * state (op-state lock nth 3), the TDVPS pages and the association.
 *
 * The test file defines before including:
 *   LEAF         TDH_VP_RD or TDH_VP_WR
 *   ROW_PREFIX   the prefix of its test names: the rows are
 *                <prefix>__tdvpr_operand_invalid etc. (TSIM_ROW)
 * and defines afterwards (declared here):
 *   expect_md_err(t, lp, ver, tdvpr, status)  the leaf (version ver where it
 *                has versions) on a fixed element fails with status and the
 *                leaf's error outputs
 *   md_ok(t, lp, tdvpr)  the leaf on that element succeeds: the element's
 *                value (RD) or previous value (WR), 0 in a fresh vCPU
 *
 * Include after <cmocka.h>.
 */
#ifndef VP_MD_FIXTURES_H
#define VP_MD_FIXTURES_H

#include "vp_fixtures.h"

static void expect_md_err(struct vpt *t, unsigned lp, unsigned ver, uint64_t tdvpr,
			  uint64_t status);
static uint64_t md_ok(struct vpt *t, unsigned lp, uint64_t tdvpr);

/* Misaligned, then with KeyID bits; the element is unchanged. */
static void TSIM_ROW(tdvpr_operand_invalid)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_md_err(&t, 0, 0, tdvpr + 1, want);
	expect_md_err(&t, 0, 1, tsim_keyed_pa(&t.e, tdvpr, t.td.hkid), want);
	assert_int_equal(md_ok(&t, 0, tdvpr), 0);
	vpt_fini(&t);
}

static void TSIM_ROW(tdvpr_outside_tdmr)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	expect_md_err(&t, 0, 0, tsim_pa_outside(&t.e),
		      tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	vpt_fini(&t);
}

/* Nothing is left locked, nothing changed. */
static void TSIM_ROW(tdvpr_busy)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, LEAF, -1, 1, 1);
	expect_md_err(&t, 0, 1, tdvpr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	assert_int_equal(md_ok(&t, 0, tdvpr), 0);
	vpt_fini(&t);
}

/* The TDR, then a TDCS page, as the TDVPR. */
static void TSIM_ROW(tdvpr_not_a_tdvpr)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	expect_md_err(&t, 0, 0, t.td.tdr, want);
	expect_md_err(&t, 0, 0, t.td.tdcs[0], want);
	vpt_fini(&t);
}

static void TSIM_ROW(tdr_busy)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, LEAF, -1, 2, 1);
	expect_md_err(&t, 0, 0, tdvpr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TDR));
	vpt_fini(&t);
}

static void TSIM_ROW(td_fatal)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	atomic_store(&td_of(&t)->fatal, 1);
	expect_md_err(&t, 0, 1, tdvpr, TDX_TD_FATAL);
	atomic_store(&td_of(&t)->fatal, 0);
	vpt_fini(&t);
}

/* BLOCKED (VPFLUSHDONE). */
static void TSIM_ROW(keys_not_configured)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	assert_tdx_status(TDX_SUCCESS, vp_flush_raw(&t, 0, tdvpr));
	vpt_block(&t);
	expect_md_err(&t, 0, 0, tdvpr, TDX_TD_KEYS_NOT_CONFIGURED);
	vpt_fini(&t);
}

static void TSIM_ROW(op_state_busy)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 0, 0);
	tsim_fault(t.s, TDX_OPERAND_BUSY, LEAF, -1, 3, 1);
	expect_md_err(&t, 0, 0, tdvpr, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE));
	vpt_fini(&t);
}

/* No TDCX page yet, then 2 of 5. */
static void TSIM_ROW(tdcx_missing)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_create(&t, 0);
	expect_md_err(&t, 0, 0, tdvpr, TDX_TDCX_NUM_INCORRECT);
	vp_addcx(&t, 0, tdvpr, 2);
	expect_md_err(&t, 0, 1, tdvpr, TDX_TDCX_NUM_INCORRECT);
	vpt_fini(&t);
}

/* Bound to LP 1: refused on LP 0, served on LP 1. */
static void TSIM_ROW(vcpu_associated)(void **state)
{
	(void)state;
	struct vpt t;
	vpt_init(&t, 0, 4);
	uint64_t tdvpr = vp_ready(&t, 1, 0);
	expect_md_err(&t, 0, 1, tdvpr, TDX_VCPU_ASSOCIATED);
	assert_int_equal(md_ok(&t, 1, tdvpr), 0);
	vpt_fini(&t);
}

#endif
