/*
 * tdxsim: a software Intel TDX module and SEAM-mode machine.
 *
 * One opaque handle (tdxsim) holds everything: the machine (packages, logical
 * processors, sparse physical memory, KeyIDs, VMX operation) and the TDX
 * module's state. Nothing is global, so several simulators can live in one
 * process and be driven from several threads (one thread per LP at a time).
 *
 * Errors come in three tiers that never mix:
 *  - TDX status codes (abi/tdx/status.h): what the simulated module answers
 *    to a SEAMCALL; data, returned by tdxsim_seamcall() and __seamcall*().
 *  - tdxsim_err (abi/tdxsim/err.h): misuse of this API; tdxsim_errmsg() has
 *    the detail of the last error on a handle.
 *  - internal invariant failures abort with file:line (a tdxsim bug).
 */
#ifndef TDXSIM_H
#define TDXSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tdxsim/version.h"
#include "tdxsim/err.h"
#include "tdx/seamcall.h"
#include "tdx/status.h"
#include "tdx/leaf.h"
#include "tdx/arch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tdxsim tdxsim;

/* ---- Platform profiles ------------------------------------------------ */

/* A platform profile: the defaults of a real Xeon generation (models/). */
typedef struct tdxsim_platform {
	const char *name;           /* "spr", "emr", "gnr" */
	const char *description;
	uint32_t cpu_family, cpu_model, cpu_stepping; /* CPUID(1).EAX fields */
	uint32_t packages, lps_per_package;           /* default topology */
	uint32_t max_pa;            /* CPUID 0x80000008 physical address bits */
	uint32_t mktme_keyids;      /* MSR 0x87 EAX */
	uint32_t tdx_keyids;        /* MSR 0x87 EDX */
	uint16_t module_major, module_minor, module_update; /* TDX module version */
	uint64_t tdx_features0;
	uint64_t default_mem_bytes; /* DRAM when the config gives none */
	uint32_t tsc_mhz;           /* nominal TSC frequency */
	uint32_t flags;             /* TDXSIM_PLATFORM_F_* */
	/* P-SEAMLDR version and remaining module updates (SEAMLDR.INFO). */
	uint16_t seamldr_major, seamldr_minor, seamldr_update;
	uint32_t seamldr_remaining_updates;
} tdxsim_platform;

/* CPU has the partial-write machine-check erratum (Linux X86_BUG_TDX_PW_MCE). */
#define TDXSIM_PLATFORM_F_PW_MCE  0x1u

/* The built-in profiles: NULL-terminated list, and lookup by name. */
TDXSIM_API const tdxsim_platform *const *tdxsim_platforms(void);
TDXSIM_API const tdxsim_platform *tdxsim_platform_find(const char *name);
/* Default profile (Sapphire Rapids). */
#define TDXSIM_DEFAULT_PLATFORM "spr"

/* ---- Configuration ----------------------------------------------------- */

typedef struct tdxsim_range {
	uint64_t base;
	uint64_t size;
} tdxsim_range;

/*
 * Versioned configuration: set .size = sizeof(tdxsim_config) (TDXSIM_CONFIG_INIT);
 * fields past a caller's size read as zero. Zero means "the profile's default"
 * for every field.
 */
typedef struct tdxsim_config {
	uint32_t size;
	uint32_t flags;                 /* TDXSIM_CFG_* */
	const char *platform;           /* profile name; NULL = TDXSIM_DEFAULT_PLATFORM */
	uint32_t packages;
	uint32_t lps_per_package;
	/*
	 * DRAM in bytes. With no CMRs given, DRAM is laid out as a PC would:
	 * up to 2 GiB below 4 GiB, the rest from 4 GiB up; each part is a CMR.
	 */
	uint64_t mem_bytes;
	uint32_t n_cmrs;                /* 0 = derived from mem_bytes */
	tdxsim_range cmrs[TDX_MAX_CMRS];/* ascending, 4 KiB aligned */
	uint32_t mktme_keyids;          /* KeyID partition, as MSR 0x87 reports it */
	uint32_t tdx_keyids;
	uint16_t module_major, module_minor, module_update;
	uint64_t tdx_features0;
	uint64_t seed;                  /* RNG seed: same seed, same run */
} tdxsim_config;

