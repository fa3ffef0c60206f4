/*
 * TDH.MNG.INIT (21): tdx-abi.md 4.1, 6.3 step 4; check order in
 * seam/leaf/tdh_mng_init.c. RCX = TDR, RDX = TD_PARAMS (shared, 1024-aligned)
 * -> RCX = 0, or leaf (31:0) | sub-leaf (63:32) on CPUID errors.
 * Each TD_PARAMS error has its own test with the exact operand id.
 * Operand locks (fault plan nth): TDR 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/metadata_sys.h"
#include "seam/metadata_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define LEAF_NA(leaf) (0xFFFFFFFF00000000ULL | (leaf))

struct fx {
	struct tsim_env e;
	struct tsim_td td;
	struct tdx_td_params p;
};

static void fx_init(struct fx *f)
{
	tsim_env_init(&f->e);
	tsim_td_create(&f->e, &f->td);
	tsim_td_addcx(&f->td);
	tsim_td_params(&f->e, &f->p, 0, 4);
}

static struct seam_td *td_obj(struct fx *f)
{
	return seam_obj_get(&f->e.s->mod, f->td.tdr);
}

/* TD_PARAMS to shared memory at pa, then one MNG.INIT (no retry). */
static uint64_t init_at(struct tsim_env *e, uint64_t tdr, uint64_t pa,
			const struct tdx_td_params *p, uint64_t *rcx)
{
	assert_int_equal(tdxsim_mem_write(e->s, pa, 0, p, sizeof(*p)), TDXSIM_OK);
	struct tdx_module_args a = { .rcx = tdr, .rdx = pa, .r8 = 0x88 };
	uint64_t st = seamcall_raw(e->s, 0, TDH_MNG_INIT, &a);
	assert_int_equal(a.rdx, pa);
	assert_int_equal(a.r8, 0x88);
	if (rcx)
		*rcx = a.rcx;
	return st;
}

static uint64_t init_raw(struct fx *f, uint64_t *rcx)
{
	return init_at(&f->e, f->td.tdr, f->e.shared_pa, &f->p, rcx);
}

static void expect_ok(struct fx *f)
{
	uint64_t rcx = 1;
	assert_tdx_status(TDX_SUCCESS, init_raw(f, &rcx));
	assert_int_equal(rcx, 0);
	assert_int_equal(atomic_load(&td_obj(f)->op_state), OP_INITIALIZED);
}

/* Error with RCX = rcx_out; the TD stays UNINITIALIZED and may be retried. */
static void expect_err_rcx(struct fx *f, uint64_t status, uint64_t rcx_out)
{
	uint64_t rcx = ~0ULL;
	assert_tdx_status(status, init_raw(f, &rcx));
	assert_int_equal(rcx, rcx_out);
	assert_int_equal(atomic_load(&td_obj(f)->op_state), OP_UNINITIALIZED);
	assert_null(td_obj(f)->vcpus);
}

static void expect_invalid(struct fx *f, unsigned op)
{
	expect_err_rcx(f, tdx_status_op(TDX_OPERAND_INVALID, op), 0);
}

/* The TD_PARAMS error tests: one field broken, the rest as KVM sets it. Then
 * the corrected TD_PARAMS succeed. */
#define PARAMS_TEST(name, op, breakit)                                   \
static void test_tdh_mng_init__##name(void **state)                      \
{                                                                        \
	(void)state;                                                     \
	struct fx f;                                                     \
	fx_init(&f);                                                     \
	struct tdx_td_params good = f.p;                                 \
	struct tdx_td_params *p = &f.p;                                  \
	breakit;                                                         \
	expect_invalid(&f, op);                                          \
	f.p = good;                                                      \
	expect_ok(&f);                                                   \
	tsim_env_fini(&f.e);                                             \
}

