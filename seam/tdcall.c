/*
 * The module's TDCALL dispatcher for the leaves it handles without a TD exit
 * (seam/tdcall.h). The guest runner hands over every TDCALL but
 * TDG.VP.VMCALL; the leaf list is abi/tdx/leaf.h (TDX_TDCALL_LEAVES).
 *
 * Gating, in the module's order (1.5 td_dispatcher):
 *  1. the guest is not in 64-bit mode        -> #GP(0) (RAX untouched);
 *     tdxsim looks at EFER.LMA (CS.L is the runner's business: a guest in
 *     compatibility mode cannot encode TDCALL's 64-bit register use anyway)
 *  2. RAX bits 63:24 set                     -> OPERAND_INVALID + RAX
 *  3. a version > 0 on a leaf other than TDG.VM.RD (which checks its own
 *     maximum)                               -> OPERAND_INVALID + RAX
 *  4. no such leaf, or one tdxsim does not model (and VP.VMCALL, which the
 *     runner handles itself)                 -> OPERAND_INVALID + RAX
 * then the handler (seam/tdcall/<handler>.c); its status goes to guest RAX.
 *
 * The context. Handlers run on a copy of the caller's seam_ctx whose
 * registers are a scratch block (S-EPT helpers write their host-side "ext"
 * outputs there) and whose leaf number is TDCALL_FAULT_LEAF(leaf): a fault
 * plan naming a SEAMCALL leaf never fires inside a TDCALL; one for every
 * leaf (-1) may (OPERAND_BUSY on the locks a TDCALL takes).
 */
#include <string.h>

#include "seam/tdcall/tdcall_int.h"
#include "seam/tdcall.h"
#include "seam/sept.h"
#include "seam/td.h"
#include "sim/sim_int.h"
#include "sim/trace.h"

#define TDCALL_FAULT_LEAF(leaf) (0x100u | (leaf))
/* Timing (models/cost.h): the module's TDCALL dispatcher, then the leaf's
 * fixed work; the VM exit and entry around it are the runner's (td_run.c). */
#define TDCALL_CHARGE_BASE(c) seam_charge(c, TDCALL, 1)
#define TDCALL_CHARGE_LEAF(c, leaf) do { \
		uint32_t fixed_ = tdxsim_tdcall_insns((c)->s->costs, leaf); \
		(c)->cycles += tdxsim_leaf_cycles((c)->s->costs, fixed_); \
		(c)->insns += fixed_; \
	} while (0)
#define EFER_LMA (1ULL << 10)

typedef uint64_t (*tdcall_fn)(struct tdcall_ctx *t);

#define TDCALL_PTR_IMPL(fn) seam_##fn
#define TDCALL_PTR_NOIMPL(fn) NULL
#define TDCALL_ROW(e, n, s, fn, v, f, impl) [n] = TDCALL_PTR_##impl(fn),
static const tdcall_fn tdcall_handlers[TDX_TDCALL_LEAF_MAX] = {
	TDX_TDCALL_LEAVES(TDCALL_ROW)
};
#undef TDCALL_ROW

uint64_t tdcall_exit_ept_violation(struct tdcall_ctx *t, uint64_t gpa, uint64_t exit_qual,
				   uint64_t ext_exit_qual)
{
	/* Qualification bits 12:7 and GPA bits 11:0 cleared, as the module
	 * passes an EPT violation on to the host. */
	t->v->tdcall_exit = (struct seam_td_exit){
		.status = TDX_SUCCESS | TDCALL_EXIT_EPT_VIOLATION,
		.exit_qual = exit_qual & ~(0x3FULL << 7),
		.ext_exit_qual = ext_exit_qual,
		.gpa = gpa & ~0xFFFULL,
		.intr_info = 0,
	};
	return TDCALL_EXITED;
}

static bool gpa_valid(const struct seam_td *td, uint64_t gpa, bool private_only)
{
	unsigned width = td->gpaw ? 52 : 48;
	if (gpa >> width)
		return false;
	return !(private_only && (gpa & seam_td_shared_bit(td)));
}

/* The exit a failed guest-side access ends in (the module's walk-and-map of
 * a TDCALL's GPA operand): EPT violation, qualification = the access and
 * what the leaf allows; a PENDING private page gives the PENDING extended
 * type when the TD asked for TD exits on pending pages (otherwise the
 * module injects a #VE there, which tdxsim reports as the same TD exit). */
