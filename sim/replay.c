/*
 * SEAMCALL trace replay (docs/trace-format.md, "Replay"). The trace is read
 * as a stream (gzip or plain, one line at a time), each line parsed by a
 * small single-pass JSON parser that checks the syntax of the whole line and
 * picks the fields replay needs; anything malformed, truncated or missing is
 * reported as "FILE:LINE: what was expected" and the replay returns 2.
 *
 * For each seamcall event the host memory the leaf read is written back at
 * its PAs (only the 64-byte lines whose contents differ from what the module
 * would read now, so lines a TD owns, which read as zeros both times, are
 * never overwritten), the SEAMCALL is issued on the recorded LP with the
 * recorded RAX and registers, and the status and the 13 output registers are
 * compared with the recorded ones.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <openssl/evp.h>

#include "seam/pamt.h"
#include "seam/seam_mem.h"
#include "seam/td.h"
#include "sim/replay.h"
#include "sim/sim_int.h"
#include "sim/trace.h"

#define NREGS 13
static const char *const reg_names[NREGS] = {
	"rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rbx", "rdi", "rsi",
};

/* ---- Streaming line reader ---------------------------------------------- */

struct rd {
	gzFile g;
	char *buf;
	size_t cap, start, end;
	int eof;
	uint64_t lineno;
};

/* Next line (NUL-terminated in place, without '\n'); NULL at the end or on a
 * read error (*err set). */
static char *rd_line(struct rd *r, size_t *len, const char **err)
{
	*err = NULL;
	for (;;) {
		char *s = r->buf + r->start;
		char *nl = r->start < r->end ? memchr(s, '\n', r->end - r->start) : NULL;
		if (nl) {
			*nl = 0;
			*len = (size_t)(nl - s);
			r->start += *len + 1;
			r->lineno++;
			return s;
		}
		if (r->eof) {
			if (r->start >= r->end)
				return NULL;
			r->buf[r->end] = 0;     /* last line without '\n' */
			*len = r->end - r->start;
			r->start = r->end;
			r->lineno++;
			return s;
		}
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->end + 1 >= r->cap) {
			size_t ncap = r->cap * 2;
			char *nb = realloc(r->buf, ncap);
			if (!nb) {
				*err = "out of memory";
				return NULL;
			}
			r->buf = nb;
			r->cap = ncap;
		}
		int n = gzread(r->g, r->buf + r->end, (unsigned)(r->cap - 1 - r->end));
		if (n < 0) {
			int zerr;
			*err = gzerror(r->g, &zerr);
			return NULL;
		}
		if (n == 0) {
			int zerr = 0;
			const char *m = gzerror(r->g, &zerr);
			if (zerr != Z_OK && zerr != Z_STREAM_END) {
				*err = m;       /* e.g. a truncated gzip stream */
				return NULL;
			}
			r->eof = 1;
		}
		r->end += (size_t)n;
	}
}

/* ---- JSON (one line) ---------------------------------------------------------- */

struct jp {
	const char *p, *end, *start;
	const char *err;
	int depth;
};

static int jfail(struct jp *j, const char *what)
{
	if (!j->err)
		j->err = what;
	return -1;
}

static inline void jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static inline int jchar(struct jp *j, char c, const char *what)
{
	jws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return 0;
	}
	return jfail(j, what);
}

/* A string: its raw contents (escapes kept) in *s, *n. */
static int jstr(struct jp *j, const char **s, size_t *n)
{
	jws(j);
	if (j->p >= j->end || *j->p != '"')
		return jfail(j, "expected a string");
	const char *b = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			return jfail(j, "control character in a string");
		if (c == '\\') {
			if (++j->p >= j->end)
				break;
		}
		j->p++;
	}
	if (j->p >= j->end)
		return jfail(j, "unterminated string");
	*s = b;
	*n = (size_t)(j->p - b);
	j->p++;
	return 0;
}

static int jskip(struct jp *j);

/* '{' then either '}' (returns 0) or the first key and ':' (returns 1). */
static int jobj_first(struct jp *j, const char **k, size_t *kn)
{
	if (jchar(j, '{', "expected '{'"))
		return -1;
	jws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	if (jstr(j, k, kn) || jchar(j, ':', "expected ':' after a key"))
		return -1;
	return 1;
}

/* After a member: ',' and the next key (1) or '}' (0). */
static int jobj_next(struct jp *j, const char **k, size_t *kn)
{
	jws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	if (jchar(j, ',', "expected ',' or '}'"))
		return -1;
	if (jstr(j, k, kn) || jchar(j, ':', "expected ':' after a key"))
		return -1;
	return 1;
}

static int jarr_first(struct jp *j)
{
	if (jchar(j, '[', "expected '['"))
		return -1;
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
	if (jchar(j, ',', "expected ',' or ']'"))
		return -1;
	return 1;
}

static int jnumber_skip(struct jp *j)
{
	const char *b = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
				 *j->p == 'E' || *j->p == '+' || *j->p == '-'))
		j->p++;
	return j->p == b ? jfail(j, "expected a JSON value") : 0;
}

static int jskip(struct jp *j)
{
	jws(j);
	if (j->p >= j->end)
		return jfail(j, "expected a value, the line ends (truncated?)");
	const char *k;
	size_t kn;
	int r;
	switch (*j->p) {
	case '"':
		return jstr(j, &k, &kn);
	case '{':
		if (++j->depth > 64)
			return jfail(j, "nesting too deep");
		for (r = jobj_first(j, &k, &kn); r > 0; r = jobj_next(j, &k, &kn))
			if (jskip(j))
				return -1;
		j->depth--;
		return r;
	case '[':
		if (++j->depth > 64)
			return jfail(j, "nesting too deep");
		for (r = jarr_first(j); r > 0; r = jarr_next(j))
			if (jskip(j))
				return -1;
		j->depth--;
		return r;
	case 't':
	case 'f':
	case 'n': {
		static const char *const lits[] = { "true", "false", "null" };
		for (int i = 0; i < 3; i++) {
			size_t n = strlen(lits[i]);
			if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, lits[i], n)) {
				j->p += n;
				return 0;
			}
		}
		return jfail(j, "expected a JSON value");
	}
	default:
		return jnumber_skip(j);
	}
}

