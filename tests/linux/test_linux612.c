/*
 * Linux 6.12 conformance: the kernel's unmodified arch/x86/virt/vmx/tdx/tdx.c
 * (fetched at build time) brings tdxsim up, and fails where it should.
 * 6.12 has no in-tree caller of tdx_enable(): the harness plays KVM (VMXON on
 * every LP, cpus_read_lock(), tdx_cpu_enable() on each CPU with IRQs off,
 * tdx_enable()). Every check of what happened is made from tdxsim's side.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "glue.h"
#include "harness.h"

/* The kernel's entry points (tdx.c). */
void tdx_init(void);
int tdx_cpu_enable(void);
int tdx_enable(void);

#define LEAF_KEY_CONFIG 31
#define LEAF_SYS_INIT 33
#define LEAF_SYS_RD 34
#define LEAF_LP_INIT 35
#define LEAF_TDMR_INIT 36
#define LEAF_SYS_CONFIG 45
#define PT_RSVD 1

static int cpu_ret[KSHIM_NR_CPUS];

static void cpu_enable_ipi(void *unused)
{
	(void)unused;
	cpu_ret[kshim_cpu()] = tdx_cpu_enable();
}

/* tdx_cpu_enable() on every online CPU (IPI: IRQs off); the first error. */
static int enable_all_cpus(void)
{
	int err = 0;
	memset(cpu_ret, 0x7f, sizeof(cpu_ret));
	kshim_on_each_cpu(cpu_enable_ipi, NULL, 1);
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		if (cpu_ret[c] && !err)
			err = cpu_ret[c];
	return err;
}

/* What KVM does: VMXON everywhere, then per-CPU and module init under
 * cpus_read_lock(). */
static int kvm_bringup(int vmxon)
{
	if (vmxon)
		kh_vmxon_all();
	kshim_cpus_read_lock();
	int ret = enable_all_cpus();
	if (!ret)
		ret = tdx_enable();
	kshim_cpus_read_unlock();
	return ret;
}

static int enable_again(void)
{
	kshim_cpus_read_lock();
	int ret = tdx_enable();
	kshim_cpus_read_unlock();
	return ret;
}

static unsigned first_lp_of_pkg(unsigned pkg)
{
	for (unsigned lp = 0; lp < kh_info.n_lps; lp++) {
		unsigned p;
		if (!tdxsim_lp_package(kshim_rt_sim(), lp, &p) && p == pkg)
			return lp;
	}
	return ~0u;
}

static uint64_t pamt_sz(uint64_t tdmr_size, unsigned shift)
{
	return ((tdmr_size >> shift) * 16 + 4095) & ~4095ULL;
}

/* ---- scenarios ------------------------------------------------------------ */

