/*
 * KVM's TDX side for the Linux 7.3 suite (see kvm73.h): written for this
 * project after KVM 7.3's behaviour (tdx-abi.md 6.3, 6.4), compiled in kernel
 * mode against the shim, calling only the kernel's exported tdh_*() wrappers
 * and KeyID allocator from arch/x86/virt/vmx/tdx/tdx.c.
 */
#include <linux/types.h>
#include <linux/cpumask.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <asm/tdx.h>

#include "kvm73.h"

/* ---- constants KVM uses ---------------------------------------------------- */
#define ATTR_SEPT_VE_DISABLE    BIT_ULL(28)
#define CONFIG_FLAGS_NO_RBP_MOD BIT_ULL(2)
#define CONFIG_FLAGS_MAX_GPAW   BIT_ULL(0)
#define EPTP_MT_WB              6ULL
#define EPTP_PWL_4              (3ULL << 3)
#define HOST_XCR0_XSS           0xE7ULL      /* x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM */
#define TSX_BITS                (BIT(4) | BIT(11))   /* CPUID.7.0.EBX HLE, RTM */
#define WAITPKG_BIT             BIT(5)               /* CPUID.7.0.ECX */
#define NO_SUBLEAF              0xFFFFFFFFu
#define EXTENDMR_CHUNK          256
#define FAULT_RETRIES           64
#define KVM_MAX_VCPUS           4096

/* TD VMCS fields KVM writes at vCPU init (class 0: the VMCS encoding). */
#define VMCS_POSTED_INTR_NV         0x0002ULL
#define VMCS_POSTED_INTR_DESC_ADDR  0x2016ULL
#define VMCS_PIN_BASED_CONTROLS     0x4000ULL
#define PIN_BASED_POSTED_INTR       0x80ULL
#define POSTED_INTR_VECTOR          0xf2
/* TDCS execution-control fields read after MNG.INIT (class 17). */
#define TDCS_EXEC_FIELD(f)          ((17ULL << 56) | (f))
#define TDCS_TSC_OFFSET             TDCS_EXEC_FIELD(10)
#define TDCS_TSC_MULTIPLIER         TDCS_EXEC_FIELD(11)

#define CACHE_WB_RETRIES            10000

/* TD_PARAMS (1024 bytes, tdx-abi.md 4.1). */
struct kvm73_td_params {
	u64 attributes;
	u64 xfam;
	u16 max_vcpus;
	u8 reserved0[6];
	u64 eptp_controls;
	u64 config_flags;
	u16 tsc_frequency;
	u8 reserved1[38];
	u8 mrconfigid[48];
	u8 mrowner[48];
	u8 mrownerconfig[48];
	u8 reserved2[32];
	struct { u32 eax, ebx, ecx, edx; } cpuid[KVM73_MAX_CPUID];
} __packed;
static_assert(sizeof(struct kvm73_td_params) == 1024);

/* Posted-interrupt descriptor (64 bytes): PIR, then control (ON, SN, NV, NDST). */
struct kvm73_pi_desc {
	u32 pir[8];
	u64 control;
	u32 rsvd[6];
} __aligned(64);

struct kvm73_vcpu {
	struct tdx_vp vp;
	int cpu;                        /* vcpu->cpu: loaded there, -1 = nowhere */
	int thread_cpu;                 /* where the vCPU thread runs */
	bool initialized;               /* VCPU_TD_STATE_INITIALIZED */
	struct kvm73_pi_desc *pi_desc;
};

struct kvm73_sept {
	u64 gpa;                        /* aligned to what the linking entry maps */
	int level;                      /* pg_level of the linking entry: 4, 3, 2 */
	struct page *page;
};

struct kvm73_private {
	u64 gpa;
	struct page *page;              /* the guest_memfd page */
	bool mapped;
};

struct kvm73_vm {
	struct tdx_td td;
	int hkid;
	int state;
	bool bugged;
	unsigned kicks;
	int max_vcpus;
	u64 tsc_offset, tsc_multiplier, attributes, xfam;
	struct kvm73_td_params params;  /* a copy of what MNG.INIT got */
	struct page *page_add_src;
	struct kvm73_vcpu vcpu[KVM73_MAX_VCPUS];
	int nr_vcpus;
	struct kvm73_sept sept[KVM73_MAX_SEPT];
	int nr_sept;
	struct kvm73_private priv[KVM73_MAX_PRIVATE];
	int nr_priv;
	kvm73_probe_fn probe;
	void *probe_arg;
};

/* Serialises MNG.CREATE and the HKID release across VMs, like KVM's tdx_lock. */
static DEFINE_MUTEX(kvm73_tdx_lock);

/* ---- KVM_BUG_ON / TDX_BUG_ON -------------------------------------------------- */

/* One WARN per VM, then the VM is dead for user space. */
static bool vm_bug_on(struct kvm73_vm *vm, bool cond, const char *what, u64 err)
{
	if (cond && !vm->bugged) {
		pr_err("kvm73: %s failed: 0x%016llx\n", what, err);
		WARN_ON(1);
		vm->bugged = true;
	}
	return cond;
}
#define TDX_BUG(vm, err, what) vm_bug_on((vm), (err) != 0, (what), (err))

/* The same without a VM (KVM passes NULL): a WARN_ON_ONCE per call site. */
static bool bug_on_once(bool *once, u64 err, const char *what)
{
	if (err && !*once) {
		pr_err("kvm73: %s failed: 0x%016llx\n", what, err);
		WARN_ON(1);
		*once = true;
	}
	return err != 0;
}

static bool operand_busy(u64 err)
{
	return (err & TDX_SEAMCALL_STATUS_MASK) == TDX_OPERAND_BUSY;
}

static bool hkid_assigned(const struct kvm73_vm *vm)
{
	return vm->hkid > 0;
}

static const struct tdx_sys_info *sysinfo(void)
{
	return tdx_get_sysinfo();
}

/* kvm_make_all_cpus_request(KVM_REQ_OUTSIDE_GUEST_MODE): no vCPU runs here. */
static void kick_all_vcpus(struct kvm73_vm *vm)
{
	vm->kicks++;
}

/* ---- capabilities and TD_PARAMS --------------------------------------------- */

