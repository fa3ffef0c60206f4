/*
 * TD paths of the VM-entry comparison (td_path.h), through the public API.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tdxsim/tdxsim.h>

#include "guest/hand_asm.h"
#include "models/kvm_host.h"
#include "vmx/td_path.h"
#include "vmx/vmx.h"

#define GPA_CODE    TD_BOOT_CODE_GPA
#define GPA_PT      TD_BOOT_PT_GPA
#define EXIT_VMCALL (TDX_SUCCESS | 77)
#define EXIT_INTR   (TDX_SUCCESS | 1)

struct td_path {
	tdxsim *s;
	const struct vmx_costs *k;
	uint64_t next_pa, params_pa, src_pa;
	uint64_t tdr, tdvpr;
	bool waiting;                   /* guest stopped at its request VMCALL */
	struct kvm_host_model host;     /* KVM's share, charged to the LP clock */
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int call(struct td_path *t, unsigned lp, uint64_t fn, struct tdx_module_args *a,
		char *err, size_t errlen)
{
	uint64_t st = tdxsim_seamcall(t->s, lp, fn, a);
	if (st & TDX_STATUS_ERROR_BIT) {
		char buf[96];
		snprintf(err, errlen, "%s failed: %s", tdx_seamcall_leaf_name(fn),
			 tdx_status_str(st, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

static uint64_t page(struct td_path *t)
{
	uint64_t pa = t->next_pa;
	t->next_pa += 4096;
	return pa;
}

/* ---- Guest code. ---- */

/* A short jump back; out of range makes the program "too long" below. */
static void jcc_back(struct hasm *c, uint8_t op, size_t label)
{
	if (hasm_jback(c, op, label))
		c->n = TD_BOOT_PROG_END + 1;
}

static int build_code(uint8_t *pg, char *err, size_t errlen)
{
	td_boot_page(pg);
	struct hasm c = { .b = pg, .n = TD_BOOT_PROG };
	size_t top = c.n;
	HASM(&c, 0x41, 0xBB, TD_PATH_MARK & 0xFF, (TD_PATH_MARK >> 8) & 0xFF,
	     (TD_PATH_MARK >> 16) & 0xFF, TD_PATH_MARK >> 24);  /* mov r11d, MARK */
	HASM(&c, 0x31, 0xC0);                           /* xor eax, eax: VP.VMCALL */
	HASM(&c, 0xB9, 0x00, 0x18, 0x00, 0x00);         /* mov ecx, 0x1800: R11, R12 */
	HASM(&c, 0x66, 0x0F, 0x01, 0xCC);               /* tdcall */
	HASM(&c, 0x4C, 0x89, 0xDE);                     /* mov rsi, r11: iterations */
	HASM(&c, 0x41, 0x83, 0xFC, 0x01);               /* cmp r12d, 1 */
	size_t to_tdv = hasm_jfwd(&c, 0x74);              /* je tdv */
	HASM(&c, 0x41, 0x83, 0xFC, 0x02);               /* cmp r12d, 2 */
	size_t to_nop = hasm_jfwd(&c, 0x74);              /* je nop */
	size_t l_cpu = c.n;                             /* CPUID loop (5 instructions) */
	HASM(&c, 0x31, 0xC0, 0x31, 0xC9);               /* xor eax, eax; xor ecx, ecx */
	HASM(&c, 0x0F, 0xA2);                           /* cpuid */
	HASM(&c, 0x48, 0xFF, 0xCE);                     /* dec rsi */
	jcc_back(&c, 0x75, l_cpu);                      /* jnz */
	HASM(&c, 0x49, 0x89, 0xDC);                     /* mov r12, rbx: report */
	jcc_back(&c, 0xEB, top);                        /* jmp top */
	hasm_patch(&c, to_nop);
	size_t l_nop = c.n;                             /* the same with a NOP */
	HASM(&c, 0x31, 0xC0, 0x31, 0xC9);
	HASM(&c, 0x66, 0x90);                           /* 2-byte nop */
	HASM(&c, 0x48, 0xFF, 0xCE);
	jcc_back(&c, 0x75, l_nop);
	jcc_back(&c, 0xEB, top);
	hasm_patch(&c, to_tdv);
	size_t l_tdv = c.n;                             /* TDVMCALL<CPUID> loop (9 instructions) */
	HASM(&c, 0x45, 0x31, 0xD2);                     /* xor r10d, r10d: GHCI standard */
	HASM(&c, 0x41, 0xBB, 0x0A, 0x00, 0x00, 0x00);   /* mov r11d, 10: CPUID */
	HASM(&c, 0x45, 0x31, 0xE4);                     /* xor r12d, r12d: leaf 0 */
	HASM(&c, 0x45, 0x31, 0xED);                     /* xor r13d, r13d: subleaf 0 */
	HASM(&c, 0x31, 0xC0);                           /* xor eax, eax */
	HASM(&c, 0xB9, 0x00, 0xFC, 0x00, 0x00);         /* mov ecx, 0xFC00: R10..R15 */
	HASM(&c, 0x66, 0x0F, 0x01, 0xCC);               /* tdcall */
	HASM(&c, 0x48, 0xFF, 0xCE);                     /* dec rsi */
	jcc_back(&c, 0x75, l_tdv);                      /* jnz */
	HASM(&c, 0x4D, 0x89, 0xEC);                     /* mov r12, r13: report EBX */
	jcc_back(&c, 0xEB, top);
	if (c.n > TD_BOOT_PROG_END) {
		snprintf(err, errlen, "TD guest program too long");
		return -1;
	}
	return 0;
}

/* ---- Machine and TD. ---- */

static int bringup(struct td_path *t, uint64_t gib, char *err, size_t errlen)
{
	tdxsim *s = t->s;
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	for (unsigned lp = 0; lp < info.n_lps; lp++)
		tdxsim_vmx_get(s, lp);
	struct tdx_module_args a = { 0 };
	if (call(t, 0, TDH_SYS_INIT, &a, err, errlen))
		return -1;
	for (unsigned lp = 0; lp < info.n_lps; lp++) {
		memset(&a, 0, sizeof(a));
		if (call(t, lp, TDH_SYS_LP_INIT, &a, err, errlen))
			return -1;
	}
	uint64_t size = gib << 30;
	struct tdx_tdmr_info tm = { .base = 0, .size = size };
	tm.pamt_4k_size = (size >> 12) * 16;
	tm.pamt_2m_size = ((size >> 21) * 16 + 4095) & ~4095ULL;
	tm.pamt_1g_size = 4096;
	uint64_t pamt = size - tm.pamt_4k_size - tm.pamt_2m_size - tm.pamt_1g_size;
	tm.pamt_4k_base = pamt;
	tm.pamt_2m_base = pamt + tm.pamt_4k_size;
	tm.pamt_1g_base = tm.pamt_2m_base + tm.pamt_2m_size;
	uint64_t meta = pamt - 0x2000;
	tm.reserved[0].offset = meta;
	tm.reserved[0].size = size - meta;
	tdxsim_mem_write(s, meta + 0x1000, 0, &tm, sizeof(tm));
	uint64_t pa = meta + 0x1000;
	tdxsim_mem_write(s, meta, 0, &pa, 8);
	a = (struct tdx_module_args){ .rcx = meta, .rdx = 1, .r8 = info.first_tdx_keyid };
	if (call(t, 0, TDH_SYS_CONFIG, &a, err, errlen))
		return -1;
	for (unsigned p = 0; p < info.packages; p++) {
		memset(&a, 0, sizeof(a));
		if (call(t, p * info.lps_per_package, TDH_SYS_KEY_CONFIG, &a, err, errlen))
			return -1;
	}
	uint64_t next = 0;
	while (next < size) {
		memset(&a, 0, sizeof(a));
		if (call(t, 0, TDH_SYS_TDMR_INIT, &a, err, errlen))
			return -1;
		next = a.rdx;
	}
	return 0;
}

static int build_td(struct td_path *t, char *err, size_t errlen)
{
	tdxsim *s = t->s;
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	t->tdr = page(t);
	struct tdx_module_args a = { .rcx = t->tdr, .rdx = info.first_tdx_keyid + 1 };
	if (call(t, 0, TDH_MNG_CREATE, &a, err, errlen))
		return -1;
	for (unsigned p = 0; p < info.packages; p++) {
		a = (struct tdx_module_args){ .rcx = t->tdr };
		if (call(t, p * info.lps_per_package, TDH_MNG_KEY_CONFIG, &a, err, errlen))
			return -1;
	}
	for (unsigned i = 0; i < TDX_TDCS_PAGES; i++) {
		a = (struct tdx_module_args){ .rcx = page(t), .rdx = t->tdr };
		if (call(t, 0, TDH_MNG_ADDCX, &a, err, errlen))
			return -1;
	}
	struct tdx_td_params p;
	memset(&p, 0, sizeof(p));
	p.xfam = 3;
	p.max_vcpus = 1;
	p.eptp_controls = TDX_EPTP_WB_4LVL;
	p.config_flags = TDX_CONFIG_FLAGS_NO_RBP_MOD;
	p.tsc_frequency = (uint16_t)(info.platform->tsc_mhz / 25);
	tdxsim_mem_write(s, t->params_pa, 0, &p, sizeof(p));
	a = (struct tdx_module_args){ .rcx = t->tdr, .rdx = t->params_pa };
	if (call(t, 0, TDH_MNG_INIT, &a, err, errlen))
		return -1;
	t->tdvpr = page(t);
	a = (struct tdx_module_args){ .rcx = t->tdvpr, .rdx = t->tdr };
	if (call(t, 0, TDH_VP_CREATE, &a, err, errlen))
		return -1;
	for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++) {
		a = (struct tdx_module_args){ .rcx = page(t), .rdx = t->tdvpr };
		if (call(t, 0, TDH_VP_ADDCX, &a, err, errlen))
			return -1;
	}
	a = (struct tdx_module_args){ .rcx = t->tdvpr, .r8 = 0 };
	if (call(t, 0, TDH_VP_INIT | (1ULL << 16), &a, err, errlen))
		return -1;
	/* S-EPT for the top 2 MiB: PDPT page (level 3), PD (2), PT (1). */
	const uint64_t top2m = 0xFFE00000ull;
	uint64_t lv[3][2] = { { 0 | 3, 0 }, { (top2m & ~((1ull << 30) - 1)) | 2, 0 }, { top2m | 1, 0 } };
	for (unsigned i = 0; i < 3; i++) {
		a = (struct tdx_module_args){ .rcx = lv[i][0], .rdx = t->tdr, .r8 = page(t) };
		if (call(t, 0, TDH_MEM_SEPT_ADD, &a, err, errlen))
			return -1;
	}
	uint8_t pg[4096];
	if (build_code(pg, err, errlen))
		return -1;
	uint64_t gpas[2] = { GPA_CODE, GPA_PT };
	for (unsigned i = 0; i < 2; i++) {
		if (i == 1)
			memset(pg, 0, sizeof(pg));
		tdxsim_mem_write(s, t->src_pa, 0, pg, sizeof(pg));
		a = (struct tdx_module_args){ .rcx = gpas[i], .rdx = t->tdr, .r8 = page(t), .r9 = t->src_pa };
		if (call(t, 0, TDH_MEM_PAGE_ADD, &a, err, errlen))
			return -1;
	}
	a = (struct tdx_module_args){ .rcx = t->tdr };
	return call(t, 0, TDH_MR_FINALIZE, &a, err, errlen);
}

uint64_t td_path_host_cycles(const struct td_path *t, bool cpuid)
{
	return t->host.k->cycles[COST_HOST_TD_EXIT] + (cpuid ? t->host.k->cycles[COST_HOST_CPUID] : 0);
}

struct td_path *td_path_open(const struct vmx_costs *k, char *err, size_t errlen)
{
	struct td_path *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->k = k;
	t->params_pa = 4ull << 20;
	t->src_pa = 8ull << 20;
	t->next_pa = 16ull << 20;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 1;
	cfg.cmrs[0].base = 0;
	cfg.cmrs[0].size = 2ull << 30;
	if (tdxsim_open(&cfg, &t->s)) {
		snprintf(err, errlen, "tdxsim_open of a 2 GiB machine failed");
		free(t);
		return NULL;
	}
	if (bringup(t, 2, err, errlen) || build_td(t, err, errlen)) {
		td_path_close(t);
		return NULL;
	}
	/* KVM's work around each TD exit (models/kvm_host.h), on the LP clock
	 * like the rest, so the TD paths include the host VMM as the
	 * calibration does. */
	kvm_host_model_add(&t->host, t->s, NULL);
	/* Boot: the first entry runs to the guest's first request. */
	struct tdx_module_args a = { .rcx = t->tdvpr };
	uint64_t st = tdxsim_seamcall(t->s, 0, TDH_VP_ENTER, &a);
	while (st == EXIT_INTR) {
		a = (struct tdx_module_args){ .rcx = t->tdvpr };
		st = tdxsim_seamcall(t->s, 0, TDH_VP_ENTER, &a);
	}
	if (st != EXIT_VMCALL || (uint32_t)a.r11 != TD_PATH_MARK) {
		snprintf(err, errlen, "TD guest boot: VP.ENTER gave 0x%llx, R11 0x%llx",
			 (unsigned long long)st, (unsigned long long)a.r11);
		td_path_close(t);
		return NULL;
	}
	t->waiting = true;
	return t;
}

int td_path_run(struct td_path *t, enum td_loop mode, uint32_t iterations,
		struct td_path_result *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (!t->waiting || iterations == 0) {
		snprintf(err, errlen, "TD guest not at its request point (or 0 iterations)");
		return -1;
	}
	uint64_t c0, c1;
	uint64_t h_exits = t->host.exits, h_cpuids = t->host.cpuids;
	tdxsim_lp_cycles(t->s, 0, &c0);
	double w0 = now_ns();
	struct tdx_module_args a = { .rcx = t->tdvpr, .r11 = iterations, .r12 = (uint64_t)mode };
	uint64_t st = tdxsim_seamcall(t->s, 0, TDH_VP_ENTER, &a);
	r->entries++;
	for (;;) {
		if (st == EXIT_INTR) {
			r->other_exits++;
			a = (struct tdx_module_args){ .rcx = t->tdvpr };
		} else if (st == EXIT_VMCALL && a.r10 == 0 && a.r11 == 10) {
			/* KVM: TDVMCALL<Instruction.CPUID> */
			uint32_t out[4];
			kvm_cpuid_values((uint32_t)a.r12, (uint32_t)a.r13, out);
			r->tdvmcall_exits++;
			a = (struct tdx_module_args){ .rcx = t->tdvpr, .r10 = 0, .r12 = out[0],
				.r13 = out[1], .r14 = out[2], .r15 = out[3] };
		} else {
			break;
		}
		st = tdxsim_seamcall(t->s, 0, TDH_VP_ENTER, &a);
		r->entries++;
	}
	r->wall_ns = now_ns() - w0;
	tdxsim_lp_cycles(t->s, 0, &c1);
	r->lp_cycles = c1 - c0;
	r->host_cycles = (t->host.exits - h_exits) * t->host.k->cycles[COST_HOST_TD_EXIT] +
		(t->host.cpuids - h_cpuids) * t->host.k->cycles[COST_HOST_CPUID];
	if (st != EXIT_VMCALL || (uint32_t)a.r11 != TD_PATH_MARK) {
		t->waiting = false;
		snprintf(err, errlen, "TD loop: VP.ENTER gave 0x%llx, R11 0x%llx",
			 (unsigned long long)st, (unsigned long long)a.r11);
		return -1;
	}
	r->report = (uint32_t)a.r12;
	return 0;
}

void td_path_close(struct td_path *t)
{
	if (!t)
		return;
	tdxsim_close(t->s);
	free(t);
}
