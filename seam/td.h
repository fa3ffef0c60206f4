/*
 * TD-scope module state: the KeyID ownership table, TDR + TDCS (struct
 * seam_td), TDVPS (struct seam_vcpu), and the checks every TD leaf shares.
 *
 * Where things live. The TDR, TDCS, TDVPR/TDCX pages are real pages of
 * simulated memory, owned in the PAMT and zeroed through the TD's KeyID (the
 * TDR through the global KeyID), so the host sees what it sees on hardware:
 * ciphertext in raw RAM, zeros through a shared KeyID, poison after a shared
 * write. The module's view of their fields is kept in the structures below,
 * reached from the page's PA (seam_obj_get): module-private memory, as the
 * module's own keyhole mappings are. The S-EPT is kept in its pages (sept.h).
 *
 * Locking follows the module: the TDR's PAMT entry lock (shared for users,
 * exclusive for leaves that change the TDR or free it), then the TDCS locks
 * (op-state, S-EPT tree, epoch), then per-object locks. Every lock is a
 * try-lock; contention is TDX_OPERAND_BUSY + the operand id.
 */
#ifndef SEAM_TD_H
#define SEAM_TD_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "seam/module.h"
#include "seam/pamt.h"

/* TDR lifecycle (tdx-abi.md 6.2). */
enum td_lifecycle {
	TD_HKID_ASSIGNED = 0, TD_KEYS_CONFIGURED = 1, TD_BLOCKED = 2, TD_TEARDOWN = 3,
};
/* KOT entry states. */
enum kot_state { KOT_FREE = 0, KOT_ASSIGNED = 1, KOT_FLUSHED = 2, KOT_RESERVED = 3 };
/* TDCS OP_STATE (non-migration subset used here). */
enum td_op_state {
	OP_UNINITIALIZED = 0, OP_INITIALIZED = 1, OP_RUNNABLE = 2,
	OP_LIVE_EXPORT = 3, OP_PAUSED_EXPORT = 4, OP_POST_EXPORT = 5,
	OP_MEMORY_IMPORT = 6, OP_STATE_IMPORT = 7, OP_POST_IMPORT = 8,
	OP_LIVE_IMPORT = 9, OP_FAILED_IMPORT = 10, OP_STATE_COUNT = 11,
};
/* vCPU states (TDVPS). */
enum vcpu_state {
	VCPU_UNINITIALIZED = 0, VCPU_READY = 2, VCPU_ACTIVE = 4, VCPU_DISABLED = 8,
	VCPU_IMPORT = 0x10,
};

/* Sizes (module 1.5, no L2 VMs): TDR 1 page, TDCS 6 pages, TDVPS 6 pages
 * (TDVPR + 5 TDCX). The TDCS page roles: 2 MSR bitmaps, 3 S-EPT root,
 * 4 zero page, 5 migration. */
#define TD_TDCS_PAGES       6
#define TD_TDCS_MAX_PAGES   9
#define TD_TDCS_SEPT_ROOT   3
#define TD_TDCS_ZERO_PAGE   4
#define TD_TDVPS_PAGES      6
#define TD_TDVPS_MAX_PAGES  15
#define TD_MAX_CPUID        12          /* CPUID_CONFIG entries (tdx-abi.md 4.3) */

/* TDH.VP.ENTER guest state kept in TDVPS (filled in by the guest-run issue). */
struct seam_vcpu_guest {
	uint64_t gpr[16];                   /* RAX..R15 (architectural order) */
	uint64_t rip, rflags;
	uint64_t cr0, cr3, cr4, efer, xcr0, dr6, dr7, pat;
	uint64_t debugctl, xss;             /* MSRs the module keeps virtual (seam/td_msr.c) */
	uint64_t tsc_deadline;
	/* Saved by the guest runner (seam/td_run.c) at every TD exit. */
	uint64_t cr2, fs_base, gs_base;
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint16_t sel[6];                    /* ES, CS, SS, DS, FS, GS */
};

/* TD-VMCS fields the host may read or write with VP.RD/WR (tdx-abi.md 4.6). */
struct seam_vcpu_vmcs {
	uint16_t posted_intr_nv;
	uint64_t posted_intr_desc_addr;
	uint32_t pin_based_ctls;
	uint32_t proc_based_ctls, secondary_ctls;
	uint32_t notify_window;
	uint64_t shared_eptp;
	uint64_t guest_tsc_deadline;
};

