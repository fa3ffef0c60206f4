/*
 * TDH.MNG.RD (11): tdx-abi.md 4.4, 4.6, 6.3 step 5; check order in
 * seam/leaf/tdh_mng_rd.c, field rules in seam/metadata_td.h.
 * RCX = TDR, RDX = field id -> R8 = value (0 on error); version 1: RDX = next
 * readable field id (-1 at the end and on errors).
 * Operand locks in order (fault plan nth): TDR 1, OP_STATE 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "td_fixtures.h"
#include "seam/metadata_td.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL
#define NULL_ID 0xFFFFFFFFFFFFFFFFULL
#define MNG_RD_V1 (TDH_MNG_RD | (1ULL << 16))
#define CPUID_ID(leaf, sub, el) (MD_TD_CPUID_VALUES | md_td_cpuid_code((leaf), (sub), (el)))
#define NA MD_CPUID_SUBLEAF_NA

/* One MNG.RD of the given version; R9 must come back untouched. */
static uint64_t rd_raw(struct tsim_td *td, unsigned ver, uint64_t tdr, uint64_t field,
		       uint64_t *val, uint64_t *rdx)
{
	struct tdx_module_args a = { .rcx = tdr, .rdx = field, .r8 = SENT, .r9 = SENT };
	uint64_t st = seamcall_raw(td->e->s, 0, ver ? MNG_RD_V1 : TDH_MNG_RD, &a);
	assert_int_equal(a.r9, SENT);
	assert_int_equal(a.rcx, tdr);
	*val = a.r8;
	*rdx = a.rdx;
	return st;
}

static uint64_t rd_ok(struct tsim_td *td, uint64_t field)
{
	uint64_t v, rdx;
	assert_tdx_status(TDX_SUCCESS, rd_raw(td, 0, td->tdr, field, &v, &rdx));
	assert_int_equal(rdx, field);                  /* version 0 leaves RDX */
	return v;
}

/* Version 1 read; returns the next id. */
static uint64_t rd1_ok(struct tsim_td *td, uint64_t field, uint64_t *val)
{
	uint64_t v, rdx;
	assert_tdx_status(TDX_SUCCESS, rd_raw(td, 1, td->tdr, field, &v, &rdx));
	if (val)
		*val = v;
	return rdx;
}

/* Error: R8 = 0; RDX untouched (v0) or -1 (v1). */
static void expect_err(struct tsim_td *td, uint64_t tdr, uint64_t field, uint64_t status)
{
	uint64_t v, rdx;
	assert_tdx_status(status, rd_raw(td, 0, tdr, field, &v, &rdx));
	assert_int_equal(v, 0);
	assert_int_equal(rdx, field);
	assert_tdx_status(status, rd_raw(td, 1, tdr, field, &v, &rdx));
	assert_int_equal(v, 0);
	assert_int_equal(rdx, NULL_ID);
}

static void test_tdh_mng_rd__execution_controls(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(f.e.s, &info), TDXSIM_OK);
	assert_int_equal(rd_ok(&f.td, MD_TD_ATTRIBUTES), 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_XFAM), 0x3);
	assert_int_equal(rd_ok(&f.td, MD_TD_MAX_VCPUS), 4);
	assert_int_equal(rd_ok(&f.td, MD_TD_NUM_VCPUS), 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_GPAW), 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_EPTP), TDX_EPTP_WB_4LVL | f.td.tdcs[3]);
	assert_int_equal(rd_ok(&f.td, MD_TD_CONFIG_FLAGS), TDX_CONFIG_FLAGS_NO_RBP_MOD);
	assert_int_equal(rd_ok(&f.td, MD_TD_TSC_FREQUENCY), info.platform->tsc_mhz / 25);
	assert_int_equal(rd_ok(&f.td, MD_TD_NUM_L2_VMS), 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_NUM_CPUID_VALUES), md_td_num_cpuid_values());
	assert_int_equal(rd_ok(&f.td, MD_TD_TD_EPOCH), 1);
	assert_int_equal(rd_ok(&f.td, MD_TD_REFCOUNT), 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_REFCOUNT + 1), 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_NUM_ASSOC_VCPUS), 0);
	fx_fini(&f);
}

