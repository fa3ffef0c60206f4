#include <sched.h>

#include "tsim_td.h"
#include "seam/sept.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define STATUS_CLASS_MASK 0xFFFFFFFF00000000ULL

#define VP_INIT_V1 (TDH_VP_INIT | (1ULL << 16))

void tsim_env_init_cfg(struct tsim_env *e, const tdxsim_config *cfg)
{
	memset(e, 0, sizeof(*e));
	e->s = tsim_create(cfg);
	tsim_bringup(e->s, &e->t);
	tdxsim_info info = { .size = sizeof(info) };
	TSIM_CHECK_OK(tdxsim_info_get(e->s, &info));
	e->n_lps = info.n_lps;
	e->n_pkgs = info.packages;
	e->first_keyid = info.first_tdx_keyid;
	e->n_keyids = info.tdx_keyids;
	e->keyid_shift = info.keyid_shift;
	e->next_hkid = e->first_keyid + 1;      /* the first is the global KeyID */
	e->next_pa = 256ULL << 20;              /* 4 KiB pages: [256 MiB, 1 GiB) */
	e->end_pa = 1ULL << 30;
	e->next_pa_2m = 1ULL << 30;
	e->shared_pa = e->t.scratch_pa;
}

void tsim_env_init(struct tsim_env *e)
{
	tsim_env_init_cfg(e, NULL);
}

void tsim_env_fini(struct tsim_env *e)
{
	tdxsim_close(e->s);
	e->s = NULL;
}

uint64_t tsim_page(struct tsim_env *e)
{
	uint64_t pa = __atomic_fetch_add(&e->next_pa, 4096, __ATOMIC_RELAXED);
	if (pa + 4096 > e->end_pa)
		TSIM_FAIL("tsim_page: out of test pages");
	return pa;
}

uint64_t tsim_page_2m(struct tsim_env *e)
{
	/* 2 MiB pages from their own region, [1 GiB, 2 GiB). */
	uint64_t pa = __atomic_fetch_add(&e->next_pa_2m, 2ULL << 20, __ATOMIC_RELAXED);
	if (pa + (2ULL << 20) > (2ULL << 30))
		TSIM_FAIL("tsim_page_2m: out of 2 MiB test pages");
	return pa;
}

uint32_t tsim_hkid(struct tsim_env *e)
{
	uint32_t k = __atomic_fetch_add(&e->next_hkid, 1, __ATOMIC_RELAXED);
	if (k >= e->first_keyid + e->n_keyids)
		TSIM_FAIL("tsim_hkid: out of TD KeyIDs");
	return k;
}

uint64_t tsim_keyed_pa(struct tsim_env *e, uint64_t pa, uint32_t keyid)
{
	return pa | ((uint64_t)keyid << e->keyid_shift);
}

uint64_t tsim_pa_outside(struct tsim_env *e)
{
	const struct tdx_tdmr_info *last = &e->t.info[e->t.n - 1];
	uint64_t pa = last->base + last->size;
	TSIM_CHECK(pa < (1ULL << e->keyid_shift));
	return pa;
}

struct seam_td *tsim_td_obj(struct tsim_td *td)
{
	return seam_obj_get(&td->e->s->mod, td->tdr);
}

unsigned tsim_page_type(struct tsim_env *e, uint64_t pa)
{
	unsigned type = ~0u;
	TSIM_CHECK_OK(tdxsim_pamt_lookup(e->s, pa, &type, NULL, NULL));
	return type;
}

void tsim_td_params(struct tsim_env *e, struct tdx_td_params *p, uint64_t attributes,
		    uint16_t max_vcpus)
{
	tdxsim_info info = { .size = sizeof(info) };
	TSIM_CHECK_OK(tdxsim_info_get(e->s, &info));
	memset(p, 0, sizeof(*p));
	p->attributes = attributes;
	p->xfam = 0x3;
	p->max_vcpus = max_vcpus;
	p->eptp_controls = TDX_EPTP_WB_4LVL;
	p->config_flags = TDX_CONFIG_FLAGS_NO_RBP_MOD;
	p->tsc_frequency = (uint16_t)(info.platform->tsc_mhz / 25);
}

uint64_t tsim_seamcall_retry(tdxsim *s, unsigned lp, uint64_t fn, struct tdx_module_args *a)
{
	struct tdx_module_args in = *a;
	uint64_t st;
	for (unsigned i = 0; i < 100000; i++) {
		*a = in;
		st = seamcall_raw(s, lp, fn, a);
		if ((st & STATUS_CLASS_MASK) != TDX_OPERAND_BUSY && st != TDX_SYS_BUSY)
			break;
		/* The holder may be a preempted thread (more threads than CPUs):
		 * let it run rather than spend the tries while it is off-CPU. */
		sched_yield();
	}
	return st;
}

