/*
 * TDH.MEM.PAGE.ADD (2): tdx-abi.md 2.2, 6.3 row 11; check order in
 * seam/leaf/tdh_mem_page_add.c. RCX = GPA (level 0), RDX = TDR, R8 = target,
 * R9 = shared source. RCX/RDX are zeroed on every error except the S-EPT
 * ones, which return the entry ("ext": RCX = architectural entry, RDX =
 * level | state << 8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define ROW_PREFIX test_tdh_mem_page_add
#define OWN_OP_STATE_ROW
/* Fixtures, and the rows test_tdh_mem_page_add__keys_not_configured and
 * __tdcs_not_allocated that main() registers. */
#include "td_page_fixtures.h"

/* Architectural view of a 4K MAPPED leaf as the module reports it: RWX,
 * WB, ignore-PAT, PS (part of the module's leaf-state encoding), SVE. */
#define EXT_MAPPED_4K(pa) ((pa) | 0xF7ULL | SVE)

static uint64_t src_pa(struct tsim_td *td)
{
	return td->shared + 0x1000;
}

static uint64_t page_add(struct tsim_td *td, uint64_t gpa, uint64_t pa, uint64_t src,
			 struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa, .rdx = td->tdr, .r8 = pa, .r9 = src };
	return seamcall_raw(td->e->s, 0, TDH_MEM_PAGE_ADD, a);
}

/* A non-S-EPT error: exact status, RCX = RDX = 0, nothing added. */
static void expect_err(struct tsim_td *td, uint64_t gpa, uint64_t pa, uint64_t src,
		       uint64_t status)
{
	struct tdx_module_args a;
	uint64_t before = tsim_td_obj(td) ? chldcnt(td) : 0;
	assert_tdx_status(status, page_add(td, gpa, pa, src, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	if (tsim_td_obj(td))
		assert_int_equal(chldcnt(td), before);
}

static void expect_early_err(struct fx *f, uint64_t status)
{
	expect_err(&f->td, GPA, tsim_page(&f->e), src_pa(&f->td), status);
}

/* A fresh target page and the S-EPT mapped down to the 4K table for GPA. */
static uint64_t prep(struct tsim_td *td, uint64_t gpa)
{
	tsim_sept_map(td, gpa, 0);
	return tsim_page(td->e);
}

static void test_tdh_mem_page_add__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	uint64_t before = chldcnt(&f.td);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, page_add(&f.td, GPA, pa, src_pa(&f.td), &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(chldcnt(&f.td), before + 1);
	/* PAMT: PT_REG, owned by the TDR, 4K, BEPOCH 0. */
	struct tdx_module_args m = { .rcx = pa };
	seamcall_ok(f.e.s, 0, TDH_PHYMEM_PAGE_RDMD, &m);
	assert_int_equal(m.rcx, PT_REG);
	assert_int_equal(m.rdx, f.td.tdr);
	assert_int_equal(m.r8, TDX_PS_4K);
	assert_int_equal(m.r9, 0);
	/* The entry is now MAPPED to pa: a second ADD reports it. */
	uint64_t pa2 = tsim_page(&f.e);
	assert_tdx_status(tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
			  page_add(&f.td, GPA, pa2, src_pa(&f.td), &a));
	assert_int_equal(a.rcx, EXT_MAPPED_4K(pa));
	assert_int_equal(a.rdx, TDX_PS_4K | (4 << 8));
	assert_int_equal(tsim_page_type(&f.e, pa2), PT_NDA);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	fx_fini(&f);
}

/* The copy goes through the TD's KeyID: RAM holds ciphertext, a shared
 * KeyID reads zeros (TD-owned lines), the TD's KeyID reads the source. */
static void test_tdh_mem_page_add__encrypted_copy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint8_t src[4096], buf[4096], zero[4096] = { 0 };
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(tdxsim_mem_write(f.e.s, src_pa(&f.td), 0, src, sizeof(src)), TDXSIM_OK);
	uint64_t pa = prep(&f.td, GPA);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, page_add(&f.td, GPA, pa, src_pa(&f.td), &a));
	const uint8_t *raw = tdxsim_pa_to_ptr(f.e.s, pa);
	assert_non_null(raw);
	for (unsigned off = 0; off < 4096; off += 64)
		assert_memory_not_equal(raw + off, src + off, 64);
	assert_int_equal(tdxsim_mem_read(f.e.s, pa, 0, buf, sizeof(buf)), TDXSIM_OK);
	assert_memory_equal(buf, zero, sizeof(buf));
	assert_int_equal(tdxsim_mem_read(f.e.s, pa, f.td.hkid, buf, sizeof(buf)), TDXSIM_OK);
	assert_memory_equal(buf, src, sizeof(buf));
	/* The source is left as it was. */
	assert_int_equal(tdxsim_mem_read(f.e.s, src_pa(&f.td), 0, buf, sizeof(buf)), TDXSIM_OK);
	assert_memory_equal(buf, src, sizeof(buf));
	fx_fini(&f);
}

