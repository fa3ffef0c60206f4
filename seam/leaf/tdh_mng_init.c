/*
 * TDH.MNG.INIT (21): configure the TD from TD_PARAMS. RCX = TDR,
 * RDX = PA of TD_PARAMS (1024 bytes, 1024-aligned, shared). Output: RCX = 0,
 * or the CPUID leaf (31:0) and sub-leaf (63:32) a CPUID error is about.
 *
 * Order (module 1.5): RCX = 0; the TDR, exclusive (errors + RCX); TD fatal ->
 * TD_FATAL; lifecycle not KEYS_CONFIGURED -> TD_KEYS_NOT_CONFIGURED; fewer
 * than 6 TDCS pages -> TDCS_NOT_ALLOCATED; OP_STATE not UNINITIALIZED ->
 * OP_STATE_INCORRECT (the op-state lock is not taken: the TDR is held
 * exclusively); RDX misaligned, >= 2^52 or with a private KeyID ->
 * OPERAND_INVALID+RDX. Then TD_PARAMS, in this order (OPERAND_INVALID + id):
 *   ATTRIBUTES vs ATTRIBUTES_FIXED0/1, MIGRATABLE with DEBUG/PERFMON (64);
 *   XFAM vs XFAM_FIXED0/1 and its bit combinations (65);
 *   MAX_VCPUS 0 or above MAX_VCPUS_PER_TD (68); NUM_L2_VMS > 3 (71);
 *   TDCS pages for the L2 VMs missing -> TDCS_NOT_ALLOCATED;
 *   reserved bytes 20-23 (RDX); CONFIG_FLAGS vs CONFIG_FLAGS_FIXED0/1 (66);
 *   EPTP_CONTROLS: WB, 4 or 5 levels (5 only where the platform has more than
 *   48 address bits), no A/D, SSS, reserved or address bits, 5 levels with
 *   GPAW (67); TSC_FREQUENCY outside 4..400 (70); reserved bytes 42-79 (RDX);
 *   MSR_CONFIG_CTLS bits 7:1 (RDX); reserved bytes 232-255 (RDX);
 *   CPUID_VALUES: bits that are not configurable, a family/model/stepping
 *   other than 0 or native for a non-migratable TD, HLE != RTM (69, RCX =
 *   leaf/sub-leaf); bytes past the CPUID_CONFIG entries (RDX);
 *   IA32_ARCH_CAPABILITIES_CONFIG without MSR_CONFIG_CTLS bit 0, or with bits
 *   other than SSB_NO, RRSBA, BHI_NO, PBRSB_NO (72); a migratable TD with L2
 *   VMs (RDX).
 * Success: execution controls, measurements (MRCONFIGID/MROWNER/
 * MROWNERCONFIG copied, RTMRs zero), virtual CPUID, TSC offset/multiplier for
 * a virtual TSC starting at 0, TD epoch 1, vCPU table; OP_STATE INITIALIZED.
 * The module draws no random numbers here.
 */
#include <stdlib.h>
#include <string.h>

#include "seam/metadata_sys.h"
#include "seam/metadata_td.h"
#include "seam/seam_mem.h"
#include "seam/td.h"

#define MAX_L2_VMS 3u
#define TSC_FREQ_MIN 4u
#define TSC_FREQ_MAX 400u
#define TSC_FREQ_UNIT 25000000ULL
#define EPTP_MT_WB 6u
#define ARCH_CAP_CONFIGURABLE ((1ULL << 4) | (1ULL << 19) | (1ULL << 20) | (1ULL << 24))