/* An unsigned 64-bit value: a JSON number or a "0x..." / decimal string. */
static int ju64(struct jp *j, uint64_t *v)
{
	jws(j);
	const char *s = j->p, *e;
	int quoted = 0;
	if (s < j->end && *s == '"') {
		size_t n;
		if (jstr(j, &s, &n))
			return -1;
		e = s + n;
		quoted = 1;
	} else {
		e = s;
		while (e < j->end && *e >= '0' && *e <= '9')
			e++;
		j->p = e;
	}
	if (s == e)
		return jfail(j, quoted ? "expected a number in the string" : "expected a number");
	uint64_t x = 0;
	if (quoted && e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (e - s > 18)
			return jfail(j, "hex value wider than 64 bits");
		for (s += 2; s < e; s++) {
			unsigned c = (unsigned char)*s, d;
			if (c >= '0' && c <= '9') d = c - '0';
			else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
			else return jfail(j, "bad hex digit");
			x = x << 4 | d;
		}
	} else {
		for (; s < e; s++) {
			if (*s < '0' || *s > '9')
				return jfail(j, "bad decimal digit");
			unsigned d = (unsigned)(*s - '0');
			if (x > (UINT64_MAX - d) / 10)
				return jfail(j, "number wider than 64 bits");
			x = x * 10 + d;
		}
	}
	*v = x;
	return 0;
}

static inline int keyis(const char *k, size_t kn, const char *lit)
{
	size_t n = strlen(lit);
	return kn == n && !memcmp(k, lit, n);
}

static int reg_index(const char *k, size_t kn)
{
	for (int i = 0; i < NREGS; i++)
		if (keyis(k, kn, reg_names[i]))
			return i;
	return -1;
}

/* {"rcx":"0x..",...}: all 13 registers required. */
static int jregs(struct jp *j, struct tdx_module_args *a, const char **missing)
{
	uint64_t *r = (uint64_t *)a;
	unsigned mask = 0;
	const char *k;
	size_t kn;
	int res;
	for (res = jobj_first(j, &k, &kn); res > 0; res = jobj_next(j, &k, &kn)) {
		int i = reg_index(k, kn);
		if (i < 0) {
			if (jskip(j))
				return -1;
			continue;
		}
		if (ju64(j, &r[i]))
			return -1;
		mask |= 1u << i;
	}
	if (res < 0)
		return -1;
	for (int i = 0; i < NREGS; i++)
		if (!(mask & (1u << i))) {
			*missing = reg_names[i];
			return -1;
		}
	return 0;
}

/* ---- Blobs: sha256 -> bytes ---------------------------------------------------- */

struct blob {
	uint8_t sha[32];
	uint8_t *data;                  /* NULL = free slot */
	size_t len;
};

struct blobs {
	struct blob *t;
	size_t cap, n;
};

static struct blob *blob_find(struct blobs *b, const uint8_t sha[32])
{
	if (!b->cap)
		return NULL;
	uint64_t k;
	memcpy(&k, sha, 8);
	for (size_t i = k & (b->cap - 1);; i = (i + 1) & (b->cap - 1)) {
		if (!b->t[i].data)
			return NULL;
		if (!memcmp(b->t[i].sha, sha, 32))
			return &b->t[i];
	}
}

static int blob_put(struct blobs *b, const uint8_t sha[32], uint8_t *data, size_t len)
{
	if ((b->n + 1) * 2 > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct blob *nt = calloc(ncap, sizeof(*nt));
		if (!nt)
			return -1;
		for (size_t i = 0; i < b->cap; i++) {
			if (!b->t[i].data)
				continue;
			uint64_t k;
			memcpy(&k, b->t[i].sha, 8);
			size_t j = k & (ncap - 1);
			while (nt[j].data)
				j = (j + 1) & (ncap - 1);
			nt[j] = b->t[i];
		}
		free(b->t);
		b->t = nt;
		b->cap = ncap;
	}
	uint64_t k;
	memcpy(&k, sha, 8);
	size_t i = k & (b->cap - 1);
	while (b->t[i].data) {
		if (!memcmp(b->t[i].sha, sha, 32)) {
			free(data);     /* repeated blob line: keep the first */
			return 0;
		}
		i = (i + 1) & (b->cap - 1);
	}
	memcpy(b->t[i].sha, sha, 32);
	b->t[i].data = data;
	b->t[i].len = len;
	b->n++;
	return 0;
}

