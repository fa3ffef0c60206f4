/*
 * The library's trace reader (sim/trace_read.h, label trace): a small trace
 * built here is read back field by field, plain and gzip (one member, two
 * members); the writer's layout (fast path) and a reformatted copy (general
 * parser) give the same events; and every kind of bad input ends in
 * "NAME:LINE: what was expected" at the right line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <openssl/evp.h>

#include "tdxsim/tdxsim.h"
#include "sim/trace_read.h"

#define REGS(a) "{\"rcx\":\"0x" a "\",\"rdx\":\"0x2\",\"r8\":\"0x3\",\"r9\":\"0x4\",\"r10\":\"0x5\"," \
	"\"r11\":\"0x6\",\"r12\":\"0x7\",\"r13\":\"0x8\",\"r14\":\"0x9\",\"r15\":\"0xa\",\"rbx\":\"0xb\"," \
	"\"rdi\":\"0xc\",\"rsi\":\"0xffffffffffffffff\"}"

static const char header[] =
	"{\"format\":\"tdxsim-trace\",\"version\":1,\"minor\":1,\"tdxsim\":\"0.1.0\",\"platform\":\"spr\","
	"\"config\":{\"flags\":2,\"platform\":\"spr\",\"packages\":1,\"lps_per_package\":2,"
	"\"mem_bytes\":\"0x40000000\",\"n_cmrs\":1,\"cmrs\":[{\"base\":\"0x0\",\"size\":\"0x40000000\"}],"
	"\"mktme_keyids\":31,\"tdx_keyids\":32,\"module_major\":1,\"module_minor\":5,\"module_update\":6,"
	"\"tdx_features0\":\"0x1f0ebf\",\"seed\":\"0x2a\"}}\n";

/* "hello" */
#define BLOB_SHA "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define BLOB_LINE "{\"ev\":\"blob\",\"seq\":0,\"sha256\":\"" BLOB_SHA "\",\"data\":\"aGVsbG8=\"}\n"
#define CALL_LINE "{\"ev\":\"seamcall\",\"seq\":1,\"lp\":1,\"rax\":\"0x10022\",\"leaf\":34,\"name\":\"TDH.SYS.RD\"," \
	"\"version\":1,\"in\":" REGS("1") ",\"status\":\"0xc000010000000000\",\"status_name\":\"TDX_OPERAND_INVALID\"," \
	"\"out\":" REGS("00ff") ",\"cycles\":1200,\"cycles_start\":\"0x1000\",\"injected\":1," \
	"\"mem\":[{\"pa\":\"0x8000001000\",\"len\":5,\"sha256\":\"" BLOB_SHA "\"}]}\n"
#define EXIT_LINE "{\"ev\":\"td_exit\",\"seq\":2,\"lp\":1,\"tdvpr\":\"0x5000\",\"status\":\"0x30\"," \
	"\"status_name\":\"TDX_SUCCESS\",\"exit_reason\":48,\"exit_qual\":\"0x181\",\"ext_exit_qual\":\"0x0\"," \
	"\"gpa\":\"0x7000\",\"intr_info\":\"0x0\",\"rip\":\"0xffff0010\",\"cycles_start\":\"0x2000\",\"cycles\":77}\n"
#define TDCALL_LINE "{\"ev\":\"tdcall\",\"seq\":3,\"lp\":0,\"tdvpr\":\"0x5000\",\"rip\":\"0xffff06d8\",\"rax\":\"0x1\"," \
	"\"leaf\":1,\"name\":\"TDG.VP.INFO\",\"version\":0,\"in\":" REGS("0") ",\"status\":\"0x0\"," \
	"\"status_name\":\"TDX_SUCCESS\",\"out\":" REGS("30") ",\"cycles\":356,\"cycles_start\":\"0x3000\"}\n"
#define OTHER_LINE "{\"ev\":\"future_kind\",\"seq\":4,\"x\":[1,{\"y\":null}]}\n"

static char *cat(const char *const *parts)
{
	size_t n = 0;
	for (const char *const *p = parts; *p; p++)
		n += strlen(*p);
	char *s = malloc(n + 1);
	assert_non_null(s);
	s[0] = 0;
	for (const char *const *p = parts; *p; p++)
		strcat(s, *p);
	return s;
}

