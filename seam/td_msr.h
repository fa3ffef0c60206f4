/*
 * RDMSR/WRMSR in a TD: what the TDX module (1.5) does with each MSR index,
 * as data in one table (seam/td_msr.c), and the MSRs it emulates itself.
 * The guest runner (seam/td_run.c) stops at every RDMSR/WRMSR and asks here.
 */
#ifndef SEAM_TD_MSR_H
#define SEAM_TD_MSR_H

#include <stdbool.h>
#include <stdint.h>

struct tdxsim;
struct seam_td;
struct seam_vcpu;

enum td_msr_action {
	TD_MSR_NATIVE = 0,      /* the TD accesses the MSR directly (no VM exit) */
	TD_MSR_GP,              /* the module injects #GP(0) */
	TD_MSR_VE,              /* the module injects #VE (exit reason 31 / 32) */
	TD_MSR_EMULATE,         /* the module emulates the access (td_msr_emulate) */
};

/* What the module does for an RDMSR (wr false) or WRMSR of msr in td. */
enum td_msr_action td_msr_action(struct tdxsim *s, const struct seam_td *td, uint32_t msr, bool wr);

/*
 * The module's emulation of a TD_MSR_EMULATE access by vCPU v. RDMSR: *val
 * holds the native (CPU) value on input and receives the value the guest
 * reads. WRMSR: *val is the value written; on TD_MSR_NATIVE the caller
 * writes *val (possibly adjusted) to the CPU's MSR; on TD_MSR_EMULATE the
 * value went to the vCPU's virtual MSR state (TDVPS) only. Returns
 * TD_MSR_NATIVE / TD_MSR_EMULATE (done, advance RIP), TD_MSR_GP or TD_MSR_VE.
 */
enum td_msr_action td_msr_emulate(struct tdxsim *s, struct seam_vcpu *v, uint32_t msr, bool wr,
				  uint64_t efer, uint64_t *val);

#endif