static void test_tdh_mem_page_add__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	uint64_t tdr = f.td.tdr;
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	f.td.tdr = tdr + 8;                                     /* misaligned */
	expect_err(&f.td, GPA, pa, src_pa(&f.td), want);
	f.td.tdr = tsim_keyed_pa(&f.e, tdr, f.td.hkid);         /* KeyID bits */
	expect_err(&f.td, GPA, pa, src_pa(&f.td), want);
	f.td.tdr = tdr;
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_add__tdr_addr_range(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	f.td.tdr = 1ULL << (f.e.keyid_shift - 1);                /* no DRAM, no TDMR */
	expect_err(&f.td, GPA, pa, src_pa(&f.td),
		   tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mem_page_add__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_ADD, -1, 1, 1);
	expect_err(&f.td, GPA, pa, src_pa(&f.td),
		   tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	/* Nothing was left locked: the retry succeeds. */
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, page_add(&f.td, GPA, pa, src_pa(&f.td), &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_add__tdr_metadata(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	uint64_t tdr = f.td.tdr;
	f.td.tdr = f.td.tdcs[0];                                /* PT_TDCX */
	expect_err(&f.td, GPA, pa, src_pa(&f.td),
		   tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	f.td.tdr = tsim_page(&f.e);                             /* PT_NDA */
	expect_err(&f.td, GPA, pa, src_pa(&f.td),
		   tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mem_page_add__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 1);                 /* test-only route */
	expect_err(&f.td, GPA, pa, src_pa(&f.td), TDX_TD_FATAL);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 0);
	fx_fini(&f);
}

static void test_tdh_mem_page_add__op_state_incorrect(void **state)
{
	(void)state;
	expect_uninit_err();
	/* RUNNABLE: after MR.FINALIZE. */
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	tsim_td_finalize(&f.td);
	expect_err(&f.td, GPA, pa, src_pa(&f.td), TDX_OP_STATE_INCORRECT);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_add__gpa_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, GPA | 1, pa, src_pa(&f.td), want);            /* level 1 */
	expect_err(&f.td, 0x200000 | 1, pa, src_pa(&f.td), want);       /* level 1, aligned */
	expect_err(&f.td, GPA | 0x800, pa, src_pa(&f.td), want);         /* bits 11:3 */
	expect_err(&f.td, GPA | (1ULL << 47), pa, src_pa(&f.td), want);  /* shared bit */
	expect_err(&f.td, GPA | (1ULL << 48), pa, src_pa(&f.td), want);  /* above GPAW 48 */
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_add__ept_walk_failed(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page(&f.e);
	struct tdx_module_args a;
	/* No S-EPT below the root: the walk stops at the FREE PML4E. */
	assert_tdx_status(tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX),
			  page_add(&f.td, GPA, pa, src_pa(&f.td), &a));
	assert_int_equal(a.rcx, SVE);
	assert_int_equal(a.rdx, 3);
	/* PDPT mapped, no page table: it stops at the FREE PDE. */
	tsim_sept_map(&f.td, GPA, 1);
	assert_tdx_status(tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX),
			  page_add(&f.td, GPA, pa, src_pa(&f.td), &a));
	assert_int_equal(a.rcx, SVE);
	assert_int_equal(a.rdx, 1);
	/* A 2M PENDING leaf: the walk to level 0 stops at it (WB, ignore-PAT,
	 * PS, SVE; no permissions). */
	uint64_t pa2m = tsim_page_aug(&f.td, 0x400000, 1);
	assert_tdx_status(tdx_status_op(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX),
			  page_add(&f.td, 0x400000 + 0x3000, pa, src_pa(&f.td), &a));
	assert_int_equal(a.rcx, pa2m | 0xF0ULL | SVE);
	assert_int_equal(a.rdx, TDX_PS_2M | (2 << 8));
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	fx_fini(&f);
}

static void test_tdh_mem_page_add__ept_entry_state_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page_add(&f.td, GPA, NULL, false);
	uint64_t pa2 = tsim_page(&f.e);
	uint64_t before = chldcnt(&f.td);
	struct tdx_module_args a;
	assert_tdx_status(tdx_status_op(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX),
			  page_add(&f.td, GPA, pa2, src_pa(&f.td), &a));
	assert_int_equal(a.rcx, EXT_MAPPED_4K(pa));
	assert_int_equal(a.rdx, TDX_PS_4K | (4 << 8));
	assert_int_equal(chldcnt(&f.td), before);
	fx_fini(&f);
}

