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
#include "seam/tdcall.h"
#include "seam/tdcall/tdcall_int.h"
#include "seam/td.h"
#include "seam/seam_mem.h"
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
	int autoflush;                  /* flush after every SEAMCALL (TDXSIM_TRACE) */
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

/* Push what is buffered to the file (a program that exits without
 * tdxsim_close keeps its trace). Caller holds t->mu. */
static void trace_flush(struct sim_trace *t)
{
	int ok = t->gz ? gzflush(t->gz, Z_SYNC_FLUSH) == Z_OK : fflush(t->f) == 0;
	if (!ok) {
		t->failed = 1;
		t->err_errno = errno;
		snprintf(t->err, sizeof(t->err), "%s", strerror(errno ? errno : EIO));
		fprintf(stderr, "tdxsim: trace %s: write failed (%s); recording stopped\n", t->path, t->err);
	}
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
	sb_printf(b, "{\"format\":\"tdxsim-trace\",\"version\":%d,\"minor\":%d,\"tdxsim\":",
		  SIM_TRACE_VERSION, SIM_TRACE_MINOR);
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
	if (tdxsim_trace_start(s, path)) {
		fprintf(stderr, "tdxsim_open: TDXSIM_TRACE: %s\n", s->errmsg);
		return;
	}
	/* The program may exit without tdxsim_close: keep the file complete
	 * after every SEAMCALL. */
	struct sim_trace *t = atomic_load(&s->trace);
	if (t)
		t->autoflush = 1;
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

/* The capture of the calling thread's SEAMCALL on c's handle, if recorded. */
static struct sim_trace_capture *td_cap(struct seam_ctx *c)
{
	struct sim_trace_capture *cap = tls_cap;
	return cap && cap->s == c->s && !cap->oom ? cap : NULL;
}

static struct sim_trace_tdev *tdev_new(struct sim_trace_capture *cap)
{
	if (cap->n_tdev == cap->cap_tdev) {
		size_t ncap = cap->cap_tdev ? cap->cap_tdev * 2 : 8;
		struct sim_trace_tdev *t = realloc(cap->tdev, ncap * sizeof(*t));
		if (!t) {
			cap->oom = 1;
			return NULL;
		}
		cap->tdev = t;
		cap->cap_tdev = ncap;
	}
	struct sim_trace_tdev *t = &cap->tdev[cap->n_tdev++];
	memset(t, 0, sizeof(*t));
	return t;
}

/*
 * Host memory a guest run may read without a SEAMCALL reading it: the
 * host's shared EPT and the shared pages it maps (the guest reads them
 * directly). Read through seam_read_pa, which records each read in the
 * capture, so that replay writes them back before it re-issues the
 * TDH.VP.ENTER. Tables are walked from the vCPU's shared EPTP; at most
 * TD_SHARED_MAX bytes per entry (a trace of a TD with huge shared mappings
 * stays bounded; what is left out may make such a replay diverge).
 */
#define TD_SHARED_MAX (16ULL << 20)
#define EPT_ADDR      0x000FFFFFFFFFF000ULL

static void shared_walk(struct tdxsim *s, uint64_t table, int lvl, uint64_t *budget)
{
	uint64_t *t = malloc(4096);
	if (!t || *budget < 4096) {
		free(t);
		return;
	}
	*budget -= 4096;
	seam_read_pa(s, table, t, 4096);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		if (!(e & 7))
			continue;       /* not present (MMIO, unmapped) */
		uint64_t pa = e & EPT_ADDR;
		if (lvl == 0 || ((e & 0x80) && lvl <= 2)) {
			uint64_t size = 4096ULL << (9 * lvl);
			pa &= ~(size - 1);
			for (uint64_t off = 0; off < size && *budget >= 4096; off += 4096) {
				uint8_t page[4096];
				*budget -= 4096;
				seam_read_pa(s, pa + off, page, 4096);
			}
		} else {
			shared_walk(s, pa, lvl - 1, budget);
		}
	}
	free(t);
}

void sim_trace_td_enter(struct seam_ctx *c, const struct seam_vcpu *v)
{
	struct sim_trace_capture *cap = td_cap(c);
	if (!cap)
		return;
	uint64_t eptp = v->vmcs.shared_eptp;
	if (eptp & EPT_ADDR) {
		unsigned levels = (unsigned)((eptp >> 3) & 7) + 1;
		if (levels != 4 && levels != 5)
			levels = v->td->ept_levels;
		uint64_t budget = TD_SHARED_MAX;
		shared_walk(c->s, eptp & EPT_ADDR, (int)levels - 1, &budget);
	}
	cap->td_enter = c->cycles;
}

void sim_trace_td_exit(struct seam_ctx *c, const struct seam_vcpu *v, uint64_t status)
{
	struct sim_trace_capture *cap = td_cap(c);
	struct sim_trace_tdev *t = cap ? tdev_new(cap) : NULL;
	if (!t)
		return;
	t->kind = 2;
	t->tdvpr = v->tdvpr_pa;
	t->rip = v->g.rip;
	t->status = status;
	t->exit_qual = c->r->rcx;
	t->ext_exit_qual = c->r->rdx;
	t->gpa = c->r->r8;
	t->intr_info = c->r->r9;
	t->t_start = cap->td_enter;
	t->t_len = c->cycles >= cap->td_enter ? c->cycles - cap->td_enter : 0;
}

