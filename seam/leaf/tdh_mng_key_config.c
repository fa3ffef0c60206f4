/*
 * TDH.MNG.KEY.CONFIG (8): program the TD's key on this LP's package.
 * RCX = TDR. No outputs. Issued once per package.
 *
 * Order (module 1.5): the TDR, exclusive (errors + RCX); TD fatal ->
 * TD_FATAL; lifecycle not HKID_ASSIGNED -> LIFECYCLE_STATE_INCORRECT; this
 * package already configured -> KEY_CONFIGURED (success class); PCONFIG
 * failing for lack of entropy -> KEY_GENERATION_FAILED, or finding the key
 * tables busy -> OPERAND_BUSY+KET. Success: the package's bit is set; when
 * every package has it the lifecycle becomes KEYS_CONFIGURED.
 *
 * One memory model serves all packages, so the first package to configure
 * programs the key (drawn at MNG.CREATE) into the encryption engine.
 */
#include "seam/td.h"
#include "sim/sim_int.h"

uint64_t seam_tdh_mng_key_config(struct seam_ctx *c)
{
	unsigned pkg = c->lp->pkg;
	struct seam_page p;
	struct seam_td *td;
	uint64_t status;

	status = seam_tdr_get(c, c->r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_EXCLUSIVE, &p, &td);
	if (status)
		return status;
	if (atomic_load_explicit(&td->fatal, memory_order_acquire)) {
		status = TDX_TD_FATAL;
		goto out;
	}
	if (atomic_load_explicit(&td->lifecycle, memory_order_acquire) != TD_HKID_ASSIGNED) {
		status = TDX_LIFECYCLE_STATE_INCORRECT;
		goto out;
	}
	if (td->pkg_config_bitmap & (1u << pkg)) {
		status = TDX_KEY_CONFIGURED;
		goto out;
	}
	/* PCONFIG: key generation may fail, or the key tables be busy. */
	status = seam_fault(c, TDX_LEAF_F_KEYGEN);
	if (status)
		goto out;
	if (seam_fault(c, TDX_LEAF_F_OPLOCK)) {
		status = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KET);
		goto out;
	}

	/* ALL CHECKS PASSED */
	if (!td->pkg_config_bitmap)
		sim_key_program(c->s, td->hkid, td->td_key);
	td->pkg_config_bitmap |= 1u << pkg;
	uint32_t all = c->s->n_pkgs >= 32 ? ~0u : (1u << c->s->n_pkgs) - 1;
	if (td->pkg_config_bitmap == all)
		atomic_store_explicit(&td->lifecycle, TD_KEYS_CONFIGURED, memory_order_release);
	seam_charge(c, KEY_PROGRAM, 1);
	status = TDX_SUCCESS;
out:
	seam_page_unlock(&p);
	return status;
}
