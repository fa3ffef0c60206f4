/*
 * The SEAMCALL instruction and the module's dispatcher gate
 * (/tmp/research/sys-leaves.md section 0.1, tdx-abi.md 1.1 and 2.1):
 *  CPU: no VMX root operation -> #UD (TDX_SEAMCALL_UD); no module loaded ->
 *       VMfailInvalid; RAX bit 63 -> the P-SEAMLDR.
 *  Module: RAX 63:24 set -> OPERAND_INVALID+RAX; version not accepted ->
 *       OPERAND_INVALID+RAX; SYS_SHUTDOWN and leaf != 44 -> SYS_SHUTDOWN;
 *       not READY and leaf not allowed -> SYS_NOT_READY; no such leaf ->
 *       OPERAND_INVALID+RAX. Dispatcher errors write RAX only.
 * Linux's entry points: __seamcall (no write-back), __seamcall_ret (RCX, RDX,
 * R8-R11), __seamcall_saved_ret (all 13); an unbound thread gets
 * TDXSIM_SW_NO_BINDING.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL
#define RAX_INVALID tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX)
#define SEAMLDR_INFO 0x8000000000000000ULL
#define LDR_PA 0x400000ULL

static inline void to_shutdown(tdxsim *s)
{
	tsim_to_ready(s, NULL);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
}

static inline struct tdx_module_args pattern(void)
{
	struct tdx_module_args a;
	uint64_t *w = (uint64_t *)&a;
	for (unsigned i = 0; i < sizeof(a) / 8; i++)
		w[i] = 0x0303030303030303ULL * (i + 1);
	return a;
}

/* The status, and every register back unchanged. */
static inline void expect_gate(tdxsim *s, unsigned lp, uint64_t rax, uint64_t status)
{
	struct tdx_module_args a = pattern(), want = pattern();
	uint64_t st = seamcall_raw(s, lp, rax, &a);
	if (st != status)
		fail_msg("RAX 0x%llx: got 0x%016llx, expected 0x%016llx", (unsigned long long)rax,
			 (unsigned long long)st, (unsigned long long)status);
	assert_memory_equal(&a, &want, sizeof(a));
}

static inline uint64_t leaf_count(tdxsim *s, unsigned leaf)
{
	tdxsim_stats st = { .size = sizeof(st) };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_OK);
	return st.per_leaf[leaf];
}

/* ---- the SEAMCALL instruction -------------------------------------------- */

static void test_dispatch__without_vmxon(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	expect_gate(s, 0, TDH_SYS_INIT, TDX_SEAMCALL_UD);
	expect_gate(s, 0, TDH_SYS_LP_SHUTDOWN, TDX_SEAMCALL_UD);
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	/* VMXON on LP 0 only: LP 1 still #UDs. */
	assert_int_equal(tdxsim_vmx_get(s, 0), TDXSIM_OK);
	expect_gate(s, 1, TDH_SYS_INIT, TDX_SEAMCALL_UD);
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	tdxsim_close(s);
}

static void test_dispatch__after_vmxoff(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_int_equal(tdxsim_vmx_get(s, 2), TDXSIM_OK);      /* refcount 2 */
	assert_int_equal(tdxsim_vmx_put(s, 2), TDXSIM_OK);
	expect_gate(s, 2, TDH_SYS_LP_SHUTDOWN, TDX_SUCCESS);
	assert_int_equal(tdxsim_vmx_put(s, 2), TDXSIM_OK);      /* last put: VMXOFF */
	expect_gate(s, 2, TDH_SYS_LP_SHUTDOWN, TDX_SEAMCALL_UD);
	tdxsim_close(s);
}

