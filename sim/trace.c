/*
 * SEAMCALL trace recording: one JSON object per line (docs/trace-format.md),
 * gzip-compressed when the path ends in ".gz". Lines are built in a buffer
 * and written under the trace's mutex, so SEAMCALLs on several LP threads
 * never interleave and "seq" follows file order. The first write error is
 * reported once on stderr and stops the recording; tdxsim_trace_stop then
 * returns it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <openssl/evp.h>

#include "tdxsim/version.h"
#include "sim/sim_int.h"
#include "sim/trace.h"

struct sbuf {
	char *p;
	size_t n, cap;
	int oom;
};

struct sim_trace {
	pthread_mutex_t mu;
	char *path;
	FILE *f;                        /* plain file, or */
	gzFile gz;                      /* gzip stream */
	uint64_t seq;                   /* next event's seq */
	int failed;                     /* a write failed: recording stopped */
	int err_errno;
	char err[160];
	uint8_t (*hashes)[32];          /* blob contents already written */
	size_t hcap, hn;
	struct sbuf line;
};

/* The SEAMCALL the calling thread is inside, if recorded. */
static _Thread_local struct sim_trace_capture *tls_cap;

/* ---- Line buffer ---------------------------------------------------------- */

static void sb_reserve(struct sbuf *b, size_t more)
{
	if (b->oom || b->n + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->n + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	sb_reserve(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

/* A JSON string (names are ASCII; anything else is escaped). */
static void sb_str(struct sbuf *b, const char *s)
{
	if (!s) {
		sb_printf(b, "null");
		return;
	}
	sb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sb_printf(b, "\\u%04x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

static void sb_hexbytes(struct sbuf *b, const uint8_t *p, size_t n)
{
	sb_reserve(b, 2 * n);
	if (b->oom)
		return;
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		b->p[b->n++] = hx[p[i] >> 4];
		b->p[b->n++] = hx[p[i] & 15];
	}
	b->p[b->n] = 0;
}

static void sb_base64(struct sbuf *b, const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	sb_reserve(b, (n + 2) / 3 * 4);
	if (b->oom)
		return;
	char *o = b->p + b->n;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	b->n = (size_t)(o - b->p);
	b->p[b->n] = 0;
}

static void sb_regs(struct sbuf *b, const char *key, const struct tdx_module_args *r)
{
	sb_printf(b, "\"%s\":{\"rcx\":\"0x%" PRIx64 "\",\"rdx\":\"0x%" PRIx64 "\","
		  "\"r8\":\"0x%" PRIx64 "\",\"r9\":\"0x%" PRIx64 "\",\"r10\":\"0x%" PRIx64 "\","
		  "\"r11\":\"0x%" PRIx64 "\",\"r12\":\"0x%" PRIx64 "\",\"r13\":\"0x%" PRIx64 "\","
		  "\"r14\":\"0x%" PRIx64 "\",\"r15\":\"0x%" PRIx64 "\",\"rbx\":\"0x%" PRIx64 "\","
		  "\"rdi\":\"0x%" PRIx64 "\",\"rsi\":\"0x%" PRIx64 "\"}",
		  key, r->rcx, r->rdx, r->r8, r->r9, r->r10, r->r11, r->r12, r->r13,
		  r->r14, r->r15, r->rbx, r->rdi, r->rsi);
}

/* ---- Output ---------------------------------------------------------------- */

static int ends_with_gz(const char *path)
{
	size_t n = strlen(path);
	return n >= 3 && !strcmp(path + n - 3, ".gz");
}

/* Write the line buffer plus '\n'; on failure record the error (once, on
 * stderr too) and stop the recording. Caller holds t->mu. */
static void tr_emit(struct sim_trace *t)
{
	struct sbuf *b = &t->line;
	if (t->failed)
		return;
	int ok;
	errno = 0;
	if (b->oom) {
		ok = 0;
		errno = ENOMEM;
	} else {
		b->p[b->n++] = '\n';
		if (t->gz)
			ok = gzwrite(t->gz, b->p, (unsigned)b->n) == (int)b->n;
		else
			ok = fwrite(b->p, 1, b->n, t->f) == b->n;
	}
	if (ok) {
		t->seq++;
	} else {
		t->failed = 1;
		t->err_errno = errno;
		int zerr = 0;
		const char *zmsg = t->gz && !b->oom ? gzerror(t->gz, &zerr) : NULL;
		if (zmsg && zerr != Z_ERRNO && zerr != Z_OK)
			snprintf(t->err, sizeof(t->err), "%s", zmsg);
		else
			snprintf(t->err, sizeof(t->err), "%s",
				 strerror(t->err_errno ? t->err_errno : EIO));
		fprintf(stderr, "tdxsim: trace %s: write failed (%s); recording stopped\n",
			t->path, t->err);
	}
	b->n = 0;
	b->oom = 0;
	if (b->p)
		b->p[0] = 0;
}

static int hash_seen(struct sim_trace *t, const uint8_t h[32], int insert)
{
	if (t->hn * 2 >= t->hcap) {
		if (!insert)
			goto probe;
		size_t ncap = t->hcap ? t->hcap * 2 : 256;
		uint8_t (*nh)[32] = calloc(ncap, 32);
		if (!nh)
			goto probe;
		for (size_t i = 0; i < t->hcap; i++) {
			static const uint8_t zero[32];
			if (!memcmp(t->hashes[i], zero, 32))
				continue;
			uint64_t k;
			memcpy(&k, t->hashes[i], 8);
			for (size_t j = k & (ncap - 1);; j = (j + 1) & (ncap - 1))
				if (!memcmp(nh[j], zero, 32)) {
					memcpy(nh[j], t->hashes[i], 32);
					break;
				}
		}
		free(t->hashes);
		t->hashes = nh;
		t->hcap = ncap;
	}
probe:
	if (!t->hcap)
		return 0;
	static const uint8_t zero[32];
	uint64_t k;
	memcpy(&k, h, 8);
	for (size_t j = k & (t->hcap - 1), i = 0; i < t->hcap; i++, j = (j + 1) & (t->hcap - 1)) {
		if (!memcmp(t->hashes[j], h, 32))
			return 1;
		if (!memcmp(t->hashes[j], zero, 32)) {
			if (insert && t->hn * 2 < t->hcap) {
				memcpy(t->hashes[j], h, 32);
				t->hn++;
			}
			return 0;
		}
	}
	return 0;
}

static void write_header(tdxsim *s, struct sim_trace *t)
{
	const tdxsim_config *c = &s->cfg;
	struct sbuf *b = &t->line;
	/* The resolved configuration: with FEATURES0_SET, it rebuilds the same
	 * machine whatever defaults the original config relied on. */
	sb_printf(b, "{\"format\":\"tdxsim-trace\",\"version\":%d,\"tdxsim\":", SIM_TRACE_VERSION);
	sb_str(b, TDXSIM_VERSION_STRING);
	sb_printf(b, ",\"platform\":");
	sb_str(b, s->plat->name);
	sb_printf(b, ",\"config\":{\"flags\":%" PRIu32 ",\"platform\":",
		  c->flags | TDXSIM_CFG_FEATURES0_SET);
	sb_str(b, s->plat->name);
	sb_printf(b, ",\"packages\":%" PRIu32 ",\"lps_per_package\":%" PRIu32
		  ",\"mem_bytes\":\"0x%" PRIx64 "\",\"n_cmrs\":%" PRIu32 ",\"cmrs\":[",
		  c->packages, c->lps_per_package, c->mem_bytes, c->n_cmrs);
	for (uint32_t i = 0; i < c->n_cmrs && i < TDX_MAX_CMRS; i++)
		sb_printf(b, "%s{\"base\":\"0x%" PRIx64 "\",\"size\":\"0x%" PRIx64 "\"}",
			  i ? "," : "", c->cmrs[i].base, c->cmrs[i].size);
	sb_printf(b, "],\"mktme_keyids\":%" PRIu32 ",\"tdx_keyids\":%" PRIu32
		  ",\"module_major\":%u,\"module_minor\":%u,\"module_update\":%u"
		  ",\"tdx_features0\":\"0x%" PRIx64 "\",\"seed\":\"0x%" PRIx64 "\"}}",
		  c->mktme_keyids, c->tdx_keyids, c->module_major, c->module_minor,
		  c->module_update, c->tdx_features0, c->seed);
	tr_emit(t);
}

static void trace_free(struct sim_trace *t)
{
	pthread_mutex_destroy(&t->mu);
	free(t->line.p);
	free(t->hashes);
	free(t->path);
	free(t);
}

tdxsim_err tdxsim_trace_start(tdxsim *s, const char *path)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!path || !*path)
		return sim_error(s, TDXSIM_ERR_ARG, "trace: path is NULL or empty");
	struct sim_trace *cur = atomic_load(&s->trace);
	if (cur)
		return sim_error(s, TDXSIM_ERR_STATE, "trace: already recording to %s", cur->path);
	struct sim_trace *t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		free(t);
		return sim_error(s, TDXSIM_ERR_NOMEM, "trace %s: out of memory", path);
	}
	pthread_mutex_init(&t->mu, NULL);
	errno = 0;
	if (ends_with_gz(path))
		t->gz = gzopen(path, "wb");
	else
		t->f = fopen(path, "w");
	if (!t->gz && !t->f) {
		int e = errno ? errno : EIO;
		trace_free(t);
		return sim_error(s, TDXSIM_ERR_IO, "trace %s: cannot open for writing: %s (errno %d)",
				 path, strerror(e), e);
	}
	write_header(s, t);
	t->seq = 0;                     /* events count from 0 after the header */
	if (!t->failed && t->f && fflush(t->f)) {
		t->failed = 1;
		t->err_errno = errno;
	}
	if (t->failed) {
		int e = t->err_errno ? t->err_errno : EIO;
		if (t->gz)
			gzclose(t->gz);
		else
			fclose(t->f);
		trace_free(t);
		return sim_error(s, TDXSIM_ERR_IO, "trace %s: cannot write the header: %s (errno %d)",
				 path, strerror(e), e);
	}
	atomic_store_explicit(&s->trace, t, memory_order_release);
	return TDXSIM_OK;
}

/* Detach, flush and close; 0 or an errno-style code with msg filled. */
static int trace_finish(tdxsim *s, char *msg, size_t msglen)
{
	struct sim_trace *t = atomic_exchange(&s->trace, NULL);
	if (!t)
		return -1;
	int e = 0;
	pthread_mutex_lock(&t->mu);
	if (t->failed) {
		e = t->err_errno ? t->err_errno : EIO;
		snprintf(msg, msglen, "trace %s: write failed: %s (errno %d)", t->path, t->err, e);
	}
	errno = 0;
	if (t->gz) {
		int r = gzclose(t->gz);
		if (r != Z_OK && !e) {
			e = r == Z_ERRNO && errno ? errno : EIO;
			snprintf(msg, msglen, "trace %s: close failed: %s (errno %d)",
				 t->path, strerror(e), e);
		}
	} else if (fclose(t->f) && !e) {
		e = errno ? errno : EIO;
		snprintf(msg, msglen, "trace %s: flush/close failed: %s (errno %d)",
			 t->path, strerror(e), e);
	}
	pthread_mutex_unlock(&t->mu);
	trace_free(t);
	return e;
}

tdxsim_err tdxsim_trace_stop(tdxsim *s)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	char msg[256];
	int e = trace_finish(s, msg, sizeof(msg));
	if (e < 0)
		return sim_error(s, TDXSIM_ERR_STATE, "trace: not recording");
	if (e)
		return sim_error(s, TDXSIM_ERR_IO, "%s", msg);
	return TDXSIM_OK;
}

