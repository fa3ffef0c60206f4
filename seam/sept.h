/*
 * Secure EPT: real EPT paging structures in simulated memory, one 4 KiB
 * page per table, read and written through the TD's private KeyID (so they
 * are encrypted in RAM like the module's). The root is TDCS page 3; with
 * 4-level EPT it is a PML4 (entries of level 3), with 5-level a PML5.
 *
 * Entry layout: the architectural EPT bits (RWX 2:0, memory type 5:3, IPAT
 * 6, PS 7, HPA 51:12, suppress-#VE 63) plus the entry state in bits 59:52.
 * The state byte is tdxsim's own encoding (the module spreads its state over
 * bits the CPU ignores, which a simulator need not copy): it is simply the
 * public S-EPT state code that SEPT.RD and the "ext" error outputs report in
 * RDX 15:8 (FREE 0, BLOCKED 1, PENDING 2, PENDING_BLOCKED 3, MAPPED 4,
 * REMOVED 5, BLOCKEDW 8, NL_BLOCKED 0x81, NL_MAPPED 0x84). Bit 7 of the state
 * is the non-leaf flag. The architectural bits follow the module:
 *   FREE        only suppress-#VE (bit 63)
 *   non-leaf    HPA of the child S-EPT page, suppress-#VE; RWX when
 *               NL_MAPPED, none when NL_BLOCKED
 *   leaf        HPA, WB memory type, IPAT, PS (at every level, 4K PTEs too,
 *               as the module's leaf state encodings include bit 7),
 *               suppress-#VE (PENDING: per the TD, set by the caller);
 *               RWX when MAPPED, R+X when BLOCKEDW, none otherwise.
 * The architectural view (sept_arch, ext output RCX) is what the module
 * reports: FREE -> bit 63 only; non-leaf -> RWX (and PS, always 0) only;
 * leaf -> RWX, memory type, IPAT, PS, HPA, suppress-#VE.
 *
 * Levels as the ABI numbers them: 0 = 4K PTE, 1 = PDE, 2 = PDPTE, 3 = PML4E,
 * 4 = PML5E.
 */
#ifndef SEAM_SEPT_H
#define SEAM_SEPT_H

#include <stdbool.h>
#include <stdint.h>

#include "seam/td.h"

/* Public S-EPT entry states (tdx-abi.md 6.3). */
enum sept_state {
	SEPT_FREE = 0, SEPT_BLOCKED = 1, SEPT_PENDING = 2, SEPT_PENDING_BLOCKED = 3,
	SEPT_MAPPED = 4, SEPT_REMOVED = 5, SEPT_BLOCKEDW = 8,
	SEPT_NL_BLOCKED = 0x81, SEPT_NL_MAPPED = 0x84,
};

#define SEPT_R          (1ULL << 0)
#define SEPT_W          (1ULL << 1)
#define SEPT_X          (1ULL << 2)
#define SEPT_RWX        (SEPT_R | SEPT_W | SEPT_X)
#define SEPT_MT_WB      (6ULL << 3)
#define SEPT_IPAT       (1ULL << 6)
#define SEPT_PS         (1ULL << 7)
#define SEPT_HPA_MASK   0x000FFFFFFFFFF000ULL
#define SEPT_STATE_SHIFT 52
#define SEPT_STATE_MASK (0xFFULL << SEPT_STATE_SHIFT)
#define SEPT_SVE        (1ULL << 63)
/* A FREE entry, as a new S-EPT page is initialised: suppress-#VE set. */
#define SEPT_ENTRY_FREE SEPT_SVE

static inline unsigned sept_state(uint64_t e)
{
	return (unsigned)((e & SEPT_STATE_MASK) >> SEPT_STATE_SHIFT);
}
static inline uint64_t sept_hpa(uint64_t e)
{
	return e & SEPT_HPA_MASK;
}
static inline bool sept_is_leaf_state(unsigned st)
{
	return st != SEPT_FREE && !(st & 0x80);
}
static inline bool sept_is_blocked_state(unsigned st)
{
	return st == SEPT_BLOCKED || st == SEPT_PENDING_BLOCKED || st == SEPT_NL_BLOCKED;
}
/* The blocked form of a NL_MAPPED / MAPPED / BLOCKEDW / PENDING entry
 * (RANGE.BLOCK), and the unblocked form of a blocked one (RANGE.UNBLOCK,
 * DEMOTE): NL_MAPPED <-> NL_BLOCKED, MAPPED/BLOCKEDW -> BLOCKED -> MAPPED,
 * PENDING <-> PENDING_BLOCKED. Other bits are kept; RWX follow the state. */
uint64_t sept_block_entry(uint64_t e);
uint64_t sept_unblock_entry(uint64_t e);
/* Build an entry: a leaf at level > 0 gets PS; present states get RWX. */
uint64_t sept_make(uint64_t hpa, unsigned state, unsigned level);
/* The architectural entry (what the CPU would see; the ext output RCX). */
uint64_t sept_arch(uint64_t e);

