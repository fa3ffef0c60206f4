/*
 * TDG.SYS.RD (11): read a global (SYS-context) metadata field from the guest.
 * In: RDX = field id. Out: RDX = the next field id (all ones at the end or on
 * error), R8 = value (0 on error).
 * Errors as TDH.SYS.RD's field lookup (seam/metadata_sys.c): the null id ->
 * METADATA_FIRST_FIELD_ID_IN_CONTEXT with RDX = the first id;
 * METADATA_FIELD_ID_INCORRECT. tdxsim's guest-readable set is the host's
 * (every field of the table); the module's own guest read masks hide some.
 */
#include "seam/metadata_sys.h"
#include "seam/tdcall/tdcall_int.h"
#include "sim/sim_int.h"

uint64_t seam_tdg_sys_rd(struct tdcall_ctx *t)
{
	uint64_t *g = t->gpr;
	uint64_t field = g[GPR_RDX], value = 0, next = MD_FIELD_ID_NULL;

	g[GPR_RDX] = MD_FIELD_ID_NULL;
	g[GPR_R8] = 0;
	uint64_t st = md_sys_read(t->c->s, field, &value, &next);
	seam_charge(t->c, METADATA_FIELD, 1);
	if (st == TDX_SUCCESS || st == TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT) {
		g[GPR_R8] = value;
		g[GPR_RDX] = next;
	}
	return st;
}
