/*
 * The trace reader (sim/trace_read.h, docs/trace-format.md).
 *
 * Layers: a byte source (a plain file mapped whole; else a file descriptor
 * or memory, plain or inflated with zlib, filling a line buffer); each line is parsed by the fast path for the
 * exact layout the writer produces, or else by a strict general JSON
 * parser; the fields then go through the same checks whichever path read
 * them. Nothing is allocated per event: the event, its "mem" list and the
 * status name live in the reader; blobs live until the reader is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <openssl/evp.h>

#include "tdx/leaf.h"
#include "sim/trace_read.h"

#define RAW_CHUNK    (1u << 20)         /* compressed input read at once */
#define LINE_CHUNK   (256u << 10)       /* line buffer (grows for long lines): cache-sized */
#define MAX_LINE     (512u << 20)       /* longest line accepted */
#define PAD          64                 /* zeroed bytes after the data */
#define MAX_DEPTH    64
#define MAX_MEMBERS  64                 /* top-level fields of one line */
#define MAX_MEM      65536              /* "mem" entries of one event */
#define NREGS        13

static const char *const reg_names[NREGS] = {
	"rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rbx", "rdi", "rsi",
};

/* ---- The reader ------------------------------------------------------------ */

struct raw_mem {
	uint64_t pa, len;
	uint8_t sha[32];
};

struct trace_reader {
	char *path;
	char err[768];
	int failed, done, header_ok;
	/* source */
	int fd;                         /* -1: memory */
	const atomic_int *cancel;       /* non-zero: stop waiting for input */
	const char *map;                /* a plain file mapped whole, or NULL */
	size_t map_len, map_pos;
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	int gz, gz_member_done, raw_eof;
	z_stream z;
	int z_init;
	uint8_t *raw;                   /* compressed bytes read from fd */
	uint8_t tail[4];                /* the last compressed bytes read */
	/* lines */
	char *buf;
	size_t cap, start, end;
	int src_eof;
	uint64_t lineno;
	/* state */
	struct trace_header hdr;
	uint64_t next_seq;
	struct trace_ev ev;
	struct raw_mem *rmem;           /* the event's "mem" entries as read */
	struct trace_mem *tmem;
	size_t n_rmem, cap_mem;
	char status_name[64];
	struct trace_blob *bt;          /* open addressing by sha; data NULL = free */
	size_t bcap, bn;
};

static int failv(struct trace_reader *r, int with_line, const char *fmt, va_list ap)
{
	if (r->failed)
		return -1;
	r->failed = 1;
	int k = with_line ? snprintf(r->err, sizeof(r->err), "%s:%" PRIu64 ": ", r->path, r->lineno)
			  : snprintf(r->err, sizeof(r->err), "%s: ", r->path);
	if (k < 0)
		k = 0;
	if ((size_t)k < sizeof(r->err))
		vsnprintf(r->err + k, sizeof(r->err) - (size_t)k, fmt, ap);
	return -1;
}