static void test_dispatch__no_module(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_NO_MODULE;
	tdxsim *s = tsim_create(&cfg);
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	assert_int_equal(info.module_loaded, 0);
	/* VMX is checked first. */
	expect_gate(s, 0, TDH_SYS_INIT, TDX_SEAMCALL_UD);
	tsim_vmxon_all(s);
	expect_gate(s, 0, TDH_SYS_INIT, TDX_SEAMCALL_VMFAILINVALID);
	expect_gate(s, 0, TDH_SYS_LP_SHUTDOWN, TDX_SEAMCALL_VMFAILINVALID);
	expect_gate(s, 3, TDH_SYS_RD, TDX_SEAMCALL_VMFAILINVALID);
	expect_gate(s, 0, 0xFFFF, TDX_SEAMCALL_VMFAILINVALID);
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void test_dispatch__bad_lp(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDXSIM_SW_BAD_LP, tdxsim_seamcall(s, 8, TDH_SYS_INIT, &a));
	assert_int_equal(tdxsim_lp_offline(s, 3), TDXSIM_OK);
	assert_tdx_status(TDXSIM_SW_LP_OFFLINE, tdxsim_seamcall(s, 3, TDH_SYS_INIT, &a));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

/* ---- the module's gate --------------------------------------------------- */

static void test_dispatch__rax_reserved_bits(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	expect_gate(s, 0, TDH_SYS_INIT | (1ULL << 24), RAX_INVALID);
	expect_gate(s, 0, TDH_SYS_INIT | (1ULL << 31), RAX_INVALID);
	expect_gate(s, 0, TDH_SYS_INIT | (1ULL << 32), RAX_INVALID);
	expect_gate(s, 0, TDH_SYS_INIT | (1ULL << 62), RAX_INVALID);
	/* SYS.INIT did not run. */
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void test_dispatch__rax_reserved_before_state_gate(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	/* Before READY: reserved bits win over SYS_NOT_READY. */
	expect_gate(s, 0, TDH_SYS_TDMR_INIT | (1ULL << 40), RAX_INVALID);
	to_shutdown(s);
	/* After shutdown: reserved bits win over SYS_SHUTDOWN. */
	expect_gate(s, 0, TDH_SYS_RD | (1ULL << 24), RAX_INVALID);
	tdxsim_close(s);
}

static void test_dispatch__unsupported_version(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	expect_gate(s, 0, TDH_SYS_RD | (1ULL << TDX_VERSION_SHIFT), RAX_INVALID);
	expect_gate(s, 0, TDH_SYS_LP_INIT | (2ULL << TDX_VERSION_SHIFT), RAX_INVALID);
	expect_gate(s, 0, TDH_SYS_RD | (0xFFULL << TDX_VERSION_SHIFT), RAX_INVALID);
	/* Unknown leaves have no version either, even before READY. */
	expect_gate(s, 0, 46 | (1ULL << TDX_VERSION_SHIFT), RAX_INVALID);
	/* MNG.RD accepts version 1 (1.5.01): the state gate decides. */
	expect_gate(s, 0, TDH_MNG_RD | (1ULL << TDX_VERSION_SHIFT), TDX_SYS_NOT_READY);
	expect_gate(s, 0, TDH_MNG_RD | (2ULL << TDX_VERSION_SHIFT), RAX_INVALID);
	tdxsim_close(s);
}

static void test_dispatch__version_before_shutdown_gate(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	to_shutdown(s);
	expect_gate(s, 0, TDH_SYS_RD | (1ULL << TDX_VERSION_SHIFT), RAX_INVALID);
	expect_gate(s, 0, TDH_SYS_LP_SHUTDOWN | (1ULL << TDX_VERSION_SHIFT), RAX_INVALID);
	expect_gate(s, 0, TDH_SYS_RD, TDX_SYS_SHUTDOWN);
	tdxsim_close(s);
}

static void test_dispatch__unknown_leaf_before_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	static const uint64_t leaves[] = { 42, 46, 47, 50, 51, 67, 97, 0xFE, 0xFFFF };
	for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		expect_gate(s, 0, leaves[i], TDX_SYS_NOT_READY);
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		expect_gate(s, 1, leaves[i], TDX_SYS_NOT_READY);
	tdxsim_close(s);
}

static void test_dispatch__unknown_leaf_in_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	static const uint64_t leaves[] = { 42, 46, 47, 50, 51, 67, 97, 0xFE, 0xFFFF };
	for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		expect_gate(s, 0, leaves[i], RAX_INVALID);
	assert_int_equal(tdxsim_module_state(s), TDX_SYS_READY);
	tdxsim_close(s);
}