void sim_trace_env_start(tdxsim *s)
{
	const char *path = getenv("TDXSIM_TRACE");
	if (!path || !*path)
		return;
	if (tdxsim_trace_start(s, path))
		fprintf(stderr, "tdxsim_open: TDXSIM_TRACE: %s\n", s->errmsg);
}

void sim_trace_close(tdxsim *s)
{
	char msg[256];
	if (trace_finish(s, msg, sizeof(msg)) > 0)
		fprintf(stderr, "tdxsim_close: %s\n", msg);
}

/* ---- Per SEAMCALL ------------------------------------------------------------ */

void sim_trace_call_begin(tdxsim *s, struct sim_trace_capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	cap->s = s;
	cap->prev = tls_cap;
	tls_cap = cap;
}

void sim_trace_mem_read(tdxsim *s, uint64_t pa, const void *buf, uint64_t len)
{
	struct sim_trace_capture *c = tls_cap;
	if (!c || c->s != s || c->oom)
		return;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 4;
		struct sim_trace_read *r = realloc(c->reads, ncap * sizeof(*r));
		if (!r) {
			c->oom = 1;
			return;
		}
		c->reads = r;
		c->cap = ncap;
	}
	struct sim_trace_read *r = &c->reads[c->n];
	r->pa = pa;
	r->len = len;
	r->data = malloc(len ? len : 1);
	if (!r->data || !EVP_Digest(buf, len, r->sha256, NULL, EVP_sha256(), NULL)) {
		free(r->data);
		c->oom = 1;
		return;
	}
	memcpy(r->data, buf, len);
	c->n++;
}

