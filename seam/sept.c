/*
 * Secure EPT: entries, the walk, the GPA operand checks, the host-side
 * entry locks and the lock/check/walk sequence of the memory leaves, TLB
 * tracking, and the PAMT changes of large-page promote/demote (seam/sept.h).
 */
#include "seam/sept.h"

#include <string.h>

#include "seam/pamt.h"
#include "sim/sim_int.h"

uint64_t sept_make(uint64_t hpa, unsigned state, unsigned level)
{
	(void)level;
	uint64_t e = (hpa & SEPT_HPA_MASK) | ((uint64_t)state << SEPT_STATE_SHIFT);
	if (state == SEPT_FREE)
		return SEPT_ENTRY_FREE;
	if (state & 0x80) {
		/* Non-leaf: present unless blocked. */
		e |= SEPT_SVE;
		if (state == SEPT_NL_MAPPED)
			e |= SEPT_RWX;
		return e;
	}
	/* A leaf at any level carries PS, like the module's leaf encodings. */
	e |= SEPT_PS | SEPT_MT_WB | SEPT_IPAT;
	if (state == SEPT_MAPPED)
		e |= SEPT_RWX;
	else if (state == SEPT_BLOCKEDW)
		e |= SEPT_R | SEPT_X;
	/* PENDING entries are non-present; suppress-#VE depends on the TD
	 * (SEPT_VE_DISABLE) and is set by the caller when it applies. */
	if (state != SEPT_PENDING)
		e |= SEPT_SVE;
	return e;
}

#define SEPT_ARCH_LEAF (SEPT_RWX | (7ULL << 3) | SEPT_IPAT | SEPT_PS | SEPT_HPA_MASK | SEPT_SVE)
#define SEPT_ARCH_NONLEAF (SEPT_RWX | SEPT_PS)

uint64_t sept_arch(uint64_t e)
{
	unsigned st = sept_state(e);
	if (st == SEPT_FREE)
		return SEPT_SVE;
	return e & ((st & 0x80) ? SEPT_ARCH_NONLEAF : SEPT_ARCH_LEAF);
}

static uint64_t with_state(uint64_t e, unsigned st, uint64_t perms)
{
	e &= ~(SEPT_STATE_MASK | SEPT_RWX);
	return e | ((uint64_t)st << SEPT_STATE_SHIFT) | perms;
}

uint64_t sept_block_entry(uint64_t e)
{
	switch (sept_state(e)) {
	case SEPT_NL_MAPPED:
		return with_state(e, SEPT_NL_BLOCKED, 0);
	case SEPT_MAPPED:
	case SEPT_BLOCKEDW:
		return with_state(e, SEPT_BLOCKED, 0);
	case SEPT_PENDING:
		return with_state(e, SEPT_PENDING_BLOCKED, 0);
	default:
		return e;
	}
}

uint64_t sept_unblock_entry(uint64_t e)
{
	switch (sept_state(e)) {
	case SEPT_NL_BLOCKED:
		return with_state(e, SEPT_NL_MAPPED, SEPT_RWX);
	case SEPT_BLOCKED:
		return with_state(e, SEPT_MAPPED, SEPT_RWX);
	case SEPT_PENDING_BLOCKED:
		return with_state(e, SEPT_PENDING, 0);
	default:
		return e;
	}
}

uint64_t sept_read(struct seam_ctx *c, struct seam_td *td, uint64_t entry_pa)
{
	return sim_priv_read64(c->s, &c->lp->crypt, entry_pa, td->hkid);
}

void sept_write(struct seam_ctx *c, struct seam_td *td, uint64_t entry_pa, uint64_t val)
{
	seam_priv_write(c, entry_pa, td->hkid, &val, sizeof(val));
}

void sept_init_page(struct seam_ctx *c, struct seam_td *td, uint64_t page_pa)
{
	uint64_t page[512];
	for (unsigned i = 0; i < 512; i++)
		page[i] = SEPT_ENTRY_FREE;
	seam_priv_write(c, page_pa, td->hkid, page, sizeof(page));
}

