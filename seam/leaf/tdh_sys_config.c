/*
 * TDH.SYS.CONFIG (45): accept the host's TDMRs, their PAMTs and the global
 * private KeyID. RCX = PA of a u64 array of TDMR_INFO PAs (512-aligned),
 * RDX = count (1..64), R8 = global KeyID. Checks in the module's order; TDMR
 * errors carry the TDMR index in bits 7:0, a reserved-area or PAMT level in
 * 15:8 and a second TDMR index in 23:16.
 */
#include <string.h>

#include "seam/seam_mem.h"
#include "seam/td.h"

static uint64_t err3(uint64_t status, unsigned a, unsigned b, unsigned c)
{
	return status | (a & 0xFF) | ((b & 0xFF) << 8) | ((c & 0xFF) << 16);
}

static int overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Is [base, base+size) inside one CMR (adjacent CMRs merged)? */
static int in_cmrs(const struct tdxsim *s, uint64_t base, uint64_t size)
{
	const tdxsim_config *c = &s->cfg;
	for (uint32_t i = 0; i < c->n_cmrs; i++) {
		uint64_t lo = c->cmrs[i].base, hi = lo + c->cmrs[i].size;
		while (i + 1 < c->n_cmrs && c->cmrs[i + 1].base == hi)
			hi += c->cmrs[++i].size;
		if (base >= lo && base + size <= hi)
			return 1;
	}
	return 0;
}

/* Calls fn on each available (non-reserved) sub-range of a TDMR; stops on non-zero. */
static int for_each_avail(const struct tdx_tdmr_info *t,
			  int (*fn)(void *arg, uint64_t base, uint64_t size), void *arg)
{
	uint64_t cur = t->base, end = t->base + t->size;
	for (unsigned j = 0; j < TDX_MAX_RESERVED_PER_TDMR && t->reserved[j].size; j++) {
		uint64_t rb = t->base + t->reserved[j].offset;
		if (rb > cur) {
			int r = fn(arg, cur, rb - cur);
			if (r)
				return r;
		}
		cur = rb + t->reserved[j].size;
	}
	if (cur < end)
		return fn(arg, cur, end - cur);
	return 0;
}

struct ov_arg {
	uint64_t base, size;
};
static int ov_fn(void *arg, uint64_t base, uint64_t size)
{
	struct ov_arg *a = arg;
	return overlap(a->base, a->size, base, size);
}
static int avail_overlaps(const struct tdx_tdmr_info *t, uint64_t base, uint64_t size)
{
	struct ov_arg a = { base, size };
	return for_each_avail(t, ov_fn, &a);
}

static int cmr_fn(void *arg, uint64_t base, uint64_t size)
{
	return !in_cmrs(arg, base, size);
}

static const uint64_t granule[3] = { 1ULL << 12, 1ULL << 21, 1ULL << 30 };

static uint64_t pamt_base(const struct tdx_tdmr_info *t, unsigned pt)
{
	return pt == TDX_PS_4K ? t->pamt_4k_base : pt == TDX_PS_2M ? t->pamt_2m_base : t->pamt_1g_base;
}
static uint64_t pamt_size(const struct tdx_tdmr_info *t, unsigned pt)
{
	return pt == TDX_PS_4K ? t->pamt_4k_size : pt == TDX_PS_2M ? t->pamt_2m_size : t->pamt_1g_size;
}