__attribute__((format(printf, 2, 3)))
static int fail(struct trace_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failv(r, 1, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 2, 3)))
static int fail_noline(struct trace_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failv(r, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int trace_reader_fail(struct trace_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failv(r, 1, fmt, ap);
	va_end(ap);
	return -1;
}

void trace_reader_set_cancel(struct trace_reader *r, const atomic_int *flag)
{
	r->cancel = flag;
}

const char *trace_reader_error(const struct trace_reader *r)
{
	return !r ? "out of memory" : r->failed ? r->err : NULL;
}

const struct trace_header *trace_reader_header(const struct trace_reader *r)
{
	return &r->hdr;
}

uint64_t trace_reader_line(const struct trace_reader *r)
{
	return r->lineno;
}

/* ---- Byte source -------------------------------------------------------------- */

/* Raw (possibly compressed) bytes into dst: count, 0 at the end, -1 error. */
static long raw_read(struct trace_reader *r, void *dst, size_t n)
{
	if (r->fd < 0) {
		size_t k = r->mem_len - r->mem_pos;
		if (k > n)
			k = n;
		memcpy(dst, r->mem + r->mem_pos, k);
		r->mem_pos += k;
		return (long)k;
	}
	for (;;) {
		/* A pipe may stay silent for ever: wait in slices so that a
		 * cancel (trace_reader_set_cancel) is seen. */
		while (r->cancel) {
			if (atomic_load(r->cancel)) {
				fail(r, "reading cancelled");
				return -1;
			}
			struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
			int pr = poll(&pfd, 1, 50);
			if (pr > 0 || (pr < 0 && errno != EINTR))
				break;
		}
		ssize_t k = read(r->fd, dst, n);
		if (k >= 0)
			return (long)k;
		if (errno != EINTR) {
			r->lineno++;
			fail(r, "read error: %s", strerror(errno));
			return -1;
		}
	}
}

static void keep_tail(struct trace_reader *r, const uint8_t *p, size_t n)
{
	if (n >= 4) {
		memcpy(r->tail, p + n - 4, 4);
	} else if (n) {
		memmove(r->tail, r->tail + n, 4 - n);
		memcpy(r->tail + 4 - n, p, n);
	}
}

/* Inflate into dst: count, 0 at the clean end, -1 error. */
static long gz_read(struct trace_reader *r, uint8_t *dst, size_t n)
{
	z_stream *z = &r->z;
	for (;;) {
		if (!z->avail_in && !r->raw_eof) {
			if (r->fd < 0) {
				/* memory: hand zlib the rest at once (in uInt pieces) */
				size_t k = r->mem_len - r->mem_pos;
				if (k > (1u << 30))
					k = 1u << 30;
				z->next_in = (Bytef *)(uintptr_t)(r->mem + r->mem_pos);
				z->avail_in = (uInt)k;
				keep_tail(r, r->mem + r->mem_pos, k);
				r->mem_pos += k;
				if (!k)
					r->raw_eof = 1;
			} else {
				long k = raw_read(r, r->raw, RAW_CHUNK);
				if (k < 0)
					return -1;
				keep_tail(r, r->raw, (size_t)k);
				z->next_in = r->raw;
				z->avail_in = (uInt)k;
				if (!k)
					r->raw_eof = 1;
			}
		}
		if (r->gz_member_done) {
			if (!z->avail_in && r->raw_eof)
				return 0;
			if (!z->avail_in)
				continue;
			/* Another gzip member must follow, nothing else. */
			if (z->next_in[0] != 0x1f) {
				r->lineno++;
				fail(r, "expected another gzip member or the end of the file, found other data after the gzip stream");
				return -1;
			}
			inflateReset(z);
			r->gz_member_done = 0;
		}
		z->next_out = dst;
		z->avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
		uInt want = z->avail_out;
		int rc = inflate(z, Z_NO_FLUSH);
		long got = (long)(want - z->avail_out);
		if (rc == Z_STREAM_END) {
			r->gz_member_done = 1;
		} else if (rc == Z_BUF_ERROR || rc == Z_OK) {
			if (!got && !z->avail_in && r->raw_eof) {
				/* A stream that stops right after a sync flush is
				 * the trace of a program that exited without
				 * tdxsim_close (TDXSIM_TRACE flushes after every
				 * SEAMCALL): complete up to there, no trailer. */
				static const uint8_t sync[4] = { 0, 0, 0xff, 0xff };
				if (!memcmp(r->tail, sync, 4))
					return 0;
				r->lineno++;
				fail(r, "the gzip stream ends early (truncated file?)");
				return -1;
			}
		} else {
			r->lineno++;
			fail(r, "corrupt gzip data (%s)", z->msg ? z->msg : zError(rc));
			return -1;
		}
		if (got)
			return got;
	}
}

static long src_read(struct trace_reader *r, void *dst, size_t n)
{
	return r->gz ? gz_read(r, dst, n) : raw_read(r, dst, n);
}

/* The next line, NUL-terminated in place (without '\n'). Returns 1 with
 * *s, *n and *nl (the line had its '\n'); 0 at the end; -1 error. */
static int next_line(struct trace_reader *r, char **s, size_t *n, int *nl)
{
	if (r->map) {
		/* Lines in place: they end in '\n', which stops every scan of the
		 * fast path; the last line, if it has none, is copied out. */
		size_t left = r->map_len - r->map_pos;
		if (!left)
			return 0;
		const char *p = r->map + r->map_pos;
		const char *e = memchr(p, '\n', left);
		r->lineno++;
		if (e) {
			*s = (char *)p;
			*n = (size_t)(e - p);
			*nl = 1;
			r->map_pos += *n + 1;
			return 1;
		}
		if (left > MAX_LINE)
			return fail(r, "expected a line shorter than %u MiB", MAX_LINE >> 20);
		if (left + PAD > r->cap + PAD) {
			char *nb = realloc(r->buf, left + PAD);
			if (!nb)
				return fail(r, "out of memory");
			r->buf = nb;
			r->cap = left;
		}
		memcpy(r->buf, p, left);
		memset(r->buf + left, 0, PAD);
		*s = r->buf;
		*n = left;
		*nl = 0;
		r->map_pos = r->map_len;
		return 1;
	}
	for (;;) {
		char *p = r->buf + r->start;
		char *e = r->start < r->end ? memchr(p, '\n', r->end - r->start) : NULL;
		if (e) {
			*e = 0;
			*s = p;
			*n = (size_t)(e - p);
			*nl = 1;
			r->start += *n + 1;
			r->lineno++;
			return 1;
		}
		if (r->src_eof) {
			if (r->start >= r->end)
				return 0;
			r->buf[r->end] = 0;
			*s = p;
			*n = r->end - r->start;
			*nl = 0;
			r->start = r->end;
			r->lineno++;
			return 1;
		}
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->cap - r->end < r->cap / 2) {
			if (r->cap >= MAX_LINE) {
				r->lineno++;
				return fail(r, "expected a line shorter than %u MiB", MAX_LINE >> 20);
			}
			char *nb = realloc(r->buf, r->cap * 2 + PAD);
			if (!nb) {
				r->lineno++;
				return fail(r, "out of memory");
			}
			r->buf = nb;
			r->cap *= 2;
		}
		long k = src_read(r, r->buf + r->end, r->cap - r->end);
		if (k < 0)
			return -1;
		if (!k)
			r->src_eof = 1;
		r->end += (size_t)k;
		memset(r->buf + r->end, 0, PAD);        /* fp_hex reads ahead */
	}
}

/* ---- Hex, numbers, Base64 ----------------------------------------------------------- */

static const int8_t hexv[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};                                      /* digit value + 1; 0 = not a hex digit */

/* "0x" then 1..16 hex digits, exactly [s, e). */
static int hex_u64(const char *s, const char *e, uint64_t *v)
{
	if (e - s < 3 || e - s > 18 || s[0] != '0' || s[1] != 'x')
		return -1;
	uint64_t x = 0;
	for (s += 2; s < e; s++) {
		int d = hexv[(unsigned char)*s];
		if (!d)
			return -1;
		x = x << 4 | (uint64_t)(d - 1);
	}
	*v = x;
	return 0;
}

/* A JSON non-negative integer (no sign, fraction or exponent), exactly [s, e). */
static int dec_u64(const char *s, const char *e, uint64_t *v)
{
	if (s == e || e - s > 20 || (*s == '0' && e - s > 1))
		return -1;
	uint64_t x = 0;
	for (; s < e; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int hex_sha(const char *s, size_t n, uint8_t out[32])
{
	if (n != 64)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int a = hexv[(unsigned char)s[2 * i]], b = hexv[(unsigned char)s[2 * i + 1]];
		if (!a || !b)
			return -1;
		out[i] = (uint8_t)((a - 1) << 4 | (b - 1));
	}
	return 0;
}

static int b64v(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Standard Base64 with '=' padding into a malloc'd buffer (at least 1 byte). */
static int base64_decode(const char *t, size_t n, uint8_t **out, size_t *outlen)
{
	if (n % 4)
		return -1;
	uint8_t *o = malloc(n / 4 * 3 + 1);
	if (!o)
		return -2;
	size_t k = 0;
	for (size_t i = 0; i < n; i += 4) {
		int a = b64v((unsigned char)t[i]), b = b64v((unsigned char)t[i + 1]);
		int last = i + 4 == n;
		int c = last && t[i + 2] == '=' ? -2 : b64v((unsigned char)t[i + 2]);
		int d = last && t[i + 3] == '=' ? -2 : b64v((unsigned char)t[i + 3]);
		/* Canonical only: the bits a '=' drops must be zero. */
		if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2) ||
		    (c == -2 && (b & 15)) || (c >= 0 && d == -2 && (c & 3))) {
			free(o);
			return -1;
		}
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)(c < 0 ? 0 : c) << 6 |
			     (uint32_t)(d < 0 ? 0 : d);
		o[k++] = (uint8_t)(v >> 16);
		if (c >= 0)
			o[k++] = (uint8_t)(v >> 8);
		if (d >= 0)
			o[k++] = (uint8_t)v;
	}
	*out = o;
	*outlen = k;
	return 0;
}

/* ---- Blobs ------------------------------------------------------------------------ */

const struct trace_blob *trace_reader_blob(const struct trace_reader *r, const uint8_t sha[32])
{
	if (!r->bcap)
		return NULL;
	uint64_t k;
	memcpy(&k, sha, 8);
	for (size_t i = k & (r->bcap - 1);; i = (i + 1) & (r->bcap - 1)) {
		if (!r->bt[i].data)
			return NULL;
		if (!memcmp(r->bt[i].sha, sha, 32))
			return &r->bt[i];
	}
}

/* Takes data; returns the stored blob (valid until the next blob is
 * stored: the table may move) or NULL (out of memory). */
static const struct trace_blob *blob_put(struct trace_reader *r, const uint8_t sha[32], uint8_t *data, size_t len)
{
	const struct trace_blob *old = trace_reader_blob(r, sha);
	if (old) {
		free(data);             /* a repeated blob line: keep the first */
		return old;
	}
	if ((r->bn + 1) * 2 > r->bcap) {
		size_t ncap = r->bcap ? r->bcap * 2 : 64;
		struct trace_blob *nt = calloc(ncap, sizeof(*nt));
		if (!nt)
			return NULL;
		for (size_t i = 0; i < r->bcap; i++) {
			if (!r->bt[i].data)
				continue;
			uint64_t k;
			memcpy(&k, r->bt[i].sha, 8);
			size_t j = k & (ncap - 1);
			while (nt[j].data)
				j = (j + 1) & (ncap - 1);
			nt[j] = r->bt[i];
		}
		free(r->bt);
		r->bt = nt;
		r->bcap = ncap;
	}
	uint64_t k;
	memcpy(&k, sha, 8);
	size_t i = k & (r->bcap - 1);
	while (r->bt[i].data)
		i = (i + 1) & (r->bcap - 1);
	memcpy(r->bt[i].sha, sha, 32);
	r->bt[i].data = data;
	r->bt[i].len = len;
	r->bn++;
	return &r->bt[i];
}

/* ---- General JSON parser ------------------------------------------------------------ */

enum jtype { J_STR = 1, J_NUM, J_OBJ, J_ARR, J_TRUE, J_FALSE, J_NULL };

struct jval {
	enum jtype type;
	const char *p;                  /* J_STR: the text between the quotes; else the value */
	size_t n;
	int esc;                        /* J_STR: has escapes */
};

struct jp {
	const char *p, *end;
	const char *what;               /* what was expected where parsing stopped */
};

