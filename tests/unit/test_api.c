/*
 * The public API outside the module: tdxsim_open's configuration checks,
 * platform profiles as tdxsim_info_get and the MSRs report them, error and
 * status names, and the handle checks of every entry point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <strings.h>

#include "tsim.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* tdxsim_open must fail with `want` and leave *out NULL. */
#define open_fails(cfg, want) open_fails_at(__FILE__, __LINE__, (cfg), (want))
static void open_fails_at(const char *file, int line, const tdxsim_config *cfg, tdxsim_err want)
{
	tdxsim *s = (tdxsim *)(uintptr_t)0x1;   /* must be overwritten */
	tdxsim_err err = tdxsim_open(cfg, &s);
	if (err != want) {
		if (!err)
			tdxsim_close(s);
		fail_msg("%s:%d: tdxsim_open: expected %s, got %s", file, line,
			 tdxsim_err_name(want), tdxsim_err_name(err));
	}
	assert_null(s);
}

static tdxsim *open_ok(const tdxsim_config *cfg)
{
	tdxsim *s = NULL;
	tdxsim_err err = tdxsim_open(cfg, &s);
	if (err)
		fail_msg("tdxsim_open: %s", tdxsim_err_name(err));
	assert_non_null(s);
	return s;
}

static tdxsim_info info_of(tdxsim *s)
{
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	return info;
}

/* ---- tdxsim_open: configuration checks ------------------------------------- */

static void test_api__open_defaults(void **state)
{
	(void)state;
	tdxsim *s = open_ok(NULL);
	tdxsim_info info = info_of(s);
	assert_string_equal(info.platform->name, TDXSIM_DEFAULT_PLATFORM);
	assert_int_equal(info.n_lps, info.packages * info.lps_per_package);
	assert_int_equal(info.n_cmrs, 2);
	assert_int_equal(info.cmrs[0].base, 0);
	assert_int_equal(info.cmrs[0].size, 2 * GiB);
	assert_int_equal(info.cmrs[1].base, 4 * GiB);
	assert_int_equal(info.cmrs[1].size, 2 * GiB);
	assert_int_equal(info.mem_bytes, 4 * GiB);
	assert_int_equal(info.pa_space_bytes, 6 * GiB);
	assert_int_equal(info.module_loaded, 1);
	tdxsim_close(s);
	/* A NULL out pointer. */
	assert_int_equal(tdxsim_open(NULL, NULL), TDXSIM_ERR_ARG);
}

static void test_api__open_unknown_platform(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = "skx";
	open_fails(&cfg, TDXSIM_ERR_ARG);
	cfg.platform = "";
	open_fails(&cfg, TDXSIM_ERR_ARG);
	cfg.platform = "SPR";
	open_fails(&cfg, TDXSIM_ERR_ARG);
	assert_null(tdxsim_platform_find("skx"));
}

static void test_api__open_config_size(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.size = sizeof(cfg) + 8;             /* a newer caller */
	open_fails(&cfg, TDXSIM_ERR_VERSION);
	cfg.size = UINT32_MAX;
	open_fails(&cfg, TDXSIM_ERR_VERSION);
	cfg.size = 0;
	open_fails(&cfg, TDXSIM_ERR_VERSION);
	cfg.size = 4;
	open_fails(&cfg, TDXSIM_ERR_VERSION);
	cfg.size = 7;
	open_fails(&cfg, TDXSIM_ERR_VERSION);
	/* An older caller that knows only size and flags: defaults for the rest,
	 * even if the fields beyond its size hold garbage. */
	memset(&cfg, 0xFF, sizeof(cfg));
	cfg.size = 8;
	cfg.flags = 0;
	tdxsim *s = open_ok(&cfg);
	tdxsim_info info = info_of(s);
	assert_string_equal(info.platform->name, TDXSIM_DEFAULT_PLATFORM);
	assert_int_equal(info.mem_bytes, info.platform->default_mem_bytes);
	tdxsim_close(s);
}

