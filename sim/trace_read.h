/*
 * The one reader of tdxsim traces (docs/trace-format.md), used by replay
 * (sim/replay.c), `tdxsim stats` and `tdxsim timeline` (tools/tdxsim), the
 * tests and the libFuzzer target. Internal to the library.
 *
 * Input: a file or a memory buffer, plain or gzip (detected by its magic
 * bytes; concatenated gzip members are read as one stream). A plain regular
 * file is mapped and parsed in place; anything else is read in large
 * chunks. (A mapped file must not shrink while it is read.)
 *
 * Strict: every line must be one JSON object ending in '\n'; line 1 the
 * header (format "tdxsim-trace", version TRACE_FMT_VERSION, any minor);
 * then events with "seq" counting from 0 and every field their kind needs,
 * with the type the format gives it. Known kinds are checked in full
 * (seamcall, blob, td_exit, tdcall); unknown "ev" kinds are returned as
 * TRACE_EV_OTHER (readers skip them). Leaf names must be the library's.
 * Blobs are decoded and their SHA-256 checked; a seamcall's "mem" entries
 * must name a blob seen before. The first problem ends the reading with
 * "FILE:LINE: what was expected" (trace_reader_error()).
 *
 * Fast path: lines in the exact layout sim/trace.c writes are parsed in one
 * pass without allocation; anything else (other key order, spaces, extra
 * fields) goes through the general JSON parser, which accepts any valid
 * line with the same meaning and reports what is wrong with the others.
 *
 * A reader is used by one thread at a time. Blob bytes (trace_blob.data)
 * stay valid until the reader is closed; everything else an event points
 * at only until the next trace_reader_next().
 */
#ifndef SIM_TRACE_READ_H
#define SIM_TRACE_READ_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "tdxsim/tdxsim.h"

#define TRACE_FMT_VERSION 1             /* incompatible changes */
#define TRACE_FMT_MINOR   2             /* 1: td_exit and tdcall events;
					 * 2: "injected" numbers the fault point */

struct trace_reader;

struct trace_header {
	unsigned version, minor;
	char tdxsim[64];                /* the recording library's version */
	char platform[16];
	tdxsim_config cfg;              /* cfg.platform points at platform[] */
};

struct trace_blob {
	uint8_t sha[32];
	uint8_t *data;                  /* never NULL once stored */
	size_t len;
};

struct trace_mem {
	uint64_t pa, len;
	const struct trace_blob *blob;  /* its contents (len == blob->len) */
};

enum trace_ev_kind {
	TRACE_EV_SEAMCALL = 1,
	TRACE_EV_BLOB,
	TRACE_EV_TD_EXIT,
	TRACE_EV_TDCALL,
	TRACE_EV_OTHER,                 /* an "ev" this reader does not know */
};

/* One event; valid until the next trace_reader_next(). Fields not used by
 * the kind are 0. */
struct trace_ev {
	enum trace_ev_kind kind;
	uint64_t seq;
	uint64_t line;                  /* line in the file, from 1 */
	uint32_t lp;                    /* seamcall, tdcall, td_exit */
	/* seamcall and tdcall */
	uint64_t rax;                   /* leaf | version << 16 (| bit 63: P-SEAMLDR) */
	const char *name;               /* the library's leaf name; NULL for a leaf
					 * it does not know (recorded as null) */
	struct tdx_module_args in, out;
	uint64_t status;                /* seamcall, tdcall, td_exit */
	const char *status_name;        /* as recorded (NUL-terminated copy), "" for null */
	uint64_t cycles, cycles_start;  /* seamcall, tdcall, td_exit (guest run) */
	int injected;                   /* seamcall */
	const struct trace_mem *mem;    /* seamcall */
	size_t n_mem;
	/* blob */
	const struct trace_blob *blob;
	/* td_exit (and tdcall: tdvpr, rip) */
	uint64_t tdvpr, rip;
	uint32_t exit_reason;
	uint64_t exit_qual, ext_exit_qual, gpa, intr_info;
	/* TRACE_EV_OTHER: the "ev" string (truncated) */
	char ev_name[32];
};

/*
 * Open path (trace_reader_open) or a memory buffer (trace_reader_open_mem;
 * the buffer must outlive the reader; name is used in messages) and read
 * the header. Returns the reader (NULL only when out of memory), with
 * trace_reader_error() set if the open or the header failed.
 */
struct trace_reader *trace_reader_open(const char *path);
struct trace_reader *trace_reader_open_mem(const void *buf, size_t len, const char *name);
void trace_reader_close(struct trace_reader *r);

/* While *flag is 0 the reader waits for input as long as it takes; once
 * another thread sets it, a read blocked on a pipe fails within ~50 ms
 * with "reading cancelled" (replay stops early without waiting for EOF). */
void trace_reader_set_cancel(struct trace_reader *r, const atomic_int *flag);

/* 1 if trace_reader_next() can return without waiting for more input
 * (always for files and memory; for a pipe: a whole line is buffered or the
 * descriptor is readable), else 0. */
int trace_reader_ready(struct trace_reader *r);

/* NULL if all is well, else "FILE:LINE: ..." (or "FILE: cannot open: ..."). */
const char *trace_reader_error(const struct trace_reader *r);
const struct trace_header *trace_reader_header(const struct trace_reader *r);

/* 1 and *ev: the next event; 0: the end of the trace; -1: an error
 * (trace_reader_error). After an error or the end it keeps returning so. */
int trace_reader_next(struct trace_reader *r, const struct trace_ev **ev);

/* The current line number (of the last line read). */
uint64_t trace_reader_line(const struct trace_reader *r);

/* A blob by hash, among those read so far; NULL if none. Valid until the
 * next trace_reader_next() (the table may grow). */
const struct trace_blob *trace_reader_blob(const struct trace_reader *r, const uint8_t sha[32]);

/* Set an error at the current line from the caller (e.g. replay finds the
 * LP out of range): the message becomes "FILE:LINE: <fmt>"; returns -1. */
int trace_reader_fail(struct trace_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Name of a VMX basic exit reason (td_exit "exit_reason"), NULL if unknown. */
const char *trace_exit_reason_name(uint32_t reason);

#endif
