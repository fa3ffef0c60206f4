/*
 * TDG.SYS.RDALL (12): dump global metadata into a 4 KiB private page of the
 * guest, as a metadata list (the format of TDH.SYS.RDALL).
 * In:  RDX = GPA of the list (4 KiB aligned, private), R8 = the first field
 *      id (all ones: from the start).
 * Out: R8 = the next field id to ask for (all ones when done or on error).
 * Order (module 1.5): R8 = -1; RDX not 4 KiB aligned, above the GPA width or
 * shared -> OPERAND_INVALID + RDX; the page not accessible to the guest ->
 * EPT-violation TD exit; then the dump (METADATA_FIELD_ID_INCORRECT for a
 * bad starting id, with the list header written).
 */
#include "seam/metadata_sys.h"
#include "seam/tdcall/tdcall_int.h"
#include "sim/sim_int.h"

uint64_t seam_tdg_sys_rdall(struct tdcall_ctx *t)
{
	uint64_t *g = t->gpr;
	uint64_t gpa = g[GPR_RDX], field = g[GPR_R8], next = MD_FIELD_ID_NULL;
	uint8_t page[4096];

	g[GPR_R8] = MD_FIELD_ID_NULL;
	if (gpa & (sizeof(page) - 1))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	uint64_t st = md_sys_dump(t->c->s, field, page, &next);
	/* The module maps the page (for writing) before it dumps into it: an
	 * inaccessible page is a TD exit whatever the dump says. A bad starting
	 * id leaves the page as it was (written back unchanged here). */
	uint64_t len = st == TDX_METADATA_FIELD_ID_INCORRECT ? 8 : ((const uint16_t *)page)[0];
	uint64_t wst = TDX_SUCCESS;
	if (st == TDX_METADATA_FIELD_ID_INCORRECT)
		wst = tdcall_gpa_read(t, gpa, page, len, true);
	if (wst == TDX_SUCCESS)
		wst = tdcall_gpa_write(t, gpa, page, len, true);
	if (wst == TDCALL_EXITED)
		return wst;
	if (wst)
		return tdx_status_op(wst, TDX_OPERAND_ID_RDX);
	if (st == TDX_METADATA_FIELD_ID_INCORRECT)
		return st;
	seam_charge(t->c, METADATA_LIST_ELEM, len / 8);
	g[GPR_R8] = next;
	return st;
}
