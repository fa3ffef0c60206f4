/*
 * TD fixtures: build, populate and tear down TDs the way KVM does
 * (tdx-abi.md 6.3, 6.4), with every SEAMCALL asserted to succeed (a failure
 * goes through tsim_fail_at(), see tsim_check.h). Negative
 * tests use these to reach a state, then issue the call under test with
 * seamcall_raw().
 *
 * Include after tsim.h.
 */
#ifndef TSIM_TD_H
#define TSIM_TD_H

#include <stdbool.h>
#include <stdint.h>

#include "tsim.h"

struct seam_td;

/* Test rows a shared test header defines for the file including it: the
 * file defines ROW_PREFIX (its test-name prefix, e.g. test_tdh_mem_rd) and
 * registers TSIM_ROW(row), i.e. <prefix>__<row>, in main() as its own. */
#define TSIM_ROW(row) TSIM_ROW_(ROW_PREFIX, row)
#define TSIM_ROW_(prefix, row) TSIM_ROW__(prefix, row)
#define TSIM_ROW__(prefix, row) prefix##__##row

/* A READY module with every TDMR initialised, plus allocators (safe to use
 * from several threads). */
struct tsim_env {
	tdxsim *s;
	struct tsim_tdmrs t;
	unsigned n_lps, n_pkgs;
	uint32_t first_keyid, n_keyids;     /* TDX KeyIDs; the first is the global one */
	uint64_t keyid_shift;
	uint64_t next_pa, end_pa;           /* 4 KiB pages: [256 MiB, 1 GiB) of TDMR 0 */
	uint64_t next_pa_2m;                /* 2 MiB pages: [1 GiB, 2 GiB) */
	uint32_t next_hkid;
	uint64_t shared_pa;                 /* 64 KiB of shared memory (TD_PARAMS, sources) */
};

/* Open the default platform, VMXON everywhere, bring the module to READY
 * and initialise every TDMR. */
void tsim_env_init(struct tsim_env *e);
/* Same with a caller's configuration. */
void tsim_env_init_cfg(struct tsim_env *e, const tdxsim_config *cfg);
void tsim_env_fini(struct tsim_env *e);

/* A free (PT_NDA) page of TDMR memory: 4 KiB, or 2 MiB / 1 GiB aligned. */
uint64_t tsim_page(struct tsim_env *e);
uint64_t tsim_page_2m(struct tsim_env *e);
/* A TD KeyID not handed out before. */
uint32_t tsim_hkid(struct tsim_env *e);
/* PA with a KeyID in its upper bits (Linux's mk_keyed_paddr). */
uint64_t tsim_keyed_pa(struct tsim_env *e, uint64_t pa, uint32_t keyid);

#define TSIM_MAX_VCPUS 16
#define TSIM_MAX_SEPT  256
#define TSIM_MAX_PAGES 1024

struct tsim_vcpu {
	uint64_t tdvpr;
	uint64_t tdcx[TDX_TDVPS_PAGES - 1];
	unsigned lp;                        /* LP it was initialised on */
};

struct tsim_td {
	struct tsim_env *e;
	/* LPs the fixtures issue this TD's SEAMCALLs on: lp for TD-wide calls,
	 * pkg_lp[p] for the per-package ones (KEY.CONFIG, CACHE.WB). Defaults:
	 * LP 0 and each package's first LP; threads driving TDs in parallel
	 * give each TD its own. */
	unsigned lp;
	unsigned pkg_lp[8];
	uint64_t shared;                    /* 2 shared pages: TD_PARAMS, PAGE.ADD source */
	uint64_t tdr;
	uint32_t hkid;
	uint64_t tdcs[TDX_TDCS_PAGES];
	unsigned n_tdcs;
	struct tsim_vcpu vcpu[TSIM_MAX_VCPUS];
	unsigned n_vcpus;
	unsigned ept_levels;                /* 4 */
	bool finalized;
	/* S-EPT pages added, with the GPA and level of the entry pointing at them. */
	struct { uint64_t gpa, pa; unsigned level; } sept[TSIM_MAX_SEPT];
	unsigned n_sept;
	/* Private pages mapped (PAGE.ADD / PAGE.AUG). */
	struct { uint64_t gpa, pa; unsigned level; } page[TSIM_MAX_PAGES];
	unsigned n_pages;
};

/* TD_PARAMS as KVM's setup_tdparams() builds them: the given attributes and
 * max vCPUs, XFAM = x87|SSE, 4-level WB EPT (0x1E), CONFIG_FLAGS NO_RBP_MOD,
 * TSC frequency of the platform, CPUID values zero (module defaults). */