PARAMS_TEST(attributes_unsupported_bit, TDX_OPERAND_ID_ATTRIBUTES, p->attributes = 1ULL << 1)
PARAMS_TEST(attributes_high_bit, TDX_OPERAND_ID_ATTRIBUTES, p->attributes = 1ULL << 62)
PARAMS_TEST(attributes_migratable_debug, TDX_OPERAND_ID_ATTRIBUTES,
	    p->attributes = TDX_TD_ATTR_MIGRATABLE | TDX_TD_ATTR_DEBUG)
PARAMS_TEST(attributes_migratable_perfmon, TDX_OPERAND_ID_ATTRIBUTES,
	    p->attributes = TDX_TD_ATTR_MIGRATABLE | TDX_TD_ATTR_PERFMON)
PARAMS_TEST(xfam_unsupported_bit, TDX_OPERAND_ID_XFAM, p->xfam = 0x3 | (1ULL << 3))
PARAMS_TEST(xfam_fixed1_missing, TDX_OPERAND_ID_XFAM, p->xfam = 0x1)
PARAMS_TEST(xfam_avx512_without_avx, TDX_OPERAND_ID_XFAM, p->xfam = 0x3 | 0xE0)
PARAMS_TEST(xfam_avx512_partial, TDX_OPERAND_ID_XFAM, p->xfam = 0x7 | 0x60)
PARAMS_TEST(xfam_cet_mismatch, TDX_OPERAND_ID_XFAM, p->xfam = 0x3 | (1ULL << 11))
PARAMS_TEST(xfam_amx_mismatch, TDX_OPERAND_ID_XFAM, p->xfam = 0x3 | (1ULL << 17))
PARAMS_TEST(max_vcpus_zero, TDX_OPERAND_ID_MAX_VCPUS, p->max_vcpus = 0)
PARAMS_TEST(max_vcpus_too_many, TDX_OPERAND_ID_MAX_VCPUS, p->max_vcpus = MD_MAX_VCPUS_PER_TD + 1)
PARAMS_TEST(num_l2_vms_too_many, TDX_OPERAND_ID_NUM_L2_VMS, p->num_l2_vms = 4)
PARAMS_TEST(reserved0, TDX_OPERAND_ID_RDX, p->reserved0 = 1u << 24)
PARAMS_TEST(config_flags_unsupported_bit, TDX_OPERAND_ID_EXEC_CONTROLS, p->config_flags |= 1ULL << 3)
PARAMS_TEST(config_flags_high_bit, TDX_OPERAND_ID_EXEC_CONTROLS, p->config_flags |= 1ULL << 63)
PARAMS_TEST(eptp_memory_type, TDX_OPERAND_ID_EPTP_CONTROLS, p->eptp_controls = 0x18)  /* UC */
PARAMS_TEST(eptp_three_levels, TDX_OPERAND_ID_EPTP_CONTROLS, p->eptp_controls = 0x16)
PARAMS_TEST(eptp_six_levels, TDX_OPERAND_ID_EPTP_CONTROLS, p->eptp_controls = 0x2E)
PARAMS_TEST(eptp_ad_bits, TDX_OPERAND_ID_EPTP_CONTROLS, p->eptp_controls = 0x1E | 0x40)
PARAMS_TEST(eptp_sss, TDX_OPERAND_ID_EPTP_CONTROLS, p->eptp_controls = 0x1E | 0x80)
PARAMS_TEST(eptp_reserved, TDX_OPERAND_ID_EPTP_CONTROLS, p->eptp_controls = 0x1E | 0x100)
PARAMS_TEST(eptp_address, TDX_OPERAND_ID_EPTP_CONTROLS, p->eptp_controls = 0x1E | 0x1000)
PARAMS_TEST(eptp_high_bits, TDX_OPERAND_ID_EPTP_CONTROLS, p->eptp_controls = 0x1E | (1ULL << 63))
PARAMS_TEST(eptp_gpaw_needs_5_levels, TDX_OPERAND_ID_EPTP_CONTROLS,
	    p->config_flags |= TDX_CONFIG_FLAGS_GPAW)
