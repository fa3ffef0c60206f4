#include "seam/sept.h"

#include <string.h>

#include "sim/sim_int.h"

uint64_t sept_make(uint64_t hpa, unsigned state, unsigned level)
{
	uint64_t e = (hpa & SEPT_HPA_MASK) | ((uint64_t)state << SEPT_STATE_SHIFT);
	if (state == SEPT_FREE)
		return SEPT_ENTRY_FREE;
	if (state & 0x80) {
		/* Non-leaf: present unless blocked. */
		if (state == SEPT_NL_MAPPED)
			e |= SEPT_RWX;
		return e;
	}
	if (level > 0)
		e |= SEPT_PS;
	e |= SEPT_MT_WB | SEPT_IPAT;
	if (state == SEPT_MAPPED)
		e |= SEPT_RWX;
	else if (state == SEPT_BLOCKEDW)
		e |= SEPT_R | SEPT_X;
	/* PENDING entries are non-present; suppress-#VE depends on the TD
	 * (SEPT_VE_DISABLE) and is set by the caller when it applies. */
	return e;
}

uint64_t sept_arch(uint64_t e)
{
	return e & ~SEPT_STATE_MASK;
}

uint64_t sept_read(struct seam_ctx *c, struct seam_td *td, uint64_t entry_pa)
{
	uint64_t v;
	seam_priv_read(c, entry_pa, td->hkid, &v, sizeof(v));
	return v;
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
	unsigned gpa_width = td->ept_levels == 5 ? 52 : 48;
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

bool sept_entry_trylock(struct seam_ctx *c, struct seam_td *td, uint64_t entry_pa)
{
	if (seam_fault(c, TDX_LEAF_F_OPLOCK))
		return false;
	bool ok = true;
	int free_slot = -1;
	/* Internal spin: the guard protects the table only for a few loads. */
	while (!seam_lock_try_ex(&td->sept_entry_guard))
		;
	for (int i = 0; i < 64; i++) {
		if (td->sept_locked[i] == entry_pa) {
			ok = false;
			break;
		}
		if (!td->sept_locked[i] && free_slot < 0)
			free_slot = i;
	}
	if (ok) {
		SIM_BUG_ON(free_slot < 0);
		td->sept_locked[free_slot] = entry_pa;
	}
	seam_unlock_ex(&td->sept_entry_guard);
	return ok;
}

void sept_entry_unlock(struct seam_td *td, uint64_t entry_pa)
{
	while (!seam_lock_try_ex(&td->sept_entry_guard))
		;
	for (int i = 0; i < 64; i++)
		if (td->sept_locked[i] == entry_pa) {
			td->sept_locked[i] = 0;
			break;
		}
	seam_unlock_ex(&td->sept_entry_guard);
}

bool sept_entry_is_locked(struct seam_td *td, uint64_t entry_pa)
{
	bool locked = false;
	while (!seam_lock_try_ex(&td->sept_entry_guard))
		;
	for (int i = 0; i < 64 && !locked; i++)
		locked = td->sept_locked[i] == entry_pa;
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