void tsim_td_params(struct tsim_env *e, struct tdx_td_params *p, uint64_t attributes,
		    uint16_t max_vcpus);

/* MNG.CREATE (fresh TDR and KeyID), MNG.KEY.CONFIG on every package. */
void tsim_td_create(struct tsim_env *e, struct tsim_td *td);
/* Same, issuing the TD's calls on lp and the per-package calls on pkg_lp[]
 * (NULL: each package's first LP). */
void tsim_td_create_on(struct tsim_env *e, struct tsim_td *td, unsigned lp, const unsigned *pkg_lp);
/* seamcall_raw(), retried while the module answers OPERAND_BUSY (any operand)
 * or SYS_BUSY, as KVM retries contended calls; gives up after 100000 tries. */
uint64_t tsim_seamcall_retry(tdxsim *s, unsigned lp, uint64_t fn, struct tdx_module_args *a);
/* MNG.ADDCX of all TDCS pages. */
void tsim_td_addcx(struct tsim_td *td);
/* Write p to shared memory and issue MNG.INIT; returns the status (RCX out in *rcx if not NULL). */
uint64_t tsim_td_init_raw(struct tsim_td *td, const struct tdx_td_params *p, uint64_t *rcx);
/* MNG.CREATE only (fresh TDR and KeyID, no KEY.CONFIG): lifecycle
 * HKID_ASSIGNED, so the TD leaves answer TD_KEYS_NOT_CONFIGURED. */
void tsim_td_create_nokey(struct tsim_env *e, struct tsim_td *td);
/* create + addcx + MNG.INIT with tsim_td_params(attributes, max_vcpus). */
void tsim_td_build(struct tsim_env *e, struct tsim_td *td, uint64_t attributes, uint16_t max_vcpus);

/* VP.CREATE, VP.ADDCX x5, VP.INIT (version 1, x2APIC id = index) on lp. */
struct tsim_vcpu *tsim_vcpu_add(struct tsim_td *td, unsigned lp);

/* SEPT.ADD every missing non-leaf level above `level` for gpa (top-down). */
void tsim_sept_map(struct tsim_td *td, uint64_t gpa, unsigned level);
/* PAGE.ADD a 4 KiB page from src (4096 bytes, or zeros if NULL), then
 * 16 x MR.EXTEND if extend. Maps the S-EPT first. Returns the page PA. */
uint64_t tsim_page_add(struct tsim_td *td, uint64_t gpa, const void *src, bool extend);
/* PAGE.AUG a page at level (0 = 4K, 1 = 2M). Returns its PA. */
uint64_t tsim_page_aug(struct tsim_td *td, uint64_t gpa, unsigned level);
/* MR.FINALIZE. */
void tsim_td_finalize(struct tsim_td *td);

/* Test-only route: rewrite the state of the 4K S-EPT entry of gpa (its
 * 4K table must have been added by the fixtures) through the TD's KeyID,
 * clearing the entry bits in clear; e.g. BLOCKEDW without W, which only
 * live export produces. */
void tsim_sept_force_state(struct tsim_td *td, uint64_t gpa, unsigned state, uint64_t clear);

/* Runtime removal of a private page as KVM zaps it: RANGE.BLOCK, MEM.TRACK
 * (when RUNNABLE), PAGE.REMOVE, PAGE.WBINVD through the TD's KeyID. */
void tsim_page_zap(struct tsim_td *td, uint64_t gpa, unsigned level);

/* KVM's teardown: VP.FLUSH of every vCPU on its LP, VPFLUSHDONE, CACHE.WB
 * on each package, KEY.FREEID, then RECLAIM of every page (private pages,
 * S-EPT, TDCX/TDVPR, TDCS, TDR last) and PAGE.WBINVD of the TDR with the
 * global KeyID. Afterwards every page is PT_NDA. */
void tsim_td_teardown(struct tsim_td *td);

/* A page-aligned PA just above the last TDMR: no TDMR covers it
 * (OPERAND_ADDR_RANGE_ERROR for a page operand) and it has no KeyID bits. */
uint64_t tsim_pa_outside(struct tsim_env *e);

/* Test-only route: the module's structure of the TD (NULL when td->tdr is
 * not a TDR). Include seam/td.h to look inside. */
struct seam_td *tsim_td_obj(struct tsim_td *td);

/* PAMT type of a page (tdxsim_pamt_lookup: no SEAMCALL, any thread). */
unsigned tsim_page_type(struct tsim_env *e, uint64_t pa);

#endif