#define call_ok(s, lp, fn, a) \
	tsim_expect_status(__FILE__, __LINE__, TDX_SUCCESS, tsim_seamcall_retry((s), (lp), (fn), (a)), (fn))

static void td_create(struct tsim_env *e, struct tsim_td *td, unsigned lp, const unsigned *pkg_lp,
		      bool key_config)
{
	memset(td, 0, sizeof(*td));
	td->e = e;
	td->lp = lp;
	for (unsigned p = 0; p < e->n_pkgs && p < 8; p++)
		td->pkg_lp[p] = pkg_lp ? pkg_lp[p] : tsim_pkg_first_lp(e->s, p);
	td->shared = __atomic_fetch_add(&e->next_pa, 8192, __ATOMIC_RELAXED);
	td->tdr = tsim_page(e);
	td->hkid = tsim_hkid(e);
	td->ept_levels = 4;
	struct tdx_module_args a = { .rcx = td->tdr, .rdx = td->hkid };
	call_ok(e->s, lp, TDH_MNG_CREATE, &a);
	for (unsigned pkg = 0; key_config && pkg < e->n_pkgs; pkg++) {
		struct tdx_module_args k = { .rcx = td->tdr };
		call_ok(e->s, td->pkg_lp[pkg], TDH_MNG_KEY_CONFIG, &k);
	}
}

void tsim_td_create_on(struct tsim_env *e, struct tsim_td *td, unsigned lp, const unsigned *pkg_lp)
{
	td_create(e, td, lp, pkg_lp, true);
}

void tsim_td_create(struct tsim_env *e, struct tsim_td *td)
{
	td_create(e, td, 0, NULL, true);
}

void tsim_td_create_nokey(struct tsim_env *e, struct tsim_td *td)
{
	td_create(e, td, 0, NULL, false);
}

void tsim_td_addcx(struct tsim_td *td)
{
	while (td->n_tdcs < TDX_TDCS_PAGES) {
		uint64_t pa = tsim_page(td->e);
		struct tdx_module_args a = { .rcx = pa, .rdx = td->tdr };
		call_ok(td->e->s, td->lp, TDH_MNG_ADDCX, &a);
		td->tdcs[td->n_tdcs++] = pa;
	}
}

uint64_t tsim_td_init_raw(struct tsim_td *td, const struct tdx_td_params *p, uint64_t *rcx)
{
	uint64_t pa = td->shared;               /* page aligned */
	TSIM_CHECK_OK(tdxsim_mem_write(td->e->s, pa, 0, p, sizeof(*p)));
	struct tdx_module_args a = { .rcx = td->tdr, .rdx = pa };
	uint64_t st = tsim_seamcall_retry(td->e->s, td->lp, TDH_MNG_INIT, &a);
	if (rcx)
		*rcx = a.rcx;
	return st;
}

void tsim_td_build(struct tsim_env *e, struct tsim_td *td, uint64_t attributes, uint16_t max_vcpus)
{
	struct tdx_td_params p;
	tsim_td_create(e, td);
	tsim_td_addcx(td);
	tsim_td_params(e, &p, attributes, max_vcpus);
	assert_tdx_status(TDX_SUCCESS, tsim_td_init_raw(td, &p, NULL));
}

struct tsim_vcpu *tsim_vcpu_add(struct tsim_td *td, unsigned lp)
{
	tdxsim *s = td->e->s;
	if (td->n_vcpus >= TSIM_MAX_VCPUS)
		TSIM_FAIL("tsim_vcpu_add: too many vCPUs");
	struct tsim_vcpu *v = &td->vcpu[td->n_vcpus];
	v->lp = lp;
	v->tdvpr = tsim_page(td->e);
	struct tdx_module_args a = { .rcx = v->tdvpr, .rdx = td->tdr };
	call_ok(s, lp, TDH_VP_CREATE, &a);
	for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++) {
		v->tdcx[i] = tsim_page(td->e);
		struct tdx_module_args x = { .rcx = v->tdcx[i], .rdx = v->tdvpr };
		call_ok(s, lp, TDH_VP_ADDCX, &x);
	}
	struct tdx_module_args in = { .rcx = v->tdvpr, .rdx = 0, .r8 = td->n_vcpus };
	call_ok(s, lp, VP_INIT_V1, &in);
	td->n_vcpus++;
	return v;
}

