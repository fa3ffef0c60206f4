/*
 * TDH.MEM.TRACK (38): start a new TLB epoch of the TD. Ranges blocked in
 * the previous epoch count as tracked once no vCPU still runs in it
 * (sept_tlb_tracked). VP.ENTER counts each running vCPU in
 * td->refcount[epoch & 1] and drops it at TD exit.
 *
 * In:  RCX = TDR PA. Out: nothing.
 *
 * Checks in the module's order:
 *   TDR (shared)                          ... + RCX
 *   TD state (INITIALIZED or RUNNABLE), op-state lock shared
 *   TD epoch lock (exclusive)             OPERAND_BUSY + TD_EPOCH (0xA9)
 *   a vCPU still runs in the previous epoch (refcount[(epoch - 1) & 1])
 *                                         PREVIOUS_TLB_EPOCH_BUSY
 *
 * Effect: TD epoch + 1 (whose refcount slot, the previous epoch's, is 0).
 */
#include "seam/sept.h"

uint64_t seam_tdh_mem_track(struct seam_ctx *c)
{
	struct seam_page tdr_p;
	struct seam_td *td;
	uint64_t st = sept_td_enter(c, c->r->rcx, TDX_OPERAND_ID_RCX, &tdr_p, &td);
	if (st)
		return st;
	if (!seam_lock_mode(c, &td->epoch_lock, SEAM_LOCK_EXCLUSIVE)) {
		st = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_TD_EPOCH);
		goto out;
	}
	uint64_t epoch = atomic_load_explicit(&td->td_epoch, memory_order_acquire);
	if (atomic_load_explicit(&td->refcount[(epoch - 1) & 1], memory_order_acquire) ||
	    seam_fault(c, SEAM_FAULT_EPOCH)) {
		st = TDX_PREVIOUS_TLB_EPOCH_BUSY;
	} else {
		atomic_store_explicit(&td->td_epoch, epoch + 1, memory_order_release);
		seam_charge(c, METADATA_FIELD, 1);
	}
	seam_unlock_mode(&td->epoch_lock, SEAM_LOCK_EXCLUSIVE);
out:
	sept_td_exit(&tdr_p, td);
	return st;
}