static void gprs_to_args(const uint64_t g[16], struct tdx_module_args *a)
{
	*a = (struct tdx_module_args){
		.rcx = g[GPR_RCX], .rdx = g[GPR_RDX], .r8 = g[GPR_R8], .r9 = g[GPR_R9],
		.r10 = g[GPR_R10], .r11 = g[GPR_R11], .r12 = g[GPR_R12], .r13 = g[GPR_R13],
		.r14 = g[GPR_R14], .r15 = g[GPR_R15], .rbx = g[GPR_RBX], .rdi = g[GPR_RDI],
		.rsi = g[GPR_RSI],
	};
}

void sim_trace_tdcall(struct seam_ctx *c, const struct seam_vcpu *v, const uint64_t in[16],
		      uint64_t status, uint64_t cost)
{
	struct sim_trace_capture *cap = td_cap(c);
	struct sim_trace_tdev *t = cap ? tdev_new(cap) : NULL;
	if (!t)
		return;
	t->kind = 1;
	t->tdvpr = v->tdvpr_pa;
	t->rip = v->g.rip - 4;          /* the runner has moved RIP past the TDCALL */
	t->rax = in[GPR_RAX];
	gprs_to_args(in, &t->in);
	if (status == TDCALL_EXITED) {
		t->out = t->in;         /* the guest's registers stay as they were */
		t->status = v->tdcall_exit.status;
	} else {
		gprs_to_args(v->g.gpr, &t->out);
		t->status = status;
	}
	t->t_len = cost;
	t->t_start = c->cycles >= cost ? c->cycles - cost : 0;
}

/* The TD-side events of one SEAMCALL (after its seamcall line). */
static void write_tdevs(struct sim_trace *t, struct sim_trace_capture *cap, const tdxsim_seamcall_event *ev)
{
	struct sbuf *b = &t->line;
	for (size_t i = 0; i < cap->n_tdev && !t->failed; i++) {
		const struct sim_trace_tdev *d = &cap->tdev[i];
		if (d->kind == 1) {
			sb_printf(b, "{\"ev\":\"tdcall\",\"seq\":%" PRIu64 ",\"lp\":%" PRIu32
				  ",\"tdvpr\":\"0x%" PRIx64 "\",\"rip\":\"0x%" PRIx64 "\""
				  ",\"rax\":\"0x%" PRIx64 "\",\"leaf\":%" PRIu64 ",\"name\":",
				  t->seq, ev->lp, d->tdvpr, d->rip, d->rax, (uint64_t)(d->rax & TDX_LEAF_MASK));
			sb_str(b, tdx_tdcall_leaf_name(d->rax));
			sb_printf(b, ",\"version\":%" PRIu64 ",", (d->rax >> TDX_VERSION_SHIFT) & 0xff);
			sb_regs(b, "in", &d->in);
			sb_printf(b, ",\"status\":\"0x%" PRIx64 "\",\"status_name\":", d->status);
			sb_str(b, tdx_status_name(d->status));
			sb_printf(b, ",");
			sb_regs(b, "out", &d->out);
			sb_printf(b, ",\"cycles\":%" PRIu64 ",\"cycles_start\":\"0x%" PRIx64 "\"}",
				  d->t_len, ev->cycles_start + d->t_start);
		} else {
			sb_printf(b, "{\"ev\":\"td_exit\",\"seq\":%" PRIu64 ",\"lp\":%" PRIu32
				  ",\"tdvpr\":\"0x%" PRIx64 "\",\"status\":\"0x%" PRIx64 "\",\"status_name\":",
				  t->seq, ev->lp, d->tdvpr, d->status);
			sb_str(b, tdx_status_name(d->status));
			sb_printf(b, ",\"exit_reason\":%" PRIu64 ",\"exit_qual\":\"0x%" PRIx64 "\""
				  ",\"ext_exit_qual\":\"0x%" PRIx64 "\",\"gpa\":\"0x%" PRIx64 "\""
				  ",\"intr_info\":\"0x%" PRIx64 "\",\"rip\":\"0x%" PRIx64 "\""
				  ",\"cycles_start\":\"0x%" PRIx64 "\",\"cycles\":%" PRIu64 "}",
				  d->status & 0xffff, d->exit_qual, d->ext_exit_qual, d->gpa, d->intr_info,
				  d->rip, ev->cycles_start + d->t_start, d->t_len);
		}
		tr_emit(t);
	}
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
			  ev->cycles, ev->cycles_start, (int)ev->injected);
		for (size_t i = 0; i < cap->n; i++) {
			struct sim_trace_read *r = &cap->reads[i];
			sb_printf(b, "%s{\"pa\":\"0x%" PRIx64 "\",\"len\":%" PRIu64 ",\"sha256\":\"",
				  i ? "," : "", r->pa, r->len);
			sb_hexbytes(b, r->sha256, 32);
			sb_printf(b, "\"}");
		}
		sb_printf(b, "]}");
		tr_emit(t);
		write_tdevs(t, cap, ev);
		if (t->autoflush && !t->failed)
			trace_flush(t);
		pthread_mutex_unlock(&t->mu);
	}
	for (size_t i = 0; i < cap->n; i++)
		free(cap->reads[i].data);
	free(cap->reads);
	free(cap->tdev);
	cap->reads = NULL;
	cap->tdev = NULL;
	cap->n = cap->cap = cap->n_tdev = cap->cap_tdev = 0;
}
