/*
 * tdxsim timeline TRACE -o OUT.json: a trace as Chrome/Perfetto trace-event
 * JSON ({"traceEvents":[...]}), read with the library's trace reader
 * (sim/trace_read.h). One track per LP (pid 1, tid = LP, named by a
 * thread_name metadata event); each SEAMCALL is a complete event
 * ("ph":"X") named by its leaf, at ts = cycles_start lasting dur = cycles;
 * a guest run (td_exit event) is a "TD guest" slice inside its
 * TDH.VP.ENTER, from the entry to the TD exit, and each TDCALL the module
 * handled a slice inside the guest run. Cycles are converted to
 * microseconds at the TSC frequency of the trace's platform profile
 * (tdxsim_platform.tsc_mhz).
 *
 * The output goes to a temporary file next to OUT, renamed over OUT once
 * the whole trace has been read without error; on any error the temporary
 * file is removed, so a failure leaves no partial OUT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tdxsim/tdxsim.h"
#include "sim/trace_read.h"
#include "cli.h"

const char cmd_timeline_usage[] =
	"Usage: tdxsim timeline TRACE -o OUT.json\n"
	"\n"
	"Convert a trace recorded with TDXSIM_TRACE (plain or .gz) to the\n"
	"Chrome/Perfetto trace-event JSON format ({\"traceEvents\":[...]}), for\n"
	"chrome://tracing or https://ui.perfetto.dev. One track per LP (pid 1,\n"
	"tid = LP); each SEAMCALL is a complete event (\"ph\":\"X\") named by its\n"
	"leaf, with args status (the status name), status_code, seq and injected;\n"
	"each guest run is a \"TD guest\" slice inside its TDH.VP.ENTER, from the\n"
	"entry to the TD exit (args: exit reason, qualification, GPA, guest RIP),\n"
	"with the TDCALLs the module handled as slices inside it.\n"
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

static void meta_lp(FILE *f, unsigned char *seen, uint32_t lp)
{
	if (seen[lp])
		return;
	seen[lp] = 1;
	fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"args\":{\"name\":\"LP %u\"}}",
		lp, lp);
	fprintf(f, ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"args\":{\"sort_index\":%u}}",
		lp, lp);
}

/* A complete event's common part: name, cat, track, ts, dur, then "args":{ */
static void slice(FILE *f, const char *name, const char *cat, uint32_t lp, uint64_t start, uint64_t len,
		  uint32_t mhz)
{
	fprintf(f, ",\n{\"name\":");
	cli_json_str(f, name);
	fprintf(f, ",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,\"ts\":", cat, lp);
	put_us(f, start, mhz);
	fprintf(f, ",\"dur\":");
	put_us(f, len, mhz);
	fprintf(f, ",\"args\":{");
}

/* Stream the events of r to f: 0, or -1 (a trace error: trace_reader_error,
 * or a write error: ferror). */