#define TDXSIM_CONFIG_INIT { .size = sizeof(tdxsim_config) }

/* No TDX module loaded: every SEAMCALL fails VMfailInvalid. */
#define TDXSIM_CFG_NO_MODULE      0x1u
/* TDX_FEATURES0 given in the config replaces the profile's (even if 0). */
#define TDXSIM_CFG_FEATURES0_SET  0x2u
/* A CPU whose IA32_VMX_BASIC lacks bit 60: P-SEAMLDR calls may corrupt the
 * current VMCS (Linux 7.3 then refuses to call the P-SEAMLDR). */
#define TDXSIM_CFG_SEAMLDR_VMCS_BUG 0x4u
/*
 * Checker mode: the host's view of memory (tdxsim_pa_to_ptr) loses access to
 * every page the module makes TD-private (TDR, TDCS, TDVPS, S-EPT and TD
 * pages), and gets it back when the page is reclaimed; the module keeps its
 * own view. A host load or store to such a page is a bug in the host code
 * (real hardware would hand it ciphertext, zeros or a poisoned line): the
 * process prints "tdxsim checker: host access to TD-private page PA 0x...
 * (owner TDR 0x..., type PT_...)" on stderr and aborts. It installs a SIGSEGV
 * handler (faults elsewhere go to the handler that was there before) and
 * backs memory with a memfd mapped twice; every protected page costs a host
 * mapping entry (vm.max_map_count bounds how many can be protected).
 */
#define TDXSIM_CFG_CHECKER        0x8u
/* Timing model off: no cycles are charged (LP clocks stay where they are,
 * guest RDTSC reads a TSC that does not advance) and guest blocks are not
 * classified (models/cost.h). */
#define TDXSIM_CFG_NO_TIMING      0x10u

/* ---- Lifecycle ----------------------------------------------------------- */

TDXSIM_API unsigned tdxsim_version(void);            /* TDXSIM_VERSION_HEX */
TDXSIM_API tdxsim_err tdxsim_open(const tdxsim_config *cfg, tdxsim **out);
TDXSIM_API void tdxsim_close(tdxsim *s);             /* NULL is fine */

TDXSIM_API const char *tdxsim_strerror(tdxsim_err err);
TDXSIM_API const char *tdxsim_err_name(tdxsim_err err);
/* Detail of the last API error on this handle ("" if none), copied for the
 * calling thread: valid until this thread's fourth next call. */
TDXSIM_API const char *tdxsim_errmsg(const tdxsim *s);

/* Name of a status ("TDX_OPERAND_INVALID"), ignoring the operand bits. */
TDXSIM_API const char *tdx_status_name(uint64_t status);
/* "TDX_OPERAND_INVALID+RCX (0xc000010000000001)" into buf; returns buf. */
TDXSIM_API const char *tdx_status_str(uint64_t status, char *buf, size_t len);
/* Leaf name from RAX ("TDH.SYS.RD"), or NULL if not a known leaf. */
TDXSIM_API const char *tdx_seamcall_leaf_name(uint64_t rax);
TDXSIM_API const char *tdx_tdcall_leaf_name(uint64_t rax);

/* ---- Topology and the effective configuration ---------------------------- */

typedef struct tdxsim_info {
	uint32_t size;                  /* sizeof(tdxsim_info) */
	const tdxsim_platform *platform;
	uint32_t packages, lps_per_package, n_lps;
	uint64_t mem_bytes;             /* DRAM */
	uint64_t pa_space_bytes;        /* highest DRAM address + 1 */
	uint32_t n_cmrs;
	tdxsim_range cmrs[TDX_MAX_CMRS];
	uint32_t max_pa, keyid_bits, keyid_shift; /* KeyID in PA bits [shift, max_pa) */
	uint32_t mktme_keyids, tdx_keyids;
	uint32_t first_tdx_keyid;       /* mktme_keyids + 1 */
	uint16_t module_major, module_minor, module_update;
	uint64_t tdx_features0;
	uint64_t seed;
	int module_loaded;
} tdxsim_info;