static void test_api__open_too_many_lps(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.packages = 9;                        /* the module supports 8 packages */
	cfg.lps_per_package = 1;
	open_fails(&cfg, TDXSIM_ERR_ARG);
	cfg.packages = 2;
	cfg.lps_per_package = 513;
	open_fails(&cfg, TDXSIM_ERR_ARG);
	/* Overflow of packages x LPs must not wrap into range. */
	cfg.packages = 8;
	cfg.lps_per_package = 0x20000000u;      /* 8 x 2^29 = 2^32 */
	open_fails(&cfg, TDXSIM_ERR_ARG);
	/* The limits themselves are fine. */
	cfg.packages = 8;
	cfg.lps_per_package = 128;
	tdxsim *s = open_ok(&cfg);
	assert_int_equal(info_of(s).n_lps, 1024);
	tdxsim_close(s);
}

static void test_api__open_bad_cmrs(void **state)
{
	(void)state;
	const struct {
		const char *what;
		uint32_t n;
		tdxsim_range r[2];
	} bad[] = {
		{ "base not 4K aligned", 1, { { 0x800, 1 * GiB } } },
		{ "size not 4K aligned", 1, { { 0, 1 * GiB + 0x800 } } },
		{ "empty", 1, { { 0, 0 } } },
		{ "second empty", 2, { { 0, 1 * GiB }, { 2 * GiB, 0 } } },
		{ "overlapping", 2, { { 0, 2 * GiB }, { 1 * GiB, 2 * GiB } } },
		{ "descending", 2, { { 4 * GiB, 1 * GiB }, { 0, 1 * GiB } } },
		{ "wrapping", 1, { { 0xFFFFFFFFFFFFF000ULL, 0x2000 } } },
		{ "above the PA bits", 1, { { 1ULL << 50, 1 * GiB } } },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i].what);
		tdxsim_config cfg = TDXSIM_CONFIG_INIT;
		cfg.n_cmrs = bad[i].n;
		memcpy(cfg.cmrs, bad[i].r, sizeof(bad[i].r));
		open_fails(&cfg, TDXSIM_ERR_ARG);
	}
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = TDX_MAX_CMRS + 1;
	open_fails(&cfg, TDXSIM_ERR_ARG);
	/* Adjacent CMRs are fine and kept as given. */
	cfg.n_cmrs = 2;
	cfg.cmrs[0] = (tdxsim_range){ 0, 1 * GiB };
	cfg.cmrs[1] = (tdxsim_range){ 1 * GiB, 1 * GiB };
	tdxsim *s = open_ok(&cfg);
	tdxsim_info info = info_of(s);
	assert_int_equal(info.n_cmrs, 2);
	assert_int_equal(info.mem_bytes, 2 * GiB);
	tdxsim_close(s);
}

static void test_api__open_mem_bytes(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 2;
	cfg.cmrs[0] = (tdxsim_range){ 0, 2 * GiB };
	cfg.cmrs[1] = (tdxsim_range){ 4 * GiB, 2 * GiB };
	cfg.mem_bytes = 3 * GiB;                /* CMRs total 4 GiB */
	open_fails(&cfg, TDXSIM_ERR_ARG);
	cfg.mem_bytes = 4 * GiB;
	tdxsim_close(open_ok(&cfg));
	/* Without CMRs: at least 64 MiB, a 4 KiB multiple. */
	tdxsim_config c2 = TDXSIM_CONFIG_INIT;
	c2.mem_bytes = 32 * MiB;
	open_fails(&c2, TDXSIM_ERR_ARG);
	c2.mem_bytes = 1 * GiB + 0x800;
	open_fails(&c2, TDXSIM_ERR_ARG);
	/* 3 GiB: 2 GiB low, 1 GiB from 4 GiB. */
	c2.mem_bytes = 3 * GiB;
	tdxsim *s = open_ok(&c2);
	tdxsim_info info = info_of(s);
	assert_int_equal(info.n_cmrs, 2);
	assert_int_equal(info.cmrs[1].base, 4 * GiB);
	assert_int_equal(info.cmrs[1].size, 1 * GiB);
	tdxsim_close(s);
}