static u64 supported_attrs(const struct tdx_sys_info_td_conf *c)
{
	u64 v = ATTR_SEPT_VE_DISABLE;

	if ((v & c->attributes_fixed1) != c->attributes_fixed1)
		return 0;
	return v & c->attributes_fixed0;
}

static u64 supported_xfam(const struct tdx_sys_info_td_conf *c)
{
	u64 v = HOST_XCR0_XSS;

	if ((v & c->xfam_fixed1) != c->xfam_fixed1)
		return 0;
	return v & c->xfam_fixed0;
}

/* The configurable CPUID entry idx as KVM reports it to user space. */
static void caps_entry(const struct tdx_sys_info_td_conf *c, int idx, struct kvm73_cpuid_entry *e)
{
	u64 leaf = c->cpuid_config_leaves[idx];

	e->function = (u32)leaf;
	e->index = (u32)(leaf >> 32);
	if (e->index == NO_SUBLEAF)
		e->index = 0;
	e->eax = (u32)c->cpuid_config_values[idx][0];
	e->ebx = (u32)(c->cpuid_config_values[idx][0] >> 32);
	e->ecx = (u32)c->cpuid_config_values[idx][1];
	e->edx = (u32)(c->cpuid_config_values[idx][1] >> 32);
	/* KVM offers the guest physical-address width (EAX[23:16]) as the
	 * GPAW knob, though the module does not configure it. */
	if (e->function == 0x80000008)
		e->eax |= 0xFFu << 16;
	if (e->function == 7 && e->index == 0) {
		e->ebx &= ~TSX_BITS;
		e->ecx &= ~WAITPKG_BIT;
	}
}

void kvm73_caps(struct kvm73_caps *out)
{
	const struct tdx_sys_info_td_conf *c = &sysinfo()->td_conf;

	memset(out, 0, sizeof(*out));
	out->supported_attrs = supported_attrs(c);
	out->supported_xfam = supported_xfam(c);
	out->nent = min_t(unsigned int, c->num_cpuid_config, KVM73_MAX_CPUID);
	for (unsigned int i = 0; i < out->nent; i++)
		caps_entry(c, i, &out->entries[i]);
}

static const struct kvm73_cpuid_entry *find_entry(const struct kvm73_init_vm *u, u32 fn, u32 idx)
{
	for (unsigned int i = 0; i < u->nent; i++)
		if (u->entries[i].function == fn && u->entries[i].index == idx)
			return &u->entries[i];
	return NULL;
}

/* setup_tdparams(): -EINVAL for what KVM itself refuses. */
static int build_tdparams(struct kvm73_vm *vm, const struct kvm73_init_vm *u,
			  struct kvm73_td_params *p)
{
	const struct tdx_sys_info_td_conf *c = &sysinfo()->td_conf;
	const struct kvm73_cpuid_entry *e;
	unsigned int copied = 0;
	int gpa_bits;

	if (vm->nr_vcpus)
		return -EBUSY;
	if (u->attributes & ~supported_attrs(c))
		return -EINVAL;
	if (u->xfam & ~supported_xfam(c))
		return -EINVAL;
	if (u->nent > KVM73_MAX_CPUID || c->num_cpuid_config > KVM73_MAX_CPUID)
		return -E2BIG;

	p->max_vcpus = (u16)vm->max_vcpus;
	p->attributes = u->attributes | c->attributes_fixed1;
	p->xfam = u->xfam | c->xfam_fixed1;
	p->config_flags = CONFIG_FLAGS_NO_RBP_MOD;
	p->tsc_frequency = (u16)(tsc_khz / 25000);

	/* GPAW from CPUID 0x80000008.EAX[23:16]: 48 (4-level) only here. */
	e = find_entry(u, 0x80000008, 0);
	if (!e)
		return -EINVAL;
	gpa_bits = (e->eax >> 16) & 0xFF;
	if (gpa_bits != 48)
		return -EINVAL;
	p->eptp_controls = EPTP_MT_WB | EPTP_PWL_4;

	for (unsigned int i = 0; i < c->num_cpuid_config; i++) {
		struct kvm73_cpuid_entry slot;

		caps_entry(c, i, &slot);
		e = find_entry(u, slot.function, slot.index);
		if (!e)
			continue;
		if (e->function == 7 && e->index == 0 &&
		    ((e->ebx & TSX_BITS) || (e->ecx & WAITPKG_BIT)))
			return -EINVAL;
		copied++;
		p->cpuid[i].eax = e->eax;
		p->cpuid[i].ebx = e->ebx;
		p->cpuid[i].ecx = e->ecx;
		p->cpuid[i].edx = e->edx;
		if (e->function == 0x80000008)
			p->cpuid[i].eax &= ~(0xFFu << 16);
	}
	/* Entries without a TD_PARAMS slot would go unchecked by the module. */
	if (copied != u->nent)
		return -EINVAL;
	return 0;
}

/* ---- reclaiming pages --------------------------------------------------------- */

static int reclaim_page(struct kvm73_vm *vm, struct page *page, bool reset)
{
	static bool once;
	u64 type, owner, size;
	u64 err = tdh_phymem_page_reclaim(page, &type, &owner, &size);

	(void)vm;
	if (bug_on_once(&once, err, "TDH.PHYMEM.PAGE.RECLAIM"))
		return -EIO;
	if (reset)
		tdx_quirk_reset_paddr(page_to_phys(page), PAGE_SIZE);
	return 0;
}

/* A control page comes back to the kernel only if the module let it go. */
static bool reclaim_control_page(struct kvm73_vm *vm, struct page *page)
{
	if (reclaim_page(vm, page, true))
		return false;           /* leaked */
	__free_page(page);
	return true;
}

/* ---- vCPU association and flushing --------------------------------------- */

struct flush_arg {
	struct kvm73_vcpu *v;
	u64 err;
};

/* IPI on the vCPU's CPU: VP.FLUSH, then forget the association. */
static void flush_vp(void *p)
{
	struct flush_arg *a = p;
	struct kvm73_vcpu *v = a->v;
	u64 err;

	a->err = 0;
	lockdep_assert_irqs_disabled();
	if (v->cpu != raw_smp_processor_id())
		return;
	if (v->initialized) {
		/* VCPU_NOT_ASSOCIATED: nothing of it is cached on this CPU. */
		err = tdh_vp_flush(&v->vp);
		if (err && err != TDX_VCPU_NOT_ASSOCIATED)
			a->err = err;
	}
	v->cpu = -1;
}

