/*
 * TDH.VP.INIT (22): initialise a vCPU.
 * RCX = TDVPR, RDX = initial guest RCX (and R8);
 * version 1: R8 = the vCPU's x2APIC id (Linux 7.3 passes the vcpu_id).
 * No outputs.
 *
 * Order (module 1.5, version 1 as newer modules add it): TDVPR explicit,
 * exclusive (RCX); owner TDR implicit (operand TDR), shared for version 0,
 * exclusive for version 1 (the x2APIC uniqueness scan needs the TD to
 * itself); the TD state check, op-state lock shared (INITIALIZED only);
 * TDVPS incomplete -> TDCX_NUM_INCORRECT; vCPU not UNINITIALIZED ->
 * VCPU_STATE_INCORRECT; vCPU index = number of vCPUs initialised so far,
 * >= MAX_VCPUS -> MAX_VCPUS_EXCEEDED; version 1 only: R8 above 32 bits ->
 * OPERAND_INVALID + R8, an x2APIC id already given to a lower index ->
 * X2APIC_ID_NOT_UNIQUE + that id (newer modules; 1.5.01 has no version 1).
 * A failure after the index was taken gives it back.
 *
 * Success: the reset state of tdx-abi.md 7 (32-bit protected mode at the
 * reset vector; RBX = GPAW, RCX = R8 = RDX in, RDX = CPUID(1).EAX, RSI =
 * vCPU index), the TD-VMCS fields the host programs later at their initial
 * values (posted-interrupt vector 0xFFFF and descriptor all ones: invalid
 * until written; shared EPTP pointing at the TDCS zero page), state READY,
 * and the vCPU bound to the calling LP.
 */
#include "seam/metadata_vp.h"
#include "seam/vp.h"

/* TD-VMCS execution controls VP.INIT sets, as a debugger reads them.
 * Modelled on the TD-VMCS the module builds (pin: external-interrupt and
 * NMI exiting, virtual NMIs, default-1 bits; posted interrupts off until
 * the host enables them). Production TDs see only the host-owned bits. */
#define VP_INIT_PIN_CTLS  0x0000003Fu
#define VP_INIT_PROC_CTLS 0x9421E17Au
#define VP_INIT_SEC_CTLS  0x0614037Au

/* CPUID(1).EAX of the platform: stepping, model, family, extended model
 * and family, composed as the CPU reports them. */
static uint32_t cpuid1_eax(const tdxsim_platform *p)
{
	uint32_t fam = p->cpu_family, model = p->cpu_model;
	uint32_t eax = (p->cpu_stepping & 0xF) | ((model & 0xF) << 4) | ((model >> 4 & 0xF) << 16);
	if (fam >= 0xF)
		eax |= (0xFu << 8) | (((fam - 0xF) & 0xFF) << 20);
	else
		eax |= fam << 8;
	return eax;
}

static void reset_state(struct seam_ctx *c, struct seam_td *td, struct seam_vcpu *v, uint64_t rcx)
{
	struct seam_vcpu_guest *g = &v->g;
	memset(g, 0, sizeof(*g));
	g->gpr[1] = rcx;                                /* RCX */
	g->gpr[2] = cpuid1_eax(c->s->plat);             /* RDX */
	g->gpr[3] = td->gpaw ? 52 : 48;                 /* RBX */
	g->gpr[6] = v->vcpu_index;                      /* RSI */
	g->gpr[8] = rcx;                                /* R8 */
	g->rip = 0xFFFFFFF0;
	g->rflags = 0x2;
	g->cr0 = 0x21;                                  /* PE, NE */
	g->cr4 = 0x2040;                                /* MCE, VMXE */
	g->efer = 0x901;                                /* SCE, LME, NXE */
	g->xcr0 = 0x1;
	g->dr6 = 0xFFFF0FF0;
	g->dr7 = 0x400;
	g->pat = 0x0007040600070406ULL;

	struct seam_vcpu_vmcs *vm = &v->vmcs;
	memset(vm, 0, sizeof(*vm));
	vm->posted_intr_nv = MD_VP_PI_NV_INIT;
	vm->posted_intr_desc_addr = MD_VP_PA_INIT;
	vm->pin_based_ctls = VP_INIT_PIN_CTLS;
	vm->proc_based_ctls = VP_INIT_PROC_CTLS;
	vm->secondary_ctls = VP_INIT_SEC_CTLS;
	vm->shared_eptp = td->tdcx_pa[TD_TDCS_ZERO_PAGE] | ((uint64_t)td->hkid << c->s->keyid_shift);

	v->pend_nmi = 0;
	v->vcpu_state_details = 0;
	v->last_epoch = 0;
	v->launched = false;
}

uint64_t seam_tdh_vp_init(struct seam_ctx *c)
{
	struct tdx_module_args *r = c->r;
	bool v1 = c->version == 1;
	struct vp_ops o;
	uint64_t st;

	st = vp_get(c, r->rcx, TDX_OPERAND_ID_RCX, SEAM_LOCK_EXCLUSIVE,
		    v1 ? SEAM_LOCK_EXCLUSIVE : SEAM_LOCK_SHARED, &o);
	if (st)
		return st;
	if ((st = vp_check_state(c, &o)))
		goto out;
	struct seam_td *td = o.td;
	struct seam_vcpu *v = o.v;
	if (!vp_tdvps_complete(v)) {
		st = TDX_TDCX_NUM_INCORRECT;
		goto out;
	}
	if (atomic_load(&v->state) != VCPU_UNINITIALIZED) {
		st = TDX_VCPU_STATE_INCORRECT;
		goto out;
	}
	uint32_t idx = atomic_fetch_add(&td->num_init_vcpus, 1);
	if (idx >= td->max_vcpus) {
		atomic_fetch_sub(&td->num_init_vcpus, 1);
		st = TDX_MAX_VCPUS_EXCEEDED;
		goto out;
	}
	uint32_t x2apic = 0;
	if (v1) {
		if (r->r8 >> 32) {
			atomic_fetch_sub(&td->num_init_vcpus, 1);
			st = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);
			goto out;
		}
		x2apic = (uint32_t)r->r8;
		/* Lower indices were initialised before (version-0 ones carry id 0);
		 * the TDR held exclusive keeps other VP.INITs out meanwhile. */
		for (uint32_t i = 0; td->vcpus && i < idx; i++) {
			if (td->vcpus[i] && td->vcpus[i]->x2apic_id == x2apic) {
				atomic_fetch_sub(&td->num_init_vcpus, 1);
				st = tdx_status_op(TDX_X2APIC_ID_NOT_UNIQUE, x2apic);
				goto out;
			}
		}
	}

	v->vcpu_index = idx;
	v->x2apic_id = x2apic;
	reset_state(c, td, v, r->rdx);
	if (td->vcpus)
		td->vcpus[idx] = v;
	/* The TD's NUM_VCPUS (MNG.RD, MR.FINALIZE's NO_VCPUS) counts vCPUs
	 * initialised; num_init_vcpus, the index counter, runs ahead of it only
	 * while a VP.INIT is in flight. */
	atomic_fetch_add(&td->num_vcpus, 1);
	atomic_store(&v->assoc_lp, (int32_t)c->lp_id);
	atomic_fetch_add(&td->num_assoc_vcpus, 1);
	atomic_store_explicit(&v->state, VCPU_READY, memory_order_release);
	seam_charge(c, METADATA_FIELD, 8);
out:
	vp_put(&o);
	return st;
}
