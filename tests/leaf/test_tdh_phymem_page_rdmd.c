/*
 * TDH.PHYMEM.PAGE.RDMD (24): /tmp/research/sys-leaves.md section 9, tdx-abi.md 5.
 * Needs SYS_READY. RCX, RDX, R8-R11 zeroed on entry. Order: RCX 4K-aligned,
 * < 2^52, no KeyID bits (OPERAND_INVALID+RCX); inside a TDMR whose 1 GB block
 * is initialised (OPERAND_ADDR_RANGE_ERROR+RCX); PAMT walk (OPERAND_BUSY+RCX).
 * Out: RCX = page type, RDX = owner, R8 = page size, R9 = BEPOCH (REG/EPT only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL

static inline tdxsim_info sim_info(tdxsim *s)
{
	tdxsim_info i = { .size = sizeof(i) };
	assert_int_equal(tdxsim_info_get(s, &i), TDXSIM_OK);
	return i;
}

/* READY with no TDMR initialised. */
static inline void to_ready_uninit(tdxsim *s, struct tsim_tdmrs *t)
{
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	tsim_build_tdmrs(s, t);
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, t));
	tsim_key_config_all(s);
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
}

static inline struct tdx_module_args sentinels(uint64_t pa)
{
	struct tdx_module_args a = { .rcx = pa, .rdx = SENT, .r8 = SENT, .r9 = SENT, .r10 = SENT,
				     .r11 = SENT, .r12 = SENT };
	return a;
}

static inline uint64_t rdmd(tdxsim *s, struct tdx_module_args *a)
{
	return seamcall_raw(s, 0, TDH_PHYMEM_PAGE_RDMD, a);
}

/* Error from the leaf: every output register zeroed, R12 untouched. */
static inline void expect_leaf_error(tdxsim *s, uint64_t pa, uint64_t status)
{
	struct tdx_module_args a = sentinels(pa);
	assert_tdx_status(status, rdmd(s, &a));
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	assert_int_equal(a.r9, 0);
	assert_int_equal(a.r10, 0);
	assert_int_equal(a.r11, 0);
	assert_int_equal(a.r12, SENT);
}

static inline void expect_page(tdxsim *s, uint64_t pa, unsigned type)
{
	struct tdx_module_args a = sentinels(pa);
	assert_tdx_status(TDX_SUCCESS, rdmd(s, &a));
	assert_int_equal(a.rcx, type);
	assert_int_equal(a.rdx, 0);            /* owner: none for NDA / RSVD */
	assert_int_equal(a.r8, TDX_PS_4K);
	assert_int_equal(a.r9, 0);             /* BEPOCH only for REG / EPT */
	assert_int_equal(a.r10, 0);
	assert_int_equal(a.r11, 0);
	assert_int_equal(a.r12, SENT);
}