static void test_api__open_keyid_partition(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.mktme_keyids = 1024;
	cfg.tdx_keyids = 1024;
	open_fails(&cfg, TDXSIM_ERR_ARG);
	cfg.mktme_keyids = 0;
	cfg.tdx_keyids = 4096;
	open_fails(&cfg, TDXSIM_ERR_ARG);
	/* The sum must not wrap around 2^32 into range. */
	cfg.mktme_keyids = UINT32_MAX;
	cfg.tdx_keyids = 1;
	open_fails(&cfg, TDXSIM_ERR_ARG);
	cfg.mktme_keyids = 1;
	cfg.tdx_keyids = UINT32_MAX;
	open_fails(&cfg, TDXSIM_ERR_ARG);
	/* 2047 KeyIDs (11 bits) are the most. */
	cfg.mktme_keyids = 1023;
	cfg.tdx_keyids = 1024;
	tdxsim *s = open_ok(&cfg);
	tdxsim_info info = info_of(s);
	assert_int_equal(info.keyid_bits, 11);
	assert_int_equal(info.keyid_shift, info.max_pa - 11);
	assert_int_equal(info.first_tdx_keyid, 1024);
	tdxsim_close(s);
}

/* ---- Profiles -------------------------------------------------------------- */

static void test_api__profiles(void **state)
{
	(void)state;
	const struct {
		const char *name;
		uint32_t model, mktme, tdx, keyid_bits;
		uint16_t major;
	} want[] = {
		{ "spr", 0x8F, 31, 32, 6, 1 },
		{ "emr", 0xCF, 31, 32, 6, 1 },
		{ "gnr", 0xAD, 63, 64, 7, 2 },
	};
	const tdxsim_platform *const *all = tdxsim_platforms();
	for (unsigned i = 0; i < 3; i++) {
		print_message("%s\n", want[i].name);
		assert_non_null(all[i]);
		assert_ptr_equal(tdxsim_platform_find(want[i].name), all[i]);
		tdxsim_config cfg = TDXSIM_CONFIG_INIT;
		cfg.platform = want[i].name;
		tdxsim *s = open_ok(&cfg);
		tdxsim_info info = info_of(s);
		assert_string_equal(info.platform->name, want[i].name);
		assert_int_equal(info.platform->cpu_family, 6);
		assert_int_equal(info.platform->cpu_model, want[i].model);
		assert_int_equal(info.max_pa, 52);
		assert_int_equal(info.mktme_keyids, want[i].mktme);
		assert_int_equal(info.tdx_keyids, want[i].tdx);
		assert_int_equal(info.keyid_bits, want[i].keyid_bits);
		assert_int_equal(info.keyid_shift, info.max_pa - info.keyid_bits);
		assert_int_equal(info.first_tdx_keyid, want[i].mktme + 1);
		assert_int_equal(info.module_major, want[i].major);
		assert_int_equal(info.packages, info.platform->packages);
		assert_int_equal(info.lps_per_package, info.platform->lps_per_package);
		/* The module reports the same version. */
		tsim_vmxon_all(s);
		tsim_sys_init(s);
		tsim_lp_init_all(s);
		assert_int_equal(tsim_sys_rd(s, 0, MD_SYS_MAJOR_VERSION), want[i].major);
		tdxsim_close(s);
	}
	assert_null(all[3]);
}