static int hex32(const char *s, size_t n, uint8_t out[32])
{
	if (n != 64)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		unsigned v = 0;
		for (int h = 0; h < 2; h++) {
			unsigned c = (unsigned char)s[2 * i + h], d;
			if (c >= '0' && c <= '9') d = c - '0';
			else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
			else return -1;
			v = v << 4 | d;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* ---- Replay state ----------------------------------------------------------------- */

struct mem_ref {
	uint64_t pa, len;
	uint8_t sha[32];
};

struct replay {
	const char *path;
	const tdxsim_replay_opts *o;
	FILE *out, *err;
	FILE *jdiv;                     /* JSON mode: divergences, buffered */
	char *jdiv_buf;
	size_t jdiv_len;
	int json;
	tdxsim *s;
	uint32_t n_lps;
	uint8_t *vmx_on;
	struct rd rd;
	struct blobs blobs;
	struct mem_ref *mem;
	size_t mem_n, mem_cap;
	uint8_t *scratch;
	size_t scratch_cap;
	tdxsim_replay_result res;
	char platform[16];
};

__attribute__((format(printf, 2, 3)))
static int bad(struct replay *r, const char *fmt, ...)
{
	va_list ap;
	fflush(r->out);
	fprintf(r->err, "%s:%" PRIu64 ": ", r->path, r->rd.lineno);
	va_start(ap, fmt);
	vfprintf(r->err, fmt, ap);
	va_end(ap);
	fputc('\n', r->err);
	return 2;
}

static int bad_json(struct replay *r, struct jp *j, const char *what)
{
	if (j->p >= j->end)
		return bad(r, "%s: %s at the end of the line (truncated line?)", what,
			   j->err ? j->err : "malformed JSON");
	return bad(r, "%s: %s at column %zu", what, j->err ? j->err : "malformed JSON",
		   (size_t)(j->p - j->start) + 1);
}

/* ---- Header --------------------------------------------------------------------------- */

static int parse_header(struct replay *r, char *line, size_t len, tdxsim_config *c)
{
	struct jp j = { line, line + len, line, NULL, 0 };
	const char *k, *fmt = NULL, *plat = NULL;
	size_t kn, fmtn = 0, platn = 0;
	uint64_t version = 0, v;
	int have_version = 0, have_config = 0, res;
	uint32_t cfg_seen = 0;
	enum { C_PACKAGES = 1, C_LPS = 2, C_MEM = 4, C_MKTME = 8, C_TDX = 16, C_SEED = 32,
	       C_FLAGS = 64, C_F0 = 128, C_MOD = 256 };
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	if (len == 0)
		return bad(r, "empty line: expected the trace header {\"format\":\"tdxsim-trace\",...}");
	for (res = jobj_first(&j, &k, &kn); res > 0; res = jobj_next(&j, &k, &kn)) {
		if (keyis(k, kn, "format")) {
			if (jstr(&j, &fmt, &fmtn))
				break;
		} else if (keyis(k, kn, "version")) {
			if (ju64(&j, &version))
				break;
			have_version = 1;
		} else if (keyis(k, kn, "config")) {
			have_config = 1;
			int cr;
			for (cr = jobj_first(&j, &k, &kn); cr > 0; cr = jobj_next(&j, &k, &kn)) {
				int err = 0;
				if (keyis(k, kn, "platform")) {
					err = jstr(&j, &plat, &platn);
				} else if (keyis(k, kn, "cmrs")) {
					int ar;
					uint32_t n = 0;
					for (ar = jarr_first(&j); ar > 0; ar = jarr_next(&j)) {
						int orr;
						tdxsim_range rg = { 0, 0 };
						for (orr = jobj_first(&j, &k, &kn); orr > 0; orr = jobj_next(&j, &k, &kn)) {
							if (keyis(k, kn, "base")) err = ju64(&j, &rg.base);
							else if (keyis(k, kn, "size")) err = ju64(&j, &rg.size);
							else err = jskip(&j);
							if (err)
								break;
						}
						if (err || orr < 0) {
							err = -1;
							break;
						}
						if (n >= TDX_MAX_CMRS)
							return bad(r, "header: more than %d CMRs", TDX_MAX_CMRS);
						c->cmrs[n++] = rg;
					}
					if (ar < 0)
						err = -1;
				} else if (keyis(k, kn, "flags")) {
					err = ju64(&j, &v); c->flags = (uint32_t)v; cfg_seen |= C_FLAGS;
				} else if (keyis(k, kn, "packages")) {
					err = ju64(&j, &v); c->packages = (uint32_t)v; cfg_seen |= C_PACKAGES;
				} else if (keyis(k, kn, "lps_per_package")) {
					err = ju64(&j, &v); c->lps_per_package = (uint32_t)v; cfg_seen |= C_LPS;
				} else if (keyis(k, kn, "mem_bytes")) {
					err = ju64(&j, &c->mem_bytes); cfg_seen |= C_MEM;
				} else if (keyis(k, kn, "n_cmrs")) {
					err = ju64(&j, &v); c->n_cmrs = (uint32_t)v;
				} else if (keyis(k, kn, "mktme_keyids")) {
					err = ju64(&j, &v); c->mktme_keyids = (uint32_t)v; cfg_seen |= C_MKTME;
				} else if (keyis(k, kn, "tdx_keyids")) {
					err = ju64(&j, &v); c->tdx_keyids = (uint32_t)v; cfg_seen |= C_TDX;
				} else if (keyis(k, kn, "module_major")) {
					err = ju64(&j, &v); c->module_major = (uint16_t)v; cfg_seen |= C_MOD;
				} else if (keyis(k, kn, "module_minor")) {
					err = ju64(&j, &v); c->module_minor = (uint16_t)v;
				} else if (keyis(k, kn, "module_update")) {
					err = ju64(&j, &v); c->module_update = (uint16_t)v;
				} else if (keyis(k, kn, "tdx_features0")) {
					err = ju64(&j, &c->tdx_features0); cfg_seen |= C_F0;
				} else if (keyis(k, kn, "seed")) {
					err = ju64(&j, &c->seed); cfg_seen |= C_SEED;
				} else {
					err = jskip(&j);
				}
				if (err)
					break;
			}
			if (cr < 0 || j.err)
				break;
		} else if (keyis(k, kn, "platform")) {
			const char *p2;
			size_t n2;
			if (jstr(&j, &p2, &n2))
				break;
			if (!plat) {
				plat = p2;
				platn = n2;
			}
		} else if (jskip(&j)) {
			break;
		}
	}
	if (res < 0 || j.err)
		return bad_json(r, &j, "header");
	jws(&j);
	if (j.p != j.end)
		return bad(r, "header: text after the JSON object at column %zu", (size_t)(j.p - line) + 1);
	if (!fmt || fmtn != strlen("tdxsim-trace") || memcmp(fmt, "tdxsim-trace", fmtn))
		return bad(r, "not a tdxsim trace: expected \"format\":\"tdxsim-trace\" in the header");
	if (!have_version)
		return bad(r, "header: \"version\" missing");
	if (version != SIM_TRACE_VERSION)
		return bad(r, "trace format version %" PRIu64 " is not supported (this tdxsim reads version %d)",
			   version, SIM_TRACE_VERSION);
	if (!have_config)
		return bad(r, "header: \"config\" missing");
	static const struct { uint32_t bit; const char *name; } req[] = {
		{ C_FLAGS, "flags" }, { C_PACKAGES, "packages" }, { C_LPS, "lps_per_package" },
		{ C_MEM, "mem_bytes" }, { C_MKTME, "mktme_keyids" }, { C_TDX, "tdx_keyids" },
		{ C_MOD, "module_major" }, { C_F0, "tdx_features0" }, { C_SEED, "seed" },
	};
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!(cfg_seen & req[i].bit))
			return bad(r, "header: config.%s missing", req[i].name);
	if (!plat || platn == 0 || platn >= sizeof(r->platform))
		return bad(r, "header: config.platform missing or too long");
	memcpy(r->platform, plat, platn);
	r->platform[platn] = 0;
	if (!tdxsim_platform_find(r->platform))
		return bad(r, "header: unknown platform \"%s\"", r->platform);
	c->platform = r->platform;
	if (c->n_cmrs > TDX_MAX_CMRS)
		return bad(r, "header: n_cmrs %u is more than %d", c->n_cmrs, TDX_MAX_CMRS);
	return 0;
}

/* ---- Events ---------------------------------------------------------------------------------- */

struct event {
	const char *ev, *name, *sha, *data;
	size_t evn, namen, shan, datan;
	int name_null;
	uint64_t seq, lp, rax, leaf, version, status, injected;
	unsigned have;
	struct tdx_module_args in, out;
};
enum { H_SEQ = 1, H_LP = 2, H_RAX = 4, H_LEAF = 8, H_IN = 16, H_OUT = 32, H_STATUS = 64,
       H_MEM = 128, H_NAME = 256, H_SHA = 512, H_DATA = 1024, H_VERSION = 2048 };

static int parse_mem(struct replay *r, struct jp *j)
{
	const char *k;
	size_t kn;
	int ar;
	r->mem_n = 0;
	for (ar = jarr_first(j); ar > 0; ar = jarr_next(j)) {
		if (r->mem_n == r->mem_cap) {
			size_t ncap = r->mem_cap ? r->mem_cap * 2 : 8;
			struct mem_ref *nm = realloc(r->mem, ncap * sizeof(*nm));
			if (!nm)
				return jfail(j, "out of memory");
			r->mem = nm;
			r->mem_cap = ncap;
		}
		struct mem_ref *m = &r->mem[r->mem_n];
		unsigned have = 0;
		int orr;
		for (orr = jobj_first(j, &k, &kn); orr > 0; orr = jobj_next(j, &k, &kn)) {
			int err;
			if (keyis(k, kn, "pa")) {
				err = ju64(j, &m->pa);
				have |= 1;
			} else if (keyis(k, kn, "len")) {
				err = ju64(j, &m->len);
				have |= 2;
			} else if (keyis(k, kn, "sha256")) {
				const char *s;
				size_t n;
				err = jstr(j, &s, &n);
				if (!err && hex32(s, n, m->sha))
					return jfail(j, "mem: sha256 is not 64 hex digits");
				have |= 4;
			} else {
				err = jskip(j);
			}
			if (err)
				return -1;
		}
		if (orr < 0)
			return -1;
		if (have != 7)
			return jfail(j, "mem entry lacks \"pa\", \"len\" or \"sha256\"");
		if (m->len > (1ull << 30))
			return jfail(j, "mem entry longer than 1 GiB");
		r->mem_n++;
	}
	return ar < 0 ? -1 : 0;
}

static int parse_event(struct replay *r, struct jp *j, struct event *e, const char **missing_reg)
{
	const char *k;
	size_t kn;
	int res;
	memset(e, 0, sizeof(*e));
	r->mem_n = 0;
	for (res = jobj_first(j, &k, &kn); res > 0; res = jobj_next(j, &k, &kn)) {
		int err = 0;
		switch (k[0]) {
		case 'e':
			if (keyis(k, kn, "ev")) { err = jstr(j, &e->ev, &e->evn); goto next; }
			break;
		case 's':
			if (keyis(k, kn, "seq")) { err = ju64(j, &e->seq); e->have |= H_SEQ; goto next; }
			if (keyis(k, kn, "status")) { err = ju64(j, &e->status); e->have |= H_STATUS; goto next; }
			if (keyis(k, kn, "sha256")) { err = jstr(j, &e->sha, &e->shan); e->have |= H_SHA; goto next; }
			break;
		case 'l':
			if (keyis(k, kn, "lp")) { err = ju64(j, &e->lp); e->have |= H_LP; goto next; }
			if (keyis(k, kn, "leaf")) { err = ju64(j, &e->leaf); e->have |= H_LEAF; goto next; }
			break;
		case 'r':
			if (keyis(k, kn, "rax")) { err = ju64(j, &e->rax); e->have |= H_RAX; goto next; }
			break;
		case 'v':
			if (keyis(k, kn, "version")) { err = ju64(j, &e->version); e->have |= H_VERSION; goto next; }
			break;
		case 'n':
			if (keyis(k, kn, "name")) {
				jws(j);
				e->have |= H_NAME;
				if (j->end - j->p >= 4 && !memcmp(j->p, "null", 4)) {
					j->p += 4;
					e->name_null = 1;
				} else {
					err = jstr(j, &e->name, &e->namen);
				}
				goto next;
			}
			break;
		case 'i':
			if (keyis(k, kn, "in")) {
				*missing_reg = NULL;
				err = jregs(j, &e->in, missing_reg);
				if (err && *missing_reg)
					return jfail(j, "\"in\" lacks a register");
				e->have |= H_IN;
				goto next;
			}
			if (keyis(k, kn, "injected")) { err = ju64(j, &e->injected); goto next; }
			break;
		case 'o':
			if (keyis(k, kn, "out")) {
				*missing_reg = NULL;
				err = jregs(j, &e->out, missing_reg);
				if (err && *missing_reg)
					return jfail(j, "\"out\" lacks a register");
				e->have |= H_OUT;
				goto next;
			}
			break;
		case 'm':
			if (keyis(k, kn, "mem")) { err = parse_mem(r, j); e->have |= H_MEM; goto next; }
			break;
		case 'd':
			if (keyis(k, kn, "data")) { err = jstr(j, &e->data, &e->datan); e->have |= H_DATA; goto next; }
			break;
		}
		err = jskip(j);
next:
		if (err)
			return -1;
	}
	if (res < 0)
		return -1;
	jws(j);
	if (j->p != j->end)
		return jfail(j, "text after the JSON object");
	return 0;
}

static int do_blob(struct replay *r, struct event *e)
{
	uint8_t sha[32], got[32];
	if (!(e->have & H_SHA) || hex32(e->sha, e->shan, sha))
		return bad(r, "blob: expected \"sha256\" with 64 hex digits");
	if (!(e->have & H_DATA))
		return bad(r, "blob: expected \"data\" (Base64)");
	char *txt = malloc(e->datan + 1);
	if (!txt)
		return bad(r, "blob: out of memory");
	memcpy(txt, e->data, e->datan);
	txt[e->datan] = 0;
	uint8_t *data;
	size_t len;
	int rc = trace_read_base64(txt, &data, &len);
	free(txt);
	if (rc)
		return bad(r, "blob: \"data\" is not valid Base64");
	if (!EVP_Digest(data, len, got, NULL, EVP_sha256(), NULL) || memcmp(got, sha, 32)) {
		free(data);
		return bad(r, "blob: the SHA-256 of \"data\" is not \"sha256\"");
	}
	if (blob_put(&r->blobs, sha, data, len)) {
		free(data);
		return bad(r, "blob: out of memory");
	}
	return 0;
}

/* Write back what the leaf read: only the 64-byte lines that differ from
 * what the module reads now. */
static int restore_mem(struct replay *r, size_t i)
{
	struct mem_ref *m = &r->mem[i];
	struct blob *b = blob_find(&r->blobs, m->sha);
	if (!b) {
		char hx[65];
		for (int k = 0; k < 32; k++)
			snprintf(hx + 2 * k, 3, "%02x", m->sha[k]);
		return bad(r, "mem[%zu]: no blob line with sha256 %s before this event", i, hx);
	}
	if (b->len != m->len)
		return bad(r, "mem[%zu]: len %" PRIu64 " but its blob has %zu bytes", i, m->len, b->len);
	if (!m->len)
		return 0;
	if (m->len > r->scratch_cap) {
		uint8_t *ns = realloc(r->scratch, m->len);
		if (!ns)
			return bad(r, "mem[%zu]: out of memory", i);
		r->scratch = ns;
		r->scratch_cap = m->len;
	}
	seam_read_pa(r->s, m->pa, r->scratch, m->len);
	if (!memcmp(r->scratch, b->data, m->len))
		return 0;
	uint64_t pa = seam_pa_strip(r->s, m->pa);
	for (uint64_t off = 0, n; off < m->len; off += n) {
		n = 64 - ((pa + off) & 63);
		if (n > m->len - off)
			n = m->len - off;
		if (memcmp(r->scratch + off, b->data + off, n))
			seam_write_pa(r->s, pa + off, b->data + off, n);
	}
	return 0;
}

static void print_divergence(struct replay *r, const struct event *e, const char *name,
			     uint64_t st, const struct tdx_module_args *out)
{
	const uint64_t *want = (const uint64_t *)&e->out, *got = (const uint64_t *)out;
	char sw[128], sg[128];
	tdx_status_str(e->status, sw, sizeof(sw));
	tdx_status_str(st, sg, sizeof(sg));
	if (r->json) {
		FILE *f = r->jdiv;
		fprintf(f, "%s{\"seq\":%" PRIu64 ",\"line\":%" PRIu64 ",\"lp\":%" PRIu64
			",\"rax\":\"0x%" PRIx64 "\",\"name\":\"%s\",\"expected_status\":\"0x%" PRIx64
			"\",\"expected_status_name\":\"%s\",\"actual_status\":\"0x%" PRIx64
			"\",\"actual_status_name\":\"%s\",\"registers\":[",
			r->res.divergences > 1 ? "," : "", e->seq, r->rd.lineno, e->lp, e->rax, name,
			e->status, tdx_status_name(e->status) ? tdx_status_name(e->status) : "",
			st, tdx_status_name(st) ? tdx_status_name(st) : "");
		int first = 1;
		for (int i = 0; i < NREGS; i++)
			if (want[i] != got[i]) {
				fprintf(f, "%s{\"reg\":\"%s\",\"expected\":\"0x%" PRIx64 "\",\"actual\":\"0x%" PRIx64 "\"}",
					first ? "" : ",", reg_names[i], want[i], got[i]);
				first = 0;
			}
		fprintf(f, "]}");
		return;
	}
	FILE *f = r->out;
	fprintf(f, "DIVERGENCE at seq %" PRIu64 " (%s:%" PRIu64 "), LP %" PRIu64 ", %s:\n",
		e->seq, r->path, r->rd.lineno, e->lp, name);
	if (st != e->status)
		fprintf(f, "  status: expected %s, got %s\n", sw, sg);
	else
		fprintf(f, "  status: %s as recorded\n", sw);
	for (int i = 0; i < NREGS; i++)
		if (want[i] != got[i])
			fprintf(f, "  %-6s expected 0x%" PRIx64 ", got 0x%" PRIx64 "\n", reg_names[i], want[i], got[i]);
}

/* 0 matched, 1 diverged, 2 bad input. */
static int do_seamcall(struct replay *r, struct event *e)
{
	static const struct { unsigned bit; const char *name; } req[] = {
		{ H_LP, "lp" }, { H_RAX, "rax" }, { H_IN, "in" }, { H_STATUS, "status" },
		{ H_OUT, "out" }, { H_MEM, "mem" },
	};
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!(e->have & req[i].bit))
			return bad(r, "seamcall seq %" PRIu64 ": expected \"%s\"", e->seq, req[i].name);
	if ((e->have & H_LEAF) && e->leaf != (e->rax & TDX_LEAF_MASK))
		return bad(r, "seamcall seq %" PRIu64 ": \"leaf\" %" PRIu64 " is not rax 0x%" PRIx64 " & 0xffff",
			   e->seq, e->leaf, e->rax);
	const char *name = tdx_seamcall_leaf_name(e->rax);
	if ((e->have & H_NAME) && !e->name_null &&
	    (!name || strlen(name) != e->namen || memcmp(name, e->name, e->namen)))
		return bad(r, "seamcall seq %" PRIu64 ": unknown leaf \"%.*s\" (rax 0x%" PRIx64 "%s%s)",
			   e->seq, (int)(e->namen > 64 ? 64 : e->namen), e->name, e->rax,
			   name ? ", which this tdxsim calls " : ", not a leaf this tdxsim knows",
			   name ? name : "");
	if (e->lp >= r->n_lps)
		return bad(r, "seamcall seq %" PRIu64 ": lp %" PRIu64 " but the machine has %u LPs",
			   e->seq, e->lp, r->n_lps);
	for (size_t i = 0; i < r->mem_n; i++) {
		int rc = restore_mem(r, i);
		if (rc)
			return rc;
	}
	if (e->injected) {
		/* The fault plan is not in the trace: the status cannot be reproduced. */
		r->res.skipped++;
		return 0;
	}
	if (!r->vmx_on[e->lp]) {
		tdxsim_vmx_get(r->s, (unsigned)e->lp);
		r->vmx_on[e->lp] = 1;
	}
	struct tdx_module_args a = e->in;
	uint64_t st = tdxsim_seamcall(r->s, (unsigned)e->lp, e->rax, &a);
	r->res.seamcalls++;
	if (st == e->status && !memcmp(&a, &e->out, sizeof(a)))
		return 0;
	r->res.divergences++;
	char unk[32];
	if (!name) {
		snprintf(unk, sizeof(unk), "leaf %" PRIu64, (uint64_t)(e->rax & TDX_LEAF_MASK));
		name = unk;
	}
	print_divergence(r, e, name, st, &a);
	return 1;
}

