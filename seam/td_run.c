/*
 * The guest runner: the guest-run half of TDH.VP.ENTER (seam/vp_enter.h),
 * executing the vCPU on Unicorn. This is the only file that sees Unicorn.
 *
 * Engine. One uc_engine per vCPU, created at the first entry and kept in
 * v->run until the vCPU structure is freed. It is opened in 64-bit mode and
 * brought to the VP.INIT reset state (32-bit protected mode, paging off) by
 * toggling paging from the host (Unicorn's 64-bit mode starts in "long mode
 * without paging"); the engine keeps the CPU state between entries, and the
 * GPRs, RIP and RFLAGS are (re)loaded from TDVPS (v->g) at every entry and
 * saved there at every exit, together with CR0/2/3/4, EFER, selectors, the
 * FS/GS bases, GDTR and IDTR.
 *
 * Address translation. The engine runs in Unicorn's virtual-TLB mode: every
 * TLB miss reaches hook_tlb_fill, which does the guest's own page walk in
 * software (paging off: 32-bit identity; IA-32e paging with 4 or 5 levels,
 * 2 MiB and 1 GiB pages, R/W, U/S, NX with EFER.NXE, CR0.WP; no A/D bit
 * updates, no SMEP/SMAP/PKS; legacy 32-bit/PAE paging is not supported and
 * ends the vCPU), then translates the GPA and answers with the page's
 * engine-internal "physical" slot (below 2^40, whatever the GPA: the CPU
 * model's 40 physical-address bits never see the shared bit):
 *  - private GPA: the S-EPT leaf must be MAPPED (BLOCKEDW: read/fetch only);
 *    the runner maps its own decrypted copy of the page (read through the
 *    TD's KeyID), read+exec; the first write marks it dirty and makes it
 *    writable. Encrypted RAM stays authoritative: dirty pages are written
 *    back through the TD's KeyID at every stop of the engine (and before
 *    seam_tdcall()), and clean copies are refreshed when the page's write
 *    version changed (a module-handled TDCALL or a host leaf wrote it). A
 *    new TD epoch (MEM.TRACK, which follows every RANGE.BLOCK of a running
 *    TD) re-walks the S-EPT for every private copy and drops those no
 *    longer MAPPED at the same HPA, so a removed or blocked page faults
 *    again.
 *  - shared GPA (shared bit set): translated through the host's shared EPT
 *    (v->vmcs.shared_eptp, indexed by the whole GPA) and mapped directly onto
 *    simulated memory (the host's view), read/write, never executable;
 *    revalidated at every entry.
 * A guest #PF or an EPT violation found by the fill points the page at an
 * unmapped sink, so that hook_unmapped sees the exact address (CR2, or the
 * GPA for R8); the TLB is flushed before the guest runs again.
 *
 * Exceptions. Unicorn never delivers exceptions through the guest's IDT
 * (they reach UC_HOOK_INTR), so the runner does: IA-32e interrupt/trap
 * gates, IST and RSP0 from the TSS on a privilege change, error codes
 * (Unicorn does not tell the error code of the exceptions it raises: 0 is
 * pushed); a fault while delivering gives #DF, one while delivering #DF a
 * triple fault. An EPT violation while delivering is a TD exit and the
 * delivery is retried at the next entry. Only the #UD of a TDCALL handled
 * here is swallowed.
 *
 * #VE (vector 20, VE_INFO in the vCPU; #DF if VE_INFO is still valid):
 *   HLT (exit reason 12, length 1); CPUID (reason 10, length 2) for the
 *   leaves the module does not virtualise (md_td_cpuid) or when
 *   TDG.VP.CPUIDVE.SET asked for it; the other leaves return the TD's
 *   virtual CPUID values in the guest with no exit; an access to a PENDING
 *   private page unless TD_CTLS.PENDING_VE_DISABLE (reason 48, GPA, GLA,
 *   qualification with GLA-valid; a TD exit with RDX = 6 otherwise).
 *
 * TD exits (tdx-abi.md 2.3): RAX = status | VMX exit reason, RCX = exit
 * qualification, RDX = extended exit qualification, R8 = GPA, R9 =
 * interruption info, R10-R15, RBX, RSI, RDI = 0 (RBP is not in the argument
 * block: preserved). Reasons produced:
 *   77 TDG.VP.VMCALL: RCX = the guest's mask, the selected GPRs carry the
 *      guest's values; the next entry copies the host's selected GPRs into
 *      the guest, sets guest RAX = 0, RCX = mask, and resumes after TDCALL.
 *      A mask with bit 0, 1, 4 (5 with NO_RBP_MOD) or 63:32 set is refused
 *      in the guest (RAX = OPERAND_INVALID + RCX) without an exit.
 *   48 EPT violation: RCX bits 2:0 = read/write/fetch, 5:3 = what the leaf
 *      allows; R8 = the GPA; RDX = 6 (PENDING) for a PENDING private page,
 *      else 0. The guest retries the access at the next entry.
 *    1 external interrupt (R9 = 0x800000EC): the run budget is used up (a
 *      spinning guest returns to the host); the guest resumes where it was.
 *    2 triple fault, status NON_RECOVERABLE_VCPU, vCPU DISABLED.
 *   seam_tdcall() returning SEAM_TDCALL_EXIT: v->tdcall_exit, the guest's
 *   registers and RIP as before the TDCALL (it runs again).
 *
 * Limits (Unicorn 2.1.1): instruction hooks do not end the translation
 * block, so a CPUID that becomes a #VE restores the CPU state saved at the
 * CPUID (uc_context) after the rest of its block ran: register effects are
 * undone, memory writes of that block are not. RDMSR/WRMSR and IN/OUT give
 * no #VE (Unicorn runs them itself; guests use TDG.VP.VMCALL for them), nor
 * does an EPT violation on a shared GPA (a TD exit). Unicorn keeps its own
 * double-fault tracking for the exceptions it raises, which only a delivery
 * of its own resets: the runner clears it in the CPU context after each one
 * (forget_exception; if the field cannot be found unambiguously, a second
 * such exception reaches the runner as #DF). Not modelled either: machine checks on poisoned lines,
 * host kicks, XMM passing in VMCALL.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <unicorn/unicorn.h>

#include "seam/gpa.h"
#include "seam/metadata_td.h"
#include "seam/sept.h"
#include "seam/tdcall.h"
#include "seam/td.h"
#include "seam/vp_enter.h"
#include "sim/sim_int.h"

#define RUN_UNTIL         0xDEAD0000DEAD0001ULL     /* non-canonical: never reached */
#define RUN_BLOCK_BUDGET  (1u << 22)                /* translated blocks per entry */
#define RUN_CYCLES_PER_BLOCK 8

#define EXIT_EXTERNAL_INTERRUPT SEAM_VP_EXIT_EXTERNAL_INTERRUPT
#define EXIT_TRIPLE_FAULT       2u
#define EXIT_HLT                12u
#define EXIT_EPT_VIOLATION      48u
#define EXIT_TDCALL             77u

#define EQ_READ   (1ULL << 0)
#define EQ_WRITE  (1ULL << 1)
#define EQ_FETCH  (1ULL << 2)
#define EQ_R_OK   (1ULL << 3)
#define EQ_W_OK   (1ULL << 4)
#define EQ_X_OK   (1ULL << 5)
#define EEQ_PENDING_EPT 6ULL

