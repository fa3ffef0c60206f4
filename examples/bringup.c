/*
 * Example host program: bring the TDX module up on the default platform the
 * way Linux does (VMXON everywhere, TDH.SYS.INIT, TDH.SYS.LP.INIT per LP,
 * TDMRs + PAMTs, TDH.SYS.CONFIG, TDH.SYS.KEY.CONFIG per package,
 * TDH.SYS.TDMR.INIT), through the Linux-compatible __seamcall* symbols, then
 * print the module's metadata and the SEAMCALLs issued.
 *
 * Build against an installed tdxsim:  cc bringup.c $(pkg-config --cflags --libs tdxsim)
 * Usage: tdxsim-bringup [spr|emr|gnr]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdxsim/tdxsim.h>

struct log {
	unsigned long counts[TDX_SEAMCALL_LEAF_MAX];
	uint64_t last_rdx;
};

static void on_seamcall(void *user, const tdxsim_seamcall_event *ev)
{
	struct log *log = user;
	unsigned leaf = ev->rax_in & 0xFFFF;
	char st[96];
	if (leaf < TDX_SEAMCALL_LEAF_MAX)
		log->counts[leaf]++;
	/* Print every call except the long TDMR.INIT loop: only the calls
	 * after which RDX (next GiB to initialise) moved. */
	if (leaf == TDH_SYS_TDMR_INIT && ev->status == TDX_SUCCESS) {
		int moved = ev->out.rdx != log->last_rdx;
		log->last_rdx = ev->out.rdx;
		if (!moved)
			return;
	}
	printf("  #%-5llu LP%-2u %-20s rcx=%#-12llx rdx=%#-12llx -> %s, rdx=%#llx\n",
	       (unsigned long long)ev->seq, ev->lp, tdx_seamcall_leaf_name(ev->rax_in),
	       (unsigned long long)ev->in.rcx, (unsigned long long)ev->in.rdx,
	       tdx_status_str(ev->status, st, sizeof(st)), (unsigned long long)ev->out.rdx);
}

static uint64_t call(unsigned lp, tdxsim *s, uint64_t fn, struct tdx_module_args *a)
{
	tdxsim_thread_bind(s, lp);
	uint64_t st = __seamcall_ret(fn, a);
	if (st & TDX_STATUS_ERROR_BIT) {
		char buf[96];
		fprintf(stderr, "bringup: %s failed: %s\n", tdx_seamcall_leaf_name(fn),
			tdx_status_str(st, buf, sizeof(buf)));
		exit(1);
	}
	return st;
}

static uint64_t sys_rd(tdxsim *s, uint64_t id)
{
	struct tdx_module_args a = { .rdx = id };
	call(0, s, TDH_SYS_RD, &a);
	return a.r8;
}