TDXSIM_API tdxsim_err tdxsim_info_get(tdxsim *s, tdxsim_info *out);
/* Package of an LP. */
TDXSIM_API tdxsim_err tdxsim_lp_package(tdxsim *s, unsigned lp, unsigned *pkg);

/* ---- SEAMCALL ------------------------------------------------------------ */

/*
 * Issue a SEAMCALL on logical processor lp: RAX = fn, all 13 registers of
 * *args loaded and written back (the __seamcall_saved_ret rule). Returns RAX.
 * An invalid handle or LP returns a software-class status (TDXSIM_SW_*) and
 * records the reason in tdxsim_errmsg().
 */
TDXSIM_API uint64_t tdxsim_seamcall(tdxsim *s, unsigned lp, uint64_t fn,
				    struct tdx_module_args *args);

/* Bind the calling thread to (s, lp) for __seamcall*(); NULL s unbinds. */
TDXSIM_API tdxsim_err tdxsim_thread_bind(tdxsim *s, unsigned lp);
/* The binding of the calling thread; returns TDXSIM_ERR_STATE if none. */
TDXSIM_API tdxsim_err tdxsim_thread_binding(tdxsim **s, unsigned *lp);

/* ---- Logical processors: VMX operation, WBINVD, hot-plug ---------------- */

/*
 * VMX operation is reference counted per LP, the model Linux 7.3 uses in
 * x86_virt_get_ref(): the first get sets CR4.VMXE and executes VMXON, the last
 * put executes VMXOFF and clears CR4.VMXE. A SEAMCALL outside VMX root
 * operation fails with #UD (TDX_SEAMCALL_UD).
 */
TDXSIM_API tdxsim_err tdxsim_vmx_get(tdxsim *s, unsigned lp);
TDXSIM_API tdxsim_err tdxsim_vmx_put(tdxsim *s, unsigned lp);
TDXSIM_API tdxsim_err tdxsim_vmx_refcount(tdxsim *s, unsigned lp, unsigned *count);
/* WBINVD executed on an LP (counted; TDX flushes need it). */
TDXSIM_API tdxsim_err tdxsim_wbinvd(tdxsim *s, unsigned lp);
TDXSIM_API tdxsim_err tdxsim_wbinvd_count(tdxsim *s, unsigned lp, uint64_t *count);
/* Offline / online an LP (CPU hot-plug). Offlining drops its VMX state. */
TDXSIM_API tdxsim_err tdxsim_lp_offline(tdxsim *s, unsigned lp);
TDXSIM_API tdxsim_err tdxsim_lp_online(tdxsim *s, unsigned lp);
TDXSIM_API int tdxsim_lp_is_online(tdxsim *s, unsigned lp);
/* An external interrupt with vector (16..255) arrives at LP lp, from any
 * thread: the host's kick (an IPI). A TD vCPU running on that LP leaves the
 * guest at its next instruction-block boundary: TDH.VP.ENTER returns exit
 * reason 1 (EXTERNAL_INTERRUPT) with R9 = 0x80000000 | vector, and the guest
 * resumes where it was at the next entry. If no vCPU runs there, the
 * interrupt stays pending (the host enters with interrupts disabled) and the
 * next TDH.VP.ENTER on the LP exits that way before any guest instruction.
 * A second interrupt before that replaces the first. */
TDXSIM_API tdxsim_err tdxsim_lp_interrupt(tdxsim *s, unsigned lp, unsigned vector);
/* RDMSR as the platform answers it (0x87, 0x982, ...); TDXSIM_ERR_NOENT if the
 * MSR is not modelled. */