/* Size in bytes mapped by an entry of level lvl. */
static inline uint64_t sept_level_size(unsigned lvl)
{
	return 4096ULL << (9 * lvl);
}

/* Where a walk ended. The fields after `level` are filled in by
 * sept_lock_walk() only and say what it holds. */
struct sept_walk {
	uint64_t entry_pa;      /* PA of the entry reached (in its S-EPT page) */
	uint64_t entry;         /* its value */
	unsigned level;         /* its level */
	uint64_t gpa;           /* the GPA walked for (level bits stripped) */
	int tree_mode;          /* S-EPT tree lock held: SEAM_LOCK_*, or -1 */
	bool entry_locked;      /* the entry's host lock is held */
};

/*
 * Walk the TD's S-EPT for gpa down to level target. Like the module's walk,
 * it descends only through present non-leaf entries (NL_MAPPED): it stops at
 * a FREE, leaf or NL_BLOCKED entry above the target. Returns true if the
 * entry at target was reached; false if the walk stopped higher up (w
 * describes the entry it stopped at and its level). The caller holds the
 * S-EPT tree lock.
 */
bool sept_walk(struct seam_ctx *c, struct seam_td *td, uint64_t gpa, unsigned target,
	       struct sept_walk *w);

uint64_t sept_read(struct seam_ctx *c, struct seam_td *td, uint64_t entry_pa);
void sept_write(struct seam_ctx *c, struct seam_td *td, uint64_t entry_pa, uint64_t val);
/* Initialise a new S-EPT page: every entry FREE. */
void sept_init_page(struct seam_ctx *c, struct seam_td *td, uint64_t page_pa);

/* The "ext" outputs of S-EPT errors: RCX = architectural entry,
 * RDX = level (2:0) | state (15:8). */
void sept_set_ext(struct seam_ctx *c, uint64_t entry, unsigned level);

/*
 * GPA + level input (RCX of the S-EPT leaves): bits 2:0 level in
 * [min_lvl, max_lvl] and < the TD's EPT levels; GPA aligned to the level,
 * bits 11:3 and above the TD's GPA width zero, shared bit clear.
 * Returns OPERAND_INVALID + op otherwise.
 */
uint64_t sept_check_gpa(struct seam_ctx *c, struct seam_td *td, uint64_t gpa_lvl,
			unsigned min_lvl, unsigned max_lvl, unsigned op,
			uint64_t *gpa, unsigned *lvl);

/* Per-entry locks (the module's S-EPT entry host lock): try, no wait. */
bool sept_entry_trylock(struct seam_ctx *c, struct seam_td *td, uint64_t entry_pa);
void sept_entry_unlock(struct seam_td *td, uint64_t entry_pa);
/* Is the entry's host lock held by someone (a leaf, or a guest ACCEPT)? */
bool sept_entry_is_locked(struct seam_td *td, uint64_t entry_pa);

/* ---- The S-EPT access sequence of the host-side memory leaves ---------------
 *
 * sept_lock_walk() is the module's "check the GPA, lock the S-EPT tree, walk
 * to the level, lock the entry" sequence (lock_sept_check_and_walk_*), with
 * the errors in the module's order:
 *
 *   gpa_lvl: level outside [min_lvl, max_lvl] or >= the TD's EPT levels,
 *   bits 11:3 set, GPA not aligned to the level, GPA above the TD's GPA
 *   width, shared bit set                  -> OPERAND_INVALID + op
 *   tree lock (td->sept_lock, tree_mode)   -> OPERAND_BUSY + SEPT_TREE (0x92)
 *   the walk stops above the level         -> EPT_WALK_FAILED + op, with the
 *                                             ext outputs (RCX/RDX) of the
 *                                             entry where it stopped
 *   (SEPT_LW_ENTRY) entry host lock busy   -> OPERAND_BUSY + op, ext outputs
 *                                             of the entry
 *
 * On success w->entry_pa/entry/level describe the entry at the level (its
 * value re-read after the entry lock), w->gpa the GPA, and the locks are held
 * until sept_unlock_walk(). On failure nothing is held (w->tree_mode = -1).
 * The TDR and op-state locks are the caller's (taken before).
 *
 * sept_lock_walk_gpa() is the same for a caller that has already checked its
 * own GPA operand format (e.g. MR.EXTEND's 256-B aligned GPA, MEM.RD/WR's
 * 8-B aligned GPA): it starts at the private-GPA check (GPA width, shared
 * bit -> OPERAND_INVALID + op) and walks to `level` for the page-aligned GPA.
 *
 * Flags:
 *   SEPT_LW_ENTRY  also take the entry's host lock
 *   SEPT_LW_LEAF   walk to the leaf mapping the GPA, whatever its level,
 *                  instead of to `level`: the walk fails (EPT_WALK_FAILED +
 *                  op) unless it ends at a present leaf (MAPPED; BLOCKEDW
 *                  counts, it has R and X). w->level is the leaf's level.
 *                  `level` is ignored (pass 0).
 */
