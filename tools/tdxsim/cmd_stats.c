/*
 * tdxsim stats TRACE [--json]: summary of a trace (docs/trace-format.md),
 * read with the library's trace reader (sim/trace_read.h): SEAMCALLs per
 * leaf, statuses by name, the simulated cycles charged per call
 * (p50/p90/p99/max per leaf and overall, nearest-rank percentiles); TD exits
 * per exit reason and module-handled TDCALLs per leaf, with the guest-run
 * and TDCALL cycles. As a table or one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdxsim/tdxsim.h"
#include "sim/trace_read.h"
#include "cli.h"

const char cmd_stats_usage[] =
	"Usage: tdxsim stats TRACE [--json]\n"
	"\n"
	"Summarize a trace recorded with TDXSIM_TRACE (plain or .gz): SEAMCALLs per\n"
	"leaf, the distribution of completion statuses by name, and the simulated\n"
	"cycles charged per call: p50, p90, p99 (nearest rank) and max, per leaf and\n"
	"overall; then the TD exits per exit reason (with the guest-run cycles) and\n"
	"the TDCALLs the module handled, per leaf.\n"
	"\n"
	"Options:\n"
	"  --json         one JSON object instead of the table\n"
	"  -h, --help     show this help\n"
	"\n"
	"Exit status: 0 success, 2 bad usage or a bad trace (FILE:LINE: what was\n"
	"expected, on stderr).\n";

/* A growable array of cycle counts. */
struct u64v {
	uint64_t *v;
	size_t n, cap;
	uint64_t total;
};

struct namecount {
	const char *name;
	size_t count;
};

/* One row of a table: a leaf (key = RAX leaf bits) or an exit reason. */
struct row {
	uint64_t key;
	const char *name;               /* NULL: unknown leaf / reason */
	struct u64v cyc;
	struct namecount *st;           /* statuses of this row */
	size_t nst, capst;
};

struct table {
	struct row *r;
	size_t n, cap;
	struct u64v all;
	struct namecount *st;           /* statuses over the table */
	size_t nst, capst;
};

struct stats {
	struct table calls, exits, tdcalls;
	char **names;                   /* interned status names */
	size_t nnames, capnames;
	size_t injected, blobs, other, n_lps;
	unsigned char *lp_seen;
	int oom;
};

static void u64_push(struct stats *s, struct u64v *v, uint64_t x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		uint64_t *p = realloc(v->v, cap * sizeof(*p));
		if (!p) {
			s->oom = 1;
			return;
		}
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	v->total += x;
}

static const char *intern(struct stats *s, const char *name)
{
	for (size_t i = 0; i < s->nnames; i++)
		if (!strcmp(s->names[i], name))
			return s->names[i];
	if (s->nnames == s->capnames) {
		size_t cap = s->capnames ? s->capnames * 2 : 16;
		char **p = realloc(s->names, cap * sizeof(*p));
		if (!p)
			return s->oom = 1, "";
		s->names = p;
		s->capnames = cap;
	}
	char *d = strdup(name);
	if (!d)
		return s->oom = 1, "";
	s->names[s->nnames++] = d;
	return d;
}

/* Count an interned name (pointer compare). */
static void count(struct stats *s, struct namecount **t, size_t *n, size_t *cap, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if ((*t)[i].name == name) {
			(*t)[i].count++;
			return;
		}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct namecount *p = realloc(*t, c * sizeof(*p));
		if (!p) {
			s->oom = 1;
			return;
		}
		*t = p;
		*cap = c;
	}
	(*t)[(*n)++] = (struct namecount){ name, 1 };
}

static void add(struct stats *s, struct table *t, uint64_t key, const char *name, const char *status,
		uint64_t cycles)
{
	size_t k;
	for (k = 0; k < t->n && t->r[k].key != key; k++)
		;
	if (k == t->n) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			struct row *p = realloc(t->r, cap * sizeof(*p));
			if (!p) {
				s->oom = 1;
				return;
			}
			t->r = p;
			t->cap = cap;
		}
		t->r[t->n++] = (struct row){ .key = key, .name = name };
	}
	struct row *r = &t->r[k];
	u64_push(s, &r->cyc, cycles);
	u64_push(s, &t->all, cycles);
	const char *st = intern(s, status[0] ? status : "(null)");
	count(s, &r->st, &r->nst, &r->capst, st);
	count(s, &t->st, &t->nst, &t->capst, st);
}

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

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->cyc.n != y->cyc.n)
		return x->cyc.n < y->cyc.n ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* Nearest-rank percentile (p in 1..100) of n sorted values; 0 if n == 0. */
