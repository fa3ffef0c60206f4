/*
 * SEAMCALL trace recording (docs/trace-format.md): JSON Lines, optionally
 * gzip-compressed. Internal to the library; the public entry points are
 * tdxsim_trace_start / tdxsim_trace_stop and the TDXSIM_TRACE variable.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "tdxsim/tdxsim.h"

struct tdxsim;
struct sim_trace;

#define SIM_TRACE_VERSION 1

/* Host memory one SEAMCALL read through seam_read_pa (kept on the caller's
 * stack from sim_trace_call_begin to sim_trace_call_end). */
struct sim_trace_read {
	uint64_t pa, len;
	uint8_t sha256[32];
	uint8_t *data;                  /* copy of the bytes, freed at call end */
};
struct sim_trace_capture {
	struct tdxsim *s;
	struct sim_trace_capture *prev; /* the thread's previous capture (nesting) */
	struct sim_trace_read *reads;
	size_t n, cap;
	int oom;
};

/* Around one SEAMCALL on the calling thread, while s->trace is set. */
void sim_trace_call_begin(struct tdxsim *s, struct sim_trace_capture *cap);
void sim_trace_call_end(struct tdxsim *s, struct sim_trace_capture *cap,
			const tdxsim_seamcall_event *ev);
/* seam_read_pa's capture: [pa, pa+len) read into buf by the current SEAMCALL. */
void sim_trace_mem_read(struct tdxsim *s, uint64_t pa, const void *buf, uint64_t len);

/* tdxsim_open: start recording to $TDXSIM_TRACE if set (a failure is
 * reported on stderr; the handle opens anyway). tdxsim_close: stop. */
void sim_trace_env_start(struct tdxsim *s);
void sim_trace_close(struct tdxsim *s);

/* ---- Minimal reader (tests, tools) -------------------------------------- */

/* Whole file into a NUL-terminated malloc'd buffer; a .gz file (or any
 * gzip stream) is decompressed. 0 on success, -1 with errno set. */
int trace_read_file(const char *path, char **buf, size_t *len);
/* Next line of buf starting at *pos (without '\n', copied into a malloc'd
 * string); NULL at the end. */
char *trace_read_line(const char *buf, size_t len, size_t *pos);
/* The value of the first "key": in a JSON object text (string values
 * without their quotes, objects/arrays/numbers as written) into out.
 * 0 if found and it fits, -1 otherwise. */
int trace_read_field(const char *json, const char *key, char *out, size_t outlen);
/* Same, parsed as an unsigned number (decimal or "0x" hex string). */
int trace_read_u64(const char *json, const char *key, uint64_t *val);
/* Base64 (standard alphabet, '=' padded) into a malloc'd buffer. */
int trace_read_base64(const char *text, uint8_t **out, size_t *outlen);

#endif
