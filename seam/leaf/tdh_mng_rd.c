/*
 * TDH.MNG.RD (11): read one TD-scope metadata element (TDR/TDCS).
 * RCX = TDR, RDX = field id -> R8 = value (0 on error); version 1 also
 * RDX = the next readable element's id (all ones at the end or on error).
 *
 * Order (module 1.5): R8 = 0 (and, version 1, RDX = -1); the TDR, shared
 * (errors + RCX); the common TD state check with the op-state lock shared
 * (TD_FATAL, TD_KEYS_NOT_CONFIGURED, TDCS_NOT_ALLOCATED, OPERAND_BUSY+
 * OP_STATE, OP_STATE_INCORRECT while UNINITIALIZED); version 1 with the null
 * id -> METADATA_FIRST_FIELD_ID_IN_CONTEXT with RDX = the first readable id;
 * then the field (seam/metadata_td.h): METADATA_FIELD_ID_INCORRECT,
 * METADATA_FIELD_NOT_READABLE. Host reads of a debug TD use the debug masks.
 */
#include "seam/metadata_td.h"
#include "seam/td.h"

uint64_t seam_tdh_mng_rd(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	uint64_t field = r->rdx, value, next;
	struct seam_page tp;
	struct seam_td *td;
	uint64_t status;

	if (c->version > 0)
		r->rdx = MD_FIELD_ID_NULL;
	r->r8 = 0;
	status = seam_tdr_get(c, r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_SHARED, &tp, &td);
	if (status)
		return status;
	status = seam_td_check_state(c, td, SEAM_LOCK_SHARED);
	if (status)
		goto out;
	status = md_td_read(c->s, td, MD_TD_HOST, field, &value, c->version > 0 ? &next : NULL);
	if (c->version > 0 &&
	    (status == TDX_SUCCESS || status == TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT))
		r->rdx = next;
	if (status == TDX_SUCCESS)
		r->r8 = value;
	seam_td_state_unlock(td, SEAM_LOCK_SHARED);
	seam_charge(c, METADATA_FIELD, 1);
out:
	seam_page_unlock(&tp);
	return status;
}