static void flush_vp_on_cpu(struct kvm73_vm *vm, struct kvm73_vcpu *v)
{
	struct flush_arg a = { .v = v };

	if (v->cpu == -1)
		return;
	smp_call_function_single(v->cpu, flush_vp, &a, 1);
	TDX_BUG(vm, a.err, "TDH.VP.FLUSH");
}

/* vcpu_load() on the current CPU. */
static void vcpu_load(struct kvm73_vm *vm, struct kvm73_vcpu *v)
{
	int cpu = raw_smp_processor_id();

	if (v->cpu != cpu && hkid_assigned(vm))
		flush_vp_on_cpu(vm, v);
	v->cpu = cpu;
}

struct vcpu_call {
	struct kvm73_vm *vm;
	struct kvm73_vcpu *v;
	int (*fn)(struct kvm73_vm *vm, struct kvm73_vcpu *v, void *arg);
	void *arg;
};

static int vcpu_call_fn(void *p)
{
	struct vcpu_call *c = p;
	int ret;

	vcpu_load(c->vm, c->v);
	ret = c->fn(c->vm, c->v, c->arg);
	return ret;
}

/* A vCPU ioctl: runs on the vCPU thread's CPU with the vCPU loaded. */
static int vcpu_ioctl(struct kvm73_vm *vm, int idx,
		      int (*fn)(struct kvm73_vm *, struct kvm73_vcpu *, void *), void *arg)
{
	struct vcpu_call c;

	if (idx < 0 || idx >= vm->nr_vcpus)
		return -EINVAL;
	c = (struct vcpu_call){ .vm = vm, .v = &vm->vcpu[idx], .fn = fn, .arg = arg };
	return smp_call_on_cpu(vm->vcpu[idx].thread_cpu, vcpu_call_fn, &c, true);
}

/* ---- KVM_TDX_INIT_VM -------------------------------------------------------- */

struct kvm73_vm *kvm73_vm_create(void)
{
	struct kvm73_vm *vm = kzalloc(sizeof(*vm), GFP_KERNEL);

	if (!vm)
		return NULL;
	vm->hkid = -1;
	vm->state = KVM73_TD_UNINITIALIZED;
	/* KVM's limit for TDs: the logical CPUs the platform has. */
	vm->max_vcpus = min_t(int, KVM_MAX_VCPUS, num_present_cpus());
	return vm;
}

static int do_key_config(void *p)
{
	struct kvm73_vm *vm = p;
	u64 err = tdh_mng_key_config(&vm->td);      /* sc_retry handles RND_NO_ENTROPY */

	if (TDX_BUG(vm, err, "TDH.MNG.KEY.CONFIG"))
		return -EIO;
	return 0;
}

static void release_hkid(struct kvm73_vm *vm);
static void reclaim_td_control_pages(struct kvm73_vm *vm);

static void hkid_free(struct kvm73_vm *vm)
{
	tdx_guest_keyid_free((unsigned int)vm->hkid);
	vm->hkid = -1;
}

/* __tdx_td_init(). */
static int td_init(struct kvm73_vm *vm, struct kvm73_td_params *params, u64 *hw_error)
{
	const struct tdx_sys_info *si = sysinfo();
	struct page **tdcs = NULL;
	struct page *tdr;
	cpumask_var_t packages;
	u64 err, rcx;
	int ret, i;

	*hw_error = 0;
	ret = tdx_guest_keyid_alloc();
	if (ret < 0)
		return ret;
	vm->hkid = ret;

	ret = -ENOMEM;
	tdr = alloc_page(GFP_KERNEL_ACCOUNT);
	if (!tdr)
		goto free_hkid;
	vm->td.tdcs_nr_pages = si->td_ctrl.tdcs_base_size / PAGE_SIZE;
	vm->td.tdcx_nr_pages = si->td_ctrl.tdvps_base_size / PAGE_SIZE - 1;
	tdcs = kcalloc(vm->td.tdcs_nr_pages, sizeof(*tdcs), GFP_KERNEL_ACCOUNT);
	if (!tdcs)
		goto free_tdr;
	for (i = 0; i < vm->td.tdcs_nr_pages; i++) {
		tdcs[i] = alloc_page(GFP_KERNEL_ACCOUNT);
		if (!tdcs[i])
			goto free_tdcs;
	}
	if (!zalloc_cpumask_var(&packages, GFP_KERNEL))
		goto free_tdcs;

	cpus_read_lock();
	/* Every package needs an online CPU to program the key. */
	for_each_present_cpu(i)
		cpumask_set_cpu(topology_physical_package_id(i), packages);
	for_each_online_cpu(i)
		cpumask_clear_cpu(topology_physical_package_id(i), packages);
	if (!cpumask_empty(packages)) {
		ret = -EIO;
		pr_warn("kvm73: every package needs an online CPU to create a TD\n");
		goto free_packages;
	}

	mutex_lock(&kvm73_tdx_lock);
	vm->td.tdr_page = tdr;
	err = tdh_mng_create(&vm->td, (u16)vm->hkid);
	mutex_unlock(&kvm73_tdx_lock);
	if (err == TDX_RND_NO_ENTROPY) {
		ret = -EAGAIN;          /* user space may try again */
		goto free_packages;
	}
	if (TDX_BUG(vm, err, "TDH.MNG.CREATE")) {
		ret = -EIO;
		goto free_packages;
	}

	/* KEY.CONFIG in a kworker on the first online CPU of each package. */
	ret = 0;
	for_each_online_cpu(i) {
		if (cpumask_test_and_set_cpu(topology_physical_package_id(i), packages))
			continue;
		ret = smp_call_on_cpu(i, do_key_config, vm, true);
		if (ret)
			break;
	}
	cpus_read_unlock();
	free_cpumask_var(packages);
	if (ret) {
		i = 0;
		goto teardown;
	}

	vm->td.tdcs_pages = tdcs;
	for (i = 0; i < vm->td.tdcs_nr_pages; i++) {
		err = tdh_mng_addcx(&vm->td, tdcs[i]);
		if (err == TDX_RND_NO_ENTROPY) {
			ret = -EAGAIN;
			goto teardown;
		}
		if (TDX_BUG(vm, err, "TDH.MNG.ADDCX")) {
			ret = -EIO;
			goto teardown;
		}
	}

	err = tdh_mng_init(&vm->td, __pa(params), &rcx);
	if ((err & TDX_SEAMCALL_STATUS_MASK) == TDX_OPERAND_INVALID) {
		/* User space's operands: no WARN, the status goes back to it. */
		*hw_error = err;
		ret = -EINVAL;
		goto teardown;
	} else if (TDX_BUG(vm, err, "TDH.MNG.INIT")) {
		ret = -EIO;
		goto teardown;
	}
	return 0;

teardown:
	/* Pages never added are plain memory; the rest go the full way. */
	for (; i < vm->td.tdcs_nr_pages; i++) {
		if (tdcs[i]) {
			__free_page(tdcs[i]);
			tdcs[i] = NULL;
		}
	}
	if (!vm->td.tdcs_pages)
		kfree(tdcs);
	release_hkid(vm);
	reclaim_td_control_pages(vm);
	return ret;

free_packages:
	cpus_read_unlock();
	free_cpumask_var(packages);
free_tdcs:
	for (i = 0; i < vm->td.tdcs_nr_pages; i++)
		if (tdcs[i])
			__free_page(tdcs[i]);
	kfree(tdcs);
	vm->td.tdcs_pages = NULL;
free_tdr:
	if (tdr)
		__free_page(tdr);
	vm->td.tdr_page = NULL;
free_hkid:
	hkid_free(vm);
	return ret;
}

