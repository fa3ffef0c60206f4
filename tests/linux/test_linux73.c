/*
 * Linux 7.3 conformance: the kernel's unmodified arch/x86/virt/vmx/tdx/tdx.c
 * (with tdx_global_metadata.c, which it includes) and seamldr.c, fetched at
 * build time. TDX comes up at boot through subsys_initcall(tdx_enable); the
 * "virt/tdx:online" hot-plug callback takes a VMX reference and runs
 * tdx_cpu_enable() on every CPU; syscore ops handle suspend and shutdown.
 * TDs are built, run and torn down through the kernel's tdh_*() wrappers by
 * kvm73.c, our stand-in for KVM 7.3's TDX code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "glue.h"
#include "harness.h"
#include "kvm73.h"

/* The kernel's entry points (tdx.c). */
void tdx_init(void);
int tdx_guest_keyid_alloc(void);
void tdx_guest_keyid_free(unsigned int keyid);
unsigned int tdx_get_nr_guest_keyids(void);

#define LEAF_RDMD 24
#define LEAF_KEY_CONFIG 31
#define LEAF_SYS_INIT 33
#define LEAF_SYS_RD 34
#define LEAF_LP_INIT 35
#define LEAF_TDMR_INIT 36
#define LEAF_SYS_CONFIG 45
#define LEAF_SYS_DISABLE 69
#define LEAF_SEAMLDR 0xFFFFFFFFu
#define FEATURES0_NO_RBP_MOD (1ULL << 18)

static tdxsim *boot(const tdxsim_config *cfg, int *ret)
{
	tdxsim *s = kh_boot(cfg, NULL);
	tdx_init();                     /* setup_arch() */
	*ret = kglue_initcall();        /* subsys_initcall(tdx_enable), on CPU 0 */
	return s;
}

static int all_refs(unsigned want)
{
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		if (kh_vmx_refs(c) != want) {
			fprintf(stderr, "  LP %u: VMX refcount %u, want %u\n", c, kh_vmx_refs(c), want);
			return 0;
		}
	return 1;
}

static uint64_t sys_rd(tdxsim *s, uint64_t id)
{
	struct tdx_module_args a = { .rdx = id };
	uint64_t st = tdxsim_seamcall(s, 0, 34, &a);
	return st ? 0xDEADDEADDEADDEADULL : a.r8;
}

/* The first PAMT page the kernel handed the module. */
static uint64_t a_pamt_page(void)
{
	return kh_ntdmrs ? kh_tdmrs[0].pamt_base[0] : 0;
}

/* The only WARNs allowed: the preemption assertion of tdx_cpu_flush_cache()
 * reached from the preemptible CPU-offline callback (see the report). */
static int only_offline_flush_warns(unsigned expected)
{
	unsigned w = kshim_rt_warn_count();
	unsigned n = kshim_rt_log_count("lockdep_assert_preemption_disabled()");
	if (w != n || w != expected) {
		fprintf(stderr, "  WARNs %u, of which preemption assertions %u; expected %u\n", w, n, expected);
		return 0;
	}
	return 1;
}

/* ---- scenarios ------------------------------------------------------------ */

static int boot_initcall_success(void)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	CHECK(kshim_rt_log_has("virt/tdx: TDX-Module initialized"));
	char want[96];
	snprintf(want, sizeof(want), "virt/tdx: Module version: %u.%u.%02u", kh_info.module_major,
		 kh_info.module_minor, kh_info.module_update);
	CHECK(kshim_rt_log_has(want), "expected \"%s\"", want);
	CHECK_EQ(tdxsim_module_state(s), TDX_SYS_READY);
	CHECK_EQ(tdxsim_global_keyid(s), kh_info.first_tdx_keyid);
	CHECK_EQ(tdx_get_nr_guest_keyids(), kh_info.tdx_keyids - 1);
	/* The online callback ran on every CPU: one VMX reference each, LP.INIT each. */
	CHECK_EQ(kshim_rt_nr_cpuhp_states(), 1);
	CHECK_EQ(kshim_rt_nr_syscore(), 1);
	CHECK(all_refs(1));
	CHECK_EQ(kh_count(LEAF_SYS_INIT), 1);
	CHECK_EQ(kh_ev[0].leaf, LEAF_SYS_INIT);
	for (unsigned lp = 0; lp < kh_info.n_lps; lp++) {
		CHECK_EQ(kh_count_lp(LEAF_LP_INIT, lp), 1);
		CHECK(cache_state_incoherent[lp], "CPU %u made SEAMCALLs", lp);
	}
	/* Global metadata: version, features, TDMR, TD control, TD config + CPUID table. */
	unsigned ncpuid = (unsigned)sys_rd(s, 0x9900000100000004ULL);
	kh_nev--;               /* drop the test's own SYS.RD */
	CHECK_EQ(kh_count(LEAF_SYS_RD), 18 + 3 * ncpuid);
	CHECK_EQ(kh_ev[kh_first(LEAF_SYS_RD)].in.rdx, 0x0800000100000003ULL);
	CHECK(kh_last(LEAF_LP_INIT) < kh_first(LEAF_SYS_RD));
	CHECK(kh_last(LEAF_SYS_RD) < kh_first(LEAF_SYS_CONFIG));
	CHECK_EQ(kh_count(LEAF_SYS_CONFIG), 1);
	CHECK_EQ(kh_count(LEAF_KEY_CONFIG), kh_info.packages);
	CHECK(kh_last(LEAF_KEY_CONFIG) < kh_first(LEAF_TDMR_INIT));
	for (size_t i = 0; i < kh_nev; i++)
		CHECK_EQ(kh_ev[i].status, 0);
	CHECK(kh_ntdmrs >= 1);
	const struct kh_tdmr *last = &kh_tdmrs[kh_ntdmrs - 1];
	CHECK_EQ(kh_ev[kh_last(LEAF_TDMR_INIT)].out.rdx, last->base + last->size);
	/* PAMT owned by the module; the MCE helper recognises it. */
	unsigned type = 0;
	CHECK_EQ(tdxsim_pamt_lookup(s, a_pamt_page(), &type, NULL, NULL), TDXSIM_OK);
	CHECK_EQ(type, 1);
	const char *msg = kglue_dump_mce(a_pamt_page());
	CHECK(msg && strstr(msg, "TDX private memory error"));
	CHECK(kglue_dump_mce(2ULL << 20) == NULL);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

/* tdx_get_sysinfo() against the platform profile and the module's own answers. */
static int sysinfo_matches_profile(void)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	struct kglue_sysinfo si;
	CHECK_EQ(kglue_sysinfo(&si), 0);
	CHECK_EQ(si.major, kh_info.module_major);
	CHECK_EQ(si.minor, kh_info.module_minor);
	CHECK_EQ(si.update, kh_info.module_update);
	CHECK_EQ(si.features0, kh_info.tdx_features0);
	CHECK(si.features0 & FEATURES0_NO_RBP_MOD);
	CHECK_EQ(si.max_tdmrs, 64);
	CHECK_EQ(si.max_reserved_per_tdmr, 16);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(si.pamt_entry_size[i], 16);
	CHECK_EQ(si.tdr_base_size, 4096);
	CHECK_EQ(si.tdr_base_size, sys_rd(s, 0x9800000100000000ULL));
	CHECK_EQ(si.tdcs_base_size, sys_rd(s, 0x9800000100000100ULL));
	CHECK_EQ(si.tdvps_base_size, sys_rd(s, 0x9800000100000200ULL));
	CHECK_EQ(si.attributes_fixed0, sys_rd(s, 0x1900000300000000ULL));
	CHECK_EQ(si.attributes_fixed1, sys_rd(s, 0x1900000300000001ULL));
	CHECK_EQ(si.xfam_fixed0, sys_rd(s, 0x1900000300000002ULL));
	CHECK_EQ(si.xfam_fixed1, sys_rd(s, 0x1900000300000003ULL));
	CHECK_EQ(si.num_cpuid_config, sys_rd(s, 0x9900000100000004ULL));
	CHECK(si.num_cpuid_config >= 1 && si.num_cpuid_config <= 128);
	CHECK_EQ(si.max_vcpus_per_td, sys_rd(s, 0x9900000100000008ULL));
	CHECK(si.max_vcpus_per_td >= kh_info.n_lps);
	int has_80000008 = 0;
	for (unsigned i = 0; i < si.num_cpuid_config; i++) {
		CHECK_EQ(si.cpuid_config_leaves[i], sys_rd(s, 0x9900000300000400ULL + i));
		CHECK_EQ(si.cpuid_config_values[i][0], sys_rd(s, 0x9900000300000500ULL + 2 * i));
		CHECK_EQ(si.cpuid_config_values[i][1], sys_rd(s, 0x9900000300000500ULL + 2 * i + 1));
		has_80000008 |= (uint32_t)si.cpuid_config_leaves[i] == 0x80000008u;
	}
	CHECK(has_80000008, "CPUID_CONFIG must list leaf 0x80000008 (KVM needs it)");
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static int init_fails_unwound(int ret, int want, const char *logmsg, unsigned teardowns)
{
	CHECK_EQ(ret, want);
	CHECK(kshim_rt_log_has(logmsg), "expected \"%s\"", logmsg);
	CHECK_EQ(kshim_rt_nr_cpuhp_states(), 0);
	CHECK_EQ(kshim_rt_nr_syscore(), 0);
	CHECK(all_refs(0));
	struct kglue_sysinfo si;
	CHECK_EQ(kglue_sysinfo(&si), -1);
	CHECK_EQ(kshim_rt_live_allocs(-1), 0);
	/* cpuhp_remove_state() runs the offline callback on every CPU. */
	CHECK(only_offline_flush_warns(teardowns));
	return 0;
}

static int features_without_no_rbp_mod(void)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	const tdxsim_platform *p = tdxsim_platform_find(TDXSIM_DEFAULT_PLATFORM);
	cfg.flags = TDXSIM_CFG_FEATURES0_SET;
	cfg.tdx_features0 = p->tdx_features0 & ~FEATURES0_NO_RBP_MOD;
	int ret;
	boot(&cfg, &ret);
	CHECK(kshim_rt_log_has("(RBP) clobber"));
	CHECK_EQ(kh_count(LEAF_SYS_CONFIG), 0);
	return init_fails_unwound(ret, -EINVAL, "virt/tdx: TDX-Module initialization failed (-22)",
				  kh_info.n_lps);
}

static int module_not_loaded(void)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_NO_MODULE;
	int ret;
	boot(&cfg, &ret);
	CHECK_EQ(kh_nev, 1);
	return init_fails_unwound(ret, -ENODEV, "virt/tdx: module not loaded", 0);
}

static int too_few_keyids(void)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.mktme_keyids = 31;
	cfg.tdx_keyids = 1;
	int ret;
	boot(&cfg, &ret);
	CHECK(kshim_rt_log_has("too few private KeyIDs"));
	CHECK_EQ(kh_nev, 0);
	return init_fails_unwound(ret, -ENODEV, "host platform", 0);
}

static int movdir64b_required(void)
{
	kh_boot(NULL, NULL);
	tdx_init();
	kshim_caps[KSHIM_FEAT_MOVDIR64B] = 0;
	int ret = kglue_initcall();
	CHECK_EQ(kh_nev, 0);
	return init_fails_unwound(ret, -EINVAL, "MOVDIR64B is required", 0);
}

static int entropy_exhausted_lp_init(void)
{
	tdxsim *s = kh_boot(NULL, NULL);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_RND_NO_ENTROPY;
	f.leaf = LEAF_LP_INIT;
	f.nth = 1;
	CHECK_EQ(tdxsim_fault_add(s, &f, NULL), TDXSIM_OK);
	tdx_init();
	int ret = kglue_initcall();
	CHECK_EQ(kh_count(LEAF_LP_INIT), 10);   /* CPU 0's callback fails: setup unwinds */
	return init_fails_unwound(ret, -EIO, "SEAMCALL (0x0000000000000023) failed: 0x8000020300000000", 0);
}

