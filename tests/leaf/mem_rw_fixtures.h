/*
 * Static fixtures shared by the TDH.MEM.RD and TDH.MEM.WR tests
 * (test_tdh_mem_rd.c, test_tdh_mem_wr.c), and the error rows the two leaves
 * have in common (they run the same checks: seam/leaf/tdh_mem_rd.c), on
 * top of td_page_fixtures.h.
 * RCX, RDX and R8 are zeroed on every error; the S-EPT errors put the entry
 * in RCX/RDX ("ext"). Operand locks in order (fault plan nth): TDR 1,
 * OP_STATE 2, SEPT_TREE 3, S-EPT entry 4.
 *
 * The test file defines before including:
 *   LEAF          TDH_MEM_RD or TDH_MEM_WR
 *   ROW_PREFIX    the prefix of its test names: the rows are
 *                 <prefix>__tdr_invalid etc. (TSIM_ROW), with those of
 *                 td_page_fixtures.h
 * and defines leaf_call() afterwards (declared here).
 *
 * Include after <cmocka.h>.
 */
#ifndef MEM_RW_FIXTURES_H
#define MEM_RW_FIXTURES_H

#include "td_page_fixtures.h"

#define SENT    0x5A5A5A5A5A5A5A5AULL

/* A TD with attrs (INITIALIZED, one vCPU) and a patterned page at GPA. */
static inline void fx_init_page(struct fx *f, uint64_t attrs)
{
	fx_init_attr(f, attrs);
	for (unsigned i = 0; i < sizeof(f->src); i++)
		f->src[i] = (uint8_t)(i * 13 + 5);
	f->pa = tsim_page_add(&f->td, GPA, f->src, false);
}

/* The same with a debug TD. */
static inline void fx_init_debug(struct fx *f)
{
	fx_init_page(f, TDX_TD_ATTR_DEBUG);
}

/* The 8 bytes of the page's initial content at off. */
static inline uint64_t src_qword(const struct fx *f, uint64_t off)
{
	uint64_t v;
	memcpy(&v, f->src + off, 8);
	return v;
}

/* MEM.RD of gpa (R8 in: a sentinel the leaf must overwrite). */
static inline uint64_t rd(struct tsim_td *td, uint64_t gpa, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa, .rdx = td->tdr, .r8 = SENT };
	return seamcall_raw(td->e->s, 0, TDH_MEM_RD, a);
}

/* The leaf under test at gpa (MEM.WR with a fixed value): success returns
 * the value at gpa in R8 (MEM.WR: the one before the write). */
static uint64_t leaf_call(struct tsim_td *td, uint64_t gpa, struct tdx_module_args *a);

static inline void expect_err(struct tsim_td *td, uint64_t gpa, uint64_t status)
{
	struct tdx_module_args a;
	assert_tdx_status(status, leaf_call(td, gpa, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
}

static inline void expect_ext(struct tsim_td *td, uint64_t gpa, uint64_t status, uint64_t rcx,
			      uint64_t rdx)
{
	struct tdx_module_args a;
	assert_tdx_status(status, leaf_call(td, gpa, &a));
	assert_int_equal(a.rcx, rcx);
	assert_int_equal(a.rdx, rdx);
	assert_int_equal(a.r8, 0);
}

static void expect_early_err(struct fx *f, uint64_t status)
{
	expect_err(&f->td, GPA, status);
}

/* ---- Common rows ---- */

static void TSIM_ROW(tdr_invalid)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	uint64_t tdr = f.td.tdr;
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	f.td.tdr = tdr + 0x800;
	expect_err(&f.td, GPA, want);
	f.td.tdr = tsim_keyed_pa(&f.e, tdr, f.td.hkid);
	expect_err(&f.td, GPA, want);
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void TSIM_ROW(tdr_addr_range)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	f.td.tdr = 1ULL << (f.e.keyid_shift - 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void TSIM_ROW(tdr_busy)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, LEAF, -1, 1, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	fx_fini(&f);
}

static void TSIM_ROW(tdr_metadata)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	uint64_t tdr = f.td.tdr;
	f.td.tdr = f.pa;
	expect_err(&f.td, GPA, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void TSIM_ROW(td_fatal)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 1);
	expect_err(&f.td, GPA, TDX_TD_FATAL);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 0);
	fx_fini(&f);
}

static void TSIM_ROW(op_state_busy)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, LEAF, -1, 2, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	fx_fini(&f);
}

static void TSIM_ROW(td_non_debug)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_page(&f, 0);
	expect_err(&f.td, GPA, TDX_TD_NON_DEBUG);
	fx_fini(&f);
}

static void TSIM_ROW(gpa_misaligned)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, GPA + 4, want);
	expect_err(&f.td, GPA + 1, want);
	fx_fini(&f);
}

static void TSIM_ROW(gpa_invalid)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, GPA | (1ULL << 47), want);            /* shared */
	expect_err(&f.td, GPA | (1ULL << 49), want);            /* above GPAW 48 */
	fx_fini(&f);
}

static void TSIM_ROW(sept_tree_busy)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, LEAF, -1, 3, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_SEPT_TREE));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, leaf_call(&f.td, GPA, &a));
	assert_int_equal(a.r8, src_qword(&f, 0));
	fx_fini(&f);
}

static void TSIM_ROW(ept_entry_not_present)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	uint64_t want = tdx_status_op(TDX_EPT_ENTRY_NOT_PRESENT, TDX_OPERAND_ID_RCX);
	expect_ext(&f.td, 0x40000000ULL, want, SVE, 2);         /* FREE PDPTE (2nd GiB) */
	expect_ext(&f.td, GPA + 0x1008, want, SVE, TDX_PS_4K);  /* FREE PTE */
	uint64_t pend = tsim_page_aug(&f.td, GPA + 0x2000, 0);
	expect_ext(&f.td, GPA + 0x2010, want, EXT_PENDING(pend), TDX_PS_4K | (2 << 8));
	uint64_t pend2m = tsim_page_aug(&f.td, 0x400000, 1);
	expect_ext(&f.td, 0x400000 + 0x12340, want, EXT_PENDING(pend2m), TDX_PS_2M | (2 << 8));
	/* BLOCKED (RANGE.BLOCK of the MAPPED page): no permissions. */
	struct tdx_module_args b = { .rcx = GPA, .rdx = f.td.tdr };
	seamcall_ok(f.e.s, 0, TDH_MEM_RANGE_BLOCK, &b);
	expect_ext(&f.td, GPA, want, f.pa | 0xF0ULL | SVE, TDX_PS_4K | (1 << 8));
	fx_fini(&f);
}

static void TSIM_ROW(sept_entry_busy)(void **state)
{
	(void)state;
	struct fx f;
	fx_init_debug(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, LEAF, -1, 4, 1);
	expect_ext(&f.td, GPA + 0x18, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
		   EXT_MAPPED(f.pa), TDX_PS_4K | (4 << 8));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, leaf_call(&f.td, GPA + 0x18, &a));
	assert_int_equal(a.r8, src_qword(&f, 0x18));
	fx_fini(&f);
}

#endif