static void test_tdh_mem_page_add__source_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R9);
	expect_err(&f.td, GPA, pa, src_pa(&f.td) + 0x40, want);                    /* misaligned */
	expect_err(&f.td, GPA, pa, tsim_keyed_pa(&f.e, src_pa(&f.td), f.td.hkid), want); /* private */
	expect_err(&f.td, GPA, pa, 1ULL << 52, want);                              /* >= 2^52 */
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	/* The entry is still FREE. */
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, page_add(&f.td, GPA, pa, src_pa(&f.td), &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_add__target_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);
	expect_err(&f.td, GPA, pa + 0x800, src_pa(&f.td), want);
	expect_err(&f.td, GPA, tsim_keyed_pa(&f.e, pa, f.td.hkid), src_pa(&f.td), want);
	fx_fini(&f);
}

static void test_tdh_mem_page_add__target_addr_range(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)prep(&f.td, GPA);
	expect_err(&f.td, GPA, 1ULL << (f.e.keyid_shift - 1), src_pa(&f.td),
		   tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_R8));
	fx_fini(&f);
}

static void test_tdh_mem_page_add__target_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = prep(&f.td, GPA);
	/* Operand locks in order: TDR, target page. */
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_PAGE_ADD, -1, 2, 1);
	expect_err(&f.td, GPA, pa, src_pa(&f.td),
		   tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_R8));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	assert_int_equal(tsim_page_type(&f.e, pa), PT_NDA);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, page_add(&f.td, GPA, pa, src_pa(&f.td), &a));
	fx_fini(&f);
}

static void test_tdh_mem_page_add__target_metadata(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	(void)prep(&f.td, GPA);
	uint64_t want = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_R8);
	expect_err(&f.td, GPA, f.td.tdcs[2], src_pa(&f.td), want);              /* PT_TDCX */
	uint64_t other_tdr = f.td.tdr;
	struct tsim_td other;
	tsim_td_create(&f.e, &other);
	expect_err(&f.td, GPA, other.tdr, src_pa(&f.td), want);                 /* PT_TDR */
	/* This TD's own TDR is held exclusively by the leaf itself: the
	 * target's PAMT lock fails first, as on the module. */
	expect_err(&f.td, GPA, other_tdr, src_pa(&f.td),
		   tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_R8));
	uint64_t added = tsim_page_add(&f.td, 0x200000, NULL, false);
	expect_err(&f.td, GPA, added, src_pa(&f.td), want);                     /* PT_REG */
	uint64_t pa2m = tsim_page_aug(&f.td, 0x400000, 1);
	expect_err(&f.td, GPA, pa2m + 0x5000, src_pa(&f.td), want);             /* in a 2M page */
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mem_page_add__success),
		cmocka_unit_test(test_tdh_mem_page_add__encrypted_copy),
		cmocka_unit_test(test_tdh_mem_page_add__tdr_invalid),
		cmocka_unit_test(test_tdh_mem_page_add__tdr_addr_range),
		cmocka_unit_test(test_tdh_mem_page_add__tdr_busy),
		cmocka_unit_test(test_tdh_mem_page_add__tdr_metadata),
		cmocka_unit_test(test_tdh_mem_page_add__td_fatal),
		cmocka_unit_test(test_tdh_mem_page_add__keys_not_configured),
		cmocka_unit_test(test_tdh_mem_page_add__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mem_page_add__op_state_incorrect),
		cmocka_unit_test(test_tdh_mem_page_add__gpa_invalid),
		cmocka_unit_test(test_tdh_mem_page_add__ept_walk_failed),
		cmocka_unit_test(test_tdh_mem_page_add__ept_entry_state_incorrect),
		cmocka_unit_test(test_tdh_mem_page_add__source_invalid),
		cmocka_unit_test(test_tdh_mem_page_add__target_invalid),
		cmocka_unit_test(test_tdh_mem_page_add__target_addr_range),
		cmocka_unit_test(test_tdh_mem_page_add__target_busy),
		cmocka_unit_test(test_tdh_mem_page_add__target_metadata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
