/*
 * Snapshots of the whole simulator (API: tdxsim.h "Snapshots"; file format:
 * docs/snapshots.md).
 *
 * What is saved: the machine (each LP's clock, RNG streams, VMX state,
 * counters; the sequence counter; the fault plan with its counters; every
 * programmed key), the module (global state, TDMRs, KOT, WBT, every TD and
 * vCPU structure, with pointers turned into page addresses), simulated
 * memory (every non-zero page) with its per-page and per-line TD-owner and
 * poison state, and each vCPU's runner image (seam/vp_enter.h: the engine's
 * CPU context and the runner's pending work). Not saved: hooks, the trace
 * being recorded, checker mode, caches (LP decrypted-page caches, the TDs'
 * mirrors), which are rebuilt.
 *
 * Saving quiesces the handle first, so that the handle saved from and a
 * handle restored from the snapshot continue from the same state: the TDs'
 * held writes go to RAM, every engine and mirror is replaced by one rebuilt
 * from its image (all or nothing: if one cannot be built, the old ones
 * stay); lazily zeroed and lazy-plaintext pages (sim/mktme.h) get their
 * ciphertext. None of this is visible to the host.
 *
 * Structures are stored in this build's layout (the CONF section records
 * their sizes; a snapshot from another build is refused), each section with
 * its SHA-256, so that corruption is reported with the section and offset.
 * Checksums do not stop forgery: a restore validates, before it changes
 * anything, every value the module uses as an address, index, shift, size
 * or enum, and that no lock is held (docs/snapshots.md, "Trust"); a
 * refused snapshot leaves the handle as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "seam/td.h"
#include "seam/vp_enter.h"
#include "sim/sim_int.h"
#include "sim/snapshot.h"

enum {
#define X(id, tag) SEC_##id,
	SNAP_SECTIONS(X)
#undef X
	SEC_N
};
static const char *const sec_tag[SEC_N] = {
#define X(id, tag) tag,
	SNAP_SECTIONS(X)
#undef X
};
/* For messages: the tags without their padding. */
static const char *const sec_name[SEC_N] = {
#define X(id, tag) #id,
	SNAP_SECTIONS(X)
#undef X
};

#define PAGE 4096u

/* ---- The configuration section ------------------------------------------------ */

/* Fixed-width: written as is (x86-64 layout), padding zeroed. */
struct snap_conf {
	char platform[16];
	uint32_t flags;                 /* TDXSIM_CFG_*, but CHECKER and FEATURES0_SET */
	uint32_t packages, lps_per_package;
	uint32_t n_cmrs;
	uint64_t mem_bytes;
	uint64_t cmrs[TDX_MAX_CMRS][2];
	uint32_t mktme_keyids, tdx_keyids;
	uint16_t module_major, module_minor, module_update, pad0;
	uint64_t tdx_features0, seed;
	/* Derived machine shape. */
	uint32_t n_lps, n_pkgs, n_keyslots, pad1;
	uint64_t mem_span;              /* bytes of PA space mapped */
	/* Build layout: structures stored as they are in memory. */
	uint32_t sz_lp, sz_fault, sz_module, sz_td, sz_vcpu, sz_kot, sz_wbt, sz_key;
	uint32_t max_faults, leaf_max, sz_image, pad2;
};

static void conf_fill(const tdxsim *s, struct snap_conf *c)
{
	const tdxsim_config *g = &s->cfg;
	memset(c, 0, sizeof(*c));
	snprintf(c->platform, sizeof(c->platform), "%s", s->plat->name);
	/* Checker mode is not state; TDX_FEATURES0 is compared as a value. */
	c->flags = g->flags & ~(TDXSIM_CFG_CHECKER | TDXSIM_CFG_FEATURES0_SET);
	c->packages = g->packages;
	c->lps_per_package = g->lps_per_package;
	c->n_cmrs = g->n_cmrs;
	c->mem_bytes = g->mem_bytes;
	for (uint32_t i = 0; i < g->n_cmrs && i < TDX_MAX_CMRS; i++) {
		c->cmrs[i][0] = g->cmrs[i].base;
		c->cmrs[i][1] = g->cmrs[i].size;
	}
	c->mktme_keyids = g->mktme_keyids;
	c->tdx_keyids = g->tdx_keyids;
	c->module_major = g->module_major;
	c->module_minor = g->module_minor;
	c->module_update = g->module_update;
	c->tdx_features0 = g->tdx_features0;
	c->seed = g->seed;
	c->n_lps = s->n_lps;
	c->n_pkgs = s->n_pkgs;
	c->n_keyslots = s->n_keyslots;
	c->mem_span = s->mem.size;
	c->sz_lp = sizeof(struct sim_lp);
	c->sz_fault = sizeof(struct sim_fault);
	c->sz_module = sizeof(struct seam_module);
	c->sz_td = sizeof(struct seam_td);
	c->sz_vcpu = sizeof(struct seam_vcpu);
	c->sz_kot = sizeof(struct seam_kot_entry);
	c->sz_wbt = sizeof(struct seam_wbt);
	c->sz_key = sizeof(struct sim_keyslot);
	c->max_faults = TDXSIM_MAX_FAULTS;
	c->leaf_max = TDX_SEAMCALL_LEAF_MAX;
	c->sz_image = sizeof(struct seam_run_image);
}

/* ---- Writing ------------------------------------------------------------------ */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int oom;
	size_t sec_start;               /* offset of the open section's header */
	uint32_t n_sec;
};

static uint8_t *wb_room(struct wbuf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : (1u << 20);
		while (cap - b->len < n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	uint8_t *at = b->p + b->len;
	b->len += n;
	return at;
}

static void wb_put(struct wbuf *b, const void *d, size_t n)
{
	uint8_t *at = wb_room(b, n);
	if (at && n)
		memcpy(at, d, n);
}

static void wb_u32(struct wbuf *b, uint32_t v) { wb_put(b, &v, 4); }
static void wb_u64(struct wbuf *b, uint64_t v) { wb_put(b, &v, 8); }

static void sha256(const void *d, size_t n, uint8_t out[32])
{
	unsigned len = 0;
	SIM_BUG_ON(EVP_Digest(d, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32);
}

static void sec_begin(struct wbuf *b, unsigned id)
{
	SIM_BUG_ON(id != b->n_sec);
	b->sec_start = b->len;
	wb_room(b, SNAP_SEC_HDR_BYTES);
}

static void sec_end(struct wbuf *b)
{
	if (b->oom)
		return;
	uint8_t *h = b->p + b->sec_start;
	uint64_t n = b->len - b->sec_start - SNAP_SEC_HDR_BYTES;
	memset(h, 0, SNAP_SEC_HDR_BYTES);
	memcpy(h, sec_tag[b->n_sec], 4);
	memcpy(h + 4, &b->n_sec, 4);
	memcpy(h + 8, &n, 8);
	sha256(h + SNAP_SEC_HDR_BYTES, n, h + 16);
	b->n_sec++;
}

/* A raw structure with some pointer-sized fields cleared (they are saved
 * otherwise, as addresses). */
#define PUT_RAW(b, obj, clear) do { \
	__typeof__(obj) tmp_ = (obj); \
	clear; \
	wb_put((b), &tmp_, sizeof(tmp_)); \
} while (0)

static int page_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	uint64_t acc = 0;
	for (unsigned i = 0; i < PAGE / 8; i += 8)
		acc |= q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7];
	return acc == 0;
}

static void put_page(struct wbuf *b, const uint8_t *base, uint64_t pfn, uint64_t *n)
{
	const uint8_t *p = base + (pfn << 12);
	if (page_zero(p))
		return;
	wb_u64(b, pfn);
	wb_put(b, p, PAGE);
	(*n)++;
}

/* Without /proc/self/pagemap: the resident pages (mincore), after asking
 * the kernel to bring swapped-out ones back (MADV_WILLNEED). */
static tdxsim_err put_ram_mincore(tdxsim *s, struct wbuf *b, size_t at_n)
{
	struct phys_mem *m = &s->mem;
	uint64_t pages = m->size >> 12, n = 0;
	enum { CHUNK = 1 << 18 };
	unsigned char *vec = malloc(CHUNK);
	if (!vec)
		return sim_error(s, TDXSIM_ERR_NOMEM, "snapshot: out of memory");
	madvise(m->base, m->size, MADV_WILLNEED);
	for (uint64_t pfn = 0; pfn < pages; pfn += CHUNK) {
		uint64_t cnt = pages - pfn < CHUNK ? pages - pfn : CHUNK;
		if (mincore(m->base + (pfn << 12), cnt << 12, vec)) {
			int e = errno;
			free(vec);
			return sim_error(s, TDXSIM_ERR_BACKEND, "snapshot: mincore: %s (errno %d)",
					 strerror(e), e);
		}
		for (uint64_t i = 0; i < cnt; i++)
			if (vec[i] & 1)
				put_page(b, m->base, pfn + i, &n);
	}
	free(vec);
	if (!b->oom)
		memcpy(b->p + at_n, &n, 8);
	return TDXSIM_OK;
}

/*
 * The PAGEMAP_SCAN ioctl of /proc/PID/pagemap (Linux 6.7): the populated
 * ranges of a mapping in a few calls, however sparse. Its ABI, for C
 * libraries whose headers predate it.
 */
