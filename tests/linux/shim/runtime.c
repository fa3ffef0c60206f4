/*
 * tdxsim Linux shim runtime: what the kernel core provides to the host-side
 * TDX code, implemented on tdxsim. A kernel CPU is the LP the calling thread
 * is bound to; kernel memory is simulated physical memory, served by a
 * page-granular first-fit allocator over one region of the memory map.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kshim_rt.h"

static tdxsim *sim;
static tdxsim_info info;
static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;

struct kshim_cpumask kshim_online_mask;
struct kshim_cpumask kshim_possible_mask;
int kshim_nr_cpu_ids;
unsigned char kshim_caps[KSHIM_NCAPS];
struct kshim_cpuinfo boot_cpu_data;
_Bool cache_state_incoherent[KSHIM_NR_CPUS];
int kshim_hibernation_available;
unsigned int kshim_tsc_khz;
static int default_s3(void) { return 0; }
int (*acpi_suspend_lowlevel)(void) = default_s3;
struct { unsigned long bits[1]; } node_online_map = { { 1 } };

static _Thread_local int t_irq_off, t_preempt, t_cpus_held, t_identity;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kshim: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	kshim_rt_log_dump();
	fflush(NULL);
	abort();
}

/* ---- printk log ------------------------------------------------------- */
static char *log_buf;
static size_t log_len, log_cap;
static unsigned warn_count;

static void log_append(const char *s, size_t n)
{
	if (log_len + n + 1 > log_cap) {
		size_t cap = log_cap ? log_cap * 2 : 65536;
		while (cap < log_len + n + 1)
			cap *= 2;
		char *p = realloc(log_buf, cap);
		if (!p)
			die("out of memory for the log");
		log_buf = p;
		log_cap = cap;
	}
	memcpy(log_buf + log_len, s, n);
	log_len += n;
	log_buf[log_len] = 0;
}

int kshim_vprintk(const char *fmt, va_list ap)
{
	char line[1024];
	char level = '4';
	if (fmt[0] == '\001' && fmt[1]) {
		level = fmt[1];
		fmt += 2;
	}
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return n;
	size_t len = strlen(line);
	pthread_mutex_lock(&big_lock);
	char pfx[4] = { '<', level, '>', 0 };
	if (level != 'c')
		log_append(pfx, 3);
	log_append(line, len);
	pthread_mutex_unlock(&big_lock);
	if (getenv("KSHIM_VERBOSE"))
		fprintf(stderr, "%s%s", level != 'c' ? pfx : "", line);
	return n;
}

int kshim_printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kshim_vprintk(fmt, ap);
	va_end(ap);
	return n;
}

const char *kshim_rt_log(void)
{
	return log_buf ? log_buf : "";
}

int kshim_rt_log_has(const char *needle)
{
	return strstr(kshim_rt_log(), needle) != NULL;
}

