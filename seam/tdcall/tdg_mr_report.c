/*
 * TDG.MR.REPORT (4): build a TDREPORT_STRUCT (1024 bytes) for the TD, with
 * 64 bytes of caller data, integrity-protected by a MAC.
 * In: RCX = GPA of the TDREPORT_STRUCT (1024-byte aligned), RDX = GPA of
 *     REPORTDATA (64-byte aligned), R8 = report subtype (0). Either GPA may
 *     be private or shared.
 * Order (module 1.5 tdg_mr_report.c):
 *   RCX not 1024-aligned                  -> OPERAND_INVALID + RCX
 *   RDX not 64-aligned                    -> OPERAND_INVALID + RDX
 *   RDX above the GPA width               -> OPERAND_INVALID + RDX
 *   REPORTDATA not readable by the guest  -> EPT-violation TD exit
 *   R8 != 0                               -> OPERAND_INVALID + R8
 *   the TD's RTMR lock (shared)           -> OPERAND_BUSY + RTMR (0xA8)
 *   RCX above the GPA width               -> OPERAND_INVALID + RCX
 *   TDREPORT not writable by the guest    -> EPT-violation TD exit
 *
 * Layout (tdcall_int.h TDREPORT_*): REPORTMACSTRUCT (256 bytes: REPORTTYPE
 * {0x81 TDX, subtype 0, version 0, 0}, CPUSVN, SHA-384 of TEE_TCB_INFO,
 * SHA-384 of TDINFO, REPORTDATA, MAC), TEE_TCB_INFO (239 bytes), TDINFO
 * (512 bytes: ATTRIBUTES, XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG,
 * RTMR0-3, SERVTD_HASH). Everything else is zero.
 *
 * Model (documented, not the hardware's): the CPU's SEAMREPORT MAC is an
 * HMAC-SHA-256 over REPORTMACSTRUCT bytes 0..223 with a key private to the
 * module, KEY = SHA-256("tdxsim TDREPORT MAC key" || seed as 8 bytes LE)
 * (the seed of tdxsim_config): stable for a seed, so a host test can verify
 * a report. TEE_TCB_INFO: VALID = 0xFFFF (SVN, MRSEAM, MRSIGNERSEAM and
 * ATTRIBUTES), TEE_TCB_SVN and MRSIGNERSEAM zero, MRSEAM =
 * SHA-384("tdxsim TDX module"), ATTRIBUTES 0. CPUSVN is zero. SERVTD_HASH is
 * zero (no service TDs).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "seam/tdcall/tdcall_int.h"
#include "sim/sim_int.h"

#define MAC_KEY_LABEL "tdxsim TDREPORT MAC key"
#define MRSEAM_LABEL "tdxsim TDX module"

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void sha384(const void *d, size_t n, uint8_t out[48])
{
	unsigned len = 0;
	int ok = EVP_Digest(d, n, out, &len, EVP_sha384(), NULL);
	SIM_BUG_ON(ok != 1 || len != 48);
}

static void report_mac(struct tdxsim *s, const uint8_t *macstruct, uint8_t mac[32])
{
	uint8_t seed_msg[sizeof(MAC_KEY_LABEL) - 1 + 8], key[32];
	unsigned len = 0;
	memcpy(seed_msg, MAC_KEY_LABEL, sizeof(MAC_KEY_LABEL) - 1);
	put64(seed_msg + sizeof(MAC_KEY_LABEL) - 1, s->cfg.seed);
	int ok = EVP_Digest(seed_msg, sizeof(seed_msg), key, &len, EVP_sha256(), NULL);
	SIM_BUG_ON(ok != 1 || len != 32);
	ok = HMAC(EVP_sha256(), key, sizeof(key), macstruct, TDREPORT_MAC_COVERED, mac, &len) != NULL;
	SIM_BUG_ON(!ok || len != 32);
}

static void build_tdinfo(const struct seam_td *td, uint8_t *ti)
{
	put64(ti + TDINFO_OFF_ATTRIBUTES, td->attributes);
	put64(ti + TDINFO_OFF_XFAM, td->xfam);
	memcpy(ti + TDINFO_OFF_MRTD, td->mrtd, 48);
	memcpy(ti + TDINFO_OFF_MRCONFIGID, td->mrconfigid, 48);
	memcpy(ti + TDINFO_OFF_MROWNER, td->mrowner, 48);
	memcpy(ti + TDINFO_OFF_MROWNERCONFIG, td->mrownerconfig, 48);
	memcpy(ti + TDINFO_OFF_RTMR, td->rtmr, 4 * 48);
}

static void build_tee_tcb_info(uint8_t *tt)
{
	put64(tt, 0xFFFF);                          /* VALID */
	sha384(MRSEAM_LABEL, sizeof(MRSEAM_LABEL) - 1, tt + 24);   /* MRSEAM */
}

uint64_t seam_tdg_mr_report(struct tdcall_ctx *t)
{
	struct seam_td *td = t->td;
	uint64_t report_gpa = t->gpr[GPR_RCX], data_gpa = t->gpr[GPR_RDX];
	uint64_t subtype = t->gpr[GPR_R8];
	uint8_t rep[TDREPORT_SIZE];
	uint64_t st;

	if (report_gpa & (TDREPORT_SIZE - 1))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	if (data_gpa & (TDREPORT_REPORTDATA_SIZE - 1))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	memset(rep, 0, sizeof(rep));
	st = tdcall_gpa_read(t, data_gpa, rep + TDREPORT_OFF_REPORTDATA, TDREPORT_REPORTDATA_SIZE,
			     false);
	if (st == TDCALL_EXITED)
		return st;
	if (st)
		return tdx_status_op(st, TDX_OPERAND_ID_RDX);
	if (subtype != 0)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);

	if (!seam_lock_mode(t->c, &td->rtmr_lock, SEAM_LOCK_SHARED))
		return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RTMR);
	build_tdinfo(td, rep + TDREPORT_OFF_TDINFO);
	seam_unlock_mode(&td->rtmr_lock, SEAM_LOCK_SHARED);
	build_tee_tcb_info(rep + TDREPORT_OFF_TEE_TCB_INFO);

	rep[TDREPORT_OFF_REPORTTYPE] = TDREPORT_TYPE_TDX;
	/* subtype, version (no service TDs) and reserved stay 0 */
	sha384(rep + TDREPORT_OFF_TEE_TCB_INFO, TDREPORT_TEE_TCB_INFO_SIZE,
	       rep + TDREPORT_OFF_TEE_TCB_HASH);
	sha384(rep + TDREPORT_OFF_TDINFO, TDREPORT_TDINFO_SIZE, rep + TDREPORT_OFF_TEE_INFO_HASH);
	report_mac(t->c->s, rep, rep + TDREPORT_OFF_MAC);

	st = tdcall_gpa_write(t, report_gpa, rep, sizeof(rep), false);
	if (st == TDCALL_EXITED)
		return st;
	if (st)
		return tdx_status_op(st, TDX_OPERAND_ID_RCX);
	seam_charge(t->c, REPORT_MAC, 1);
	return TDX_SUCCESS;
}
