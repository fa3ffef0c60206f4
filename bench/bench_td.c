/*
 * TD benchmarks:
 *  td_build.page_add_extend_4k.ns  PAGE.ADD + 16 x MR.EXTEND per 4 KiB page
 *                                  (median over batches of 256 pages)
 *  td_build.crypto_floor_4k.ns     the cryptography that work needs, done
 *                                  directly with libcrypto: AES-XTS encrypt
 *                                  of the page and SHA-384 over the same 17
 *                                  measurement records (2,176 + 4,096 bytes)
 *  td_build.vs_crypto_floor.ratio  floor / PAGE.ADD+EXTEND (1.0 = no overhead)
 *  mem.page_aug.ns                 PAGE.AUG of a 4 KiB page in a RUNNABLE TD
 *  td.lifecycle_1gib.ms            MNG.CREATE -> 1 GiB of 4 KiB pages
 *                                  PAGE.AUGed -> teardown (KVM's VM-destroy
 *                                  order: release the KeyID, reclaim every
 *                                  page)
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define GIB (1ULL << 30)

uint64_t btd_page(struct btd *t)
{
	uint64_t pa = t->next_pa;
	t->next_pa += 4096;
	return pa;
}

static void push(uint64_t **v, uint64_t *n, uint64_t *cap, uint64_t x)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*v = realloc(*v, *cap * sizeof(**v));
		if (!*v) {
			fprintf(stderr, "tdxsim-bench: out of memory\n");
			exit(1);
		}
	}
	(*v)[(*n)++] = x;
}

void btd_create(struct btd *t, tdxsim *s, uint32_t hkid)
{
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	t->s = s;
	t->n_pkgs = info.packages;
	t->lps_per_pkg = info.lps_per_package;
	t->hkid = hkid;
	t->tdr = btd_page(t);
	struct tdx_module_args a = { .rcx = t->tdr, .rdx = hkid };
	bench_must(s, 0, TDH_MNG_CREATE, &a);
	for (unsigned p = 0; p < t->n_pkgs; p++) {
		a = (struct tdx_module_args){ .rcx = t->tdr };
		bench_must(s, p * t->lps_per_pkg, TDH_MNG_KEY_CONFIG, &a);
	}
	for (unsigned i = 0; i < TDX_TDCS_PAGES; i++) {
		t->tdcs[i] = btd_page(t);
		a = (struct tdx_module_args){ .rcx = t->tdcs[i], .rdx = t->tdr };
		bench_must(s, 0, TDH_MNG_ADDCX, &a);
	}
	struct tdx_td_params p;
	memset(&p, 0, sizeof(p));
	p.xfam = 3;
	p.max_vcpus = 1;
	p.eptp_controls = TDX_EPTP_WB_4LVL;
	p.config_flags = TDX_CONFIG_FLAGS_NO_RBP_MOD;
	p.tsc_frequency = (uint16_t)(info.platform->tsc_mhz / 25);
	tdxsim_mem_write(s, t->params_pa, 0, &p, sizeof(p));
	a = (struct tdx_module_args){ .rcx = t->tdr, .rdx = t->params_pa };
	bench_must(s, 0, TDH_MNG_INIT, &a);
	t->tdvpr = btd_page(t);
	a = (struct tdx_module_args){ .rcx = t->tdvpr, .rdx = t->tdr };
	bench_must(s, 0, TDH_VP_CREATE, &a);
	for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++) {
		t->tdcx[i] = btd_page(t);
		a = (struct tdx_module_args){ .rcx = t->tdcx[i], .rdx = t->tdvpr };
		bench_must(s, 0, TDH_VP_ADDCX, &a);
	}
	a = (struct tdx_module_args){ .rcx = t->tdvpr, .r8 = 0 };
	bench_must(s, 0, TDH_VP_INIT | (1ULL << 16), &a);
}

/* S-EPT tables for [gpa, gpa + size) down to the 4K level. */
void btd_sept_map(struct btd *t, uint64_t gpa, uint64_t size)
{
	uint64_t n = t->n_sept, cap = t->cap_sept;
	for (uint64_t g = gpa & ~(GIB - 1); g < gpa + size; g += GIB) {
		if (!t->pml4e_done) {
			t->pml4e_done = 1;
			uint64_t pa = btd_page(t);
			struct tdx_module_args a = { .rcx = 3, .rdx = t->tdr, .r8 = pa };
			bench_must(t->s, 0, TDH_MEM_SEPT_ADD, &a);
			push(&t->sept, &n, &cap, pa);
		}
		uint64_t pa = btd_page(t);
		struct tdx_module_args a = { .rcx = g | 2, .rdx = t->tdr, .r8 = pa };
		bench_must(t->s, 0, TDH_MEM_SEPT_ADD, &a);
		push(&t->sept, &n, &cap, pa);
		uint64_t lo = gpa > g ? gpa & ~((2ULL << 20) - 1) : g;
		for (uint64_t m = lo; m < g + GIB && m < gpa + size; m += 2ULL << 20) {
			pa = btd_page(t);
			a = (struct tdx_module_args){ .rcx = m | 1, .rdx = t->tdr, .r8 = pa };
			bench_must(t->s, 0, TDH_MEM_SEPT_ADD, &a);
			push(&t->sept, &n, &cap, pa);
		}
	}
	t->n_sept = (unsigned)n;
	t->cap_sept = (unsigned)cap;
}