static char *good_trace(void)
{
	const char *parts[] = { header, BLOB_LINE, CALL_LINE, EXIT_LINE, TDCALL_LINE, OTHER_LINE, NULL };
	return cat(parts);
}

/* Read everything; check the events of good_trace(). */
static void check_good(struct trace_reader *r)
{
	assert_non_null(r);
	if (trace_reader_error(r))
		fail_msg("%s", trace_reader_error(r));
	const struct trace_header *h = trace_reader_header(r);
	assert_int_equal(h->version, 1);
	assert_int_equal(h->minor, 1);
	assert_string_equal(h->platform, "spr");
	assert_string_equal(h->cfg.platform, "spr");
	assert_int_equal(h->cfg.lps_per_package, 2);
	assert_int_equal(h->cfg.mem_bytes, 0x40000000);
	assert_int_equal(h->cfg.n_cmrs, 1);
	assert_int_equal(h->cfg.cmrs[0].size, 0x40000000);
	assert_int_equal(h->cfg.seed, 0x2a);
	assert_int_equal(h->cfg.module_update, 6);

	const struct trace_ev *e;
	assert_int_equal(trace_reader_next(r, &e), 1);
	assert_int_equal(e->kind, TRACE_EV_BLOB);
	assert_int_equal(e->line, 2);
	assert_int_equal(e->blob->len, 5);
	assert_memory_equal(e->blob->data, "hello", 5);

	assert_int_equal(trace_reader_next(r, &e), 1);
	assert_int_equal(e->kind, TRACE_EV_SEAMCALL);
	assert_int_equal(e->seq, 1);
	assert_int_equal(e->line, 3);
	assert_int_equal(e->lp, 1);
	assert_int_equal(e->rax, 0x10022);
	assert_string_equal(e->name, "TDH.SYS.RD");
	assert_int_equal(e->in.rcx, 1);
	assert_int_equal(e->out.rcx, 0xff);
	assert_int_equal(e->in.r15, 0xa);
	assert_int_equal(e->out.rsi, UINT64_MAX);
	assert_int_equal(e->status, 0xc000010000000000ULL);
	assert_string_equal(e->status_name, "TDX_OPERAND_INVALID");
	assert_int_equal(e->cycles, 1200);
	assert_int_equal(e->cycles_start, 0x1000);
	assert_int_equal(e->injected, 1);
	assert_int_equal(e->n_mem, 1);
	assert_int_equal(e->mem[0].pa, 0x8000001000ULL);
	assert_int_equal(e->mem[0].len, 5);
	assert_memory_equal(e->mem[0].blob->data, "hello", 5);

	assert_int_equal(trace_reader_next(r, &e), 1);
	assert_int_equal(e->kind, TRACE_EV_TD_EXIT);
	assert_int_equal(e->exit_reason, 48);
	assert_string_equal(trace_exit_reason_name(e->exit_reason), "EPT_VIOLATION");
	assert_int_equal(e->exit_qual, 0x181);
	assert_int_equal(e->gpa, 0x7000);
	assert_int_equal(e->rip, 0xffff0010);
	assert_int_equal(e->tdvpr, 0x5000);
	assert_int_equal(e->cycles_start, 0x2000);
	assert_int_equal(e->cycles, 77);
	assert_int_equal(e->n_mem, 0);

	assert_int_equal(trace_reader_next(r, &e), 1);
	assert_int_equal(e->kind, TRACE_EV_TDCALL);
	assert_string_equal(e->name, "TDG.VP.INFO");
	assert_int_equal(e->rip, 0xffff06d8);
	assert_int_equal(e->out.rcx, 0x30);
	assert_int_equal(e->cycles, 356);
	assert_int_equal(e->injected, 0);

	assert_int_equal(trace_reader_next(r, &e), 1);
	assert_int_equal(e->kind, TRACE_EV_OTHER);
	assert_string_equal(e->ev_name, "future_kind");
	assert_int_equal(e->seq, 4);

	assert_int_equal(trace_reader_next(r, &e), 0);
	assert_int_equal(trace_reader_next(r, &e), 0);
	assert_null(trace_reader_error(r));
	trace_reader_close(r);
}

static void reads_plain(void **state)
{
	(void)state;
	char *t = good_trace();
	check_good(trace_reader_open_mem(t, strlen(t), "t.jsonl"));
	/* The same from a file (mapped). */
	char path[] = "/tmp/tdxsim-reader-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs(t, f);
	fclose(f);
	check_good(trace_reader_open(path));
	unlink(path);
	free(t);
}

