/*
 * TDG.MR.RTMR.EXTEND (2): extend one of the TD's four run-time measurement
 * registers: RTMR[i] = SHA-384(RTMR[i] || value).
 * In: RCX = GPA of the 48-byte value (64-byte aligned, private), RDX = i.
 * Order (module 1.5): RCX not 64-byte aligned, above the GPA width or shared
 * -> OPERAND_INVALID + RCX; the value not readable by the guest ->
 * EPT-violation TD exit; RDX > 3 -> OPERAND_INVALID + RDX; the TD's RTMR
 * lock (exclusive) -> OPERAND_BUSY + RTMR (0xA8).
 */
#include <openssl/evp.h>
#include <string.h>

#include "seam/tdcall/tdcall_int.h"
#include "sim/sim_int.h"

uint64_t seam_tdg_mr_rtmr_extend(struct tdcall_ctx *t)
{
	struct seam_td *td = t->td;
	uint64_t gpa = t->gpr[GPR_RCX], index = t->gpr[GPR_RDX];
	uint8_t buf[96];

	if (gpa & 63)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	uint64_t st = tdcall_gpa_read(t, gpa, buf + 48, 48, true);
	if (st == TDCALL_EXITED)
		return st;
	if (st)
		return tdx_status_op(st, TDX_OPERAND_ID_RCX);
	if (index >= 4)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	if (!seam_lock_mode(t->c, &td->rtmr_lock, SEAM_LOCK_EXCLUSIVE))
		return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RTMR);
	memcpy(buf, td->rtmr[index], 48);
	unsigned len = 0;
	int ok = EVP_Digest(buf, sizeof(buf), td->rtmr[index], &len, EVP_sha384(), NULL);
	seam_unlock_mode(&td->rtmr_lock, SEAM_LOCK_EXCLUSIVE);
	SIM_BUG_ON(ok != 1 || len != 48);
	seam_charge(t->c, SHA384_BLOCK, 1);
	seam_charge(t->c, LINE_READ, 1);
	return TDX_SUCCESS;
}
