/*
 * The TDX module's global state (what the real module keeps in its global
 * data and per-LP data), and the context a leaf handler runs in.
 * All of it lives inside struct tdxsim: no globals.
 */
#ifndef SEAM_MODULE_H
#define SEAM_MODULE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "tdx/arch.h"
#include "tdx/leaf.h"
#include "tdx/seamcall.h"
#include "tdx/status.h"
#include "seam/lock.h"
#include "models/cost.h"          /* seam_charge() */

struct tdxsim;
struct sim_lp;

/* One TDMR as TDH.SYS.CONFIG accepted it. */
struct seam_tdmr {
	uint64_t base, size;
	uint64_t pamt_base[3];          /* indexed by TDX_PS_4K/2M/1G */
	uint64_t pamt_size[3];
	uint32_t n_rsvd;
	struct tdx_tdmr_reserved_area rsvd[TDX_MAX_RESERVED_PER_TDMR];
	/* TDH.SYS.TDMR.INIT progress: offset of the next 4 KiB page whose PAMT
	 * entry is to be initialised; == size when complete. Published with
	 * release order so readers (RDMD, PAMT walks) may test it lock-free. */
	_Atomic uint64_t init_off;
	seam_lock_t lock;
};

/* Module per-LP state. */
struct seam_lp {
	uint8_t lp_init_done;           /* TDH.SYS.LP.INIT ran on this LP */
	_Atomic uint8_t busy;           /* inside a SEAMCALL (the module's lp_is_busy) */
	/* An external interrupt posted to the LP (vector | SEAM_LP_INTR_VALID,
	 * 0: none), taken by the guest runner (seam/td_run.c). */
	_Atomic uint32_t intr;
};
#define SEAM_LP_INTR_VALID 0x100u

/* KeyID ownership table entry (KOT), per KeyID. */
struct seam_kot_entry {
	_Atomic uint8_t state;          /* enum kot_state (seam/td.h) */
	_Atomic uint32_t wbinvd_bitmap; /* packages still to TDH.PHYMEM.CACHE.WB since FLUSHED */
};

/* Per-package TDH.PHYMEM.CACHE.WB progress (the module's WBT entry). */
struct seam_wbt {
	seam_lock_t lock;               /* operand WBCACHE (0xBC) */
	uint8_t in_progress;            /* interrupted: RCX = 1 may resume */
	uint32_t next_chunk;            /* where the interrupted WB resumes */
	/* KeyIDs FLUSHED with this package pending when the WB started: the
	 * ones whose package bit it clears on completion. */
	uint64_t hkid_flushed[2048 / 64];
};

/* Snapshots copy it as is (sim/snapshot.c): a pointer field must be handled there. */
struct seam_module {
	_Atomic uint32_t state;         /* enum tdx_sys_state */
	seam_lock_t global_lock;
	_Atomic uint32_t lps_initialized;
	uint32_t hkid;                  /* global private KeyID (TDH.SYS.CONFIG R8) */
	uint32_t pkgs_configured;       /* packages done TDH.SYS.KEY.CONFIG */
	uint8_t *pkg_key_configured;    /* per package */
	uint32_t n_tdmrs;
	struct seam_tdmr tdmr[TDX_MAX_TDMRS];
	uint64_t shutdown_hv;           /* handoff version of TDH.SYS.SHUTDOWN */
	/* Global metadata table entries chained by class (61:56), so a field
	 * lookup visits only its class: head[class], then next[entry]; 0xFF ends. */
	uint8_t md_class_head[64];
	uint8_t md_class_next[128];
	uint64_t module_hv, min_update_hv;
	/* TD scope (seam/td.h) */
	struct seam_kot_entry *kot;     /* indexed by KeyID */
	seam_lock_t kot_lock;           /* operand KOT (0xBA) */
	struct seam_wbt *wbt;           /* per package */
	_Atomic(void *) *obj;           /* module structure of a page, by PFN (seam_obj_get) */
	uint64_t obj_pages;
	pthread_mutex_t obj_mutex;      /* guards the lists below (host bookkeeping only) */
	struct seam_td *all_tds;
	struct seam_vcpu *all_vcpus;
	/* TDs that have run a guest (seam/td_run.c: they have a mirror of
	 * their private pages, which SEAMCALLs must synchronise with). */
	_Atomic uint32_t n_mirrors;
	_Atomic uint64_t hold_gen;      /* seam_run_hold()s begun + ended */
};

