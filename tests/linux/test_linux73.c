/*
 * Linux 7.3 conformance: the kernel's unmodified arch/x86/virt/vmx/tdx/tdx.c
 * (with tdx_global_metadata.c, which it includes) and seamldr.c, fetched at
 * build time. TDX comes up at boot through subsys_initcall(tdx_enable); the
 * "virt/tdx:online" hot-plug callback takes a VMX reference and runs
 * tdx_cpu_enable() on every CPU; syscore ops handle suspend and shutdown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "glue.h"
#include "harness.h"

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
};

int main(int argc, char **argv)
{
	return kh_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