static uint64_t check_tdmr(struct tdxsim *s, const struct tdx_tdmr_info *all, unsigned i)
{
	const struct tdx_tdmr_info *t = &all[i];
	const uint64_t max = 1ULL << SEAM_MAX_PA;

	if (t->base + t->size < t->base)
		return err3(TDX_INVALID_TDMR, i, 0, 0);
	if (i && t->base < all[i - 1].base)
		return err3(TDX_NON_ORDERED_TDMR, i, 0, 0);
	if (i && t->base < all[i - 1].base + all[i - 1].size)
		return err3(TDX_NON_ORDERED_TDMR, i, 0, 0);
	if ((t->base | t->size) & (TDX_1G - 1) || !t->size)
		return err3(TDX_INVALID_TDMR, i, 0, 0);
	if (!seam_pa_private_ok(s, t->base, 1) || !seam_pa_private_ok(s, t->base + t->size - 1, 1))
		return err3(TDX_INVALID_TDMR, i, 0, 0);

	/* Reserved areas: 4K granular, ascending, disjoint, inside; a null entry ends the list. */
	int ended = 0;
	for (unsigned j = 0; j < TDX_MAX_RESERVED_PER_TDMR; j++) {
		const struct tdx_tdmr_reserved_area *r = &t->reserved[j];
		if (!r->size) {
			ended = 1;
			continue;
		}
		if (ended)
			return err3(TDX_NON_ORDERED_RESERVED_IN_TDMR, i, j, 0);
		if (r->offset + r->size < r->offset)
			return err3(TDX_INVALID_RESERVED_IN_TDMR, i, j, 0);
		if (j && r->offset < t->reserved[j - 1].offset)
			return err3(TDX_NON_ORDERED_RESERVED_IN_TDMR, i, j, 0);
		if (j && r->offset < t->reserved[j - 1].offset + t->reserved[j - 1].size)
			return err3(TDX_NON_ORDERED_RESERVED_IN_TDMR, i, j, 0);
		if ((r->offset | r->size) & (TDX_PAGE_SIZE - 1))
			return err3(TDX_INVALID_RESERVED_IN_TDMR, i, j, 0);
		if (t->base + r->offset < t->base || t->base + r->offset + r->size < t->base ||
		    r->offset + r->size > t->size)
			return err3(TDX_INVALID_RESERVED_IN_TDMR, i, j, 0);
	}

	/* PAMT address and size: 1G, 2M, then 4K. */
	for (int pt = TDX_PS_1G; pt >= TDX_PS_4K; pt--) {
		uint64_t b = pamt_base(t, (unsigned)pt), sz = pamt_size(t, (unsigned)pt);
		if (b + sz < b || (b | sz) & (TDX_PAGE_SIZE - 1) ||
		    b >= max || !seam_pa_private_ok(s, b, 1) ||
		    (sz && (b + sz - 1 >= max || !seam_pa_private_ok(s, b + sz - 1, 1))) ||
		    sz < (t->size / granule[pt]) * PAMT_ENTRY_SIZE)
			return err3(TDX_INVALID_PAMT, i, (unsigned)pt, 0);
	}

	/* PAMT vs earlier TDMRs' PAMTs (this TDMR's 4K, 2M, 1G in turn). */
	for (unsigned j = 0; j < i; j++)
		for (unsigned pt = TDX_PS_4K; pt <= TDX_PS_1G; pt++)
			for (unsigned q = TDX_PS_4K; q <= TDX_PS_1G; q++)
				if (overlap(pamt_base(t, pt), pamt_size(t, pt),
					    pamt_base(&all[j], q), pamt_size(&all[j], q)))
					return err3(TDX_PAMT_OVERLAP, i, pt, j);
	/* This TDMR's own PAMTs. */
	if (overlap(t->pamt_4k_base, t->pamt_4k_size, t->pamt_2m_base, t->pamt_2m_size) ||
	    overlap(t->pamt_4k_base, t->pamt_4k_size, t->pamt_1g_base, t->pamt_1g_size))
		return err3(TDX_PAMT_OVERLAP, i, TDX_PS_4K, i);
	if (overlap(t->pamt_2m_base, t->pamt_2m_size, t->pamt_1g_base, t->pamt_1g_size))
		return err3(TDX_PAMT_OVERLAP, i, TDX_PS_2M, i);

	/* PAMTs vs available (non-reserved) TDMR space, this and earlier TDMRs. */
	for (unsigned j = 0; j <= i; j++) {
		for (unsigned pt = TDX_PS_4K; pt <= TDX_PS_1G; pt++)
			if (avail_overlaps(&all[j], pamt_base(t, pt), pamt_size(t, pt)))
				return err3(TDX_PAMT_OVERLAP, i, pt, j);
		if (j < i)
			for (unsigned pt = TDX_PS_4K; pt <= TDX_PS_1G; pt++)
				if (avail_overlaps(t, pamt_base(&all[j], pt), pamt_size(&all[j], pt)))
					return err3(TDX_PAMT_OVERLAP, j, pt, i);
	}

	/* Each PAMT within one CMR: 1G, 2M, 4K. */
	for (int pt = TDX_PS_1G; pt >= TDX_PS_4K; pt--)
		if (!in_cmrs(s, pamt_base(t, (unsigned)pt), pamt_size(t, (unsigned)pt)))
			return err3(TDX_PAMT_OUTSIDE_CMRS, i, (unsigned)pt, 0);
	/* The available parts of the TDMR within CMRs. */
	if (for_each_avail(t, cmr_fn, s))
		return err3(TDX_TDMR_OUTSIDE_CMRS, i, 0, 0);
	return TDX_SUCCESS;
}

