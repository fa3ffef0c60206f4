/* The simulator handle's layout: private to the library. */
#ifndef SIM_INT_H
#define SIM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "tdxsim/tdxsim.h"
#include "sim/phys_mem.h"
#include "sim/mktme.h"
#include "seam/module.h"
#include "models/cost.h"

#define TDXSIM_MAGIC      0x74647873u   /* "tdxs" */
#define TDXSIM_DEAD       0xdeadbeefu
#define TDXSIM_MAX_LPS    1024
#define TDXSIM_MAX_PKGS   8    /* the module supports 8 packages (PKG_FMS[8]) */
#define TDXSIM_MAX_HOOKS  8
#define TDXSIM_MAX_FAULTS 32

/* Snapshots copy it as is (sim/snapshot.c): a pointer field must be handled there. */
struct sim_lp {
	unsigned id, pkg;
	_Atomic int online;
	_Atomic uint32_t vmx_refs;      /* > 0: CR4.VMXE set, in VMX root operation */
	_Atomic uint64_t wbinvd_count;
	_Atomic uint64_t cycles;        /* simulated clock of this LP */
	_Atomic uint64_t module_insns;  /* module instructions modelled (models/cost.h) */
	_Atomic uint64_t entry_insns;   /* ... of the last TDH.VP.ENTER up to its TD entry */
	_Atomic uint64_t tdcall_insns[TDX_TDCALL_LEAF_MAX]; /* ... of the last such TDCALL */
	uint64_t intr_at;               /* tdxsim_lp_interrupt_at: clock deadline, 0 = none */
	uint32_t intr_at_vec;
	_Atomic uint64_t entry_cycles;  /* clock at the last TD entry (timing model) */
	_Atomic uint64_t stat_stepping; /* async TD exits the stepping filter flagged */
	uint64_t rng;                   /* per-LP stream: deterministic under threads */
	uint64_t fault_rng;             /* per-LP stream of the fault plan's draws (sim/fault.c) */
	struct seam_lp seam;
	struct sim_crypt crypt;         /* memory-encryption contexts and page cache */
	/* Counters: written only by the thread driving this LP (one at a
	 * time), read by anyone: relaxed atomics, no read-modify-write. */
	_Atomic uint64_t stat_calls, stat_failed, stat_injected;
	_Atomic uint64_t stat_leaf[TDX_SEAMCALL_LEAF_MAX];
};

static inline void sim_count(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

struct sim_hook {
	tdxsim_seamcall_hook_fn fn;
	void *user;
};

struct sim_fault {
	tdxsim_fault f;
	int used;
	_Atomic uint64_t matched;       /* matching calls seen */
	_Atomic uint64_t fired;
};

struct tdxsim {
	uint32_t magic;
	tdxsim_config cfg;              /* as resolved (defaults filled in) */
	const tdxsim_platform *plat;
	const struct tdxsim_costs *costs;
	uint32_t n_lps, n_pkgs;
	uint32_t keyid_bits, keyid_shift;
	uint64_t mem_bytes;             /* DRAM */
	uint64_t pa_top;                /* highest DRAM address + 1 */
	struct sim_lp *lps;
	struct phys_mem mem;
	struct sim_keyslot *keys;       /* indexed by KeyID (0 and MKTME KeyIDs unused) */
	uint32_t n_keyslots;
	struct seam_module mod;

	_Atomic uint64_t seq;
	struct sim_hook hooks[TDXSIM_MAX_HOOKS];
	_Atomic int n_hooks;            /* highest used slot + 1 */
	struct sim_fault faults[TDXSIM_MAX_FAULTS];
	_Atomic int n_faults;
	uint64_t fault_seed;            /* seeds lps[].fault_rng (tdxsim_fault_seed) */

	int checker;                    /* checker mode on (sim/checker.c) */
	struct sim_trace *_Atomic trace; /* SEAMCALL trace being recorded (sim/trace.c) */

	pthread_mutex_t err_mutex;      /* guards errmsg (sim_error, tdxsim_errmsg) */
	char errmsg[256];
};

/* Record an API error message on the handle; returns err. */
tdxsim_err sim_error(tdxsim *s, tdxsim_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Handle check: non-NULL, open. */
static inline int sim_ok(const tdxsim *s)
{
	return s && s->magic == TDXSIM_MAGIC;
}

/* splitmix64: the per-LP random stream. */
static inline uint64_t sim_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Fault plan: the status to inject at a point of the given kind
 * (TDX_LEAF_F_RND, _KEYGEN, _SYSLOCK, _OPLOCK, _RESUMABLE, SEAM_FAULT_*), or 0.
 * *seen: the call's mask of per-call faults already counted. */
uint64_t sim_fault_check(tdxsim *s, struct sim_lp *lp, unsigned leaf, uint32_t kind,
			 uint32_t *seen);
/* At tdxsim_open: TDXSIM_FAULT_SEED and TDXSIM_FAULTS (an error names the
 * bad token in the handle's message). */
tdxsim_err sim_fault_env(tdxsim *s);

/* Checker mode: [pa, pa+len) became TD-private (protect = 1) or host memory
 * again (protect = 0). */
void sim_checker_page(tdxsim *s, uint64_t pa, uint64_t len, int protect);
/* Register / unregister a checker-mode handle with the process's SIGSEGV
 * handler (sim_checker_open fails when SIM_CHECKER_MAX are registered). */
#define SIM_CHECKER_MAX 64
int sim_checker_open(tdxsim *s);
void sim_checker_close(tdxsim *s);

#define SIM_BUG_ON(cond) do { if (cond) sim_bug(__FILE__, __LINE__, #cond); } while (0)
_Noreturn void sim_bug(const char *file, int line, const char *what);

#endif