#define CR0_PG    (1ULL << 31)
#define CR0_WP    (1ULL << 16)
#define EFER_NXE  (1ULL << 11)
#define PTE_RW    (1ULL << 1)
#define PTE_US    (1ULL << 2)
#define PTE_NX    (1ULL << 63)
#define PF_P      (1ULL << 0)
#define PF_W      (1ULL << 1)
#define PF_U      (1ULL << 2)
#define PF_RSVD   (1ULL << 3)
#define PF_I      (1ULL << 4)
#define RFLAGS_TF (1ULL << 8)
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_NT (1ULL << 14)
#define RFLAGS_RF (1ULL << 16)
#define RFLAGS_VM (1ULL << 17)
#define VE_REASON_CPUID 10u
#define VE_REASON_HLT   12u
#define VE_REASON_EPT   48u
#define EQ_GLA_VALID (1ULL << 7)
#define EQ_GLA_XLAT  (1ULL << 8)        /* the access itself, not a paging-structure read */
#define TD_CTLS_PENDING_VE_DISABLE 1ULL
#define CR4_PAE   (1ULL << 5)
#define CR4_LA57  (1ULL << 12)
#define EFER_LMA  (1ULL << 10)
#define PTE_P     1ULL
#define PTE_PS    (1ULL << 7)
#define PTE_ADDR  0x000FFFFFFFFFF000ULL

#define PG_PRIVATE  1u
#define PG_DIRTY    2u
#define PG_WRITABLE 4u
#define PG_CODE     8u                  /* private: fetched from (translated code may exist) */

/* VMCALL RCX bits that may never be exposed: RAX, RCX, RSP; RBP too with
 * NO_RBP_MOD; and bits 63:32. */
#define VMCALL_BAD_MASK   ((1ULL << GPR_RAX) | (1ULL << GPR_RCX) | (1ULL << GPR_RSP) | \
			   0xFFFFFFFF00000000ULL)

enum run_stop {
	STOP_NONE = 0, STOP_VMCALL, STOP_TDCALL, STOP_EPT, STOP_FATAL, STOP_BUDGET,
	STOP_PF, STOP_EXC, STOP_VE_CPUID, STOP_VE_EPT,
};

enum run_fault { FAULT_NONE = 0, FAULT_PF, FAULT_EPT, FAULT_FATAL };

struct run_page {
	uint64_t gpa;                   /* page GPA (shared bit included) */
	uint64_t hpa;
	uint64_t ppa;                   /* the engine-internal slot it is mapped at */
	void *host;                     /* the bytes the guest sees */
	uint8_t *buf;                   /* private: the decrypted copy; shared: NULL */
	uint32_t ver;                   /* private: page version the copy matches */
	uint32_t flags;                 /* PG_* */
};

/* Internal physical slots of one kind (see SLOT_BASE). */
struct slot_pool {
	uint64_t base, limit;           /* slot addresses: [base, limit) */
	uint64_t next;                  /* slots handed out so far */
	uint64_t *free;                 /* slots to reuse */
	uint32_t n_free, cap_free;
};

struct td_run {
	uc_engine *uc;
	struct seam_ctx *c;             /* the entry in progress */
	struct seam_vcpu *v;
	struct run_page *pg;
	uint32_t n_pg, cap_pg;
	uint32_t *hash;                 /* open addressing: index + 1, 0 = empty */
	uint32_t hash_cap;              /* power of two, > 2 * n_pg */
	struct slot_pool priv;          /* slots of the one private-copy region */
	struct slot_pool shr;           /* slots of shared pages (a region each) */
	uint8_t *priv_mem;              /* host bytes of the private-copy region */
	uint32_t n_shared;              /* shared pages mapped (regions) */
	uc_context *ctx;                /* CPU state at a CPUID that becomes a #VE */
	uc_context *ctx0;               /* CPU state of the fresh engine */
	size_t oe_off;                  /* offset of Unicorn's "exception in flight" in a context */
	uint64_t epoch;
	bool epoch_valid;
	bool vmcall_pending;
	uint64_t vmcall_mask;
	bool skip_ud;                   /* swallow the #UD of the TDCALL just handled */
	bool flush;                     /* the TLB holds a sink entry: flush it */
	enum run_fault fault;           /* what the last failed TLB fill found */
	uint64_t fault_va, fault_access, fault_gpa, fault_err;
	bool fault_exact;
	struct seam_gpa_xlat fault_xl;
	uint64_t pf_addr;               /* STOP_PF: CR2 */
	unsigned exc_vec;               /* STOP_EXC */
	uint64_t ve_rip;                /* STOP_VE_CPUID */
	uint64_t ve_gla;                /* STOP_VE_EPT */
	bool pend_valid;                /* an exception whose delivery an EPT violation stopped */
	bool pend_has_err;
	unsigned pend_vec;
	uint64_t pend_err, pend_rip;
	uint64_t tdcall_rip;
	uint64_t blocks;
	enum run_stop stop;
	uint64_t ex_qual, ex_ext, ex_gpa;
};

static uint64_t reg_get(struct td_run *r, int reg)
{
	uint64_t val = 0;
	uc_reg_read(r->uc, reg, &val);
	return val;
}

static void reg_set(struct td_run *r, int reg, uint64_t val)
{
	uc_reg_write(r->uc, reg, &val);
}

#define MSR_EFER 0xC0000080u

static uint64_t efer_get(struct td_run *r)
{
	uc_x86_msr msr = { .rid = MSR_EFER, .value = 0 };
	uc_reg_read(r->uc, UC_X86_REG_MSR, &msr);
	return msr.value;
}

static void efer_set(struct td_run *r, uint64_t val)
{
	uc_x86_msr msr = { .rid = MSR_EFER, .value = val };
	uc_reg_write(r->uc, UC_X86_REG_MSR, &msr);
}

/* ---- Page table of mapped guest pages ------------------------------------- */

static uint32_t hash_slot(const struct td_run *r, uint64_t gpa)
{
	uint64_t h = (gpa >> 12) * 0x9E3779B97F4A7C15ULL;
	return (uint32_t)(h >> 32) & (r->hash_cap - 1);
}

static struct run_page *page_find(struct td_run *r, uint64_t gpa)
{
	if (!r->hash_cap)
		return NULL;
	for (uint32_t i = hash_slot(r, gpa);; i = (i + 1) & (r->hash_cap - 1)) {
		uint32_t x = r->hash[i];
		if (!x)
			return NULL;
		if (r->pg[x - 1].gpa == gpa)
			return &r->pg[x - 1];
	}
}

static int hash_rebuild(struct td_run *r, uint32_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	if (!h)
		return -1;
	free(r->hash);
	r->hash = h;
	r->hash_cap = cap;
	for (uint32_t n = 0; n < r->n_pg; n++) {
		uint32_t i = hash_slot(r, r->pg[n].gpa);
		while (h[i])
			i = (i + 1) & (cap - 1);
		h[i] = n + 1;
	}
	return 0;
}

static struct run_page *page_add(struct td_run *r, uint64_t gpa)
{
	if (r->n_pg == r->cap_pg) {
		uint32_t cap = r->cap_pg ? 2 * r->cap_pg : 64;
		struct run_page *p = realloc(r->pg, cap * sizeof(*p));
		if (!p)
			return NULL;
		r->pg = p;
		r->cap_pg = cap;
	}
	if (2 * (r->n_pg + 1) >= r->hash_cap && hash_rebuild(r, r->hash_cap ? 2 * r->hash_cap : 256))
		return NULL;
	struct run_page *p = &r->pg[r->n_pg++];
	memset(p, 0, sizeof(*p));
	p->gpa = gpa;
	uint32_t i = hash_slot(r, gpa);
	while (r->hash[i])
		i = (i + 1) & (r->hash_cap - 1);
	r->hash[i] = r->n_pg;
	return p;
}