TDXSIM_API tdxsim_err tdxsim_rdmsr(tdxsim *s, unsigned lp, uint32_t msr, uint64_t *val);
/* Simulated cycles consumed on an LP so far. */
TDXSIM_API tdxsim_err tdxsim_lp_cycles(tdxsim *s, unsigned lp, uint64_t *cycles);
/* Charge work done outside the simulator (the host VMM's, e.g. KVM's exit
 * handling) to an LP's clock: the guest's TSC and later events see it.
 * Call from the thread driving the LP, outside a SEAMCALL or in a hook. */
TDXSIM_API tdxsim_err tdxsim_lp_charge(tdxsim *s, unsigned lp, uint64_t cycles);
/* An external interrupt (vector 16..255) posted to the LP when its clock
 * reaches `cycles` (simulated time: a TD running there exits at the first
 * translated block at or after it, deterministically); cycles = 0 cancels.
 * Call from the thread driving the LP. */
TDXSIM_API tdxsim_err tdxsim_lp_interrupt_at(tdxsim *s, unsigned lp, unsigned vector,
					     uint64_t cycles);

/* ---- Simulated physical memory ------------------------------------------ */

/*
 * Physical memory is one sparse host mapping: addresses are reserved for the
 * whole physical address space and pages are committed when first touched.
 * tdxsim_pa_to_ptr() and tdxsim_ptr_to_pa() convert in both directions, so
 * host code's __pa()/__va() round-trip. pa must not carry KeyID bits. The
 * pointer is raw memory, as through KeyID 0 but without the integrity model
 * below (a TD-owned line shows its ciphertext); in checker mode
 * (TDXSIM_CFG_CHECKER) touching a TD-private page through it aborts.
 */
TDXSIM_API void *tdxsim_pa_to_ptr(tdxsim *s, uint64_t pa);      /* NULL if out of range */
TDXSIM_API tdxsim_err tdxsim_ptr_to_pa(tdxsim *s, const void *p, uint64_t *pa);
/*
 * Read/write len bytes at pa through a KeyID, with the memory-integrity model
 * of TDX hardware (per 64-byte line). A line written through a TDX private
 * KeyID is TD-owned and holds ciphertext. Through a private KeyID, read and
 * write see plaintext, as software running with that KeyID does (another
 * private KeyID reads garbage; a KeyID with no key programmed reads zeros and
 * drops writes). Through a shared KeyID (0 or an MKTME KeyID, no encryption)
 * a TD-owned line reads as zeros, and a write clears its owner bit and
 * poisons it: the TD's next read of it is a machine check (a fatal TD exit).
 * A write never fails because of the line's state.
 */
TDXSIM_API tdxsim_err tdxsim_mem_read(tdxsim *s, uint64_t pa, uint32_t keyid,
				      void *buf, size_t len);
TDXSIM_API tdxsim_err tdxsim_mem_write(tdxsim *s, uint64_t pa, uint32_t keyid,
				       const void *buf, size_t len);
/* MOVDIR64B: a 64-byte direct store to a 64-byte aligned pa through a KeyID.
 * Through a private KeyID it stores the 64 bytes encrypted (line TD-owned,
 * unpoisoned); through a shared KeyID it leaves the line neither TD-owned nor
 * poisoned (how hosts reset TD memory, e.g. Linux's PAMT reset on PW_MCE
 * parts). */
TDXSIM_API tdxsim_err tdxsim_mem_movdir64b(tdxsim *s, uint64_t pa, uint32_t keyid,
					   const void *src64);
/* Zero the 4 KiB page at pa with MOVDIR64B through keyid (what KVM does to a
 * reclaimed page on PW_MCE platforms, with KeyID 0): through a shared KeyID
 * the lines end zero, not TD-owned and not poisoned. */
TDXSIM_API tdxsim_err tdxsim_page_clear(tdxsim *s, uint64_t pa, uint32_t keyid);
/* 1 if the 64-byte line holding pa is poisoned, else 0 (also for a bad
 * handle or address). */
