/*
 * Example host program: bring the TDX module up on the default platform the
 * way Linux does (VMXON everywhere, TDH.SYS.INIT, TDH.SYS.LP.INIT per LP,
 * TDMRs + PAMTs, TDH.SYS.CONFIG, TDH.SYS.KEY.CONFIG per package,
 * TDH.SYS.TDMR.INIT), through the Linux-compatible __seamcall* symbols, then
 * print the module's metadata and the SEAMCALLs issued. Then build a TD the
 * way KVM does (two vCPUs, a measured 16 KiB image, MR.FINALIZE, pages
 * faulted in with PAGE.AUG), show its MRTD and that its memory is ciphertext
 * to the host, zap a page and tear the TD down until every page is free.
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

/* ---- A TD, as KVM builds and destroys it --------------------------------- */

struct td {
	uint64_t tdr, tdcs[TDX_TDCS_PAGES], tdvpr[2], tdcx[2][TDX_TDVPS_PAGES - 1];
	uint64_t sept[8], page[8];
	unsigned n_sept, n_page;
	uint32_t hkid;
};

static uint64_t next_pa;

static uint64_t page(void)
{
	uint64_t pa = next_pa;
	next_pa += 4096;
	return pa;
}

static const char *type_name(unsigned t)
{
	static const char *const n[] = { "PT_NDA", "PT_RSVD", "?", "PT_REG", "PT_TDR", "PT_TDCX",
					 "PT_TDVPR", "?", "PT_EPT" };
	return t < 9 ? n[t] : "?";
}

