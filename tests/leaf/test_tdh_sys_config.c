/*
 * TDH.SYS.CONFIG (45): every global check and every TDMR_INFO rule, in the
 * module's order (sys-leaves.md section 6, tdx-abi.md 4.2 and 6.1). Each
 * failure must leave the module in SYSINIT_DONE so that a corrected call can
 * be retried; TDMR errors carry the TDMR index in bits 7:0, the reserved-area
 * index or PAMT level in 15:8 and a second TDMR index in 23:16.
 *
 * Default machine: CMRs [0, 2G) and [4G, 6G); the harness builds TDMR 0 =
 * [0, 2G) (no reserved area) and TDMR 1 = [4G, 6G) whose only reserved area
 * covers the PAMTs and metadata allocated from the top of the last CMR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* A TDMR-class status with its three info fields. */
#define ST(status, i, b, c) \
	((status) | (uint64_t)(i) | ((uint64_t)(b) << 8) | ((uint64_t)(c) << 16))

struct fx {
	tdxsim *s;
	tdxsim_info info;
	struct tsim_tdmrs t;
};

/* Open, VMXON, SYS.INIT, LP.INIT on every LP, Linux-style TDMRs written. */
static void fx_open_cfg(struct fx *f, const tdxsim_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->s = tsim_create(cfg);
	f->info.size = sizeof(f->info);
	assert_int_equal(tdxsim_info_get(f->s, &f->info), TDXSIM_OK);
	tsim_vmxon_all(f->s);
	tsim_sys_init(f->s);
	tsim_lp_init_all(f->s);
	tsim_build_tdmrs(f->s, &f->t);
	assert_int_equal(tdxsim_module_state(f->s), TDX_SYSINIT_DONE);
}

static void fx_open(struct fx *f)
{
	fx_open_cfg(f, NULL);
}

static uint64_t config_raw(struct fx *f, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
	struct tdx_module_args a = { .rcx = rcx, .rdx = rdx, .r8 = r8 };
	return seamcall_raw(f->s, 0, TDH_SYS_CONFIG, &a);
}

/* Write the (modified) TDMRs, expect `want` and no state change. */
#define expect_fail(f, want) do { \
	tsim_write_tdmrs((f)->s, &(f)->t); \
	assert_tdx_status((want), tsim_sys_config((f)->s, &(f)->t)); \
	assert_int_equal(tdxsim_module_state((f)->s), TDX_SYSINIT_DONE); \
} while (0)

/* Write the TDMRs as they are and expect success. */
#define expect_ok(f) do { \
	tsim_write_tdmrs((f)->s, &(f)->t); \
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config((f)->s, &(f)->t)); \
	assert_int_equal(tdxsim_module_state((f)->s), TDX_SYSCONFIG_DONE); \
} while (0)

/* The corrected retry: Linux's TDMRs again, SYS.CONFIG succeeds. */
#define retry_ok(f) do { \
	tsim_build_tdmrs((f)->s, &(f)->t); \
	expect_ok(f); \
} while (0)

static void fx_close(struct fx *f)
{
	tdxsim_close(f->s);
}

static uint64_t pamt_bytes(uint64_t tdmr_size, unsigned shift)
{
	return (((tdmr_size >> shift) * PAMT_ENTRY_SIZE) + 4095) & ~4095ULL;
}

/* Lay TDMR p's PAMTs (4K, 2M, 1G) consecutively at pa; returns the end. */
static uint64_t put_pamts(struct tdx_tdmr_info *p, uint64_t pa)
{
	p->pamt_4k_base = pa;
	p->pamt_4k_size = pamt_bytes(p->size, 12);
	p->pamt_2m_base = p->pamt_4k_base + p->pamt_4k_size;
	p->pamt_2m_size = pamt_bytes(p->size, 21);
	p->pamt_1g_base = p->pamt_2m_base + p->pamt_2m_size;
	p->pamt_1g_size = pamt_bytes(p->size, 30);
	return p->pamt_1g_base + p->pamt_1g_size;
}

/* Replace the harness TDMRs by n empty ones (same TDMR_INFO locations). */
static void set_tdmrs(struct fx *f, unsigned n)
{
	for (unsigned i = 0; i < TDX_MAX_TDMRS; i++)
		memset(&f->t.info[i], 0, sizeof(f->t.info[i]));
	for (unsigned i = 0; i < n; i++)
		f->t.info_pa[i] = f->t.array_pa + 0x1000 + i * 512;
	f->t.n = n;
}

static uint64_t *pamt_base_of(struct tdx_tdmr_info *p, unsigned pt)
{
	return pt == TDX_PS_4K ? &p->pamt_4k_base : pt == TDX_PS_2M ? &p->pamt_2m_base : &p->pamt_1g_base;
}

static uint64_t *pamt_size_of(struct tdx_tdmr_info *p, unsigned pt)
{
	return pt == TDX_PS_4K ? &p->pamt_4k_size : pt == TDX_PS_2M ? &p->pamt_2m_size : &p->pamt_1g_size;
}