static void test_dispatch__unknown_leaf_after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	to_shutdown(s);
	static const uint64_t leaves[] = { 42, 46, 47, 50, 51, 67, 97, 0xFE, 0xFFFF };
	for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		expect_gate(s, 0, leaves[i], TDX_SYS_SHUTDOWN);
	tdxsim_close(s);
}

static void test_dispatch__ready_only_leaves_before_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	/* tdx-abi.md 1.1: until READY only 31-35, 37, 44, 45, 53 run. */
	expect_gate(s, 0, TDH_SYS_TDMR_INIT, TDX_SYS_NOT_READY);
	expect_gate(s, 0, TDH_PHYMEM_PAGE_RDMD, TDX_SYS_NOT_READY);
	expect_gate(s, 0, TDH_SYS_SHUTDOWN, TDX_SYS_NOT_READY);
	expect_gate(s, 0, TDH_MNG_CREATE, TDX_SYS_NOT_READY);
	expect_gate(s, 0, TDH_VP_ENTER, TDX_SYS_NOT_READY);
	tdxsim_close(s);
}

/* ---- the P-SEAMLDR --------------------------------------------------------- */

static inline void check_seamldr_info(tdxsim *s, uint64_t pa)
{
	tdxsim_info info = { .size = sizeof(info) };
	assert_int_equal(tdxsim_info_get(s, &info), TDXSIM_OK);
	const tdxsim_platform *p = info.platform;
	uint8_t b[256];
	assert_int_equal(tdxsim_mem_read(s, pa, 0, b, sizeof(b)), TDXSIM_OK);
	uint16_t u16;
	uint32_t u32;
	memcpy(&u32, b + 4, 4);
	assert_int_equal(u32, 0);                       /* attributes: production */
	memcpy(&u32, b + 8, 4);
	assert_int_equal(u32, 0x8086);                  /* vendor_id */
	memcpy(&u16, b + 18, 2);
	assert_int_equal(u16, p->seamldr_minor);
	memcpy(&u16, b + 20, 2);
	assert_int_equal(u16, p->seamldr_major);
	memcpy(&u16, b + 22, 2);
	assert_int_equal(u16, p->seamldr_update);
	memcpy(&u32, b + 28, 4);
	assert_int_equal(u32, p->seamldr_remaining_updates);
	assert_int_equal(b[160], 1);                    /* seam_ready: module loaded */
	assert_int_equal(b[161], 0);                    /* seam_debug */
	assert_int_equal(b[162], 1);                    /* p_seam_ready */
	/* All 256 bytes written: no fill byte survives. */
	for (unsigned i = 0; i < 256; i++)
		assert_int_not_equal(b[i], 0xEE);
}

static inline void fill(tdxsim *s, uint64_t pa, size_t len)
{
	uint8_t b[1024];
	memset(b, 0xEE, len);
	assert_int_equal(tdxsim_mem_write(s, pa, 0, b, len), TDXSIM_OK);
}

static void test_dispatch__seamldr_info(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	fill(s, LDR_PA, 512);
	struct tdx_module_args a = pattern(), want = pattern();
	a.rcx = want.rcx = LDR_PA;
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, SEAMLDR_INFO, &a));
	assert_memory_equal(&a, &want, sizeof(a));
	check_seamldr_info(s, LDR_PA);
	/* Exactly 256 bytes. */
	uint8_t b[256];
	assert_int_equal(tdxsim_mem_read(s, LDR_PA + 256, 0, b, sizeof(b)), TDXSIM_OK);
	for (unsigned i = 0; i < 256; i++)
		assert_int_equal(b[i], 0xEE);
	/* Routed away from the module: its state and leaf counters are untouched. */
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	assert_int_equal(leaf_count(s, 0), 0);
	tdxsim_close(s);
}

static void test_dispatch__seamldr_info_platform(void **state)
{
	(void)state;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = "gnr";
	tdxsim *s = tsim_create(&cfg);
	tsim_vmxon_all(s);
	const tdxsim_platform *p = tdxsim_platform_find("gnr");
	assert_non_null(p);
	assert_int_equal(p->seamldr_major, 2);
	fill(s, LDR_PA, 256);
	struct tdx_module_args a = { .rcx = LDR_PA };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 5, SEAMLDR_INFO, &a));
	check_seamldr_info(s, LDR_PA);
	tdxsim_close(s);
}