/* Where a leaf runs: one per SEAMCALL, on the caller's stack. */
struct seam_ctx {
	struct tdxsim *s;
	struct seam_module *m;
	struct sim_lp *lp;
	unsigned lp_id;
	uint16_t leaf;
	uint8_t version;
	struct tdx_module_args *r;      /* registers in and out */
	uint64_t cycles;                /* work charged by the handler */
	uint64_t insns;                 /* module instructions charged (models/cost.h) */
	int injected;                   /* the status came from the fault plan: the
					 * point's number among this call's points of
					 * its kind (1 = the first; seam_fault) */
	uint32_t fault_seen;            /* per-call faults counted in this call (sim/fault.c) */
	uint32_t point_kind[4], point_n[4]; /* fault points of each kind passed in this call */
};

/* A point where the module draws random numbers (kind TDX_LEAF_F_RND) or
 * programs a key (TDX_LEAF_F_KEYGEN): the fault plan may make it fail.
 * Returns the status to fail with, or 0. */
uint64_t seam_fault(struct seam_ctx *c, uint32_t kind);
/* Points where a leaf tests a condition the fault plan may pretend holds
 * (kinds beyond the TDX_LEAF_F_* ones; sim/fault.c says which leaves):
 * a vCPU still associated (VPFLUSHDONE -> FLUSHVP_NOT_DONE), a vCPU still in
 * the previous TLB epoch (TRACK -> PREVIOUS_TLB_EPOCH_BUSY), a blocked range
 * not yet TLB-tracked (REMOVE, SEPT.REMOVE, DEMOTE, PROMOTE, UNBLOCK ->
 * TLB_TRACKING_NOT_DONE + operand), a package whose CACHE.WB is not done
 * (KEY.FREEID -> WBCACHE_NOT_COMPLETE). */
#define SEAM_FAULT_FLUSHVP     0x100u
#define SEAM_FAULT_EPOCH       0x200u
#define SEAM_FAULT_TLB_TRACK   0x400u
#define SEAM_FAULT_WBCACHE     0x800u

/* The module's global lock, as the leaves take it (a planned SYS_BUSY fault
 * fails the acquisition). */
static inline bool seam_global_lock_ex(struct seam_ctx *c)
{
	return !seam_fault(c, TDX_LEAF_F_SYSLOCK) && seam_lock_try_ex(&c->m->global_lock);
}
static inline bool seam_global_lock_sh(struct seam_ctx *c)
{
	return !seam_fault(c, TDX_LEAF_F_SYSLOCK) && seam_lock_try_sh(&c->m->global_lock);
}
/* An operand lock (a planned OPERAND_BUSY fault fails the acquisition). */
static inline bool seam_op_lock_ex(struct seam_ctx *c, seam_lock_t *l)
{
	return !seam_fault(c, TDX_LEAF_F_OPLOCK) && seam_lock_try_ex(l);
}

typedef uint64_t (*seam_leaf_fn)(struct seam_ctx *c);

/* Module entry from the machine layer: machine checks already passed. */
uint64_t seam_dispatch(struct tdxsim *s, struct sim_lp *lp, uint64_t rax,
		       struct tdx_module_args *regs, int *injected, uint64_t *cycles);

/* SEAMCALLs with RAX bit 63 set go to the P-SEAMLDR (seam/seamldr.c). */
uint64_t seamldr_dispatch(struct tdxsim *s, struct sim_lp *lp, uint64_t rax,
			  struct tdx_module_args *regs, uint64_t *cycles);

int seam_module_init(struct seam_module *m, struct tdxsim *s);
/* LPs other than the caller currently inside a SEAMCALL. */
unsigned seam_other_lps_busy(struct seam_ctx *c);
void seam_module_fini(struct seam_module *m);

static inline uint32_t seam_state(const struct seam_module *m)
{
	return atomic_load_explicit(&m->state, memory_order_acquire);
}
static inline void seam_set_state(struct seam_module *m, uint32_t st)
{
	atomic_store_explicit(&m->state, st, memory_order_release);
}

/* Declarations of every implemented handler (seam_<handler>), from the leaf list. */
#define SEAM_DECL_IMPL(fn) uint64_t seam_##fn(struct seam_ctx *c);
#define SEAM_DECL_NOIMPL(fn)
#define SEAM_DECL(e, n, s, fn, v, f, impl) SEAM_DECL_##impl(fn)
TDX_SEAMCALL_LEAVES(SEAM_DECL)
#undef SEAM_DECL

#endif
