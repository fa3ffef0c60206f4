/*
 * Strict trace reader for `tdxsim stats` and `tdxsim timeline`
 * (trace_events.h, docs/trace-format.md). Self-contained: no library
 * internals, so tests/fuzz/fuzz_trace_reader.c can build it with clang.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_events.h"

#define JSON_MAX_DEPTH 64
#define MAX_MEMBERS 32                  /* top-level members remembered */

enum jtype { J_STR, J_NUM, J_OBJ, J_ARR, J_TRUE, J_FALSE, J_NULL };

struct jval {
	enum jtype type;
	const char *p;                  /* J_STR: the text between the quotes */
	size_t n;
};
struct jmember {
	const char *key;                /* between the quotes */
	size_t keylen;
	struct jval v;
};
struct jp {
	const char *start, *p, *end;
	const char *what;               /* what was expected where it failed */
	struct jmember *m;              /* top-level members (depth 0 object) */
	size_t nm;
};

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static int fail(struct jp *j, const char *what)
{
	j->what = what;
	return -1;
}

static int hexdig(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int jstring(struct jp *j, struct jval *v)
{
	if (j->p >= j->end || *j->p != '"')
		return fail(j, "a string");
	const char *s = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			return fail(j, "no control characters in a string");
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				break;
			char e = *j->p;
			if (e == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end || !hexdig(j->p[i]))
						return fail(j, "a \\uXXXX escape");
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", e) || !e) {
				return fail(j, "a valid string escape");
			}
		}
		j->p++;
	}
	if (j->p >= j->end)
		return fail(j, "a closing '\"'");
	if (v) {
		v->type = J_STR;
		v->p = s;
		v->n = (size_t)(j->p - s);
	}
	j->p++;
	return 0;
}

static int jnumber(struct jp *j)
{
	const char *p = j->p;
	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end || *p < '0' || *p > '9')
		return fail(j, "a value");
	if (*p == '0')
		p++;
	else
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	if (p < j->end && *p == '.') {
		p++;
		if (p >= j->end || *p < '0' || *p > '9')
			return j->p = p, fail(j, "a digit after '.'");
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || *p < '0' || *p > '9')
			return j->p = p, fail(j, "a digit in the exponent");
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	j->p = p;
	return 0;
}

static int jvalue(struct jp *j, int depth, struct jval *v);

static int jobject(struct jp *j, int depth)
{
	j->p++;                         /* '{' */
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		struct jval key, val;
		ws(j);
		if (j->p >= j->end || *j->p != '"')
			return fail(j, "a member name (a string)");
		if (jstring(j, &key))
			return -1;
		ws(j);
		if (j->p >= j->end || *j->p != ':')
			return fail(j, "':'");
		j->p++;
		ws(j);
		if (jvalue(j, depth + 1, &val))
			return -1;
		if (depth == 0 && j->m && j->nm < MAX_MEMBERS)
			j->m[j->nm++] = (struct jmember){ key.p, key.n, val };
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return fail(j, "',' or '}'");
	}
}

static int jarray(struct jp *j, int depth)
{
	j->p++;                         /* '[' */
	ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		ws(j);
		if (jvalue(j, depth + 1, NULL))
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return fail(j, "',' or ']'");
	}
}

static int jword(struct jp *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return fail(j, "a value");
	j->p += n;
	return 0;
}

static int jvalue(struct jp *j, int depth, struct jval *v)
{
	struct jval tmp;
	if (!v)
		v = &tmp;
	if (depth > JSON_MAX_DEPTH)
		return fail(j, "objects nested less deeply");
	if (j->p >= j->end)
		return fail(j, "a value");
	const char *s = j->p;
	int r;
	switch (*j->p) {
	case '"': return jstring(j, v);
	case '{': r = jobject(j, depth); v->type = J_OBJ; break;
	case '[': r = jarray(j, depth); v->type = J_ARR; break;
	case 't': r = jword(j, "true"); v->type = J_TRUE; break;
	case 'f': r = jword(j, "false"); v->type = J_FALSE; break;
	case 'n': r = jword(j, "null"); v->type = J_NULL; break;
	default: r = jnumber(j); v->type = J_NUM; break;
	}
	v->p = s;
	v->n = (size_t)(j->p - s);
	return r;
}

/* ---- One line ------------------------------------------------------------ */

struct ctx {
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
	struct jmember m[MAX_MEMBERS];
	size_t nm;
};