static int tdmr_init_busy_unwind(void)
{
	tdxsim *s = kh_boot(NULL, NULL);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_OPERAND_BUSY;
	f.leaf = LEAF_TDMR_INIT;
	f.nth = 2;
	f.count = 1;
	tdxsim_err err = tdxsim_fault_add(s, &f, NULL);
	CHECK_EQ(err, TDXSIM_OK, "%s", tdxsim_errmsg(s));
	tdx_init();
	int ret = kglue_initcall();
	CHECK_EQ(kh_count(LEAF_TDMR_INIT), 2);
	CHECK(kshim_rt_log_has("SEAMCALL (0x0000000000000024) failed"));
	return init_fails_unwound(ret, -EIO, "virt/tdx: TDX-Module initialization failed (-5)", kh_info.n_lps);
}

/* CPU hot-plug after boot: no SEAMCALL either way (the per-CPU "LP
 * initialised" flag survives offline), the VMX reference is dropped and
 * retaken, and the CPU going down flushes its caches. */
static int cpu_offline_online(void)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	unsigned cpu = kh_info.n_lps - 1;
	uint64_t wb0 = kh_wbinvd(cpu);
	kh_rec_reset();
	CHECK_EQ(kshim_rt_cpu_down((int)cpu), 0);
	CHECK(!tdxsim_lp_is_online(s, cpu));
	CHECK_EQ(kh_vmx_refs(cpu), 0);
	CHECK_EQ(kh_wbinvd(cpu), wb0 + 1);
	CHECK(!cache_state_incoherent[cpu]);
	CHECK_EQ(kh_nev, 0);
	CHECK_EQ(kshim_rt_cpu_up((int)cpu), 0);
	CHECK(tdxsim_lp_is_online(s, cpu));
	CHECK_EQ(kh_vmx_refs(cpu), 1);
	CHECK_EQ(kh_nev, 0, "7.3 issues no SEAMCALL when a CPU comes back");
	/* The CPU serves SEAMCALLs again (its LP.INIT survived). */
	kshim_rt_bind((int)cpu);
	const char *msg = kglue_dump_mce(a_pamt_page());
	kshim_rt_bind(0);
	CHECK(msg != NULL);
	CHECK_EQ(kh_count_lp(LEAF_RDMD, cpu), 1);
	CHECK_EQ(kh_ev[kh_nev - 1].status, 0);
	CHECK(only_offline_flush_warns(1));
	return 0;
}

/* The last CPU of a package cannot go while a TD KeyID is allocated. */
static int offline_last_cpu_refused(void)
{
	int ret;
	boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	int keyid = tdx_guest_keyid_alloc();
	CHECK_EQ(keyid, kh_info.first_tdx_keyid + 1);
	unsigned pkg = kh_info.packages - 1, first = pkg * kh_info.lps_per_package;
	unsigned lastcpu = first + kh_info.lps_per_package - 1, downs = 0;
	for (unsigned c = first; c < lastcpu; c++) {
		CHECK_EQ(kshim_rt_cpu_down((int)c), 0);
		downs++;
	}
	kh_rec_reset();
	CHECK_EQ(kshim_rt_cpu_down((int)lastcpu), -EBUSY);
	CHECK(kshim_rt_log_has("online CPU"));
	CHECK(tdxsim_lp_is_online(kshim_rt_sim(), lastcpu));
	CHECK_EQ(kh_vmx_refs(lastcpu), 1);
	tdx_guest_keyid_free((unsigned)keyid);
	CHECK_EQ(kshim_rt_cpu_down((int)lastcpu), 0);
	downs++;
	CHECK_EQ(kh_nev, 0);
	CHECK(only_offline_flush_warns(downs));
	return 0;
}

static int suspend_resume(void)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	/* With a TD KeyID in use the secondary CPUs cannot all go: suspend aborts. */
	int keyid = tdx_guest_keyid_alloc();
	CHECK(keyid > 0);
	unsigned warns0 = kshim_rt_warn_count();
	CHECK_EQ(kshim_rt_suspend(), -EBUSY);
	CHECK(all_refs(1));
	CHECK_EQ(kshim_num_online(), (int)kh_info.n_lps);
	tdx_guest_keyid_free((unsigned)keyid);
	unsigned failed_downs = kshim_rt_warn_count() - warns0;

	kh_rec_reset();
	CHECK_EQ(kshim_rt_suspend(), 0);
	CHECK(all_refs(0), "every VMX reference dropped (offline callbacks + syscore suspend)");
	CHECK_EQ(kshim_num_online(), 1);
	kshim_rt_resume();
	CHECK_EQ(kshim_num_online(), (int)kh_info.n_lps);
	CHECK(all_refs(1));
	CHECK_EQ(kh_nev, 0);
	CHECK_EQ(tdxsim_module_state(s), TDX_SYS_READY);
	for (unsigned c = 0; c < kh_info.n_lps; c += kh_info.n_lps - 1) {
		kshim_rt_bind((int)c);
		CHECK(kglue_dump_mce(a_pamt_page()) != NULL);
		kshim_rt_bind(0);
		CHECK_EQ(kh_ev[kh_nev - 1].status, 0);
	}
	CHECK(only_offline_flush_warns(failed_downs + kh_info.n_lps - 1));
	return 0;
}

static int shutdown_sys_disable(int busy)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	if (busy) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.status = TDX_SYS_BUSY;
		f.leaf = LEAF_SYS_DISABLE;
		f.nth = 1;
		f.count = 3;
		tdxsim_err err = tdxsim_fault_add(s, &f, NULL);
		CHECK_EQ(err, TDXSIM_OK, "%s", tdxsim_errmsg(s));
	}
	uint64_t wb0[KSHIM_NR_CPUS];
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		wb0[c] = kh_wbinvd(c);
	kh_rec_reset();
	kshim_rt_shutdown();
	CHECK_EQ(kh_count(LEAF_SYS_DISABLE), busy ? 4 : 1);
	CHECK_EQ(kh_nev, kh_count(LEAF_SYS_DISABLE));
	CHECK_EQ(kh_ev[kh_nev - 1].status, 0);
	CHECK_EQ(kh_ev[kh_nev - 1].lp, 0);
	CHECK(!kshim_rt_log_has("TDH.SYS.DISABLE failed"));
	/* tdxsim's SYS.DISABLE model: back to SYSINIT_PENDING, every LP and
	 * TDMR forgotten (a full re-initialisation is needed). */
	CHECK_EQ(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	CHECK(all_refs(0));
	for (unsigned c = 0; c < kh_info.n_lps; c++) {
		CHECK_EQ(kh_wbinvd(c), wb0[c] + 1);
		CHECK(!cache_state_incoherent[c]);
	}
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}
static int shutdown_sys_disable_ok(void) { return shutdown_sys_disable(0); }
static int shutdown_sys_disable_busy_retried(void) { return shutdown_sys_disable(1); }

