/*
 * TDG.VM.WR (8): write a TD-scope metadata field with the guest's access
 * rights (seam/metadata_td.h, MD_TD_GUEST).
 * In:  RCX = VM index (0), RDX = field id, R8 = value, R9 = write mask.
 * Out: R8 = the previous value (0 on error).
 * Order (module 1.5): R8 = 0; RCX != 0 -> OPERAND_INVALID + RCX; then the
 * field: METADATA_FIELD_ID_INCORRECT, METADATA_FIELD_NOT_WRITABLE,
 * METADATA_FIELD_VALUE_NOT_VALID (nothing changes on error).
 */
#include "seam/metadata_td.h"
#include "seam/tdcall/tdcall_int.h"
#include "sim/sim_int.h"

uint64_t seam_tdg_vm_wr(struct tdcall_ctx *t)
{
	uint64_t *g = t->gpr;
	uint64_t vm = g[GPR_RCX], field = g[GPR_RDX], value = g[GPR_R8], mask = g[GPR_R9];
	uint64_t old = 0;

	g[GPR_R8] = 0;
	if (vm != 0)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	uint64_t st = md_td_write(t->c->s, t->td, MD_TD_GUEST, field, value, mask, &old);
	seam_charge(t->c, METADATA_FIELD, 1);
	if (st == TDX_SUCCESS)
		g[GPR_R8] = old;
	return st;
}
