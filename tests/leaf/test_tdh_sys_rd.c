/*
 * TDH.SYS.RD (34): /tmp/research/sys-leaves.md sections 3 and 12, tdx-abi.md 4.4/4.5.
 * RDX = field id -> R8 = value, RDX = next element id. On entry RDX = -1,
 * R8 = 0, and they stay so on every error. Intentional tdxsim addition:
 * MAX_VCPUS_PER_TD (0x9900000100000008), which newer modules report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL
#define FIRST_ID 0x0000000200000000ULL
#define LAST_ID  0xA200000300000006ULL    /* VCPU_L2_DEBUG_CTLS_FIXED1 */
/* 354 elements in the 1.5.01 table, plus MAX_VCPUS_PER_TD. */
#define N_ELEMENTS 355

/* SYS.INIT and LP.INIT everywhere: SYS.RD works from here on. */
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

static inline uint64_t rd(tdxsim *s, uint64_t id, uint64_t *val, uint64_t *next)
{
	struct tdx_module_args a = { .rdx = id, .r8 = SENT, .r9 = SENT };
	uint64_t st = seamcall_raw(s, 0, TDH_SYS_RD, &a);
	assert_int_equal(a.r9, SENT);
	if (val)
		*val = a.r8;
	if (next)
		*next = a.rdx;
	return st;
}

/* Asserts the error outputs: RDX = -1, R8 = 0. */
static inline void expect_rd_error(tdxsim *s, unsigned lp, uint64_t id, uint64_t status)
{
	struct tdx_module_args a = { .rdx = id, .r8 = SENT };
	assert_tdx_status(status, seamcall_raw(s, lp, TDH_SYS_RD, &a));
	assert_int_equal(a.rdx, MD_FIELD_ID_NULL);
	assert_int_equal(a.r8, 0);
}

static inline uint64_t field(tdxsim *s, uint64_t id)
{
	uint64_t v, n;
	assert_tdx_status(TDX_SUCCESS, rd(s, id, &v, &n));
	return v;
}