static void slot_put(struct slot_pool *sp, uint64_t pa);
static int uc_flush_tb(struct td_run *r);

/* Unmap the pages for which drop() says so (all with drop == NULL).
 * Private copies live in the one private region: their slots are only
 * handed back (translated code of fetched ones is thrown away). Shared
 * pages are a region each: unmapped. */
static void pages_drop(struct td_run *r, bool (*drop)(struct td_run *, struct run_page *))
{
	uint32_t kept = 0;
	bool any = false, code = false;
	for (uint32_t n = 0; n < r->n_pg; n++) {
		struct run_page *p = &r->pg[n];
		if (drop && !drop(r, p)) {
			r->pg[kept++] = *p;
			continue;
		}
		if (p->flags & PG_PRIVATE) {
			slot_put(&r->priv, p->ppa);
			code |= !!(p->flags & PG_CODE);
		} else {
			uc_mem_unmap(r->uc, p->ppa, 4096);
			slot_put(&r->shr, p->ppa);
			r->n_shared--;
		}
		any = true;
	}
	r->n_pg = kept;
	if (any) {
		hash_rebuild(r, r->hash_cap ? r->hash_cap : 256);
		uc_ctl_flush_tlb(r->uc);
	}
	if (code)
		uc_flush_tb(r);
}
/* Write the dirty private copies back through the TD's KeyID and make them
 * read-only again, so the next write is noticed. */
static void pages_writeback(struct td_run *r)
{
	struct seam_ctx *c = r->c;
	bool any = false;
	for (uint32_t n = 0; n < r->n_pg; n++) {
		struct run_page *p = &r->pg[n];
		if (!(p->flags & PG_DIRTY))
			continue;
		any = true;
		seam_priv_write(c, p->hpa, r->v->td->hkid, p->buf, 4096);
		p->ver = phys_mem_page_ver(&c->s->mem, p->hpa);
		p->flags &= ~PG_DIRTY;
	}
	if (any)
		uc_ctl_flush_tlb(r->uc);        /* writable TLB entries of those pages */
}

/* Private copies the S-EPT no longer maps the same way (removed, blocked,
 * relocated, write-blocked). Table pages stay mapped otherwise: a guest
 * page walk through an unmapped table would be a #PF that Unicorn cannot
 * retry more than once per engine (its double-fault tracking is only reset
 * by an IDT delivery). */
static bool drop_stale_private(struct td_run *r, struct run_page *p)
{
	if (!(p->flags & PG_PRIVATE))
		return false;
	struct seam_gpa_xlat x;
	return seam_gpa_xlat(r->c, r->v, p->gpa, &x) || x.hpa != p->hpa ||
	       !!x.writable != !!(p->flags & PG_WRITABLE);
}

/* Shared pages whose shared-EPT translation changed or went away. */
static bool drop_stale_shared(struct td_run *r, struct run_page *p)
{
	if (p->flags & PG_PRIVATE)
		return false;
	struct seam_gpa_xlat x;
	return seam_gpa_xlat(r->c, r->v, p->gpa, &x) || x.hpa != p->hpa ||
	       !!x.writable != !!(p->flags & PG_WRITABLE);
}

/* Private copies whose page changed in RAM since they were made (the
 * copies are clean here: written back first). */
static void pages_refresh(struct td_run *r)
{
	struct seam_ctx *c = r->c;
	bool changed = false, code = false;
	for (uint32_t n = 0; n < r->n_pg; n++) {
		struct run_page *p = &r->pg[n];
		if (!(p->flags & PG_PRIVATE))
			continue;
		uint32_t ver = phys_mem_page_ver(&c->s->mem, p->hpa);
		if (ver == p->ver)
			continue;
		seam_priv_read(c, p->hpa, r->v->td->hkid, p->buf, 4096);
		p->ver = phys_mem_page_ver(&c->s->mem, p->hpa);
		changed = true;
		code |= !!(p->flags & PG_CODE);
	}
	if (changed)
		uc_ctl_flush_tlb(r->uc);
	if (code)
		uc_flush_tb(r);                 /* translated code of those pages */
}

/* ---- Internal physical slots ------------------------------------------------ */

/* Every mapped guest page lives at an internal "physical" address of the
 * engine (a slot), whatever its GPA: the TLB-fill hook hands Unicorn the
 * slot, so GPAs above the CPU model's 40 physical-address bits (the shared
 * bit) never reach Unicorn. SINK_PA is never mapped: a fill that ends in a
 * guest #PF or an EPT violation points the access there, so that the
 * unmapped-memory hook sees the exact faulting address.
 *
 * Unicorn rebuilds its whole memory map at each region added or removed
 * (and aborts past a few thousand regions), so the private copies all live
 * in ONE region mapped once per engine (PRIV_SLOTS pages of host memory
 * reserved with MAP_NORESERVE): a copy is a memcpy into a free slot. When
 * every slot is taken, the copies not fetched from are written back and
 * dropped at once. Writes are tracked through the TLB-fill hook alone: a
 * clean copy gets a read-only TLB entry, and Unicorn asks again for the
 * first write to it. Shared pages map the host bytes directly: a region
 * each, at most SHARED_MAX of them (all unmapped when that is reached). */
#define SLOT_BASE  0x0000001000000000ULL      /* 64 GiB */
#define PRIV_SLOTS 65536ULL
#define PRIV_BYTES (PRIV_SLOTS * 4096ULL)       /* 256 MiB */
#define SHR_BASE   (SLOT_BASE + PRIV_BYTES)
#define SHARED_MAX 1024u
#define SINK_PA    0x000000FF00000000ULL

static uint64_t slot_get(struct slot_pool *sp)
{
	if (sp->n_free)
		return sp->free[--sp->n_free];
	uint64_t pa = sp->base + 4096ULL * sp->next;
	if (pa >= sp->limit)
		return 0;
	sp->next++;
	return pa;
}

static void slot_put(struct slot_pool *sp, uint64_t pa)
{
	if (sp->n_free == sp->cap_free) {
		uint32_t cap = sp->cap_free ? 2 * sp->cap_free : 64;
		uint64_t *f = realloc(sp->free, cap * sizeof(*f));
		if (!f)
			return;                 /* the slot is leaked, not reused */
		sp->free = f;
		sp->cap_free = cap;
	}
	sp->free[sp->n_free++] = pa;
}

static int uc_flush_tb(struct td_run *r)
{
	return uc_ctl_flush_tb(r->uc) ? -1 : 0;
}

static bool drop_private_data(struct td_run *r, struct run_page *p)
{
	(void)r;
	return (p->flags & (PG_PRIVATE | PG_CODE)) == PG_PRIVATE;
}

static bool drop_shared(struct td_run *r, struct run_page *p)
{
	(void)r;
	return !(p->flags & PG_PRIVATE);
}

/* A free private slot, making room if none is left: the copies never
 * fetched from are written back and dropped (the ones fetched from stay:
 * their translated code is keyed by the slot). */
static uint64_t priv_slot_get(struct td_run *r)
{
	uint64_t ppa = slot_get(&r->priv);
	if (ppa)
		return ppa;
	pages_writeback(r);
	pages_drop(r, drop_private_data);
	return slot_get(&r->priv);
}

/* Map the page of gpa. Returns the page (mapped now or before), or NULL
 * with the EPT-violation details in x. */
