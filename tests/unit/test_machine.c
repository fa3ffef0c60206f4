/*
 * The simulated machine: sparse physical memory and its KeyID integrity
 * model, VMX operation, WBINVD, CPU hot-plug, per-LP clocks, statistics,
 * SEAMCALL hooks, fault injection and concurrent SEAMCALLs from threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "tsim.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

static tdxsim_info info_of(tdxsim *s)
{
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	return info;
}

static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	assert_non_null(f);
	unsigned long size = 0, resident = 0;
	assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* A SEAMCALL that needs nothing but VMX operation and a module: SYS.INIT
 * (which answers SYS_INIT_NOT_PENDING once done). */
static uint64_t probe(tdxsim *s, unsigned lp)
{
	struct tdx_module_args a = { 0 };
	return seamcall_raw(s, lp, TDH_SYS_INIT, &a);
}

/* ---- Memory ---------------------------------------------------------------- */

static void test_machine__sparse_1tib(void **state)
{
	(void)state;
#if defined(__SANITIZE_THREAD__)
	/* ThreadSanitizer's fixed memory layout has no free 1 TiB range to
	 * reserve (build-tsan runs this file for its threaded tests). */
	skip();
#endif
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 2;
	cfg.cmrs[0] = (tdxsim_range){ 0, 2 * GiB };
	cfg.cmrs[1] = (tdxsim_range){ 4 * GiB, 1 * TiB - 2 * GiB };
	uint64_t before = rss_bytes();
	tdxsim *s = tsim_create(&cfg);
	uint64_t after = rss_bytes();
	print_message("RSS +%llu KiB\n", (unsigned long long)((after - before) >> 10));
	assert_true(after < before + 64 * MiB);
	tdxsim_info info = info_of(s);
	assert_int_equal(info.mem_bytes, 1 * TiB);
	assert_int_equal(info.pa_space_bytes, 1 * TiB + 2 * GiB);
	/* The last byte is usable and touching a few pages stays cheap. */
	uint64_t last = info.pa_space_bytes - 1;
	uint8_t b = 0x5A, r = 0;
	assert_int_equal(tdxsim_mem_write(s, last, 0, &b, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(s, last, 0, &r, 1), TDXSIM_OK);
	assert_int_equal(r, 0x5A);
	for (uint64_t pa = 0; pa < info.pa_space_bytes; pa += 64 * GiB)
		assert_int_equal(tdxsim_mem_write(s, pa, info.first_tdx_keyid, &b, 1), TDXSIM_OK);
	assert_true(rss_bytes() < before + 64 * MiB);
	assert_null(tdxsim_pa_to_ptr(s, info.pa_space_bytes));
	tdxsim_close(s);
}

static void test_machine__pa_ptr_round_trip(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = info_of(s);
	const uint64_t top = info.pa_space_bytes;          /* 6 GiB */
	const uint64_t pas[] = { 0, 1, 4095, 4096, 2 * GiB - 1, 4 * GiB, 5 * GiB + 12345, top - 1 };
	for (unsigned i = 0; i < sizeof(pas) / sizeof(pas[0]); i++) {
		uint8_t *p = tdxsim_pa_to_ptr(s, pas[i]);
		assert_non_null(p);
		uint64_t back = ~0ULL;
		assert_int_equal(tdxsim_ptr_to_pa(s, p, &back), TDXSIM_OK);
		assert_int_equal(back, pas[i]);
		/* The same byte as tdxsim_mem_* see. */
		*p = (uint8_t)(0xA0 + i);
		uint8_t r = 0;
		assert_int_equal(tdxsim_mem_read(s, pas[i], 0, &r, 1), TDXSIM_OK);
		assert_int_equal(r, 0xA0 + i);
	}
	/* Linear: __va(pa + n) == __va(pa) + n. */
	assert_ptr_equal((uint8_t *)tdxsim_pa_to_ptr(s, 0) + (top - 1), tdxsim_pa_to_ptr(s, top - 1));
	/* Out of range. */
	assert_null(tdxsim_pa_to_ptr(s, top));
	assert_null(tdxsim_pa_to_ptr(s, 1ULL << 52));
	assert_null(tdxsim_pa_to_ptr(s, ~0ULL));
	uint64_t pa = 0;
	uint8_t local = 0;
	assert_int_equal(tdxsim_ptr_to_pa(s, &local, &pa), TDXSIM_ERR_RANGE);
	assert_int_equal(tdxsim_ptr_to_pa(s, (uint8_t *)tdxsim_pa_to_ptr(s, top - 1) + 1, &pa),
			 TDXSIM_ERR_RANGE);
	assert_int_equal(tdxsim_ptr_to_pa(s, (uint8_t *)tdxsim_pa_to_ptr(s, 0) - 1, &pa),
			 TDXSIM_ERR_RANGE);
	tdxsim_close(s);
}

static void test_machine__mem_keyid0(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = info_of(s);
	uint8_t w[8192], r[8192];
	for (unsigned i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 7 + 3);
	/* Fresh memory reads as zeros. */
	assert_int_equal(tdxsim_mem_read(s, 5 * GiB, 0, r, sizeof(r)), TDXSIM_OK);
	for (unsigned i = 0; i < sizeof(r); i++)
		assert_int_equal(r[i], 0);
	/* Cross-page, unaligned. */
	assert_int_equal(tdxsim_mem_write(s, 0x10FF3, 0, w, sizeof(w)), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(s, 0x10FF3, 0, r, sizeof(r)), TDXSIM_OK);
	assert_memory_equal(w, r, sizeof(w));
	/* The last bytes of memory. */
	uint64_t top = info.pa_space_bytes;
	assert_int_equal(tdxsim_mem_write(s, top - 16, 0, w, 16), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(s, top - 16, 0, r, 16), TDXSIM_OK);
	assert_memory_equal(w, r, 16);
	/* Out of range, in part or whole; unknown KeyID; NULL buffer. */
	assert_int_equal(tdxsim_mem_write(s, top - 8, 0, w, 16), TDXSIM_ERR_RANGE);
	assert_int_equal(tdxsim_mem_read(s, top - 8, 0, r, 16), TDXSIM_ERR_RANGE);
	assert_int_equal(tdxsim_mem_read(s, top, 0, r, 1), TDXSIM_ERR_RANGE);
	assert_int_equal(tdxsim_mem_read(s, ~0ULL - 4, 0, r, 16), TDXSIM_ERR_RANGE);
	assert_int_equal(tdxsim_mem_read(s, 0, info.mktme_keyids + info.tdx_keyids + 1, r, 1),
			 TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_mem_read(s, 0, 0, NULL, 1), TDXSIM_ERR_ARG);
	/* The failed write changed nothing. */
	assert_int_equal(tdxsim_mem_read(s, top - 16, 0, r, 16), TDXSIM_OK);
	assert_memory_equal(w, r, 16);
	tdxsim_close(s);
}

/* Read [pa, pa + len) through keyid; byte at x must be expect(x). */
static void check_range(tdxsim *s, uint64_t pa, uint32_t keyid, size_t len,
			uint8_t (*expect)(uint64_t pa))
{
	uint8_t *r = malloc(len);
	assert_non_null(r);
	assert_int_equal(tdxsim_mem_read(s, pa, keyid, r, len), TDXSIM_OK);
	for (size_t i = 0; i < len; i++)
		if (r[i] != expect(pa + i))
			fail_msg("KeyID %u, PA 0x%llx: expected 0x%02x, got 0x%02x", keyid,
				 (unsigned long long)(pa + i), expect(pa + i), r[i]);
	free(r);
}

/* Partial-line case: 0xAA everywhere in [0x10000, 0x10100), private write of
 * 0x55 at [0x10030, 0x10050): lines 0x10000 and 0x10040 become TD-owned. */
static uint8_t exp_partial_shared(uint64_t pa)
{
	return pa < 0x10080 ? 0x00 : 0xAA;
}
/* Cross-page: 0xAA in [0x20F00, 0x21100), private 0x55 at [0x20FF0, 0x21010):
 * lines 0x20FC0 and 0x21000 are owned. */
static uint8_t exp_cross_shared(uint64_t pa)
{
	return pa >= 0x20FC0 && pa < 0x21040 ? 0x00 : 0xAA;
}

/*
 * Private KeyIDs encrypt (sim/mktme.h): software with the KeyID reads back
 * what it wrote; raw RAM holds ciphertext; a shared KeyID reads zeros on the
 * lines last written privately; a KeyID with no key programmed reads zeros.
 */
static void test_machine__mem_private_keyid(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);                    /* programs the global KeyID's key */
	tdxsim_info info = info_of(s);
	uint32_t tdx = info.first_tdx_keyid, last = info.mktme_keyids + info.tdx_keyids;
	uint8_t buf[0x300], r[0x300];

	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(tdxsim_mem_write(s, 0x10000, 0, buf, 0x100), TDXSIM_OK);
	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(tdxsim_mem_write(s, 0x10030, tdx, buf, 0x20), TDXSIM_OK);
	check_range(s, 0x10000, 0, 0x100, exp_partial_shared);
	/* An MKTME KeyID is shared: zeros on the owned lines too. */
	check_range(s, 0x10000, 1, 0x100, exp_partial_shared);
	/* A read starting mid-line of an owned line. */
	check_range(s, 0x10070, 0, 0x20, exp_partial_shared);
	/* The writer's KeyID reads its data back; RAM holds something else. */
	assert_int_equal(tdxsim_mem_read(s, 0x10030, tdx, r, 0x20), TDXSIM_OK);
	assert_memory_equal(r, buf, 0x20);
	assert_memory_not_equal(tdxsim_pa_to_ptr(s, 0x10030), buf, 0x20);
	/* A private KeyID without a key reads zeros (model). */
	assert_int_equal(tdxsim_mem_read(s, 0x10030, last, r, 0x20), TDXSIM_OK);
	for (unsigned i = 0; i < 0x20; i++)
		assert_int_equal(r[i], 0);

	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(tdxsim_mem_write(s, 0x20F00, 0, buf, 0x200), TDXSIM_OK);
	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(tdxsim_mem_write(s, 0x20FF0, tdx, buf, 0x20), TDXSIM_OK);
	check_range(s, 0x20F00, 0, 0x200, exp_cross_shared);
	assert_int_equal(tdxsim_mem_read(s, 0x20FF0, tdx, r, 0x20), TDXSIM_OK);
	assert_memory_equal(r, buf, 0x20);

	/* A whole private page: only that page reads as zeros. */
	uint8_t page[4096];
	memset(page, 0x77, sizeof(page));
	assert_int_equal(tdxsim_mem_write(s, 0x40000, 0, page, sizeof(page)), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_write(s, 0x41000, 0, page, sizeof(page)), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_write(s, 0x40000, tdx, page, sizeof(page)), TDXSIM_OK);
	uint8_t rp[2 * 4096];
	assert_int_equal(tdxsim_mem_read(s, 0x40000, 0, rp, sizeof(rp)), TDXSIM_OK);
	for (unsigned i = 0; i < sizeof(rp); i++)
		assert_int_equal(rp[i], i < 4096 ? 0x00 : 0x77);
	assert_int_equal(tdxsim_mem_read(s, 0x40000, tdx, rp, 4096), TDXSIM_OK);
	assert_memory_equal(rp, page, 4096);
	assert_memory_not_equal(tdxsim_pa_to_ptr(s, 0x40000), page, 4096);
	tdxsim_close(s);
}