static void test_dispatch__seamldr_info_misaligned(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	fill(s, LDR_PA, 512);
	struct tdx_module_args a = pattern(), want = pattern();
	a.rcx = want.rcx = LDR_PA + 128;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX),
			  seamcall_raw(s, 0, SEAMLDR_INFO, &a));
	assert_memory_equal(&a, &want, sizeof(a));
	uint8_t b[512];
	assert_int_equal(tdxsim_mem_read(s, LDR_PA, 0, b, sizeof(b)), TDXSIM_OK);
	for (unsigned i = 0; i < sizeof(b); i++)
		assert_int_equal(b[i], 0xEE);
	tdxsim_close(s);
}

static void test_dispatch__seamldr_info_any_module_state(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	to_shutdown(s);
	fill(s, LDR_PA, 256);
	struct tdx_module_args a = { .rcx = LDR_PA };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, SEAMLDR_INFO, &a));
	check_seamldr_info(s, LDR_PA);
	tdxsim_close(s);
}

static void test_dispatch__seamldr_without_vmxon(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	fill(s, LDR_PA, 256);
	struct tdx_module_args a = { .rcx = LDR_PA };
	assert_tdx_status(TDX_SEAMCALL_UD, seamcall_raw(s, 0, SEAMLDR_INFO, &a));
	uint8_t b[4];
	assert_int_equal(tdxsim_mem_read(s, LDR_PA + 8, 0, b, sizeof(b)), TDXSIM_OK);
	assert_int_equal(b[0], 0xEE);
	tdxsim_close(s);
}

/* ---- Linux's entry points ---------------------------------------------------- */

struct last_event {
	int n;
	tdxsim_seamcall_event ev;
};

static void record(void *user, const tdxsim_seamcall_event *ev)
{
	struct last_event *l = user;
	l->n++;
	l->ev = *ev;
}

/* SYS.INIT and LP.INIT done, thread bound to LP 0, a hook recording the call. */
static inline tdxsim *bound_sim(struct last_event *l)
{
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	assert_int_equal(tdxsim_thread_bind(s, 0), TDXSIM_OK);
	memset(l, 0, sizeof(*l));
	assert_int_equal(tdxsim_hook_seamcall(s, record, l, NULL), TDXSIM_OK);
	return s;
}

static inline void unbind_close(tdxsim *s)
{
	assert_int_equal(tdxsim_thread_bind(NULL, 0), TDXSIM_OK);
	tdxsim_close(s);
}

/* SYS.RD of NUM_PKGS: R8 = 2, RDX = 0x0000000200000001. */
static inline struct tdx_module_args rd_args(void)
{
	struct tdx_module_args a = pattern();
	a.rdx = 0;
	return a;
}

static void test_dispatch__seamcall_no_writeback(void **state)
{
	(void)state;
	struct last_event l;
	tdxsim *s = bound_sim(&l);
	struct tdx_module_args a = rd_args(), want = rd_args();
	assert_tdx_status(TDX_SUCCESS, __seamcall(TDH_SYS_RD, &a));
	assert_memory_equal(&a, &want, sizeof(a));
	/* The module did produce outputs: they were not stored back. */
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev.out.r8, 2);
	assert_int_equal(l.ev.out.rdx, 0x0000000200000001ULL);
	/* Loaded: RCX, RDX, R8-R11 only. */
	assert_int_equal(l.ev.in.rcx, want.rcx);
	assert_int_equal(l.ev.in.r11, want.r11);
	assert_int_equal(l.ev.in.r12, 0);
	assert_int_equal(l.ev.in.rsi, 0);
	unbind_close(s);
}