/* VE_INFO (TDVPS): what TDG.VP.VEINFO.GET returns. */
struct seam_ve_info {
	uint32_t exit_reason;               /* -> RCX 31:0 */
	uint32_t ve_category;               /* -> RCX 63:32 (VEINFO.GET version 1) */
	uint64_t exit_qual;                 /* -> RDX */
	uint64_t gla;                       /* -> R8 */
	uint64_t gpa;                       /* -> R9 */
	uint32_t instr_len, instr_info;     /* -> R10 31:0, 63:32 */
};

/* A TD exit decided inside a module-handled TDCALL (tdx-abi.md 2.3): what
 * TDH.VP.ENTER returns to the host. The guest's registers and RIP are left
 * as they were before the TDCALL (it runs again on the next entry). */
struct seam_td_exit {
	uint64_t status;                    /* RAX: exit case | VMX exit reason */
	uint64_t exit_qual;                 /* RCX */
	uint64_t ext_exit_qual;             /* RDX */
	uint64_t gpa;                       /* R8 */
	uint64_t intr_info;                 /* R9 */
};

struct seam_td;

/* Snapshots copy it as is (sim/snapshot.c): a pointer field must be handled there. */
struct seam_vcpu {
	uint32_t obj_type;                  /* SEAM_OBJ_VCPU */
	struct seam_vcpu *all_next, *all_prev;  /* module list (seam_td_free_all) */
	uint64_t tdvpr_pa;
	struct seam_td *td;
	uint32_t num_tdcx;                  /* TDCX pages added (VP.ADDCX) */
	uint64_t tdcx_pa[TD_TDVPS_MAX_PAGES];
	_Atomic uint8_t state;              /* enum vcpu_state */
	_Atomic int32_t assoc_lp;           /* LP it is associated with, -1 none */
	uint32_t vcpu_index;
	uint32_t x2apic_id;                 /* VP.INIT v1 R8 */
	bool launched;
	uint8_t pend_nmi;
	uint64_t last_epoch;                /* TD epoch at the last entry */
	uint64_t vcpu_state_details;
	seam_lock_t lock;                   /* TDVPS (operand 0x91) */
	struct seam_vcpu_guest g;
	struct seam_vcpu_vmcs vmcs;
	void *run;                          /* guest-execution state (issue: TD guests) */
	/* ---- guest side: module-handled TDCALLs (seam/tdcall.c) ---- */
	struct seam_ve_info ve;             /* VE_INFO: the #VE pending for the guest */
	bool ve_valid;                      /* ve holds a #VE not yet read by VP.VEINFO.GET */
	uint8_t cpuid_ve;                   /* VP.CPUIDVE.SET: bit 0 supervisor, bit 1 user */
	struct seam_td_exit tdcall_exit;    /* the TD exit a TDCALL ended in (SEAM_TDCALL_EXIT) */
};