static u64 tdcs_exec_read(struct kvm73_vm *vm, u64 field)
{
	u64 data, err = tdh_mng_rd(&vm->td, field, &data);

	if (err) {
		pr_err("kvm73: TDH.MNG.RD 0x%llx failed: 0x%016llx\n", field, err);
		return 0;
	}
	return data;
}

int kvm73_init_vm(struct kvm73_vm *vm, const struct kvm73_init_vm *uapi,
		  unsigned long long *hw_error)
{
	struct kvm73_td_params *params;
	u64 hw = 0;
	int ret;

	*hw_error = 0;
	if (vm->state != KVM73_TD_UNINITIALIZED)
		return -EINVAL;
	params = kzalloc(sizeof(*params), GFP_KERNEL);
	if (!params)
		return -ENOMEM;
	ret = build_tdparams(vm, uapi, params);
	if (ret)
		goto out;
	vm->params = *params;
	ret = td_init(vm, params, &hw);
	*hw_error = hw;
	if (ret)
		goto out;

	vm->tsc_offset = tdcs_exec_read(vm, TDCS_TSC_OFFSET);
	vm->tsc_multiplier = tdcs_exec_read(vm, TDCS_TSC_MULTIPLIER);
	vm->attributes = params->attributes;
	vm->xfam = params->xfam;
	vm->state = KVM73_TD_INITIALIZED;
out:
	kfree(params);
	return ret;
}

/* ---- vCPUs ---------------------------------------------------------------------- */

int kvm73_create_vcpu(struct kvm73_vm *vm, int cpu)
{
	struct kvm73_vcpu *v;

	if (vm->state != KVM73_TD_INITIALIZED)
		return -EIO;
	if (vm->nr_vcpus >= vm->max_vcpus)
		return -EINVAL;
	if (vm->nr_vcpus >= KVM73_MAX_VCPUS)
		return -ENOMEM;         /* this model's own table is full */
	v = &vm->vcpu[vm->nr_vcpus];
	memset(v, 0, sizeof(*v));
	v->pi_desc = kzalloc(sizeof(*v->pi_desc), GFP_KERNEL);
	if (!v->pi_desc)
		return -ENOMEM;
	/* Notification vector, suppress-notification set until the vCPU runs. */
	v->pi_desc->control = ((u64)POSTED_INTR_VECTOR << 16) | BIT_ULL(1);
	v->cpu = -1;
	v->thread_cpu = cpu;
	return vm->nr_vcpus++;
}

void kvm73_vcpu_migrate(struct kvm73_vm *vm, int vcpu, int cpu)
{
	vm->vcpu[vcpu].thread_cpu = cpu;
}

static void vmcs_write(struct kvm73_vm *vm, struct kvm73_vcpu *v, u64 field, u64 val, u64 mask)
{
	u64 err = tdh_vp_wr(&v->vp, field, val, mask);

	TDX_BUG(vm, err, "TDH.VP.WR");
}

/* tdx_td_vcpu_init() + the VMCS writes of tdx_vcpu_init(). */
static int init_vcpu_fn(struct kvm73_vm *vm, struct kvm73_vcpu *v, void *arg)
{
	u64 rcx = *(u64 *)arg, err;
	struct page *page;
	int i, ret;

	if (v->initialized)
		return -EINVAL;
	page = alloc_page(GFP_KERNEL_ACCOUNT);
	if (!page)
		return -ENOMEM;
	v->vp.tdvpr_page = page;
	v->vp.tdvpr_pa = page_to_phys(page);
	v->vp.tdcx_pages = kcalloc(vm->td.tdcx_nr_pages, sizeof(*v->vp.tdcx_pages),
				   GFP_KERNEL_ACCOUNT);
	if (!v->vp.tdcx_pages) {
		ret = -ENOMEM;
		goto free_tdvpr;
	}
	for (i = 0; i < vm->td.tdcx_nr_pages; i++) {
		page = alloc_page(GFP_KERNEL_ACCOUNT);
		if (!page) {
			ret = -ENOMEM;
			goto free_tdcx;
		}
		v->vp.tdcx_pages[i] = page;
	}

	err = tdh_vp_create(&vm->td, &v->vp);
	if (TDX_BUG(vm, err, "TDH.VP.CREATE")) {
		ret = -EIO;
		goto free_tdcx;
	}
	for (i = 0; i < vm->td.tdcx_nr_pages; i++) {
		err = tdh_vp_addcx(&v->vp, v->vp.tdcx_pages[i]);
		if (TDX_BUG(vm, err, "TDH.VP.ADDCX")) {
			/* Added pages go back at vCPU free; the rest now. */
			for (; i < vm->td.tdcx_nr_pages; i++) {
				__free_page(v->vp.tdcx_pages[i]);
				v->vp.tdcx_pages[i] = NULL;
			}
			return -EIO;
		}
	}
	/* Under the MMU write lock in KVM; the vCPU id is its index. */
	err = tdh_vp_init(&v->vp, rcx, (u32)(v - vm->vcpu));
	if (TDX_BUG(vm, err, "TDH.VP.INIT"))
		return -EIO;

	vmcs_write(vm, v, VMCS_POSTED_INTR_NV, POSTED_INTR_VECTOR, GENMASK_ULL(15, 0));
	vmcs_write(vm, v, VMCS_POSTED_INTR_DESC_ADDR, __pa(v->pi_desc), GENMASK_ULL(63, 0));
	vmcs_write(vm, v, VMCS_PIN_BASED_CONTROLS, PIN_BASED_POSTED_INTR, PIN_BASED_POSTED_INTR);
	v->initialized = true;
	return 0;

free_tdcx:
	for (i = 0; i < vm->td.tdcx_nr_pages; i++) {
		if (v->vp.tdcx_pages[i])
			__free_page(v->vp.tdcx_pages[i]);
		v->vp.tdcx_pages[i] = NULL;
	}
	kfree(v->vp.tdcx_pages);
	v->vp.tdcx_pages = NULL;
free_tdvpr:
	__free_page(v->vp.tdvpr_page);
	v->vp.tdvpr_page = NULL;
	v->vp.tdvpr_pa = 0;
	return ret;
}