struct snap_page_region {
	uint64_t start, end, categories;
};
struct snap_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define SNAP_PAGEMAP_SCAN _IOWR('f', 16, struct snap_pm_scan_arg)
#define SNAP_PAGE_IS_PRESENT (1u << 3)
#define SNAP_PAGE_IS_SWAPPED (1u << 4)

/* 0 and the pages put, or -1 if the kernel has no PAGEMAP_SCAN. */
static int put_ram_scan(struct phys_mem *m, struct wbuf *b, int fd, uint64_t *n)
{
	enum { NREG = 512 };
	struct snap_page_region reg[NREG];
	uint64_t base = (uint64_t)(uintptr_t)m->base, end = base + m->size, at = base;
	while (at < end) {
		struct snap_pm_scan_arg a = {
			.size = sizeof(a), .start = at, .end = end,
			.vec = (uint64_t)(uintptr_t)reg, .vec_len = NREG,
			.category_anyof_mask = SNAP_PAGE_IS_PRESENT | SNAP_PAGE_IS_SWAPPED,
			.return_mask = SNAP_PAGE_IS_PRESENT | SNAP_PAGE_IS_SWAPPED,
		};
		int got = ioctl(fd, SNAP_PAGEMAP_SCAN, &a);
		if (got < 0)
			return at == base ? -1 : -2;
		for (int i = 0; i < got; i++)
			for (uint64_t va = reg[i].start; va < reg[i].end; va += PAGE)
				put_page(b, m->base, (va - base) >> 12, n);
		if (a.walk_end <= at)
			return -2;
		at = a.walk_end;
	}
	return 0;
}

/*
 * Every non-zero page of RAM. Memory is a sparse reservation: only pages
 * the host kernel has (resident or swapped, /proc/self/pagemap) can hold
 * anything but zeros; with a memfd (checker mode), its data extents.
 */
static tdxsim_err put_ram(tdxsim *s, struct wbuf *b)
{
	struct phys_mem *m = &s->mem;
	uint64_t pages = m->size >> 12, n = 0;
	size_t at_n = b->len;
	wb_u64(b, 0);
	if (m->memfd >= 0) {
		off_t off = 0;
		for (;;) {
			off_t d = lseek(m->memfd, off, SEEK_DATA);
			if (d < 0)
				break;
			off_t h = lseek(m->memfd, d, SEEK_HOLE);
			if (h < 0)
				h = (off_t)m->size;
			for (uint64_t pfn = (uint64_t)d >> 12; pfn < ((uint64_t)h + PAGE - 1) >> 12 &&
			     pfn < pages; pfn++)
				put_page(b, m->base, pfn, &n);
			off = h;
			if ((uint64_t)off >= m->size)
				break;
		}
	} else {
		int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return put_ram_mincore(s, b, at_n);
		int rc = put_ram_scan(m, b, fd, &n);
		if (rc == 0) {
			close(fd);
			if (!b->oom)
				memcpy(b->p + at_n, &n, 8);
			return TDXSIM_OK;
		}
		if (rc == -2) {
			int e = errno;
			close(fd);
			return sim_error(s, TDXSIM_ERR_BACKEND, "snapshot: PAGEMAP_SCAN failed: %s (errno %d)",
					 strerror(e), e);
		}
		/* An older kernel: read the page map entry by entry. */
		enum { CHUNK = 8192 };
		uint64_t *ent = malloc(CHUNK * sizeof(*ent));
		if (!ent) {
			close(fd);
			return sim_error(s, TDXSIM_ERR_NOMEM, "snapshot: out of memory");
		}
		uint64_t vpn0 = (uint64_t)(uintptr_t)m->base >> 12;
		for (uint64_t pfn = 0; pfn < pages; pfn += CHUNK) {
			uint64_t cnt = pages - pfn < CHUNK ? pages - pfn : CHUNK;
			ssize_t got = pread(fd, ent, cnt * 8, (off_t)((vpn0 + pfn) * 8));
			if (got != (ssize_t)(cnt * 8)) {
				int e = got < 0 ? errno : EIO;
				free(ent);
				close(fd);
				return sim_error(s, TDXSIM_ERR_BACKEND, "snapshot: reading /proc/self/pagemap: "
						 "%s (errno %d)", strerror(e), e);
			}
			for (uint64_t i = 0; i < cnt; i++)
				if (ent[i] >> 62)       /* present or swapped */
					put_page(b, m->base, pfn + i, &n);
		}
		free(ent);
		close(fd);
	}
	if (!b->oom)
		memcpy(b->p + at_n, &n, 8);
	return TDXSIM_OK;
}

/* Pages that are not PAGE_SHARED, and the line bytes of MIXED ones. */
static void put_meta(tdxsim *s, struct wbuf *b)
{
	struct phys_mem *m = &s->mem;
	uint64_t pages = m->size >> 12, n = 0;
	size_t at_n = b->len;
	wb_u64(b, 0);
	const uint64_t *w = (const uint64_t *)m->page_meta;
	for (uint64_t i = 0; i < pages / 8; i++) {
		if (!w[i])
			continue;
		for (uint64_t pfn = i * 8; pfn < i * 8 + 8; pfn++) {
			uint8_t st = m->page_meta[pfn];
			if (st == PAGE_SHARED)
				continue;
			wb_u64(b, pfn);
			wb_put(b, &st, 1);
			if (st == PAGE_MIXED)
				wb_put(b, &m->line_meta[pfn << 6], 64);
			n++;
		}
	}
	if (!b->oom)
		memcpy(b->p + at_n, &n, 8);
}

/* Any LP inside a SEAMCALL? */
static int in_flight(tdxsim *s)
{
	for (uint32_t i = 0; i < s->n_lps; i++)
		if (atomic_load(&s->lps[i].seam.busy))
			return 1;
	return 0;
}

/* Every lazily zeroed or lazy-plaintext page gets its ciphertext. */
static void settle_all(tdxsim *s)
{
	for (uint32_t k = 0; k < s->n_keyslots; k++) {
		struct sim_keyslot *ks = &s->keys[k];
		uint64_t hi = atomic_load(&ks->lazy_hi), lo = ~atomic_load(&ks->lazy_lo_inv);
		if (hi > lo)
			sim_mem_settle(s, NULL, lo << 12, (hi - lo) << 12);
	}
}

/* Runner images of every vCPU (in list order), engines rebuilt from them. */
struct images {
	struct seam_run_image *img;
	uint32_t n;
};

static void images_free(struct images *im)
{
	for (uint32_t i = 0; i < im->n; i++)
		free(im->img[i].ctx);
	free(im->img);
	im->img = NULL;
	im->n = 0;
}

static tdxsim_err quiesce(tdxsim *s, struct images *im)
{
	struct seam_module *m = &s->mod;
	uint32_t n = 0;
	memset(im, 0, sizeof(*im));
	for (struct seam_vcpu *v = m->all_vcpus; v; v = v->all_next)
		n++;
	if (n && !(im->img = calloc(n, sizeof(*im->img))))
		return sim_error(s, TDXSIM_ERR_NOMEM, "snapshot: out of memory");
	im->n = n;
	uint32_t i = 0;
	for (struct seam_vcpu *v = m->all_vcpus; v; v = v->all_next, i++)
		if (seam_run_image_get(v, &im->img[i]) < 0) {
			images_free(im);
			return sim_error(s, TDXSIM_ERR_NOMEM, "snapshot: out of memory (vCPU image)");
		}
	/* All or nothing: the new engines are built beside the old ones, which
	 * stay in place if any fails (the handle is then as it was). */
	int rc = seam_run_rebuild_all(s, im->img, im->n);
	if (rc) {
		images_free(im);
		return sim_error(s, rc == -1 ? TDXSIM_ERR_NOMEM : TDXSIM_ERR_BACKEND,
				 "snapshot: cannot build the vCPUs' new engines (%s); nothing saved, "
				 "the handle is unchanged", rc == -1 ? "out of memory" : "Unicorn error");
	}
	settle_all(s);
	return TDXSIM_OK;
}