/* ---- State dump ---------------------------------------------------------------------------------- */

static const char *lifecycle_name(unsigned v)
{
	static const char *const n[] = { "HKID_ASSIGNED", "KEYS_CONFIGURED", "BLOCKED", "TEARDOWN" };
	return v < 4 ? n[v] : "?";
}

static const char *op_state_name(unsigned v)
{
	static const char *const n[] = { "UNINITIALIZED", "INITIALIZED", "RUNNABLE", "LIVE_EXPORT",
		"PAUSED_EXPORT", "POST_EXPORT", "MEMORY_IMPORT", "STATE_IMPORT", "POST_IMPORT",
		"LIVE_IMPORT", "FAILED_IMPORT" };
	return v < 11 ? n[v] : "?";
}

static const char *vcpu_state_name(unsigned v)
{
	switch (v) {
	case VCPU_UNINITIALIZED: return "UNINITIALIZED";
	case VCPU_READY: return "READY";
	case VCPU_ACTIVE: return "ACTIVE";
	case VCPU_DISABLED: return "DISABLED";
	case VCPU_IMPORT: return "IMPORT";
	}
	return "?";
}

static const char *sys_state_name(unsigned v)
{
	static const char *const n[] = { "SYSINIT_PENDING", "SYSINIT_DONE", "SYSCONFIG_DONE", "READY", "SHUTDOWN" };
	return v < 5 ? n[v] : "?";
}

