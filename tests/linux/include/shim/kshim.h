/*
 * tdxsim Linux shim: the interface between kernel-mode translation units
 * (built with -nostdinc against tests/linux/include) and the shim runtime
 * (tests/linux/shim/runtime.c, a normal user-space file linked with
 * libtdxsim). Only plain C types appear here, so both sides can include it.
 *
 * Model: a kernel CPU is the tdxsim LP the calling thread is bound to;
 * kernel memory is simulated physical memory (virtual address = host
 * pointer into tdxsim's physical memory, __pa/__va through
 * tdxsim_ptr_to_pa/tdxsim_pa_to_ptr).
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <stddef.h>
#include <stdarg.h>

#define KSHIM_NR_CPUS   64
#define KSHIM_MAX_KEYIDS 2048

/* ---- CPUs ----------------------------------------------------------- */
struct kshim_cpumask {
	unsigned long bits[KSHIM_NR_CPUS / (8 * sizeof(unsigned long))];
};
extern struct kshim_cpumask kshim_online_mask;
extern struct kshim_cpumask kshim_possible_mask;
extern int kshim_nr_cpu_ids;

int kshim_cpu(void);                          /* smp_processor_id() */
int kshim_next_cpu(int cpu, const struct kshim_cpumask *m);
int kshim_cpu_package(int cpu);
int kshim_num_online(void);
void kshim_on_each_cpu(void (*fn)(void *), void *info, int wait);
int kshim_call_on_cpu(int cpu, int (*fn)(void *), void *arg);
int kshim_stop_machine(int (*fn)(void *), void *data);
/* IPI to the CPUs of a mask / to one CPU: fn with IRQs off, the thread
 * re-bound to each target in turn. */
void kshim_on_each_cpu_mask(const struct kshim_cpumask *m, void (*fn)(void *), void *info, int wait);
int kshim_call_function_single(int cpu, void (*fn)(void *), void *info, int wait);

/* ---- IRQ / preemption / lockdep-style assertions ---------------------- */
void kshim_local_irq_disable(void);
void kshim_local_irq_enable(void);
int kshim_irqs_disabled(void);
void kshim_preempt_disable(void);
void kshim_preempt_enable(void);
void kshim_might_sleep(const char *file, int line);
void kshim_assert_irqs_disabled(const char *file, int line);
void kshim_assert_preemption_disabled(const char *file, int line);
void kshim_assert_cpus_held(const char *file, int line);
void kshim_cpus_read_lock(void);
void kshim_cpus_read_unlock(void);
void kshim_get_online_mems(void);
void kshim_put_online_mems(void);

/* WARN*: counted; *once tells whether to print. */
void kshim_warn(const char *file, int line, const char *cond);
__attribute__((noreturn)) void kshim_bug(const char *file, int line, const char *cond);

/* ---- Locks ------------------------------------------------------------ */
struct kshim_lock {
	int locked;
	int depth_check;        /* non-zero: a mutex (may sleep) */
	const void *owner;      /* holder's thread identity */
};
void kshim_lock_acquire(struct kshim_lock *l, const char *file, int line);
void kshim_lock_release(struct kshim_lock *l, const char *file, int line);

/* ---- Memory: every allocation is simulated physical memory ----------- */
enum kshim_alloc_kind {
	KSHIM_KMALLOC = 0,
	KSHIM_PAGES_EXACT = 1,
	KSHIM_CONTIG = 2,
	KSHIM_PAGE = 3,         /* alloc_page() / __free_page() */
	KSHIM_NR_KINDS = 4,
};
void *kshim_alloc(unsigned long size, int zero, int kind, const char *file, int line);
void kshim_free(void *p, unsigned long size, int kind, const char *file, int line);
void kshim_free_pa(unsigned long long pa, unsigned long size, int kind, const char *file, int line);
unsigned long long kshim_pa(const void *p, const char *file, int line);
void *kshim_va(unsigned long long pa, const char *file, int line);
void *kshim_zero_page(void);
void kshim_movdir64b(void *dst, const void *src);
void kshim_clflush(void *p, unsigned int size);