static struct run_page *page_fault_in(struct td_run *r, uint64_t gpa, struct seam_gpa_xlat *x)
{
	uint64_t page = gpa & ~0xFFFULL;
	struct run_page *p = page_find(r, page);
	if (p)
		return p;
	if (seam_gpa_xlat(r->c, r->v, page, x))
		return NULL;
	struct phys_mem *m = &r->c->s->mem;
	uint64_t ppa;
	uint8_t *host;
	if (x->shared) {
		/* A shared mapping of a TD-owned page would read zeros and
		 * poison on writes: not mapped directly (an EPT violation). */
		for (uint64_t off = 0; off < 4096; off += 64)
			if (phys_mem_line_state(m, x->hpa + off))
				return NULL;
		if (r->n_shared >= SHARED_MAX)
			pages_drop(r, drop_shared);
		host = phys_mem_host_ptr(m, x->hpa);
		ppa = slot_get(&r->shr);
		if (!ppa)
			return NULL;
		uint32_t perms = UC_PROT_READ | (x->writable ? UC_PROT_WRITE : 0);
		if (uc_mem_map_ptr(r->uc, ppa, 4096, perms, host)) {
			slot_put(&r->shr, ppa);
			return NULL;
		}
		p = page_add(r, page);
		if (!p) {
			uc_mem_unmap(r->uc, ppa, 4096);
			slot_put(&r->shr, ppa);
			return NULL;
		}
		r->n_shared++;
		p->flags = x->writable ? PG_WRITABLE : 0;
	} else {
		ppa = priv_slot_get(r);
		if (!ppa)
			return NULL;
		p = page_add(r, page);
		if (!p) {
			slot_put(&r->priv, ppa);
			return NULL;
		}
		host = r->priv_mem + (ppa - SLOT_BASE);
		seam_priv_read(r->c, x->hpa, r->v->td->hkid, host, 4096);
		p->buf = host;
		p->ver = phys_mem_page_ver(m, x->hpa);
		p->flags = PG_PRIVATE | (x->writable ? PG_WRITABLE : 0);
	}
	p->hpa = x->hpa;
	p->ppa = ppa;
	p->host = host;
	return p;
}

static void set_ept(struct td_run *r, uint64_t gpa, uint64_t access, const struct seam_gpa_xlat *x)
{
	uint64_t q = access;
	if (x->state == SEPT_MAPPED && !x->shared)
		q |= EQ_R_OK | EQ_W_OK | EQ_X_OK;
	else if (x->state == SEPT_BLOCKEDW && !x->shared)
		q |= EQ_R_OK | EQ_X_OK;
	r->ex_qual = q;
	r->ex_ext = (!x->shared && x->state == SEPT_PENDING) ? EEQ_PENDING_EPT : 0;
	r->ex_gpa = gpa;
}

static void stop_fatal(struct td_run *r)
{
	r->stop = STOP_FATAL;
	uc_emu_stop(r->uc);
}

/* ---- The guest's page walk (software) ---------------------------------------- */

enum walk_rc { WALK_OK = 0, WALK_PF, WALK_EPT, WALK_UNSUPPORTED };

struct walk {
	uint64_t gpa;                   /* OK: the GPA; EPT: the GPA that faulted */
	bool w, x;                      /* OK: writes / fetches allowed */
	bool exact;                     /* EPT: gpa is exact (a paging-structure entry) */
	uint64_t pf_err;                /* PF: the error code */
	struct seam_gpa_xlat xl;        /* EPT: where the GPA translation stopped */
};

/* One paging-structure entry at gpa (8-byte aligned). */
static int entry_read(struct td_run *r, uint64_t gpa, uint64_t *e, struct walk *o)
{
	struct run_page *p = page_fault_in(r, gpa, &o->xl);
	if (!p) {
		o->gpa = gpa;
		o->exact = true;
		return -1;
	}
	memcpy(e, (const uint8_t *)p->host + (gpa & 0xFFF), 8);
	return 0;
}

/* Guest linear -> guest physical for an access (EQ_READ/WRITE/FETCH) at
 * user (CPL 3) or supervisor level: paging off (identity, 32 bits) or
 * IA-32e paging with 4 or 5 levels, 2 MiB and 1 GiB pages. Accessed/dirty
 * bits are not updated; SMEP/SMAP and protection keys are not checked. */
static enum walk_rc guest_walk(struct td_run *r, uint64_t va, uint64_t access, bool user,
			       struct walk *o)
{
	memset(o, 0, sizeof(*o));
	uint64_t cr0 = reg_get(r, UC_X86_REG_CR0);
	if (!(cr0 & CR0_PG)) {
		o->gpa = va & 0xFFFFFFFFULL;
		o->w = o->x = true;
		return WALK_OK;
	}
	uint64_t efer = efer_get(r);
	if (!(efer & EFER_LMA))
		return WALK_UNSUPPORTED;        /* 32-bit / PAE legacy paging */
	uint64_t cr4 = reg_get(r, UC_X86_REG_CR4);
	uint64_t table = reg_get(r, UC_X86_REG_CR3) & PTE_ADDR;
	bool w = true, u = true, x = true;
	uint64_t ferr = (access == EQ_WRITE ? PF_W : 0) | (user ? PF_U : 0) |
			(access == EQ_FETCH && (efer & EFER_NXE) ? PF_I : 0);
	for (int lvl = (cr4 & CR4_LA57) ? 4 : 3; lvl >= 0; lvl--) {
		uint64_t e;
		unsigned idx = (unsigned)(va >> (12 + 9 * lvl)) & 511;
		if (entry_read(r, table + 8ULL * idx, &e, o))
			return WALK_EPT;
		if (!(e & PTE_P)) {
			o->pf_err = ferr;
			return WALK_PF;
		}
		if ((e & PTE_PS) && lvl >= 3) {
			o->pf_err = ferr | PF_P | PF_RSVD;
			return WALK_PF;
		}
		w = w && (e & PTE_RW);
		u = u && (e & PTE_US);
		if ((efer & EFER_NXE) && (e & PTE_NX))
			x = false;
		if (lvl == 0 || (e & PTE_PS)) {
			uint64_t size = 4096ULL << (9 * lvl);
			bool wp = cr0 & CR0_WP;
			bool can_w = w ? (!user || u) : (!user && !wp);
			if ((user && !u) || (access == EQ_WRITE && !can_w) ||
			    (access == EQ_FETCH && !x)) {
				o->pf_err = ferr | PF_P;
				return WALK_PF;
			}
			o->gpa = (e & PTE_ADDR & ~(size - 1)) | (va & (size - 1));
			o->w = can_w;
			o->x = x;
			return WALK_OK;
		}
		table = e & PTE_ADDR;
	}
	return WALK_PF;
}

static bool cpl3(struct td_run *r)
{
	return (reg_get(r, UC_X86_REG_CS) & 3) == 3;
}

/* Read or write guest-linear memory as the CPU does for its own accesses
 * (supervisor). Returns 0, -1 on a guest #PF or an unsupported walk, -2 on
 * an EPT violation (r->ex_* set). */