TDXSIM_API int tdxsim_mem_poisoned(tdxsim *s, uint64_t pa);

/* ---- Module introspection (for tests and tools) ------------------------- */

TDXSIM_API enum tdx_sys_state tdxsim_module_state(tdxsim *s);
/* PAMT view of a 4 KiB page: page type, owner (TDR PA), size code. Returns
 * TDXSIM_ERR_NOENT if pa is outside every configured and initialised TDMR. */
TDXSIM_API tdxsim_err tdxsim_pamt_lookup(tdxsim *s, uint64_t pa, unsigned *type,
					 uint64_t *owner_pa, unsigned *size);
/* The global KeyID the host configured with TDH.SYS.CONFIG (0 before). */
TDXSIM_API uint32_t tdxsim_global_keyid(tdxsim *s);
/*
 * Check the module's invariants for the TD whose TDR is tdr_pa, or for every
 * TD (tdr_pa 0): each page a TD structure names has the PAMT type and owner
 * the module gave it; the TDR child count equals the TDCS, vCPU, S-EPT and
 * private pages found (4 KiB units) until TEARDOWN; the KOT agrees with the
 * lifecycle; the associated-vCPU count agrees with the vCPUs. Returns
 * TDXSIM_OK, or TDXSIM_ERR_STATE with the first violation in tdxsim_errmsg().
 * Call it while no SEAMCALL is in flight on the TD(s) checked.
 */
TDXSIM_API tdxsim_err tdxsim_check_invariants(tdxsim *s, uint64_t tdr_pa);

/* ---- Events -------------------------------------------------------------- */

/* One completed SEAMCALL, as the trace and hooks see it. */
typedef struct tdxsim_seamcall_event {
	uint64_t seq;                   /* global sequence number, from 0 */
	uint32_t lp;
	uint32_t injected;              /* non-zero if the status was injected: the
					 * number of the leaf's fault point it came
					 * from among the call's points of that kind
					 * (1 = the first) */
	uint64_t rax_in;                /* leaf and version */
	struct tdx_module_args in;      /* registers on entry */
	struct tdx_module_args out;     /* registers on exit */
	uint64_t status;                /* RAX on exit */
	uint64_t cycles_start;          /* LP clock at SEAMCALL */
	uint64_t cycles;                /* charged for this SEAMCALL */
} tdxsim_seamcall_event;

typedef void (*tdxsim_seamcall_hook_fn)(void *user, const tdxsim_seamcall_event *ev);

/* Register a callback for every completed SEAMCALL (up to 8 per handle).
 * Called on the SEAMCALL's thread. *id is for tdxsim_hook_remove(). Register
 * and remove hooks (and fault-plan entries) while no SEAMCALL is in flight. */
TDXSIM_API tdxsim_err tdxsim_hook_seamcall(tdxsim *s, tdxsim_seamcall_hook_fn fn,
					   void *user, unsigned *id);
TDXSIM_API tdxsim_err tdxsim_hook_remove(tdxsim *s, unsigned id);

/*
 * SEAMCALL trace recording (docs/trace-format.md): every completed SEAMCALL
 * on this handle is appended to path as one JSON line (registers in and out,
 * status, cycles, and the host memory the leaf read, whose contents are
 * stored once per distinct SHA-256). A path ending in ".gz" is written
 * gzip-compressed. One trace per handle at a time; start and stop while no
 * SEAMCALL is in flight. A write error is reported once on stderr and stops
 * the recording (the SEAMCALLs go on); tdxsim_trace_stop then returns
 * TDXSIM_ERR_IO. Errors name the path and errno in tdxsim_errmsg().
 * TDXSIM_TRACE=path in the environment makes tdxsim_open start recording to
 * path and tdxsim_close stop it.
 */
TDXSIM_API tdxsim_err tdxsim_trace_start(tdxsim *s, const char *path);
/* Flush and close the trace: TDXSIM_ERR_STATE if none is being recorded. */
TDXSIM_API tdxsim_err tdxsim_trace_stop(tdxsim *s);