static tdxsim_err snapshot_build(tdxsim *s, struct wbuf *b)
{
	struct seam_module *m = &s->mod;
	struct images im;
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (in_flight(s))
		return sim_error(s, TDXSIM_ERR_STATE, "snapshot: a SEAMCALL is in flight");
	tdxsim_err err = quiesce(s, &im);
	if (err)
		return err;
	memset(b, 0, sizeof(*b));
	wb_room(b, SNAP_HDR_BYTES);

	/* CONF */
	struct snap_conf conf;
	conf_fill(s, &conf);
	sec_begin(b, SEC_CONF);
	wb_put(b, &conf, sizeof(conf));
	sec_end(b);

	/* MACH */
	sec_begin(b, SEC_MACH);
	wb_u64(b, atomic_load(&s->seq));
	wb_u64(b, s->fault_seed);
	wb_u32(b, (uint32_t)atomic_load(&s->n_faults));
	wb_put(b, s->faults, sizeof(s->faults));
	for (uint32_t i = 0; i < s->n_lps; i++)
		PUT_RAW(b, s->lps[i], memset(&tmp_.crypt, 0, sizeof(tmp_.crypt)));
	for (uint32_t k = 0; k < s->n_keyslots; k++) {
		wb_put(b, s->keys[k].key, SIM_KEY_BYTES);
		wb_u32(b, atomic_load(&s->keys[k].gen));
	}
	sec_end(b);

	/* MODU */
	sec_begin(b, SEC_MODU);
	PUT_RAW(b, *m, (tmp_.pkg_key_configured = NULL, tmp_.kot = NULL, tmp_.wbt = NULL,
			tmp_.obj = NULL, tmp_.all_tds = NULL, tmp_.all_vcpus = NULL,
			memset(&tmp_.obj_mutex, 0, sizeof(tmp_.obj_mutex)),
			atomic_store(&tmp_.n_mirrors, 0), atomic_store(&tmp_.hold_gen, 0)));
	wb_put(b, m->pkg_key_configured, s->n_pkgs);
	wb_put(b, m->kot, (size_t)s->n_keyslots * sizeof(*m->kot));
	wb_put(b, m->wbt, (size_t)s->n_pkgs * sizeof(*m->wbt));
	sec_end(b);

	/* TDS */
	sec_begin(b, SEC_TDS);
	uint32_t n = 0;
	for (struct seam_td *td = m->all_tds; td; td = td->all_next)
		n++;
	wb_u32(b, n);
	for (struct seam_td *td = m->all_tds; td; td = td->all_next) {
		PUT_RAW(b, *td, (tmp_.all_next = tmp_.all_prev = NULL, tmp_.vcpus = NULL,
				 atomic_store(&tmp_.run, NULL)));
		uint32_t slots = td->vcpus ? td->max_vcpus : 0;
		wb_u32(b, slots);
		for (uint32_t i = 0; i < slots; i++)
			wb_u64(b, td->vcpus[i] ? td->vcpus[i]->tdvpr_pa : 0);
	}
	sec_end(b);

	/* VCPU */
	sec_begin(b, SEC_VCPU);
	wb_u32(b, im.n);
	uint32_t i = 0;
	for (struct seam_vcpu *v = m->all_vcpus; v; v = v->all_next, i++) {
		wb_u64(b, v->td->tdr_pa);
		PUT_RAW(b, *v, (tmp_.all_next = tmp_.all_prev = NULL, tmp_.td = NULL, tmp_.run = NULL));
		const struct seam_run_image *img = &im.img[i];
		wb_u32(b, img->ctx ? 1 : 0);
		if (img->ctx) {
			struct seam_run_image ic = *img;
			ic.ctx = NULL;
			wb_put(b, &ic, sizeof(ic));
			wb_put(b, img->ctx, img->ctx_len);
		}
	}
	sec_end(b);
	images_free(&im);

	/* RAM */
	sec_begin(b, SEC_RAM);
	err = put_ram(s, b);
	if (err) {
		free(b->p);
		return err;
	}
	sec_end(b);

	/* META */
	sec_begin(b, SEC_META);
	put_meta(s, b);
	sec_end(b);

	sec_begin(b, SEC_END);
	sec_end(b);

	if (b->oom) {
		free(b->p);
		return sim_error(s, TDXSIM_ERR_NOMEM, "snapshot: out of memory (%zu bytes so far)", b->len);
	}
	uint8_t *h = b->p;
	uint32_t ver = SNAP_FORMAT_VERSION, hb = SNAP_HDR_BYTES, tv = TDXSIM_VERSION_HEX;
	uint64_t total = b->len;
	memset(h, 0, SNAP_HDR_BYTES);
	memcpy(h, SNAP_MAGIC, 8);
	memcpy(h + 8, &ver, 4);
	memcpy(h + 12, &hb, 4);
	memcpy(h + 16, &tv, 4);
	memcpy(h + 20, &b->n_sec, 4);
	memcpy(h + 24, &total, 8);
	sha256(h, 64, h + 64);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_snapshot_save(tdxsim *s, void **buf, size_t *len)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!buf || !len)
		return sim_error(s, TDXSIM_ERR_ARG, "snapshot: buf or len is NULL");
	*buf = NULL;
	*len = 0;
	struct wbuf b;
	tdxsim_err err = snapshot_build(s, &b);
	if (err)
		return err;
	*buf = b.p;
	*len = b.len;
	return TDXSIM_OK;
}

void tdxsim_snapshot_free(void *buf)
{
	free(buf);
}

/* ---- Reading ------------------------------------------------------------------ */

struct rd {
	const uint8_t *p;
	uint64_t len, off;
	uint64_t file_off;              /* of p[0] in the snapshot */
	const char *sec;
	tdxsim_err err;
	char msg[240];
};

static void rd_fail_err(struct rd *r, tdxsim_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void rd_fail_err(struct rd *r, tdxsim_err err, const char *fmt, ...)
{
	if (r->err)
		return;
	r->err = err;
	int n = snprintf(r->msg, sizeof(r->msg), "snapshot section %s, offset 0x%llx: ", r->sec,
			 (unsigned long long)(r->file_off + r->off));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}
#define rd_fail(r, ...) rd_fail_err((r), TDXSIM_ERR_ARG, __VA_ARGS__)

static const uint8_t *rd_ptr(struct rd *r, uint64_t n, const char *what)
{
	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		rd_fail(r, "%s (%llu bytes) runs past the end of the section (%llu bytes left)", what,
			(unsigned long long)n, (unsigned long long)(r->len - r->off));
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static int rd_get(struct rd *r, void *dst, uint64_t n, const char *what)
{
	const uint8_t *p = rd_ptr(r, n, what);
	if (!p) {
		memset(dst, 0, n);
		return -1;
	}
	memcpy(dst, p, n);
	return 0;
}

static uint32_t rd_u32(struct rd *r, const char *what)
{
	uint32_t v = 0;
	rd_get(r, &v, 4, what);
	return v;
}

static uint64_t rd_u64(struct rd *r, const char *what)
{
	uint64_t v = 0;
	rd_get(r, &v, 8, what);
	return v;
}

/* The sections of a snapshot, located and checksummed. */
struct snap {
	const uint8_t *p;
	uint64_t len;
	struct { const uint8_t *p; uint64_t len, off; } sec[SEC_N];
};

static tdxsim_err fail_msg(char *msg, size_t cap, tdxsim_err err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static tdxsim_err fail_msg(char *msg, size_t cap, tdxsim_err err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
	return err;
}

/* Header, section table and checksums. */
static tdxsim_err snap_parse(const void *buf, size_t len, struct snap *sn, char *msg, size_t cap)
{
	const uint8_t *p = buf;
	memset(sn, 0, sizeof(*sn));
	sn->p = p;
	sn->len = len;
	if (!buf)
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: buffer is NULL");
	if (len < 8 || memcmp(p, SNAP_MAGIC, 8))
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: not a tdxsim snapshot (no \"%s\" "
				"magic at offset 0)", SNAP_MAGIC);
	if (len < SNAP_HDR_BYTES)
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: truncated: %zu bytes, shorter than "
				"the %u-byte header", len, SNAP_HDR_BYTES);
	uint32_t ver, hb, tv, nsec;
	uint64_t total;
	memcpy(&ver, p + 8, 4);
	memcpy(&hb, p + 12, 4);
	memcpy(&tv, p + 16, 4);
	memcpy(&nsec, p + 20, 4);
	memcpy(&total, p + 24, 8);
	uint8_t h[32];
	sha256(p, 64, h);
	if (memcmp(h, p + 64, 32))
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: header checksum mismatch "
				"(bytes 0x0-0x3f corrupted)");
	if (ver != SNAP_FORMAT_VERSION || hb != SNAP_HDR_BYTES)
		return fail_msg(msg, cap, TDXSIM_ERR_VERSION, "snapshot: format version %u (header %u "
				"bytes); this library reads version %u", ver, hb, SNAP_FORMAT_VERSION);
	if (tv != TDXSIM_VERSION_HEX)
		return fail_msg(msg, cap, TDXSIM_ERR_VERSION, "snapshot: written by tdxsim %u.%u.%u, "
				"this is %s", tv >> 16, (tv >> 8) & 0xFF, tv & 0xFF,
				TDXSIM_VERSION_STRING);
	if (total != len)
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: %s: %zu bytes, the header says "
				"%llu", total > len ? "truncated" : "trailing data", len,
				(unsigned long long)total);
	if (nsec != SEC_N)
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: %u sections, expected %u", nsec,
				SEC_N);
	uint64_t off = SNAP_HDR_BYTES;
	for (unsigned i = 0; i < SEC_N; i++) {
		if (len - off < SNAP_SEC_HDR_BYTES)
			return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: section %u (%s) header at "
					"offset 0x%llx runs past the end", i, sec_name[i],
					(unsigned long long)off);
		const uint8_t *sh = p + off;
		uint32_t idx;
		uint64_t n;
		memcpy(&idx, sh + 4, 4);
		memcpy(&n, sh + 8, 8);
		if (memcmp(sh, sec_tag[i], 4) || idx != i)
			return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: offset 0x%llx: expected "
					"section %u \"%s\", found \"%.4s\" #%u",
					(unsigned long long)off, i, sec_tag[i],
					(const char *)sh, idx);
		if (n > len - off - SNAP_SEC_HDR_BYTES)
			return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: section %s at offset 0x%llx: "
					"%llu bytes run past the end", sec_name[i],
					(unsigned long long)off, (unsigned long long)n);
		sha256(sh + SNAP_SEC_HDR_BYTES, n, h);
		if (memcmp(h, sh + 16, 32))
			return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: section %s (offset 0x%llx, "
					"%llu bytes): checksum mismatch (corrupted)", sec_name[i],
					(unsigned long long)off, (unsigned long long)n);
		sn->sec[i].p = sh + SNAP_SEC_HDR_BYTES;
		sn->sec[i].len = n;
		sn->sec[i].off = off + SNAP_SEC_HDR_BYTES;
		off += SNAP_SEC_HDR_BYTES + n;
	}
	if (off != len)
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: %llu bytes after the END section",
				(unsigned long long)(len - off));
	return TDXSIM_OK;
}

