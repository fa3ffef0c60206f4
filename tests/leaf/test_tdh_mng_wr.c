/*
 * TDH.MNG.WR (13): tdx-abi.md 4.4, 4.6 (write-mask rule); check order in
 * seam/leaf/tdh_mng_wr.c, field rules in seam/metadata_td.h.
 * RCX = TDR, RDX = field id, R8 = value, R9 = mask -> R8 = old value (0 on
 * error). On a production TD no modelled TD field is host-writable; a debug
 * TD's host may write NOTIFY_ENABLES bit 0.
 * Operand locks in order (fault plan nth): TDR 1, OP_STATE 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "td_fixtures.h"
#include "seam/metadata_td.h"

static uint64_t wr_raw(struct tsim_td *td, uint64_t tdr, uint64_t field, uint64_t val,
		       uint64_t mask, uint64_t *old)
{
	struct tdx_module_args a = { .rcx = tdr, .rdx = field, .r8 = val, .r9 = mask, .r10 = 0x10 };
	uint64_t st = seamcall_raw(td->e->s, 0, TDH_MNG_WR, &a);
	assert_int_equal(a.rcx, tdr);
	assert_int_equal(a.rdx, field);
	assert_int_equal(a.r9, mask);
	assert_int_equal(a.r10, 0x10);
	*old = a.r8;
	return st;
}

static void expect_err(struct tsim_td *td, uint64_t tdr, uint64_t field, uint64_t val,
		       uint64_t mask, uint64_t status)
{
	uint64_t old;
	assert_tdx_status(status, wr_raw(td, tdr, field, val, mask, &old));
	assert_int_equal(old, 0);
}

static uint64_t rd(struct tsim_td *td, uint64_t field)
{
	struct tdx_module_args a = { .rcx = td->tdr, .rdx = field };
	seamcall_ok(td->e->s, 0, TDH_MNG_RD, &a);
	return a.r8;
}

static void test_tdh_mng_wr__notify_enables_debug(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG);
	uint64_t old = 99;
	assert_tdx_status(TDX_SUCCESS, wr_raw(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1, &old));
	assert_int_equal(old, 0);
	assert_int_equal(rd(&f.td, MD_TD_NOTIFY_ENABLES), 1);
	assert_int_equal(tsim_td_obj(&f.td)->notify_enables, 1);
	/* An all-ones mask is fine while the other bits keep their value. */
	assert_tdx_status(TDX_SUCCESS, wr_raw(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 0, ~0ULL, &old));
	assert_int_equal(old, 1);
	assert_int_equal(rd(&f.td, MD_TD_NOTIFY_ENABLES), 0);
	/* KVM-style short id. */
	assert_tdx_status(TDX_SUCCESS, wr_raw(&f.td, f.td.tdr, 0x9100000000000010ULL, 1, ~0ULL, &old));
	assert_int_equal(old, 0);
	assert_int_equal(rd(&f.td, MD_TD_NOTIFY_ENABLES), 1);
	fx_fini(&f);
}

static void test_tdh_mng_wr__not_writable(void **state)
{
	(void)state;
	struct fx f, d;
	fx_build(&f, 0);
	uint64_t nw = TDX_METADATA_FIELD_NOT_WRITABLE;
	expect_err(&f.td, f.td.tdr, MD_TD_ATTRIBUTES, 0, ~0ULL, nw);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1, nw);    /* host of a production TD */
	expect_err(&f.td, f.td.tdr, MD_TD_TD_CTLS, 1, 1, nw);
	expect_err(&f.td, f.td.tdr, MD_TD_HKID, 5, 0xFFFF, nw);
	expect_err(&f.td, f.td.tdr, MD_TD_MRTD, 5, ~0ULL, nw);
	expect_err(&f.td, f.td.tdr, MD_TD_CPUID_VALUES | md_td_cpuid_code(0, MD_CPUID_SUBLEAF_NA, 0),
		   0, ~0ULL, nw);
	assert_int_equal(tsim_td_obj(&f.td)->notify_enables, 0);
	fx_fini(&f);
	fx_build(&d, TDX_TD_ATTR_DEBUG);
	expect_err(&d.td, d.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 0, nw);    /* empty mask */
	expect_err(&d.td, d.td.tdr, MD_TD_NOTIFY_ENABLES, 2, 2, nw);    /* only a read-only bit */
	expect_err(&d.td, d.td.tdr, MD_TD_TD_CTLS, 1, 1, nw);           /* guest-owned */
	expect_err(&d.td, d.td.tdr, MD_TD_ATTRIBUTES, 0, ~0ULL, nw);
	assert_int_equal(tsim_td_obj(&d.td)->notify_enables, 0);
	tsim_env_fini(&d.e);
}

