/*
 * TDH.MEM.SEPT.ADD (3): tdx-abi.md 2.2, 6.3 row 10; check order and outputs
 * in seam/leaf/tdh_mem_sept_add.c. RCX = GPA + level of the non-leaf entry,
 * RDX = TDR (bit 0 ALLOW_EXISTING), R8 = new page; version 1 adds R9..R11
 * (L2 pages) and reports R8..R11.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define LEAF TDH_MEM_SEPT_ADD
#define LEAF_V1 (TDH_MEM_SEPT_ADD | (1ULL << 16))
#define ROW_PREFIX test_tdh_mem_sept_add
#define SEPT_MIN_LEVEL 1
#define SEPT_PAGE_R8
/* Fixtures, and the common rows test_tdh_mem_sept_add__<row> that main()
 * registers: the TDR, the TD state, the GPA and level, the tree lock and the
 * new page (R8). */
#include "sept_fixtures.h"

/* ---- SEPT.ADD ---- */

#define NL_MAPPED_ARCH 0x7ULL           /* architectural non-leaf: RWX only */

static void args(struct fx *f, struct tdx_module_args *a, bool setup)
{
	(void)setup;
	*a = (struct tdx_module_args){ .rcx = GPA | 3, .rdx = f->td.tdr, .r8 = tsim_page(&f->e) };
}

static uint64_t sept_add(struct fx *f, uint64_t fn, uint64_t gpa_lvl, uint64_t rdx, uint64_t page,
			 struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa_lvl, .rdx = rdx, .r8 = page };
	return call(f, fn, a);
}

/* Add the S-EPT pages for levels 3 .. lvl of GPA; returns the last one. */
static uint64_t map_down_to(struct fx *f, uint64_t gpa, unsigned lvl)
{
	uint64_t pa = 0;
	for (unsigned l = 3; l >= lvl; l--) {
		struct tdx_module_args a;
		pa = tsim_page(&f->e);
		uint64_t g = gpa & ~((4096ULL << (9 * l)) - 1);
		assert_tdx_status(TDX_SUCCESS, sept_add(f, LEAF, g | l, f->td.tdr, pa, &a));
	}
	return pa;
}

static void test_tdh_mem_sept_add__success_top_down(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	for (unsigned l = 3; l >= 1; l--) {
		uint64_t pa = tsim_page(&f.e), before = chldcnt(&f), e, info;
		uint64_t g = GPA & ~((4096ULL << (9 * l)) - 1);
		struct tdx_module_args a;
		assert_tdx_status(TDX_SUCCESS, sept_add(&f, LEAF, g | l, f.td.tdr, pa, &a));
		assert_int_equal(a.rcx, 0);
		assert_int_equal(a.rdx, 0);
		assert_int_equal(a.r8, pa);             /* version 0 leaves R8 alone */
		assert_int_equal(chldcnt(&f), before + 1);
		/* PAMT: PT_EPT owned by the TDR, 4K, BEPOCH 0. */
		struct tdx_module_args m = { .rcx = pa };
		seamcall_ok(f.e.s, 0, TDH_PHYMEM_PAGE_RDMD, &m);
		assert_int_equal(m.rcx, PT_EPT);
		assert_int_equal(m.rdx, f.td.tdr);
		assert_int_equal(m.r8, TDX_PS_4K);
		assert_int_equal(m.r9, 0);
		/* The entry is NL_MAPPED; the new table's entries are FREE. */
		sept_rd(&f, g | l, &e, &info);
		assert_int_equal(e, NL_MAPPED_ARCH);
		assert_int_equal(info, l | (0x84 << 8));
		sept_rd(&f, GPA | (l - 1), &e, &info);
		assert_int_equal(e, SVE);
		assert_int_equal(info, (l - 1) | (0 << 8));
		/* Initialised through the TD's KeyID: every entry reads FREE. */
		uint64_t ent[512];
		assert_int_equal(tdxsim_mem_read(f.e.s, pa, f.td.hkid, ent, sizeof(ent)), TDXSIM_OK);
		for (unsigned i = 0; i < 512; i++)
			assert_int_equal(sept_state(ent[i]), SEPT_FREE);
	}
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

/* Allowed after MR.FINALIZE as well. */
static void test_tdh_mem_sept_add__success_runnable(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_RUNNABLE);
	uint64_t before = chldcnt(&f);
	map_down_to(&f, GPA, 1);
	assert_int_equal(chldcnt(&f), before + 3);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

/* R8 bit 63 is ignored. */
static void test_tdh_mem_sept_add__r8_bit63_ignored(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	uint64_t pa = tsim_page(&f.e);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, sept_add(&f, LEAF, GPA | 3, f.td.tdr, pa | SVE, &a));
	assert_int_equal(tsim_page_type(&f.e, pa), PT_EPT);
	fx_fini(&f);
}