static uint64_t sys_md(struct seam_ctx *c, uint64_t id)
{
	uint64_t v, next;
	SIM_BUG_ON(md_sys_read(c->s, id, &v, &next) != TDX_SUCCESS);
	return v;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static uint64_t invalid(unsigned op)
{
	return tdx_status_op(TDX_OPERAND_INVALID, op);
}

static bool xfam_ok(struct seam_ctx *c, uint64_t x)
{
	uint64_t fixed0 = sys_md(c, MD_SYS_XFAM_FIXED0), fixed1 = sys_md(c, MD_SYS_XFAM_FIXED1);
#define XB(n) ((x >> (n)) & 1)
	return !(x & ~fixed0) && (x & fixed1) == fixed1 &&
	       !(XB(5) && !XB(2)) &&                     /* AVX-512 needs AVX */
	       XB(5) == XB(6) && XB(5) == XB(7) &&        /* AVX-512 state all or none */
	       XB(11) == XB(12) &&                        /* CET user and supervisor */
	       XB(17) == XB(18);                          /* AMX config and data */
#undef XB
}

/* The TD_PARAMS checks; on success the TD is configured. */
static uint64_t configure(struct seam_ctx *c, struct seam_td *td, const struct tdx_td_params *p)
{
	struct tdxsim *s = c->s;

	uint64_t attr = p->attributes;
	uint64_t a0 = sys_md(c, MD_SYS_ATTRIBUTES_FIXED0), a1 = sys_md(c, MD_SYS_ATTRIBUTES_FIXED1);
	if ((attr & ~a0) || (attr & a1) != a1 ||
	    ((attr & TDX_TD_ATTR_MIGRATABLE) && (attr & (TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_PERFMON))))
		return invalid(TDX_OPERAND_ID_ATTRIBUTES);
	if (!xfam_ok(c, p->xfam))
		return invalid(TDX_OPERAND_ID_XFAM);
	if (!p->max_vcpus || p->max_vcpus > sys_md(c, MD_SYS_MAX_VCPUS_PER_TD))
		return invalid(TDX_OPERAND_ID_MAX_VCPUS);
	if (p->num_l2_vms > MAX_L2_VMS)
		return invalid(TDX_OPERAND_ID_NUM_L2_VMS);
	if (td->num_tdcx < TD_TDCS_PAGES + (unsigned)p->num_l2_vms)
		return TDX_TDCS_NOT_ALLOCATED;
	if (p->reserved0)
		return invalid(TDX_OPERAND_ID_RDX);

	uint64_t flags = p->config_flags;
	uint64_t f0 = sys_md(c, 0x9900000300000006ULL), f1 = sys_md(c, 0x9900000300000007ULL);
	if ((flags & ~f0) || (flags & f1) != f1)
		return invalid(TDX_OPERAND_ID_EXEC_CONTROLS);
	bool gpaw = flags & TDX_CONFIG_FLAGS_GPAW;

	uint64_t eptp = p->eptp_controls;
	unsigned pwl = (unsigned)((eptp >> 3) & 7);
	unsigned max_pwl = s->plat->max_pa > 48 ? 4 : 3;   /* PML5 with > 48 address bits */
	if ((eptp & 7) != EPTP_MT_WB || pwl < 3 || pwl > max_pwl || (eptp & ~0x3FULL) ||
	    (gpaw && pwl < 4))
		return invalid(TDX_OPERAND_ID_EPTP_CONTROLS);

	if (p->tsc_frequency < TSC_FREQ_MIN || p->tsc_frequency > TSC_FREQ_MAX)
		return invalid(TDX_OPERAND_ID_TSC_FREQUENCY);
	if (!all_zero(p->reserved1, sizeof(p->reserved1)))
		return invalid(TDX_OPERAND_ID_RDX);
	if (p->msr_config_ctls & 0xFE)
		return invalid(TDX_OPERAND_ID_RDX);
	if (!all_zero(p->reserved2, sizeof(p->reserved2)))
		return invalid(TDX_OPERAND_ID_RDX);

	unsigned bad = md_td_cpuid_check(s, attr, p->cpuid_values);
	if (bad) {
		const struct md_cpuid_config *m = &md_cpuid_configs[bad - 1];
		c->r->rcx = ((uint64_t)m->subleaf << 32) | m->leaf;
		return invalid(TDX_OPERAND_ID_CPUID_CONFIG);
	}
	unsigned ncfg = md_num_cpuid_config < TD_MAX_CPUID ? md_num_cpuid_config : TD_MAX_CPUID;
	if (!all_zero(&p->cpuid_values[ncfg], sizeof(p->cpuid_values) -
					       ncfg * sizeof(p->cpuid_values[0])))
		return invalid(TDX_OPERAND_ID_RDX);

	uint64_t cap = p->ia32_arch_capabilities_config;
	if ((!(p->msr_config_ctls & 1) && cap) || (cap & ~ARCH_CAP_CONFIGURABLE))
		return invalid(TDX_OPERAND_ID_IA32_ARCH_CAPABILITIES_CONFIG);
	if ((attr & TDX_TD_ATTR_MIGRATABLE) && p->num_l2_vms)
		return invalid(TDX_OPERAND_ID_RDX);

	struct seam_vcpu **vcpus = calloc(p->max_vcpus, sizeof(*vcpus));
	SIM_BUG_ON(!vcpus);                     /* host out of memory */

	/* ALL CHECKS PASSED */
	td->attributes = attr;
	td->xfam = p->xfam;
	td->max_vcpus = p->max_vcpus;
	td->num_l2_vms = p->num_l2_vms;
	td->config_flags = flags;
	td->gpaw = gpaw;
	td->ept_levels = pwl + 1;
	td->eptp_controls = eptp | td->tdcx_pa[TD_TDCS_SEPT_ROOT];
	td->tsc_frequency = p->tsc_frequency;
	/* Virtual TSC = native TSC x multiplier / 2^48 + offset, 0 now. */
	uint64_t native_hz = (uint64_t)s->plat->tsc_mhz * 1000000ULL;
	unsigned __int128 num = (unsigned __int128)(p->tsc_frequency * TSC_FREQ_UNIT) << 48;
	td->tsc_multiplier = (uint64_t)(num / native_hz);
	uint64_t tsc = atomic_load_explicit(&c->lp->cycles, memory_order_relaxed);
	td->tsc_offset = -(uint64_t)(((unsigned __int128)tsc * td->tsc_multiplier) >> 48);
	td->td_ctls = (attr & TDX_TD_ATTR_SEPT_VE_DISABLE) ? 1 : 0;  /* PENDING_VE_DISABLE */
	td->notify_enables = 0;
	td->ia32_arch_capabilities_config = cap;
	memcpy(td->mrconfigid, p->mrconfigid, sizeof(td->mrconfigid));
	memcpy(td->mrowner, p->mrowner, sizeof(td->mrowner));
	memcpy(td->mrownerconfig, p->mrownerconfig, sizeof(td->mrownerconfig));
	memset(td->rtmr, 0, sizeof(td->rtmr));
	md_td_cpuid_set(s, td, p->cpuid_values);
	free(td->vcpus);
	td->vcpus = vcpus;
	atomic_store_explicit(&td->num_vcpus, 0, memory_order_relaxed);
	atomic_store_explicit(&td->num_assoc_vcpus, 0, memory_order_relaxed);
	atomic_store_explicit(&td->num_init_vcpus, 0, memory_order_relaxed);
	atomic_store_explicit(&td->td_epoch, 1, memory_order_relaxed);
	atomic_store_explicit(&td->refcount[0], 0, memory_order_relaxed);
	atomic_store_explicit(&td->refcount[1], 0, memory_order_relaxed);
	atomic_store_explicit(&td->op_state, OP_INITIALIZED, memory_order_release);
	return TDX_SUCCESS;
}

uint64_t seam_tdh_mng_init(struct seam_ctx *c)
{
	uint64_t tdr_pa = c->r->rcx, params_pa = c->r->rdx;
	struct seam_page tp;
	struct seam_td *td;
	uint64_t status;

	c->r->rcx = 0;
	status = seam_tdr_get(c, tdr_pa, TDX_OPERAND_ID_RCX, SEAM_LOCK_EXCLUSIVE, &tp, &td);
	if (status)
		return status;
	/* The TDR is held exclusively: no op-state lock. */
	status = seam_td_check_state(c, td, SEAM_LOCK_NONE);
	if (status)
		goto out;
	if (!seam_pa_shared_ok(c->s, params_pa, TDX_TD_PARAMS_ALIGN)) {
		status = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
		goto out;
	}
	struct tdx_td_params p;
	seam_read_pa(c->s, params_pa, &p, sizeof(p));
	status = configure(c, td, &p);
	if (!status)
		seam_charge(c, METADATA_FIELD, 16);
out:
	seam_page_unlock(&tp);
	return status;
}