/* ---- Logical processors ------------------------------------------------------ */

static void test_machine__vmx_refcount(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	unsigned n = 99;
	assert_int_equal(tdxsim_vmx_refcount(s, 0, &n), TDXSIM_OK);
	assert_int_equal(n, 0);
	assert_tdx_status(TDX_SEAMCALL_UD, probe(s, 0));
	assert_int_equal(tdxsim_vmx_get(s, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_vmx_get(s, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_vmx_refcount(s, 0, &n), TDXSIM_OK);
	assert_int_equal(n, 2);
	assert_int_equal(tdxsim_vmx_put(s, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_vmx_refcount(s, 0, &n), TDXSIM_OK);
	assert_int_equal(n, 1);
	assert_tdx_status(TDX_SUCCESS, probe(s, 0));                 /* still in VMX operation */
	assert_tdx_status(TDX_SEAMCALL_UD, probe(s, 1));             /* per LP */
	assert_int_equal(tdxsim_vmx_put(s, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_vmx_refcount(s, 0, &n), TDXSIM_OK);
	assert_int_equal(n, 0);
	assert_tdx_status(TDX_SEAMCALL_UD, probe(s, 0));
	assert_int_equal(tdxsim_vmx_put(s, 0), TDXSIM_ERR_STATE);
	assert_int_equal(tdxsim_vmx_refcount(s, 0, &n), TDXSIM_OK);
	assert_int_equal(n, 0);
	/* Back in VMX operation: the module is still there. */
	assert_int_equal(tdxsim_vmx_get(s, 0), TDXSIM_OK);
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, probe(s, 0));
	tdxsim_close(s);
}

static void test_machine__no_module(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_NO_MODULE;
	tdxsim *s = tsim_create(&cfg);
	assert_int_equal(info_of(s).module_loaded, 0);
	assert_tdx_status(TDX_SEAMCALL_UD, probe(s, 0));
	tsim_vmxon_all(s);
	assert_tdx_status(TDX_SEAMCALL_VMFAILINVALID, probe(s, 0));
	tdxsim_close(s);
}

static void test_machine__wbinvd_per_lp(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = info_of(s);
	assert_int_equal(tdxsim_wbinvd(s, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_wbinvd(s, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_wbinvd(s, 3), TDXSIM_OK);
	for (unsigned lp = 0; lp < info.n_lps; lp++) {
		uint64_t c = 99;
		assert_int_equal(tdxsim_wbinvd_count(s, lp, &c), TDXSIM_OK);
		assert_int_equal(c, lp == 1 ? 2 : lp == 3 ? 1 : 0);
	}
	uint64_t c;
	assert_int_equal(tdxsim_wbinvd(s, info.n_lps), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_wbinvd_count(s, info.n_lps, &c), TDXSIM_ERR_ARG);
	tdxsim_close(s);
}

static void test_machine__lp_offline_online(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tsim_vmxon_all(s);
	assert_int_equal(tdxsim_vmx_get(s, 2), TDXSIM_OK);          /* refcount 2 */
	assert_true(tdxsim_lp_is_online(s, 2));
	assert_int_equal(tdxsim_lp_offline(s, 2), TDXSIM_OK);
	assert_false(tdxsim_lp_is_online(s, 2));
	assert_tdx_status(TDXSIM_SW_LP_OFFLINE, probe(s, 2));
	unsigned n = 99;
	assert_int_equal(tdxsim_vmx_refcount(s, 2, &n), TDXSIM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(tdxsim_lp_offline(s, 2), TDXSIM_ERR_STATE);  /* double offline */
	assert_int_equal(tdxsim_vmx_get(s, 2), TDXSIM_ERR_STATE);     /* no VMXON while offline */
	/* Other LPs are unaffected. */
	assert_tdx_status(TDX_SUCCESS, probe(s, 1));
	/* Online again: out of VMX operation until a new get. */
	assert_int_equal(tdxsim_lp_online(s, 2), TDXSIM_OK);
	assert_true(tdxsim_lp_is_online(s, 2));
	assert_int_equal(tdxsim_lp_online(s, 2), TDXSIM_ERR_STATE);
	assert_tdx_status(TDX_SEAMCALL_UD, probe(s, 2));
	assert_int_equal(tdxsim_vmx_get(s, 2), TDXSIM_OK);
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, probe(s, 2));
	tdxsim_close(s);
}

static void test_machine__bad_lp(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = info_of(s);
	tsim_vmxon_all(s);
	assert_tdx_status(TDXSIM_SW_BAD_LP, probe(s, info.n_lps));
	assert_tdx_status(TDXSIM_SW_BAD_LP, probe(s, ~0u));
	assert_true(strlen(tdxsim_errmsg(s)) > 0);
	assert_int_equal(tdxsim_vmx_get(s, info.n_lps), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_lp_offline(s, info.n_lps), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_thread_bind(s, info.n_lps), TDXSIM_ERR_ARG);
	assert_false(tdxsim_lp_is_online(s, info.n_lps));
	/* Not counted as SEAMCALLs of any LP. */
	tdxsim_stats st = { .size = sizeof(st) };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_OK);
	assert_int_equal(st.seamcalls, 0);
	tdxsim_close(s);
}

static void test_machine__cycles_per_lp(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tsim_vmxon_all(s);
	uint64_t c0 = 1, c1 = 1;
	assert_int_equal(tdxsim_lp_cycles(s, 0, &c0), TDXSIM_OK);
	assert_int_equal(tdxsim_lp_cycles(s, 1, &c1), TDXSIM_OK);
	assert_int_equal(c0, 0);
	assert_int_equal(c1, 0);
	tsim_sys_init(s);
	uint64_t a0;
	assert_int_equal(tdxsim_lp_cycles(s, 0, &a0), TDXSIM_OK);
	assert_true(a0 > c0);
	assert_int_equal(tdxsim_lp_cycles(s, 1, &c1), TDXSIM_OK);
	assert_int_equal(c1, 0);
	/* Monotonic: another call on LP 0 adds more. */
	probe(s, 0);
	uint64_t b0;
	assert_int_equal(tdxsim_lp_cycles(s, 0, &b0), TDXSIM_OK);
	assert_true(b0 > a0);
	tdxsim_close(s);
}

static void test_machine__stats_per_leaf(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = info_of(s);
	tsim_vmxon_all(s);
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	for (int i = 0; i < 3; i++)
		tsim_sys_rd(s, i, MD_SYS_MAX_TDMRS);
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, probe(s, 4));    /* one failure */
	tdxsim_stats st = { .size = sizeof(st) };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_OK);
	assert_int_equal(st.per_leaf[TDH_SYS_INIT], 2);
	assert_int_equal(st.per_leaf[TDH_SYS_LP_INIT], info.n_lps);
	assert_int_equal(st.per_leaf[TDH_SYS_RD], 3);
	assert_int_equal(st.per_leaf[TDH_SYS_CONFIG], 0);
	assert_int_equal(st.seamcalls, 2 + info.n_lps + 3);
	assert_int_equal(st.seamcalls_failed, 1);
	assert_int_equal(st.injected, 0);
	uint64_t sum = 0;
	for (unsigned l = 0; l < TDX_SEAMCALL_LEAF_MAX; l++)
		sum += st.per_leaf[l];
	assert_int_equal(sum, st.seamcalls);
	tdxsim_close(s);
}

/* ---- Hooks ------------------------------------------------------------------ */

struct rec {
	unsigned n;
	tdxsim_seamcall_event ev[16];
};

static void rec_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct rec *r = user;
	if (r->n < 16)
		r->ev[r->n] = *ev;
	r->n++;
}

static void test_machine__hooks(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tsim_vmxon_all(s);
	struct rec r = { 0 }, r2 = { 0 };
	unsigned id = 99, id2 = 99;
	assert_int_equal(tdxsim_hook_seamcall(s, rec_hook, &r, &id), TDXSIM_OK);
	assert_int_equal(tdxsim_hook_seamcall(s, NULL, &r, &id), TDXSIM_ERR_ARG);

	tsim_sys_init(s);                                          /* event 0, LP 0 */
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 3, TDH_SYS_LP_INIT, &a);                    /* event 1, LP 3 */
	a = (struct tdx_module_args){ .rdx = MD_SYS_MAX_TDMRS, .r9 = 0x99 };
	seamcall_ok(s, 3, TDH_SYS_RD, &a);                         /* event 2 */
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, probe(s, 1)); /* event 3 */

	assert_int_equal(r.n, 4);
	for (unsigned i = 1; i < r.n; i++)
		assert_true(r.ev[i].seq > r.ev[i - 1].seq);
	assert_int_equal(r.ev[0].lp, 0);
	assert_int_equal(r.ev[0].rax_in, TDH_SYS_INIT);
	assert_int_equal(r.ev[0].status, TDX_SUCCESS);
	assert_int_equal(r.ev[1].lp, 3);
	assert_int_equal(r.ev[1].rax_in, TDH_SYS_LP_INIT);
	const tdxsim_seamcall_event *e = &r.ev[2];
	assert_int_equal(e->lp, 3);
	assert_int_equal(e->rax_in, TDH_SYS_RD);
	assert_int_equal(e->in.rdx, MD_SYS_MAX_TDMRS);
	assert_int_equal(e->in.r8, 0);
	assert_int_equal(e->in.r9, 0x99);
	assert_int_equal(e->out.r8, TDX_MAX_TDMRS);
	assert_int_equal(e->out.rdx, a.rdx);                       /* next field id */
	assert_int_equal(e->out.r9, 0x99);
	assert_int_equal(e->status, TDX_SUCCESS);
	assert_int_equal(e->injected, 0);
	uint64_t c3;
	assert_int_equal(tdxsim_lp_cycles(s, 3, &c3), TDXSIM_OK);
	assert_int_equal(e->cycles_start + e->cycles, c3);
	assert_true(e->cycles > 0);
	assert_int_equal(r.ev[3].lp, 1);
	assert_int_equal(r.ev[3].status, TDX_SYS_INIT_NOT_PENDING);

	/* A second hook sees the same events from now on. */
	assert_int_equal(tdxsim_hook_seamcall(s, rec_hook, &r2, &id2), TDXSIM_OK);
	assert_int_not_equal(id, id2);
	probe(s, 0);
	assert_int_equal(r.n, 5);
	assert_int_equal(r2.n, 1);
	assert_int_equal(r2.ev[0].seq, r.ev[4].seq);
	assert_true(r.ev[4].seq > r.ev[3].seq);

	/* Removal stops events. */
	assert_int_equal(tdxsim_hook_remove(s, id), TDXSIM_OK);
	probe(s, 0);
	assert_int_equal(r.n, 5);
	assert_int_equal(r2.n, 2);
	assert_int_equal(tdxsim_hook_remove(s, id2), TDXSIM_OK);
	probe(s, 0);
	assert_int_equal(r2.n, 2);
	assert_int_equal(tdxsim_hook_remove(s, id), TDXSIM_ERR_NOENT);
	assert_int_equal(tdxsim_hook_remove(s, 1000), TDXSIM_ERR_NOENT);
	tdxsim_close(s);
}

