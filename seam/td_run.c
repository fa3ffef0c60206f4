/*
 * The guest runner: the guest-run half of TDH.VP.ENTER (seam/vp_enter.h),
 * executing the vCPU on Unicorn. This is the only file that sees Unicorn.
 *
 * vCPUs of one TD run guest code one at a time (an execution lock per TD,
 * handed over FIFO; a vCPU waiting longer than EXEC_QUANTUM_NS stops the
 * running one at its next translated block), so guest memory accesses,
 * locked or not, are atomic across vCPUs as on QEMU's single-threaded TCG;
 * different TDs run in parallel. tdxsim_lp_interrupt() stops a running
 * vCPU from another thread (an external-interrupt TD exit).
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
 *    the page is mapped from the TD's mirror (struct td_mirror): one
 *    decrypted copy per private page (read through the TD's KeyID), in one
 *    region every engine of the TD maps, so all vCPUs see the same bytes;
 *    read+exec, the first write marks it dirty and makes it writable. The
 *    copies act as a write-back cache in front of encrypted RAM: dirty ones
 *    are written back through the TD's KeyID only when something else needs
 *    RAM (seam_run_hold: a SEAMCALL that can see or change TD private pages,
 *    the embedder's memory access, a module-handled TDCALL that reads or
 *    writes guest memory, a page leaving the mirror), with the TD's vCPUs
 *    stopped meanwhile; clean copies are refreshed when the page's write
 *    version changed. A new TD epoch (MEM.TRACK, which follows every
 *    RANGE.BLOCK of a running TD) re-walks the S-EPT for every copy and drops
 *    those no longer MAPPED at the same HPA, so a removed or blocked page
 *    faults again.
 *  - shared GPA (shared bit set): translated through the host's shared EPT
 *    (v->vmcs.shared_eptp, indexed by the whole GPA) and mapped directly onto
 *    simulated memory (the host's view), read/write, never executable;
 *    revalidated at every entry.
 * A guest #PF or an EPT violation found by the fill fails the fill (the
 * engine stops with the state exact at the faulting instruction), then
 * that instruction runs again with the page pointed at an unmapped sink,
 * so that hook_unmapped sees the exact address (CR2, or the GPA for R8)
 * (fill_fault); the TLB is flushed before the guest runs again.
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
 * Instructions a TD cannot run natively stop the engine exactly at them
 * (every block is decoded before it first runs: insn_scan) and get what the
 * module or the CPU gives them (insn_handle), with RIP at the instruction:
 * #VE (vector 20, VE_INFO in the vCPU with exit reason, qualification and
 * instruction length; #DF if VE_INFO is still valid) for HLT (12), port
 * I/O IN/OUT/INS/OUTS (30, the SDM I/O qualification; instruction
 * information for INS/OUTS), INVD, VMCALL, MWAIT, MONITOR, WBINVD, PCONFIG,
 * CPUID (10) for the leaves the module does not virtualise (md_td_cpuid)
 * or when TDG.VP.CPUIDVE.SET asked for it (the other leaves return the
 * TD's virtual CPUID values with no exit); RDMSR/WRMSR per the module's
 * MSR table (seam/td_msr.c: native, emulated, #GP(0) or #VE 31/32);
 * RDTSC/RDTSCP read the virtual TSC of the timing model (no exit).
 * #VE also for an access to a PENDING private page unless
 * TD_CTLS.PENDING_VE_DISABLE (reason 48, GPA, GLA, qualification with
 * GLA-valid; a TD exit with RDX = 6 otherwise), and, delivered as the CPU
 * does (VE_INFO's instruction length and information left as they were),
 * for an EPT violation on a shared GPA whose shared-EPT entry has suppress
 * #VE clear (KVM's MMIO entries; reason 48, GPA, GLA); with the bit set,
 * or VE_INFO still valid, that is a TD exit. A read of a poisoned line of
 * a private page is a machine check: TD exit NON_RECOVERABLE_TD_NON_
 * ACCESSIBLE, reason 0, R9 = #MC interruption information, TD fatal
 * (other accesses to that page run one instruction at a time with the
 * page mapped; the poisoned lines keep their poison).
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
 *      allows (bits 12:7 cleared, as the module does); R8 = the GPA with
 *      bits 11:0 cleared; RDX = 6 (PENDING) for a PENDING private page,
 *      else 0. The guest retries the access at the next entry.
 *    1 external interrupt: R9 = 0x800000EC when the run budget is used up
 *      (a spinning guest returns to the host), 0x80000000 | vector for an
 *      interrupt posted to the LP; the guest resumes where it was.
 *    2 triple fault, status NON_RECOVERABLE_VCPU, vCPU DISABLED.
 *   seam_tdcall() returning SEAM_TDCALL_EXIT: v->tdcall_exit, the guest's
 *   registers and RIP as before the TDCALL (it runs again).
 *
 * Timing (models/cost.h). The entry charges the leaf's context (c->cycles,
 * c->insns), so the LP's clock is lp->cycles + c->cycles while the guest
 * runs: each translated block's cost, computed once when insn_scan decodes
 * it (Capstone instruction classes, seam/x86_insn.h x86_block_cost) and
 * charged by hook_block in 1/16 cycles (no per-instruction hook); TLB fills
 * of private and shared pages; every VM exit the module handles (TD_EXIT +
 * the handler + TD_ENTRY: CPUID, emulated MSRs, module TDCALLs, #VE
 * injection); exception/#VE delivery; a TLB flush after a new TD epoch; the
 * TD exit to the host at every return (seam_vp_run). RDTSC/RDTSCP stop the
 * engine like the instructions above and read the TD's virtual TSC from
 * that clock (insn_rdtsc). tdxsim_lp_interrupt_at() posts an interrupt at a
 * clock value (a deterministic exit at the first block past it), and
 * asynchronous exits go through the module's stepping filter
 * (stepping_filter). With TDXSIM_CFG_NO_TIMING every cost is 0 and blocks
 * are not classified.
 *
 * Limits (Unicorn 2.1.1): a guest rewriting its own code in place may run
 * an instruction of the list above natively (insn_scan); hook_cpuid and
 * the HLT check after a stop remain for that case. Unicorn keeps its own
 * double-fault tracking for the exceptions it raises, which only a delivery
 * of its own resets: the runner clears it in the CPU context after each one
 * (forget_exception; if the field cannot be found unambiguously, a second
 * such exception reaches the runner as #DF). Not modelled either: XMM
 * passing in VMCALL; self-modifying code across vCPUs (each engine only
 * sees its own writes to code it translated).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "seam/gpa.h"
#include "seam/metadata_td.h"
#include "seam/sept.h"
#include "seam/tdcall.h"
#include "seam/td.h"
#include "seam/td_msr.h"
#include "seam/vp_enter.h"
#include "seam/x86_insn.h"
#include "sim/sim_int.h"

#define RUN_UNTIL         0xDEAD0000DEAD0001ULL     /* non-canonical: never reached */
#define RUN_BLOCK_BUDGET  (1u << 22)                /* translated blocks per entry */

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
#define EQ_EXIT_CLEAR (0x3FULL << 7)    /* bits 12:7: not passed on to the host */
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
	STOP_NONE = 0, STOP_TDCALL, STOP_EPT, STOP_FATAL, STOP_BUDGET,
	STOP_PF, STOP_EXC, STOP_VE_CPUID, STOP_VE_EPT,
	STOP_SCAN,              /* a block not decoded yet (insn_scan) */
	STOP_VE_MMIO,           /* EPT violation on a shared GPA with suppress #VE clear */
	STOP_MC,                /* a read of a poisoned line: machine check */
	STOP_STEP,              /* run one instruction with a poisoned page mapped */
	STOP_ASYNC,             /* another thread asked: a vCPU waits, an interrupt came */
};

enum run_fault { FAULT_NONE = 0, FAULT_PF, FAULT_EPT, FAULT_FATAL, FAULT_POISON };

struct run_page {
	uint64_t gpa;                   /* page GPA (shared bit included) */
	uint64_t hpa;
	uint64_t ppa;                   /* the engine-internal slot it is mapped at */
	void *host;                     /* the bytes the guest sees */
	uint8_t *buf;                   /* private: the decrypted copy; shared: NULL */
	uint32_t ver;                   /* private: page version the copy matches */
	uint32_t flags;                 /* PG_* */
};

/* Mapped pages by GPA: an array and an open-addressing index. */
struct pg_table {
	struct run_page *pg;
	uint32_t n_pg, cap_pg;
	uint32_t *hash;                 /* index + 1, 0 = empty */
	uint32_t hash_cap;              /* power of two, > 2 * n_pg */
};

/* Internal physical slots of one kind (see SLOT_BASE). */
struct slot_pool {
	uint64_t base, limit;           /* slot addresses: [base, limit) */
	uint64_t next;                  /* slots handed out so far */
	uint64_t *free;                 /* slots to reuse */
	uint32_t n_free, cap_free;
};

/*
 * What the runners of one TD's vCPUs share (struct seam_td.run): the
 * decrypted copies of its private pages, in one region that every engine of
 * the TD maps at SLOT_BASE, so that all vCPUs see the same bytes; and the
 * execution lock. The vCPUs of a TD execute guest instructions one at a
 * time (as QEMU's single-threaded TCG does), which makes every guest memory
 * access, locked or not, atomic with respect to the other vCPUs: the lock
 * is a FIFO ticket lock, and a vCPU waiting for it longer than EXEC_QUANTUM_NS
 * stops the running engine (uc_emu_stop from its thread), which then lets it
 * in. Everything below mu's fields is touched only by the lock's holder.
 */
struct td_mirror {
	_Atomic uint32_t refs;          /* the TD + each engine */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t next_ticket, serving;
	struct td_run *holder;          /* the engine running, or NULL */
	struct pg_table tab;            /* private copies */
	struct slot_pool slots;
	uint8_t *mem;                   /* host bytes of the private-copy region */
	uint64_t tlb_gen, tb_gen;       /* bumped: every engine flushes its TLB / code */
	uint64_t epoch;
	bool epoch_valid;
	uint32_t hkid;                  /* the TD's KeyID (fixed at TDH.MNG.CREATE) */
	uint32_t n_dirty;               /* private copies not written back */
	uint64_t populated;             /* slots [0, populated) faulted in */
	uint64_t seen_hold;             /* seam_module.hold_gen at the last refresh */
	bool code_written;              /* a page some engine translated was made writable */
	struct seam_module *mod;        /* counts the mirrors (n_mirrors) */
};