static const char *page_type_name(unsigned t)
{
	switch (t) {
	case PT_NDA: return "PT_NDA";
	case PT_RSVD: return "PT_RSVD";
	case PT_REG: return "PT_REG";
	case PT_TDR: return "PT_TDR";
	case PT_TDCX: return "PT_TDCX";
	case PT_TDVPR: return "PT_TDVPR";
	case PT_EPT: return "PT_EPT";
	}
	return NULL;
}

void sim_replay_dump_state(tdxsim *s, FILE *f, int json)
{
	struct seam_module *m = &s->mod;
	unsigned st = tdxsim_module_state(s);
	/* PAMT: 4 KiB pages per type over the initialised part of every TDMR. */
	uint64_t counts[16] = { 0 }, other = 0;
	for (uint32_t i = 0; i < m->n_tdmrs; i++) {
		const struct seam_tdmr *t = &m->tdmr[i];
		uint64_t end = t->base + atomic_load_explicit(&t->init_off, memory_order_acquire);
		for (uint64_t pa = t->base; pa < end;) {
			unsigned type, size;
			uint64_t owner;
			if (tdxsim_pamt_lookup(s, pa, &type, &owner, &size) != TDXSIM_OK) {
				pa += TDX_PAGE_SIZE;
				continue;
			}
			uint64_t step = size == 2 ? 1ull << 30 : size == 1 ? 1ull << 21 : TDX_PAGE_SIZE;
			uint64_t next = (pa & ~(step - 1)) + step;
			if (next > end)
				next = end;
			uint64_t n = (next - pa) / TDX_PAGE_SIZE;
			if (type < 16 && page_type_name(type))
				counts[type] += n;
			else
				other += n;
			pa = next;
		}
	}
	uint32_t ntds = 0;
	for (struct seam_td *td = m->all_tds; td; td = td->all_next)
		ntds++;
	if (json) {
		fprintf(f, "{\"module\":\"%s\",\"global_keyid\":%u,\"tds\":[", sys_state_name(st),
			tdxsim_global_keyid(s));
		int first = 1;
		for (struct seam_td *td = m->all_tds; td; td = td->all_next) {
			fprintf(f, "%s{\"tdr\":\"0x%" PRIx64 "\",\"hkid\":%u,\"lifecycle\":\"%s\",\"op_state\":\"%s\""
				",\"fatal\":%u,\"max_vcpus\":%u,\"num_vcpus\":%u,\"child_pages\":%" PRIu64 ",\"vcpus\":[",
				first ? "" : ",", td->tdr_pa, td->hkid, lifecycle_name(td->lifecycle),
				op_state_name(td->op_state), (unsigned)td->fatal, td->max_vcpus,
				(unsigned)td->num_vcpus, (uint64_t)td->chldcnt);
			first = 0;
			int vf = 1;
			for (unsigned i = 0; td->vcpus && i < td->max_vcpus; i++) {
				struct seam_vcpu *v = td->vcpus[i];
				if (!v)
					continue;
				fprintf(f, "%s{\"index\":%u,\"tdvpr\":\"0x%" PRIx64 "\",\"state\":\"%s\",\"assoc_lp\":%d}",
					vf ? "" : ",", v->vcpu_index, v->tdvpr_pa, vcpu_state_name(v->state),
					(int)v->assoc_lp);
				vf = 0;
			}
			fprintf(f, "]}");
		}
		fprintf(f, "],\"pamt_4k_pages\":{");
		first = 1;
		for (unsigned t = 0; t < 16; t++)
			if (page_type_name(t)) {
				fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", page_type_name(t), counts[t]);
				first = 0;
			}
		fprintf(f, ",\"other\":%" PRIu64 "}}", other);
		return;
	}
	fprintf(f, "Module: %s, global KeyID %u\n", sys_state_name(st), tdxsim_global_keyid(s));
	fprintf(f, "TDs: %u\n", ntds);
	for (struct seam_td *td = m->all_tds; td; td = td->all_next) {
		fprintf(f, "  TDR 0x%" PRIx64 "  HKID %u  lifecycle %s  op_state %s%s  vCPUs %u/%u  child pages %" PRIu64 "\n",
			td->tdr_pa, td->hkid, lifecycle_name(td->lifecycle), op_state_name(td->op_state),
			td->fatal ? " FATAL" : "", (unsigned)td->num_vcpus, td->max_vcpus, (uint64_t)td->chldcnt);
		for (unsigned i = 0; td->vcpus && i < td->max_vcpus; i++) {
			struct seam_vcpu *v = td->vcpus[i];
			if (!v)
				continue;
			fprintf(f, "    vCPU %u  TDVPR 0x%" PRIx64 "  %s", v->vcpu_index, v->tdvpr_pa,
				vcpu_state_name(v->state));
			if (v->assoc_lp >= 0)
				fprintf(f, "  associated with LP %d", (int)v->assoc_lp);
			fputc('\n', f);
		}
	}
	fprintf(f, "PAMT (4 KiB pages by type):");
	for (unsigned t = 0; t < 16; t++)
		if (page_type_name(t) && counts[t])
			fprintf(f, " %s %" PRIu64, page_type_name(t), counts[t]);
	if (other)
		fprintf(f, " other %" PRIu64, other);
	fputc('\n', f);
}