static inline void jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static int jexp(struct jp *j, const char *what)
{
	if (!j->what)
		j->what = what;
	return -1;
}

static int jstring(struct jp *j, struct jval *v)
{
	if (j->p >= j->end || *j->p != '"')
		return jexp(j, "a string");
	const char *s = ++j->p;
	int esc = 0;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			return jexp(j, "no control characters in a string");
		if (c == '\\') {
			esc = 1;
			if (++j->p >= j->end)
				break;
			char e = *j->p;
			if (e == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end || !hexv[(unsigned char)j->p[i]]) {
						j->p += i;
						return jexp(j, "a \\uXXXX escape");
					}
				j->p += 4;
			} else if (!e || !strchr("\"\\/bfnrt", e)) {
				return jexp(j, "a valid string escape");
			}
		}
		j->p++;
	}
	if (j->p >= j->end)
		return jexp(j, "a closing '\"'");
	v->type = J_STR;
	v->p = s;
	v->n = (size_t)(j->p - s);
	v->esc = esc;
	j->p++;
	return 0;
}

static int jnumber(struct jp *j)
{
	const char *p = j->p;
	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end || *p < '0' || *p > '9')
		return jexp(j, "a value");
	if (*p == '0')
		p++;
	else
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	if (p < j->end && *p == '.') {
		p++;
		if (p >= j->end || *p < '0' || *p > '9')
			return j->p = p, jexp(j, "a digit after '.'");
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || *p < '0' || *p > '9')
			return j->p = p, jexp(j, "a digit in the exponent");
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	j->p = p;
	return 0;
}

static int jvalue(struct jp *j, int depth, struct jval *v);

/* Object member iteration: jobj_first after '{' is due, jobj_next after a
 * value. 1 and the key (and ':' consumed), 0 at '}', -1 error. */
static int jobj_first(struct jp *j, struct jval *key)
{
	jws(j);
	if (j->p >= j->end || *j->p != '{')
		return jexp(j, "'{'");
	j->p++;
	jws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	if (jstring(j, key))
		return j->what = NULL, jexp(j, "a member name (a string)");
	jws(j);
	if (j->p >= j->end || *j->p != ':')
		return jexp(j, "':' after a member name");
	j->p++;
	return 1;
}

static int jobj_next(struct jp *j, struct jval *key)
{
	jws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	if (j->p >= j->end || *j->p != ',')
		return jexp(j, "',' or '}'");
	j->p++;
	jws(j);
	if (jstring(j, key))
		return j->what = NULL, jexp(j, "a member name (a string)");
	jws(j);
	if (j->p >= j->end || *j->p != ':')
		return jexp(j, "':' after a member name");
	j->p++;
	return 1;
}

static int jarr_first(struct jp *j)
{
	jws(j);
	if (j->p >= j->end || *j->p != '[')
		return jexp(j, "'['");
	j->p++;
	jws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	return 1;
}

static int jarr_next(struct jp *j)
{
	jws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	if (j->p >= j->end || *j->p != ',')
		return jexp(j, "',' or ']'");
	j->p++;
	return 1;
}

static int jword(struct jp *j, const char *w, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return jexp(j, "a value");
	j->p += n;
	return 0;
}

static int jvalue(struct jp *j, int depth, struct jval *v)
{
	jws(j);
	if (depth > MAX_DEPTH)
		return jexp(j, "objects and arrays nested less deeply");
	if (j->p >= j->end)
		return jexp(j, "a value");
	const char *s = j->p;
	struct jval k;
	int r;
	v->esc = 0;
	switch (*j->p) {
	case '"':
		return jstring(j, v);
	case '{':
		for (r = jobj_first(j, &k); r > 0; r = jobj_next(j, &k))
			if (jvalue(j, depth + 1, &k))
				return -1;
		v->type = J_OBJ;
		break;
	case '[':
		for (r = jarr_first(j); r > 0; r = jarr_next(j))
			if (jvalue(j, depth + 1, &k))
				return -1;
		v->type = J_ARR;
		break;
	case 't': r = jword(j, "true", 4); v->type = J_TRUE; break;
	case 'f': r = jword(j, "false", 5); v->type = J_FALSE; break;
	case 'n': r = jword(j, "null", 4); v->type = J_NULL; break;
	default: r = jnumber(j); v->type = J_NUM; break;
	}
	v->p = s;
	v->n = (size_t)(j->p - s);
	return r < 0 ? -1 : 0;
}

/* ---- Fields of one line ---------------------------------------------------------------- */

struct member {
	const char *key;
	size_t keylen;
	struct jval v;
};

struct fields {
	struct trace_reader *r;
	const char *ctx;                /* "" or "config." ... for messages */
	struct member m[MAX_MEMBERS];
	size_t n;
};

static inline int keyis(const char *k, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n == l && !memcmp(k, lit, l);
}

/* Parse an object (validated or not) into f. */
static int fields_parse(struct fields *f, struct jp *j, int depth)
{
	struct jval key;
	int r;
	f->n = 0;
	for (r = jobj_first(j, &key); r > 0; r = jobj_next(j, &key)) {
		struct jval v;
		if (jvalue(j, depth + 1, &v))
			return -1;
		if (f->n == MAX_MEMBERS)
			return jexp(j, "at most 64 fields in an object");
		f->m[f->n++] = (struct member){ key.p, key.n, v };
	}
	return r;
}

/* The member named key: NULL if absent; an error if given twice. */
static const struct jval *fget(struct fields *f, const char *key, int *dup)
{
	const struct jval *v = NULL;
	for (size_t i = 0; i < f->n; i++)
		if (keyis(f->m[i].key, f->m[i].keylen, key)) {
			if (v) {
				*dup = 1;
				fail(f->r, "expected \"%s%s\" once, found it twice", f->ctx, key);
				return NULL;
			}
			v = &f->m[i].v;
		}
	return v;
}

static int fhex(struct fields *f, const char *key, uint64_t *out)
{
	int dup = 0;
	const struct jval *v = fget(f, key, &dup);
	if (dup)
		return -1;
	if (!v || v->type != J_STR || hex_u64(v->p, v->p + v->n, out))
		return fail(f->r, "expected \"%s%s\": a 64-bit hex string \"0x...\"", f->ctx, key);
	return 0;
}

static int fnum(struct fields *f, const char *key, uint64_t *out)
{
	int dup = 0;
	const struct jval *v = fget(f, key, &dup);
	if (dup)
		return -1;
	if (!v || v->type != J_NUM || dec_u64(v->p, v->p + v->n, out))
		return fail(f->r, "expected \"%s%s\": a non-negative integer", f->ctx, key);
	return 0;
}

/* A string without escapes (ptr/len) or, if allow_null, null (*isnull). */
static int fstr(struct fields *f, const char *key, const char **s, size_t *n, int allow_null, int *isnull)
{
	int dup = 0;
	const struct jval *v = fget(f, key, &dup);
	if (dup)
		return -1;
	if (isnull)
		*isnull = 0;
	if (v && allow_null && v->type == J_NULL) {
		*isnull = 1;
		*s = "";
		*n = 0;
		return 0;
	}
	if (!v || v->type != J_STR || v->esc)
		return fail(f->r, "expected \"%s%s\": a string%s", f->ctx, key,
			    allow_null ? " or null" : "");
	*s = v->p;
	*n = v->n;
	return 0;
}

static int fobj(struct fields *f, const char *key, enum jtype type, struct jp *sub)
{
	int dup = 0;
	const struct jval *v = fget(f, key, &dup);
	if (dup)
		return -1;
	if (!v || v->type != type)
		return fail(f->r, "expected \"%s%s\": %s", f->ctx, key, type == J_OBJ ? "an object" : "an array");
	*sub = (struct jp){ v->p, v->p + v->n, NULL };
	return 0;
}

