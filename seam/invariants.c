/*
 * Module invariants, checked from outside a SEAMCALL (tests, fuzzers, soak):
 * for every TD,
 *  - every page the TD's structures name (TDR, TDCS, TDVPR/TDCX, S-EPT
 *    tables, private pages reached through the S-EPT) has the PAMT type and
 *    owner the module gave it;
 *  - the TDR child count equals the pages found (TDCS pages, vCPU pages,
 *    S-EPT tables below the root, private pages in 4 KiB units), while the
 *    TD still has its KeyID (reclaim during TEARDOWN takes pages away from
 *    structures that are no longer walked);
 *  - the KOT entry agrees with the lifecycle, and the count of associated
 *    vCPUs with the vCPUs' own association.
 * The walk reads the S-EPT through the TD's KeyID with a temporary crypto
 * context, so it never disturbs an LP's cache.
 */
#include <stdarg.h>
#include <stdio.h>

#include "seam/sept.h"
#include "sim/sim_int.h"

struct inv {
	tdxsim *s;
	char *msg;
	size_t len;
	int bad;
};

static void fail(struct inv *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct inv *v, const char *fmt, ...)
{
	if (v->bad++)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->msg, v->len, fmt, ap);
	va_end(ap);
}

/* PAMT type/owner/size of pa from a lock-free read of its entries. */
static int pamt_of(tdxsim *s, uint64_t pa, unsigned *type, uint64_t *owner, unsigned *ps)
{
	struct seam_tdmr *t = pamt_get_block(&s->mod, pa);
	if (!t)
		return -1;
	for (int lvl = TDX_PS_1G; lvl >= TDX_PS_4K; lvl--) {
		struct tdx_pamt_entry *e = pamt_entry(s, t, pa, (unsigned)lvl);
		uint64_t w0 = __atomic_load_n(&e->w0, __ATOMIC_ACQUIRE);
		struct tdx_pamt_entry c = { .w0 = w0 };
		if (lvl == TDX_PS_4K || pamt_type(&c) != PT_NDA) {
			*type = pamt_type(&c);
			*owner = pamt_owner_pa(&c);
			*ps = (unsigned)lvl;
			return 0;
		}
	}
	return -1;
}

static void expect_page(struct inv *v, const struct seam_td *td, uint64_t pa, unsigned type,
			unsigned ps, const char *what)
{
	unsigned t, s;
	uint64_t o;
	uint64_t owner = type == PT_TDR ? 0 : td->tdr_pa;
	if (pamt_of(v->s, pa, &t, &o, &s))
		fail(v, "TD 0x%llx: %s 0x%llx is outside every initialised TDMR",
		     (unsigned long long)td->tdr_pa, what, (unsigned long long)pa);
	else if (t != type || o != owner || s != ps)
		fail(v, "TD 0x%llx: %s 0x%llx has PAMT type %u owner 0x%llx size %u, want type %u "
		     "owner 0x%llx size %u", (unsigned long long)td->tdr_pa, what,
		     (unsigned long long)pa, t, (unsigned long long)o, s, type,
		     (unsigned long long)owner, ps);
}

/* Walk one S-EPT table; returns the child pages found (4 KiB units). */
static uint64_t walk_table(struct inv *v, const struct seam_td *td, uint64_t table, int lvl)
{
	uint64_t ent[512], n = 0;
	sim_priv_read(v->s, NULL, table, td->hkid, ent, sizeof(ent));
	for (unsigned i = 0; i < 512 && !v->bad; i++) {
		unsigned st = sept_state(ent[i]);
		uint64_t hpa = sept_hpa(ent[i]);
		switch (st) {
		case SEPT_FREE:
		case SEPT_REMOVED:
			break;
		case SEPT_NL_MAPPED:
		case SEPT_NL_BLOCKED:
			if (lvl == 0) {
				fail(v, "TD 0x%llx: non-leaf entry at level 0 in S-EPT page 0x%llx",
				     (unsigned long long)td->tdr_pa, (unsigned long long)table);
				break;
			}
			expect_page(v, td, hpa, PT_EPT, TDX_PS_4K, "S-EPT page");
			n += 1 + walk_table(v, td, hpa, lvl - 1);
			break;
		case SEPT_MAPPED: case SEPT_BLOCKED: case SEPT_PENDING:
		case SEPT_PENDING_BLOCKED: case SEPT_BLOCKEDW:
			if (lvl > 2) {
				fail(v, "TD 0x%llx: leaf at level %d", (unsigned long long)td->tdr_pa, lvl);
				break;
			}
			expect_page(v, td, hpa, PT_REG, (unsigned)lvl, "private page");
			n += 1ULL << (9 * lvl);
			break;
		default:
			fail(v, "TD 0x%llx: S-EPT entry 0x%llx (page 0x%llx index %u) has unknown state 0x%x",
			     (unsigned long long)td->tdr_pa, (unsigned long long)ent[i],
			     (unsigned long long)table, i, st);
		}
	}
	return n;
}