void sim_trace_call_end(tdxsim *s, struct sim_trace_capture *cap, const tdxsim_seamcall_event *ev)
{
	tls_cap = cap->prev;
	struct sim_trace *t = atomic_load_explicit(&s->trace, memory_order_acquire);
	if (t) {
		pthread_mutex_lock(&t->mu);
		struct sbuf *b = &t->line;
		if (cap->oom)
			b->oom = 1;     /* reported as a write failure: the trace would be incomplete */
		for (size_t i = 0; i < cap->n && !t->failed; i++) {
			struct sim_trace_read *r = &cap->reads[i];
			if (hash_seen(t, r->sha256, 0))
				continue;
			sb_printf(b, "{\"ev\":\"blob\",\"seq\":%" PRIu64 ",\"sha256\":\"", t->seq);
			sb_hexbytes(b, r->sha256, 32);
			sb_printf(b, "\",\"data\":\"");
			sb_base64(b, r->data, r->len);
			sb_printf(b, "\"}");
			tr_emit(t);
			hash_seen(t, r->sha256, 1);
		}
		uint64_t rax = ev->rax_in;
		sb_printf(b, "{\"ev\":\"seamcall\",\"seq\":%" PRIu64 ",\"lp\":%" PRIu32
			  ",\"rax\":\"0x%" PRIx64 "\",\"leaf\":%" PRIu64 ",\"name\":",
			  t->seq, ev->lp, rax, (uint64_t)(rax & TDX_LEAF_MASK));
		sb_str(b, tdx_seamcall_leaf_name(rax));
		sb_printf(b, ",\"version\":%" PRIu64 ",", (rax >> TDX_VERSION_SHIFT) & 0xff);
		sb_regs(b, "in", &ev->in);
		sb_printf(b, ",\"status\":\"0x%" PRIx64 "\",\"status_name\":", ev->status);
		sb_str(b, tdx_status_name(ev->status));
		sb_printf(b, ",");
		sb_regs(b, "out", &ev->out);
		sb_printf(b, ",\"cycles\":%" PRIu64 ",\"cycles_start\":\"0x%" PRIx64 "\""
			  ",\"injected\":%d,\"mem\":[",
			  ev->cycles, ev->cycles_start, ev->injected ? 1 : 0);
		for (size_t i = 0; i < cap->n; i++) {
			struct sim_trace_read *r = &cap->reads[i];
			sb_printf(b, "%s{\"pa\":\"0x%" PRIx64 "\",\"len\":%" PRIu64 ",\"sha256\":\"",
				  i ? "," : "", r->pa, r->len);
			sb_hexbytes(b, r->sha256, 32);
			sb_printf(b, "\"}");
		}
		sb_printf(b, "]}");
		tr_emit(t);
		pthread_mutex_unlock(&t->mu);
	}
	for (size_t i = 0; i < cap->n; i++)
		free(cap->reads[i].data);
	free(cap->reads);
	cap->reads = NULL;
	cap->n = cap->cap = 0;
}