static uint64_t percentile(const uint64_t *sorted, size_t n, unsigned p)
{
	if (!n)
		return 0;
	size_t rank = (n / 100) * p + ((n % 100) * p + 99) / 100;   /* ceil(n*p/100) */
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

/* qsort with n == 0 may get a NULL base, which qsort does not allow. */
static void sort_n(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, size, cmp);
}

static void table_sort(struct table *t)
{
	sort_n(t->all.v, t->all.n, sizeof(uint64_t), cmp_u64);
	for (size_t k = 0; k < t->n; k++) {
		sort_n(t->r[k].cyc.v, t->r[k].cyc.n, sizeof(uint64_t), cmp_u64);
		sort_n(t->r[k].st, t->r[k].nst, sizeof(struct namecount), cmp_nc);
	}
	sort_n(t->r, t->n, sizeof(*t->r), cmp_row);
	sort_n(t->st, t->nst, sizeof(*t->st), cmp_nc);
}

static void table_free(struct table *t)
{
	for (size_t k = 0; k < t->n; k++) {
		free(t->r[k].cyc.v);
		free(t->r[k].st);
	}
	free(t->r);
	free(t->all.v);
	free(t->st);
}

static void row_label(const struct row *r, const char *unknown, char *buf, size_t len)
{
	if (r->name)
		snprintf(buf, len, "%s", r->name);
	else
		snprintf(buf, len, "%s %llu (unknown)", unknown, (unsigned long long)(r->key & 0xffff));
}

