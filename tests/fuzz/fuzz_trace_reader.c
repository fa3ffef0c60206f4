/*
 * libFuzzer target for the library's trace reader (sim/trace_read.c), the
 * one reader behind replay, `tdxsim stats` and `tdxsim timeline`: any bytes
 * as a trace file's contents, read from memory. Input starting with the
 * gzip magic goes through the inflate path as it is; any other input is
 * read plain and then once more gzip-compressed (one member, or two split
 * in the middle), and all readings must agree: same events, same error
 * message. The reader must report "NAME:LINE: ..." or accept; never crash,
 * read out of bounds, leak or hit undefined behaviour.
 * Built with clang -fsanitize=fuzzer,address,undefined (tests/fuzz/CMakeLists.txt)
 * together with sim/trace_read.c and the stand-ins below for the few
 * library functions the reader calls.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sim/trace_read.h"

/* Stand-ins: a few leaves and the platform profiles, as the library has them. */
const char *tdx_seamcall_leaf_name(uint64_t rax)
{
	if (rax & (1ULL << 63))
		return NULL;
	switch (rax & 0xffff) {
	case 0: return "TDH.VP.ENTER";
	case 33: return "TDH.SYS.INIT";
	case 34: return "TDH.SYS.RD";
	case 35: return "TDH.SYS.LP.INIT";
	case 36: return "TDH.SYS.TDMR.INIT";
	case 45: return "TDH.SYS.CONFIG";
	}
	return NULL;
}

const char *tdx_tdcall_leaf_name(uint64_t rax)
{
	switch (rax & 0xffff) {
	case 1: return "TDG.VP.INFO";
	case 4: return "TDG.MR.REPORT";
	case 6: return "TDG.MEM.PAGE.ACCEPT";
	}
	return NULL;
}

const tdxsim_platform *tdxsim_platform_find(const char *name)
{
	static const tdxsim_platform p[] = { { .name = "spr", .tsc_mhz = 2000 }, { .name = "emr", .tsc_mhz = 2100 },
					     { .name = "gnr", .tsc_mhz = 2300 } };
	for (size_t i = 0; name && i < 3; i++)
		if (!strcmp(p[i].name, name))
			return &p[i];
	return NULL;
}

/* Read everything: a digest of the events and the error message. */
struct outcome {
	uint64_t n, sum;
	char err[800];
};

static void read_all(const void *buf, size_t len, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	struct trace_reader *r = trace_reader_open_mem(buf, len, "fuzz.jsonl");
	if (!r)
		return;
	const struct trace_ev *e;
	if (!trace_reader_error(r)) {
		const struct trace_header *h = trace_reader_header(r);
		o->sum = h->cfg.mem_bytes ^ h->cfg.seed ^ h->cfg.n_cmrs;
		int rc;
		while ((rc = trace_reader_next(r, &e)) > 0) {
			o->n++;
			o->sum = o->sum * 31 + e->seq + e->kind + e->rax + e->status + e->in.rsi + e->out.rcx +
				 e->cycles + e->n_mem + e->exit_reason + e->rip;
			for (size_t i = 0; i < e->n_mem; i++)
				o->sum += e->mem[i].blob->data[0] * (e->mem[i].len != 0) + e->mem[i].pa;
			if (e->kind == TRACE_EV_BLOB && e->blob->len)
				o->sum += e->blob->data[e->blob->len - 1];
			if (e->status_name)
				o->sum += strlen(e->status_name);
		}
		if (rc == 0 && trace_reader_next(r, &e) != 0)
			abort();        /* the end stays the end */
	}
	const char *m = trace_reader_error(r);
	if (m) {
		if (strncmp(m, "fuzz.jsonl:", 11))
			abort();        /* every error names the input */
		snprintf(o->err, sizeof(o->err), "%s", m);
	}
	trace_reader_close(r);
}

/* text[0..len) as gzip, split into members at the cuts. */
static size_t gzip(const uint8_t *text, size_t len, size_t cut, uint8_t *out, size_t cap)
{
	size_t n = 0, from = 0;
	size_t ends[2] = { cut, len };
	for (int i = cut ? 0 : 1; i < 2; i++) {
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
		z.next_in = (Bytef *)(uintptr_t)(text + from);
		z.avail_in = (uInt)(ends[i] - from);
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		if (deflate(&z, Z_FINISH) != Z_STREAM_END)
			abort();
		n = cap - z.avail_out;
		deflateEnd(&z);
		from = ends[i];
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size heap copy, so ASan sees any read past the end. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct outcome a, b;
	read_all(buf, size, &a);
	if (size >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
		free(buf);
		return 0;
	}
	size_t cap = size + size / 8 + 256;
	uint8_t *z = malloc(cap);
	if (z) {
		for (int split = 0; split < 2; split++) {
			size_t n = gzip(buf, size, split ? size / 2 : 0, z, cap);
			uint8_t *zc = malloc(n ? n : 1);  /* exact size again */
			if (!zc)
				break;
			memcpy(zc, z, n);
			read_all(zc, n, &b);
			free(zc);
			if (a.n != b.n || a.sum != b.sum || strcmp(a.err, b.err)) {
				fprintf(stderr, "plain and gzip disagree:\n  %s\n  %s\n", a.err, b.err);
				abort();
			}
		}
		free(z);
	}
	free(buf);
	return 0;
}