static void test_api__msrs(void **state)
{
	(void)state;
	tdxsim *s = open_ok(NULL);
	tdxsim_info info = info_of(s);
	uint64_t v = 0;
	assert_int_equal(tdxsim_rdmsr(s, 0, MSR_IA32_MKTME_KEYID_PARTITIONING, &v), TDXSIM_OK);
	assert_int_equal(v, ((uint64_t)32 << 32) | 31);             /* EDX = TDX, EAX = MKTME */
	assert_int_equal(tdxsim_rdmsr(s, 0, MSR_IA32_TME_ACTIVATE, &v), TDXSIM_OK);
	assert_int_equal((v >> 32) & 0xF, info.keyid_bits);
	assert_int_equal(v & 0x3, 0x3);                             /* locked, enabled */
	/* Every LP answers the same. */
	uint64_t v7 = 0;
	assert_int_equal(tdxsim_rdmsr(s, info.n_lps - 1, MSR_IA32_TME_ACTIVATE, &v7), TDXSIM_OK);
	assert_int_equal(v7, v);
	/* Not modelled, bad LP, NULL value. */
	assert_int_equal(tdxsim_rdmsr(s, 0, 0x10, &v), TDXSIM_ERR_NOENT);
	assert_true(strlen(tdxsim_errmsg(s)) > 0);
	assert_int_equal(tdxsim_rdmsr(s, 0, 0x981, &v), TDXSIM_ERR_NOENT);
	assert_int_equal(tdxsim_rdmsr(s, info.n_lps, MSR_IA32_TME_ACTIVATE, &v), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_rdmsr(s, 0, MSR_IA32_TME_ACTIVATE, NULL), TDXSIM_ERR_ARG);
	tdxsim_close(s);

	/* A custom partition. */
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = "gnr";
	cfg.mktme_keyids = 15;
	cfg.tdx_keyids = 48;
	s = open_ok(&cfg);
	assert_int_equal(tdxsim_rdmsr(s, 1, MSR_IA32_MKTME_KEYID_PARTITIONING, &v), TDXSIM_OK);
	assert_int_equal(v, ((uint64_t)48 << 32) | 15);
	assert_int_equal(tdxsim_rdmsr(s, 1, MSR_IA32_TME_ACTIVATE, &v), TDXSIM_OK);
	assert_int_equal((v >> 32) & 0xF, 6);
	info = info_of(s);
	assert_int_equal(info.keyid_bits, 6);
	assert_int_equal(info.first_tdx_keyid, 16);
	tdxsim_close(s);
}

/* ---- Names ----------------------------------------------------------------- */

static void test_api__err_names(void **state)
{
	(void)state;
	static const char *const names[] = {
		"TDXSIM_OK", "TDXSIM_ERR_NOMEM", "TDXSIM_ERR_ARG", "TDXSIM_ERR_HANDLE",
		"TDXSIM_ERR_VERSION", "TDXSIM_ERR_STATE", "TDXSIM_ERR_RANGE", "TDXSIM_ERR_NOENT",
		"TDXSIM_ERR_IO", "TDXSIM_ERR_BACKEND",
	};
	assert_int_equal(TDXSIM_ERR_COUNT_, sizeof(names) / sizeof(names[0]));
	for (int e = 0; e < TDXSIM_ERR_COUNT_; e++) {
		assert_string_equal(tdxsim_err_name((tdxsim_err)e), names[e]);
		const char *m = tdxsim_strerror((tdxsim_err)e);
		assert_non_null(m);
		assert_true(strlen(m) > 0);
		assert_string_not_equal(m, tdxsim_strerror(TDXSIM_ERR_COUNT_));
		for (int o = 0; o < e; o++)
			assert_string_not_equal(m, tdxsim_strerror((tdxsim_err)o));
	}
	assert_string_equal(tdxsim_strerror(TDXSIM_OK), "success");
	assert_string_equal(tdxsim_err_name(TDXSIM_ERR_COUNT_), "TDXSIM_ERR_UNKNOWN");
	assert_string_equal(tdxsim_err_name((tdxsim_err)-1), "TDXSIM_ERR_UNKNOWN");
	assert_string_equal(tdxsim_strerror((tdxsim_err)-1), "unknown tdxsim error");
}