/* ---- Fault injection ---------------------------------------------------------- */

static uint64_t lp_init(tdxsim *s, unsigned lp)
{
	struct tdx_module_args a = { 0 };
	return seamcall_raw(s, lp, TDH_SYS_LP_INIT, &a);
}

static void test_machine__fault_nth_count(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tsim_vmxon_all(s);
	tsim_sys_init(s);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_SYS_BUSY;
	f.leaf = TDH_SYS_LP_INIT;
	f.lp = 0;
	f.nth = 3;
	f.count = 2;
	unsigned id = 99;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	uint64_t fired = 99;
	assert_int_equal(tdxsim_fault_fired(s, id, &fired), TDXSIM_OK);
	assert_int_equal(fired, 0);
	/* Matching calls 1..6 on LP 0; calls on other LPs and other leaves do
	 * not count. */
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));             /* 1 */
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, 0));    /* 2 */
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 1));
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, 1));
	assert_tdx_status(TDX_SYS_INIT_NOT_PENDING, probe(s, 0));
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 0));            /* 3 */
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 0));            /* 4 */
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, 0));    /* 5 */
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, 0));    /* 6 */
	assert_int_equal(tdxsim_fault_fired(s, id, &fired), TDXSIM_OK);
	assert_int_equal(fired, 2);
	tdxsim_stats st = { .size = sizeof(st) };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_OK);
	assert_int_equal(st.injected, 2);

	/* count 0: for ever from nth on. */
	assert_int_equal(tdxsim_fault_clear(s), TDXSIM_OK);
	assert_int_equal(tdxsim_fault_fired(s, id, &fired), TDXSIM_ERR_NOENT);
	f.nth = 2;
	f.count = 0;
	f.lp = -1;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	assert_tdx_status(TDX_SYS_LP_INIT_DONE, lp_init(s, 0));    /* 1 */
	for (unsigned i = 0; i < 10; i++)
		assert_tdx_status(TDX_SYS_BUSY, lp_init(s, i % 8));  /* 2.. */
	assert_int_equal(tdxsim_fault_fired(s, id, &fired), TDXSIM_OK);
	assert_int_equal(fired, 10);
	tdxsim_close(s);
}