/* {"rcx":"0x..",...}: all 13 registers, hex. */
static int fregs(struct fields *f, const char *key, struct tdx_module_args *a)
{
	struct jp j;
	if (fobj(f, key, J_OBJ, &j))
		return -1;
	struct fields g = { .r = f->r };
	if (fields_parse(&g, &j, 1) < 0)
		return fail(f->r, "\"%s\": malformed", key);
	char ctx[16];
	snprintf(ctx, sizeof(ctx), "%s.", key);
	g.ctx = ctx;
	uint64_t *regs = (uint64_t *)a;
	for (int i = 0; i < NREGS; i++) {
		int dup = 0;
		const struct jval *v = fget(&g, reg_names[i], &dup);
		if (dup)
			return -1;
		if (!v)
			return fail(f->r, "\"%s\" lacks a register: expected register \"%s\"", key, reg_names[i]);
		if (v->type != J_STR || hex_u64(v->p, v->p + v->n, &regs[i]))
			return fail(f->r, "expected \"%s.%s\": a 64-bit hex string \"0x...\"", key, reg_names[i]);
	}
	return 0;
}

/* ---- Header ----------------------------------------------------------------------------- */

static int copy_str(struct trace_reader *r, const char *what, const char *s, size_t n, char *out, size_t cap)
{
	if (n + 1 > cap)
		return fail(r, "expected \"%s\": at most %zu characters", what, cap - 1);
	memcpy(out, s, n);
	out[n] = 0;
	return 0;
}

/* Parse a whole line as one JSON object into f: 0, or -1 with the failure
 * reported (kind: "header" or "event"; empty: what an empty line lacks). */
static int parse_line_object(struct trace_reader *r, struct fields *f, char *line, size_t len,
			     const char *kind, const char *empty)
{
	struct jp j = { line, line + len, NULL };
	jws(&j);
	if (j.p == j.end)
		return fail(r, "%s", empty);
	if (fields_parse(f, &j, 0) < 0 || (jws(&j), j.p != j.end)) {
		if (!j.what)
			j.what = "the end of the line after the object";
		if (j.p >= j.end)
			return fail(r, "%s: the line ends early (truncated?): expected %s", kind, j.what);
		return fail(r, "%s: malformed JSON at column %zu: expected %s", kind,
			    (size_t)(j.p - line) + 1, j.what);
	}
	return 0;
}

static int parse_header(struct trace_reader *r, char *line, size_t len)
{
	struct fields *f = calloc(1, sizeof(*f));
	struct fields *c = calloc(1, sizeof(*c));
	int rc = -1;
	if (!f || !c) {
		fail(r, "out of memory");
		goto out;
	}
	f->r = c->r = r;
	f->ctx = "";
	c->ctx = "config.";
	if (parse_line_object(r, f, line, len, "header",
			      "expected the trace header {\"format\":\"tdxsim-trace\",...}, found an empty line"))
		goto out;
	const char *s;
	size_t n;
	int dup = 0;
	const struct jval *fv = fget(f, "format", &dup);
	if (dup)
		goto out;
	if (!fv || fv->type != J_STR || !keyis(fv->p, fv->n, "tdxsim-trace")) {
		fail(r, "not a tdxsim trace: expected the header {\"format\":\"tdxsim-trace\",\"version\":%d,...}",
		     TRACE_FMT_VERSION);
		goto out;
	}
	uint64_t v;
	if (fnum(f, "version", &v))
		goto out;
	if (v != TRACE_FMT_VERSION) {
		fail(r, "trace format version %" PRIu64 " is not supported: expected version %d (%s)", v,
		     TRACE_FMT_VERSION, v > TRACE_FMT_VERSION ? "the trace is newer than this tdxsim" : "no such version");
		goto out;
	}
	r->hdr.version = (unsigned)v;
	r->hdr.minor = 0;
	dup = 0;
	if (fget(f, "minor", &dup)) {
		if (fnum(f, "minor", &v))
			goto out;
		r->hdr.minor = v > 0xffff ? 0xffff : (unsigned)v;
	} else if (dup) {
		goto out;
	}
	if (fstr(f, "tdxsim", &s, &n, 0, NULL) || copy_str(r, "tdxsim", s, n, r->hdr.tdxsim, sizeof(r->hdr.tdxsim)))
		goto out;
	if (fstr(f, "platform", &s, &n, 0, NULL) ||
	    copy_str(r, "platform", s, n, r->hdr.platform, sizeof(r->hdr.platform)))
		goto out;
	struct jp cj;
	if (fobj(f, "config", J_OBJ, &cj))
		goto out;
	if (fields_parse(c, &cj, 1) < 0) {
		fail(r, "header: \"config\" malformed");
		goto out;
	}
	tdxsim_config *cfg = &r->hdr.cfg;
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	char cplat[16];
	if (fstr(c, "platform", &s, &n, 0, NULL) || copy_str(r, "config.platform", s, n, cplat, sizeof(cplat)))
		goto out;
	if (strcmp(cplat, r->hdr.platform)) {
		fail(r, "expected \"config.platform\" to be \"platform\" (\"%s\"), not \"%s\"", r->hdr.platform, cplat);
		goto out;
	}
	if (!tdxsim_platform_find(r->hdr.platform)) {
		fail(r, "header: unknown platform \"%s\": expected a platform profile of this tdxsim (spr, emr, gnr)",
		     r->hdr.platform);
		goto out;
	}
	cfg->platform = r->hdr.platform;
	static const struct { const char *name; size_t off; int size; } nums[] = {
		{ "flags", offsetof(tdxsim_config, flags), 4 },
		{ "packages", offsetof(tdxsim_config, packages), 4 },
		{ "lps_per_package", offsetof(tdxsim_config, lps_per_package), 4 },
		{ "n_cmrs", offsetof(tdxsim_config, n_cmrs), 4 },
		{ "mktme_keyids", offsetof(tdxsim_config, mktme_keyids), 4 },
		{ "tdx_keyids", offsetof(tdxsim_config, tdx_keyids), 4 },
		{ "module_major", offsetof(tdxsim_config, module_major), 2 },
		{ "module_minor", offsetof(tdxsim_config, module_minor), 2 },
		{ "module_update", offsetof(tdxsim_config, module_update), 2 },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (fnum(c, nums[i].name, &v))
			goto out;
		if (v >> (8 * nums[i].size)) {
			fail(r, "expected \"config.%s\": at most %d bits", nums[i].name, 8 * nums[i].size);
			goto out;
		}
		if (nums[i].size == 4) {
			uint32_t x = (uint32_t)v;
			memcpy((char *)cfg + nums[i].off, &x, 4);
		} else {
			uint16_t x = (uint16_t)v;
			memcpy((char *)cfg + nums[i].off, &x, 2);
		}
	}
	if (fhex(c, "mem_bytes", &cfg->mem_bytes) || fhex(c, "tdx_features0", &cfg->tdx_features0) ||
	    fhex(c, "seed", &cfg->seed))
		goto out;
	if (cfg->n_cmrs > TDX_MAX_CMRS) {
		fail(r, "expected \"config.n_cmrs\": at most %d, not %u", TDX_MAX_CMRS, cfg->n_cmrs);
		goto out;
	}
	struct jp aj;
	if (fobj(c, "cmrs", J_ARR, &aj))
		goto out;
	uint32_t ncm = 0;
	int ar;
	for (ar = jarr_first(&aj); ar > 0; ar = jarr_next(&aj)) {
		struct fields *e = calloc(1, sizeof(*e));
		if (!e) {
			fail(r, "out of memory");
			goto out;
		}
		e->r = r;
		e->ctx = "config.cmrs[].";
		int bad = fields_parse(e, &aj, 2) < 0;
		if (bad)
			fail(r, "expected \"config.cmrs\": an array of {\"base\":\"0x...\",\"size\":\"0x...\"}");
		else if (ncm >= TDX_MAX_CMRS)
			bad = fail(r, "expected \"config.cmrs\": at most %d CMRs", TDX_MAX_CMRS);
		else
			bad = fhex(e, "base", &cfg->cmrs[ncm].base) || fhex(e, "size", &cfg->cmrs[ncm].size);
		free(e);
		if (bad)
			goto out;
		ncm++;
	}
	if (ar < 0) {
		fail(r, "expected \"config.cmrs\": an array of {\"base\":\"0x...\",\"size\":\"0x...\"}");
		goto out;
	}
	if (ncm != cfg->n_cmrs) {
		fail(r, "expected %u entries in \"config.cmrs\" (\"n_cmrs\"), found %u", cfg->n_cmrs, ncm);
		goto out;
	}
	rc = 0;
out:
	free(f);
	free(c);
	return rc;
}

