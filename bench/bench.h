/* Shared pieces of the tdxsim benchmarks. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>

#include <tdxsim/tdxsim.h>

#define BENCH_MAX_METRICS 128

/* Metrics collected by one run, written as results.json. */
struct bench_metrics {
	unsigned n;
	struct { const char *name; double value; const char *unit; } m[BENCH_MAX_METRICS];
};

void bench_metric(struct bench_metrics *m, const char *name, double value, const char *unit);
double bench_now_ns(void);
long bench_rss_bytes(void);
int bench_cmp_double(const void *a, const void *b);
/* A SEAMCALL that must not fail (exits with the status name otherwise). */
void bench_must(tdxsim *s, unsigned lp, uint64_t fn, struct tdx_module_args *a);
/* VMXON everywhere and the module READY over one TDMR [0, gib GiB) whose top
 * holds the PAMT; returns the RSS growth from SYS.CONFIG to the end. */
long bench_bringup(tdxsim *s, uint64_t gib);

/* A single-TDMR machine of gib GiB brought up to READY (exits on failure). */
tdxsim *bench_open(uint64_t gib);

/* A TD built with plain SEAMCALLs on LP 0 (bench_td.c): pages come from a
 * bump allocator at next_pa; TD_PARAMS at params_pa, PAGE.ADD sources at
 * src_pa (both shared). */
struct btd {
	tdxsim *s;
	uint64_t tdr, tdcs[TDX_TDCS_PAGES], tdvpr, tdcx[TDX_TDVPS_PAGES - 1];
	uint32_t hkid;
	uint64_t next_pa;                   /* page allocator */
	uint64_t params_pa, src_pa;
	uint64_t *sept;                     /* S-EPT pages added */
	unsigned n_sept, cap_sept;
	uint64_t *pages;                    /* private pages, for teardown */
	uint64_t n_pages, cap_pages;
	unsigned n_pkgs, lps_per_pkg;
	int pml4e_done;                     /* the one PML4 entry below 512 GiB */
};
uint64_t btd_page(struct btd *t);
/* MNG.CREATE, KEY.CONFIG per package, ADDCX, MNG.INIT (attributes 0, one
 * vCPU, 4-level EPT), then one vCPU: VP.CREATE, ADDCX, VP.INIT v1. */
void btd_create(struct btd *t, tdxsim *s, uint32_t hkid);
/* S-EPT tables (PD per 1 GiB, PT per 2 MiB) for [gpa, gpa + size), below 512 GiB. */
void btd_sept_map(struct btd *t, uint64_t gpa, uint64_t size);
/* PAGE.ADD of 4 KiB of data at gpa (not measured). */
void btd_page_add(struct btd *t, uint64_t gpa, const void *data);
void btd_finalize(struct btd *t);
/* KVM's VM-destroy teardown; frees the lists. */
void btd_teardown(struct btd *t);

/* TD benchmarks (bench_td.c) and guest benchmarks (bench_guest.c). */
void bench_td(struct bench_metrics *m);

/* Guest benchmarks: VMCALL round trip, fault-in, store loop (bench_guest.c). */
void bench_guest(struct bench_metrics *m);
/* Timing-model calibration against the published anchors (bench_calib.c). */
void bench_calib(struct bench_metrics *m);
/* Trace benchmarks: replay rate, bytes per event (bench_trace.c). */
void bench_trace(struct bench_metrics *m);
/* VM-entry path comparison (bench_paths.c): per-path cycles and host ns per
 * exit; the breakdown goes to vm-entry-paths.dat next to out_json. */
void bench_paths(struct bench_metrics *m, const char *out_json);

#endif