static int virt_access(struct td_run *r, uint64_t va, void *buf, size_t len, bool write)
{
	while (len) {
		size_t n = 4096 - (va & 0xFFF);
		if (n > len)
			n = len;
		struct walk o;
		enum walk_rc rc = guest_walk(r, va, write ? EQ_WRITE : EQ_READ, false, &o);
		if (rc == WALK_EPT) {
			set_ept(r, o.gpa, EQ_READ, &o.xl);
			return -2;
		}
		if (rc != WALK_OK)
			return -1;
		struct seam_gpa_xlat x;
		struct run_page *p = page_fault_in(r, o.gpa, &x);
		if (!p || (write && !(p->flags & PG_WRITABLE))) {
			if (p) {
				memset(&x, 0, sizeof(x));
				x.shared = !(p->flags & PG_PRIVATE);
				x.state = SEPT_BLOCKEDW;
			}
			set_ept(r, o.gpa, write ? EQ_WRITE : EQ_READ, &x);
			return -2;
		}
		uint8_t *h = (uint8_t *)p->host + (o.gpa & 0xFFF);
		if (write) {
			memcpy(h, buf, n);
			if (p->flags & PG_PRIVATE)
				p->flags |= PG_DIRTY;
		} else {
			memcpy(buf, h, n);
		}
		va += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}

static int virt_read(struct td_run *r, uint64_t va, void *buf, size_t len)
{
	return virt_access(r, va, buf, len, false);
}

/* ---- Exception and #VE delivery through the guest's IDT ---------------------- */

/* One delivery attempt (IA-32e mode only): 0, -1 (a fault while
 * delivering), -2 (an EPT violation while delivering: r->ex_* set). */
static int deliver_once(struct td_run *r, unsigned vec, bool has_err, uint64_t err, uint64_t rip)
{
	if (!(efer_get(r) & EFER_LMA))
		return -1;
	uc_x86_mmr idtr;
	if (uc_reg_read(r->uc, UC_X86_REG_IDTR, &idtr) || 16ULL * vec + 15 > idtr.limit)
		return -1;
	uint64_t gate[2];
	int rc = virt_read(r, idtr.base + 16ULL * vec, gate, sizeof(gate));
	if (rc)
		return rc;
	unsigned type = (unsigned)(gate[0] >> 40) & 0xF;
	if (!((gate[0] >> 47) & 1) || (type != 0xE && type != 0xF))
		return -1;
	uint16_t sel = (uint16_t)(gate[0] >> 16);
	uint64_t target = (gate[0] & 0xFFFF) | ((gate[0] >> 32) & 0xFFFF0000ULL) | (gate[1] << 32);
	unsigned ist = (unsigned)(gate[0] >> 32) & 7;
	uint64_t cs = reg_get(r, UC_X86_REG_CS), ss = reg_get(r, UC_X86_REG_SS);
	uint64_t rsp = reg_get(r, UC_X86_REG_RSP), rflags = reg_get(r, UC_X86_REG_RFLAGS);
	uint64_t new_rsp = rsp;
	bool to_ring0 = (cs & 3) != 0;
	if (ist || to_ring0) {
		uc_x86_mmr tr;
		if (uc_reg_read(r->uc, UC_X86_REG_TR, &tr))
			return -1;
		rc = virt_read(r, tr.base + (ist ? 0x24 + 8ULL * (ist - 1) : 4), &new_rsp, 8);
		if (rc)
			return rc;
	}
	new_rsp &= ~0xFULL;
	uint64_t frame[6];
	unsigned n = 0;
	if (has_err)
		frame[n++] = err;
	frame[n++] = rip;
	frame[n++] = cs;
	frame[n++] = rflags;
	frame[n++] = rsp;
	frame[n++] = ss;
	new_rsp -= 8ULL * n;
	rc = virt_access(r, new_rsp, frame, 8ULL * n, true);
	if (rc)
		return rc;
	reg_set(r, UC_X86_REG_RSP, new_rsp);
	if (to_ring0)
		reg_set(r, UC_X86_REG_SS, 0);
	if (sel != (uint16_t)cs)
		reg_set(r, UC_X86_REG_CS, sel);
	rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (type == 0xE)
		rflags &= ~RFLAGS_IF;
	reg_set(r, UC_X86_REG_RFLAGS, rflags);
	reg_set(r, UC_X86_REG_RIP, target);
	return 0;
}

static bool vec_has_err(unsigned vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21;
}

/* Deliver an exception; a fault while delivering becomes #DF, one while
 * delivering #DF a triple fault (-1). -2: an EPT violation stopped the
 * delivery; it is retried at the next entry (r->pend). */
static int deliver(struct td_run *r, unsigned vec, bool has_err, uint64_t err, uint64_t rip)
{
	for (;;) {
		int rc = deliver_once(r, vec, has_err, err, rip);
		if (rc == 0) {
			r->pend_valid = false;
			return 0;
		}
		if (rc == -2) {
			r->pend_valid = true;
			r->pend_vec = vec;
			r->pend_has_err = has_err;
			r->pend_err = err;
			r->pend_rip = rip;
			return -2;
		}
		if (vec == 8)
			return -1;
		vec = 8;
		has_err = true;
		err = 0;
	}
}

/* A #VE (vector 20) with VE_INFO filled in; #DF if VE_INFO is still in use. */
static int inject_ve(struct td_run *r, uint32_t reason, uint64_t qual, uint64_t gla,
		     uint64_t gpa, uint32_t len, uint64_t rip)
{
	struct seam_vcpu *v = r->v;
	if (v->ve_valid)
		return deliver(r, 8, true, 0, rip);
	memset(&v->ve, 0, sizeof(v->ve));
	v->ve.exit_reason = reason;
	v->ve.exit_qual = qual;
	v->ve.gla = gla;
	v->ve.gpa = gpa;
	v->ve.instr_len = len;
	v->ve_valid = true;
	return deliver(r, 20, false, 0, rip);
}

/* ---- Unicorn hooks ---------------------------------------------------------- */

/* Virtual TLB miss: the guest's walk, then the GPA translation. A guest
 * #PF or an EPT violation points the page at SINK_PA and is reported by
 * hook_unmapped, which sees the exact address. */
static bool hook_tlb_fill(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e,
			  void *user)
{
	(void)uc;
	struct td_run *r = user;
	if (va == (RUN_UNTIL & ~0xFFFULL))
		return false;                   /* Unicorn probing the stop address */
	uint64_t access = type == UC_MEM_WRITE ? EQ_WRITE : type == UC_MEM_FETCH ? EQ_FETCH : EQ_READ;
	struct walk o;
	enum walk_rc rc = guest_walk(r, va, access, cpl3(r), &o);
	r->fault_va = va;
	r->fault_access = access;
	if (rc == WALK_OK) {
		struct seam_gpa_xlat x;
		struct run_page *p = page_fault_in(r, o.gpa, &x);
		if (p) {
			uint32_t perms = UC_PROT_READ;
			/* A clean private copy becomes writable at its first
			 * write (it is dirty from then on). */
			bool clean = (p->flags & (PG_PRIVATE | PG_DIRTY)) == PG_PRIVATE;
			if (o.w && (p->flags & PG_WRITABLE) && (!clean || access == EQ_WRITE))
				perms |= UC_PROT_WRITE;
			if (clean && (perms & UC_PROT_WRITE))
				p->flags |= PG_DIRTY;
			if (o.x && (p->flags & PG_PRIVATE))
				perms |= UC_PROT_EXEC;
			if (access == EQ_FETCH && (perms & UC_PROT_EXEC))
				p->flags |= PG_CODE;
			if ((access == EQ_WRITE && !(perms & UC_PROT_WRITE)) ||
			    (access == EQ_FETCH && !(perms & UC_PROT_EXEC))) {
				/* The leaf does not allow it: write to a
				 * BLOCKEDW/read-only page, fetch from shared. */
				memset(&x, 0, sizeof(x));
				x.shared = !(p->flags & PG_PRIVATE);
				x.state = SEPT_BLOCKEDW;
			} else {
				e->paddr = p->ppa;
				e->perms = perms;
				return true;
			}
		}
		o.xl = x;
		o.exact = false;
		r->fault = FAULT_EPT;
		r->fault_gpa = o.gpa & ~0xFFFULL;
		r->fault_xl = x;
		r->fault_exact = false;
	} else if (rc == WALK_EPT) {
		r->fault = FAULT_EPT;
		r->fault_gpa = o.gpa;
		r->fault_xl = o.xl;
		r->fault_exact = true;
	} else if (rc == WALK_PF) {
		r->fault = FAULT_PF;
		r->fault_err = o.pf_err;
	} else {
		r->fault = FAULT_FATAL;
	}
	e->paddr = SINK_PA;
	e->perms = UC_PROT_ALL;
	return true;
}

static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
			  int64_t value, void *user)
{
	(void)type;
	(void)size;
	(void)value;
	struct td_run *r = user;
	if (r->stop != STOP_NONE)
		return false;
	r->flush = true;
	/* Fetches report the sink's physical address, data accesses the
	 * linear one. */
	if ((addr & ~0xFFFULL) == SINK_PA)
		addr = r->fault_va | (addr & 0xFFF);
	if ((addr & ~0xFFFULL) != r->fault_va || r->fault == FAULT_NONE) {
		stop_fatal(r);
		return false;
	}
	switch (r->fault) {
	case FAULT_PF:
		r->stop = STOP_PF;
		r->pf_addr = addr;
		break;
	case FAULT_EPT:
		r->stop = STOP_EPT;
		set_ept(r, r->fault_exact ? r->fault_gpa : r->fault_gpa | (addr & 0xFFF),
			r->fault_exact ? EQ_READ : r->fault_access, &r->fault_xl);
		/* A PENDING private page is a #VE unless the TD asked for TD
		 * exits (TD_CTLS.PENDING_VE_DISABLE, from SEPT_VE_DISABLE). */
		if (r->ex_ext == EEQ_PENDING_EPT &&
		    !(r->v->td->td_ctls & TD_CTLS_PENDING_VE_DISABLE)) {
			r->stop = STOP_VE_EPT;
			r->ex_qual |= EQ_GLA_VALID | (r->fault_exact ? 0 : EQ_GLA_XLAT);
			r->ve_gla = addr;
		}
		break;
	default:
		r->stop = STOP_FATAL;
		break;
	}
	r->fault = FAULT_NONE;
	uc_emu_stop(uc);
	return false;
}