static void test_machine__fault_refused(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	unsigned id;
	f.nth = 1;
	f.status = TDX_OPERAND_INVALID;                            /* not injectable */
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_ERR_ARG);
	f.status = TDX_SYS_BUSY;
	f.leaf = TDH_SYS_RD;                                       /* takes no global lock */
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_ERR_ARG);
	f.status = TDX_RND_NO_ENTROPY;
	f.leaf = TDH_SYS_CONFIG;                                   /* draws no random numbers */
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_ERR_ARG);
	f.leaf = 46;                                               /* no such leaf */
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_ERR_ARG);
	f.leaf = TDH_SYS_INIT;
	f.lp = 8;                                                  /* out of range */
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_ERR_ARG);
	f.lp = -1;
	f.nth = 0;
	f.probability = 0.0;                                       /* never */
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_ERR_ARG);
	f.probability = 1.5;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_ERR_ARG);
	f.probability = 1.0;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	tdxsim_fault small = f;
	small.size = 4;
	assert_int_equal(tdxsim_fault_add(s, &small, &id), TDXSIM_ERR_VERSION);
	tdxsim_close(s);
}

/* 64 LP.INIT calls on LP 0 under a 50% SYS_BUSY fault; bit i = call i busy. */
static uint64_t busy_pattern(uint64_t seed, uint64_t *fired)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.seed = seed;
	tdxsim *s = tsim_create(&cfg);
	tsim_vmxon_all(s);
	tsim_sys_init(s);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_SYS_BUSY;
	f.leaf = TDH_SYS_LP_INIT;
	f.probability = 0.5;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	uint64_t bits = 0;
	for (unsigned i = 0; i < 64; i++) {
		uint64_t st = lp_init(s, 0);
		if (st == TDX_SYS_BUSY)
			bits |= 1ULL << i;
		else if (st != TDX_SUCCESS && st != TDX_SYS_LP_INIT_DONE)
			fail_msg("unexpected status 0x%llx", (unsigned long long)st);
	}
	assert_int_equal(tdxsim_fault_fired(s, id, fired), TDXSIM_OK);
	tdxsim_close(s);
	return bits;
}