static int sept_has(struct tsim_td *td, uint64_t gpa, unsigned level)
{
	uint64_t mask = ~((4096ULL << (9 * level)) - 1);
	for (unsigned i = 0; i < td->n_sept; i++)
		if (td->sept[i].level == level && td->sept[i].gpa == (gpa & mask))
			return 1;
	return 0;
}

void tsim_sept_map(struct tsim_td *td, uint64_t gpa, unsigned level)
{
	/* Non-leaf entries at levels ept_levels-1 .. level+1 point to tables;
	 * SEPT.ADD's level is that of the entry (1 .. ept_levels-1). */
	for (int l = (int)td->ept_levels - 1; l > (int)level; l--) {
		if (sept_has(td, gpa, (unsigned)l))
			continue;
		if (td->n_sept >= TSIM_MAX_SEPT)
			TSIM_FAIL("tsim_sept_map: too many S-EPT pages");
		uint64_t mask = ~((4096ULL << (9 * l)) - 1);
		uint64_t pa = tsim_page(td->e);
		struct tdx_module_args a = { .rcx = (gpa & mask) | (unsigned)l, .rdx = td->tdr, .r8 = pa };
		call_ok(td->e->s, td->lp, TDH_MEM_SEPT_ADD, &a);
		td->sept[td->n_sept].gpa = gpa & mask;
		td->sept[td->n_sept].pa = pa;
		td->sept[td->n_sept].level = (unsigned)l;
		td->n_sept++;
	}
}

void tsim_sept_force_state(struct tsim_td *td, uint64_t gpa, unsigned state, uint64_t clear)
{
	uint64_t table = 0;
	for (unsigned i = 0; i < td->n_sept; i++)
		if (td->sept[i].level == 1 && td->sept[i].gpa == (gpa & ~(TDX_2M - 1)))
			table = td->sept[i].pa;
	TSIM_CHECK_MSG(table != 0, "tsim_sept_force_state: no 4K S-EPT table for GPA 0x%llx",
		       (unsigned long long)gpa);
	uint64_t epa = table + 8 * ((gpa >> 12) & 511), v;
	TSIM_CHECK_OK(tdxsim_mem_read(td->e->s, epa, td->hkid, &v, 8));
	v = (v & ~(SEPT_STATE_MASK | clear)) | ((uint64_t)state << SEPT_STATE_SHIFT);
	TSIM_CHECK_OK(tdxsim_mem_write(td->e->s, epa, td->hkid, &v, 8));
}

static void page_track(struct tsim_td *td, uint64_t gpa, uint64_t pa, unsigned level)
{
	if (td->n_pages >= TSIM_MAX_PAGES)
		TSIM_FAIL("tsim: too many private pages");
	td->page[td->n_pages].gpa = gpa;
	td->page[td->n_pages].pa = pa;
	td->page[td->n_pages].level = level;
	td->n_pages++;
}

uint64_t tsim_page_add(struct tsim_td *td, uint64_t gpa, const void *src, bool extend)
{
	tdxsim *s = td->e->s;
	uint8_t zero[4096] = { 0 };
	uint64_t src_pa = td->shared + 0x1000;
	TSIM_CHECK_OK(tdxsim_mem_write(s, src_pa, 0, src ? src : zero, 4096));
	tsim_sept_map(td, gpa, 0);
	uint64_t pa = tsim_page(td->e);
	struct tdx_module_args a = { .rcx = gpa, .rdx = td->tdr, .r8 = pa, .r9 = src_pa };
	call_ok(s, td->lp, TDH_MEM_PAGE_ADD, &a);
	if (extend) {
		for (unsigned i = 0; i < 16; i++) {
			struct tdx_module_args x = { .rcx = gpa + 256 * i, .rdx = td->tdr };
			call_ok(s, td->lp, TDH_MR_EXTEND, &x);
		}
	}
	page_track(td, gpa, pa, 0);
	return pa;
}

uint64_t tsim_page_aug(struct tsim_td *td, uint64_t gpa, unsigned level)
{
	tsim_sept_map(td, gpa, level);
	uint64_t pa = level ? tsim_page_2m(td->e) : tsim_page(td->e);
	struct tdx_module_args a = { .rcx = gpa | level, .rdx = td->tdr, .r8 = pa };
	call_ok(td->e->s, td->lp, TDH_MEM_PAGE_AUG, &a);
	page_track(td, gpa, pa, level);
	return pa;
}

void tsim_td_finalize(struct tsim_td *td)
{
	struct tdx_module_args a = { .rcx = td->tdr };
	call_ok(td->e->s, td->lp, TDH_MR_FINALIZE, &a);
	td->finalized = true;
}