void btd_page_add(struct btd *t, uint64_t gpa, const void *data)
{
	tdxsim_mem_write(t->s, t->src_pa, 0, data, 4096);
	uint64_t pa = btd_page(t);
	struct tdx_module_args a = { .rcx = gpa, .rdx = t->tdr, .r8 = pa, .r9 = t->src_pa };
	bench_must(t->s, 0, TDH_MEM_PAGE_ADD, &a);
	push(&t->pages, &t->n_pages, &t->cap_pages, pa);
}

void btd_finalize(struct btd *t)
{
	struct tdx_module_args a = { .rcx = t->tdr };
	bench_must(t->s, 0, TDH_MR_FINALIZE, &a);
}

void btd_teardown(struct btd *t)
{
	tdxsim *s = t->s;
	struct tdx_module_args a = { .rcx = t->tdvpr };
	bench_must(s, 0, TDH_VP_FLUSH, &a);
	a = (struct tdx_module_args){ .rcx = t->tdr };
	bench_must(s, 0, TDH_MNG_VPFLUSHDONE, &a);
	for (unsigned p = 0; p < t->n_pkgs; p++) {
		a = (struct tdx_module_args){ .rcx = 0 };
		uint64_t st;
		while ((st = tdxsim_seamcall(s, p * t->lps_per_pkg, TDH_PHYMEM_CACHE_WB, &a)) ==
		       TDX_INTERRUPTED_RESUMABLE)
			a = (struct tdx_module_args){ .rcx = 1 };
		if (st != TDX_SUCCESS && st != TDX_NO_HKID_READY_TO_WBCACHE)
			bench_must(s, 0, TDH_PHYMEM_CACHE_WB, &a);
	}
	a = (struct tdx_module_args){ .rcx = t->tdr };
	bench_must(s, 0, TDH_MNG_KEY_FREEID, &a);
	for (uint64_t i = 0; i < t->n_pages; i++) {
		a = (struct tdx_module_args){ .rcx = t->pages[i] };
		bench_must(s, 0, TDH_PHYMEM_PAGE_RECLAIM, &a);
	}
	for (unsigned i = t->n_sept; i-- > 0;) {
		a = (struct tdx_module_args){ .rcx = t->sept[i] };
		bench_must(s, 0, TDH_PHYMEM_PAGE_RECLAIM, &a);
	}
	for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++) {
		a = (struct tdx_module_args){ .rcx = t->tdcx[i] };
		bench_must(s, 0, TDH_PHYMEM_PAGE_RECLAIM, &a);
	}
	a = (struct tdx_module_args){ .rcx = t->tdvpr };
	bench_must(s, 0, TDH_PHYMEM_PAGE_RECLAIM, &a);
	for (unsigned i = 0; i < TDX_TDCS_PAGES; i++) {
		a = (struct tdx_module_args){ .rcx = t->tdcs[i] };
		bench_must(s, 0, TDH_PHYMEM_PAGE_RECLAIM, &a);
	}
	a = (struct tdx_module_args){ .rcx = t->tdr };
	bench_must(s, 0, TDH_PHYMEM_PAGE_RECLAIM, &a);
	free(t->pages);
	free(t->sept);
	t->pages = t->sept = NULL;
	t->n_pages = t->cap_pages = 0;
	t->n_sept = t->cap_sept = 0;
}