bool sept_walk(struct seam_ctx *c, struct seam_td *td, uint64_t gpa, unsigned target,
	       struct sept_walk *w)
{
	uint64_t table = td->tdcx_pa[TD_TDCS_SEPT_ROOT];
	for (int lvl = (int)td->ept_levels - 1;; lvl--) {
		unsigned idx = (unsigned)(gpa >> (12 + 9 * lvl)) & 511;
		w->entry_pa = table + 8ULL * idx;
		w->entry = sept_read(c, td, w->entry_pa);
		w->level = (unsigned)lvl;
		if ((unsigned)lvl == target)
			return true;
		/* Only a present non-leaf entry leads further down: FREE, a
		 * leaf, or a blocked non-leaf (RWX clear) ends the walk. */
		if (lvl == 0 || sept_state(w->entry) != SEPT_NL_MAPPED)
			return false;
		table = sept_hpa(w->entry);
	}
}

void sept_set_ext(struct seam_ctx *c, uint64_t entry, unsigned level)
{
	c->r->rcx = sept_arch(entry);
	c->r->rdx = (level & 7) | ((uint64_t)sept_state(entry) << 8);
}

uint64_t sept_check_gpa(struct seam_ctx *c, struct seam_td *td, uint64_t gpa_lvl,
			unsigned min_lvl, unsigned max_lvl, unsigned op,
			uint64_t *gpa, unsigned *lvl)
{
	(void)c;
	unsigned l = gpa_lvl & 7;
	uint64_t g = gpa_lvl & ~7ULL;
	unsigned gpa_width = td->gpaw ? 52 : 48;       /* the shared bit is width - 1 */
	if (l < min_lvl || l > max_lvl || l >= td->ept_levels ||
	    (gpa_lvl & 0xFF8ULL) ||                     /* bits 11:3 reserved */
	    (g & (sept_level_size(l) - 1)) ||
	    (g >> gpa_width) ||
	    (g & seam_td_shared_bit(td)))
		return tdx_status_op(TDX_OPERAND_INVALID, op);
	*gpa = g;
	*lvl = l;
	return TDX_SUCCESS;
}

/*
 * The table of held host locks: an entry PA (8-byte aligned) for one entry,
 * or an S-EPT page PA | 1 for all 512 entries of that page. The guard is
 * held only for a few loads, so taking it spins instead of failing.
 */
#define SEPT_PAGE_LOCK 1ULL

static void guard_take(struct seam_td *td)
{
	while (!seam_lock_try_ex(&td->sept_entry_guard))
		;
}

/* Is pa (an entry, or a page | SEPT_PAGE_LOCK) in conflict with a held lock? */
static bool lock_conflicts(const struct seam_td *td, uint64_t pa)
{
	uint64_t page = pa & ~0xFFFULL;
	bool whole = pa & SEPT_PAGE_LOCK;
	for (int i = 0; i < 64; i++) {
		uint64_t h = td->sept_locked[i];
		if (!h)
			continue;
		if ((whole || (h & SEPT_PAGE_LOCK)) ? (h & ~0xFFFULL) == page : h == pa)
			return true;
	}
	return false;
}

static bool lock_take(struct seam_ctx *c, struct seam_td *td, uint64_t pa)
{
	if (seam_fault(c, TDX_LEAF_F_OPLOCK))
		return false;
	guard_take(td);
	bool ok = !lock_conflicts(td, pa);
	if (ok) {
		int i = 0;
		while (i < 64 && td->sept_locked[i])
			i++;
		/* More holders than slots (over 64 LPs in one TD at once):
		 * answer busy rather than wait, as the module never waits. */
		if (i == 64)
			ok = false;
		else
			td->sept_locked[i] = pa;
	}
	seam_unlock_ex(&td->sept_entry_guard);
	return ok;
}

static void lock_drop(struct seam_td *td, uint64_t pa)
{
	guard_take(td);
	for (int i = 0; i < 64; i++)
		if (td->sept_locked[i] == pa) {
			td->sept_locked[i] = 0;
			break;
		}
	seam_unlock_ex(&td->sept_entry_guard);
}

bool sept_entry_trylock(struct seam_ctx *c, struct seam_td *td, uint64_t entry_pa)
{
	return lock_take(c, td, entry_pa);
}

void sept_entry_unlock(struct seam_td *td, uint64_t entry_pa)
{
	lock_drop(td, entry_pa);
}

bool sept_page_trylock(struct seam_ctx *c, struct seam_td *td, uint64_t page_pa)
{
	return lock_take(c, td, page_pa | SEPT_PAGE_LOCK);
}

void sept_page_unlock(struct seam_td *td, uint64_t page_pa)
{
	lock_drop(td, page_pa | SEPT_PAGE_LOCK);
}