/* ---- Global checks --------------------------------------------------------- */

static void test_tdh_sys_config__global_lock_busy(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	tdxsim_fault flt = TDXSIM_FAULT_INIT;
	flt.status = TDX_SYS_BUSY;
	flt.leaf = TDH_SYS_CONFIG;
	flt.nth = 1;
	flt.count = 1;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(f.s, &flt, &id), TDXSIM_OK);
	expect_fail(&f, TDX_SYS_BUSY);
	uint64_t fired = 0;
	assert_int_equal(tdxsim_fault_fired(f.s, id, &fired), TDXSIM_OK);
	assert_int_equal(fired, 1);
	/* SYS_BUSY comes before the KeyID is taken. */
	assert_int_equal(tdxsim_global_keyid(f.s), 0);
	/* The lock was not left held: the retry succeeds. */
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__state_before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	struct tsim_tdmrs t;
	tsim_vmxon_all(s);
	tsim_build_tdmrs(s, &t);
	assert_tdx_status(TDX_SYS_CONFIG_NOT_PENDING, tsim_sys_config(s, &t));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	assert_int_equal(tdxsim_global_keyid(s), 0);
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, &t));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_config__state_after_success(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	expect_ok(&f);
	assert_tdx_status(TDX_SYS_CONFIG_NOT_PENDING, tsim_sys_config(f.s, &f.t));
	assert_int_equal(tdxsim_module_state(f.s), TDX_SYSCONFIG_DONE);
	/* Not even with another KeyID. */
	assert_tdx_status(TDX_SYS_CONFIG_NOT_PENDING,
			  config_raw(&f, f.t.array_pa, f.t.n, f.info.first_tdx_keyid + 1));
	assert_int_equal(tdxsim_global_keyid(f.s), f.info.first_tdx_keyid);
	fx_close(&f);
}

static void test_tdh_sys_config__lp_not_initialised(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	struct tsim_tdmrs t;
	tsim_vmxon_all(s);
	tsim_sys_init(s);
	for (unsigned i = 0; i + 1 < info.n_lps; i++) {
		struct tdx_module_args a = { 0 };
		seamcall_ok(s, i, TDH_SYS_LP_INIT, &a);
	}
	tsim_build_tdmrs(s, &t);
	assert_tdx_status(TDX_SYS_CONFIG_NOT_PENDING, tsim_sys_config(s, &t));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	assert_int_equal(tdxsim_global_keyid(s), 0);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, info.n_lps - 1, TDH_SYS_LP_INIT, &a);
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, &t));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSCONFIG_DONE);
	tdxsim_close(s);
}

static void test_tdh_sys_config__rcx_misaligned(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	uint64_t k = f.info.first_tdx_keyid;
	const uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	assert_tdx_status(want, config_raw(&f, f.t.array_pa + 8, f.t.n, k));
	assert_tdx_status(want, config_raw(&f, f.t.array_pa + 256, f.t.n, k));
	assert_tdx_status(want, config_raw(&f, f.t.array_pa + 511, f.t.n, k));
	/* A private (TDX) KeyID in RCX is not a shared HPA either. */
	assert_tdx_status(want, config_raw(&f, f.t.array_pa | (k << f.info.keyid_shift), f.t.n, k));
	assert_int_equal(tdxsim_module_state(f.s), TDX_SYSINIT_DONE);
	assert_int_equal(tdxsim_global_keyid(f.s), 0);
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__rdx_count(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	uint64_t k = f.info.first_tdx_keyid;
	const uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	assert_tdx_status(want, config_raw(&f, f.t.array_pa, 0, k));
	assert_tdx_status(want, config_raw(&f, f.t.array_pa, 65, k));
	assert_tdx_status(want, config_raw(&f, f.t.array_pa, 1ULL << 32, k));
	assert_int_equal(tdxsim_module_state(f.s), TDX_SYSINIT_DONE);
	assert_int_equal(tdxsim_global_keyid(f.s), 0);
	/* 64 passes the count check; entry 2 (zeros: TDMR_INFO at PA 0, base 0)
	 * is then below TDMR 1. */
	assert_tdx_status(ST(TDX_NON_ORDERED_TDMR, 2, 0, 0), config_raw(&f, f.t.array_pa, 64, k));
	assert_int_equal(tdxsim_module_state(f.s), TDX_SYSINIT_DONE);
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__r8_not_private_keyid(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	const uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);
	uint64_t first = f.info.first_tdx_keyid;
	uint64_t last = f.info.mktme_keyids + f.info.tdx_keyids;
	const uint64_t bad[] = {
		0,                          /* no encryption */
		1,                          /* the first MKTME KeyID */
		first - 1,                  /* the last MKTME KeyID */
		last + 1,                   /* beyond the last TDX KeyID */
		first | (1ULL << 16),       /* bits 63:16 set */
		first | (1ULL << 63),
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_tdx_status(want, config_raw(&f, f.t.array_pa, f.t.n, bad[i]));
		assert_int_equal(tdxsim_module_state(f.s), TDX_SYSINIT_DONE);
		/* Rejected before the KeyID is recorded. */
		assert_int_equal(tdxsim_global_keyid(f.s), 0);
	}
	/* The last TDX KeyID is a valid global KeyID. */
	assert_tdx_status(TDX_SUCCESS, config_raw(&f, f.t.array_pa, f.t.n, last));
	assert_int_equal(tdxsim_module_state(f.s), TDX_SYSCONFIG_DONE);
	assert_int_equal(tdxsim_global_keyid(f.s), last);
	fx_close(&f);
}

static void test_tdh_sys_config__registers_unchanged(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	struct tdx_module_args a = { .rcx = f.t.array_pa, .rdx = f.t.n, .r8 = f.info.first_tdx_keyid,
				     .r9 = 9, .r10 = 10, .r11 = 11 };
	struct tdx_module_args before = a;
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(f.s, 0, TDH_SYS_CONFIG, &a));
	assert_memory_equal(&a, &before, sizeof(a));
	fx_close(&f);
}