PARAMS_TEST(tsc_frequency_zero, TDX_OPERAND_ID_TSC_FREQUENCY, p->tsc_frequency = 0)
PARAMS_TEST(tsc_frequency_too_low, TDX_OPERAND_ID_TSC_FREQUENCY, p->tsc_frequency = 3)
PARAMS_TEST(tsc_frequency_too_high, TDX_OPERAND_ID_TSC_FREQUENCY, p->tsc_frequency = 401)
PARAMS_TEST(reserved1, TDX_OPERAND_ID_RDX, p->reserved1[37] = 1)
PARAMS_TEST(msr_config_ctls_reserved, TDX_OPERAND_ID_RDX, p->msr_config_ctls = 0x2)
PARAMS_TEST(reserved2, TDX_OPERAND_ID_RDX, p->reserved2[0] = 0x80)
PARAMS_TEST(cpuid_reserved_entries, TDX_OPERAND_ID_RDX, p->cpuid_values[md_num_cpuid_config].edx = 1)
PARAMS_TEST(cpuid_reserved_tail, TDX_OPERAND_ID_RDX, p->cpuid_values[47].eax = 1)
PARAMS_TEST(arch_capabilities_not_enabled, TDX_OPERAND_ID_IA32_ARCH_CAPABILITIES_CONFIG,
	    p->ia32_arch_capabilities_config = 1ULL << 4)
PARAMS_TEST(arch_capabilities_not_configurable, TDX_OPERAND_ID_IA32_ARCH_CAPABILITIES_CONFIG,
	    (p->msr_config_ctls = 1, p->ia32_arch_capabilities_config = 1ULL << 0))

/* CPUID errors: OPERAND_INVALID + CPUID_CONFIG, RCX = leaf | sub-leaf << 32. */
static void cpuid_err(struct fx *f, uint64_t rcx)
{
	expect_err_rcx(f, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_CPUID_CONFIG), rcx);
}

static int cfg_idx(uint32_t leaf, uint32_t subleaf)
{
	for (unsigned i = 0; i < md_num_cpuid_config; i++)
		if (md_cpuid_configs[i].leaf == leaf && md_cpuid_configs[i].subleaf == subleaf)
			return (int)i;
	fail_msg("no CPUID_CONFIG entry 0x%x/0x%x", leaf, subleaf);
	return -1;
}

static void test_tdh_mng_init__cpuid_not_configurable(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	/* CPUID(1).EDX bit 0 (FPU) is not configurable; leaf 1 has no sub-leaf. */
	int i = cfg_idx(1, 0xFFFFFFFF);
	assert_false(md_cpuid_configs[i].edx & 1);
	f.p.cpuid_values[i].edx = 1;
	cpuid_err(&f, LEAF_NA(1));
	f.p.cpuid_values[i].edx = 0;
	/* CPUID(4, 2).EAX: nothing configurable. */
	i = cfg_idx(4, 2);
	f.p.cpuid_values[i].eax = 0x100;
	cpuid_err(&f, (2ULL << 32) | 4);
	f.p.cpuid_values[i].eax = 0;
	expect_ok(&f);
	tsim_env_fini(&f.e);
}

/* Several bad entries: the lowest leaf/sub-leaf is reported, not the first
 * CPUID_CONFIG index. */
