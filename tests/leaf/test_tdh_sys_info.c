/*
 * TDH.SYS.INFO (32, legacy): /tmp/research/sys-leaves.md section 5.
 * RCX = TDSYSINFO (1024-aligned shared HPA), RDX = its size (>= 1024),
 * R8 = CMR_INFO array (512-aligned), R9 = entries (>= 32).
 * RDX and R9 are zeroed on entry; the TDSYSINFO buffer is zeroed before R8/R9
 * are checked. Success: RDX = 1024, R9 = 32, all 32 CMR entries written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define INFO_PA 0x300000ULL
#define CMR_PA  0x310000ULL
#define FILL    0xA5

static inline tdxsim *sim_lp_ready(void)
{
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	return s;
}

static inline tdxsim_info sim_info(tdxsim *s)
{
	tdxsim_info i = { .size = sizeof(i) };
	assert_int_equal(tdxsim_info_get(s, &i), TDXSIM_OK);
	return i;
}

static inline void fill(tdxsim *s, uint64_t pa, size_t len)
{
	uint8_t b[8192];
	assert_true(len <= sizeof(b));
	memset(b, FILL, len);
	assert_int_equal(tdxsim_mem_write(s, pa, 0, b, len), TDXSIM_OK);
}

static inline void fill_both(tdxsim *s, uint64_t info_pa, uint64_t cmr_pa)
{
	fill(s, info_pa, 2048);
	fill(s, cmr_pa, 1024);
}

static inline void assert_filled(tdxsim *s, uint64_t pa, size_t len)
{
	uint8_t b[8192];
	assert_true(len <= sizeof(b));
	assert_int_equal(tdxsim_mem_read(s, pa, 0, b, len), TDXSIM_OK);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(b[i], FILL);
}

static inline void assert_zero(tdxsim *s, uint64_t pa, size_t len)
{
	uint8_t b[8192];
	assert_true(len <= sizeof(b));
	assert_int_equal(tdxsim_mem_read(s, pa, 0, b, len), TDXSIM_OK);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(b[i], 0);
}

static inline uint64_t sys_info(tdxsim *s, unsigned lp, struct tdx_module_args *a)
{
	return seamcall_raw(s, lp, TDH_SYS_INFO, a);
}

static inline struct tdx_module_args good_args(void)
{
	struct tdx_module_args a = { .rcx = INFO_PA, .rdx = 1024, .r8 = CMR_PA, .r9 = 32,
				     .r10 = 0x1010, .r11 = 0x1111 };
	return a;
}

static inline uint64_t rd(tdxsim *s, uint64_t id)
{
	struct tdx_module_args a = { .rdx = id };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_RD, &a));
	return a.r8;
}

static inline uint16_t g16(const uint8_t *p, unsigned off) { uint16_t v; memcpy(&v, p + off, 2); return v; }
static inline uint32_t g32(const uint8_t *p, unsigned off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static inline uint64_t g64(const uint8_t *p, unsigned off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

static void test_tdh_sys_info__success(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	assert_tdx_status(TDX_SUCCESS, sys_info(s, 0, &a));
	assert_int_equal(a.rcx, INFO_PA);
	assert_int_equal(a.rdx, 1024);
	assert_int_equal(a.r8, CMR_PA);
	assert_int_equal(a.r9, 32);
	assert_int_equal(a.r10, 0x1010);
	assert_int_equal(a.r11, 0x1111);
	tdxsim_close(s);
}

static void test_tdh_sys_info__tdsysinfo_fields(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	assert_tdx_status(TDX_SUCCESS, sys_info(s, 0, &a));
	uint8_t b[1024];
	assert_int_equal(tdxsim_mem_read(s, INFO_PA, 0, b, sizeof(b)), TDXSIM_OK);
	assert_int_equal(g32(b, 0), 0);                          /* attributes: production */
	assert_int_equal(g32(b, 4), 0x8086);
	assert_int_equal(g32(b, 8), rd(s, 0x8800000200000001ULL)); /* BUILD_DATE */
	assert_int_equal(g16(b, 12), rd(s, 0x8800000100000002ULL)); /* BUILD_NUM */
	assert_int_equal(g16(b, 14), info.module_minor);
	assert_int_equal(g16(b, 16), info.module_major);
	assert_int_equal(b[18], 1);                              /* sys_rd */
	for (unsigned i = 19; i < 32; i++)
		assert_int_equal(b[i], 0);
	assert_int_equal(g16(b, 32), 64);
	assert_int_equal(g16(b, 34), 16);
	assert_int_equal(g16(b, 36), 16);
	for (unsigned i = 38; i < 48; i++)
		assert_int_equal(b[i], 0);
	assert_int_equal(g16(b, 48), 24576);
	assert_int_equal(g16(b, 50), 0);
	assert_int_equal(g16(b, 52), 24576);
	assert_int_equal(b[54], 0);
	for (unsigned i = 55; i < 64; i++)
		assert_int_equal(b[i], 0);
	assert_int_equal(g64(b, 64), rd(s, MD_SYS_ATTRIBUTES_FIXED0));
	assert_int_equal(g64(b, 72), rd(s, MD_SYS_ATTRIBUTES_FIXED1));
	assert_int_equal(g64(b, 80), rd(s, MD_SYS_XFAM_FIXED0));
	assert_int_equal(g64(b, 88), rd(s, MD_SYS_XFAM_FIXED1));
	assert_int_equal(g64(b, 64), 0x8000000070000001ULL);
	for (unsigned i = 96; i < 128; i++)
		assert_int_equal(b[i], 0);
	uint32_t n = g32(b, 128);
	assert_int_equal(n, rd(s, MD_SYS_NUM_CPUID_CONFIG));
	assert_int_equal(n, 12);
	for (unsigned i = 0; i < n; i++) {
		uint64_t leaf = rd(s, MD_SYS_CPUID_CONFIG_LEAVES + i);
		assert_int_equal(g32(b, 132 + 24 * i), (uint32_t)leaf);
		assert_int_equal(g32(b, 136 + 24 * i), (uint32_t)(leaf >> 32));
	}
	for (unsigned i = 132 + 24 * n; i < 1024; i++)
		assert_int_equal(b[i], 0);
	tdxsim_close(s);
}