static void rd_open(struct rd *r, const struct snap *sn, unsigned id)
{
	memset(r, 0, sizeof(*r));
	r->p = sn->sec[id].p;
	r->len = sn->sec[id].len;
	r->file_off = sn->sec[id].off;
	r->sec = sec_name[id];
}

static void rd_done(struct rd *r)
{
	if (!r->err && r->off != r->len)
		rd_fail(r, "%llu unexpected bytes at the end of the section",
			(unsigned long long)(r->len - r->off));
}

/* The configuration a snapshot was taken with (CONF), as tdxsim_open takes it. */
static tdxsim_err conf_to_config(const struct snap_conf *c, tdxsim_config *g, char *msg, size_t cap)
{
	char name[sizeof(c->platform) + 1] = { 0 };
	memcpy(name, c->platform, sizeof(c->platform));
	const tdxsim_platform *p = tdxsim_platform_find(name);
	if (!p)
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot section CONF: unknown platform "
				"\"%s\"", name);
	if (c->n_cmrs > TDX_MAX_CMRS)
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot section CONF: %u CMRs", c->n_cmrs);
	memset(g, 0, sizeof(*g));
	g->size = sizeof(*g);
	g->flags = c->flags | TDXSIM_CFG_FEATURES0_SET;
	g->platform = p->name;
	g->packages = c->packages;
	g->lps_per_package = c->lps_per_package;
	g->mem_bytes = c->mem_bytes;
	g->n_cmrs = c->n_cmrs;
	for (uint32_t i = 0; i < c->n_cmrs; i++)
		g->cmrs[i] = (tdxsim_range){ c->cmrs[i][0], c->cmrs[i][1] };
	g->mktme_keyids = c->mktme_keyids;
	g->tdx_keyids = c->tdx_keyids;
	g->module_major = c->module_major;
	g->module_minor = c->module_minor;
	g->module_update = c->module_update;
	g->tdx_features0 = c->tdx_features0;
	g->seed = c->seed;
	return TDXSIM_OK;
}

/* CONF against the handle: the build layout, then the configuration. */
static void check_conf(tdxsim *s, struct rd *r)
{
	struct snap_conf c, h;
	if (r->len != sizeof(c)) {
		/* A layout mismatch, as tdxsim_snapshot_config says. */
		rd_fail_err(r, TDXSIM_ERR_VERSION, "%llu bytes, this build's is %zu (a different "
			    "tdxsim build)", (unsigned long long)r->len, sizeof(c));
		return;
	}
	rd_get(r, &c, sizeof(c), "configuration");
	rd_done(r);
	if (r->err)
		return;
	conf_fill(s, &h);
	static const struct { size_t off; const char *name; } layout[] = {
		{ offsetof(struct snap_conf, sz_lp), "struct sim_lp" },
		{ offsetof(struct snap_conf, sz_fault), "struct sim_fault" },
		{ offsetof(struct snap_conf, sz_module), "struct seam_module" },
		{ offsetof(struct snap_conf, sz_td), "struct seam_td" },
		{ offsetof(struct snap_conf, sz_vcpu), "struct seam_vcpu" },
		{ offsetof(struct snap_conf, sz_kot), "struct seam_kot_entry" },
		{ offsetof(struct snap_conf, sz_wbt), "struct seam_wbt" },
		{ offsetof(struct snap_conf, sz_key), "struct sim_keyslot" },
		{ offsetof(struct snap_conf, max_faults), "TDXSIM_MAX_FAULTS" },
		{ offsetof(struct snap_conf, leaf_max), "TDX_SEAMCALL_LEAF_MAX" },
		{ offsetof(struct snap_conf, sz_image), "struct seam_run_image" },
	};
	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
		uint32_t a, b;
		memcpy(&a, (const uint8_t *)&c + layout[i].off, 4);
		memcpy(&b, (const uint8_t *)&h + layout[i].off, 4);
		if (a != b) {
			rd_fail_err(r, TDXSIM_ERR_VERSION, "snapshot from a different tdxsim build: %s "
				    "is %u there, %u here", layout[i].name, a, b);
			return;
		}
	}
	char a[sizeof(c.platform) + 1] = { 0 }, b[sizeof(h.platform) + 1] = { 0 };
	memcpy(a, c.platform, sizeof(c.platform));
	memcpy(b, h.platform, sizeof(h.platform));
#define DIFF(cond, ...) do { if (cond) { rd_fail_err(r, TDXSIM_ERR_STATE, \
	"configuration differs from the handle's: " __VA_ARGS__); return; } } while (0)
	DIFF(strcmp(a, b), "platform %s in the snapshot, %s here", a, b);
	DIFF(c.packages != h.packages || c.lps_per_package != h.lps_per_package,
	     "%u packages x %u LPs in the snapshot, %u x %u here", c.packages, c.lps_per_package,
	     h.packages, h.lps_per_package);
	DIFF(c.mem_bytes != h.mem_bytes || c.n_cmrs != h.n_cmrs || memcmp(c.cmrs, h.cmrs, sizeof(c.cmrs)),
	     "memory 0x%llx bytes in %u CMRs in the snapshot, 0x%llx in %u here",
	     (unsigned long long)c.mem_bytes, c.n_cmrs, (unsigned long long)h.mem_bytes, h.n_cmrs);
	DIFF(c.mktme_keyids != h.mktme_keyids || c.tdx_keyids != h.tdx_keyids,
	     "KeyIDs %u MKTME + %u TDX in the snapshot, %u + %u here", c.mktme_keyids,
	     c.tdx_keyids, h.mktme_keyids, h.tdx_keyids);
	DIFF(c.module_major != h.module_major || c.module_minor != h.module_minor ||
	     c.module_update != h.module_update,
	     "module %u.%u.%u in the snapshot, %u.%u.%u here", c.module_major, c.module_minor,
	     c.module_update, h.module_major, h.module_minor, h.module_update);
	DIFF(c.tdx_features0 != h.tdx_features0, "TDX_FEATURES0 0x%llx in the snapshot, 0x%llx here",
	     (unsigned long long)c.tdx_features0, (unsigned long long)h.tdx_features0);
	DIFF(c.flags != h.flags, "flags 0x%x in the snapshot, 0x%x here", c.flags, h.flags);
	DIFF(c.seed != h.seed, "seed 0x%llx in the snapshot, 0x%llx here",
	     (unsigned long long)c.seed, (unsigned long long)h.seed);
	DIFF(c.n_lps != h.n_lps || c.n_keyslots != h.n_keyslots || c.mem_span != h.mem_span,
	     "machine shape (%u LPs, %u KeyIDs, 0x%llx bytes of PA space) differs from %u, %u, 0x%llx",
	     c.n_lps, c.n_keyslots, (unsigned long long)c.mem_span, h.n_lps, h.n_keyslots,
	     (unsigned long long)h.mem_span);
#undef DIFF
}

/* Restore state, section by section. Each runs twice: apply = 0 checks
 * everything (nothing changes), apply = 1 writes the handle. */

/* A page address the module may use: 4 KiB aligned, inside simulated RAM,
 * no KeyID bits. */
static int pa_ok(const tdxsim *s, uint64_t pa)
{
	return !(pa & 4095) && pa < s->mem.size && !(s->keyid_bits && pa >> s->keyid_shift);
}

/* [base, base + size) inside RAM, page aligned, no KeyID bits. */
static int range_ok(const tdxsim *s, uint64_t base, uint64_t size)
{
	return !((base | size) & 4095) && base <= s->mem.size && size <= s->mem.size - base &&
	       !(s->keyid_bits && size && (base + size - 1) >> s->keyid_shift);
}

/* A bool or byte field of a structure read raw (not through its type: a
 * bool holding 2 is undefined behaviour). */
#define RAW_U8(obj, field) (((const uint8_t *)&(obj))[offsetof(__typeof__(obj), field)])
#define LOCK_FREE(l) (atomic_load(&(l).v) == 0)

/* An external interrupt word (struct seam_lp intr): 0, or valid + a vector. */
static int intr_ok(uint32_t w)
{
	return w == 0 || ((w & ~(SEAM_LP_INTR_VALID | 0xFFu)) == 0 && (w & SEAM_LP_INTR_VALID));
}

