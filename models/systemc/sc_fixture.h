/*
 * The C side of test_systemc: the test harness (tests/harness, C11 with
 * <stdatomic.h>, not includable from C++) behind plain functions. Bring-up
 * SEAMCALLs go through the SystemC socket; only the memory layout (TDMRs)
 * and the TD build around a guest image come from the harness.
 */
#ifndef SC_FIXTURE_H
#define SC_FIXTURE_H

#include <stdint.h>

#include "tdxsim/tdxsim.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sc_fx;

/* Open the default platform; lay out Linux-style TDMRs and PAMTs in
 * simulated memory (no SEAMCALL). */
struct sc_fx *sc_fx_new(void);
tdxsim *sc_fx_sim(struct sc_fx *f);
unsigned sc_fx_n_lps(struct sc_fx *f);
unsigned sc_fx_n_pkgs(struct sc_fx *f);
uint32_t sc_fx_first_keyid(struct sc_fx *f);
uint64_t sc_fx_tdmr_array(struct sc_fx *f);      /* SYS.CONFIG RCX */
unsigned sc_fx_n_tdmrs(struct sc_fx *f);         /* SYS.CONFIG RDX */
uint64_t sc_fx_tdmr_base(struct sc_fx *f, unsigned i);
uint64_t sc_fx_tdmr_end(struct sc_fx *f, unsigned i);

/* Once the module is READY with every TDMR initialised: a one-vCPU debug TD
 * (vCPU on LP 0) around guest image `image` (build/guest/<image>.bin),
 * measured and finalized, built with the harness. Returns the TDVPR PA. */
uint64_t sc_fx_td(struct sc_fx *f, const char *image, uint64_t arg);
unsigned sc_fx_vcpu_lp(struct sc_fx *f);
/* If exit (the registers of a TDVMCALL exit) is a ucall, its cmd
 * (UCALL_*) and args[0..1]; else 0. */
uint64_t sc_fx_ucall(struct sc_fx *f, const struct tdx_module_args *exit, uint64_t args[2]);
/* Tear the TD down (harness) and close the simulator. */
void sc_fx_free(struct sc_fx *f);

#ifdef __cplusplus
}
#endif

#endif