/* Snapshots copy it as is (sim/snapshot.c): a pointer field must be handled there. */
struct seam_td {
	uint32_t obj_type;                  /* SEAM_OBJ_TD */
	struct seam_td *all_next, *all_prev;
	uint64_t tdr_pa;
	/* ---- TDR ---- */
	uint32_t hkid;
	_Atomic uint8_t lifecycle;          /* enum td_lifecycle */
	_Atomic uint8_t fatal;
	uint32_t pkg_config_bitmap;         /* packages done MNG.KEY.CONFIG */
	uint8_t td_key[32];                 /* drawn at MNG.CREATE, programmed at KEY.CONFIG */
	uint32_t num_tdcx;                  /* TDCS pages added (MNG.ADDCX) */
	uint64_t tdcx_pa[TD_TDCS_MAX_PAGES];
	_Atomic uint64_t chldcnt;           /* child pages (4K units) */
	/* ---- TDCS: management ---- */
	seam_lock_t op_state_lock;          /* operand OP_STATE (0xAC) */
	_Atomic uint8_t op_state;           /* enum td_op_state */
	_Atomic uint32_t num_vcpus;         /* vCPUs initialised (VP.INIT) */
	_Atomic uint32_t num_assoc_vcpus;   /* vCPUs associated with an LP */
	_Atomic uint32_t num_init_vcpus;    /* VP.INIT done: next vcpu index */
	/* ---- TDCS: execution controls (MNG.INIT) ---- */
	uint64_t attributes, xfam;
	uint16_t max_vcpus;
	uint8_t num_l2_vms;
	uint64_t eptp_controls;
	unsigned ept_levels;                /* 4 or 5 */
	bool gpaw;                          /* shared bit is 51 (else 47) */
	uint64_t config_flags;
	uint16_t tsc_frequency;             /* 25 MHz units */
	uint64_t tsc_offset, tsc_multiplier;
	uint64_t td_ctls, notify_enables;
	uint64_t ia32_arch_capabilities_config;
	uint32_t cpuid_values[TD_MAX_CPUID][4];     /* EAX, EBX, ECX, EDX per CPUID_CONFIG leaf */
	/* ---- TDCS: measurement ---- */
	SHA512_CTX mrtd_sha;                /* running SHA-384 until MR.FINALIZE (plain
					     * data, so that snapshots can copy it) */
	uint8_t mrtd[48];
	uint8_t mrconfigid[48], mrowner[48], mrownerconfig[48];
	uint8_t rtmr[4][48];
	/* ---- TDCS: S-EPT and TLB tracking ---- */
	seam_lock_t sept_lock;              /* operand SEPT_TREE (0x92) */
	seam_lock_t epoch_lock;             /* operand TD_EPOCH (0xA9) */
	_Atomic uint64_t td_epoch;
	_Atomic uint32_t refcount[2];       /* vCPUs running in epoch parity 0 / 1 */
	seam_lock_t sept_entry_guard;       /* protects sept_locked[] (internal spin) */
	uint64_t sept_locked[64];           /* S-EPT entries locked by a leaf (PA), 0 = free slot */
	/* ---- vCPUs (by index, for TD-scope scans) ---- */
	struct seam_vcpu **vcpus;           /* max_vcpus slots after MNG.INIT */
	/* ---- TDCS: guest-side measurement ---- */
	seam_lock_t rtmr_lock;              /* operand RTMR (0xA8): TDG.MR.RTMR.EXTEND ex, MR.REPORT sh */
	/* ---- Guest execution (seam/td_run.c): state shared by the vCPUs'
	 * runners, created at the first TDH.VP.ENTER ---- */
	_Atomic(void *) run;
};

/* ---- Object table: module structures by page PA ---- */

/* The structure whose page is pa (a TDR -> seam_td, a TDVPR -> seam_vcpu). */
void *seam_obj_get(struct seam_module *m, uint64_t pa);
void seam_obj_set(struct seam_module *m, uint64_t pa, void *obj);

/* ---- Explicit page operands (tdx-abi.md 3, "explicit page operand checks") ---- */

enum seam_lock_mode {
	SEAM_LOCK_SHARED = 0, SEAM_LOCK_EXCLUSIVE = 1,
	SEAM_LOCK_NONE = 2,     /* seam_td_check_state only: the leaf holds the TDR
				 * exclusively and takes no op-state lock */
};

/* A locked PAMT entry: the walk from 1G down to the page's size, upper
 * levels held shared, the leaf held in `mode`. */
struct seam_page {
	uint64_t pa;
	unsigned ps;                        /* TDX_PS_* of the leaf */
	int mode;
	struct seam_tdmr *tdmr;
	struct tdx_pamt_entry *e;           /* the leaf entry (NULL when not held) */
	struct tdx_pamt_entry *held[3];
	int n_held;
};

/*
 * Check and lock a page operand, in the module's order:
 *   alignment to ps, KeyID bits, >= 2^52   -> OPERAND_INVALID + op
 *   outside every initialised TDMR        -> OPERAND_ADDR_RANGE_ERROR + op
 *   PAMT entry (or a parent) locked        -> OPERAND_BUSY + op
 *   expect_type >= 0 and type differs, or the page is part of a larger
 *   page                                   -> PAGE_METADATA_INCORRECT + op
 * On success p holds the lock; release with seam_page_unlock().
 */
uint64_t seam_page_get(struct seam_ctx *c, uint64_t pa, unsigned op, unsigned ps, int mode,
		       int expect_type, struct seam_page *p);
void seam_page_unlock(struct seam_page *p);

/* Page type, owner and size updates (the PAMT leaf must be held exclusive). */
void seam_page_set(struct seam_ctx *c, struct seam_page *p, unsigned type, uint64_t owner_pa);
static inline unsigned seam_page_type(const struct seam_page *p)
{
	return pamt_type(p->e);
}
static inline uint64_t seam_page_owner(const struct seam_page *p)
{
	return pamt_owner_pa(p->e);
}

