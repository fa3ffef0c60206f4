/*
 * tdxsim stats TRACE [--json]: summary of a SEAMCALL trace
 * (docs/trace-format.md): SEAMCALLs per leaf, statuses by name, and the
 * simulated cycles charged per call (p50/p90/p99/max per leaf and overall,
 * nearest-rank percentiles), as a table or one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdxsim/tdxsim.h"
#include "trace_events.h"
#include "cli.h"

const char cmd_stats_usage[] =
	"Usage: tdxsim stats TRACE [--json]\n"
	"\n"
	"Summarize a SEAMCALL trace recorded with TDXSIM_TRACE (plain or .gz):\n"
	"SEAMCALLs per leaf, the distribution of completion statuses by name, and\n"
	"the simulated cycles charged per call: p50, p90, p99 (nearest rank) and\n"
	"max, per leaf and overall.\n"
	"\n"
	"Options:\n"
	"  --json         one JSON object instead of the table\n"
	"  -h, --help     show this help\n"
	"\n"
	"Exit status: 0 success, 2 bad usage or a bad trace (FILE:LINE: what was\n"
	"expected, on stderr).\n";

struct namecount {
	const char *name;
	size_t count;
};

struct leafstat {
	const char *name;               /* "" for a leaf the trace names null */
	uint64_t leaf;
	uint64_t *cycles;               /* sorted at the end */
	size_t n;
	uint64_t total;
	struct namecount *st;           /* statuses of this leaf */
	size_t nst;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_nc(const void *a, const void *b)
{
	const struct namecount *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int cmp_leaf(const void *a, const void *b)
{
	const struct leafstat *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Count name in a table of at most cap entries (cap >= distinct names). */
static void count_name(struct namecount *t, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(t[i].name, name)) {
			t[i].count++;
			return;
		}
	t[(*n)++] = (struct namecount){ name, 1 };
}

static void leaf_label(const struct leafstat *l, char *buf, size_t len)
{
	if (l->name[0])
		snprintf(buf, len, "%s", l->name);
	else
		snprintf(buf, len, "leaf %llu (unknown)", (unsigned long long)l->leaf);
}

static void json_cycles(const uint64_t *sorted, size_t n, uint64_t total)
{
	printf("{\"total\": %llu, \"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"max\": %llu}",
	       (unsigned long long)total, (unsigned long long)tev_percentile(sorted, n, 50),
	       (unsigned long long)tev_percentile(sorted, n, 90),
	       (unsigned long long)tev_percentile(sorted, n, 99),
	       (unsigned long long)(n ? sorted[n - 1] : 0));
}

static void json_statuses(const struct namecount *st, size_t n)
{
	printf("{");
	for (size_t i = 0; i < n; i++) {
		printf("%s", i ? ", " : "");
		cli_json_str(stdout, st[i].name);
		printf(": %zu", st[i].count);
	}
	printf("}");
}

int cmd_stats(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--") && i + 1 < argc && !path && i + 2 == argc)
			path = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("stats", "unknown option '%s'", argv[i]);
		else if (path)
			return cli_usage_error("stats", "too many arguments (expected one TRACE)");
		else
			path = argv[i];
	}
	if (!path)
		return cli_usage_error("stats", "missing TRACE (a trace file recorded with TDXSIM_TRACE)");

	struct tev_trace t;
	char err[512];
	if (tev_load(path, tdx_seamcall_leaf_name, &t, err, sizeof(err))) {
		cli_error("stats", "%s", err);
		return CLI_EXIT_USAGE;
	}

	size_t n = t.n_calls;
	struct leafstat *leaves = calloc(n + 1, sizeof(*leaves));
	struct namecount *st = calloc(n + 1, sizeof(*st));
	uint64_t *all = calloc(n + 1, sizeof(*all));
	struct namecount *lst = calloc(n + 1, sizeof(*lst));   /* statuses, carved up per leaf */
	uint64_t *lcyc = calloc(n + 1, sizeof(*lcyc));          /* cycles, carved up per leaf */
	size_t nleaves = 0, nst = 0, injected = 0, max_lp = 0, n_lps = 0;
	uint64_t total = 0;
	unsigned char *lp_seen = calloc(65536, 1);
	if (!leaves || !st || !all || !lst || !lcyc || !lp_seen) {
		cli_error("stats", "out of memory");
		free(leaves), free(st), free(all), free(lst), free(lcyc), free(lp_seen);
		tev_free(&t);
		return CLI_EXIT_FAIL;
	}
	/* Pass 1: the leaves and their call counts. */
	for (size_t i = 0; i < n; i++) {
		const struct tev_call *e = &t.calls[i];
		size_t k;
		for (k = 0; k < nleaves; k++)
			if (!strcmp(leaves[k].name, e->name) && (e->name[0] || leaves[k].leaf == e->leaf))
				break;
		if (k == nleaves)
			leaves[nleaves++] = (struct leafstat){ .name = e->name, .leaf = e->leaf };
		leaves[k].n++;
	}
	size_t off = 0;
	for (size_t k = 0; k < nleaves; k++) {
		leaves[k].cycles = lcyc + off;
		leaves[k].st = lst + off;
		off += leaves[k].n;
		leaves[k].n = 0;
	}
	/* Pass 2: cycles and statuses. */
	for (size_t i = 0; i < n; i++) {
		const struct tev_call *e = &t.calls[i];
		size_t k;
		for (k = 0; k < nleaves; k++)
			if (!strcmp(leaves[k].name, e->name) && (e->name[0] || leaves[k].leaf == e->leaf))
				break;
		struct leafstat *l = &leaves[k];
		l->cycles[l->n++] = e->cycles;
		l->total += e->cycles;
		count_name(l->st, &l->nst, e->status_name);
		count_name(st, &nst, e->status_name);
		all[i] = e->cycles;
		total += e->cycles;
		injected += (size_t)e->injected;
		if (!lp_seen[e->lp]) {
			lp_seen[e->lp] = 1;
			n_lps++;
		}
		if (e->lp > max_lp)
			max_lp = e->lp;
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	for (size_t k = 0; k < nleaves; k++) {
		qsort(leaves[k].cycles, leaves[k].n, sizeof(uint64_t), cmp_u64);
		qsort(leaves[k].st, leaves[k].nst, sizeof(*leaves[k].st), cmp_nc);
	}
	qsort(leaves, nleaves, sizeof(*leaves), cmp_leaf);
	qsort(st, nst, sizeof(*st), cmp_nc);

	if (json) {
		printf("{\n  \"trace\": ");
		cli_json_str(stdout, path);
		printf(",\n  \"format_version\": %u,\n  \"tdxsim\": ", t.version);
		cli_json_str(stdout, t.tdxsim);
		printf(",\n  \"platform\": ");
		cli_json_str(stdout, t.platform);
		printf(",\n  \"seamcalls\": %zu,\n  \"blobs\": %zu,\n  \"other_events\": %zu,\n"
		       "  \"injected\": %zu,\n  \"lps\": [", n, t.n_blobs, t.n_other, injected);
		for (size_t lp = 0, first = 1; n && lp <= max_lp; lp++)
			if (lp_seen[lp]) {
				printf("%s%zu", first ? "" : ", ", lp);
				first = 0;
			}
		printf("],\n  \"cycles\": ");
		json_cycles(all, n, total);
		printf(",\n  \"statuses\": ");
		json_statuses(st, nst);
		printf(",\n  \"leaves\": [");
		for (size_t k = 0; k < nleaves; k++) {
			const struct leafstat *l = &leaves[k];
			printf("%s\n    {\"name\": ", k ? "," : "");
			if (l->name[0])
				cli_json_str(stdout, l->name);
			else
				printf("null");
			printf(", \"leaf\": %llu, \"count\": %zu, \"cycles\": ", (unsigned long long)l->leaf, l->n);
			json_cycles(l->cycles, l->n, l->total);
			printf(", \"statuses\": ");
			json_statuses(l->st, l->nst);
			printf("}");
		}
		printf("%s]\n}\n", nleaves ? "\n  " : "");
	} else {
		printf("Trace %s: format %u, tdxsim %s, platform %s\n", path, t.version, t.tdxsim, t.platform);
		printf("  %zu SEAMCALLs on %zu LPs, %zu blobs, %zu other events, %zu injected statuses\n\n", n,
		       n_lps, t.n_blobs, t.n_other, injected);
		printf("%-28s %8s %12s %10s %10s %10s %10s\n", "LEAF", "CALLS", "CYCLES", "P50", "P90", "P99",
		       "MAX");
		for (size_t k = 0; k < nleaves; k++) {
			const struct leafstat *l = &leaves[k];
			char label[64];
			leaf_label(l, label, sizeof(label));
			printf("%-28s %8zu %12llu %10llu %10llu %10llu %10llu\n", label, l->n,
			       (unsigned long long)l->total,
			       (unsigned long long)tev_percentile(l->cycles, l->n, 50),
			       (unsigned long long)tev_percentile(l->cycles, l->n, 90),
			       (unsigned long long)tev_percentile(l->cycles, l->n, 99),
			       (unsigned long long)(l->n ? l->cycles[l->n - 1] : 0));
		}
		printf("%-28s %8zu %12llu %10llu %10llu %10llu %10llu\n", "all", n, (unsigned long long)total,
		       (unsigned long long)tev_percentile(all, n, 50), (unsigned long long)tev_percentile(all, n, 90),
		       (unsigned long long)tev_percentile(all, n, 99), (unsigned long long)(n ? all[n - 1] : 0));
		printf("\n%-40s %8s %7s\n", "STATUS", "CALLS", "SHARE");
		for (size_t i = 0; i < nst; i++)
			printf("%-40s %8zu %6.1f%%\n", st[i].name, st[i].count, 100.0 * (double)st[i].count / (double)n);
	}
	free(leaves), free(st), free(all), free(lst), free(lcyc), free(lp_seen);
	tev_free(&t);
	if (fflush(stdout) || ferror(stdout)) {
		cli_error("stats", "cannot write the output");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}