static void test_machine__fault_probability_deterministic(void **state)
{
	(void)state;
	uint64_t fa, fb, fc;
	uint64_t a = busy_pattern(1234, &fa);
	uint64_t b = busy_pattern(1234, &fb);
	uint64_t c = busy_pattern(98765, &fc);
	print_message("seed 1234: %016llx, seed 98765: %016llx\n", (unsigned long long)a,
		      (unsigned long long)c);
	assert_int_equal(a, b);
	assert_int_equal(fa, (uint64_t)__builtin_popcountll(a));
	assert_int_equal(fb, fa);
	assert_int_equal(fc, (uint64_t)__builtin_popcountll(c));
	/* About half: neither never nor always. */
	assert_true(fa >= 16 && fa <= 48);
	assert_true(a != c);
}

static void test_machine__fault_clear(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tsim_vmxon_all(s);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_SYS_BUSY;
	f.leaf = TDH_SYS_INIT;
	f.nth = 1;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	assert_tdx_status(TDX_SYS_BUSY, probe(s, 0));
	assert_tdx_status(TDX_SYS_BUSY, probe(s, 0));
	assert_int_equal(tdxsim_fault_clear(s), TDXSIM_OK);
	assert_tdx_status(TDX_SUCCESS, probe(s, 0));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	/* A new fault after a clear starts from zero. */
	f.leaf = TDH_SYS_LP_INIT;
	f.nth = 2;
	f.count = 1;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	uint64_t fired = 99;
	assert_int_equal(tdxsim_fault_fired(s, id, &fired), TDXSIM_OK);
	assert_int_equal(fired, 0);
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 1));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 1));
	assert_int_equal(tdxsim_fault_fired(s, id, &fired), TDXSIM_OK);
	assert_int_equal(fired, 1);
	tdxsim_close(s);
}

