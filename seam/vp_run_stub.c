/*
 * PLACEHOLDER for the guest-run issue, which replaces this file: no guest
 * instruction is executed yet.
 *
 * Every entry ends at once in an asynchronous TD exit for an external
 * interrupt, as when a host interrupt is already pending at VM entry: the
 * guest retires nothing, so its state (RIP, GPRs) stays exactly as VP.INIT
 * or the previous exit left it, and the host sees the exit KVM handles by
 * re-entering. Outputs (tdx-abi.md 2.3): RAX = TDX_SUCCESS | 1 (exit
 * reason), RCX = exit qualification 0, RDX = extended qualification 0,
 * R8 = GPA 0, R9 = interruption info 0x800000EC (valid, external interrupt,
 * vector 0xEC, Linux's local-timer vector), R10-R15, RBX, RSI, RDI = 0.
 * The VM entry itself happened, so the TD-VMCS counts as launched.
 */
#include "seam/td.h"
#include "seam/vp_enter.h"

uint64_t seam_vp_run(struct seam_ctx *c, struct seam_vcpu *v)
{
	struct tdx_module_args *r = c->r;
	v->launched = true;
	r->rcx = 0;
	r->rdx = 0;
	r->r8 = 0;
	r->r9 = SEAM_VP_STUB_INTR_INFO;
	r->r10 = r->r11 = r->r12 = r->r13 = r->r14 = r->r15 = 0;
	r->rbx = r->rsi = r->rdi = 0;
	return TDX_SUCCESS | SEAM_VP_EXIT_EXTERNAL_INTERRUPT;
}