/* memblock: the idx-th memory range; returns 0 if it exists. */
int kshim_mem_range(int idx, unsigned long *start_pfn, unsigned long *end_pfn, int *nid);

/* ---- printk ----------------------------------------------------------- */
int kshim_vprintk(const char *fmt, va_list ap);
__attribute__((format(printf, 1, 2))) int kshim_printk(const char *fmt, ...);

/* ---- CPU features, MSRs, caches, VMX ---------------------------------- */
#define KSHIM_NCAPS 128
/* Feature and bug numbers (indices into kshim_caps); the x86 family/model
 * encoding of boot_cpu_data.x86_vfm. */
#define KSHIM_FEAT_VMX 1
#define KSHIM_FEAT_XSAVE 2
#define KSHIM_FEAT_MOVDIR64B 3
#define KSHIM_FEAT_SELFSNOOP 4
#define KSHIM_FEAT_TDX_HOST_PLATFORM 5
#define KSHIM_FEAT_HYPERVISOR 6
#define KSHIM_FEAT_TDX_GUEST 7
#define KSHIM_BUG_TDX_PW_MCE 65
#define KSHIM_BUG_SEAMRET_INVD_VMCS 66
#define KSHIM_VFM(v, f, m) (((unsigned)(v) << 16) | ((unsigned)(f) << 8) | (unsigned)(m))
extern unsigned char kshim_caps[KSHIM_NCAPS];
struct kshim_cpuinfo {
	unsigned int x86_vfm;
	unsigned char x86;
	unsigned char x86_model;
	unsigned char x86_stepping;
	unsigned char x86_phys_bits;
};
extern struct kshim_cpuinfo boot_cpu_data;
int kshim_rdmsr(unsigned int msr, unsigned long long *val);
void kshim_wbinvd(void);
void kshim_wbinvd_on_all_cpus(void);
int kshim_virt_get_ref(int feat);
void kshim_virt_put_ref(int feat);
extern _Bool cache_state_incoherent[KSHIM_NR_CPUS];
/* tsc_khz: the platform's nominal TSC frequency. */
extern unsigned int kshim_tsc_khz;

/* ---- Hot-plug, notifiers, syscore ------------------------------------ */
int kshim_cpuhp_setup_state(int state, const char *name,
			    int (*startup)(unsigned int), int (*teardown)(unsigned int));
void kshim_cpuhp_remove_state(int state);

struct notifier_block {
	int (*notifier_call)(struct notifier_block *nb, unsigned long action, void *data);
	struct notifier_block *next;
	int priority;
};
struct memory_notify {
	unsigned long start_pfn;
	unsigned long nr_pages;
};
#define MEM_ONLINE        (1 << 0)
#define MEM_GOING_OFFLINE (1 << 1)
#define MEM_OFFLINE       (1 << 2)
#define MEM_GOING_ONLINE  (1 << 3)
#define NOTIFY_DONE 0x0000
#define NOTIFY_OK   0x0001
#define NOTIFY_BAD  0x8002
int kshim_register_memory_notifier(struct notifier_block *nb);

struct syscore_ops {
	int (*suspend)(void *data);
	void (*resume)(void *data);
	void (*shutdown)(void *data);
};
struct syscore {
	const struct syscore_ops *ops;
	void *data;
	struct syscore *next;
};
void kshim_register_syscore(struct syscore *sc);
void kshim_unregister_syscore(struct syscore *sc);

extern int kshim_hibernation_available;
extern int (*acpi_suspend_lowlevel)(void);

void kshim_sort(void *base, size_t num, size_t size,
		int (*cmp)(const void *, const void *),
		void (*swap)(void *, void *, int));
void *kshim_memchr_inv(const void *p, int c, size_t n);

#endif