static void do_mach(tdxsim *s, struct rd *r, int apply)
{
	uint64_t seq = rd_u64(r, "sequence counter");
	uint64_t fseed = rd_u64(r, "fault seed");
	uint32_t nf = rd_u32(r, "fault count");
	const uint8_t *faults = rd_ptr(r, sizeof(s->faults), "fault plan");
	if (!r->err && nf > TDXSIM_MAX_FAULTS)
		rd_fail(r, "%u fault-plan entries (at most %d)", nf, TDXSIM_MAX_FAULTS);
	const uint8_t *lps = rd_ptr(r, (uint64_t)s->n_lps * sizeof(struct sim_lp), "LP states");
	const uint8_t *keys = rd_ptr(r, (uint64_t)s->n_keyslots * (SIM_KEY_BYTES + 4), "keys");
	rd_done(r);
	if (r->err)
		return;
	/* The plan's entries in use (those past the count are never read). */
	for (uint32_t i = 0; i < nf; i++) {
		struct sim_fault f;
		memcpy(&f, faults + (size_t)i * sizeof(f), sizeof(f));
		if (f.f.leaf < -1 || f.f.leaf >= TDX_SEAMCALL_LEAF_MAX || f.f.lp < -1 ||
		    f.f.lp >= (int32_t)s->n_lps) {
			rd_fail(r, "fault-plan entry %u: leaf %d or lp %d out of range", i, f.f.leaf,
				f.f.lp);
			return;
		}
	}
	for (uint32_t i = 0; i < s->n_lps; i++) {
		struct sim_lp l;
		memcpy(&l, lps + (size_t)i * sizeof(l), sizeof(l));
		uint32_t intr = atomic_load(&l.seam.intr);
		if (!intr_ok(intr) || l.intr_at_vec > 0xFF || RAW_U8(l.seam, lp_init_done) > 1 ||
		    (unsigned)atomic_load(&l.online) > 1) {
			rd_fail(r, "LP %u: interrupt 0x%x, intr_at_vec %u, lp_init_done or online out "
				"of range", i, intr, l.intr_at_vec);
			return;
		}
	}
	if (!apply)
		return;
	atomic_store(&s->seq, seq);
	s->fault_seed = fseed;
	memcpy(s->faults, faults, sizeof(s->faults));
	atomic_store(&s->n_faults, (int)nf);
	for (uint32_t i = 0; i < s->n_lps; i++) {
		struct sim_lp *lp = &s->lps[i];
		struct sim_crypt keep = lp->crypt;
		unsigned id = lp->id, pkg = lp->pkg;
		memcpy(lp, lps + (size_t)i * sizeof(*lp), sizeof(*lp));
		lp->crypt = keep;
		lp->id = id;
		lp->pkg = pkg;
		atomic_store(&lp->seam.busy, 0);
		/* Cached plaintext and keyed contexts belong to the old memory. */
		for (unsigned c = 0; c < SIM_CRYPT_CACHE; c++)
			lp->crypt.tags[c].pa = ~0ULL;
		lp->crypt.enc_keyid = lp->crypt.dec_keyid = 0;
		lp->crypt.enc_gen = lp->crypt.dec_gen = 0;
	}
	for (uint32_t k = 0; k < s->n_keyslots; k++) {
		const uint8_t *e = keys + (size_t)k * (SIM_KEY_BYTES + 4);
		uint32_t gen;
		memcpy(s->keys[k].key, e, SIM_KEY_BYTES);
		memcpy(&gen, e + SIM_KEY_BYTES, 4);
		atomic_store(&s->keys[k].gen, gen);
		atomic_store(&s->keys[k].lazy_lo_inv, 0);
		atomic_store(&s->keys[k].lazy_hi, 0);
	}
}

/* One TDMR as the module uses it: inside RAM, its PAMT blocks inside RAM
 * and large enough for every page of the TDMR (pamt_entry() indexes them). */
static void check_tdmr(tdxsim *s, struct rd *r, uint32_t i, const struct seam_tdmr *d)
{
	static const unsigned shift[3] = { 12, 21, 30 };
	static const char *const lvl[3] = { "4K", "2M", "1G" };
	if (!range_ok(s, d->base, d->size) || !d->size || d->n_rsvd > TDX_MAX_RESERVED_PER_TDMR ||
	    atomic_load(&d->init_off) > d->size) {
		rd_fail(r, "TDMR %u [0x%llx, +0x%llx): outside memory, or bad n_rsvd %u / init_off",
			i, (unsigned long long)d->base, (unsigned long long)d->size, d->n_rsvd);
		return;
	}
	for (int l = 0; l < 3; l++) {
		uint64_t need = ((d->size + (1ULL << shift[l]) - 1) >> shift[l]) * PAMT_ENTRY_SIZE;
		if (!range_ok(s, d->pamt_base[l], d->pamt_size[l]) || d->pamt_size[l] < need) {
			rd_fail(r, "TDMR %u: PAMT %s [0x%llx, +0x%llx) outside memory or smaller than "
				"the 0x%llx bytes its TDMR needs (pamt_base/pamt_size)", i, lvl[l],
				(unsigned long long)d->pamt_base[l],
				(unsigned long long)d->pamt_size[l], (unsigned long long)need);
			return;
		}
	}
	if (!LOCK_FREE(d->lock))
		rd_fail(r, "TDMR %u: lock word 0x%x held (no SEAMCALL is in flight at a save)", i,
			atomic_load(&d->lock.v));
}

static void do_modu(tdxsim *s, struct rd *r, int apply)
{
	struct seam_module *m = &s->mod;
	const struct seam_module *sm = (const void *)rd_ptr(r, sizeof(*m), "module state");
	const uint8_t *pkc = rd_ptr(r, s->n_pkgs, "package key state");
	const uint8_t *kot = rd_ptr(r, (uint64_t)s->n_keyslots * sizeof(*m->kot), "KOT");
	const uint8_t *wbt = rd_ptr(r, (uint64_t)s->n_pkgs * sizeof(*m->wbt), "WBT");
	rd_done(r);
	if (r->err)
		return;
	struct seam_module t;
	memcpy(&t, sm, sizeof(t));
	if (atomic_load(&t.state) > TDX_SYS_SHUTDOWN_STATE) {
		rd_fail(r, "module state %u unknown", atomic_load(&t.state));
		return;
	}
	if (!LOCK_FREE(t.global_lock) || !LOCK_FREE(t.kot_lock)) {
		rd_fail(r, "module global_lock 0x%x or kot_lock 0x%x held (no SEAMCALL is in flight "
			"at a save)", atomic_load(&t.global_lock.v), atomic_load(&t.kot_lock.v));
		return;
	}
	if (atomic_load(&t.lps_initialized) > s->n_lps || t.pkgs_configured > s->n_pkgs) {
		rd_fail(r, "lps_initialized %u or pkgs_configured %u out of range",
			atomic_load(&t.lps_initialized), t.pkgs_configured);
		return;
	}
	if (t.n_tdmrs > TDX_MAX_TDMRS) {
		rd_fail(r, "%u TDMRs (at most %d)", t.n_tdmrs, TDX_MAX_TDMRS);
		return;
	}
	for (uint32_t i = 0; i < t.n_tdmrs && !r->err; i++)
		check_tdmr(s, r, i, &t.tdmr[i]);
	if (r->err)
		return;
	if (t.hkid >= s->n_keyslots) {
		rd_fail(r, "global KeyID %u out of range", t.hkid);
		return;
	}
	for (uint32_t p = 0; p < s->n_pkgs; p++)
		if (pkc[p] > 1) {
			rd_fail(r, "package %u: key state %u (0 or 1)", p, pkc[p]);
			return;
		}
	uint32_t pkg_mask = s->n_pkgs >= 32 ? ~0u : (1u << s->n_pkgs) - 1;
	for (uint32_t k = 0; k < s->n_keyslots; k++) {
		struct seam_kot_entry e;
		memcpy(&e, kot + (size_t)k * sizeof(e), sizeof(e));
		if (atomic_load(&e.state) > KOT_RESERVED || (atomic_load(&e.wbinvd_bitmap) & ~pkg_mask)) {
			rd_fail(r, "KOT entry %u: state %u or wbinvd_bitmap 0x%x out of range", k,
				atomic_load(&e.state), atomic_load(&e.wbinvd_bitmap));
			return;
		}
	}
	for (uint32_t p = 0; p < s->n_pkgs; p++) {
		struct seam_wbt w;
		memcpy(&w, wbt + (size_t)p * sizeof(w), sizeof(w));
		if (!LOCK_FREE(w.lock) || w.in_progress > 1) {
			rd_fail(r, "WBT entry %u: lock word 0x%x held or in_progress %u", p,
				atomic_load(&w.lock.v), w.in_progress);
			return;
		}
	}
	if (!apply)
		return;
	struct seam_module keep = *m;
	memcpy(m, &t, sizeof(*m));
	m->pkg_key_configured = keep.pkg_key_configured;
	m->kot = keep.kot;
	m->wbt = keep.wbt;
	m->obj = keep.obj;
	m->obj_pages = keep.obj_pages;
	memcpy(&m->obj_mutex, &keep.obj_mutex, sizeof(m->obj_mutex));
	m->all_tds = keep.all_tds;
	m->all_vcpus = keep.all_vcpus;
	atomic_store(&m->n_mirrors, atomic_load(&keep.n_mirrors));
	atomic_store(&m->hold_gen, atomic_load(&keep.hold_gen));
	memcpy(m->md_class_head, keep.md_class_head, sizeof(m->md_class_head));
	memcpy(m->md_class_next, keep.md_class_next, sizeof(m->md_class_next));
	memcpy(m->pkg_key_configured, pkc, s->n_pkgs);
	memcpy(m->kot, kot, (size_t)s->n_keyslots * sizeof(*m->kot));
	memcpy(m->wbt, wbt, (size_t)s->n_pkgs * sizeof(*m->wbt));
}

/* TDs and vCPUs: checked together (each vCPU's TD, each slot's vCPU), with
 * sorted tables of their page addresses (n log n). */
struct obj_ent {
	uint64_t pa;
	uint32_t idx;                   /* in the file */
	uint32_t aux;                   /* TD: max_vcpus; vCPU: its TD's index, vcpu_index */
	uint32_t aux2;
};
struct objs {
	struct obj_ent *td, *vcpu;      /* sorted by pa */
	uint32_t n_td, n_vcpu;
};