static uint64_t access_exit(struct tdcall_ctx *t, uint64_t gpa, bool write, unsigned state)
{
	uint64_t q = TDCALL_EQ_READ | (write ? TDCALL_EQ_WRITE : 0);
	bool shared = gpa & seam_td_shared_bit(t->td);
	uint64_t ext = 0;
	if (!shared) {
		if (state == SEPT_MAPPED)
			q |= TDCALL_EQ_R_OK | TDCALL_EQ_W_OK | TDCALL_EQ_X_OK;
		else if (state == SEPT_BLOCKEDW)
			q |= TDCALL_EQ_R_OK | TDCALL_EQ_X_OK;
		else if (state == SEPT_PENDING &&
			 (t->td->td_ctls & TDCALL_TD_CTLS_PENDING_VE_DISABLE))
			ext = TDCALL_EEQ_PENDING_EPT;
	}
	return tdcall_exit_ept_violation(t, gpa, q, ext);
}

uint64_t tdcall_gpa_read(struct tdcall_ctx *t, uint64_t gpa, void *buf, uint64_t len,
			 bool private_only)
{
	if (!gpa_valid(t->td, gpa, private_only))
		return TDX_OPERAND_INVALID;
	unsigned state = 0;
	if (seam_gpa_read(t->c, t->v, gpa, buf, len, &state))
		return access_exit(t, gpa, false, state);
	seam_charge(t->c, SEPT_LEVEL, t->td->ept_levels);
	seam_charge(t->c, LINE_READ, (len + 63) / 64);
	return TDX_SUCCESS;
}

uint64_t tdcall_gpa_write(struct tdcall_ctx *t, uint64_t gpa, const void *buf, uint64_t len,
			  bool private_only)
{
	if (!gpa_valid(t->td, gpa, private_only))
		return TDX_OPERAND_INVALID;
	unsigned state = 0;
	if (seam_gpa_write(t->c, t->v, gpa, buf, len, &state))
		return access_exit(t, gpa, true, state);
	seam_charge(t->c, SEPT_LEVEL, t->td->ept_levels);
	seam_charge(t->c, LINE_WRITE_ENC, (len + 63) / 64);
	return TDX_SUCCESS;
}

enum seam_tdcall_next seam_tdcall(struct seam_ctx *c, struct seam_vcpu *v)
{
	uint64_t *gpr = v->g.gpr;

	if (!(v->g.efer & EFER_LMA))
		return SEAM_TDCALL_INJECT_GP;

	uint64_t rax = gpr[GPR_RAX];
	unsigned leaf = rax & TDX_LEAF_MASK;
	unsigned ver = (rax >> TDX_VERSION_SHIFT) & TDX_VERSION_MASK;
	tdcall_fn fn = leaf < TDX_TDCALL_LEAF_MAX ? tdcall_handlers[leaf] : NULL;
	if ((rax & TDX_LEAF_RESERVED) || (ver && leaf != TDG_VM_RD) || !fn) {
		gpr[GPR_RAX] = tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
		TDCALL_CHARGE_BASE(c);
		return SEAM_TDCALL_RESUME;
	}

	struct tdx_module_args scratch = { 0 };
	struct seam_ctx tc = *c;
	tc.r = &scratch;
	tc.leaf = TDCALL_FAULT_LEAF(leaf);
	tc.version = (uint8_t)ver;
	tc.cycles = 0;
	tc.insns = 0;
	tc.injected = 0;
	memset(tc.point_n, 0, sizeof(tc.point_n));
	struct tdcall_ctx t = { .c = &tc, .v = v, .td = v->td, .gpr = gpr, .version = ver };

	uint64_t saved[16];
	memcpy(saved, gpr, sizeof(saved));
	uint64_t status = fn(&t);
	uint64_t trace_t0 = c->cycles;

	TDCALL_CHARGE_BASE(c);
	TDCALL_CHARGE_LEAF(c, leaf);
	c->cycles += tc.cycles;
	c->insns += tc.insns;
	if (tc.injected)
		c->injected = tc.injected;
	sim_trace_tdcall(c, v, saved, status, c->cycles - trace_t0);
	if (status == TDCALL_EXITED) {
		memcpy(gpr, saved, sizeof(saved));
		return SEAM_TDCALL_EXIT;
	}
	gpr[GPR_RAX] = status;
	return SEAM_TDCALL_RESUME;
}