/* The host kernel hands KVM pages it has allocated and zeroed: do the same
 * before timing, so the host's first-touch faults are not counted. */
static void prefault(tdxsim *s, uint64_t pa, uint64_t len)
{
	static const uint8_t zero[4096];
	for (uint64_t off = 0; off < len; off += 4096)
		tdxsim_mem_write(s, pa + off, 0, zero, sizeof(zero));
}

/* libcrypto alone on the bytes PAGE.ADD + 16 MR.EXTEND process. */
static double crypto_floor_ns(unsigned pages)
{
	EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t key[32], iv[16] = { 0 }, in[4096], out[4096], rec[128 + 256];
	for (unsigned i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 13 + 1);
	memset(in, 0x5A, sizeof(in));
	memset(rec, 0, sizeof(rec));
	EVP_CipherInit_ex(enc, EVP_aes_128_xts(), NULL, key, NULL, 1);
	EVP_CipherInit_ex(dec, EVP_aes_128_xts(), NULL, key, NULL, 0);
	EVP_DigestInit_ex(md, EVP_sha384(), NULL);
	int n;
	double t0 = bench_now_ns();
	for (unsigned p = 0; p < pages; p++) {
		uint64_t pa = (uint64_t)p << 12;
		memcpy(iv, &pa, 8);
		EVP_CipherInit_ex(enc, NULL, NULL, NULL, iv, -1);
		EVP_CipherUpdate(enc, out, &n, in, 4096);
		EVP_DigestUpdate(md, rec, 128);
		for (unsigned c = 0; c < 16; c++) {
			memcpy(rec + 128, in + 256 * c, 256);
			EVP_DigestUpdate(md, rec, sizeof(rec));
		}
	}
	double ns = (bench_now_ns() - t0) / pages;
	uint8_t h[64];
	unsigned hl;
	EVP_DigestFinal_ex(md, h, &hl);
	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	EVP_MD_CTX_free(md);
	return ns;
}

