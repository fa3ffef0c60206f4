/*
 * tdxsim timeline TRACE -o OUT.json: a SEAMCALL trace as Chrome/Perfetto
 * trace-event JSON ({"traceEvents":[...]}). One track per LP (pid 1,
 * tid = LP, named by a thread_name metadata event); each SEAMCALL is a
 * complete event ("ph":"X") named by its leaf, at ts = cycles_start and
 * lasting dur = cycles, converted to microseconds at the TSC frequency of
 * the trace's platform profile (tdxsim_platform.tsc_mhz).
 *
 * The whole trace is checked before anything is written; the output goes
 * to a temporary file next to OUT, renamed over OUT at the end, so a
 * failure leaves no partial OUT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tdxsim/tdxsim.h"
#include "trace_events.h"
#include "cli.h"

const char cmd_timeline_usage[] =
	"Usage: tdxsim timeline TRACE -o OUT.json\n"
	"\n"
	"Convert a SEAMCALL trace recorded with TDXSIM_TRACE (plain or .gz) to the\n"
	"Chrome/Perfetto trace-event JSON format ({\"traceEvents\":[...]}), for\n"
	"chrome://tracing or https://ui.perfetto.dev. One track per LP (pid 1,\n"
	"tid = LP); each SEAMCALL is a complete event (\"ph\":\"X\") named by its\n"
	"leaf, with args status (the status name), status_code, seq and injected.\n"
	"Times are the simulated cycles (cycles_start, cycles) in microseconds at\n"
	"the TSC frequency of the trace's platform profile (see tdxsim info).\n"
	"\n"
	"Options:\n"
	"  -o, --output OUT.json  the file to write (replaced atomically: written to\n"
	"                         a temporary file next to it, then renamed)\n"
	"  -h, --help             show this help\n"
	"\n"
	"Exit status: 0 success, 1 the output could not be written, 2 bad usage or\n"
	"a bad trace (FILE:LINE: what was expected, on stderr; no output file).\n";

/* Cycles at mhz as microseconds with 3 decimals (ns resolution), exact. */
static void put_us(FILE *f, uint64_t cycles, uint32_t mhz)
{
	uint64_t whole = cycles / mhz, rem = cycles % mhz;
	uint64_t frac = (rem * 1000 + mhz / 2) / mhz;    /* rem < mhz < 2^32 */
	if (frac == 1000) {
		whole++;
		frac = 0;
	}
	fprintf(f, "%llu.%03llu", (unsigned long long)whole, (unsigned long long)frac);
}

static int write_events(FILE *f, const struct tev_trace *t, uint32_t mhz, const char *path)
{
	unsigned char *seen = calloc(65536, 1);
	if (!seen)
		return -1;
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"trace\":");
	cli_json_str(f, path);
	fprintf(f, ",\"tdxsim\":");
	cli_json_str(f, t->tdxsim);
	fprintf(f, ",\"platform\":");
	cli_json_str(f, t->platform);
	fprintf(f, ",\"tsc_mhz\":%u},\n\"traceEvents\":[\n", mhz);
	fprintf(f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":");
	char pname[128];
	snprintf(pname, sizeof(pname), "tdxsim %s (%s)", t->platform, t->tdxsim);
	cli_json_str(f, pname);
	fprintf(f, "}}");
	for (size_t i = 0; i < t->n_calls; i++) {
		uint64_t lp = t->calls[i].lp;
		if (seen[lp])
			continue;
		seen[lp] = 1;
		fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%llu,\"args\":{\"name\":\"LP %llu\"}}",
			(unsigned long long)lp, (unsigned long long)lp);
		fprintf(f, ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":%llu,\"args\":{\"sort_index\":%llu}}",
			(unsigned long long)lp, (unsigned long long)lp);
	}
	for (size_t i = 0; i < t->n_calls; i++) {
		const struct tev_call *e = &t->calls[i];
		char name[64];
		if (e->name[0])
			snprintf(name, sizeof(name), "%s", e->name);
		else
			snprintf(name, sizeof(name), "leaf %llu", (unsigned long long)e->leaf);
		fprintf(f, ",\n{\"name\":");
		cli_json_str(f, name);
		fprintf(f, ",\"cat\":\"seamcall\",\"ph\":\"X\",\"pid\":1,\"tid\":%llu,\"ts\":", (unsigned long long)e->lp);
		put_us(f, e->cycles_start, mhz);
		fprintf(f, ",\"dur\":");
		put_us(f, e->cycles, mhz);
		fprintf(f, ",\"args\":{\"status\":");
		cli_json_str(f, e->status_name);
		fprintf(f, ",\"status_code\":\"0x%llx\",\"seq\":%llu,\"injected\":%d,\"cycles\":%llu}}",
			(unsigned long long)e->status, (unsigned long long)e->seq, e->injected,
			(unsigned long long)e->cycles);
	}
	fprintf(f, "\n]}\n");
	free(seen);
	return ferror(f) ? -1 : 0;
}

int cmd_timeline(int argc, char **argv)
{
	const char *path = NULL, *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r = cli_opt_value("timeline", argc, argv, &i, "--output", &v);
		if (!r)
			r = cli_opt_value("timeline", argc, argv, &i, "-o", &v);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r > 0) {
			if (out)
				return cli_usage_error("timeline", "-o given twice");
			out = v;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("timeline", "unknown option '%s'", argv[i]);
		} else if (path) {
			return cli_usage_error("timeline", "too many arguments (expected one TRACE)");
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return cli_usage_error("timeline", "missing TRACE (a trace file recorded with TDXSIM_TRACE)");
	if (!out || !*out)
		return cli_usage_error("timeline", "missing -o OUT.json (the file to write)");

	struct tev_trace t;
	char err[512];
	if (tev_load(path, tdx_seamcall_leaf_name, &t, err, sizeof(err))) {
		cli_error("timeline", "%s", err);
		return CLI_EXIT_USAGE;
	}
	const tdxsim_platform *p = tdxsim_platform_find(t.platform);
	if (!p || !p->tsc_mhz) {
		cli_error("timeline", "%s:1: unknown platform \"%s\": expected a platform profile of this "
			  "tdxsim (spr, emr, gnr) to take the TSC frequency from", path, t.platform);
		tev_free(&t);
		return CLI_EXIT_USAGE;
	}

	size_t len = strlen(out);
	char *tmp = malloc(len + 16);
	if (!tmp) {
		tev_free(&t);
		cli_error("timeline", "out of memory");
		return CLI_EXIT_FAIL;
	}
	snprintf(tmp, len + 16, "%s.tmp.XXXXXX", out);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		cli_error("timeline", "%s: cannot create a temporary file next to it: %s", out, strerror(errno));
		free(tmp);
		tev_free(&t);
		return CLI_EXIT_FAIL;
	}
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);        /* mkstemp made it 0600 */
	FILE *f = fdopen(fd, "w");
	int bad = !f;
	if (f) {
		bad = write_events(f, &t, p->tsc_mhz, path) != 0;
		bad |= fflush(f) != 0;
		bad |= fsync(fileno(f)) != 0 && errno != EINVAL;
		bad |= fclose(f) != 0;
	} else {
		close(fd);
	}
	if (!bad && rename(tmp, out) != 0)
		bad = 1;
	if (bad) {
		cli_error("timeline", "%s: cannot write: %s", out, strerror(errno ? errno : EIO));
		unlink(tmp);
		free(tmp);
		tev_free(&t);
		return CLI_EXIT_FAIL;
	}
	free(tmp);
	tev_free(&t);
	return CLI_EXIT_OK;
}
