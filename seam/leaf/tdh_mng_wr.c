/*
 * TDH.MNG.WR (13): write one TD-scope metadata element (TDR/TDCS).
 * RCX = TDR, RDX = field id, R8 = value, R9 = write mask -> R8 = the previous
 * value (0 on error).
 *
 * Order (module 1.5): R8 = 0; the TDR, shared (errors + RCX); the common TD
 * state check with the op-state lock shared (TD_FATAL, TD_KEYS_NOT_CONFIGURED,
 * TDCS_NOT_ALLOCATED, OPERAND_BUSY+OP_STATE, OP_STATE_INCORRECT); then the
 * field (seam/metadata_td.h): METADATA_FIELD_ID_INCORRECT, NOT_WRITABLE
 * (field write mask AND R9 is 0), VALUE_NOT_VALID (a masked bit outside the
 * field's write mask would change), OPERAND_BUSY+METADATA_FIELD (a
 * concurrent write won). On a production TD the 1.5 module's host-writable
 * TD fields are HP_LOCK_TIMEOUT and VM_CTLS, which the simulator does not
 * model; a debug TD's host may write NOTIFY_ENABLES bit 0.
 */
#include "seam/metadata_td.h"
#include "seam/td.h"

uint64_t seam_tdh_mng_wr(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t field = r->rdx, value = r->r8, mask = r->r9, old;
	struct seam_page tp;
	struct seam_td *td;
	uint64_t status;

	r->r8 = 0;
	status = seam_tdr_get(c, r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_SHARED, &tp, &td);
	if (status)
		return status;
	status = seam_td_check_state(c, td, SEAM_LOCK_SHARED);
	if (status)
		goto out;
	status = md_td_write(c->s, td, MD_TD_HOST, field, value, mask, &old);
	if (status == TDX_SUCCESS)
		r->r8 = old;
	seam_td_state_unlock(td, SEAM_LOCK_SHARED);
	seam_charge(c, METADATA_FIELD, 1);
out:
	seam_page_unlock(&tp);
	return status;
}
