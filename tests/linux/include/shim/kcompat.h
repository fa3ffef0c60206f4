/*
 * tdxsim Linux shim: stand-ins for the kernel interfaces the host-side TDX
 * code (arch/x86/virt/vmx/tdx) uses, written for this project. Every stub
 * header under tests/linux/include/{linux,asm,vdso} includes this one file.
 * Kernel-mode translation units are compiled with -nostdinc: only the
 * compiler's own headers (stddef.h, stdarg.h) and this tree are visible.
 */
#ifndef KSHIM_KCOMPAT_H
#define KSHIM_KCOMPAT_H

#include <stddef.h>
#include <stdarg.h>

#include "shim/ktypes.h"
#include "shim/kshim.h"
#include <linux/const.h>   /* the kernel's own (fetched): _UL, _BITUL */

/* ---- names ------------------------------------------------------------ */
/*
 * Linux 7.3 exports its SEAMCALL wrappers as tdh_*(), the names tdxsim gives
 * its leaf handlers (seam/leaf/tdh_*.c, global symbols of libtdxsim.a). Linked
 * into one program, the kernel's definitions would take the dispatcher's
 * calls. Kernel-mode units therefore see the wrappers as kernel_tdh_*().
 */
#define tdh_vp_enter kernel_tdh_vp_enter
#define tdh_mng_addcx kernel_tdh_mng_addcx
#define tdh_mem_page_add kernel_tdh_mem_page_add
#define tdh_mem_sept_add kernel_tdh_mem_sept_add
#define tdh_vp_addcx kernel_tdh_vp_addcx
#define tdh_mem_page_aug kernel_tdh_mem_page_aug
#define tdh_mem_range_block kernel_tdh_mem_range_block
#define tdh_mng_key_config kernel_tdh_mng_key_config
#define tdh_mng_create kernel_tdh_mng_create
#define tdh_vp_create kernel_tdh_vp_create
#define tdh_mng_rd kernel_tdh_mng_rd
#define tdh_mr_extend kernel_tdh_mr_extend
#define tdh_mr_finalize kernel_tdh_mr_finalize
#define tdh_vp_flush kernel_tdh_vp_flush
#define tdh_mng_vpflushdone kernel_tdh_mng_vpflushdone
#define tdh_mng_key_freeid kernel_tdh_mng_key_freeid
#define tdh_mng_init kernel_tdh_mng_init
#define tdh_vp_rd kernel_tdh_vp_rd
#define tdh_vp_wr kernel_tdh_vp_wr
#define tdh_vp_init kernel_tdh_vp_init
#define tdh_phymem_page_reclaim kernel_tdh_phymem_page_reclaim
#define tdh_mem_track kernel_tdh_mem_track
#define tdh_mem_page_remove kernel_tdh_mem_page_remove
#define tdh_phymem_cache_wb kernel_tdh_phymem_cache_wb
#define tdh_phymem_page_wbinvd_tdr kernel_tdh_phymem_page_wbinvd_tdr
#define tdh_phymem_page_wbinvd_hkid kernel_tdh_phymem_page_wbinvd_hkid

