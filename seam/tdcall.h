/*
 * The TD side of the module: TDCALLs the module handles without a TD exit,
 * and guest-physical memory as a TD sees it.
 *
 * Division of work. The guest runner (seam/td_run.c, the only file that sees
 * Unicorn) executes guest code. On TDCALL it handles TDG.VP.VMCALL (leaf 0:
 * a TD exit to the host) itself and hands every other leaf to seam_tdcall().
 * Encrypted simulated RAM stays the one authoritative copy of TD memory: the
 * runner writes back the pages the guest dirtied before calling
 * seam_tdcall() (and at every TD exit), and revalidates its decrypted pages
 * by their write version afterwards, so handlers simply use
 * seam_gpa_read()/seam_gpa_write().
 */
#ifndef SEAM_TDCALL_H
#define SEAM_TDCALL_H

#include <stdbool.h>
#include <stdint.h>

struct seam_ctx;
struct seam_vcpu;

/* Guest GPR indexes in struct seam_vcpu_guest.gpr[] (architectural order). */
enum {
	GPR_RAX = 0, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
};

/* What the runner does after a module-handled TDCALL. */
enum seam_tdcall_next {
	SEAM_TDCALL_RESUME = 0,         /* the guest continues after the TDCALL */
	SEAM_TDCALL_INJECT_GP,          /* #GP(0) into the guest (e.g. not in 64-bit mode) */
	SEAM_TDCALL_INJECT_UD,          /* #UD into the guest */
	SEAM_TDCALL_EXIT,               /* a TD exit: v's exit registers are set */
};

/*
 * A module-handled TDCALL (RAX != 0) on vCPU v, with the guest registers in
 * v->g.gpr: outputs and the completion status (in RAX) go back there, as the
 * TDX module writes them. The TD's and vCPU's locks are taken inside, as the
 * module takes them, with the same busy statuses.
 */
enum seam_tdcall_next seam_tdcall(struct seam_ctx *c, struct seam_vcpu *v);

/*
 * The TD's view of guest-physical memory: a private GPA (shared bit clear)
 * through the S-EPT and the TD's KeyID (the leaf must be MAPPED), a shared
 * GPA through the host's shared EPT (v->vmcs.shared_eptp, standard 4-level
 * EPT in host memory, KeyID 0). The range must not cross a page. Returns 0,
 * or -1 if the GPA is not mapped for that access (*leaf_state, if not NULL,
 * gets the S-EPT state found, for the caller's status).
 */
int seam_gpa_read(struct seam_ctx *c, struct seam_vcpu *v, uint64_t gpa, void *buf,
		  uint64_t len, unsigned *leaf_state);
int seam_gpa_write(struct seam_ctx *c, struct seam_vcpu *v, uint64_t gpa, const void *buf,
		   uint64_t len, unsigned *leaf_state);

#endif