static int ent_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct obj_ent *)a)->pa, y = ((const struct obj_ent *)b)->pa;
	return x < y ? -1 : x > y;
}

static const struct obj_ent *ent_find(const struct obj_ent *a, uint32_t n, uint64_t pa)
{
	struct obj_ent key = { .pa = pa };
	return n ? bsearch(&key, a, n, sizeof(*a), ent_cmp) : NULL;
}

/* Sorted, and the first address found twice (0: none). */
static int ent_sort_dup(struct obj_ent *a, uint32_t n, uint64_t *dup)
{
	qsort(a, n, sizeof(*a), ent_cmp);
	for (uint32_t i = 1; i < n; i++)
		if (a[i].pa == a[i - 1].pa) {
			*dup = a[i].pa;
			return 1;
		}
	return 0;
}

/* Every entry of a page-address array: a usable page address. */
static int pas_ok(const tdxsim *s, const uint64_t *pa, unsigned n, unsigned *bad)
{
	for (unsigned k = 0; k < n; k++)
		if (!pa_ok(s, pa[k])) {
			*bad = k;
			return 0;
		}
	return 1;
}

static void check_td(tdxsim *s, struct rd *r, uint32_t i, const struct seam_td *td, uint32_t slots)
{
	unsigned k;
#define TDFAIL(...) do { rd_fail(r, "TD %u (TDR 0x%llx): " __VA_ARGS__); return; } while (0)
	unsigned long long tdr = td->tdr_pa;
	if (!pa_ok(s, td->tdr_pa))
		TDFAIL("tdr_pa not a page address in RAM", i, tdr);
	if (td->obj_type != SEAM_OBJ_TD)
		TDFAIL("obj_type %u", i, tdr, td->obj_type);
	if (td->hkid >= s->n_keyslots)
		TDFAIL("hkid %u out of range", i, tdr, td->hkid);
	if (td->num_tdcx > TD_TDCS_MAX_PAGES)
		TDFAIL("num_tdcx %u (at most %d)", i, tdr, td->num_tdcx, TD_TDCS_MAX_PAGES);
	if (!pas_ok(s, td->tdcx_pa, TD_TDCS_MAX_PAGES, &k))
		TDFAIL("tdcx_pa[%u] 0x%llx not a page address in RAM", i, tdr, k,
		       (unsigned long long)td->tdcx_pa[k]);
	uint8_t op = RAW_U8(*td, op_state), lc = RAW_U8(*td, lifecycle);
	if (lc > TD_TEARDOWN || op >= OP_STATE_COUNT || RAW_U8(*td, fatal) > 1 || RAW_U8(*td, gpaw) > 1)
		TDFAIL("lifecycle %u, op_state %u, fatal or gpaw out of range", i, tdr, lc, op);
	if (!(td->ept_levels == 4 || td->ept_levels == 5 ||
	      (td->ept_levels == 0 && op == OP_UNINITIALIZED)))
		TDFAIL("ept_levels %u (4 or 5)", i, tdr, td->ept_levels);
	if (slots && slots != td->max_vcpus)
		TDFAIL("%u vCPU slots, max_vcpus %u", i, tdr, slots, td->max_vcpus);
	if (atomic_load(&td->num_vcpus) > td->max_vcpus ||
	    atomic_load(&td->num_init_vcpus) > td->max_vcpus ||
	    atomic_load(&td->num_assoc_vcpus) > td->max_vcpus)
		TDFAIL("num_vcpus %u, num_init_vcpus %u or num_assoc_vcpus %u above max_vcpus %u", i,
		       tdr, atomic_load(&td->num_vcpus), atomic_load(&td->num_init_vcpus),
		       atomic_load(&td->num_assoc_vcpus), td->max_vcpus);
	const struct { const seam_lock_t *l; const char *name; } locks[] = {
		{ &td->op_state_lock, "op_state_lock" }, { &td->sept_lock, "sept_lock" },
		{ &td->epoch_lock, "epoch_lock" }, { &td->sept_entry_guard, "sept_entry_guard" },
		{ &td->rtmr_lock, "rtmr_lock" },
	};
	for (k = 0; k < sizeof(locks) / sizeof(locks[0]); k++)
		if (!LOCK_FREE(*locks[k].l))
			TDFAIL("%s word 0x%x held (no SEAMCALL is in flight at a save)", i, tdr,
			       locks[k].name, atomic_load(&locks[k].l->v));
	for (k = 0; k < 64; k++)
		if (td->sept_locked[k])
			TDFAIL("sept_locked[%u] = 0x%llx (no SEAMCALL is in flight at a save)", i, tdr,
			       k, (unsigned long long)td->sept_locked[k]);
#undef TDFAIL
}

static void scan_tds(tdxsim *s, struct rd *r, struct objs *o)
{
	uint32_t n = rd_u32(r, "TD count");
	if (r->err)
		return;
	if ((uint64_t)n * sizeof(struct seam_td) > r->len) {
		rd_fail(r, "%u TDs do not fit in the section", n);
		return;
	}
	o->td = calloc(n ? n : 1, sizeof(*o->td));
	if (!o->td) {
		rd_fail_err(r, TDXSIM_ERR_NOMEM, "out of memory");
		return;
	}
	for (uint32_t i = 0; i < n && !r->err; i++) {
		struct seam_td td;
		rd_get(r, &td, sizeof(td), "TD");
		uint32_t slots = rd_u32(r, "vCPU slot count");
		rd_ptr(r, (uint64_t)slots * 8, "vCPU slots");
		if (r->err)
			return;
		check_td(s, r, i, &td, slots);
		o->td[i] = (struct obj_ent){ .pa = td.tdr_pa, .idx = i, .aux = td.max_vcpus };
		o->n_td = i + 1;
	}
	uint64_t dup;
	if (!r->err && ent_sort_dup(o->td, o->n_td, &dup))
		rd_fail(r, "two TDs with TDR 0x%llx", (unsigned long long)dup);
	rd_done(r);
}

static void check_vcpu(tdxsim *s, struct rd *r, uint32_t i, const struct seam_vcpu *v,
		       const struct obj_ent *td)
{
	unsigned k;
#define VFAIL(...) do { rd_fail(r, "vCPU %u (TDVPR 0x%llx): " __VA_ARGS__); return; } while (0)
	unsigned long long pa = v->tdvpr_pa;
	if (!pa_ok(s, v->tdvpr_pa))
		VFAIL("tdvpr_pa not a page address in RAM", i, pa);
	if (v->obj_type != SEAM_OBJ_VCPU)
		VFAIL("obj_type %u", i, pa, v->obj_type);
	if (v->num_tdcx > TD_TDVPS_MAX_PAGES)
		VFAIL("num_tdcx %u (at most %d)", i, pa, v->num_tdcx, TD_TDVPS_MAX_PAGES);
	if (!pas_ok(s, v->tdcx_pa, TD_TDVPS_MAX_PAGES, &k))
		VFAIL("tdcx_pa[%u] 0x%llx not a page address in RAM", i, pa, k,
		      (unsigned long long)v->tdcx_pa[k]);
	uint8_t st = RAW_U8(*v, state);
	if (st != VCPU_UNINITIALIZED && st != VCPU_READY && st != VCPU_ACTIVE && st != VCPU_DISABLED &&
	    st != VCPU_IMPORT)
		VFAIL("state 0x%x unknown", i, pa, st);
	int32_t lp = atomic_load(&v->assoc_lp);
	if (lp < -1 || lp >= (int32_t)s->n_lps)
		VFAIL("assoc_lp %d out of range", i, pa, lp);
	if (v->vcpu_index >= (td->aux ? td->aux : 1))
		VFAIL("vcpu_index %u, its TD's max_vcpus %u", i, pa, v->vcpu_index, td->aux);
	if (!LOCK_FREE(v->lock))
		VFAIL("lock word 0x%x held (no SEAMCALL is in flight at a save)", i, pa,
		      atomic_load(&v->lock.v));
	if (RAW_U8(*v, launched) > 1 || RAW_U8(*v, ve_valid) > 1 || v->cpuid_ve > 3)
		VFAIL("launched, ve_valid or cpuid_ve out of range", i, pa);
#undef VFAIL
}