unsigned kshim_rt_log_count(const char *needle)
{
	unsigned n = 0;
	for (const char *p = kshim_rt_log(); (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

void kshim_rt_log_dump(void)
{
	fprintf(stderr, "---- kernel log ----\n%s---- end of kernel log ----\n", kshim_rt_log());
}

void kshim_warn(const char *file, int line, const char *cond)
{
	pthread_mutex_lock(&big_lock);
	warn_count++;
	pthread_mutex_unlock(&big_lock);
	kshim_printk("\0014WARNING: at %s:%d: %s\n", file, line, cond);
	if (getenv("KSHIM_VERBOSE"))
		fprintf(stderr, "kshim: WARNING at %s:%d: %s\n", file, line, cond);
}

void kshim_bug(const char *file, int line, const char *cond)
{
	die("BUG at %s:%d: %s", file, line, cond);
}

unsigned kshim_rt_warn_count(void)
{
	return warn_count;
}

/* ---- CPUs --------------------------------------------------------------- */
static int mask_test(const struct kshim_cpumask *m, int cpu)
{
	return (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

static void mask_set(struct kshim_cpumask *m, int cpu, int on)
{
	if (on)
		m->bits[cpu / 64] |= 1UL << (cpu % 64);
	else
		m->bits[cpu / 64] &= ~(1UL << (cpu % 64));
}

int kshim_cpu(void)
{
	unsigned lp;
	if (tdxsim_thread_binding(NULL, &lp))
		die("kernel code ran on a thread not bound to an LP");
	return (int)lp;
}

void kshim_rt_bind(int cpu)
{
	if (tdxsim_thread_bind(sim, (unsigned)cpu))
		die("cannot bind to LP %d: %s", cpu, tdxsim_errmsg(sim));
}

tdxsim *kshim_rt_sim(void)
{
	return sim;
}

int kshim_next_cpu(int cpu, const struct kshim_cpumask *m)
{
	for (cpu++; cpu < kshim_nr_cpu_ids; cpu++)
		if (mask_test(m, cpu))
			return cpu;
	return kshim_nr_cpu_ids;
}

int kshim_cpu_package(int cpu)
{
	unsigned pkg;
	if (tdxsim_lp_package(sim, (unsigned)cpu, &pkg))
		die("topology_physical_package_id(%d): %s", cpu, tdxsim_errmsg(sim));
	return (int)pkg;
}

int kshim_num_online(void)
{
	int n = 0;
	for (int c = 0; c < kshim_nr_cpu_ids; c++)
		n += mask_test(&kshim_online_mask, c);
	return n;
}

/* IPI: fn on every online CPU with IRQs off, the thread re-bound to it. */
void kshim_on_each_cpu(void (*fn)(void *), void *arg, int wait)
{
	(void)wait;
	int self = kshim_cpu(), irq = t_irq_off;
	for (int c = 0; c < kshim_nr_cpu_ids; c++) {
		if (!mask_test(&kshim_online_mask, c))
			continue;
		kshim_rt_bind(c);
		t_irq_off = 1;
		fn(arg);
	}
	t_irq_off = irq;
	kshim_rt_bind(self);
}

/* IPI to the online CPUs of a mask, in CPU order. */
void kshim_on_each_cpu_mask(const struct kshim_cpumask *m, void (*fn)(void *), void *info, int wait)
{
	(void)wait;
	int self = kshim_cpu(), irq = t_irq_off;
	for (int c = 0; c < kshim_nr_cpu_ids; c++) {
		if (!mask_test(m, c) || !mask_test(&kshim_online_mask, c))
			continue;
		kshim_rt_bind(c);
		t_irq_off = 1;
		fn(info);
	}
	t_irq_off = irq;
	kshim_rt_bind(self);
}

int kshim_call_function_single(int cpu, void (*fn)(void *), void *info, int wait)
{
	(void)wait;
	if (cpu < 0 || cpu >= kshim_nr_cpu_ids || !mask_test(&kshim_online_mask, cpu))
		return -6; /* -ENXIO */
	int self = kshim_cpu(), irq = t_irq_off;
	kshim_rt_bind(cpu);
	t_irq_off = 1;
	fn(info);
	t_irq_off = irq;
	kshim_rt_bind(self);
	return 0;
}

/* A kworker on that CPU: process context, IRQs on. */
int kshim_call_on_cpu(int cpu, int (*fn)(void *), void *arg)
{
	if (cpu < 0 || cpu >= kshim_nr_cpu_ids || !mask_test(&kshim_online_mask, cpu))
		return -6; /* -ENXIO */
	int self = kshim_cpu(), irq = t_irq_off;
	kshim_rt_bind(cpu);
	t_irq_off = 0;
	int ret = fn(arg);
	t_irq_off = irq;
	kshim_rt_bind(self);
	return ret;
}

struct stop_arg {
	int cpu, ret;
	int (*fn)(void *);
	void *data;
};

static void *stop_thread(void *p)
{
	struct stop_arg *a = p;
	kshim_rt_bind(a->cpu);
	t_irq_off = 1;
	t_preempt = 1;
	a->ret = a->fn(a->data);
	return NULL;
}

/* stop_machine: fn on every online CPU at once, each on its own thread. */
int kshim_stop_machine(int (*fn)(void *), void *data)
{
	pthread_t th[KSHIM_NR_CPUS];
	struct stop_arg args[KSHIM_NR_CPUS];
	int n = 0, ret = 0;
	for (int c = 0; c < kshim_nr_cpu_ids; c++) {
		if (!mask_test(&kshim_online_mask, c))
			continue;
		args[n] = (struct stop_arg){ .cpu = c, .fn = fn, .data = data };
		if (pthread_create(&th[n], NULL, stop_thread, &args[n]))
			die("pthread_create");
		n++;
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (args[i].ret && !ret)
			ret = args[i].ret;
	}
	return ret;
}

/* ---- contexts ------------------------------------------------------------ */
void kshim_local_irq_disable(void) { t_irq_off = 1; }
void kshim_local_irq_enable(void) { t_irq_off = 0; }
int kshim_irqs_disabled(void) { return t_irq_off; }
void kshim_preempt_disable(void) { t_preempt++; }
void kshim_preempt_enable(void)
{
	if (t_preempt <= 0)
		kshim_warn(__FILE__, __LINE__, "preempt_enable() without preempt_disable()");
	else
		t_preempt--;
}

void kshim_might_sleep(const char *file, int line)
{
	if (t_irq_off || t_preempt)
		kshim_warn(file, line, "sleeping function called from atomic context");
}

void kshim_assert_irqs_disabled(const char *file, int line)
{
	if (!t_irq_off)
		kshim_warn(file, line, "lockdep_assert_irqs_disabled(): IRQs are enabled");
}

void kshim_assert_preemption_disabled(const char *file, int line)
{
	if (!t_irq_off && !t_preempt)
		kshim_warn(file, line, "lockdep_assert_preemption_disabled(): preemptible");
}

void kshim_assert_cpus_held(const char *file, int line)
{
	if (!t_cpus_held)
		kshim_warn(file, line, "lockdep_assert_cpus_held(): cpus_read_lock() not held");
}

void kshim_cpus_read_lock(void) { t_cpus_held++; }
void kshim_cpus_read_unlock(void)
{
	if (!t_cpus_held)
		kshim_warn(__FILE__, __LINE__, "cpus_read_unlock() without the lock");
	else
		t_cpus_held--;
}

static int online_mems_held;
void kshim_get_online_mems(void) { online_mems_held++; }
void kshim_put_online_mems(void)
{
	if (!online_mems_held)
		kshim_warn(__FILE__, __LINE__, "put_online_mems() without get_online_mems()");
	else
		online_mems_held--;
}

/* ---- locks ------------------------------------------------------------------ */
void kshim_lock_acquire(struct kshim_lock *l, const char *file, int line)
{
	if (l->depth_check)
		kshim_might_sleep(file, line);
	if (__atomic_load_n(&l->locked, __ATOMIC_RELAXED) && l->owner == &t_identity) {
		kshim_warn(file, line, "recursive locking: this thread already holds the lock");
		die("deadlock at %s:%d", file, line);
	}
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	l->owner = &t_identity;
}

void kshim_lock_release(struct kshim_lock *l, const char *file, int line)
{
	if (!__atomic_load_n(&l->locked, __ATOMIC_RELAXED) || l->owner != &t_identity)
		kshim_warn(file, line, "unlock of a lock this thread does not hold");
	l->owner = NULL;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* ---- memory map and allocator --------------------------------------------- */
static struct kshim_rt_memmap mmap_;
static uint64_t a_base, a_pages;
static uint8_t *a_used;                 /* per page: 1 = allocated */
static uint64_t a_next;                 /* next-fit cursor */

struct alloc_rec {
	uint64_t pa, bytes;
	int kind, live, internal;
};
static struct alloc_rec *recs;
static size_t n_recs, cap_recs;
static unsigned fail_nth[KSHIM_NR_KINDS];

int kshim_mem_range(int idx, unsigned long *start_pfn, unsigned long *end_pfn, int *nid)
{
	if (idx < 0 || (unsigned)idx >= mmap_.n)
		return -1;
	*start_pfn = mmap_.r[idx].base >> 12;
	*end_pfn = (mmap_.r[idx].base + mmap_.r[idx].size) >> 12;
	*nid = 0;
	return 0;
}

static void *pa_ptr(uint64_t pa)
{
	void *p = tdxsim_pa_to_ptr(sim, pa);
	if (!p)
		die("PA 0x%llx is outside simulated memory", (unsigned long long)pa);
	return p;
}

static void *alloc_pages_(uint64_t npages, int kind, int internal)
{
	uint64_t run = 0;
	for (uint64_t k = 0; k < a_pages; k++) {
		uint64_t i = (a_next + k) % a_pages;
		if (i == 0)
			run = 0;
		if (a_used[i]) {
			run = 0;
			continue;
		}
		if (++run < npages)
			continue;
		uint64_t first = i + 1 - npages;
		memset(a_used + first, 1, npages);
		a_next = i + 1;
		if (n_recs == cap_recs) {
			cap_recs = cap_recs ? cap_recs * 2 : 256;
			recs = realloc(recs, cap_recs * sizeof(*recs));
			if (!recs)
				die("out of host memory");
		}
		recs[n_recs++] = (struct alloc_rec){
			.pa = a_base + first * 4096, .bytes = npages * 4096,
			.kind = kind, .live = 1, .internal = internal,
		};
		return pa_ptr(a_base + first * 4096);
	}
	return NULL;
}

void *kshim_alloc(unsigned long size, int zero, int kind, const char *file, int line)
{
	if (kind < 0 || kind >= KSHIM_NR_KINDS)
		die("bad allocation kind %d", kind);
	if (kind == KSHIM_KMALLOC && t_irq_off)
		kshim_warn(file, line, "GFP_KERNEL allocation with IRQs disabled");
	pthread_mutex_lock(&big_lock);
	void *p = NULL;
	if (fail_nth[kind] && --fail_nth[kind] == 0) {
		pthread_mutex_unlock(&big_lock);
		kshim_printk("\0014kshim: injected allocation failure at %s:%d\n", file, line);
		return NULL;
	}
	uint64_t npages = size ? (size + 4095) / 4096 : 1;
	p = alloc_pages_(npages, kind, 0);
	pthread_mutex_unlock(&big_lock);
	if (!p) {
		kshim_printk("\0014kshim: out of simulated memory for %lu bytes at %s:%d\n",
			     size, file, line);
		return NULL;
	}
	/* Fresh memory is zeroed on request, poisoned otherwise. */
	memset(p, zero ? 0 : 0x6b, npages * 4096);
	return p;
}

static struct alloc_rec *find_rec(uint64_t pa)
{
	for (size_t i = n_recs; i-- > 0;)
		if (recs[i].live && recs[i].pa == pa)
			return &recs[i];
	return NULL;
}

void kshim_free_pa(unsigned long long pa, unsigned long size, int kind, const char *file, int line)
{
	pthread_mutex_lock(&big_lock);
	struct alloc_rec *r = find_rec(pa);
	pthread_mutex_unlock(&big_lock);
	if (!r) {
		kshim_warn(file, line, "free of memory that is not a live allocation");
		return;
	}
	if (r->kind != kind)
		kshim_warn(file, line, "allocation freed with the wrong function");
	if (size && (size + 4095) / 4096 * 4096 != r->bytes)
		kshim_warn(file, line, "allocation freed with a different size");
	pthread_mutex_lock(&big_lock);
	uint64_t first = (r->pa - a_base) / 4096;
	memset(a_used + first, 0, r->bytes / 4096);
	r->live = 0;
	pthread_mutex_unlock(&big_lock);
}

void kshim_free(void *p, unsigned long size, int kind, const char *file, int line)
{
	if (!p)
		return;
	kshim_free_pa(kshim_pa(p, file, line), size, kind, file, line);
}

unsigned long long kshim_pa(const void *p, const char *file, int line)
{
	uint64_t pa;
	if (tdxsim_ptr_to_pa(sim, p, &pa))
		die("__pa(%p) at %s:%d: not simulated memory", p, file, line);
	return pa;
}

void *kshim_va(unsigned long long pa, const char *file, int line)
{
	void *p = tdxsim_pa_to_ptr(sim, pa);
	if (!p)
		die("__va(0x%llx) at %s:%d: outside simulated memory", pa, file, line);
	return p;
}

static void *zero_page;
void *kshim_zero_page(void)
{
	if (!zero_page) {
		pthread_mutex_lock(&big_lock);
		zero_page = alloc_pages_(1, KSHIM_PAGES_EXACT, 1);
		pthread_mutex_unlock(&big_lock);
		if (!zero_page)
			die("no memory for ZERO_PAGE");
		memset(zero_page, 0, 4096);
	}
	return zero_page;
}

/* MOVDIR64B: a 64-byte direct store through KeyID 0. */
void kshim_movdir64b(void *dst, const void *src)
{
	uint64_t pa = kshim_pa(dst, __FILE__, __LINE__);
	if (pa & 63)
		kshim_warn(__FILE__, __LINE__, "MOVDIR64B destination not 64-byte aligned");
	else if (tdxsim_mem_movdir64b(sim, pa, 0, src) != TDXSIM_OK)
		die("MOVDIR64B to simulated memory failed");
}

void kshim_clflush(void *p, unsigned int size)
{
	(void)p;
	(void)size;
}

unsigned long kshim_rt_live_allocs(int kind)
{
	unsigned long n = 0;
	for (size_t i = 0; i < n_recs; i++)
		if (recs[i].live && !recs[i].internal && (kind < 0 || recs[i].kind == kind))
			n++;
	return n;
}

uint64_t kshim_rt_live_bytes(int kind)
{
	uint64_t n = 0;
	for (size_t i = 0; i < n_recs; i++)
		if (recs[i].live && !recs[i].internal && (kind < 0 || recs[i].kind == kind))
			n += recs[i].bytes;
	return n;
}

int kshim_rt_is_allocation(uint64_t pa, uint64_t len, int kind)
{
	struct alloc_rec *r = find_rec(pa);
	return r && r->kind == kind && r->bytes == (len + 4095) / 4096 * 4096;
}

void kshim_rt_fail_alloc(int kind, unsigned nth)
{
	fail_nth[kind] = nth;
}

/* ---- MSRs, caches, VMX ------------------------------------------------------ */
int kshim_rdmsr(unsigned int msr, unsigned long long *val)
{
	uint64_t v;
	tdxsim_err err = tdxsim_rdmsr(sim, (unsigned)kshim_cpu(), msr, &v);
	if (err)
		return -5; /* -EIO: #GP on RDMSR */
	*val = v;
	return 0;
}

void kshim_wbinvd(void)
{
	tdxsim_wbinvd(sim, (unsigned)kshim_cpu());
}

void kshim_wbinvd_on_all_cpus(void)
{
	for (int c = 0; c < kshim_nr_cpu_ids; c++)
		if (mask_test(&kshim_online_mask, c))
			tdxsim_wbinvd(sim, (unsigned)c);
}

int kshim_virt_get_ref(int feat)
{
	if (feat != KSHIM_FEAT_VMX || !kshim_caps[KSHIM_FEAT_VMX])
		return -95; /* -EOPNOTSUPP */
	if (tdxsim_vmx_get(sim, (unsigned)kshim_cpu())) {
		kshim_printk("\0013kshim: VMXON failed on CPU %d: %s\n", kshim_cpu(), tdxsim_errmsg(sim));
		return -5;
	}
	return 0;
}

void kshim_virt_put_ref(int feat)
{
	(void)feat;
	if (tdxsim_vmx_put(sim, (unsigned)kshim_cpu()))
		kshim_warn(__FILE__, __LINE__, "x86_virt_put_ref() without a reference");
}

/* ---- CPU hot-plug -------------------------------------------------------------- */
#define MAX_CPUHP 8
static struct {
	int used;
	const char *name;
	int (*startup)(unsigned int);
	int (*teardown)(unsigned int);
} cpuhp[MAX_CPUHP];

/* A hot-plug callback runs in the CPU's hotplug thread: process context. */
static int hp_call(int (*fn)(unsigned int), int cpu)
{
	if (!fn)
		return 0;
	int self = kshim_cpu(), irq = t_irq_off;
	kshim_rt_bind(cpu);
	t_irq_off = 0;
	int ret = fn((unsigned)cpu);
	t_irq_off = irq;
	kshim_rt_bind(self);
	return ret;
}

int kshim_cpuhp_setup_state(int state, const char *name,
			    int (*startup)(unsigned int), int (*teardown)(unsigned int))
{
	int id = -1;
	for (int i = 0; i < MAX_CPUHP; i++)
		if (!cpuhp[i].used) {
			id = i;
			break;
		}
	if (state != 100 || id < 0)
		return -22;
	cpuhp[id].used = 1;
	cpuhp[id].name = name;
	cpuhp[id].startup = startup;
	cpuhp[id].teardown = teardown;
	/* Run the startup callback on every online CPU; undo on failure. */
	for (int c = 0; c < kshim_nr_cpu_ids; c++) {
		if (!mask_test(&kshim_online_mask, c))
			continue;
		int ret = hp_call(startup, c);
		if (ret) {
			for (int d = c - 1; d >= 0; d--)
				if (mask_test(&kshim_online_mask, d))
					hp_call(teardown, d);
			cpuhp[id].used = 0;
			return ret;
		}
	}
	return 100 + id;
}

void kshim_cpuhp_remove_state(int state)
{
	int id = state - 100;
	if (id < 0 || id >= MAX_CPUHP || !cpuhp[id].used) {
		kshim_warn(__FILE__, __LINE__, "cpuhp_remove_state() of an unknown state");
		return;
	}
	for (int c = kshim_nr_cpu_ids - 1; c >= 0; c--)
		if (mask_test(&kshim_online_mask, c))
			hp_call(cpuhp[id].teardown, c);
	cpuhp[id].used = 0;
}

int kshim_rt_nr_cpuhp_states(void)
{
	int n = 0;
	for (int i = 0; i < MAX_CPUHP; i++)
		n += cpuhp[i].used;
	return n;
}

int kshim_rt_cpu_down(int cpu)
{
	if (cpu <= 0 || cpu >= kshim_nr_cpu_ids || !mask_test(&kshim_online_mask, cpu))
		return -22;
	for (int i = MAX_CPUHP - 1; i >= 0; i--) {
		if (!cpuhp[i].used)
			continue;
		int ret = hp_call(cpuhp[i].teardown, cpu);
		if (ret) {
			for (int j = i + 1; j < MAX_CPUHP; j++)
				if (cpuhp[j].used)
					hp_call(cpuhp[j].startup, cpu);
			return ret;
		}
	}
	mask_set(&kshim_online_mask, cpu, 0);
	if (tdxsim_lp_offline(sim, (unsigned)cpu))
		die("tdxsim_lp_offline(%d): %s", cpu, tdxsim_errmsg(sim));
	return 0;
}

int kshim_rt_cpu_up(int cpu)
{
	if (cpu <= 0 || cpu >= kshim_nr_cpu_ids || mask_test(&kshim_online_mask, cpu))
		return -22;
	if (tdxsim_lp_online(sim, (unsigned)cpu))
		die("tdxsim_lp_online(%d): %s", cpu, tdxsim_errmsg(sim));
	mask_set(&kshim_online_mask, cpu, 1);
	for (int i = 0; i < MAX_CPUHP; i++) {
		if (!cpuhp[i].used)
			continue;
		int ret = hp_call(cpuhp[i].startup, cpu);
		if (ret) {
			for (int j = i - 1; j >= 0; j--)
				if (cpuhp[j].used)
					hp_call(cpuhp[j].teardown, cpu);
			mask_set(&kshim_online_mask, cpu, 0);
			tdxsim_lp_offline(sim, (unsigned)cpu);
			return ret;
		}
	}
	return 0;
}

/* ---- notifiers, syscore -------------------------------------------------------- */
static struct notifier_block *mem_nb;
int kshim_register_memory_notifier(struct notifier_block *nb)
{
	nb->next = mem_nb;
	mem_nb = nb;
	return 0;
}

int kshim_rt_has_memory_notifier(void)
{
	return mem_nb != NULL;
}

int kshim_rt_memory_going_online(unsigned long start_pfn, unsigned long nr_pages)
{
	struct memory_notify mn = { .start_pfn = start_pfn, .nr_pages = nr_pages };
	for (struct notifier_block *nb = mem_nb; nb; nb = nb->next) {
		int r = nb->notifier_call(nb, MEM_GOING_ONLINE, &mn);
		if (r != NOTIFY_OK && r != NOTIFY_DONE)
			return r;
	}
	return NOTIFY_OK;
}

static struct syscore *syscores;        /* most recent first */
void kshim_register_syscore(struct syscore *sc)
{
	sc->next = syscores;
	syscores = sc;
}

void kshim_unregister_syscore(struct syscore *sc)
{
	for (struct syscore **p = &syscores; *p; p = &(*p)->next)
		if (*p == sc) {
			*p = sc->next;
			return;
		}
	kshim_warn(__FILE__, __LINE__, "unregister_syscore() of an unregistered syscore");
}

int kshim_rt_nr_syscore(void)
{
	int n = 0;
	for (struct syscore *sc = syscores; sc; sc = sc->next)
		n++;
	return n;
}

static int frozen[KSHIM_NR_CPUS], n_frozen;

int kshim_rt_suspend(void)
{
	kshim_rt_bind(0);
	n_frozen = 0;
	for (int c = kshim_nr_cpu_ids - 1; c > 0; c--) {
		if (!mask_test(&kshim_online_mask, c))
			continue;
		int ret = kshim_rt_cpu_down(c);
		if (ret) {
			while (n_frozen)
				kshim_rt_cpu_up(frozen[--n_frozen]);
			return ret;
		}
		frozen[n_frozen++] = c;
	}
	t_irq_off = 1;
	/* syscore_suspend: reverse registration order = list order. */
	for (struct syscore *sc = syscores; sc; sc = sc->next) {
		if (!sc->ops->suspend)
			continue;
		int ret = sc->ops->suspend(sc->data);
		if (ret) {
			for (struct syscore *r = syscores; r != sc; r = r->next)
				if (r->ops->resume)
					r->ops->resume(r->data);
			t_irq_off = 0;
			while (n_frozen)
				kshim_rt_cpu_up(frozen[--n_frozen]);
			return ret;
		}
	}
	t_irq_off = 0;
	return 0;
}

static void resume_list(struct syscore *sc)
{
	if (!sc)
		return;
	resume_list(sc->next);          /* registration order */
	if (sc->ops->resume)
		sc->ops->resume(sc->data);
}

void kshim_rt_resume(void)
{
	kshim_rt_bind(0);
	t_irq_off = 1;
	resume_list(syscores);
	t_irq_off = 0;
	while (n_frozen)
		kshim_rt_cpu_up(frozen[--n_frozen]);
}

void kshim_rt_shutdown(void)
{
	kshim_rt_bind(0);
	for (struct syscore *sc = syscores; sc; sc = sc->next)
		if (sc->ops->shutdown)
			sc->ops->shutdown(sc->data);
}

/* ---- misc --------------------------------------------------------------------------- */
void kshim_sort(void *base, size_t num, size_t size,
		int (*cmp)(const void *, const void *), void (*swap)(void *, void *, int))
{
	(void)swap;
	qsort(base, num, size, cmp);
}

void *kshim_memchr_inv(const void *p, int c, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != (unsigned char)c)
			return (void *)(b + i);
	return NULL;
}

/* ---- boot ------------------------------------------------------------------------------- */
void kshim_rt_boot(tdxsim *s, const struct kshim_rt_memmap *mm)
{
	sim = s;
	info.size = sizeof(info);
	if (tdxsim_info_get(s, &info))
		die("tdxsim_info_get: %s", tdxsim_errmsg(s));
	if (info.n_lps > KSHIM_NR_CPUS)
		die("%u LPs: the shim supports at most %d CPUs", info.n_lps, KSHIM_NR_CPUS);
	kshim_nr_cpu_ids = (int)info.n_lps;
	for (unsigned c = 0; c < info.n_lps; c++) {
		mask_set(&kshim_possible_mask, (int)c, 1);
		mask_set(&kshim_online_mask, (int)c, tdxsim_lp_is_online(s, c));
	}
	if (mm) {
		mmap_ = *mm;
	} else {
		memset(&mmap_, 0, sizeof(mmap_));
		mmap_.n = info.n_cmrs;
		for (unsigned i = 0; i < info.n_cmrs; i++)
			mmap_.r[i] = info.cmrs[i];
	}
	if (!mmap_.n)
		die("empty memory map");
	if (!mmap_.alloc_size) {
		/* The top of the last usable range: up to half of it, at most 512 MiB. */
		const tdxsim_range *last = &mmap_.r[mmap_.n - 1];
		uint64_t sz = last->size / 2;
		if (sz > (512ULL << 20))
			sz = 512ULL << 20;
		sz &= ~4095ULL;
		mmap_.alloc_base = last->base + last->size - sz;
		mmap_.alloc_size = sz;
	}
	int inside = 0;
	for (unsigned i = 0; i < mmap_.n; i++)
		if (mmap_.alloc_base >= mmap_.r[i].base &&
		    mmap_.alloc_base + mmap_.alloc_size <= mmap_.r[i].base + mmap_.r[i].size)
			inside = 1;
	if (!inside || (mmap_.alloc_base | mmap_.alloc_size) & 4095)
		die("allocator region is not page-aligned usable RAM of the memory map");
	a_base = mmap_.alloc_base;
	a_pages = mmap_.alloc_size / 4096;
	a_used = calloc(a_pages, 1);
	if (!a_used)
		die("out of host memory");

	memset(kshim_caps, 0, sizeof(kshim_caps));
	kshim_caps[KSHIM_FEAT_VMX] = 1;
	kshim_caps[KSHIM_FEAT_XSAVE] = 1;
	kshim_caps[KSHIM_FEAT_MOVDIR64B] = 1;
	kshim_caps[KSHIM_FEAT_SELFSNOOP] = 1;
	const tdxsim_platform *p = info.platform;
	boot_cpu_data.x86 = (unsigned char)p->cpu_family;
	boot_cpu_data.x86_model = (unsigned char)p->cpu_model;
	boot_cpu_data.x86_stepping = (unsigned char)p->cpu_stepping;
	boot_cpu_data.x86_vfm = KSHIM_VFM(0, p->cpu_family, p->cpu_model);
	/* MKTME takes the KeyID bits off the top of the physical address. */
	boot_cpu_data.x86_phys_bits = (unsigned char)info.keyid_shift;
	kshim_tsc_khz = p->tsc_mhz * 1000u;
	kshim_rt_bind(0);
}