/* Never expected: the TLB entries carry the permissions, and the private
 * region allows everything. */
static bool hook_prot(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		      int64_t value, void *user)
{
	(void)uc;
	(void)type;
	(void)addr;
	(void)size;
	(void)value;
	stop_fatal(user);
	return false;
}

static bool hook_insn_invalid(uc_engine *uc, void *user)
{
	(void)uc;
	struct td_run *r = user;
	if (r->stop != STOP_NONE) {
		/* The rest of a block after a CPUID #VE: undone anyway. */
		r->skip_ud = true;
		return true;
	}
	uint64_t rip = reg_get(r, UC_X86_REG_RIP);
	uint8_t insn[4];
	static const uint8_t tdcall[4] = { 0x66, 0x0F, 0x01, 0xCC };
	r->skip_ud = true;
	if (virt_read(r, rip, insn, sizeof(insn)) || memcmp(insn, tdcall, sizeof(insn))) {
		/* A real #UD: delivered through the IDT after the stop. */
		r->stop = STOP_EXC;
		r->exc_vec = 6;
		uc_emu_stop(r->uc);
		return true;
	}
	r->tdcall_rip = rip;
	if (!(efer_get(r) & EFER_LMA)) {
		/* #GP(0): not in 64-bit mode. */
		r->stop = STOP_EXC;
		r->exc_vec = 13;
		uc_emu_stop(r->uc);
		return true;
	}
	reg_set(r, UC_X86_REG_RIP, rip + 4);
	uint64_t rax = reg_get(r, UC_X86_REG_RAX);
	if (rax != 0) {
		r->stop = STOP_TDCALL;
		uc_emu_stop(r->uc);
		return true;
	}
	uint64_t mask = reg_get(r, UC_X86_REG_RCX);
	uint64_t bad = VMCALL_BAD_MASK;
	if (r->v->td->config_flags & TDX_CONFIG_FLAGS_NO_RBP_MOD)
		bad |= 1ULL << GPR_RBP;
	if (mask & bad) {
		reg_set(r, UC_X86_REG_RAX, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
		return true;
	}
	r->vmcall_mask = mask;
	r->stop = STOP_VMCALL;
	uc_emu_stop(r->uc);
	return true;
}

/* An exception Unicorn raised (it never delivers them itself): delivered
 * through the guest's IDT once the run stopped. The #UD of a TDCALL
 * handled above is swallowed. */
static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct td_run *r = user;
	if (intno == 6 && r->skip_ud) {
		r->skip_ud = false;
		return;
	}
	if (r->stop != STOP_NONE)
		return;
	r->stop = STOP_EXC;
	r->exc_vec = intno;
	uc_emu_stop(uc);
}

/* CPUID: the TD's virtual CPUID where the module answers itself; a #VE
 * (exit reason 10) for the leaves it leaves to the VMM and when
 * TDG.VP.CPUIDVE.SET asked for it at the current privilege level. */
static int hook_cpuid(uc_engine *uc, void *user)
{
	struct td_run *r = user;
	uint32_t leaf = (uint32_t)reg_get(r, UC_X86_REG_RAX);
	uint32_t sub = (uint32_t)reg_get(r, UC_X86_REG_RCX);
	uint32_t out[4];
	bool force_ve = r->v->cpuid_ve & (cpl3(r) ? 2 : 1);
	if (!force_ve && md_td_cpuid(r->c->s, r->v->td, leaf, sub, out)) {
		reg_set(r, UC_X86_REG_RAX, out[0]);
		reg_set(r, UC_X86_REG_RBX, out[1]);
		reg_set(r, UC_X86_REG_RCX, out[2]);
		reg_set(r, UC_X86_REG_RDX, out[3]);
		return 1;
	}
	if (r->stop == STOP_NONE && r->ctx && !uc_context_save(uc, r->ctx)) {
		r->stop = STOP_VE_CPUID;
		r->ve_rip = reg_get(r, UC_X86_REG_RIP);
		uc_emu_stop(uc);
	}
	return 1;
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	(void)addr;
	(void)size;
	struct td_run *r = user;
	if (++r->blocks >= RUN_BLOCK_BUDGET && r->stop == STOP_NONE) {
		r->stop = STOP_BUDGET;
		uc_emu_stop(uc);
	}
}

/* Unicorn raises #DE/#TS/#NP/#SS/#GP through its double-fault check,
 * which remembers the vector "in flight" until a delivery of its own
 * (which never happens: the runner delivers): a second contributory
 * exception would become #DF, a third a triple fault. Forget it: find the
 * field in the CPU context (-1 in the fresh engine, the vector now; found
 * once, when unique) and set it back to -1. */
static void forget_exception(struct td_run *r, unsigned vec)
{
	if (!r->ctx0 || !r->ctx || uc_context_save(r->uc, r->ctx))
		return;
	size_t size = uc_context_size(r->uc);
	uint8_t *cur = (uint8_t *)r->ctx;
	const uint8_t *fresh = (const uint8_t *)r->ctx0;
	int32_t want = (int32_t)vec, none = -1;
	if (!r->oe_off) {
		size_t found = 0;
		unsigned n = 0;
		for (size_t off = 64; off + 4 <= size; off += 4) {
			int32_t a, b;
			memcpy(&a, fresh + off, 4);
			memcpy(&b, cur + off, 4);
			if (a == -1 && b == want) {
				found = off;
				n++;
			}
		}
		if (n != 1)
			return;
		r->oe_off = found;
	}
	int32_t now;
	memcpy(&now, cur + r->oe_off, 4);
	if (now != want)
		return;
	memcpy(cur + r->oe_off, &none, 4);
	uc_context_restore(r->uc, r->ctx);
}

