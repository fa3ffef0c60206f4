/* Shared pieces of the tdxsim benchmarks. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>

#include <tdxsim/tdxsim.h>

#define BENCH_MAX_METRICS 64

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

/* TD benchmarks (bench_td.c). */
void bench_td(struct bench_metrics *m);

/* Guest benchmarks: VMCALL round trip, fault-in, store loop (bench_guest.c). */
void bench_guest(struct bench_metrics *m);

#endif