static void test_api__status_names(void **state)
{
	(void)state;
	/* Every status in the map names itself. */
	static const struct { const char *name; uint64_t v; } all[] = {
#define X(n) { #n, n },
		TDX_STATUS_MAP(X)
#undef X
	};
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert_string_equal(tdx_status_name(all[i].v), all[i].name);
	/* Operand bits are ignored by the name. */
	assert_string_equal(tdx_status_name(TDX_OPERAND_INVALID | TDX_OPERAND_ID_RCX), "TDX_OPERAND_INVALID");
	assert_string_equal(tdx_status_name(TDX_PAMT_OVERLAP | 0x010102), "TDX_PAMT_OVERLAP");
	assert_string_equal(tdx_status_name(0xC0FFEE0000000000ULL), "TDX_UNKNOWN_STATUS");

	char buf[96];
	const struct { uint64_t v; const char *s; } str[] = {
		{ TDX_SUCCESS, "TDX_SUCCESS (0x0000000000000000)" },
		{ TDX_OPERAND_INVALID | TDX_OPERAND_ID_RCX, "TDX_OPERAND_INVALID+RCX (0xC000010000000001)" },
		{ TDX_OPERAND_INVALID | TDX_OPERAND_ID_R8, "TDX_OPERAND_INVALID+R8 (0xC000010000000008)" },
		{ TDX_OPERAND_INVALID | TDX_OPERAND_ID_RAX, "TDX_OPERAND_INVALID (0xC000010000000000)" },
		{ TDX_OPERAND_BUSY | TDX_OPERAND_ID_KET, "TDX_OPERAND_BUSY+KET (0x80000200000000BB)" },
		{ TDX_OPERAND_BUSY | TDX_OPERAND_ID_TDR, "TDX_OPERAND_BUSY+TDR (0x8000020000000080)" },
		{ TDX_SYS_CONFIG_NOT_PENDING, "TDX_SYS_CONFIG_NOT_PENDING (0xC000050C00000000)" },
		{ TDX_PAMT_OVERLAP | 0x010102, "TDX_PAMT_OVERLAP+0x10102 (0xC0000A1200010102)" },
		{ TDX_INVALID_TDMR | 1, "TDX_INVALID_TDMR+0x1 (0xC0000A0000000001)" },
		{ TDX_SEAMCALL_UD, "TDX_SEAMCALL_UD (0x8000FF0000000006)" },
		{ TDX_SEAMCALL_VMFAILINVALID, "TDX_SEAMCALL_VMFAILINVALID (0x8000FF00FFFF0000)" },
		{ TDXSIM_SW_LP_OFFLINE, "TDXSIM_SW_LP_OFFLINE (0x8000FF00FFFC0000)" },
	};
	for (unsigned i = 0; i < sizeof(str) / sizeof(str[0]); i++) {
		const char *r = tdx_status_str(str[i].v, buf, sizeof(buf));
		assert_ptr_equal(r, buf);
		if (strcasecmp(buf, str[i].s))
			fail_msg("tdx_status_str: expected \"%s\", got \"%s\"", str[i].s, buf);
	}
	/* A small buffer is truncated and terminated. */
	char small[8];
	memset(small, 'x', sizeof(small));
	tdx_status_str(TDX_OPERAND_INVALID | TDX_OPERAND_ID_RCX, small, sizeof(small));
	assert_string_equal(small, "TDX_OPE");

	/* Leaf names. */
	assert_string_equal(tdx_seamcall_leaf_name(TDH_SYS_CONFIG), "TDH.SYS.CONFIG");
	assert_string_equal(tdx_seamcall_leaf_name(TDH_SYS_RD), "TDH.SYS.RD");
	assert_string_equal(tdx_seamcall_leaf_name(0x8000000000000000ULL), "SEAMLDR.INFO");
	assert_null(tdx_seamcall_leaf_name(46));
	assert_null(tdx_seamcall_leaf_name(TDX_SEAMCALL_LEAF_MAX));
	assert_string_equal(tdx_tdcall_leaf_name(TDG_VP_VMCALL), "TDG.VP.VMCALL");
}

/* ---- Handles --------------------------------------------------------------- */

static void test_api__close_null(void **state)
{
	(void)state;
	tdxsim_close(NULL);
	tdxsim *s = open_ok(NULL);
	tdxsim_close(s);
}

static void hook(void *user, const tdxsim_seamcall_event *ev)
{
	(void)user;
	(void)ev;
}