/* ---- Events ---------------------------------------------------------------------------- */

/* What a seamcall / tdcall / td_exit line says, before the checks. */
struct raw_ev {
	uint64_t seq, lp, rax, leaf, version, status, cycles, cycles_start, injected;
	uint64_t tdvpr, rip, exit_reason, exit_qual, ext_exit_qual, gpa, intr_info;
	const char *name, *sname;
	size_t namen, snamen;
	int name_null, sname_null;
	struct tdx_module_args *in, *out;       /* the reader's event (parsed in place) */
};

static int mem_reserve(struct trace_reader *r, size_t n)
{
	if (n <= r->cap_mem)
		return 0;
	size_t ncap = r->cap_mem ? r->cap_mem * 2 : 16;
	while (ncap < n)
		ncap *= 2;
	struct raw_mem *a = realloc(r->rmem, ncap * sizeof(*a));
	if (!a)
		return -1;
	r->rmem = a;
	struct trace_mem *b = realloc(r->tmem, ncap * sizeof(*b));
	if (!b)
		return -1;
	r->tmem = b;
	r->cap_mem = ncap;
	return 0;
}

/* Checks common to a call (seamcall: tdcall = 0; tdcall: 1). */
static int finish_call(struct trace_reader *r, struct raw_ev *e, int tdcall)
{
	struct trace_ev *ev = &r->ev;
	const char *kind = tdcall ? "tdcall" : "seamcall";
	if (e->lp > 0xffff)
		return fail(r, "expected \"lp\": an LP number below 65536, not %" PRIu64, e->lp);
	if (e->leaf != (e->rax & TDX_LEAF_MASK))
		return fail(r, "%s seq %" PRIu64 ": expected \"leaf\" to be rax 0x%" PRIx64 " & 0xffff, not %" PRIu64,
			    kind, e->seq, e->rax, e->leaf);
	if (e->version != ((e->rax >> 16) & 0xff))
		return fail(r, "%s seq %" PRIu64 ": expected \"version\" to be (rax 0x%" PRIx64 " >> 16) & 0xff, not %" PRIu64,
			    kind, e->seq, e->rax, e->version);
	const char *known = tdcall ? tdx_tdcall_leaf_name(e->rax) : tdx_seamcall_leaf_name(e->rax);
	if (!e->name_null && (!known || strncmp(known, e->name, e->namen) || known[e->namen]))
		return fail(r, "%s seq %" PRIu64 ": unknown leaf \"%.*s\" (rax 0x%" PRIx64 "%s%s): expected a leaf this tdxsim knows by that name",
			    kind, e->seq, (int)(e->namen > 64 ? 64 : e->namen), e->name, e->rax,
			    known ? ", which this tdxsim calls " : ", not a leaf this tdxsim knows",
			    known ? known : "");
	if (e->name_null && known)
		return fail(r, "%s seq %" PRIu64 ": leaf %" PRIu64 " is %s: expected \"name\":\"%s\", not null",
			    kind, e->seq, e->leaf, known, known);
	if (e->snamen >= sizeof(r->status_name))
		return fail(r, "expected \"status_name\": at most %zu characters", sizeof(r->status_name) - 1);
	if (e->cycles_start > UINT64_MAX - e->cycles)
		return fail(r, "expected \"cycles_start\" + \"cycles\" to fit in 64 bits");
	memcpy(r->status_name, e->sname, e->snamen);
	r->status_name[e->snamen] = 0;
	ev->lp = (uint32_t)e->lp;
	ev->rax = e->rax;
	ev->name = known;
	ev->status = e->status;
	ev->status_name = r->status_name;
	ev->cycles = e->cycles;
	ev->cycles_start = e->cycles_start;
	return 0;
}

static int finish_seamcall(struct trace_reader *r, struct raw_ev *e)
{
	struct trace_ev *ev = &r->ev;
	ev->kind = TRACE_EV_SEAMCALL;
	if (finish_call(r, e, 0))
		return -1;
	/* Minor 2 numbers the fault point (1 = the first of its kind in the
	 * call); before, 1 only said "injected". */
	if (r->hdr.minor < 2 && e->injected > 1)
		return fail(r, "expected \"injected\": 0 or 1, not %" PRIu64, e->injected);
	if (e->injected > 0xffff)
		return fail(r, "expected \"injected\": a fault point number below 65536, not %" PRIu64,
			    e->injected);
	ev->injected = (int)e->injected;
	for (size_t i = 0; i < r->n_rmem; i++) {
		const struct raw_mem *m = &r->rmem[i];
		const struct trace_blob *b = trace_reader_blob(r, m->sha);
		if (!b) {
			char hx[65];
			for (int k = 0; k < 32; k++)
				snprintf(hx + 2 * k, 3, "%02x", m->sha[k]);
			return fail(r, "mem[%zu]: no blob line with sha256 %s before this event", i, hx);
		}
		if (b->len != m->len)
			return fail(r, "mem[%zu]: \"len\" %" PRIu64 " but its blob has %zu bytes", i, m->len, b->len);
		r->tmem[i] = (struct trace_mem){ m->pa, m->len, b };
	}
	ev->mem = r->tmem;
	ev->n_mem = r->n_rmem;
	return 0;
}

static int finish_td_exit(struct trace_reader *r, struct raw_ev *e)
{
	struct trace_ev *ev = &r->ev;
	ev->kind = TRACE_EV_TD_EXIT;
	if (e->lp > 0xffff)
		return fail(r, "expected \"lp\": an LP number below 65536, not %" PRIu64, e->lp);
	if (e->exit_reason > 0xffff)
		return fail(r, "expected \"exit_reason\": a VMX basic exit reason below 65536");
	if (e->snamen >= sizeof(r->status_name))
		return fail(r, "expected \"status_name\": at most %zu characters", sizeof(r->status_name) - 1);
	if (e->cycles_start > UINT64_MAX - e->cycles)
		return fail(r, "expected \"cycles_start\" + \"cycles\" to fit in 64 bits");
	memcpy(r->status_name, e->sname, e->snamen);
	r->status_name[e->snamen] = 0;
	ev->lp = (uint32_t)e->lp;
	ev->tdvpr = e->tdvpr;
	ev->status = e->status;
	ev->status_name = r->status_name;
	ev->exit_reason = (uint32_t)e->exit_reason;
	ev->exit_qual = e->exit_qual;
	ev->ext_exit_qual = e->ext_exit_qual;
	ev->gpa = e->gpa;
	ev->intr_info = e->intr_info;
	ev->rip = e->rip;
	ev->cycles = e->cycles;
	ev->cycles_start = e->cycles_start;
	return 0;
}