/* KVM reads the TSC values with short ids (no size, no context). */
static void test_tdh_mng_rd__tsc_kvm_short_ids(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	struct seam_td *td = tsim_td_obj(&f.td);
	uint64_t off = rd_ok(&f.td, 0x110000000000000AULL);
	uint64_t mul = rd_ok(&f.td, 0x110000000000000BULL);
	assert_int_equal(off, td->tsc_offset);
	assert_int_equal(mul, td->tsc_multiplier);
	assert_int_not_equal(mul, 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_TSC_OFFSET), off);
	assert_int_equal(rd_ok(&f.td, MD_TD_TSC_MULTIPLIER), mul);
	fx_fini(&f);
}

static void test_tdh_mng_rd__tdr_fields(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_LIFECYCLE_STATE), TD_KEYS_CONFIGURED);
	assert_int_equal(rd_ok(&f.td, 0x8010000200000005ULL), TD_KEYS_CONFIGURED);
	assert_int_equal(rd_ok(&f.td, 0x8110000100000001ULL), f.td.hkid);
	assert_int_equal(rd_ok(&f.td, 0x9010000200000004ULL), OP_INITIALIZED);
	assert_int_equal(rd_ok(&f.td, MD_TD_FATAL), 0);
	assert_int_equal(rd_ok(&f.td, MD_TD_NUM_TDCX), TDX_TDCS_PAGES);
	assert_int_equal(rd_ok(&f.td, MD_TD_CHLDCNT), TDX_TDCS_PAGES);
	assert_int_equal(rd_ok(&f.td, MD_TD_PKG_CONFIG_BITMAP), (1u << f.e.n_pkgs) - 1);
	for (unsigned i = 0; i < TDX_TDCS_PAGES; i++)
		assert_int_equal(rd_ok(&f.td, MD_TD_TDCX_PA + i),
				 tsim_keyed_pa(&f.e, f.td.tdcs[i], f.td.hkid));
	/* Slots 6-8 (L2 VM roots) exist and are empty. */
	assert_int_equal(rd_ok(&f.td, MD_TD_TDCX_PA + 8), 0);
	expect_err(&f.td, f.td.tdr, MD_TD_TDCX_PA + 9, TDX_METADATA_FIELD_ID_INCORRECT);
	fx_fini(&f);
}

static void test_tdh_mng_rd__measurements(void **state)
{
	(void)state;
	struct fx f;
	fx_init_early(&f, FX_UNINIT);
	struct tdx_td_params p;
	tsim_td_params(&f.e, &p, 0, 1);
	for (unsigned i = 0; i < 48; i++) {
		p.mrconfigid[i] = (uint8_t)(i + 1);
		p.mrowner[i] = (uint8_t)(0x50 + i);
		p.mrownerconfig[i] = (uint8_t)(0xA0 + i);
	}
	assert_tdx_status(TDX_SUCCESS, tsim_td_init_raw(&f.td, &p, NULL));
	for (unsigned j = 0; j < 6; j++) {
		uint64_t w;
		memcpy(&w, p.mrconfigid + 8 * j, 8);
		assert_int_equal(rd_ok(&f.td, MD_TD_MRCONFIGID + j), w);
		memcpy(&w, p.mrowner + 8 * j, 8);
		assert_int_equal(rd_ok(&f.td, MD_TD_MROWNER + j), w);
		memcpy(&w, p.mrownerconfig + 8 * j, 8);
		assert_int_equal(rd_ok(&f.td, MD_TD_MROWNERCONFIG + j), w);
		/* MRTD is all zero until MR.FINALIZE. */
		assert_int_equal(rd_ok(&f.td, MD_TD_MRTD + j), 0);
	}
	expect_err(&f.td, f.td.tdr, MD_TD_MRTD + 6, TDX_METADATA_FIELD_ID_INCORRECT);
	fx_fini(&f);
}

/* After MR.FINALIZE the 48-byte MRTD reads back as 6 elements. */
static void test_tdh_mng_rd__mrtd_after_finalize(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	tsim_vcpu_add(&f.td, 0);
	uint8_t page[4096];
	memset(page, 0x3C, sizeof(page));
	tsim_page_add(&f.td, 0x100000, page, true);
	tsim_td_finalize(&f.td);
	assert_int_equal(rd_ok(&f.td, MD_TD_OP_STATE), OP_RUNNABLE);
	uint8_t mrtd[48], zero[48] = { 0 };
	for (unsigned j = 0; j < 6; j++) {
		uint64_t w = rd_ok(&f.td, MD_TD_MRTD + j);
		memcpy(mrtd + 8 * j, &w, 8);
	}
	assert_memory_equal(mrtd, tsim_td_obj(&f.td)->mrtd, 48);
	assert_memory_not_equal(mrtd, zero, 48);
	assert_int_equal(rd_ok(&f.td, MD_TD_NUM_VCPUS), 1);
	fx_fini(&f);
}