/* Version 1: R8 = 0 once its page is added, R9..R11 reported (0). */
static void test_tdh_mem_sept_add__v1_outputs(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	uint64_t pa = tsim_page(&f.e);
	struct tdx_module_args a = { .rcx = GPA | 3, .rdx = f.td.tdr, .r8 = pa, .r9 = 0, .r10 = 0,
				     .r11 = 0, .r12 = 0x1234 };
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF_V1, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10, 0);
	assert_int_equal(a.r11, 0);
	assert_int_equal(a.r12, 0x1234);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_EPT);
	fx_fini(&f);
}

/* Version 1 with R8 = 0: only checks that the entry already has a page. */
static void test_tdh_mem_sept_add__v1_null_r8_existing(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	map_down_to(&f, GPA, 3);
	uint64_t before = chldcnt(&f);
	struct tdx_module_args a = { .rcx = GPA | 3, .rdx = f.td.tdr, .r8 = 0 };
	assert_tdx_status(TDX_SUCCESS, call(&f, LEAF_V1, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	assert_int_equal(chldcnt(&f), before);
	fx_fini(&f);
}

/* ALLOW_EXISTING (RDX bit 0): an existing page is success, the new page is
 * not used; version 1 flags it with R8 bit 63. */
static void test_tdh_mem_sept_add__allow_existing(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	map_down_to(&f, GPA, 3);
	uint64_t before = chldcnt(&f), pa = tsim_page(&f.e);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, sept_add(&f, LEAF, GPA | 3, f.td.tdr | 1, pa, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, pa);
	assert_tdx_status(TDX_SUCCESS, sept_add(&f, LEAF_V1, GPA | 3, f.td.tdr | 1, pa, &a));
	assert_int_equal(a.r8, pa | SVE);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	assert_int_equal(chldcnt(&f), before);
	/* A FREE entry with ALLOW_EXISTING is an ordinary add. */
	assert_tdx_status(TDX_SUCCESS, sept_add(&f, LEAF_V1, GPA | 2, f.td.tdr | 1, pa, &a));
	assert_int_equal(a.r8, 0);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_EPT);
	fx_fini(&f);
}

static void test_tdh_mem_sept_add__rdx_reserved_bits(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rdx |= 1ULL << 1;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	a.rdx ^= (1ULL << 1) | (1ULL << 52);
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX));
	/* Version 1 reports its page operands even then. */
	uint64_t pa = a.r8;
	a.r8 |= SVE;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX), call(&f, LEAF_V1, &a));
	assert_int_equal(a.r8, pa);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	fx_fini(&f);
}

/* The parent level is missing: the walk stops at the FREE entry above. */
static void test_tdh_mem_sept_add__walk_failed(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.rcx = GPA | 1;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), SVE, 3, 0);
	map_down_to(&f, GPA, 3);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX), SVE, 2, 0);
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_sept_add__entry_busy(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	fail_lock(&f, 4);
	expect_ext(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), SVE, 3, 0);
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

/* The entry already points to an S-EPT page. */
static void test_tdh_mem_sept_add__entry_mapped(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	map_down_to(&f, GPA, 2);
	args(&f, &a, true);
	a.rcx = GPA | 2;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
		   NL_MAPPED_ARCH, 2, 0x84);
	assert_int_equal(tsim_page_type(&f.e, a.r8), PT_NDA);
	fx_fini(&f);
}

/* A blocked non-leaf entry is neither FREE nor NL_MAPPED. */
static void test_tdh_mem_sept_add__entry_blocked(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	map_down_to(&f, GPA, 2);
	struct tdx_module_args b = { .rcx = GPA | 2, .rdx = f.td.tdr };
	assert_tdx_status(TDX_SUCCESS, call(&f, TDH_MEM_RANGE_BLOCK, &b));
	args(&f, &a, true);
	a.rcx = GPA | 2;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
		   0, 2, 0x81);
	/* ALLOW_EXISTING does not cover a blocked entry either. */
	a.rdx |= 1;
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
		   0, 2, 0x81);
	fx_fini(&f);
}

/* The entry is a leaf (a 2M page). */
static void test_tdh_mem_sept_add__entry_leaf(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	uint64_t page = tsim_page_aug(&f.td, GPA, 1);
	args(&f, &a, true);
	a.rcx = GPA | 1;
	uint64_t e, info;
	sept_rd(&f, GPA | 1, &e, &info);
	assert_int_equal(info, 1 | (SEPT_PENDING << 8));
	assert_int_equal(e & SEPT_HPA_MASK, page);
	expect_ext(&f, &a, tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
		   e, 1, SEPT_PENDING);
	fx_fini(&f);
}

static void test_tdh_mem_sept_add__r8_null_v0(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.r8 = 0;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8));
	/* Bit 63 alone is a null page too. */
	a.r8 = SVE;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

