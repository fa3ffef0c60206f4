/*
 * TD-scope helpers shared by the TD leaves: the object table, explicit page
 * operands, the TDR/TDCS state check with the OP_STATE matrix, private-KeyID
 * memory access and the MRTD hash.
 */
/* SHA384_*: the low-level interface, whose context is plain data. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "seam/td.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "seam/seam_mem.h"
#include "seam/vp_enter.h"
#include "sim/sim_int.h"

/* ---- Object table ---------------------------------------------------------- */

void *seam_obj_get(struct seam_module *m, uint64_t pa)
{
	uint64_t pfn = pa >> 12;
	if (pfn >= m->obj_pages)
		return NULL;
	return atomic_load_explicit(&m->obj[pfn], memory_order_acquire);
}

void seam_obj_set(struct seam_module *m, uint64_t pa, void *obj)
{
	uint64_t pfn = pa >> 12;
	SIM_BUG_ON(pfn >= m->obj_pages);
	atomic_store_explicit(&m->obj[pfn], obj, memory_order_release);
}

struct seam_td *seam_td_alloc(struct seam_module *m, uint64_t tdr_pa, uint32_t hkid)
{
	struct seam_td *td = calloc(1, sizeof(*td));
	if (!td)
		return NULL;
	if (SHA384_Init(&td->mrtd_sha) != 1) {
		free(td);
		return NULL;
	}
	td->obj_type = SEAM_OBJ_TD;
	td->tdr_pa = tdr_pa;
	td->hkid = hkid;
	pthread_mutex_lock(&m->obj_mutex);
	td->all_next = m->all_tds;
	if (m->all_tds)
		m->all_tds->all_prev = td;
	m->all_tds = td;
	pthread_mutex_unlock(&m->obj_mutex);
	seam_obj_set(m, tdr_pa, td);
	return td;
}

void seam_td_free(struct seam_module *m, struct seam_td *td)
{
	if (!td)
		return;
	seam_obj_set(m, td->tdr_pa, NULL);
	pthread_mutex_lock(&m->obj_mutex);
	if (td->all_prev)
		td->all_prev->all_next = td->all_next;
	else
		m->all_tds = td->all_next;
	if (td->all_next)
		td->all_next->all_prev = td->all_prev;
	pthread_mutex_unlock(&m->obj_mutex);
	seam_td_run_free(td->run);
	free(td->vcpus);
	free(td);
}

struct seam_vcpu *seam_vcpu_alloc(struct seam_module *m, struct seam_td *td, uint64_t tdvpr_pa)
{
	struct seam_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->obj_type = SEAM_OBJ_VCPU;
	v->td = td;
	v->tdvpr_pa = tdvpr_pa;
	atomic_init(&v->assoc_lp, -1);
	pthread_mutex_lock(&m->obj_mutex);
	v->all_next = m->all_vcpus;
	if (m->all_vcpus)
		m->all_vcpus->all_prev = v;
	m->all_vcpus = v;
	pthread_mutex_unlock(&m->obj_mutex);
	seam_obj_set(m, tdvpr_pa, v);
	return v;
}

void seam_vcpu_free(struct seam_module *m, struct seam_vcpu *v)
{
	if (!v)
		return;
	seam_obj_set(m, v->tdvpr_pa, NULL);
	pthread_mutex_lock(&m->obj_mutex);
	if (v->all_prev)
		v->all_prev->all_next = v->all_next;
	else
		m->all_vcpus = v->all_next;
	if (v->all_next)
		v->all_next->all_prev = v->all_prev;
	pthread_mutex_unlock(&m->obj_mutex);
	seam_vcpu_run_free(v->run);
	free(v);
}

void seam_td_free_all(struct seam_module *m)
{
	while (m->all_vcpus)
		seam_vcpu_free(m, m->all_vcpus);
	while (m->all_tds)
		seam_td_free(m, m->all_tds);
}

/* ---- PAMT locking ------------------------------------------------------------ */

/* Entry lock word (bits 15:0 of w0): bit 0 exclusive, bit 1 host priority,
 * 15:2 shared holders (as seam/pamt.c). */
