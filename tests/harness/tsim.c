#include <stdlib.h>

#include "tsim.h"

tdxsim *tsim_create(const tdxsim_config *cfg)
{
	tdxsim *s = NULL;
	tdxsim_err err = tdxsim_open(cfg, &s);
	if (err)
		TSIM_FAIL("tdxsim_open: %s", tdxsim_strerror(err));
	return s;
}

tdxsim *tsim_create_default(void)
{
	return tsim_create(NULL);
}

void tsim_vmxon_all(tdxsim *s)
{
	tdxsim_info info = { .size = sizeof(info) };
	TSIM_CHECK_OK(tdxsim_info_get(s, &info));
	for (unsigned i = 0; i < info.n_lps; i++)
		TSIM_CHECK_OK(tdxsim_vmx_get(s, i));
}

tdxsim *tsim_create_vmxon(void)
{
	tdxsim *s = tsim_create_default();
	tsim_vmxon_all(s);
	return s;
}

uint64_t seamcall_raw(tdxsim *s, unsigned lp, uint64_t fn, struct tdx_module_args *a)
{
	struct tdx_module_args zero = { 0 };
	return tdxsim_seamcall(s, lp, fn, a ? a : &zero);
}

void tsim_expect_status(const char *file, int line, uint64_t want, uint64_t got, uint64_t fn)
{
	if (want == got)
		return;
	char w[96], g[96];
	const char *leaf = fn != ~0ULL ? tdx_seamcall_leaf_name(fn) : NULL;
	tsim_fail_at(file, line, "%s%sexpected %s, got %s", leaf ? leaf : "", leaf ? ": " : "",
		     tdx_status_str(want, w, sizeof(w)), tdx_status_str(got, g, sizeof(g)));
}

void tsim_sys_init(tdxsim *s)
{
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_INIT, &a);
}

void tsim_lp_init_all(tdxsim *s)
{
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	for (unsigned i = 0; i < info.n_lps; i++) {
		struct tdx_module_args a = { 0 };
		seamcall_ok(s, i, TDH_SYS_LP_INIT, &a);
	}
}

uint64_t tsim_sys_rd(tdxsim *s, unsigned lp, uint64_t field)
{
	struct tdx_module_args a = { .rdx = field };
	seamcall_ok(s, lp, TDH_SYS_RD, &a);
	return a.r8;
}

static uint64_t pamt_sz(uint64_t tdmr_size, unsigned shift)
{
	uint64_t b = (tdmr_size >> shift) * PAMT_ENTRY_SIZE;
	return (b + 4095) & ~4095ULL;
}

void tsim_build_tdmrs(tdxsim *s, struct tsim_tdmrs *t)
{
	tdxsim_info info = { .size = sizeof(info) };
	TSIM_CHECK_OK(tdxsim_info_get(s, &info));
	memset(t, 0, sizeof(*t));
	/* TDMRs: 1 GiB-aligned spans of the CMRs (merging CMRs that share a GiB). */
	for (unsigned i = 0; i < info.n_cmrs; i++) {
		uint64_t b = info.cmrs[i].base & ~(TDX_1G - 1);
		uint64_t e = (info.cmrs[i].base + info.cmrs[i].size + TDX_1G - 1) & ~(TDX_1G - 1);
		if (t->n && b < t->info[t->n - 1].base + t->info[t->n - 1].size) {
			struct tdx_tdmr_info *p = &t->info[t->n - 1];
			if (e > p->base + p->size)
				p->size = e - p->base;
			continue;
		}
		TSIM_CHECK(t->n < TDX_MAX_TDMRS);
		t->info[t->n].base = b;
		t->info[t->n].size = e - b;
		t->n++;
	}
	/* Allocate PAMTs, then the TDMR_INFO pages, array and scratch from the top of the last CMR. */
	uint64_t top = info.cmrs[info.n_cmrs - 1].base + info.cmrs[info.n_cmrs - 1].size;
	uint64_t cur = top;
	for (unsigned i = 0; i < t->n; i++) {
		struct tdx_tdmr_info *p = &t->info[i];
		uint64_t s4 = pamt_sz(p->size, 12), s2 = pamt_sz(p->size, 21), s1 = pamt_sz(p->size, 30);
		uint64_t total = s4 + s2 + s1;
		cur -= total;
		cur &= ~4095ULL;
		t->pamt_pa[i] = cur;
		t->pamt_bytes[i] = total;
		p->pamt_4k_base = cur;
		p->pamt_4k_size = s4;
		p->pamt_2m_base = cur + s4;
		p->pamt_2m_size = s2;
		p->pamt_1g_base = cur + s4 + s2;
		p->pamt_1g_size = s1;
	}
	uint64_t meta = cur - 0x20000;          /* 128 KiB: TDMR_INFOs, array, scratch */
	t->array_pa = meta;
	for (unsigned i = 0; i < t->n; i++)
		t->info_pa[i] = meta + 0x1000 + i * 512;
	t->scratch_pa = meta + 0x10000;
	/* Reserved areas: holes between CMRs inside each TDMR, and the allocations. */
	uint64_t alloc_lo = meta, alloc_hi = top;
	for (unsigned i = 0; i < t->n; i++) {
		struct tdx_tdmr_info *p = &t->info[i];
		unsigned nr = 0;
		uint64_t cursor = p->base, end = p->base + p->size;
		struct { uint64_t b, e; } rs[40];
		unsigned nrs = 0;
		for (unsigned c = 0; c < info.n_cmrs && cursor < end; c++) {
			uint64_t cb = info.cmrs[c].base, ce = cb + info.cmrs[c].size;
			if (ce <= cursor || cb >= end)
				continue;
			if (cb > cursor)
				rs[nrs].b = cursor, rs[nrs].e = cb, nrs++;
			cursor = ce < end ? ce : end;
		}
		if (cursor < end)
			rs[nrs].b = cursor, rs[nrs].e = end, nrs++;
		if (alloc_lo < end && alloc_hi > p->base)
			rs[nrs].b = alloc_lo > p->base ? alloc_lo : p->base,
			rs[nrs].e = alloc_hi < end ? alloc_hi : end, nrs++;
		/* sort and merge */
		for (unsigned a = 0; a < nrs; a++)
			for (unsigned b = a + 1; b < nrs; b++)
				if (rs[b].b < rs[a].b) {
					uint64_t tb = rs[a].b, te = rs[a].e;
					rs[a] = rs[b];
					rs[b].b = tb, rs[b].e = te;
				}
		for (unsigned a = 0; a < nrs; a++) {
			if (nr && p->base + p->reserved[nr - 1].offset + p->reserved[nr - 1].size >= rs[a].b) {
				uint64_t e2 = rs[a].e - p->base;
				if (e2 > p->reserved[nr - 1].offset + p->reserved[nr - 1].size)
					p->reserved[nr - 1].size = e2 - p->reserved[nr - 1].offset;
				continue;
			}
			TSIM_CHECK(nr < TDX_MAX_RESERVED_PER_TDMR);
			p->reserved[nr].offset = rs[a].b - p->base;
			p->reserved[nr].size = rs[a].e - rs[a].b;
			nr++;
		}
	}
	tsim_write_tdmrs(s, t);
}

