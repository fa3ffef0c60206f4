/*
 * Strict reader of SEAMCALL traces (docs/trace-format.md) for the trace
 * subcommands `tdxsim stats` and `tdxsim timeline`.
 *
 * tev_parse() checks every line of a trace held in memory: each line must
 * be one well-formed JSON object (a small strict JSON syntax checker, depth
 * limited, so a malformed or truncated line is an error, never a crash),
 * line 1 the header with a format version this reader knows, then events
 * with "seq" counting from 0. "seamcall" events are kept (the fields the
 * subcommands need), "blob" events counted, other "ev" kinds skipped as the
 * format asks. The first problem is reported as "FILE:LINE: expected ...".
 *
 * This file uses no library internals so that the libFuzzer target
 * (tests/fuzz/fuzz_trace_reader.c) can build it alone with clang; tev_load()
 * (trace_load.c) adds the file and gzip reading (sim/trace.h).
 */
#ifndef TDXSIM_TRACE_EVENTS_H
#define TDXSIM_TRACE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define TEV_FORMAT_VERSION 1            /* the newest trace version read */

struct tev_call {
	uint64_t seq, lp, leaf, rax, status, cycles, cycles_start;
	int injected;
	char name[48];                  /* leaf name; "" when the trace has null */
	char status_name[64];
	unsigned line;                  /* line of the trace file (from 1) */
};

struct tev_trace {
	unsigned version;               /* header "version" */
	char tdxsim[64];                /* header "tdxsim" */
	char platform[32];              /* header "platform" */
	struct tev_call *calls;         /* the "seamcall" events, in file order */
	size_t n_calls, cap_calls;
	size_t n_blobs, n_other;        /* "blob" lines, lines of other "ev" kinds */
	unsigned n_lines;
};

/* Leaf name of a SEAMCALL RAX, or NULL if unknown (tdx_seamcall_leaf_name);
 * NULL function: leaf names are not checked. */
typedef const char *(*tev_leaf_name_fn)(uint64_t rax);

/*
 * Parse the trace in buf[0..len) (need not be NUL-terminated) into *t.
 * path names the file in messages. 0 on success; -1 with
 * "PATH:LINE: expected ..." in err (t is then freed and emptied).
 * A SEAMCALL whose leaf leaf_name() does not know, or knows under another
 * name, is an error; one recorded with "name":null for a leaf the library
 * does not know either is kept with name "".
 */
int tev_parse(const char *buf, size_t len, const char *path, tev_leaf_name_fn leaf_name,
	      struct tev_trace *t, char *err, size_t errlen);
void tev_free(struct tev_trace *t);

/* Read the file (plain or gzip, trace_read_file) and tev_parse it. */
int tev_load(const char *path, tev_leaf_name_fn leaf_name, struct tev_trace *t, char *err, size_t errlen);

/* Nearest-rank percentile (p in 1..100) of n sorted values; 0 if n == 0. */
uint64_t tev_percentile(const uint64_t *sorted, size_t n, unsigned p);

#endif