uint64_t seam_tdh_sys_config(struct seam_ctx *c)
{
	struct tdxsim *s = c->s;
	struct seam_module *m = c->m;
	uint64_t array_pa = c->r->rcx, count = c->r->rdx, hkid = c->r->r8;
	uint64_t status;

	if (!seam_global_lock_ex(c))
		return TDX_SYS_BUSY;
	if (seam_state(m) != TDX_SYSINIT_DONE ||
	    atomic_load(&m->lps_initialized) < s->n_lps) {
		status = TDX_SYS_CONFIG_NOT_PENDING;
		goto out;
	}
	if (!seam_pa_shared_ok(s, array_pa, TDX_TDMR_INFO_ALIGN)) {
		status = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (count > TDX_MAX_TDMRS || count < 1) {
		status = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
		goto out;
	}
	if (hkid >> 16 || !seam_keyid_is_private(s, hkid)) {
		status = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);
		goto out;
	}
	/* The module reserves the global KeyID before it validates the TDMRs,
	 * and keeps it reserved if they fail. */
	m->hkid = (uint32_t)hkid;
	atomic_store(&m->kot[hkid].state, KOT_RESERVED);

	uint64_t pas[TDX_MAX_TDMRS];
	struct tdx_tdmr_info infos[TDX_MAX_TDMRS];
	seam_read_pa(s, array_pa, pas, count * sizeof(uint64_t));
	for (unsigned i = 0; i < count; i++) {
		if (!seam_pa_shared_ok(s, pas[i], TDX_TDMR_INFO_ALIGN)) {
			status = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
			goto out;
		}
		seam_read_pa(s, pas[i], &infos[i], sizeof(infos[i]));
		status = check_tdmr(s, infos, i);
		if (status)
			goto out;
	}

	/* ALL CHECKS PASSED */
	for (unsigned i = 0; i < count; i++) {
		struct seam_tdmr *t = &m->tdmr[i];
		const struct tdx_tdmr_info *in = &infos[i];
		t->base = in->base;
		t->size = in->size;
		t->pamt_base[TDX_PS_4K] = in->pamt_4k_base;
		t->pamt_base[TDX_PS_2M] = in->pamt_2m_base;
		t->pamt_base[TDX_PS_1G] = in->pamt_1g_base;
		t->pamt_size[TDX_PS_4K] = in->pamt_4k_size;
		t->pamt_size[TDX_PS_2M] = in->pamt_2m_size;
		t->pamt_size[TDX_PS_1G] = in->pamt_1g_size;
		t->n_rsvd = 0;
		for (unsigned j = 0; j < TDX_MAX_RESERVED_PER_TDMR && in->reserved[j].size; j++)
			t->rsvd[t->n_rsvd++] = in->reserved[j];
		atomic_store(&t->init_off, 0);
		atomic_store(&t->lock.v, 0);
	}
	m->n_tdmrs = (uint32_t)count;
	memset(m->pkg_key_configured, 0, s->n_pkgs);
	m->pkgs_configured = 0;
	seam_charge(c, TDMR_CONFIG, count);
	seam_set_state(m, TDX_SYSCONFIG_DONE);
	status = TDX_SUCCESS;
out:
	seam_unlock_ex(&m->global_lock);
	return status;
}