static void test_tdh_sys_rd__success(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t v, n;
	assert_tdx_status(TDX_SUCCESS, rd(s, MD_SYS_MAX_TDMRS, &v, &n));
	assert_int_equal(v, 64);
	assert_int_equal(n, MD_SYS_MAX_RESERVED_PER_TDMR);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__lp_not_initialised(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_LP_INIT, &a);
	expect_rd_error(s, 1, MD_SYS_MAX_TDMRS, TDX_SYS_LP_INIT_NOT_DONE);
	expect_rd_error(s, 1, MD_FIELD_ID_NULL, TDX_SYS_LP_INIT_NOT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	expect_rd_error(s, 0, MD_SYS_MAX_TDMRS, TDX_SYS_LP_INIT_NOT_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__in_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	assert_int_equal(field(s, MD_SYS_PAMT_4K_ENTRY_SIZE), 16);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
	struct tdx_module_args b = { .rdx = MD_SYS_MAX_TDMRS, .r8 = SENT };
	assert_tdx_status(TDX_SYS_SHUTDOWN, seamcall_raw(s, 0, TDH_SYS_RD, &b));
	/* Dispatcher errors write only RAX. */
	assert_int_equal(b.rdx, MD_SYS_MAX_TDMRS);
	assert_int_equal(b.r8, SENT);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__null_id(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t v, n;
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, rd(s, MD_FIELD_ID_NULL, &v, &n));
	assert_int_equal(n, FIRST_ID);
	assert_int_equal(v, 0);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__null_id_ignores_context(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t v, n;
	/* All ones apart from the context bits 54:52 is still the null id. */
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT,
			  rd(s, ~(0x7ULL << 52), &v, &n));
	assert_int_equal(n, FIRST_ID);
	assert_int_equal(v, 0);
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT,
			  rd(s, ~(0x5ULL << 52), &v, &n));
	assert_int_equal(n, FIRST_ID);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__id_zero_reads_num_pkgs(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t v, n;
	assert_tdx_status(TDX_SUCCESS, rd(s, 0, &v, &n));
	assert_int_equal(v, sim_info(s).packages);
	assert_int_equal(v, 2);
	assert_int_equal(n, 0x0000000200000001ULL);   /* PKG_FMS[0] */
	tdxsim_close(s);

	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.packages = 3;
	s = tsim_create(&cfg);
	tsim_vmxon_all(s);
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	assert_int_equal(field(s, 0), 3);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__walk_terminates(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t v, id;
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, rd(s, MD_FIELD_ID_NULL, &v, &id));
	unsigned n = 0;
	uint64_t last = 0;
	int seen_max_tdmrs = 0, seen_max_vcpus = 0, seen_cpuid_values_end = 0;
	while (id != MD_FIELD_ID_NULL) {
		uint64_t next;
		assert_tdx_status(TDX_SUCCESS, rd(s, id, &v, &next));
		seen_max_tdmrs |= id == MD_SYS_MAX_TDMRS;
		seen_max_vcpus |= id == MD_SYS_MAX_VCPUS_PER_TD;
		seen_cpuid_values_end |= id == MD_SYS_CPUID_CONFIG_VALUES + 63;
		last = id;
		id = next;
		n++;
		assert_true(n <= 2 * N_ELEMENTS);
	}
	assert_int_equal(n, N_ELEMENTS);
	assert_int_equal(last, LAST_ID);
	assert_true(seen_max_tdmrs && seen_max_vcpus && seen_cpuid_values_end);
	/* Reading the last field returns next = -1 with SUCCESS. */
	uint64_t next;
	assert_tdx_status(TDX_SUCCESS, rd(s, LAST_ID, &v, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__next_element_keeps_caller_bits(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t v, n;
	assert_tdx_status(TDX_SUCCESS, rd(s, MD_SYS_CMR_BASE, &v, &n));
	assert_int_equal(n, MD_SYS_CMR_BASE + 1);
	/* Inside a multi-field entry the caller's id is kept, field code + 1. */
	assert_tdx_status(TDX_SUCCESS, rd(s, 0x9000000100000085ULL, &v, &n));
	assert_int_equal(n, 0x9000000100000086ULL);
	/* At the end of an entry: the next entry's canonical id. */
	assert_tdx_status(TDX_SUCCESS, rd(s, MD_SYS_CMR_BASE + 31, &v, &n));
	assert_int_equal(n, MD_SYS_CMR_SIZE);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__context_ignored(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t v, n;
	assert_tdx_status(TDX_SUCCESS, rd(s, MD_SYS_MAX_TDMRS | (1ULL << 52), &v, &n));
	assert_int_equal(v, 64);
	assert_tdx_status(TDX_SUCCESS, rd(s, MD_SYS_MAX_TDMRS | (2ULL << 52), &v, &n));
	assert_int_equal(v, 64);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__size_and_non_arch_bits_ignored(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	/* Lookup is by class (61:56) and field code; the examples of the sheet. */
	assert_int_equal(field(s, 0x1100000100000008ULL), 64);
	assert_int_equal(field(s, 0x9100000300000008ULL), 64);
	assert_int_equal(field(s, 0x9100000000000008ULL), 64);
	/* INC_SIZE (50) and WRITE_MASK_VALID (51) are ignored too. */
	assert_int_equal(field(s, MD_SYS_MAX_TDMRS | (1ULL << 50) | (1ULL << 51)), 64);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__reserved_bits_31_24(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	expect_rd_error(s, 0, MD_SYS_MAX_TDMRS | (1ULL << 24), TDX_METADATA_FIELD_ID_INCORRECT);
	expect_rd_error(s, 0, MD_SYS_MAX_TDMRS | (1ULL << 31), TDX_METADATA_FIELD_ID_INCORRECT);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__reserved_bits_49_47(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	expect_rd_error(s, 0, MD_SYS_MAX_TDMRS | (1ULL << 47), TDX_METADATA_FIELD_ID_INCORRECT);
	expect_rd_error(s, 0, MD_SYS_MAX_TDMRS | (1ULL << 49), TDX_METADATA_FIELD_ID_INCORRECT);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__reserved_bit_55(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	expect_rd_error(s, 0, MD_SYS_MAX_TDMRS | (1ULL << 55), TDX_METADATA_FIELD_ID_INCORRECT);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__reserved_bit_62(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	expect_rd_error(s, 0, MD_SYS_MAX_TDMRS | (1ULL << 62), TDX_METADATA_FIELD_ID_INCORRECT);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__last_element_nonzero(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	expect_rd_error(s, 0, MD_SYS_CPUID_CONFIG_VALUES | (1ULL << 34), TDX_METADATA_FIELD_ID_INCORRECT);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__last_field_nonzero(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	expect_rd_error(s, 0, MD_SYS_CMR_BASE | (1ULL << 38), TDX_METADATA_FIELD_ID_INCORRECT);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__unknown_field(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	/* Class 0x3F does not exist; PKG_FMS has 8 fields (codes 1..8). */
	expect_rd_error(s, 0, 0x3F00000300000000ULL, TDX_METADATA_FIELD_ID_INCORRECT);
	expect_rd_error(s, 0, 0x0000000200000009ULL, TDX_METADATA_FIELD_ID_INCORRECT);
	/* CMR_BASE has 32 fields: 0x80..0x9F. */
	expect_rd_error(s, 0, MD_SYS_CMR_BASE + 32, TDX_METADATA_FIELD_ID_INCORRECT);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__linux_version_fields(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	assert_int_equal(field(s, MD_SYS_MAJOR_VERSION), info.module_major);
	assert_int_equal(field(s, MD_SYS_MINOR_VERSION), info.module_minor);
	assert_int_equal(field(s, MD_SYS_UPDATE_VERSION), info.module_update);
	assert_int_equal(field(s, MD_SYS_MAJOR_VERSION), info.platform->module_major);
	assert_int_equal(field(s, MD_SYS_MINOR_VERSION), info.platform->module_minor);
	assert_int_equal(field(s, MD_SYS_UPDATE_VERSION), info.platform->module_update);
	assert_int_equal(field(s, MD_SYS_VENDOR_ID), 0x8086);
	tdxsim_close(s);

	/* A configured module version is what the module reports. */
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.module_major = 2;
	cfg.module_minor = 7;
	cfg.module_update = 9;
	s = tsim_create(&cfg);
	tsim_vmxon_all(s);
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	assert_int_equal(field(s, MD_SYS_MAJOR_VERSION), 2);
	assert_int_equal(field(s, MD_SYS_MINOR_VERSION), 7);
	assert_int_equal(field(s, MD_SYS_UPDATE_VERSION), 9);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__linux_features0(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	uint64_t f0 = field(s, MD_SYS_TDX_FEATURES0);
	assert_int_equal(f0, info.tdx_features0);
	assert_int_equal(f0, info.platform->tdx_features0);
	/* Linux needs NO_RBP_MOD, KVM TOPOLOGY_ENUM. */
	assert_true(f0 & TDX_FEATURES0_NO_RBP_MOD);
	assert_true(f0 & TDX_FEATURES0_TOPOLOGY_ENUM);
	tdxsim_close(s);

	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_FEATURES0_SET;
	cfg.tdx_features0 = 0x40002ULL;
	s = tsim_create(&cfg);
	tsim_vmxon_all(s);
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	assert_int_equal(field(s, MD_SYS_TDX_FEATURES0), 0x40002ULL);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__linux_tdmr_fields(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	assert_int_equal(field(s, MD_SYS_MAX_TDMRS), TDX_MAX_TDMRS);
	assert_int_equal(field(s, MD_SYS_MAX_RESERVED_PER_TDMR), TDX_MAX_RESERVED_PER_TDMR);
	assert_int_equal(field(s, MD_SYS_PAMT_4K_ENTRY_SIZE), 16);
	assert_int_equal(field(s, MD_SYS_PAMT_2M_ENTRY_SIZE), 16);
	assert_int_equal(field(s, MD_SYS_PAMT_1G_ENTRY_SIZE), 16);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__linux_base_sizes(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	assert_int_equal(field(s, MD_SYS_TDR_BASE_SIZE), 4096);
	assert_int_equal(field(s, MD_SYS_TDCS_BASE_SIZE), 24576);
	assert_int_equal(field(s, MD_SYS_TDVPS_BASE_SIZE), 24576);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__linux_td_config_fields(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	assert_int_equal(field(s, MD_SYS_ATTRIBUTES_FIXED0), 0x8000000070000001ULL);
	assert_int_equal(field(s, MD_SYS_ATTRIBUTES_FIXED1), 0);
	/* 0x6DBE7 & what the CPU supports; the simulated CPUs support it all. */
	assert_int_equal(field(s, MD_SYS_XFAM_FIXED0), 0x6DBE7ULL);
	assert_int_equal(field(s, MD_SYS_XFAM_FIXED1), 0x3);
	assert_int_equal(field(s, MD_SYS_NUM_CPUID_CONFIG), 12);
	/* Newer modules' MAX_VCPUS_PER_TD: Linux needs >= the present CPUs. */
	uint64_t maxv = field(s, MD_SYS_MAX_VCPUS_PER_TD);
	assert_true(maxv >= sim_info(s).n_lps && maxv <= 0xFFFF);
	assert_int_equal(field(s, MD_SYS_MODULE_HV), 0);
	assert_int_equal(field(s, MD_SYS_MIN_UPDATE_HV), 0);
	assert_int_equal(field(s, MD_SYS_NO_DOWNGRADE), 0);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__cpuid_config_leaves(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	/* tdx-abi.md 4.3: leaf in 31:0, subleaf in 63:32 (0xFFFFFFFF = none). */
	static const uint64_t want[12] = {
		0xFFFFFFFF00000001ULL, 0x0000000000000004ULL, 0x0000000100000004ULL,
		0x0000000200000004ULL, 0x0000000300000004ULL, 0x0000000000000007ULL,
		0x0000000100000007ULL, 0xFFFFFFFF0000000AULL, 0xFFFFFFFF0000001CULL,
		0xFFFFFFFF80000008ULL, 0x0000000200000007ULL, 0x0000000000000023ULL,
	};
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(field(s, MD_SYS_CPUID_CONFIG_LEAVES + i), want[i]);
	/* Beyond NUM_CPUID_CONFIG: leaves ~0, values 0. */
	for (unsigned i = 12; i < 32; i++) {
		assert_int_equal(field(s, MD_SYS_CPUID_CONFIG_LEAVES + i), ~0ULL);
		assert_int_equal(field(s, MD_SYS_CPUID_CONFIG_VALUES + 2 * i), 0);
		assert_int_equal(field(s, MD_SYS_CPUID_CONFIG_VALUES + 2 * i + 1), 0);
	}
	tdxsim_close(s);
}

static void test_tdh_sys_rd__cmr_fields(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	assert_int_equal(info.n_cmrs, 2);
	/* NUM_CMRS is always MAX_CMR (32), null entries included. */
	assert_int_equal(field(s, MD_SYS_NUM_CMRS), 32);
	for (unsigned i = 0; i < 32; i++) {
		uint64_t b = i < info.n_cmrs ? info.cmrs[i].base : 0;
		uint64_t z = i < info.n_cmrs ? info.cmrs[i].size : 0;
		assert_int_equal(field(s, MD_SYS_CMR_BASE + i), b);
		assert_int_equal(field(s, MD_SYS_CMR_SIZE + i), z);
	}
	assert_int_equal(field(s, MD_SYS_CMR_BASE + 1), 4ULL << 30);
	assert_int_equal(field(s, MD_SYS_CMR_SIZE + 0), 2ULL << 30);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__pkg_fields(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	const tdxsim_platform *p = sim_info(s).platform;
	uint64_t fms = ((uint64_t)(p->cpu_model >> 4) << 16) | (p->cpu_family << 8) |
		       ((p->cpu_model & 0xF) << 4) | p->cpu_stepping;
	assert_int_equal(fms, 0x806F8);          /* Sapphire Rapids CPUID(1).EAX */
	assert_int_equal(field(s, 0x0000000200000001ULL), fms);
	assert_int_equal(field(s, 0x0000000200000002ULL), fms);
	for (unsigned i = 2; i < 8; i++)
		assert_int_equal(field(s, 0x0000000200000001ULL + i), 0);
	tdxsim_close(s);
}

static void test_tdh_sys_rd__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	static const uint64_t st[] = { TDX_KEY_GENERATION_FAILED, TDX_RND_NO_ENTROPY,
				       TDX_SYS_BUSY, TDX_OPERAND_BUSY };
	for (unsigned i = 0; i < 4; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.leaf = TDH_SYS_RD;
		f.nth = 1;
		f.status = st[i];
		assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	}
	/* A fault for any leaf never fires on SYS.RD, which takes no lock. */
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_SYS_BUSY;
	f.nth = 1;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	assert_int_equal(field(s, MD_SYS_MAX_TDMRS), 64);
	uint64_t n = 9;
	assert_int_equal(tdxsim_fault_fired(s, id, &n), TDXSIM_OK);
	assert_int_equal(n, 0);
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_rd__success),
		cmocka_unit_test(test_tdh_sys_rd__lp_not_initialised),
		cmocka_unit_test(test_tdh_sys_rd__before_sys_init),
		cmocka_unit_test(test_tdh_sys_rd__in_ready),
		cmocka_unit_test(test_tdh_sys_rd__after_shutdown),
		cmocka_unit_test(test_tdh_sys_rd__null_id),
		cmocka_unit_test(test_tdh_sys_rd__null_id_ignores_context),
		cmocka_unit_test(test_tdh_sys_rd__id_zero_reads_num_pkgs),
		cmocka_unit_test(test_tdh_sys_rd__walk_terminates),
		cmocka_unit_test(test_tdh_sys_rd__next_element_keeps_caller_bits),
		cmocka_unit_test(test_tdh_sys_rd__context_ignored),
		cmocka_unit_test(test_tdh_sys_rd__size_and_non_arch_bits_ignored),
		cmocka_unit_test(test_tdh_sys_rd__reserved_bits_31_24),
		cmocka_unit_test(test_tdh_sys_rd__reserved_bits_49_47),
		cmocka_unit_test(test_tdh_sys_rd__reserved_bit_55),
		cmocka_unit_test(test_tdh_sys_rd__reserved_bit_62),
		cmocka_unit_test(test_tdh_sys_rd__last_element_nonzero),
		cmocka_unit_test(test_tdh_sys_rd__last_field_nonzero),
		cmocka_unit_test(test_tdh_sys_rd__unknown_field),
		cmocka_unit_test(test_tdh_sys_rd__linux_version_fields),
		cmocka_unit_test(test_tdh_sys_rd__linux_features0),
		cmocka_unit_test(test_tdh_sys_rd__linux_tdmr_fields),
		cmocka_unit_test(test_tdh_sys_rd__linux_base_sizes),
		cmocka_unit_test(test_tdh_sys_rd__linux_td_config_fields),
		cmocka_unit_test(test_tdh_sys_rd__cpuid_config_leaves),
		cmocka_unit_test(test_tdh_sys_rd__cmr_fields),
		cmocka_unit_test(test_tdh_sys_rd__pkg_fields),
		cmocka_unit_test(test_tdh_sys_rd__fault_refuses_unreachable_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