static void test_tdh_mng_wr__value_not_valid(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG);
	uint64_t nv = TDX_METADATA_FIELD_VALUE_NOT_VALID;
	/* Bit 1 is in the mask but not writable, and would change. */
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 3, 3, nv);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1ULL << 63, ~0ULL, nv);
	assert_int_equal(tsim_td_obj(&f.td)->notify_enables, 0);
	/* Bits outside the mask may hold anything. */
	uint64_t old;
	assert_tdx_status(TDX_SUCCESS, wr_raw(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, ~0ULL, 1, &old));
	assert_int_equal(tsim_td_obj(&f.td)->notify_enables, 1);
	fx_fini(&f);
}

static void test_tdh_mng_wr__field_id_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG);
	uint64_t inc = TDX_METADATA_FIELD_ID_INCORRECT;
	expect_err(&f.td, f.td.tdr, 0x9110000300000011ULL, 1, ~0ULL, inc);   /* HP_LOCK_TIMEOUT: not modelled */
	expect_err(&f.td, f.td.tdr, 0x9110000300000030ULL, 1, ~0ULL, inc);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES | (1ULL << 24), 1, 1, inc);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES | (1ULL << 34), 1, 1, inc);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES | (1ULL << 62), 1, 1, inc);
	assert_int_equal(tsim_td_obj(&f.td)->notify_enables, 0);
	fx_fini(&f);
}

static void test_tdh_mng_wr__op_state_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_init_early(&f, FX_UNINIT);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1, TDX_OP_STATE_INCORRECT);
	fx_fini(&f);
}

static void test_tdh_mng_wr__tdcs_not_allocated(void **state)
{
	(void)state;
	struct fx f;
	fx_init_early(&f, FX_CREATED);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1, TDX_TDCS_NOT_ALLOCATED);
	fx_fini(&f);
}

static void test_tdh_mng_wr__td_keys_not_configured(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG);
	struct tdx_module_args d = { .rcx = f.td.tdr };
	seamcall_ok(f.e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1, TDX_TD_KEYS_NOT_CONFIGURED);
	fx_fini(&f);
}

static void test_tdh_mng_wr__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 1);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1, TDX_TD_FATAL);
	fx_fini(&f);
}

static void test_tdh_mng_wr__busy(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG);
	unsigned a = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MNG_WR, -1, 1, 1);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1,
		   tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	unsigned b = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MNG_WR, -1, 2, 1);
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1,
		   tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE));
	assert_int_equal(tsim_fault_fired(f.e.s, a), 1);
	assert_int_equal(tsim_fault_fired(f.e.s, b), 1);
	assert_int_equal(tsim_td_obj(&f.td)->notify_enables, 0);
	uint64_t old;
	assert_tdx_status(TDX_SUCCESS, wr_raw(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, 1, 1, &old));
	fx_fini(&f);
}

static void test_tdh_mng_wr__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG);
	expect_err(&f.td, f.td.tdr + 4, MD_TD_NOTIFY_ENABLES, 1, 1,
		   tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_err(&f.td, 3ULL << 30, MD_TD_NOTIFY_ENABLES, 1, 1,
		   tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	expect_err(&f.td, f.td.tdcs[2], MD_TD_NOTIFY_ENABLES, 1, 1,
		   tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX));
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_wr__notify_enables_debug),
		cmocka_unit_test(test_tdh_mng_wr__not_writable),
		cmocka_unit_test(test_tdh_mng_wr__value_not_valid),
		cmocka_unit_test(test_tdh_mng_wr__field_id_incorrect),
		cmocka_unit_test(test_tdh_mng_wr__op_state_incorrect),
		cmocka_unit_test(test_tdh_mng_wr__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mng_wr__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mng_wr__td_fatal),
		cmocka_unit_test(test_tdh_mng_wr__busy),
		cmocka_unit_test(test_tdh_mng_wr__tdr_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