/* Reformatted: spaces, keys in another order, leading zeros in hex. The
 * general parser must give what the fast path gives. */
static void general_parser_agrees(void **state)
{
	(void)state;
	const char call2[] =
		"{ \"seq\" : 1, \"ev\":\"seamcall\", \"mem\":[ {\"sha256\":\"" BLOB_SHA "\", \"len\":5, \"pa\":\"0x0000008000001000\"} ],"
		"\"lp\":1,\"leaf\":34,\"rax\":\"0x10022\",\"name\":\"TDH.SYS.RD\",\"version\":1,"
		"\"in\":" REGS("1") ",\"out\":" REGS("ff") ",\"status\":\"0xC000010000000000\",\"extra\":{\"a\":[true,false]},"
		"\"status_name\":\"TDX_OPERAND_INVALID\",\"cycles\":1200,\"cycles_start\":\"0x1000\",\"injected\":1 }\r\n";
	const char exit2[] =
		"{\"cycles\":77,\"cycles_start\":\"0x2000\",\"ev\":\"td_exit\",\"seq\":2,\"lp\":1,\"tdvpr\":\"0x5000\",\"status\":\"0x30\","
		"\"status_name\":\"TDX_SUCCESS\",\"exit_reason\":48,\"exit_qual\":\"0x181\",\"ext_exit_qual\":\"0x0\","
		"\"gpa\":\"0x7000\",\"intr_info\":\"0x0\",\"rip\":\"0xffff0010\"}\n";
	const char tdcall2[] =
		"{\"ev\":\"tdcall\",\"seq\":3,\"rip\":\"0xffff06d8\",\"tdvpr\":\"0x5000\",\"lp\":0,\"rax\":\"0x1\","
		"\"leaf\":1,\"name\":\"TDG.VP.INFO\",\"version\":0,\"in\":" REGS("0") ",\"status\":\"0x0\","
		"\"status_name\":\"TDX_SUCCESS\",\"out\":" REGS("30") ",\"cycles\":356,\"cycles_start\":\"0x3000\"}\n";
	const char *parts[] = { header, BLOB_LINE, call2, exit2, tdcall2, OTHER_LINE, NULL };
	char *t = cat(parts);
	check_good(trace_reader_open_mem(t, strlen(t), "t2.jsonl"));
	free(t);
}

/* gzip members of text[a..b) each. */
static size_t gz(const char *text, const size_t *cuts, size_t ncuts, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i + 1 < ncuts; i++) {
		z_stream z = { 0 };
		assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)(uintptr_t)(text + cuts[i]);
		z.avail_in = (uInt)(cuts[i + 1] - cuts[i]);
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		n = cap - z.avail_out;
		deflateEnd(&z);
	}
	return n;
}