bool sept_entry_is_locked(struct seam_td *td, uint64_t entry_pa)
{
	guard_take(td);
	bool locked = lock_conflicts(td, entry_pa);
	seam_unlock_ex(&td->sept_entry_guard);
	return locked;
}

/* ---- Lock, check and walk ---------------------------------------------------- */

static uint64_t lock_walk(struct seam_ctx *c, struct seam_td *td, uint64_t gpa,
			  unsigned level, unsigned op, int tree_mode, unsigned flags,
			  struct sept_walk *w)
{
	if (!seam_lock_mode(c, &td->sept_lock, tree_mode))
		return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_SEPT_TREE);
	w->tree_mode = tree_mode;
	bool reached;
	if (flags & SEPT_LW_LEAF) {
		sept_walk(c, td, gpa, 0, w);
		unsigned st = sept_state(w->entry);
		reached = sept_is_leaf_state(st) && (sept_arch(w->entry) & SEPT_RWX);
	} else {
		reached = sept_walk(c, td, gpa, level, w);
	}
	if (!reached) {
		sept_set_ext(c, w->entry, w->level);
		sept_unlock_walk(td, w);
		return tdx_status_op(TDX_EPT_WALK_FAILED, op);
	}
	if (flags & SEPT_LW_ENTRY) {
		if (!sept_entry_trylock(c, td, w->entry_pa)) {
			sept_set_ext(c, w->entry, w->level);
			sept_unlock_walk(td, w);
			return tdx_status_op(TDX_OPERAND_BUSY, op);
		}
		w->entry_locked = true;
		/* The value that counts is the one read under the lock. */
		w->entry = sept_read(c, td, w->entry_pa);
	}
	return TDX_SUCCESS;
}

static bool gpa_private_ok(const struct seam_td *td, uint64_t gpa)
{
	unsigned gpa_width = td->gpaw ? 52 : 48;
	return !(gpa >> gpa_width) && !(gpa & seam_td_shared_bit(td));
}

uint64_t sept_lock_walk(struct seam_ctx *c, struct seam_td *td, uint64_t gpa_lvl,
			unsigned min_lvl, unsigned max_lvl, unsigned op, int tree_mode,
			unsigned flags, struct sept_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->tree_mode = -1;
	uint64_t gpa;
	unsigned lvl;
	uint64_t st = sept_check_gpa(c, td, gpa_lvl, min_lvl, max_lvl, op, &gpa, &lvl);
	if (st)
		return st;
	w->gpa = gpa;
	return lock_walk(c, td, gpa, lvl, op, tree_mode, flags, w);
}

uint64_t sept_lock_walk_gpa(struct seam_ctx *c, struct seam_td *td, uint64_t gpa,
			    unsigned level, unsigned op, int tree_mode, unsigned flags,
			    struct sept_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->tree_mode = -1;
	if (!gpa_private_ok(td, gpa))
		return tdx_status_op(TDX_OPERAND_INVALID, op);
	w->gpa = gpa;
	uint64_t g = (flags & SEPT_LW_LEAF) ? gpa & ~(TDX_PAGE_SIZE - 1)
					    : gpa & ~(sept_level_size(level) - 1);
	return lock_walk(c, td, g, level, op, tree_mode, flags, w);
}

void sept_unlock_walk(struct seam_td *td, struct sept_walk *w)
{
	if (w->entry_locked) {
		sept_entry_unlock(td, w->entry_pa);
		w->entry_locked = false;
	}
	if (w->tree_mode >= 0) {
		seam_unlock_mode(&td->sept_lock, w->tree_mode);
		w->tree_mode = -1;
	}
}

void sept_walk_write(struct seam_ctx *c, struct seam_td *td, struct sept_walk *w, uint64_t val)
{
	sept_write(c, td, w->entry_pa, val);
	w->entry = val;
}

/* ---- TLB tracking ------------------------------------------------------------ */

bool sept_tlb_tracked(struct seam_td *td, uint64_t bepoch)
{
	uint64_t epoch = atomic_load_explicit(&td->td_epoch, memory_order_acquire);
	if (bepoch + 1 < epoch)
		return true;
	return bepoch + 1 == epoch &&
	       atomic_load_explicit(&td->refcount[bepoch & 1], memory_order_acquire) == 0;
}

/* ---- Leaf prologue, OP_STATE rule, PAMT of mapped pages ---------------------- */