static void test_tdh_mng_rd__debug_td_fields(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE);
	assert_int_equal(rd_ok(&f.td, MD_TD_ATTRIBUTES), TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE);
	assert_int_equal(rd_ok(&f.td, MD_TD_TD_CTLS), 1);       /* PENDING_VE_DISABLE */
	assert_int_equal(rd_ok(&f.td, MD_TD_NOTIFY_ENABLES), 0);
	for (unsigned i = 0; i < 4 * 6; i++)
		assert_int_equal(rd_ok(&f.td, MD_TD_RTMR + i), 0);
	expect_err(&f.td, f.td.tdr, MD_TD_RTMR + 24, TDX_METADATA_FIELD_ID_INCORRECT);
	/* VIRTUAL_TSC is not readable even for a debugger. */
	expect_err(&f.td, f.td.tdr, MD_TD_VIRTUAL_TSC, TDX_METADATA_FIELD_NOT_READABLE);
	fx_fini(&f);
}

static void test_tdh_mng_rd__not_readable(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_SEPT_VE_DISABLE);
	uint64_t nr = TDX_METADATA_FIELD_NOT_READABLE;
	expect_err(&f.td, f.td.tdr, MD_TD_NOTIFY_ENABLES, nr);
	expect_err(&f.td, f.td.tdr, MD_TD_TD_CTLS, nr);
	expect_err(&f.td, f.td.tdr, MD_TD_RTMR, nr);
	expect_err(&f.td, f.td.tdr, MD_TD_RTMR + 23, nr);
	expect_err(&f.td, f.td.tdr, MD_TD_VIRTUAL_TSC, nr);
	fx_fini(&f);
}

static void test_tdh_mng_rd__cpuid_values(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	/* Leaf 0: max basic leaf and "GenuineIntel". */
	uint64_t v = rd_ok(&f.td, CPUID_ID(0, NA, 0));
	assert_int_equal(v & 0xFFFFFFFF, 0x23);
	assert_int_equal(v >> 32, 0x756E6547);
	assert_int_equal(rd_ok(&f.td, CPUID_ID(0, NA, 1)), (0x49656E69ULL << 32) | 0x6C65746E);
	/* KVM's encoding: sub-leaf "not applicable" = bits 8:1 all ones. */
	assert_int_equal(CPUID_ID(1, NA, 0), 0x94100003000003FEULL);
	assert_int_equal(rd_ok(&f.td, 0x94100003000003FEULL) & 0xFFFFFFFF, md_platform_fms(f.e.s));
	/* A leaf without sub-leaves answers any sub-leaf. */
	assert_int_equal(rd_ok(&f.td, CPUID_ID(1, 0, 0)) & 0xFFFFFFFF, md_platform_fms(f.e.s));
	/* Leaf bit 31 is field-code bit 16. */
	assert_int_equal(CPUID_ID(0x80000008, NA, 0), 0x94100003000111FEULL);
	assert_int_equal(rd_ok(&f.td, CPUID_ID(0x80000008, NA, 0)) & 0xFF00, 48u << 8);
	assert_int_equal(rd_ok(&f.td, CPUID_ID(0x80000000, NA, 0)) & 0xFFFFFFFF, 0x80000008);
	/* Leaf 0x15: TSC = 25 MHz x TSC_FREQUENCY. */
	v = rd_ok(&f.td, CPUID_ID(0x15, NA, 0));
	assert_int_equal(v & 0xFFFFFFFF, 1);
	assert_int_equal(v >> 32, tsim_td_obj(&f.td)->tsc_frequency);
	assert_int_equal(rd_ok(&f.td, CPUID_ID(0x15, NA, 1)) & 0xFFFFFFFF, 25000000);
	uint32_t want[4];
	assert_true(md_td_cpuid(f.e.s, tsim_td_obj(&f.td), 7, 0, want));
	assert_int_equal(rd_ok(&f.td, CPUID_ID(7, 0, 1)), ((uint64_t)want[3] << 32) | want[2]);
	fx_fini(&f);
}