static void test_tdh_mng_init__cpuid_error_order(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	int ext = cfg_idx(0x80000008, 0xFFFFFFFF), l72 = cfg_idx(7, 2);
	assert_true(ext < l72);
	f.p.cpuid_values[ext].eax = 1u << 31;
	f.p.cpuid_values[l72].eax = 1;
	cpuid_err(&f, (2ULL << 32) | 7);
	f.p.cpuid_values[l72].eax = 0;
	cpuid_err(&f, LEAF_NA(0x80000008));
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__cpuid_fms_not_native(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	int i = cfg_idx(1, 0xFFFFFFFF);
	uint32_t native = md_platform_fms(f.e.s);
	f.p.cpuid_values[i].eax = native ^ 0x10;        /* another model */
	cpuid_err(&f, LEAF_NA(1));
	/* The native value itself is accepted. */
	f.p.cpuid_values[i].eax = native;
	expect_ok(&f);
	assert_int_equal(td_obj(&f)->cpuid_values[i][0], native);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__cpuid_tsx_mismatch(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	int i = cfg_idx(7, 0);
	f.p.cpuid_values[i].ebx = 1u << 4;              /* HLE without RTM */
	cpuid_err(&f, 7);
	f.p.cpuid_values[i].ebx = 1u << 11;             /* RTM without HLE */
	cpuid_err(&f, 7);
	f.p.cpuid_values[i].ebx = (1u << 4) | (1u << 11);
	expect_ok(&f);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__migratable_with_l2_vms(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = tsim_page(&f.e);
	struct tdx_module_args a = { .rcx = pa, .rdx = f.td.tdr };
	seamcall_ok(f.e.s, 0, TDH_MNG_ADDCX, &a);
	f.p.attributes = TDX_TD_ATTR_MIGRATABLE;
	f.p.num_l2_vms = 1;
	expect_invalid(&f, TDX_OPERAND_ID_RDX);
	f.p.num_l2_vms = 0;
	expect_ok(&f);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__tdcs_not_allocated_for_l2_vms(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.p.num_l2_vms = 1;
	expect_err_rcx(&f, TDX_TDCS_NOT_ALLOCATED, 0);
	/* One more TDCS page per L2 VM. */
	uint64_t pa = tsim_page(&f.e);
	struct tdx_module_args a = { .rcx = pa, .rdx = f.td.tdr };
	seamcall_ok(f.e.s, 0, TDH_MNG_ADDCX, &a);
	expect_ok(&f);
	assert_int_equal(td_obj(&f)->num_l2_vms, 1);
	tsim_env_fini(&f.e);
}

/* Where two fields are wrong, the first in the module's order is reported. */
static void test_tdh_mng_init__params_check_order(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct tdx_td_params good = f.p;
	f.p.attributes = 1ULL << 1;
	f.p.xfam = 0;
	f.p.max_vcpus = 0;
	expect_invalid(&f, TDX_OPERAND_ID_ATTRIBUTES);
	f.p.attributes = 0;
	expect_invalid(&f, TDX_OPERAND_ID_XFAM);
	f.p = good;
	f.p.num_l2_vms = 9;
	f.p.max_vcpus = 0;
	expect_invalid(&f, TDX_OPERAND_ID_MAX_VCPUS);
	f.p = good;
	f.p.reserved0 = 1;
	f.p.config_flags = 1ULL << 10;
	expect_invalid(&f, TDX_OPERAND_ID_RDX);
	f.p = good;
	f.p.config_flags = 1ULL << 10;
	f.p.eptp_controls = 0;
	expect_invalid(&f, TDX_OPERAND_ID_EXEC_CONTROLS);
	f.p = good;
	f.p.eptp_controls = 0;
	f.p.tsc_frequency = 0;
	expect_invalid(&f, TDX_OPERAND_ID_EPTP_CONTROLS);
	f.p = good;
	f.p.tsc_frequency = 0;
	f.p.reserved1[0] = 1;
	expect_invalid(&f, TDX_OPERAND_ID_TSC_FREQUENCY);
	f.p = good;
	f.p.reserved2[0] = 1;
	f.p.cpuid_values[0].edx = 1;
	expect_invalid(&f, TDX_OPERAND_ID_RDX);
	f.p = good;
	f.p.cpuid_values[0].edx = 1;
	f.p.ia32_arch_capabilities_config = 1;
	cpuid_err(&f, LEAF_NA(1));
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__params_pa_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = f.e.shared_pa;
	assert_int_equal(tdxsim_mem_write(f.e.s, pa, 0, &f.p, sizeof(f.p)), TDXSIM_OK);
	uint64_t bad[] = {
		pa + 0x200,                                   /* 512-aligned only */
		pa + 8,
		tsim_keyed_pa(&f.e, pa, f.td.hkid),           /* a TDX private KeyID */
		tsim_keyed_pa(&f.e, pa, f.e.first_keyid),     /* the global KeyID */
		1ULL << 52,
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tdx_module_args a = { .rcx = f.td.tdr, .rdx = bad[i] };
		assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX),
				  seamcall_raw(f.e.s, 0, TDH_MNG_INIT, &a));
		assert_int_equal(a.rcx, 0);
		assert_int_equal(a.rdx, bad[i]);
	}
	assert_int_equal(atomic_load(&td_obj(&f)->op_state), OP_UNINITIALIZED);
	/* A shared (MKTME) KeyID is fine. */
	struct tdx_module_args a = { .rcx = f.td.tdr, .rdx = tsim_keyed_pa(&f.e, pa, 1) };
	seamcall_ok(f.e.s, 0, TDH_MNG_INIT, &a);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__success(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	expect_ok(&f);
	struct seam_td *td = td_obj(&f);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(f.e.s, &info), TDXSIM_OK);
	assert_int_equal(td->attributes, 0);
	assert_int_equal(td->xfam, 0x3);
	assert_int_equal(td->max_vcpus, 4);
	assert_int_equal(td->num_l2_vms, 0);
	assert_int_equal(td->ept_levels, 4);
	assert_false(td->gpaw);
	assert_int_equal(seam_td_shared_bit(td), 1ULL << 47);
	assert_int_equal(td->eptp_controls, TDX_EPTP_WB_4LVL | f.td.tdcs[3]);
	assert_int_equal(td->config_flags, TDX_CONFIG_FLAGS_NO_RBP_MOD);
	assert_int_equal(td->tsc_frequency, info.platform->tsc_mhz / 25);
	uint64_t native_hz = (uint64_t)info.platform->tsc_mhz * 1000000ULL;
	unsigned __int128 m = ((unsigned __int128)(td->tsc_frequency * 25000000ULL) << 48) / native_hz;
	assert_int_equal(td->tsc_multiplier, (uint64_t)m);
	assert_int_equal(td->td_ctls, 0);
	assert_int_equal(td->notify_enables, 0);
	assert_int_equal(atomic_load(&td->td_epoch), 1);
	assert_int_equal(atomic_load(&td->num_vcpus), 0);
	assert_non_null(td->vcpus);
	/* CPUID defaults: leaf 1 EAX = native family/model/stepping. */
	assert_int_equal(td->cpuid_values[cfg_idx(1, 0xFFFFFFFF)][0], md_platform_fms(f.e.s));
	/* No pages were added or retyped. */
	assert_int_equal(atomic_load(&td->chldcnt), TDX_TDCS_PAGES);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__success_five_levels_gpaw(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.p.eptp_controls = TDX_EPTP_WB_5LVL;
	f.p.config_flags = TDX_CONFIG_FLAGS_GPAW | TDX_CONFIG_FLAGS_NO_RBP_MOD |
			   TDX_CONFIG_FLAGS_FLEXIBLE_PENDING_VE;
	expect_ok(&f);
	struct seam_td *td = td_obj(&f);
	assert_int_equal(td->ept_levels, 5);
	assert_true(td->gpaw);
	assert_int_equal(seam_td_shared_bit(td), 1ULL << 51);
	assert_int_equal(td->eptp_controls, TDX_EPTP_WB_5LVL | f.td.tdcs[3]);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__success_five_levels_no_gpaw(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.p.eptp_controls = TDX_EPTP_WB_5LVL;
	expect_ok(&f);
	assert_int_equal(td_obj(&f)->ept_levels, 5);
	assert_false(td_obj(&f)->gpaw);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__success_attributes_and_measurements(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.p.attributes = TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE | TDX_TD_ATTR_PKS |
			 TDX_TD_ATTR_PERFMON;
	f.p.xfam = 0x3 | 0x4 | 0xE0 | (3ULL << 17) | (3ULL << 11);     /* AVX, AVX-512, AMX, CET */
	f.p.max_vcpus = MD_MAX_VCPUS_PER_TD;
	f.p.tsc_frequency = 400;
	for (unsigned i = 0; i < 48; i++) {
		f.p.mrconfigid[i] = (uint8_t)i;
		f.p.mrowner[i] = (uint8_t)(0x40 + i);
		f.p.mrownerconfig[i] = (uint8_t)(0x80 + i);
	}
	f.p.msr_config_ctls = 1;
	f.p.ia32_arch_capabilities_config = (1ULL << 4) | (1ULL << 19) | (1ULL << 20) | (1ULL << 24);
	expect_ok(&f);
	struct seam_td *td = td_obj(&f);
	assert_int_equal(td->attributes, f.p.attributes);
	assert_int_equal(td->xfam, f.p.xfam);
	assert_int_equal(td->max_vcpus, MD_MAX_VCPUS_PER_TD);
	assert_int_equal(td->tsc_frequency, 400);
	assert_int_equal(td->td_ctls, 1);           /* PENDING_VE_DISABLE from SEPT_VE_DISABLE */
	assert_memory_equal(td->mrconfigid, f.p.mrconfigid, 48);
	assert_memory_equal(td->mrowner, f.p.mrowner, 48);
	assert_memory_equal(td->mrownerconfig, f.p.mrownerconfig, 48);
	uint8_t zero[4][48] = { { 0 } };
	assert_memory_equal(td->rtmr, zero, sizeof(zero));
	assert_int_equal(td->ia32_arch_capabilities_config, f.p.ia32_arch_capabilities_config);
	/* CPUID(7,0).ECX.PKS reflects ATTRIBUTES.PKS. */
	assert_true(td->cpuid_values[cfg_idx(7, 0)][2] & (1u << 31));
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__success_tsc_frequency_bounds(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.p.tsc_frequency = 4;
	expect_ok(&f);
	assert_int_equal(td_obj(&f)->tsc_frequency, 4);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__success_cpuid_config(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	int e8 = cfg_idx(0x80000008, 0xFFFFFFFF), l7 = cfg_idx(7, 0), la = cfg_idx(0xA, 0xFFFFFFFF);
	f.p.cpuid_values[e8].eax = 0x34;                /* 52 physical address bits */
	f.p.cpuid_values[l7].ebx = md_cpuid_configs[l7].ebx;    /* every configurable bit */
	f.p.cpuid_values[l7].ecx = md_cpuid_configs[l7].ecx;
	expect_ok(&f);
	struct seam_td *td = td_obj(&f);
	assert_int_equal(td->cpuid_values[e8][0], 0x3034);      /* LA width 48 */
	assert_int_equal(td->cpuid_values[l7][1], md_cpuid_configs[l7].ebx);
	assert_int_equal(td->cpuid_values[l7][2], md_cpuid_configs[l7].ecx & ~(1u << 31));
	assert_int_equal(td->cpuid_values[la][0], 0);           /* no PERFMON */
	uint32_t v[4];
	assert_true(md_td_cpuid(f.e.s, td, 0x80000008, 0, v));
	assert_int_equal(v[0], 0x3034);
	assert_true(md_td_cpuid(f.e.s, td, 0, 0, v));
	assert_int_equal(v[1], 0x756E6547);
	assert_false(md_td_cpuid(f.e.s, td, 0x4, 7, v));
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__success_migratable_fms(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.p.attributes = TDX_TD_ATTR_MIGRATABLE;
	int i = cfg_idx(1, 0xFFFFFFFF);
	f.p.cpuid_values[i].eax = md_platform_fms(f.e.s) ^ 0x10;
	expect_ok(&f);
	assert_int_equal(td_obj(&f)->cpuid_values[i][0], md_platform_fms(f.e.s) ^ 0x10);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__op_state_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	expect_ok(&f);
	uint64_t rcx = 7;
	assert_tdx_status(TDX_OP_STATE_INCORRECT, init_raw(&f, &rcx));
	assert_int_equal(rcx, 0);
	assert_int_equal(atomic_load(&td_obj(&f)->op_state), OP_INITIALIZED);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__tdcs_not_allocated(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	struct tdx_td_params p;
	tsim_td_params(&e, &p, 0, 1);
	for (unsigned i = 0; i < TDX_TDCS_PAGES - 1; i++) {
		assert_tdx_status(TDX_TDCS_NOT_ALLOCATED, init_at(&e, td.tdr, e.shared_pa, &p, NULL));
		struct tdx_module_args a = { .rcx = tsim_page(&e), .rdx = td.tdr };
		seamcall_ok(e.s, 0, TDH_MNG_ADDCX, &a);
	}
	/* 5 of 6: still missing; the TD_PARAMS PA is not even looked at. */
	struct tdx_module_args a = { .rcx = td.tdr, .rdx = 3 };
	assert_tdx_status(TDX_TDCS_NOT_ALLOCATED, seamcall_raw(e.s, 0, TDH_MNG_INIT, &a));
	assert_int_equal(a.rcx, 0);
	tsim_env_fini(&e);
}

static void test_tdh_mng_init__td_keys_not_configured(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	struct tdx_td_params p;
	tsim_td_params(&e, &p, 0, 1);
	assert_tdx_status(TDX_TD_KEYS_NOT_CONFIGURED, init_at(&e, td.tdr, e.shared_pa, &p, NULL));
	struct tdx_module_args d = { .rcx = td.tdr };
	seamcall_ok(e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	assert_tdx_status(TDX_TD_KEYS_NOT_CONFIGURED, init_at(&e, td.tdr, e.shared_pa, &p, NULL));
	tsim_env_fini(&e);
}

static void test_tdh_mng_init__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	atomic_store(&td_obj(&f)->fatal, 1);
	expect_err_rcx(&f, TDX_TD_FATAL, 0);
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	uint64_t pa = f.e.shared_pa;
	assert_int_equal(tdxsim_mem_write(f.e.s, pa, 0, &f.p, sizeof(f.p)), TDXSIM_OK);
	struct { uint64_t tdr, status; } c[] = {
		{ f.td.tdr + 0x40, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX) },
		{ tsim_keyed_pa(&f.e, f.td.tdr, 2), tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX) },
		{ 3ULL << 30, tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX) },
		{ tsim_page(&f.e), tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX) },
		{ f.td.tdcs[1], tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX) },
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct tdx_module_args a = { .rcx = c[i].tdr, .rdx = pa };
		assert_tdx_status(c[i].status, seamcall_raw(f.e.s, 0, TDH_MNG_INIT, &a));
		assert_int_equal(a.rcx, 0);
	}
	tsim_env_fini(&f.e);
}

static void test_tdh_mng_init__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MNG_INIT, -1, 1, 1);
	expect_err_rcx(&f, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX), 0);
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	expect_ok(&f);
	tsim_env_fini(&f.e);
}

/* KVM's flow: an error, then the corrected TD_PARAMS, then vCPUs may follow. */
static void test_tdh_mng_init__retry_after_error(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.p.max_vcpus = 0;
	f.p.attributes = TDX_TD_ATTR_DEBUG;
	expect_invalid(&f, TDX_OPERAND_ID_MAX_VCPUS);
	f.p.max_vcpus = 2;
	expect_ok(&f);
	assert_int_equal(td_obj(&f)->max_vcpus, 2);
	assert_int_equal(td_obj(&f)->attributes, TDX_TD_ATTR_DEBUG);
	tsim_env_fini(&f.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_init__success),
		cmocka_unit_test(test_tdh_mng_init__success_five_levels_gpaw),
		cmocka_unit_test(test_tdh_mng_init__success_five_levels_no_gpaw),
		cmocka_unit_test(test_tdh_mng_init__success_attributes_and_measurements),
		cmocka_unit_test(test_tdh_mng_init__success_tsc_frequency_bounds),
		cmocka_unit_test(test_tdh_mng_init__success_cpuid_config),
		cmocka_unit_test(test_tdh_mng_init__success_migratable_fms),
		cmocka_unit_test(test_tdh_mng_init__retry_after_error),
		cmocka_unit_test(test_tdh_mng_init__attributes_unsupported_bit),
		cmocka_unit_test(test_tdh_mng_init__attributes_high_bit),
		cmocka_unit_test(test_tdh_mng_init__attributes_migratable_debug),
		cmocka_unit_test(test_tdh_mng_init__attributes_migratable_perfmon),
		cmocka_unit_test(test_tdh_mng_init__xfam_unsupported_bit),
		cmocka_unit_test(test_tdh_mng_init__xfam_fixed1_missing),
		cmocka_unit_test(test_tdh_mng_init__xfam_avx512_without_avx),
		cmocka_unit_test(test_tdh_mng_init__xfam_avx512_partial),
		cmocka_unit_test(test_tdh_mng_init__xfam_cet_mismatch),
		cmocka_unit_test(test_tdh_mng_init__xfam_amx_mismatch),
		cmocka_unit_test(test_tdh_mng_init__max_vcpus_zero),
		cmocka_unit_test(test_tdh_mng_init__max_vcpus_too_many),
		cmocka_unit_test(test_tdh_mng_init__num_l2_vms_too_many),
		cmocka_unit_test(test_tdh_mng_init__tdcs_not_allocated_for_l2_vms),
		cmocka_unit_test(test_tdh_mng_init__reserved0),
		cmocka_unit_test(test_tdh_mng_init__config_flags_unsupported_bit),
		cmocka_unit_test(test_tdh_mng_init__config_flags_high_bit),
		cmocka_unit_test(test_tdh_mng_init__eptp_memory_type),
		cmocka_unit_test(test_tdh_mng_init__eptp_three_levels),
		cmocka_unit_test(test_tdh_mng_init__eptp_six_levels),
		cmocka_unit_test(test_tdh_mng_init__eptp_ad_bits),
		cmocka_unit_test(test_tdh_mng_init__eptp_sss),
		cmocka_unit_test(test_tdh_mng_init__eptp_reserved),
		cmocka_unit_test(test_tdh_mng_init__eptp_address),
		cmocka_unit_test(test_tdh_mng_init__eptp_high_bits),
		cmocka_unit_test(test_tdh_mng_init__eptp_gpaw_needs_5_levels),
		cmocka_unit_test(test_tdh_mng_init__tsc_frequency_zero),
		cmocka_unit_test(test_tdh_mng_init__tsc_frequency_too_low),
		cmocka_unit_test(test_tdh_mng_init__tsc_frequency_too_high),
		cmocka_unit_test(test_tdh_mng_init__reserved1),
		cmocka_unit_test(test_tdh_mng_init__msr_config_ctls_reserved),
		cmocka_unit_test(test_tdh_mng_init__reserved2),
		cmocka_unit_test(test_tdh_mng_init__cpuid_not_configurable),
		cmocka_unit_test(test_tdh_mng_init__cpuid_error_order),
		cmocka_unit_test(test_tdh_mng_init__cpuid_fms_not_native),
		cmocka_unit_test(test_tdh_mng_init__cpuid_tsx_mismatch),
		cmocka_unit_test(test_tdh_mng_init__cpuid_reserved_entries),
		cmocka_unit_test(test_tdh_mng_init__cpuid_reserved_tail),
		cmocka_unit_test(test_tdh_mng_init__arch_capabilities_not_enabled),
		cmocka_unit_test(test_tdh_mng_init__arch_capabilities_not_configurable),
		cmocka_unit_test(test_tdh_mng_init__migratable_with_l2_vms),
		cmocka_unit_test(test_tdh_mng_init__params_check_order),
		cmocka_unit_test(test_tdh_mng_init__params_pa_invalid),
		cmocka_unit_test(test_tdh_mng_init__op_state_incorrect),
		cmocka_unit_test(test_tdh_mng_init__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mng_init__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mng_init__td_fatal),
		cmocka_unit_test(test_tdh_mng_init__tdr_invalid),
		cmocka_unit_test(test_tdh_mng_init__tdr_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
