/*
 * Test fixtures in the style of KVM selftests. Strictness by underscores:
 * seamcall_ok() asserts TDX_SUCCESS; seamcall_raw() returns the raw status
 * for negative tests. assert_tdx_status() prints both status names.
 *
 * A failed expectation goes through tsim_fail_at() (tsim_check.h): a cmocka
 * failure in the tests (library tsim_harness), a message and exit status 1
 * in programs without cmocka (library tsim_harness_core). Nothing here needs
 * <cmocka.h>.
 */
#ifndef TSIM_H
#define TSIM_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tdxsim/tdxsim.h"
#include "tsim_check.h"

/* A simulator with the default platform; fails if it cannot open. */
tdxsim *tsim_create(const tdxsim_config *cfg);
tdxsim *tsim_create_default(void);
/* VMXON on every LP. */
void tsim_vmxon_all(tdxsim *s);
/* The default simulator with VMXON on every LP. */
tdxsim *tsim_create_vmxon(void);

/* SEAMCALL with all 13 registers in/out (tdxsim_seamcall). */
uint64_t seamcall_raw(tdxsim *s, unsigned lp, uint64_t fn, struct tdx_module_args *a);
#define seamcall_ok(s, lp, fn, a) \
	tsim_expect_status(__FILE__, __LINE__, TDX_SUCCESS, seamcall_raw((s), (lp), (fn), (a)), (fn))
#define assert_tdx_status(want, got) \
	tsim_expect_status(__FILE__, __LINE__, (want), (got), ~0ULL)
/* Fails at file:line with "<leaf>: expected <want>, got <got>" (fn ~0: no leaf). */
void tsim_expect_status(const char *file, int line, uint64_t want, uint64_t got, uint64_t fn);

/* Bring-up steps, as Linux orders them (tdx-abi.md 6.1). */
void tsim_sys_init(tdxsim *s);                 /* SYS.INIT on LP 0 */
void tsim_lp_init_all(tdxsim *s);              /* LP.INIT on every LP */
uint64_t tsim_sys_rd(tdxsim *s, unsigned lp, uint64_t field);

/* TDMRs built the way Linux builds them: one per 1 GiB-aligned CMR span,
 * PAMTs allocated from the top of the last CMR and reserved in their TDMR,
 * holes inside a TDMR reserved. */
struct tsim_tdmrs {
	unsigned n;
	struct tdx_tdmr_info info[TDX_MAX_TDMRS];
	uint64_t array_pa;                     /* u64 array of TDMR_INFO PAs */
	uint64_t info_pa[TDX_MAX_TDMRS];
	uint64_t pamt_pa[TDX_MAX_TDMRS];      /* one block per TDMR: 4K, 2M, 1G */
	uint64_t pamt_bytes[TDX_MAX_TDMRS];
	uint64_t scratch_pa;                   /* 64 KiB of free shared memory for tests */
};
void tsim_build_tdmrs(tdxsim *s, struct tsim_tdmrs *t);
/* Write t->info[i] to simulated memory (after a test modified it). */
void tsim_write_tdmrs(tdxsim *s, const struct tsim_tdmrs *t);
/* SYS.CONFIG with the TDMRs and the first TDX KeyID; returns the status. */
uint64_t tsim_sys_config(tdxsim *s, const struct tsim_tdmrs *t);
void tsim_key_config_all(tdxsim *s);           /* KEY.CONFIG on the first LP of each package */
void tsim_tdmr_init_all(tdxsim *s, const struct tsim_tdmrs *t);
/* Up to SYSCONFIG_DONE (SYS.INIT, LP.INIT everywhere, Linux-style TDMRs,
 * SYS.CONFIG); VMXON must already be on. */
void tsim_to_sysconfig(tdxsim *s, struct tsim_tdmrs *t);
/* Then KEY.CONFIG on every package: READY, TDMRs not initialised. t may be NULL. */
void tsim_to_ready(tdxsim *s, struct tsim_tdmrs *t);
/* The whole bring-up; the module ends READY. */
void tsim_bringup(tdxsim *s, struct tsim_tdmrs *t);

/* Plan a fault (tdxsim_fault_add must succeed); leaf and lp may be -1. */
unsigned tsim_fault(tdxsim *s, uint64_t status, int leaf, int lp, uint64_t nth, uint64_t count);
/* How often fault id fired. */
uint64_t tsim_fault_fired(tdxsim *s, unsigned id);

/* First LP of a package. */
unsigned tsim_pkg_first_lp(tdxsim *s, unsigned pkg);

#endif