/* ---- Minimal reader ------------------------------------------------------------ */

int trace_read_file(const char *path, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	errno = 0;
	gzFile g = gzopen(path, "rb");      /* reads plain files transparently */
	if (!g) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	size_t cap = 1 << 16, n = 0;
	char *p = malloc(cap + 1);
	for (;;) {
		if (!p) {
			gzclose(g);
			errno = ENOMEM;
			return -1;
		}
		int r = gzread(g, p + n, (unsigned)(cap - n));
		if (r < 0) {
			free(p);
			gzclose(g);
			errno = EIO;
			return -1;
		}
		n += (size_t)r;
		if (r == 0)
			break;
		if (n == cap) {
			cap *= 2;
			char *q = realloc(p, cap + 1);
			if (!q)
				free(p);
			p = q;
		}
	}
	gzclose(g);
	p[n] = 0;
	*buf = p;
	*len = n;
	return 0;
}

char *trace_read_line(const char *buf, size_t len, size_t *pos)
{
	if (*pos >= len)
		return NULL;
	const char *s = buf + *pos;
	const char *e = memchr(s, '\n', len - *pos);
	size_t n = e ? (size_t)(e - s) : len - *pos;
	char *l = malloc(n + 1);
	if (!l)
		return NULL;
	memcpy(l, s, n);
	l[n] = 0;
	*pos += n + (e ? 1 : 0);
	return l;
}