static void test_api__null_handle(void **state)
{
	(void)state;
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_stats st = { .size = sizeof(st) };
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_SYS_BUSY;
	f.nth = 1;
	unsigned u = 0, id = 0;
	uint64_t v = 0, pa = 0;
	uint8_t buf[8] = { 0 };
	struct tdx_module_args a = { 0 };

	assert_int_equal(tdxsim_info_get(NULL, &info), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_lp_package(NULL, 0, &u), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_vmx_get(NULL, 0), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_vmx_put(NULL, 0), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_vmx_refcount(NULL, 0, &u), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_wbinvd(NULL, 0), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_wbinvd_count(NULL, 0, &v), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_lp_offline(NULL, 0), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_lp_online(NULL, 0), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_lp_is_online(NULL, 0), 0);
	assert_int_equal(tdxsim_rdmsr(NULL, 0, MSR_IA32_TME_ACTIVATE, &v), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_lp_cycles(NULL, 0, &v), TDXSIM_ERR_HANDLE);
	assert_null(tdxsim_pa_to_ptr(NULL, 0));
	assert_int_equal(tdxsim_ptr_to_pa(NULL, buf, &pa), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_mem_read(NULL, 0, 0, buf, sizeof(buf)), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_mem_write(NULL, 0, 0, buf, sizeof(buf)), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_module_state(NULL), TDX_SYSINIT_PENDING);
	assert_int_equal(tdxsim_pamt_lookup(NULL, 0, &u, &v, &u), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_global_keyid(NULL), 0);
	assert_int_equal(tdxsim_hook_seamcall(NULL, hook, NULL, &id), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_hook_remove(NULL, 0), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_stats_get(NULL, &st), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_fault_add(NULL, &f, &id), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_fault_clear(NULL), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_fault_fired(NULL, 0, &v), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_seamcall(NULL, 0, TDH_SYS_RD, &a), TDXSIM_SW_BAD_HANDLE);
	assert_true(strlen(tdxsim_errmsg(NULL)) > 0);
	/* Binding to NULL unbinds; a bound-less thread gets NO_BINDING. */
	assert_int_equal(tdxsim_thread_bind(NULL, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_thread_binding(NULL, NULL), TDXSIM_ERR_STATE);
	assert_int_equal(__seamcall_ret(TDH_SYS_RD, &a), TDXSIM_SW_NO_BINDING);
}

static void test_api__errmsg(void **state)
{
	(void)state;
	tdxsim *s = open_ok(NULL);
	assert_string_equal(tdxsim_errmsg(s), "");
	unsigned u;
	assert_int_equal(tdxsim_vmx_put(s, 0), TDXSIM_ERR_STATE);
	assert_true(strlen(tdxsim_errmsg(s)) > 0);
	assert_int_equal(tdxsim_lp_package(s, 1000, &u), TDXSIM_ERR_ARG);
	assert_non_null(strstr(tdxsim_errmsg(s), "1000"));
	tdxsim_info small = { .size = 4 };
	assert_int_equal(tdxsim_info_get(s, &small), TDXSIM_ERR_VERSION);
	tdxsim_stats st = { .size = 4 };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_ERR_VERSION);
	assert_int_equal(tdxsim_lp_package(s, 5, &u), TDXSIM_OK);
	assert_int_equal(u, 1);
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api__open_defaults),
		cmocka_unit_test(test_api__open_unknown_platform),
		cmocka_unit_test(test_api__open_config_size),
		cmocka_unit_test(test_api__open_too_many_lps),
		cmocka_unit_test(test_api__open_bad_cmrs),
		cmocka_unit_test(test_api__open_mem_bytes),
		cmocka_unit_test(test_api__open_keyid_partition),
		cmocka_unit_test(test_api__profiles),
		cmocka_unit_test(test_api__msrs),
		cmocka_unit_test(test_api__err_names),
		cmocka_unit_test(test_api__status_names),
		cmocka_unit_test(test_api__close_null),
		cmocka_unit_test(test_api__null_handle),
		cmocka_unit_test(test_api__errmsg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