/* Version 1, R8 = 0 and no page below the entry yet. */
static void test_tdh_mem_sept_add__r8_null_v1_free_entry(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	struct tdx_module_args a = { .rcx = GPA | 3, .rdx = f.td.tdr, .r8 = 0 };
	assert_tdx_status(tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
			  call(&f, LEAF_V1, &a));
	assert_int_equal(a.rcx, SVE);
	assert_int_equal(a.rdx, 3);
	assert_int_equal(a.r8, 0);
	fx_fini(&f);
}

/* The new page is not free: a TDCS page, or an S-EPT page in use. (The TDR
 * itself would be OPERAND_BUSY: the leaf holds its PAMT entry shared.) */
static void test_tdh_mem_sept_add__page_not_free(void **state)
{
	(void)state;
	struct fx f;
	struct tdx_module_args a;
	fx_init(&f, FX_INIT);
	args(&f, &a, true);
	a.r8 = f.td.tdcs[0];
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8));
	a.r8 = f.td.tdr;
	expect_err(&f, &a, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_R8));
	uint64_t used = map_down_to(&f, GPA, 3);
	a.rcx = GPA | 2;
	a.r8 = used;
	expect_err(&f, &a, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8));
	assert_int_equal(tsim_page_type(&f.e, used), PT_EPT);
	fx_fini(&f);
}

/* Version 1, an L2 S-EPT page for a VM the TD does not have. */
static void test_tdh_mem_sept_add__l2_page_no_vm(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, FX_INIT);
	uint64_t pa = tsim_page(&f.e), l2 = tsim_page(&f.e);
	struct tdx_module_args a = { .rcx = GPA | 3, .rdx = f.td.tdr, .r8 = pa, .r10 = l2 };
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R10), call(&f, LEAF_V1, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, pa);
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10, l2);
	assert_int_equal(a.r11, 0);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	assert_int_equal(tsim_page_type(&f.e, l2), PT_NDA);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_sept_add__tdr_keyid_bits),
		cmocka_unit_test(test_tdh_mem_sept_add__tdr_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_sept_add__tdr_busy),
		cmocka_unit_test(test_tdh_mem_sept_add__tdr_not_a_tdr),
		cmocka_unit_test(test_tdh_mem_sept_add__td_fatal),
		cmocka_unit_test(test_tdh_mem_sept_add__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mem_sept_add__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_sept_add__op_state_busy),
		cmocka_unit_test(test_tdh_mem_sept_add__op_state_uninitialized),
		cmocka_unit_test(test_tdh_mem_sept_add__level_below_range),
		cmocka_unit_test(test_tdh_mem_sept_add__level_above_range),
		cmocka_unit_test(test_tdh_mem_sept_add__gpa_reserved_bits),
		cmocka_unit_test(test_tdh_mem_sept_add__gpa_misaligned),
		cmocka_unit_test(test_tdh_mem_sept_add__gpa_shared_bit),
		cmocka_unit_test(test_tdh_mem_sept_add__gpa_above_gpaw),
		cmocka_unit_test(test_tdh_mem_sept_add__sept_tree_busy),
		cmocka_unit_test(test_tdh_mem_sept_add__success_top_down),
		cmocka_unit_test(test_tdh_mem_sept_add__success_runnable),
		cmocka_unit_test(test_tdh_mem_sept_add__r8_bit63_ignored),
		cmocka_unit_test(test_tdh_mem_sept_add__v1_outputs),
		cmocka_unit_test(test_tdh_mem_sept_add__v1_null_r8_existing),
		cmocka_unit_test(test_tdh_mem_sept_add__allow_existing),
		cmocka_unit_test(test_tdh_mem_sept_add__rdx_reserved_bits),
		cmocka_unit_test(test_tdh_mem_sept_add__walk_failed),
		cmocka_unit_test(test_tdh_mem_sept_add__entry_busy),
		cmocka_unit_test(test_tdh_mem_sept_add__entry_mapped),
		cmocka_unit_test(test_tdh_mem_sept_add__entry_blocked),
		cmocka_unit_test(test_tdh_mem_sept_add__entry_leaf),
		cmocka_unit_test(test_tdh_mem_sept_add__r8_null_v0),
		cmocka_unit_test(test_tdh_mem_sept_add__r8_null_v1_free_entry),
		cmocka_unit_test(test_tdh_mem_sept_add__page_invalid),
		cmocka_unit_test(test_tdh_mem_sept_add__page_outside_tdmrs),
		cmocka_unit_test(test_tdh_mem_sept_add__page_busy),
		cmocka_unit_test(test_tdh_mem_sept_add__page_not_free),
		cmocka_unit_test(test_tdh_mem_sept_add__l2_page_no_vm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