/* ---- Driver ---------------------------------------------------------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void json_path(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int replay_run(struct replay *r)
{
	const char *rerr;
	size_t len;
	char *line = rd_line(&r->rd, &len, &rerr);
	if (!line) {
		r->rd.lineno = 1;
		if (rerr)
			return bad(r, "read error: %s", rerr);
		return bad(r, "empty file: expected the trace header {\"format\":\"tdxsim-trace\",...}");
	}
	tdxsim_config cfg;
	int rc = parse_header(r, line, len, &cfg);
	if (rc)
		return rc;
	tdxsim_err err = tdxsim_open(&cfg, &r->s);
	if (err)
		return bad(r, "cannot rebuild the machine of the header: %s", tdxsim_strerror(err));
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(r->s, &info);
	r->n_lps = info.n_lps;
	r->vmx_on = calloc(r->n_lps, 1);
	if (!r->vmx_on)
		return bad(r, "out of memory");

	int unt = r->o && (r->o->flags & TDXSIM_REPLAY_UNTIL);
	int cont = r->o && (r->o->flags & TDXSIM_REPLAY_CONTINUE);
	uint64_t until = unt ? r->o->until : 0, last_seq = 0;
	int stopped_until = 0, result = 0;
	double t0 = now_ns();
	for (;;) {
		line = rd_line(&r->rd, &len, &rerr);
		if (!line) {
			if (rerr) {
				r->rd.lineno++;
				return bad(r, "read error: %s (truncated file?)", rerr);
			}
			break;
		}
		if (!len)
			return bad(r, "empty line: expected an event object");
		struct jp j = { line, line + len, line, NULL, 0 };
		struct event e;
		const char *missing = NULL;
		if (parse_event(r, &j, &e, &missing)) {
			if (missing)
				return bad(r, "%s: expected register \"%s\"", j.err, missing);
			return bad_json(r, &j, "event");
		}
		if (!e.ev)
			return bad(r, "event: expected \"ev\"");
		if (!(e.have & H_SEQ))
			return bad(r, "event: expected \"seq\"");
		if (e.seq != r->res.events)
			return bad(r, "event: \"seq\" is %" PRIu64 ", expected %" PRIu64 " (events number from 0 in file order)",
				   e.seq, r->res.events);
		r->res.events++;
		last_seq = e.seq;
		if (keyis(e.ev, e.evn, "blob")) {
			if ((rc = do_blob(r, &e)))
				return rc;
		} else if (keyis(e.ev, e.evn, "seamcall")) {
			rc = do_seamcall(r, &e);
			if (rc == 2)
				return rc;
			if (rc == 1) {
				result = 1;
				if (!cont)
					break;
			}
		}                       /* other events: skipped (reserved kinds) */
		if (unt && e.seq >= until) {
			stopped_until = 1;
			break;
		}
	}
	r->res.seamcall_ns = now_ns() - t0;
	int quiet = r->o && (r->o->flags & TDXSIM_REPLAY_QUIET);
	FILE *f = r->out;
	if (r->json) {
		fflush(r->jdiv);
		fprintf(f, "{\"trace\":");
		json_path(f, r->path);
		fprintf(f, ",\"platform\":\"%s\",\"events\":%" PRIu64 ",\"seamcalls\":%" PRIu64
			",\"skipped_injected\":%" PRIu64 ",\"divergences\":%" PRIu64
			",\"result\":\"%s\",\"last_seq\":%" PRIu64 ",\"diverged\":[%s]",
			r->platform, r->res.events, r->res.seamcalls, r->res.skipped, r->res.divergences,
			result ? "diverged" : "match", last_seq, r->jdiv_buf ? r->jdiv_buf : "");
		if (unt) {
			fprintf(f, ",\"until\":%" PRIu64 ",\"state\":", until);
			sim_replay_dump_state(r->s, f, 1);
		}
		fprintf(f, "}\n");
		return result;
	}
	if (result && !cont)
		fprintf(f, "Replay stopped at the first divergence (--continue reports them all).\n");
	if (!quiet || result)
	{
		fprintf(f, "%s: %" PRIu64 " events, %" PRIu64 " SEAMCALLs replayed", r->path,
			r->res.events, r->res.seamcalls);
		if (r->res.skipped)
			fprintf(f, " (%" PRIu64 " with an injected status not issued)", r->res.skipped);
		fprintf(f, ", %" PRIu64 " divergence%s%s\n", r->res.divergences,
			r->res.divergences == 1 ? "" : "s", result ? "" : ": every status and register matched");
	}
	if (unt) {
		if (stopped_until)
			fprintf(f, "State after seq %" PRIu64 " (%s:%" PRIu64 "):\n", last_seq, r->path, r->rd.lineno);
		else
			fprintf(f, "State at the end of the trace (seq %" PRIu64 "; no event %" PRIu64 "):\n",
				last_seq, until);
		sim_replay_dump_state(r->s, f, 0);
	}
	return result;
}

