/*
 * TDH.MEM.WR (14): 8-byte write of a debug TD's private memory through the
 * TD's KeyID; checks as TDH.MEM.RD (seam/leaf/tdh_mem_rd.c). RCX = GPA
 * (8-byte aligned), RDX = TDR, R8 = value; out R8 = the previous value.
 * RCX, RDX and R8 are zeroed on every error; the S-EPT errors put the entry
 * in RCX/RDX ("ext"). Operand locks in order (fault plan nth): TDR 1,
 * OP_STATE 2, SEPT_TREE 3, S-EPT entry 4. Unlike MEM.RD the entry must be
 * MAPPED: a BLOCKEDW leaf (live export) is EPT_ENTRY_STATE_INCORRECT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/sept.h"
#include "sim/sim_int.h"

#define GPA     0x100000ULL
#define SVE     (1ULL << 63)
#define EXT_PENDING(pa) ((pa) | 0xF0ULL | SVE)
#define EXT_MAPPED(pa)  ((pa) | 0xF7ULL | SVE)

struct fx {
	struct tsim_env e;
	struct tsim_td td;
	uint8_t src[4096];
	uint64_t pa;            /* page at GPA */
};

/* A debug TD (INITIALIZED, one vCPU) with a patterned page at GPA. */
static void fx_init_attr(struct fx *f, uint64_t attrs)
{
	tsim_env_init(&f->e);
	tsim_td_build(&f->e, &f->td, attrs, 4);
	tsim_vcpu_add(&f->td, 0);
	for (unsigned i = 0; i < sizeof(f->src); i++)
		f->src[i] = (uint8_t)(i * 13 + 5);
	f->pa = tsim_page_add(&f->td, GPA, f->src, false);
}

static void fx_init(struct fx *f)
{
	fx_init_attr(f, TDX_TD_ATTR_DEBUG);
}

static void fx_fini(struct fx *f)
{
	tsim_env_fini(&f->e);
}

static struct seam_td *td_obj(struct tsim_td *td)
{
	return seam_obj_get(&td->e->s->mod, td->tdr);
}

static uint64_t src_qword(const struct fx *f, uint64_t off)
{
	uint64_t v;
	memcpy(&v, f->src + off, 8);
	return v;
}

#define DATA    0x0123456789ABCDEFULL

static uint64_t wr(struct tsim_td *td, uint64_t gpa, uint64_t data, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa, .rdx = td->tdr, .r8 = data };
	return seamcall_raw(td->e->s, 0, TDH_MEM_WR, a);
}

static uint64_t rd(struct tsim_td *td, uint64_t gpa, struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){ .rcx = gpa, .rdx = td->tdr };
	return seamcall_raw(td->e->s, 0, TDH_MEM_RD, a);
}

static void expect_err(struct tsim_td *td, uint64_t gpa, uint64_t status)
{
	struct tdx_module_args a;
	assert_tdx_status(status, wr(td, gpa, DATA, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
}

static void expect_ext(struct tsim_td *td, uint64_t gpa, uint64_t status, uint64_t rcx,
		       uint64_t rdx)
{
	struct tdx_module_args a;
	assert_tdx_status(status, wr(td, gpa, DATA, &a));
	assert_int_equal(a.rcx, rcx);
	assert_int_equal(a.rdx, rdx);
	assert_int_equal(a.r8, 0);
}

/* Test-only route: rewrite the state of the 4K S-EPT entry of gpa through
 * the TD's KeyID (e.g. to BLOCKEDW, which only live export produces). */
static void sept_force_state(struct tsim_td *td, uint64_t gpa, unsigned st, uint64_t clear)
{
	uint64_t table = 0;
	for (unsigned i = 0; i < td->n_sept; i++)
		if (td->sept[i].level == 1 && td->sept[i].gpa == (gpa & ~(TDX_2M - 1)))
			table = td->sept[i].pa;
	assert_true(table != 0);
	uint64_t epa = table + 8 * ((gpa >> 12) & 511), v;
	assert_int_equal(tdxsim_mem_read(td->e->s, epa, td->hkid, &v, 8), TDXSIM_OK);
	v = (v & ~(SEPT_STATE_MASK | clear)) | ((uint64_t)st << SEPT_STATE_SHIFT);
	assert_int_equal(tdxsim_mem_write(td->e->s, epa, td->hkid, &v, 8), TDXSIM_OK);
}

static void test_tdh_mem_wr__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
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

static void test_tdh_mem_wr__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t tdr = f.td.tdr;
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	f.td.tdr = tdr + 0x800;
	expect_err(&f.td, GPA, want);
	f.td.tdr = tsim_keyed_pa(&f.e, tdr, f.td.hkid);
	expect_err(&f.td, GPA, want);
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mem_wr__tdr_addr_range(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.td.tdr = 1ULL << (f.e.keyid_shift - 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RDX));
	fx_fini(&f);
}

static void test_tdh_mem_wr__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_WR, -1, 1, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RDX));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	fx_fini(&f);
}