static int entry_trylock(struct tdx_pamt_entry *e, int mode)
{
	uint64_t old = __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
	for (;;) {
		uint64_t lk = old & PAMT_LOCK_MASK;
		uint64_t nw;
		if (mode == SEAM_LOCK_EXCLUSIVE) {
			if (lk & ~2ULL)
				return 0;
			nw = (old & ~PAMT_LOCK_MASK) | 1;
		} else {
			if (lk & 1)
				return 0;
			nw = old + 4;
		}
		if (__atomic_compare_exchange_n(&e->w0, &old, nw, 1, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 1;
	}
}

static void entry_unlock(struct tdx_pamt_entry *e, int mode)
{
	if (mode == SEAM_LOCK_EXCLUSIVE)
		__atomic_fetch_and(&e->w0, ~PAMT_LOCK_MASK, __ATOMIC_RELEASE);
	else
		__atomic_fetch_sub(&e->w0, 4, __ATOMIC_RELEASE);
}

void seam_page_unlock(struct seam_page *p)
{
	if (!p->n_held)
		return;
	/* The last held entry is the leaf, in p->mode; the others shared. */
	entry_unlock(p->held[p->n_held - 1], p->mode);
	for (int i = p->n_held - 2; i >= 0; i--)
		entry_unlock(p->held[i], SEAM_LOCK_SHARED);
	p->n_held = 0;
	p->e = NULL;
}

uint64_t seam_page_get(struct seam_ctx *c, uint64_t pa, unsigned op, unsigned ps, int mode,
		       int expect_type, struct seam_page *p)
{
	static const uint64_t size[3] = { TDX_PAGE_SIZE, TDX_2M, TDX_1G };
	memset(p, 0, sizeof(*p));
	p->pa = pa;
	p->ps = ps;
	p->mode = mode;
	if (ps > TDX_PS_1G || !seam_pa_private_ok(c->s, pa, size[ps]))
		return tdx_status_op(TDX_OPERAND_INVALID, op);
	struct seam_tdmr *t = pamt_get_block(c->m, pa);
	if (!t || pa + size[ps] - t->base > t->size)
		return tdx_status_op(TDX_OPERAND_ADDR_RANGE_ERROR, op);
	p->tdmr = t;
	if (seam_fault(c, TDX_LEAF_F_OPLOCK))
		return tdx_status_op(TDX_OPERAND_BUSY, op);
	/* Walk 1G -> ps: parents shared, the leaf in mode. A parent that is
	 * itself a leaf (a large TD page) ends the walk: the page is part of it. */
	for (int lvl = TDX_PS_1G; lvl >= (int)ps; lvl--) {
		struct tdx_pamt_entry *e = pamt_entry(c->s, t, pa, (unsigned)lvl);
		int m = lvl == (int)ps ? mode : SEAM_LOCK_SHARED;
		if (!entry_trylock(e, m)) {
			/* unlock what we hold: the last held is shared here */
			while (p->n_held)
				entry_unlock(p->held[--p->n_held], SEAM_LOCK_SHARED);
			return tdx_status_op(TDX_OPERAND_BUSY, op);
		}
		p->held[p->n_held++] = e;
		if (lvl != (int)ps && pamt_type(e) != PT_NDA) {
			/* A larger page covers pa: wrong size for this operand. */
			entry_unlock(e, SEAM_LOCK_SHARED);
			p->n_held--;
			while (p->n_held)
				entry_unlock(p->held[--p->n_held], SEAM_LOCK_SHARED);
			return tdx_status_op(TDX_PAGE_METADATA_INCORRECT, op);
		}
	}
	p->e = p->held[p->n_held - 1];
	if (expect_type >= 0 && pamt_type(p->e) != (unsigned)expect_type) {
		seam_page_unlock(p);
		return tdx_status_op(TDX_PAGE_METADATA_INCORRECT, op);
	}
	return TDX_SUCCESS;
}

void seam_page_set(struct seam_ctx *c, struct seam_page *p, unsigned type, uint64_t owner_pa)
{
	SIM_BUG_ON(!p->e || p->mode != SEAM_LOCK_EXCLUSIVE);
	/* Leaving the TD: the host may now look at the raw page, so lazily
	 * zeroed pages get their ciphertext (sim/mktme.h). */
	if (type == PT_NDA || type == PT_RSVD)
		sim_mem_settle(c->s, &c->lp->crypt, p->pa, (uint64_t)TDX_PAGE_SIZE << (9 * p->ps));
	uint64_t lock = __atomic_load_n(&p->e->w0, __ATOMIC_RELAXED) & PAMT_LOCK_MASK;
	uint64_t w0 = lock | ((uint64_t)type << PAMT_TYPE_SHIFT) |
		      ((owner_pa >> 12) << PAMT_OWNER_SHIFT);
	__atomic_store_n(&p->e->w0, w0, __ATOMIC_RELEASE);
	__atomic_store_n(&p->e->bepoch, 0, __ATOMIC_RELAXED);
	if (c->s->checker)
		sim_checker_page(c->s, p->pa, (uint64_t)TDX_PAGE_SIZE << (9 * p->ps),
				 type != PT_NDA && type != PT_RSVD);
}

/* ---- TDR / TDCS -------------------------------------------------------------- */

uint64_t seam_tdr_get(struct seam_ctx *c, uint64_t tdr_pa, unsigned op, int mode,
		      struct seam_page *p, struct seam_td **td)
{
	*td = NULL;
	uint64_t st = seam_page_get(c, tdr_pa, op, TDX_PS_4K, mode, PT_TDR, p);
	if (st)
		return st;
	*td = seam_obj_get(c->m, tdr_pa);
	SIM_BUG_ON(!*td || (*td)->obj_type != SEAM_OBJ_TD);
	return TDX_SUCCESS;
}

bool seam_lock_mode(struct seam_ctx *c, seam_lock_t *l, int mode)
{
	if (seam_fault(c, TDX_LEAF_F_OPLOCK))
		return false;
	return mode == SEAM_LOCK_EXCLUSIVE ? seam_lock_try_ex(l) : seam_lock_try_sh(l);
}

void seam_unlock_mode(seam_lock_t *l, int mode)
{
	if (mode == SEAM_LOCK_EXCLUSIVE)
		seam_unlock_ex(l);
	else
		seam_unlock_sh(l);
}

/*
 * The allowed-leaf matrix (tdx-abi.md 6.2, module 1.5.01 op_state_lookup,
 * including its migration states, which tdxsim never enters yet): one bit
 * per OP_STATE for each leaf that runs the common TD state check. Leaves
 * absent here (MNG.CREATE, MNG.KEY.CONFIG, VPFLUSHDONE, KEY.FREEID, RDMD,
 * PAGE.RECLAIM, CACHE.WB, PAGE.WBINVD) do not run it.
 */
#define OPS(x) (1u << (x))
#define OP_ANY   0x7FFu
static const uint16_t op_state_matrix[TDX_SEAMCALL_LEAF_MAX] = {
	[TDH_MNG_ADDCX]         = OPS(OP_UNINITIALIZED),
	[TDH_MNG_INIT]          = OPS(OP_UNINITIALIZED),
	[TDH_VP_CREATE]         = OPS(OP_INITIALIZED) | OPS(OP_STATE_IMPORT),
	[TDH_VP_ADDCX]          = OPS(OP_INITIALIZED) | OPS(OP_STATE_IMPORT),
	[TDH_VP_INIT]           = OPS(OP_INITIALIZED),
	[TDH_MEM_PAGE_ADD]      = OPS(OP_INITIALIZED),
	[TDH_MR_EXTEND]         = OPS(OP_INITIALIZED),
	[TDH_MR_FINALIZE]       = OPS(OP_INITIALIZED),
	[TDH_MEM_SEPT_ADD]      = OPS(OP_INITIALIZED) | OPS(OP_RUNNABLE),
	[TDH_MEM_PAGE_AUG]      = OPS(OP_INITIALIZED) | OPS(OP_RUNNABLE),
	[TDH_MEM_RANGE_BLOCK]   = OPS(OP_INITIALIZED) | OPS(OP_RUNNABLE),
	[TDH_MEM_RANGE_UNBLOCK] = OPS(OP_INITIALIZED) | OPS(OP_RUNNABLE),
	[TDH_MEM_PAGE_REMOVE]   = OPS(OP_INITIALIZED) | OPS(OP_RUNNABLE),
	[TDH_MEM_SEPT_REMOVE]   = OP_ANY & ~OPS(OP_UNINITIALIZED),
	[TDH_MEM_PAGE_PROMOTE]  = OPS(OP_INITIALIZED) | OPS(OP_RUNNABLE),
	[TDH_MEM_PAGE_DEMOTE]   = OPS(OP_INITIALIZED) | OPS(OP_RUNNABLE),
	[TDH_MEM_TRACK]         = OPS(OP_INITIALIZED) | OPS(OP_RUNNABLE),
	[TDH_VP_WR]             = OP_ANY & ~(OPS(OP_UNINITIALIZED) | OPS(OP_PAUSED_EXPORT) |
					     OPS(OP_POST_EXPORT)),
	[TDH_MNG_WR]            = OP_ANY & ~(OPS(OP_UNINITIALIZED) | OPS(OP_PAUSED_EXPORT) |
					     OPS(OP_POST_EXPORT)),
	[TDH_MEM_RD]            = OP_ANY & ~OPS(OP_UNINITIALIZED),
	[TDH_MEM_WR]            = OP_ANY & ~(OPS(OP_UNINITIALIZED) | OPS(OP_PAUSED_EXPORT) |
					     OPS(OP_POST_EXPORT)),
	[TDH_MEM_SEPT_RD]       = OP_ANY & ~OPS(OP_UNINITIALIZED),
	[TDH_MNG_RD]            = OP_ANY & ~OPS(OP_UNINITIALIZED),
	[TDH_VP_RD]             = OP_ANY & ~OPS(OP_UNINITIALIZED),
	[TDH_VP_FLUSH]          = OP_ANY,
	[TDH_VP_ENTER]          = OPS(OP_RUNNABLE) | OPS(OP_LIVE_EXPORT) | OPS(OP_LIVE_IMPORT),
};

bool seam_op_state_allowed(unsigned leaf, unsigned op_state)
{
	return leaf < TDX_SEAMCALL_LEAF_MAX && op_state < OP_STATE_COUNT &&
	       (op_state_matrix[leaf] >> op_state) & 1;
}

uint64_t seam_td_check_state(struct seam_ctx *c, struct seam_td *td, int mode)
{
	if (atomic_load_explicit(&td->fatal, memory_order_acquire))
		return TDX_TD_FATAL;
	if (atomic_load_explicit(&td->lifecycle, memory_order_acquire) != TD_KEYS_CONFIGURED)
		return TDX_TD_KEYS_NOT_CONFIGURED;
	if (td->num_tdcx < TD_TDCS_PAGES)
		return TDX_TDCS_NOT_ALLOCATED;
	if (mode != SEAM_LOCK_NONE && !seam_lock_mode(c, &td->op_state_lock, mode))
		return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_OP_STATE);
	if (!seam_op_state_allowed(c->leaf, atomic_load_explicit(&td->op_state, memory_order_acquire))) {
		seam_td_state_unlock(td, mode);
		return TDX_OP_STATE_INCORRECT;
	}
	return TDX_SUCCESS;
}

void seam_td_state_unlock(struct seam_td *td, int mode)
{
	if (mode != SEAM_LOCK_NONE)
		seam_unlock_mode(&td->op_state_lock, mode);
}

unsigned seam_kot_state(struct seam_module *m, uint32_t hkid)
{
	return atomic_load_explicit(&m->kot[hkid].state, memory_order_acquire);
}

/* ---- Memory through private KeyIDs ------------------------------------------- */

unsigned seam_priv_read(struct seam_ctx *c, uint64_t pa, uint32_t keyid, void *buf, uint64_t len)
{
	return sim_priv_read(c->s, &c->lp->crypt, pa, keyid, buf, len);
}

void seam_priv_write(struct seam_ctx *c, uint64_t pa, uint32_t keyid, const void *buf, uint64_t len)
{
	sim_priv_write(c->s, &c->lp->crypt, pa, keyid, buf, len);
}

void seam_priv_zero(struct seam_ctx *c, uint64_t pa, uint32_t keyid, uint64_t len)
{
	sim_priv_zero(c->s, &c->lp->crypt, pa, keyid, len);
}

void seam_priv_settle(struct seam_ctx *c, uint64_t pa, uint64_t len)
{
	sim_mem_settle(c->s, &c->lp->crypt, pa, len);
}

/* ---- Measurement ---------------------------------------------------------------- */

void seam_mrtd_update(struct seam_td *td, const void *data, uint64_t len)
{
	SIM_BUG_ON(SHA384_Update(&td->mrtd_sha, data, len) != 1);
}

void seam_mrtd_final(struct seam_td *td)
{
	SIM_BUG_ON(SHA384_Final(td->mrtd, &td->mrtd_sha) != 1);
}