static void test_tdh_sys_info__cmr_table(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	assert_tdx_status(TDX_SUCCESS, sys_info(s, 0, &a));
	struct tdx_cmr_info c[32];
	assert_int_equal(tdxsim_mem_read(s, CMR_PA, 0, c, sizeof(c)), TDXSIM_OK);
	assert_int_equal(info.n_cmrs, 2);
	for (unsigned i = 0; i < 32; i++) {
		/* Null entries are written too (size 0). */
		assert_int_equal(c[i].base, i < info.n_cmrs ? info.cmrs[i].base : 0);
		assert_int_equal(c[i].size, i < info.n_cmrs ? info.cmrs[i].size : 0);
	}
	assert_int_equal(c[1].base, 4ULL << 30);
	/* Only 32 entries: the bytes after them are untouched. */
	assert_filled(s, CMR_PA + 512, 512);
	tdxsim_close(s);
}

static void test_tdh_sys_info__larger_buffers(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	a.rdx = 4096;
	a.r9 = 64;
	assert_tdx_status(TDX_SUCCESS, sys_info(s, 0, &a));
	/* RDX = 1024 and R9 = 32 whatever the caller offered. */
	assert_int_equal(a.rdx, 1024);
	assert_int_equal(a.r9, 32);
	assert_filled(s, INFO_PA + 1024, 1024);
	assert_filled(s, CMR_PA + 512, 512);
	tdxsim_close(s);
}

static void test_tdh_sys_info__lp_not_initialised(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_info(s, 2, &a));
	assert_int_equal(a.rcx, INFO_PA);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, CMR_PA);
	assert_int_equal(a.r9, 0);
	assert_filled(s, INFO_PA, 1024);
	assert_filled(s, CMR_PA, 512);
	tdxsim_close(s);
}

static void test_tdh_sys_info__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = good_args();
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, sys_info(s, 0, &a));
	tdxsim_close(s);
}

static void test_tdh_sys_info__rcx_misaligned(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	a.rcx = INFO_PA + 512;                  /* 512- but not 1024-aligned */
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), sys_info(s, 0, &a));
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r9, 0);
	assert_filled(s, INFO_PA, 2048);
	assert_filled(s, CMR_PA, 512);
	tdxsim_close(s);
}

static void test_tdh_sys_info__rcx_private_keyid(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	a.rcx = INFO_PA | ((uint64_t)info.first_tdx_keyid << info.keyid_shift);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), sys_info(s, 0, &a));
	assert_filled(s, INFO_PA, 1024);
	tdxsim_close(s);
}

static void test_tdh_sys_info__rcx_above_max_pa(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	struct tdx_module_args a = good_args();
	a.rcx = 1ULL << 52;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX), sys_info(s, 0, &a));
	tdxsim_close(s);
}