static bool vec_contributory(unsigned vec)
{
	return vec == 0 || (vec >= 10 && vec <= 13);
}

/* ---- Engine life ------------------------------------------------------------ */

void seam_vcpu_run_free(void *run)
{
	struct td_run *r = run;
	if (!r)
		return;
	if (r->ctx)
		uc_context_free(r->ctx);
	if (r->ctx0)
		uc_context_free(r->ctx0);
	if (r->uc)
		uc_close(r->uc);
	if (r->priv_mem)
		munmap(r->priv_mem, PRIV_BYTES);
	free(r->priv.free);
	free(r->shr.free);
	free(r->pg);
	free(r->hash);
	free(r);
}

static void load_mmr(struct td_run *r, int reg, uint64_t base, uint32_t limit)
{
	uc_x86_mmr mmr = { .selector = 0, .base = base, .limit = limit, .flags = 0 };
	uc_reg_write(r->uc, reg, &mmr);
}

/* Bring a fresh engine to the state in v->g. */
static void engine_state(struct td_run *r, struct seam_vcpu *v)
{
	const struct seam_vcpu_guest *g = &v->g;
	if (v->launched && (g->efer & EFER_LMA)) {
		/* A vCPU that ran before, in long mode (the engine was lost):
		 * the 64-bit engine is in long mode already. */
		reg_set(r, UC_X86_REG_CR4, g->cr4);
		reg_set(r, UC_X86_REG_CR3, g->cr3);
		reg_set(r, UC_X86_REG_CR0, g->cr0);
		efer_set(r, g->efer);
		load_mmr(r, UC_X86_REG_GDTR, g->gdtr_base, g->gdtr_limit);
		load_mmr(r, UC_X86_REG_IDTR, g->idtr_base, g->idtr_limit);
		reg_set(r, UC_X86_REG_FS_BASE, g->fs_base);
		reg_set(r, UC_X86_REG_GS_BASE, g->gs_base);
		return;
	}
	/* Leave Unicorn's "long mode without paging" by a paging round trip
	 * (unicorn-notes.md), then the reset values. */
	reg_set(r, UC_X86_REG_CR4, CR4_PAE);
	reg_set(r, UC_X86_REG_CR0, 0x80000001ULL);
	reg_set(r, UC_X86_REG_CR0, g->cr0 & ~CR0_PG);
	reg_set(r, UC_X86_REG_CR4, g->cr4);
	efer_set(r, g->efer & ~EFER_LMA);
	reg_set(r, UC_X86_REG_CR3, g->cr3);
	load_mmr(r, UC_X86_REG_GDTR, g->gdtr_base, v->launched ? g->gdtr_limit : 0xFFFF);
	load_mmr(r, UC_X86_REG_IDTR, g->idtr_base, v->launched ? g->idtr_limit : 0xFFFF);
}

static struct td_run *engine_get(struct seam_vcpu *v)
{
	struct td_run *r = v->run;
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->priv = (struct slot_pool){ .base = SLOT_BASE, .limit = SLOT_BASE + PRIV_BYTES };
	r->shr = (struct slot_pool){ .base = SHR_BASE, .limit = SINK_PA };
	void *mem = mmap(NULL, PRIV_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		free(r);
		return NULL;
	}
	r->priv_mem = mem;
	uc_hook h;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &r->uc) ||
	    uc_mem_map_ptr(r->uc, SLOT_BASE, PRIV_BYTES, UC_PROT_ALL, r->priv_mem) ||
	    uc_ctl_tlb_mode(r->uc, UC_TLB_VIRTUAL) ||
	    uc_context_alloc(r->uc, &r->ctx) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_TLB_FILL, (void *)hook_tlb_fill, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_INSN, (void *)hook_cpuid, r, 1, 0, UC_X86_INS_CPUID) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)hook_unmapped, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_MEM_PROT, (void *)hook_prot, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_INSN_INVALID, (void *)hook_insn_invalid, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_INTR, (void *)hook_intr, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_BLOCK, (void *)hook_block, r, 1, 0)) {
		seam_vcpu_run_free(r);
		return NULL;
	}
	engine_state(r, v);
	if (uc_context_alloc(r->uc, &r->ctx0) || uc_context_save(r->uc, r->ctx0)) {
		if (r->ctx0)
			uc_context_free(r->ctx0);
		r->ctx0 = NULL;
	}
	v->run = r;
	return r;
}

/* Register exchange with the engine, batched (one call each way). */
#define N_SAVE 30
static const int save_reg[N_SAVE] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
	UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
	UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
	UC_X86_REG_RFLAGS, UC_X86_REG_RIP, UC_X86_REG_CR0, UC_X86_REG_CR2,
	UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_FS_BASE, UC_X86_REG_GS_BASE,
	UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS,
};

static void regs_load(struct td_run *r, const struct seam_vcpu_guest *g)
{
	uint64_t val[17];
	void *ptr[17];
	for (int i = 0; i < 16; i++)
		val[i] = g->gpr[i];
	val[16] = g->rflags;
	for (int i = 0; i < 17; i++)
		ptr[i] = &val[i];
	uc_reg_write_batch(r->uc, (int *)save_reg, ptr, 17);
}

static void regs_save(struct td_run *r, struct seam_vcpu_guest *g)
{
	uint64_t val[N_SAVE] = { 0 };
	void *ptr[N_SAVE];
	for (int i = 0; i < N_SAVE; i++)
		ptr[i] = &val[i];
	uc_reg_read_batch(r->uc, (int *)save_reg, ptr, N_SAVE);
	for (int i = 0; i < 16; i++)
		g->gpr[i] = val[i];
	g->rflags = val[16];
	g->rip = val[17];
	g->cr0 = val[18];
	g->cr2 = val[19];
	g->cr3 = val[20];
	g->cr4 = val[21];
	g->fs_base = val[22];
	g->gs_base = val[23];
	for (int i = 0; i < 6; i++)
		g->sel[i] = (uint16_t)val[24 + i];
	g->efer = efer_get(r);
	uc_x86_mmr mmr;
	if (!uc_reg_read(r->uc, UC_X86_REG_GDTR, &mmr)) {
		g->gdtr_base = mmr.base;
		g->gdtr_limit = mmr.limit;
	}
	if (!uc_reg_read(r->uc, UC_X86_REG_IDTR, &mmr)) {
		g->idtr_base = mmr.base;
		g->idtr_limit = mmr.limit;
	}
}

/* The host's GPR of a VMCALL-exposable index (NULL: not in the block). */
static uint64_t *host_gpr(struct tdx_module_args *a, int i)
{
	switch (i) {
	case GPR_RDX: return &a->rdx;
	case GPR_RBX: return &a->rbx;
	case GPR_RSI: return &a->rsi;
	case GPR_RDI: return &a->rdi;
	case GPR_R8: return &a->r8;
	case GPR_R9: return &a->r9;
	case GPR_R10: return &a->r10;
	case GPR_R11: return &a->r11;
	case GPR_R12: return &a->r12;
	case GPR_R13: return &a->r13;
	case GPR_R14: return &a->r14;
	case GPR_R15: return &a->r15;
	default: return NULL;
	}
}