/* ---- Threads ------------------------------------------------------------------- */

#define RD_CALLS 10000

struct worker {
	tdxsim *s;
	unsigned lp;
	unsigned errors;
	uint64_t first_bad;
};

static _Atomic uint64_t events, seq_sum;

static void count_hook(void *user, const tdxsim_seamcall_event *ev)
{
	(void)user;
	atomic_fetch_add(&events, 1);
	atomic_fetch_add(&seq_sum, ev->seq);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	if (tdxsim_thread_bind(w->s, w->lp) != TDXSIM_OK) {
		w->errors++;
		return NULL;
	}
	tdxsim *bs = NULL;
	unsigned blp = ~0u;
	if (tdxsim_thread_binding(&bs, &blp) != TDXSIM_OK || bs != w->s || blp != w->lp)
		w->errors++;
	struct tdx_module_args a = { 0 };
	uint64_t st = __seamcall_ret(TDH_SYS_LP_INIT, &a);
	if (st) {
		w->errors++;
		w->first_bad = st;
	}
	for (unsigned i = 0; i < RD_CALLS; i++) {
		a = (struct tdx_module_args){ .rdx = MD_SYS_MAX_TDMRS };
		st = __seamcall_ret(TDH_SYS_RD, &a);
		if (st || a.r8 != TDX_MAX_TDMRS) {
			if (!w->errors)
				w->first_bad = st;
			w->errors++;
		}
	}
	tdxsim_thread_bind(NULL, 0);
	return NULL;
}