/*
 * Replay a SEAMCALL trace (docs/trace-format.md): rebuild the machine from the
 * trace header, then for each seamcall event write the host memory the leaf
 * read back at its PAs, issue the SEAMCALL on the recorded LP with the
 * recorded registers, and compare the status and the 13 output registers.
 * Divergences (and, with TDXSIM_REPLAY_UNTIL, a dump of the module state
 * after event `until`) are printed on opts->out (stdout if NULL); malformed
 * input is reported as "FILE:LINE: what was expected" on opts->err (stderr).
 * Returns 0 (every event matched), 1 (a divergence; the first stops the
 * replay unless TDXSIM_REPLAY_CONTINUE) or 2 (unreadable or malformed trace).
 */
#define TDXSIM_REPLAY_CONTINUE 0x1u     /* report every divergence */
#define TDXSIM_REPLAY_UNTIL    0x2u     /* stop after event `until`, dump state */
#define TDXSIM_REPLAY_JSON     0x4u     /* output as one JSON object */
#define TDXSIM_REPLAY_QUIET    0x8u     /* no output on success (benchmarks) */
typedef struct tdxsim_replay_opts {
	uint32_t size;                  /* sizeof(tdxsim_replay_opts) */
	uint32_t flags;                 /* TDXSIM_REPLAY_* */
	uint64_t until;
	FILE *out, *err;
} tdxsim_replay_opts;
typedef struct tdxsim_replay_result {
	uint32_t size;                  /* sizeof(tdxsim_replay_result) */
	uint64_t events;                /* event lines read (blobs included) */
	uint64_t seamcalls;             /* SEAMCALLs issued */
	uint64_t skipped;               /* injected-status events not issued */
	uint64_t divergences;
	double seamcall_ns;             /* wall time spent parsing + issuing events */
} tdxsim_replay_result;
TDXSIM_API int tdxsim_replay(const char *path, const tdxsim_replay_opts *opts,
			     tdxsim_replay_result *res);

/* Per-leaf SEAMCALL counts (index = leaf number) and totals. */
typedef struct tdxsim_stats {
	uint32_t size;                  /* sizeof(tdxsim_stats) */
	uint64_t seamcalls;
	uint64_t seamcalls_failed;      /* status bit 63 set */
	uint64_t injected;
	uint64_t per_leaf[TDX_SEAMCALL_LEAF_MAX];
} tdxsim_stats;
TDXSIM_API tdxsim_err tdxsim_stats_get(tdxsim *s, tdxsim_stats *out);

/* ---- Fault injection ----------------------------------------------------- */