static void test_tdh_mng_rd__cpuid_field_id_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	uint64_t inc = TDX_METADATA_FIELD_ID_INCORRECT;
	expect_err(&f.td, f.td.tdr, CPUID_ID(4, NA, 0), inc);   /* leaf 4 needs a sub-leaf */
	expect_err(&f.td, f.td.tdr, CPUID_ID(4, 9, 0), inc);    /* no such sub-leaf */
	expect_err(&f.td, f.td.tdr, CPUID_ID(0x5, NA, 0), inc); /* not virtualised here */
	expect_err(&f.td, f.td.tdr, CPUID_ID(0, NA, 0) | (1ULL << 17), inc);   /* reserved 23:17 */
	expect_err(&f.td, f.td.tdr, CPUID_ID(0, NA, 0) | (1ULL << 23), inc);
	fx_fini(&f);
}

static void test_tdh_mng_rd__field_id_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	uint64_t inc = TDX_METADATA_FIELD_ID_INCORRECT;
	uint64_t bad[] = {
		0x9010000200000003ULL,                  /* unused code in a known class */
		0x1510000300000000ULL,                  /* unknown class */
		MD_TD_ATTRIBUTES | (1ULL << 24),        /* reserved 31:24 */
		MD_TD_ATTRIBUTES | (1ULL << 34),        /* LAST_ELEMENT_IN_FIELD */
		MD_TD_ATTRIBUTES | (1ULL << 38),        /* LAST_FIELD_IN_SEQUENCE */
		MD_TD_ATTRIBUTES | (1ULL << 47),        /* reserved 49:47 */
		MD_TD_ATTRIBUTES | (1ULL << 55),        /* reserved 55 */
		MD_TD_ATTRIBUTES | (1ULL << 62),        /* reserved 62 */
		0x8010000300000020ULL,                  /* TD_UUID: not modelled */
		0,
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_err(&f.td, f.td.tdr, bad[i], inc);
	fx_fini(&f);
}

/* Size, INC_SIZE, WRITE_MASK_VALID and context are ignored; the value has
 * the field's own width. */
static void test_tdh_mng_rd__ignored_id_bits(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE);
	uint64_t attr = TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE;
	assert_int_equal(rd_ok(&f.td, 0x1110000000000000ULL), attr);     /* size 8-bit */
	assert_int_equal(rd_ok(&f.td, 0x1100000000000000ULL), attr);     /* KVM short id */
	assert_int_equal(rd_ok(&f.td, 0x1120000300000000ULL), attr);     /* VP context */
	assert_int_equal(rd_ok(&f.td, MD_TD_ATTRIBUTES | (1ULL << 50) | (1ULL << 51)), attr);
	assert_int_equal(rd_ok(&f.td, 0x8110000300000001ULL), f.td.hkid);  /* HKID read as 64-bit */
	assert_int_equal(rd_ok(&f.td, 0x0110000100000001ULL), f.td.hkid);  /* non-arch bit clear */
	fx_fini(&f);
}

static void test_tdh_mng_rd__v1_next_field(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	uint64_t v;
	assert_int_equal(rd1_ok(&f.td, MD_TD_ATTRIBUTES, &v), MD_TD_XFAM);
	assert_int_equal(v, 0);
	/* Within a multi-element field the next id keeps the caller's bits. */
	assert_int_equal(rd1_ok(&f.td, 0x1310000000000000ULL, NULL), 0x1310000000000001ULL);
	assert_int_equal(rd1_ok(&f.td, MD_TD_MRTD + 5, NULL), MD_TD_MRCONFIGID);
	/* Unreadable fields are skipped: VIRTUAL_TSC, NOTIFY_ENABLES, TD_CTLS, RTMR. */
	assert_int_equal(rd1_ok(&f.td, MD_TD_TSC_FREQUENCY, NULL), MD_TD_NUM_CPUID_VALUES);
	assert_int_equal(rd1_ok(&f.td, MD_TD_NUM_CPUID_VALUES, NULL), MD_TD_CONFIG_FLAGS);
	assert_int_equal(rd1_ok(&f.td, MD_TD_CONFIG_FLAGS, NULL), MD_TD_TD_EPOCH);
	assert_int_equal(rd1_ok(&f.td, MD_TD_MROWNERCONFIG + 5, NULL), CPUID_ID(0, NA, 0));
	/* CPUID_VALUES: element 1, then the next leaf; the last leaf ends the context. */
	assert_int_equal(rd1_ok(&f.td, CPUID_ID(0, NA, 0), NULL), CPUID_ID(0, NA, 1));
	assert_int_equal(rd1_ok(&f.td, CPUID_ID(0, NA, 1), NULL), CPUID_ID(1, NA, 0));
	assert_int_equal(rd1_ok(&f.td, CPUID_ID(4, 3, 1), NULL), CPUID_ID(7, 0, 0));
	assert_int_equal(rd1_ok(&f.td, CPUID_ID(0x80000008, NA, 1), NULL), NULL_ID);
	fx_fini(&f);
}