int kvm73_init_vcpu(struct kvm73_vm *vm, int vcpu, unsigned long long rcx)
{
	u64 r = rcx;

	if (!hkid_assigned(vm) || vm->state == KVM73_TD_RUNNABLE)
		return -EINVAL;
	return vcpu_ioctl(vm, vcpu, init_vcpu_fn, &r);
}

/* ---- the mirror S-EPT ------------------------------------------------------------ */

/* Bytes a pg_level's entry maps: 2 -> 2 MiB, 3 -> 1 GiB, 4 -> 512 GiB. */
static u64 level_span(int level)
{
	return PAGE_SIZE << (9 * (level - 1));
}

static struct kvm73_sept *sept_find(struct kvm73_vm *vm, u64 gpa, int level)
{
	u64 base = gpa & ~(level_span(level) - 1);

	for (int i = 0; i < vm->nr_sept; i++)
		if (vm->sept[i].page && vm->sept[i].level == level && vm->sept[i].gpa == base)
			return &vm->sept[i];
	return NULL;
}

/* Link the missing S-EPT pages above a 4K leaf, top-down. */
static int sept_link(struct kvm73_vm *vm, u64 gpa)
{
	u64 entry, level_state, err;

	for (int level = PG_LEVEL_512G; level > PG_LEVEL_4K; level--) {
		struct kvm73_sept *s;
		struct page *page;
		u64 base = gpa & ~(level_span(level) - 1);

		if (sept_find(vm, gpa, level))
			continue;
		if (vm->nr_sept >= KVM73_MAX_SEPT)
			return -ENOMEM;
		page = alloc_page(GFP_KERNEL);
		if (!page)
			return -ENOMEM;
		err = tdh_mem_sept_add(&vm->td, base, level, page, &entry, &level_state);
		if (operand_busy(err)) {
			__free_page(page);
			return -EBUSY;
		}
		if (TDX_BUG(vm, err, "TDH.MEM.SEPT.ADD")) {
			__free_page(page);
			return -EIO;
		}
		s = &vm->sept[vm->nr_sept++];
		s->gpa = base;
		s->level = level;
		s->page = page;
	}
	return 0;
}

static struct kvm73_private *priv_find(struct kvm73_vm *vm, u64 gpa)
{
	for (int i = 0; i < vm->nr_priv; i++)
		if (vm->priv[i].page && vm->priv[i].gpa == gpa)
			return &vm->priv[i];
	return NULL;
}

/* The guest_memfd page backing gpa (allocated on first use). */
static struct kvm73_private *gmem_get(struct kvm73_vm *vm, u64 gpa)
{
	struct kvm73_private *p = priv_find(vm, gpa);

	if (p)
		return p;
	if (vm->nr_priv >= KVM73_MAX_PRIVATE)
		return NULL;
	p = &vm->priv[vm->nr_priv];
	p->page = alloc_page(GFP_KERNEL);
	if (!p->page)
		return NULL;
	p->gpa = gpa;
	p->mapped = false;
	vm->nr_priv++;
	return p;
}

/* The leaf: PAGE.ADD while the image is built, PAGE.AUG once runnable. */
static int map_leaf(struct kvm73_vm *vm, struct kvm73_private *p)
{
	u64 entry, level_state, err;
	const char *what;

	if (vm->state != KVM73_TD_RUNNABLE) {
		if (vm_bug_on(vm, !vm->page_add_src, "PAGE.ADD without a source", 0))
			return -EIO;
		err = tdh_mem_page_add(&vm->td, p->gpa, page_to_pfn(p->page), vm->page_add_src,
				       &entry, &level_state);
		what = "TDH.MEM.PAGE.ADD";
	} else {
		err = tdh_mem_page_aug(&vm->td, p->gpa, PG_LEVEL_4K, page_to_pfn(p->page),
				       &entry, &level_state);
		what = "TDH.MEM.PAGE.AUG";
	}
	if (operand_busy(err))
		return -EBUSY;
	if (TDX_BUG(vm, err, what))
		return -EIO;
	p->mapped = true;
	return 0;
}

/* kvm_tdp_map_page() for a private GPA. */
static int map_private(struct kvm73_vm *vm, u64 gpa)
{
	struct kvm73_private *p;
	int ret = sept_link(vm, gpa);

	if (ret)
		return ret;
	p = gmem_get(vm, gpa);
	if (!p)
		return -ENOMEM;
	if (p->mapped)
		return 0;
	return map_leaf(vm, p);
}

struct mem_region_arg {
	u64 gpa;
	const void *src;
	int measure;
};