__attribute__((format(printf, 2, 3)))
static int lerr(struct ctx *c, const char *fmt, ...)
{
	int k = snprintf(c->err, c->errlen, "%s:%u: ", c->path, c->line);
	if (k >= 0 && (size_t)k < c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const struct jval *get(struct ctx *c, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < c->nm; i++)
		if (c->m[i].keylen == n && !memcmp(c->m[i].key, key, n))
			return &c->m[i].v;
	return NULL;
}

/* A string member without escapes into out; allow_null: null gives "". */
static int get_str(struct ctx *c, const char *key, char *out, size_t outlen, int allow_null)
{
	const struct jval *v = get(c, key);
	if (v && v->type == J_NULL && allow_null) {
		out[0] = 0;
		return 0;
	}
	if (!v || v->type != J_STR)
		return lerr(c, "expected \"%s\": a string%s", key, allow_null ? " or null" : "");
	if (memchr(v->p, '\\', v->n) || v->n + 1 > outlen)
		return lerr(c, "expected \"%s\": a string of at most %zu plain characters", key, outlen - 1);
	memcpy(out, v->p, v->n);
	out[v->n] = 0;
	return 0;
}

/* A non-negative integer (JSON number) member. */
static int get_num(struct ctx *c, const char *key, uint64_t *out)
{
	const struct jval *v = get(c, key);
	uint64_t x = 0;
	int ok = v && v->type == J_NUM && v->n > 0 && v->n <= 20;
	for (size_t i = 0; ok && i < v->n; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			ok = 0;
		else if (x > (UINT64_MAX - (uint64_t)(v->p[i] - '0')) / 10)
			ok = 0;
		else
			x = x * 10 + (uint64_t)(v->p[i] - '0');
	}
	if (!ok)
		return lerr(c, "expected \"%s\": a non-negative integer", key);
	*out = x;
	return 0;
}

/* A 64-bit value as a "0x..." hex string member. */
static int get_hex(struct ctx *c, const char *key, uint64_t *out)
{
	const struct jval *v = get(c, key);
	uint64_t x = 0;
	int ok = v && v->type == J_STR && v->n > 2 && v->n <= 18 && v->p[0] == '0' && v->p[1] == 'x';
	for (size_t i = 2; ok && i < v->n; i++) {
		char ch = v->p[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
		if (d < 0)
			ok = 0;
		else
			x = x << 4 | (uint64_t)d;
	}
	if (!ok)
		return lerr(c, "expected \"%s\": a 64-bit hex string \"0x...\"", key);
	*out = x;
	return 0;
}

static int parse_json_line(struct ctx *c, const char *s, size_t n)
{
	struct jp j = { .start = s, .p = s, .end = s + n, .m = c->m };
	c->nm = 0;
	ws(&j);
	if (j.p >= j.end)
		return lerr(c, "expected a JSON object, found an empty line");
	if (*j.p != '{')
		return lerr(c, "expected a JSON object starting with '{' (column %zu)", (size_t)(j.p - s) + 1);
	if (jobject(&j, 0) == 0) {
		ws(&j);
		if (j.p == j.end) {
			c->nm = j.nm;
			return 0;
		}
		j.what = "the end of the line after the object";
	}
	if (j.p >= j.end)
		return lerr(c, "line ends early (truncated?) at column %zu: expected %s", n + 1, j.what);
	return lerr(c, "malformed JSON at column %zu: expected %s", (size_t)(j.p - s) + 1, j.what);
}

static int parse_header(struct ctx *c, struct tev_trace *t)
{
	char fmt[32];
	uint64_t v;
	if (get_str(c, "format", fmt, sizeof(fmt), 0) || strcmp(fmt, "tdxsim-trace"))
		return lerr(c, "expected the trace header {\"format\":\"tdxsim-trace\",\"version\":%d,...}",
			    TEV_FORMAT_VERSION);
	if (get_num(c, "version", &v))
		return -1;
	if (v != TEV_FORMAT_VERSION)
		return lerr(c, "trace format version %llu: expected version %d (%s)", (unsigned long long)v,
			    TEV_FORMAT_VERSION, v > TEV_FORMAT_VERSION ? "the trace is newer than this tdxsim"
								      : "no such version");
	t->version = (unsigned)v;
	if (get_str(c, "tdxsim", t->tdxsim, sizeof(t->tdxsim), 0) ||
	    get_str(c, "platform", t->platform, sizeof(t->platform), 0))
		return -1;
	const struct jval *cfg = get(c, "config");
	if (!cfg || cfg->type != J_OBJ)
		return lerr(c, "expected \"config\": an object");
	return 0;
}

static int parse_seamcall(struct ctx *c, struct tev_trace *t, uint64_t seq, tev_leaf_name_fn leaf_name)
{
	struct tev_call e = { .seq = seq, .line = c->line };
	uint64_t version, injected;
	if (get_num(c, "lp", &e.lp) || get_num(c, "leaf", &e.leaf) || get_num(c, "version", &version) ||
	    get_str(c, "name", e.name, sizeof(e.name), 1) || get_hex(c, "status", &e.status) ||
	    get_str(c, "status_name", e.status_name, sizeof(e.status_name), 0) ||
	    get_num(c, "cycles", &e.cycles) || get_hex(c, "cycles_start", &e.cycles_start) ||
	    get_num(c, "injected", &injected))
		return -1;
	if (e.lp > 0xffff)
		return lerr(c, "expected \"lp\": an LP number below 65536, not %llu", (unsigned long long)e.lp);
	if (e.leaf > 0xffff || version > 0xff)
		return lerr(c, "expected \"leaf\" below 65536 and \"version\" below 256");
	if (injected > 1)
		return lerr(c, "expected \"injected\": 0 or 1");
	e.injected = (int)injected;
	if (get(c, "rax")) {
		if (get_hex(c, "rax", &e.rax))
			return -1;
		if ((e.rax & 0xffff) != e.leaf || ((e.rax >> 16) & 0xff) != version)
			return lerr(c, "expected \"rax\" to agree with \"leaf\" %llu and \"version\" %llu",
				    (unsigned long long)e.leaf, (unsigned long long)version);
	} else {
		e.rax = e.leaf | version << 16;
	}
	if (e.cycles_start > UINT64_MAX - e.cycles)
		return lerr(c, "expected \"cycles_start\" + \"cycles\" to fit in 64 bits");
	if (leaf_name) {
		const char *known = leaf_name(e.rax);
		if (!known && e.name[0])
			return lerr(c, "unknown SEAMCALL leaf %llu \"%s\": expected a leaf this tdxsim knows",
				    (unsigned long long)e.leaf, e.name);
		if (known && strcmp(known, e.name))
			return lerr(c, "leaf %llu is %s: expected \"name\":\"%s\", not \"%s\"",
				    (unsigned long long)e.leaf, known, known, e.name[0] ? e.name : "null");
	}
	if (t->n_calls == t->cap_calls) {
		size_t cap = t->cap_calls ? t->cap_calls * 2 : 256;
		struct tev_call *p = realloc(t->calls, cap * sizeof(*p));
		if (!p)
			return lerr(c, "out of memory");
		t->calls = p;
		t->cap_calls = cap;
	}
	t->calls[t->n_calls++] = e;
	return 0;
}

int tev_parse(const char *buf, size_t len, const char *path, tev_leaf_name_fn leaf_name,
	      struct tev_trace *t, char *err, size_t errlen)
{
	struct ctx *c = calloc(1, sizeof(*c));
	memset(t, 0, sizeof(*t));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	c->path = path;
	c->err = err;
	c->errlen = errlen;
	size_t pos = 0;
	uint64_t seq = 0;
	int r = 0;
	if (len == 0) {
		c->line = 1;
		r = lerr(c, "expected the trace header, found an empty file");
	}
	while (!r && pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + 1;
		c->line++;
		if (memchr(s, 0, n)) {
			r = lerr(c, "expected text, found a NUL byte");
			break;
		}
		if (parse_json_line(c, s, n)) {
			r = -1;
			break;
		}
		if (!nl) {
			r = lerr(c, "line ends without a newline: expected '\\n' (truncated trace?)");
			break;
		}
		if (c->line == 1) {
			r = parse_header(c, t);
			continue;
		}
		char ev[32];
		uint64_t got;
		if (get_str(c, "ev", ev, sizeof(ev), 0) || get_num(c, "seq", &got)) {
			r = -1;
			break;
		}
		if (got != seq) {
			r = lerr(c, "expected \"seq\":%llu (events count from 0 in file order), not %llu",
				 (unsigned long long)seq, (unsigned long long)got);
			break;
		}
		seq++;
		if (!strcmp(ev, "seamcall"))
			r = parse_seamcall(c, t, got, leaf_name);
		else if (!strcmp(ev, "blob"))
			t->n_blobs++;
		else
			t->n_other++;           /* kinds this reader does not know: skipped */
	}
	t->n_lines = c->line;
	free(c);
	if (r)
		tev_free(t);
	return r;
}

void tev_free(struct tev_trace *t)
{
	free(t->calls);
	t->calls = NULL;
	t->n_calls = t->cap_calls = 0;
}

uint64_t tev_percentile(const uint64_t *sorted, size_t n, unsigned p)
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
