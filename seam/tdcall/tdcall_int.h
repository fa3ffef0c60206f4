/*
 * What the module-handled TDCALL handlers share (seam/tdcall.c dispatches,
 * one file per leaf in seam/tdcall/). A handler reads its inputs from and
 * writes its outputs to the guest GPRs (t->gpr) and returns the completion
 * status, which the dispatcher puts in guest RAX.
 *
 * A handler that ends in a TD exit instead (e.g. an EPT violation on a GPA it
 * had to access) fills v->tdcall_exit through tdcall_exit_ept_violation()
 * and returns TDCALL_EXITED: the dispatcher then restores every guest GPR to
 * its value before the TDCALL (the guest re-executes it after the host has
 * handled the exit) and answers SEAM_TDCALL_EXIT.
 *
 * Locks. The runner holds the TDR and TDVPR (shared) while the guest runs,
 * as TDH.VP.ENTER does; the op-state lock is not held. Handlers take only
 * what the module's guest side takes (S-EPT entry, RTMR lock), each a
 * try-lock: contention is OPERAND_BUSY + the operand id.
 */
#ifndef SEAM_TDCALL_INT_H
#define SEAM_TDCALL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "seam/tdcall.h"
#include "seam/td.h"

struct tdcall_ctx {
	struct seam_ctx *c;         /* the module context of this TDCALL; c->r is
				     * scratch (shared helpers write S-EPT "ext"
				     * outputs there, which TDCALLs do not return) */
	struct seam_vcpu *v;
	struct seam_td *td;
	uint64_t *gpr;              /* v->g.gpr */
	unsigned version;           /* RAX 23:16 */
};

/* A handler's return value meaning "v->tdcall_exit holds a TD exit". Not a
 * status the module returns (class 0xFF is reserved for software). */
#define TDCALL_EXITED 0xFFFFFFFFFFFFFFFFULL

/* VMX basic exit reason of an EPT violation, and extended exit
 * qualification types (tdx-abi.md 2.3). */
#define TDCALL_EXIT_EPT_VIOLATION 48u
#define TDCALL_EEQ_ACCEPT         1u
#define TDCALL_EEQ_PENDING_EPT    6u

/* EPT-violation exit qualification bits. */
#define TDCALL_EQ_READ     (1ULL << 0)
#define TDCALL_EQ_WRITE    (1ULL << 1)
#define TDCALL_EQ_FETCH    (1ULL << 2)
#define TDCALL_EQ_R_OK     (1ULL << 3)
#define TDCALL_EQ_W_OK     (1ULL << 4)
#define TDCALL_EQ_X_OK     (1ULL << 5)

/* TD_CTLS bit 0: TD exit (not #VE) on a guest access to a PENDING page. */
#define TDCALL_TD_CTLS_PENDING_VE_DISABLE (1ULL << 0)

/* Set v->tdcall_exit to an EPT-violation TD exit; returns TDCALL_EXITED. */
uint64_t tdcall_exit_ept_violation(struct tdcall_ctx *t, uint64_t gpa, uint64_t exit_qual,
				   uint64_t ext_exit_qual);

/*
 * Guest-side access to a GPA operand of a TDCALL, as the module maps one:
 * the GPA must be below the TD's GPA width (and private if private_only),
 * else TDX_OPERAND_INVALID (no operand id: the caller adds its own); then
 * seam_gpa_read/write; a GPA the guest cannot access that way ends in an
 * EPT-violation TD exit (TDCALL_EXITED). The range must not cross a page.
 */
uint64_t tdcall_gpa_read(struct tdcall_ctx *t, uint64_t gpa, void *buf, uint64_t len,
			 bool private_only);
uint64_t tdcall_gpa_write(struct tdcall_ctx *t, uint64_t gpa, const void *buf, uint64_t len,
			  bool private_only);

/* The handlers (seam/tdcall/<handler>.c). */
#define TDCALL_PROTO(e, n, s, fn, v, f, impl) uint64_t seam_##fn(struct tdcall_ctx *t);
TDX_TDCALL_LEAVES(TDCALL_PROTO)
#undef TDCALL_PROTO

/* ---- TDREPORT_STRUCT (TDG.MR.REPORT) layout ---- */
#define TDREPORT_SIZE               1024u
#define TDREPORT_REPORTDATA_SIZE    64u
/* REPORTMACSTRUCT (256 bytes at 0) */
#define TDREPORT_OFF_REPORTTYPE     0u      /* type, subtype, version, reserved */
#define TDREPORT_OFF_CPUSVN         16u
#define TDREPORT_OFF_TEE_TCB_HASH   32u     /* SHA-384(TEE_TCB_INFO) */
#define TDREPORT_OFF_TEE_INFO_HASH  80u     /* SHA-384(TDINFO) */
#define TDREPORT_OFF_REPORTDATA     128u
#define TDREPORT_OFF_MAC            224u    /* HMAC-SHA-256 over bytes 0..223 */
#define TDREPORT_MAC_COVERED        224u
/* TEE_TCB_INFO (239 bytes at 256) */
#define TDREPORT_OFF_TEE_TCB_INFO   256u
#define TDREPORT_TEE_TCB_INFO_SIZE  239u
/* TDINFO (512 bytes at 512) */
#define TDREPORT_OFF_TDINFO         512u
#define TDREPORT_TDINFO_SIZE        512u
#define TDINFO_OFF_ATTRIBUTES       0u
#define TDINFO_OFF_XFAM             8u
#define TDINFO_OFF_MRTD             16u
#define TDINFO_OFF_MRCONFIGID       64u
#define TDINFO_OFF_MROWNER          112u
#define TDINFO_OFF_MROWNERCONFIG    160u
#define TDINFO_OFF_RTMR             208u    /* 4 x 48 */
#define TDINFO_OFF_SERVTD_HASH      400u

#define TDREPORT_TYPE_TDX           0x81u

#endif