static int seamldr_get_info_profile(void)
{
	int ret;
	boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	CHECK(!kshim_caps[KSHIM_BUG_SEAMRET_INVD_VMCS]);
	kh_rec_reset();
	unsigned long live0 = kshim_rt_live_allocs(-1);
	struct kglue_seamldr_info si;
	memset(&si, 0xff, sizeof(si));
	CHECK_EQ(kglue_seamldr_info(&si), 0);
	CHECK_EQ(kh_nev, 1);
	CHECK_EQ(kh_ev[0].rax, 0x8000000000000000ULL);
	const tdxsim_platform *p = kh_info.platform;
	CHECK_EQ(si.vendor_id, 0x8086);
	CHECK_EQ(si.major_version, p->seamldr_major);
	CHECK_EQ(si.minor_version, p->seamldr_minor);
	CHECK_EQ(si.update_version, p->seamldr_update);
	CHECK_EQ(si.num_remaining_updates, p->seamldr_remaining_updates);
	CHECK_EQ(si.seam_ready, 1);
	CHECK_EQ(si.p_seam_ready, 1);
	CHECK_EQ(kshim_rt_live_allocs(-1), live0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

/* Without IA32_VMX_BASIC bit 60 the kernel keeps away from the P-SEAMLDR. */
static int seamldr_refused_seamret_bug(void)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_SEAMLDR_VMCS_BUG;
	kh_boot(&cfg, NULL);
	tdx_init();
	CHECK_EQ(kglue_initcall(), 0);
	CHECK(kshim_caps[KSHIM_BUG_SEAMRET_INVD_VMCS]);
	kh_rec_reset();
	struct kglue_seamldr_info si;
	CHECK_EQ(kglue_seamldr_info(&si), -EINVAL);
	CHECK_EQ(kh_nev, 0);
	CHECK_EQ(kshim_rt_warn_count(), 1);
	return 0;
}

/* A CPU offline at boot never runs TDH.SYS.LP.INIT: TDH.SYS.CONFIG needs
 * every LP initialised, so module init fails and unwinds. */
static int boot_with_cpu_offline_fails(void)
{
	tdxsim *s = kh_boot(NULL, NULL);
	unsigned cpu = kh_info.n_lps - 1;
	CHECK_EQ(kshim_rt_cpu_down((int)cpu), 0);      /* no cpuhp state yet */
	tdx_init();
	int ret = kglue_initcall();
	CHECK_EQ(kh_count(LEAF_LP_INIT), kh_info.n_lps - 1);
	CHECK_EQ(kh_count_lp(LEAF_LP_INIT, cpu), 0);
	CHECK_EQ(kh_count(LEAF_SYS_CONFIG), 1);
	CHECK(kh_ev[kh_last(LEAF_SYS_CONFIG)].status != 0);
	CHECK(kshim_rt_log_has("SEAMCALL (0x000000000000002d) failed"));
	CHECK_EQ(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	/* Offline callbacks ran on the online CPUs only. */
	return init_fails_unwound(ret, -EIO, "virt/tdx: TDX-Module initialization failed (-5)",
				  kh_info.n_lps - 1);
}

/* ---- TDs through the tdh_*() wrappers, KVM's side played by kvm73.c -------- */

#define TDCS_TSC_OFFSET_ID     0x110000000000000AULL
#define TDCS_TSC_MULTIPLIER_ID 0x110000000000000BULL
#define SEPT_ROOT_LEVEL        4        /* pg_level of the PML4 entries */
#define MAX_TD_PAGES           128

/* KVM_TDX_INIT_VM as a VMM with "-cpu host" fills it: everything KVM reports
 * configurable, the native family/model/stepping, GPAW 48. */
static uint32_t platform_fms(void)
{
	const tdxsim_platform *p = kh_info.platform;
	return ((p->cpu_model >> 4) << 16) | (p->cpu_family << 8) | ((p->cpu_model & 0xF) << 4) |
	       p->cpu_stepping;
}

static void uapi_host(struct kvm73_init_vm *u)
{
	struct kvm73_caps caps;
	kvm73_caps(&caps);
	memset(u, 0, sizeof(*u));
	u->attributes = caps.supported_attrs;
	u->xfam = caps.supported_xfam;
	u->nent = caps.nent;
	for (unsigned i = 0; i < caps.nent; i++) {
		struct kvm73_cpuid_entry *e = &u->entries[i];
		*e = caps.entries[i];
		if (e->function == 1)
			e->eax = platform_fms();
		if (e->function == 0x80000008)
			e->eax = (kh_info.platform->max_pa & 0xFF) | (48u << 16);
	}
}

/* RDMD from LP 0; the probe's own event is dropped from the record. */
static unsigned rdmd_type(uint64_t pa, uint64_t *owner)
{
	struct tdx_module_args a = { .rcx = pa };
	uint64_t st = tdxsim_seamcall(kshim_rt_sim(), 0, TDH_PHYMEM_PAGE_RDMD, &a);
	if (kh_nev && kh_ev[kh_nev - 1].leaf == TDH_PHYMEM_PAGE_RDMD)
		kh_nev--;
	if (owner)
		*owner = a.rdx;
	return st ? 0xFFu : (unsigned)a.rcx;
}

/* The first online LP of a package, as for_each_online_cpu() meets it. */
static unsigned first_lp_of(unsigned pkg)
{
	for (unsigned lp = 0; lp < kh_info.n_lps; lp++) {
		unsigned p = ~0u;
		if (tdxsim_lp_is_online(kshim_rt_sim(), lp) &&
		    tdxsim_lp_package(kshim_rt_sim(), lp, &p) == TDXSIM_OK && p == pkg)
			return lp;
	}
	return ~0u;
}

static unsigned pages_of(const struct kvm73_vm *vm, struct kvm73_page *pg)
{
	return kvm73_pages(vm, pg, MAX_TD_PAGES);
}

static uint64_t page_pa(const struct kvm73_page *pg, unsigned n, int kind, int index)
{
	for (unsigned i = 0; i < n; i++)
		if (pg[i].kind == kind && pg[i].index == index)
			return pg[i].pa;
	return 0;
}

/* The k-th page of a kind (in kvm73_pages() order). */
static uint64_t nth_pa(const struct kvm73_page *pg, unsigned n, int kind, unsigned k)
{
	for (unsigned i = 0; i < n; i++)
		if (pg[i].kind == kind && k-- == 0)
			return pg[i].pa;
	return 0;
}

static uint64_t private_pa(const struct kvm73_page *pg, unsigned n, uint64_t gpa)
{
	for (unsigned i = 0; i < n; i++)
		if (pg[i].kind == KVM73_PG_PRIVATE && pg[i].gpa == gpa)
			return pg[i].pa;
	return 0;
}

static uint64_t sept_pa(const struct kvm73_page *pg, unsigned n, uint64_t gpa, int level)
{
	for (unsigned i = 0; i < n; i++)
		if (pg[i].kind == KVM73_PG_SEPT && pg[i].gpa == gpa && pg[i].index == level)
			return pg[i].pa;
	return 0;
}

/* The next recorded SEAMCALL, which must be of this leaf. */
static const struct kh_event *ev_take(size_t *cur, uint32_t leaf)
{
	if (*cur >= kh_nev) {
		fprintf(stderr, "  event %zu: none, want %s\n", *cur, tdx_seamcall_leaf_name(leaf));
		return NULL;
	}
	const struct kh_event *e = &kh_ev[*cur];
	if (e->leaf != leaf) {
		char b[96];
		fprintf(stderr, "  event %zu: %s -> %s, want %s\n", *cur, tdx_seamcall_leaf_name(e->leaf),
			tdx_status_str(e->status, b, sizeof(b)), tdx_seamcall_leaf_name(leaf));
		return NULL;
	}
	(*cur)++;
	return e;
}

static void fill(uint8_t *buf, unsigned seed)
{
	for (unsigned i = 0; i < 4096; i++)
		buf[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

/* A private page's contents through the TD's KeyID equal the source. */
static int td_page_is(uint64_t pa, int hkid, unsigned seed)
{
	uint8_t want[4096], got[4096];
	fill(want, seed);
	if (tdxsim_mem_read(kshim_rt_sim(), pa, (uint32_t)hkid, got, sizeof(got)) != TDXSIM_OK)
		return 0;
	return memcmp(want, got, sizeof(got)) == 0;
}

/* After the PW_MCE quirk reset a page reads as zeros through KeyID 0. */
static int page_is_zero(uint64_t pa)
{
	uint8_t got[4096];
	if (tdxsim_mem_read(kshim_rt_sim(), pa, 0, got, sizeof(got)) != TDXSIM_OK)
		return 0;
	for (unsigned i = 0; i < sizeof(got); i++)
		if (got[i])
			return 0;
	return 1;
}

static int pw_mce(void)
{
	return (kh_info.platform->flags & TDXSIM_PLATFORM_F_PW_MCE) != 0;
}

/* The LP a second vCPU runs on: the first LP of the last package. */
static unsigned other_pkg_lp(void)
{
	return first_lp_of(kh_info.packages - 1);
}

/* KVM_TDX_INIT_VM with the host-like configuration. */
static int td_create(struct kvm73_vm **out)
{
	struct kvm73_init_vm u;
	unsigned long long hw = ~0ULL;
	struct kvm73_vm *vm = kvm73_vm_create();
	CHECK(vm != NULL);
	uapi_host(&u);
	CHECK_EQ(kvm73_init_vm(vm, &u, &hw), 0);
	CHECK_EQ(hw, 0);
	CHECK_EQ(kvm73_state(vm), KVM73_TD_INITIALIZED);
	*out = vm;
	return 0;
}

/* A runnable TD: vCPU 0 on LP 0, vCPU 1 on the last package's first LP,
 * one measured page at GPA 0, finalized. */
static int td_build_runnable(struct kvm73_vm **out)
{
	uint8_t src[4096];
	unsigned long long hw;
	struct kvm73_vm *vm;
	if (td_create(&vm))
		return 1;
	CHECK_EQ(kvm73_create_vcpu(vm, 0), 0);
	CHECK_EQ(kvm73_create_vcpu(vm, (int)other_pkg_lp()), 1);
	CHECK_EQ(kvm73_init_vcpu(vm, 0, 0), 0);
	CHECK_EQ(kvm73_init_vcpu(vm, 1, 0), 0);
	fill(src, 1);
	CHECK_EQ(kvm73_init_mem_region(vm, 0, 0, src, 1), 0);
	CHECK_EQ(kvm73_finalize(vm, &hw), 0);
	CHECK_EQ(hw, 0);
	*out = vm;
	return 0;
}

/* The allocator hands out the lowest free KeyID: take KeyIDs until hkid
 * comes (free) or a higher one does (allocated), then give them back. */
static int keyid_is_free(int hkid)
{
	int got[64], n = 0, found = 0;
	while (n < 64) {
		int k = tdx_guest_keyid_alloc();
		if (k < 0)
			break;
		got[n++] = k;
		if (k >= hkid) {
			found = k == hkid;
			break;
		}
	}
	while (n)
		tdx_guest_keyid_free((unsigned)got[--n]);
	return found;
}

/* After kvm73_destroy(): every page the TD had is PT_NDA again, no kernel
 * page is left, the KeyID is back in the pool. */
static int td_gone(struct kvm73_vm *vm, const struct kvm73_page *pg, unsigned n, int hkid)
{
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(rdmd_type(pg[i].pa, NULL), PT_NDA, "page %u (kind %d) 0x%llx", i, pg[i].kind,
			 (unsigned long long)pg[i].pa);
	CHECK_EQ(kvm73_hkid(vm), -1);
	CHECK_EQ(pages_of(vm, NULL), 0);
	kvm73_vm_free(vm);
	CHECK(keyid_is_free(hkid), "KeyID %d is back in the pool", hkid);
	return 0;
}

/* The next count calls of leaf find their first operand lock (the TDR)
 * busy: each stops there, so those locks are the fault's points 1..count. */
static int busy_plan(tdxsim *s, int32_t leaf, uint64_t count)
{
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_OPERAND_BUSY;
	f.leaf = leaf;
	f.nth = 1;
	f.count = count;
	CHECK_EQ(tdxsim_fault_add(s, &f, NULL), TDXSIM_OK, "%s", tdxsim_errmsg(s));
	return 0;
}

/* KVM destroys the VM: then every page it had and its KeyID are free. */
static int td_destroy_gone(struct kvm73_vm *vm)
{
	struct kvm73_page pg[MAX_TD_PAGES];
	unsigned n = pages_of(vm, pg);
	int hkid = kvm73_hkid(vm);
	kvm73_destroy(vm);
	return td_gone(vm, pg, n, hkid);
}

static int td_lifecycle_kvm_order(void)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	struct kglue_sysinfo si;
	CHECK_EQ(kglue_sysinfo(&si), 0);
	const unsigned tdcs_n = si.tdcs_base_size / 4096, tdcx_n = si.tdvps_base_size / 4096 - 1;
	const uint64_t shift = kh_info.keyid_shift;
	unsigned long live0 = kshim_rt_live_allocs(-1);
	struct kvm73_page pg[MAX_TD_PAGES];
	const struct kh_event *e;
	unsigned long long hw;
	size_t cur;
	unsigned n;

	/* KVM_TDX_INIT_VM: CREATE, KEY.CONFIG per package, ADDCX, INIT, RD x2. */
	kh_rec_reset();
	struct kvm73_vm *vm;
	if (td_create(&vm))
		return 1;
	const int hkid = kvm73_hkid(vm);
	CHECK_EQ(hkid, kh_info.first_tdx_keyid + 1);
	n = pages_of(vm, pg);
	CHECK_EQ(n, 1 + tdcs_n);
	const uint64_t tdr = page_pa(pg, n, KVM73_PG_TDR, 0);
	cur = 0;
	CHECK((e = ev_take(&cur, TDH_MNG_CREATE)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->lp, 0);
	CHECK_EQ(e->in.rcx, tdr);
	CHECK_EQ(e->in.rdx, hkid);
	for (unsigned p = 0; p < kh_info.packages; p++) {
		CHECK((e = ev_take(&cur, TDH_MNG_KEY_CONFIG)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->lp, first_lp_of(p));
		CHECK_EQ(e->in.rcx, tdr);
	}
	for (unsigned i = 0; i < tdcs_n; i++) {
		CHECK((e = ev_take(&cur, TDH_MNG_ADDCX)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->in.rcx, page_pa(pg, n, KVM73_PG_TDCS, (int)i));
		CHECK_EQ(e->in.rdx, tdr);
	}
	CHECK((e = ev_take(&cur, TDH_MNG_INIT)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, tdr);
	CHECK_EQ(e->in.rdx & 1023, 0);
	CHECK_EQ(e->out.rcx, 0);
	CHECK((e = ev_take(&cur, TDH_MNG_RD)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rdx, TDCS_TSC_OFFSET_ID);
	CHECK_EQ(e->out.r8, kvm73_tsc_offset(vm));
	CHECK((e = ev_take(&cur, TDH_MNG_RD)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rdx, TDCS_TSC_MULTIPLIER_ID);
	CHECK_EQ(e->out.r8, kvm73_tsc_multiplier(vm));
	CHECK_EQ(cur, kh_nev);
	/* Virtual TSC at the native frequency: multiplier 1.0 (2^48), and a
	 * virtual TSC that started from 0 at MNG.INIT on LP 0. */
	CHECK_EQ(kvm73_tsc_multiplier(vm), 1ULL << 48);
	uint64_t lp0_cycles = 0;
	CHECK_EQ(tdxsim_lp_cycles(s, 0, &lp0_cycles), TDXSIM_OK);
	CHECK(kvm73_tsc_offset(vm) != 0 && -kvm73_tsc_offset(vm) <= lp0_cycles);

	/* TD_PARAMS as setup_tdparams() built them. */
	struct kvm73_tdparams tp;
	struct kvm73_caps caps;
	kvm73_tdparams(vm, &tp);
	kvm73_caps(&caps);
	CHECK_EQ(caps.supported_attrs, (1ULL << 28) & si.attributes_fixed0);
	CHECK_EQ(tp.attributes, caps.supported_attrs | si.attributes_fixed1);
	CHECK_EQ(tp.xfam, (0xE7ULL & si.xfam_fixed0) | si.xfam_fixed1);
	CHECK_EQ(tp.max_vcpus, kh_info.n_lps);
	CHECK_EQ(tp.eptp_controls, 0x1E);
	CHECK_EQ(tp.config_flags, 1ULL << 2);
	CHECK_EQ(tp.tsc_frequency, kh_info.platform->tsc_mhz / 25);
	CHECK_EQ(tp.ncpuid, si.num_cpuid_config);
	for (unsigned i = 0; i < si.num_cpuid_config; i++) {
		uint32_t leaf = (uint32_t)si.cpuid_config_leaves[i];
		uint32_t sub = (uint32_t)(si.cpuid_config_leaves[i] >> 32);
		uint32_t want[4] = {
			(uint32_t)si.cpuid_config_values[i][0], (uint32_t)(si.cpuid_config_values[i][0] >> 32),
			(uint32_t)si.cpuid_config_values[i][1], (uint32_t)(si.cpuid_config_values[i][1] >> 32),
		};
		if (leaf == 1)
			want[0] = platform_fms();
		if (leaf == 7 && sub == 0) {
			want[1] &= ~((1u << 4) | (1u << 11));   /* no TSX */
			want[2] &= ~(1u << 5);                  /* no WAITPKG */
		}
		if (leaf == 0x80000008)
			want[0] = kh_info.platform->max_pa & 0xFF;   /* GPAW bits cleared */
		for (unsigned r = 0; r < 4; r++)
			CHECK_EQ(tp.cpuid[i][r], want[r], "CPUID 0x%x.%x reg %u", leaf, sub, r);
	}
	CHECK_EQ(rdmd_type(tdr, NULL), PT_TDR);
	for (unsigned i = 0; i < tdcs_n; i++) {
		uint64_t owner;
		CHECK_EQ(rdmd_type(page_pa(pg, n, KVM73_PG_TDCS, (int)i), &owner), PT_TDCX);
		CHECK_EQ(owner, tdr);
	}

	/* KVM_TDX_INIT_VCPU for vCPU 0 on LP 0 and vCPU 1 on another package. */
	const unsigned vlp[2] = { 0, other_pkg_lp() };
	const uint64_t vrcx[2] = { 0xC0DE0000ULL, 0xC0DE0001ULL };
	kh_rec_reset();
	for (int v = 0; v < 2; v++)
		CHECK_EQ(kvm73_create_vcpu(vm, (int)vlp[v]), v);
	for (int v = 0; v < 2; v++)
		CHECK_EQ(kvm73_init_vcpu(vm, v, vrcx[v]), 0);
	n = pages_of(vm, pg);
	CHECK_EQ(n, 1 + tdcs_n + 2 * (1 + tdcx_n));
	cur = 0;
	for (int v = 0; v < 2; v++) {
		uint64_t tdvpr = page_pa(pg, n, KVM73_PG_TDVPR, v);
		CHECK_EQ(kvm73_vcpu_cpu(vm, v), (int)vlp[v]);
		CHECK((e = ev_take(&cur, TDH_VP_CREATE)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->lp, vlp[v]);
		CHECK_EQ(e->in.rcx, tdvpr);
		CHECK_EQ(e->in.rdx, tdr);
		for (unsigned j = 0; j < tdcx_n; j++) {
			CHECK((e = ev_take(&cur, TDH_VP_ADDCX)));
			CHECK_EQ(e->status, 0);
			CHECK_EQ(e->in.rcx, nth_pa(pg, n, KVM73_PG_TDCX, (unsigned)v * tdcx_n + j));
			CHECK_EQ(e->in.rdx, tdvpr);
		}
		CHECK((e = ev_take(&cur, TDH_VP_INIT)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->rax, TDH_VP_INIT | (1ULL << 16));  /* version 1: R8 = x2APIC id */
		CHECK_EQ(e->lp, vlp[v]);
		CHECK_EQ(e->in.rcx, tdvpr);
		CHECK_EQ(e->in.rdx, vrcx[v]);
		CHECK_EQ(e->in.r8, v);
		const uint64_t wr[3][3] = {
			{ 0x0002, 0xF2, 0xFFFF },                                  /* POSTED_INTR_NV */
			{ 0x2016, kvm73_pi_desc_pa(vm, v), ~0ULL },                /* POSTED_INTR_DESC_ADDR */
			{ 0x4000, 0x80, 0x80 },                                    /* PIN_BASED |= posted */
		};
		for (int w = 0; w < 3; w++) {
			CHECK((e = ev_take(&cur, TDH_VP_WR)));
			CHECK_EQ(e->status, 0, "VP.WR 0x%llx", (unsigned long long)wr[w][0]);
			CHECK_EQ(e->lp, vlp[v]);
			CHECK_EQ(e->in.rcx, tdvpr);
			CHECK_EQ(e->in.rdx, wr[w][0]);
			CHECK_EQ(e->in.r8, wr[w][1]);
			CHECK_EQ(e->in.r9, wr[w][2]);
		}
		CHECK_EQ(rdmd_type(tdvpr, NULL), PT_TDVPR);
	}
	CHECK_EQ(cur, kh_nev);

	/* KVM_TDX_INIT_MEM_REGION: S-EPT top-down, PAGE.ADD, 16 x MR.EXTEND. */
	const struct { uint64_t gpa; int measure; } img[3] = { { 0, 1 }, { 0x1000, 1 }, { 0x200000, 0 } };
	kh_rec_reset();
	for (unsigned i = 0; i < 3; i++) {
		uint8_t src[4096];
		fill(src, 10 + i);
		CHECK_EQ(kvm73_init_mem_region(vm, 0, img[i].gpa, src, img[i].measure), 0);
	}
	n = pages_of(vm, pg);
	cur = 0;
	for (unsigned i = 0; i < 3; i++) {
		const uint64_t gpa = img[i].gpa;
		/* The tables this GPA still lacked, PML4 entry first. */
		for (int lvl = SEPT_ROOT_LEVEL; lvl > 1; lvl--) {
			uint64_t span = 4096ULL << (9 * (lvl - 1)), base = gpa & ~(span - 1);
			if (i && (img[i - 1].gpa & ~(span - 1)) == base)
				continue;
			CHECK((e = ev_take(&cur, TDH_MEM_SEPT_ADD)));
			CHECK_EQ(e->status, 0);
			CHECK_EQ(e->in.rcx, base | (uint64_t)(lvl - 1));
			CHECK_EQ(e->in.rdx, tdr);
			CHECK_EQ(e->in.r8, sept_pa(pg, n, base, lvl));
		}
		CHECK((e = ev_take(&cur, TDH_MEM_PAGE_ADD)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->in.rcx, gpa);
		CHECK_EQ(e->in.rdx, tdr);
		CHECK_EQ(e->in.r8, private_pa(pg, n, gpa));
		CHECK(e->in.r9 != 0 && e->in.r9 != e->in.r8);
		for (unsigned k = 0; img[i].measure && k < 16; k++) {
			CHECK((e = ev_take(&cur, TDH_MR_EXTEND)));
			CHECK_EQ(e->status, 0);
			CHECK_EQ(e->in.rcx, gpa + 256 * k);
			CHECK_EQ(e->in.rdx, tdr);
		}
		CHECK(td_page_is(private_pa(pg, n, gpa), hkid, 10 + i), "GPA 0x%llx holds its source",
		      (unsigned long long)gpa);
	}
	CHECK_EQ(cur, kh_nev);
	CHECK_EQ(kvm73_finalize(vm, &hw), 0);
	CHECK_EQ(hw, 0);
	CHECK((e = ev_take(&cur, TDH_MR_FINALIZE)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(kvm73_state(vm), KVM73_TD_RUNNABLE);

	/* Private faults after finalize: S-EPT as needed, then PAGE.AUG. */
	const struct { uint64_t gpa; int vcpu, new_tables; } aug[3] = {
		{ 0x3000, 1, 0 }, { 0x400000, 0, 1 }, { 0x40000000, 1, 2 },
	};
	kh_rec_reset();
	for (unsigned i = 0; i < 3; i++) {
		int tries = 0;
		CHECK_EQ(kvm73_fault_private(vm, aug[i].vcpu, aug[i].gpa, &tries), 0);
		CHECK_EQ(tries, 1);
	}
	n = pages_of(vm, pg);
	cur = 0;
	for (unsigned i = 0; i < 3; i++) {
		for (int t = 0; t < aug[i].new_tables; t++) {
			int lvl = 1 + aug[i].new_tables - t;
			uint64_t span = 4096ULL << (9 * (lvl - 1)), base = aug[i].gpa & ~(span - 1);
			CHECK((e = ev_take(&cur, TDH_MEM_SEPT_ADD)));
			CHECK_EQ(e->status, 0);
			CHECK_EQ(e->lp, vlp[aug[i].vcpu]);
			CHECK_EQ(e->in.rcx, base | (uint64_t)(lvl - 1));
			CHECK_EQ(e->in.r8, sept_pa(pg, n, base, lvl));
		}
		CHECK((e = ev_take(&cur, TDH_MEM_PAGE_AUG)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->lp, vlp[aug[i].vcpu]);
		CHECK_EQ(e->in.rcx, aug[i].gpa);
		CHECK_EQ(e->in.rdx, tdr);
		CHECK_EQ(e->in.r8, private_pa(pg, n, aug[i].gpa));
	}
	CHECK_EQ(cur, kh_nev);
	for (unsigned i = 0; i < n; i++) {
		static const unsigned want[] = {
			[KVM73_PG_TDR] = PT_TDR, [KVM73_PG_TDCS] = PT_TDCX, [KVM73_PG_TDVPR] = PT_TDVPR,
			[KVM73_PG_TDCX] = PT_TDCX, [KVM73_PG_SEPT] = PT_EPT, [KVM73_PG_PRIVATE] = PT_REG,
		};
		uint64_t owner;
		CHECK_EQ(rdmd_type(pg[i].pa, &owner), want[pg[i].kind], "page %u kind %d", i, pg[i].kind);
		if (pg[i].kind != KVM73_PG_TDR)
			CHECK_EQ(owner, tdr);
	}
	CHECK_EQ(n, 1 + tdcs_n + 2 * (1 + tdcx_n) + 7 + 6);

	/* A runtime zap (conversion to shared): BLOCK, TRACK, REMOVE, WBINVD. */
	const uint64_t zapped = private_pa(pg, n, 0x3000);
	kh_rec_reset();
	CHECK_EQ(kvm73_zap(vm, 0x3000), 0);
	cur = 0;
	CHECK((e = ev_take(&cur, TDH_MEM_RANGE_BLOCK)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, 0x3000);
	CHECK_EQ(e->in.rdx, tdr);
	CHECK((e = ev_take(&cur, TDH_MEM_TRACK)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, tdr);
	CHECK((e = ev_take(&cur, TDH_MEM_PAGE_REMOVE)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, 0x3000);
	CHECK((e = ev_take(&cur, TDH_PHYMEM_PAGE_WBINVD)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, zapped | ((uint64_t)hkid << shift));
	CHECK_EQ(cur, kh_nev);
	CHECK_EQ(kvm73_kicks(vm), 1);
	CHECK_EQ(rdmd_type(zapped, NULL), PT_NDA);
	if (pw_mce())
		CHECK(page_is_zero(zapped));

	/* Destroy. CACHE.WB on package 0 is interrupted three times. */
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_INTERRUPTED_RESUMABLE;
	f.leaf = TDH_PHYMEM_CACHE_WB;
	f.lp = (int)first_lp_of(0);
	f.nth = 1;
	f.count = 3;
	CHECK_EQ(tdxsim_fault_add(s, &f, NULL), TDXSIM_OK, "%s", tdxsim_errmsg(s));
	n = pages_of(vm, pg);
	CHECK_EQ(n, 1 + tdcs_n + 2 * (1 + tdcx_n) + 7 + 5);
	kh_rec_reset();
	kvm73_destroy(vm);
	cur = 0;
	/* guest_memfd release: the remaining private pages, in mapping order. */
	const uint64_t left[5] = { 0, 0x1000, 0x200000, 0x400000, 0x40000000 };
	for (unsigned i = 0; i < 5; i++) {
		CHECK((e = ev_take(&cur, TDH_MEM_RANGE_BLOCK)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->in.rcx, left[i]);
		CHECK((e = ev_take(&cur, TDH_MEM_TRACK)));
		CHECK_EQ(e->status, 0);
		CHECK((e = ev_take(&cur, TDH_MEM_PAGE_REMOVE)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->in.rcx, left[i]);
		CHECK((e = ev_take(&cur, TDH_PHYMEM_PAGE_WBINVD)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->in.rcx, private_pa(pg, n, left[i]) | ((uint64_t)hkid << shift));
	}
	/* HKID release: VP.FLUSH on each vCPU's LP, VPFLUSHDONE, CACHE.WB per
	 * package (resumed while interrupted), KEY.FREEID. */
	for (int v = 0; v < 2; v++) {
		CHECK((e = ev_take(&cur, TDH_VP_FLUSH)));
		CHECK_EQ(e->status, 0);
		CHECK_EQ(e->lp, vlp[v]);
		CHECK_EQ(e->in.rcx, page_pa(pg, n, KVM73_PG_TDVPR, v));
	}
	CHECK((e = ev_take(&cur, TDH_MNG_VPFLUSHDONE)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, tdr);
	for (unsigned p = 0; p < kh_info.packages; p++) {
		unsigned calls = p == 0 ? 4 : 1;
		for (unsigned k = 0; k < calls; k++) {
			CHECK((e = ev_take(&cur, TDH_PHYMEM_CACHE_WB)));
			CHECK_EQ(e->lp, first_lp_of(p));
			CHECK_EQ(e->in.rcx, k ? 1 : 0);
			CHECK_EQ(e->status, k + 1 < calls ? TDX_INTERRUPTED_RESUMABLE : 0);
		}
	}
	CHECK((e = ev_take(&cur, TDH_MNG_KEY_FREEID)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, tdr);
	/* Reclaim: each vCPU's TDCX then TDVPR, the S-EPT bottom-up, TDCS, TDR. */
	struct want_reclaim { uint64_t pa; unsigned type; } order[MAX_TD_PAGES];
	unsigned no = 0;
	for (int v = 0; v < 2; v++) {
		for (unsigned j = 0; j < tdcx_n; j++)
			order[no++] = (struct want_reclaim){ nth_pa(pg, n, KVM73_PG_TDCX, (unsigned)v * tdcx_n + j), PT_TDCX };
		order[no++] = (struct want_reclaim){ page_pa(pg, n, KVM73_PG_TDVPR, v), PT_TDVPR };
	}
	for (unsigned k = 7; k-- > 0;)
		order[no++] = (struct want_reclaim){ nth_pa(pg, n, KVM73_PG_SEPT, k), PT_EPT };
	for (unsigned i = 0; i < tdcs_n; i++)
		order[no++] = (struct want_reclaim){ page_pa(pg, n, KVM73_PG_TDCS, (int)i), PT_TDCX };
	order[no++] = (struct want_reclaim){ tdr, PT_TDR };
	for (unsigned i = 0; i < no; i++) {
		CHECK((e = ev_take(&cur, TDH_PHYMEM_PAGE_RECLAIM)));
		CHECK_EQ(e->status, 0, "reclaim %u", i);
		CHECK_EQ(e->in.rcx, order[i].pa, "reclaim %u", i);
		CHECK_EQ(e->out.rcx, order[i].type, "reclaim %u", i);
		CHECK_EQ(e->out.rdx, order[i].type == PT_TDR ? 0 : tdr, "reclaim %u", i);
		CHECK_EQ(e->out.r8, 0);
	}
	CHECK((e = ev_take(&cur, TDH_PHYMEM_PAGE_WBINVD)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, tdr | ((uint64_t)tdxsim_global_keyid(s) << shift));
	CHECK_EQ(cur, kh_nev);
	for (unsigned i = 0; pw_mce() && i < n; i++)
		CHECK(page_is_zero(pg[i].pa), "page %u cleared by the PW_MCE quirk", i);
	CHECK(!kvm73_bugged(vm));
	if (td_gone(vm, pg, n, hkid))
		return 1;
	CHECK_EQ(kshim_rt_live_allocs(KSHIM_PAGE), 0);
	CHECK_EQ(kshim_rt_live_allocs(-1), live0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

/* A minimal guest, hand-assembled (tdx-abi.md 2.3): the reset vector jumps
 * to the code page, which builds identity paging in the page-table page
 * (PML4[0] -> itself as PDPT, PDPT[3] -> itself as PD, PD[511] = the 2 MiB
 * page holding both), enters long mode and issues three TDG.VP.VMCALLs:
 * RDMSR of VMCALL_MSR, WRMSR of that MSR with the value the VMM returned
 * (the echo), then HLT. */
#define RUN_GPA_CODE   0xFFFFF000ULL
#define RUN_GPA_PT     0xFFFFE000ULL
#define VMCALL_MSR     0x8BU                    /* IA32_BIOS_SIGN_ID */
#define EXIT_TDCALL    77ULL                    /* EXIT_REASON_TDCALL */
#define GHCI_HLT       12
#define GHCI_RDMSR     31
#define GHCI_WRMSR     32
#define MASK_R10_R12   0x1C00ULL
#define MASK_R10_R13   0x3C00ULL

static const uint8_t run_boot32[] = {        /* code page +0x000, 32-bit */
	0xB8, 0x03, 0xE0, 0xFF, 0xFF,                   /* mov eax, 0xFFFFE003 */
	0xA3, 0x00, 0xE0, 0xFF, 0xFF,                   /* mov [0xFFFFE000], eax */
	0xA3, 0x18, 0xE0, 0xFF, 0xFF,                   /* mov [0xFFFFE018], eax */
	0xC7, 0x05, 0xF8, 0xEF, 0xFF, 0xFF,             /* mov dword [0xFFFFEFF8], */
	0x83, 0x00, 0xE0, 0xFF,                         /*   0xFFE00083 (2 MiB page) */
	0xB8, 0x00, 0xE0, 0xFF, 0xFF,                   /* mov eax, 0xFFFFE000 */
	0x0F, 0x22, 0xD8,                               /* mov cr3, eax */
	0x0F, 0x20, 0xE0,                               /* mov eax, cr4 */
	0x83, 0xC8, 0x20,                               /* or eax, PAE */
	0x0F, 0x22, 0xE0,                               /* mov cr4, eax */
	0x0F, 0x01, 0x15, 0x00, 0xF1, 0xFF, 0xFF,       /* lgdt [0xFFFFF100] */
	0x0F, 0x20, 0xC0,                               /* mov eax, cr0 */
	0x0D, 0x00, 0x00, 0x00, 0x80,                   /* or eax, PG (EFER.LME is set) */
	0x0F, 0x22, 0xC0,                               /* mov cr0, eax */
	0xEA, 0x50, 0xF0, 0xFF, 0xFF, 0x08, 0x00,       /* jmp 0x08:0xFFFFF050 */
};

#define TDVMCALL 0x31, 0xC0, 0x66, 0x0F, 0x01, 0xCC     /* xor eax, eax; tdcall */
static const uint8_t run_prog64[] = {        /* code page +0x050, 64-bit */
	0x45, 0x31, 0xD2,                               /* xor r10d, r10d */
	0x41, 0xBB, GHCI_RDMSR, 0, 0, 0,                /* mov r11d, RDMSR */
	0x41, 0xBC, VMCALL_MSR, 0, 0, 0,                /* mov r12d, VMCALL_MSR */
	0xB9, 0x00, 0x1C, 0x00, 0x00,                   /* mov ecx, R10-R12 */
	TDVMCALL,                                       /* exit 1 */
	0x4D, 0x89, 0xDD,                               /* mov r13, r11: the value read */
	0x45, 0x31, 0xD2,                               /* xor r10d, r10d */
	0x41, 0xBB, GHCI_WRMSR, 0, 0, 0,                /* mov r11d, WRMSR */
	0x41, 0xBC, VMCALL_MSR, 0, 0, 0,                /* mov r12d, VMCALL_MSR */
	0x49, 0xC7, 0xC6, 0xAD, 0xDE, 0x00, 0x00,       /* mov r14, 0xDEAD (not exposed) */
	0xB9, 0x00, 0x3C, 0x00, 0x00,                   /* mov ecx, R10-R13 */
	TDVMCALL,                                       /* exit 2 */
	0x45, 0x31, 0xD2,                               /* xor r10d, r10d */
	0x41, 0xBB, GHCI_HLT, 0, 0, 0,                  /* mov r11d, HLT */
	0x45, 0x31, 0xE4,                               /* xor r12d, r12d: IRQs not blocked */
	0xB9, 0x00, 0x1C, 0x00, 0x00,                   /* mov ecx, R10-R12 */
	TDVMCALL,                                       /* exit 3 */
	0xEB, 0xFE,                                     /* jmp $ */
};

static void run_guest_code(uint8_t *page)
{
	/* GDT at +0xE0: null, 64-bit code (selector 8), data; GDTR at +0x100. */
	static const uint64_t gdt[3] = { 0, 0x00AF9A000000FFFFULL, 0x00CF92000000FFFFULL };
	static const uint8_t reset_jmp[] = { 0xE9, 0x0B, 0xF0, 0xFF, 0xFF };   /* jmp +0x000 */
	const uint16_t limit = sizeof(gdt) - 1;
	const uint32_t base = (uint32_t)(RUN_GPA_CODE + 0xE0);

	memset(page, 0xF4, 4096);
	memcpy(page, run_boot32, sizeof(run_boot32));
	memcpy(page + 0x50, run_prog64, sizeof(run_prog64));
	memcpy(page + 0xE0, gdt, sizeof(gdt));
	memcpy(page + 0x100, &limit, 2);
	memcpy(page + 0x102, &base, 4);
	memcpy(page + 0xFF0, reset_jmp, sizeof(reset_jmp));
}

/* One KVM_RUN; the recorded TDH.VP.ENTER went to the vCPU's TDVPR on its
 * CPU, which the wrapper marked cache-incoherent. */
static int run_once(struct kvm73_vm *vm, struct kvm73_vp_regs *r, unsigned lp, uint64_t tdvpr,
		    unsigned long long *st)
{
	size_t cur = 0;
	const struct kh_event *e;
	kh_rec_reset();
	cache_state_incoherent[lp] = 0;
	CHECK_EQ(kvm73_vcpu_run(vm, 0, r, st), 0);
	CHECK((e = ev_take(&cur, TDH_VP_ENTER)));
	CHECK_EQ(cur, kh_nev);
	CHECK_EQ(e->lp, lp);
	CHECK_EQ(e->rax, TDH_VP_ENTER);
	CHECK_EQ(e->in.rcx, tdvpr);
	CHECK_EQ(e->status, *st);
	CHECK(cache_state_incoherent[lp]);
	CHECK_EQ(kvm73_vcpu_cpu(vm, 0), (int)lp);
	return 0;
}

/* A TD built as KVM does runs its guest through 7.3's tdh_vp_enter()
 * (__seamcall_saved_ret: all 13 GPRs in and out) to its TDVMCALL exits:
 * the exit carries the guest's GPR mask in RCX and only the selected GPRs;
 * KVM's reply in R10/R11 reaches the guest, which echoes it. */
static int td_vp_enter_vmcall(void)
{
	int ret;
	boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	unsigned long live0 = kshim_rt_live_allocs(-1);
	const unsigned lp = kh_info.n_lps - 1;
	const uint64_t value = 0x1234567890ABCDEFULL;
	struct kvm73_page pg[MAX_TD_PAGES];
	struct kvm73_vp_regs r;
	unsigned long long st, hw;
	uint8_t code[4096], zero[4096];
	struct kvm73_vm *vm;

	if (td_create(&vm))
		return 1;
	const int hkid = kvm73_hkid(vm);
	CHECK_EQ(kvm73_create_vcpu(vm, (int)lp), 0);
	CHECK_EQ(kvm73_init_vcpu(vm, 0, 0), 0);
	run_guest_code(code);
	memset(zero, 0, sizeof(zero));
	CHECK_EQ(kvm73_init_mem_region(vm, 0, RUN_GPA_CODE, code, 1), 0);
	CHECK_EQ(kvm73_init_mem_region(vm, 0, RUN_GPA_PT, zero, 0), 0);
	/* Not runnable yet: KVM refuses KVM_RUN before the SEAMCALL. */
	memset(&r, 0, sizeof(r));
	kh_rec_reset();
	CHECK_EQ(kvm73_vcpu_run(vm, 0, &r, &st), -EINVAL);
	CHECK_EQ(kh_count(TDH_VP_ENTER), 0);
	CHECK_EQ(kvm73_finalize(vm, &hw), 0);
	CHECK_EQ(hw, 0);
	unsigned n = pages_of(vm, pg);
	const uint64_t tdvpr = page_pa(pg, n, KVM73_PG_TDVPR, 0);

	/* Exit 1: boot to long mode, RDMSR. Every GPR comes back (saved_ret):
	 * the unselected ones zeroed by the module. */
	memset(&r, 0x5A, sizeof(r));
	if (run_once(vm, &r, lp, tdvpr, &st))
		return 1;
	CHECK_EQ(st, TDX_SUCCESS | EXIT_TDCALL);
	CHECK_EQ(r.rcx, MASK_R10_R12);
	CHECK_EQ(r.r10, 0);
	CHECK_EQ(r.r11, GHCI_RDMSR);
	CHECK_EQ(r.r12, VMCALL_MSR);
	const unsigned long long *gpr = &r.rcx;
	for (unsigned i = 1; i < 13; i++)
		if (i < 4 || i > 6)     /* RDX, R8, R9, R13-R15, RBX, RDI, RSI */
			CHECK_EQ(gpr[i], 0, "GPR %u", i);

	/* KVM's reply: success, the MSR's value; the guest writes it back. */
	r.r10 = 0;
	r.r11 = value;
	r.r13 = 0x1313;                 /* not selected: not delivered */
	if (run_once(vm, &r, lp, tdvpr, &st))
		return 1;
	CHECK_EQ(st, TDX_SUCCESS | EXIT_TDCALL);
	CHECK_EQ(r.rcx, MASK_R10_R13);
	CHECK_EQ(r.r10, 0);
	CHECK_EQ(r.r11, GHCI_WRMSR);
	CHECK_EQ(r.r12, VMCALL_MSR);
	CHECK_EQ(r.r13, value);
	CHECK_EQ(r.r14, 0);             /* 0xDEAD in the guest, not selected */

	/* The WRMSR succeeds; the guest halts with a HLT TDVMCALL. */
	memset(&r, 0, sizeof(r));
	if (run_once(vm, &r, lp, tdvpr, &st))
		return 1;
	CHECK_EQ(st, TDX_SUCCESS | EXIT_TDCALL);
	CHECK_EQ(r.rcx, MASK_R10_R12);
	CHECK_EQ(r.r10, 0);
	CHECK_EQ(r.r11, GHCI_HLT);
	CHECK_EQ(r.r12, 0);
	CHECK_EQ(r.r13, 0);

	/* Teardown: the VP.FLUSH runs where the vCPU last entered. */
	n = pages_of(vm, pg);
	kh_rec_reset();
	kvm73_destroy(vm);
	long f = kh_first(TDH_VP_FLUSH);
	CHECK(f >= 0);
	CHECK_EQ(kh_ev[f].lp, lp);
	CHECK_EQ(kh_ev[f].status, 0);
	CHECK_EQ(kh_count(TDH_VP_FLUSH), 1);
	CHECK(!kvm73_bugged(vm));
	if (td_gone(vm, pg, n, hkid))
		return 1;
	CHECK_EQ(kshim_rt_live_allocs(KSHIM_PAGE), 0);
	CHECK_EQ(kshim_rt_live_allocs(-1), live0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

/* A contended PAGE.AUG: KVM returns -EBUSY, the fault is taken again. */
static int td_aug_operand_busy_retried(void)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	struct kvm73_vm *vm;
	if (td_build_runnable(&vm))
		return 1;
	struct kvm73_page pg[MAX_TD_PAGES];
	if (busy_plan(s, TDH_MEM_PAGE_AUG, 1))
		return 1;
	kh_rec_reset();
	int tries = 0;
	CHECK_EQ(kvm73_fault_private(vm, 1, 0x5000, &tries), 0);
	CHECK_EQ(tries, 2);
	unsigned n = pages_of(vm, pg);
	size_t cur = 0;
	const struct kh_event *e;
	CHECK((e = ev_take(&cur, TDH_MEM_PAGE_AUG)));
	/* The first lock the module takes: the TDR, explicit in RDX. */
	CHECK_EQ(e->status, TDX_OPERAND_BUSY | TDX_OPERAND_ID_RDX);
	CHECK_EQ(e->out.rcx, 0);
	CHECK_EQ(e->out.rdx, 0);
	CHECK((e = ev_take(&cur, TDH_MEM_PAGE_AUG)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(e->in.rcx, 0x5000);
	CHECK_EQ(e->in.r8, kh_ev[0].in.r8, "the retry maps the same guest_memfd page");
	CHECK_EQ(cur, kh_nev);
	CHECK_EQ(rdmd_type(private_pa(pg, n, 0x5000), NULL), PT_REG);
	CHECK(!kvm73_bugged(vm));
	if (td_destroy_gone(vm))
		return 1;
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

/* A contended RANGE.BLOCK: KVM kicks the vCPUs out and retries once; a
 * second BUSY is a KVM bug (one WARN, VM dead, the page stays mapped). */
static int td_block_operand_busy_retried(void)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	struct kvm73_vm *vm;
	if (td_build_runnable(&vm))
		return 1;
	int tries;
	CHECK_EQ(kvm73_fault_private(vm, 0, 0x6000, &tries), 0);
	struct kvm73_page pg[MAX_TD_PAGES];
	unsigned n = pages_of(vm, pg);
	const uint64_t pa0 = private_pa(pg, n, 0), pa6 = private_pa(pg, n, 0x6000);
	const struct kh_event *e;
	size_t cur;

	if (busy_plan(s, TDH_MEM_RANGE_BLOCK, 1))
		return 1;
	kh_rec_reset();
	CHECK_EQ(kvm73_zap(vm, 0), 0);
	cur = 0;
	CHECK((e = ev_take(&cur, TDH_MEM_RANGE_BLOCK)));
	CHECK_EQ(e->status, TDX_OPERAND_BUSY | TDX_OPERAND_ID_RDX);
	CHECK((e = ev_take(&cur, TDH_MEM_RANGE_BLOCK)));
	CHECK_EQ(e->status, 0);
	CHECK((e = ev_take(&cur, TDH_MEM_TRACK)));
	CHECK_EQ(e->status, 0);
	CHECK((e = ev_take(&cur, TDH_MEM_PAGE_REMOVE)));
	CHECK_EQ(e->status, 0);
	CHECK((e = ev_take(&cur, TDH_PHYMEM_PAGE_WBINVD)));
	CHECK_EQ(e->status, 0);
	CHECK_EQ(cur, kh_nev);
	CHECK_EQ(kvm73_kicks(vm), 2);          /* the retry's and the tracking's */
	CHECK_EQ(rdmd_type(pa0, NULL), PT_NDA);
	CHECK(!kvm73_bugged(vm));
	CHECK_EQ(kshim_rt_warn_count(), 0);

	/* Busy twice: the retry fails too. */
	if (busy_plan(s, TDH_MEM_RANGE_BLOCK, 2))
		return 1;
	kh_rec_reset();
	CHECK_EQ(kvm73_zap(vm, 0x6000), -EIO);
	cur = 0;
	for (int k = 0; k < 2; k++) {
		CHECK((e = ev_take(&cur, TDH_MEM_RANGE_BLOCK)));
		CHECK_EQ(e->status, TDX_OPERAND_BUSY | TDX_OPERAND_ID_RDX);
	}
	CHECK_EQ(cur, kh_nev);
	CHECK(kvm73_bugged(vm));
	CHECK_EQ(kshim_rt_warn_count(), 1);
	CHECK(kshim_rt_log_has("TDH.MEM.RANGE.BLOCK failed: 0x8000020000000002"));
	CHECK_EQ(rdmd_type(pa6, NULL), PT_REG);
	/* The teardown still reclaims everything (the block now goes through). */
	if (td_destroy_gone(vm))
		return 1;
	CHECK_EQ(kshim_rt_warn_count(), 1);
	return 0;
}

/* KVM's idea of where vCPU 1 is loaded is stale: its VP.FLUSH goes to the
 * wrong CPU (VCPU_NOT_ASSOCIATED, tolerated), VPFLUSHDONE answers
 * FLUSHVP_NOT_DONE and KVM gives up: the KeyID and every page leak. */
static int td_vpflushdone_not_done_leaks(void)
{
	int ret;
	boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	struct kvm73_vm *vm;
	if (td_build_runnable(&vm))
		return 1;
	const int hkid = kvm73_hkid(vm);
	struct kvm73_page pg[MAX_TD_PAGES];
	unsigned n = pages_of(vm, pg);
	const uint64_t tdr = page_pa(pg, n, KVM73_PG_TDR, 0);
	const unsigned stale = other_pkg_lp() + 1;
	kvm73_vcpu_set_cpu(vm, 1, (int)stale);
	kh_rec_reset();
	kvm73_destroy(vm);
	size_t cur = 0;
	const struct kh_event *e;
	CHECK((e = ev_take(&cur, TDH_MEM_RANGE_BLOCK)));
	CHECK((e = ev_take(&cur, TDH_MEM_TRACK)));
	CHECK((e = ev_take(&cur, TDH_MEM_PAGE_REMOVE)));
	CHECK((e = ev_take(&cur, TDH_PHYMEM_PAGE_WBINVD)));
	CHECK_EQ(e->status, 0);
	CHECK((e = ev_take(&cur, TDH_VP_FLUSH)));
	CHECK_EQ(e->lp, 0);
	CHECK_EQ(e->status, 0);
	CHECK((e = ev_take(&cur, TDH_VP_FLUSH)));
	CHECK_EQ(e->lp, stale);
	CHECK_EQ(e->status, TDX_VCPU_NOT_ASSOCIATED);
	CHECK((e = ev_take(&cur, TDH_MNG_VPFLUSHDONE)));
	CHECK_EQ(e->status, TDX_FLUSHVP_NOT_DONE);
	CHECK_EQ(cur, kh_nev, "no CACHE.WB, KEY.FREEID or RECLAIM after FLUSHVP_NOT_DONE");
	CHECK_EQ(kvm73_hkid(vm), hkid);
	/* KVM is quiet about the leak itself; freeing the S-EPT with the HKID
	 * still assigned is its one KVM_BUG_ON. */
	CHECK(kvm73_bugged(vm));
	CHECK_EQ(kshim_rt_warn_count(), 1);
	CHECK(!kshim_rt_log_has("VPFLUSHDONE failed"));
	/* Everything but the zapped private page is still the TD's. */
	unsigned n2 = pages_of(vm, pg);
	CHECK_EQ(n2, n - 1);
	for (unsigned i = 0; i < n2; i++)
		CHECK(rdmd_type(pg[i].pa, NULL) != PT_NDA, "page %u kind %d", i, pg[i].kind);
	/* ... and the module will not let them go: the TD keeps its keys. */
	unsigned long long out[3];
	CHECK_EQ(kvm73_reclaim_pa(page_pa(pg, n2, KVM73_PG_TDCS, 0), out), TDX_LIFECYCLE_STATE_INCORRECT);
	CHECK_EQ(out[0], PT_TDCX);
	CHECK_EQ(out[1], tdr);
	CHECK_EQ(out[2], 0);
	CHECK_EQ(kvm73_reclaim_pa(tdr, out), TDX_LIFECYCLE_STATE_INCORRECT);
	CHECK_EQ(out[0], PT_TDR);
	/* The KeyID stays allocated: the next TD gets the one after it. */
	int next = tdx_guest_keyid_alloc();
	CHECK_EQ(next, hkid + 1);
	tdx_guest_keyid_free((unsigned)next);
	return 0;
}

/* Probe inside the teardown: reclaims out of order fail without effect. */
struct reclaim_probe {
	uint64_t tdr, tdcs0, tdvpr0, sept0;
	uint64_t st[5];
	unsigned long long out[5][3];
	unsigned calls;
};

static void reclaim_probe_fn(struct kvm73_vm *vm, int point, void *arg)
{
	struct reclaim_probe *p = arg;
	(void)vm;
	p->calls |= 1u << point;
	if (point == KVM73_AFTER_VPFLUSHDONE) {
		/* Lifecycle BLOCKED: nothing is reclaimable before KEY.FREEID. */
		p->st[0] = kvm73_reclaim_pa(p->tdcs0, p->out[0]);
		p->st[1] = kvm73_reclaim_pa(p->tdvpr0, p->out[1]);
		p->st[2] = kvm73_reclaim_pa(p->sept0, p->out[2]);
		p->st[3] = kvm73_reclaim_pa(p->tdr, p->out[3]);
	} else if (point == KVM73_AFTER_FREEID) {
		/* TEARDOWN: the TDR only after its children. */
		p->st[4] = kvm73_reclaim_pa(p->tdr, p->out[4]);
	}
}

static int td_reclaim_out_of_order(void)
{
	int ret;
	boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	struct kvm73_vm *vm;
	if (td_build_runnable(&vm))
		return 1;
	const int hkid = kvm73_hkid(vm);
	struct kvm73_page pg[MAX_TD_PAGES];
	unsigned n = pages_of(vm, pg);
	struct reclaim_probe p = {
		.tdr = page_pa(pg, n, KVM73_PG_TDR, 0), .tdcs0 = page_pa(pg, n, KVM73_PG_TDCS, 0),
		.tdvpr0 = page_pa(pg, n, KVM73_PG_TDVPR, 0), .sept0 = nth_pa(pg, n, KVM73_PG_SEPT, 0),
	};
	kvm73_set_probe(vm, reclaim_probe_fn, &p);
	kvm73_destroy(vm);
	CHECK_EQ(p.calls, 3);
	const unsigned types[4] = { PT_TDCX, PT_TDVPR, PT_EPT, PT_TDR };
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(p.st[i], TDX_LIFECYCLE_STATE_INCORRECT, "probe %d", i);
		CHECK_EQ(p.out[i][0], types[i], "probe %d", i);
		CHECK_EQ(p.out[i][1], i == 3 ? 0 : p.tdr, "probe %d", i);
		CHECK_EQ(p.out[i][2], 0);
	}
	CHECK_EQ(p.st[4], TDX_TD_ASSOCIATED_PAGES_EXIST);
	CHECK_EQ(p.out[4][0], PT_TDR);
	CHECK_EQ(p.out[4][1], 0);
	/* KVM's own teardown then goes through untouched. */
	CHECK(!kvm73_bugged(vm));
	for (size_t i = 0; i < kh_nev; i++)
		if (kh_ev[i].leaf == TDH_PHYMEM_PAGE_RECLAIM && kh_ev[i].status)
			CHECK(kh_ev[i].status == TDX_LIFECYCLE_STATE_INCORRECT ||
			      kh_ev[i].status == TDX_TD_ASSOCIATED_PAGES_EXIST);
	CHECK_EQ(kh_ev[kh_last(TDH_PHYMEM_PAGE_RECLAIM)].in.rcx, p.tdr);
	CHECK_EQ(kh_ev[kh_last(TDH_PHYMEM_PAGE_RECLAIM)].status, 0);
	if (td_gone(vm, pg, n, hkid))
		return 1;
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

/* RND_NO_ENTROPY from TDH.MNG.CREATE: 7.3's tdh_mng_create() goes through
 * seamcall() = sc_retry(), which tries up to 10 times. */
static int td_create_entropy(unsigned failures)
{
	int ret;
	tdxsim *s = boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_RND_NO_ENTROPY;
	f.leaf = TDH_MNG_CREATE;
	f.nth = 1;
	f.count = failures;
	CHECK_EQ(tdxsim_fault_add(s, &f, NULL), TDXSIM_OK, "%s", tdxsim_errmsg(s));
	struct kvm73_vm *vm = kvm73_vm_create();
	CHECK(vm != NULL);
	struct kvm73_init_vm u;
	uapi_host(&u);
	unsigned long long hw = ~0ULL;
	kh_rec_reset();
	ret = kvm73_init_vm(vm, &u, &hw);
	unsigned creates = failures < 10 ? failures + 1 : 10;
	CHECK_EQ(kh_count(TDH_MNG_CREATE), creates);
	for (unsigned i = 0; i < creates; i++) {
		CHECK_EQ(kh_ev[i].leaf, TDH_MNG_CREATE);
		CHECK_EQ(kh_ev[i].status, i < failures ? TDX_RND_NO_ENTROPY : 0, "call %u", i);
		CHECK_EQ(kh_ev[i].in.rcx, kh_ev[0].in.rcx);
	}
	const uint64_t tdr = kh_ev[0].in.rcx;
	if (failures >= 10) {
		/* KVM: -EAGAIN, everything undone, no WARN, no status for user space. */
		CHECK_EQ(ret, -EAGAIN);
		CHECK_EQ(hw, 0);
		CHECK_EQ(kh_nev, 10);
		CHECK_EQ(kvm73_hkid(vm), -1);
		CHECK_EQ(kvm73_state(vm), KVM73_TD_UNINITIALIZED);
		CHECK_EQ(pages_of(vm, NULL), 0);
		CHECK_EQ(kshim_rt_live_allocs(KSHIM_PAGE), 0);
		CHECK_EQ(rdmd_type(tdr, NULL), PT_NDA);
		CHECK_EQ(kshim_rt_warn_count(), 0);
		CHECK(!kvm73_bugged(vm));
		/* User space tries again; the module has entropy now. */
		kh_rec_reset();
		ret = kvm73_init_vm(vm, &u, &hw);
		CHECK_EQ(kh_count(TDH_MNG_CREATE), 1);
		CHECK_EQ(kh_ev[0].status, 0);
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(hw, 0);
	const int hkid = kvm73_hkid(vm);
	CHECK_EQ(hkid, kh_info.first_tdx_keyid + 1);
	CHECK_EQ(kh_count(TDH_MNG_KEY_CONFIG), kh_info.packages);
	CHECK_EQ(kvm73_state(vm), KVM73_TD_INITIALIZED);
	struct kvm73_page pg[MAX_TD_PAGES];
	unsigned n = pages_of(vm, pg);
	CHECK_EQ(rdmd_type(page_pa(pg, n, KVM73_PG_TDR, 0), NULL), PT_TDR);
	kvm73_destroy(vm);
	if (td_gone(vm, pg, n, hkid))
		return 1;
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}
static int td_create_entropy_retried(void) { return td_create_entropy(9); }
static int td_create_entropy_exhausted(void) { return td_create_entropy(10); }

/* Two TDs on different KeyIDs, their calls interleaved; one vCPU moves to
 * another CPU on the way; the first TD goes while the second keeps running. */
static int two_tds_interleaved(void)
{
	int ret;
	boot(NULL, &ret);
	CHECK_EQ(ret, 0);
	const uint64_t shift = kh_info.keyid_shift;
	struct kvm73_vm *vm[2];
	struct kvm73_init_vm u;
	unsigned long long hw;
	uapi_host(&u);
	for (int t = 0; t < 2; t++) {
		vm[t] = kvm73_vm_create();
		CHECK(vm[t] != NULL);
	}
	for (int t = 0; t < 2; t++)
		CHECK_EQ(kvm73_init_vm(vm[t], &u, &hw), 0);
	const int hkid[2] = { kvm73_hkid(vm[0]), kvm73_hkid(vm[1]) };
	CHECK_EQ(hkid[0], kh_info.first_tdx_keyid + 1);
	CHECK_EQ(hkid[1], kh_info.first_tdx_keyid + 2);
	/* vCPU 0 of each TD on LP 1 and LP 2 of package 0. */
	for (int t = 0; t < 2; t++)
		CHECK_EQ(kvm73_create_vcpu(vm[t], 1 + t), 0);
	for (int t = 0; t < 2; t++)
		CHECK_EQ(kvm73_init_vcpu(vm[t], 0, (unsigned long long)t), 0);
	uint8_t src[4096];
	for (unsigned g = 0; g < 2; g++)
		for (int t = 0; t < 2; t++) {
			fill(src, 100 + 10 * (unsigned)t + g);
			if (t == 1 && g == 1) {
				/* TD 1's vCPU thread moved to LP 3: KVM flushes it
				 * on LP 2 before loading it there. */
				kvm73_vcpu_migrate(vm[1], 0, 3);
				kh_rec_reset();
			}
			CHECK_EQ(kvm73_init_mem_region(vm[t], 0, 0x1000ULL * g, src, 1), 0);
			if (t == 1 && g == 1) {
				CHECK_EQ(kh_ev[0].leaf, TDH_VP_FLUSH);
				CHECK_EQ(kh_ev[0].lp, 2);
				CHECK_EQ(kh_ev[0].status, 0);
				CHECK_EQ(kh_ev[1].leaf, TDH_MEM_PAGE_ADD);
				CHECK_EQ(kh_ev[1].lp, 3);
				CHECK_EQ(kvm73_vcpu_cpu(vm[1], 0), 3);
			}
		}
	CHECK_EQ(kvm73_finalize(vm[1], &hw), 0);
	CHECK_EQ(kvm73_finalize(vm[0], &hw), 0);
	int tries;
	for (int t = 0; t < 2; t++)
		CHECK_EQ(kvm73_fault_private(vm[t], 0, 0x2000, &tries), 0);

	struct kvm73_page pg[2][MAX_TD_PAGES];
	unsigned n[2];
	uint64_t tdr[2];
	for (int t = 0; t < 2; t++) {
		n[t] = pages_of(vm[t], pg[t]);
		tdr[t] = page_pa(pg[t], n[t], KVM73_PG_TDR, 0);
	}
	for (int t = 0; t < 2; t++) {
		for (unsigned i = 0; i < n[t]; i++) {
			uint64_t owner;
			CHECK(rdmd_type(pg[t][i].pa, &owner) != PT_NDA);
			if (pg[t][i].kind != KVM73_PG_TDR)
				CHECK_EQ(owner, tdr[t], "TD %d page %u", t, i);
		}
		for (unsigned g = 0; g < 2; g++) {
			uint64_t pa = private_pa(pg[t], n[t], 0x1000ULL * g);
			CHECK(td_page_is(pa, hkid[t], 100 + 10 * (unsigned)t + g), "TD %d GPA 0x%x", t, g * 0x1000);
			CHECK(!td_page_is(pa, hkid[1 - t], 100 + 10 * (unsigned)t + g),
			      "TD %d's page read through the other TD's key", t);
		}
	}
	/* TD 1 cannot take TD 0's page: PAGE.AUG checks the page (R8) after the
	 * (free) S-EPT entry; no S-EPT details come back. */
	unsigned long long ext[2] = { ~0ULL, ~0ULL };
	CHECK_EQ(kvm73_raw_page_aug(vm[1], 0x3000, private_pa(pg[0], n[0], 0x1000), ext),
		 TDX_PAGE_METADATA_INCORRECT | TDX_OPERAND_ID_R8);
	CHECK_EQ(ext[0], 0);
	CHECK_EQ(ext[1], 0);
	CHECK_EQ(rdmd_type(private_pa(pg[0], n[0], 0x1000), NULL), PT_REG);

	/* Zaps interleaved. */
	kh_rec_reset();
	CHECK_EQ(kvm73_zap(vm[0], 0x1000), 0);
	CHECK_EQ(kvm73_zap(vm[1], 0x2000), 0);
	CHECK_EQ(kh_count(TDH_PHYMEM_PAGE_WBINVD), 2);
	CHECK_EQ(kh_ev[kh_first(TDH_PHYMEM_PAGE_WBINVD)].in.rcx,
		 private_pa(pg[0], n[0], 0x1000) | ((uint64_t)hkid[0] << shift));
	CHECK_EQ(kh_ev[kh_last(TDH_PHYMEM_PAGE_WBINVD)].in.rcx,
		 private_pa(pg[1], n[1], 0x2000) | ((uint64_t)hkid[1] << shift));
	for (size_t i = 0; i < kh_nev; i++)
		CHECK_EQ(kh_ev[i].status, 0);

	/* TD 0 goes; TD 1's vCPU (loaded on LP 3) flushes there and is not
	 * disturbed. */
	for (int t = 0; t < 2; t++)
		n[t] = pages_of(vm[t], pg[t]);
	kh_rec_reset();
	kvm73_destroy(vm[0]);
	CHECK_EQ(kh_count(TDH_VP_FLUSH), 1);
	CHECK_EQ(kh_ev[kh_first(TDH_VP_FLUSH)].lp, 1);
	CHECK_EQ(kh_count(TDH_MNG_KEY_FREEID), 1);
	for (size_t i = 0; i < kh_nev; i++)
		CHECK_EQ(kh_ev[i].status, 0, "event %zu", i);
	if (td_gone(vm[0], pg[0], n[0], hkid[0]))
		return 1;
	for (unsigned i = 0; i < n[1]; i++)
		CHECK(rdmd_type(pg[1][i].pa, NULL) != PT_NDA);
	/* TD 1 still works: a new private page, its image intact. */
	CHECK_EQ(kvm73_fault_private(vm[1], 0, 0x7000, &tries), 0);
	CHECK(td_page_is(private_pa(pg[1], n[1], 0), hkid[1], 110));
	CHECK_EQ(kvm73_hkid(vm[1]), hkid[1]);
	/* Its teardown: the vCPU loaded on LP 3 is flushed there. */
	n[1] = pages_of(vm[1], pg[1]);
	kh_rec_reset();
	kvm73_destroy(vm[1]);
	CHECK_EQ(kh_count(TDH_VP_FLUSH), 1);
	CHECK_EQ(kh_ev[kh_first(TDH_VP_FLUSH)].lp, 3);
	CHECK_EQ(kh_ev[kh_first(TDH_VP_FLUSH)].status, TDX_VCPU_NOT_ASSOCIATED,
		 "no VP.ENTER/RD/WR since the move: the vCPU is associated nowhere");
	for (size_t i = 0; i < kh_nev; i++)
		if (kh_ev[i].leaf != TDH_VP_FLUSH)
			CHECK_EQ(kh_ev[i].status, 0, "event %zu", i);
	if (td_gone(vm[1], pg[1], n[1], hkid[1]))
		return 1;
	CHECK_EQ(kshim_rt_live_allocs(KSHIM_PAGE), 0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

/* ---- A fault plan over boot, a TD's life and shutdown ------------------------ */

/* Injected statuses seen on events (the injected flag), per status. */
struct inj_log {
	unsigned n, rnd, busy, intr, other, unmarked;
};

static void inj_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct inj_log *l = user;
	if (!ev->injected) {
		l->unmarked += ev->status == TDX_RND_NO_ENTROPY ||
			       ev->status == TDX_INTERRUPTED_RESUMABLE;
		return;
	}
	l->n++;
	if (ev->status == TDX_RND_NO_ENTROPY)
		l->rnd++;
	else if ((ev->status & ~0xFFFFFFFFULL) == TDX_OPERAND_BUSY)
		l->busy++;
	else if (ev->status == TDX_INTERRUPTED_RESUMABLE)
		l->intr++;
	else
		l->other++;
}

/*
 * TDXSIM_FAULTS (parsed by tdxsim_open) injects, where Linux 7.3 and KVM
 * retry: RND_NO_ENTROPY from SYS.INIT (3 times) and from LP.INIT on CPU 1
 * (twice), both retried by sc_retry(); RND_NO_ENTROPY from MNG.CREATE
 * (4 times) and from the last MNG.ADDCX (twice), sc_retry() again; a
 * contended PAGE.AUG (two calls busy: KVM returns -EBUSY and the fault is
 * taken again); CACHE.WB interrupted half the time at each point (resumed);
 * SYS.DISABLE interrupted twice at shutdown (repeated). Every retry path is
 * taken, every injected status is marked on its event, and the outcome is
 * as without faults: module READY, the TD built and run, every page
 * reclaimed and the KeyID free, the module disabled, no WARN.
 */
static int fault_plan_retried(void)
{
	setenv("TDXSIM_FAULT_SEED", "7", 1);
	setenv("TDXSIM_FAULTS",
	       "leaf=TDH.SYS.INIT,status=RND_NO_ENTROPY,nth=1,count=3;"
	       "leaf=TDH.SYS.LP.INIT,lp=1,status=RND_NO_ENTROPY,nth=1,count=2;"
	       "leaf=TDH.MNG.CREATE,status=RND_NO_ENTROPY,nth=1,count=4;"
	       "leaf=TDH.MNG.ADDCX,status=RND_NO_ENTROPY,nth=1,count=2;"
	       "leaf=TDH.MEM.PAGE.AUG,status=OPERAND_BUSY,per=call,nth=1,count=2;"
	       "leaf=TDH.PHYMEM.CACHE.WB,status=INTERRUPTED_RESUMABLE,p=0.5;"
	       "leaf=TDH.SYS.DISABLE,status=INTERRUPTED_RESUMABLE,nth=1,count=2", 1);
	int ret;
	tdxsim *s = boot(NULL, &ret);
	unsetenv("TDXSIM_FAULTS");
	unsetenv("TDXSIM_FAULT_SEED");
	static struct inj_log l;
	/* Boot's events went by before this hook: counted from the recorder. */
	CHECK_EQ(tdxsim_hook_seamcall(s, inj_hook, &l, NULL), TDXSIM_OK);
	uint64_t fired[7];
	for (unsigned i = 0; i < 7; i++)
		CHECK_EQ(tdxsim_fault_fired(s, i, &fired[i]), TDXSIM_OK);

	/* Boot: sc_retry() took SYS.INIT 4 times, LP.INIT on CPU 1 3 times. */
	CHECK_EQ(ret, 0);
	CHECK_EQ(tdxsim_module_state(s), TDX_SYS_READY);
	CHECK(kshim_rt_log_has("virt/tdx: TDX-Module initialized"));
	CHECK_EQ(fired[0], 3);
	CHECK_EQ(fired[1], 2);
	CHECK_EQ(kh_count(LEAF_SYS_INIT), 4);
	CHECK_EQ(kh_count_lp(LEAF_LP_INIT, 1), 3);
	for (size_t i = 0; i < kh_nev; i++) {
		int retried = (kh_ev[i].leaf == LEAF_SYS_INIT || (kh_ev[i].leaf == LEAF_LP_INIT && kh_ev[i].lp == 1));
		CHECK(kh_ev[i].status == 0 || (retried && kh_ev[i].status == TDX_RND_NO_ENTROPY),
		      "boot event %zu: leaf %u status 0x%llx", i, kh_ev[i].leaf,
		      (unsigned long long)kh_ev[i].status);
	}
	/* Each CPU's last LP.INIT succeeded. */
	for (unsigned lp = 0; lp < kh_info.n_lps; lp++) {
		long last = -1;
		for (size_t i = 0; i < kh_nev; i++)
			if (kh_ev[i].leaf == LEAF_LP_INIT && kh_ev[i].lp == lp)
				last = (long)i;
		CHECK(last >= 0, "no LP.INIT on CPU %u", lp);
		CHECK_EQ(kh_ev[last].status, 0);
	}

	/* A TD: MNG.CREATE 5 times, the last ADDCX 3 times, then runnable. */
	kh_rec_reset();
	struct kvm73_vm *vm;
	if (td_build_runnable(&vm))
		return 1;
	CHECK_EQ(tdxsim_fault_fired(s, 2, &fired[2]), TDXSIM_OK);
	CHECK_EQ(tdxsim_fault_fired(s, 3, &fired[3]), TDXSIM_OK);
	CHECK_EQ(fired[2], 4);
	CHECK_EQ(fired[3], 2);
	CHECK_EQ(kh_count(TDH_MNG_CREATE), 5);
	unsigned addcx_failed = 0;
	for (size_t i = 0; i < kh_nev; i++)
		if (kh_ev[i].leaf == TDH_MNG_ADDCX && kh_ev[i].status == TDX_RND_NO_ENTROPY)
			addcx_failed++;
	CHECK_EQ(addcx_failed, 2);
	CHECK_EQ(kvm73_state(vm), KVM73_TD_RUNNABLE);

	/* A private fault: PAGE.AUG busy twice, the third try maps it. */
	int tries = 0;
	CHECK_EQ(kvm73_fault_private(vm, 0, 0x5000, &tries), 0);
	CHECK_EQ(tries, 3);
	CHECK_EQ(tdxsim_fault_fired(s, 4, &fired[4]), TDXSIM_OK);
	CHECK_EQ(fired[4], 2);
	struct kvm73_page pg[MAX_TD_PAGES];
	unsigned n = pages_of(vm, pg);
	CHECK_EQ(rdmd_type(private_pa(pg, n, 0x5000), NULL), PT_REG);

	/* Destroy: CACHE.WB interrupted and resumed; everything reclaimed. */
	kh_rec_reset();
	if (td_destroy_gone(vm))
		return 1;
	CHECK_EQ(tdxsim_fault_fired(s, 5, &fired[5]), TDXSIM_OK);
	CHECK(fired[5] > 0, "CACHE.WB was never interrupted");
	CHECK_EQ(kh_count(TDH_PHYMEM_CACHE_WB), kh_info.packages + fired[5]);
	for (size_t i = 0; i < kh_nev; i++)
		if (kh_ev[i].leaf == TDH_PHYMEM_CACHE_WB && kh_ev[i].status == TDX_INTERRUPTED_RESUMABLE)
			CHECK(i + 1 < kh_nev && kh_ev[i + 1].leaf == TDH_PHYMEM_CACHE_WB &&
			      kh_ev[i + 1].lp == kh_ev[i].lp && kh_ev[i + 1].in.rcx == 1,
			      "event %zu: an interrupted CACHE.WB is resumed on its CPU", i);
	CHECK(!kvm73_bugged(vm));
	CHECK_EQ(tdxsim_check_invariants(s, 0), TDXSIM_OK);

	/* Shutdown: SYS.DISABLE interrupted twice, repeated, then disabled. */
	kh_rec_reset();
	kshim_rt_shutdown();
	CHECK_EQ(tdxsim_fault_fired(s, 6, &fired[6]), TDXSIM_OK);
	CHECK_EQ(fired[6], 2);
	CHECK_EQ(kh_count(LEAF_SYS_DISABLE), 3);
	CHECK_EQ(kh_ev[kh_nev - 1].status, 0);
	CHECK_EQ(tdxsim_module_state(s), TDX_SYSINIT_PENDING);

	/* Every status the plan injected after boot was marked, nothing else. */
	CHECK_EQ(l.rnd, fired[2] + fired[3]);
	CHECK_EQ(l.busy, fired[4]);
	CHECK_EQ(l.intr, fired[5] + fired[6]);
	CHECK_EQ(l.other, 0);
	CHECK_EQ(l.unmarked, 0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static const struct kscenario scenarios[] = {
	{ "boot_initcall_success", boot_initcall_success },
	{ "sysinfo_matches_profile", sysinfo_matches_profile },
	{ "features_without_no_rbp_mod", features_without_no_rbp_mod },
	{ "module_not_loaded_ENODEV", module_not_loaded },
	{ "too_few_keyids", too_few_keyids },
	{ "movdir64b_required", movdir64b_required },
	{ "entropy_exhausted_lp_init", entropy_exhausted_lp_init },
	{ "tdmr_init_busy_unwind", tdmr_init_busy_unwind },
	{ "boot_with_cpu_offline_fails", boot_with_cpu_offline_fails },
	{ "cpu_offline_online", cpu_offline_online },
	{ "offline_last_cpu_refused_keyid_in_use", offline_last_cpu_refused },
	{ "suspend_resume", suspend_resume },
	{ "shutdown_sys_disable", shutdown_sys_disable_ok },
	{ "shutdown_sys_disable_busy_retried", shutdown_sys_disable_busy_retried },
	{ "seamldr_get_info_profile", seamldr_get_info_profile },
	{ "seamldr_refused_seamret_bug", seamldr_refused_seamret_bug },
	{ "td_lifecycle_kvm_order", td_lifecycle_kvm_order },
	{ "td_vp_enter_vmcall", td_vp_enter_vmcall },
	{ "td_aug_operand_busy_retried", td_aug_operand_busy_retried },
	{ "td_block_operand_busy_retried", td_block_operand_busy_retried },
	{ "td_vpflushdone_not_done_leaks", td_vpflushdone_not_done_leaks },
	{ "td_reclaim_out_of_order", td_reclaim_out_of_order },
	{ "td_create_entropy_retried", td_create_entropy_retried },
	{ "td_create_entropy_exhausted", td_create_entropy_exhausted },
	{ "two_tds_interleaved", two_tds_interleaved },
	{ "fault_plan_retried", fault_plan_retried },
};

int main(int argc, char **argv)
{
	return kh_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