static void scan_vcpus(tdxsim *s, struct rd *r, struct objs *o)
{
	size_t ctx_size = 0;            /* known only to an engine: asked once, if needed */
	uint32_t n = rd_u32(r, "vCPU count");
	if (r->err)
		return;
	if ((uint64_t)n * sizeof(struct seam_vcpu) > r->len) {
		rd_fail(r, "%u vCPUs do not fit in the section", n);
		return;
	}
	o->vcpu = calloc(n ? n : 1, sizeof(*o->vcpu));
	if (!o->vcpu) {
		rd_fail_err(r, TDXSIM_ERR_NOMEM, "out of memory");
		return;
	}
	for (uint32_t i = 0; i < n && !r->err; i++) {
		uint64_t tdr = rd_u64(r, "vCPU's TDR");
		struct seam_vcpu v;
		rd_get(r, &v, sizeof(v), "vCPU");
		uint32_t has = rd_u32(r, "image flag");
		if (r->err)
			return;
		const struct obj_ent *td = ent_find(o->td, o->n_td, tdr);
		if (!td || has > 1) {
			rd_fail(r, "vCPU %u (TDVPR 0x%llx): TD 0x%llx not in the snapshot, or image flag "
				"%u", i, (unsigned long long)v.tdvpr_pa, (unsigned long long)tdr, has);
			return;
		}
		check_vcpu(s, r, i, &v, td);
		if (!r->err && ent_find(o->td, o->n_td, v.tdvpr_pa))
			rd_fail(r, "vCPU %u: TDVPR 0x%llx is also a TDR", i,
				(unsigned long long)v.tdvpr_pa);
		if (has && !r->err) {
			struct seam_run_image img;
			rd_get(r, &img, sizeof(img), "runner image");
			if (!ctx_size)
				ctx_size = seam_run_ctx_size();
			if (!r->err && img.ctx_len != ctx_size) {
				rd_fail_err(r, TDXSIM_ERR_VERSION, "vCPU %u: CPU context of %u bytes, this "
					    "Unicorn's is %zu (another Unicorn build)", i, img.ctx_len,
					    ctx_size);
				return;
			}
			if (!r->err && (img.pend_vec > 0xFF || img.vmcall_pending > 1 ||
					img.pend_valid > 1 || img.pend_has_err > 1 || img.locate > 1)) {
				rd_fail(r, "vCPU %u: runner image pend_vec %u or a flag out of range", i,
					img.pend_vec);
				return;
			}
			rd_ptr(r, img.ctx_len, "CPU context");
		}
		o->vcpu[i] = (struct obj_ent){ .pa = v.tdvpr_pa, .idx = i, .aux = td->idx,
					       .aux2 = v.vcpu_index };
		o->n_vcpu = i + 1;
	}
	uint64_t dup;
	if (!r->err && ent_sort_dup(o->vcpu, o->n_vcpu, &dup))
		rd_fail(r, "two vCPUs with TDVPR 0x%llx", (unsigned long long)dup);
	rd_done(r);
}

/* Slots of every TD name vCPUs of the file: of that TD, with that index. */
static void check_slots(struct rd *r, const struct objs *o)
{
	uint32_t n = rd_u32(r, "TD count");
	for (uint32_t i = 0; i < n && !r->err; i++) {
		rd_ptr(r, sizeof(struct seam_td), "TD");
		uint32_t slots = rd_u32(r, "vCPU slot count");
		for (uint32_t k = 0; k < slots && !r->err; k++) {
			uint64_t pa = rd_u64(r, "vCPU slot");
			const struct obj_ent *v = pa ? ent_find(o->vcpu, o->n_vcpu, pa) : NULL;
			if (pa && (!v || v->aux != i || v->aux2 != k))
				rd_fail(r, "TD %u slot %u names TDVPR 0x%llx, not a vCPU of this TD with "
					"index %u in the snapshot", i, k, (unsigned long long)pa, k);
		}
	}
}

static void scan_ram(tdxsim *s, struct rd *r)
{
	uint64_t n = rd_u64(r, "page count"), prev = 0;
	if (!r->err && n > r->len / (PAGE + 8)) {
		rd_fail(r, "%llu pages do not fit in the section", (unsigned long long)n);
		return;
	}
	for (uint64_t i = 0; i < n && !r->err; i++) {
		uint64_t pfn = rd_u64(r, "page number");
		rd_ptr(r, PAGE, "page");
		if (!r->err && (pfn >= s->mem.size >> 12 || (i && pfn <= prev)))
			rd_fail(r, "page %llu: page number 0x%llx out of order or outside memory",
				(unsigned long long)i, (unsigned long long)pfn);
		prev = pfn;
	}
	rd_done(r);
}

static void scan_meta(tdxsim *s, struct rd *r)
{
	uint64_t n = rd_u64(r, "page count"), prev = 0;
	if (!r->err && n > r->len / 9) {
		rd_fail(r, "%llu entries do not fit in the section", (unsigned long long)n);
		return;
	}
	for (uint64_t i = 0; i < n && !r->err; i++) {
		uint64_t pfn = rd_u64(r, "page number");
		uint8_t st = 0;
		rd_get(r, &st, 1, "page state");
		if (r->err)
			return;
		if (pfn >= s->mem.size >> 12 || (i && pfn <= prev) || (st != PAGE_OWNED && st != PAGE_MIXED)) {
			rd_fail(r, "entry %llu: page 0x%llx state %u out of order, outside memory or unknown",
				(unsigned long long)i, (unsigned long long)pfn, st);
			return;
		}
		if (st == PAGE_MIXED) {
			const uint8_t *l = rd_ptr(r, 64, "line states");
			for (unsigned k = 0; l && k < 64; k++)
				if (l[k] & ~(PHYS_LINE_TD_OWNER | PHYS_LINE_POISON)) {
					rd_fail(r, "page 0x%llx line %u: state 0x%x unknown",
						(unsigned long long)pfn, k, l[k]);
					return;
				}
		}
		prev = pfn;
	}
	rd_done(r);
}

/* Simulated memory back to all zeros, every page SHARED, nothing lazy. */
static void mem_wipe(struct phys_mem *m)
{
	madvise(m->base, m->size, MADV_DONTNEED);
	madvise(m->page_meta, m->size >> 12, MADV_DONTNEED);
	madvise(m->line_meta, m->size >> 6, MADV_DONTNEED);
	madvise(m->page_ver, (m->size >> 12) * sizeof(uint32_t), MADV_DONTNEED);
	madvise(m->page_lazy, (m->size >> 12) * sizeof(uint16_t), MADV_DONTNEED);
	m->lazy_fresh = m->lazy_nfree = m->lazy_hand = 0;
	atomic_store(&m->lazy_used, 0);
}

static void apply_ram(tdxsim *s, struct rd *r)
{
	uint64_t n = rd_u64(r, "page count");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pfn = rd_u64(r, "page number");
		memcpy(phys_mem_ptr(&s->mem, pfn << 12), rd_ptr(r, PAGE, "page"), PAGE);
	}
}

static void apply_meta(tdxsim *s, struct rd *r)
{
	uint64_t n = rd_u64(r, "page count");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pfn = rd_u64(r, "page number");
		uint8_t st = 0;
		rd_get(r, &st, 1, "page state");
		if (st == PAGE_MIXED)
			memcpy(&s->mem.line_meta[pfn << 6], rd_ptr(r, 64, "line states"), 64);
		s->mem.page_meta[pfn] = st;
	}
}

static tdxsim_err apply_objs(tdxsim *s, const struct snap *sn)
{
	struct seam_module *m = &s->mod;
	struct rd r;
	/* TDs, created last to first: the module's list keeps the saved order. */
	rd_open(&r, sn, SEC_TDS);
	uint32_t n = rd_u32(&r, "TD count");
	const uint8_t **at = calloc(n ? n : 1, sizeof(*at));
	if (!at)
		return TDXSIM_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		at[i] = rd_ptr(&r, sizeof(struct seam_td), "TD");
		uint32_t slots = rd_u32(&r, "vCPU slot count");
		rd_ptr(&r, (uint64_t)slots * 8, "vCPU slots");
	}
	for (uint32_t i = n; i-- > 0;) {
		struct seam_td t;
		memcpy(&t, at[i], sizeof(t));
		struct seam_td *td = seam_td_alloc(m, t.tdr_pa, t.hkid);
		if (!td) {
			free(at);
			return TDXSIM_ERR_NOMEM;
		}
		t.all_next = td->all_next;
		t.all_prev = td->all_prev;
		t.vcpus = NULL;
		atomic_store(&t.run, NULL);
		memcpy(td, &t, sizeof(t));
	}
	free(at);
	/* vCPUs likewise. */
	rd_open(&r, sn, SEC_VCPU);
	n = rd_u32(&r, "vCPU count");
	struct vat { uint64_t tdr; const uint8_t *v; };
	struct vat *va = calloc(n ? n : 1, sizeof(*va));
	if (!va)
		return TDXSIM_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		va[i].tdr = rd_u64(&r, "vCPU's TDR");
		va[i].v = rd_ptr(&r, sizeof(struct seam_vcpu), "vCPU");
		if (rd_u32(&r, "image flag")) {
			struct seam_run_image img;
			rd_get(&r, &img, sizeof(img), "runner image");
			rd_ptr(&r, img.ctx_len, "CPU context");
		}
	}
	for (uint32_t i = n; i-- > 0;) {
		struct seam_vcpu t;
		memcpy(&t, va[i].v, sizeof(t));
		struct seam_td *td = seam_obj_get(m, va[i].tdr);
		struct seam_vcpu *v = seam_vcpu_alloc(m, td, t.tdvpr_pa);
		if (!v) {
			free(va);
			return TDXSIM_ERR_NOMEM;
		}
		t.all_next = v->all_next;
		t.all_prev = v->all_prev;
		t.td = td;
		t.run = NULL;
		memcpy(v, &t, sizeof(t));
	}
	free(va);
	/* The TDs' vCPU slots. */
	rd_open(&r, sn, SEC_TDS);
	n = rd_u32(&r, "TD count");
	struct seam_td *td = m->all_tds;
	for (uint32_t i = 0; i < n; i++, td = td->all_next) {
		rd_ptr(&r, sizeof(struct seam_td), "TD");
		uint32_t slots = rd_u32(&r, "vCPU slot count");
		if (slots && !(td->vcpus = calloc(slots, sizeof(*td->vcpus))))
			return TDXSIM_ERR_NOMEM;
		for (uint32_t k = 0; k < slots; k++) {
			uint64_t pa = rd_u64(&r, "vCPU slot");
			td->vcpus[k] = pa ? seam_obj_get(m, pa) : NULL;
		}
	}
	/* Engines from the runner images. */
	rd_open(&r, sn, SEC_VCPU);
	n = rd_u32(&r, "vCPU count");
	struct seam_vcpu *v = m->all_vcpus;
	for (uint32_t i = 0; i < n; i++, v = v->all_next) {
		rd_u64(&r, "vCPU's TDR");
		rd_ptr(&r, sizeof(struct seam_vcpu), "vCPU");
		if (!rd_u32(&r, "image flag"))
			continue;
		struct seam_run_image img;
		rd_get(&r, &img, sizeof(img), "runner image");
		img.ctx = (uint8_t *)rd_ptr(&r, img.ctx_len, "CPU context");
		if (seam_run_image_put(s, v, &img))
			return TDXSIM_ERR_BACKEND;
	}
	return TDXSIM_OK;
}