int main(int argc, char **argv)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = argc > 1 ? argv[1] : NULL;
	tdxsim *s;
	tdxsim_err err = tdxsim_open(&cfg, &s);
	if (err) {
		fprintf(stderr, "bringup: tdxsim_open: %s\n", tdxsim_strerror(err));
		return 1;
	}
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	printf("Platform %s: %s\n  %u packages x %u LPs, %llu MiB DRAM in %u CMRs, "
	       "KeyIDs: %u MKTME + %u TDX (KeyID bits at PA %u..%u)\n\n",
	       info.platform->name, info.platform->description, info.packages,
	       info.lps_per_package, (unsigned long long)(info.mem_bytes >> 20), info.n_cmrs,
	       info.mktme_keyids, info.tdx_keyids, info.keyid_shift, info.max_pa - 1);

	struct log log = { 0 };
	unsigned hook;
	tdxsim_hook_seamcall(s, on_seamcall, &log, &hook);
	printf("SEAMCALLs (TDMR.INIT shown once per GiB):\n");

	for (unsigned lp = 0; lp < info.n_lps; lp++)
		tdxsim_vmx_get(s, lp);
	struct tdx_module_args a = { 0 };
	call(0, s, TDH_SYS_INIT, &a);
	for (unsigned lp = 0; lp < info.n_lps; lp++) {
		memset(&a, 0, sizeof(a));
		call(lp, s, TDH_SYS_LP_INIT, &a);
	}

	/* TDMRs: one per CMR (CMRs here are 1 GiB aligned); PAMTs at the top of
	 * the last CMR, reserved in the TDMR that holds them. */
	uint64_t top = info.cmrs[info.n_cmrs - 1].base + info.cmrs[info.n_cmrs - 1].size;
	uint64_t cur = top;
	struct tdx_tdmr_info tdmr[TDX_MAX_TDMRS];
	memset(tdmr, 0, sizeof(tdmr));
	for (unsigned i = 0; i < info.n_cmrs; i++) {
		struct tdx_tdmr_info *t = &tdmr[i];
		t->base = info.cmrs[i].base;
		t->size = info.cmrs[i].size;
		t->pamt_4k_size = ((t->size >> 12) * 16 + 4095) & ~4095ULL;
		t->pamt_2m_size = ((t->size >> 21) * 16 + 4095) & ~4095ULL;
		t->pamt_1g_size = ((t->size >> 30) * 16 + 4095) & ~4095ULL;
		cur -= t->pamt_4k_size + t->pamt_2m_size + t->pamt_1g_size;
		t->pamt_4k_base = cur;
		t->pamt_2m_base = cur + t->pamt_4k_size;
		t->pamt_1g_base = t->pamt_2m_base + t->pamt_2m_size;
	}
	uint64_t meta = cur - 0x10000;
	struct tdx_tdmr_info *last = &tdmr[info.n_cmrs - 1];
	last->reserved[0].offset = meta - last->base;
	last->reserved[0].size = top - meta;
	uint64_t *array = tdxsim_pa_to_ptr(s, meta);
	for (unsigned i = 0; i < info.n_cmrs; i++) {
		uint64_t pa = meta + 0x1000 + 512 * i;
		memcpy(tdxsim_pa_to_ptr(s, pa), &tdmr[i], sizeof(tdmr[i]));
		array[i] = pa;
	}
	memset(&a, 0, sizeof(a));
	a.rcx = meta;
	a.rdx = info.n_cmrs;
	a.r8 = info.first_tdx_keyid;
	call(0, s, TDH_SYS_CONFIG, &a);
	for (unsigned lp = 0; lp < info.n_lps; lp++)
		tdxsim_wbinvd(s, lp);
	for (unsigned p = 0; p < info.packages; p++) {
		memset(&a, 0, sizeof(a));
		call(p * info.lps_per_package, s, TDH_SYS_KEY_CONFIG, &a);
	}
	for (unsigned i = 0; i < info.n_cmrs; i++) {
		uint64_t next = 0;
		while (next < tdmr[i].base + tdmr[i].size) {
			memset(&a, 0, sizeof(a));
			a.rcx = tdmr[i].base;
			call(0, s, TDH_SYS_TDMR_INIT, &a);
			next = a.rdx;
		}
	}

	tdxsim_hook_remove(s, hook);
	printf("\nModule state: %s\n", tdxsim_module_state(s) == TDX_SYS_READY ? "READY" : "not ready");
	printf("Module metadata (TDH.SYS.RD):\n");
	printf("  version           %llu.%llu.%llu\n", (unsigned long long)sys_rd(s, MD_SYS_MAJOR_VERSION),
	       (unsigned long long)sys_rd(s, MD_SYS_MINOR_VERSION),
	       (unsigned long long)sys_rd(s, MD_SYS_UPDATE_VERSION));
	printf("  TDX_FEATURES0     %#llx\n", (unsigned long long)sys_rd(s, MD_SYS_TDX_FEATURES0));
	printf("  MAX_TDMRS         %llu\n", (unsigned long long)sys_rd(s, MD_SYS_MAX_TDMRS));
	printf("  MAX_RESERVED      %llu\n", (unsigned long long)sys_rd(s, MD_SYS_MAX_RESERVED_PER_TDMR));
	printf("  PAMT entry sizes  %llu/%llu/%llu\n", (unsigned long long)sys_rd(s, MD_SYS_PAMT_4K_ENTRY_SIZE),
	       (unsigned long long)sys_rd(s, MD_SYS_PAMT_2M_ENTRY_SIZE),
	       (unsigned long long)sys_rd(s, MD_SYS_PAMT_1G_ENTRY_SIZE));
	printf("  TDR/TDCS/TDVPS    %llu/%llu/%llu bytes\n", (unsigned long long)sys_rd(s, MD_SYS_TDR_BASE_SIZE),
	       (unsigned long long)sys_rd(s, MD_SYS_TDCS_BASE_SIZE),
	       (unsigned long long)sys_rd(s, MD_SYS_TDVPS_BASE_SIZE));
	printf("  ATTRIBUTES_FIXED0 %#llx  FIXED1 %#llx\n",
	       (unsigned long long)sys_rd(s, MD_SYS_ATTRIBUTES_FIXED0),
	       (unsigned long long)sys_rd(s, MD_SYS_ATTRIBUTES_FIXED1));
	printf("  XFAM_FIXED0       %#llx  FIXED1 %#llx\n", (unsigned long long)sys_rd(s, MD_SYS_XFAM_FIXED0),
	       (unsigned long long)sys_rd(s, MD_SYS_XFAM_FIXED1));
	printf("  NUM_CPUID_CONFIG  %llu, MAX_VCPUS_PER_TD %llu\n",
	       (unsigned long long)sys_rd(s, MD_SYS_NUM_CPUID_CONFIG),
	       (unsigned long long)sys_rd(s, MD_SYS_MAX_VCPUS_PER_TD));
	unsigned type;
	uint64_t owner;
	unsigned size;
	tdxsim_pamt_lookup(s, tdmr[0].base + 0x100000, &type, &owner, &size);
	printf("  PAMT of PA %#llx: type %u (PT_NDA), size code %u\n",
	       (unsigned long long)(tdmr[0].base + 0x100000), type, size);

	tdxsim_stats st = { .size = sizeof(st) };
	tdxsim_stats_get(s, &st);
	printf("\nSEAMCALLs issued in bring-up: %llu (", (unsigned long long)(st.seamcalls - st.per_leaf[TDH_SYS_RD]));
	int first = 1;
	for (unsigned i = 0; i < TDX_SEAMCALL_LEAF_MAX; i++)
		if (log.counts[i] && i != TDH_SYS_RD) {
			printf("%s%s x%lu", first ? "" : ", ", tdx_seamcall_leaf_name(i), log.counts[i]);
			first = 0;
		}
	uint64_t cyc;
	tdxsim_lp_cycles(s, 0, &cyc);
	printf(")\nSimulated cycles on LP0: %llu\n", (unsigned long long)cyc);
	tdxsim_close(s);
	return 0;
}