static void td_demo(tdxsim *s, const tdxsim_info *info, uint64_t free_pa)
{
	struct td td = { .hkid = info->first_tdx_keyid + 1 };
	struct tdx_module_args a;
	uint64_t shared = free_pa;              /* TD_PARAMS and the image source */
	next_pa = free_pa + 0x10000;
	printf("\nA TD (KeyID %u):\n", td.hkid);

	/* KVM_TDX_INIT_VM: create, program the key on every package, TDCS, init. */
	td.tdr = page();
	a = (struct tdx_module_args){ .rcx = td.tdr, .rdx = td.hkid };
	call(0, s, TDH_MNG_CREATE, &a);
	for (unsigned p = 0; p < info->packages; p++) {
		a = (struct tdx_module_args){ .rcx = td.tdr };
		call(p * info->lps_per_package, s, TDH_MNG_KEY_CONFIG, &a);
	}
	for (unsigned i = 0; i < TDX_TDCS_PAGES; i++) {
		td.tdcs[i] = page();
		a = (struct tdx_module_args){ .rcx = td.tdcs[i], .rdx = td.tdr };
		call(0, s, TDH_MNG_ADDCX, &a);
	}
	struct tdx_td_params *tp = tdxsim_pa_to_ptr(s, shared);
	memset(tp, 0, sizeof(*tp));
	tp->attributes = TDX_TD_ATTR_SEPT_VE_DISABLE;
	tp->xfam = 0x3;
	tp->max_vcpus = 2;
	tp->eptp_controls = TDX_EPTP_WB_4LVL;
	tp->config_flags = TDX_CONFIG_FLAGS_NO_RBP_MOD;
	tp->tsc_frequency = (uint16_t)(info->platform->tsc_mhz / 25);
	a = (struct tdx_module_args){ .rcx = td.tdr, .rdx = shared };
	call(0, s, TDH_MNG_INIT, &a);

	/* KVM_TDX_INIT_VCPU on LP 0 and on the first LP of the other package. */
	unsigned vlp[2] = { 0, info->lps_per_package };
	for (unsigned v = 0; v < 2; v++) {
		td.tdvpr[v] = page();
		a = (struct tdx_module_args){ .rcx = td.tdvpr[v], .rdx = td.tdr };
		call(vlp[v], s, TDH_VP_CREATE, &a);
		for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++) {
			td.tdcx[v][i] = page();
			a = (struct tdx_module_args){ .rcx = td.tdcx[v][i], .rdx = td.tdvpr[v] };
			call(vlp[v], s, TDH_VP_ADDCX, &a);
		}
		a = (struct tdx_module_args){ .rcx = td.tdvpr[v], .r8 = v };
		call(vlp[v], s, TDH_VP_INIT | (1ULL << 16), &a);
	}

	/* KVM_TDX_INIT_MEM_REGION: S-EPT tables for GPA 0..2 MiB (PDPT, PD, PT),
	 * then a 16 KiB image at GPA 0, each page added and measured. */
	for (unsigned lvl = 3; lvl >= 1; lvl--) {
		td.sept[td.n_sept] = page();
		a = (struct tdx_module_args){ .rcx = lvl, .rdx = td.tdr, .r8 = td.sept[td.n_sept] };
		call(0, s, TDH_MEM_SEPT_ADD, &a);
		td.n_sept++;
	}
	uint8_t *src = tdxsim_pa_to_ptr(s, shared + 0x1000);
	for (unsigned i = 0; i < 4; i++) {
		for (unsigned b = 0; b < 4096; b++)
			src[b] = (uint8_t)"TD firmware image "[b % 18];
		td.page[td.n_page] = page();
		a = (struct tdx_module_args){ .rcx = 0x1000ULL * i, .rdx = td.tdr,
					      .r8 = td.page[td.n_page], .r9 = shared + 0x1000 };
		call(0, s, TDH_MEM_PAGE_ADD, &a);
		td.n_page++;
		for (unsigned c = 0; c < 16; c++) {
			a = (struct tdx_module_args){ .rcx = 0x1000ULL * i + 256 * c, .rdx = td.tdr };
			call(0, s, TDH_MR_EXTEND, &a);
		}
	}
	a = (struct tdx_module_args){ .rcx = td.tdr };
	call(0, s, TDH_MR_FINALIZE, &a);
	printf("  built: 6 TDCS pages, 2 vCPUs, 3 S-EPT pages, 4 measured pages; MRTD =\n    ");
	for (unsigned e = 0; e < 6; e++) {
		a = (struct tdx_module_args){ .rcx = td.tdr, .rdx = MD_TD_MRTD + e };
		call(0, s, TDH_MNG_RD, &a);
		for (unsigned b = 0; b < 8; b++)
			printf("%02x", (unsigned)((a.r8 >> (8 * b)) & 0xFF));
	}
	printf("\n");

	/* The host's view of a TD page. */
	uint8_t host[32];
	tdxsim_mem_read(s, td.page[0], 0, host, sizeof(host));
	const uint8_t *raw = tdxsim_pa_to_ptr(s, td.page[0]);
	printf("  page 0 through KeyID 0: %s; raw RAM: %02x %02x %02x %02x ... (ciphertext)\n",
	       host[0] == 0 && !memcmp(host, host + 1, sizeof(host) - 1) ? "zeros" : "DATA",
	       raw[0], raw[1], raw[2], raw[3]);

	/* Run time: two pages faulted in (PAGE.AUG), one zapped again. */
	for (unsigned i = 0; i < 2; i++) {
		td.page[td.n_page] = page();
		a = (struct tdx_module_args){ .rcx = 0x100000ULL + 0x1000 * i, .rdx = td.tdr,
					      .r8 = td.page[td.n_page] };
		call(0, s, TDH_MEM_PAGE_AUG, &a);
		td.n_page++;
	}
	uint64_t gpa = 0x101000;
	a = (struct tdx_module_args){ .rcx = gpa, .rdx = td.tdr };
	call(0, s, TDH_MEM_RANGE_BLOCK, &a);
	a = (struct tdx_module_args){ .rcx = td.tdr };
	call(0, s, TDH_MEM_TRACK, &a);
	a = (struct tdx_module_args){ .rcx = gpa, .rdx = td.tdr };
	call(0, s, TDH_MEM_PAGE_REMOVE, &a);
	td.n_page--;
	a = (struct tdx_module_args){ .rcx = td.page[td.n_page] | ((uint64_t)td.hkid << info->keyid_shift) };
	call(0, s, TDH_PHYMEM_PAGE_WBINVD, &a);
	printf("  faulted in 2 pages with PAGE.AUG, zapped GPA %#llx (BLOCK, TRACK, REMOVE, WBINVD)\n",
	       (unsigned long long)gpa);

	/* Teardown, KVM's order. */
	for (unsigned v = 0; v < 2; v++) {
		a = (struct tdx_module_args){ .rcx = td.tdvpr[v] };
		call(vlp[v], s, TDH_VP_FLUSH, &a);
	}
	a = (struct tdx_module_args){ .rcx = td.tdr };
	call(0, s, TDH_MNG_VPFLUSHDONE, &a);
	for (unsigned p = 0; p < info->packages; p++) {
		a = (struct tdx_module_args){ .rcx = 0 };
		call(p * info->lps_per_package, s, TDH_PHYMEM_CACHE_WB, &a);
	}
	a = (struct tdx_module_args){ .rcx = td.tdr };
	call(0, s, TDH_MNG_KEY_FREEID, &a);
	uint64_t all[64];
	unsigned n = 0;
	for (unsigned v = 0; v < 2; v++) {
		for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++)
			all[n++] = td.tdcx[v][i];
		all[n++] = td.tdvpr[v];
	}
	for (unsigned i = 0; i < td.n_page; i++)
		all[n++] = td.page[i];
	for (unsigned i = td.n_sept; i-- > 0;)
		all[n++] = td.sept[i];
	for (unsigned i = 0; i < TDX_TDCS_PAGES; i++)
		all[n++] = td.tdcs[i];
	all[n++] = td.tdr;
	unsigned counts[9] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		a = (struct tdx_module_args){ .rcx = all[i] };
		call(0, s, TDH_PHYMEM_PAGE_RECLAIM, &a);
		if (a.rcx < 9)
			counts[a.rcx]++;
	}
	a = (struct tdx_module_args){ .rcx = td.tdr | ((uint64_t)info->first_tdx_keyid << info->keyid_shift) };
	call(0, s, TDH_PHYMEM_PAGE_WBINVD, &a);
	printf("  torn down: reclaimed");
	for (unsigned t = 0; t < 9; t++)
		if (counts[t])
			printf(" %u %s", counts[t], type_name(t));
	unsigned free_pages = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned type;
		tdxsim_pamt_lookup(s, all[i], &type, NULL, NULL);
		free_pages += type == PT_NDA;
	}
	printf("; %u of %u pages back to PT_NDA\n", free_pages, n);
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
	uint64_t bringup_calls = st.seamcalls;
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

	td_demo(s, &info, tdmr[0].base + (256ULL << 20));
	tdxsim_stats_get(s, &st);
	printf("SEAMCALLs for the TD: %llu\n", (unsigned long long)(st.seamcalls - bringup_calls));
	tdxsim_close(s);
	return 0;
}