int trace_read_field(const char *json, const char *key, char *out, size_t outlen)
{
	char pat[80];
	if (snprintf(pat, sizeof(pat), "\"%s\":", key) >= (int)sizeof(pat))
		return -1;
	const char *v = strstr(json, pat);
	if (!v)
		return -1;
	v += strlen(pat);
	const char *e;
	if (*v == '"') {
		v++;
		e = strchr(v, '"');
		if (!e)
			return -1;
	} else if (*v == '{' || *v == '[') {
		int depth = 0, instr = 0;
		for (e = v; *e; e++) {
			if (instr) {
				if (*e == '\\' && e[1])
					e++;
				else if (*e == '"')
					instr = 0;
			} else if (*e == '"') {
				instr = 1;
			} else if (*e == '{' || *e == '[') {
				depth++;
			} else if ((*e == '}' || *e == ']') && --depth == 0) {
				e++;
				break;
			}
		}
		if (depth)
			return -1;
	} else {
		e = v + strcspn(v, ",}]");
	}
	size_t n = (size_t)(e - v);
	if (n + 1 > outlen)
		return -1;
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

int trace_read_u64(const char *json, const char *key, uint64_t *val)
{
	char buf[64], *end;
	if (trace_read_field(json, key, buf, sizeof(buf)) || !buf[0] || buf[0] == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 0);
	if (errno || *end)
		return -1;
	*val = v;
	return 0;
}

static int b64v(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int trace_read_base64(const char *text, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(text);
	*out = NULL;
	*outlen = 0;
	if (n % 4)
		return -1;
	uint8_t *o = malloc(n / 4 * 3 + 1);
	if (!o)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n; i += 4) {
		int a = b64v(text[i]), b = b64v(text[i + 1]);
		int c = text[i + 2] == '=' ? -2 : b64v(text[i + 2]);
		int d = text[i + 3] == '=' ? -2 : b64v(text[i + 3]);
		int last = i + 4 == n;
		if (a < 0 || b < 0 || c == -1 || d == -1 || (!last && (c < 0 || d < 0)) ||
		    (c == -2 && d != -2)) {
			free(o);
			return -1;
		}
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 |
			     (uint32_t)(c < 0 ? 0 : c) << 6 | (uint32_t)(d < 0 ? 0 : d);
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