static void test_tdh_mng_rd__v1_next_field_debug(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG);
	assert_int_equal(rd1_ok(&f.td, MD_TD_NUM_CPUID_VALUES, NULL), MD_TD_NOTIFY_ENABLES);
	assert_int_equal(rd1_ok(&f.td, MD_TD_CONFIG_FLAGS, NULL), MD_TD_TD_CTLS);
	assert_int_equal(rd1_ok(&f.td, MD_TD_MROWNERCONFIG + 5, NULL), MD_TD_RTMR);
	fx_fini(&f);
}

static void test_tdh_mng_rd__v1_null_id(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	uint64_t v, rdx;
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT,
			  rd_raw(&f.td, 1, f.td.tdr, NULL_ID, &v, &rdx));
	assert_int_equal(rdx, MD_TD_FATAL);
	assert_int_equal(v, 0);
	/* The context bits do not matter. */
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT,
			  rd_raw(&f.td, 1, f.td.tdr, NULL_ID & ~(7ULL << 52), &v, &rdx));
	assert_int_equal(rdx, MD_TD_FATAL);
	/* Version 0 has no null-id case: the reserved bits make it incorrect. */
	assert_tdx_status(TDX_METADATA_FIELD_ID_INCORRECT,
			  rd_raw(&f.td, 0, f.td.tdr, NULL_ID, &v, &rdx));
	assert_int_equal(rdx, NULL_ID);
	assert_int_equal(v, 0);
	fx_fini(&f);
}

/* Walking the context with version 1 visits every readable element once. */
static void walk(struct tsim_td *td, unsigned expect)
{
	uint64_t v, id;
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT,
			  rd_raw(td, 1, td->tdr, NULL_ID, &v, &id));
	unsigned n = 0;
	while (id != NULL_ID) {
		id = rd1_ok(td, id, NULL);
		n++;
		assert_true(n <= expect);
	}
	assert_int_equal(n, expect);
}

static void test_tdh_mng_rd__v1_walk_context(void **state)
{
	(void)state;
	struct fx f, d;
	fx_build(&f, 0);
	unsigned ncpuid = 2 * md_td_num_cpuid_values();
	/* TDR 13 + 2, TDCS management 4, execution controls 10, epoch 3,
	 * measurements 24, CPUID values. */
	walk(&f.td, 15 + 4 + 10 + 3 + 24 + ncpuid);
	fx_fini(&f);
	/* A debugger also sees NOTIFY_ENABLES, TD_CTLS and 24 RTMR elements. */
	fx_build(&d, TDX_TD_ATTR_DEBUG);
	walk(&d.td, 15 + 4 + 10 + 3 + 24 + ncpuid + 26);
	tsim_env_fini(&d.e);
}

static void test_tdh_mng_rd__op_state_incorrect(void **state)
{
	(void)state;
	struct fx f;
	fx_init_early(&f, FX_UNINIT);
	expect_err(&f.td, f.td.tdr, MD_TD_HKID, TDX_OP_STATE_INCORRECT);
	fx_fini(&f);
}

static void test_tdh_mng_rd__tdcs_not_allocated(void **state)
{
	(void)state;
	struct fx f;
	fx_init_early(&f, FX_CREATED);
	expect_err(&f.td, f.td.tdr, MD_TD_HKID, TDX_TDCS_NOT_ALLOCATED);
	for (unsigned i = 0; i < TDX_TDCS_PAGES - 1; i++) {
		struct tdx_module_args a = { .rcx = tsim_page(&f.e), .rdx = f.td.tdr };
		seamcall_ok(f.e.s, 0, TDH_MNG_ADDCX, &a);
	}
	expect_err(&f.td, f.td.tdr, MD_TD_HKID, TDX_TDCS_NOT_ALLOCATED);
	fx_fini(&f);
}

static void test_tdh_mng_rd__td_keys_not_configured(void **state)
{
	(void)state;
	struct fx f;
	fx_init_early(&f, FX_NOKEY);
	expect_err(&f.td, f.td.tdr, MD_TD_LIFECYCLE_STATE, TDX_TD_KEYS_NOT_CONFIGURED);
	fx_fini(&f);
}