void bench_td(struct bench_metrics *m)
{
	tdxsim *s = bench_open(8);
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);

	/* 1. PAGE.ADD + 16 x MR.EXTEND. */
	enum { BATCHES = 9, PER = 256 };
	struct btd t = { .next_pa = 16ULL << 20, .params_pa = 4ULL << 20, .src_pa = 8ULL << 20 };
	uint8_t src[4096];
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7);
	tdxsim_mem_write(s, t.src_pa, 0, src, sizeof(src));
	btd_create(&t, s, info.first_tdx_keyid + 1);
	btd_sept_map(&t, GIB, (uint64_t)BATCHES * PER * 4096);
	double ns[BATCHES], fl[BATCHES];
	uint64_t gpa = GIB;
	for (unsigned b = 0; b < BATCHES; b++) {
		uint64_t first = t.next_pa;
		t.next_pa += (uint64_t)PER * 4096;
		prefault(s, first, (uint64_t)PER * 4096);
		double t0 = bench_now_ns();
		for (unsigned i = 0; i < PER; i++, gpa += 4096) {
			struct tdx_module_args a = { .rcx = gpa, .rdx = t.tdr, .r8 = first + i * 4096ULL,
						     .r9 = t.src_pa };
			bench_must(s, 0, TDH_MEM_PAGE_ADD, &a);
			for (unsigned c = 0; c < 16; c++) {
				a = (struct tdx_module_args){ .rcx = gpa + 256 * c, .rdx = t.tdr };
				bench_must(s, 0, TDH_MR_EXTEND, &a);
			}
		}
		ns[b] = (bench_now_ns() - t0) / PER;
		for (unsigned i = 0; i < PER; i++)
			push(&t.pages, &t.n_pages, &t.cap_pages, first + i * 4096ULL);
		/* Interleaved with the floor so machine noise hits both alike. */
		fl[b] = crypto_floor_ns(PER);
	}
	qsort(ns, BATCHES, sizeof(ns[0]), bench_cmp_double);
	double add_ns = ns[BATCHES / 2];
	if (getenv("TDXSIM_BENCH_DETAIL")) {
		/* Split: PAGE.ADD alone, then one MR.EXTEND alone. */
		uint64_t first = t.next_pa;
		t.next_pa += (uint64_t)PER * 4096;
		prefault(s, first, (uint64_t)PER * 4096);
		double t0 = bench_now_ns();
		for (unsigned i = 0; i < PER; i++) {
			struct tdx_module_args a = { .rcx = gpa + i * 4096ULL, .rdx = t.tdr,
						     .r8 = first + i * 4096ULL, .r9 = t.src_pa };
			bench_must(s, 0, TDH_MEM_PAGE_ADD, &a);
			push(&t.pages, &t.n_pages, &t.cap_pages, first + i * 4096ULL);
		}
		double t1 = bench_now_ns();
		for (unsigned i = 0; i < PER; i++)
			for (unsigned c = 0; c < 16; c++) {
				struct tdx_module_args a = { .rcx = gpa + i * 4096ULL + 256 * c, .rdx = t.tdr };
				bench_must(s, 0, TDH_MR_EXTEND, &a);
			}
		double t2 = bench_now_ns();
		printf("detail: PAGE.ADD %.0f ns, MR.EXTEND %.0f ns\n", (t1 - t0) / PER, (t2 - t1) / PER / 16);
		gpa += (uint64_t)PER * 4096;
	}
	qsort(fl, BATCHES, sizeof(fl[0]), bench_cmp_double);
	double floor_ns = fl[BATCHES / 2];
	bench_metric(m, "td_build.page_add_extend_4k.ns", add_ns, "ns");
	bench_metric(m, "td_build.crypto_floor_4k.ns", floor_ns, "ns");
	bench_metric(m, "td_build.vs_crypto_floor.ratio", floor_ns / add_ns, "ratio");
	printf("td_build.page_add_extend_4k.ns = %.0f (crypto floor %.0f, ratio %.2f)\n", add_ns,
	       floor_ns, floor_ns / add_ns);

	if (getenv("TDXSIM_BENCH_ADD_ONLY")) {
		tdxsim_close(s);
		return;
	}
	/* 2. PAGE.AUG in the finalized TD. */
	btd_finalize(&t);
	enum { AUGS = 4096 };
	uint64_t aug_gpa = 4 * GIB;
	btd_sept_map(&t, aug_gpa, AUGS * 4096ULL);
	uint64_t first = t.next_pa;
	t.next_pa += AUGS * 4096ULL;
	prefault(s, first, AUGS * 4096ULL);
	double t0 = bench_now_ns();
	for (unsigned i = 0; i < AUGS; i++) {
		struct tdx_module_args a = { .rcx = aug_gpa + i * 4096ULL, .rdx = t.tdr,
					     .r8 = first + i * 4096ULL };
		bench_must(s, 0, TDH_MEM_PAGE_AUG, &a);
	}
	double aug_ns = (bench_now_ns() - t0) / AUGS;
	for (unsigned i = 0; i < AUGS; i++)
		push(&t.pages, &t.n_pages, &t.cap_pages, first + i * 4096ULL);
	bench_metric(m, "mem.page_aug.ns", aug_ns, "ns");
	printf("mem.page_aug.ns = %.0f\n", aug_ns);
	btd_teardown(&t);

	/* 3. A 1 GiB TD's life. */
	struct btd u = { .next_pa = 2 * GIB, .params_pa = 4ULL << 20, .src_pa = 8ULL << 20 };
	t0 = bench_now_ns();
	btd_create(&u, s, info.first_tdx_keyid + 2);
	btd_sept_map(&u, 0, GIB);
	btd_finalize(&u);
	uint64_t base = u.next_pa;
	u.next_pa += GIB;
	for (uint64_t off = 0; off < GIB; off += 4096) {
		struct tdx_module_args a = { .rcx = off, .rdx = u.tdr, .r8 = base + off };
		bench_must(s, 0, TDH_MEM_PAGE_AUG, &a);
		push(&u.pages, &u.n_pages, &u.cap_pages, base + off);
	}
	btd_teardown(&u);
	double life_ms = (bench_now_ns() - t0) / 1e6;
	bench_metric(m, "td.lifecycle_1gib.ms", life_ms, "ms");
	printf("td.lifecycle_1gib.ms = %.0f\n", life_ms);
	tdxsim_close(s);
}