#define SEPT_LW_ENTRY 1u
#define SEPT_LW_LEAF  2u

uint64_t sept_lock_walk(struct seam_ctx *c, struct seam_td *td, uint64_t gpa_lvl,
			unsigned min_lvl, unsigned max_lvl, unsigned op, int tree_mode,
			unsigned flags, struct sept_walk *w);
uint64_t sept_lock_walk_gpa(struct seam_ctx *c, struct seam_td *td, uint64_t gpa,
			    unsigned level, unsigned op, int tree_mode, unsigned flags,
			    struct sept_walk *w);
/* Release what sept_lock_walk*() holds (entry lock, then tree lock). Safe to
 * call on a failed or already released walk. */
void sept_unlock_walk(struct seam_td *td, struct sept_walk *w);

/* Re-read the walked entry / write it (keeps w->entry up to date). */
void sept_walk_write(struct seam_ctx *c, struct seam_td *td, struct sept_walk *w, uint64_t val);

/*
 * Host lock of all 512 entries of an S-EPT page at once (PAGE.PROMOTE, which
 * the module does by locking each entry): fails if any entry of the page is
 * locked, and while held every sept_entry_trylock() of an entry of the page
 * fails.
 */
bool sept_page_trylock(struct seam_ctx *c, struct seam_td *td, uint64_t page_pa);
void sept_page_unlock(struct seam_td *td, uint64_t page_pa);

/* ---- Common prologue of the S-EPT leaves ----------------------------------
 *
 * The explicit TDR operand (shared PAMT lock, errors + op) and the common TD
 * state check with the op-state lock shared (tdx-abi.md 6.2). On success both
 * are held until sept_td_exit(); on failure nothing is.
 */
uint64_t sept_td_enter(struct seam_ctx *c, uint64_t tdr_pa, unsigned op,
		       struct seam_page *tdr, struct seam_td **td);
void sept_td_exit(struct seam_page *tdr, struct seam_td *td);

/*
 * The prologue of the leaves that take RCX = GPA + level and RDX = TDR
 * (PAGE.AUG, PAGE.REMOVE, RANGE.BLOCK, RANGE.UNBLOCK), in the module's order:
 * RCX and RDX zeroed; sept_td_enter (TDR operand RDX); sept_lock_walk of RCX
 * (levels 0 .. max_lvl, tree lock in tree_mode, the entry's host lock; ext
 * outputs on its S-EPT errors). On success the TDR, op-state, tree and entry
 * locks are held until sept_unlock_walk() and sept_td_exit(); on failure
 * nothing is.
 */
uint64_t sept_gpa_leaf_enter(struct seam_ctx *c, unsigned max_lvl, int tree_mode,
			     struct seam_page *tdr_p, struct seam_td **td, struct sept_walk *w);

/* OP_STATEs in which the TD may run, so that removing, promoting, demoting
 * or unblocking a mapping first needs it blocked and TLB-tracked (the
 * module's op_state tlb_tracking_required flag): RUNNABLE (and the live
 * migration states, which tdxsim does not reach). */
bool sept_tracking_required(const struct seam_td *td);

/* PAMT entry of a page the S-EPT maps (implicit: no operand checks, no lock),
 * e.g. to record or read BEPOCH. ps = TDX_PS_*. */
struct tdx_pamt_entry *sept_pamt_entry(struct seam_ctx *c, uint64_t pa, unsigned ps);

/*
 * PAMT of a large page (the module's pamt_promote / pamt_demote): promote
 * makes the PAMT entry of size ps (2M or 1G) at pa a leaf with the type and
 * owner of its first child and the 512 child entries PT_NDA; demote copies
 * the large entry's type and owner into its 512 children (BEPOCH 0) and
 * makes it PT_NDA. The large entry is try-locked exclusive: OPERAND_BUSY
 * (no operand id) if that fails; lock bits of the children are kept.
 */
uint64_t sept_pamt_promote(struct seam_ctx *c, uint64_t pa, unsigned ps);
uint64_t sept_pamt_demote(struct seam_ctx *c, uint64_t pa, unsigned ps);


/* ---- TLB tracking ------------------------------------------------------------
 *
 * sept_tlb_tracked(): has the TD's TLB been tracked since a range was blocked
 * in epoch bepoch (the BEPOCH that RANGE.BLOCK recorded in the PAMT entry of
 * the blocked page, PHYMEM.PAGE.RDMD R9)? True when MEM.TRACK has advanced the
 * TD epoch past bepoch and no vCPU still runs in epoch bepoch, i.e.
 *   td_epoch >= bepoch + 2, or
 *   td_epoch == bepoch + 1 and refcount[bepoch & 1] == 0.
 * The module applies it only while OP_STATE is RUNNABLE (PAGE.REMOVE,
 * SEPT.REMOVE, PAGE.PROMOTE/DEMOTE): failure -> TLB_TRACKING_NOT_DONE.
 * Reads td_epoch/refcount atomically; no lock needed.
 */
bool sept_tlb_tracked(struct seam_td *td, uint64_t bepoch);

#endif
