/*
 * TDH.MEM.WR (14): 8-byte write of a debug TD's private memory through the
 * TD's KeyID; checks as TDH.MEM.RD (seam/leaf/tdh_mem_rd.c). RCX = GPA
 * (8-byte aligned), RDX = TDR, R8 = value; out R8 = the previous value.
 * Error outputs and operand locks: mem_rw_fixtures.h. Unlike MEM.RD the
 * entry must be MAPPED: a BLOCKEDW leaf (live export) is
 * EPT_ENTRY_STATE_INCORRECT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_WR
#define ROW_PREFIX test_tdh_mem_wr
/* Fixtures, and the common rows test_tdh_mem_wr__<row> (mem_rw_fixtures.h,
 * td_page_fixtures.h) that main() registers. */
#include "mem_rw_fixtures.h"

#define DATA    0x0123456789ABCDEFULL

static uint64_t wr(struct tsim_td *td, uint64_t gpa, uint64_t data, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa, .rdx = td->tdr, .r8 = data };
	return seamcall_raw(td->e->s, 0, TDH_MEM_WR, a);
}

static uint64_t leaf_call(struct tsim_td *td, uint64_t gpa, struct tdx_module_args *a)
{
	return wr(td, gpa, DATA, a);
}

static void test_tdh_mem_wr__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	struct tdx_module_args a;
	/* R8 returns the old value; the new one is in memory. */
	assert_tdx_status(TDX_SUCCESS, wr(&f.td, GPA + 0x28, DATA, &a));
	assert_int_equal(a.r8, src_qword(&f, 0x28));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_tdx_status(TDX_SUCCESS, rd(&f.td, GPA + 0x28, &a));
	assert_int_equal(a.r8, DATA);
	assert_tdx_status(TDX_SUCCESS, wr(&f.td, GPA + 0x28, ~DATA, &a));
	assert_int_equal(a.r8, DATA);
	/* Through the TD's KeyID the page holds the write, its neighbours are
	 * unchanged; RAM holds ciphertext, a shared KeyID reads zeros. */
	uint8_t buf[4096], want[4096], zero[4096] = { 0 };
	uint64_t v = ~DATA;
	memcpy(want, f.src, sizeof(want));
	memcpy(want + 0x28, &v, 8);
	assert_int_equal(tdxsim_mem_read(f.e.s, f.pa, f.td.hkid, buf, sizeof(buf)), TDXSIM_OK);
	assert_memory_equal(buf, want, sizeof(buf));
	assert_memory_not_equal(tdxsim_pa_to_ptr(f.e.s, f.pa), want, 64);
	assert_int_equal(tdxsim_mem_read(f.e.s, f.pa, 0, buf, sizeof(buf)), TDXSIM_OK);
	assert_memory_equal(buf, zero, sizeof(buf));
	/* RUNNABLE too. */
	tsim_td_finalize(&f.td);
	assert_tdx_status(TDX_SUCCESS, wr(&f.td, GPA + 0xFF8, 7, &a));
	assert_int_equal(a.r8, src_qword(&f, 0xFF8));
	fx_fini(&f);
}

/* BLOCKEDW (write-blocked) is readable but not writable. */
static void test_tdh_mem_wr__ept_entry_state_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	tsim_sept_force_state(&f.td, GPA, SEPT_BLOCKEDW, SEPT_W);
	expect_ext(&f.td, GPA + 0x20, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
		   f.pa | 0xF5ULL | SVE, TDX_PS_4K | (8 << 8));
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, rd(&f.td, GPA + 0x20, &a));
	assert_int_equal(a.r8, src_qword(&f, 0x20));
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_wr__success),
		cmocka_unit_test(test_tdh_mem_wr__tdr_invalid),
		cmocka_unit_test(test_tdh_mem_wr__tdr_addr_range),
		cmocka_unit_test(test_tdh_mem_wr__tdr_busy),
		cmocka_unit_test(test_tdh_mem_wr__tdr_metadata),
		cmocka_unit_test(test_tdh_mem_wr__td_fatal),
		cmocka_unit_test(test_tdh_mem_wr__keys_not_configured),
		cmocka_unit_test(test_tdh_mem_wr__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_wr__op_state_busy),
		cmocka_unit_test(test_tdh_mem_wr__op_state_incorrect),
		cmocka_unit_test(test_tdh_mem_wr__td_non_debug),
		cmocka_unit_test(test_tdh_mem_wr__gpa_misaligned),
		cmocka_unit_test(test_tdh_mem_wr__gpa_invalid),
		cmocka_unit_test(test_tdh_mem_wr__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_wr__ept_entry_not_present),
		cmocka_unit_test(test_tdh_mem_wr__sept_entry_busy),
		cmocka_unit_test(test_tdh_mem_wr__ept_entry_state_incorrect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