static void test_tdh_mng_rd__blocked_td(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	struct tdx_module_args d = { .rcx = f.td.tdr };
	seamcall_ok(f.e.s, 0, TDH_MNG_VPFLUSHDONE, &d);
	expect_err(&f.td, f.td.tdr, MD_TD_LIFECYCLE_STATE, TDX_TD_KEYS_NOT_CONFIGURED);
	fx_fini(&f);
}

static void test_tdh_mng_rd__td_fatal(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	atomic_store(&tsim_td_obj(&f.td)->fatal, 1);
	expect_err(&f.td, f.td.tdr, MD_TD_FATAL, TDX_TD_FATAL);
	fx_fini(&f);
}

static void test_tdh_mng_rd__op_state_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	uint64_t busy = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE), v, rdx;
	/* The second lock of each call (TDR first). */
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MNG_RD, -1, 2, 1);
	assert_tdx_status(busy, rd_raw(&f.td, 0, f.td.tdr, MD_TD_HKID, &v, &rdx));
	assert_int_equal(v, 0);
	assert_int_equal(rdx, MD_TD_HKID);
	unsigned id1 = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MNG_RD, -1, 2, 1);
	assert_tdx_status(busy, rd_raw(&f.td, 1, f.td.tdr, MD_TD_HKID, &v, &rdx));
	assert_int_equal(v, 0);
	assert_int_equal(rdx, NULL_ID);
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	assert_int_equal(tsim_fault_fired(f.e.s, id1), 1);
	assert_int_equal(rd_ok(&f.td, MD_TD_HKID), f.td.hkid);
	fx_fini(&f);
}

static void test_tdh_mng_rd__tdr_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	unsigned id = tsim_fault(f.e.s, TDX_OPERAND_BUSY, TDH_MNG_RD, -1, 1, 1);
	uint64_t v, rdx;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX),
			  rd_raw(&f.td, 0, f.td.tdr, MD_TD_HKID, &v, &rdx));
	assert_int_equal(v, 0);
	assert_int_equal(tsim_fault_fired(f.e.s, id), 1);
	assert_int_equal(rd_ok(&f.td, MD_TD_HKID), f.td.hkid);
	fx_fini(&f);
}

static void test_tdh_mng_rd__tdr_invalid(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0);
	expect_err(&f.td, f.td.tdr | 0x100, MD_TD_HKID,
		   tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_err(&f.td, tsim_keyed_pa(&f.e, f.td.tdr, f.td.hkid), MD_TD_HKID,
		   tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
	expect_err(&f.td, 3ULL << 30, MD_TD_HKID,
		   tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX));
	uint64_t pmi = tdx_status_op(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	expect_err(&f.td, f.td.tdcs[0], MD_TD_HKID, pmi);
	expect_err(&f.td, tsim_page(&f.e), MD_TD_HKID, pmi);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_mng_rd__execution_controls),
		cmocka_unit_test(test_tdh_mng_rd__tsc_kvm_short_ids),
		cmocka_unit_test(test_tdh_mng_rd__tdr_fields),
		cmocka_unit_test(test_tdh_mng_rd__measurements),
		cmocka_unit_test(test_tdh_mng_rd__mrtd_after_finalize),
		cmocka_unit_test(test_tdh_mng_rd__debug_td_fields),
		cmocka_unit_test(test_tdh_mng_rd__not_readable),
		cmocka_unit_test(test_tdh_mng_rd__cpuid_values),
		cmocka_unit_test(test_tdh_mng_rd__cpuid_field_id_incorrect),
		cmocka_unit_test(test_tdh_mng_rd__field_id_incorrect),
		cmocka_unit_test(test_tdh_mng_rd__ignored_id_bits),
		cmocka_unit_test(test_tdh_mng_rd__v1_next_field),
		cmocka_unit_test(test_tdh_mng_rd__v1_next_field_debug),
		cmocka_unit_test(test_tdh_mng_rd__v1_null_id),
		cmocka_unit_test(test_tdh_mng_rd__v1_walk_context),
		cmocka_unit_test(test_tdh_mng_rd__op_state_incorrect),
		cmocka_unit_test(test_tdh_mng_rd__tdcs_not_allocated),
		cmocka_unit_test(test_tdh_mng_rd__td_keys_not_configured),
		cmocka_unit_test(test_tdh_mng_rd__blocked_td),
		cmocka_unit_test(test_tdh_mng_rd__td_fatal),
		cmocka_unit_test(test_tdh_mng_rd__op_state_busy),
		cmocka_unit_test(test_tdh_mng_rd__tdr_busy),
		cmocka_unit_test(test_tdh_mng_rd__tdr_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