struct td_run {
	uc_engine *uc;
	struct seam_ctx *c;             /* the entry in progress */
	struct seam_vcpu *v;
	struct td_mirror *m;            /* the TD's private copies and execution lock */
	struct pg_table shr_tab;        /* shared pages this engine maps */
	struct slot_pool shr;           /* slots of shared pages (a region each) */
	uint32_t n_shared;              /* shared pages mapped (regions) */
	uint64_t tlb_gen, tb_gen;       /* the mirror's generations this engine has seen */
	_Atomic bool preempt;           /* another vCPU of the TD waits for the lock */
	_Atomic uint32_t *intr;         /* the LP's posted interrupt (struct seam_lp) */
	uint64_t blk_end;               /* end of the last translated block entered */
	uint64_t cyc;                   /* timing: cycles not yet in c->cycles, in 1/16 */
	uint64_t cyc_deadline;          /* timing: r->cyc at lp->intr_at (UINT64_MAX: none) */
	uint64_t entry_clock, entry_rip;/* timing: the TD entry (stepping filter) */
	struct x86_classifier *cls;     /* timing: block classifier (Capstone) */
	_Atomic bool in_run;            /* inside seam_vp_run */
	bool sys_stale;                 /* v->g's CRs, segments, EFER, GDTR/IDTR lag the engine */
	bool shadow_valid;
	uint64_t shadow[18];            /* GPRs, RFLAGS, RIP as the engine holds them */
	uc_context *ctx;                /* CPU state at a CPUID that becomes a #VE */
	uc_context *ctx0;               /* CPU state of the fresh engine */
	size_t oe_off;                  /* offset of Unicorn's "exception in flight" in a context */
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
	uint64_t tdcall_rip, tdcall_efer;
	uint64_t blocks;
	enum run_stop stop;
	uint64_t ex_qual, ex_ext, ex_gpa;
	struct insn_scan *scan;         /* blocks decoded, exit addresses (insn_handle) */
	bool locate;                    /* this run: its first fault goes to the sink (fill_fault) */
	uint64_t locate_rip;            /* ... if it happens in the block at this address */
	bool stepping;                  /* STOP_STEP: one instruction, the poisoned page mapped */
	uint64_t step_gpa, step_hpa;    /* that page */
	bool step_count;                /* stepped by an instruction count (a branch) */
	bool step_exit_temp;            /* step_exit is an exit added for the step */
	uint64_t step_exit;             /* else: the exit that ends the step */
};

/* Timing (models/cost.h): charge one unit of a cost item to the entry's
 * clock (the leaf's context of this TDH.VP.ENTER). */
static void charge(struct td_run *r, unsigned item)
{
	seam_charge_item(r->c, item, 1);
}

/* A VM exit from the TD that the module handles and resumes from. */
static void charge_module_exit(struct td_run *r, unsigned handler)
{
	charge(r, COST_TD_EXIT);
	charge(r, handler);
	charge(r, COST_TD_ENTRY);
}

static uint64_t reg_get(struct td_run *r, int reg)
{
	uint64_t val = 0;
	uc_reg_read(r->uc, reg, &val);
	return val;
}

