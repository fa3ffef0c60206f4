/*
 * TDH.MR.FINALIZE (17): end the TD build: MRTD becomes final and the TD
 * RUNNABLE (VP.ENTER allowed; PAGE.ADD, MR.EXTEND, VP.CREATE/ADDCX/INIT no
 * longer are).
 *
 * In:  RCX = TDR. Out: nothing (no output register is written).
 *
 * Checks in the module's order:
 *   TDR (RCX, exclusive)        OPERAND_INVALID / ADDR_RANGE_ERROR /
 *                               OPERAND_BUSY / PAGE_METADATA_INCORRECT + RCX
 *   TD state (no op-state lock: the exclusive TDR lock keeps every other
 *   leaf of this TD out)        TD_FATAL, TD_KEYS_NOT_CONFIGURED,
 *                               TDCS_NOT_ALLOCATED, OP_STATE_INCORRECT
 *                               (anything but INITIALIZED, e.g. a repeat)
 *   no vCPU initialised (the TDCS vCPU count grows at VP.INIT, which
 *   assigns the index; VP.CREATE alone does not count)
 *                               NO_VCPUS
 *
 * Effect: td->mrtd = SHA-384 final of every PAGE.ADD / MR.EXTEND block in
 * order (the running context is consumed), OP_STATE RUNNABLE.
 */

#include "seam/td.h"
#include "sim/sim_int.h"

/* As tdh_mem_page_add.c: the check of the leaves holding the TDR exclusively. */
uint64_t seam_tdh_mr_finalize(struct seam_ctx *c)
{
	struct seam_page tdr_p;
	struct seam_td *td;
	uint64_t st;

	st = seam_tdr_get(c, c->r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_EXCLUSIVE, &tdr_p, &td);
	if (st)
		return st;
	st = seam_td_check_state(c, td, SEAM_LOCK_NONE);
	if (st)
		goto out;
	if (!atomic_load_explicit(&td->num_vcpus, memory_order_acquire)) {
		st = TDX_NO_VCPUS;
		goto out;
	}

	/* All checks passed. */
	seam_mrtd_final(td);
	atomic_store_explicit(&td->op_state, OP_RUNNABLE, memory_order_release);
	seam_charge(c, SHA384_BLOCK, 1);
out:
	seam_page_unlock(&tdr_p);
	return st;
}