static void exit_regs(struct tdx_module_args *a, uint64_t qual, uint64_t ext, uint64_t gpa,
		      uint64_t intr)
{
	a->rcx = qual;
	a->rdx = ext;
	a->r8 = gpa;
	a->r9 = intr;
	a->r10 = a->r11 = a->r12 = a->r13 = a->r14 = a->r15 = 0;
	a->rbx = a->rsi = a->rdi = 0;
}

/* Is the instruction before RIP a HLT? */
static bool after_hlt(struct td_run *r, uint64_t rip)
{
	uint8_t b;
	return rip && !virt_read(r, rip - 1, &b, 1) && b == 0xF4;
}

/* After a delivery into the engine: TDVPS follows. -1: triple fault; -2:
 * an EPT violation stopped it (a TD exit, r->ex_*). */
static int delivered(struct td_run *r, int rc)
{
	if (rc == 0)
		regs_save(r, &r->v->g);
	return rc;
}

uint64_t seam_vp_run(struct seam_ctx *c, struct seam_vcpu *v)
{
	struct tdx_module_args *a = c->r;
	struct seam_td *td = v->td;
	struct td_run *r = engine_get(v);
	if (!r) {
		/* No host memory for the engine: the entry ends at once, as if
		 * an external interrupt were pending. */
		exit_regs(a, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
		return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
	}
	r->c = c;
	r->v = v;
	v->launched = true;

	/* Revalidate the mappings: a new TD epoch re-walks the private copies;
	 * changed pages are re-read; shared translations re-walked. */
	uint64_t epoch = atomic_load(&td->td_epoch);
	if (!r->epoch_valid || r->epoch != epoch)
		pages_drop(r, drop_stale_private);
	r->epoch = epoch;
	r->epoch_valid = true;
	pages_refresh(r);
	pages_drop(r, drop_stale_shared);

	if (r->vmcall_pending) {
		for (int i = 0; i < 16; i++) {
			uint64_t *h = host_gpr(a, i);
			if (h && (r->vmcall_mask & (1ULL << i)))
				v->g.gpr[i] = *h;
		}
		v->g.gpr[GPR_RAX] = 0;
		v->g.gpr[GPR_RCX] = r->vmcall_mask;
		r->vmcall_pending = false;
	}
	regs_load(r, &v->g);
	reg_set(r, UC_X86_REG_RIP, v->g.rip);
	r->blocks = 0;
	int drc = 0;
	if (r->pend_valid) {
		/* An exception whose delivery an EPT violation interrupted. */
		drc = delivered(r, deliver(r, r->pend_vec, r->pend_has_err, r->pend_err, r->pend_rip));
		pages_writeback(r);
		if (drc == -2)
			goto ept_exit;
		if (drc)
			goto fatal;
	}
	uint64_t rip = v->g.rip;

	for (;;) {
		r->stop = STOP_NONE;
		r->skip_ud = false;
		r->fault = FAULT_NONE;
		uc_err err = uc_emu_start(r->uc, rip, RUN_UNTIL, 0, 0);
		c->cycles += r->blocks * RUN_CYCLES_PER_BLOCK;
		if (r->stop == STOP_VE_CPUID)
			uc_context_restore(r->uc, r->ctx);      /* back to the CPUID */
		regs_save(r, &v->g);
		if (r->flush) {
			uc_ctl_flush_tlb(r->uc);
			r->flush = false;
		}
		rip = v->g.rip;
		drc = 0;
		switch (r->stop) {
		case STOP_TDCALL: {
			pages_writeback(r);
			enum seam_tdcall_next next = seam_tdcall(c, v);
			if (next == SEAM_TDCALL_RESUME) {
				pages_refresh(r);
				regs_load(r, &v->g);
				rip = v->g.rip;
				continue;
			}
			if (next == SEAM_TDCALL_EXIT) {
				const struct seam_td_exit *e = &v->tdcall_exit;
				v->g.rip = r->tdcall_rip;
				exit_regs(a, e->exit_qual, e->ext_exit_qual, e->gpa, e->intr_info);
				return e->status;
			}
			/* #GP(0) / #UD at the TDCALL. */
			pages_refresh(r);
			regs_load(r, &v->g);
			if (next == SEAM_TDCALL_INJECT_GP)
				drc = deliver(r, 13, true, 0, r->tdcall_rip);
			else
				drc = deliver(r, 6, false, 0, r->tdcall_rip);
			break;
		}
		case STOP_VMCALL:
			pages_writeback(r);
			r->vmcall_pending = true;
			exit_regs(a, r->vmcall_mask, 0, 0, 0);
			for (int i = 0; i < 16; i++) {
				uint64_t *h = host_gpr(a, i);
				if (h && (r->vmcall_mask & (1ULL << i)))
					*h = v->g.gpr[i];
			}
			return TDX_SUCCESS | EXIT_TDCALL;
		case STOP_EPT:
			pages_writeback(r);
			goto ept_exit;
		case STOP_BUDGET:
			pages_writeback(r);
			exit_regs(a, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
			return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
		case STOP_FATAL:
			goto fatal;
		case STOP_PF:
			{
				/* Unicorn's CR2 write also loads CR3 (2.1.1):
				 * put CR3 back. */
				uint64_t cr3 = reg_get(r, UC_X86_REG_CR3);
				reg_set(r, UC_X86_REG_CR2, r->pf_addr);
				reg_set(r, UC_X86_REG_CR3, cr3);
			}
			drc = deliver(r, 14, true, r->fault_err, rip);
			break;
		case STOP_EXC:
			if (vec_contributory(r->exc_vec))
				forget_exception(r, r->exc_vec);
			drc = deliver(r, r->exc_vec, vec_has_err(r->exc_vec), 0,
				      r->exc_vec == 13 && r->skip_ud ? r->tdcall_rip : rip);
			break;
		case STOP_VE_CPUID:
			drc = inject_ve(r, VE_REASON_CPUID, 0, 0, 0, 2, r->ve_rip);
			break;
		case STOP_VE_EPT:
			drc = inject_ve(r, VE_REASON_EPT, r->ex_qual, r->ve_gla, r->ex_gpa, 0, rip);
			break;
		case STOP_NONE:
			/* (UC_ERR_EXCEPTION comes from Unicorn probing the stop
			 * address through the TLB-fill hook: not an error.) */
			if ((err == UC_ERR_OK || err == UC_ERR_EXCEPTION) && after_hlt(r, rip)) {
				drc = inject_ve(r, VE_REASON_HLT, 0, 0, 0, 1, rip - 1);
				break;
			}
			pages_writeback(r);
			if (err == UC_ERR_OK || err == UC_ERR_EXCEPTION) {
				/* Stopped for no reason of ours: an interrupt-window exit. */
				exit_regs(a, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
				return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
			}
			goto fatal;
		}
		drc = delivered(r, drc);
		pages_writeback(r);
		if (drc == -2)
			goto ept_exit;
		if (drc)
			goto fatal;
		rip = v->g.rip;
		if (r->blocks >= RUN_BLOCK_BUDGET) {
			exit_regs(a, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
			return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
		}
	}
ept_exit:
	exit_regs(a, r->ex_qual, r->ex_ext, r->ex_gpa, 0);
	return TDX_SUCCESS | EXIT_EPT_VIOLATION;
fatal:
	pages_writeback(r);
	atomic_store(&v->state, VCPU_DISABLED);
	exit_regs(a, 0, 0, 0, 0);
	return TDX_NON_RECOVERABLE_VCPU | EXIT_TRIPLE_FAULT;
}
