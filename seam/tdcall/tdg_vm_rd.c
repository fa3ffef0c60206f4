/*
 * TDG.VM.RD (7): read a TD-scope metadata field (TDR/TDCS) with the guest's
 * access rights (seam/metadata_td.h, MD_TD_GUEST).
 * In:  RCX = VM index (0: the TD itself), RDX = field id.
 * Out: R8 = value (0 on error); version 1 also RDX = the next field id the
 *      guest may read (all ones at the end or on error).
 * Order (module 1.5): R8 = 0 (version 1: RDX = -1); version > 1 ->
 * OPERAND_INVALID + RAX; RCX != 0 -> OPERAND_INVALID + RCX; version 1 with
 * the null id -> METADATA_FIRST_FIELD_ID_IN_CONTEXT and RDX = the first
 * readable id; then the field: METADATA_FIELD_ID_INCORRECT,
 * METADATA_FIELD_NOT_READABLE.
 * No lock: the host's writers of these fields do not run while the TD does.
 */
#include "seam/metadata_td.h"
#include "seam/tdcall/tdcall_int.h"
#include "sim/sim_int.h"

uint64_t seam_tdg_vm_rd(struct tdcall_ctx *t)
{
	uint64_t *g = t->gpr;
	uint64_t vm = g[GPR_RCX], field = g[GPR_RDX], value = 0, next = MD_FIELD_ID_NULL;

	if (t->version > 0)
		g[GPR_RDX] = MD_FIELD_ID_NULL;
	g[GPR_R8] = 0;
	if (t->version > 1)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
	if (vm != 0)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	uint64_t st = md_td_read(t->c->s, t->td, MD_TD_GUEST, field, &value,
				 t->version > 0 ? &next : NULL);
	seam_charge(t->c, METADATA_FIELD, 1);
	if (t->version > 0 && (st == TDX_SUCCESS || st == TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT))
		g[GPR_RDX] = next;
	if (st == TDX_SUCCESS)
		g[GPR_R8] = value;
	return st;
}
