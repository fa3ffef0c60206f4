/*
 * tdxsim benchmarks. Writes one JSON object mapping metric names to
 * {"value": N, "unit": "..."} (results.json); later benchmarks add metrics.
 * Usage: tdxsim-bench OUT.json
 *
 *  seamcall.sys_rd.ns             median ns per TDH.SYS.RD through
 *                                 __seamcall_ret, over 31 batches of 20,000
 *  memory.rss_per_gib_tdmr.bytes  host RSS growth per GiB of TDX memory from
 *                                 before TDH.SYS.CONFIG to after TDMR.INIT,
 *                                 on a 64 GiB machine
 *  memory.pamt_per_gib.bytes      the PAMT's own size per GiB, for comparison
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tdxsim/tdxsim.h>

#include "bench.h"

void bench_metric(struct bench_metrics *m, const char *name, double value, const char *unit)
{
	if (m->n == BENCH_MAX_METRICS) {
		fprintf(stderr, "tdxsim-bench: too many metrics\n");
		exit(1);
	}
	m->m[m->n].name = name;
	m->m[m->n].value = value;
	m->m[m->n].unit = unit;
	m->n++;
}

double bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

long bench_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss * 4096;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void die(const char *what, uint64_t st)
{
	char buf[96];
	fprintf(stderr, "tdxsim-bench: %s failed: %s\n", what, tdx_status_str(st, buf, sizeof(buf)));
	exit(1);
}

void bench_must(tdxsim *s, unsigned lp, uint64_t fn, struct tdx_module_args *a)
{
	uint64_t st = tdxsim_seamcall(s, lp, fn, a);
	if (st & TDX_STATUS_ERROR_BIT)
		die(tdx_seamcall_leaf_name(fn), st);
}

/* Bring a single-TDMR machine of `gib` GiB up to READY; returns RSS growth
 * from before SYS.CONFIG to the end. */
long bench_bringup(tdxsim *s, uint64_t gib)
{
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	for (unsigned lp = 0; lp < info.n_lps; lp++)
		tdxsim_vmx_get(s, lp);
	struct tdx_module_args a = { 0 };
	bench_must(s, 0, TDH_SYS_INIT, &a);
	for (unsigned lp = 0; lp < info.n_lps; lp++) {
		memset(&a, 0, sizeof(a));
		bench_must(s, lp, TDH_SYS_LP_INIT, &a);
	}
	uint64_t size = gib << 30;
	struct tdx_tdmr_info t = { .base = 0, .size = size };
	t.pamt_4k_size = (size >> 12) * 16;
	t.pamt_2m_size = ((size >> 21) * 16 + 4095) & ~4095ULL;
	t.pamt_1g_size = 4096;
	uint64_t pamt = size - t.pamt_4k_size - t.pamt_2m_size - t.pamt_1g_size;
	t.pamt_4k_base = pamt;
	t.pamt_2m_base = pamt + t.pamt_4k_size;
	t.pamt_1g_base = t.pamt_2m_base + t.pamt_2m_size;
	uint64_t meta = pamt - 0x2000;
	t.reserved[0].offset = meta;
	t.reserved[0].size = size - meta;
	long before = bench_rss_bytes();
	tdxsim_mem_write(s, meta + 0x1000, 0, &t, sizeof(t));
	uint64_t pa = meta + 0x1000;
	tdxsim_mem_write(s, meta, 0, &pa, 8);
	memset(&a, 0, sizeof(a));
	a.rcx = meta;
	a.rdx = 1;
	a.r8 = info.first_tdx_keyid;
	bench_must(s, 0, TDH_SYS_CONFIG, &a);
	for (unsigned p = 0; p < info.packages; p++) {
		memset(&a, 0, sizeof(a));
		bench_must(s, p * info.lps_per_package, TDH_SYS_KEY_CONFIG, &a);
	}
	uint64_t next = 0;
	while (next < size) {
		memset(&a, 0, sizeof(a));
		a.rcx = 0;
		bench_must(s, 0, TDH_SYS_TDMR_INIT, &a);
		next = a.rdx;
	}
	return bench_rss_bytes() - before;
}

tdxsim *bench_open(uint64_t gib)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 1;
	cfg.cmrs[0].base = 0;
	cfg.cmrs[0].size = gib << 30;
	tdxsim *s;
	if (tdxsim_open(&cfg, &s)) {
		fprintf(stderr, "tdxsim-bench: tdxsim_open of a %llu GiB machine failed\n",
			(unsigned long long)gib);
		exit(1);
	}
	bench_bringup(s, gib);
	return s;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.json\n", argv[0]);
		return 2;
	}
	const uint64_t gib = 64;
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 1;
	cfg.cmrs[0].base = 0;
	cfg.cmrs[0].size = gib << 30;
	tdxsim *s;
	if (tdxsim_open(&cfg, &s)) {
		fprintf(stderr, "tdxsim-bench: tdxsim_open failed\n");
		return 1;
	}
	long grown = bench_bringup(s, gib);
	double rss_per_gib = (double)grown / gib;
	double pamt_per_gib = (double)(((1ULL << 30) >> 12) + ((1ULL << 30) >> 21) + 1) * 16;

	/* TDH.SYS.RD through the Linux entry point. */
	tdxsim_thread_bind(s, 0);
	enum { BATCHES = 31, PER = 20000 };
	double ns[BATCHES];
	for (int b = 0; b < BATCHES; b++) {
		double t0 = bench_now_ns();
		for (int i = 0; i < PER; i++) {
			struct tdx_module_args a = { .rdx = MD_SYS_MAX_TDMRS };
			uint64_t st = __seamcall_ret(TDH_SYS_RD, &a);
			if (st)
				die("TDH.SYS.RD", st);
		}
		ns[b] = (bench_now_ns() - t0) / PER;
	}
	qsort(ns, BATCHES, sizeof(ns[0]), bench_cmp_double);
	tdxsim_close(s);

	struct bench_metrics m = { 0 };
	bench_metric(&m, "seamcall.sys_rd.ns", ns[BATCHES / 2], "ns");
	bench_metric(&m, "memory.rss_per_gib_tdmr.bytes", rss_per_gib, "bytes");
	bench_metric(&m, "memory.pamt_per_gib.bytes", pamt_per_gib, "bytes");
	printf("seamcall.sys_rd.ns = %.1f (min %.1f, max %.1f)\n", ns[BATCHES / 2], ns[0], ns[BATCHES - 1]);
	printf("memory.rss_per_gib_tdmr.bytes = %.0f (PAMT alone: %.0f, ratio %.3f)\n",
	       rss_per_gib, pamt_per_gib, rss_per_gib / pamt_per_gib);

	/* TDXSIM_BENCH_ONLY=td|guest|trace|calib|paths runs one group (for profiling). */
	const char *only = getenv("TDXSIM_BENCH_ONLY");
	if (!only || !strcmp(only, "td"))
		bench_td(&m);
	if (!only || !strcmp(only, "guest"))
		bench_guest(&m);
	if (!only || !strcmp(only, "trace"))
		bench_trace(&m);
	if (!only || !strcmp(only, "calib"))
		bench_calib(&m);
	if (!only || !strcmp(only, "paths"))
		bench_paths(&m, argv[1]);

	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fprintf(f, "{\n");
	for (unsigned i = 0; i < m.n; i++)
		fprintf(f, "  \"%s\": {\"value\": %.10g, \"unit\": \"%s\"}%s\n", m.m[i].name,
			m.m[i].value, m.m[i].unit, i + 1 < m.n ? "," : "");
	fprintf(f, "}\n");
	fclose(f);
	return 0;
}
