/*
 * TDH.SYS.KEY.CONFIG (31): program the global private KeyID's key on this
 * LP's package. The last package makes the module READY; a repeat on a
 * configured package returns KEY_CONFIGURED only while another package is
 * still pending (afterwards the state is READY: SYS_KEY_CONFIG_NOT_PENDING).
 */
#include <string.h>

#include "seam/seam_mem.h"

uint64_t seam_tdh_sys_key_config(struct seam_ctx *c)
{
	struct seam_module *m = c->m;
	unsigned pkg = c->lp->pkg;
	uint64_t status;

	if (!seam_global_lock_ex(c))
		return TDX_SYS_BUSY;
	if (seam_state(m) != TDX_SYSCONFIG_DONE) {
		status = TDX_SYS_KEY_CONFIG_NOT_PENDING;
		goto out;
	}
	if (m->pkg_key_configured[pkg]) {
		status = TDX_KEY_CONFIGURED;
		goto out;
	}
	/* PCONFIG with a random key: the CPU may run out of entropy. */
	status = seam_fault(c, TDX_LEAF_F_KEYGEN);
	if (status)
		goto out;
	/* PCONFIG may find the key-programming engine busy. */
	if (seam_fault(c, TDX_LEAF_F_OPLOCK)) {
		status = tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KET);
		goto out;
	}

	/* ALL CHECKS PASSED */
	if (!m->pkgs_configured) {
		/* One memory model for all packages: the first programs the key. */
		uint8_t key[SIM_KEY_BYTES];
		for (unsigned i = 0; i < SIM_KEY_BYTES; i += 8) {
			uint64_t r = sim_rng_next(&c->lp->rng);
			memcpy(key + i, &r, 8);
		}
		sim_key_program(c->s, m->hkid, key);
	}
	m->pkg_key_configured[pkg] = 1;
	if (++m->pkgs_configured == c->s->n_pkgs)
		seam_set_state(m, TDX_SYS_READY);
	status = TDX_SUCCESS;
out:
	seam_unlock_ex(&m->global_lock);
	return status;
}