static int finish_blob(struct trace_reader *r, const char *sha, size_t shan, const char *data, size_t datan)
{
	uint8_t want[32], got[32];
	if (hex_sha(sha, shan, want))
		return fail(r, "blob: expected \"sha256\": 64 hex digits");
	uint8_t *bytes;
	size_t len;
	int rc = base64_decode(data, datan, &bytes, &len);
	if (rc == -2)
		return fail(r, "blob: out of memory");
	if (rc)
		return fail(r, "blob: expected \"data\": Base64 (A-Z a-z 0-9 + /, '=' padded)");
	if (!EVP_Digest(bytes, len, got, NULL, EVP_sha256(), NULL) || memcmp(got, want, 32)) {
		free(bytes);
		return fail(r, "blob: expected the SHA-256 of \"data\" to be \"sha256\"");
	}
	const struct trace_blob *b = blob_put(r, want, bytes, len);
	if (!b) {
		free(bytes);
		return fail(r, "blob: out of memory");
	}
	r->ev.kind = TRACE_EV_BLOB;
	r->ev.blob = b;
	return 0;
}

/* "mem":[{"pa":"0x..","len":N,"sha256":"..."},...] via the general parser. */
static int general_mem(struct trace_reader *r, struct fields *f)
{
	struct jp j;
	if (fobj(f, "mem", J_ARR, &j))
		return -1;
	struct fields *e = calloc(1, sizeof(*e));
	if (!e)
		return fail(r, "out of memory");
	e->r = r;
	e->ctx = "mem[].";
	int ar, rc = -1;
	r->n_rmem = 0;
	for (ar = jarr_first(&j); ar > 0; ar = jarr_next(&j)) {
		if (fields_parse(e, &j, 2) < 0) {
			fail(r, "expected \"mem\": an array of {\"pa\":\"0x...\",\"len\":N,\"sha256\":\"...\"}");
			goto out;
		}
		if (r->n_rmem == MAX_MEM) {
			fail(r, "expected at most %d \"mem\" entries", MAX_MEM);
			goto out;
		}
		if (mem_reserve(r, r->n_rmem + 1)) {
			fail(r, "out of memory");
			goto out;
		}
		struct raw_mem *m = &r->rmem[r->n_rmem];
		const char *s;
		size_t n;
		if (fhex(e, "pa", &m->pa) || fnum(e, "len", &m->len) || fstr(e, "sha256", &s, &n, 0, NULL))
			goto out;
		if (hex_sha(s, n, m->sha)) {
			fail(r, "expected \"mem[%zu].sha256\": 64 hex digits", r->n_rmem);
			goto out;
		}
		r->n_rmem++;
	}
	if (ar < 0) {
		fail(r, "expected \"mem\": an array of {\"pa\":\"0x...\",\"len\":N,\"sha256\":\"...\"}");
		goto out;
	}
	rc = 0;
out:
	free(e);
	return rc;
}

/* Fields of a call line (seamcall, tdcall) via the general parser. */
static int general_call(struct fields *f, struct raw_ev *e)
{
	if (fnum(f, "lp", &e->lp) || fhex(f, "rax", &e->rax) || fnum(f, "leaf", &e->leaf) ||
	    fstr(f, "name", &e->name, &e->namen, 1, &e->name_null) || fnum(f, "version", &e->version) ||
	    fregs(f, "in", e->in) || fhex(f, "status", &e->status) ||
	    fstr(f, "status_name", &e->sname, &e->snamen, 1, &e->sname_null) || fregs(f, "out", e->out) ||
	    fnum(f, "cycles", &e->cycles) || fhex(f, "cycles_start", &e->cycles_start))
		return -1;
	return 0;
}

/* One event line via the general parser. */
static int general_event(struct trace_reader *r, char *line, size_t len)
{
	struct fields *f = calloc(1, sizeof(*f));
	if (!f)
		return fail(r, "out of memory");
	f->r = r;
	f->ctx = "";
	int rc = -1;
	if (parse_line_object(r, f, line, len, "event", "empty line: expected an event object"))
		goto out;
	const char *ev;
	size_t evn;
	uint64_t seq;
	if (fstr(f, "ev", &ev, &evn, 0, NULL) || fnum(f, "seq", &seq))
		goto out;
	if (seq != r->next_seq) {
		fail(r, "expected \"seq\":%" PRIu64 " (events count from 0 in file order), not %" PRIu64,
		     r->next_seq, seq);
		goto out;
	}
	struct raw_ev e;
	memset(&e, 0, sizeof(e));
	e.in = &r->ev.in;
	e.out = &r->ev.out;
	e.seq = seq;
	r->ev.seq = seq;
	if (keyis(ev, evn, "seamcall")) {
		if (general_call(f, &e) || fnum(f, "injected", &e.injected) || general_mem(r, f) ||
		    finish_seamcall(r, &e))
			goto out;
	} else if (keyis(ev, evn, "blob")) {
		const char *sha, *data;
		size_t shan, datan;
		if (fstr(f, "sha256", &sha, &shan, 0, NULL) || fstr(f, "data", &data, &datan, 0, NULL) ||
		    finish_blob(r, sha, shan, data, datan))
			goto out;
	} else if (keyis(ev, evn, "tdcall")) {
		if (general_call(f, &e) || fhex(f, "tdvpr", &e.tdvpr) || fhex(f, "rip", &e.rip) ||
		    finish_call(r, &e, 1))
			goto out;
		r->ev.kind = TRACE_EV_TDCALL;
		r->ev.tdvpr = e.tdvpr;
		r->ev.rip = e.rip;
	} else if (keyis(ev, evn, "td_exit")) {
		if (fnum(f, "lp", &e.lp) || fhex(f, "tdvpr", &e.tdvpr) || fhex(f, "status", &e.status) ||
		    fstr(f, "status_name", &e.sname, &e.snamen, 1, &e.sname_null) ||
		    fnum(f, "exit_reason", &e.exit_reason) || fhex(f, "exit_qual", &e.exit_qual) ||
		    fhex(f, "ext_exit_qual", &e.ext_exit_qual) || fhex(f, "gpa", &e.gpa) ||
		    fhex(f, "intr_info", &e.intr_info) || fhex(f, "rip", &e.rip) ||
		    fnum(f, "cycles", &e.cycles) || fhex(f, "cycles_start", &e.cycles_start) ||
		    finish_td_exit(r, &e))
			goto out;
	} else {
		r->ev.kind = TRACE_EV_OTHER;
		size_t n = evn < sizeof(r->ev.ev_name) - 1 ? evn : sizeof(r->ev.ev_name) - 1;
		memcpy(r->ev.ev_name, ev, n);
		r->ev.ev_name[n] = 0;
	}
	rc = 0;
out:
	free(f);
	return rc;
}

/* ---- Fast path: the writer's exact layout ------------------------------------------------ */

struct fp {
	const char *p, *end;
};

#define LIT(f, s) lit(f, s, sizeof(s) - 1)
static inline uint32_t ld4(const char *p)
{
	uint32_t x;
	memcpy(&x, p, 4);
	return x;
}

static inline uint64_t ld8(const char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return x;
}

/* Compare a literal of constant length n (inlined to a few word compares). */
static inline __attribute__((always_inline)) int lit(struct fp *f, const char *s, size_t n)
{
	const char *p = f->p;
	if ((size_t)(f->end - p) < n)
		return -1;
	if (n < 4) {
		for (size_t i = 0; i < n; i++)
			if (p[i] != s[i])
				return -1;
	} else if (n < 8) {
		if ((ld4(p) ^ ld4(s)) | (ld4(p + n - 4) ^ ld4(s + n - 4)))
			return -1;
	} else if (n <= 16) {
		if ((ld8(p) ^ ld8(s)) | (ld8(p + n - 8) ^ ld8(s + n - 8)))
			return -1;
	} else if (n > 16 && n <= 32) {
		if ((ld8(p) ^ ld8(s)) | (ld8(p + 8) ^ ld8(s + 8)) | (ld8(p + n - 16) ^ ld8(s + n - 16)) |
		    (ld8(p + n - 8) ^ ld8(s + n - 8)))
			return -1;
	} else if (memcmp(p, s, n)) {
		return -1;
	}
	f->p = p + n;
	return 0;
}