static void reads_gzip(void **state)
{
	(void)state;
	char *t = good_trace();
	size_t len = strlen(t), cap = len + 1024;
	uint8_t *z = malloc(cap);
	assert_non_null(z);
	size_t one[] = { 0, len };
	size_t n = gz(t, one, 2, z, cap);
	check_good(trace_reader_open_mem(z, n, "t.jsonl.gz"));
	/* Two members, cut in the middle of a line. */
	size_t two[] = { 0, strlen(header) + 10, len };
	size_t n2 = gz(t, two, 3, z, cap);
	check_good(trace_reader_open_mem(z, n2, "t2.jsonl.gz"));
	/* Stopped right after a sync flush, no trailer (a program that exited
	 * without tdxsim_close while TDXSIM_TRACE recorded): complete. */
	{
		z_stream zs = { 0 };
		assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
		zs.next_in = (Bytef *)t;
		zs.avail_in = (uInt)len;
		zs.next_out = z;
		zs.avail_out = (uInt)cap;
		assert_int_equal(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
		size_t ns = cap - zs.avail_out;
		deflateEnd(&zs);
		check_good(trace_reader_open_mem(z, ns, "sync.jsonl.gz"));
		/* One byte less is truncated. */
		struct trace_reader *r = trace_reader_open_mem(z, ns - 1, "sync.jsonl.gz");
		const struct trace_ev *e;
		while (!trace_reader_error(r) && trace_reader_next(r, &e) > 0)
			;
		assert_non_null(strstr(trace_reader_error(r), "ends early"));
		trace_reader_close(r);
	}
	/* Truncated: an error naming a line, never a crash. */
	for (size_t cut = n / 2; cut < n; cut += (n - cut + 1) / 2) {
		struct trace_reader *r = trace_reader_open_mem(z, cut, "tr.gz");
		const struct trace_ev *e;
		int rc = 0;
		if (!trace_reader_error(r))
			while ((rc = trace_reader_next(r, &e)) > 0)
				;
		assert_non_null(trace_reader_error(r));
		assert_non_null(strstr(trace_reader_error(r), "tr.gz:"));
		trace_reader_close(r);
		if (cut == n - 1)
			break;
	}
	/* Garbage after the stream. */
	n = gz(t, one, 2, z, cap);
	memcpy(z + n, "xyz", 3);
	struct trace_reader *r = trace_reader_open_mem(z, n + 3, "g.gz");
	const struct trace_ev *e;
	while (!trace_reader_error(r) && trace_reader_next(r, &e) > 0)
		;
	assert_non_null(strstr(trace_reader_error(r), "other data after the gzip stream"));
	trace_reader_close(r);
	free(z);
	free(t);
}

/* Replace the first occurrence of from in good_trace() by to; expect an
 * error containing want (which names the line). */
static void expect_bad(const char *from, const char *to, const char *want)
{
	char *t = good_trace();
	char *p = strstr(t, from);
	if (!p)
		fail_msg("'%s' not in the trace", from);
	size_t fl = strlen(from), tl = strlen(to), n = strlen(t);
	char *u = malloc(n - fl + tl + 1);
	assert_non_null(u);
	memcpy(u, t, (size_t)(p - t));
	memcpy(u + (p - t), to, tl);
	strcpy(u + (p - t) + tl, p + fl);
	struct trace_reader *r = trace_reader_open_mem(u, strlen(u), "bad.jsonl");
	assert_non_null(r);
	const struct trace_ev *e;
	while (!trace_reader_error(r) && trace_reader_next(r, &e) > 0)
		;
	const char *m = trace_reader_error(r);
	if (!m || !strstr(m, want))
		fail_msg("after '%s' -> '%s': expected an error with '%s', got '%s'", from, to, want,
			 m ? m : "(none)");
	/* After an error the reader stays failed. */
	assert_int_equal(trace_reader_next(r, &e), -1);
	trace_reader_close(r);
	free(u);
	free(t);
}

static void bad_input_named(void **state)
{
	(void)state;
	expect_bad("\"version\":1,", "\"version\":2,", "bad.jsonl:1: trace format version 2 is not supported");
	expect_bad("\"format\":\"tdxsim-trace\"", "\"format\":\"x\"", "bad.jsonl:1: not a tdxsim trace");
	expect_bad("\"platform\":\"spr\",\"config", "\"platform\":\"zzz\",\"config", "bad.jsonl:1: expected \"config.platform\"");
	expect_bad(",\"seed\":\"0x2a\"", "", "bad.jsonl:1: expected \"config.seed\"");
	expect_bad("\"n_cmrs\":1", "\"n_cmrs\":2", "bad.jsonl:1: expected 2 entries in \"config.cmrs\"");
	expect_bad("\"tdxsim\":\"0.1.0\",", "\"tdxsim\":\"0.1.0\" ", "bad.jsonl:1: header: malformed JSON");
	expect_bad("\"data\":\"aGVsbG8=\"", "\"data\":\"aGVsbA==\"", "bad.jsonl:2: blob: expected the SHA-256");
	expect_bad("\"data\":\"aGVsbG8=\"", "\"data\":\"aGVsbG9=\"", "bad.jsonl:2: blob: expected \"data\": Base64");
	expect_bad("\"data\":\"aGVsbG8=\"", "\"data\":\"aGV$bG8=\"", "bad.jsonl:2: blob: expected \"data\": Base64");
	expect_bad("\"seq\":1,", "\"seq\":7,", "bad.jsonl:3: expected \"seq\":1");
	expect_bad("\"name\":\"TDH.SYS.RD\"", "\"name\":\"TDH.NO.SUCH\"", "bad.jsonl:3: seamcall seq 1: unknown leaf \"TDH.NO.SUCH\"");
	expect_bad("\"name\":\"TDH.SYS.RD\"", "\"name\":null", "bad.jsonl:3: seamcall seq 1: leaf 34 is TDH.SYS.RD");
	expect_bad("\"leaf\":34", "\"leaf\":35", "bad.jsonl:3: seamcall seq 1: expected \"leaf\"");
	expect_bad("\"rax\":\"0x10022\"", "\"rax\":\"0x20022\"", "bad.jsonl:3: seamcall seq 1: expected \"version\"");
	expect_bad("\"rax\":\"0x10022\"", "\"rax\":\"0x00000000000000010022\"", "bad.jsonl:3: expected \"rax\": a 64-bit hex string");
	expect_bad("\"rax\":\"0x10022\"", "\"rax\":\"0x\"", "bad.jsonl:3: expected \"rax\": a 64-bit hex string");
	expect_bad("\"rax\":\"0x10022\"", "\"rax\":65570", "bad.jsonl:3: expected \"rax\": a 64-bit hex string");
	expect_bad("\"lp\":1,\"rax", "\"lp\":-1,\"rax", "bad.jsonl:3: expected \"lp\": a non-negative integer");
	expect_bad("\"lp\":1,\"rax", "\"lp\":01,\"rax", "bad.jsonl:3: event: malformed JSON");
	expect_bad("\"injected\":1", "\"injected\":2", "bad.jsonl:3: expected \"injected\": 0 or 1");
	expect_bad(",\"rsi\":\"0xffffffffffffffff\"}", "}", "bad.jsonl:3: \"in\" lacks a register: expected register \"rsi\"");
	expect_bad("\"cycles\":1200,", "\"cycles\":1200,\"cycles\":1,", "bad.jsonl:3: expected \"cycles\" once");
	expect_bad("\"sha256\":\"" BLOB_SHA "\"}]", "\"sha256\":\"" BLOB_SHA "\",\"len\":6}]", "bad.jsonl:3: expected \"mem[].len\" once");
	expect_bad("\"len\":5,", "\"len\":6,", "bad.jsonl:3: mem[0]: \"len\" 6 but its blob has 5 bytes");
	expect_bad("\"sha256\":\"" BLOB_SHA "\"}]", "\"sha256\":\"" "3cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" "\"}]",
		   "bad.jsonl:3: mem[0]: no blob line with sha256 3cf2");
	expect_bad("\"exit_reason\":48,", "", "bad.jsonl:4: expected \"exit_reason\"");
	expect_bad("\"name\":\"TDG.VP.INFO\"", "\"name\":\"TDG.VP.RD\"", "bad.jsonl:5: tdcall seq 3: unknown leaf");
	expect_bad("\"x\":[1,{\"y\":null}]}", "\"x\":[1,{\"y\":nul}]}", "bad.jsonl:6: event: malformed JSON");
	expect_bad("\"x\":[1,{\"y\":null}]}\n", "\"x\":[1,{\"y\":null}]}", "bad.jsonl:6: expected '\\n' at the end of the line");
	expect_bad("\"x\":[1,{\"y\":null}]}\n", "\"x\":[1,{\"y\"", "bad.jsonl:6: event: the line ends early");
	expect_bad(OTHER_LINE, "\n", "bad.jsonl:6: empty line");
	expect_bad("\"status_name\":\"TDX_SUCCESS\",\"exit", "\"status_name\":\"TDX\x01\",\"exit", "bad.jsonl:4: event: malformed JSON");
	expect_bad("\"ev\":\"seamcall\"", "\"ev\":\"seamcall\\u00\"", "bad.jsonl:3: event: malformed JSON");

	/* Empty input; a header alone is a valid (empty) trace. */
	struct trace_reader *r = trace_reader_open_mem("", 0, "e.jsonl");
	assert_non_null(strstr(trace_reader_error(r), "e.jsonl:1: empty file"));
	trace_reader_close(r);
	r = trace_reader_open_mem(header, strlen(header), "h.jsonl");
	const struct trace_ev *e;
	assert_null(trace_reader_error(r));
	assert_int_equal(trace_reader_next(r, &e), 0);
	trace_reader_close(r);
	r = trace_reader_open("/nonexistent-tdxsim/x.jsonl");
	assert_non_null(strstr(trace_reader_error(r), "/nonexistent-tdxsim/x.jsonl: cannot open: "));
	trace_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_plain),
		cmocka_unit_test(general_parser_agrees),
		cmocka_unit_test(reads_gzip),
		cmocka_unit_test(bad_input_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