/* kvm_gmem_populate() + tdx_gmem_post_populate() for one page. */
static int init_mem_region_fn(struct kvm73_vm *vm, struct kvm73_vcpu *v, void *p)
{
	struct mem_region_arg *a = p;
	u64 entry, level_state, err;
	struct page *src;
	int ret;

	if (!v->initialized || vm->state == KVM73_TD_RUNNABLE)
		return -EINVAL;
	if (a->gpa & ~PAGE_MASK)
		return -EINVAL;
	src = alloc_page(GFP_KERNEL);           /* the pinned user source page */
	if (!src)
		return -ENOMEM;
	memcpy(page_address(src), a->src, PAGE_SIZE);
	vm->page_add_src = src;
	ret = map_private(vm, a->gpa);
	vm->page_add_src = NULL;
	__free_page(src);
	if (ret || !a->measure)
		return ret;
	for (u64 off = 0; off < PAGE_SIZE; off += EXTENDMR_CHUNK) {
		err = tdh_mr_extend(&vm->td, a->gpa + off, &entry, &level_state);
		if (TDX_BUG(vm, err, "TDH.MR.EXTEND"))
			return -EIO;
	}
	return 0;
}

int kvm73_init_mem_region(struct kvm73_vm *vm, int vcpu, unsigned long long gpa,
			  const void *src, int measure)
{
	struct mem_region_arg a = { .gpa = gpa, .src = src, .measure = measure };

	if (!hkid_assigned(vm) || vm->state == KVM73_TD_RUNNABLE)
		return -EINVAL;
	return vcpu_ioctl(vm, vcpu, init_mem_region_fn, &a);
}

int kvm73_finalize(struct kvm73_vm *vm, unsigned long long *hw_error)
{
	u64 err;

	*hw_error = 0;
	if (!hkid_assigned(vm) || vm->state == KVM73_TD_RUNNABLE)
		return -EINVAL;
	err = tdh_mr_finalize(&vm->td);
	*hw_error = err;
	if (operand_busy(err))
		return -EBUSY;
	if (TDX_BUG(vm, err, "TDH.MR.FINALIZE"))
		return -EIO;
	vm->state = KVM73_TD_RUNNABLE;
	return 0;
}

struct fault_arg {
	u64 gpa;
	int tries;
};

/* The EPT-violation handler: the fault is taken again while KVM answers
 * RET_PF_RETRY (-EBUSY from the module's contention). */
static int fault_fn(struct kvm73_vm *vm, struct kvm73_vcpu *v, void *p)
{
	struct fault_arg *a = p;
	int ret;

	(void)v;
	if (vm->state != KVM73_TD_RUNNABLE)
		return -EINVAL;
	do {
		a->tries++;
		ret = map_private(vm, a->gpa & PAGE_MASK);
	} while (ret == -EBUSY && a->tries < FAULT_RETRIES);
	return ret;
}

int kvm73_fault_private(struct kvm73_vm *vm, int vcpu, unsigned long long gpa, int *tries)
{
	struct fault_arg a = { .gpa = gpa };
	int ret = vcpu_ioctl(vm, vcpu, fault_fn, &a);

	*tries = a.tries;
	return ret;
}

/* ---- KVM_RUN ------------------------------------------------------------------------ */

static_assert(sizeof(struct kvm73_vp_regs) == sizeof(struct tdx_module_args));

struct run_arg {
	struct kvm73_vp_regs *regs;
	u64 status;
};

/* tdx_vcpu_pre_run() + tdx_vcpu_run(): the entry itself runs with IRQs off,
 * as in vcpu_enter_guest(); the wrapper fills RCX with the TDVPR. */
static int run_fn(struct kvm73_vm *vm, struct kvm73_vcpu *v, void *p)
{
	struct run_arg *a = p;
	struct tdx_module_args args;

	if (vm->state != KVM73_TD_RUNNABLE || !v->initialized)
		return -EINVAL;
	memcpy(&args, a->regs, sizeof(args));
	local_irq_disable();
	a->status = tdh_vp_enter(&v->vp, &args);
	local_irq_enable();
	memcpy(a->regs, &args, sizeof(args));
	if (vm_bug_on(vm, (a->status & TDX_SW_ERROR) == TDX_SW_ERROR, "TDH.VP.ENTER", a->status))
		return -EIO;
	return 0;
}

int kvm73_vcpu_run(struct kvm73_vm *vm, int vcpu, struct kvm73_vp_regs *regs,
		   unsigned long long *status)
{
	struct run_arg a = { .regs = regs };
	int ret;

	if (!hkid_assigned(vm))
		return -EINVAL;
	ret = vcpu_ioctl(vm, vcpu, run_fn, &a);
	*status = a.status;
	return ret;
}

/* ---- zapping ------------------------------------------------------------------------ */

/* BLOCK / TRACK / REMOVE: on contention, kick the vCPUs out and try once more. */
#define no_vcpus(vm, call) ({                           \
	u64 __e = (call);                               \
	if (operand_busy(__e)) {                        \
		kick_all_vcpus(vm);                     \
		__e = (call);                           \
	}                                               \
	__e;                                            \
})

static void track(struct kvm73_vm *vm)
{
	u64 err;

	if (vm->state != KVM73_TD_RUNNABLE)
		return;                 /* no vCPU has run: nothing to track */
	err = no_vcpus(vm, tdh_mem_track(&vm->td));
	TDX_BUG(vm, err, "TDH.MEM.TRACK");
	kick_all_vcpus(vm);
}

/* tdx_sept_remove_leaf_spte() under the MMU write lock. */
static int remove_leaf(struct kvm73_vm *vm, struct kvm73_private *p)
{
	u64 entry, level_state, err;

	if (vm_bug_on(vm, !hkid_assigned(vm), "zap without an HKID", 0))
		return -EIO;
	err = no_vcpus(vm, tdh_mem_range_block(&vm->td, p->gpa, PG_LEVEL_4K, &entry, &level_state));
	if (TDX_BUG(vm, err, "TDH.MEM.RANGE.BLOCK"))
		return -EIO;
	track(vm);
	err = no_vcpus(vm, tdh_mem_page_remove(&vm->td, p->gpa, PG_LEVEL_4K, &entry, &level_state));
	if (TDX_BUG(vm, err, "TDH.MEM.PAGE.REMOVE"))
		return -EIO;
	err = tdh_phymem_page_wbinvd_hkid((u16)vm->hkid, page_to_pfn(p->page));
	if (TDX_BUG(vm, err, "TDH.PHYMEM.PAGE.WBINVD"))
		return -EIO;
	tdx_quirk_reset_paddr(page_to_phys(p->page), PAGE_SIZE);
	p->mapped = false;
	return 0;
}