/* SWAR helpers on 8 bytes (little-endian: byte 0 is the first character). */
#define B01 0x0101010101010101ULL
#define B80 0x8080808080808080ULL
/* High bit set in each byte of x that is zero (exact up to the first one). */
static inline uint64_t zero_bytes(uint64_t x)
{
	return (x - B01) & ~x & B80;
}

/* 1..16 hex digits then the closing quote (consumed); "0x" already matched.
 * One digit, the usual value, is checked first; longer ones a byte at a
 * time without a bound check (the line ends in a NUL or '\n', neither a hex
 * digit, so the scan stops there). A word-wise (SWAR) version measured no
 * faster on the traces' values. */
static inline __attribute__((always_inline)) int fp_hex(struct fp *f, uint64_t *v)
{
	const unsigned char *p = (const unsigned char *)f->p;
	int d = hexv[p[0]];
	if (__builtin_expect(d && p[1] == '"', 1)) {
		*v = (uint64_t)(d - 1);
		f->p += 2;
		return 0;
	}
	uint64_t x = 0;
	const unsigned char *s = p;
	for (; (d = hexv[*p]); p++)
		x = x << 4 | (uint64_t)(d - 1);
	if (*p != '"' || p == s || p - s > 16 || (const char *)p >= f->end)
		return -1;
	f->p = (const char *)p + 1;
	*v = x;
	return 0;
}

/* A JSON non-negative integer (no leading zero): up to 19 digits summed
 * unchecked, a 20th with the overflow check. */
static inline int fp_num(struct fp *f, uint64_t *v)
{
	const char *p = f->p, *e = f->end, *s = p;
	uint64_t x = 0;
	while (p < e && (unsigned)(*p - '0') <= 9 && p - s < 19)
		x = x * 10 + (uint64_t)(*p++ - '0');
	if (p < e && (unsigned)(*p - '0') <= 9) {
		unsigned d = (unsigned)(*p++ - '0');
		if (x > (UINT64_MAX - d) / 10 || (p < e && (unsigned)(*p - '0') <= 9))
			return -1;
		x = x * 10 + d;
	}
	if (p == s || (*s == '0' && p - s > 1))
		return -1;
	f->p = p;
	*v = x;
	return 0;
}

/* A string without escapes or null. */
static inline int fp_str(struct fp *f, const char **s, size_t *n, int *isnull)
{
	if (f->end - f->p >= 4 && !memcmp(f->p, "null", 4)) {
		f->p += 4;
		*isnull = 1;
		*s = "";
		*n = 0;
		return 0;
	}
	if (f->p >= f->end || *f->p != '"')
		return -1;
	const char *b = ++f->p;
	/* Word-wise while 8 bytes are left: stop at the first '"', '\\' or
	 * control character (bytes >= 0x80 pass). */
	while (f->end - f->p >= 8) {
		uint64_t w = ld8(f->p);
		uint64_t stop = zero_bytes(w ^ 0x22 * B01) | zero_bytes(w ^ 0x5c * B01) |
				((w - 0x20 * B01) & ~w & B80);
		if (stop) {
			f->p += __builtin_ctzll(stop) >> 3;
			break;
		}
		f->p += 8;
	}
	while (f->p < f->end && *f->p != '"') {
		unsigned char c = (unsigned char)*f->p;
		if (c < 0x20 || c == '\\')
			return -1;
		f->p++;
	}
	if (f->p >= f->end)
		return -1;
	*s = b;
	*n = (size_t)(f->p - b);
	*isnull = 0;
	f->p++;
	return 0;
}

static int fp_regs(struct fp *f, struct tdx_module_args *a)
{
	if (LIT(f, "{\"rcx\":\"0x") || fp_hex(f, &a->rcx) ||
	    LIT(f, ",\"rdx\":\"0x") || fp_hex(f, &a->rdx) ||
	    LIT(f, ",\"r8\":\"0x") || fp_hex(f, &a->r8) ||
	    LIT(f, ",\"r9\":\"0x") || fp_hex(f, &a->r9) ||
	    LIT(f, ",\"r10\":\"0x") || fp_hex(f, &a->r10) ||
	    LIT(f, ",\"r11\":\"0x") || fp_hex(f, &a->r11) ||
	    LIT(f, ",\"r12\":\"0x") || fp_hex(f, &a->r12) ||
	    LIT(f, ",\"r13\":\"0x") || fp_hex(f, &a->r13) ||
	    LIT(f, ",\"r14\":\"0x") || fp_hex(f, &a->r14) ||
	    LIT(f, ",\"r15\":\"0x") || fp_hex(f, &a->r15) ||
	    LIT(f, ",\"rbx\":\"0x") || fp_hex(f, &a->rbx) ||
	    LIT(f, ",\"rdi\":\"0x") || fp_hex(f, &a->rdi) ||
	    LIT(f, ",\"rsi\":\"0x") || fp_hex(f, &a->rsi) || LIT(f, "}"))
		return -1;
	return 0;
}

/* The part of a call line after "seq":N: 1 matched (and checked), 0 not
 * the writer's layout, -1 an error. */
static int fast_call(struct trace_reader *r, struct fp *f, struct raw_ev *e, int tdcall)
{
	if (LIT(f, ",\"lp\":") || fp_num(f, &e->lp))
		return 0;
	if (tdcall && (LIT(f, ",\"tdvpr\":\"0x") || fp_hex(f, &e->tdvpr) ||
		       LIT(f, ",\"rip\":\"0x") || fp_hex(f, &e->rip)))
		return 0;
	if (LIT(f, ",\"rax\":\"0x") || fp_hex(f, &e->rax) ||
	    LIT(f, ",\"leaf\":") || fp_num(f, &e->leaf) ||
	    LIT(f, ",\"name\":") || fp_str(f, &e->name, &e->namen, &e->name_null) ||
	    LIT(f, ",\"version\":") || fp_num(f, &e->version) ||
	    LIT(f, ",\"in\":") || fp_regs(f, e->in) ||
	    LIT(f, ",\"status\":\"0x") || fp_hex(f, &e->status) ||
	    LIT(f, ",\"status_name\":") || fp_str(f, &e->sname, &e->snamen, &e->sname_null) ||
	    LIT(f, ",\"out\":") || fp_regs(f, e->out) ||
	    LIT(f, ",\"cycles\":") || fp_num(f, &e->cycles) ||
	    LIT(f, ",\"cycles_start\":\"0x") || fp_hex(f, &e->cycles_start))
		return 0;
	(void)r;
	return 1;
}

/* The fields finish_call / finish_seamcall do not set (cheaper than a memset). */
static inline void clear_ev(struct trace_ev *ev)
{
	ev->injected = 0;
	ev->mem = NULL;
	ev->n_mem = 0;
	ev->blob = NULL;
	ev->tdvpr = ev->rip = 0;
	ev->exit_reason = 0;
	ev->exit_qual = ev->ext_exit_qual = ev->gpa = ev->intr_info = 0;
	ev->ev_name[0] = 0;
}