int tdxsim_replay(const char *path, const tdxsim_replay_opts *opts, tdxsim_replay_result *res)
{
	struct replay r;
	memset(&r, 0, sizeof(r));
	r.path = path ? path : "(null)";
	r.o = opts && opts->size >= sizeof(*opts) ? opts : NULL;
	r.out = r.o && r.o->out ? r.o->out : stdout;
	r.err = r.o && r.o->err ? r.o->err : stderr;
	r.json = r.o && (r.o->flags & TDXSIM_REPLAY_JSON);
	int rc;
	if (!path || !*path) {
		fprintf(r.err, "replay: no trace file given\n");
		rc = 2;
		goto out;
	}
	errno = 0;
	r.rd.g = gzopen(path, "rb");
	if (!r.rd.g) {
		int e = errno ? errno : EIO;
		fprintf(r.err, "%s: cannot open: %s\n", path, strerror(e));
		rc = 2;
		goto out;
	}
	gzbuffer(r.rd.g, 1 << 17);
	r.rd.cap = 1 << 20;
	r.rd.buf = malloc(r.rd.cap);
	if (r.json)
		r.jdiv = open_memstream(&r.jdiv_buf, &r.jdiv_len);
	if (!r.rd.buf || (r.json && !r.jdiv)) {
		fprintf(r.err, "%s: out of memory\n", path);
		rc = 2;
		goto out;
	}
	rc = replay_run(&r);
out:
	if (r.jdiv)
		fclose(r.jdiv);
	free(r.jdiv_buf);
	if (r.rd.g)
		gzclose(r.rd.g);
	free(r.rd.buf);
	tdxsim_close(r.s);
	for (size_t i = 0; i < r.blobs.cap; i++)
		free(r.blobs.t[i].data);
	free(r.blobs.t);
	free(r.mem);
	free(r.scratch);
	free(r.vmx_on);
	fflush(r.out);
	if (res && res->size >= sizeof(*res)) {
		r.res.size = res->size;
		*res = r.res;
	}
	return rc;
}
