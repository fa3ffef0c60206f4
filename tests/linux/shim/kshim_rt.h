/*
 * tdxsim Linux shim runtime: the harness side. Boots the shim on a
 * simulator, drives CPU hot-plug / suspend / shutdown the way the kernel
 * core would, and exposes what the kernel code did (log, WARN count,
 * live allocations) for tests to check.
 */
#ifndef KSHIM_RT_H
#define KSHIM_RT_H

#include <stdint.h>

#include "tdxsim/tdxsim.h"
#include "../include/shim/kshim.h"

#define KSHIM_RT_MAX_RANGES 128

/* A memblock memory map and the region the allocator serves from. */
struct kshim_rt_memmap {
	unsigned n;
	tdxsim_range r[KSHIM_RT_MAX_RANGES];  /* ascending, disjoint, 4 KiB aligned */
	uint64_t alloc_base, alloc_size;      /* inside one of r[]; 0 = automatic */
};

/* Boot the shim: CPUs = the simulator's online LPs, memory map = mm or
 * (NULL) the CMRs, calling thread bound to CPU 0. Aborts on misuse. */
void kshim_rt_boot(tdxsim *s, const struct kshim_rt_memmap *mm);
tdxsim *kshim_rt_sim(void);
void kshim_rt_bind(int cpu);

/* CPU hot-plug through the registered cpuhp callbacks. */
int kshim_rt_cpu_down(int cpu);
int kshim_rt_cpu_up(int cpu);
/* System suspend: secondary CPUs down, syscore suspend on CPU 0; resume
 * reverses it. Shutdown: syscore shutdown callbacks. */
int kshim_rt_suspend(void);
void kshim_rt_resume(void);
void kshim_rt_shutdown(void);
/* Memory hot-plug: the registered notifiers' answer to MEM_GOING_ONLINE. */
int kshim_rt_memory_going_online(unsigned long start_pfn, unsigned long nr_pages);
int kshim_rt_has_memory_notifier(void);
int kshim_rt_nr_syscore(void);
int kshim_rt_nr_cpuhp_states(void);

/* printk log. */
const char *kshim_rt_log(void);
int kshim_rt_log_has(const char *needle);
unsigned kshim_rt_log_count(const char *needle);
void kshim_rt_log_dump(void);           /* to stderr */

/* WARN / lockdep-style assertion failures since boot. */
unsigned kshim_rt_warn_count(void);

/* Live kernel allocations (kind = enum kshim_alloc_kind, or -1 for all). */
unsigned long kshim_rt_live_allocs(int kind);
uint64_t kshim_rt_live_bytes(int kind);
/* Is [pa, pa+len) one live allocation of this kind? */
int kshim_rt_is_allocation(uint64_t pa, uint64_t len, int kind);
/* Make the nth (1-based) next allocation of kind fail. */
void kshim_rt_fail_alloc(int kind, unsigned nth);


#endif
