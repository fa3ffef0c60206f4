/*
 * The KVM side of the Linux 7.3 suite: our own code playing KVM's TDX part
 * (arch/x86/kvm/vmx/tdx.c is never compiled). It is a kernel-mode
 * translation unit that calls 7.3's unmodified tdh_*() wrappers in the order
 * KVM 7.3 does (tdx-abi.md 6.3, 6.4): KVM_TDX_INIT_VM, KVM_TDX_INIT_VCPU,
 * KVM_TDX_INIT_MEM_REGION, KVM_TDX_FINALIZE_VM, private EPT faults, zaps and
 * the VM teardown. Like KVM it returns -errno, marks the VM bugged where KVM
 * would (one WARN per VM), and leaks what KVM leaks.
 *
 * Plain C types only: the scenarios (user-space code) include it too.
 */
#ifndef KVM73_H
#define KVM73_H

#define KVM73_MAX_VCPUS    8
#define KVM73_MAX_SEPT     64
#define KVM73_MAX_PRIVATE  64
#define KVM73_MAX_CPUID    48      /* TD_PARAMS has room for 48 CPUID values */

struct kvm73_vm;

/* KVM_TDX_CAPABILITIES / KVM_TDX_INIT_VM (the user-space view). */
struct kvm73_cpuid_entry {
	unsigned int function, index;
	unsigned int eax, ebx, ecx, edx;
};
struct kvm73_caps {
	unsigned long long supported_attrs, supported_xfam;
	unsigned int nent;
	struct kvm73_cpuid_entry entries[KVM73_MAX_CPUID];
};
struct kvm73_init_vm {
	unsigned long long attributes, xfam;
	unsigned int nent;
	struct kvm73_cpuid_entry entries[KVM73_MAX_CPUID];
};

/* TD_PARAMS as KVM built them for TDH.MNG.INIT. */
struct kvm73_tdparams {
	unsigned long long attributes, xfam, eptp_controls, config_flags;
	unsigned int max_vcpus, tsc_frequency, ncpuid;
	unsigned int cpuid[KVM73_MAX_CPUID][4];         /* eax, ebx, ecx, edx */
};

/* Every page the VM handed the module (or still holds). */
enum kvm73_page_kind {
	KVM73_PG_TDR, KVM73_PG_TDCS, KVM73_PG_TDVPR, KVM73_PG_TDCX, KVM73_PG_SEPT,
	KVM73_PG_PRIVATE,
};
struct kvm73_page {
	unsigned long long pa;
	unsigned long long gpa;         /* S-EPT: GPA of the linking entry; private: GPA */
	int kind;
	int index;                      /* TDCS / TDCX index, vCPU, S-EPT pg_level */
};

/* KVM's kvm_tdx->state. */
#define KVM73_TD_UNINITIALIZED 0
#define KVM73_TD_INITIALIZED   1
#define KVM73_TD_RUNNABLE      2

/* Where the teardown lets a scenario look in (the probe runs on the
 * teardown's CPU, with KVM's locks held). */
enum kvm73_point {
	KVM73_AFTER_VPFLUSHDONE,        /* only if VPFLUSHDONE succeeded */
	KVM73_AFTER_FREEID,             /* only if KEY.FREEID succeeded */
};
typedef void (*kvm73_probe_fn)(struct kvm73_vm *vm, int point, void *arg);

/* KVM_CREATE_VM(KVM_X86_TDX_VM): NULL if out of memory. */
struct kvm73_vm *kvm73_vm_create(void);
void kvm73_caps(struct kvm73_caps *out);
/* KVM_TDX_INIT_VM: 0 or -errno; *hw_error = the status user space sees. */
int kvm73_init_vm(struct kvm73_vm *vm, const struct kvm73_init_vm *uapi,
		  unsigned long long *hw_error);