static int boot_success(void)
{
	tdxsim *s = kh_boot(NULL, NULL);
	uint64_t wb0[KSHIM_NR_CPUS];

	tdx_init();
	CHECK(kshim_rt_log_has("virt/tdx: BIOS enabled"));
	char want[128];
	snprintf(want, sizeof(want), "private KeyID range [%u, %u)", kh_info.first_tdx_keyid,
		 kh_info.first_tdx_keyid + kh_info.tdx_keyids);
	CHECK(kshim_rt_log_has(want), "expected \"%s\"", want);
	CHECK(kshim_caps[KSHIM_FEAT_TDX_HOST_PLATFORM]);
	CHECK_EQ(kshim_caps[KSHIM_BUG_TDX_PW_MCE], !!(kh_info.platform->flags & TDXSIM_PLATFORM_F_PW_MCE));
	CHECK(acpi_suspend_lowlevel == NULL, "tdx_init() must disable ACPI S3");
	CHECK(kshim_rt_has_memory_notifier());
	CHECK_EQ(kh_nev, 0);

	for (unsigned c = 0; c < kh_info.n_lps; c++)
		wb0[c] = kh_wbinvd(c);
	int ret = kvm_bringup(1);
	CHECK_EQ(ret, 0);
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		CHECK_EQ(cpu_ret[c], 0);
	CHECK(kshim_rt_log_has("virt/tdx: module initialized"));
	CHECK_EQ(tdxsim_module_state(s), TDX_SYS_READY);
	CHECK_EQ(tdxsim_global_keyid(s), kh_info.first_tdx_keyid);

	/* The SEAMCALL sequence, from tdxsim's side. */
	for (size_t i = 0; i < kh_nev; i++)
		CHECK_EQ(kh_ev[i].status, 0);
	CHECK_EQ(kh_count(LEAF_SYS_INIT), 1);
	CHECK_EQ(kh_first(LEAF_SYS_INIT), 0);
	CHECK_EQ(kh_ev[0].lp, 0);
	for (unsigned lp = 0; lp < kh_info.n_lps; lp++)
		CHECK_EQ(kh_count_lp(LEAF_LP_INIT, lp), 1);
	CHECK_EQ(kh_count(LEAF_SYS_RD), 5);
	static const uint64_t rd_ids[5] = {
		0x9100000100000008ULL, 0x9100000100000009ULL, 0x9100000100000010ULL,
		0x9100000100000011ULL, 0x9100000100000012ULL,
	};
	for (unsigned i = 0, k = 0; i < kh_nev; i++)
		if (kh_ev[i].leaf == LEAF_SYS_RD)
			CHECK_EQ(kh_ev[i].in.rdx, rd_ids[k++]);
	CHECK_EQ(kh_count(LEAF_SYS_CONFIG), 1);
	CHECK_EQ(kh_count(LEAF_KEY_CONFIG), kh_info.packages);
	for (unsigned p = 0; p < kh_info.packages; p++)
		CHECK_EQ(kh_count_lp(LEAF_KEY_CONFIG, first_lp_of_pkg(p)), 1);
	CHECK(kh_last(LEAF_LP_INIT) < kh_first(LEAF_SYS_RD));
	CHECK(kh_last(LEAF_SYS_RD) < kh_first(LEAF_SYS_CONFIG));
	CHECK(kh_first(LEAF_SYS_CONFIG) < kh_first(LEAF_KEY_CONFIG));
	CHECK(kh_last(LEAF_KEY_CONFIG) < kh_first(LEAF_TDMR_INIT));
	CHECK_EQ(kh_ev[kh_first(LEAF_SYS_CONFIG)].in.r8, kh_info.first_tdx_keyid);
	CHECK_EQ(kh_last(LEAF_TDMR_INIT), (long)kh_nev - 1);
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		CHECK(kh_wbinvd(c) > wb0[c], "WBINVD on LP %u before KEY.CONFIG", c);

	/* TDMRs: 1 GiB aligned, each initialised to its end by the TDMR.INIT loop. */
	CHECK(kh_ntdmrs >= 1);
	CHECK_EQ(kh_ntdmrs, kh_ev[kh_first(LEAF_SYS_CONFIG)].in.rdx);
	uint64_t pamt_total = 0;
	for (unsigned t = 0; t < kh_ntdmrs; t++) {
		const struct kh_tdmr *m = &kh_tdmrs[t];
		CHECK_EQ((m->base | m->size) & ((1ULL << 30) - 1), 0);
		uint64_t last_rdx = 0;
		unsigned calls = 0;
		for (size_t i = 0; i < kh_nev; i++)
			if (kh_ev[i].leaf == LEAF_TDMR_INIT && kh_ev[i].in.rcx == m->base) {
				CHECK(kh_ev[i].out.rdx >= last_rdx);
				last_rdx = kh_ev[i].out.rdx;
				calls++;
			}
		CHECK(calls >= 1, "TDMR %u never initialised", t);
		CHECK_EQ(last_rdx, m->base + m->size);
		/* PAMT: one contiguous kernel allocation per TDMR, sized as Linux sizes it. */
		CHECK_EQ(m->pamt_size[0], pamt_sz(m->size, 12));
		CHECK_EQ(m->pamt_size[1], pamt_sz(m->size, 21));
		CHECK_EQ(m->pamt_size[2], pamt_sz(m->size, 30));
		CHECK_EQ(m->pamt_base[1], m->pamt_base[0] + m->pamt_size[0]);
		CHECK_EQ(m->pamt_base[2], m->pamt_base[1] + m->pamt_size[1]);
		uint64_t bytes = m->pamt_size[0] + m->pamt_size[1] + m->pamt_size[2];
		CHECK(kshim_rt_is_allocation(m->pamt_base[0], bytes, KSHIM_CONTIG),
		      "PAMT of TDMR %u is not a live alloc_contig_pages() block", t);
		pamt_total += bytes;
	}
	CHECK_EQ(kshim_rt_live_bytes(KSHIM_CONTIG), pamt_total);
	snprintf(want, sizeof(want), "virt/tdx: %llu KB allocated for PAMT",
		 (unsigned long long)(pamt_total / 1024));
	CHECK(kshim_rt_log_has(want), "expected \"%s\"", want);

	/* The module owns the PAMT: PT_RSVD in its TDMR, zeros through KeyID 0. */
	for (unsigned t = 0; t < kh_ntdmrs; t++) {
		for (unsigned lvl = 0; lvl < 3; lvl++) {
			uint64_t pa = kh_tdmrs[t].pamt_base[lvl];
			for (unsigned u = 0; u < kh_ntdmrs; u++) {
				if (pa < kh_tdmrs[u].base || pa >= kh_tdmrs[u].base + kh_tdmrs[u].size)
					continue;
				unsigned type = 99;
				CHECK_EQ(tdxsim_pamt_lookup(s, pa, &type, NULL, NULL), TDXSIM_OK);
				CHECK_EQ(type, PT_RSVD);
			}
		}
		uint8_t buf[4096], zero[4096] = { 0 };
		CHECK_EQ(tdxsim_mem_read(s, kh_tdmrs[t].pamt_base[0], 0, buf, sizeof(buf)), TDXSIM_OK);
		CHECK(!memcmp(buf, zero, sizeof(buf)), "PAMT readable through KeyID 0");
		/* The allocation was poisoned (0x6b): TDMR.INIT must have written
		 * every entry of every level. */
		for (unsigned lvl = 0; lvl < 3; lvl++) {
			const struct kh_tdmr *m = &kh_tdmrs[t];
			uint64_t used = (m->size >> (lvl == 0 ? 12 : lvl == 1 ? 21 : 30)) * 16;
			const uint8_t *raw = tdxsim_pa_to_ptr(s, m->pamt_base[lvl]);
			for (uint64_t off = 0; off < used; off += 16)
				CHECK(raw[off] != 0x6b || raw[off + 15] != 0x6b,
				      "TDMR %u: PAMT level %u entry %llu never initialised", t, lvl,
				      (unsigned long long)(off / 16));
		}
	}

	/* tdx_dump_mce_info(): PAMT pages are TDX private memory (RDMD says PT_RSVD). */
	kh_rec_reset();
	const char *msg = kglue_dump_mce(kh_tdmrs[0].pamt_base[0]);
	CHECK(msg && strstr(msg, "TDX private memory error"));
	CHECK_EQ(kh_count(24), 1);
	CHECK(kglue_dump_mce(2ULL << 20) == NULL);

	/* Memory hot-plug: only memory inside the TDX memory list may come online. */
	CHECK_EQ(kshim_rt_memory_going_online((2ULL << 20) >> 12, 512), NOTIFY_OK);
	CHECK_EQ(kshim_rt_memory_going_online(kh_info.pa_space_bytes >> 12, 32768), NOTIFY_BAD);

	for (unsigned c = 0; c < kh_info.n_lps; c++)
		CHECK_EQ(kh_vmx_refs(c), 1);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static int second_enable_no_seamcall(void)
{
	kh_boot(NULL, NULL);
	tdx_init();
	CHECK_EQ(kvm_bringup(1), 0);
	kh_rec_reset();
	CHECK_EQ(enable_again(), 0);
	CHECK_EQ(enable_all_cpus(), 0);
	CHECK_EQ(kh_nev, 0, "a second tdx_enable()/tdx_cpu_enable() issued SEAMCALLs");
	CHECK_EQ(kshim_rt_log_count("module initialized"), 1);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static int module_not_loaded(void)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_NO_MODULE;
	tdxsim *s = kh_boot(&cfg, NULL);
	tdx_init();
	kh_vmxon_all();
	kshim_cpus_read_lock();
	CHECK_EQ(enable_all_cpus(), -ENODEV);
	kshim_cpus_read_unlock();
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		CHECK_EQ(cpu_ret[c], -ENODEV);
	CHECK_EQ(kshim_rt_log_count("virt/tdx: module not loaded"), 1);
	/* SYS.INIT is tried once; every other CPU gets the cached result. */
	CHECK_EQ(kh_nev, 1);
	CHECK_EQ(kh_ev[0].leaf, LEAF_SYS_INIT);
	CHECK_EQ(kh_ev[0].status, TDX_SEAMCALL_VMFAILINVALID);
	CHECK_EQ(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static int no_vmxon(void)
{
	tdxsim *s = kh_boot(NULL, NULL);
	tdx_init();
	CHECK_EQ(kvm_bringup(0), -EACCES);
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		CHECK_EQ(cpu_ret[c], -EACCES);
	CHECK_EQ(kh_nev, 1);
	CHECK_EQ(kh_ev[0].status, TDX_SEAMCALL_UD);
	CHECK_EQ(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static int add_fault(tdxsim *s, uint64_t status, int leaf, uint64_t nth, uint64_t count, unsigned *id)
{
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = status;
	f.leaf = leaf;
	f.nth = nth;
	f.count = count;
	tdxsim_err err = tdxsim_fault_add(s, &f, id);
	if (err)
		fprintf(stderr, "  tdxsim_fault_add(%s on leaf %d): %s: %s\n", tdx_status_name(status),
			leaf, tdxsim_err_name(err), tdxsim_errmsg(s));
	return err;
}

static int entropy_retry(int leaf)
{
	tdxsim *s = kh_boot(NULL, NULL);
	unsigned id;
	CHECK_EQ(add_fault(s, TDX_RND_NO_ENTROPY, leaf, 1, 3, &id), TDXSIM_OK);
	tdx_init();
	CHECK_EQ(kvm_bringup(1), 0);
	uint64_t fired = 0;
	CHECK_EQ(tdxsim_fault_fired(s, id, &fired), TDXSIM_OK);
	CHECK_EQ(fired, 3);
	if (leaf == LEAF_SYS_INIT) {
		CHECK_EQ(kh_count(LEAF_SYS_INIT), 4);
	} else {
		CHECK_EQ(kh_count_lp(LEAF_LP_INIT, 0), 4);
		CHECK_EQ(kh_count(LEAF_LP_INIT), kh_info.n_lps + 3);
	}
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(kh_ev[i + (leaf == LEAF_LP_INIT)].status, TDX_RND_NO_ENTROPY);
		CHECK(kh_ev[i + (leaf == LEAF_LP_INIT)].leaf == (unsigned)leaf);
	}
	CHECK(!kshim_rt_log_has("failed"));
	CHECK_EQ(tdxsim_module_state(s), TDX_SYS_READY);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}
static int entropy_retry_sys_init(void) { return entropy_retry(LEAF_SYS_INIT); }
static int entropy_retry_lp_init(void) { return entropy_retry(LEAF_LP_INIT); }

static int entropy_exhausted(int leaf)
{
	tdxsim *s = kh_boot(NULL, NULL);
	unsigned id;
	CHECK_EQ(add_fault(s, TDX_RND_NO_ENTROPY, leaf, 1, 0, &id), TDXSIM_OK);
	tdx_init();
	CHECK_EQ(kvm_bringup(1), -EIO);
	CHECK_EQ(cpu_ret[0], -EIO);
	/* sc_retry(): 10 tries, then the error is reported. */
	CHECK_EQ(kh_count_lp(leaf, 0), 10);
	char want[96];
	snprintf(want, sizeof(want), "SEAMCALL (0x%016x) failed: 0x8000020300000000", leaf);
	CHECK(kshim_rt_log_has(want), "expected \"%s\"", want);
	if (leaf == LEAF_SYS_INIT) {
		CHECK_EQ(kh_nev, 10);   /* later CPUs get the cached failure */
		CHECK_EQ(tdxsim_module_state(s), TDX_SYSINIT_PENDING);
	} else {
		CHECK_EQ(kh_count(LEAF_LP_INIT), 10 * kh_info.n_lps);
	}
	CHECK_EQ(kh_count(LEAF_SYS_CONFIG), 0);
	CHECK_EQ(kshim_rt_live_allocs(-1), 0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}
static int entropy_exhausted_sys_init(void) { return entropy_exhausted(LEAF_SYS_INIT); }
static int entropy_exhausted_lp_init(void) { return entropy_exhausted(LEAF_LP_INIT); }

/* A failure after SYS.CONFIG: PAMTs flushed, reset, freed; the error sticks. */
static int unwind_after(uint64_t status, int leaf, uint64_t nth, const char *leafhex)
{
	tdxsim *s = kh_boot(NULL, NULL);
	unsigned id;
	uint64_t wb0[KSHIM_NR_CPUS];
	CHECK_EQ(add_fault(s, status, leaf, nth, leaf == LEAF_TDMR_INIT ? 1 : 0, &id), TDXSIM_OK);
	tdx_init();
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		wb0[c] = kh_wbinvd(c);
	CHECK_EQ(kvm_bringup(1), -EIO);
	CHECK(kshim_rt_log_has("virt/tdx: module initialization failed (-5)"));
	char want[64];
	snprintf(want, sizeof(want), "SEAMCALL (%s) failed", leafhex);
	CHECK(kshim_rt_log_has(want), "expected \"%s\"", want);
	CHECK_EQ(kh_ev[kh_nev - 1].leaf, leaf);
	CHECK_EQ(kh_ev[kh_nev - 1].status & 0xFFFFFFFF00000000ULL, status);
	if (leaf == LEAF_TDMR_INIT)
		CHECK_EQ(kh_count(LEAF_TDMR_INIT), nth);
	/* Full unwind: no allocation left, caches flushed again, PAMT memory reset. */
	CHECK_EQ(kshim_rt_live_allocs(-1), 0);
	CHECK_EQ(kshim_rt_live_bytes(-1), 0);
	for (unsigned c = 0; c < kh_info.n_lps; c++)
		CHECK(kh_wbinvd(c) >= wb0[c] + 2, "LP %u: WBINVD before KEY.CONFIG and on unwind", c);
	CHECK(kh_ntdmrs >= 1);
	for (unsigned t = 0; t < kh_ntdmrs; t++) {
		const uint8_t *raw = tdxsim_pa_to_ptr(s, kh_tdmrs[t].pamt_base[0]);
		uint64_t n = kh_tdmrs[t].pamt_size[0] + kh_tdmrs[t].pamt_size[1] + kh_tdmrs[t].pamt_size[2];
		for (uint64_t i = 0; i < n; i += 4096)
			CHECK(raw[i] == 0 && raw[i + 4095] == 0, "PAMT of TDMR %u not reset at +0x%llx",
			      t, (unsigned long long)i);
	}
	/* Sticky: tdx_enable() fails without a SEAMCALL. */
	kh_rec_reset();
	CHECK_EQ(enable_again(), -EINVAL);
	CHECK_EQ(kh_nev, 0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static int tdmr_init_busy_unwind(void)
{
	return unwind_after(TDX_OPERAND_BUSY, LEAF_TDMR_INIT, 3, "0x0000000000000024");
}

static int key_config_failure_unwind(void)
{
	return unwind_after(TDX_KEY_GENERATION_FAILED, LEAF_KEY_CONFIG, 1, "0x000000000000001f");
}

static int pamt_alloc_failure(void)
{
	kh_boot(NULL, NULL);
	tdx_init();
	kshim_rt_fail_alloc(KSHIM_CONTIG, 2);      /* the second TDMR's PAMT */
	CHECK_EQ(kvm_bringup(1), -ENOMEM);
	CHECK(kshim_rt_log_has("virt/tdx: module initialization failed (-12)"));
	CHECK_EQ(kh_count(LEAF_SYS_CONFIG), 0);
	CHECK_EQ(kshim_rt_live_allocs(-1), 0);
	kh_rec_reset();
	CHECK_EQ(enable_again(), -EINVAL);
	CHECK_EQ(kh_nev, 0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static int too_few_keyids(void)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.mktme_keyids = 31;
	cfg.tdx_keyids = 1;
	kh_boot(&cfg, NULL);
	tdx_init();
	CHECK(kshim_rt_log_has("too few private KeyIDs"));
	CHECK(!kshim_caps[KSHIM_FEAT_TDX_HOST_PLATFORM]);
	CHECK(acpi_suspend_lowlevel != NULL);
	CHECK_EQ(kvm_bringup(1), -ENODEV);
	CHECK_EQ(enable_again(), -ENODEV);
	CHECK_EQ(kh_nev, 0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

static int hibernation_refused(void)
{
	kh_boot(NULL, NULL);
	kshim_hibernation_available = 1;
	tdx_init();
	CHECK(kshim_rt_log_has("virt/tdx: initialization failed: Hibernation"));
	CHECK(!kshim_caps[KSHIM_FEAT_TDX_HOST_PLATFORM]);
	CHECK_EQ(kvm_bringup(1), -ENODEV);
	CHECK_EQ(kh_nev, 0);
	return 0;
}

/* 67 memory regions, each in its own GiB, all inside one CMR: 67 TDMRs > 64. */
static int too_many_tdmrs(void)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	const unsigned nreg = 67;
	cfg.n_cmrs = 1;
	cfg.cmrs[0] = (tdxsim_range){ 0, (uint64_t)(nreg + 1) << 30 };
	struct kshim_rt_memmap mm;
	memset(&mm, 0, sizeof(mm));
	for (unsigned i = 0; i < nreg; i++)
		mm.r[mm.n++] = (tdxsim_range){ (uint64_t)i << 30, 16ULL << 20 };
	mm.r[nreg - 1].size = 256ULL << 20;
	mm.alloc_base = mm.r[nreg - 1].base;
	mm.alloc_size = mm.r[nreg - 1].size;
	tdxsim *s = kh_boot(&cfg, &mm);
	tdx_init();
	CHECK_EQ(kvm_bringup(1), -ENOSPC);
	CHECK(kshim_rt_log_has("TDMRs exhausted"));
	CHECK(kshim_rt_log_has("virt/tdx: module initialization failed (-28)"));
	CHECK_EQ(kh_count(LEAF_SYS_RD), 5);
	CHECK_EQ(kh_count(LEAF_SYS_CONFIG), 0);
	CHECK_EQ(kshim_rt_live_allocs(-1), 0);
	CHECK_EQ(tdxsim_module_state(s), TDX_SYSINIT_DONE);
	kh_rec_reset();
	CHECK_EQ(enable_again(), -EINVAL);
	CHECK_EQ(kh_nev, 0);
	CHECK_EQ(kshim_rt_warn_count(), 0);
	return 0;
}

/* The lockdep-style assertions count: tdx_cpu_enable() with IRQs on and
 * tdx_enable() without cpus_read_lock() are caught. */
static int lockdep_assertions_count(void)
{
	kh_boot(NULL, NULL);
	tdx_init();
	kh_vmxon_all();
	CHECK_EQ(kshim_rt_warn_count(), 0);
	CHECK_EQ(tdx_cpu_enable(), 0);            /* IRQs on: two assertions fire */
	CHECK(kshim_rt_warn_count() >= 1);
	CHECK(kshim_rt_log_has("lockdep_assert_irqs_disabled"));
	unsigned w = kshim_rt_warn_count();
	for (unsigned c = 1; c < kh_info.n_lps; c++) {
		kshim_rt_bind((int)c);
		kshim_local_irq_disable();
		CHECK_EQ(tdx_cpu_enable(), 0);
		kshim_local_irq_enable();
	}
	kshim_rt_bind(0);
	CHECK_EQ(kshim_rt_warn_count(), w);
	CHECK_EQ(tdx_enable(), 0);                 /* no cpus_read_lock() */
	CHECK_EQ(kshim_rt_warn_count(), w + 1);
	CHECK(kshim_rt_log_has("lockdep_assert_cpus_held"));
	return 0;
}

static const struct kscenario scenarios[] = {
	{ "boot_success", boot_success },
	{ "second_enable_no_seamcall", second_enable_no_seamcall },
	{ "module_not_loaded_ENODEV", module_not_loaded },
	{ "no_vmxon_EACCES", no_vmxon },
	{ "entropy_retry_sys_init", entropy_retry_sys_init },
	{ "entropy_retry_lp_init", entropy_retry_lp_init },
	{ "entropy_exhausted_sys_init", entropy_exhausted_sys_init },
	{ "entropy_exhausted_lp_init", entropy_exhausted_lp_init },
	{ "tdmr_init_busy_unwind", tdmr_init_busy_unwind },
	{ "key_config_failure_unwind", key_config_failure_unwind },
	{ "pamt_alloc_failure_unwind", pamt_alloc_failure },
	{ "too_few_keyids", too_few_keyids },
	{ "hibernation_refused", hibernation_refused },
	{ "too_many_tdmrs_ENOSPC", too_many_tdmrs },
	{ "lockdep_assertions_count", lockdep_assertions_count },
};

int main(int argc, char **argv)
{
	return kh_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