static void test_dispatch__seamcall_ret_writeback(void **state)
{
	(void)state;
	struct last_event l;
	tdxsim *s = bound_sim(&l);
	struct tdx_module_args a = rd_args(), want = rd_args();
	assert_tdx_status(TDX_SUCCESS, __seamcall_ret(TDH_SYS_RD, &a));
	assert_int_equal(l.n, 1);
	/* RCX, RDX, R8-R11 stored back... */
	want.rdx = 0x0000000200000001ULL;
	want.r8 = 2;
	assert_memory_equal(&a, &want, sizeof(a));
	/* ...and R12-R15, RBX, RDI, RSI never loaded. */
	assert_int_equal(l.ev.in.r12, 0);
	assert_int_equal(l.ev.in.r15, 0);
	assert_int_equal(l.ev.in.rbx, 0);
	assert_int_equal(l.ev.in.rdi, 0);
	assert_int_equal(l.ev.in.rsi, 0);
	assert_int_equal(l.ev.in.r10, want.r10);
	/* RDMD zeroes RCX, RDX, R8-R11: all six come back. */
	tdxsim_close(s);
	s = tsim_create_vmxon();
	tsim_to_ready(s, NULL);
	assert_int_equal(tdxsim_thread_bind(s, 1), TDXSIM_OK);
	struct tdx_module_args b = pattern();
	b.rcx = 3ULL << 30;                 /* outside every TDMR */
	assert_tdx_status(tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, TDX_OPERAND_ID_RCX),
			  __seamcall_ret(TDH_PHYMEM_PAGE_RDMD, &b));
	struct tdx_module_args wb = pattern();
	wb.rcx = wb.rdx = wb.r8 = wb.r9 = wb.r10 = wb.r11 = 0;
	assert_memory_equal(&b, &wb, sizeof(b));
	unbind_close(s);
}

static void test_dispatch__seamcall_saved_ret_writeback(void **state)
{
	(void)state;
	struct last_event l;
	tdxsim *s = bound_sim(&l);
	struct tdx_module_args a = rd_args(), want = rd_args();
	assert_tdx_status(TDX_SUCCESS, __seamcall_saved_ret(TDH_SYS_RD, &a));
	assert_int_equal(l.n, 1);
	/* All 13 loaded... */
	assert_memory_equal(&l.ev.in, &want, sizeof(want));
	/* ...and all 13 stored: what the module left in every register. */
	want.rdx = 0x0000000200000001ULL;
	want.r8 = 2;
	assert_memory_equal(&a, &want, sizeof(a));
	assert_memory_equal(&a, &l.ev.out, sizeof(a));
	unbind_close(s);
}

static void test_dispatch__bound_lp(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 6, TDH_SYS_LP_INIT, &a);
	tdxsim *bs = NULL;
	unsigned lp = 99;
	assert_int_equal(tdxsim_thread_bind(s, 6), TDXSIM_OK);
	assert_int_equal(tdxsim_thread_binding(&bs, &lp), TDXSIM_OK);
	assert_ptr_equal(bs, s);
	assert_int_equal(lp, 6);
	/* The call runs on LP 6 (initialised), not on LP 0 (not). */
	struct tdx_module_args b = { .rdx = MD_SYS_MAX_TDMRS };
	assert_tdx_status(TDX_SUCCESS, __seamcall_ret(TDH_SYS_RD, &b));
	assert_int_equal(b.r8, 64);
	assert_int_equal(tdxsim_thread_bind(s, 0), TDXSIM_OK);
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, __seamcall_ret(TDH_SYS_RD, &b));
	assert_int_equal(tdxsim_thread_bind(s, 8), TDXSIM_ERR_ARG);
	unbind_close(s);
}