/* A zapped page goes back to guest_memfd (freed here). */
static int zap(struct kvm73_vm *vm, struct kvm73_private *p)
{
	int ret = 0;

	if (p->mapped)
		ret = remove_leaf(vm, p);
	if (ret)
		return ret;             /* still the TD's: leaked */
	__free_page(p->page);
	p->page = NULL;
	return 0;
}

int kvm73_zap(struct kvm73_vm *vm, unsigned long long gpa)
{
	struct kvm73_private *p = priv_find(vm, gpa);

	if (!p)
		return -ENOENT;
	return zap(vm, p);
}

/* ---- teardown ----------------------------------------------------------------------- */

static void probe(struct kvm73_vm *vm, int point)
{
	if (vm->probe)
		vm->probe(vm, point, vm->probe_arg);
}

/* IPI on one CPU per package: CACHE.WB until it completes. */
static void cache_wb_fn(void *p)
{
	static bool once;
	u64 err = 0;

	(void)p;
	for (int i = CACHE_WB_RETRIES; i > 0; i--) {
		err = tdh_phymem_cache_wb(err != 0);
		if (err == TDX_INTERRUPTED_RESUMABLE)
			continue;
		if (err == TDX_NO_HKID_READY_TO_WBCACHE)
			err = TDX_SUCCESS;
		break;
	}
	bug_on_once(&once, err, "TDH.PHYMEM.CACHE.WB");
}

/* tdx_mmu_release_hkid(). */
static void release_hkid(struct kvm73_vm *vm)
{
	cpumask_var_t packages, targets;
	u64 err;
	int i;

	if (!hkid_assigned(vm))
		return;
	zalloc_cpumask_var(&packages, GFP_KERNEL);
	zalloc_cpumask_var(&targets, GFP_KERNEL);
	cpus_read_lock();
	for (i = 0; i < vm->nr_vcpus; i++)
		flush_vp_on_cpu(vm, &vm->vcpu[i]);

	mutex_lock(&kvm73_tdx_lock);
	err = tdh_mng_vpflushdone(&vm->td);
	if (err == TDX_FLUSHVP_NOT_DONE)
		goto out;               /* the HKID leaks, quietly */
	if (TDX_BUG(vm, err, "TDH.MNG.VPFLUSHDONE")) {
		pr_err("kvm73: HKID %d is leaked\n", vm->hkid);
		goto out;
	}
	probe(vm, KVM73_AFTER_VPFLUSHDONE);

	for_each_online_cpu(i) {
		if (cpumask_test_and_set_cpu(topology_physical_package_id(i), packages))
			continue;
		cpumask_set_cpu(i, targets);
	}
	on_each_cpu_mask(targets, cache_wb_fn, vm, true);

	err = tdh_mng_key_freeid(&vm->td);
	if (TDX_BUG(vm, err, "TDH.MNG.KEY.FREEID")) {
		pr_err("kvm73: HKID %d is leaked\n", vm->hkid);
	} else {
		hkid_free(vm);
		probe(vm, KVM73_AFTER_FREEID);
	}
out:
	mutex_unlock(&kvm73_tdx_lock);
	cpus_read_unlock();
	free_cpumask_var(targets);
	free_cpumask_var(packages);
}

/* tdx_vcpu_free(). */
static void vcpu_free(struct kvm73_vm *vm, struct kvm73_vcpu *v)
{
	int i;

	if (v->cpu != -1) {
		vm_bug_on(vm, v->initialized, "vCPU freed while loaded", 0);
		flush_vp_on_cpu(vm, v);
		return;
	}
	if (hkid_assigned(vm))
		return;                 /* the HKID leaked: so do the pages */
	if (v->vp.tdcx_pages) {
		for (i = 0; i < vm->td.tdcx_nr_pages; i++)
			if (v->vp.tdcx_pages[i] && reclaim_control_page(vm, v->vp.tdcx_pages[i]))
				v->vp.tdcx_pages[i] = NULL;
	}
	if (v->vp.tdvpr_page && reclaim_control_page(vm, v->vp.tdvpr_page)) {
		v->vp.tdvpr_page = NULL;
		v->vp.tdvpr_pa = 0;
	}
	v->initialized = false;
}

/* The TDP MMU frees the mirror tables bottom-up once the HKID is gone. */
static void free_sept(struct kvm73_vm *vm)
{
	for (int i = vm->nr_sept - 1; i >= 0; i--) {
		struct kvm73_sept *s = &vm->sept[i];

		if (!s->page)
			continue;
		if (vm_bug_on(vm, hkid_assigned(vm), "S-EPT freed with an HKID", 0) ||
		    reclaim_page(vm, s->page, true))
			continue;       /* leaked */
		__free_page(s->page);
		s->page = NULL;
	}
}

/* tdx_reclaim_td_control_pages(). */
static void reclaim_td_control_pages(struct kvm73_vm *vm)
{
	u64 err;

	if (hkid_assigned(vm))
		return;
	if (vm->td.tdcs_pages) {
		bool all = true;

		for (int i = 0; i < vm->td.tdcs_nr_pages; i++) {
			if (!vm->td.tdcs_pages[i])
				continue;
			if (reclaim_control_page(vm, vm->td.tdcs_pages[i]))
				vm->td.tdcs_pages[i] = NULL;
			else
				all = false;
		}
		/* KVM drops the array either way; we keep it while a page leaks. */
		if (all) {
			kfree(vm->td.tdcs_pages);
			vm->td.tdcs_pages = NULL;
		}
	}
	if (!vm->td.tdr_page)
		return;
	if (reclaim_page(vm, vm->td.tdr_page, false))
		return;
	/* The module may hold TDR lines through the global KeyID. */
	err = tdh_phymem_page_wbinvd_tdr(&vm->td);
	if (TDX_BUG(vm, err, "TDH.PHYMEM.PAGE.WBINVD"))
		return;
	tdx_quirk_reset_paddr(page_to_phys(vm->td.tdr_page), PAGE_SIZE);
	__free_page(vm->td.tdr_page);
	vm->td.tdr_page = NULL;
}