/* ---- TDR and TDCS ---- */

/*
 * An explicit TDR operand: seam_page_get(PT_TDR) plus the TD structure.
 * On success *td is valid while p is held.
 */
uint64_t seam_tdr_get(struct seam_ctx *c, uint64_t tdr_pa, unsigned op, int mode,
		      struct seam_page *p, struct seam_td **td);

/*
 * The module's common TD state check, in its order (tdx-abi.md 6.2):
 *   fatal                          -> TD_FATAL
 *   lifecycle != KEYS_CONFIGURED   -> TD_KEYS_NOT_CONFIGURED
 *   fewer than 6 TDCS pages        -> TDCS_NOT_ALLOCATED
 *   op-state lock busy             -> OPERAND_BUSY + OP_STATE
 *   leaf not allowed in OP_STATE   -> OP_STATE_INCORRECT
 * On success the op-state lock is held in `mode` (release with
 * seam_td_state_unlock). The allowed-leaf matrix is seam_op_state_allowed().
 */
uint64_t seam_td_check_state(struct seam_ctx *c, struct seam_td *td, int mode);
void seam_td_state_unlock(struct seam_td *td, int mode);
/* The one table of §6.2: may leaf (SEAMCALL number) run in op_state? */
bool seam_op_state_allowed(unsigned leaf, unsigned op_state);

/* Try-lock helpers for the TDCS locks (a planned OPERAND_BUSY fault fails
 * them, as it fails every operand lock). */
bool seam_lock_mode(struct seam_ctx *c, seam_lock_t *l, int mode);
void seam_unlock_mode(seam_lock_t *l, int mode);

/* TD and vCPU structures. */
/* Allocation registers the structure in the object table under its page PA;
 * free unregisters it. NULL on host allocation failure. */
struct seam_td *seam_td_alloc(struct seam_module *m, uint64_t tdr_pa, uint32_t hkid);
void seam_td_free(struct seam_module *m, struct seam_td *td);
struct seam_vcpu *seam_vcpu_alloc(struct seam_module *m, struct seam_td *td, uint64_t tdvpr_pa);
void seam_vcpu_free(struct seam_module *m, struct seam_vcpu *v);
/* At tdxsim_close: free every TD and vCPU structure still in the table. */
void seam_td_free_all(struct seam_module *m);
/* The TD structure's type tag, to tell the two kinds apart in the table. */
#define SEAM_OBJ_TD   1
#define SEAM_OBJ_VCPU 2

/* The TD's shared-GPA bit (47, or 51 with GPAW). */
static inline uint64_t seam_td_shared_bit(const struct seam_td *td)
{
	return 1ULL << (td->gpaw ? 51 : 47);
}

/* ---- KeyID ownership table ---- */

/* State of a KeyID's KOT entry. */
unsigned seam_kot_state(struct seam_module *m, uint32_t hkid);

/* ---- Memory through the TD's or the module's KeyIDs ---- */

/* Read/write simulated memory through a private KeyID on the caller's LP. */
unsigned seam_priv_read(struct seam_ctx *c, uint64_t pa, uint32_t keyid, void *buf, uint64_t len);
void seam_priv_write(struct seam_ctx *c, uint64_t pa, uint32_t keyid, const void *buf, uint64_t len);
/* Zero a page range through a private KeyID (MOVDIR64B), e.g. a new TDCX page.
 * Lazy (sim/mktme.h): a leaf that zeroes a page and then fails, leaving it
 * PT_NDA, calls seam_priv_settle (seam_page_set to PT_NDA/PT_RSVD settles). */
void seam_priv_zero(struct seam_ctx *c, uint64_t pa, uint32_t keyid, uint64_t len);
/* Give lazily zeroed pages of the range their ciphertext (sim_mem_settle). */
void seam_priv_settle(struct seam_ctx *c, uint64_t pa, uint64_t len);

/* ---- Measurement ---- */

/* Append one 128-byte block (and optional data) to the TD's MRTD. */
void seam_mrtd_update(struct seam_td *td, const void *data, uint64_t len);
/* MR.FINALIZE: the digest into td->mrtd. */
void seam_mrtd_final(struct seam_td *td);

#endif