static void test_dispatch__unbound_thread(void **state)
{
	(void)state;
	assert_int_equal(tdxsim_thread_bind(NULL, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_thread_binding(NULL, NULL), TDXSIM_ERR_STATE);
	struct tdx_module_args a = pattern(), want = pattern();
	assert_tdx_status(TDXSIM_SW_NO_BINDING, __seamcall(TDH_SYS_INIT, &a));
	assert_tdx_status(TDXSIM_SW_NO_BINDING, __seamcall_ret(TDH_SYS_INIT, &a));
	assert_tdx_status(TDXSIM_SW_NO_BINDING, __seamcall_saved_ret(TDH_SYS_INIT, &a));
	assert_memory_equal(&a, &want, sizeof(a));
	/* Unbinding after a binding works too. */
	tdxsim *s = tsim_create_vmxon();
	assert_int_equal(tdxsim_thread_bind(s, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_thread_bind(NULL, 0), TDXSIM_OK);
	assert_tdx_status(TDXSIM_SW_NO_BINDING, __seamcall(TDH_SYS_INIT, &a));
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	tdxsim_close(s);
}

static void *other_thread(void *arg)
{
	struct tdx_module_args a = { 0 };
	*(uint64_t *)arg = __seamcall(TDH_SYS_INIT, &a);
	return NULL;
}

static void test_dispatch__binding_is_per_thread(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	assert_int_equal(tdxsim_thread_bind(s, 0), TDXSIM_OK);
	uint64_t st = 0;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, other_thread, &st), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_tdx_status(TDXSIM_SW_NO_BINDING, st);
	assert_int_equal(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	unbind_close(s);
}

/* ---- the fault API --------------------------------------------------------- */

static void test_dispatch__fault_add_argument_checks(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.nth = 1;
	f.status = TDX_SYS_NOT_READY;             /* not injectable */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.status = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);  /* operand id added by the leaf */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.status = TDX_SYS_BUSY;
	f.leaf = 46;                              /* no such leaf */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.leaf = TDH_SYS_RD;                      /* takes no global lock */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.leaf = TDH_SYS_INIT;
	f.lp = 8;                                 /* no such LP */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.lp = -1;
	f.nth = 0;                                /* neither nth nor probability */
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	f.nth = 1;
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_OK);
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SYS_BUSY, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	tdxsim_close(s);
}

static void test_dispatch__fault_any_leaf_only_where_it_can(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tdxsim_fault f = TDXSIM_FAULT_INIT;   /* leaf -1: any leaf that takes the lock */
	f.status = TDX_SYS_BUSY;
	f.nth = 1;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_LP_SHUTDOWN, &a));
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, seamcall_raw(s, 0, TDH_SYS_RD, &a));
	assert_tdx_status(TDX_SYS_BUSY, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	assert_tdx_status(TDX_SYS_BUSY, seamcall_raw(s, 1, TDH_SYS_LP_INIT, &a));
	uint64_t n = 0;
	assert_int_equal(tdxsim_fault_fired(s, id, &n), TDXSIM_OK);
	assert_int_equal(n, 2);
	assert_int_equal(tdxsim_fault_clear(s), TDXSIM_OK);
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	tdxsim_stats st = { .size = sizeof(st) };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_OK);
	assert_int_equal(st.injected, 2);
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch__without_vmxon),
		cmocka_unit_test(test_dispatch__after_vmxoff),
		cmocka_unit_test(test_dispatch__no_module),
		cmocka_unit_test(test_dispatch__bad_lp),
		cmocka_unit_test(test_dispatch__rax_reserved_bits),
		cmocka_unit_test(test_dispatch__rax_reserved_before_state_gate),
		cmocka_unit_test(test_dispatch__unsupported_version),
		cmocka_unit_test(test_dispatch__version_before_shutdown_gate),
		cmocka_unit_test(test_dispatch__unknown_leaf_before_ready),
		cmocka_unit_test(test_dispatch__unknown_leaf_in_ready),
		cmocka_unit_test(test_dispatch__unknown_leaf_after_shutdown),
		cmocka_unit_test(test_dispatch__ready_only_leaves_before_ready),
		cmocka_unit_test(test_dispatch__seamldr_info),
		cmocka_unit_test(test_dispatch__seamldr_info_platform),
		cmocka_unit_test(test_dispatch__seamldr_info_misaligned),
		cmocka_unit_test(test_dispatch__seamldr_info_any_module_state),
		cmocka_unit_test(test_dispatch__seamldr_without_vmxon),
		cmocka_unit_test(test_dispatch__seamcall_no_writeback),
		cmocka_unit_test(test_dispatch__seamcall_ret_writeback),
		cmocka_unit_test(test_dispatch__seamcall_saved_ret_writeback),
		cmocka_unit_test(test_dispatch__bound_lp),
		cmocka_unit_test(test_dispatch__unbound_thread),
		cmocka_unit_test(test_dispatch__binding_is_per_thread),
		cmocka_unit_test(test_dispatch__fault_add_argument_checks),
		cmocka_unit_test(test_dispatch__fault_any_leaf_only_where_it_can),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
