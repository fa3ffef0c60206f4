/*
 * TDH.SYS.TDMR.INIT (36): /tmp/research/sys-leaves.md section 8, tdx-abi.md 5.
 * Needs SYS_READY (dispatcher). RDX = 0 on entry. Order: RCX 1 GB-aligned,
 * < 2^52, no KeyID bits, else OPERAND_INVALID+RCX; RCX a configured TDMR base,
 * else OPERAND_INVALID+RCX; TDMR mutex (OPERAND_BUSY+RCX); complete ->
 * TDMR_ALREADY_INITIALIZED with RDX = 0. Each call initialises 4 MiB; RDX =
 * next address rounded down to 1 GB (base + size on the last call).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL
#define CALLS_PER_GB 256

static inline tdxsim_info sim_info(tdxsim *s)
{
	tdxsim_info i = { .size = sizeof(i) };
	assert_int_equal(tdxsim_info_get(s, &i), TDXSIM_OK);
	return i;
}

/* READY, no TDMR initialised yet. Default machine: TDMR 0 = [0, 2G), TDMR 1 = [4G, 6G). */
/* READY with the default layout: TDMRs [0, 2G) and [4G, 6G). */
static void to_ready(tdxsim *s, struct tsim_tdmrs *t)
{
	tsim_to_sysconfig(s, t);
	tsim_key_config_all(s);
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	assert_int_equal(t->n, 2);
	assert_int_equal(t->info[0].base, 0);
	assert_int_equal(t->info[0].size, 2ULL << 30);
	assert_int_equal(t->info[1].base, 4ULL << 30);
	assert_int_equal(t->info[1].size, 2ULL << 30);
}

static inline uint64_t tdmr_init(tdxsim *s, uint64_t base, uint64_t *rdx)
{
	struct tdx_module_args a = { .rcx = base, .rdx = SENT, .r8 = SENT };
	uint64_t st = seamcall_raw(s, 0, TDH_SYS_TDMR_INIT, &a);
	assert_int_equal(a.rcx, base);
	assert_int_equal(a.r8, SENT);
	*rdx = a.rdx;
	return st;
}

static inline void expect_invalid_rcx(tdxsim *s, uint64_t rcx)
{
	uint64_t rdx;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), tdmr_init(s, rcx, &rdx));
	assert_int_equal(rdx, 0);
}

static inline int page_initialised(tdxsim *s, uint64_t pa)
{
	unsigned type;
	return tdxsim_pamt_lookup(s, pa, &type, NULL, NULL) == TDXSIM_OK;
}