static void test_tdh_sys_info__rdx_too_small(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	a.rdx = 1023;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX), sys_info(s, 0, &a));
	assert_int_equal(a.rdx, 0);
	assert_filled(s, INFO_PA, 1024);
	tdxsim_close(s);
}

static void test_tdh_sys_info__r8_misaligned(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	a.r8 = CMR_PA + 256;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8), sys_info(s, 0, &a));
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r9, 0);
	/* Side effect: TDSYSINFO was zeroed before R8 was checked. */
	assert_zero(s, INFO_PA, 1024);
	assert_filled(s, INFO_PA + 1024, 1024);
	assert_filled(s, CMR_PA, 1024);
	tdxsim_close(s);
}

static void test_tdh_sys_info__r8_private_keyid(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	a.r8 = CMR_PA | ((uint64_t)info.first_tdx_keyid << info.keyid_shift);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8), sys_info(s, 0, &a));
	assert_zero(s, INFO_PA, 1024);
	assert_filled(s, CMR_PA, 1024);
	/* An MKTME KeyID is a shared KeyID: accepted. */
	a = good_args();
	a.r8 = CMR_PA | (1ULL << info.keyid_shift);
	assert_tdx_status(TDX_SUCCESS, sys_info(s, 0, &a));
	struct tdx_cmr_info c;
	assert_int_equal(tdxsim_mem_read(s, CMR_PA + 16, 0, &c, sizeof(c)), TDXSIM_OK);
	assert_int_equal(c.base, info.cmrs[1].base);
	tdxsim_close(s);
}

static void test_tdh_sys_info__r9_too_small(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_both(s, INFO_PA, CMR_PA);
	struct tdx_module_args a = good_args();
	a.r9 = 31;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R9), sys_info(s, 0, &a));
	assert_int_equal(a.r9, 0);
	assert_zero(s, INFO_PA, 1024);
	assert_filled(s, CMR_PA, 1024);
	tdxsim_close(s);
}

static void test_tdh_sys_info__in_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	struct tdx_module_args a = { .rcx = t.scratch_pa, .rdx = 1024, .r8 = t.scratch_pa + 0x1000, .r9 = 32 };
	assert_tdx_status(TDX_SUCCESS, sys_info(s, 1, &a));
	uint8_t b[8];
	assert_int_equal(tdxsim_mem_read(s, t.scratch_pa, 0, b, sizeof(b)), TDXSIM_OK);
	assert_int_equal(g32(b, 4), 0x8086);
	tdxsim_close(s);
}

static void test_tdh_sys_info__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	struct tdx_module_args z = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &z);
	fill(s, t.scratch_pa, 1024);
	struct tdx_module_args a = { .rcx = t.scratch_pa, .rdx = 1024, .r8 = t.scratch_pa + 0x1000, .r9 = 32 };
	assert_tdx_status(TDX_SYS_SHUTDOWN, sys_info(s, 0, &a));
	assert_int_equal(a.rdx, 1024);
	assert_int_equal(a.r9, 32);
	assert_filled(s, t.scratch_pa, 1024);
	tdxsim_close(s);
}

static void test_tdh_sys_info__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	static const uint64_t st[] = { TDX_KEY_GENERATION_FAILED, TDX_RND_NO_ENTROPY,
				       TDX_SYS_BUSY, TDX_OPERAND_BUSY };
	for (unsigned i = 0; i < 4; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.leaf = TDH_SYS_INFO;
		f.nth = 1;
		f.status = st[i];
		assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	}
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_info__success),
		cmocka_unit_test(test_tdh_sys_info__tdsysinfo_fields),
		cmocka_unit_test(test_tdh_sys_info__cmr_table),
		cmocka_unit_test(test_tdh_sys_info__larger_buffers),
		cmocka_unit_test(test_tdh_sys_info__lp_not_initialised),
		cmocka_unit_test(test_tdh_sys_info__before_sys_init),
		cmocka_unit_test(test_tdh_sys_info__rcx_misaligned),
		cmocka_unit_test(test_tdh_sys_info__rcx_private_keyid),
		cmocka_unit_test(test_tdh_sys_info__rcx_above_max_pa),
		cmocka_unit_test(test_tdh_sys_info__rdx_too_small),
		cmocka_unit_test(test_tdh_sys_info__r8_misaligned),
		cmocka_unit_test(test_tdh_sys_info__r8_private_keyid),
		cmocka_unit_test(test_tdh_sys_info__r9_too_small),
		cmocka_unit_test(test_tdh_sys_info__in_ready),
		cmocka_unit_test(test_tdh_sys_info__after_shutdown),
		cmocka_unit_test(test_tdh_sys_info__fault_refuses_unreachable_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