void tsim_write_tdmrs(tdxsim *s, const struct tsim_tdmrs *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		TSIM_CHECK_OK(tdxsim_mem_write(s, t->info_pa[i], 0, &t->info[i], sizeof(t->info[i])));
		TSIM_CHECK_OK(tdxsim_mem_write(s, t->array_pa + 8 * i, 0, &t->info_pa[i], 8));
	}
}

uint64_t tsim_sys_config(tdxsim *s, const struct tsim_tdmrs *t)
{
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	struct tdx_module_args a = { .rcx = t->array_pa, .rdx = t->n, .r8 = info.first_tdx_keyid };
	return seamcall_raw(s, 0, TDH_SYS_CONFIG, &a);
}

unsigned tsim_pkg_first_lp(tdxsim *s, unsigned pkg)
{
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	return pkg * info.lps_per_package;
}

void tsim_key_config_all(tdxsim *s)
{
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);
	for (unsigned p = 0; p < info.packages; p++) {
		struct tdx_module_args a = { 0 };
		seamcall_ok(s, tsim_pkg_first_lp(s, p), TDH_SYS_KEY_CONFIG, &a);
	}
}

void tsim_tdmr_init_all(tdxsim *s, const struct tsim_tdmrs *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		uint64_t end = t->info[i].base + t->info[i].size, next = 0;
		while (next < end) {
			struct tdx_module_args a = { .rcx = t->info[i].base };
			seamcall_ok(s, 0, TDH_SYS_TDMR_INIT, &a);
			next = a.rdx;
		}
	}
}

static void expect_state_at(const char *file, int line, tdxsim *s, enum tdx_sys_state want)
{
	enum tdx_sys_state got = tdxsim_module_state(s);
	if (got != want)
		tsim_fail_at(file, line, "module state %d, expected %d", (int)got, (int)want);
}
#define expect_state(s, want) expect_state_at(__FILE__, __LINE__, (s), (want))

void tsim_to_sysconfig(tdxsim *s, struct tsim_tdmrs *t)
{
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	tsim_build_tdmrs(s, t);
	assert_tdx_status(TDX_SUCCESS, tsim_sys_config(s, t));
	expect_state(s, TDX_SYSCONFIG_DONE);
}

void tsim_to_ready(tdxsim *s, struct tsim_tdmrs *t)
{
	struct tsim_tdmrs local;
	tsim_to_sysconfig(s, t ? t : &local);
	tsim_key_config_all(s);
	expect_state(s, TDX_SYS_READY);
}

unsigned tsim_fault(tdxsim *s, uint64_t status, int leaf, int lp, uint64_t nth, uint64_t count)
{
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = status;
	f.leaf = leaf;
	f.lp = lp;
	f.nth = nth;
	f.count = count;
	unsigned id = ~0u;
	TSIM_CHECK_OK(tdxsim_fault_add(s, &f, &id));
	return id;
}

uint64_t tsim_fault_fired(tdxsim *s, unsigned id)
{
	uint64_t n = ~0ULL;
	TSIM_CHECK_OK(tdxsim_fault_fired(s, id, &n));
	return n;
}

void tsim_bringup(tdxsim *s, struct tsim_tdmrs *t)
{
	tsim_vmxon_all(s);
	tsim_to_ready(s, t);
	tsim_tdmr_init_all(s, t);
	expect_state(s, TDX_SYS_READY);
}