/*
 * A seeded, deterministic fault: the module fails at the point where the real
 * one can, with the status it returns there:
 *   TDX_RND_NO_ENTROPY         where it draws random numbers
 *   TDX_KEY_GENERATION_FAILED  where it programs a key
 *   TDX_SYS_BUSY               where it takes the global lock
 *   TDX_OPERAND_BUSY           where it locks an operand (+ that operand's id:
 *                              RCX, TDR, KOT, TD_EPOCH, SEPT_TREE, WBCACHE...)
 *   TDX_INTERRUPTED_RESUMABLE  where an interruptible leaf (TDH.PHYMEM.CACHE.WB,
 *                              TDH.SYS.DISABLE) checks for a pending interrupt:
 *                              a matching point stands for "an interrupt is
 *                              pending on the LP"; the leaf keeps its progress
 *                              and continues when called again (resume)
 *   TDX_FLUSHVP_NOT_DONE       TDH.MNG.VPFLUSHDONE: as if a vCPU were still
 *                              associated with an LP
 *   TDX_PREVIOUS_TLB_EPOCH_BUSY TDH.MEM.TRACK: as if a vCPU still ran in the
 *                              previous TLB epoch
 *   TDX_TLB_TRACKING_NOT_DONE  TDH.MEM.PAGE.REMOVE, .SEPT.REMOVE, .PAGE.DEMOTE,
 *                              .PAGE.PROMOTE (+ RCX), .RANGE.UNBLOCK (+ SEPT_TREE):
 *                              as if the blocked range were not yet tracked
 *   TDX_WBCACHE_NOT_COMPLETE   TDH.MNG.KEY.FREEID: as if a package had not
 *                              finished TDH.PHYMEM.CACHE.WB
 * An injected status leaves the module's state as the real failure does
 * (nothing changed), and the SEAMCALL's event has injected = N, the number
 * of the fault point it fired at among the call's points of that kind
 * (1 = the first; traces write "injected":N and replay fails that point
 * again). A status the chosen leaf can never return is refused with
 * TDXSIM_ERR_ARG.
 * Counting: by default per check point (each time a leaf of the matching
 * leaf and LP reaches a point where it could fail with that status: a leaf
 * taking three operand locks has three OPERAND_BUSY points); with
 * TDXSIM_FAULT_PER_CALL per SEAMCALL (the call's first such point counts,
 * later points of the same call neither count nor fire). The fault fires at
 * the matching points (or calls) numbered [nth, nth + count) (1-based;
 * count 0 = for ever), or, with nth 0, with the given probability at each,
 * drawn from a per-LP stream seeded by tdxsim_fault_seed() (default: the
 * config's seed), so each LP's sequence is deterministic under threads.
 */
#define TDXSIM_FAULT_PER_CALL 0x1u
typedef struct tdxsim_fault {
	uint32_t size;                  /* sizeof(tdxsim_fault) */
	uint64_t status;                /* one of the statuses above (no operand bits) */
	int32_t leaf;                   /* leaf number, or -1 for any leaf that can */
	int32_t lp;                     /* LP, or -1 for any */
	uint64_t nth;
	uint64_t count;
	double probability;
	uint32_t flags;                 /* TDXSIM_FAULT_PER_CALL */
} tdxsim_fault;
#define TDXSIM_FAULT_INIT { .size = sizeof(tdxsim_fault), .leaf = -1, .lp = -1 }
TDXSIM_API tdxsim_err tdxsim_fault_add(tdxsim *s, const tdxsim_fault *f, unsigned *id);
/* Remove every fault (ids restart at 0). */
TDXSIM_API tdxsim_err tdxsim_fault_clear(tdxsim *s);
/* How many times fault id has fired. */
TDXSIM_API tdxsim_err tdxsim_fault_fired(tdxsim *s, unsigned id, uint64_t *count);
/* Restart every LP's probability stream from seed (LP i: a function of seed and i). */
TDXSIM_API tdxsim_err tdxsim_fault_seed(tdxsim *s, uint64_t seed);
/*
 * Add the faults of a plan string, in order (consecutive ids; *first_id, if
 * not NULL, gets the first). Entries are separated by ';', fields by ',':
 *   status=NAME   required: a status above, with or without "TDX_"
 *   leaf=NAME|N   a SEAMCALL leaf name (TDH.MEM.PAGE.AUG) or number; default any
 *   lp=N          default any ("any" or "*" also accepted for leaf and lp)
 *   nth=N         first matching point that fires (1-based)
 *   count=N       how many fire from nth (default 0 = for ever)
 *   p=X           probability per matching point, 0 < X <= 1 (instead of nth)
 *   per=call|point  counting unit (default point)
 * e.g. "leaf=TDH.MEM.PAGE.AUG,status=TDX_OPERAND_BUSY,nth=3,count=2;status=RND_NO_ENTROPY,p=0.1"
 * Nothing is added if any entry is bad: TDXSIM_ERR_ARG, and tdxsim_errmsg()
 * names the entry and the token. tdxsim_open() applies the environment:
 * TDXSIM_FAULT_SEED (a number: tdxsim_fault_seed) and TDXSIM_FAULTS (a plan
 * string); a bad one makes tdxsim_open() fail with TDXSIM_ERR_ARG and the
 * message on stderr.
 */