void kvm73_destroy(struct kvm73_vm *vm)
{
	int i;

	/* guest_memfd release: every private page, with the HKID still there. */
	for (i = 0; i < vm->nr_priv; i++)
		if (vm->priv[i].page && hkid_assigned(vm))
			zap(vm, &vm->priv[i]);
	/* kvm_destroy_vm(): vm_pre_destroy, vCPUs, MMU, vm_destroy. */
	release_hkid(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_free(vm, &vm->vcpu[i]);
	free_sept(vm);
	reclaim_td_control_pages(vm);
	vm->state = KVM73_TD_UNINITIALIZED;
}

/* Drops the bookkeeping; pages the module still owns stay leaked. */
void kvm73_vm_free(struct kvm73_vm *vm)
{
	bool held;
	int i, j;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct kvm73_vcpu *v = &vm->vcpu[i];

		held = false;
		for (j = 0; v->vp.tdcx_pages && j < vm->td.tdcx_nr_pages; j++)
			held |= v->vp.tdcx_pages[j] != NULL;
		if (!held)
			kfree(v->vp.tdcx_pages);
		kfree(v->pi_desc);
	}
	held = false;
	for (i = 0; vm->td.tdcs_pages && i < vm->td.tdcs_nr_pages; i++)
		held |= vm->td.tdcs_pages[i] != NULL;
	if (!held)
		kfree(vm->td.tdcs_pages);
	kfree(vm);
}

void kvm73_set_probe(struct kvm73_vm *vm, kvm73_probe_fn fn, void *arg)
{
	vm->probe = fn;
	vm->probe_arg = arg;
}

/* ---- state for checks ------------------------------------------------------------------ */

int kvm73_hkid(const struct kvm73_vm *vm) { return vm->hkid; }
int kvm73_state(const struct kvm73_vm *vm) { return vm->state; }
int kvm73_bugged(const struct kvm73_vm *vm) { return vm->bugged; }
unsigned kvm73_kicks(const struct kvm73_vm *vm) { return vm->kicks; }
int kvm73_vcpu_cpu(const struct kvm73_vm *vm, int vcpu) { return vm->vcpu[vcpu].cpu; }
unsigned long long kvm73_tsc_offset(const struct kvm73_vm *vm) { return vm->tsc_offset; }
unsigned long long kvm73_tsc_multiplier(const struct kvm73_vm *vm) { return vm->tsc_multiplier; }

unsigned long long kvm73_pi_desc_pa(const struct kvm73_vm *vm, int vcpu)
{
	return __pa(vm->vcpu[vcpu].pi_desc);
}

void kvm73_tdparams(const struct kvm73_vm *vm, struct kvm73_tdparams *o)
{
	const struct kvm73_td_params *p = &vm->params;

	memset(o, 0, sizeof(*o));
	o->attributes = p->attributes;
	o->xfam = p->xfam;
	o->eptp_controls = p->eptp_controls;
	o->config_flags = p->config_flags;
	o->max_vcpus = p->max_vcpus;
	o->tsc_frequency = p->tsc_frequency;
	o->ncpuid = sysinfo()->td_conf.num_cpuid_config;
	for (unsigned int i = 0; i < o->ncpuid && i < KVM73_MAX_CPUID; i++) {
		o->cpuid[i][0] = p->cpuid[i].eax;
		o->cpuid[i][1] = p->cpuid[i].ebx;
		o->cpuid[i][2] = p->cpuid[i].ecx;
		o->cpuid[i][3] = p->cpuid[i].edx;
	}
}

static void add_page(struct kvm73_page *out, unsigned max, unsigned *n, struct page *pg,
		     u64 gpa, int kind, int index)
{
	if (!pg)
		return;
	if (*n < max)
		out[*n] = (struct kvm73_page){ .pa = page_to_phys(pg), .gpa = gpa,
					       .kind = kind, .index = index };
	(*n)++;
}

unsigned kvm73_pages(const struct kvm73_vm *vm, struct kvm73_page *out, unsigned max)
{
	unsigned n = 0;
	int i, j;

	add_page(out, max, &n, vm->td.tdr_page, 0, KVM73_PG_TDR, 0);
	for (i = 0; vm->td.tdcs_pages && i < vm->td.tdcs_nr_pages; i++)
		add_page(out, max, &n, vm->td.tdcs_pages[i], 0, KVM73_PG_TDCS, i);
	for (i = 0; i < vm->nr_vcpus; i++) {
		const struct tdx_vp *vp = &vm->vcpu[i].vp;

		add_page(out, max, &n, vp->tdvpr_page, 0, KVM73_PG_TDVPR, i);
		for (j = 0; vp->tdcx_pages && j < vm->td.tdcx_nr_pages; j++)
			add_page(out, max, &n, vp->tdcx_pages[j], 0, KVM73_PG_TDCX, i);
	}
	for (i = 0; i < vm->nr_sept; i++)
		add_page(out, max, &n, vm->sept[i].page, vm->sept[i].gpa, KVM73_PG_SEPT,
			 vm->sept[i].level);
	for (i = 0; i < vm->nr_priv; i++)
		add_page(out, max, &n, vm->priv[i].page, vm->priv[i].gpa, KVM73_PG_PRIVATE, i);
	return n;
}

void kvm73_vcpu_set_cpu(struct kvm73_vm *vm, int vcpu, int cpu)
{
	vm->vcpu[vcpu].cpu = cpu;
}

unsigned long long kvm73_reclaim_pa(unsigned long long pa, unsigned long long out[3])
{
	u64 t, o, s, err = tdh_phymem_page_reclaim((struct page *)__va(pa), &t, &o, &s);

	out[0] = t;
	out[1] = o;
	out[2] = s;
	return err;
}

unsigned long long kvm73_raw_page_aug(struct kvm73_vm *vm, unsigned long long gpa,
				      unsigned long long pa, unsigned long long ext[2])
{
	u64 e1, e2, err = tdh_mem_page_aug(&vm->td, gpa, PG_LEVEL_4K, pa >> PAGE_SHIFT, &e1, &e2);

	ext[0] = e1;
	ext[1] = e2;
	return err;
}