/* KVM_CREATE_VCPU whose thread runs on cpu: the vCPU index or -errno. */
int kvm73_create_vcpu(struct kvm73_vm *vm, int cpu);
/* The vCPU's thread moves to another CPU (next ioctl loads it there). */
void kvm73_vcpu_migrate(struct kvm73_vm *vm, int vcpu, int cpu);
/* KVM_TDX_INIT_VCPU (initial RCX). */
int kvm73_init_vcpu(struct kvm73_vm *vm, int vcpu, unsigned long long rcx);
/* KVM_TDX_INIT_MEM_REGION of one page from src (4096 bytes). */
int kvm73_init_mem_region(struct kvm73_vm *vm, int vcpu, unsigned long long gpa,
			  const void *src, int measure);
/* KVM_TDX_FINALIZE_VM; *hw_error as for init_vm. */
int kvm73_finalize(struct kvm73_vm *vm, unsigned long long *hw_error);
/* A private EPT violation of vcpu at gpa, retried while KVM answers
 * RET_PF_RETRY (-EBUSY); *tries = faults taken. */
int kvm73_fault_private(struct kvm73_vm *vm, int vcpu, unsigned long long gpa, int *tries);
/* KVM's vp_enter_args: the GPRs TDH.VP.ENTER takes and gives back, in
 * struct tdx_module_args order. After a TDVMCALL exit RCX is the guest's
 * GPR mask and the selected GPRs hold its values; KVM writes its reply
 * (R10 = status, R11 = value, ...) into the same struct for the next entry. */
struct kvm73_vp_regs {
	unsigned long long rcx, rdx, r8, r9, r10, r11, r12, r13, r14, r15, rbx, rdi, rsi;
};
/* KVM_RUN for one exit: vcpu is loaded on its thread's CPU and entered with
 * IRQs off through tdh_vp_enter() with its vp_enter_args (*regs going in
 * and coming back). 0 with *status = the SEAMCALL's RAX, or -errno. */
int kvm73_vcpu_run(struct kvm73_vm *vm, int vcpu, struct kvm73_vp_regs *regs,
		   unsigned long long *status);
/* Conversion to shared / hole punch: the private page at gpa is zapped. */
int kvm73_zap(struct kvm73_vm *vm, unsigned long long gpa);
/* Destroying the VM as KVM 7.3 does: the guest_memfd release zaps every
 * private page, then kvm_destroy_vm(): release the HKID, free the vCPUs,
 * free the S-EPT pages, reclaim TDCS and TDR. The struct stays for checks;
 * kvm73_vm_free() drops it. */
void kvm73_destroy(struct kvm73_vm *vm);
void kvm73_vm_free(struct kvm73_vm *vm);

void kvm73_set_probe(struct kvm73_vm *vm, kvm73_probe_fn fn, void *arg);

/* State for checks. */
int kvm73_hkid(const struct kvm73_vm *vm);                   /* -1: none */
int kvm73_state(const struct kvm73_vm *vm);
int kvm73_bugged(const struct kvm73_vm *vm);
unsigned kvm73_kicks(const struct kvm73_vm *vm);             /* KVM_REQ_OUTSIDE_GUEST_MODE */
int kvm73_vcpu_cpu(const struct kvm73_vm *vm, int vcpu);     /* vcpu->cpu */
void kvm73_tdparams(const struct kvm73_vm *vm, struct kvm73_tdparams *out);
unsigned long long kvm73_tsc_offset(const struct kvm73_vm *vm);
unsigned long long kvm73_tsc_multiplier(const struct kvm73_vm *vm);
unsigned long long kvm73_pi_desc_pa(const struct kvm73_vm *vm, int vcpu);
unsigned kvm73_pages(const struct kvm73_vm *vm, struct kvm73_page *out, unsigned max);
/* KVM's own bug: it forgets where a vCPU is loaded (vcpu->cpu = cpu). */
void kvm73_vcpu_set_cpu(struct kvm73_vm *vm, int vcpu, int cpu);

/* The wrappers on bare physical addresses, for probes. */
unsigned long long kvm73_reclaim_pa(unsigned long long pa, unsigned long long out[3]);
unsigned long long kvm73_raw_page_aug(struct kvm73_vm *vm, unsigned long long gpa,
				      unsigned long long pa, unsigned long long ext[2]);

#endif
