/*
 * TDH.VP.ENTER (0): enter a vCPU.
 * RCX = TDVPR PA in bits 51:12, bit 52 host-recoverability hint, bit 53
 * resume L1; bits 11:0 and 63:54 reserved. Other registers carry values for
 * the guest; on a TD exit they carry the exit information (vp_enter.h).
 * A refused entry changes no register.
 *
 * Entry checks, in the module's order (1.5 tdh_vp_enter.c):
 *   reserved RCX bits                         -> OPERAND_INVALID + RCX
 *   TDVPR explicit, shared (RCX)              -> page-operand errors + RCX
 *   owner TDR implicit, shared                -> OPERAND_BUSY + TDR
 *   TD state check, op-state lock shared      -> TD_FATAL ... OP_STATE_INCORRECT
 *                                                (RUNNABLE only)
 *   TDVPS incomplete                          -> TDCX_NUM_INCORRECT
 *   vCPU not READY                            -> VCPU_STATE_INCORRECT
 *   bound to another LP                       -> VCPU_ASSOCIATED
 *     (an unbound vCPU is bound to this LP here, and stays bound even if a
 *     later check fails)
 *   hint set, last TD exit not trap-like      -> OPERAND_INVALID + RCX
 *   resume-L1 set, no L2 VM was running       -> OPERAND_INVALID + RCX
 *   TD epoch lock busy (MEM.TRACK)            -> OPERAND_BUSY + TD_EPOCH
 * Then the vCPU takes a reference on the current TD epoch (TLB tracking:
 * MEM.TRACK waits for the previous epoch's references to drain), the
 * op-state lock is released, and the guest runs (seam_vp_run) with the TDR
 * and TDVPR held shared until the TD exit.
 *
 * Not modelled: IA32_MISC_ENABLE.LIMIT_CPUID_MAXVAL, IA32_TSC_ADJUST and
 * TSC-rollback checks (the simulated platform keeps them consistent), the
 * zero-step filter (OPERAND_BUSY + SEPT_TREE), L2 VMs. Last TD exit is
 * always fault-like until the guest-run issue records trap-like exits.
 */
#include "seam/vp.h"
#include "seam/vp_enter.h"
#include "sim/trace.h"

#define ENTER_RSVD   (0xFFFULL | (0x3FFULL << 54))
#define ENTER_PA     0x000FFFFFFFFFF000ULL
#define ENTER_HINT   (1ULL << 52)
#define ENTER_RESUME (1ULL << 53)

uint64_t seam_tdh_vp_enter(struct seam_ctx *c)
{
	uint64_t rcx = c->r->rcx;
	struct vp_ops o;
	bool new_assoc;
	uint64_t st;

	if (rcx & ENTER_RSVD)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	st = vp_get(c, rcx & ENTER_PA, TDX_OPERAND_ID_RCX, SEAM_LOCK_SHARED, SEAM_LOCK_SHARED, &o);
	if (st)
		return st;
	struct seam_td *td = o.td;
	struct seam_vcpu *v = o.v;
	if ((st = vp_check_state(c, &o)))
		goto out;
	if (!vp_tdvps_complete(v)) {
		st = TDX_TDCX_NUM_INCORRECT;
		goto out;
	}
	if ((st = vp_associate(c, v, false, &new_assoc)))
		goto out;
	if (rcx & (ENTER_HINT | ENTER_RESUME)) {
		/* The hint needs a trap-like last exit, resume-L1 an exit from L2:
		 * neither happens yet. */
		st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
		goto out;
	}
	if (!seam_lock_mode(c, &td->epoch_lock, SEAM_LOCK_SHARED)) {
		st = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH);
		goto out;
	}
	uint64_t epoch = atomic_load(&td->td_epoch);
	atomic_fetch_add(&td->refcount[epoch & 1], 1);
	seam_unlock_mode(&td->epoch_lock, SEAM_LOCK_SHARED);
	/* A new epoch since the vCPU last ran would flush its TLB context
	 * (nothing to flush in the model). */
	v->last_epoch = epoch;

	/* All checks passed: the op-state lock is released before the guest runs. */
	seam_td_state_unlock(td, o.state_mode);
	o.state_mode = -1;
	atomic_store_explicit(&v->state, VCPU_ACTIVE, memory_order_release);
	seam_charge(c, TD_ENTRY, 1);

	sim_trace_td_enter(c, v);
	st = seam_vp_run(c, v);
	sim_trace_td_exit(c, v, st);

	/* TD exit: drop the epoch reference, back to READY unless disabled. */
	atomic_fetch_sub(&td->refcount[epoch & 1], 1);
	uint8_t active = VCPU_ACTIVE;
	atomic_compare_exchange_strong(&v->state, &active, VCPU_READY);
out:
	vp_put(&o);
	return st;
}