static void test_tdh_sys_tdmr_init__success(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	uint64_t rdx;
	assert_tdx_status(TDX_SUCCESS, tdmr_init(s, t.info[0].base, &rdx));
	assert_int_equal(rdx, t.info[0].base);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__chunking(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	uint64_t base = t.info[1].base, size = t.info[1].size, rdx;
	unsigned calls = (unsigned)(size / TDX_1G) * CALLS_PER_GB;
	assert_int_equal(calls, 512);
	for (unsigned i = 1; i <= calls; i++) {
		assert_tdx_status(TDX_SUCCESS, tdmr_init(s, base, &rdx));
		/* 255 calls at the GB start, then a step per GB; the last = base + size. */
		uint64_t want = base + (uint64_t)(i / CALLS_PER_GB) * TDX_1G;
		if (rdx != want)
			fail_msg("call %u: RDX 0x%llx, expected 0x%llx", i,
				 (unsigned long long)rdx, (unsigned long long)want);
	}
	assert_int_equal(rdx, base + size);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__gb_usable_when_complete(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	uint64_t base = t.info[0].base, rdx;
	assert_false(page_initialised(s, base));
	for (unsigned i = 0; i < CALLS_PER_GB - 1; i++)
		assert_tdx_status(TDX_SUCCESS, tdmr_init(s, base, &rdx));
	/* 1020 MiB initialised: the GB block is not usable yet. */
	assert_false(page_initialised(s, base));
	assert_tdx_status(TDX_SUCCESS, tdmr_init(s, base, &rdx));
	assert_int_equal(rdx, base + TDX_1G);
	assert_true(page_initialised(s, base));
	assert_true(page_initialised(s, base + TDX_1G - TDX_PAGE_SIZE));
	assert_false(page_initialised(s, base + TDX_1G));
	/* The other TDMR is untouched. */
	assert_false(page_initialised(s, t.info[1].base));
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__already_initialized(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	tsim_tdmr_init_all(s, &t);
	uint64_t rdx;
	assert_tdx_status(TDX_TDMR_ALREADY_INITIALIZED, tdmr_init(s, t.info[0].base, &rdx));
	assert_int_equal(rdx, 0);
	assert_tdx_status(TDX_TDMR_ALREADY_INITIALIZED, tdmr_init(s, t.info[1].base, &rdx));
	assert_int_equal(rdx, 0);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__tdmrs_independent(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	uint64_t rdx;
	for (unsigned i = 0; i < 512; i++)
		assert_tdx_status(TDX_SUCCESS, tdmr_init(s, t.info[1].base, &rdx));
	assert_tdx_status(TDX_TDMR_ALREADY_INITIALIZED, tdmr_init(s, t.info[1].base, &rdx));
	/* TDMR 0 starts from its own beginning. */
	assert_tdx_status(TDX_SUCCESS, tdmr_init(s, t.info[0].base, &rdx));
	assert_int_equal(rdx, t.info[0].base);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__rcx_not_1g_aligned(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	expect_invalid_rcx(s, t.info[1].base + TDX_2M);
	expect_invalid_rcx(s, t.info[1].base + TDX_PAGE_SIZE);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__rcx_keyid_bits(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	tdxsim_info info = sim_info(s);
	expect_invalid_rcx(s, t.info[1].base | (1ULL << info.keyid_shift));
	expect_invalid_rcx(s, t.info[1].base | ((uint64_t)info.first_tdx_keyid << info.keyid_shift));
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__rcx_above_max_pa(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	expect_invalid_rcx(s, 1ULL << 52);
	expect_invalid_rcx(s, (1ULL << 52) | t.info[1].base);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__rcx_not_a_tdmr_base(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	/* 1 GB inside TDMR 0, the hole between the TDMRs, past the end. */
	expect_invalid_rcx(s, t.info[0].base + TDX_1G);
	expect_invalid_rcx(s, 2ULL << 30);
	expect_invalid_rcx(s, 6ULL << 30);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__operand_busy(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	unsigned id = tsim_fault(s, TDX_OPERAND_BUSY, TDH_SYS_TDMR_INIT, -1, 2, 1);
	uint64_t rdx, base = t.info[0].base;
	assert_tdx_status(TDX_SUCCESS, tdmr_init(s, base, &rdx));
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), tdmr_init(s, base, &rdx));
	assert_int_equal(rdx, 0);
	uint64_t n = 0;
	assert_int_equal(tdxsim_fault_fired(s, id, &n), TDXSIM_OK);
	assert_int_equal(n, 1);
	/* The busy call did no work: 511 more successful calls complete the TDMR. */
	for (unsigned i = 0; i < 510; i++) {
		assert_tdx_status(TDX_SUCCESS, tdmr_init(s, base, &rdx));
		assert_true(rdx < base + t.info[0].size);
	}
	assert_tdx_status(TDX_SUCCESS, tdmr_init(s, base, &rdx));
	assert_int_equal(rdx, base + t.info[0].size);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__operand_busy_after_rcx_checks(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	unsigned id = tsim_fault(s, TDX_OPERAND_BUSY, TDH_SYS_TDMR_INIT, -1, 1, 0);
	expect_invalid_rcx(s, 2ULL << 30);
	uint64_t n = 9;
	assert_int_equal(tdxsim_fault_fired(s, id, &n), TDXSIM_OK);
	assert_int_equal(n, 0);
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	uint64_t rdx;
	assert_tdx_status(TDX_SYS_NOT_READY, tdmr_init(s, 0, &rdx));
	assert_int_equal(rdx, SENT);           /* dispatcher error: only RAX */
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__before_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_to_sysconfig(s, &t);
	uint64_t rdx;
	assert_tdx_status(TDX_SYS_NOT_READY, tdmr_init(s, t.info[0].base, &rdx));
	/* One package keyed: still not READY. */
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_KEY_CONFIG, &a);
	assert_tdx_status(TDX_SYS_NOT_READY, tdmr_init(s, t.info[0].base, &rdx));
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	to_ready(s, &t);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
	uint64_t rdx;
	assert_tdx_status(TDX_SYS_SHUTDOWN, tdmr_init(s, t.info[0].base, &rdx));
	tdxsim_close(s);
}

static void test_tdh_sys_tdmr_init__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	static const uint64_t st[] = { TDX_KEY_GENERATION_FAILED, TDX_RND_NO_ENTROPY, TDX_SYS_BUSY };
	for (unsigned i = 0; i < 3; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.leaf = TDH_SYS_TDMR_INIT;
		f.nth = 1;
		f.status = st[i];
		assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	}
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_tdmr_init__success),
		cmocka_unit_test(test_tdh_sys_tdmr_init__chunking),
		cmocka_unit_test(test_tdh_sys_tdmr_init__gb_usable_when_complete),
		cmocka_unit_test(test_tdh_sys_tdmr_init__already_initialized),
		cmocka_unit_test(test_tdh_sys_tdmr_init__tdmrs_independent),
		cmocka_unit_test(test_tdh_sys_tdmr_init__rcx_not_1g_aligned),
		cmocka_unit_test(test_tdh_sys_tdmr_init__rcx_keyid_bits),
		cmocka_unit_test(test_tdh_sys_tdmr_init__rcx_above_max_pa),
		cmocka_unit_test(test_tdh_sys_tdmr_init__rcx_not_a_tdmr_base),
		cmocka_unit_test(test_tdh_sys_tdmr_init__operand_busy),
		cmocka_unit_test(test_tdh_sys_tdmr_init__operand_busy_after_rcx_checks),
		cmocka_unit_test(test_tdh_sys_tdmr_init__before_sys_init),
		cmocka_unit_test(test_tdh_sys_tdmr_init__before_ready),
		cmocka_unit_test(test_tdh_sys_tdmr_init__after_shutdown),
		cmocka_unit_test(test_tdh_sys_tdmr_init__fault_refuses_unreachable_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