TDXSIM_API tdxsim_err tdxsim_fault_parse(tdxsim *s, const char *plan, unsigned *first_id);

/* ---- Snapshots ------------------------------------------------------------ */

/*
 * A snapshot is the whole simulator state: the machine (every LP's clock,
 * RNG streams, VMX and online state, posted interrupt and counters; the
 * SEAMCALL sequence number; the fault plan with its counters; every
 * programmed key), the module (global state, TDMRs, KOT, every TD and vCPU
 * with its guest CPU state and pending TD-exit work), and simulated memory
 * with its per-line TD-owner and poison state, PAMT included. A handle
 * restored from a snapshot continues bit-identically to the handle it was
 * taken from: the same SEAMCALLs give the same statuses, registers, memory
 * and cycles. Not part of the state, and left as they are by a restore:
 * hooks, the trace being recorded (tdxsim_trace_start), checker mode; the
 * fault plan is part of it (a restore replaces the handle's).
 *
 * Take and restore snapshots while no SEAMCALL is in flight on the handle
 * (TDXSIM_ERR_STATE if one is seen) and no other thread uses it. Saving
 * brings the handle to a canonical state the host cannot observe (TD
 * guests' held writes reach RAM, guest engines are rebuilt), so the saved
 * handle and restored ones run alike. A failed save leaves the handle as
 * it was.
 *
 * The format (docs/snapshots.md) is versioned and checksummed per section
 * (SHA-256: detects corruption, not forgery); it records the configuration
 * and this build's structure layout. A restore validates every address,
 * index, size and enum the module will use (docs/snapshots.md, "Trust").
 * A snapshot is refused, with the handle left as it was and
 * tdxsim_errmsg() naming the problem and where (section, file offset), when:
 *   it is not a snapshot, truncated or corrupted,
 *   or holds a value out of range                    TDXSIM_ERR_ARG
 *   its format, tdxsim version or build differs      TDXSIM_ERR_VERSION
 *   the handle's configuration differs (platform, topology, memory, KeyIDs,
 *   module version, features, seed, flags)           TDXSIM_ERR_STATE
 * Restoring into a handle in checker mode is refused (TDXSIM_ERR_STATE). A
 * failure after validation (out of host memory: TDXSIM_ERR_NOMEM; the
 * emulator: TDXSIM_ERR_BACKEND) leaves the handle incomplete: close it.
 */
/* Save into a buffer allocated by the library (*buf, *len); release it
 * with tdxsim_snapshot_free(). */
TDXSIM_API tdxsim_err tdxsim_snapshot_save(tdxsim *s, void **buf, size_t *len);
TDXSIM_API void tdxsim_snapshot_free(void *buf);
/* Replace the handle's state with the snapshot's (the handle's
 * configuration must be the snapshot's). */
TDXSIM_API tdxsim_err tdxsim_snapshot_restore(tdxsim *s, const void *buf, size_t len);
/* Save to a file (written beside it and renamed over path). */
TDXSIM_API tdxsim_err tdxsim_snapshot_write(tdxsim *s, const char *path);
/* Restore from a file (as tdxsim_snapshot_restore; errors name the path). */
TDXSIM_API tdxsim_err tdxsim_snapshot_read(tdxsim *s, const char *path);
/* The configuration a snapshot was taken with, for tdxsim_open(); msg
 * (may be NULL) gets the reason of a failure. */
TDXSIM_API tdxsim_err tdxsim_snapshot_config(const void *buf, size_t len, tdxsim_config *cfg,
					     char *msg, size_t msglen);
/* A new handle with the snapshot file's configuration and state. On
 * failure *out is NULL and msg (may be NULL) gets the reason. */
TDXSIM_API tdxsim_err tdxsim_snapshot_open(const char *path, tdxsim **out, char *msg,
					   size_t msglen);

#ifdef __cplusplus
}
#endif

#endif /* TDXSIM_H */
