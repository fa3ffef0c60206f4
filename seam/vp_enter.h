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

#include <stddef.h>
#include <stdint.h>

struct seam_ctx;
struct seam_vcpu;
struct seam_module;
struct sim_lp;
struct sim_crypt;
struct tdxsim;

/* The external-interrupt TD exit that ends a run whose budget is spent:
 * VMX basic exit reason and interruption info (valid, external, vector 0xEC,
 * Linux's local-timer vector). */
#define SEAM_VP_EXIT_EXTERNAL_INTERRUPT 1u
#define SEAM_VP_INTR_INFO_TIMER         0x800000ECu

uint64_t seam_vp_run(struct seam_ctx *c, struct seam_vcpu *v);

/* Bring TDVPS's copy of the guest's control registers, segments, EFER,
 * GDTR and IDTR (struct seam_vcpu.g) up to date with the engine, which
 * saves them only when asked (TDH.VP.RD/WR, TDG.VP.RD/WR): no-op while the
 * vCPU runs on another LP. */
void seam_vp_state_sync(struct seam_vcpu *v);

/* Free the guest-execution state of a vCPU (struct seam_vcpu.run; NULL is
 * fine): called when the vCPU structure is freed. */
void seam_vcpu_run_free(void *run);
/* Release the TD's share of the guest-execution state (struct seam_td.run;
 * NULL is fine): called when the TD structure is freed. */
void seam_td_run_free(void *run);

/* Post an external interrupt (vector) to LP lp: a vCPU running on it exits
 * (reason 1) at its next instruction-block boundary; otherwise the next
 * TDH.VP.ENTER on the LP exits before running a guest instruction (the
 * host enters with interrupts disabled, so the interrupt stays pending). */
void seam_lp_interrupt(struct sim_lp *lp, uint8_t vector);

/*
 * TD guests' private writes are held by the runner (seam/td_run.c) until RAM
 * must have them. seam_run_hold() before a SEAMCALL leaf (its number; -1:
 * the embedder accesses memory) that may see or change TD private pages:
 * stops every TD that has run, writes its held pages back to RAM and keeps
 * it stopped until seam_run_release(), after which its vCPUs re-read what
 * changed. No-op for the leaves that cannot touch TD private pages.
 * cc: the LP's encryption contexts, or NULL. seam_run_sync(): hold and
 * release at once (RAM is current as of the call).
 */
struct seam_run_hold {
	void **m;
	size_t n;
	void *fixed[8];
	struct seam_module *mod;        /* counted in hold_gen (NULL: nothing held) */
};
void seam_run_hold(struct tdxsim *s, struct sim_crypt *cc, int leaf, struct seam_run_hold *h);
void seam_run_release(struct seam_run_hold *h);
void seam_run_sync(struct tdxsim *s, struct sim_crypt *cc);

/*
 * Snapshots (sim/snapshot.c), while no SEAMCALL is in flight. The runner
 * state of a vCPU that TDVPS does not hold: the engine's whole CPU context
 * (Unicorn's, for this Unicorn build) and the runner's pending work (a
 * TDG.VP.VMCALL whose registers the next entry copies back, an exception
 * whose delivery an EPT violation interrupted).
 * seam_run_image_get: 1 and *img filled (img->ctx malloc'd) for a vCPU with
 * an engine, 0 for one without, -1 out of memory; TDVPS is brought up to
 * date. seam_run_drop_all: every TD's held writes to RAM, then every engine
 * and mirror freed (the next entry starts from TDVPS, or from an image).
 * seam_run_image_put: a fresh engine for v with the image's state: 0, -1 out
 * of memory, -2 the context size differs from this Unicorn's.
 * seam_run_rebuild_all: every engine and mirror replaced by fresh ones, the
 * i-th vCPU of the module's list from img[i] (no ctx: no engine), all or
 * nothing: 0, or -1/-2 as image_put with the old engines kept.
 * seam_run_ctx_size: the size of this Unicorn's CPU context (0: no engine).
 */
struct seam_run_image {
	uint32_t ctx_len;
	uint8_t *ctx;
	uint8_t vmcall_pending, pend_valid, pend_has_err, locate;
	uint32_t pend_vec;
	uint64_t vmcall_mask, pend_err, pend_rip, locate_rip;
};
int seam_run_image_get(struct seam_vcpu *v, struct seam_run_image *img);
void seam_run_drop_all(struct tdxsim *s);
int seam_run_rebuild_all(struct tdxsim *s, const struct seam_run_image *img, uint32_t n);
int seam_run_image_put(struct tdxsim *s, struct seam_vcpu *v, const struct seam_run_image *img);
size_t seam_run_ctx_size(void);

#endif