uint64_t sept_td_enter(struct seam_ctx *c, uint64_t tdr_pa, unsigned op,
		       struct seam_page *tdr, struct seam_td **td)
{
	uint64_t st = seam_tdr_get(c, tdr_pa, op, SEAM_LOCK_SHARED, tdr, td);
	if (st)
		return st;
	st = seam_td_check_state(c, *td, SEAM_LOCK_SHARED);
	if (st)
		seam_page_unlock(tdr);
	return st;
}

void sept_td_exit(struct seam_page *tdr, struct seam_td *td)
{
	seam_td_state_unlock(td, SEAM_LOCK_SHARED);
	seam_page_unlock(tdr);
}

uint64_t sept_gpa_leaf_enter(struct seam_ctx *c, unsigned max_lvl, int tree_mode,
			     struct seam_page *tdr_p, struct seam_td **td, struct sept_walk *w)
{
	struct tdx_module_args *r = c->r;
	uint64_t gpa_lvl = r->rcx, tdr_pa = r->rdx;
	uint64_t st;

	*w = (struct sept_walk){ .tree_mode = -1 };
	r->rcx = r->rdx = 0;
	st = sept_td_enter(c, tdr_pa, TDX_OPERAND_ID_RDX, tdr_p, td);
	if (st)
		return st;
	if (max_lvl >= (*td)->ept_levels)
		max_lvl = (*td)->ept_levels - 1;
	st = sept_lock_walk(c, *td, gpa_lvl, 0, max_lvl, TDX_OPERAND_ID_RCX, tree_mode,
			    SEPT_LW_ENTRY, w);
	if (st) {
		sept_unlock_walk(*td, w);
		sept_td_exit(tdr_p, *td);
	}
	return st;
}

bool sept_tracking_required(const struct seam_td *td)
{
	switch (atomic_load_explicit(&td->op_state, memory_order_acquire)) {
	case OP_RUNNABLE:
	case OP_LIVE_EXPORT:
	case OP_LIVE_IMPORT:
		return true;
	default:
		return false;
	}
}

struct tdx_pamt_entry *sept_pamt_entry(struct seam_ctx *c, uint64_t pa, unsigned ps)
{
	struct seam_tdmr *t = pamt_get_block(c->m, pa);
	SIM_BUG_ON(!t);
	return pamt_entry(c->s, t, pa, ps);
}

/* Type and owner of an entry whose lock the caller holds or does not need;
 * the lock bits are kept. */
static void pamt_retype(struct tdx_pamt_entry *e, unsigned type, uint64_t owner_pa)
{
	uint64_t v = ((uint64_t)type << PAMT_TYPE_SHIFT) | ((owner_pa >> 12) << PAMT_OWNER_SHIFT);
	uint64_t old = __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&e->w0, &old, (old & PAMT_LOCK_MASK) | v, 1,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

uint64_t sept_pamt_promote(struct seam_ctx *c, uint64_t pa, unsigned ps)
{
	struct seam_page big;
	if (seam_page_get(c, pa, 0, ps, SEAM_LOCK_EXCLUSIVE, -1, &big))
		return TDX_OPERAND_BUSY;
	struct tdx_pamt_entry *child = pamt_entry(c->s, big.tdmr, pa, ps - 1);
	struct tdx_pamt_entry first = { .w0 = __atomic_load_n(&child->w0, __ATOMIC_ACQUIRE) };
	pamt_retype(big.e, pamt_type(&first), pamt_owner_pa(&first));
	for (unsigned i = 0; i < 512; i++)
		pamt_retype(&child[i], PT_NDA, 0);
	seam_page_unlock(&big);
	return TDX_SUCCESS;
}

uint64_t sept_pamt_demote(struct seam_ctx *c, uint64_t pa, unsigned ps)
{
	struct seam_page big;
	if (seam_page_get(c, pa, 0, ps, SEAM_LOCK_EXCLUSIVE, -1, &big))
		return TDX_OPERAND_BUSY;
	struct tdx_pamt_entry *child = pamt_entry(c->s, big.tdmr, pa, ps - 1);
	unsigned type = pamt_type(big.e);
	uint64_t owner = pamt_owner_pa(big.e);
	for (unsigned i = 0; i < 512; i++) {
		pamt_retype(&child[i], type, owner);
		child[i].bepoch = 0;
	}
	pamt_retype(big.e, PT_NDA, 0);
	seam_page_unlock(&big);
	return TDX_SUCCESS;
}