static void test_machine__threads_per_lp(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = info_of(s);
	assert_int_equal(info.n_lps, 8);
	tsim_vmxon_all(s);
	tsim_sys_init(s);
	atomic_store(&events, 0);
	atomic_store(&seq_sum, 0);
	unsigned hid;
	assert_int_equal(tdxsim_hook_seamcall(s, count_hook, NULL, &hid), TDXSIM_OK);

	pthread_t th[8];
	struct worker w[8];
	for (unsigned i = 0; i < 8; i++) {
		w[i] = (struct worker){ .s = s, .lp = i };
		assert_int_equal(pthread_create(&th[i], NULL, worker_fn, &w[i]), 0);
	}
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (unsigned i = 0; i < 8; i++)
		if (w[i].errors)
			fail_msg("LP %u: %u errors, first status 0x%llx", i, w[i].errors,
				 (unsigned long long)w[i].first_bad);

	const uint64_t total = 1 + 8 + 8ULL * RD_CALLS;           /* SYS.INIT, LP.INITs, RDs */
	tdxsim_stats st = { .size = sizeof(st) };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_OK);
	assert_int_equal(st.per_leaf[TDH_SYS_RD], 8ULL * RD_CALLS);
	assert_int_equal(st.per_leaf[TDH_SYS_LP_INIT], 8);
	assert_int_equal(st.per_leaf[TDH_SYS_INIT], 1);
	assert_int_equal(st.seamcalls, total);
	assert_int_equal(st.seamcalls_failed, 0);
	/* Every SEAMCALL after SYS.INIT got its own sequence number 1..total-1. */
	assert_int_equal(atomic_load(&events), total - 1);
	assert_int_equal(atomic_load(&seq_sum), (total - 1) * total / 2);
	for (unsigned i = 0; i < 8; i++) {
		uint64_t c;
		assert_int_equal(tdxsim_lp_cycles(s, i, &c), TDXSIM_OK);
		assert_true(c > 0);
	}
	tdxsim_close(s);
}