static int write_events(FILE *f, struct trace_reader *r, uint32_t mhz, const char *path)
{
	const struct trace_header *h = trace_reader_header(r);
	unsigned char *seen = calloc(65536, 1);
	if (!seen)
		return trace_reader_fail(r, "out of memory");
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"trace\":");
	cli_json_str(f, path);
	fprintf(f, ",\"tdxsim\":");
	cli_json_str(f, h->tdxsim);
	fprintf(f, ",\"platform\":");
	cli_json_str(f, h->platform);
	fprintf(f, ",\"tsc_mhz\":%u},\n\"traceEvents\":[\n", mhz);
	fprintf(f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":");
	char pname[128];
	snprintf(pname, sizeof(pname), "tdxsim %s (%s)", h->platform, h->tdxsim);
	cli_json_str(f, pname);
	fprintf(f, "}}");
	const struct trace_ev *e;
	int rc;
	while ((rc = trace_reader_next(r, &e)) > 0 && !ferror(f)) {
		char name[64];
		switch (e->kind) {
		case TRACE_EV_SEAMCALL:
		case TRACE_EV_TDCALL:
			meta_lp(f, seen, e->lp);
			if (e->name)
				snprintf(name, sizeof(name), "%s", e->name);
			else
				snprintf(name, sizeof(name), "leaf %llu", (unsigned long long)(e->rax & 0xffff));
			slice(f, name, e->kind == TRACE_EV_SEAMCALL ? "seamcall" : "tdcall", e->lp, e->cycles_start,
			      e->cycles, mhz);
			fprintf(f, "\"status\":");
			cli_json_str(f, e->status_name);
			fprintf(f, ",\"status_code\":\"0x%llx\",\"seq\":%llu,", (unsigned long long)e->status,
				(unsigned long long)e->seq);
			if (e->kind == TRACE_EV_SEAMCALL)
				fprintf(f, "\"injected\":%d,", e->injected);
			else
				fprintf(f, "\"rip\":\"0x%llx\",", (unsigned long long)e->rip);
			fprintf(f, "\"cycles\":%llu}}", (unsigned long long)e->cycles);
			break;
		case TRACE_EV_TD_EXIT: {
			meta_lp(f, seen, e->lp);
			const char *rn = trace_exit_reason_name(e->exit_reason);
			slice(f, "TD guest", "td", e->lp, e->cycles_start, e->cycles, mhz);
			fprintf(f, "\"exit_reason\":%u,\"exit\":", e->exit_reason);
			if (rn) {
				cli_json_str(f, rn);
			} else {
				snprintf(name, sizeof(name), "reason %u", e->exit_reason);
				cli_json_str(f, name);
			}
			fprintf(f, ",\"status\":");
			cli_json_str(f, e->status_name);
			fprintf(f, ",\"exit_qual\":\"0x%llx\",\"gpa\":\"0x%llx\",\"rip\":\"0x%llx\","
				"\"tdvpr\":\"0x%llx\",\"seq\":%llu,\"cycles\":%llu}}",
				(unsigned long long)e->exit_qual, (unsigned long long)e->gpa, (unsigned long long)e->rip,
				(unsigned long long)e->tdvpr, (unsigned long long)e->seq, (unsigned long long)e->cycles);
			break;
		}
		case TRACE_EV_BLOB:
		case TRACE_EV_OTHER:
			break;
		}
	}
	free(seen);
	if (rc < 0)
		return -1;
	fprintf(f, "\n]}\n");
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

	struct trace_reader *tr = trace_reader_open(path);
	if (!tr) {
		cli_error("timeline", "out of memory");
		return CLI_EXIT_FAIL;
	}
	if (trace_reader_error(tr)) {
		cli_error("timeline", "%s", trace_reader_error(tr));
		trace_reader_close(tr);
		return CLI_EXIT_USAGE;
	}
	const tdxsim_platform *p = tdxsim_platform_find(trace_reader_header(tr)->platform);
	if (!p || !p->tsc_mhz) {
		cli_error("timeline", "%s:1: platform \"%s\" has no TSC frequency", path,
			  trace_reader_header(tr)->platform);
		trace_reader_close(tr);
		return CLI_EXIT_USAGE;
	}

	size_t len = strlen(out);
	char *tmp = malloc(len + 16);
	if (!tmp) {
		trace_reader_close(tr);
		cli_error("timeline", "out of memory");
		return CLI_EXIT_FAIL;
	}
	snprintf(tmp, len + 16, "%s.tmp.XXXXXX", out);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		cli_error("timeline", "%s: cannot create a temporary file next to it: %s", out, strerror(errno));
		free(tmp);
		trace_reader_close(tr);
		return CLI_EXIT_FAIL;
	}
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);        /* mkstemp made it 0600 */
	FILE *f = fdopen(fd, "w");
	int bad = !f, bad_trace = 0;
	if (f) {
		bad = write_events(f, tr, p->tsc_mhz, path) != 0;
		bad_trace = bad && trace_reader_error(tr);
		bad |= fflush(f) != 0;
		bad |= fsync(fileno(f)) != 0 && errno != EINVAL;
		bad |= fclose(f) != 0;
	} else {
		close(fd);
	}
	if (!bad && rename(tmp, out) != 0)
		bad = 1;
	if (bad_trace) {
		cli_error("timeline", "%s", trace_reader_error(tr));
		unlink(tmp);
		free(tmp);
		trace_reader_close(tr);
		return CLI_EXIT_USAGE;
	}
	if (bad) {
		cli_error("timeline", "%s: cannot write: %s", out, strerror(errno ? errno : EIO));
		unlink(tmp);
		free(tmp);
		trace_reader_close(tr);
		return CLI_EXIT_FAIL;
	}
	free(tmp);
	trace_reader_close(tr);
	return CLI_EXIT_OK;
}
