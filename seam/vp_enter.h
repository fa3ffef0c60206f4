/*
 * The guest-run half of TDH.VP.ENTER. tdh_vp_enter() runs the module's
 * entry checks, binds the vCPU and takes its TD-epoch reference, then hands
 * over to seam_vp_run(), which runs the guest until a TD exit.
 *
 * Contract. Called with the TDVPR and TDR PAMT entries held shared (as the
 * module holds them while the guest runs), the op-state lock released,
 * v->state == VCPU_ACTIVE, v associated with c->lp_id and counted in
 * td->refcount[v->last_epoch & 1]. It returns the TD-exit status for RAX
 * (tdx-abi.md 2.3) and sets the exit registers in c->r. Afterwards the
 * caller drops the epoch reference, sets the vCPU back to VCPU_READY unless
 * the run left it VCPU_DISABLED, and releases the locks.
 */
#ifndef SEAM_VP_ENTER_H
#define SEAM_VP_ENTER_H

#include <stdint.h>

struct seam_ctx;
struct seam_vcpu;

/* The external-interrupt TD exit that ends a run whose budget is spent:
 * VMX basic exit reason and interruption info (valid, external, vector 0xEC,
 * Linux's local-timer vector). */
#define SEAM_VP_EXIT_EXTERNAL_INTERRUPT 1u
#define SEAM_VP_INTR_INFO_TIMER         0x800000ECu

uint64_t seam_vp_run(struct seam_ctx *c, struct seam_vcpu *v);

/* Free the guest-execution state of a vCPU (struct seam_vcpu.run; NULL is
 * fine): called when the vCPU structure is freed. */
void seam_vcpu_run_free(void *run);

#endif