static void test_tdh_sys_config__global_keyid_kept_after_tdmr_failure(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	uint64_t k = f.info.first_tdx_keyid + 5;
	assert_int_equal(tdxsim_global_keyid(f.s), 0);
	f.t.info[1].size = 0;
	tsim_write_tdmrs(f.s, &f.t);
	assert_tdx_status(ST(TDX_INVALID_TDMR, 1, 0, 0), config_raw(&f, f.t.array_pa, f.t.n, k));
	assert_int_equal(tdxsim_module_state(f.s), TDX_SYSINIT_DONE);
	assert_int_equal(tdxsim_global_keyid(f.s), k);
	/* A failing TDMR_INFO PA also comes after the KeyID is recorded. */
	struct fx g;
	fx_open(&g);
	g.t.info_pa[0] += 64;
	tsim_write_tdmrs(g.s, &g.t);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
			  config_raw(&g, g.t.array_pa, g.t.n, k));
	assert_int_equal(tdxsim_global_keyid(g.s), k);
	fx_close(&g);
	retry_ok(&f);
	assert_int_equal(tdxsim_global_keyid(f.s), f.info.first_tdx_keyid);
	fx_close(&f);
}

/* ---- TDMR_INFO: the array and the TDMR itself ------------------------------ */

static void test_tdh_sys_config__tdmr_info_pa_misaligned(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	const uint64_t want = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	uint64_t pa1 = f.t.info_pa[1];
	f.t.info_pa[1] = pa1 + 64;          /* 64-B aligned is not enough */
	expect_fail(&f, want);
	f.t.info_pa[1] = pa1 + 256;
	expect_fail(&f, want);
	/* A TDMR_INFO behind a private KeyID is not a shared HPA. */
	f.t.info_pa[1] = pa1;
	tsim_write_tdmrs(f.s, &f.t);
	uint64_t kpa = pa1 | ((uint64_t)f.info.first_tdx_keyid << f.info.keyid_shift);
	assert_int_equal(tdxsim_mem_write(f.s, f.t.array_pa + 8, 0, &kpa, 8), TDXSIM_OK);
	assert_tdx_status(want, tsim_sys_config(f.s, &f.t));
	assert_int_equal(tdxsim_module_state(f.s), TDX_SYSINIT_DONE);
	f.t.info_pa[1] = pa1;
	expect_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__base_size_overflow(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* 4G + (2^64 - 2G) wraps to 2G. */
	f.t.info[1].size = 0ULL - 2 * GiB;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	/* Overflow is checked before ordering: [1G, 2^64) overlaps TDMR 0 but the
	 * answer is INVALID_TDMR, not NON_ORDERED_TDMR. */
	f.t.info[1].base = 1 * GiB;
	f.t.info[1].size = 0ULL - 1 * GiB;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__non_ordered_base_below_previous(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	struct tdx_tdmr_info t0 = f.t.info[0];
	f.t.info[0] = f.t.info[1];
	f.t.info[1] = t0;
	expect_fail(&f, ST(TDX_NON_ORDERED_TDMR, 1, 0, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__non_ordered_overlapping_previous(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* [1G, 3G) starts inside TDMR 0 = [0, 2G). Checked before the 1G rule. */
	f.t.info[1].base = 1 * GiB;
	expect_fail(&f, ST(TDX_NON_ORDERED_TDMR, 1, 0, 0));
	f.t.info[1].base = 2 * GiB - 2 * MiB;
	expect_fail(&f, ST(TDX_NON_ORDERED_TDMR, 1, 0, 0));
	f.t.info[1].base = 2 * GiB - 1;
	expect_fail(&f, ST(TDX_NON_ORDERED_TDMR, 1, 0, 0));
	/* Adjacent (base == previous end) passes the order checks: [2G, 6G)
	 * then fails only because the hole [2G, 4G) is available. */
	tsim_build_tdmrs(f.s, &f.t);
	struct tdx_tdmr_info *p = &f.t.info[1];
	uint64_t rb = p->base + p->reserved[0].offset, re = rb + p->reserved[0].size;
	p->base = 2 * GiB;
	p->size = 4 * GiB;
	assert_true(put_pamts(p, rb - 32 * MiB) <= rb);     /* PAMTs for 4 GiB */
	p->reserved[0].offset = rb - 32 * MiB - p->base;
	p->reserved[0].size = re - (rb - 32 * MiB);
	expect_fail(&f, ST(TDX_TDMR_OUTSIDE_CMRS, 1, 0, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__base_not_1g_aligned(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	f.t.info[1].base = 4 * GiB + 2 * MiB;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__size_not_1g_multiple(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	f.t.info[1].size = 2 * GiB - 2 * MiB;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	f.t.info[1].size = 1 * GiB + 4 * KiB;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__size_zero(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	f.t.info[1].size = 0;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	f.t.info[0].size = 0;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 0, 0, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__base_with_keyid_bits(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* An MKTME KeyID in the base. */
	f.t.info[1].base = 4 * GiB | (1ULL << f.info.keyid_shift);
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	/* The end (base + size - 1) reaching into the KeyID bits. */
	f.t.info[1].base = 4 * GiB;
	f.t.info[1].size = 1ULL << f.info.keyid_shift;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	/* At or above 2^52. */
	f.t.info[1].base = 1ULL << 52;
	f.t.info[1].size = 1 * GiB;
	expect_fail(&f, ST(TDX_INVALID_TDMR, 1, 0, 0));
	retry_ok(&f);
	fx_close(&f);
}

/* ---- Reserved areas (TDMR 1; its last area holds the PAMTs) ---------------- */

/* TDMR 1's reserved list: the given areas, then the harness's PAMT area. */
static void set_rsvd1(struct fx *f, const struct tdx_tdmr_reserved_area *r, unsigned n)
{
	struct tdx_tdmr_info *p = &f->t.info[1];
	struct tdx_tdmr_reserved_area top = p->reserved[0];
	assert_true(top.size != 0 && p->reserved[1].size == 0);
	memset(p->reserved, 0, sizeof(p->reserved));
	for (unsigned j = 0; j < n; j++)
		p->reserved[j] = r[j];
	p->reserved[n] = top;
}

static void test_tdh_sys_config__reserved_null_then_non_null(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* {4K area}, {null}, {PAMT area}: the entry after the null one is at j = 2. */
	const struct tdx_tdmr_reserved_area r[] = { { 0x1000, 0x1000 }, { 0, 0 } };
	set_rsvd1(&f, r, 2);
	expect_fail(&f, ST(TDX_NON_ORDERED_RESERVED_IN_TDMR, 1, 2, 0));
	/* A null entry first. */
	tsim_build_tdmrs(f.s, &f.t);
	set_rsvd1(&f, r + 1, 1);
	expect_fail(&f, ST(TDX_NON_ORDERED_RESERVED_IN_TDMR, 1, 1, 0));
	/* Several valid areas, adjacent ones included, are fine. */
	tsim_build_tdmrs(f.s, &f.t);
	const struct tdx_tdmr_reserved_area ok[] = { { 0x1000, 0x1000 }, { 0x2000, 0x1000 },
						     { 1 * GiB, 2 * MiB } };
	set_rsvd1(&f, ok, 3);
	expect_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__reserved_overflow(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	const struct tdx_tdmr_reserved_area r[] = { { 0x1000, 0x1000 }, { 0x10000, 0ULL - 0x1000 } };
	set_rsvd1(&f, r, 2);
	expect_fail(&f, ST(TDX_INVALID_RESERVED_IN_TDMR, 1, 1, 0));
	/* Overflow is checked before order: this one also starts below area 0. */
	tsim_build_tdmrs(f.s, &f.t);
	const struct tdx_tdmr_reserved_area r2[] = { { 0x10000, 0x1000 }, { 0x2000, 0ULL - 0x1000 } };
	set_rsvd1(&f, r2, 2);
	expect_fail(&f, ST(TDX_INVALID_RESERVED_IN_TDMR, 1, 1, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__reserved_descending(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	const struct tdx_tdmr_reserved_area r[] = { { 0x10000, 0x1000 }, { 0x1000, 0x1000 } };
	set_rsvd1(&f, r, 2);
	expect_fail(&f, ST(TDX_NON_ORDERED_RESERVED_IN_TDMR, 1, 1, 0));
	/* Order is checked before alignment. */
	tsim_build_tdmrs(f.s, &f.t);
	const struct tdx_tdmr_reserved_area r2[] = { { 0x10000, 0x1000 }, { 0x1800, 0x800 } };
	set_rsvd1(&f, r2, 2);
	expect_fail(&f, ST(TDX_NON_ORDERED_RESERVED_IN_TDMR, 1, 1, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__reserved_overlapping(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	const struct tdx_tdmr_reserved_area r[] = { { 0x1000, 0x2000 }, { 0x2000, 0x1000 } };
	set_rsvd1(&f, r, 2);
	expect_fail(&f, ST(TDX_NON_ORDERED_RESERVED_IN_TDMR, 1, 1, 0));
	/* One byte of overlap (checked before alignment). */
	tsim_build_tdmrs(f.s, &f.t);
	const struct tdx_tdmr_reserved_area r1[] = { { 0x1000, 0x2000 }, { 0x2FFF, 0x1000 } };
	set_rsvd1(&f, r1, 2);
	expect_fail(&f, ST(TDX_NON_ORDERED_RESERVED_IN_TDMR, 1, 1, 0));
	/* The harness's PAMT area (now j = 1) overlapping a big area 0. */
	tsim_build_tdmrs(f.s, &f.t);
	const struct tdx_tdmr_reserved_area r2[] = { { 0x1000, 2 * GiB - 0x2000 } };
	set_rsvd1(&f, r2, 1);
	expect_fail(&f, ST(TDX_NON_ORDERED_RESERVED_IN_TDMR, 1, 1, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__reserved_not_4k_aligned(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	const struct tdx_tdmr_reserved_area r[] = { { 0x1000, 0x1000 }, { 0x3800, 0x1000 } };
	set_rsvd1(&f, r, 2);
	expect_fail(&f, ST(TDX_INVALID_RESERVED_IN_TDMR, 1, 1, 0));
	tsim_build_tdmrs(f.s, &f.t);
	const struct tdx_tdmr_reserved_area r2[] = { { 0x1000, 0x1000 }, { 0x3000, 0x800 } };
	set_rsvd1(&f, r2, 2);
	expect_fail(&f, ST(TDX_INVALID_RESERVED_IN_TDMR, 1, 1, 0));
	tsim_build_tdmrs(f.s, &f.t);
	const struct tdx_tdmr_reserved_area r3[] = { { 0x40, 0x1000 } };
	set_rsvd1(&f, r3, 1);
	expect_fail(&f, ST(TDX_INVALID_RESERVED_IN_TDMR, 1, 0, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__reserved_outside_tdmr(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* TDMR 0 = [0, 2G) has no reserved area of its own. */
	struct tdx_tdmr_info *p = &f.t.info[0];
	assert_int_equal(p->reserved[0].size, 0);
	p->reserved[0] = (struct tdx_tdmr_reserved_area){ 0x1000, 0x1000 };
	p->reserved[1] = (struct tdx_tdmr_reserved_area){ 2 * GiB - 0x1000, 0x2000 };
	expect_fail(&f, ST(TDX_INVALID_RESERVED_IN_TDMR, 0, 1, 0));
	p->reserved[1] = (struct tdx_tdmr_reserved_area){ 2 * GiB, 0x1000 };
	expect_fail(&f, ST(TDX_INVALID_RESERVED_IN_TDMR, 0, 1, 0));
	/* Ending exactly at the TDMR's end is inside. */
	p->reserved[1] = (struct tdx_tdmr_reserved_area){ 2 * GiB - 0x1000, 0x1000 };
	expect_ok(&f);
	fx_close(&f);
}

/* ---- PAMT address and size (TDMR 1; level in 15:8) -------------------------- */

static const char *const level_name[3] = { "4K", "2M", "1G" };

static void test_tdh_sys_config__pamt_misaligned(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	for (unsigned pt = TDX_PS_4K; pt <= TDX_PS_1G; pt++) {
		print_message("PAMT %s\n", level_name[pt]);
		*pamt_base_of(&f.t.info[1], pt) += 0x800;
		expect_fail(&f, ST(TDX_INVALID_PAMT, 1, pt, 0));
		tsim_build_tdmrs(f.s, &f.t);
		*pamt_size_of(&f.t.info[1], pt) += 0x800;
		expect_fail(&f, ST(TDX_INVALID_PAMT, 1, pt, 0));
		tsim_build_tdmrs(f.s, &f.t);
	}
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__pamt_too_small(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* A 2 GiB TDMR needs 8 MiB (4K), 16 KiB (2M) and 32 B (1G) of PAMT. */
	const uint64_t small[3] = { 8 * MiB - 4 * KiB, 16 * KiB - 4 * KiB, 0 };
	for (unsigned pt = TDX_PS_4K; pt <= TDX_PS_1G; pt++) {
		print_message("PAMT %s\n", level_name[pt]);
		*pamt_size_of(&f.t.info[1], pt) = small[pt];
		expect_fail(&f, ST(TDX_INVALID_PAMT, 1, pt, 0));
		tsim_build_tdmrs(f.s, &f.t);
	}
	/* Exactly the minimum is enough (the harness rounds to 4 KiB: the same). */
	assert_int_equal(f.t.info[1].pamt_4k_size, 8 * MiB);
	assert_int_equal(f.t.info[1].pamt_2m_size, 16 * KiB);
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__pamt_with_keyid_bits(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	for (unsigned pt = TDX_PS_4K; pt <= TDX_PS_1G; pt++) {
		print_message("PAMT %s\n", level_name[pt]);
		/* KeyID 1 (MKTME) in the base. */
		*pamt_base_of(&f.t.info[1], pt) |= 1ULL << f.info.keyid_shift;
		expect_fail(&f, ST(TDX_INVALID_PAMT, 1, pt, 0));
		tsim_build_tdmrs(f.s, &f.t);
		/* A private KeyID in the base. */
		*pamt_base_of(&f.t.info[1], pt) |= (uint64_t)f.info.first_tdx_keyid << f.info.keyid_shift;
		expect_fail(&f, ST(TDX_INVALID_PAMT, 1, pt, 0));
		tsim_build_tdmrs(f.s, &f.t);
		/* The end in the KeyID bits (base itself below them). */
		*pamt_base_of(&f.t.info[1], pt) = (1ULL << f.info.keyid_shift) - 4 * KiB;
		if (*pamt_size_of(&f.t.info[1], pt) < 8 * KiB)
			*pamt_size_of(&f.t.info[1], pt) = 8 * KiB;
		expect_fail(&f, ST(TDX_INVALID_PAMT, 1, pt, 0));
		tsim_build_tdmrs(f.s, &f.t);
		/* At 2^52. */
		*pamt_base_of(&f.t.info[1], pt) = 1ULL << 52;
		expect_fail(&f, ST(TDX_INVALID_PAMT, 1, pt, 0));
		tsim_build_tdmrs(f.s, &f.t);
	}
	retry_ok(&f);
	fx_close(&f);
}

/* ---- PAMT overlaps ---------------------------------------------------------- */

static void test_tdh_sys_config__pamt_overlap_between_tdmrs(void **state)
{
	(void)state;
	/* Three TDMRs so that the second index (23:16) is not 0. */
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 3;
	cfg.cmrs[0] = (tdxsim_range){ 0, 2 * GiB };
	cfg.cmrs[1] = (tdxsim_range){ 4 * GiB, 2 * GiB };
	cfg.cmrs[2] = (tdxsim_range){ 8 * GiB, 2 * GiB };
	struct fx f;
	fx_open_cfg(&f, &cfg);
	assert_int_equal(f.t.n, 3);
	/* TDMR 2's 2M PAMT inside TDMR 1's 4K PAMT. */
	f.t.info[2].pamt_2m_base = f.t.info[1].pamt_4k_base;
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 2, TDX_PS_2M, 1));
	/* TDMR 2's 4K PAMT on TDMR 0's 1G PAMT. */
	tsim_build_tdmrs(f.s, &f.t);
	f.t.info[2].pamt_4k_base = f.t.info[0].pamt_1g_base - 4 * MiB;
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 2, TDX_PS_4K, 0));
	/* TDMR 1's 1G PAMT on TDMR 0's 2M PAMT. */
	tsim_build_tdmrs(f.s, &f.t);
	f.t.info[1].pamt_1g_base = f.t.info[0].pamt_2m_base;
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 1, TDX_PS_1G, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__pamt_overlap_own(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	struct tdx_tdmr_info *p = &f.t.info[1];
	p->pamt_2m_base = p->pamt_4k_base + 4 * KiB;            /* 4K with 2M */
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 1, TDX_PS_4K, 1));
	tsim_build_tdmrs(f.s, &f.t);
	p->pamt_1g_base = p->pamt_4k_base + 8 * KiB;            /* 4K with 1G */
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 1, TDX_PS_4K, 1));
	tsim_build_tdmrs(f.s, &f.t);
	p->pamt_1g_base = p->pamt_2m_base + 4 * KiB;            /* 2M with 1G */
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 1, TDX_PS_2M, 1));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__pamt_overlap_available_space(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* TDMR 1's 2M PAMT in its own available space. */
	f.t.info[1].pamt_2m_base = 5 * GiB;
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 1, TDX_PS_2M, 1));
	/* TDMR 1's 1G PAMT in TDMR 0's available space. */
	tsim_build_tdmrs(f.s, &f.t);
	f.t.info[1].pamt_1g_base = 1 * GiB;
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 1, TDX_PS_1G, 0));
	/* TDMR 0's PAMTs (at the very top) in TDMR 1's available space once
	 * TDMR 1's reserved area stops short of them: reported as (0, 4K, 1). */
	tsim_build_tdmrs(f.s, &f.t);
	struct tdx_tdmr_info *p1 = &f.t.info[1];
	uint64_t rsvd_end = p1->base + p1->reserved[0].offset + p1->reserved[0].size;
	assert_true(f.t.info[0].pamt_4k_base > p1->base + p1->reserved[0].offset);
	p1->reserved[0].size -= rsvd_end - f.t.info[0].pamt_4k_base;
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 0, TDX_PS_4K, 1));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__pamt_inside_reserved_area_ok(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* TDMR 1's 1G PAMT at 1G: TDMR 0's available space ... */
	f.t.info[1].pamt_1g_base = 1 * GiB;
	expect_fail(&f, ST(TDX_PAMT_OVERLAP, 1, TDX_PS_1G, 0));
	/* ... unless TDMR 0 reserves it. */
	f.t.info[0].reserved[0] = (struct tdx_tdmr_reserved_area){ 1 * GiB, 4 * KiB };
	expect_ok(&f);
	fx_close(&f);
}

/* ---- CMRs ------------------------------------------------------------------ */

static void test_tdh_sys_config__pamt_outside_cmrs(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* [2G, 4G) is the hole between the CMRs, outside every TDMR. */
	for (unsigned pt = TDX_PS_4K; pt <= TDX_PS_1G; pt++) {
		print_message("PAMT %s\n", level_name[pt]);
		*pamt_base_of(&f.t.info[1], pt) = 3 * GiB;
		expect_fail(&f, ST(TDX_PAMT_OUTSIDE_CMRS, 1, pt, 0));
		tsim_build_tdmrs(f.s, &f.t);
	}
	/* Straddling the end of CMR 0 (the part in TDMR 0 reserved). */
	f.t.info[0].reserved[0] = (struct tdx_tdmr_reserved_area){ 2 * GiB - 4 * MiB, 4 * MiB };
	f.t.info[1].pamt_4k_base = 2 * GiB - 4 * MiB;
	expect_fail(&f, ST(TDX_PAMT_OUTSIDE_CMRS, 1, TDX_PS_4K, 0));
	/* Beyond the end of memory. */
	tsim_build_tdmrs(f.s, &f.t);
	f.t.info[1].pamt_2m_base = 64 * GiB;
	expect_fail(&f, ST(TDX_PAMT_OUTSIDE_CMRS, 1, TDX_PS_2M, 0));
	retry_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__tdmr_outside_cmrs(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* TDMR 0 = [0, 1G), TDMR 1 = [1G, 6G) covering the hole [2G, 4G);
	 * both PAMT blocks at 5G, reserved in TDMR 1. */
	set_tdmrs(&f, 2);
	struct tdx_tdmr_info *t0 = &f.t.info[0], *t1 = &f.t.info[1];
	t0->base = 0;
	t0->size = 1 * GiB;
	t1->base = 1 * GiB;
	t1->size = 5 * GiB;
	uint64_t end = put_pamts(t1, put_pamts(t0, 5 * GiB));
	t1->reserved[0] = (struct tdx_tdmr_reserved_area){ 5 * GiB - t1->base, end - 5 * GiB };
	expect_fail(&f, ST(TDX_TDMR_OUTSIDE_CMRS, 1, 0, 0));
	/* Reserving the hole fixes it. */
	t1->reserved[1] = t1->reserved[0];
	t1->reserved[0] = (struct tdx_tdmr_reserved_area){ 2 * GiB - t1->base, 2 * GiB };
	expect_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__tdmr_outside_cmrs_partial(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	/* TDMR 0 grown to [0, 3G): its last GiB is the hole. It needs bigger
	 * PAMTs: put them just below TDMR 1's reserved area, which grows down. */
	struct tdx_tdmr_info *t0 = &f.t.info[0], *t1 = &f.t.info[1];
	t0->size = 3 * GiB;
	uint64_t rb = t1->base + t1->reserved[0].offset;
	uint64_t end = put_pamts(t0, rb - 16 * MiB);
	assert_true(end <= rb);
	t1->reserved[0].offset -= 16 * MiB;
	t1->reserved[0].size += 16 * MiB;
	expect_fail(&f, ST(TDX_TDMR_OUTSIDE_CMRS, 0, 0, 0));
	/* Reserving the hole fixes it. */
	t0->reserved[0] = (struct tdx_tdmr_reserved_area){ 2 * GiB, 1 * GiB };
	expect_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__adjacent_cmrs_merge(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 2;
	cfg.cmrs[0] = (tdxsim_range){ 0, 1 * GiB };
	cfg.cmrs[1] = (tdxsim_range){ 1 * GiB, 1 * GiB };
	struct fx f;
	fx_open_cfg(&f, &cfg);
	/* One TDMR [0, 2G); its 4K PAMT straddles the CMR boundary at 1G. */
	set_tdmrs(&f, 1);
	struct tdx_tdmr_info *p = &f.t.info[0];
	p->base = 0;
	p->size = 2 * GiB;
	uint64_t end = put_pamts(p, 1 * GiB - 4 * MiB);
	assert_true(p->pamt_4k_base < 1 * GiB && p->pamt_4k_base + p->pamt_4k_size > 1 * GiB);
	p->reserved[0] = (struct tdx_tdmr_reserved_area){ 1 * GiB - 4 * MiB, end - (1 * GiB - 4 * MiB) };
	expect_ok(&f);
	fx_close(&f);

	/* Again with the PAMTs at the top: the available range [0, 2G - 16M)
	 * now spans the two CMRs. */
	fx_open_cfg(&f, &cfg);
	set_tdmrs(&f, 1);
	p = &f.t.info[0];
	p->base = 0;
	p->size = 2 * GiB;
	end = put_pamts(p, 2 * GiB - 16 * MiB);
	p->reserved[0] = (struct tdx_tdmr_reserved_area){ 2 * GiB - 16 * MiB, 16 * MiB };
	assert_true(end <= 2 * GiB);
	expect_ok(&f);
	fx_close(&f);
}

static void test_tdh_sys_config__non_adjacent_cmrs_do_not_merge(void **state)
{
	(void)state;
	/* As above, but a 4 KiB gap between the CMRs at 1G. */
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 2;
	cfg.cmrs[0] = (tdxsim_range){ 0, 1 * GiB };
	cfg.cmrs[1] = (tdxsim_range){ 1 * GiB + 4 * KiB, 1 * GiB - 4 * KiB };
	struct fx f;
	fx_open_cfg(&f, &cfg);
	set_tdmrs(&f, 1);
	struct tdx_tdmr_info *p = &f.t.info[0];
	p->base = 0;
	p->size = 2 * GiB;
	uint64_t end = put_pamts(p, 1 * GiB - 4 * MiB);
	p->reserved[0] = (struct tdx_tdmr_reserved_area){ 1 * GiB - 4 * MiB, end - (1 * GiB - 4 * MiB) };
	expect_fail(&f, ST(TDX_PAMT_OUTSIDE_CMRS, 0, TDX_PS_4K, 0));
	/* PAMTs moved wholly into CMR 1: now the gap, available, is the problem. */
	end = put_pamts(p, 1 * GiB + 8 * MiB);
	p->reserved[0] = (struct tdx_tdmr_reserved_area){ 1 * GiB + 8 * MiB, end - (1 * GiB + 8 * MiB) };
	expect_fail(&f, ST(TDX_TDMR_OUTSIDE_CMRS, 0, 0, 0));
	/* Reserve the gap too. */
	p->reserved[1] = p->reserved[0];
	p->reserved[0] = (struct tdx_tdmr_reserved_area){ 1 * GiB, 4 * KiB };
	expect_ok(&f);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_config__global_lock_busy),
		cmocka_unit_test(test_tdh_sys_config__state_before_sys_init),
		cmocka_unit_test(test_tdh_sys_config__state_after_success),
		cmocka_unit_test(test_tdh_sys_config__lp_not_initialised),
		cmocka_unit_test(test_tdh_sys_config__rcx_misaligned),
		cmocka_unit_test(test_tdh_sys_config__rdx_count),
		cmocka_unit_test(test_tdh_sys_config__r8_not_private_keyid),
		cmocka_unit_test(test_tdh_sys_config__registers_unchanged),
		cmocka_unit_test(test_tdh_sys_config__global_keyid_kept_after_tdmr_failure),
		cmocka_unit_test(test_tdh_sys_config__tdmr_info_pa_misaligned),
		cmocka_unit_test(test_tdh_sys_config__base_size_overflow),
		cmocka_unit_test(test_tdh_sys_config__non_ordered_base_below_previous),
		cmocka_unit_test(test_tdh_sys_config__non_ordered_overlapping_previous),
		cmocka_unit_test(test_tdh_sys_config__base_not_1g_aligned),
		cmocka_unit_test(test_tdh_sys_config__size_not_1g_multiple),
		cmocka_unit_test(test_tdh_sys_config__size_zero),
		cmocka_unit_test(test_tdh_sys_config__base_with_keyid_bits),
		cmocka_unit_test(test_tdh_sys_config__reserved_null_then_non_null),
		cmocka_unit_test(test_tdh_sys_config__reserved_overflow),
		cmocka_unit_test(test_tdh_sys_config__reserved_descending),
		cmocka_unit_test(test_tdh_sys_config__reserved_overlapping),
		cmocka_unit_test(test_tdh_sys_config__reserved_not_4k_aligned),
		cmocka_unit_test(test_tdh_sys_config__reserved_outside_tdmr),
		cmocka_unit_test(test_tdh_sys_config__pamt_misaligned),
		cmocka_unit_test(test_tdh_sys_config__pamt_too_small),
		cmocka_unit_test(test_tdh_sys_config__pamt_with_keyid_bits),
		cmocka_unit_test(test_tdh_sys_config__pamt_overlap_between_tdmrs),
		cmocka_unit_test(test_tdh_sys_config__pamt_overlap_own),
		cmocka_unit_test(test_tdh_sys_config__pamt_overlap_available_space),
		cmocka_unit_test(test_tdh_sys_config__pamt_inside_reserved_area_ok),
		cmocka_unit_test(test_tdh_sys_config__pamt_outside_cmrs),
		cmocka_unit_test(test_tdh_sys_config__tdmr_outside_cmrs),
		cmocka_unit_test(test_tdh_sys_config__tdmr_outside_cmrs_partial),
		cmocka_unit_test(test_tdh_sys_config__adjacent_cmrs_merge),
		cmocka_unit_test(test_tdh_sys_config__non_adjacent_cmrs_do_not_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