static tdxsim_err snapshot_restore(tdxsim *s, const void *buf, size_t len)
{
	struct snap sn;
	char msg[256];
	tdxsim_err err = snap_parse(buf, len, &sn, msg, sizeof(msg));
	if (err)
		return sim_error(s, err, "%s", msg);
	if (s->checker)
		return sim_error(s, TDXSIM_ERR_STATE, "snapshot: cannot restore into a handle in checker "
				 "mode (TDXSIM_CFG_CHECKER)");
	if (in_flight(s))
		return sim_error(s, TDXSIM_ERR_STATE, "snapshot: a SEAMCALL is in flight");

	/* Check everything first. */
	struct rd r;
	struct objs o = { 0 };
	rd_open(&r, &sn, SEC_CONF);
	check_conf(s, &r);
	if (!r.err) {
		rd_open(&r, &sn, SEC_MACH);
		do_mach(s, &r, 0);
	}
	if (!r.err) {
		rd_open(&r, &sn, SEC_MODU);
		do_modu(s, &r, 0);
	}
	if (!r.err) {
		rd_open(&r, &sn, SEC_TDS);
		scan_tds(s, &r, &o);
	}
	if (!r.err) {
		rd_open(&r, &sn, SEC_VCPU);
		scan_vcpus(s, &r, &o);
	}
	if (!r.err) {
		rd_open(&r, &sn, SEC_TDS);
		check_slots(&r, &o);
	}
	free(o.td);
	free(o.vcpu);
	if (!r.err) {
		rd_open(&r, &sn, SEC_RAM);
		scan_ram(s, &r);
	}
	if (!r.err) {
		rd_open(&r, &sn, SEC_META);
		scan_meta(s, &r);
	}
	if (!r.err) {
		rd_open(&r, &sn, SEC_END);
		rd_done(&r);
	}
	if (r.err)
		return sim_error(s, r.err, "%s", r.msg);

	/* Then replace the state. */
	seam_run_drop_all(s);
	seam_td_free_all(&s->mod);
	mem_wipe(&s->mem);
	rd_open(&r, &sn, SEC_RAM);
	apply_ram(s, &r);
	rd_open(&r, &sn, SEC_META);
	apply_meta(s, &r);
	rd_open(&r, &sn, SEC_MACH);
	do_mach(s, &r, 1);
	rd_open(&r, &sn, SEC_MODU);
	do_modu(s, &r, 1);
	err = apply_objs(s, &sn);
	if (err == TDXSIM_ERR_NOMEM)
		return sim_error(s, err, "snapshot: out of memory while restoring (the handle's state "
				 "is incomplete: close it)");
	if (err)
		return sim_error(s, err, "snapshot: cannot rebuild a vCPU's engine (the handle's state "
				 "is incomplete: close it)");
	return TDXSIM_OK;
}

tdxsim_err tdxsim_snapshot_restore(tdxsim *s, const void *buf, size_t len)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	return snapshot_restore(s, buf, len);
}

/* ---- Files -------------------------------------------------------------------- */

tdxsim_err tdxsim_snapshot_write(tdxsim *s, const char *path)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!path || !*path)
		return sim_error(s, TDXSIM_ERR_ARG, "snapshot: path is NULL or empty");
	struct wbuf b;
	tdxsim_err err = snapshot_build(s, &b);
	if (err)
		return err;
	/* Written next to path and renamed over it: never a half-written file. */
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 16);
	if (!tmp) {
		free(b.p);
		return sim_error(s, TDXSIM_ERR_NOMEM, "snapshot %s: out of memory", path);
	}
	snprintf(tmp, pl + 16, "%s.tmp%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int e = 0;
	if (fd < 0) {
		e = errno;
	} else {
		for (size_t done = 0; done < b.len && !e;) {
			ssize_t n = write(fd, b.p + done, b.len - done);
			if (n < 0 && errno != EINTR)
				e = errno;
			else if (n > 0)
				done += (size_t)n;
		}
		if (close(fd) && !e)
			e = errno;
		if (!e && rename(tmp, path))
			e = errno;
		if (e)
			unlink(tmp);
	}
	free(tmp);
	free(b.p);
	if (e)
		return sim_error(s, TDXSIM_ERR_IO, "snapshot %s: cannot write: %s (errno %d)", path,
				 strerror(e), e);
	return TDXSIM_OK;
}

/* The whole file in memory; msg gets the reason on failure. */
static tdxsim_err read_file(const char *path, uint8_t **out, size_t *len, char *msg, size_t cap)
{
	*out = NULL;
	*len = 0;
	if (!path || !*path)
		return fail_msg(msg, cap, TDXSIM_ERR_ARG, "snapshot: path is NULL or empty");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fail_msg(msg, cap, TDXSIM_ERR_IO, "snapshot %s: cannot open: %s (errno %d)", path,
				strerror(e), e);
	}
	size_t n = (size_t)st.st_size;
	uint8_t *p = malloc(n ? n : 1);
	if (!p) {
		close(fd);
		return fail_msg(msg, cap, TDXSIM_ERR_NOMEM, "snapshot %s: out of memory (%zu bytes)",
				path, n);
	}
	size_t done = 0;
	while (done < n) {
		ssize_t k = read(fd, p + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int e = k < 0 ? errno : EIO;
			close(fd);
			free(p);
			return fail_msg(msg, cap, TDXSIM_ERR_IO, "snapshot %s: read failed at offset "
					"0x%zx: %s (errno %d)", path, done, strerror(e), e);
		}
		done += (size_t)k;
	}
	close(fd);
	*out = p;
	*len = n;
	return TDXSIM_OK;
}

tdxsim_err tdxsim_snapshot_read(tdxsim *s, const char *path)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	uint8_t *p;
	size_t n;
	char msg[256];
	tdxsim_err err = read_file(path, &p, &n, msg, sizeof(msg));
	if (err)
		return sim_error(s, err, "%s", msg);
	err = snapshot_restore(s, p, n);
	if (err) {
		/* Name the file in the message. */
		char m2[256];
		snprintf(m2, sizeof(m2), "%s", s->errmsg);
		sim_error(s, err, "%s: %s", path, m2);
	}
	free(p);
	return err;
}

tdxsim_err tdxsim_snapshot_config(const void *buf, size_t len, tdxsim_config *cfg, char *msg,
				  size_t msglen)
{
	char local[256];
	if (!msg || !msglen) {
		msg = local;
		msglen = sizeof(local);
	}
	msg[0] = 0;
	if (!cfg)
		return fail_msg(msg, msglen, TDXSIM_ERR_ARG, "snapshot: cfg is NULL");
	struct snap sn;
	tdxsim_err err = snap_parse(buf, len, &sn, msg, msglen);
	if (err)
		return err;
	struct snap_conf c;
	if (sn.sec[SEC_CONF].len != sizeof(c))
		return fail_msg(msg, msglen, TDXSIM_ERR_VERSION, "snapshot section CONF: %llu bytes, "
				"this build's is %zu", (unsigned long long)sn.sec[SEC_CONF].len,
				sizeof(c));
	memcpy(&c, sn.sec[SEC_CONF].p, sizeof(c));
	return conf_to_config(&c, cfg, msg, msglen);
}

tdxsim_err tdxsim_snapshot_open(const char *path, tdxsim **out, char *msg, size_t msglen)
{
	char local[256];
	if (!msg || !msglen) {
		msg = local;
		msglen = sizeof(local);
	}
	msg[0] = 0;
	if (!out)
		return fail_msg(msg, msglen, TDXSIM_ERR_ARG, "snapshot: out is NULL");
	*out = NULL;
	uint8_t *p;
	size_t n;
	tdxsim_err err = read_file(path, &p, &n, msg, msglen);
	if (err)
		return err;
	tdxsim_config cfg;
	err = tdxsim_snapshot_config(p, n, &cfg, msg, msglen);
	if (err) {
		char m2[256];
		snprintf(m2, sizeof(m2), "%s", msg);
		snprintf(msg, msglen, "%s: %s", path, m2);
		free(p);
		return err;
	}
	tdxsim *s;
	err = tdxsim_open(&cfg, &s);
	if (err) {
		fail_msg(msg, msglen, err, "%s: cannot open a simulator with the snapshot's "
			 "configuration: %s", path, tdxsim_strerror(err));
		free(p);
		return err;
	}
	err = snapshot_restore(s, p, n);
	free(p);
	if (err) {
		snprintf(msg, msglen, "%s: %s", path, tdxsim_errmsg(s));
		tdxsim_close(s);
		return err;
	}
	*out = s;
	return TDXSIM_OK;
}