/* ---- compiler --------------------------------------------------------- */
#define __init
#define __initdata
#define __exit
#define __ro_after_init
#define __read_mostly
#define __visible
#define __rcu
#define noinstr
#define __always_inline inline __attribute__((always_inline))
#define noinline __attribute__((noinline))
#define __noreturn __attribute__((noreturn))
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __maybe_unused __attribute__((unused))
#define __used __attribute__((used))
#define __must_check __attribute__((warn_unused_result))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __cleanup(fn) __attribute__((cleanup(fn)))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() __asm__ __volatile__("" ::: "memory")
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb() mb()
#define wmb() mb()
#define smp_mb() mb()
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) do { *(volatile __typeof__(x) *)&(x) = (v); } while (0)
#define cpu_relax() __builtin_ia32_pause()
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define static_assert(expr, ...) _Static_assert(expr, #expr)
#define DECLARE_FLEX_ARRAY(type, name) type name[]
#define KSHIM_CAT2(a, b) a##b
#define KSHIM_CAT(a, b) KSHIM_CAT2(a, b)
#define __UNIQUE_ID(p) KSHIM_CAT(__kshim_uid_##p##_, __COUNTER__)
#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif
#define IS_ENABLED(opt) (opt)
#define EXPORT_SYMBOL(s)
#define EXPORT_SYMBOL_GPL(s)
#define EXPORT_SYMBOL_FOR_KVM(s)
#define EXPORT_SYMBOL_FOR_MODULES(s, mods)
/* subsys_initcall(fn): expose fn to the harness as kshim_subsys_initcall. */
#define subsys_initcall(fn) int (*const kshim_subsys_initcall)(void) = fn
#define late_initcall(fn) int (*const kshim_late_initcall)(void) = fn

/* ---- bits ------------------------------------------------------------- */
#ifndef BIT
#define BIT(n) (1UL << (n))
#endif
#define BIT_ULL(n) (1ULL << (n))
#define GENMASK(h, l) ((~0UL << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l) ((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#define BITS_PER_LONG 64

/* ---- errno ------------------------------------------------------------ */
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

/* ---- string ----------------------------------------------------------- */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memmove(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
#define memchr_inv(p, c, n) kshim_memchr_inv((p), (c), (n))

/* ---- min/max, alignment, log2 ----------------------------------------- */
#define min(a, b) ({ __typeof__(a) __ka = (a); __typeof__(b) __kb = (b); __ka < __kb ? __ka : __kb; })
#define max(a, b) ({ __typeof__(a) __ka = (a); __typeof__(b) __kb = (b); __ka > __kb ? __ka : __kb; })
#define min_t(t, a, b) min((t)(a), (t)(b))
#define max_t(t, a, b) max((t)(a), (t)(b))
#define clamp(v, lo, hi) min(max(v, lo), hi)
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	unsigned long p = 1;
	while (p < n)
		p <<= 1;
	return p;
}
static inline int ilog2(unsigned long long n)
{
	return n ? 63 - __builtin_clzll(n) : -1;
}
#define is_power_of_2(n) ((n) != 0 && (((n) & ((n) - 1)) == 0))

/* ---- printk ------------------------------------------------------------ */
#define KERN_SOH "\001"
#define KERN_EMERG KERN_SOH "0"
#define KERN_ALERT KERN_SOH "1"
#define KERN_CRIT KERN_SOH "2"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"
#define KERN_CONT KERN_SOH "c"
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#define printk(...) kshim_printk(__VA_ARGS__)
#define pr_emerg(fmt, ...) printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...) printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...) printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...) printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...) printk(KERN_CONT fmt, ##__VA_ARGS__)
#define pr_err_ratelimited pr_err
#define pr_warn_ratelimited pr_warn
#define pr_info_ratelimited pr_info
#define pr_warn_once pr_warn
#define pr_err_once pr_err
#define pr_info_once pr_info

/* ---- WARN / BUG: counted by the runtime -------------------------------- */
#define WARN_ON(cond) ({ int __kw = !!(cond); if (__kw) kshim_warn(__FILE__, __LINE__, #cond); __kw; })
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define WARN(cond, fmt, ...) ({ int __kw = !!(cond); if (__kw) { printk(KERN_WARNING fmt, ##__VA_ARGS__); kshim_warn(__FILE__, __LINE__, #cond); } __kw; })
#define WARN_ONCE(cond, fmt, ...) WARN(cond, fmt, ##__VA_ARGS__)
#define BUG() kshim_bug(__FILE__, __LINE__, "BUG()")
#define BUG_ON(cond) do { if (cond) kshim_bug(__FILE__, __LINE__, #cond); } while (0)
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)

/* ---- lockdep and contexts ---------------------------------------------- */
#define lockdep_assert_irqs_disabled() kshim_assert_irqs_disabled(__FILE__, __LINE__)
#define lockdep_assert_preemption_disabled() kshim_assert_preemption_disabled(__FILE__, __LINE__)
#define lockdep_assert_cpus_held() kshim_assert_cpus_held(__FILE__, __LINE__)
#define lockdep_assert_held(l) do { if (!(l)->l.locked) kshim_warn(__FILE__, __LINE__, "lock not held"); } while (0)
#define might_sleep() kshim_might_sleep(__FILE__, __LINE__)
#define cond_resched() ({ kshim_might_sleep(__FILE__, __LINE__); 0; })
#define local_irq_disable() kshim_local_irq_disable()
#define local_irq_enable() kshim_local_irq_enable()
#define irqs_disabled() kshim_irqs_disabled()
#define local_irq_save(f) do { (f) = (unsigned long)kshim_irqs_disabled(); kshim_local_irq_disable(); } while (0)
#define local_irq_restore(f) do { if (!(f)) kshim_local_irq_enable(); } while (0)
#define preempt_disable() kshim_preempt_disable()
#define preempt_enable() kshim_preempt_enable()
#define cpus_read_lock() kshim_cpus_read_lock()
#define cpus_read_unlock() kshim_cpus_read_unlock()
#define get_online_mems() kshim_get_online_mems()
#define put_online_mems() kshim_put_online_mems()

/* ---- locks ------------------------------------------------------------ */
typedef struct { struct kshim_lock l; } raw_spinlock_t;
typedef struct { struct kshim_lock l; } spinlock_t;
struct mutex { struct kshim_lock l; };
#define DEFINE_RAW_SPINLOCK(n) raw_spinlock_t n = { { 0, 0, 0 } }
#define DEFINE_SPINLOCK(n) spinlock_t n = { { 0, 0, 0 } }
#define DEFINE_MUTEX(n) struct mutex n = { { 0, 1, 0 } }
#define raw_spin_lock_init(x) do { (x)->l.locked = 0; (x)->l.depth_check = 0; (x)->l.owner = 0; } while (0)
#define spin_lock_init(x) raw_spin_lock_init(x)
#define mutex_init(x) do { (x)->l.locked = 0; (x)->l.depth_check = 1; (x)->l.owner = 0; } while (0)
#define raw_spin_lock(x) kshim_lock_acquire(&(x)->l, __FILE__, __LINE__)
#define raw_spin_unlock(x) kshim_lock_release(&(x)->l, __FILE__, __LINE__)
#define spin_lock(x) raw_spin_lock(x)
#define spin_unlock(x) raw_spin_unlock(x)
#define raw_spin_lock_irqsave(x, f) do { local_irq_save(f); raw_spin_lock(x); } while (0)
#define raw_spin_unlock_irqrestore(x, f) do { raw_spin_unlock(x); local_irq_restore(f); } while (0)
#define spin_lock_irqsave raw_spin_lock_irqsave
#define spin_unlock_irqrestore raw_spin_unlock_irqrestore
#define mutex_lock(x) kshim_lock_acquire(&(x)->l, __FILE__, __LINE__)
#define mutex_unlock(x) kshim_lock_release(&(x)->l, __FILE__, __LINE__)
#define mutex_is_locked(x) ((x)->l.locked)

/* guard(name)(args): scope-based lock release through the cleanup attribute. */
#define guard(name) KSHIM_GUARD_##name(__UNIQUE_ID(guard))
typedef raw_spinlock_t *kshim_guard_raw_spinlock_t;
static inline kshim_guard_raw_spinlock_t kshim_guard_raw_spinlock_in(raw_spinlock_t *l)
{
	raw_spin_lock(l);
	return l;
}
static inline void kshim_guard_raw_spinlock_out(kshim_guard_raw_spinlock_t *l)
{
	raw_spin_unlock(*l);
}
#define KSHIM_GUARD_raw_spinlock(var) \
	kshim_guard_raw_spinlock_t var __cleanup(kshim_guard_raw_spinlock_out) = kshim_guard_raw_spinlock_in
typedef struct mutex *kshim_guard_mutex_t;
static inline kshim_guard_mutex_t kshim_guard_mutex_in(struct mutex *m)
{
	mutex_lock(m);
	return m;
}
static inline void kshim_guard_mutex_out(kshim_guard_mutex_t *m)
{
	mutex_unlock(*m);
}
#define KSHIM_GUARD_mutex(var) \
	kshim_guard_mutex_t var __cleanup(kshim_guard_mutex_out) = kshim_guard_mutex_in

/* ---- lists --------------------------------------------------------------- */
struct list_head {
	struct list_head *next, *prev;
};
#define LIST_HEAD_INIT(n) { &(n), &(n) }
#define LIST_HEAD(n) struct list_head n = LIST_HEAD_INIT(n)
static inline void INIT_LIST_HEAD(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}
static inline void kshim_list_insert(struct list_head *n, struct list_head *prev, struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
static inline void list_add(struct list_head *n, struct list_head *h)
{
	kshim_list_insert(n, h, h->next);
}
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	kshim_list_insert(n, h->prev, h);
}
static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = (struct list_head *)0x100;
	e->prev = (struct list_head *)0x122;
}
static inline int list_empty(const struct list_head *h)
{
	return h->next == h;
}
#define list_entry(p, type, member) container_of(p, type, member)
#define list_first_entry(h, type, member) list_entry((h)->next, type, member)
#define list_next_entry(pos, member) list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_for_each_entry(pos, head, member) \
	for (pos = list_first_entry(head, __typeof__(*pos), member); \
	     &pos->member != (head); pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member) \
	for (pos = list_first_entry(head, __typeof__(*pos), member), n = list_next_entry(pos, member); \
	     &pos->member != (head); pos = n, n = list_next_entry(n, member))

/* ---- per-CPU data: an array indexed by the bound LP --------------------- */
#define DEFINE_PER_CPU(type, name) __typeof__(type) name[KSHIM_NR_CPUS]
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) name[KSHIM_NR_CPUS]
#define per_cpu(var, cpu) ((var)[(cpu)])
#define this_cpu_ptr(ptr) (&(*(ptr))[kshim_cpu()])
#define __this_cpu_read(var) ((var)[kshim_cpu()])
#define __this_cpu_write(var, v) ((var)[kshim_cpu()] = (v))
#define this_cpu_read(var) __this_cpu_read(var)
#define this_cpu_write(var, v) __this_cpu_write(var, v)
DECLARE_PER_CPU(bool, cache_state_incoherent);

/* ---- CPUs and masks ---------------------------------------------------- */
#define NR_CPUS KSHIM_NR_CPUS
#define nr_cpu_ids kshim_nr_cpu_ids
struct cpumask { struct kshim_cpumask m; };
typedef struct cpumask cpumask_t;
typedef struct cpumask cpumask_var_t[1];
#define cpu_online_mask ((const struct cpumask *)&kshim_online_mask)
#define cpu_possible_mask ((const struct cpumask *)&kshim_possible_mask)
static inline bool zalloc_cpumask_var(cpumask_var_t *m, gfp_t gfp)
{
	(void)gfp;
	memset(*m, 0, sizeof(**m));
	return true;
}
static inline void free_cpumask_var(cpumask_var_t m)
{
	(void)m;
}
static inline bool cpumask_test_cpu(int cpu, const struct cpumask *m)
{
	return (m->m.bits[cpu / BITS_PER_LONG] >> (cpu % BITS_PER_LONG)) & 1;
}
static inline void cpumask_set_cpu(int cpu, struct cpumask *m)
{
	m->m.bits[cpu / BITS_PER_LONG] |= 1UL << (cpu % BITS_PER_LONG);
}
static inline void cpumask_clear_cpu(int cpu, struct cpumask *m)
{
	m->m.bits[cpu / BITS_PER_LONG] &= ~(1UL << (cpu % BITS_PER_LONG));
}
static inline bool cpumask_test_and_set_cpu(int cpu, struct cpumask *m)
{
	bool old = cpumask_test_cpu(cpu, m);
	cpumask_set_cpu(cpu, m);
	return old;
}
#define for_each_cpu(cpu, mask) \
	for ((cpu) = kshim_next_cpu(-1, &(mask)->m); (cpu) < nr_cpu_ids; \
	     (cpu) = kshim_next_cpu((cpu), &(mask)->m))
#define for_each_online_cpu(cpu) for_each_cpu(cpu, cpu_online_mask)
#define for_each_possible_cpu(cpu) for_each_cpu(cpu, cpu_possible_mask)
#define num_online_cpus() ((unsigned int)kshim_num_online())
#define cpu_online(cpu) cpumask_test_cpu((cpu), cpu_online_mask)
#define smp_processor_id() kshim_cpu()
#define raw_smp_processor_id() kshim_cpu()
#define topology_physical_package_id(cpu) kshim_cpu_package(cpu)
#define on_each_cpu(fn, info, wait) kshim_on_each_cpu((fn), (info), (wait))
#define on_each_cpu_mask(mask, fn, info, wait) \
	kshim_on_each_cpu_mask(&(mask)->m, (fn), (info), (wait))
#define smp_call_function_single(cpu, fn, info, wait) \
	kshim_call_function_single((cpu), (fn), (info), (wait))
/* Every LP of the simulator is present (possible = present). */
#define cpu_present_mask cpu_possible_mask
#define for_each_present_cpu(cpu) for_each_possible_cpu(cpu)
#define num_present_cpus() ((unsigned int)kshim_nr_cpu_ids)
static inline bool cpumask_empty(const struct cpumask *m)
{
	for (unsigned i = 0; i < ARRAY_SIZE(m->m.bits); i++)
		if (m->m.bits[i])
			return false;
	return true;
}
#define smp_call_on_cpu(cpu, fn, arg, phys) ((void)(phys), kshim_call_on_cpu((cpu), (fn), (arg)))
#define stop_machine_cpuslocked(fn, data, mask) ((void)(mask), kshim_stop_machine((fn), (data)))
#define stop_machine(fn, data, mask) stop_machine_cpuslocked(fn, data, mask)

enum cpuhp_state {
	CPUHP_INVALID = -1,
	CPUHP_OFFLINE = 0,
	CPUHP_AP_ONLINE_DYN = 100,
	CPUHP_AP_ONLINE_DYN_END = 130,
};
#define cpuhp_setup_state(st, name, up, down) kshim_cpuhp_setup_state((st), (name), (up), (down))
#define cpuhp_remove_state(st) kshim_cpuhp_remove_state(st)

/* ---- memory ------------------------------------------------------------ */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PMD_SHIFT 21
#define PUD_SHIFT 30
#define __GFP_ZERO 0x100u
#define __GFP_NOWARN 0x200u
#define GFP_KERNEL 0x1u
#define GFP_ATOMIC 0x2u
#define GFP_KERNEL_ACCOUNT GFP_KERNEL
#define MAX_NUMNODES 1
#define NUMA_NO_NODE (-1)
typedef struct { unsigned long bits[1]; } nodemask_t;
extern nodemask_t node_online_map;
struct page;            /* never dereferenced: a page pointer is its address */

#define kmalloc(sz, gfp) kshim_alloc((sz), ((gfp) & __GFP_ZERO) != 0, KSHIM_KMALLOC, __FILE__, __LINE__)
#define kzalloc(sz, gfp) kshim_alloc((sz), 1, KSHIM_KMALLOC, __FILE__, __LINE__)
#define kcalloc(n, sz, gfp) kzalloc((n) * (sz), gfp)
#define kmalloc_array(n, sz, gfp) kmalloc((n) * (sz), gfp)
#define kmalloc_obj(x, ...) ((__typeof__(x) *)kmalloc(sizeof(x), GFP_KERNEL))
#define kzalloc_obj(x, ...) ((__typeof__(x) *)kzalloc(sizeof(x), GFP_KERNEL))
#define kfree(p) kshim_free((void *)(p), 0, KSHIM_KMALLOC, __FILE__, __LINE__)
#define alloc_pages_exact(sz, gfp) \
	kshim_alloc((sz), ((gfp) & __GFP_ZERO) != 0, KSHIM_PAGES_EXACT, __FILE__, __LINE__)
#define free_pages_exact(p, sz) kshim_free((p), (sz), KSHIM_PAGES_EXACT, __FILE__, __LINE__)
#define alloc_contig_pages(nr, gfp, nid, nodemask) \
	((struct page *)kshim_alloc((unsigned long)(nr) << PAGE_SHIFT, 0, KSHIM_CONTIG, __FILE__, __LINE__))
#define free_contig_range(pfn, nr) \
	kshim_free_pa((unsigned long long)(pfn) << PAGE_SHIFT, (unsigned long)(nr) << PAGE_SHIFT, \
		      KSHIM_CONTIG, __FILE__, __LINE__)
/* Single pages (KVM's TD control and S-EPT pages): a struct page pointer is
 * the page's address, like every other page pointer in the shim. */
#define alloc_page(gfp) \
	((struct page *)kshim_alloc(PAGE_SIZE, ((gfp) & __GFP_ZERO) != 0, KSHIM_PAGE, __FILE__, __LINE__))
#define __free_page(pg) kshim_free((void *)(pg), PAGE_SIZE, KSHIM_PAGE, __FILE__, __LINE__)
#define free_page(addr) __free_page((struct page *)(addr))
#define tsc_khz kshim_tsc_khz
#define __pa(x) ((unsigned long)kshim_pa((const void *)(x), __FILE__, __LINE__))
#define __va(x) kshim_va((unsigned long long)(x), __FILE__, __LINE__)
#define slow_virt_to_phys(x) ((phys_addr_t)kshim_pa((const void *)(x), __FILE__, __LINE__))
#define virt_to_phys(x) slow_virt_to_phys(x)
#define phys_to_virt(x) __va(x)
#define page_address(pg) ((void *)(pg))
#define page_to_virt(pg) ((void *)(pg))
#define virt_to_page(v) ((struct page *)(v))
#define page_to_phys(pg) ((phys_addr_t)kshim_pa((const void *)(pg), __FILE__, __LINE__))
#define page_to_pfn(pg) ((unsigned long)(page_to_phys(pg) >> PAGE_SHIFT))
#define pfn_to_page(pfn) ((struct page *)__va((unsigned long long)(pfn) << PAGE_SHIFT))
#define vmalloc_to_pfn(v) ((unsigned long)(__pa(v) >> PAGE_SHIFT))
#define ZERO_PAGE(vaddr) ((struct page *)kshim_zero_page())
#define movdir64b(dst, src) kshim_movdir64b((void *)(dst), (const void *)(src))
#define clflush_cache_range(p, sz) kshim_clflush((void *)(p), (sz))

enum pg_level {
	PG_LEVEL_NONE,
	PG_LEVEL_4K,
	PG_LEVEL_2M,
	PG_LEVEL_1G,
	PG_LEVEL_512G,
	PG_LEVEL_NUM
};

/* memblock */
#define for_each_mem_pfn_range(i, nid, p_start, p_end, p_nid) \
	for ((void)(nid), (i) = 0; kshim_mem_range((i), (p_start), (p_end), (p_nid)) == 0; (i)++)

/* memory hot-plug */
#define register_memory_notifier(nb) kshim_register_memory_notifier(nb)

/* ---- syscore, suspend, ACPI --------------------------------------------- */
#define register_syscore(sc) kshim_register_syscore(sc)
#define unregister_syscore(sc) kshim_unregister_syscore(sc)
#define register_syscore_ops(ops) do { } while (0)
#define hibernation_available() (kshim_hibernation_available != 0)

/* ---- IDA: bitmap over the KeyID space ------------------------------------ */
struct ida {
	unsigned long long bits[KSHIM_MAX_KEYIDS / 64];
};
#define DEFINE_IDA(n) struct ida n = { { 0 } }
static inline bool ida_is_empty(const struct ida *ida)
{
	for (unsigned i = 0; i < KSHIM_MAX_KEYIDS / 64; i++)
		if (ida->bits[i])
			return false;
	return true;
}
static inline int ida_alloc_range(struct ida *ida, unsigned int lo, unsigned int hi, gfp_t gfp)
{
	(void)gfp;
	kshim_might_sleep(__FILE__, __LINE__);
	for (unsigned int id = lo; id <= hi && id < KSHIM_MAX_KEYIDS; id++) {
		if (!(ida->bits[id / 64] >> (id % 64) & 1)) {
			ida->bits[id / 64] |= 1ULL << (id % 64);
			return (int)id;
		}
	}
	return -ENOSPC;
}
static inline void ida_free(struct ida *ida, unsigned int id)
{
	if (id >= KSHIM_MAX_KEYIDS || !(ida->bits[id / 64] >> (id % 64) & 1)) {
		kshim_warn(__FILE__, __LINE__, "ida_free of an id not allocated");
		return;
	}
	ida->bits[id / 64] &= ~(1ULL << (id % 64));
}

/* ---- sort ------------------------------------------------------------------ */
typedef int (*cmp_func_t)(const void *a, const void *b);
typedef void (*swap_func_t)(void *a, void *b, int size);
#define sort(base, num, size, cmp, swap) kshim_sort((base), (num), (size), (cmp), (swap))

/* ---- x86: features, MSRs, caches ----------------------------------------- */
#define X86_VENDOR_INTEL 0
#define VFM_MAKE(v, f, m) KSHIM_VFM(v, f, m)
/* Feature and bug numbers are the shim's own (see kshim_caps). */
#define X86_FEATURE_VMX KSHIM_FEAT_VMX
#define X86_FEATURE_XSAVE KSHIM_FEAT_XSAVE
#define X86_FEATURE_MOVDIR64B KSHIM_FEAT_MOVDIR64B
#define X86_FEATURE_SELFSNOOP KSHIM_FEAT_SELFSNOOP
#define X86_FEATURE_TDX_HOST_PLATFORM KSHIM_FEAT_TDX_HOST_PLATFORM
#define X86_FEATURE_HYPERVISOR KSHIM_FEAT_HYPERVISOR
#define X86_FEATURE_TDX_GUEST KSHIM_FEAT_TDX_GUEST
#define X86_BUG_TDX_PW_MCE KSHIM_BUG_TDX_PW_MCE
#define X86_BUG_SEAMRET_INVD_VMCS KSHIM_BUG_SEAMRET_INVD_VMCS
#define boot_cpu_has(f) (kshim_caps[(f)] != 0)
#define cpu_feature_enabled(f) boot_cpu_has(f)
#define static_cpu_has(f) boot_cpu_has(f)
#define boot_cpu_has_bug(b) (kshim_caps[(b)] != 0)
#define setup_force_cpu_cap(f) (kshim_caps[(f)] = 1)
#define setup_clear_cpu_cap(f) (kshim_caps[(f)] = 0)
#define setup_force_cpu_bug(b) (kshim_caps[(b)] = 1)

struct msr {
	union {
		struct {
			u32 l;
			u32 h;
		};
		u64 q;
	};
};
#define rdmsrq_safe(msr, p) kshim_rdmsr((msr), (unsigned long long *)(p))
#define rdmsrl_safe(msr, p) rdmsrq_safe(msr, p)
#define rdmsr_safe(msr, lo, hi) ({ \
	unsigned long long __kv = 0; \
	int __kr = kshim_rdmsr((msr), &__kv); \
	*(lo) = (u32)__kv; *(hi) = (u32)(__kv >> 32); __kr; })
#define rdmsrq(msr, val) do { \
	unsigned long long __kv = 0; \
	if (kshim_rdmsr((msr), &__kv)) \
		kshim_warn(__FILE__, __LINE__, "rdmsr of an unmodelled MSR"); \
	(val) = __kv; } while (0)
#define rdmsrl(msr, val) rdmsrq(msr, val)
#define wbinvd() kshim_wbinvd()
#define wbinvd_on_all_cpus() kshim_wbinvd_on_all_cpus()
#define RDRAND_RETRY_LOOPS 10

/* VMX: the shim's reference count is tdxsim's (tdxsim_vmx_get/put). */
#define x86_virt_get_ref(feat) kshim_virt_get_ref(feat)
#define x86_virt_put_ref(feat) kshim_virt_put_ref(feat)
#define VMX_BASIC_NO_SEAMRET_INVD_VMCS BIT_ULL(60)

/* ---- machine checks ---------------------------------------------------- */
struct mce;
static inline bool mce_is_memory_error(struct mce *m)
{
	(void)m;
	return true;
}
static inline bool mce_usable_address(struct mce *m)
{
	(void)m;
	return true;
}

struct pt_regs;

#endif