static void reg_set(struct td_run *r, int reg, uint64_t val)
{
	uc_reg_write(r->uc, reg, &val);
	r->shadow_valid = false;        /* regs_load writes everything next time */
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

static uint32_t hash_slot(const struct pg_table *t, uint64_t gpa)
{
	uint64_t h = (gpa >> 12) * 0x9E3779B97F4A7C15ULL;
	return (uint32_t)(h >> 32) & (t->hash_cap - 1);
}

static struct run_page *page_find(struct pg_table *t, uint64_t gpa)
{
	if (!t->hash_cap)
		return NULL;
	for (uint32_t i = hash_slot(t, gpa);; i = (i + 1) & (t->hash_cap - 1)) {
		uint32_t x = t->hash[i];
		if (!x)
			return NULL;
		if (t->pg[x - 1].gpa == gpa)
			return &t->pg[x - 1];
	}
}

static int hash_rebuild(struct pg_table *t, uint32_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	if (!h)
		return -1;
	free(t->hash);
	t->hash = h;
	t->hash_cap = cap;
	for (uint32_t n = 0; n < t->n_pg; n++) {
		uint32_t i = hash_slot(t, t->pg[n].gpa);
		while (h[i])
			i = (i + 1) & (cap - 1);
		h[i] = n + 1;
	}
	return 0;
}

static struct run_page *page_add(struct pg_table *t, uint64_t gpa)
{
	if (t->n_pg == t->cap_pg) {
		uint32_t cap = t->cap_pg ? 2 * t->cap_pg : 64;
		struct run_page *p = realloc(t->pg, cap * sizeof(*p));
		if (!p)
			return NULL;
		t->pg = p;
		t->cap_pg = cap;
	}
	if (2 * (t->n_pg + 1) >= t->hash_cap && hash_rebuild(t, t->hash_cap ? 2 * t->hash_cap : 256))
		return NULL;
	struct run_page *p = &t->pg[t->n_pg++];
	memset(p, 0, sizeof(*p));
	p->gpa = gpa;
	uint32_t i = hash_slot(t, gpa);
	while (t->hash[i])
		i = (i + 1) & (t->hash_cap - 1);
	t->hash[i] = t->n_pg;
	return p;
}

static void table_free(struct pg_table *t)
{
	free(t->pg);
	free(t->hash);
	memset(t, 0, sizeof(*t));
}

static void slot_put(struct slot_pool *sp, uint64_t pa);
static int uc_flush_tb(struct td_run *r);
static void scan_reset(struct td_run *r);

/* Dirty private copies, counted. Only the execution lock's holder changes
 * them. */
static void page_dirty(struct td_mirror *m, struct run_page *p)
{
	if (p->flags & PG_DIRTY)
		return;
	p->flags |= PG_DIRTY;
	m->n_dirty++;
}

static void page_clean(struct td_mirror *m, struct run_page *p)
{
	if (!(p->flags & PG_DIRTY))
		return;
	p->flags &= ~PG_DIRTY;
	m->n_dirty--;
}

/* Write one dirty copy back through the TD's KeyID (cc: the LP's
 * encryption contexts, NULL for temporary ones). */
static void page_writeback(struct tdxsim *s, struct sim_crypt *cc, struct td_mirror *m,
			   struct run_page *p)
{
	sim_priv_write(s, cc, p->hpa, m->hkid, p->buf, 4096);
	p->ver = phys_mem_page_ver(&s->mem, p->hpa);
	page_clean(m, p);
}

/* Catch up with the mirror: flush the TLB / translated code if another
 * engine (or this one) changed private copies under them. */
static void gen_sync(struct td_run *r)
{
	if (r->tlb_gen != r->m->tlb_gen) {
		uc_ctl_flush_tlb(r->uc);
		r->tlb_gen = r->m->tlb_gen;
	}
	if (r->tb_gen != r->m->tb_gen) {
		uc_flush_tb(r);
		r->tb_gen = r->m->tb_gen;
	}
}

/* Drop the private copies for which drop() says so: their slots are only
 * handed back (the one region stays mapped); every engine of the TD
 * flushes its TLB, and its translated code if a dropped page was fetched
 * from. */
static void priv_drop(struct td_run *r, bool (*drop)(struct td_run *, struct run_page *))
{
	struct td_mirror *m = r->m;
	struct pg_table *t = &m->tab;
	uint32_t kept = 0;
	bool any = false, code = false;
	for (uint32_t n = 0; n < t->n_pg; n++) {
		struct run_page *p = &t->pg[n];
		if (!drop(r, p)) {
			t->pg[kept++] = *p;
			continue;
		}
		/* A page the S-EPT blocked keeps its content: the guest's
		 * writes go back to RAM first. */
		if (p->flags & PG_DIRTY)
			page_writeback(r->c->s, &r->c->lp->crypt, m, p);
		slot_put(&m->slots, p->ppa);
		code |= !!(p->flags & PG_CODE);
		any = true;
	}
	t->n_pg = kept;
	if (any) {
		hash_rebuild(t, t->hash_cap ? t->hash_cap : 256);
		m->tlb_gen++;
	}
	if (code)
		m->tb_gen++;
	gen_sync(r);
}

/* Unmap the shared pages for which drop() says so (all with NULL): a
 * region each. */
static void shr_drop(struct td_run *r, bool (*drop)(struct td_run *, struct run_page *))
{
	struct pg_table *t = &r->shr_tab;
	uint32_t kept = 0;
	bool any = false;
	for (uint32_t n = 0; n < t->n_pg; n++) {
		struct run_page *p = &t->pg[n];
		if (drop && !drop(r, p)) {
			t->pg[kept++] = *p;
			continue;
		}
		uc_mem_unmap(r->uc, p->ppa, 4096);
		slot_put(&r->shr, p->ppa);
		r->n_shared--;
		any = true;
	}
	t->n_pg = kept;
	if (any) {
		hash_rebuild(t, t->hash_cap ? t->hash_cap : 256);
		uc_ctl_flush_tlb(r->uc);
	}
}

/* Write the TD's dirty private copies back through its KeyID and make them
 * read-only again in every engine, so the next write is noticed. The
 * caller holds the execution lock. Returns whether there were any. */
static bool mirror_writeback(struct tdxsim *s, struct sim_crypt *cc, struct td_mirror *m)
{
	if (!m->n_dirty)
		return false;
	for (uint32_t n = 0; n < m->tab.n_pg && m->n_dirty; n++) {
		struct run_page *p = &m->tab.pg[n];
		if (p->flags & PG_DIRTY)
			page_writeback(s, cc, m, p);
	}
	m->tlb_gen++;                           /* writable TLB entries of those pages */
	return true;
}

static void pages_writeback(struct td_run *r)
{
	if (mirror_writeback(r->c->s, &r->c->lp->crypt, r->m))
		gen_sync(r);
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

/* Private copies whose page changed in RAM since they were made or last
 * written back (RAM wins over a dirty copy: nothing writes a page the
 * guest dirtied without a write-back first, see seam_run_sync). */
static void pages_refresh(struct td_run *r)
{
	struct seam_ctx *c = r->c;
	struct td_mirror *m = r->m;
	bool changed = false, code = false;
	for (uint32_t n = 0; n < m->tab.n_pg; n++) {
		struct run_page *p = &m->tab.pg[n];
		uint32_t ver = phys_mem_page_ver(&c->s->mem, p->hpa);
		if (ver == p->ver)
			continue;
		seam_priv_read(c, p->hpa, m->hkid, p->buf, 4096);
		p->ver = phys_mem_page_ver(&c->s->mem, p->hpa);
		page_clean(m, p);
		changed = true;
		code |= !!(p->flags & PG_CODE);
	}
	if (changed)
		m->tlb_gen++;
	if (code)
		m->tb_gen++;                    /* translated code of those pages */
	gen_sync(r);
}

/* pages_refresh() if a SEAMCALL or the embedder may have written RAM since
 * the last one (seam_module.hold_gen moved): the scan costs a version load
 * per page, so the entries in between do not pay it. */
static void pages_refresh_stale(struct td_run *r)
{
	uint64_t gen = atomic_load_explicit(&r->c->m->hold_gen, memory_order_acquire);
	if (r->m->seen_hold == gen)
		return;
	r->m->seen_hold = gen;
	pages_refresh(r);
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
	scan_reset(r);
	return uc_ctl_flush_tb(r->uc) ? -1 : 0;
}

static bool drop_private_data(struct td_run *r, struct run_page *p)
{
	(void)r;
	return !(p->flags & PG_CODE);
}

/* A free private slot, making room if none is left: the copies never
 * fetched from are written back and dropped (the ones fetched from stay:
 * their translated code is keyed by the slot). */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define PRIV_POPULATE 64u               /* slots faulted in at once */

static uint64_t priv_slot_get(struct td_run *r)
{
	struct td_mirror *m = r->m;
	uint64_t ppa = slot_get(&m->slots);
	if (ppa && m->slots.next > m->populated) {
		/* New slots: fault in the next PRIV_POPULATE of them in one
		 * call rather than one page fault each (no THP: its
		 * compaction stalls are far worse than the faults). Best
		 * effort: without it the first touch faults as usual. */
		uint64_t first = m->populated, n = PRIV_POPULATE;
		if (first + n > PRIV_SLOTS)
			n = PRIV_SLOTS - first;
		madvise(m->mem + first * 4096ULL, n * 4096ULL, MADV_POPULATE_WRITE);
		m->populated = first + n;
	}
	if (ppa)
		return ppa;
	pages_writeback(r);
	priv_drop(r, drop_private_data);
	return slot_get(&r->m->slots);
}

/* Map the page of gpa. Returns the page (mapped now or before), or NULL
 * with the EPT-violation details in x. */
static struct run_page *page_fault_in(struct td_run *r, uint64_t gpa, struct seam_gpa_xlat *x)
{
	uint64_t page = gpa & ~0xFFFULL;
	struct run_page *p = page_find(&r->m->tab, page);
	if (!p)
		p = page_find(&r->shr_tab, page);
	if (p)
		return p;
	if (seam_gpa_xlat(r->c, r->v, page, x))
		return NULL;
	struct phys_mem *mem = &r->c->s->mem;
	uint64_t ppa;
	uint8_t *host;
	if (x->shared) {
		/* A shared mapping of a TD-owned page would read zeros and
		 * poison on writes: not mapped directly (an EPT violation). */
		for (uint64_t off = 0; off < 4096; off += 64)
			if (phys_mem_line_state(mem, x->hpa + off))
				return NULL;
		if (r->n_shared >= SHARED_MAX)
			shr_drop(r, NULL);
		host = sim_mem_host_ptr(r->c->s, x->hpa);      /* settles a lazy zero page */
		ppa = slot_get(&r->shr);
		if (!ppa)
			return NULL;
		uint32_t perms = UC_PROT_READ | (x->writable ? UC_PROT_WRITE : 0);
		if (uc_mem_map_ptr(r->uc, ppa, 4096, perms, host)) {
			slot_put(&r->shr, ppa);
			return NULL;
		}
		p = page_add(&r->shr_tab, page);
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
		p = page_add(&r->m->tab, page);
		if (!p) {
			slot_put(&r->m->slots, ppa);
			return NULL;
		}
		host = r->m->mem + (ppa - SLOT_BASE);
		seam_priv_read(r->c, x->hpa, r->m->hkid, host, 4096);
		p->buf = host;
		p->ver = phys_mem_page_ver(mem, x->hpa);
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
				page_dirty(r->m, p);
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
	charge(r, COST_EXC_DELIVERY);
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
	/* The VM exit that made the module inject it (timing). */
	charge_module_exit(r, COST_VE_INJECT);
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

/* ---- Instructions the runner handles itself (#VE, #GP, MSRs, port I/O) ------ */

/*
 * The instructions a TD cannot run natively (seam/x86_insn.h: IN/OUT/INS/
 * OUTS, RDMSR/WRMSR, CPUID, HLT, RDPMC, INVD, WBINVD, VMCALL, MONITOR,
 * MWAIT, PCONFIG; and RDTSC/RDTSCP, whose TSC is the timing model's:
 * Unicorn 2.1.1 has no RDTSC hook, UC_HOOK_INSN refuses UC_X86_INS_RDTSC
 * with UC_ERR_HOOK) must never execute in Unicorn, and the #VE, #GP or
 * emulation must happen with RIP at the instruction and no effect of it or
 * of anything after it. Unicorn offers no hook for RDMSR/WRMSR, and its
 * IN/OUT/CPUID hooks run inside the translated block, which goes on to its
 * end. So every translated block is decoded once, before it first runs:
 * hook_block stops the engine at a block it has not seen (the block has
 * not run: a stop from the block hook takes effect before its first
 * instruction), scan_block() decodes it and makes every such instruction
 * an exit address of the engine (uc_ctl_set_exits; the block's translation
 * is dropped, so it is translated again ending there). The engine then
 * stops exactly at the instruction, state complete, and insn_handle() does
 * what the module or the CPU does. Blocks are known by (start, size); the
 * set is cleared whenever the runner flushes translated code (a code page
 * changed). Not covered: a guest modifying its own code in place (Unicorn
 * retranslates it, the set may still say "seen").
 */
struct scan_blk {
	uint64_t addr;
	uint32_t size;                  /* 0: empty slot */
	uint32_t cost;                  /* timing: 1/16 cycles per run (models/cost.h) */
};

struct insn_scan {
	uint64_t last_addr;             /* the last block found (a loop's block: no lookup) */
	uint32_t last_size;
	uint32_t last_cost;
	struct scan_blk *blk;           /* open addressing, load <= 1/2 */
	uint32_t cap, n;
	uint64_t *exits;                /* the engine's exit addresses */
	uint32_t n_exits, cap_exits;
	uint64_t pend_addr;             /* STOP_SCAN: the block to decode */
	uint32_t pend_size;
	uint8_t code[8192 + 16];        /* a block's bytes (a block spans at most two pages) */
};

static uint32_t scan_hash(uint64_t addr, uint32_t size)
{
	return (uint32_t)(((addr ^ ((uint64_t)size << 48)) * 0x9E3779B97F4A7C15ULL) >> 32);
}

#define SCAN_UNKNOWN UINT32_MAX

/* A decoded block's cost (timing), or SCAN_UNKNOWN if not decoded yet. */
static uint32_t scan_known(struct insn_scan *s, uint64_t addr, uint32_t size)
{
	if (addr == s->last_addr && size == s->last_size)
		return s->last_cost;
	if (!s->cap)
		return SCAN_UNKNOWN;
	for (uint32_t i = scan_hash(addr, size) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		const struct scan_blk *b = &s->blk[i];
		if (!b->size)
			return SCAN_UNKNOWN;
		if (b->addr == addr && b->size == size) {
			s->last_addr = addr;
			s->last_size = size;
			s->last_cost = b->cost;
			return b->cost;
		}
	}
}

static void scan_insert(struct insn_scan *s, uint64_t addr, uint32_t size, uint32_t cost)
{
	if (2 * (s->n + 1) > s->cap) {
		uint32_t cap = s->cap ? 2 * s->cap : 1024;
		struct scan_blk *nb = calloc(cap, sizeof(*nb));
		if (!nb)
			return;                 /* not remembered: scanned again next time */
		for (uint32_t k = 0; k < s->cap; k++) {
			const struct scan_blk *b = &s->blk[k];
			if (!b->size)
				continue;
			uint32_t i = scan_hash(b->addr, b->size) & (cap - 1);
			while (nb[i].size)
				i = (i + 1) & (cap - 1);
			nb[i] = *b;
		}
		free(s->blk);
		s->blk = nb;
		s->cap = cap;
	}
	uint32_t i = scan_hash(addr, size) & (s->cap - 1);
	while (s->blk[i].size) {
		if (s->blk[i].addr == addr && s->blk[i].size == size) {
			s->blk[i].cost = cost;
			return;
		}
		i = (i + 1) & (s->cap - 1);
	}
	s->blk[i] = (struct scan_blk){ .addr = addr, .size = size, .cost = cost };
	s->n++;
}

/* Translated code was flushed: every block is decoded again. */
static void scan_reset(struct td_run *r)
{
	struct insn_scan *s = r->scan;
	if (!s || !s->n)
		return;
	memset(s->blk, 0, s->cap * sizeof(*s->blk));
	s->n = 0;
	s->last_size = 0;
}

static void scan_free(struct td_run *r)
{
	x86_classifier_free(r->cls);
	r->cls = NULL;
	if (!r->scan)
		return;
	free(r->scan->blk);
	free(r->scan->exits);
	free(r->scan);
	r->scan = NULL;
}

static bool exit_has(const struct insn_scan *s, uint64_t addr)
{
	for (uint32_t i = 0; i < s->n_exits; i++)
		if (s->exits[i] == addr)
			return true;
	return false;
}

static void exits_apply(struct td_run *r)
{
	uc_ctl_set_exits(r->uc, r->scan->exits, r->scan->n_exits);
}

static bool exit_add(struct insn_scan *s, uint64_t addr)
{
	if (exit_has(s, addr))
		return false;
	if (s->n_exits == s->cap_exits) {
		uint32_t cap = s->cap_exits ? 2 * s->cap_exits : 64;
		uint64_t *e = realloc(s->exits, cap * sizeof(*e));
		if (!e)
			return false;
		s->exits = e;
		s->cap_exits = cap;
	}
	s->exits[s->n_exits++] = addr;
	return true;
}

static void exit_del(struct td_run *r, uint64_t addr)
{
	struct insn_scan *s = r->scan;
	for (uint32_t i = 0; i < s->n_exits; i++) {
		if (s->exits[i] == addr) {
			s->exits[i] = s->exits[--s->n_exits];
			exits_apply(r);
			return;
		}
	}
}

/* Default operand size of the code segment, in bits: 64 in a 64-bit code
 * segment (IA-32e mode and CS.L, read from the GDT entry of CS), else
 * CS.D (32; the TD starts in a 32-bit segment and never runs 16-bit code
 * here). */
static unsigned code_bits(struct td_run *r)
{
	if (!(efer_get(r) & EFER_LMA))
		return 32;
	uc_x86_mmr gdtr;
	uint64_t sel = reg_get(r, UC_X86_REG_CS) & 0xFFF8;
	uint64_t d;
	if (sel && !uc_reg_read(r->uc, UC_X86_REG_GDTR, &gdtr) && sel + 7 <= gdtr.limit &&
	    !virt_read(r, gdtr.base + sel, &d, 8) && !((d >> 53) & 1))
		return ((d >> 54) & 1) ? 32 : 16;
	return 64;
}

/* STOP_SCAN: decode the block hook_block stopped at; the instructions
 * listed above become exits and the block is translated again. */
static void scan_block(struct td_run *r)
{
	struct insn_scan *s = r->scan;
	uint64_t addr = s->pend_addr;
	uint32_t size = s->pend_size;
	if (size > sizeof(s->code) - 16)
		size = sizeof(s->code) - 16;
	unsigned bits = code_bits(r);
	bool added = false;
	uint32_t cost = 0;
	if (!virt_read(r, addr, s->code, size)) {
		for (uint32_t off = 0; off < size;) {
			struct x86_insn in;
			if (x86_decode(s->code + off, size - off, bits, &in))
				break;
			if (x86_insn_special(&in))
				added |= exit_add(s, addr + off);
			off += in.len;
		}
		/* Timing: the block's cost, once (models/cost.h); the block
		 * hook charges it at every run. Not with the model off. */
		const struct tdxsim_costs *k = r->c->s->costs;
		if (k->iclass[ICLASS_ALU] && !added) {
			if (!r->cls)
				r->cls = x86_classifier_new();
			cost = x86_block_cost(r->cls, s->code, size, bits, addr, k->iclass, NULL);
		}
	}
	if (added) {
		exits_apply(r);
		uc_ctl_remove_cache(r->uc, addr, addr + s->pend_size);
	}
	scan_insert(s, addr, s->pend_size, cost);
}

/* The instruction at rip: 0 (decoded), 1 (not an instruction: bytes not
 * readable as a whole instruction), -2 (an EPT violation reading it). */
static int insn_fetch(struct td_run *r, uint64_t rip, struct x86_insn *in)
{
	uint8_t b[15];
	size_t n = sizeof(b);
	int rc = virt_read(r, rip, b, n);
	if (rc) {
		/* Maybe the instruction ends before an inaccessible page. */
		n = 4096 - (rip & 0xFFF);
		if (n >= sizeof(b) || virt_read(r, rip, b, n))
			return rc == -2 ? -2 : 1;
	}
	return x86_decode(b, n, code_bits(r), in) ? 1 : 0;
}

#define VE_REASON_INVD      13u
#define VE_REASON_VMCALL    18u
#define VE_REASON_IO        30u
#define VE_REASON_RDMSR     31u
#define VE_REASON_WRMSR     32u
#define VE_REASON_MWAIT     36u
#define VE_REASON_MONITOR   39u
#define VE_REASON_WBINVD    54u
#define VE_REASON_PCONFIG   65u
#define RFLAGS_IOPL_SHIFT   12

/* A #VE for an instruction (the module's generic #VE: exit reason, exit
 * qualification, instruction length and information; GLA and GPA 0). */
static int inject_ve_insn(struct td_run *r, uint32_t reason, uint64_t qual, uint32_t len,
			  uint32_t info, uint64_t rip)
{
	bool busy = r->v->ve_valid;
	int rc = inject_ve(r, reason, qual, 0, 0, len, rip);
	if (!busy)
		r->v->ve.instr_info = info;
	return rc;
}

/* An EPT-violation #VE the CPU delivers itself (EPT-violation #VE with
 * the entry's suppress-#VE bit clear): it writes exit reason, exit
 * qualification, GLA and GPA into VE_INFO; the instruction length and
 * information fields keep what they held. */
static int inject_ve_cpu(struct td_run *r, uint64_t qual, uint64_t gla, uint64_t gpa, uint64_t rip)
{
	struct seam_vcpu *v = r->v;
	v->ve.exit_reason = VE_REASON_EPT;
	v->ve.exit_qual = qual;
	v->ve.gla = gla;
	v->ve.gpa = gpa;
	v->ve_valid = true;
	return deliver(r, 20, false, 0, rip);
}

static void set_edx_eax(struct td_run *r, uint64_t val)
{
	reg_set(r, UC_X86_REG_RAX, (uint32_t)val);
	reg_set(r, UC_X86_REG_RDX, val >> 32);
}

static uint64_t msr_cpu_read(struct td_run *r, uint32_t msr)
{
	uc_x86_msr m = { .rid = msr, .value = 0 };
	uc_reg_read(r->uc, UC_X86_REG_MSR, &m);
	return m.value;
}

static void msr_cpu_write(struct td_run *r, uint32_t msr, uint64_t val)
{
	uc_x86_msr m = { .rid = msr, .value = val };
	uc_reg_write(r->uc, UC_X86_REG_MSR, &m);
}

/* RDMSR / WRMSR at CPL 0 (seam/td_msr.h). */
static int insn_msr(struct td_run *r, const struct x86_insn *in, uint64_t rip)
{
	struct seam_vcpu *v = r->v;
	struct tdxsim *s = r->c->s;
	uint32_t msr = (uint32_t)reg_get(r, UC_X86_REG_RCX);
	bool wr = in->op == X86_OP_WRMSR;
	uint64_t val = wr ? (reg_get(r, UC_X86_REG_RDX) << 32) | (uint32_t)reg_get(r, UC_X86_REG_RAX) : 0;
	enum td_msr_action act = td_msr_action(s, v->td, msr, wr);
	if (act == TD_MSR_EMULATE) {
		if (!wr)
			val = msr_cpu_read(r, msr);
		act = td_msr_emulate(s, v, msr, wr, efer_get(r), &val);
		if (act == TD_MSR_EMULATE) {
			charge_module_exit(r, COST_MSR_MODULE);
			if (!wr)
				set_edx_eax(r, val);
			reg_set(r, UC_X86_REG_RIP, rip + in->len);
			return 0;
		}
	}
	switch (act) {
	case TD_MSR_NATIVE:
		if (wr)
			msr_cpu_write(r, msr, val);
		else
			set_edx_eax(r, msr_cpu_read(r, msr));
		reg_set(r, UC_X86_REG_RIP, rip + in->len);
		return 0;
	case TD_MSR_GP:
		charge_module_exit(r, COST_MSR_MODULE);
		return deliver(r, 13, true, 0, rip);
	default:
		return inject_ve_insn(r, wr ? VE_REASON_WRMSR : VE_REASON_RDMSR, 0, in->len, 0, rip);
	}
}

/* CPUID: the TD's virtual CPUID where the module answers itself, else (or
 * when TDG.VP.CPUIDVE.SET asked for it at this CPL) a #VE. */
static int insn_cpuid(struct td_run *r, const struct x86_insn *in, uint64_t rip)
{
	struct seam_vcpu *v = r->v;
	uint32_t leaf = (uint32_t)reg_get(r, UC_X86_REG_RAX);
	uint32_t sub = (uint32_t)reg_get(r, UC_X86_REG_RCX);
	uint32_t out[4];
	bool force_ve = v->cpuid_ve & (cpl3(r) ? 2 : 1);
	if (!force_ve && md_td_cpuid(r->c->s, v->td, leaf, sub, out)) {
		charge_module_exit(r, COST_CPUID_MODULE);
		reg_set(r, UC_X86_REG_RAX, out[0]);
		reg_set(r, UC_X86_REG_RBX, out[1]);
		reg_set(r, UC_X86_REG_RCX, out[2]);
		reg_set(r, UC_X86_REG_RDX, out[3]);
		reg_set(r, UC_X86_REG_RIP, rip + in->len);
		return 0;
	}
	return inject_ve_insn(r, VE_REASON_CPUID, 0, in->len, 0, rip);
}

/*
 * RDTSC / RDTSCP: the TD's virtual TSC, from the LP's simulated clock (the
 * timing model; cores run at the platform's TSC frequency): the clock at
 * the SEAMCALL plus what this TDH.VP.ENTER has charged so far (its blocks
 * included: the runner is stopped here), scaled and offset as the module
 * programs the TD's VMCS (TDH.MNG.INIT: multiplier = TSC_FREQUENCY / native
 * frequency in 2^48 units, offset making the TD's TSC start at 0). No VM
 * exit: TSC offsetting and scaling are done by the CPU. #GP(0) with CR4.TSD
 * at CPL > 0. RDTSCP also loads ECX with IA32_TSC_AUX.
 */
#define CR4_TSD (1ULL << 2)
#define MSR_TSC_AUX 0xC0000103u

static int insn_rdtsc(struct td_run *r, const struct x86_insn *in, uint64_t rip, unsigned cpl)
{
	if (cpl && (reg_get(r, UC_X86_REG_CR4) & CR4_TSD))
		return deliver(r, 13, true, 0, rip);
	bool p = in->op == X86_OP_RDTSCP;
	charge(r, p ? COST_RDTSCP : COST_RDTSC);
	struct seam_td *td = r->v->td;
	uint64_t now = atomic_load_explicit(&r->c->lp->cycles, memory_order_relaxed) + r->c->cycles;
	uint64_t tsc = (uint64_t)(((unsigned __int128)now * td->tsc_multiplier) >> 48) + td->tsc_offset;
	set_edx_eax(r, tsc);
	if (p)
		reg_set(r, UC_X86_REG_RCX, (uint32_t)msr_cpu_read(r, MSR_TSC_AUX));
	reg_set(r, UC_X86_REG_RIP, rip + in->len);
	return 0;
}

/*
 * The engine stopped at an exit address: the instruction there, as the CPU
 * and the module handle it (tdx_td_dispatcher.c): exceptions with priority
 * over a VM exit first (privilege: #GP(0), or #UD for MONITOR/MWAIT; I/O
 * when CPL > IOPL: #GP(0), the TSS I/O bitmap is not consulted), then the
 * #VE the module injects for exit reasons IO (30, with the SDM I/O exit
 * qualification and, for INS/OUTS, the instruction information), HLT (12),
 * INVD (13), VMCALL (18), MWAIT (36), MONITOR (39), WBINVD (54), PCONFIG
 * (65), the MSR handling (seam/td_msr.c), CPUID (virtual values or #VE,
 * 10), RDPMC (#GP(0) without ATTRIBUTES.PERFMON, else it runs: reads 0).
 * Returns as deliver(); an instruction that is no longer one of those
 * (rewritten code) loses its exit and runs.
 */
static int insn_handle(struct td_run *r, uint64_t rip)
{
	struct x86_insn in;
	int rc = insn_fetch(r, rip, &in);
	if (rc < 0)
		return rc;
	if (rc > 0 || !x86_insn_special(&in)) {
		exit_del(r, rip);
		return 0;
	}
	unsigned cpl = (unsigned)reg_get(r, UC_X86_REG_CS) & 3;
	switch (in.op) {
	case X86_OP_IN: case X86_OP_OUT: case X86_OP_INS: case X86_OP_OUTS: {
		unsigned iopl = (unsigned)(reg_get(r, UC_X86_REG_RFLAGS) >> RFLAGS_IOPL_SHIFT) & 3;
		if (cpl > iopl)
			return deliver(r, 13, true, 0, rip);
		uint16_t port = in.io_imm ? in.imm8 : (uint16_t)reg_get(r, UC_X86_REG_RDX);
		return inject_ve_insn(r, VE_REASON_IO, x86_io_exit_qual(&in, port), in.len,
				      x86_io_instr_info(&in), rip);
	}
	case X86_OP_RDMSR: case X86_OP_WRMSR:
		if (cpl)
			return deliver(r, 13, true, 0, rip);
		return insn_msr(r, &in, rip);
	case X86_OP_CPUID:
		return insn_cpuid(r, &in, rip);
	case X86_OP_RDPMC:
		if (!(r->v->td->attributes & TDX_TD_ATTR_PERFMON) ||
		    (cpl && !(reg_get(r, UC_X86_REG_CR4) & (1ULL << 8))))
			return deliver(r, 13, true, 0, rip);
		set_edx_eax(r, 0);
		reg_set(r, UC_X86_REG_RIP, rip + in.len);
		return 0;
	case X86_OP_MONITOR: case X86_OP_MWAIT:
		if (cpl)
			return deliver(r, 6, false, 0, rip);
		return inject_ve_insn(r, in.op == X86_OP_MWAIT ? VE_REASON_MWAIT : VE_REASON_MONITOR, 0,
				      in.len, 0, rip);
	case X86_OP_VMCALL:
		return inject_ve_insn(r, VE_REASON_VMCALL, 0, in.len, 0, rip);
	case X86_OP_RDTSC: case X86_OP_RDTSCP:
		return insn_rdtsc(r, &in, rip, cpl);
	default: {
		if (cpl)
			return deliver(r, 13, true, 0, rip);
		uint32_t reason = in.op == X86_OP_HLT ? VE_REASON_HLT :
				  in.op == X86_OP_INVD ? VE_REASON_INVD :
				  in.op == X86_OP_WBINVD ? VE_REASON_WBINVD : VE_REASON_PCONFIG;
		return inject_ve_insn(r, reason, 0, in.len, 0, rip);
	}
	}
}

/* ---- Shared-GPA #VE (MMIO) and machine checks on poisoned lines -------------- */

/* An EPT violation at shared GPA gpa (an access of `access`) that the CPU
 * turns into a #VE: the entry that caused it (the non-present one at any
 * level, or the leaf that does not allow a write) has suppress #VE clear,
 * as KVM's MMIO entries do (tdx_vm_init: MMIO SPTE value 0). */
static bool shared_gpa_ve(struct td_run *r, uint64_t gpa, uint64_t access)
{
	struct seam_gpa_xlat x;
	if (seam_gpa_xlat(r->c, r->v, gpa, &x))
		return x.shared && !x.sve;
	return x.shared && access == EQ_WRITE && !x.writable && !x.sve;
}

#define EXIT_EXCEPTION_NMI  0u
#define INTR_INFO_MC        0x80000312u         /* valid, hardware exception, vector 18 */

/* The 4 KiB page at hpa holds a poisoned line. */
static bool page_poisoned(struct td_run *r, uint64_t hpa)
{
	struct phys_mem *m = &r->c->s->mem;
	if (__atomic_load_n(&m->page_meta[hpa >> 12], __ATOMIC_ACQUIRE) != PAGE_MIXED)
		return false;
	for (uint64_t off = 0; off < 4096; off += 64)
		if (phys_mem_line_state(m, hpa + off) & PHYS_LINE_POISON)
			return true;
	return false;
}

/* [off, off + size) of the page at hpa touches a poisoned line. */
static bool range_poisoned(struct td_run *r, uint64_t hpa, uint64_t off, uint64_t size)
{
	struct phys_mem *m = &r->c->s->mem;
	uint64_t end = off + (size ? size : 1);
	if (end > 4096)
		end = 4096;
	for (uint64_t l = off & ~63ULL; l < end; l += 64)
		if (phys_mem_line_state(m, hpa + l) & PHYS_LINE_POISON)
			return true;
	return false;
}

/*
 * The single instruction stepped with a poisoned page mapped is done
 * (STOP_STEP). The page's copy is written back at once (so that it is not
 * written back later over its poisoned lines), and the lines that were
 * poisoned get their poison and their bytes in RAM back: a store through
 * the TD's KeyID to other lines of the page leaves them as they were.
 */
static void step_done(struct td_run *r)
{
	struct phys_mem *m = &r->c->s->mem;
	uint64_t hpa = r->step_hpa;
	uint8_t raw[4096];
	uint64_t lines = 0;
	r->stepping = false;
	if (r->step_exit_temp) {
		exit_del(r, r->step_exit);
		r->step_exit_temp = false;
	}
	for (unsigned i = 0; i < 64; i++) {
		if (phys_mem_line_state(m, hpa + 64ULL * i) & PHYS_LINE_POISON) {
			lines |= 1ULL << i;
			memcpy(raw + 64 * i, phys_mem_ptr(m, hpa + 64ULL * i), 64);
		}
	}
	pages_writeback(r);
	for (unsigned i = 0; i < 64; i++) {
		uint64_t pa = hpa + 64ULL * i;
		if (!(lines & (1ULL << i)) || (phys_mem_line_state(m, pa) & PHYS_LINE_POISON))
			continue;
		phys_mem_rmw_lock(m, pa);
		/* Raw bytes into a page that may have become lazy (sim/mktme.h). */
		sim_mem_raw_locked(r->c->s, &r->c->lp->crypt, pa, 64, SIM_RAW_WRITE);
		memcpy(phys_mem_ptr(m, pa), raw + 64 * i, 64);
		phys_mem_write_shared(m, pa, 64);
		phys_mem_bump(m, pa, 64);
		phys_mem_rmw_unlock(m, pa);
	}
	uc_ctl_flush_tlb(r->uc);
}

/*
 * STOP_STEP: run the instruction at rip alone with the poisoned page
 * mapped: up to an exit right after it (added for the step; its block is
 * translated again), or with an instruction count of 1 for a branch (the
 * count makes Unicorn drop all translated code, so only then).
 */
static int step_prepare(struct td_run *r, uint64_t rip)
{
	struct x86_insn in;
	int rc = insn_fetch(r, rip, &in);
	if (rc < 0)
		return rc;
	r->stepping = true;
	r->step_count = rc > 0 || in.branch;
	if (!r->step_count) {
		r->step_exit = rip + in.len;
		r->step_exit_temp = exit_add(r->scan, r->step_exit);
		if (r->step_exit_temp)
			exits_apply(r);
		uc_ctl_remove_cache(r->uc, rip, rip + in.len);
	}
	return 0;
}

/*
 * A TLB fill that found a fault (r->fault). Unicorn keeps the CPU state
 * exact only when the fill itself fails (it rolls the block back to the
 * faulting instruction); an access through the sink, reported by
 * hook_unmapped, stops the block with RIP left at the block's start and
 * the instructions before the access done. So a fill fails first; the
 * runner then runs again from that instruction (r->locate: it is now the
 * first of its block and faults again at once) with faults pointed at the
 * sink until hook_unmapped has seen one (or another block starts), so that
 * it sees the exact address with the state exact. (An instruction-count limit would do too, but Unicorn
 * throws all translated code away whenever one is set or cleared.)
 */
static bool fill_fault(struct td_run *r, uc_tlb_entry *e)
{
	if (!r->locate && !r->stepping)
		return false;
	e->paddr = SINK_PA;
	e->perms = UC_PROT_ALL;
	return true;
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
		if (p && (p->flags & PG_PRIVATE) && !(r->stepping && p->gpa == r->step_gpa) &&
		    page_poisoned(r, p->hpa)) {
			/* A page holding a poisoned line: every access goes
			 * through hook_unmapped, which sees which lines. */
			r->fault = FAULT_POISON;
			r->fault_gpa = p->gpa;
			r->fault_xl.hpa = p->hpa;
			return fill_fault(r, e);
		}
		if (p) {
			uint32_t perms = UC_PROT_READ;
			/* A clean private copy becomes writable at its first
			 * write (it is dirty from then on). */
			bool clean = (p->flags & (PG_PRIVATE | PG_DIRTY)) == PG_PRIVATE;
			if (o.w && (p->flags & PG_WRITABLE) && (!clean || access == EQ_WRITE))
				perms |= UC_PROT_WRITE;
			if (clean && (perms & UC_PROT_WRITE))
				page_dirty(r->m, p);
			/* Execute only for a fetch: a page is code (PG_CODE)
			 * exactly when some engine may have translated it. */
			if (o.x && (p->flags & PG_PRIVATE) && access == EQ_FETCH) {
				perms |= UC_PROT_EXEC;
				if (!(p->flags & PG_CODE)) {
					p->flags |= PG_CODE;
					/* Writable entries of other engines must
					 * come back here to be noticed. */
					if (p->flags & PG_DIRTY)
						r->m->tlb_gen++;
				}
			}
			/* A write to code another engine may have translated:
			 * they drop their translations (exec_release). */
			if ((perms & UC_PROT_WRITE) && (p->flags & PG_CODE))
				r->m->code_written = true;
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
				r->cyc += (uint64_t)r->c->s->costs->cycles[(p->flags & PG_PRIVATE) ?
									   COST_TLB_FILL_PRIVATE :
									   COST_TLB_FILL_SHARED]
					  << TDXSIM_ICLASS_SHIFT;
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
	return fill_fault(r, e);
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
	r->locate = false;
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
		} else if (r->fault_xl.shared &&
			   shared_gpa_ve(r, r->ex_gpa, r->fault_exact ? EQ_READ : r->fault_access)) {
			r->stop = STOP_VE_MMIO;
			r->ve_gla = addr;
		}
		break;
	case FAULT_POISON:
		/* A read or fetch of a poisoned line is a machine check;
		 * anything else runs with the page mapped for one
		 * instruction. */
		if (type != UC_MEM_WRITE_UNMAPPED &&
		    range_poisoned(r, r->fault_xl.hpa, addr & 0xFFF, size > 0 ? (uint64_t)size : 1)) {
			r->stop = STOP_MC;
		} else {
			r->stop = STOP_STEP;
			r->step_gpa = r->fault_gpa;
			r->step_hpa = r->fault_xl.hpa;
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
	r->tdcall_efer = efer_get(r);
	if (!(r->tdcall_efer & EFER_LMA)) {
		/* #GP(0): not in 64-bit mode. */
		r->stop = STOP_EXC;
		r->exc_vec = 13;
		uc_emu_stop(r->uc);
		return true;
	}
	/* The rest (leaf in RAX, VMCALL mask in RCX, RIP past the TDCALL)
	 * from the registers saved at the stop (vp_run). */
	r->stop = STOP_TDCALL;
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
		charge_module_exit(r, COST_CPUID_MODULE);
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

/* hook_block's rare cases: the run budget, requests from other threads,
 * an interrupt deadline, a stop already requested. A block that does not
 * run (the stop takes effect before it) is not charged: it is when it runs
 * again. */
static void __attribute__((noinline)) block_slow(struct td_run *r, uc_engine *uc, uint64_t c0)
{
	if (r->stop == STOP_NONE && r->blocks >= RUN_BLOCK_BUDGET)
		r->stop = STOP_BUDGET;
	/* Requests from other threads are taken here, where Unicorn has the
	 * PC in sync: a uc_emu_stop() from another thread would leave it at
	 * an earlier block of a chain (Unicorn 2.1.1 skips the resync when a
	 * stop is requested). */
	if (r->stop == STOP_NONE && (atomic_load_explicit(&r->preempt, memory_order_relaxed) ||
				     atomic_load_explicit(r->intr, memory_order_relaxed)))
		r->stop = STOP_ASYNC;
	/* Timing: an interrupt deadline in simulated time
	 * (tdxsim_lp_interrupt_at) stops at the first block at or after it. */
	if (r->stop == STOP_NONE && c0 >= r->cyc_deadline)
		r->stop = STOP_ASYNC;
	if (r->stop != STOP_NONE) {
		r->cyc = c0;
		uc_emu_stop(uc);
	}
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct td_run *r = user;
	r->blk_end = addr + size;
	if (r->locate && addr != r->locate_rip)
		r->locate = false;              /* the instruction did not fault again */
	uint32_t cost = scan_known(r->scan, addr, size);
	if (cost == SCAN_UNKNOWN && r->stop == STOP_NONE) {
		/* Not decoded yet: stop before it runs (insn_scan). */
		r->scan->pend_addr = addr;
		r->scan->pend_size = size;
		r->stop = STOP_SCAN;
		uc_emu_stop(uc);
		return;
	}
	/* Timing: the block's cost (1/16 cycles), taken back by block_slow if
	 * the block does not run. */
	uint64_t c0 = r->cyc;
	r->cyc = c0 + cost;
	if (__builtin_expect(++r->blocks >= RUN_BLOCK_BUDGET || r->stop != STOP_NONE ||
			     c0 >= r->cyc_deadline ||
			     atomic_load_explicit(&r->preempt, memory_order_relaxed) ||
			     atomic_load_explicit(r->intr, memory_order_relaxed), 0))
		block_slow(r, uc, c0);
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

static void mirror_put(struct td_mirror *m)
{
	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	atomic_fetch_sub(&m->mod->n_mirrors, 1);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	if (m->mem)
		munmap(m->mem, PRIV_BYTES);
	free(m->slots.free);
	table_free(&m->tab);
	free(m);
}

/* The TD's mirror, created by the first vCPU to enter (two vCPUs entering
 * for the first time at once: one creation wins). A reference for the
 * caller. */
static struct td_mirror *mirror_get(struct seam_module *mod, struct seam_td *td)
{
	struct td_mirror *m = atomic_load(&td->run);
	if (m) {
		atomic_fetch_add(&m->refs, 1);
		return m;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	void *mem = mmap(NULL, PRIV_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		free(m);
		return NULL;
	}
	m->mem = mem;
	m->slots = (struct slot_pool){ .base = SLOT_BASE, .limit = SLOT_BASE + PRIV_BYTES };
	m->hkid = td->hkid;
	m->mod = mod;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	atomic_init(&m->refs, 2);               /* the TD's and the caller's */
	atomic_fetch_add(&mod->n_mirrors, 1);
	void *none = NULL;
	if (!atomic_compare_exchange_strong(&td->run, &none, m)) {
		atomic_store(&m->refs, 1);
		mirror_put(m);
		m = none;
		atomic_fetch_add(&m->refs, 1);
	}
	return m;
}

void seam_td_run_free(void *run)
{
	mirror_put(run);
}

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
	mirror_put(r->m);
	free(r->shr.free);
	table_free(&r->shr_tab);
	scan_free(r);
	free(r);
}

/* ---- Execution lock (struct td_mirror) ------------------------------------- */

#define EXEC_QUANTUM_NS 200000L         /* a waiter stops the running vCPU after this */

/* Take m's execution lock: for engine r, or for a write-back from outside
 * the guest (r NULL). */
static void mirror_lock(struct td_mirror *m, struct td_run *r)
{
	pthread_mutex_lock(&m->mu);
	uint64_t me = m->next_ticket++;
	while (m->serving != me) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += EXEC_QUANTUM_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!r && m->holder) {
			/* A SEAMCALL waits: stop the running vCPU now. */
			atomic_store(&m->holder->preempt, true);
		}
		if (pthread_cond_timedwait(&m->cv, &m->mu, &ts) == ETIMEDOUT &&
		    m->serving != me && m->holder) {
			/* The holder runs on: ask it to let the queue in (at
			 * its next block, or before it starts again). */
			atomic_store(&m->holder->preempt, true);
		}
	}
	m->holder = r;
	if (r)
		atomic_store(&r->preempt, false);
	pthread_mutex_unlock(&m->mu);
}

static void mirror_unlock(struct td_mirror *m)
{
	pthread_mutex_lock(&m->mu);
	m->holder = NULL;
	m->serving++;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

static void exec_acquire(struct td_run *r)
{
	mirror_lock(r->m, r);
	gen_sync(r);
}

static void exec_release(struct td_run *r)
{
	struct td_mirror *m = r->m;
	if (m->code_written) {
		/* Cross-vCPU self-modifying code: the other engines drop their
		 * translated code and writable entries (this one keeps its
		 * own: Unicorn notices the writes of an engine to code it
		 * translated itself). */
		m->code_written = false;
		m->tb_gen++;
		m->tlb_gen++;
		r->tb_gen = m->tb_gen;
		r->tlb_gen = m->tlb_gen;
		uc_ctl_flush_tlb(r->uc);        /* its own writable entries of those pages */
	}
	mirror_unlock(m);
}

/*
 * The guest's private writes sit in the mirror (like dirty lines in a
 * write-back cache) until something needs RAM to hold them: a SEAMCALL
 * other than the few that never read, write or give away a TD's private
 * pages, or the embedder's memory access (sim/api.c). For those, every TD
 * that has run is stopped (its execution lock taken; a vCPU running is
 * stopped at its next block), its dirty copies are written back, and it
 * stays stopped until the leaf is done: the leaf sees and changes RAM
 * while no guest writes, and the vCPUs re-read what changed before they
 * go on (like cache lines snooped by the leaf's accesses).
 */
static bool leaf_keeps_guest_memory(unsigned leaf)
{
	switch (leaf) {
	case TDH_VP_ENTER: case TDH_MEM_SEPT_ADD: case TDH_MEM_PAGE_AUG:
	case TDH_MEM_RANGE_BLOCK: case TDH_MNG_RD: case TDH_MNG_WR:
	case TDH_PHYMEM_PAGE_RDMD: case TDH_MEM_SEPT_RD: case TDH_VP_RD: case TDH_VP_WR:
	case TDH_SYS_INFO: case TDH_SYS_RD: case TDH_SYS_RDALL: case TDH_MEM_TRACK:
	case TDH_MEM_RANGE_UNBLOCK:
		return true;
	default:
		return false;
	}
}

void seam_run_hold(struct tdxsim *s, struct sim_crypt *cc, int leaf, struct seam_run_hold *h)
{
	struct seam_module *mod = &s->mod;
	h->m = h->fixed;
	h->n = 0;
	h->mod = NULL;
	if (leaf >= 0 && leaf_keeps_guest_memory((unsigned)leaf))
		return;
	/* Counted before and after: a mirror made meanwhile (a TD's first
	 * entry on another thread) sees the count move and re-reads. */
	h->mod = mod;
	atomic_fetch_add_explicit(&mod->hold_gen, 1, memory_order_acq_rel);
	if (!atomic_load_explicit(&mod->n_mirrors, memory_order_acquire))
		return;
	/* Every TD that has run (a reference on each mirror), in list order:
	 * all holders lock in the same order. */
	size_t cap = sizeof(h->fixed) / sizeof(h->fixed[0]);
	pthread_mutex_lock(&mod->obj_mutex);
	for (struct seam_td *td = mod->all_tds; td; td = td->all_next) {
		struct td_mirror *m = atomic_load(&td->run);
		if (!m)
			continue;
		if (h->n == cap) {
			void **bigger = malloc(2 * cap * sizeof(*bigger));
			/* Running on with TDs not stopped would lose writes. */
			SIM_BUG_ON(!bigger);
			memcpy(bigger, h->m, h->n * sizeof(*bigger));
			if (h->m != h->fixed)
				free(h->m);
			h->m = bigger;
			cap *= 2;
		}
		atomic_fetch_add(&m->refs, 1);
		h->m[h->n++] = m;
	}
	pthread_mutex_unlock(&mod->obj_mutex);
	for (size_t i = 0; i < h->n; i++) {
		struct td_mirror *m = h->m[i];
		mirror_lock(m, NULL);
		mirror_writeback(s, cc, m);
	}
}

void seam_run_release(struct seam_run_hold *h)
{
	for (size_t i = h->n; i-- > 0;) {
		mirror_unlock(h->m[i]);
		mirror_put(h->m[i]);
	}
	if (h->m != h->fixed)
		free(h->m);
	h->m = h->fixed;
	h->n = 0;
	if (h->mod)
		atomic_fetch_add_explicit(&h->mod->hold_gen, 1, memory_order_acq_rel);
	h->mod = NULL;
}

void seam_run_sync(struct tdxsim *s, struct sim_crypt *cc)
{
	struct seam_run_hold h;
	seam_run_hold(s, cc, -1, &h);
	seam_run_release(&h);
}

/* Let the vCPUs waiting for the TD in (if any still are), then continue. */
static void exec_yield(struct td_run *r)
{
	struct td_mirror *m = r->m;
	pthread_mutex_lock(&m->mu);
	bool waiters = m->next_ticket != m->serving + 1;
	pthread_mutex_unlock(&m->mu);
	atomic_store(&r->preempt, false);
	if (!waiters)
		return;
	exec_release(r);
	exec_acquire(r);
	pages_refresh_stale(r);         /* a SEAMCALL in between may have written RAM */
}

/* ---- Interrupts posted to an LP ------------------------------------------------- */

void seam_lp_interrupt(struct sim_lp *lp, uint8_t vector)
{
	/* Seen by the vCPU running there at its next block (hook_block), or
	 * by the next entry. */
	atomic_store(&lp->seam.intr, SEAM_LP_INTR_VALID | vector);
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

static struct td_run *engine_get(struct seam_module *mod, struct seam_vcpu *v)
{
	struct td_run *r = v->run;
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->shr = (struct slot_pool){ .base = SHR_BASE, .limit = SINK_PA };
	r->m = mirror_get(mod, v->td);
	if (!r->m) {
		free(r);
		return NULL;
	}
	uc_hook h;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &r->uc) ||
	    !(r->scan = calloc(1, sizeof(*r->scan))) ||
	    uc_ctl_exits_enable(r->uc) ||               /* insn_scan: stops at instructions */
	    uc_mem_map_ptr(r->uc, SLOT_BASE, PRIV_BYTES, UC_PROT_ALL, r->m->mem) ||
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

/* GPRs, RFLAGS and RIP: what every stop saves and every resume loads
 * (one batch each way). */
#define N_FAST 18

static void regs_load(struct td_run *r, const struct seam_vcpu_guest *g)
{
	uint64_t val[N_FAST];
	void *ptr[N_FAST];
	int reg[N_FAST];
	for (int i = 0; i < 16; i++)
		val[i] = g->gpr[i];
	val[16] = g->rflags;
	val[17] = g->rip;
	/* Only what differs from the engine (a VMCALL's copy-back, a
	 * module-handled TDCALL's outputs, the host's TDH.VP.WR). */
	int n = 0;
	for (int i = 0; i < N_FAST; i++) {
		if (r->shadow_valid && r->shadow[i] == val[i])
			continue;
		r->shadow[i] = val[i];
		reg[n] = save_reg[i];
		ptr[n++] = &r->shadow[i];
	}
	r->shadow_valid = true;
	if (n)
		uc_reg_write_batch(r->uc, reg, ptr, n);
}

static void regs_save(struct td_run *r, struct seam_vcpu_guest *g)
{
	uint64_t val[N_FAST] = { 0 };
	void *ptr[N_FAST];
	for (int i = 0; i < N_FAST; i++)
		ptr[i] = &val[i];
	uc_reg_read_batch(r->uc, (int *)save_reg, ptr, N_FAST);
	for (int i = 0; i < 16; i++)
		g->gpr[i] = val[i];
	g->rflags = val[16];
	g->rip = val[17];
	memcpy(r->shadow, val, sizeof(val));
	r->shadow_valid = true;
	r->sys_stale = true;
}

/* The rest of the state TDVPS holds: at TD exits (the host may read it),
 * not at the stops the runner resumes from itself. */
static void regs_save_sys(struct td_run *r, struct seam_vcpu_guest *g)
{
	enum { N_SYS = N_SAVE - N_FAST };
	uint64_t val[N_SYS] = { 0 };
	void *ptr[N_SYS];
	for (int i = 0; i < N_SYS; i++)
		ptr[i] = &val[i];
	uc_reg_read_batch(r->uc, (int *)save_reg + N_FAST, ptr, N_SYS);
	g->cr0 = val[0];
	g->cr2 = val[1];
	g->cr3 = val[2];
	g->cr4 = val[3];
	g->fs_base = val[4];
	g->gs_base = val[5];
	for (int i = 0; i < 6; i++)
		g->sel[i] = (uint16_t)val[6 + i];
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
static const uint8_t host_gpr_off[16] = {
	[GPR_RDX] = offsetof(struct tdx_module_args, rdx) + 1,
	[GPR_RBX] = offsetof(struct tdx_module_args, rbx) + 1,
	[GPR_RSI] = offsetof(struct tdx_module_args, rsi) + 1,
	[GPR_RDI] = offsetof(struct tdx_module_args, rdi) + 1,
	[GPR_R8] = offsetof(struct tdx_module_args, r8) + 1,
	[GPR_R9] = offsetof(struct tdx_module_args, r9) + 1,
	[GPR_R10] = offsetof(struct tdx_module_args, r10) + 1,
	[GPR_R11] = offsetof(struct tdx_module_args, r11) + 1,
	[GPR_R12] = offsetof(struct tdx_module_args, r12) + 1,
	[GPR_R13] = offsetof(struct tdx_module_args, r13) + 1,
	[GPR_R14] = offsetof(struct tdx_module_args, r14) + 1,
	[GPR_R15] = offsetof(struct tdx_module_args, r15) + 1,
};

static uint64_t *host_gpr(struct tdx_module_args *a, int i)
{
	unsigned off = host_gpr_off[i];
	return off ? (uint64_t *)((char *)a + off - 1) : NULL;
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

/* Module-handled TDCALLs that touch guest memory (through seam/gpa.c, which
 * reads and writes RAM): all but the ones known not to. TDG.MEM.PAGE.ACCEPT
 * writes only pages that were PENDING, never mapped in the mirror. */
static bool tdcall_uses_guest_memory(uint64_t leaf)
{
	switch (leaf) {
	case TDG_VP_INFO: case TDG_VP_VEINFO_GET: case TDG_VP_CPUIDVE_SET:
	case TDG_MEM_PAGE_ACCEPT: case TDG_VM_RD: case TDG_VM_WR: case TDG_VP_RD:
	case TDG_VP_WR: case TDG_SYS_RD:
		return false;
	default:
		return true;
	}
}

/* Timing: the LP's clock now (the SEAMCALL's start plus what this entry
 * has charged; block cycles not yet flushed are below one cycle or in
 * r->cyc while the engine runs). */
static uint64_t run_clock(struct td_run *r)
{
	return atomic_load_explicit(&r->c->lp->cycles, memory_order_relaxed) + r->c->cycles +
	       (r->cyc >> TDXSIM_ICLASS_SHIFT);
}

/*
 * The module's single-step defence (module 1.5 td_exit_stepping.c, the
 * vmexit stepping filter): an asynchronous TD exit (external interrupt)
 * less than STEPPING_TSC_THRESHOLD (4,096) virtual TSC cycles after the TD
 * entry, with RIP moved by at most two maximum-length instructions (30
 * bytes), is treated as possible single-stepping. The module then enters
 * its stepping mode; the model counts the event (sim_lp.stat_stepping)
 * and otherwise exits as usual.
 */
#define STEPPING_RIP_DELTA 30u

static void stepping_filter(struct td_run *r, uint64_t now)
{
	const struct tdxsim_costs *k = r->c->s->costs;
	struct seam_td *td = r->v->td;
	if (!k->stepping_threshold)
		return;
	uint64_t d = (uint64_t)(((unsigned __int128)(now - r->entry_clock) * td->tsc_multiplier) >> 48);
	uint64_t rip = reg_get(r, UC_X86_REG_RIP);
	uint64_t rd = rip > r->entry_rip ? rip - r->entry_rip : r->entry_rip - rip;
	if (d <= k->stepping_threshold && rd <= STEPPING_RIP_DELTA)
		atomic_store_explicit(&r->c->lp->stat_stepping,
				      atomic_load_explicit(&r->c->lp->stat_stepping, memory_order_relaxed) + 1,
				      memory_order_relaxed);
}

/* The run proper: entered holding the TD's execution lock, registered as
 * the LP's runner. */
static uint64_t vp_run(struct seam_ctx *c, struct seam_vcpu *v, struct td_run *r, struct sim_lp *lp)
{
	struct tdx_module_args *a = c->r;
	struct seam_td *td = v->td;
	struct td_mirror *m = r->m;
	v->launched = true;

	/* Revalidate the mappings: a new TD epoch re-walks the private copies;
	 * changed pages are re-read; shared translations re-walked. */
	uint64_t epoch = atomic_load(&td->td_epoch);
	if (!m->epoch_valid || m->epoch != epoch)
		priv_drop(r, drop_stale_private);
	/* Timing: a new TD epoch since this vCPU last ran flushes its TLB. */
	if (m->epoch_valid && m->epoch != epoch)
		charge(r, COST_TLB_FLUSH);
	atomic_store_explicit(&lp->entry_insns, c->insns, memory_order_relaxed);
	r->entry_clock = run_clock(r);
	r->entry_rip = v->g.rip;
	atomic_store_explicit(&lp->entry_cycles, r->entry_clock, memory_order_relaxed);
	m->epoch = epoch;
	m->epoch_valid = true;
	pages_refresh_stale(r);
	shr_drop(r, drop_stale_shared);

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
	r->blocks = 0;
	int drc = 0;
	if (r->pend_valid) {
		/* An exception whose delivery an EPT violation interrupted. */
		drc = delivered(r, deliver(r, r->pend_vec, r->pend_has_err, r->pend_err, r->pend_rip));
		if (drc == -2)
			goto ept_exit;
		if (drc)
			goto fatal;
	}
	uint64_t rip = v->g.rip;

	for (;;) {
		if (atomic_load_explicit(&r->preempt, memory_order_relaxed))
			exec_yield(r);
		uint32_t intr = atomic_exchange(&lp->seam.intr, 0);
		uint64_t now = run_clock(r);
		if (!intr && lp->intr_at && now >= lp->intr_at) {
			intr = SEAM_LP_INTR_VALID | lp->intr_at_vec;
			lp->intr_at = 0;
		}
		if (intr) {
			/* An interrupt posted to the LP: a TD exit, the guest
			 * resumes where it is. */
			stepping_filter(r, now);
			exit_regs(a, 0, 0, 0, 0x80000000u | (intr & 0xFFu));
			return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
		}
		/* The deadline in the block hook's units (r->cyc, 1/16). */
		r->cyc_deadline = lp->intr_at ? r->cyc + ((lp->intr_at - now) << TDXSIM_ICLASS_SHIFT) :
				  UINT64_MAX;
		r->stop = STOP_NONE;
		r->skip_ud = false;
		r->fault = FAULT_NONE;
		r->blk_end = 0;
		bool located = r->locate, stepped = r->stepping;
		uc_err err = uc_emu_start(r->uc, rip, RUN_UNTIL, 0, stepped && r->step_count ? 1 : 0);
		r->locate = false;
		if (stepped)
			step_done(r);
		c->cycles += r->cyc >> TDXSIM_ICLASS_SHIFT;
		r->cyc &= (1u << TDXSIM_ICLASS_SHIFT) - 1;
		if (r->stop == STOP_VE_CPUID) {
			uc_context_restore(r->uc, r->ctx);      /* back to the CPUID */
			r->shadow_valid = false;
		}
		regs_save(r, &v->g);
		if (r->flush) {
			uc_ctl_flush_tlb(r->uc);
			r->flush = false;
		}
		rip = v->g.rip;
		drc = 0;
		switch (r->stop) {
		case STOP_TDCALL: {
			/* The engine stopped at the TDCALL: the guest goes on
			 * after it unless the module says otherwise. */
			v->g.rip = r->tdcall_rip + 4;
			v->g.efer = r->tdcall_efer;
			if (v->g.gpr[GPR_RAX] == 0) {
				/* TDG.VP.VMCALL: a mask with bit 0, 1, 4 (5 with
				 * NO_RBP_MOD) or 63:32 set fails in the guest. */
				uint64_t mask = v->g.gpr[GPR_RCX], bad = VMCALL_BAD_MASK;
				if (td->config_flags & TDX_CONFIG_FLAGS_NO_RBP_MOD)
					bad |= 1ULL << GPR_RBP;
				charge(r, COST_TDCALL);
				if (mask & bad) {
					charge(r, COST_TD_EXIT);
					charge(r, COST_TD_ENTRY);
					v->g.gpr[GPR_RAX] = tdx_status_op(TDX_OPERAND_INVALID,
									 TDX_OPERAND_ID_RCX);
					regs_load(r, &v->g);
					rip = v->g.rip;
					continue;
				}
				r->vmcall_mask = mask;
				r->vmcall_pending = true;
				exit_regs(a, mask, 0, 0, 0);
				for (int i = 0; i < 16; i++) {
					uint64_t *h = host_gpr(a, i);
					if (h && (mask & (1ULL << i)))
						*h = v->g.gpr[i];
				}
				return TDX_SUCCESS | EXIT_TDCALL;
			}
			/* A TDCALL that reads or writes guest memory sees RAM:
			 * the copies go back first and are refreshed after. */
			bool mem = tdcall_uses_guest_memory(v->g.gpr[GPR_RAX] & TDX_LEAF_MASK);
			if (mem)
				pages_writeback(r);
			uint64_t insns0 = c->insns;
			uint64_t tdg = v->g.gpr[GPR_RAX] & TDX_LEAF_MASK;
			enum seam_tdcall_next next = seam_tdcall(c, v);
			if (next != SEAM_TDCALL_EXIT) {
				/* Handled in the module: the VM exit and entry
				 * around it (an exit to the host is charged by
				 * seam_vp_run). */
				charge(r, COST_TD_EXIT);
				charge(r, COST_TD_ENTRY);
				if (tdg < TDX_TDCALL_LEAF_MAX)
					atomic_store_explicit(&lp->tdcall_insns[tdg], c->insns - insns0,
							      memory_order_relaxed);
			}
			if (next == SEAM_TDCALL_RESUME) {
				if (mem)
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
		case STOP_EPT:
			goto ept_exit;
		case STOP_ASYNC:
			continue;               /* handled at the top of the loop */
		case STOP_BUDGET:
			stepping_filter(r, run_clock(r));
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
		case STOP_SCAN:
			scan_block(r);
			break;
		case STOP_VE_MMIO:
			/* With VE_INFO still in use the CPU exits instead; the
			 * module makes that a TD exit. */
			if (v->ve_valid)
				goto ept_exit;
			drc = inject_ve_cpu(r, r->ex_qual | EQ_GLA_VALID | (r->fault_exact ? 0 : EQ_GLA_XLAT),
					    r->ve_gla, r->ex_gpa, rip);
			break;
		case STOP_MC:
			/* A machine check in the TD: the module marks the TD
			 * fatal and exits with NON_RECOVERABLE_TD_NON_ACCESSIBLE,
			 * exit reason EXCEPTION_OR_NMI and the interruption
			 * information of #MC (td_exception_or_nmi_exit). */
			atomic_store(&td->fatal, 1);
			exit_regs(a, 0, 0, 0, INTR_INFO_MC);
			return TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE | EXIT_EXCEPTION_NMI;
		case STOP_STEP:
			drc = step_prepare(r, rip);
			break;
		case STOP_NONE:
			if (r->fault != FAULT_NONE && !located) {
				/* A failed TLB fill: RIP is at the faulting
				 * instruction; find the address (fill_fault). */
				r->locate = true;
				r->locate_rip = rip;
				break;
			}
			if (stepped && (err == UC_ERR_OK || err == UC_ERR_EXCEPTION))
				break;          /* the instruction stepped */
			/* At an instruction the runner handles (insn_scan). */
			if ((err == UC_ERR_OK || err == UC_ERR_EXCEPTION) && exit_has(r->scan, rip)) {
				drc = insn_handle(r, rip);
				break;
			}
			/* (UC_ERR_EXCEPTION comes from Unicorn probing the stop
			 * address through the TLB-fill hook: not an error.) */
			if ((err == UC_ERR_OK || err == UC_ERR_EXCEPTION) && rip == r->blk_end &&
			    after_hlt(r, rip)) {
				drc = inject_ve(r, VE_REASON_HLT, 0, 0, 0, 1, rip - 1);
				break;
			}
			if (err == UC_ERR_OK || err == UC_ERR_EXCEPTION) {
				/* Stopped for no reason of ours: an interrupt-window exit. */
				exit_regs(a, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
				return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
			}
			goto fatal;
		}
		drc = delivered(r, drc);
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
	/* As the module reports it: qualification bits 12:7 and GPA bits 11:0
	 * cleared (td_other_exits.c, tdx_ept_violation_exit_to_vmm). */
	exit_regs(a, r->ex_qual & ~EQ_EXIT_CLEAR, r->ex_ext, r->ex_gpa & ~0xFFFULL, 0);
	return TDX_SUCCESS | EXIT_EPT_VIOLATION;
fatal:
	atomic_store(&v->state, VCPU_DISABLED);
	exit_regs(a, 0, 0, 0, 0);
	return TDX_NON_RECOVERABLE_VCPU | EXIT_TRIPLE_FAULT;
}

uint64_t seam_vp_run(struct seam_ctx *c, struct seam_vcpu *v)
{
	struct td_run *r = engine_get(c->m, v);
	if (!r) {
		/* No host memory for the engine: the entry ends at once, as if
		 * an external interrupt were pending. */
		exit_regs(c->r, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
		return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
	}
	struct sim_lp *lp = &c->s->lps[c->lp_id];
	r->c = c;
	r->v = v;
	r->intr = &lp->seam.intr;
	exec_acquire(r);
	atomic_store(&r->in_run, true);
	uint64_t st = vp_run(c, v, r, lp);
	/* Timing: every return is a TD exit to the host (VM exit into the
	 * module, then its exit path to the VMM). */
	c->cycles += r->cyc >> TDXSIM_ICLASS_SHIFT;
	r->cyc = 0;     /* the sub-cycle rest goes: no engine state between entries */
	charge(r, COST_TD_EXIT);
	charge(r, COST_TD_EXIT_HOST);
	exec_release(r);
	atomic_store(&r->in_run, false);
	return st;
}

void seam_vp_state_sync(struct seam_vcpu *v)
{
	struct td_run *r = v->run;
	if (!r || !r->sys_stale || atomic_load(&r->in_run))
		return;
	regs_save_sys(r, &v->g);
	r->sys_stale = false;
}

/* ---- Snapshots (seam/vp_enter.h, sim/snapshot.c) ---------------------------- */

/*
 * Bytes of Unicorn's context header (its own bookkeeping: the size of the
 * CPU state, mode, arch, ...), which precede the CPU state in a saved
 * context. Not guessed (Unicorn 2.1.1's is 20 bytes; it is not part of its
 * API): measured as the offset of RAX, the CPU state's first field, by
 * saving the engine's context with a marker in RAX. RAX is put back; tmp
 * is clobbered. 0 if not found exactly once.
 */
static size_t ctx_hdr_bytes(uc_engine *uc, uc_context *tmp)
{
	static const uint64_t mark = 0x8d3c51f0a7e26b49ULL;
	uint64_t old = 0, val = mark;
	size_t n = uc_context_size(uc), at = 0;
	unsigned hits = 0;
	if (uc_reg_read(uc, UC_X86_REG_RAX, &old) || uc_reg_write(uc, UC_X86_REG_RAX, &val))
		return 0;
	if (!uc_context_save(uc, tmp)) {
		const uint8_t *p = (const uint8_t *)tmp;
		for (size_t off = 0; off + 8 <= n; off++) {
			uint64_t v;
			memcpy(&v, p + off, 8);
			if (v == mark) {
				at = off;
				hits++;
			}
		}
	}
	uc_reg_write(uc, UC_X86_REG_RAX, &old);
	return hits == 1 ? at : 0;
}

int seam_run_image_get(struct seam_vcpu *v, struct seam_run_image *img)
{
	struct td_run *r = v->run;
	memset(img, 0, sizeof(*img));
	if (!r || !r->ctx)
		return 0;
	seam_vp_state_sync(v);
	size_t n = uc_context_size(r->uc), hdr = ctx_hdr_bytes(r->uc, r->ctx);
	if (!hdr || uc_context_save(r->uc, r->ctx) || n > UINT32_MAX || !(img->ctx = malloc(n)))
		return -1;
	memcpy(img->ctx, r->ctx, n);
	memset(img->ctx, 0, hdr);       /* this engine's bookkeeping, not CPU state */
	img->ctx_len = (uint32_t)n;
	img->vmcall_pending = r->vmcall_pending;
	img->vmcall_mask = r->vmcall_mask;
	img->pend_valid = r->pend_valid;
	img->pend_has_err = r->pend_has_err;
	img->pend_vec = r->pend_vec;
	img->pend_err = r->pend_err;
	img->pend_rip = r->pend_rip;
	img->locate = r->locate;
	img->locate_rip = r->locate_rip;
	return 1;
}

void seam_run_drop_all(struct tdxsim *s)
{
	struct seam_module *mod = &s->mod;
	seam_run_sync(s, NULL);
	for (struct seam_vcpu *v = mod->all_vcpus; v; v = v->all_next) {
		seam_vcpu_run_free(v->run);
		v->run = NULL;
	}
	for (struct seam_td *td = mod->all_tds; td; td = td->all_next)
		seam_td_run_free(atomic_exchange(&td->run, NULL));
}

int seam_run_rebuild_all(struct tdxsim *s, const struct seam_run_image *img, uint32_t n)
{
	struct seam_module *mod = &s->mod;
	uint32_t nv = 0, nt = 0, i;
	for (struct seam_vcpu *v = mod->all_vcpus; v; v = v->all_next)
		nv++;
	for (struct seam_td *td = mod->all_tds; td; td = td->all_next)
		nt++;
	if (nv != n)
		return -2;
	void **old_v = calloc(nv ? nv : 1, sizeof(*old_v)), **old_t = calloc(nt ? nt : 1, sizeof(*old_t));
	if (!old_v || !old_t) {
		free(old_v);
		free(old_t);
		return -1;
	}
	seam_run_sync(s, NULL);         /* held writes to RAM: the new mirrors start from it */
	/* Set the old engines and mirrors aside, build the new ones. */
	i = 0;
	for (struct seam_vcpu *v = mod->all_vcpus; v; v = v->all_next, i++) {
		old_v[i] = v->run;
		v->run = NULL;
	}
	i = 0;
	for (struct seam_td *td = mod->all_tds; td; td = td->all_next, i++)
		old_t[i] = atomic_exchange(&td->run, NULL);
	int rc = 0;
	i = 0;
	for (struct seam_vcpu *v = mod->all_vcpus; v && !rc; v = v->all_next, i++)
		if (img[i].ctx)
			rc = seam_run_image_put(s, v, &img[i]);
	/* Free the losers: the new ones on failure, else the old ones. */
	i = 0;
	for (struct seam_vcpu *v = mod->all_vcpus; v; v = v->all_next, i++) {
		if (rc) {
			seam_vcpu_run_free(v->run);
			v->run = old_v[i];
		} else {
			seam_vcpu_run_free(old_v[i]);
		}
	}
	i = 0;
	for (struct seam_td *td = mod->all_tds; td; td = td->all_next, i++) {
		if (rc)
			seam_td_run_free(atomic_exchange(&td->run, old_t[i]));
		else
			seam_td_run_free(old_t[i]);
	}
	free(old_v);
	free(old_t);
	return rc;
}

int seam_run_image_put(struct tdxsim *s, struct seam_vcpu *v, const struct seam_run_image *img)
{
	struct td_run *r = engine_get(&s->mod, v);
	if (!r || !r->ctx)
		return -1;
	/* The header (Unicorn's bookkeeping) from this engine, the CPU state
	 * (RAX onwards) from the image. */
	size_t hdr = ctx_hdr_bytes(r->uc, r->ctx);
	if (!hdr || uc_context_save(r->uc, r->ctx))
		return -1;
	if (img->ctx_len != uc_context_size(r->uc) || img->ctx_len <= hdr)
		return -2;
	memcpy((uint8_t *)r->ctx + hdr, img->ctx + hdr, img->ctx_len - hdr);
	if (uc_context_restore(r->uc, r->ctx))
		return -1;
	r->shadow_valid = false;
	r->sys_stale = false;
	r->vmcall_pending = img->vmcall_pending;
	r->vmcall_mask = img->vmcall_mask;
	r->pend_valid = img->pend_valid;
	r->pend_has_err = img->pend_has_err;
	r->pend_vec = img->pend_vec;
	r->pend_err = img->pend_err;
	r->pend_rip = img->pend_rip;
	r->locate = img->locate;
	r->locate_rip = img->locate_rip;
	return 0;
}

size_t seam_run_ctx_size(void)
{
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return 0;
	size_t n = uc_context_size(uc);
	uc_close(uc);
	return n;
}