static void check_td(struct inv *v, struct seam_td *td)
{
	tdxsim *s = v->s;
	unsigned life = atomic_load(&td->lifecycle);
	unsigned kot = seam_kot_state(&s->mod, td->hkid);
	static const unsigned want_kot[4] = { KOT_ASSIGNED, KOT_ASSIGNED, KOT_FLUSHED, KOT_FREE };
	if (life > TD_TEARDOWN)
		fail(v, "TD 0x%llx: lifecycle %u", (unsigned long long)td->tdr_pa, life);
	else if (life != TD_TEARDOWN && kot != want_kot[life])
		fail(v, "TD 0x%llx: lifecycle %u but KOT[%u] state %u", (unsigned long long)td->tdr_pa,
		     life, td->hkid, kot);
	expect_page(v, td, td->tdr_pa, PT_TDR, TDX_PS_4K, "TDR");
	if (life == TD_TEARDOWN)
		return;
	uint64_t n = 0;
	for (unsigned i = 0; i < td->num_tdcx; i++, n++)
		expect_page(v, td, td->tdcx_pa[i], PT_TDCX, TDX_PS_4K, "TDCS page");
	unsigned assoc = 0;
	pthread_mutex_lock(&s->mod.obj_mutex);
	for (struct seam_vcpu *vc = s->mod.all_vcpus; vc; vc = vc->all_next) {
		if (vc->td != td)
			continue;
		expect_page(v, td, vc->tdvpr_pa, PT_TDVPR, TDX_PS_4K, "TDVPR");
		n++;
		for (unsigned i = 0; i < vc->num_tdcx; i++, n++)
			expect_page(v, td, vc->tdcx_pa[i], PT_TDCX, TDX_PS_4K, "TDVPS TDCX page");
		if (atomic_load(&vc->assoc_lp) >= 0)
			assoc++;
	}
	pthread_mutex_unlock(&s->mod.obj_mutex);
	if (assoc != atomic_load(&td->num_assoc_vcpus))
		fail(v, "TD 0x%llx: %u vCPUs associated, TD counts %u", (unsigned long long)td->tdr_pa,
		     assoc, atomic_load(&td->num_assoc_vcpus));
	if (td->num_tdcx > TD_TDCS_SEPT_ROOT && td->ept_levels && sim_key_valid(s, td->hkid))
		n += walk_table(v, td, td->tdcx_pa[TD_TDCS_SEPT_ROOT], (int)td->ept_levels - 1);
	uint64_t cc = atomic_load(&td->chldcnt);
	if (!v->bad && cc != n)
		fail(v, "TD 0x%llx: TDR child count %llu, pages found %llu", (unsigned long long)td->tdr_pa,
		     (unsigned long long)cc, (unsigned long long)n);
}

tdxsim_err tdxsim_check_invariants(tdxsim *s, uint64_t tdr_pa)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	char msg[256] = "";
	struct inv v = { .s = s, .msg = msg, .len = sizeof(msg) };
	if (tdr_pa) {
		struct seam_td *td = seam_obj_get(&s->mod, tdr_pa);
		if (!td || td->obj_type != SEAM_OBJ_TD)
			return sim_error(s, TDXSIM_ERR_NOENT, "no TD with TDR 0x%llx",
					 (unsigned long long)tdr_pa);
		check_td(&v, td);
	} else {
		/* The list is stable while no TD is created or freed concurrently. */
		for (struct seam_td *td = s->mod.all_tds; td && !v.bad; td = td->all_next)
			check_td(&v, td);
	}
	if (v.bad)
		return sim_error(s, TDXSIM_ERR_STATE, "invariant broken: %s", msg);
	return TDXSIM_OK;
}
