/*
 * libFuzzer target for the strict trace reader used by `tdxsim stats` and
 * `tdxsim timeline` (tools/tdxsim/trace_events.c): any bytes as a trace
 * file's contents (after gzip decoding). The reader must report an error or
 * accept; never crash, read out of bounds, leak or hit undefined behaviour.
 * Built with clang -fsanitize=fuzzer,address,undefined (tests/fuzz/CMakeLists.txt).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace_events.h"

/* A few leaves, as tdx_seamcall_leaf_name would name them. */
static const char *leaf_name(uint64_t rax)
{
	switch (rax & 0xffff) {
	case 33: return "TDH.SYS.INIT";
	case 34: return "TDH.SYS.RD";
	case 35: return "TDH.SYS.LP.INIT";
	case 36: return "TDH.SYS.TDMR.INIT";
	case 45: return "TDH.SYS.CONFIG";
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size heap copy, so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct tev_trace t;
	char err[256];
	if (tev_parse(buf, size, "fuzz.jsonl", leaf_name, &t, err, sizeof(err)) == 0) {
		uint64_t *c = malloc((t.n_calls + 1) * sizeof(*c));
		if (c) {
			for (size_t i = 0; i < t.n_calls; i++)
				c[i] = t.calls[i].cycles;
			qsort(c, t.n_calls, sizeof(*c), cmp_u64);
			for (unsigned p = 1; p <= 100; p++)
				(void)tev_percentile(c, t.n_calls, p);
			free(c);
		}
		tev_free(&t);
	} else if (!strchr(err, ':')) {
		abort();                /* every error names FILE:LINE */
	}
	/* The same bytes with no leaf-name check. */
	if (tev_parse(buf, size, "fuzz.jsonl", NULL, &t, err, sizeof(err)) == 0)
		tev_free(&t);
	free(buf);
	return 0;
}
