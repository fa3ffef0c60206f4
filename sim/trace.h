/*
 * SEAMCALL trace recording (docs/trace-format.md): JSON Lines, optionally
 * gzip-compressed. Internal to the library; the public entry points are
 * tdxsim_trace_start / tdxsim_trace_stop and the TDXSIM_TRACE variable.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "tdxsim/tdxsim.h"

struct tdxsim;
struct sim_trace;

#define SIM_TRACE_VERSION 1
#define SIM_TRACE_MINOR   2             /* 1: td_exit and tdcall events; 2: "injected" numbers the fault point */

/* Host memory one SEAMCALL read through seam_read_pa (kept on the caller's
 * stack from sim_trace_call_begin to sim_trace_call_end). */
struct sim_trace_read {
	uint64_t pa, len;
	uint8_t sha256[32];
	uint8_t *data;                  /* copy of the bytes, freed at call end */
};
/* A TD-side event inside the SEAMCALL (TDH.VP.ENTER), written after its
 * seamcall line. Times are offsets into the SEAMCALL's cycles. */
struct sim_trace_tdev {
	int kind;                       /* 1 tdcall, 2 td_exit */
	uint64_t tdvpr, rip, rax, status;
	struct tdx_module_args in, out; /* tdcall */
	uint64_t exit_qual, ext_exit_qual, gpa, intr_info;      /* td_exit */
	uint64_t t_start, t_len;
};
struct sim_trace_capture {
	struct tdxsim *s;
	struct sim_trace_capture *prev; /* the thread's previous capture (nesting) */
	struct sim_trace_read *reads;
	size_t n, cap;
	struct sim_trace_tdev *tdev;
	size_t n_tdev, cap_tdev;
	uint64_t td_enter;              /* offset of the guest run's start */
	int oom;
};

/* Around one SEAMCALL on the calling thread, while s->trace is set. */
void sim_trace_call_begin(struct tdxsim *s, struct sim_trace_capture *cap);
void sim_trace_call_end(struct tdxsim *s, struct sim_trace_capture *cap,
			const tdxsim_seamcall_event *ev);
/* seam_read_pa's capture: [pa, pa+len) read into buf by the current SEAMCALL. */
void sim_trace_mem_read(struct tdxsim *s, uint64_t pa, const void *buf, uint64_t len);

/* TD-side events, one-liners in the module (no-ops unless the calling
 * thread's SEAMCALL is being recorded). td_enter just before the guest
 * runs (it records the host's shared EPT and shared pages as memory the
 * SEAMCALL read, for replay), td_exit after the TD exit (exit registers in c->r); tdcall after a
 * module-handled TDCALL: in = the guest GPRs before it (RAX..R15), the
 * outputs in v->g.gpr, status its RAX (TDCALL_EXITED: it ended in the TD
 * exit v->tdcall_exit), cost the cycles it was charged (already added to
 * c->cycles). */
struct seam_ctx;
struct seam_vcpu;
void sim_trace_td_enter(struct seam_ctx *c, const struct seam_vcpu *v);
void sim_trace_td_exit(struct seam_ctx *c, const struct seam_vcpu *v, uint64_t status);
void sim_trace_tdcall(struct seam_ctx *c, const struct seam_vcpu *v, const uint64_t in[16],
		      uint64_t status, uint64_t cost);

/* tdxsim_open: start recording to $TDXSIM_TRACE if set (a failure is
 * reported on stderr; the handle opens anyway). tdxsim_close: stop. */
void sim_trace_env_start(struct tdxsim *s);
void sim_trace_close(struct tdxsim *s);

/* Reading: sim/trace_read.h. */

#endif