static void json_cycles(const struct u64v *v)
{
	printf("{\"total\": %llu, \"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"max\": %llu}",
	       (unsigned long long)v->total, (unsigned long long)percentile(v->v, v->n, 50),
	       (unsigned long long)percentile(v->v, v->n, 90), (unsigned long long)percentile(v->v, v->n, 99),
	       (unsigned long long)(v->n ? v->v[v->n - 1] : 0));
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

/* "leaves": [...] or "reasons": [...] */
static void json_rows(const struct table *t, const char *key_name)
{
	printf("[");
	for (size_t k = 0; k < t->n; k++) {
		const struct row *r = &t->r[k];
		printf("%s\n    {\"name\": ", k ? "," : "");
		if (r->name)
			cli_json_str(stdout, r->name);
		else
			printf("null");
		printf(", \"%s\": %llu, \"count\": %zu, \"cycles\": ", key_name,
		       (unsigned long long)(r->key & 0xffff), r->cyc.n);
		json_cycles(&r->cyc);
		printf(", \"statuses\": ");
		json_statuses(r->st, r->nst);
		printf("}");
	}
	printf("%s]", t->n ? "\n  " : "");
}

static void text_row(const char *label, const struct u64v *v)
{
	printf("%-28s %8zu %12llu %10llu %10llu %10llu %10llu\n", label, v->n, (unsigned long long)v->total,
	       (unsigned long long)percentile(v->v, v->n, 50), (unsigned long long)percentile(v->v, v->n, 90),
	       (unsigned long long)percentile(v->v, v->n, 99), (unsigned long long)(v->n ? v->v[v->n - 1] : 0));
}

static void text_table(const struct table *t, const char *first, const char *unknown)
{
	printf("%-28s %8s %12s %10s %10s %10s %10s\n", first, "CALLS", "CYCLES", "P50", "P90", "P99", "MAX");
	for (size_t k = 0; k < t->n; k++) {
		char label[64];
		row_label(&t->r[k], unknown, label, sizeof(label));
		text_row(label, &t->r[k].cyc);
	}
	text_row("all", &t->all);
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

	struct stats *s = calloc(1, sizeof(*s));
	struct trace_reader *tr = trace_reader_open(path);
	if (!s || !tr || !(s->lp_seen = calloc(65536, 1))) {
		cli_error("stats", "out of memory");
		trace_reader_close(tr);
		if (s)
			free(s->lp_seen);
		free(s);
		return CLI_EXIT_FAIL;
	}
	int rc = trace_reader_error(tr) ? -1 : 1;
	const struct trace_ev *e;
	while (rc > 0 && (rc = trace_reader_next(tr, &e)) > 0 && !s->oom) {
		switch (e->kind) {
		case TRACE_EV_SEAMCALL:
			add(s, &s->calls, e->rax & (TDX_LEAF_MASK | TDX_SEAMLDR_BIT), e->name, e->status_name, e->cycles);
			s->injected += (size_t)e->injected;
			if (!s->lp_seen[e->lp]) {
				s->lp_seen[e->lp] = 1;
				s->n_lps++;
			}
			break;
		case TRACE_EV_TD_EXIT:
			add(s, &s->exits, e->exit_reason, trace_exit_reason_name(e->exit_reason), e->status_name,
			    e->cycles);
			break;
		case TRACE_EV_TDCALL:
			add(s, &s->tdcalls, e->rax & TDX_LEAF_MASK, e->name, e->status_name, e->cycles);
			break;
		case TRACE_EV_BLOB:
			s->blobs++;
			break;
		case TRACE_EV_OTHER:
			s->other++;
			break;
		}
	}
	int ret = CLI_EXIT_OK;
	if (rc < 0) {
		cli_error("stats", "%s", trace_reader_error(tr));
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (s->oom) {
		cli_error("stats", "out of memory");
		ret = CLI_EXIT_FAIL;
		goto out;
	}
	table_sort(&s->calls);
	table_sort(&s->exits);
	table_sort(&s->tdcalls);
	const struct trace_header *h = trace_reader_header(tr);
	size_t n = s->calls.all.n;
	if (json) {
		printf("{\n  \"trace\": ");
		cli_json_str(stdout, path);
		printf(",\n  \"format_version\": %u,\n  \"format_minor\": %u,\n  \"tdxsim\": ", h->version, h->minor);
		cli_json_str(stdout, h->tdxsim);
		printf(",\n  \"platform\": ");
		cli_json_str(stdout, h->platform);
		printf(",\n  \"seamcalls\": %zu,\n  \"blobs\": %zu,\n  \"td_exits\": %zu,\n  \"tdcalls\": %zu,\n"
		       "  \"other_events\": %zu,\n  \"injected\": %zu,\n  \"lps\": [",
		       n, s->blobs, s->exits.all.n, s->tdcalls.all.n, s->other, s->injected);
		for (size_t lp = 0, first = 1; lp < 65536; lp++)
			if (s->lp_seen[lp]) {
				printf("%s%zu", first ? "" : ", ", lp);
				first = 0;
			}
		printf("],\n  \"cycles\": ");
		json_cycles(&s->calls.all);
		printf(",\n  \"statuses\": ");
		json_statuses(s->calls.st, s->calls.nst);
		printf(",\n  \"leaves\": ");
		json_rows(&s->calls, "leaf");
		printf(",\n  \"guest_cycles\": ");
		json_cycles(&s->exits.all);
		printf(",\n  \"exit_reasons\": ");
		json_rows(&s->exits, "exit_reason");
		printf(",\n  \"tdcall_cycles\": ");
		json_cycles(&s->tdcalls.all);
		printf(",\n  \"tdcall_leaves\": ");
		json_rows(&s->tdcalls, "leaf");
		printf("\n}\n");
	} else {
		printf("Trace %s: format %u.%u, tdxsim %s, platform %s\n", path, h->version, h->minor, h->tdxsim,
		       h->platform);
		printf("  %zu SEAMCALLs on %zu LPs, %zu blobs, %zu TD exits, %zu TDCALLs, %zu other events, "
		       "%zu injected statuses\n\n", n, s->n_lps, s->blobs, s->exits.all.n, s->tdcalls.all.n,
		       s->other, s->injected);
		text_table(&s->calls, "LEAF", "leaf");
		printf("\n%-40s %8s %7s\n", "STATUS", "CALLS", "SHARE");
		for (size_t i = 0; i < s->calls.nst; i++)
			printf("%-40s %8zu %6.1f%%\n", s->calls.st[i].name, s->calls.st[i].count,
			       100.0 * (double)s->calls.st[i].count / (double)n);
		if (s->exits.all.n) {
			printf("\nTD exits (cycles: the guest run before each exit)\n");
			text_table(&s->exits, "EXIT REASON", "reason");
		}
		if (s->tdcalls.all.n) {
			printf("\nTDCALLs handled by the module\n");
			text_table(&s->tdcalls, "TDCALL", "leaf");
		}
	}
	if (fflush(stdout) || ferror(stdout)) {
		cli_error("stats", "cannot write the output");
		ret = CLI_EXIT_FAIL;
	}
out:
	trace_reader_close(tr);
	table_free(&s->calls);
	table_free(&s->exits);
	table_free(&s->tdcalls);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s->lp_seen);
	free(s);
	return ret;
}