static void test_tdh_mem_wr__tdr_metadata(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t tdr = f.td.tdr;
	f.td.tdr = f.pa;
	expect_err(&f.td, GPA, tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RDX));
	f.td.tdr = tdr;
	fx_fini(&f);
}

static void test_tdh_mem_wr__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	atomic_store(&td_obj(&f.td)->fatal, 1);
	expect_err(&f.td, GPA, TDX_TD_FATAL);
	atomic_store(&td_obj(&f.td)->fatal, 0);
	fx_fini(&f);
}

static void test_tdh_mem_wr__keys_not_configured(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td = { .e = &e };
	tsim_env_init(&e);
	td.tdr = tsim_page(&e);
	td.hkid = tsim_hkid(&e);
	struct tdx_module_args c = { .rcx = td.tdr, .rdx = td.hkid };
	seamcall_ok(e.s, 0, TDH_MNG_CREATE, &c);
	expect_err(&td, GPA, TDX_TD_KEYS_NOT_CONFIGURED);
	tsim_env_fini(&e);
}

static void test_tdh_mem_wr__tdcs_not_allocated(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td;
	tsim_env_init(&e);
	tsim_td_create(&e, &td);
	expect_err(&td, GPA, TDX_TDCS_NOT_ALLOCATED);
	tsim_env_fini(&e);
}

static void test_tdh_mem_wr__op_state_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_WR, -1, 2, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	fx_fini(&f);
}

static void test_tdh_mem_wr__op_state_incorrect(void **state)
{
	(void)state;
	struct tsim_env e;
	struct tsim_td td;
	tsim_env_init(&e);
	tsim_td_create(&e, &td);
	tsim_td_addcx(&td);                                     /* UNINITIALIZED */
	expect_err(&td, GPA, TDX_OP_STATE_INCORRECT);
	tsim_env_fini(&e);
}

static void test_tdh_mem_wr__td_non_debug(void **state)
{
	(void)state;
	struct fx f;
	fx_init_attr(&f, 0);
	expect_err(&f.td, GPA, TDX_TD_NON_DEBUG);
	fx_fini(&f);
}

static void test_tdh_mem_wr__gpa_misaligned(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, GPA + 4, want);
	expect_err(&f.td, GPA + 1, want);
	fx_fini(&f);
}

static void test_tdh_mem_wr__gpa_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, GPA | (1ULL << 47), want);            /* shared */
	expect_err(&f.td, GPA | (1ULL << 49), want);            /* above GPAW 48 */
	fx_fini(&f);
}

static void test_tdh_mem_wr__sept_tree_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_WR, -1, 3, 1);
	expect_err(&f.td, GPA, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_SEPT_TREE));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, wr(&f.td, GPA, DATA, &a));
	assert_int_equal(a.r8, src_qword(&f, 0));
	fx_fini(&f);
}

static void test_tdh_mem_wr__ept_entry_not_present(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
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

static void test_tdh_mem_wr__sept_entry_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MEM_WR, -1, 4, 1);
	expect_ext(&f.td, GPA + 0x18, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
		   EXT_MAPPED(f.pa), TDX_PS_4K | (4 << 8));
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	struct tdx_module_args a;
	assert_tdx_status(TDX_SUCCESS, wr(&f.td, GPA + 0x18, DATA, &a));
	assert_int_equal(a.r8, src_qword(&f, 0x18));
	fx_fini(&f);
}

/* BLOCKEDW (write-blocked) is readable but not writable. */
static void test_tdh_mem_wr__ept_entry_state_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	sept_force_state(&f.td, GPA, SEPT_BLOCKEDW, SEPT_W);
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
