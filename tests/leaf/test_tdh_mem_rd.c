/*
 * TDH.MEM.RD (12): 8-byte read of a debug TD's private memory through the
 * TD's KeyID; check order in seam/leaf/tdh_mem_rd.c. RCX = GPA (8-byte
 * aligned), RDX = TDR; out R8 = value. Error outputs and operand locks:
 * mem_rw_fixtures.h. EPT_ENTRY_STATE_INCORRECT cannot happen for MEM.RD without migration: the
 * walk only ends at present leaves (MAPPED, BLOCKEDW), both readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_RD
#define ROW_PREFIX test_tdh_mem_rd
/* Fixtures, and the common rows test_tdh_mem_rd__<row> (mem_rw_fixtures.h,
 * td_page_fixtures.h) that main() registers. */
#include "mem_rw_fixtures.h"

static uint64_t leaf_call(struct tsim_td *td, uint64_t gpa, struct tdx_module_args *a)
{
	return rd(td, gpa, a);
}

static void test_tdh_mem_rd__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	static const uint64_t offs[] = { 0, 8, 0x7F8, 0xFF8 };
	struct tdx_module_args a;
	for (unsigned i = 0; i < 4; i++) {
		assert_tdx_status(TDX_SUCCESS, rd(&f.td, GPA + offs[i], &a));
		assert_int_equal(a.r8, src_qword(&f, offs[i]));
		assert_int_equal(a.rcx, 0);
		assert_int_equal(a.rdx, 0);
	}
	/* RUNNABLE too. */
	tsim_td_finalize(&f.td);
	assert_tdx_status(TDX_SUCCESS, rd(&f.td, GPA + 0x100, &a));
	assert_int_equal(a.r8, src_qword(&f, 0x100));
	fx_fini(&f);
}

/* BLOCKEDW (write-blocked, still readable) is allowed for MEM.RD. */
static void test_tdh_mem_rd__success_blockedw(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	tsim_sept_force_state(&f.td, GPA, SEPT_BLOCKEDW, SEPT_W);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, rd(&f.td, GPA + 0x40, &a));
	assert_int_equal(a.r8, src_qword(&f, 0x40));
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_rd__success),
		cmocka_unit_test(test_tdh_mem_rd__success_blockedw),
		cmocka_unit_test(test_tdh_mem_rd__tdr_invalid),
		cmocka_unit_test(test_tdh_mem_rd__tdr_addr_range),
		cmocka_unit_test(test_tdh_mem_rd__tdr_busy),
		cmocka_unit_test(test_tdh_mem_rd__tdr_metadata),
		cmocka_unit_test(test_tdh_mem_rd__td_fatal),
		cmocka_unit_test(test_tdh_mem_rd__keys_not_configured),
		cmocka_unit_test(test_tdh_mem_rd__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_rd__op_state_busy),
		cmocka_unit_test(test_tdh_mem_rd__op_state_incorrect),
		cmocka_unit_test(test_tdh_mem_rd__td_non_debug),
		cmocka_unit_test(test_tdh_mem_rd__gpa_misaligned),
		cmocka_unit_test(test_tdh_mem_rd__gpa_invalid),
		cmocka_unit_test(test_tdh_mem_rd__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_rd__ept_entry_not_present),
		cmocka_unit_test(test_tdh_mem_rd__sept_entry_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
