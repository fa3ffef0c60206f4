/*
 * Linux conformance suites: scenario runner and checks. Every scenario runs
 * in its own forked process (the kernel files keep static state) and ends
 * with exit(), so coverage data is written.
 */
#ifndef KHARNESS_H
#define KHARNESS_H

#include <stdint.h>
#include <stdio.h>

#include "shim/kshim_rt.h"

struct kscenario {
	const char *name;
	int (*fn)(void);                /* 0 = pass */
};

/* Runs the scenarios (all, or those whose name contains argv[1]); prints one
 * line per scenario and "N passed, N failed"; returns the exit status. */
int kh_main(int argc, char **argv, const struct kscenario *sc, unsigned n);

void kh_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define CHECK(cond, ...) do { \
	if (!(cond)) { kh_fail(__FILE__, __LINE__, #cond, " " __VA_ARGS__); return 1; } \
} while (0)
#define CHECK_EQ(a, b, ...) do { \
	long long __a = (long long)(a), __b = (long long)(b); \
	if (__a != __b) { kh_fail(__FILE__, __LINE__, #a " == " #b, " %lld (0x%llx) != %lld (0x%llx)", \
				  __a, (unsigned long long)__a, __b, (unsigned long long)__b); return 1; } \
} while (0)

/* A simulator from cfg (NULL = defaults) with the shim booted on it and the
 * SEAMCALL recorder attached. */
tdxsim *kh_boot(const tdxsim_config *cfg, const struct kshim_rt_memmap *mm);
extern tdxsim_info kh_info;

/* SEAMCALL events seen by the recorder. */
struct kh_event {
	uint32_t lp;
	uint32_t leaf;                  /* RAX & 0xFFFF, or the full RAX for P-SEAMLDR */
	uint64_t rax;
	uint64_t status;
	struct tdx_module_args in, out;
};
extern struct kh_event *kh_ev;
extern size_t kh_nev;
void kh_rec_reset(void);
unsigned kh_count(uint64_t leaf);
unsigned kh_count_lp(uint64_t leaf, unsigned lp);
long kh_first(uint64_t leaf);           /* index of the first event of leaf, -1 */
long kh_last(uint64_t leaf);

/* TDMRs as the module saw them at TDH.SYS.CONFIG (copied from the TDMR_INFO
 * the kernel passed). */
struct kh_tdmr {
	uint64_t base, size;
	uint64_t pamt_base[3], pamt_size[3];  /* 4K, 2M, 1G */
};
extern struct kh_tdmr kh_tdmrs[64];
extern unsigned kh_ntdmrs;

/* VMXON on every online LP (tdxsim's per-LP reference). */
void kh_vmxon_all(void);
unsigned kh_vmx_refs(unsigned lp);
uint64_t kh_wbinvd(unsigned lp);

#endif