static void test_tdh_phymem_page_rdmd__free_page(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	expect_page(s, 0x100000, PT_NDA);
	expect_page(s, t.info[0].base, PT_NDA);
	expect_page(s, t.info[0].base + t.info[0].size - TDX_PAGE_SIZE, PT_NDA);
	expect_page(s, t.info[1].base + TDX_1G, PT_NDA);
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__pamt_page_rsvd(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	/* The PAMTs sit inside TDMR 1, in a reserved area. */
	assert_true(t.pamt_pa[0] >= t.info[1].base && t.pamt_pa[0] < t.info[1].base + t.info[1].size);
	expect_page(s, t.pamt_pa[0], PT_RSVD);
	expect_page(s, t.pamt_pa[1], PT_RSVD);
	expect_page(s, t.pamt_pa[1] + t.pamt_bytes[1] - TDX_PAGE_SIZE, PT_RSVD);
	/* Just below the reserved area: free. */
	const struct tdx_tdmr_info *p = &t.info[1];
	assert_true(p->reserved[0].size);
	expect_page(s, p->base + p->reserved[0].offset - TDX_PAGE_SIZE, PT_NDA);
	expect_page(s, p->base + p->reserved[0].offset, PT_RSVD);
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__gb_not_yet_initialised(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready_uninit(s, &t);
	uint64_t base = t.info[0].base;
	expect_leaf_error(s, base, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	for (unsigned i = 0; i < 255; i++) {
		struct tdx_module_args a = { .rcx = base };
		seamcall_ok(s, 0, TDH_SYS_TDMR_INIT, &a);
	}
	/* 255 of 256 chunks: the block is still not usable, even its first page. */
	expect_leaf_error(s, base, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	struct tdx_module_args a = { .rcx = base };
	seamcall_ok(s, 0, TDH_SYS_TDMR_INIT, &a);
	expect_page(s, base, PT_NDA);
	expect_page(s, base + TDX_1G - TDX_PAGE_SIZE, PT_NDA);
	/* The next GB block is not. */
	expect_leaf_error(s, base + TDX_1G, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__outside_tdmrs(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	/* The hole [2G, 4G) and beyond the last TDMR. */
	expect_leaf_error(s, 3ULL << 30, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	expect_leaf_error(s, 6ULL << 30, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	expect_leaf_error(s, 1ULL << 45, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__rcx_misaligned(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	expect_leaf_error(s, 0x100800, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_leaf_error(s, 0x100001, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__rcx_keyid_bits(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	tdxsim_info info = sim_info(s);
	/* A private address carries no KeyID at all, MKTME ones included. */
	expect_leaf_error(s, 0x100000 | (1ULL << info.keyid_shift),
			  tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_leaf_error(s, 0x100000 | ((uint64_t)info.first_tdx_keyid << info.keyid_shift),
			  tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__rcx_above_max_pa(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	expect_leaf_error(s, (1ULL << 52) | 0x100000, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__operand_busy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_OPERAND_BUSY;
	f.leaf = TDH_PHYMEM_PAGE_RDMD;
	f.nth = 1;
	f.count = 1;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	expect_leaf_error(s, 0x100000, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	uint64_t n = 0;
	assert_int_equal(tdxsim_fault_fired(s, id, &n), TDXSIM_OK);
	assert_int_equal(n, 1);
	expect_page(s, 0x100000, PT_NDA);
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__operand_busy_after_range_check(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_OPERAND_BUSY;
	f.leaf = TDH_PHYMEM_PAGE_RDMD;
	f.nth = 1;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	/* Address errors come first; the walk (and its locks) is never reached. */
	expect_leaf_error(s, 3ULL << 30, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	expect_leaf_error(s, 0x100800, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	uint64_t n = 9;
	assert_int_equal(tdxsim_fault_fired(s, id, &n), TDXSIM_OK);
	assert_int_equal(n, 0);
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = sentinels(0x100000);
	assert_tdx_status(TDX_SYS_NOT_READY, rdmd(s, &a));
	assert_int_equal(a.rcx, 0x100000);     /* dispatcher error: only RAX */
	assert_int_equal(a.rdx, SENT);
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__before_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	struct tsim_tdmrs t;
	tsim_build_tdmrs(s, &t);
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, &t));
	struct tdx_module_args a = sentinels(0x100000);
	assert_tdx_status(TDX_SYS_NOT_READY, rdmd(s, &a));
	assert_int_equal(a.r8, SENT);
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	struct tdx_module_args z = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &z);
	struct tdx_module_args a = sentinels(0x100000);
	assert_tdx_status(TDX_SYS_SHUTDOWN, rdmd(s, &a));
	assert_int_equal(a.rdx, SENT);
	tdxsim_close(s);
}

static void test_tdh_phymem_page_rdmd__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	static const uint64_t st[] = { TDX_KEY_GENERATION_FAILED, TDX_RND_NO_ENTROPY, TDX_SYS_BUSY };
	for (unsigned i = 0; i < 3; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.leaf = TDH_PHYMEM_PAGE_RDMD;
		f.nth = 1;
		f.status = st[i];
		assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	}
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_phymem_page_rdmd__free_page),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__pamt_page_rsvd),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__gb_not_yet_initialised),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__outside_tdmrs),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__rcx_misaligned),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__rcx_keyid_bits),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__rcx_above_max_pa),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__operand_busy),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__operand_busy_after_range_check),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__before_sys_init),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__before_ready),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__after_shutdown),
		cmocka_unit_test(test_tdh_phymem_page_rdmd__fault_refuses_unreachable_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