static int fast_event(struct trace_reader *r, char *line, size_t len)
{
	struct fp f = { line, line + len };
	struct raw_ev e;
	int kind;
	if (!LIT(&f, "{\"ev\":\"seamcall\",\"seq\":"))
		kind = TRACE_EV_SEAMCALL;
	else if (!LIT(&f, "{\"ev\":\"tdcall\",\"seq\":"))
		kind = TRACE_EV_TDCALL;
	else
		return 0;
	if (fp_num(&f, &e.seq) || e.seq != r->next_seq)
		return 0;
	e.in = &r->ev.in;
	e.out = &r->ev.out;
	e.injected = 0;
	if (fast_call(r, &f, &e, kind == TRACE_EV_TDCALL) != 1)
		return 0;
	if (kind == TRACE_EV_TDCALL) {
		if (LIT(&f, "}") || f.p != f.end)
			return 0;
		clear_ev(&r->ev);
		r->ev.seq = e.seq;
		r->ev.kind = TRACE_EV_TDCALL;
		r->ev.tdvpr = e.tdvpr;
		r->ev.rip = e.rip;
		return finish_call(r, &e, 1) ? -1 : 1;
	}
	if (LIT(&f, ",\"injected\":") || fp_num(&f, &e.injected) || LIT(&f, ",\"mem\":["))
		return 0;
	r->n_rmem = 0;
	if (f.p < f.end && *f.p != ']') {
		for (;;) {
			if (r->n_rmem == MAX_MEM || mem_reserve(r, r->n_rmem + 1))
				return 0;
			struct raw_mem *m = &r->rmem[r->n_rmem];
			if (LIT(&f, "{\"pa\":\"0x") || fp_hex(&f, &m->pa) || LIT(&f, ",\"len\":") ||
			    fp_num(&f, &m->len) || LIT(&f, ",\"sha256\":\"") || f.end - f.p < 65 ||
			    hex_sha(f.p, 64, m->sha) || f.p[64] != '"')
				return 0;
			f.p += 65;
			if (LIT(&f, "}"))
				return 0;
			r->n_rmem++;
			if (f.p < f.end && *f.p == ',') {
				f.p++;
				continue;
			}
			break;
		}
	}
	if (LIT(&f, "]}") || f.p != f.end)
		return 0;
	clear_ev(&r->ev);
	r->ev.seq = e.seq;
	return finish_seamcall(r, &e) ? -1 : 1;
}

/* ---- Driver ------------------------------------------------------------------------------ */

static struct trace_reader *reader_new(const char *name, size_t cap)
{
	struct trace_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fd = -1;
	r->path = strdup(name ? name : "(null)");
	r->cap = cap;
	r->buf = calloc(1, r->cap + PAD);
	if (!r->path || !r->buf) {
		free(r->path);
		free(r->buf);
		free(r);
		return NULL;
	}
	return r;
}

/* Detect gzip from the first bytes; read the header line. */
static void reader_start(struct trace_reader *r)
{
	uint8_t magic[2];
	size_t have = 0;
	if (r->map) {
		/* plain, checked by the caller */
	} else if (r->fd < 0) {
		have = r->mem_len < 2 ? r->mem_len : 2;
		memcpy(magic, r->mem, have);
	} else {
		/* Peek through the line buffer: the bytes stay there if plain. */
		while (have < 2) {
			long k = raw_read(r, r->buf + r->end, r->cap - r->end);
			if (k < 0)
				return;
			if (!k)
				break;
			r->end += (size_t)k;
			have = r->end;
		}
		have = r->end < 2 ? r->end : 2;
		memcpy(magic, r->buf, have);
	}
	if (have == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		r->gz = 1;
		if (inflateInit2(&r->z, 15 + 16) != Z_OK) {
			fail_noline(r, "cannot start zlib");
			return;
		}
		r->z_init = 1;
		if (r->fd >= 0) {
			r->raw = malloc(RAW_CHUNK);
			if (!r->raw) {
				fail_noline(r, "out of memory");
				return;
			}
			/* The bytes already read are compressed input. */
			memcpy(r->raw, r->buf, r->end);
			keep_tail(r, r->raw, r->end);
			r->z.next_in = r->raw;
			r->z.avail_in = (uInt)r->end;
			r->end = 0;
		}
	}
	char *line;
	size_t len;
	int nl;
	int k = next_line(r, &line, &len, &nl);
	if (k < 0)
		return;
	if (!k) {
		r->lineno = 1;
		fail(r, "empty file: expected the trace header {\"format\":\"tdxsim-trace\",...}");
		return;
	}
	if (parse_header(r, line, len))
		return;
	if (!nl) {
		fail(r, "expected '\\n' at the end of the header line (truncated trace?)");
		return;
	}
	r->header_ok = 1;
}

struct trace_reader *trace_reader_open(const char *path)
{
	struct trace_reader *r = reader_new(path, LINE_CHUNK);
	if (!r)
		return NULL;
	if (!path || !*path) {
		fail_noline(r, "no trace file given");
		return r;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		fail_noline(r, "cannot open: %s", strerror(errno));
		return r;
	}
	/* A plain regular file is mapped whole (no copy); gzip and anything
	 * else (pipes, /dev/...) are read in chunks. */
	struct stat st;
	uint8_t magic[2];
	if (!fstat(r->fd, &st) && S_ISREG(st.st_mode) && st.st_size >= 2 && (uint64_t)st.st_size < (1ULL << 40) &&
	    pread(r->fd, magic, 2, 0) == 2 && !(magic[0] == 0x1f && magic[1] == 0x8b)) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, r->fd, 0);
		if (m != MAP_FAILED) {
			madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
			r->map = m;
			r->map_len = (size_t)st.st_size;
		}
	}
	reader_start(r);
	return r;
}

struct trace_reader *trace_reader_open_mem(const void *buf, size_t len, const char *name)
{
	/* A small buffer for a small input (fuzzing opens many). */
	struct trace_reader *r = reader_new(name, len < LINE_CHUNK / 4 ? 4096 : LINE_CHUNK);
	if (!r)
		return NULL;
	r->mem = buf;
	r->mem_len = buf ? len : 0;
	reader_start(r);
	return r;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap((void *)(uintptr_t)r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	if (r->z_init)
		inflateEnd(&r->z);
	for (size_t i = 0; i < r->bcap; i++)
		free(r->bt[i].data);
	free(r->bt);
	free(r->raw);
	free(r->buf);
	free(r->rmem);
	free(r->tmem);
	free(r->path);
	free(r);
}

int trace_reader_ready(struct trace_reader *r)
{
	if (r->fd < 0 || r->map || r->failed || r->done || r->src_eof)
		return 1;
	if (r->end > r->start && memchr(r->buf + r->start, '\n', r->end - r->start))
		return 1;
	if (r->gz && r->z_init && r->z.avail_in)
		return 1;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	return poll(&pfd, 1, 0) != 0;
}

int trace_reader_next(struct trace_reader *r, const struct trace_ev **ev)
{
	if (r->failed || !r->header_ok)
		return -1;
	if (r->done)
		return 0;
	char *line;
	size_t len;
	int nl;
	int k = next_line(r, &line, &len, &nl);
	if (k < 0)
		return -1;
	if (!k) {
		r->done = 1;
		return 0;
	}
	int fr = fast_event(r, line, len);
	if (fr < 0)
		return -1;
	if (!fr) {
		memset(&r->ev, 0, sizeof(r->ev));
		if (general_event(r, line, len))
			return -1;
	}
	if (!nl)
		return fail(r, "expected '\\n' at the end of the line (truncated trace?)");
	r->ev.line = r->lineno;
	r->next_seq++;
	*ev = &r->ev;
	return 1;
}

const char *trace_exit_reason_name(uint32_t reason)
{
	switch (reason) {
	case 0: return "EXCEPTION_OR_NMI";
	case 1: return "EXTERNAL_INTERRUPT";
	case 2: return "TRIPLE_FAULT";
	case 7: return "INTERRUPT_WINDOW";
	case 10: return "CPUID";
	case 12: return "HLT";
	case 18: return "VMCALL";
	case 28: return "CR_ACCESS";
	case 30: return "IO";
	case 31: return "RDMSR";
	case 32: return "WRMSR";
	case 48: return "EPT_VIOLATION";
	case 49: return "EPT_MISCONFIG";
	case 77: return "TDCALL";
	}
	return NULL;
}