void tsim_page_zap(struct tsim_td *td, uint64_t gpa, unsigned level)
{
	tdxsim *s = td->e->s;
	unsigned i;
	for (i = 0; i < td->n_pages; i++)
		if (td->page[i].gpa == gpa && td->page[i].level == level)
			break;
	if (i == td->n_pages)
		TSIM_FAIL("tsim_page_zap: GPA 0x%llx not mapped", (unsigned long long)gpa);
	struct tdx_module_args b = { .rcx = gpa | level, .rdx = td->tdr };
	call_ok(s, td->lp, TDH_MEM_RANGE_BLOCK, &b);
	if (td->finalized) {
		struct tdx_module_args t = { .rcx = td->tdr };
		call_ok(s, td->lp, TDH_MEM_TRACK, &t);
	}
	struct tdx_module_args r = { .rcx = gpa | level, .rdx = td->tdr };
	call_ok(s, td->lp, TDH_MEM_PAGE_REMOVE, &r);
	uint64_t size = 4096ULL << (9 * level);
	for (uint64_t off = 0; off < size; off += 4096) {
		struct tdx_module_args w = { .rcx = tsim_keyed_pa(td->e, td->page[i].pa + off, td->hkid) };
		call_ok(s, td->lp, TDH_PHYMEM_PAGE_WBINVD, &w);
	}
	td->page[i] = td->page[--td->n_pages];
}

static void reclaim(tdxsim *s, unsigned lp, uint64_t pa)
{
	struct tdx_module_args a = { .rcx = pa };
	call_ok(s, lp, TDH_PHYMEM_PAGE_RECLAIM, &a);
}

void tsim_td_teardown(struct tsim_td *td)
{
	struct tsim_env *e = td->e;
	tdxsim *s = e->s;
	for (unsigned i = 0; i < td->n_vcpus; i++) {
		struct tdx_module_args a = { .rcx = td->vcpu[i].tdvpr };
		uint64_t st = tsim_seamcall_retry(s, td->vcpu[i].lp, TDH_VP_FLUSH, &a);
		if (st != TDX_SUCCESS && st != TDX_VCPU_NOT_ASSOCIATED)
			assert_tdx_status(TDX_SUCCESS, st);
	}
	struct tdx_module_args d = { .rcx = td->tdr };
	call_ok(s, td->lp, TDH_MNG_VPFLUSHDONE, &d);
	for (unsigned pkg = 0; pkg < e->n_pkgs; pkg++) {
		unsigned lp = td->pkg_lp[pkg];
		struct tdx_module_args w = { .rcx = 0 };
		uint64_t st;
		for (unsigned tries = 0;; tries++) {
			st = tsim_seamcall_retry(s, lp, TDH_PHYMEM_CACHE_WB, &w);
			if (st != TDX_INTERRUPTED_RESUMABLE || tries > 10000)
				break;
			w = (struct tdx_module_args){ .rcx = 1 };
		}
		if (st != TDX_NO_HKID_READY_TO_WBCACHE)
			assert_tdx_status(TDX_SUCCESS, st);
	}
	struct tdx_module_args f = { .rcx = td->tdr };
	call_ok(s, td->lp, TDH_MNG_KEY_FREEID, &f);
	for (unsigned i = 0; i < td->n_pages; i++)
		reclaim(s, td->lp, td->page[i].pa);
	td->n_pages = 0;
	for (unsigned i = td->n_sept; i-- > 0;)
		reclaim(s, td->lp, td->sept[i].pa);
	td->n_sept = 0;
	for (unsigned i = 0; i < td->n_vcpus; i++) {
		for (unsigned j = 0; j < TDX_TDVPS_PAGES - 1; j++)
			reclaim(s, td->lp, td->vcpu[i].tdcx[j]);
		reclaim(s, td->lp, td->vcpu[i].tdvpr);
	}
	td->n_vcpus = 0;
	for (unsigned i = 0; i < td->n_tdcs; i++)
		reclaim(s, td->lp, td->tdcs[i]);
	td->n_tdcs = 0;
	reclaim(s, td->lp, td->tdr);
	struct tdx_module_args w = { .rcx = tsim_keyed_pa(e, td->tdr, e->first_keyid) };
	call_ok(s, td->lp, TDH_PHYMEM_PAGE_WBINVD, &w);
	unsigned type = tsim_page_type(e, td->tdr);
	TSIM_CHECK_MSG(type == PT_NDA, "tsim_td_teardown: TDR 0x%llx is PAMT type %u after reclaim, not PT_NDA",
		       (unsigned long long)td->tdr, type);
}