/* MOVDIR64B through KeyID 0 resets a TD-owned line without poisoning it;
 * an ordinary KeyID-0 write poisons it (the line then reads as zeros). */
static void test_machine__movdir64b_clears_ownership(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	uint8_t data[128], zero[64] = { 0 }, out[64];
	memset(data, 0xA5, sizeof(data));
	const uint64_t pa = 0x200000;
	assert_int_equal(tdxsim_mem_write(s, pa, info.first_tdx_keyid, data, 128), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(s, pa, 0, out, 64), TDXSIM_OK);
	assert_memory_equal(out, zero, 64);                       /* TD-owned: host sees zeros */
	uint8_t fill[64];
	memset(fill, 0x3C, sizeof(fill));
	assert_int_equal(tdxsim_mem_movdir64b(s, pa, 0, fill), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(s, pa, 0, out, 64), TDXSIM_OK);
	assert_memory_equal(out, fill, 64);                       /* line 0: reset, readable */
	assert_int_equal(tdxsim_mem_read(s, pa + 64, 0, out, 64), TDXSIM_OK);
	assert_memory_equal(out, zero, 64);                       /* line 1: still TD-owned */
	assert_int_equal(tdxsim_mem_movdir64b(s, pa + 8, 0, fill), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_mem_movdir64b(s, info.pa_space_bytes, 0, fill), TDXSIM_ERR_RANGE);
	tdxsim_close(s);
}

/* IA32_VMX_BASIC: bit 60 (P-SEAMLDR calls keep the current VMCS) unless the
 * configuration models a CPU without it. */
static void test_machine__vmx_basic_msr(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	uint64_t v = 0;
	assert_int_equal(tdxsim_rdmsr(s, 0, MSR_IA32_VMX_BASIC, &v), TDXSIM_OK);
	assert_true(v & (1ULL << 60));
	assert_int_equal((v >> 50) & 0xF, 6);                     /* WB VMCS memory type */
	assert_int_equal((v >> 32) & 0x1FFF, 0x1000);             /* VMCS region size */
	tdxsim_close(s);
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_SEAMLDR_VMCS_BUG;
	s = tsim_create(&cfg);
	assert_int_equal(tdxsim_rdmsr(s, 0, MSR_IA32_VMX_BASIC, &v), TDXSIM_OK);
	assert_false(v & (1ULL << 60));
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine__sparse_1tib),
		cmocka_unit_test(test_machine__pa_ptr_round_trip),
		cmocka_unit_test(test_machine__mem_keyid0),
		cmocka_unit_test(test_machine__mem_private_keyid),
		cmocka_unit_test(test_machine__vmx_refcount),
		cmocka_unit_test(test_machine__no_module),
		cmocka_unit_test(test_machine__wbinvd_per_lp),
		cmocka_unit_test(test_machine__lp_offline_online),
		cmocka_unit_test(test_machine__bad_lp),
		cmocka_unit_test(test_machine__cycles_per_lp),
		cmocka_unit_test(test_machine__stats_per_leaf),
		cmocka_unit_test(test_machine__hooks),
		cmocka_unit_test(test_machine__fault_nth_count),
		cmocka_unit_test(test_machine__fault_refused),
		cmocka_unit_test(test_machine__fault_probability_deterministic),
		cmocka_unit_test(test_machine__fault_clear),
		cmocka_unit_test(test_machine__threads_per_lp),
		cmocka_unit_test(test_machine__movdir64b_clears_ownership),
		cmocka_unit_test(test_machine__vmx_basic_msr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
